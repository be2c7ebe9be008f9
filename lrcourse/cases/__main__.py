"""One command line for every case study: ``python -m lrcourse.cases CASE [options]``.

``python -m lrcourse.cases cnn --lrs 1e-3,1e-2,1e-1,1`` trains the CNN at those
learning rates and prints the table; ``python -m lrcourse.cases CASE --help`` lists a
case's options (the shared ones are in :mod:`lrcourse.cases._cli`).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import lrcourse.cases

CASES = tuple(sorted(m.name for m in pkgutil.iter_modules(lrcourse.cases.__path__) if not m.name.startswith("_")))


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    usage = f"usage: python -m lrcourse.cases {{{','.join(CASES)}}} [options]   (CASE --help for its options)"
    if not argv or argv[0] in ("-h", "--help"):
        print(usage)
        return 0 if argv else 2
    if argv[0] not in CASES:
        print(f"{usage}\nerror: unknown case {argv[0]!r}", file=sys.stderr)
        return 2
    case = importlib.import_module(f"lrcourse.cases.{argv[0]}")
    return case.main(argv[1:], prog=f"python -m lrcourse.cases {argv[0]}")


if __name__ == "__main__":
    sys.exit(main())
