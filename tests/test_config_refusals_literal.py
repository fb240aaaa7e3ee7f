"""Every refusal the config checks make, word for word, against a reviewed file: what an operator reads.

The other config tests say which key a problem is named under and a word of
its message. This one holds each whole problem (key, message, fix) for every
bad input the suite knows (``tests/test_config_hostile.py``'s hostile cases,
``tests/test_config.py``'s bad input, inventory shapes, and the cases below,
each at a bound or a branch of ``cluster/config/parse.py`` or
``inventory.py`` that no other test reaches) in
``tests/config_golden/refusals.json``. An input that is accepted is recorded
as accepted, so a case at a bound shows both sides. After a deliberate
change of a message, write the file again and read the diff::

    python3 -m tests.test_config_refusals_literal
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from cluster.config.parse import parse_cluster
from cluster.errors import ConfigError
from tests.mockrun import ROOT
from tests.test_config import BAD_INPUT, BASE, DELETE, config
from tests.test_config_hostile import HOSTILE, INVENTORY_SHAPES, node

GOLDEN = Path(__file__).resolve().parent / "config_golden" / "refusals.json"
ED25519_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB"


def sliced(slice_: str, start: str, end: str) -> dict[str, Any]:
    """BASE with ``slice_`` and a pool of ``start``-``end``, its head's address left to the allocation."""
    head = {k: v for k, v in BASE["nodes"][0].items() if k != "ip"}
    return config(**{"network.slice": slice_, "network.pool": {"start": start, "end": end}, "nodes.0": head})


def many_nodes(count: int) -> dict[str, Any]:
    """A head and ``count - 1`` compute nodes in a /14: ``nodes`` at its bound."""
    nodes = [{"name": "head", "role": "head", "host": "head.example"}]
    nodes += [{"name": f"c{i:05d}", "host": f"c{i:05d}.example"} for i in range(1, count)]
    return {**config(nodes=nodes), "network": {"name": "big", "cidr": "10.144.0.0/14"}}


def reached_in_overlay(count: int) -> dict[str, Any]:
    """BASE with ``count`` nodes whose SSH addresses lie inside the overlay's own cidr."""
    nodes = [{**node, "host": f"10.147.17.{101 + i}"} for i, node in enumerate(BASE["nodes"])]
    nodes += [{"name": f"compute-0{i}", "host": f"10.147.17.{101 + i}"} for i in range(3, count)]
    return config(nodes=nodes)


def on_another_stacks_network(**changes: Any) -> dict[str, Any]:
    """A burst stack on another stack's network, its head remote, with ``changes`` over it."""
    network = {"name": "lab", "cidr": "10.147.17.0/24", "fromStack": "acme/zc/onprem", "slice": "10.147.17.64/26"}
    return {
        "network": network,
        "ssh": {"user": "ops"},
        "remoteHead": {"name": "head", "ip": "10.147.17.1"},
        "nodes": [{"name": "burst-01", "host": "198.51.100.20", "ip": "10.147.17.70"}],
        **changes,
    }


