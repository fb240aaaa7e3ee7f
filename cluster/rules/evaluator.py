"""Evaluation: the action ZeroTier takes on a frame, and the check that the cluster is never cut off."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cluster.conventions import MAX_RULE_ENTRIES
from cluster.errors import Problem
from cluster.rules.model import ROLE_VALUES, Action, Match, NetworkRules, Rule, RulesSpec, port_range


def rules_problems(result: NetworkRules, rules: RulesSpec, ssh_ports: Iterable[int]) -> list[Problem]:
    """What makes ``result`` unusable: too many entries, or the cluster cut off from itself."""
    problems = []
    if result.entries > MAX_RULE_ENTRIES:
        problems.append(
            Problem(
                rules.origin,
                f"the network's rules have {result.entries} entries; ZeroTier takes at most {MAX_RULE_ENTRIES}",
                "use fewer or shorter rules (every match and every action is an entry)",
            )
        )
    problems += cluster_problems(result.rules, rules.origin, ssh_ports)
    return problems


@dataclass(frozen=True)
class Frame:
    """A frame as the filter sees it, on one side: the sender (outbound) or the receiver (inbound)."""

    sender: str
    receiver: str
    inbound: bool
    ethertype: int = 0x0800
    protocol: int = 0
    sport: int = 0
    dport: int = 0
    icmp_type: int = -1
    #: The sender's IP is one the controller assigned to it.
    ipauth: bool = True
    tcp_flags: int = 0

    def __str__(self) -> str:
        what = {0x0806: "ARP"}.get(self.ethertype) or {1: "ICMP", 6: "TCP", 17: "UDP"}.get(self.protocol, "IPv4")
        port = f" {self.sport}->{self.dport}" if self.protocol in (6, 17) else ""
        return f"{what}{port} {self.sender}->{self.receiver} ({'receiver' if self.inbound else 'sender'})"


def _matches(m: Match, f: Frame) -> bool | None:
    """Whether ``m`` holds for ``f``; None where ZeroTier says "no" even under ``not`` (no IP header)."""
    kw, a = m.keyword, m.args
    ip = f.ethertype == 0x0800
    if kw == "ethertype":
        return f.ethertype == a[0]
    if kw == "ipprotocol":
        return f.protocol == a[0] if ip else None
    if kw in ("sport", "dport"):
        first, last = port_range(str(a[0]))
        port = f.sport if kw == "sport" else f.dport
        return (f.protocol in (6, 17) and first <= port <= last) if ip else None
    if kw == "icmp":
        return (f.protocol == 1 and f.icmp_type == a[0]) if ip else None
    if kw == "chr":
        bits = (1 << 63 if f.inbound else 0) | (1 << 60 if f.ipauth else 0) | f.tcp_flags
        return bool(bits & int(str(a[0]), 16))
    if kw in ("tseq", "treq"):
        role = f.sender if kw == "tseq" else f.receiver
        return ROLE_VALUES[role] == a[1]
    # ztsrc, ztdest, ipsrc, ipdest: the frames checked carry no particular address.
    return False


def evaluate(rules: Sequence[Rule], frame: Frame) -> Action | None:
    """The action ZeroTier takes on ``frame`` (None: no rule matched, the frame is dropped).

    Matches read left to right: each ANDs into the result, or ORs with ``or``;
    ``not`` inverts one match. Tags are taken as known on both sides.
    """
    for rule in rules:
        result = True
        for m in rule.matches:
            held = _matches(m, frame)
            value = False if held is None else held != m.negate
            result = (result or value) if m.either else (result and value)
        if result:
            return rule.action if rule.action != "break" else None
    return None


def needed_frames(ssh_ports: Iterable[int]) -> list[Frame]:
    """ARP, ICMP echo and SSH (and its replies) between the head and compute nodes, both sides."""
    frames = []
    for a, b in (("head", "compute"), ("compute", "head"), ("compute", "compute")):
        for inbound in (False, True):
            frames.append(Frame(a, b, inbound, ethertype=0x0806))
            frames += [Frame(a, b, inbound, protocol=1, icmp_type=t) for t in (8, 0)]
            for port in sorted(set(ssh_ports)):
                frames.append(Frame(a, b, inbound, protocol=6, sport=40000, dport=port, tcp_flags=1 << 1))
                frames.append(Frame(b, a, inbound, protocol=6, sport=port, dport=40000, tcp_flags=1 << 4))
    return frames


def cluster_problems(rules: Sequence[Rule], key: str, ssh_ports: Iterable[int]) -> list[Problem]:
    """Refuses rules that cut the cluster off from itself: the first frame they drop, named."""
    for frame in needed_frames(ssh_ports):
        if evaluate(rules, frame) != "accept":
            return [
                Problem(
                    key,
                    f"these rules drop {frame}: the cluster would be cut off from itself",
                    "let ARP, ICMP and SSH through between head and compute (put narrower drops, "
                    "e.g. with tseq/treq role and a port, before broad ones)",
                )
            ]
    return []
