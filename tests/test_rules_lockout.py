"""The lock-out check sees everything the parser accepts: rules that cut the nodes off are refused.

Each case is a config (three nodes at pinned overlay addresses) with
``rules.extra`` or ``rules.replace``, run through the whole config reading,
and the exact message it gives: the first frame the rules drop (protocol,
ports, TCP flags, the two nodes with their real addresses, the side that
checks it) and what would be cut off. The evaluator is ZeroTier's own
semantics (``node/Network.cpp``); the traffic is what the nodes need from
each other: ARP (a broadcast), ping, SSH over the whole ephemeral port range
with every flag of a session, Slurm and MPI (docs/firewall.md). Valid rules
that keep the nodes whole pass, among them ones the old check refused.
"""

from __future__ import annotations

import copy
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest

from cluster.config.parse import parse_cluster
from cluster.errors import ConfigError
from cluster.rules.evaluator import Node, cluster_problems, decide, reach
from cluster.rules.frame import EPHEMERAL, TCP, Frame, Member
from cluster.rules.parser import parse_source

ROOT = Path(__file__).resolve().parent.parent
BASE: dict[str, Any] = {
    "network": {"name": "lab", "cidr": "10.147.17.0/24"},
    "ssh": {"user": "ops"},
    "nodes": [
        {"name": "head", "role": "head", "host": "192.0.2.1", "ip": "10.147.17.1"},
        {"name": "c1", "role": "compute", "host": "192.0.2.11", "ip": "10.147.17.11"},
        {"name": "c2", "role": "compute", "host": "192.0.2.12", "ip": "10.147.17.12"},
    ],
    "devices": [{"name": "alice", "address": "0123456789", "ip": "10.147.17.100"}],
}
FIX = (
    "    fix: let ARP, ping, SSH, Slurm and MPI through between the nodes (docs/firewall.md, 'ZeroTier rules'): "
    "narrow the rule, e.g. with tseq/treq role, ipprotocol and a port no node needs"
)
ANTI_SPOOF = "drop not ethertype ipv4 and not ethertype arp or not chr ipauth;\n"


def problems(rules: dict[str, str], **nodes: Any) -> list[str]:
    config = copy.deepcopy(BASE)
    config["rules"] = rules
    try:
        parse_cluster(config, base_dir=ROOT)
    except ConfigError as err:
        return [str(p) for p in err.problems]
    return []


def cut_off(key: str, frame: str, what: str) -> list[str]:
    return [f"zerotier-cluster:rules.{key}: these rules drop {frame}: {what} between the nodes would be cut off\n{FIX}"]


HEAD_C1 = "from head (head, 10.147.17.1) to c1 (compute, 10.147.17.11), on the sender"


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        # The cluster's own cidr as a source: every member cut off from every other.
        ({"extra": "drop ipsrc 10.147.17.0/24;"}, cut_off("extra", f"ICMP echo request {HEAD_C1}", "ping")),
        # A port range around a client port: every ephemeral port is a client port.
        (
            {"extra": "drop ipprotocol tcp and sport 40000-40100;"},
            cut_off("extra", f"TCP 40000-40100->22 SYN {HEAD_C1}", "SSH"),
        ),
        (
            {"extra": "drop ipprotocol tcp and sport 22 and dport 60990-61010;"},
            cut_off(
                "extra",
                "TCP 22->60990-60999 SYN+ACK from head (head, 10.147.17.1) to c1 (compute, 10.147.17.11), "
                "on the sender",
                "SSH",
            ),
        ),
        # Every flag of a session, not only SYN and ACK.
        ({"extra": "drop chr tcp_psh;"}, cut_off("extra", f"TCP 32768-60999->22 PSH+ACK {HEAD_C1}", "SSH")),
        (
            {"extra": "drop chr tcp_rst and ipprotocol tcp;"},
            cut_off("extra", f"TCP 32768-60999->22 RST {HEAD_C1}", "SSH"),
        ),
        # ARP requests are broadcast.
        (
            {"replace": "drop chr broadcast;\naccept;"},
            cut_off(
                "replace",
                "ARP request from head (head, 10.147.17.1) to every member (broadcast, before the receivers are "
                "known), on the sender",
                "ARP",
            ),
        ),
        (
            {"extra": "drop tseq role compute and treq role compute"},
            cut_off(
                "extra",
                "ICMP echo request from c1 (compute, 10.147.17.11) to c2 (compute, 10.147.17.12), on the sender",
                "ping",
            ),
        ),
        # One node's address.
        (
            {"extra": "drop ipdest 10.147.17.12/32;"},
            cut_off(
                "extra",
                "ICMP echo request from head (head, 10.147.17.1) to c2 (compute, 10.147.17.12), on the sender",
                "ping",
            ),
        ),
        # Slurm and MPI.
        (
            {"extra": "drop tseq role head and treq role compute and ipprotocol tcp and dport 6818;"},
            cut_off("extra", f"TCP 32768-60999->6818 SYN {HEAD_C1}", "Slurm (to slurmd)"),
        ),
        (
            {"extra": "drop chr tcp_syn and not chr tcp_ack and dport 10000-65535;"},
            cut_off(
                "extra", f"TCP 32768-60999->10000-65535 SYN {HEAD_C1}", "MPI and srun (TCP to any unprivileged port)"
            ),
        ),
        # The sender of an ARP request checks it before it knows any receiver (treq lets it pass: the receiver
        # decides), then once per receiver, whose tag it knows.
        (
            {"replace": "accept treq role compute;\ndrop;"},
            cut_off(
                "replace",
                "ARP request from c1 (compute, 10.147.17.11) to head (head, 10.147.17.1) (broadcast), on the sender",
                "ARP",
            ),
        ),
        # No member's MAC is ever certified by the controller (it certifies assigned IPs only): see docs/firewall.md.
        ({"extra": "drop not chr macauth;"}, cut_off("extra", f"ICMP echo request {HEAD_C1}", "ping")),
    ],
)
def test_rules_that_cut_the_nodes_off_are_refused(rules: dict[str, str], expected: list[str]) -> None:
    assert problems(rules) == expected


