"""Argument types shared by the case studies' command lines."""

from __future__ import annotations

import argparse
import ast


def numbers(text: str, kind=float) -> list:
    """'1e-3,0.01,0.1' -> [0.001, 0.01, 0.1]."""
    try:
        return [kind(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def integers(text: str) -> list:
    """'0,1,2' -> [0, 1, 2]."""
    return numbers(text, int)


def keyword(text: str) -> tuple:
    """'momentum=0.9' -> ('momentum', 0.9): an optimizer argument, read as a Python literal."""
    name, sep, value = text.partition("=")
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        raise argparse.ArgumentTypeError(f"cannot read the value of {text!r}") from None
