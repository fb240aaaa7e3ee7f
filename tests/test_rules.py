"""ZeroTier flow rules: the model against ZeroTier's own compiler, and every config mistake refused.

Golden data (``tests/rules_golden/<case>.zt`` and ``.json``): each ``.zt`` is
``source()`` for the case below, and its ``.json`` is what ZeroTier's
rule-compiler (ZeroTierOne ``rule-compiler/cli.js``, run under Node 20 on the
``.zt``) printed for it. ``compiled()`` must equal the compiler's ``config``,
so the JSON the program gives a self-hosted controller is the JSON Central
makes of the source the program gives Central.
"""

from __future__ import annotations

import copy
import json
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest

from cluster.config.parse import parse_cluster
from cluster.config.stackfile import read_stack_config
from cluster.conventions import MAX_RULE_ENTRIES
from cluster.plan.addressing import allocate
from cluster.plan.network import cluster_nodes
from cluster.rules.evaluator import evaluate, rules_problems
from cluster.rules.frame import ARP, ICMP, TCP, UDP, Frame, Member
from cluster.rules.model import NetworkRules, RulesSpec, member_tags
from cluster.rules.parser import parse_rules
from cluster.rules.policy import network_rules as policy_rules
from cluster.spec import ClusterSpec

ROOT = Path(__file__).resolve().parent.parent


def network_rules(cluster: ClusterSpec, rules: RulesSpec, ssh_ports: tuple[int, ...]) -> NetworkRules:
    """The policy for ``cluster``'s network name and devices setting, with ``rules``."""
    return policy_rules(cluster.network.name, cluster.firewall.devices, rules, ssh_ports)


GOLDEN = ROOT / "tests" / "rules_golden"
K = "zerotier-cluster:rules"

BASE: dict[str, Any] = {
    "network": {"name": "lab", "cidr": "10.147.17.0/24"},
    "ssh": {"user": "ops"},
    "nodes": [
        {"name": "head", "role": "head", "host": "192.0.2.1"},
        {"name": "c1", "role": "compute", "host": "192.0.2.11", "sshdPort": 2222},
        {"name": "c2", "role": "compute", "host": "192.0.2.12", "sshdPort": 2223},
    ],
    "devices": [{"name": "alice", "address": "0123456789"}],
}

EXTRA = """\
# Devices also reach the portal on the head, and get its answers.
accept tseq role device and treq role head and ipprotocol tcp and dport 443;
accept tseq role head and treq role device and ipprotocol tcp and sport 443;
# No telnet between compute nodes; nothing to or from a retired address.
drop tseq role compute and treq role compute and ipprotocol tcp and dport 23;
drop ipdest 10.147.17.77/32 or ipsrc 10.147.17.77/32;
drop ztsrc 0f1e2d3c4b and not ethertype 0x0806;
accept ipprotocol udp and sport 60001-60010 and not chr inbound,tcp_syn;
accept icmp 3 4 or icmp 11 -1;
"""

REPLACE = """\
drop not ethertype ipv4 and not ethertype arp or not chr ipauth;
drop tseq role device and not ipprotocol tcp;
accept;
"""


def stack_spec(stack: str) -> ClusterSpec:
    return parse_cluster(read_stack_config(ROOT, stack), base_dir=ROOT)


def config_spec(**firewall: Any) -> ClusterSpec:
    config = copy.deepcopy(BASE)
    config["firewall"] = firewall
    return parse_cluster(config, base_dir=ROOT)


#: name → (spec, the rules key's value, the SSH ports devices may reach)
CASES: dict[str, tuple[Any, Any, tuple[int, ...]]] = {
    "dev": (lambda: stack_spec("dev"), None, (22,)),
    "onprem": (lambda: stack_spec("onprem"), None, (22,)),
    "cloud": (lambda: stack_spec("cloud"), None, (22,)),
    "ssh-ports": (config_spec, None, (22, 2222, 2223)),
    "devices-all": (lambda: config_spec(devices="all"), None, (22, 2222, 2223)),
    "extra": (config_spec, {"extra": EXTRA}, (22,)),
    "replace": (config_spec, {"replace": REPLACE}, (22,)),
}


