"""Bad input stops before anything is declared, with the config key and a fix."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pulumi
import pytest

from cluster.config.parse import parse_cluster
from cluster.config.stackfile import read_stack_config
from cluster.errors import ConfigError
from cluster.spec import Proxy
from tests.mockrun import ROOT

BASE: dict[str, Any] = {
    "network": {
        "name": "chpc-overlay",
        "cidr": "10.147.17.0/24",
        "pool": {"start": "10.147.17.200", "end": "10.147.17.250"},
    },
    "ssh": {"user": "ubuntu"},
    "nodes": [
        {"name": "head", "role": "head", "host": "203.0.113.10", "ip": "10.147.17.1"},
        {"name": "compute-01", "role": "compute", "host": "192.168.10.11", "user": "rocky", "port": 22},
        {"name": "compute-02", "role": "compute", "host": "192.168.10.12"},
    ],
}


def config(**changes: Any) -> dict[str, Any]:
    """BASE with dotted-path changes, e.g. ``config(**{"nodes.1.ip": "10.0.0.1"})``."""
    result = copy.deepcopy(BASE)
    for path, value in changes.items():
        *parents, last = path.split(".")
        target: Any = result
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            target[int(last)] = value
        elif value is DELETE:
            del target[last]
        else:
            target[last] = value
    return result


DELETE = object()


def problems(raw: dict[str, Any], base_dir: Path = ROOT) -> ConfigError:
    with pytest.raises(ConfigError) as err:
        parse_cluster(raw, base_dir=base_dir)
    return err.value


def test_base_is_valid() -> None:
    spec = parse_cluster(BASE, base_dir=ROOT)
    assert [n.name for n in spec.nodes] == ["head", "compute-01", "compute-02"]
    assert spec.nodes[1].user == "rocky"
    assert spec.nodes[2].user == "ubuntu"


def test_pulumi_dev_yaml_is_valid() -> None:
    spec = parse_cluster(read_stack_config(ROOT, "dev"), base_dir=ROOT)
    assert spec.head is not None
    assert len(spec.computes) >= 2


#: Bad input, the key its problem is named under, and words of the message or fix.
BAD_INPUT: list[tuple[dict[str, Any], str, str]] = [
    (config(**{"network.cidr": DELETE}), "zerotier-cluster:network.cidr", "missing"),
    (config(**{"network.cidr": "10.147.17.0/33"}), "zerotier-cluster:network.cidr", "CIDR"),
    (config(**{"network.cidr": "10.147.17.5/24"}), "zerotier-cluster:network.cidr", "host bits"),
    (config(**{"network.cidr": "fd00::/64"}), "zerotier-cluster:network.cidr", "IPv4"),
    (config(**{"network.pool.start": "10.147.18.1"}), "zerotier-cluster:network.pool.start", "outside"),
    (config(**{"network.pool.end": "10.147.17.100"}), "zerotier-cluster:network.pool", "after end"),
    (config(**{"nodes.1": {**BASE["nodes"][1], "ip": "10.147.18.7"}}), "zerotier-cluster:nodes[1].ip", "outside"),
    (config(**{"nodes.1": {**BASE["nodes"][1], "ip": "10.147.17.210"}}), "zerotier-cluster:nodes[1].ip", "pool"),
    (
        config(**{"nodes.2": {**BASE["nodes"][2], "ip": "10.147.17.1"}}),
        "zerotier-cluster:nodes[2].ip",
        "already used",
    ),
    (
        config(**{"nodes.2": {**BASE["nodes"][2], "name": "compute-01"}}),
        "zerotier-cluster:nodes[2].name",
        "already used",
    ),
    (
        config(**{"nodes.2": {**BASE["nodes"][2], "name": "Compute-01"}}),
        "zerotier-cluster:nodes[2].name",
        "already used",
    ),
    (
        config(**{"nodes.2": {**BASE["nodes"][2], "name": "compute_02"}}),
        "zerotier-cluster:nodes[2].name",
        "DNS label",
    ),
    (
        config(**{"nodes.2": {**BASE["nodes"][2], "name": "-compute"}}),
        "zerotier-cluster:nodes[2].name",
        "DNS label",
    ),
    (config(**{"nodes.0": {**BASE["nodes"][0], "role": "compute"}}), "zerotier-cluster:nodes", "no head"),
    (config(**{"nodes.2": {**BASE["nodes"][2], "role": "head"}}), "zerotier-cluster:nodes[2].role", "second head"),
    (config(**{"nodes.2": {**BASE["nodes"][2], "role": "login"}}), "zerotier-cluster:nodes[2].role", "not a role"),
    (config(**{"nodes.1": {**BASE["nodes"][1], "host": "h; reboot"}}), "zerotier-cluster:nodes[1].host", "shell"),
    (config(**{"nodes.1": {**BASE["nodes"][1], "host": "$(id)"}}), "zerotier-cluster:nodes[1].host", "shell"),
    (
        config(**{"nodes.1": {**BASE["nodes"][1], "host": "-oProxyCommand=x"}}),
        "zerotier-cluster:nodes[1].host",
        "option",
    ),
    (config(**{"nodes.1": {**BASE["nodes"][1], "user": "rocky`id`"}}), "zerotier-cluster:nodes[1].user", "shell"),
    (config(**{"ssh.user": "ubuntu && id"}), "zerotier-cluster:ssh.user", "shell"),
    (config(**{"network.networkId": "8056c2e21c1930b"}), "zerotier-cluster:network.networkId", "network ID"),
    (config(**{"network.networkId": "zz56c2e21c1930be"}), "zerotier-cluster:network.networkId", "network ID"),
    (
        config(
            **{
                "network.cidr": "10.147.17.0/29",
                "network.pool": DELETE,
                "nodes.0": {**BASE["nodes"][0], "ip": DELETE},
            },
            nodes=BASE["nodes"][:1] + [{"name": f"c{i}", "host": f"10.0.0.{i}"} for i in range(6)],
        ),
        "zerotier-cluster:nodes",
        "6 nodes and devices need an address but only 5",
    ),
    (config(**{"network.cidr": "10.147.17.0/30", "network.pool": DELETE}), "zerotier-cluster:nodes", "only 1"),
    (config(**{"nodes.1": {**BASE["nodes"][1], "port": 70000}}), "zerotier-cluster:nodes[1].port", "range"),
    (config(**{"nodse": []}), "zerotier-cluster:nodse", "did you mean zerotier-cluster:nodes"),
    (config(**{"nodes.1": {**BASE["nodes"][1], "adress": "x"}}), "zerotier-cluster:nodes[1].adress", "recognised"),
    (config(**{"zerotierVersion": "latest"}), "zerotier-cluster:zerotierVersion", "version"),
    (config(**{"joinTimeout": 0}), "zerotier-cluster:joinTimeout", "range"),
    (
        config(**{"nodes.1": {**BASE["nodes"][1], "hostKey": "ssh-ed25519 not base64!"}}),
        "zerotier-cluster:nodes[1].hostKey",
        "host key",
    ),
]


@pytest.mark.parametrize(("raw", "key", "words"), BAD_INPUT)
def test_bad_input_names_the_key_and_the_fix(raw: dict[str, Any], key: str, words: str) -> None:
    err = problems(raw)
    matching = [p for p in err.problems if p.key == key]
    assert matching, f"expected a problem at {key}, got {err.locations()}"
    assert any(words.lower() in (p.message + p.fix).lower() for p in matching), matching
    assert all(p.fix for p in err.problems)
    assert key in str(err) and "fix:" in str(err)


def test_every_problem_is_reported_at_once() -> None:
    raw = config(
        **{
            "nodes.1": {**BASE["nodes"][1], "host": "a|b"},
            "nodes.2": {**BASE["nodes"][2], "role": "login"},
            "network.networkId": "nope",
        }
    )
    assert {
        "zerotier-cluster:nodes[1].host",
        "zerotier-cluster:nodes[2].role",
        "zerotier-cluster:network.networkId",
    } <= set(problems(raw).locations())


def test_compute_ssh_restricted_to_the_head_needs_a_path_through_the_head() -> None:
    raw = config(firewall={"computeSsh": "head-and-overlay"})
    keys = problems(raw).locations()
    assert "zerotier-cluster:firewall.headAddresses" in keys
    assert "zerotier-cluster:nodes[1].proxy" in keys
    fixed = config(
        firewall={"computeSsh": "head-and-overlay", "headAddresses": ["192.168.10.1"]},
        ssh={"user": "ubuntu", "proxy": "head"},
    )
    spec = parse_cluster(fixed, base_dir=ROOT)
    assert spec.nodes[1].proxy is not None and spec.nodes[1].proxy.host == "203.0.113.10"
    assert spec.nodes[0].proxy is None, "the head is not its own jump host"


HEAD_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB"


def test_a_node_behind_the_head_reaches_it_as_the_head_is_reached_with_its_pinned_key() -> None:
    """``proxy: head`` is the head's whole connection: its host, login, port and host key (no key: any head)."""
    head = {**BASE["nodes"][0], "user": "ops", "port": 2200, "hostKey": HEAD_KEY}
    spec = parse_cluster(config(ssh={"user": "ubuntu", "proxy": "head"}, **{"nodes.0": head}), base_dir=ROOT)
    assert [n.proxy for n in spec.nodes] == [None, *[Proxy("203.0.113.10", "ops", 2200, HEAD_KEY)] * 2]


