"""``python -m cluster render``: what ``pulumi up`` would do, without the engine or a network.

Uses the same parse → plan path as the program, so the scripts and rulesets
shown are byte for byte what the nodes receive.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .config import parse_cluster
from .errors import ConfigError
from .plan import NETWORK_ID, Plan, build_plan
from .stackfile import read_stack_config


def address_table(plan: Plan) -> str:
    """The reviewer's first question: who gets which address, and how."""
    rows = [("NAME", "ROLE", "SSH HOST", "OVERLAY IP", "ADDRESS")]
    for node in plan.nodes:
        a = node.assignment
        how = {"pinned": "pinned (ip)", "head": "head: first address of the slice"}.get(a.kind, "automatic")
        if a.displaced_by:
            how = f"automatic, displaced by {a.displaced_by}: pin it"
        host = node.node.host if isinstance(node.node.host, str) else "(from another resource)"
        rows.append((node.node.name, node.node.role, host, str(a.ip), how))
    for device, a in plan.devices:
        how = "pinned (ip)" if a.kind == "pinned" else "automatic"
        rows.append((device.name, "device", f"zerotier {device.address}", str(a.ip), how))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1] + "\n" for row in rows
    )


def summary(plan: Plan) -> str:
    net = plan.spec.network
    if net.from_stack:
        source = f"owned by stack {net.from_stack}"
    elif net.network_id:
        source = f"{net.network_id} ({'adopted' if net.manage else 'used as is'})"
    else:
        source = "created by pulumi up"
    lines = [
        f"network   {net.name}: {source}",
        f"cidr      {net.cidr}   this stack's slice {net.address_slice}"
        + (f"   auto-assign pool {net.pool.start}-{net.pool.end}" if net.pool else ""),
        f"head      {plan.head_name} {plan.head_ip}",
        f"firewall  {plan.spec.firewall.mode}",
    ]
    return "\n".join(lines) + "\n"


def plan_json(plan: Plan, network_id: str | None) -> dict[str, Any]:
    net = plan.spec.network
    return {
        "network": {
            "name": net.name,
            "networkId": network_id or plan.network_id,
            "cidr": str(net.cidr),
            "slice": str(net.address_slice),
            "pool": {"start": str(net.pool.start), "end": str(net.pool.end)} if net.pool else None,
            "fromStack": net.from_stack,
        },
        "head": {"name": plan.head_name, "ip": str(plan.head_ip)},
        "nodes": [
            {
                "name": n.node.name,
                "role": n.node.role,
                "host": n.node.host if isinstance(n.node.host, str) else None,
                "ip": str(n.ip),
                "interface": n.interface,
                "steps": [s.step for s in n.steps],
            }
            for n in plan.nodes
        ],
        "devices": [{"name": d.name, "address": d.address, "ip": str(a.ip)} for d, a in plan.devices],
    }


def write(plan: Plan, out: Path, network_id: str | None) -> list[Path]:
    """Writes plan.json, and per node every step's stdin and its nftables ruleset."""
    known = {NETWORK_ID: network_id} if network_id else {}
    written = [out / "plan.json"]
    out.mkdir(parents=True, exist_ok=True)
    written[0].write_text(json.dumps(plan_json(plan, network_id), indent=2) + "\n")
    for node in plan.nodes:
        folder = out / node.node.name
        folder.mkdir(exist_ok=True)
        for step in node.steps:
            path = folder / f"{step.step}.sh"
            path.write_text(step.text(known))
            written.append(path)
        if node.ruleset is not None:
            path = folder / "firewall.nft"
            path.write_text(node.ruleset)
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cluster", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    render = sub.add_parser("render", help="show the address plan, scripts and rulesets for a stack")
    render.add_argument("--stack", required=True, help="the stack name: reads Pulumi.<stack>.yaml")
    render.add_argument("--out", type=Path, help="write plan.json and per-node files here instead of printing them")
    render.add_argument("--project", type=Path, default=Path.cwd(), help="the project directory (default: .)")
    render.add_argument("--network-id", help="show this network ID where pulumi up would fill it in")
    args = parser.parse_args(argv)

    try:
        plan = build_plan(parse_cluster(read_stack_config(args.project, args.stack), base_dir=args.project))
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    print(summary(plan))
    print(address_table(plan))
    for a in plan.displaced():
        print(f"warning: {a.name} is not at its first-choice address; pin `ip: {a.ip}` to keep it", file=sys.stderr)
    if args.out is not None:
        for path in write(plan, args.out, args.network_id):
            print(f"wrote {path}")
        return 0
    known = {NETWORK_ID: args.network_id} if args.network_id else {}
    for node in plan.nodes:
        for step in node.steps:
            print(f"===== {node.node.name}: {step.step} (stdin of `/bin/sh -s -- create`) =====")
            print(step.text(known))
        if node.ruleset is not None:
            print(f"===== {node.node.name}: firewall ruleset (nft -f) =====")
            print(node.ruleset)
    return 0