def case_rules(name: str) -> NetworkRules:
    make, raw, ports = CASES[name]
    spec, problems = parse_rules(raw, "zerotier-cluster:rules")
    assert problems == []
    cluster = make()
    result = network_rules(cluster, spec, ports)
    assert rules_problems(result, spec, cluster_nodes(cluster, allocate(cluster))) == []
    return result


@pytest.mark.parametrize("name", list(CASES))
def test_compiled_is_what_zerotiers_compiler_makes_of_the_source(name: str) -> None:
    result = case_rules(name)
    assert result.source() == (GOLDEN / f"{name}.zt").read_text()
    golden = json.loads((GOLDEN / f"{name}.json").read_text())
    assert result.compiled() == golden["config"]
    assert golden["tagsByName"]["role"]["enums"] == {"other": 0, "head": 1, "compute": 2, "device": 3}
    assert golden["tagsByName"]["role"]["id"] == 1


def test_default_rules_start_with_the_anti_spoofing_rule_checked_on_real_daemons() -> None:
    """The compiled form in reference/zerotier-one.md, measured against spoofed pings on 1.14.1."""
    rules = case_rules("dev").compiled()["rules"]
    assert rules[:4] == [
        {"type": "MATCH_ETHERTYPE", "not": True, "or": False, "etherType": 2048},
        {"type": "MATCH_ETHERTYPE", "not": True, "or": False, "etherType": 2054},
        {"type": "MATCH_CHARACTERISTICS", "not": True, "or": True, "mask": "1000000000000000"},
        {"type": "ACTION_DROP"},
    ]
    assert rules[-1] == {"type": "ACTION_DROP"}


def test_the_rules_do_not_grow_with_the_cluster() -> None:
    """Roles, not addresses: 1,000 nodes give the rules of 3."""
    config = copy.deepcopy(BASE)
    config["network"] = {"name": "lab", "cidr": "10.147.0.0/16"}
    config["nodes"] = [
        {"name": f"n{i:04d}", "role": "head" if i == 0 else "compute", "host": f"h{i}"} for i in range(1000)
    ]
    spec, _ = parse_rules(None, "zerotier-cluster:rules")
    big = network_rules(parse_cluster(config, base_dir=ROOT), spec, (22,))
    assert big.rules == case_rules("dev").rules
    assert big.entries == 70


def test_member_tags_differ_by_role() -> None:
    assert member_tags("head") == ((1, 1),)
    assert member_tags("compute") == ((1, 2),)
    assert member_tags("device") == ((1, 3),)


# --- what the default rules let through (ZeroTier's evaluation order, both sides) ----------


MEMBERS = {
    "head": Member("head", IPv4Address("10.147.17.1"), name="head"),
    "compute": Member("compute", IPv4Address("10.147.17.11"), name="c1"),
    "other": Member("other", IPv4Address("10.147.17.200")),
    "device": Member("device", IPv4Address("10.147.17.100"), "0123456789", "alice"),
}


def tcp(sender: str, receiver: str, dport: int, *, inbound: bool, sport: int = 40000) -> Frame:
    return Frame(MEMBERS[sender], MEMBERS[receiver], inbound, protocol=TCP, sport=(sport, sport), dport=(dport, dport))


def frame(sender: str, receiver: str, inbound: bool, **fields: Any) -> Frame:
    return Frame(MEMBERS[sender], MEMBERS[receiver], inbound, **fields)


@pytest.mark.parametrize(
    ("frame", "action"),
    [
        (tcp("head", "compute", 5000, inbound=False), "accept"),
        (tcp("compute", "compute", 5000, inbound=True), "accept"),
        (tcp("other", "head", 5000, inbound=True), "accept"),  # members nobody manages: nftables decides
        (tcp("device", "head", 22, inbound=True), "accept"),
        (tcp("device", "compute", 2223, inbound=False), "accept"),
        (tcp("head", "device", 40000, inbound=True, sport=22), "accept"),  # the SSH reply
        (tcp("device", "head", 5000, inbound=True), "drop"),
        (tcp("device", "device", 22, inbound=True), "drop"),  # devices are not nodes
        (tcp("device", "other", 22, inbound=False), "drop"),
        (tcp("head", "device", 5000, inbound=True), "drop"),
        (frame("device", "head", True, protocol=ICMP, icmp=(8, 0)), "accept"),
        (frame("device", "head", True, protocol=UDP, sport=(40000, 40000), dport=(53, 53)), "drop"),
        (frame("head", "compute", True, protocol=ICMP, icmp=(8, 0), ipauth=False), "drop"),  # spoofed sender
        (frame("head", "compute", True, ethertype=0x88CC), "drop"),  # not IPv4 or ARP (LLDP)
        (frame("device", "other", True, ethertype=ARP), "accept"),  # ARP between anyone
    ],
    ids=str,
)
def test_default_rules_decide(frame: Frame, action: str) -> None:
    assert evaluate(case_rules("ssh-ports").rules, frame) == action


