"""The ruleset generator without a kernel: determinism, merging, parameters, scale, config checks.

What the rules *do* is proven with real packets in test_firewall_packets.py;
this file pins down the properties a reviewer relies on when reading a diff.
"""

from __future__ import annotations

import copy
import time
from ipaddress import IPv4Address, IPv4Network, IPv6Network
from pathlib import Path
from typing import Any

import pytest

import cluster.plan.firewall as fw
from cluster.config.parse import parse_cluster
from cluster.errors import ConfigError
from cluster.plan.build import build_plan
from cluster.plan.firewall import Firewall
from cluster.spec import ClusterSpec, FirewallSpec, NetworkSpec, NodeSpec

BASE: dict[str, Any] = {
    "network": {"name": "lab", "cidr": "10.147.17.0/24"},
    "ssh": {"user": "ops"},
    "nodes": [
        {"name": "head", "role": "head", "host": "192.0.2.1", "ip": "10.147.17.1"},
        {"name": "c1", "role": "compute", "host": "192.0.2.11", "ip": "10.147.17.11"},
        {"name": "c2", "role": "compute", "host": "192.0.2.12", "ip": "10.147.17.12", "sshdPort": 2222},
    ],
    "devices": [{"name": "alice", "address": "0123456789", "ip": "10.147.17.200"}],
}


def rulesets(firewall: dict[str, Any], **extra: Any) -> dict[str, str]:
    config = copy.deepcopy(BASE)
    config.update(copy.deepcopy(extra))
    config["firewall"] = firewall
    plan = build_plan(parse_cluster(config, base_dir=Path(".")))
    return {n.name: n.ruleset or "" for n in plan.nodes}


def test_same_config_gives_byte_identical_rulesets_whatever_the_order() -> None:
    firewall = {
        "sshFrom": ["198.51.100.0/24", "2001:db8::/48", "192.0.2.7"],
        "peers": ["10.147.17.128/26", "10.147.17.64/26"],
        "clusterPorts": ["udp/60001", "tcp/6817-6819", "tcp/7000"],
        "openings": {"head": ["tcp/8443", "tcp/443"]},
    }
    first = rulesets(firewall)
    shuffled = copy.deepcopy(firewall)
    for key in ("sshFrom", "peers", "clusterPorts"):
        shuffled[key].reverse()
    shuffled["openings"]["head"].reverse()
    assert rulesets(shuffled) == first
    assert rulesets(firewall) == first


def test_members_are_merged_into_ranges_and_sorted() -> None:
    head = rulesets({"peers": ["10.147.17.64/26", "10.147.17.96/27"], "devices": "all"})["head"]
    # Nodes .1, .11, .12, the device .200, and the peers (one /26 holding the /27).
    assert "elements = { 10.147.17.1, 10.147.17.11-10.147.17.12, 10.147.17.64/26, 10.147.17.200 }" in head


def test_ssh_sources_default_to_anywhere_and_split_by_family() -> None:
    anywhere = rulesets({})["head"]
    assert "elements = { 0.0.0.0/0 }" in anywhere and "elements = { ::/0 }" in anywhere
    limited = rulesets({"sshFrom": ["2001:db8::/48", "192.0.2.7", "192.0.2.0/25"]})["head"]
    assert "elements = { 192.0.2.0/25 }" in limited  # the /32 lies inside the /25
    assert "elements = { 2001:db8::/48 }" in limited


def test_compute_nodes_with_head_and_overlay_take_ssh_from_the_head_only() -> None:
    result = rulesets(
        {"computeSsh": "head-and-overlay", "headAddresses": ["192.168.10.1"], "sshFrom": ["198.51.100.0/24"]},
        ssh={"user": "ops", "proxy": "head"},
    )
    assert "elements = { 198.51.100.0/24 }" in result["head"]
    assert "elements = { 192.168.10.1 }" in result["c1"] and "198.51.100" not in result["c1"]
    assert "tcp dport 2222 ip saddr @ssh_v4" in result["c2"]  # nodes[2].sshdPort


def test_params_name_the_keys_to_fix_and_end_with_the_ruleset() -> None:
    config = copy.deepcopy(BASE)
    config["firewall"] = {"computeSsh": "head-and-overlay", "headAddresses": ["192.168.10.1"]}
    config["ssh"] = {"user": "ops", "proxy": "head"}
    plan = build_plan(parse_cluster(config, base_dir=Path(".")))
    head, _, c2 = plan.nodes
    params = dict(c2.firewall.params.variables(per_node=False) + c2.firewall.params.variables(per_node=True))
    assert params["ZTC_SSH_PORT"] == "2222"
    assert params["ZTC_SSH_PORT_KEY"] == "zerotier-cluster:nodes[2].sshdPort"
    assert params["ZTC_SSH_SOURCES_KEY"] == "zerotier-cluster:firewall.headAddresses"
    assert head.firewall.params.ssh_sources_key == "zerotier-cluster:firewall.sshFrom"
    assert params["ZTC_RULESET"] == c2.ruleset
    assert {k: params[k] for k in ("ZTC_FW_MODE", "ZTC_FW_FAMILY", "ZTC_FW_TABLE", "ZTC_FW_CHAIN")} == {
        "ZTC_FW_MODE": "enforce",
        "ZTC_FW_FAMILY": "inet",
        "ZTC_FW_TABLE": "zerotier_cluster",
        "ZTC_FW_CHAIN": "input",
    }


