"""Evaluation: what ZeroTier does with a frame, and the check that the cluster is never cut off.

:func:`decide` runs a rule list over a frame exactly as ZeroTier's engine
(``node/Network.cpp``, ``_doZtFilter``) does: matches read left to right,
each ANDed in (or ORed with ``or``), an AND skipped once the rule cannot hold,
``not`` inverting all but ZeroTier's hard answers, a ``drop`` skipped after a
``treq`` the sender could not know yet, ``break`` and the end of the list
dropping (this program defines no capabilities). Port ranges are cut where a
rule's range starts or ends, so a frame from "any ephemeral port" is decided
for every port, not for a sample.

:func:`cluster_problems` evaluates everything the cluster's nodes need from
each other (:func:`needed_traffic`), for each pair of nodes in both
directions, on the sender and on the receiver, at the nodes' real overlay
addresses. Nodes that no rule can tell apart (same role, in the same
``ipsrc``/``ipdest`` networks, sshd ports between the same bounds of the
rules' port ranges) are checked once per kind and direction, so the check
follows the rules, not the cluster's size; a property test holds it to the
check of every pair.

:func:`reach` answers "does ZeroTier let this member reach that one on this
protocol and port", for the whole exchange (replies included).
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, NamedTuple

from cluster.conventions import MAX_RULE_ENTRIES
from cluster.errors import Problem
from cluster.rules.frame import ACK, ARP, EPHEMERAL, FIN, ICMP, PSH, RST, SYN, TCP, UDP, Frame, Member, PortRange
from cluster.rules.keywords import KEYWORDS, YES_SKIP_DROP, Hard, network
from cluster.rules.model import Action, NetworkRules, Rule, RulesSpec

#: slurmctld's and slurmd's ports (Slurm's defaults, ``SlurmctldPort``/``SlurmdPort``).
SLURMCTLD_PORT = 6817
SLURMD_PORT = 6818
#: Where MPI and srun listen: Open MPI's TCP transport binds the first free port from 1024
#: (``btl_tcp_port_min_v4``), its runtime, MPICH and srun take ephemeral ports: any unprivileged port.
UNPRIVILEGED: PortRange = (1024, 65535)
#: The flags of a TCP session: client to server, then server to client (a close may be a reset).
CLIENT_FLAGS = (SYN, ACK, PSH | ACK, FIN | ACK, RST, RST | ACK)
SERVER_FLAGS = (SYN | ACK, ACK, PSH | ACK, FIN | ACK, RST, RST | ACK)

Protocol = Literal["tcp", "udp", "icmp", "arp"]


class Decision(NamedTuple):
    """What ZeroTier does with (a part of) a frame, and the rule that decides it."""

    frame: Frame
    #: None: dropped because no rule decided it, or a ``break`` (this program defines no capabilities).
    action: Action | None
    #: The rule whose action was taken; None where no rule matched.
    rule: Rule | None


def decide(rules: Sequence[Rule], frame: Frame) -> list[Decision]:
    """What ZeroTier does with each part of ``frame``.

    The parts are the frame's port ranges cut where a rule that is evaluated
    for it starts or ends a range; every port of a part meets the same fate.
    """
    return _decide(rules, _compiled(rules), frame)


def _decide(rules: Sequence[Rule], compiled: Sequence[_Compiled], frame: Frame) -> list[Decision]:
    decided: list[Decision] = []
    work = [frame]
    while work:
        part = work.pop()
        outcome = _run(compiled, part)
        if isinstance(outcome, list):
            work.extend(reversed(outcome))
        else:
            action, index = outcome
            decided.append(Decision(part, action, rules[index] if index is not None else None))
    return decided


def evaluate(rules: Sequence[Rule], frame: Frame) -> Action | None:
    """The action on ``frame``, whose every port must meet one fate (a single port always does)."""
    fates = {d.action for d in decide(rules, frame)}
    if len(fates) != 1:
        raise ValueError(f"the ports of {frame} meet different fates: use decide()")
    return fates.pop()


#: A rule ready to run: its action and, per match, its test, arguments, ``not`` and ``or``.
_Compiled = tuple[str, tuple[tuple[Callable[[tuple[Any, ...], Frame], Any], tuple[Any, ...], bool, bool], ...]]


def _compiled(rules: Sequence[Rule]) -> list[_Compiled]:
    return [(r.action, tuple((KEYWORDS[m.keyword].test, m.args, m.negate, m.either) for m in r.matches)) for r in rules]


def _run(rules: Sequence[_Compiled], frame: Frame) -> tuple[Action | None, int | None] | list[Frame]:
    """One pass of ZeroTier's engine: the action and the deciding rule's index, or the parts of a cut port range."""
    skip_drop = False
    for index, (action, matches) in enumerate(rules):
        holds = True
        for test, args, negate, either in matches:
            if not holds and not either:
                continue  # ZeroTier's circuit breaker: the AND is not even evaluated
            answer = test(args, frame)
            if answer is True or answer is False:
                value = answer is not negate
            elif isinstance(answer, Hard):
                value = answer is not Hard.NO
                skip_drop = skip_drop or answer is YES_SKIP_DROP
            else:
                return list(answer)  # the parts of a cut port range
            holds = (holds or value) if either else (holds and value)
        if not holds:
            continue
        if action == "drop" and skip_drop:
            skip_drop = False
            continue
        return (action if action != "break" else None), index  # type: ignore[return-value]
    return None, None


def exchange(sender: Member, receiver: Member, protocol: Protocol, port: int | PortRange = 0) -> list[Frame]:
    """Every frame of one exchange from ``sender`` to ``receiver``, on both sides, replies included.

    TCP: a session from the sender's ephemeral ports to ``port`` (a port or a
    range), every flag both ends send. UDP: a datagram and its answer. ICMP:
    echo request and reply. ARP: the broadcast request (checked on the
    sender before and after it knows the receiver, and on the receiver) and
    the unicast reply.
    """
    server = (port, port) if isinstance(port, int) else port

    def both(f: Frame) -> list[Frame]:
        return [f, replace(f, inbound=True)]

    if protocol == "arp":
        ask = Frame(sender, receiver, False, ethertype=ARP, destination="broadcast")
        return [replace(ask, receiver=None), *both(ask), *both(Frame(receiver, sender, False, ethertype=ARP))]
    if protocol == "icmp":
        there = Frame(sender, receiver, False, protocol=ICMP, icmp=(8, 0))
        back = Frame(receiver, sender, False, protocol=ICMP, icmp=(0, 0))
        return both(there) + both(back)
    number = TCP if protocol == "tcp" else UDP
    there = Frame(sender, receiver, False, protocol=number, sport=EPHEMERAL, dport=server)
    back = Frame(receiver, sender, False, protocol=number, sport=server, dport=EPHEMERAL)
    if number == UDP:
        return both(there) + both(back)
    frames = []
    for flags in CLIENT_FLAGS:
        frames += both(replace(there, tcp_flags=flags))
    for flags in SERVER_FLAGS:
        frames += both(replace(back, tcp_flags=flags))
    return frames


def first_dropped(rules: Sequence[Rule], frames: Iterable[Frame]) -> Decision | None:
    """The first frame (or part of one) that ``rules`` do not accept; None if they accept them all."""
    return _first_dropped(rules, _compiled(rules), frames)


def _first_dropped(rules: Sequence[Rule], compiled: Sequence[_Compiled], frames: Iterable[Frame]) -> Decision | None:
    """:func:`first_dropped`, deciding once for TCP flags no ``chr`` of the rules tells apart."""
    masks = sorted({m.args[0] & 0xFFF for r in rules for m in r.matches if m.keyword == "chr"} - {0})
    accepted: set[tuple[object, ...]] = set()
    for frame in frames:
        same = (replace(frame, tcp_flags=0), tuple(bool(frame.tcp_flags & mask) for mask in masks))
        if same in accepted:
            continue
        for decision in _decide(rules, compiled, frame):
            if decision.action != "accept":
                return decision
        accepted.add(same)
    return None


def reach(
    rules: Sequence[Rule], sender: Member, receiver: Member, protocol: Protocol, port: int | PortRange = 0
) -> Decision | None:
    """Whether ZeroTier lets ``sender`` reach ``receiver``: None, or the first frame of the exchange it drops.

    The :class:`Decision` names the frame (``str(decision.frame)`` is a
    sentence) and the rule that dropped it (None: no rule accepted it).
    """
    return first_dropped(rules, exchange(sender, receiver, protocol, port))


# --- the lock-out check ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    """A node the cluster needs: the member it is on the network, and the port its sshd listens on."""

    member: Member
    ssh_port: int


def needed_traffic(client: Node, server: Node) -> Iterator[tuple[str, list[Frame]]]:
    """What ``client`` needs to reach on ``server`` (named), as the frames of each exchange.

    ARP, ping, SSH (sshd's port), Slurm (slurmd to slurmctld on the head's
    6817, slurmctld and slurmd to slurmd on compute nodes' 6818) and MPI and
    srun (any unprivileged port, :data:`UNPRIVILEGED`).
    """
    a, b = client.member, server.member
    yield "ARP", exchange(a, b, "arp")
    yield "ping", exchange(a, b, "icmp")
    yield "SSH", exchange(a, b, "tcp", server.ssh_port)
    if b.role == "head":
        yield "Slurm (slurmd to slurmctld)", exchange(a, b, "tcp", SLURMCTLD_PORT)
    if b.role == "compute":
        yield "Slurm (to slurmd)", exchange(a, b, "tcp", SLURMD_PORT)
    yield "MPI and srun (TCP to any unprivileged port)", exchange(a, b, "tcp", UNPRIVILEGED)


#: The most work the check takes on (pairs of kinds of node times rule entries, a few seconds at most):
#: rules that tell so many nodes apart by address are refused rather than left unchecked.
MAX_WORK = 1_000_000


class _Kinds:
    """What the rules can tell apart about a node as a frame's sender, and as its receiver.

    A node's key is its role with the ``ipsrc`` (or ``ipdest``) networks that
    contain it and the ``ztsrc`` (``ztdest``) addresses it has; networks are
    looked up by prefix length, so a key costs one lookup per length in use.
    """

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.sources = self._by_length(rules, "ipsrc")
        self.destinations = self._by_length(rules, "ipdest")
        self.zt_sources = {m.args[0] for r in rules for m in r.matches if m.keyword == "ztsrc"}
        self.zt_destinations = {m.args[0] for r in rules for m in r.matches if m.keyword == "ztdest"}

    @staticmethod
    def _by_length(rules: Sequence[Rule], keyword: str) -> list[tuple[int, dict[int, str]]]:
        """Each prefix length in use: its mask, and the networks of that length by network address."""
        lengths: dict[int, dict[int, str]] = {}
        for text in {m.args[0] for r in rules for m in r.matches if m.keyword == keyword}:
            net = network(text)
            lengths.setdefault(int(net.netmask), {})[int(net.network_address)] = str(net)
        return sorted(lengths.items())

    @staticmethod
    def _key(m: Member, nets: list[tuple[int, dict[int, str]]], addresses: set[str]) -> tuple[object, ...]:
        ip = int(m.ip)
        inside = frozenset(found for mask, by_address in nets if (found := by_address.get(ip & mask)) is not None)
        return (m.role, inside, m.zt if m.zt in addresses else None)

    def sender(self, m: Member) -> tuple[object, ...]:
        return self._key(m, self.sources, self.zt_sources)

    def receiver(self, m: Member) -> tuple[object, ...]:
        return self._key(m, self.destinations, self.zt_destinations)


def _groups(nodes: Sequence[Node], key: Callable[[Node], tuple[object, ...]]) -> list[list[Node]]:
    """The nodes by ``key``: the first two of each group (two, so a pair of distinct nodes can be found)."""
    groups: dict[tuple[object, ...], list[Node]] = {}
    for node in nodes:
        group = groups.setdefault(key(node), [])
        if len(group) < 2:
            group.append(node)
    return list(groups.values())


def _pairs(first: list[list[Node]], second: list[list[Node]]) -> Iterator[tuple[Node, Node]]:
    """One pair of distinct nodes for each pair of groups that has one."""
    for one in first:
        for other in second:
            pair = next(((a, b) for a in one for b in other if a is not b), None)
            if pair is not None:
                yield pair


def cluster_problems(rules: Sequence[Rule], key: str, nodes: Sequence[Node]) -> list[Problem]:
    """Refuses rules that cut the nodes off from each other: the first frame they drop, named.

    Every frame of what a client needs from a server goes either from the
    client to the server or back, and its fate depends only on what the rules
    can tell about its sender and receiver (:class:`_Kinds`) and on the
    server's role and where its sshd port lies among the rules' port bounds.
    So each direction is evaluated once per pair of kinds of node, not per
    pair of nodes.
    """
    kinds = _Kinds(rules)
    sends = {id(n): kinds.sender(n.member) for n in nodes}
    receives = {id(n): kinds.receiver(n.member) for n in nodes}
    # sshd ports between the same two bounds of the rules' port ranges meet the same fate
    bounds = sorted(
        {b for r in rules for m in r.matches if m.keyword in ("sport", "dport") for b in (m.args[0], m.args[1] + 1)}
    )
    ports = {id(n): bisect.bisect_right(bounds, n.ssh_port) for n in nodes}
    clients = _groups(nodes, lambda n: sends[id(n)])
    servers = _groups(nodes, lambda n: (receives[id(n)], ports[id(n)]))
    repliers = _groups(nodes, lambda n: (sends[id(n)], ports[id(n)]))
    askers = _groups(nodes, lambda n: receives[id(n)])
    pairs = len(clients) * len(servers) + len(repliers) * len(askers)
    entries = sum(r.entries for r in rules)
    if pairs * entries > MAX_WORK:
        return [
            Problem(
                key,
                f"these rules tell the nodes apart by address (ipsrc, ipdest, ztsrc, ztdest) into {pairs} pairs "
                f"of kinds, too many to prove with {entries} entries that none is cut off",
                "match roles (tseq/treq) or whole networks rather than single nodes' addresses",
            )
        ]
    compiled = _compiled(rules)
    forward = ((client, server, client) for client, server in _pairs(clients, servers))
    back = ((client, server, server) for server, client in _pairs(repliers, askers))
    for client, server, sender in itertools.chain(forward, back):
        for what, frames in needed_traffic(client, server):
            dropped = _first_dropped(rules, compiled, (f for f in frames if f.sender is sender.member))
            if dropped is not None:
                return [
                    Problem(
                        key,
                        f"these rules drop {dropped.frame}: {what} between the nodes would be cut off",
                        "let ARP, ping, SSH, Slurm and MPI through between the nodes (docs/firewall.md, "
                        "'ZeroTier rules'): narrow the rule, e.g. with tseq/treq role, ipprotocol and a port "
                        "no node needs",
                    )
                ]
    return []


def rules_problems(result: NetworkRules, rules: RulesSpec, nodes: Sequence[Node]) -> list[Problem]:
    """What makes ``result`` unusable: too many entries, or the nodes cut off from each other."""
    if result.entries > MAX_RULE_ENTRIES:
        return [
            Problem(
                rules.origin,
                f"the network's rules have {result.entries} entries; ZeroTier takes at most {MAX_RULE_ENTRIES}",
                "use fewer or shorter rules (every match and every action is an entry)",
            )
        ]
    return cluster_problems(result.rules, rules.origin, nodes)