def test_devices_all_are_members() -> None:
    rules = case_rules("devices-all").rules
    assert evaluate(rules, tcp("device", "head", 5000, inbound=True)) == "accept"
    assert evaluate(rules, tcp("device", "device", 5000, inbound=True)) == "accept"


def test_extra_rules_come_after_anti_spoofing_and_before_the_roles() -> None:
    rules = case_rules("extra").rules
    assert evaluate(rules, tcp("device", "head", 443, inbound=True)) == "accept"
    assert evaluate(rules, tcp("compute", "compute", 23, inbound=True)) == "drop"
    assert evaluate(rules, tcp("compute", "head", 23, inbound=True)) == "accept"
    spoofed = frame("device", "head", True, protocol=TCP, sport=(40000, 40000), dport=(443, 443), ipauth=False)
    assert evaluate(rules, spoofed) == "drop"


# --- config mistakes ---------------------------------------------------------------------------


def problems_of(raw: Any) -> list[str]:
    spec, problems = parse_rules(raw, "zerotier-cluster:rules")
    if not problems:
        cluster = config_spec()
        result = network_rules(cluster, spec, (22,))
        problems = rules_problems(result, spec, cluster_nodes(cluster, allocate(cluster)))
    return [str(p) for p in problems]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("accept;", "zerotier-cluster:rules: must be a mapping"),
        ({"extras": "accept ethertype arp;"}, f"{K}.extras: is not a known key\n    fix: did you mean 'extra'?"),
        ({"extra": "x", "replace": "accept;"}, "zerotier-cluster:rules: sets both extra and replace"),
        ({"extra": ["accept;"]}, "zerotier-cluster:rules.extra: must be ZeroTier rule source text"),
        ({"extra": "# nothing\n"}, "zerotier-cluster:rules.extra: has no rules"),
        ({"replace": ""}, "zerotier-cluster:rules.replace: has no rules"),
        (
            {"extra": "drop;"},
            f"{K}.extra (line 1): 'drop;' without matches decides every frame, "
            "so the generated rules after rules.extra would never apply",
        ),
        ({"extra": "accept ethertype arp;\naccept;"}, f"{K}.extra (line 2): 'accept;' without matches"),
        (
            {"replace": "drop;\naccept ethertype arp;"},
            f"{K}.replace (line 1): 'drop;' without matches decides every frame, "
            "so the rules after it would never apply",
        ),
        (
            {"extra": "accept tseq dept eng;"},
            "(line 1): tseq: unknown tag 'dept': the only tag is 'role' (other, head, compute",
        ),
        ({"extra": "accept treq role admin;"}, "unknown value 'admin' of tag 'role': use one of other, head, compute"),
        ({"extra": "tag dept id 2 enum 1 eng;"}, "(line 1): 'tag': tags are the program's"),
        ({"extra": "tee 0 0123456789 ipprotocol tcp;"}, "'tee': tee sends copies of traffic elsewhere; not supported"),
        ({"extra": "allow ethertype arp;"}, "'allow' is not an action\n    fix: start every rule with accept, drop or"),
        ({"extra": "accept dprt 22;"}, "'dprt' is not a supported match (did you mean 'dport'?)"),
        ({"extra": "accept ipprotocol icmp;"}, "'icmp' is a reserved word, not a value (write icmp4 or 1)"),
        ({"extra": "accept dport 22-"}, "dport: port '' is not a number"),
        ({"extra": "accept dport 70000;"}, "dport: port '70000' is out of range (0-65535)"),
        ({"extra": "accept dport 30-20;"}, "dport: '30-20': the range is backwards"),
        ({"extra": "accept ipsrc 10.0.0.1;"}, "ipsrc: '10.0.0.1' needs a /bits prefix length"),
        ({"extra": "accept ipsrc fd00::1/64;"}, "the overlay is IPv4 only"),
        ({"extra": "accept ztsrc 12345;"}, "ztsrc: '12345' is not a ZeroTier address (10 hex digits)"),
        ({"extra": "accept chr ipauth,bogus;"}, "chr: bit 'bogus' is not a number"),
        ({"extra": "accept icmp 8;"}, "'icmp' needs 2 arguments"),
        ({"extra": "accept chr inbound,multicast;"}, "'inbound' (bit 63) and bits 32-62 cannot share one chr"),
        ({"extra": "accept ethertype arp and not;"}, "'not' or 'or' must come before a match"),
        ({"extra": "ACCEPT ethertype arp;"}, "'ACCEPT' is not an action\n    fix: write accept in lower case"),
        ({"extra": "accept chr ,;"}, "chr: ',' names no characteristic, so it never matches"),
        ({"extra": "accept chr 31,tcp_syn;"}, "chr: '31,tcp_syn': bits 31 and 0-30 cannot share one chr"),
        ({"extra": "accept ipsrc 10.147.017.5/32;"}, "is not an IPv4 address with /bits (a dotted quad, no leading"),
        ({"extra": "accept ethertype ARP;"}, "ethertype: ethertype 'ARP': names are lower case"),
        ({"extra": "accept dport \u0661\u0662;"}, "dport: port '\u0661\u0662' is not a number"),
    ],
)
def test_bad_rules_are_refused_with_key_and_fix(raw: Any, expected: str) -> None:
    found = problems_of(raw)
    assert any(expected in p for p in found), found


