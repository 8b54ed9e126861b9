"""``python -m closuremap.cli …``: the same as the ``closuremap`` command."""

import sys

from closuremap.cli import main

sys.exit(main())
