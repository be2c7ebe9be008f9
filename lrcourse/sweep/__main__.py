"""``python -m lrcourse.sweep``: see :mod:`lrcourse.sweep.command`."""

import sys

from lrcourse.sweep.command import main

if __name__ == "__main__":
    sys.exit(main())
