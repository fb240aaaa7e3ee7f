"""``python -m cluster render``: what ``pulumi up`` would do, without the engine or a network.

Uses the same parse → plan path as the program, so the scripts and rulesets
shown are byte for byte what the nodes receive.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from cluster.plan import reach
from cluster.plan.build import PENDING_NETWORK_ID, Plan
from cluster.plan.steps import StepParams, StepScript

#: Steps that run on the head for another node or device, or for the whole network.
ON_HEAD = ("moon", "network", "member")
#: Column order: what runs on a node, and what runs on the head for it (controller: head, roots: head).
COLUMNS = (
    "install",
    "identity",
    "localconf",
    "moon",
    "orbit",
    "network",
    "member",
    "join",
    "firewall",
    "hosts",
    "verify",
)


def steps_by_name(plan: Plan) -> dict[str, list[StepScript[StepParams]]]:
    """Every command the stack runs, by the node or device it is for (the head's controller commands included)."""
    steps: dict[str, list[StepScript[StepParams]]] = {n.name: list(n.steps) for n in plan.nodes}
    steps.update({d.name: [] for d, _ in plan.devices})
    if plan.moon is not None:
        steps[plan.moon.node].append(plan.moon)
    if plan.controller is not None:
        steps[plan.controller.network.node].append(plan.controller.network)
        for member in plan.controller.members:
            steps[member.node].append(member)
    return steps


def address_table(plan: Plan) -> str:
    """The reviewer's first questions: who gets which address, and which program each step runs.

    One line per node and device; a step's column is the first 12 hex digits
    of its program's SHA-256 (the programs are listed once below the table).
    """
    by_name = steps_by_name(plan)
    used = {s.name for steps in by_name.values() for s in steps}
    columns = [c for c in COLUMNS if c in used]
    rows = [("NAME", "ROLE", "SSH HOST", "OVERLAY IP", *(c.upper() for c in columns), "ADDRESS")]

    def hashes(name: str) -> list[str]:
        programs = {s.name: s.program.sha[:12] for s in by_name[name]}
        return [programs.get(c, "-") for c in columns]

    for node in plan.nodes:
        a = node.assignment
        how = {"pinned": "pinned (ip)", "head": "head: first address of the slice"}.get(a.kind, "automatic")
        if a.displaced_by:
            how = f"automatic, displaced by {a.displaced_by}: pin it"
        if not node.spec.active:
            how += "; EVICTED: deauthorized, never contacted"
        elif node.spec.generation:
            how += f"; generation {node.spec.generation}"
        host = node.spec.host if isinstance(node.spec.host, str) else "(from another resource)"
        rows.append((node.name, node.spec.role, host, str(a.ip), *hashes(node.name), how))
    for device, a in plan.devices:
        how = "pinned (ip)" if a.kind == "pinned" else "automatic"
        rows.append((device.name, "device", f"zerotier {device.address}", str(a.ip), *hashes(device.name), how))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1] + "\n" for row in rows
    )


def programs_table(plan: Plan) -> str:
    """Each program once: its hash, step, size, how many nodes run it, and its shared parameters."""
    users: dict[str, int] = {}
    for steps in steps_by_name(plan).values():
        for step in steps:
            users[step.program.sha] = users.get(step.program.sha, 0) + 1
    lines = [f"bundle {plan.bundle.sha[:12]}: {len(plan.bundle.programs)} programs, {len(plan.bundle.tar)} bytes"]
    for program in sorted(plan.bundle.programs, key=lambda p: (p.step, p.sha)):
        shared = ", ".join(_short(name, value) for name, value in program.shared)
        lines.append(
            f"  {program.sha[:12]}  {program.step:<9}  {len(program.data):>7} bytes  "
            f"{users[program.sha]:>4} command(s)  {shared}"
        )
    return "\n".join(lines) + "\n"


def _short(name: str, value: str) -> str:
    """A parameter for the summary: multi-line values (rulesets, host lists) by size and line count."""
    short = name.removeprefix("ZTC_")
    if "\n" in value or len(value) > 60:
        return f"{short}=<{value.count(chr(10))} lines, sha256 {hashlib.sha256(value.encode()).hexdigest()[:12]}>"
    return f"{short}={value}"


def reachability(plan: Plan) -> str:
    """Who may reach what, every assertion borne out by both layers (``+`` allowed, ``-`` denied)."""
    head = (
        f"reachability: {len(plan.reach)} assertions (zerotier-cluster:policy and the threat model's), "
        "each checked against the ZeroTier rules and every destination's nftables ruleset; + allowed, - denied\n"
    )
    return head + reach.matrix(plan.reach)


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
                "name": n.name,
                "role": n.spec.role,
                "host": n.spec.host if isinstance(n.spec.host, str) else None,
                "ip": str(n.ip),
                "interface": n.interface,
                "state": n.spec.state,
                "generation": n.spec.generation,
                "steps": {s.name: s.program.sha for s in n.steps},
            }
            for n in plan.nodes
        ],
        "devices": [{"name": d.name, "address": d.address, "ip": str(a.ip)} for d, a in plan.devices],
    }


def write(plan: Plan, out: Path, network_id: str | None) -> list[Path]:
    """Writes plan.json, the bundle and its programs, the ZeroTier rules (rules.zt: source, rules.json: compiled),
    and per node and device every step's stdin (also what the head runs for it) and its ruleset."""
    known = {PENDING_NETWORK_ID: network_id} if network_id else {}
    out.mkdir(parents=True, exist_ok=True)
    files: dict[Path, str | bytes] = {
        out / "plan.json": json.dumps(plan_json(plan, network_id), indent=2) + "\n",
        out / "bundle.tar": plan.bundle.tar,
        out / "rules.zt": plan.rules.source(),
        out / "rules.json": json.dumps(plan.rules.compiled()["rules"], indent=2) + "\n",
    }
    for program in plan.bundle.programs:
        files[out / "programs" / f"{program.sha}.sh"] = program.text
    for name, steps in steps_by_name(plan).items():
        for step in steps:
            files[out / name / f"{step.name}.sh"] = step.text(known)
    for node in plan.nodes:
        if node.ruleset is not None:
            files[out / node.name / "firewall.nft"] = node.ruleset
    for path, content in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return list(files)


def full(plan: Plan, known: dict[str, str]) -> str:
    """Every byte a node receives: each step's stdin, each program once, each ruleset."""
    parts = []
    for name, steps in steps_by_name(plan).items():
        for step in steps:
            where = " on the head" if step.name in ON_HEAD else ""
            parts.append(
                f"===== {name}: {step.name}{where} (stdin of `/bin/sh -s -- create`) =====\n{step.text(known)}"
            )
    for node in plan.nodes:
        if node.ruleset is not None:
            parts.append(f"===== {node.name}: firewall ruleset (nft -f) =====\n{node.ruleset}")
    for program in plan.bundle.programs:
        parts.append(f"===== program {program.sha} ({program.step}) =====\n{program.text}")
    return "\n".join(parts)


def show(plan: Plan, out: Path | None, full_text: bool, network_id: str | None) -> int:
    """What ``render`` prints (and writes with ``out``)."""
    print(summary(plan))
    print(address_table(plan))
    print(programs_table(plan))
    print(reachability(plan))
    print(plan.rules.source())
    for a in plan.displaced():
        print(f"warning: {a.name} is not at its first-choice address; pin `ip: {a.ip}` to keep it", file=sys.stderr)
    if full_text:
        print(full(plan, {PENDING_NETWORK_ID: network_id} if network_id else {}))
    if out is not None:
        for path in write(plan, out, network_id):
            print(f"wrote {path}")
    return 0