def test_integrate_mode_owns_a_chain_its_sets_and_one_marked_jump() -> None:
    head = rulesets(
        {"mode": "integrate", "table": "ztc", "integrate": {"family": "ip", "table": "filter", "chain": "in"}}
    )["head"]
    assert "policy" not in head and "drop" not in head  # accepts only: the operator's chain decides the rest
    assert head.rstrip().endswith('insert rule ip filter in jump ztc comment "zerotier-cluster"')
    assert "set ztc_ssh_v4 {" in head and "ssh_v6" not in head and "icmpv6" not in head  # an ip table: IPv4 only
    assert "add chain ip filter ztc\nflush chain ip filter ztc\n" in head


def test_restricted_cluster_ports_are_grouped_per_protocol() -> None:
    c1 = rulesets({"clusterPorts": ["tcp/7000", "tcp/6817-6819", "tcp/6819-6820", "udp/60001"]})["c1"]
    assert 'iifname "zta51146d380" ip saddr @members tcp dport { 6817-6820, 7000 } accept' in c1
    assert 'iifname "zta51146d380" ip saddr @members udp dport 60001 accept' in c1
    assert 'iifname "zta51146d380" ip saddr @members tcp dport 22 accept' in c1  # SSH over the overlay stays
    assert 'ip saddr @members accept comment "cluster members (clusterPorts: all)"' not in c1


def test_the_overlay_interface_is_one_name_derived_from_the_network_name() -> None:
    """zt + sha256(network.name)[:10]: never a zt* pattern that would trust every ZeroTier network."""
    assert fw.overlay_interface(NetworkSpec("lab", IPv4Network("10.147.17.0/24"))) == "zta51146d380"
    assert fw.overlay_interface(NetworkSpec("chpc-overlay", IPv4Network("10.147.17.0/24"))) == "zt050e2a9f6a"
    assert fw.overlay_interface(NetworkSpec("lab", IPv4Network("10.147.17.0/24"), interface="zthpc")) == "zthpc"
    for ruleset in rulesets({}).values():
        assert "zt*" not in ruleset
        assert 'iifname "zta51146d380" ip saddr @members accept' in ruleset


@pytest.mark.parametrize(
    ("value", "ok"),
    [("zthpc", True), ("zt0", True), ("zt-cluster_01", True), ("zt" + "a" * 13, True), ("zt" + "a" * 14, False),
     ("zt", False), ("eth0", False), ("ens3", False), ("ZThpc", False), ("zt*", False), ("zt hpc", False), (5, False)],
)  # fmt: skip
def test_interface_names_must_be_zerotier_names(value: object, ok: bool) -> None:
    problems = fw.interface_problems(value, "zerotier-cluster:network.interface")
    if ok:
        assert problems == []
    else:
        assert [p.key for p in problems] == ["zerotier-cluster:network.interface"]
        assert problems[0].message == f"{value!r} is not a ZeroTier interface name"
        assert "'zt' plus up to 13 letters" in problems[0].fix


def test_a_pinned_interface_name_is_matched_exactly() -> None:
    head = rulesets({}, network={"name": "lab", "cidr": "10.147.17.0/24", "interface": "zthpc"})["head"]
    assert 'iifname "zthpc" ip saddr @members accept' in head and "zt*" not in head


@pytest.mark.parametrize(
    ("firewall", "key"),
    [
        (
            {"clusterPorts": [{"port": "tcp/5000", "from": ["2001:db8::/32"]}]},
            "zerotier-cluster:firewall.clusterPorts[0].from",
        ),
        (
            {"mode": "integrate", "table": "input", "integrate": {"table": "filter", "chain": "input"}},
            "zerotier-cluster:firewall.table",
        ),
    ],
    ids=["ipv6-cluster-port-source", "chain-named-like-the-operators"],
)
def test_config_mistakes_are_named_by_key(firewall: dict[str, Any], key: str) -> None:
    config = copy.deepcopy(BASE)
    config["firewall"] = firewall
    with pytest.raises(ConfigError) as err:
        parse_cluster(config, base_dir=Path("."))
    assert key in err.value.locations()


def test_a_thousand_nodes_render_their_shared_sets_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The member set is rendered once per Firewall; each node only adds its header."""
    count = 1000
    nodes = tuple(
        NodeSpec(f"n{i}", "head" if i == 0 else "compute", f"192.0.2.{i % 250 + 1}", "ops", port=22 + (i % 3))
        for i in range(count)
    )
    spec = ClusterSpec(
        network=NetworkSpec("big", IPv4Network("10.64.0.0/16")),
        nodes=nodes,
        firewall=FirewallSpec(peers=(IPv4Network("10.64.200.0/24"),), ssh_from=(IPv6Network("2001:db8::/32"),)),
    )
    # Every third node skipped: the set stays a long list of single addresses.
    addresses = {n.name: IPv4Address(int(IPv4Address("10.64.0.1")) + 3 * i) for i, n in enumerate(nodes)}
    calls = []
    real = fw._address_elements
    monkeypatch.setattr(fw, "_address_elements", lambda nets, v: calls.append(v) or real(nets, v))
    start = time.perf_counter()
    firewall = Firewall(spec, addresses, addresses["n0"])
    out = [firewall.ruleset(n) for n in nodes]
    elapsed = time.perf_counter() - start
    assert len(calls) == 2 + 2 * 4  # members and devices once; ssh v4/v6 per (role, port): 4 of them
    assert elapsed < 2.0, f"{count} rulesets took {elapsed:.2f}s"
    assert out[1].count(" 10.64.0.4,") == 1 and "10.64.200.0/24" in out[1]
    # Below the header, rulesets differ only by SSH port here (roles share sshFrom and have no openings).
    assert len({r.split("\n", 3)[3] for r in out}) == 3