def test_extra_cannot_drop_arp_it_comes_after_arp_is_accepted() -> None:
    rules = network_rules(config_spec(), parse_rules({"extra": "drop ethertype arp;"})[0], (22,)).rules
    assert evaluate(rules, frame("head", "compute", False, ethertype=ARP, destination="broadcast")) == "accept"


def test_narrow_drops_that_keep_the_cluster_whole_are_accepted() -> None:
    assert problems_of({"extra": "drop tseq role compute and treq role compute and ipprotocol udp;"}) == []
    assert problems_of({"replace": "accept;"}) == []


def test_more_than_zerotiers_limit_of_entries_is_refused() -> None:
    # Each line is 3 entries; the generated rules are 70 (ports 22 only).
    many = "\n".join(f"accept ipprotocol udp and dport {1000 + i};" for i in range(318))
    assert problems_of({"extra": many}) == []
    found = problems_of({"extra": many + "\naccept ipprotocol udp and dport 999;"})
    assert found == [
        f"zerotier-cluster:rules.extra: the network's rules have 1027 entries; ZeroTier takes at most "
        f"{MAX_RULE_ENTRIES}\n"
        "    fix: use fewer or shorter rules (every match and every action is an entry)"
    ]


def test_rule_messages_quote_a_bounded_excerpt_of_what_was_written() -> None:
    """A 3 MB word gives a message of a few lines; control and bidi characters are quoted escaped."""
    word = "\u202e\x1b]52;c;" + "x" * 3_000_000
    assert problems_of({"extra": f"accept ethertype {word};"}) == [
        f"{K}.extra (line 1): ethertype: ethertype '\\u202e\\x1b]52;c;{'x' * 32}'... "
        "(3000008 characters) is not a number\n"
        "    fix: see docs/firewall.md, 'ZeroTier rules', for what is accepted"
    ]
    assert problems_of({"extra": word}) == [
        f"{K}.extra (line 1): '\\u202e\\x1b]52;c;{'x' * 32}'... (3000008 characters) "
        "is not an action\n    fix: start every rule with accept, drop or break"
    ]
    assert problems_of({"x" * 3_000_000: "accept;"}) == [
        f"{K}.{'x' * 40}... (3000000 characters): is not a known key\n    fix: use extra or replace"
    ]
    many = "bogus;\n" * 100_000
    found = problems_of({"extra": many})
    assert len(found) == 11
    assert found[-1] == f"{K}.extra (line 11): and what follows was not read\n    fix: fix the problems above first"
