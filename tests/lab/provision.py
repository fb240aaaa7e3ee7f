"""Runs provisioning steps on test machines exactly as the program does.

The stdin is :meth:`cluster.plan.steps.StepScript.text` of a plan built from a
stack-style config, the command line is :data:`cluster.plan.steps.COMMANDS`, and
both travel over real SSH (:meth:`tests.lab.ssh.Operator.run`), after the
step's program was copied over SFTP as pulumi-command's CopyToRemote does.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from cluster.config.parse import parse_cluster
from cluster.plan.build import Plan, build_plan
from cluster.plan.steps import COMMANDS, REMOTE_BUNDLE, Bundle, Program, StepScript

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


def step_of(config: Mapping[str, Any], node: str, step: str) -> StepScript:
    """``node``'s ``step`` in the plan of ``config``."""
    node_plan = next(n for n in plan_for(config).nodes if n.name == node)
    found = next((s for s in node_plan.steps if s.name == step), None)
    assert found is not None, f"{node} has no {step} step in this config"
    return found


def with_param(script: StepScript, var: str, value: str) -> StepScript:
    """``script`` with its parameter ``var`` set to ``value`` (on stdin or in its program, wherever it lives)."""
    names = {f.metadata["var"]: f.name for f in fields(script.params)}
    return replace(script, params=replace(script.params, **{names[var]: value}))


def step_text(config: Mapping[str, Any], node: str, step: str, *, network_id: str = NETWORK_ID) -> str:
    """The exact stdin ``node``'s ``step`` receives (its program is remembered for :func:`run_step`)."""
    script = step_of(config, node, step)
    _PROGRAMS[script.program.sha] = script.program
    return script.text(known={"networkId": network_id})


#: Programs of the stdins this process composed, by hash: what run_step ships with them.
_PROGRAMS: dict[str, Program] = {}


def ship(operator: Operator, machine: Machine, programs: Sequence[Program], *, user: str = "ops", **ssh: Any) -> None:
    """Copies a bundle of ``programs`` to the login's home over SFTP, as CopyToRemote does."""
    bundle = Bundle.of(iter(programs))
    result = operator.upload(str(machine.host.ip), user, bundle.tar, REMOTE_BUNDLE, **ssh)
    assert result.returncode == 0, f"copying the bundle failed: {result.stderr}"


def run_step(
    operator: Operator,
    machine: Machine,
    step: str | StepScript,
    action: str = "create",
    *,
    user: str = "ops",
    timeout: float = 300,
    network_id: str = NETWORK_ID,
    send_bundle: bool = True,
    **ssh: Any,
) -> subprocess.CompletedProcess[str]:
    """One step as the program runs it: the bundle copied first, then ``/bin/sh -s -- <action>`` with the stdin.

    ``step`` is a :class:`StepScript` or a stdin :func:`step_text` composed
    (possibly edited); a stdin naming a program this process never composed
    is sent without a bundle (what a node sees when its bundle is missing);
    ``send_bundle=False`` relies on what an earlier run left on the node.
    """
    if isinstance(step, StepScript):
        programs = [step.program]
        stdin = step.text(known={"networkId": network_id})
    else:
        found = re.search(r"^ZTC_PROGRAM=([0-9a-f]{64})$", step, re.M)
        programs = [_PROGRAMS[found.group(1)]] if found and found.group(1) in _PROGRAMS else []
        stdin = step
    if programs and send_bundle:
        ship(operator, machine, programs, user=user, **ssh)
    return operator.run(str(machine.host.ip), user, COMMANDS[action], stdin=stdin, timeout=timeout, **ssh)  # type: ignore[index]


def last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""
