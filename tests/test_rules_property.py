"""Rule source and compiled form always agree: generated rules, written and read back, and held to ZeroTier.

* Any rule list the model can hold, written as source and parsed again, is the
  same model (so the same compiled form): the source the program gives Central
  and the JSON it gives a self-hosted controller never disagree.
* ``generated.json`` (``tests/rules_golden/record.py``): rule lists drawn by the
  same strategy, their source compiled by ZeroTier's own rule compiler; the
  program's compiled form of each must equal it.
* Arbitrary text as ``rules.extra`` or ``rules.replace`` yields rules or
  problems, and through the whole config a spec or a ``ConfigError``: never
  another exception.
"""

from __future__ import annotations

import copy
import json
import os
from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cluster.config.parse import parse_cluster
from cluster.errors import ConfigError
from cluster.rules.evaluator import Node, cluster_problems, decide, needed_traffic
from cluster.rules.frame import Member
from cluster.rules.keywords import CHARACTERISTICS, ETHERTYPES, KEYWORDS, ROLE_TAG_ID
from cluster.rules.model import Match, NetworkRules, Rule
from cluster.rules.parser import parse_rules, parse_source

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "rules_golden" / "generated.json"
EXAMPLES = int(os.environ.get("ZTC_HYPOTHESIS_EXAMPLES", "200"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_ports = st.tuples(st.integers(0, 65535), st.integers(0, 65535)).map(lambda p: (min(p), max(p)))


def _chr_mask(bits: set[int]) -> int:
    mask = sum(1 << b for b in bits)
    # What ZeroTier's compiler cannot write in one chr (see keywords._chr_parse): keep the top bit alone.
    if mask >> 63 & 1 and mask & (0x7FFFFFFF << 32):
        mask &= ~(1 << 63)
    if mask >> 31 & 1 and mask & 0x7FFFFFFF:
        mask &= ~(1 << 31)
    return mask


ARGUMENTS: dict[str, st.SearchStrategy[tuple[Any, ...]]] = {
    "ztsrc": st.text("0123456789abcdef", min_size=10, max_size=10).map(lambda a: (a,)),
    "ztdest": st.text("0123456789abcdef", min_size=10, max_size=10).map(lambda a: (a,)),
    "ethertype": st.one_of(st.sampled_from(sorted(ETHERTYPES.values())), st.integers(0, 0xFFFF)).map(lambda a: (a,)),
    "ipprotocol": st.integers(0, 255).map(lambda a: (a,)),
    "ipsrc": st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 32)).map(lambda a: (str(IPv4Interface(a)),)),
    "ipdest": st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 32)).map(lambda a: (str(IPv4Interface(a)),)),
    "icmp": st.tuples(st.integers(0, 255), st.integers(-1, 255)),
    "sport": _ports,
    "dport": _ports,
    "chr": st.sets(st.sampled_from(sorted({*CHARACTERISTICS.values(), 12, 31, 32, 40, 58})), min_size=1).map(
        lambda bits: (_chr_mask(bits),)
    ),
    "tseq": st.integers(0, 3).map(lambda v: (ROLE_TAG_ID, v)),
    "treq": st.integers(0, 3).map(lambda v: (ROLE_TAG_ID, v)),
}
assert set(ARGUMENTS) == set(KEYWORDS), "every keyword is generated"


@st.composite
def matches(draw: st.DrawFn) -> Match:
    keyword = draw(st.sampled_from(sorted(KEYWORDS)))
    return Match(keyword, draw(ARGUMENTS[keyword]), draw(st.booleans()), draw(st.booleans()))


def rule_lists() -> st.SearchStrategy[tuple[Rule, ...]]:
    """Rule lists the model can hold: every keyword, ``not`` and ``or`` anywhere, each rule with matches."""
    rule = st.builds(
        Rule, st.sampled_from(["accept", "drop", "break"]), st.lists(matches(), min_size=1, max_size=4).map(tuple)
    )
    return st.lists(rule, min_size=1, max_size=5).map(tuple)


