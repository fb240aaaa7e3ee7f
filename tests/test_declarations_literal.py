"""Every declaration of each example stack, whole, against a reviewed file: what ``pulumi up`` would be asked to do.

The plan is the source of what is declared (``cluster/plan/declarations.py``),
so the lifecycle promises are this data: which entries a change replaces
(``triggers``, ``replace_on_changes``), which keep the node alone
(``retain_on_delete``, ``ignore_changes``), what each runs after and needs, and
each step's parameters (on stdin and in its program). The files under
``tests/declarations_golden/`` hold all of it for the example stacks and the
variants the README documents (the head as controller and root, an evicted
node, a device). A change to any of it shows as a diff of a file a reviewer
reads; the programs' text is left out (the script tests own it), so a script
edit does not touch these files.

After a deliberate change, write the files again and read the diff::

    python3 -m tests.test_declarations_literal
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path
from typing import Any

import pytest

from cluster.config.parse import parse_cluster
from cluster.config.stackfile import read_stack_config
from cluster.plan.build import Plan, build_plan
from cluster.plan.declarations import Declaration, declarations
from cluster.plan.steps import Pending, StepScript
from cluster.rules.model import NetworkRules
from tests.mockrun import ROOT

GOLDEN = Path(__file__).resolve().parent / "declarations_golden"

#: Each case: a stack file and the settings laid over it (as ``pulumi config set`` would).
CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "dev": ("dev", {}),
    "onprem": ("onprem", {}),
    "cloud": ("cloud", {}),
    "dev-head-controller": ("dev", {"controller": "head"}),
    "dev-head-root": ("dev", {"controller": "head", "roots": "head", "rootEndpoint": "192.168.10.1"}),
    # every option that changes a step's parameters or a lifecycle away from its default
    "dev-options": (
        "dev",
        {
            "network": {
                "name": "chpc-overlay",
                "cidr": "10.147.17.0/24",
                "networkId": "8056c2e21c000001",
                "keepSettings": True,
            },
            "uninstallOnDestroy": True,
            "verify": {"requireDirect": True},
            "zerotier": {
                "multicore": True,
                "concurrency": 3,
                "sites": {"cluster": {"physical": {"192.168.10.0/24": {"mtu": 9000}}}},
            },
            "firewall": {"mode": "integrate", "integrate": {"table": "filter", "chain": "input"}},
        },
    ),
    "dev-firewall-off": ("dev", {"firewall": {"mode": "off"}, "zerotier": {"interfacePrefixBlacklist": []}}),
    "dev-joined": (
        "dev",
        {"network": {"name": "lab", "cidr": "10.147.17.0/24", "networkId": "8056c2e21c000001", "manage": False}},
    ),
    "onprem-port": ("onprem", {"ssh": {"user": "rocky", "port": 2222}}),
    "cloud-port": ("cloud", {"ssh": {"user": "debian", "port": 2222}}),
    "dev-head-no-pool": (
        "dev",
        {"controller": "head", "network": {"name": "lab", "cidr": "10.147.17.0/24", "mtu": 9000}},
    ),
}


def _with_evicted_node_and_device(raw: dict[str, Any]) -> dict[str, Any]:
    nodes = [dict(n) for n in raw["nodes"]]
    nodes[1]["state"] = "evicted"
    nodes[-1]["generation"] = 2
    return {
        **raw,
        "nodes": nodes,
        "devices": [{"name": "laptop", "address": "a1b2c3d4e5", "ip": "10.147.17.112"}],
    }


def case_plan(case: str) -> Plan:
    """The plan of ``case`` (the ``-evicted`` cases: a node evicted before the last, a device, a reimaged node)."""
    base, evicted = case.removesuffix("-evicted"), case.endswith("-evicted")
    stack, settings = CASES[base]
    raw = read_stack_config(ROOT, stack)
    raw.update(settings)
    if evicted:
        raw = _with_evicted_node_and_device(raw)
    return build_plan(parse_cluster(raw, base_dir=ROOT))


def _value(value: Any) -> Any:
    """A JSON value for anything a declaration holds; fails on what it cannot show exactly."""
    if isinstance(value, Pending):
        return {"pending": value.name}
    if isinstance(value, NetworkRules):
        return value.source().splitlines()
    if isinstance(value, StepScript):
        return {
            "node": value.node,
            "generation": value.generation,
            "step": value.name,
            "stdin": {k: _value(v) for k, v in value.params.variables(per_node=True)},
            "program": {k: _value(v) for k, v in value.params.variables(per_node=False)},
        }
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _value(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (IPv4Address, IPv4Interface, IPv4Network)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _value(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"no literal form for {type(value).__name__}: {value!r}")


def describe(entry: Declaration) -> dict[str, Any]:
    """One declaration as a reviewer reads it: its kind and resource type first, then every field."""
    shown: dict[str, Any] = {"kind": type(entry).__name__, "type": entry.resource_type, "step": entry.step}
    shown.update({f.name: _value(getattr(entry, f.name)) for f in dataclasses.fields(entry)})
    return shown


def rendered(case: str) -> str:
    """The case's file: what the plan publishes and ships besides its entries, then every entry."""
    plan = case_plan(case)
    published = {
        "head_name": plan.head_name,
        "head_ip": str(plan.head_ip),
        "network_id": plan.network_id,
        "hosts_block": plan.hosts_block.splitlines(),
        "mpi_hostfile": plan.mpi_hostfile.splitlines(),
        "slurm_nodes": plan.slurm_nodes.splitlines(),
        "slurm_topology": plan.slurm_topology.splitlines(),
        "displaced": _value(plan.displaced()),
        "rules": _value(plan.rules),
        # each program by its step and shared parameters (its text is the script tests' to hold)
        "bundle": [{"step": p.step, "shared": dict(p.shared)} for p in plan.bundle.programs],
        "reach": [{**_value(r), "ok": r.ok} for r in plan.reach],
        "nodes": [
            {
                "name": n.name,
                "interface": n.interface,
                "verifies": list(n.verifies),
                # the ruleset's text is the firewall tests' to hold: here, whether there is one and which
                "ruleset": None if n.ruleset is None else hashlib.sha256(n.ruleset.encode()).hexdigest()[:16],
            }
            for n in plan.nodes
        ],
    }
    entries = [describe(e) for e in declarations(plan)]
    return json.dumps({"plan": published, "declarations": entries}, indent=1) + "\n"


ALL = sorted([*CASES, *(f"{c}-evicted" for c in ("dev", "dev-head-controller"))])


def test_every_case_has_its_file_and_no_file_is_stale() -> None:
    assert sorted(p.stem for p in GOLDEN.glob("*.json")) == ALL


@pytest.mark.parametrize("case", ALL)
def test_the_declarations_are_the_reviewed_ones(case: str) -> None:
    expected = (GOLDEN / f"{case}.json").read_text()
    assert rendered(case) == expected, f"re-record with: python3 -m tests.test_declarations_literal ({case})"


def main() -> None:
    GOLDEN.mkdir(exist_ok=True)
    for case in ALL:
        (GOLDEN / f"{case}.json").write_text(rendered(case))
        print(f"wrote {GOLDEN / case}.json", file=sys.stderr)


if __name__ == "__main__":
    main()
