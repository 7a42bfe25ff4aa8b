"""``python -m leftbehind``: see :mod:`leftbehind.cli`."""

import sys

from .cli import main

sys.exit(main())
