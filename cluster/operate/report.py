"""Runs the status check on every node and shows the rows: a table and the fixes, or JSON.

Two passes: every node reports first (at most ``--parallel`` at a time, each
within ``--timeout``), then each row is judged, because a node's path to the
head can only be found once the head has said what its ZeroTier address is.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from cluster.operate.sshrun import Reply, Ssh, run_all
from cluster.operate.status import COMMAND, Context, Facts, Row, Target, evaluate, status_stdin
from cluster.plan.build import Plan

#: More nodes than this and progress goes to stderr.
QUIET_UP_TO = 4


@dataclass(frozen=True)
class Options:
    #: Where the stack's resources are (``--component``, the ``overlayUrn`` output, or the project's own program).
    target: Target
    identity: Path | None
    parallel: int
    timeout: float
    mesh: bool
    network_id: str | None
    #: ``pulumi stack output --json``, when the operator gives it: member IDs and the network ID.
    outputs: Mapping[str, Any]


def probe_targets(plan: Plan, name: str, mesh: bool) -> list[str]:
    """The overlay addresses a node pings before it reads its peers: the head, or everyone with --mesh."""
    if mesh:
        return [str(n.ip) for n in plan.active if n.name != name]
    return [str(plan.head_ip)] if name != plan.head_name else []


def check_cluster(plan: Plan, options: Options, err: TextIO = sys.stderr) -> list[Row]:
    """Every active node's row, in plan order."""
    nodes = plan.active
    jobs = [(n.spec, status_stdin(plan, n, probe_targets(plan, n.name, options.mesh))) for n in nodes]

    def progress(done: int, total: int, name: str) -> None:
        print(f"status: {done}/{total} nodes answered or gave up ({name})", file=err, flush=True)

    with tempfile.TemporaryDirectory(prefix="ztc-status-") as scratch:
        ssh = Ssh(options.identity, options.timeout, Path(scratch))
        shown = progress if len(nodes) > QUIET_UP_TO else None
        replies = run_all(ssh, jobs, COMMAND, options.parallel, shown)
    outputs_nodes = options.outputs.get("nodes") if isinstance(options.outputs.get("nodes"), dict) else {}
    members = {
        name: value["memberId"]
        for name, value in (outputs_nodes or {}).items()
        if isinstance(value, dict) and isinstance(value.get("memberId"), str)
    }
    addresses = dict(members)
    addresses.update(_reported_addresses(replies))
    output_id = options.outputs.get("networkId")
    ctx = Context(
        plan=plan,
        target=options.target,
        addresses=addresses,
        network_id=options.network_id or plan.network_id or (output_id if isinstance(output_id, str) else None),
        members=members,
        mesh=options.mesh,
    )
    return [evaluate(ctx, n, replies[n.name]) for n in nodes]


def _reported_addresses(replies: Mapping[str, Reply]) -> dict[str, str]:
    found = {}
    for name, reply in replies.items():
        info = Facts.parse(reply.stdout).json("info") if reply.error is None else None
        if isinstance(info, dict) and isinstance(info.get("address"), str):
            found[name] = info["address"]
    return found


def table(plan: Plan, rows: list[Row], mesh: bool) -> str:
    """One line per node, then every deviation with its fix."""
    head = ["NODE", "ROLE", "ZEROTIER", "NETWORK", "ADDRESS", "PATHS" if mesh else "PATH TO HEAD", "FIREWALL", "HOSTS"]
    lines = [head]
    for row in rows:
        if not row.reached:
            lines.append([row.name, row.role, "UNREACHABLE", "-", "-", "-", "-", "-"])
            continue
        cells = [row.name, row.role]
        for name in ("zerotier", "network", "address"):
            found = row.check(name)
            cells.append(found.value if found else "-")
        if mesh:
            relayed = [peer for peer, p in row.paths.items() if p.kind != "DIRECT"]
            direct = len(row.paths) - len(relayed)
            cells.append(f"{direct}/{len(row.paths)} DIRECT" + (f" (not: {','.join(relayed)})" if relayed else ""))
        else:
            path = row.paths.get(plan.head_name)
            cells.append(str(path) if path else "-")
        for name in ("firewall", "hosts"):
            found = row.check(name)
            cells.append(found.value if found else "-")
        lines.append(cells)
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    text = "".join("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() + "\n" for line in lines)
    problems = []
    for row in rows:
        if not row.reached:
            problems.append(f"{row.name}: {row.error}")
        for check in row.checks:
            # A path's kind and latency lead its line: "path to head: RELAY 80ms: ...".
            what = f"path to {check.name.removeprefix('path:')}: {check.value}" if check.path else check.name
            if check.ok is False:
                problems.append(f"{row.name}: {what}: {check.detail or check.value}. Fix: {check.fix}")
            elif check.ok is None and check.detail:
                problems.append(f"{row.name}: {what}: not checked: {check.detail}")
    if mesh:
        text += "".join(line + "\n" for line in site_latency(plan, rows))
    evicted = [n.name for n in plan.nodes if not n.spec.active]
    if evicted:
        text += f"not checked (state: evicted): {', '.join(evicted)}\n"
    identities = [c for r in rows for c in r.checks if c.name == "identity"]
    if identities and all(c.ok is None for c in identities):
        text += "identities not compared with members: add --outputs FILE (`pulumi stack output --json > FILE`)\n"
    if problems:
        text += "\n" + "\n".join(problems) + "\n"
    return text


def site_latency(plan: Plan, rows: list[Row]) -> list[str]:
    """With --mesh: the latency ZeroTier measured between every pair of sites (both directions), one line each.

    What an MPI job spanning two sites pays per message; ``slurmTopology``
    keeps jobs inside one site unless they need more.
    """
    site = {n.name: plan.spec.site_of(n.spec) for n in plan.nodes}
    pairs: dict[tuple[str, str], list[tuple[int | None, bool]]] = {}
    for row in rows:
        for peer, path in row.paths.items():
            if row.name in site and peer in site:
                pair = (min(site[row.name], site[peer]), max(site[row.name], site[peer]))
                pairs.setdefault(pair, []).append((path.latency_ms, path.kind == "DIRECT"))
    lines = []
    for (a, b), found in sorted(pairs.items()):
        latencies = sorted(ms for ms, _ in found if ms is not None)
        shown = f"median {latencies[len(latencies) // 2]} ms, max {latencies[-1]} ms" if latencies else "no latency"
        direct = sum(1 for _, d in found if d)
        lines.append(f"sites {a} <-> {b}: {shown} over {len(found)} paths ({direct} DIRECT)")
    return lines


def as_json(rows: list[Row]) -> str:
    return json.dumps({"ok": all(r.ok for r in rows), "nodes": [r.as_json() for r in rows]}, indent=2) + "\n"