#: Inputs at a bound or a branch of the readers that no other case reaches: (name, raw config).
EXTRA: list[tuple[str, dict[str, Any]]] = [
    # network: the cidr, its pool and this stack's slice
    ("cidr-31", config(**{"network.cidr": "10.147.17.0/31", "network.pool": DELETE})),
    ("cidr-30", config(**{"network.cidr": "10.147.17.0/30", "network.pool": DELETE, "nodes": BASE["nodes"][:2]})),
    ("cidr-public", config(**{"network.cidr": "8.8.8.0/24", "network.pool": DELETE})),
    ("cidr-leading-zero", config(**{"network.cidr": "10.147.017.0/24"})),
    ("cidr-number", config(**{"network.cidr": 10})),
    ("pool-end-outside", config(**{"network.pool": {"start": "10.147.17.200", "end": "10.147.18.5"}})),
    ("pool-start-outside", config(**{"network.pool": {"start": "10.147.16.200", "end": "10.147.17.5"}})),
    ("pool-backwards", config(**{"network.pool": {"start": "10.147.17.250", "end": "10.147.17.200"}})),
    ("pool-one-address", config(**{"network.pool": {"start": "10.147.17.200", "end": "10.147.17.200"}})),
    ("slice-outside", config(**{"network.slice": "10.147.18.0/26"})),
    # a slice sharing one address with the pool, at either end, and one beside it (no node pinned outside it)
    ("slice-touches-pool-end", sliced("10.147.17.248/29", "10.147.17.200", "10.147.17.248")),
    ("slice-touches-pool-start", sliced("10.147.17.192/29", "10.147.17.199", "10.147.17.250")),
    ("slice-beside-pool", sliced("10.147.17.192/29", "10.147.17.200", "10.147.17.250")),
    # secrets, rules, the installer
    ("plain-ssh-key", config(sshPrivateKey="-----BEGIN OPENSSH PRIVATE KEY-----")),
    ("rules-bogus", config(rules={"extra": "accept dprt 22;"})),
    ("installer-url-number", config(installer={"url": 5})),
    ("installer-url-ftp", config(installer={"url": "ftp://mirror.example/install.sh"})),
    ("installer-key-url-http", config(installer={"keyUrl": "http://keys.example/key.gpg"})),
    ("fingerprint-short", config(installer={"keyFingerprint": "74A5E9C458E1A431"})),
    ("fingerprint-number", config(installer={"keyFingerprint": 74})),
    ("fingerprint-spaced", config(installer={"keyFingerprint": "74A5 E9C4 58E1 A431 F1DA 57A7 1657 1988 23E5 2A61"})),
    # nodes and inventories
    ("nodes-missing", config(nodes=DELETE)),
    ("nodes-10000", many_nodes(10_000)),
    ("nodes-10001", many_nodes(10_001)),
    ("inventory-path-201", {**config(nodes=DELETE), "inventory": "X" * 201}),
    ("nodes-and-inventory", config(inventory="hosts.yaml")),
    ("inventory-number", {**config(nodes=DELETE), "inventory": 5}),
    ("inventory-empty", {**config(nodes=DELETE), "inventory": ""}),
    ("nodes-empty", config(nodes=[])),
    ("nodes-mapping", config(nodes={"head": {}})),
    ("node-name-digits", config(**node(1, name="1234"))),
    ("node-host-key-bad", config(**node(1, hostKey="ssh-ed25519 AAAA"))),
    ("node-host-key-good", config(**node(1, hostKey=ED25519_KEY))),
    # devices
    ("device-address-reserved", config(devices=[{"name": "alice", "address": "ff00000001", "ip": "10.147.17.100"}])),
    ("device-address-zero", config(devices=[{"name": "alice", "address": "0000000000", "ip": "10.147.17.100"}])),
    ("device-address-short", config(devices=[{"name": "alice", "address": "a1b2c3", "ip": "10.147.17.100"}])),
    ("device-name-digits", config(devices=[{"name": "42", "address": "a1b2c3d4e5", "ip": "10.147.17.100"}])),
    ("network-id-reserved", config(**{"network.networkId": "ff00000000123456"})),
    ("network-id-zero", config(**{"network.networkId": "0000000000123456"})),
    # firewall rules and names
    ("opening-port-0", config(firewall={"openings": {"head": ["tcp/0"]}})),
    ("opening-port-65536", config(firewall={"openings": {"head": ["tcp/65536"]}})),
    ("opening-range-backwards", config(firewall={"openings": {"head": ["tcp/90-80"]}})),
    ("opening-sctp", config(firewall={"openings": {"head": ["sctp/80"]}})),
    ("opening-number", config(firewall={"openings": {"head": [80]}})),
    ("opening-from-v6", config(firewall={"openings": {"head": [{"port": "tcp/80", "from": ["fd00::/8"]}]}})),
    ("opening-from-bad", config(firewall={"openings": {"head": [{"port": "tcp/80", "from": ["everywhere"]}]}})),
    ("opening-no-port", config(firewall={"openings": {"head": [{"from": ["10.0.0.0/8"]}]}})),
    ("cluster-ports-v6", config(firewall={"clusterPorts": [{"port": "tcp/6817", "from": ["fd00::/8"]}]})),
    ("cluster-ports-word", config(firewall={"clusterPorts": "some"})),
    (
        "integrate-table-bad",
        config(firewall={"mode": "integrate", "integrate": {"table": "my table", "chain": "input"}}),
    ),
    ("integrate-chain-long", config(firewall={"mode": "integrate", "integrate": {"table": "t", "chain": "c" * 300}})),
    ("firewall-table-bad", config(firewall={"table": "zerotier-cluster"})),
    # SSH sources that would lock the program out: IPv6 only while nodes are reached over IPv4
    (
        "ssh-from-v6-one-ipv4",
        config(firewall={"sshFrom": ["fd00::/8"]}, **{"nodes.1.host": "c1.example", "nodes.2.host": "c2.example"}),
    ),
    ("ssh-from-v6-three-ipv4", config(firewall={"sshFrom": ["fd00::/8"]})),
    (
        "ssh-from-v6-four-ipv4",
        config(
            firewall={"sshFrom": ["fd00::/8"]},
            nodes=[*BASE["nodes"], {"name": "compute-03", "host": "192.168.10.13"}],
        ),
    ),
    (
        "ssh-from-v6-five-ipv4",
        config(
            firewall={"sshFrom": ["fd00::/8"]},
            nodes=BASE["nodes"] + [{"name": f"compute-0{i}", "host": f"192.168.10.1{i}"} for i in (3, 4)],
        ),
    ),
    (
        "ssh-from-v6-hostnames",
        config(firewall={"sshFrom": ["fd00::/8"]}, **{f"nodes.{i}.host": f"n{i}.example" for i in range(3)}),
    ),
    ("ssh-from-v6-firewall-off", config(firewall={"mode": "off", "sshFrom": ["fd00::/8"]})),
    # compute nodes behind the head: their SSH comes from the head's addresses, which must be listed
    ("compute-ssh-via-head-no-addresses", config(firewall={"computeSsh": "head-and-overlay"})),
    (
        "compute-ssh-via-head-v6",
        config(
            firewall={"computeSsh": "head-and-overlay", "headAddresses": ["fd00::1"], "sshFrom": ["fd00::/8"]},
            ssh={"user": "ubuntu", "proxy": "head"},
            **{"nodes.0.host": "head.example"},
        ),
    ),
    # SSH addresses inside the overlay, named up to three
    ("underlay-three", reached_in_overlay(3)),
    ("underlay-four", reached_in_overlay(4)),
    ("underlay-five", reached_in_overlay(5)),
    # peers: other stacks' slices, never touching the pool (at either end) or this stack's slice
    ("peer-touches-pool-end", config(firewall={"peers": ["10.147.17.250/31"]})),
    ("peer-touches-pool-start", config(firewall={"peers": ["10.147.17.200/32"]})),
    ("peer-beside-pool", config(firewall={"peers": ["10.147.17.128/27"]})),
    (
        "peer-overlaps-slice",
        config(
            firewall={"peers": ["10.147.17.96/27"]},
            **{"network.slice": "10.147.17.64/26", "nodes.0.ip": "10.147.17.65"},
        ),
    ),
    # a device listed twice
    (
        "device-twice",
        config(devices=[{"name": "alice", "address": "a1b2c3d4e5"}, {"name": "bob", "address": "a1b2c3d4e5"}]),
    ),
    # a remote head beside a head of this stack's own, on a network this stack creates or joins
    ("remote-head-and-head", config(remoteHead={"name": "other", "ip": "10.147.17.9"})),
    (
        "remote-head-network-id",
        config(
            remoteHead={"name": "other", "ip": "10.147.17.9"},
            nodes=[{**BASE["nodes"][1], "role": "compute"}],
            **{"network.networkId": "8056c2e21c000001"},
        ),
    ),
    # a remote head's name is a node's name in another case
    (
        "remote-head-name-clash",
        on_another_stacks_network(remoteHead={"name": "Burst-01", "ip": "10.147.17.1"}),
    ),
    # a head controller needs this stack's own head and its own network
    (
        "controller-head-remote-head",
        on_another_stacks_network(controller="head"),
    ),
    ("controller-head-no-head", config(controller="head", nodes=[{**BASE["nodes"][1], "role": "compute"}])),
    ("controller-head-network-id", config(controller="head", **{"network.networkId": "8056c2e21c000001"})),
    ("controller-central-no-head", config(controller="central", nodes=[{**BASE["nodes"][1], "role": "compute"}])),
    # roots and endpoints
    ("root-endpoint-without-roots-head", config(rootEndpoint="192.168.10.1")),
    ("roots-head-no-head", config(roots="head", nodes=[{**BASE["nodes"][1], "role": "compute"}])),
    ("roots-head-host-name", config(controller="head", roots="head", **{"nodes.0.host": "head.example"})),
    (
        "roots-head-host-name-endpoint",
        config(controller="head", roots="head", rootEndpoint="192.168.10.1", **{"nodes.0.host": "head.example"}),
    ),
    ("root-endpoint-bad", config(controller="head", roots="head", rootEndpoint="not an address")),
    ("root-endpoint-port", config(controller="head", roots="head", rootEndpoint="192.168.10.1/9993")),
]


