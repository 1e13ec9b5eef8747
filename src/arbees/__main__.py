"""``python -m arbees`` == the ``arbees`` console script."""

import sys

from arbees.cli import main

sys.exit(main())
