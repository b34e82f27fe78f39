"""`python -m micrograd ...` runs the console script."""

import sys

from micrograd.cli import main

sys.exit(main())
