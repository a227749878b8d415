"""``python -m townapp`` is the same as the ``townapp`` command."""

import sys

from townapp.cli import main

if __name__ == "__main__":
    sys.exit(main())
