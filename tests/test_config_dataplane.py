"""``network.mtu`` and ``zerotier-cluster:zerotier``: what the plan gives each node, each bad input named by key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cluster.config.parse import parse_cluster
from cluster.errors import ConfigError
from cluster.plan.build import build_plan
from tests.lab.provision import cluster_config

NODES = [
    {"name": "head", "role": "head", "host": "192.168.10.1", "ip": "10.147.17.1"},
    {"name": "compute-01", "host": "192.168.10.11", "site": "rack-a"},
    {"name": "burst-01", "host": "198.51.100.21", "site": "cloud"},
]


BUILT_IN = ["zt", "docker", "br-", "veth", "virbr", "lxcbr", "cni", "flannel", "cali", "tun", "tap", "wg", "tailscale"]


def config(*, head: bool = True, zerotier: dict[str, Any] | None = None, **network: Any) -> dict[str, Any]:
    made = cluster_config(NODES, network=network, controller="head" if head else "central", zerotier=zerotier or {})
    if head:
        del made["network"]["networkId"]
    return made


def problems(made: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as err:
        parse_cluster(made, base_dir=Path("."))
    return [str(p) for p in err.value.problems]


def test_each_site_gets_its_physical_paths_and_every_node_the_settings() -> None:
    zerotier = {
        "allowTcpFallbackRelay": True,
        "interfacePrefixBlacklist": ["ib-mgmt", "docker"],
        "multicore": "true",
        "concurrency": 4,
        "sites": {
            "rack-a": {
                "physical": {"10.10.0.0/16": {"mtu": 9000, "trustedPathId": 101}, "10.20.0.0/24": {"blacklist": True}}
            }
        },
    }
    plan = build_plan(parse_cluster(config(zerotier=zerotier, mtu=9000), base_dir=Path(".")))
    by_name = {n.name: n.localconf.params for n in plan.nodes}
    settings = (
        '"settings":{"allowTcpFallbackRelay":true,"interfacePrefixBlacklist":["zt","docker","br-","veth","virbr",'
        '"lxcbr","cni","flannel","cali","tun","tap","wg","tailscale","ib-mgmt"]}}'
    )
    assert by_name["compute-01"].settings == (
        '{"physical":{"10.10.0.0/16":{"mtu":9000,"trustedPathId":101},"10.20.0.0/24":{"blacklist":true}},' + settings
    )
    assert by_name["head"].settings == "{" + settings
    assert by_name["burst-01"].settings == "{" + settings
    assert (by_name["head"].multicore, by_name["head"].concurrency, by_name["head"].min_cores) == ("true", "4", "8")
    assert plan.controller is not None
    assert json.loads(plan.controller.network.params.settings)["mtu"] == 9000
    verify = next(n for n in plan.nodes if n.name == "head").verify.params
    assert verify.mtu == "9000"
    assert plan.slurm_topology == (
        "SwitchName=site-cloud Nodes=burst-01\nSwitchName=site-rack-a Nodes=compute-01\n"
        "SwitchName=overlay Switches=site-cloud,site-rack-a\n"
    )


def test_defaults_write_the_built_in_blacklist_no_tcp_relay_and_mtu_2800() -> None:
    plan = build_plan(parse_cluster(config(), base_dir=Path(".")))
    head = plan.nodes[0]
    assert json.loads(head.localconf.params.settings) == {
        "settings": {"allowTcpFallbackRelay": False, "interfacePrefixBlacklist": BUILT_IN},
    }
    assert (head.localconf.params.multicore, head.localconf.params.concurrency) == ("auto", "")
    assert plan.controller is not None
    assert json.loads(plan.controller.network.params.settings)["mtu"] == 2800


def test_an_mtu_outside_zerotiers_range_is_refused() -> None:
    for mtu in (1279, 10001):
        assert problems(config(mtu=mtu)) == [
            f"zerotier-cluster:network.mtu: {mtu} is out of range\n    fix: use a number from 1280 to 10000"
        ]


def test_a_non_default_mtu_with_central_is_refused_and_says_where_to_set_it() -> None:
    assert problems(config(head=False, mtu=9000)) == [
        "zerotier-cluster:network.mtu: is 9000, but ZeroTier Central's Terraform provider (zerotier/zerotier 1.6.0) "
        "has no network MTU\n    fix: set the MTU in ZeroTier Central itself (the network's settings; config.mtu in "
        "Central's API), remove this key, or use controller: head, which sets it"
    ]
    parse_cluster(config(head=False, mtu=2800), base_dir=Path("."))  # the default is what Central has anyway


def test_trusted_paths_only_on_one_sites_private_fabric() -> None:
    public = {"sites": {"cloud": {"physical": {"198.51.100.0/24": {"trustedPathId": 7}}}}}
    assert problems(config(zerotier=public)) == [
        "zerotier-cluster:zerotier.sites.cloud.physical.198.51.100.0/24.trustedPathId: is set on 198.51.100.0/24, "
        "which is not a private range: traffic there could cross the internet unencrypted and unauthenticated\n"
        "    fix: set trustedPathId only on a site's private fabric (10/8, 172.16/12, 192.168/16, fc00::/7)"
    ]
    overlapping = {
        "sites": {
            "rack-a": {"physical": {"10.10.0.0/16": {"trustedPathId": 7}}},
            "cloud": {"physical": {"10.10.5.0/24": {"mtu": 1400}}},
        }
    }
    assert problems(config(zerotier=overlapping)) == [
        "zerotier-cluster:zerotier.sites.rack-a.physical.10.10.0.0/16.trustedPathId: 10.10.0.0/16 overlaps site "
        "cloud's 10.10.5.0/24: a trusted path must stay inside one site\n"
        "    fix: declare the trusted fabric under one site only, with a network no other site uses"
    ]
    # The head (site: the stack) is on 192.168.10.0/24 too: a trusted path there would reach it.
    reaching = {"sites": {"rack-a": {"physical": {"192.168.10.0/24": {"trustedPathId": 7}}}}}
    assert problems(config(zerotier=reaching)) == [
        "zerotier-cluster:zerotier.sites.rack-a.physical.192.168.10.0/24.trustedPathId: 192.168.10.0/24 contains "
        "head's address 192.168.10.1, and head is in site cluster\n"
        "    fix: a trusted path must not reach another site: narrow the network, or move the node to this site"
    ]


def test_a_blacklist_over_a_nodes_own_path_is_refused() -> None:
    zerotier = {"sites": {"rack-a": {"physical": {"192.168.10.0/28": {"blacklist": True}}}}}
    assert problems(config(zerotier=zerotier)) == [
        "zerotier-cluster:zerotier.sites.rack-a.physical.192.168.10.0/28.blacklist: covers head's address "
        "192.168.10.1, the path SSH and ZeroTier use\n"
        "    fix: blacklist a narrower network (a management or IPMI range) that none of them is in"
    ]


def test_other_bad_settings_name_their_key() -> None:
    assert problems(config(zerotier={"multicore": "false", "concurrency": 3})) == [
        "zerotier-cluster:zerotier.concurrency: is set, but multicore is false\n"
        "    fix: remove concurrency, or set multicore: true or auto"
    ]
    assert problems(config(zerotier={"concurrency": 1})) == [
        "zerotier-cluster:zerotier.concurrency: 1 is out of range\n    fix: use a number from 2 to 1024"
    ]
    assert problems(config(zerotier={"interfacePrefixBlacklist": ["eth"]})) == [
        "zerotier-cluster:zerotier.interfacePrefixBlacklist[0]: 'eth' would keep ZeroTier off interfaces named like "
        "a node's main one (eth0)\n    fix: blacklist a management network by address instead: "
        "sites.<site>.physical.<cidr>: {blacklist: true}"
    ]
    assert problems(config(zerotier={"sites": {"rack-b": {}}})) == [
        "zerotier-cluster:zerotier.sites.rack-b: is no node's site (the nodes' sites: cloud, cluster, rack-a)\n"
        "    fix: did you mean 'rack-a'?"
    ]
    assert problems(config(zerotier={"sites": {"rack-a": {"physical": {"10.9.0.0/16": {}}}}})) == [
        "zerotier-cluster:zerotier.sites.rack-a.physical.10.9.0.0/16: sets nothing\n"
        "    fix: give it mtu, blacklist: true or trustedPathId, or remove it"
    ]
    assert problems(config(zerotier={"sites": {"rack-a": {"physical": {"10.9.0.0/16": {"mtu": 1300}}}}})) == [
        "zerotier-cluster:zerotier.sites.rack-a.physical.10.9.0.0/16.mtu: 1300 is out of range\n"
        "    fix: use a number from 1400 to 10324"
    ]
    assert problems(config(zerotier={"sites": {"rack-a": {"physical": {"not-a-net": {"mtu": 1400}}}}})) == [
        "zerotier-cluster:zerotier.sites.rack-a.physical.not-a-net: is not a network in CIDR form\n"
        "    fix: write it like 10.10.0.0/16 (host bits zero, not /0)"
    ]
