"""``python -m fedi`` is the ``fedi`` command."""

import sys

from fedi.cli import main

sys.exit(main())