def test_source_and_compiled_never_disagree_an_empty_chr_is_refused_at_parse() -> None:
    assert problems({"extra": "drop chr , and tseq role device;"}) == [
        "zerotier-cluster:rules.extra (line 1): chr: ',' names no characteristic, so it never matches\n"
        "    fix: see docs/firewall.md, 'ZeroTier rules', for what is accepted"
    ]


@pytest.mark.parametrize(
    "rules",
    [
        {"extra": "drop chr multicast;"},  # after ARP is accepted: no other multicast is needed
        {"extra": "drop ipprotocol udp;"},
        {"extra": "drop tseq role compute and treq role compute and ipprotocol tcp and dport 23;"},
        {"extra": "drop ipsrc 10.147.17.0/24 and tseq role device;"},
        {
            "replace": ANTI_SPOOF
            + "accept ethertype arp;\naccept ipsrc 10.147.17.0/24 and ipdest 10.147.17.0/24;\ndrop;"
        },
        {
            "replace": ANTI_SPOOF
            + "accept ethertype arp;\naccept ipsrc 10.147.17.0/25 and ipdest 10.147.17.0/25;\ndrop;"
        },
        {"replace": "drop not icmp 8 -1 and ipprotocol icmp4 and not icmp 0 -1;\naccept;"},
        {"replace": "accept;"},
    ],
    ids=repr,
)
def test_rules_that_keep_the_nodes_whole_pass(rules: dict[str, str]) -> None:
    assert problems(rules) == []


# --- ZeroTier's semantics, one at a time (node/Network.cpp, _doZtFilter) ---------------------------

HEAD = Member("head", IPv4Address("10.147.17.1"), name="head")
C1 = Member("compute", IPv4Address("10.147.17.11"), name="c1")
ALICE = Member("device", IPv4Address("10.147.17.100"), "0123456789", "alice")


def rules(text: str) -> Any:
    parsed, found = parse_source(text, "k", final=True)
    assert found == []
    return parsed


def fates(rules: Any, frame: Frame) -> list[tuple[Frame, str | None]]:
    return [(d.frame, d.action) for d in decide(rules, frame)]


def test_a_port_range_is_cut_where_a_rule_starts_or_ends_and_every_part_decided() -> None:
    frame = Frame(HEAD, C1, False, protocol=TCP, sport=EPHEMERAL, dport=(22, 22), tcp_flags=0x02)
    parts = fates(rules("drop sport 40000-40100;\naccept;"), frame)
    assert sorted((f.sport, a) for f, a in parts) == [
        ((32768, 39999), "accept"),
        ((40000, 40100), "drop"),
        ((40101, 60999), "accept"),
    ]


def test_not_does_not_invert_zerotiers_hard_answers() -> None:
    ping = Frame(HEAD, C1, False, protocol=1, icmp=(8, 0))
    arp = Frame(HEAD, C1, False, ethertype=0x0806)
    # icmp with a matching type and no code is "yes" even under not; a port match on ARP is "no" even under not.
    assert fates(rules("drop not icmp 8 -1;\naccept;"), ping) == [(ping, "drop")]
    assert fates(rules("drop not dport 22;\naccept;"), arp) == [(arp, "accept")]
    # An IPv4 frame without ports is a plain "no": not makes it "yes".
    assert fates(rules("drop not dport 22;\naccept;"), ping) == [(ping, "drop")]


def test_a_treq_the_sender_cannot_know_yet_skips_the_next_drop() -> None:
    ask = Frame(HEAD, None, False, ethertype=0x0806, destination="broadcast")
    assert fates(rules("drop treq role device;\naccept;"), ask) == [(ask, "accept")]
    assert fates(rules("accept treq role device and ipprotocol tcp;\ndrop ethertype arp;\naccept;"), ask) == [
        (ask, "accept")
    ]
    assert fates(rules("drop ethertype arp;\naccept;"), ask) == [(ask, "drop")]
    # ZeroTier does not even evaluate an AND once the rule cannot hold: that treq skips nothing.
    assert fates(rules("drop ethertype ipv4 and treq role device;\ndrop ethertype arp;\naccept;"), ask) == [
        (ask, "drop")
    ]