HEAD = "head: {hosts: {h1: }}\n"


def wide(width: int) -> str:
    """An inventory whose compute group has ``width`` children sharing ``width`` children (a YAML alias)."""
    shared = ", ".join(f"h{i}: " for i in range(width))
    groups = [f"    g0: {{children: &k {{{shared}}}}}\n"] + [f"    g{i}: {{children: *k}}\n" for i in range(1, width)]
    return HEAD + "compute:\n  children:\n" + "".join(groups)


def nested(depth: int) -> str:
    """An inventory whose compute group has ``depth`` generations of child groups."""
    chain = "".join(f"{'  ' * (2 * i + 2)}g{i}:\n{'  ' * (2 * i + 3)}children:\n" for i in range(depth))
    return HEAD + "compute:\n  children:\n" + chain


#: Inventories at the reader's bounds and branches, beside ``INVENTORY_SHAPES``: (name, hosts.yaml's text).
INVENTORIES: list[tuple[str, str]] = [
    ("not-a-mapping", "- head\n- compute\n"),
    ("group-name-spaced", HEAD + "'my group': {hosts: {c1: }}\n"),
    ("group-name-number", HEAD + "7: {hosts: {c1: }}\n"),
    ("range-backwards", HEAD + "compute: {hosts: {'c[9:1]': }}\n"),
    ("range-mixed", HEAD + "compute: {hosts: {'c[a:9]': }}\n"),
    ("pattern-255", HEAD + "compute: {hosts: {'" + "c" * 250 + "[1:2]': }}\n"),
    ("pattern-256", HEAD + "compute: {hosts: {'" + "c" * 251 + "[1:2]': }}\n"),
    # one range of exactly 10,000 hosts, alone and beside a head; two ranges past it are one problem
    ("range-10000-alone", "compute: {hosts: {'c[1:10000]': }}\n"),
    ("range-10000-and-head", HEAD + "compute: {hosts: {'c[1:10000]': }}\n"),
    ("two-ranges-past", HEAD + "compute: {hosts: {'c[1:10001]': , 'd[1:10001]': }}\n"),
    # the same 9,999 hosts named in groups until 40,000 expanded names, and one name past it
    (
        "expanded-40000",
        HEAD + "".join(f"g{i}: {{hosts: {{'c[1:9999]': }}}}\n" for i in range(4)) + "g4: {hosts: {'c[1:3]': }}\n",
    ),
    (
        "expanded-40001",
        HEAD + "".join(f"g{i}: {{hosts: {{'c[1:9999]': }}}}\n" for i in range(4)) + "g4: {hosts: {'c[1:4]': }}\n",
    ),
    # variables: a state in any case or of another type, vars and host variables that are not mappings,
    # a group priority that is not a whole number, a host's own state over its groups'
    ("state-number", HEAD + "compute: {hosts: {c1: {state: 5}}}\n"),
    ("state-unknown", HEAD + "compute: {hosts: {c1: {state: gone}}}\n"),
    ("state-upper", HEAD + "compute: {hosts: {c1: {state: ACTIVE}}}\n"),
    ("state-on-host", HEAD + "compute: {vars: {state: active}, hosts: {c1: {state: evicted}, c2: }}\n"),
    ("host-vars-list", HEAD + "compute: {hosts: {c1: [ansible_host]}}\n"),
    ("vars-list", HEAD + "compute: {vars: [ansible_user], hosts: {c1: }}\n"),
    ("priority-flag", HEAD + "compute: {vars: {ansible_group_priority: true}, hosts: {c1: }}\n"),
    ("priority-text", HEAD + "compute: {vars: {ansible_group_priority: '5'}, hosts: {c1: }}\n"),
    ("priority-number", HEAD + "compute: {vars: {ansible_group_priority: 5, ansible_port: 2200}, hosts: {c1: }}\n"),
    ("padded-range", HEAD + "compute: {hosts: {'c[08:10]': , 'd[0:1]': , 'e[9:10]': }}\n"),
    # group precedence: a group that sorts before "all" still overrides all's variables (it is all's child)
    (
        "group-over-all",
        "all: {vars: {ansible_port: 1000}}\na0: {vars: {ansible_port: 3000}, hosts: {c1: }}\n"
        + HEAD
        + "compute: {hosts: {c1: }}\n",
    ),
    ("no-nodes", "all: {vars: {ansible_user: u}}\nweb: {hosts: {w1: }}\n"),
    # groups nested to the bound and one past it
    # what a group holds, in the wrong shape; a key nobody reads, cut in its name
    ("hosts-list", HEAD + "compute: {hosts: [c1]}\n"),
    ("children-list", HEAD + "compute: {children: [a]}\n"),
    # a child named by a number is refused and what is under it is not read (its own mistakes are not named)
    ("child-name-number", HEAD + "compute: {children: {7: {hosts: [c1]}}, hosts: {c2: }}\n"),
    ("group-key-long", HEAD + "compute: {hosts: {c1: }, " + "k" * 50 + ": 1}\n"),
    # a host's own state is checked under a group that evicts it
    ("state-host-word-under-evicted-group", HEAD + "compute: {vars: {state: evicted}, hosts: {c1: {state: gone}}}\n"),
    # two hosts at one SSH target, named by the inventory's own key
    ("one-target-twice", HEAD + "compute: {hosts: {c1: {ansible_host: 10.0.0.5}, c2: {ansible_host: 10.0.0.5}}}\n"),
    ("nested-32", nested(32)),
    ("nested-33", nested(33)),
    # a state that loses to another is still checked; two evicted states are one
    ("state-overridden-number", HEAD + "compute: {vars: {state: 5}, hosts: {c1: {state: active}}}\n"),
    ("state-overridden-word", HEAD + "compute: {vars: {state: paused}, hosts: {c1: {state: active}}}\n"),
    ("tag-misnames-value", HEAD + "compute: {hosts: {c1: {generation: !!timestamp nonsense}}}\n"),
    ("state-overridden-upper", HEAD + "compute: {vars: {state: ACTIVE}, hosts: {c1: {state: active}}}\n"),
    ("top-group-read-as-true", HEAD + "on: {hosts: {c1: }}\ncompute: {hosts: {c1: }}\n"),
    ("state-evicted-twice", HEAD + "compute: {vars: {state: evicted}, hosts: {c1: {state: evicted}}}\n"),
    # the current variable's place names a problem both spellings share
    ("legacy-and-current-host", HEAD + "compute: {hosts: {c1: {ansible_host: '-oX', ansible_ssh_host: '-oX'}}}\n"),
    # every host in both roles is named; after the cap, no more problems
    ("two-hosts-in-both-roles", "head: {hosts: {h1: , h2: }}\ncompute: {hosts: {h1: , h2: }}\n"),
    ("past-the-cap-twice", HEAD + "compute: {hosts: {'c[1:9999]': , 'd[1:2]': , 'e[1:2]': }}\n"),
    # group visits: 90 groups sharing 90 children, and 102 sharing 102 (past 10,000 visits)
    ("group-visits-8190", wide(90)),
    ("group-visits-10506", wide(102)),
]


