"""Rulesets as literal text for the configurations the dev stack does not use.

test_docs.py holds the dev stack's rulesets (enforce, inet, sshFrom anywhere)
to the docs. Here the other branches are written out in full, as reviewed:
``integrate`` in an ``ip`` table, compute SSH only from the head's addresses,
merged ranges and CIDR blocks, sets long enough to wrap, and the firewall
step's parameters. Built through the Firewall directly (not the plan), so a
change in how steps are assembled does not touch these.
"""

from __future__ import annotations

from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest

from cluster.config.parse import parse_cluster
from cluster.plan.addressing import allocate
from cluster.plan.firewall import Firewall, _quote
from cluster.spec import NodeSpec

DEVICE_IPS = ["10.147.17.200", "10.147.17.202", "10.147.17.204", "10.147.17.205", "10.147.17.206"]
CONFIG: dict[str, Any] = {
    "network": {"name": "lab", "cidr": "10.147.17.0/24"},
    "ssh": {"user": "ops", "proxy": "head"},
    "nodes": [
        {"name": "head", "role": "head", "host": "192.0.2.1", "ip": "10.147.17.1"},
        {"name": "c1", "role": "compute", "host": "192.0.2.11", "ip": "10.147.17.11"},
        {"name": "c2", "role": "compute", "host": "192.0.2.12", "ip": "10.147.17.13"},
    ],
    "devices": [
        {"name": f"d{i}", "address": f"{i + 1:010x}", "ip": ip}
        for i, ip in enumerate([*DEVICE_IPS, "10.147.17.210", "10.147.17.220"])
    ],
    "firewall": {
        "mode": "integrate",
        "table": "ztc",
        "integrate": {"family": "ip", "table": "filter", "chain": "in"},
        "computeSsh": "head-and-overlay",
        "headAddresses": ["192.168.10.1"],
        "sshFrom": ["198.51.100.0/24", "198.51.101.0/24", "198.51.102.0/25"],
        "peers": ["10.147.18.0/25", "10.147.18.128/26", "10.147.19.0/24"],
    },
}

COMPUTE = (
    "# zerotier-cluster firewall for compute nodes with sshd on port 22, generated from\n"
    "# zerotier-cluster:firewall. nft -f loads it as one transaction. It replaces the program's\n"
    "# chain ztc, sets ztc_* and the jump from chain in\n"
    "# in table ip filter, and touches nothing else.\n"
    "add chain ip filter ztc\n"
    "flush chain ip filter ztc\n"
    'add set ip filter ztc_ssh_v4 { type ipv4_addr; flags interval; comment "management SSH: firewall.headAddresses (computeSsh head-and-overlay)"; }\n'  # noqa: E501
    "flush set ip filter ztc_ssh_v4\n"
    'add set ip filter ztc_members { type ipv4_addr; flags interval; comment "nodes, head, firewall.peers"; }\n'
    "flush set ip filter ztc_members\n"
    'add set ip filter ztc_ssh_devices { type ipv4_addr; flags interval; comment "devices (devices: ssh): SSH only"; }\n'  # noqa: E501
    "flush set ip filter ztc_ssh_devices\n"
    "table ip filter {\n"
    "\tset ztc_ssh_v4 {\n"
    "\t\ttype ipv4_addr\n"
    "\t\tflags interval\n"
    '\t\tcomment "management SSH: firewall.headAddresses (computeSsh head-and-overlay)"\n'
    "\t\telements = { 192.168.10.1 }\n"
    "\t}\n"
    "\n"
    "\tset ztc_members {\n"
    "\t\ttype ipv4_addr\n"
    "\t\tflags interval\n"
    '\t\tcomment "nodes, head, firewall.peers"\n'
    "\t\telements = {\n"
    "\t\t\t10.147.17.1, 10.147.17.11, 10.147.17.13, 10.147.18.0-10.147.18.191,\n"
    "\t\t\t10.147.19.0/24\n"
    "\t\t}\n"
    "\t}\n"
    "\n"
    "\tset ztc_ssh_devices {\n"
    "\t\ttype ipv4_addr\n"
    "\t\tflags interval\n"
    '\t\tcomment "devices (devices: ssh): SSH only"\n'
    "\t\telements = {\n"
    "\t\t\t10.147.17.200, 10.147.17.202, 10.147.17.204-10.147.17.206, 10.147.17.210,\n"
    "\t\t\t10.147.17.220\n"
    "\t\t}\n"
    "\t}\n"
    "\n"
    "\tchain ztc {\n"
    '\t\tct state established,related accept comment "replies, incl. to ZeroTier\'s other ports"\n'
    '\t\tiif "lo" accept\n'
    "\t\ticmp type { destination-unreachable, echo-request, parameter-problem, time-exceeded } accept\n"
    '\t\tudp sport 67 udp dport 68 accept comment "DHCP replies"\n'
    '\t\tudp dport 9993 accept comment "ZeroTier: firewall.zerotierPort"\n'
    '\t\ttcp dport 22 ip saddr @ztc_ssh_v4 accept comment "firewall.headAddresses"\n'
    '\t\tiifname "zta51146d380" ip saddr @ztc_members accept comment "cluster members (clusterPorts: all)"\n'
    '\t\tiifname "zta51146d380" ip saddr @ztc_ssh_devices tcp dport 22 accept comment "devices: ssh"\n'
    "\t}\n"
    "}\n"
    'insert rule ip filter in jump ztc comment "zerotier-cluster"\n'
)


