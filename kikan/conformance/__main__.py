"""``python -m kikan.conformance --layout 住民記録 FILE…``."""

import sys

from kikan.conformance.cli import main

sys.exit(main())