def cases() -> dict[str, dict[str, Any] | str]:
    """Every input, by a name unique in the file: a config, or an inventory's text."""
    out: dict[str, dict[str, Any] | str] = {f"hostile:{name}": raw for name, raw, _ in HOSTILE}
    out.update(
        {f"bad-input:{i:03d}:{key.removeprefix('zerotier-cluster:')}": raw for i, (raw, key, _) in enumerate(BAD_INPUT)}
    )
    out.update({f"extra:{name}": raw for name, raw in EXTRA})
    out.update({f"inventory-shape:{i:02d}:{key}": text for i, (text, key, _) in enumerate(INVENTORY_SHAPES)})
    out.update({f"inventory:{name}": text for name, text in INVENTORIES})
    return out


def outcome(case: dict[str, Any] | str) -> list[str]:
    """Each problem as the operator reads it, or "accepted" and the nodes as read (their count past 20).

    An inventory is read as ``hosts.yaml``.
    """
    try:
        if isinstance(case, str):
            with tempfile.TemporaryDirectory() as directory:
                (Path(directory) / "hosts.yaml").write_text(case)
                raw = {"network": {"name": "n", "cidr": "10.0.0.0/16"}, "inventory": "hosts.yaml", "ssh": {"user": "u"}}
                spec = parse_cluster(raw, base_dir=Path(directory))
        else:
            spec = parse_cluster(case, base_dir=ROOT)
    except ConfigError as err:
        return [str(p) for p in err.problems]
    if len(spec.nodes) > 20:
        return ["accepted", f"{len(spec.nodes)} nodes"]
    return ["accepted"] + [
        f"{n.name}: {n.role}, {n.state}, {n.user}@{n.host}:{n.port}, generation {n.generation}" for n in spec.nodes
    ]


def recorded() -> dict[str, list[str]]:
    loaded: dict[str, list[str]] = json.loads(GOLDEN.read_text())
    return loaded


def test_every_case_is_recorded_and_every_record_has_its_case() -> None:
    assert sorted(recorded()) == sorted(cases())


@pytest.mark.parametrize("name", sorted(cases()))
def test_each_refusal_reads_as_reviewed(name: str) -> None:
    assert outcome(cases()[name]) == recorded()[name]


def main() -> None:
    GOLDEN.parent.mkdir(exist_ok=True)
    everything = {name: outcome(raw) for name, raw in sorted(cases().items())}
    GOLDEN.write_text(json.dumps(everything, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {len(everything)} cases to {GOLDEN}", file=sys.stderr)


if __name__ == "__main__":
    main()
