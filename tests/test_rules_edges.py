"""Edges of the rules package that mutation testing (docs/testing.md) showed no other test pinned down.

Each test is named after the behaviour a surviving mutant changed; the
expected values are literal.
"""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest

from cluster.rules.evaluator import evaluate, reach
from cluster.rules.frame import EPHEMERAL, TCP, Frame, Member
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
