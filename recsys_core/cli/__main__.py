"""``python -m recsys_core.cli`` (and ``torchrun … -m recsys_core.cli``): the ``recsys`` command."""

import sys

from recsys_core.cli._main import main

if __name__ == "__main__":
    sys.exit(main())
