"""`python -m mda` runs the command-line interface."""

import sys

from mda.cli import main

sys.exit(main())
