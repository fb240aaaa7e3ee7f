"""Pulumi entry point: read the stack config, declare the overlay, export what it produced."""

import pulumi

from cluster.declare.program import build

for name, value in build().items():
    pulumi.export(name, value)
