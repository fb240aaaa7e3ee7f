"""An HPC cluster on a private ZeroTier overlay, as a Pulumi program and component.

``parse_cluster`` validates a config (the stack config's shape) into a spec and
``build_plan`` turns it into per-node addresses, scripts and rulesets; neither
needs the Pulumi engine. ``cluster.declare.overlay.Overlay`` declares the resources.
"""

from cluster.config.parse import parse_cluster
from cluster.errors import ConfigError
from cluster.plan.build import build_plan

__all__ = ["ConfigError", "build_plan", "parse_cluster"]