def rules_source(rules: tuple[Rule, ...]) -> str:
    return "\n".join(r.source() for r in rules) + "\n"


@SETTINGS
@given(rule_lists())
def test_written_rules_read_back_as_the_same_rules(rules: tuple[Rule, ...]) -> None:
    parsed, problems = parse_source(rules_source(rules), "k", final=True)
    assert problems == []
    assert parsed == rules
    assert [r.compiled() for r in parsed] == [r.compiled() for r in rules]
    assert rules_source(parsed) == rules_source(rules)


def golden() -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads(GOLDEN.read_text())
    return records


def test_the_golden_generated_rules_cover_every_keyword_with_not_and_or() -> None:
    compiled = [entry for record in golden() for entry in record["rules"]]
    apis = {e["type"] for e in compiled}
    assert {k.api for k in KEYWORDS.values()} <= apis
    assert any(e.get("not") for e in compiled) and any(e.get("or") for e in compiled)
    assert len(golden()) == 200


@pytest.mark.parametrize("record", golden(), ids=lambda r: str(len(r["source"])))
def test_compiled_is_what_zerotiers_compiler_makes_of_generated_source(record: dict[str, Any]) -> None:
    assert "error" not in record, record
    header = NetworkRules((), "golden").source()
    assert record["source"].startswith(header)
    parsed, problems = parse_source(record["source"][len(header) :], "k", final=True)
    assert problems == []
    assert [entry for r in parsed for entry in r.compiled()] == record["rules"]
    assert NetworkRules(parsed, "golden").source() == record["source"]


# --- arbitrary text: rules or problems, never an exception --------------------------------------

WORDS = [
    *KEYWORDS, "accept", "drop", "break", "ACCEPT", "not", "or", "and", "tag", "tee", "role", "head", "compute",
    "device", "other", "ipv4", "arp", "tcp", "udp", "icmp", "icmp4", "inbound", "ipauth", "macauth", "tcp_syn",
    "broadcast", ",", ";", "#", "-1", "0", "22", "65536", "0x", "0x800", "1-2", "2-1", "10.147.17.0/24",
    "10.147.17.5", "fd00::/8", "0123456789", "١٢", "1_0", "\u202e", "\u200b", "\x1b]52;c;", "\u2028", "\x0b",
]  # fmt: skip
SEPARATORS = [" ", "\t", "\n", "\r", ";", "; ", ";\n", ",", "", "\u00a0", "\x0c"]
rule_text = st.one_of(
    st.text(max_size=200),
    st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(SEPARATORS)), max_size=40).map(
        lambda parts: "".join(w + s for w, s in parts)
    ),
)
BASE: dict[str, Any] = {
    "network": {"name": "lab", "cidr": "10.147.17.0/24"},
    "ssh": {"user": "ops"},
    "nodes": [
        {"name": "head", "role": "head", "host": "192.0.2.1"},
        {"name": "c1", "role": "compute", "host": "192.0.2.11"},
        {"name": "c2", "role": "compute", "host": "192.0.2.12"},
    ],
}


@SETTINGS
@given(st.sampled_from(["extra", "replace"]), rule_text)
def test_arbitrary_rule_text_gives_rules_or_problems_and_a_spec_or_config_error(key: str, text: str) -> None:
    _, problems = parse_rules({key: text})
    config = copy.deepcopy(BASE)
    config["rules"] = {key: text}
    try:
        parse_cluster(config, base_dir=ROOT)
    except ConfigError as err:
        problems += err.problems
    assert all(len(str(p)) < 600 for p in problems), problems


# --- the lock-out check by kind of node equals the check of every pair ---------------------------

