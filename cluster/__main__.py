"""``python -m cluster render|status --stack dev``: review a stack's plan, or check its nodes, without Pulumi."""

import os
import sys

from cluster.operate.cli import main

try:
    sys.exit(main())
except BrokenPipeError:  # piped into `head`: the reader has what it wanted
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(0)
