"""The generated policy: anti-spoofing, ARP, and who may reach whom by role (docs/firewall.md)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Literal

from cluster.rules.keywords import CHARACTERISTICS
from cluster.rules.model import NetworkRules, Rule, RulesSpec, match, role_match

#: ``firewall.devices``: what operator devices may reach on the overlay.
DevicesAccess = Literal["ssh", "all"]

ANTI_SPOOF = Rule(
    "drop",
    (
        match("ethertype", 0x0800, negate=True),
        match("ethertype", 0x0806, negate=True),
        match("chr", 1 << CHARACTERISTICS["ipauth"], negate=True, either=True),
    ),
    "Only IPv4 and ARP, and only from an address the controller assigned to the sender (chr ipauth).",
)
ARP = Rule("accept", (match("ethertype", 0x0806),), "Address resolution between all members.")


def _merged_ports(ports: Iterable[int]) -> list[tuple[int, int]]:
    ranges: list[list[int]] = []
    for port in sorted(set(ports)):
        if ranges and port == ranges[-1][1] + 1:
            ranges[-1][1] = port
        else:
            ranges.append([port, port])
    return [(a, b) for a, b in ranges]


def _between(senders: Sequence[str], receivers: Sequence[str], comment: str) -> list[Rule]:
    rules = [
        Rule("accept", (role_match("tseq", s), role_match("treq", r))) for s, r in itertools.product(senders, receivers)
    ]
    return [Rule(rules[0].action, rules[0].matches, comment), *rules[1:]] if rules else []


def _device_rules(ssh_ports: Iterable[int]) -> list[Rule]:
    rules: list[Rule] = []
    comment = "Devices (firewall.devices: ssh): TCP to the nodes' SSH ports and its replies, ICMP; nothing else."
    for node in ("head", "compute"):
        for first, last in _merged_ports(ssh_ports):
            to = (
                role_match("tseq", "device"),
                role_match("treq", node),
                match("ipprotocol", 6),
                match("dport", first, last),
            )
            back = (
                role_match("tseq", node),
                role_match("treq", "device"),
                match("ipprotocol", 6),
                match("sport", first, last),
            )
            rules += [Rule("accept", to, "" if rules else comment), Rule("accept", back)]
        rules.append(Rule("accept", (role_match("tseq", "device"), role_match("treq", node), match("ipprotocol", 1))))
        rules.append(Rule("accept", (role_match("tseq", node), role_match("treq", "device"), match("ipprotocol", 1))))
    return rules


def generated_rules(devices: DevicesAccess, extra: Sequence[Rule], ssh_ports: Iterable[int]) -> tuple[Rule, ...]:
    """The default policy (the package docstring), with ``extra`` after anti-spoofing and ARP."""
    members = ["head", "compute", "other"] + (["device"] if devices == "all" else [])
    rules = [ANTI_SPOOF, ARP]
    if extra:
        rules += [Rule(extra[0].action, extra[0].matches, "The operator's rules.extra."), *extra[1:]]
    rules += _between(members, members, "Members (head, compute, unmanaged members) reach each other.")
    if devices == "ssh":
        rules += _device_rules(ssh_ports)
    rules.append(Rule("drop", (), "Everything else."))
    return tuple(rules)


def network_rules(
    network_name: str, devices: DevicesAccess, rules: RulesSpec, ssh_ports: Iterable[int]
) -> NetworkRules:
    """The network's rules: generated (with ``rules.extra``), or ``rules.replace``.

    ``ssh_ports`` are the ports devices may reach on nodes. Raises nothing:
    :func:`rules_problems` says what is wrong with the result.
    """
    chosen = rules.replace if rules.replace is not None else generated_rules(devices, rules.extra, ssh_ports)
    return NetworkRules(chosen, network_name)
