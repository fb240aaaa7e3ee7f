"""Runs provisioning steps on test machines exactly as the program does.

The stdin is :meth:`cluster.steps.StepScript.text` of a plan built from a
stack-style config, the command line is :data:`cluster.steps.COMMANDS`, and
both travel over real SSH (:meth:`tests.lab.ssh.Operator.run`).
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cluster.config import parse_cluster
from cluster.plan import Plan, build_plan
from cluster.steps import COMMANDS

from .machine import Machine
from .ssh import Operator

NETWORK_ID = "8056c2e21c1930be"
#: The repository root: where a config's relative paths would resolve.
ROOT = Path(__file__).resolve().parents[2]


def cluster_config(
    nodes: Sequence[Mapping[str, Any]] | None = None, *, network: Mapping[str, Any] | None = None, **settings: Any
) -> dict[str, Any]:
    """A stack config like Pulumi.<stack>.yaml's (keys without the project prefix)."""
    net = {"name": "chpc-overlay", "cidr": "10.147.17.0/24", "networkId": NETWORK_ID}
    net.update(network or {})
    return {
        "network": net,
        "ssh": {"user": "ops"},
        "nodes": list(
            nodes
            or [
                {"name": "head", "role": "head", "host": "192.0.2.10", "ip": "10.147.17.1"},
                {"name": "compute-01", "role": "compute", "host": "192.0.2.11", "ip": "10.147.17.11"},
                {"name": "compute-02", "role": "compute", "host": "192.0.2.12", "ip": "10.147.17.12"},
            ]
        ),
        **settings,
    }


def plan_for(config: Mapping[str, Any]) -> Plan:
    return build_plan(parse_cluster(config, base_dir=ROOT))


def step_text(config: Mapping[str, Any], node: str, step: str, *, network_id: str = NETWORK_ID) -> str:
    """The exact stdin ``node``'s ``step`` receives."""
    plan = plan_for(config)
    node_plan = next(n for n in plan.nodes if n.node.name == node)
    return node_plan.step(step).text(known={"networkId": network_id})


def run_step(
    operator: Operator,
    machine: Machine,
    stdin: str,
    action: str = "create",
    *,
    user: str = "ops",
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """One step over SSH: ``/bin/sh -s -- <action>`` with the composed script on stdin."""
    return operator.run(str(machine.host.ip), user, COMMANDS[action], stdin=stdin, timeout=timeout)  # type: ignore[index]


def last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""
