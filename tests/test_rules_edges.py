"""Edges of the rules package that mutation testing (docs/testing.md) showed no other test pinned down.

Each test is named after the behaviour a surviving mutant changed; the
expected values are literal.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address

import pytest

from cluster.rules.evaluator import decide, evaluate, reach
from cluster.rules.frame import EPHEMERAL, TCP, Frame, Member
from cluster.rules.model import Match, match
from cluster.rules.parser import parse_source

HEAD = Member("head", IPv4Address("10.147.17.1"), "aaaaaaaaaa", "head")
C1 = Member("compute", IPv4Address("10.147.17.11"), "bbbbbbbbbb", "c1")


def rules(text: str) -> tuple[object, ...]:
    parsed, found = parse_source(text, "k", final=True)
    assert found == []
    return parsed


def test_evaluate_refuses_a_frame_whose_ports_meet_different_fates_and_says_to_use_decide() -> None:
    frame = Frame(HEAD, C1, False, protocol=TCP, sport=EPHEMERAL, dport=(22, 22), tcp_flags=0x02)
    with pytest.raises(
        ValueError, match=r"^the ports of TCP 32768-60999->22 SYN .* meet different fates: use decide\(\)$"
    ):
        evaluate(rules("drop sport 40000-40100;\naccept;"), frame)  # type: ignore[arg-type]


def test_reach_without_a_port_means_port_0() -> None:
    assert reach(rules("drop ipprotocol udp and dport 0;\naccept;"), HEAD, C1, "udp") is not None  # type: ignore[arg-type]
    assert reach(rules("drop ipprotocol udp and dport 1;\naccept;"), HEAD, C1, "udp") is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("frame", "shown"),
    [
        (
            Frame(HEAD, C1, False, ethertype=0x0806),
            "ARP reply from head (head, 10.147.17.1) to c1 (compute, 10.147.17.11), on the sender",
        ),
        (
            Frame(HEAD, C1, True, ethertype=0x0806, destination="broadcast"),
            "ARP request from head (head, 10.147.17.1) to c1 (compute, 10.147.17.11) (broadcast), on the receiver",
        ),
        (
            Frame(HEAD, None, False, ethertype=0x0806, destination="multicast"),
            "ARP request from head (head, 10.147.17.1) to every member (multicast, before the receivers are known), "
            "on the sender",
        ),
        (
            Frame(HEAD, C1, False, ethertype=0x88CC),
            "ethertype 0x88cc from head (head, 10.147.17.1) to c1 (compute, 10.147.17.11), on the sender",
        ),
        (
            Frame(C1, HEAD, False, protocol=1, icmp=(8, 0)),
            "ICMP echo request from c1 (compute, 10.147.17.11) to head (head, 10.147.17.1), on the sender",
        ),
        (
            Frame(C1, HEAD, False, protocol=1, icmp=(0, 0)),
            "ICMP echo reply from c1 (compute, 10.147.17.11) to head (head, 10.147.17.1), on the sender",
        ),
        (
            Frame(C1, HEAD, False, protocol=1, icmp=(3, 4)),
            "ICMP type 3 from c1 (compute, 10.147.17.11) to head (head, 10.147.17.1), on the sender",
        ),
        (
            Frame(HEAD, C1, False, protocol=TCP, sport=(40000, 40000), dport=(22, 22), tcp_flags=0x12),
            "TCP 40000->22 SYN+ACK from head (head, 10.147.17.1) to c1 (compute, 10.147.17.11), on the sender",
        ),
        (
            Frame(HEAD, C1, False, protocol=17, sport=(6817, 6818), dport=(7, 7)),
            "UDP 6817-6818->7 from head (head, 10.147.17.1) to c1 (compute, 10.147.17.11), on the sender",
        ),
        (
            Frame(HEAD, C1, False, protocol=132, sport=(1, 1), dport=(2, 3)),
            "IP protocol 132 1->2-3 from head (head, 10.147.17.1) to c1 (compute, 10.147.17.11), on the sender",
        ),
        (
            Frame(HEAD, C1, False, protocol=47),
            "IP protocol 47 from head (head, 10.147.17.1) to c1 (compute, 10.147.17.11), on the sender",
        ),
        (
            Frame(Member("device", IPv4Address("10.147.17.50")), C1, False, protocol=47),
            "IP protocol 47 from device 10.147.17.50 to c1 (compute, 10.147.17.11), on the sender",
        ),
    ],
)
def test_a_frame_is_shown_as_an_operator_reads_it(frame: Frame, shown: str) -> None:
    assert str(frame) == shown


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"receiver": C1, "ethertype": 0x86DD}, "IPv6 frames are not modelled: the overlay is IPv4 only"),
        (
            {"receiver": None, "inbound": True, "destination": "broadcast"},
            "only a broadcast or multicast on the sender has no receiver yet",
        ),
        ({"receiver": None, "inbound": False}, "only a broadcast or multicast on the sender has no receiver yet"),
        ({"receiver": C1, "protocol": TCP, "dport": (1, 65536)}, "bad port range 1-65536"),
        ({"receiver": C1, "protocol": TCP, "sport": (-1, 5)}, "bad port range -1-5"),
        ({"receiver": C1, "protocol": TCP, "sport": (6, 5)}, "bad port range 6-5"),
    ],
)
def test_a_frame_that_cannot_exist_is_refused_saying_why(fields: dict[str, object], message: str) -> None:
    base: dict[str, object] = {"inbound": False}
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        Frame(HEAD, **{**base, **fields})  # type: ignore[arg-type]


def test_the_widest_frames_that_can_exist_are_accepted() -> None:
    assert Frame(HEAD, C1, False, protocol=TCP, sport=(0, 65535), dport=(65535, 65535)).dport == (65535, 65535)
    assert Frame(HEAD, None, False, ethertype=0x0806, destination="multicast").receiver is None


def test_a_destination_port_range_is_cut_too() -> None:
    frame = Frame(HEAD, C1, False, protocol=TCP, sport=(40000, 40000), dport=(1, 1023), tcp_flags=0x02)
    parts = [(d.frame.sport, d.frame.dport, d.action) for d in decide(rules("drop dport 22;\naccept;"), frame)]  # type: ignore[arg-type]
    assert parts == [
        ((40000, 40000), (1, 21), "accept"),
        ((40000, 40000), (22, 22), "drop"),
        ((40000, 40000), (23, 1023), "accept"),
    ]


def test_match_keeps_not_and_or_apart() -> None:
    assert match("ethertype", 0x0800, negate=True) == Match("ethertype", (0x0800,), negate=True, either=False)
    assert match("ethertype", 0x0806, either=True) == Match("ethertype", (0x0806,), negate=False, either=True)
    assert match("chr", 1 << 60, negate=True, either=True).source() == "or not chr ipauth"