def test_proxy_head_needs_a_head_whose_host_and_login_are_text_not_outputs() -> None:
    """A login known only at ``pulumi up`` (an Output) cannot be a jump host's, which ssh reads from text."""
    head = {**BASE["nodes"][0], "user": pulumi.Output.from_input("ops")}
    err = problems(config(ssh={"user": "ubuntu", "proxy": "head"}, **{"nodes.0": head}))
    fix = "give the jump host as a mapping with host, user and port"
    message = "is 'head', but there is no head node here whose host and user are plain text"
    assert [(p.key, p.message, p.fix) for p in err.problems] == [
        ("zerotier-cluster:nodes[1].proxy", message, fix),
        ("zerotier-cluster:nodes[2].proxy", message, fix),
    ]
    # a node without a login is named once, for its login: it is not read further
    err = problems(config(ssh={"proxy": "head"}, **{"nodes.0": head}))
    assert [(p.key, p.message) for p in err.problems] == [
        ("zerotier-cluster:nodes[2].user", "no login user for this node"),
        ("zerotier-cluster:nodes[1].proxy", message),
    ]


def test_roots_head_needs_an_endpoint_when_the_heads_host_is_known_only_at_deploy_time() -> None:
    """A moon's endpoint is written into its definition before ``pulumi up`` knows an Output host."""
    head = {**BASE["nodes"][0], "host": pulumi.Output.from_input("203.0.113.10")}
    err = problems(config(controller="head", roots="head", **{"nodes.0": head}))
    assert [(p.key, p.message, p.fix) for p in err.problems] == [
        (
            "zerotier-cluster:rootEndpoint",
            "is not set and the head's host (known only at deploy time) is not an IPv4 address, which a moon needs",
            "set rootEndpoint to the head's IPv4 address as the other nodes reach it, e.g. 192.168.10.1",
        )
    ]