def firewall(config: dict[str, Any]) -> tuple[Firewall, dict[str, NodeSpec]]:
    spec = parse_cluster(config, base_dir=Path("."))
    addresses = {name: a.ip for name, a in allocate(spec).items()}
    return Firewall(spec, addresses, IPv4Address("10.147.17.1")), {n.name: n for n in spec.nodes}


def test_integrated_ip_ruleset_of_a_compute_node_reached_through_the_head() -> None:
    fw, nodes = firewall(CONFIG)
    assert fw.ruleset(nodes["c1"]) == COMPUTE


def test_the_head_admits_ssh_from_ssh_from_merged_into_one_range() -> None:
    fw, nodes = firewall(CONFIG)
    head = fw.ruleset(nodes["head"])
    expected = COMPUTE.replace("for compute nodes", "for head nodes")
    expected = expected.replace(
        "management SSH: firewall.headAddresses (computeSsh head-and-overlay)", "management SSH: firewall.sshFrom"
    )
    expected = expected.replace("elements = { 192.168.10.1 }", "elements = { 198.51.100.0-198.51.102.127 }")
    expected = expected.replace('accept comment "firewall.headAddresses"', 'accept comment "firewall.sshFrom"')
    assert head == expected


def test_firewall_step_parameters() -> None:
    fw, nodes = firewall(CONFIG)
    params = fw.params(nodes["c1"], "RULESET")
    assert params.variables(per_node=False) == (
        ("ZTC_FW_MODE", "integrate"),
        ("ZTC_FW_FAMILY", "ip"),
        ("ZTC_FW_TABLE", "filter"),
        ("ZTC_FW_CHAIN", "ztc"),
        ("ZTC_FW_HOOK_CHAIN", "in"),
        ("ZTC_FW_SET_PREFIX", "ztc_"),
        ("ZTC_FW_INTERFACE", "zta51146d380"),  # zt + sha256("lab")[:10]
        ("ZTC_SSH_PORT", "22"),
        ("ZTC_SSH_SOURCES_KEY", "zerotier-cluster:firewall.headAddresses"),
        ("ZTC_RULESET", "RULESET"),
    )
    assert params.variables(per_node=True) == (("ZTC_SSH_PORT_KEY", "zerotier-cluster:nodes[1].sshdPort"),)


def test_enforce_mode_parameters_name_its_own_table_and_no_hook() -> None:
    config = {**CONFIG, "firewall": {"sshFrom": ["198.51.100.7"]}, "ssh": {"user": "ops"}}
    fw, nodes = firewall(config)
    params = dict(fw.params(nodes["head"], "").variables(per_node=False))
    assert {k: params[k] for k in ("ZTC_FW_MODE", "ZTC_FW_FAMILY", "ZTC_FW_TABLE", "ZTC_FW_CHAIN")} == {
        "ZTC_FW_MODE": "enforce",
        "ZTC_FW_FAMILY": "inet",
        "ZTC_FW_TABLE": "zerotier_cluster",
        "ZTC_FW_CHAIN": "input",
    }
    assert (params["ZTC_FW_HOOK_CHAIN"], params["ZTC_FW_SET_PREFIX"]) == ("", "")
    assert '\t\tcomment "management SSH: firewall.sshFrom"\n\t\telements = { 198.51.100.7 }\n' in fw.ruleset(
        nodes["head"]
    )


@pytest.mark.parametrize(
    ("family", "table_line", "ssh_rules"),
    [
        ("ip6", "table ip6 filter {", ["tcp dport 22 ip6 saddr @ztc_ssh_v6 accept"]),
        (
            "inet",
            "table inet filter {",
            ["tcp dport 22 ip saddr @ztc_ssh_v4 accept", "tcp dport 22 ip6 saddr @ztc_ssh_v6 accept"],
        ),
    ],
)
def test_integrate_families(family: str, table_line: str, ssh_rules: list[str]) -> None:
    config = {
        **CONFIG,
        "firewall": {**CONFIG["firewall"], "integrate": {"family": family, "table": "filter", "chain": "in"}},
    }
    fw, nodes = firewall(config)
    ruleset = fw.ruleset(nodes["head"])
    assert f"# in table {family} filter, and touches nothing else.\n" in ruleset
    assert f"\n{table_line}\n" in ruleset
    assert f'insert rule {family} filter in jump ztc comment "zerotier-cluster"\n' in ruleset
    assert [
        line.strip().split(" comment")[0]
        for line in ruleset.splitlines()
        if "tcp dport 22 ip" in line and "@ztc_ssh_v" in line
    ] == ssh_rules
    assert fw.params(nodes["head"], "").family == family


