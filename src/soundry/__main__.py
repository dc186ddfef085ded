"""``python -m soundry`` runs the CLI."""

import sys

from soundry.cli.app import main

sys.exit(main())
