"""``python -m lrcourse.interview [OUT.apkg]``: check the questions, then write the deck."""

import sys

from lrcourse.interview import main

sys.exit(main())