def test_comments_never_carry_a_double_quote() -> None:
    assert _quote('say "hi"') == "\"say 'hi'\""


PORTS: dict[str, Any] = {
    "clusterPorts": [
        "tcp/6817-6819",
        {"port": "udp/4000", "from": ["10.147.17.96/27"]},
        {"port": "udp/4000", "from": ["10.147.17.64/27"]},
        "udp/60001",
        "tcp/6820",
        {"port": "tcp/5000", "from": ["10.147.17.32/28", "10.147.17.0/28"]},
    ],
    "openings": {
        "head": [
            {"port": "udp/7000", "from": ["fd77::/64"]},
            "tcp/443",
            {"port": "tcp/8443-8444", "from": ["fd77::2", "198.51.100.7"]},
        ]
    },
}
MEMBERS_FIRST = [
    'iifname "zta51146d380" ip saddr @{m} tcp dport 22 accept comment "SSH over the overlay"',
    'iifname "zta51146d380" ip saddr @{m} tcp dport 6817-6820 accept comment "firewall.clusterPorts"',
    'iifname "zta51146d380" ip saddr @{m} udp dport 60001 accept comment "firewall.clusterPorts"',
    'iifname "zta51146d380" ip saddr @{m} ip saddr {{ 10.147.17.0/28, 10.147.17.32/28 }} tcp dport 5000 accept'
    ' comment "firewall.clusterPorts"',
    'iifname "zta51146d380" ip saddr @{m} ip saddr 10.147.17.64/27 udp dport 4000 accept'
    ' comment "firewall.clusterPorts"',
    'iifname "zta51146d380" ip saddr @{m} ip saddr 10.147.17.96/27 udp dport 4000 accept'
    ' comment "firewall.clusterPorts"',
    'tcp dport 443 accept comment "firewall.openings.head"',
    'ip saddr 198.51.100.7 tcp dport 8443-8444 accept comment "firewall.openings.head"',
]


def port_rules(ruleset: str) -> list[str]:
    """The chain's rules from the SSH-over-the-overlay rule on (the port openings)."""
    rules = [line.strip() for line in ruleset.splitlines() if line.startswith("\t\t") and " dport " in line]
    return rules[next(i for i, r in enumerate(rules) if "SSH over the overlay" in r) :]


def test_cluster_ports_and_openings_with_and_without_sources_enforce_inet() -> None:
    fw, nodes = firewall({**CONFIG, "ssh": {"user": "ops"}, "devices": [], "firewall": PORTS})
    assert port_rules(fw.ruleset(nodes["head"])) == [
        *(r.format(m="members") for r in MEMBERS_FIRST),
        'ip6 saddr fd77::2 tcp dport 8443-8444 accept comment "firewall.openings.head"',
        'ip6 saddr fd77::/64 udp dport 7000 accept comment "firewall.openings.head"',
    ]
    assert port_rules(fw.ruleset(nodes["c1"])) == [r.format(m="members") for r in MEMBERS_FIRST[:6]]


def test_an_ip_table_gets_no_ipv6_sourced_openings() -> None:
    integrate = {"mode": "integrate", "integrate": {"family": "ip", "table": "filter", "chain": "in"}}
    fw, nodes = firewall({**CONFIG, "ssh": {"user": "ops"}, "devices": [], "firewall": {**PORTS, **integrate}})
    assert port_rules(fw.ruleset(nodes["head"])) == [r.format(m="zerotier_cluster_members") for r in MEMBERS_FIRST]


def test_long_sets_wrap_four_elements_a_line() -> None:
    devices = [{"name": f"d{i}", "address": f"{i + 1:010x}", "ip": f"10.147.17.{100 + 2 * i}"} for i in range(9)]
    fw, nodes = firewall({**CONFIG, "ssh": {"user": "ops"}, "devices": devices, "firewall": {}})
    assert (
        "\t\telements = {\n"
        "\t\t\t10.147.17.100, 10.147.17.102, 10.147.17.104, 10.147.17.106,\n"
        "\t\t\t10.147.17.108, 10.147.17.110, 10.147.17.112, 10.147.17.114,\n"
        "\t\t\t10.147.17.116\n"
        "\t\t}\n"
    ) in fw.ruleset(nodes["head"])