def test_reach_answers_for_a_whole_exchange() -> None:
    text = "accept tseq role device and treq role head and ipprotocol tcp and dport 22;\ndrop ipprotocol tcp;\naccept;"
    assert reach(rules(text), ALICE, HEAD, "tcp", 22) is not None  # the reply from port 22 is dropped
    text = "accept ipprotocol tcp and dport 22 or sport 22;\ndrop ipprotocol tcp;\naccept;"
    assert reach(rules(text), ALICE, HEAD, "tcp", 22) is None
    dropped = reach(rules(text), ALICE, HEAD, "tcp", 443)
    assert dropped is not None
    assert dropped.action == "drop"
    assert dropped.rule is not None and dropped.rule.source() == "drop ipprotocol tcp;"
    assert str(dropped.frame) == (
        "TCP 32768-60999->443 SYN from alice (device, 10.147.17.100) to head (head, 10.147.17.1), on the sender"
    )
    assert reach(rules("drop ztsrc 0123456789;\naccept;"), ALICE, HEAD, "icmp") is not None
    assert reach(rules("drop ztsrc 0123456789;\naccept;"), HEAD, C1, "icmp") is None


def many_nodes(count: int) -> list[Node]:
    return [
        Node(Member("head" if i == 0 else "compute", IPv4Address(0x0A930000 + i + 1), name=f"n{i:04d}"), 22)
        for i in range(count)
    ]


def test_one_node_of_a_thousand_singled_out_by_address_is_found() -> None:
    """Nodes are checked by kind, not by pair: a /32 makes its node a kind of its own, and it is found."""
    found = cluster_problems(rules("drop ipdest 10.147.2.245/32 and ipprotocol tcp;\naccept;"), "k", many_nodes(1000))
    assert [p.message for p in found] == [
        "these rules drop TCP 32768-60999->22 SYN from n0000 (head, 10.147.0.1) to n0756 (compute, 10.147.2.245), "
        "on the sender: SSH between the nodes would be cut off"
    ]


def test_rules_that_tell_too_many_nodes_apart_are_refused_not_left_unchecked() -> None:
    singled = "\n".join(
        f"drop ipsrc 10.147.{(i + 1) // 256}.{(i + 1) % 256}/32 and ipprotocol udp;" for i in range(300)
    )
    found = cluster_problems(rules(singled + "\naccept;"), "k", many_nodes(2000))
    assert [str(p) for p in found] == [
        "k: these rules tell the nodes apart by address (ipsrc, ipdest, ztsrc, ztdest) into 1204 pairs of kinds, "
        "too many to prove with 901 entries that none is cut off\n"
        "    fix: match roles (tseq/treq) or whole networks rather than single nodes' addresses"
    ]


def test_nodes_each_with_its_own_sshd_port_are_one_kind_unless_a_rule_tells_their_ports_apart() -> None:
    nodes = [Node(n.member, 100 + i) for i, n in enumerate(many_nodes(900))]  # sshd on 100-999
    assert cluster_problems(rules("drop ipprotocol tcp and dport 1-99;\naccept;"), "k", nodes) == []
    found = cluster_problems(rules("drop ipprotocol tcp and dport 345;\naccept;"), "k", nodes)
    assert [p.message for p in found] == [
        "these rules drop TCP 32768-60999->345 SYN from n0000 (head, 10.147.0.1) to n0245 (compute, 10.147.0.246), "
        "on the sender: SSH between the nodes would be cut off"
    ]


@pytest.mark.parametrize(
    ("ssh", "port", "service"),
    [
        ({"user": "ops"}, 6817, "Slurm (slurmd to slurmctld)"),
        # The other stack's head is reached on 22 (remoteHead has no port), whatever port this stack's nodes use.
        ({"user": "ops", "port": 2222}, 22, "SSH"),
    ],
    ids=["slurmctld", "ssh-on-22"],
)
def test_a_remote_heads_stack_checks_its_nodes_against_the_head_at_its_address(
    ssh: dict[str, Any], port: int, service: str
) -> None:
    """A stack on another stack's network: its nodes must keep reaching that stack's head (remoteHead.ip)."""
    config = {
        "network": {"name": "lab", "cidr": "10.147.17.0/24", "fromStack": "acme/zc/onprem", "slice": "10.147.17.64/26"},
        "ssh": ssh,
        "remoteHead": {"name": "head", "ip": "10.147.17.1"},
        "nodes": [{"name": "burst-01", "host": "198.51.100.20", "ip": "10.147.17.70"}],
        "rules": {"extra": f"drop ipdest 10.147.17.1/32 and ipprotocol tcp and dport {port};"},
    }
    with pytest.raises(ConfigError) as raised:
        parse_cluster(config, base_dir=ROOT)
    assert [str(p) for p in raised.value.problems] == cut_off(
        "extra",
        f"TCP 32768-60999->{port} SYN from burst-01 (compute, 10.147.17.70) to head (head, 10.147.17.1), on the sender",
        service,
    )