_PORTS = [1, 22, 23, 1023, 1024, 2222, 6817, 6818, 32767, 32768, 40000, 60999, 61000, 65535]
_ADDRESSES = [f"10.147.17.{i}" for i in range(1, 9)]
NEAR: dict[str, st.SearchStrategy[tuple[Any, ...]]] = {
    "ipsrc": st.tuples(st.sampled_from(_ADDRESSES), st.integers(29, 32)).map(lambda a: (f"{a[0]}/{a[1]}",)),
    "ipdest": st.tuples(st.sampled_from(_ADDRESSES), st.integers(29, 32)).map(lambda a: (f"{a[0]}/{a[1]}",)),
    "sport": st.tuples(st.sampled_from(_PORTS), st.sampled_from(_PORTS)).map(lambda p: (min(p), max(p))),
    "dport": st.tuples(st.sampled_from(_PORTS), st.sampled_from(_PORTS)).map(lambda p: (min(p), max(p))),
    "ipprotocol": st.sampled_from([1, 6, 17]).map(lambda a: (a,)),
    "ethertype": st.sampled_from([0x0800, 0x0806]).map(lambda a: (a,)),
    "chr": st.sampled_from([1 << b for b in (0, 1, 2, 3, 4, 60, 61, 62, 63)]).map(lambda a: (a,)),
    "tseq": ARGUMENTS["tseq"],
    "treq": ARGUMENTS["treq"],
    "icmp": st.sampled_from([(8, -1), (0, -1), (8, 0), (3, -1)]),
}


@st.composite
def near_rules(draw: st.DrawFn) -> tuple[Rule, ...]:
    """Rules that single out nodes by address, with the ports, flags and roles the nodes use."""
    rules = []
    for _ in range(draw(st.integers(1, 3))):
        matches = []
        if draw(st.booleans()):
            where = draw(st.sampled_from(["ipsrc", "ipdest"]))
            address = draw(st.sampled_from(_ADDRESSES))
            matches.append(Match(where, (f"{address}/{draw(st.sampled_from([32, 32, 31]))}",), draw(st.booleans())))
        for _ in range(draw(st.integers(1 - len(matches), 2))):
            keyword = draw(st.sampled_from(sorted(NEAR)))
            negate = draw(st.sampled_from([False, False, True]))
            matches.append(Match(keyword, draw(NEAR[keyword]), negate, draw(st.sampled_from([False, False, True]))))
        rules.append(Rule(draw(st.sampled_from(["drop", "drop", "break", "accept"])), tuple(matches)))
    return (*rules, Rule("accept"))


@st.composite
def clusters(draw: st.DrawFn) -> list[Node]:
    size = draw(st.integers(2, 6))
    addresses = draw(st.permutations(_ADDRESSES))[:size]
    return [
        Node(
            Member("head" if i == 0 else draw(st.sampled_from(["compute", "head"])), IPv4Address(ip), name=f"n{i}"),
            draw(st.sampled_from([22, 23, 2222])),
        )
        for i, ip in enumerate(addresses)
    ]


def _node(index: int, role: str, port: int) -> Node:
    return Node(Member(role, IPv4Address(_ADDRESSES[index]), name=f"n{index}"), port)


_THREE = [_node(0, "head", 22), _node(1, "compute", 22), _node(2, "compute", 23)]


def _text(source: str) -> tuple[Rule, ...]:
    parsed, problems = parse_source(source, "k", final=True)
    assert problems == []
    return parsed


@SETTINGS
@given(near_rules(), clusters())
@example(_text("drop ipdest 10.147.17.3/32 and ipprotocol icmp4;\naccept;"), _THREE)  # one node by address
@example(_text("drop dport 23 and ipprotocol tcp;\naccept;"), _THREE)  # sshd ports told apart by a rule
@example(_text("drop sport 23 and ipprotocol tcp;\naccept;"), _THREE)  # ... in the replies
@example(_text("drop chr tcp_psh and ipdest 10.147.17.3/32;\naccept;"), _THREE)  # a flag on one node
def test_the_check_by_kind_finds_a_drop_exactly_when_some_pair_of_nodes_has_one(
    rules: tuple[Rule, ...], nodes: list[Node]
) -> None:
    every_pair = any(
        decision.action != "accept"
        for a in nodes
        for b in nodes
        if a is not b
        for _, frames in needed_traffic(a, b)
        for frame in frames
        for decision in decide(rules, frame)
    )
    assert bool(cluster_problems(rules, "k", nodes)) == every_pair
