"""``python -m cluster status --probe``: does the wire agree with ``zerotier-cluster:policy``?

The plan proves every assertion against the rules the program generates; a
hand-added nftables rule, a flushed table or rules changed on Central by hand
are invisible to it. This sends each assertion's probe for real, over the
overlay, from one node of each source (the first active node of a role, or the
node named): a TCP connect (connected or refused: the packet got through), a
ping, a UDP datagram to a listener started on the destination for the run.
Three bounded passes over SSH (``cluster/scripts/probe.sh``): listeners up,
probes sent, listeners read and stopped. Sources that are no node (devices,
``lan``, ``internet``) cannot be sent from, and are reported as not probed.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cluster.operate.sshrun import Reply, Ssh, run_all
from cluster.plan.build import NodePlan, Plan
from cluster.plan.reach import Result
from cluster.plan.steps import ProbeParams, standalone

COMMAND = "/bin/sh -s"
#: Seconds each probe may take; an unanswered TCP connect or ping counts as blocked after it.
PROBE_TIMEOUT = 3


@dataclass(frozen=True)
class Probe:
    """One packet to send: for an assertion, from a node to a node."""

    id: int
    result: Result
    sender: NodePlan
    target: NodePlan
    protocol: str
    port: int

    def line(self) -> str:
        return f"{self.id} {self.protocol} {self.target.ip} {self.port}"

    def __str__(self) -> str:
        what = "icmp" if self.protocol == "icmp" else f"{self.protocol}/{self.port}"
        return f"{self.sender.name} -> {self.target.name} {what}"


@dataclass(frozen=True)
class Outcome:
    """What the wire did with an assertion's probes: None for ok when it could not be probed."""

    result: Result
    ok: bool | None
    detail: str


def probes(plan: Plan) -> tuple[list[Probe], list[Outcome]]:
    """Every probe to send, and the assertions no node can send for."""
    active = plan.active
    todo: list[Probe] = []
    skipped: list[Outcome] = []
    for result in plan.reach:
        a = result.assertion
        senders = [n for n in active if a.source in (n.name, n.spec.role)][:1]
        if not senders:
            skipped.append(Outcome(result, None, f"not probed: {a.source} is no node of this stack to send from"))
            continue
        sender = senders[0]
        for target in active:
            if a.target in (target.name, target.spec.role) and target.name != sender.name:
                port = 8 if a.protocol == "icmp" else a.port or target.spec.listen_port
                todo.append(Probe(len(todo), result, sender, target, a.protocol, port))
    return todo, skipped


def _stdin(node: NodePlan, mode: str, lines: Sequence[str], tag: str) -> str:
    params = ProbeParams(mode=mode, probes="\n".join(lines), timeout=str(PROBE_TIMEOUT), tag=tag)
    return standalone(f"probe ({mode}) on node {node.name}", params)


def _lines(reply: Reply) -> list[list[str]]:
    return [line.split(" ", 2) for line in reply.stdout.splitlines() if line.strip()]


def run(plan: Plan, identity: Path | None, parallel: int, timeout: float) -> list[Outcome]:
    """Sends every probe and compares each assertion with what the wire did."""
    todo, outcomes = probes(plan)
    tag = hashlib.sha256(plan.spec.network.name.encode()).hexdigest()[:12]
    udp: dict[str, list[Probe]] = {}
    for p in todo:
        if p.protocol == "udp":
            udp.setdefault(p.target.name, []).append(p)
    senders: dict[str, list[Probe]] = {}
    for p in todo:
        senders.setdefault(p.sender.name, []).append(p)
    nodes = {n.name: n for n in plan.active}
    with tempfile.TemporaryDirectory(prefix="ztc-probe-") as scratch:
        ssh = Ssh(identity, timeout, Path(scratch))

        def each(jobs: Mapping[str, tuple[str, Sequence[str]]]) -> dict[str, Reply]:
            stdin = [(nodes[name].spec, _stdin(nodes[name], mode, lines, tag)) for name, (mode, lines) in jobs.items()]
            return run_all(ssh, stdin, COMMAND, parallel)

        ports = {name: sorted({str(p.port) for p in ps}) for name, ps in udp.items()}
        listening = each({name: ("listen", lines) for name, lines in ports.items()})
        sent = each({name: ("send", [p.line() for p in ps]) for name, ps in senders.items()})
        received = each({name: ("collect", lines) for name, lines in ports.items()})

    said: dict[int, str] = {}
    for name, ps in senders.items():
        reply = sent[name]
        answers = {int(w[0]): " ".join(w[1:]) for w in _lines(reply) if w[0].isdigit()}
        for p in ps:
            said[p.id] = f"error {reply.error}" if reply.error else answers.get(p.id, "error no answer")
    for name, ps in udp.items():
        up = {w[1] for w in _lines(listening[name]) if w[0] == "listening"}
        got = {w[1] for w in _lines(received[name]) if w[0] == "received" and w[2:] == ["yes"]}
        for p in ps:
            if said[p.id] != "open":
                continue
            if str(p.port) not in up:
                said[p.id] = f"error no listener on {p.target.name} udp/{p.port}"
            else:
                said[p.id] = "open" if str(p.port) in got else "blocked"

    by_result: dict[int, list[Probe]] = {}
    for p in todo:
        by_result.setdefault(id(p.result), []).append(p)
    for ps in by_result.values():
        outcomes.append(_judge(ps, said))
    order = {id(r): i for i, r in enumerate(plan.reach)}
    return sorted(outcomes, key=lambda o: order[id(o.result)])


def _judge(ps: Sequence[Probe], said: Mapping[int, str]) -> Outcome:
    result = ps[0].result
    allow = result.assertion.expect == "allow"
    wrong, unknown = [], []
    for p in ps:
        answer = said[p.id]
        if answer.startswith("error"):
            unknown.append(f"{p}: {answer.removeprefix('error ')}")
        elif (answer in ("open", "closed")) != allow:
            wrong.append(f"{p}: {'got through' if answer in ('open', 'closed') else 'blocked'}")
    if wrong:
        return Outcome(result, False, "; ".join(wrong))
    if unknown:
        return Outcome(result, None, "not probed: " + "; ".join(unknown))
    return Outcome(result, True, f"{len(ps)} probe(s) {'got through' if allow else 'blocked'}")


def table(outcomes: Sequence[Outcome]) -> str:
    """One line per assertion: OK, FAIL (the wire disagrees) or SKIP, with the probes that decided."""
    lines = []
    for o in outcomes:
        mark = {True: "OK  ", False: "FAIL", None: "SKIP"}[o.ok]
        lines.append(f"{mark}  {o.result.assertion.key}: {o.result.assertion}: {o.detail}")
    return "\n".join(lines) + "\n"
