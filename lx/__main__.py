"""``python -m lx`` is the ``lx`` command."""
import sys

from lx.cli import main

sys.exit(main())