def test_nodes_after_one_with_a_deploy_time_host_are_still_checked_for_one_target() -> None:
    head = {**BASE["nodes"][0], "host": pulumi.Output.from_input("203.0.113.10")}
    err = problems(config(**{"nodes.0": head, "nodes.2.host": "192.168.10.11", "nodes.2.user": "rocky"}))
    assert [(p.key, p.message) for p in err.problems] == [
        ("zerotier-cluster:nodes[2].host", "192.168.10.11 port 22 is also the SSH target of zerotier-cluster:nodes[1]")
    ]


def test_a_node_without_a_site_is_in_the_stacks_site() -> None:
    """The program passes the stack's name: ``zerotier.sites`` and slurmTopology key on it."""
    spec = parse_cluster(config(), base_dir=ROOT, stack="onprem")
    assert [spec.site_of(n) for n in spec.nodes] == ["onprem"] * 3
    assert parse_cluster(config(), base_dir=ROOT).default_site == "cluster"


def test_devices_are_checked_like_nodes() -> None:
    bad_address = config(devices=[{"name": "alice", "address": "xyz"}])
    assert "zerotier-cluster:devices[0].address" in problems(bad_address).locations()
    clash = config(devices=[{"name": "head", "address": "0123456789"}])
    assert "zerotier-cluster:devices[0].name" in problems(clash).locations()
    pinned = config(devices=[{"name": "alice", "address": "0123456789", "ip": "10.147.17.1"}])
    assert "zerotier-cluster:devices[0].ip" in problems(pinned).locations()


def test_slice_must_sit_inside_the_cidr_and_outside_the_pool() -> None:
    assert "zerotier-cluster:network.slice" in problems(config(**{"network.slice": "10.147.18.0/26"})).locations()
    assert "zerotier-cluster:network.slice" in problems(config(**{"network.slice": "10.147.17.192/26"})).locations()
    pinned_outside = config(**{"network.slice": "10.147.17.64/26"})
    assert "zerotier-cluster:nodes[0].ip" in problems(pinned_outside).locations()


def test_remote_head_replaces_the_local_head() -> None:
    raw = config(
        **{"network.fromStack": "acme/zerotier-cluster/onprem", "network.slice": "10.147.17.64/26"},
        remoteHead={"name": "head", "ip": "10.147.17.1"},
        nodes=[{"name": "burst-01", "host": "198.51.100.20"}],
    )
    spec = parse_cluster(raw, base_dir=ROOT)
    assert spec.head is None and spec.remote_head is not None
    bad = copy.deepcopy(raw)
    bad["nodes"].append({"name": "head2", "role": "head", "host": "198.51.100.21"})
    assert "zerotier-cluster:nodes[1].role" in problems(bad).locations()
