"""Code a learner should read, shown from the package's own source.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from typing import Callable

from lrcourse.core import optim


def update_source(factory: Callable[..., optim.Optimizer]) -> str:
    """The source of an optimizer factory of :mod:`lrcourse.core.optim`, reduced to what teaches.

    Keeps the ``def`` line, the docstring (with the update equations) and the nested
    ``update`` function; the argument checks, ``init`` and the bookkeeping are replaced by
    a one-line comment. Module-level helpers that ``update`` calls (``_adam_update`` for
    Adam and AdamW) follow in full.
    """
    if not callable(factory) or inspect.getmodule(factory) is not optim:
        raise ValueError(f"Invalid factory: {factory!r} (expected an optimizer of lrcourse.core.optim, e.g. optim.adam)")
    source = textwrap.dedent(inspect.getsource(factory))
    tree = ast.parse(source)
    function = tree.body[0]
    lines = source.splitlines()
    docstring = function.body[0]
    if not (isinstance(docstring, ast.Expr) and isinstance(docstring.value, ast.Constant)):
        raise ValueError(f"Invalid factory: {factory.__name__} has no docstring")
    update = next((node for node in function.body
                   if isinstance(node, ast.FunctionDef) and node.name == "update"), None)
    if update is None:
        raise ValueError(f"Invalid factory: {factory.__name__} has no nested update function")
    indent = " " * docstring.col_offset
    kept = lines[:docstring.end_lineno]                  # the def line(s) and the docstring
    kept.append(f"{indent}...  # argument checks and init() left out: see lrcourse/core/optim.py")
    kept.append("")
    kept += lines[update.lineno - 1:update.end_lineno]
    helpers = []
    for node in ast.walk(update):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            helper = getattr(optim, node.func.id, None)
            if inspect.isfunction(helper) and inspect.getmodule(helper) is optim and node.func.id.startswith("_"):
                helpers.append(helper)
    text = "\n".join(kept)
    for helper in dict.fromkeys(helpers):
        text += "\n\n\n" + textwrap.dedent(inspect.getsource(helper)).rstrip()
    return text
