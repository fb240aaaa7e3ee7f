"""Readers of single settings and the namespace check, each refusal literal (found by mutation testing).

Provisioning (installer URL, signing key fingerprint), a pinned host key, a
private key in plain text, the moon's endpoint, and config keys in the wrong
namespace: what is accepted comes back normalised, what is refused names the
key, says why and gives the fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from cluster.config import parse as P
from cluster.config.fields import INVALID, Problems
from cluster.config.parse import namespace_problems, parse_cluster
from cluster.config.yamlfile import MAX_NUMBER_CHARS, StrictLoader, Surprise, read_text, read_yaml, surprises
from cluster.conventions import NETWORK_ID_PATTERN, ZT_ADDRESS
from cluster.errors import ConfigError, Problem
from tests.mockrun import ROOT
from tests.test_config import BASE, DELETE, config

NS = "zerotier-cluster:"
URL_FIX = "write a full http(s) URL without user:password@, such as https://mirror.example/zerotier/"
ENDPOINT_FIX = "write the head's IPv4 address as the other nodes reach it, e.g. 192.168.10.1"
KEYSCAN_FIX = (
    "pin the node's ed25519 key: paste the output of `ssh-keyscan -t ed25519 HOST` without the host name, "
    "e.g. 'ssh-ed25519 AAAA...'"
)
ED = "AAAAC3NzaC1lZDI1NTE5AAAAIAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB"


def refused(raw: dict[str, Any]) -> list[tuple[str, str, str]]:
    with pytest.raises(ConfigError) as err:
        parse_cluster(raw, base_dir=ROOT)
    return [(p.key, p.message, p.fix) for p in err.value.problems]


def test_a_fingerprint_is_read_without_spaces_in_upper_case() -> None:
    spec = parse_cluster(
        config(installer={"keyFingerprint": "0123 4567 89ab cdef 0123 4567 89AB CDEF 0123 4567"}), base_dir=ROOT
    )
    assert spec.provision.signing_key_fingerprint == "0123456789ABCDEF0123456789ABCDEF01234567"


@pytest.mark.parametrize("value", [5, "0123", "0123456789ABCDEF0123456789ABCDEF0123456G"])
def test_a_bad_fingerprint_is_refused(value: object) -> None:
    assert refused(config(installer={"keyFingerprint": value})) == [
        (NS + "installer.keyFingerprint", "is not an OpenPGP fingerprint", "write the key's 40 hex digits")
    ]


def test_installer_urls_are_read_and_checked() -> None:
    spec = parse_cluster(
        config(installer={"url": "https://mirror.example/zt/install.sh", "keyUrl": "http://mirror.example/key"}),
        base_dir=ROOT,
    )
    assert (spec.provision.installer_url, spec.provision.signing_key_url) == (
        "https://mirror.example/zt/install.sh",
        "http://mirror.example/key",
    )
    assert refused(config(installer={"url": 5, "keyUrl": "ftp://x/"})) == [
        (NS + "installer.url", "5 is not an http(s) URL", URL_FIX),
        (NS + "installer.keyUrl", "'ftp://x/' is not an http(s) URL", URL_FIX),
    ]
    assert refused(config(installer={"url": "https://u:p@mirror.example/"})) == [
        (NS + "installer.url", "carries credentials (user:password@), which would be stored in plain text", URL_FIX)
    ]


def test_a_host_key_is_stripped_and_anything_but_text_refused() -> None:
    spec = parse_cluster(config(**{"nodes.1": {**BASE["nodes"][1], "hostKey": f"  ssh-ed25519 {ED}\n"}}), base_dir=ROOT)
    assert spec.nodes[1].host_key == f"ssh-ed25519 {ED}"
    assert refused(config(**{"nodes.1": {**BASE["nodes"][1], "hostKey": 5}})) == [
        (NS + "nodes[1].hostKey", "is not an OpenSSH public host key", KEYSCAN_FIX)
    ]


def test_a_private_key_in_the_stack_file_is_refused() -> None:
    assert refused(config(sshPrivateKey="-----BEGIN OPENSSH PRIVATE KEY-----")) == [
        (
            NS + "sshPrivateKey",
            "is in plain text in the stack file",
            "run `pulumi config set --secret zerotier-cluster:sshPrivateKey < ~/.ssh/id_ed25519`",
        )
    ]


def test_the_moons_endpoint_is_an_ipv4_address_other_machines_can_reach() -> None:
    assert str(parse_cluster(config(roots="head", rootEndpoint="198.51.100.7"), base_dir=ROOT).root_endpoint) == (
        "198.51.100.7"
    )
    assert refused(config(roots="head", rootEndpoint="x")) == [
        (NS + "rootEndpoint", "'x' is not an IPv4 address", ENDPOINT_FIX)
    ]
    assert refused(config(roots="head", rootEndpoint="127.0.0.1")) == [
        (NS + "rootEndpoint", "127.0.0.1 is loopback: on every other node it is that node itself", ENDPOINT_FIX)
    ]


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (
            [5, 6],
            [
                ("5", "is not a namespace:key name", "write it as text"),
                ("6", "is not a namespace:key name", "write it as text"),
            ],
        ),
        (
            ["zerotier:nodes.0", "zerotier:foo", "zerotier-cluster:network"],
            [
                (
                    "zerotier:nodes.0",
                    "is a setting of this program in the ZeroTier provider's namespace 'zerotier'",
                    "write it as zerotier-cluster:nodes.0",
                )
            ],
        ),
        (
            ["zerotier-clusterrr:a:b", "x" * 70 + ":nodes", "zerotier:a:b"],
            [
                (
                    "zerotier-clusterrr:a:b",
                    "is in namespace 'zerotier-clusterrr', which looks like a typo of 'zerotier-cluster'",
                    "write it as zerotier-cluster:a:b",
                )
            ],
        ),
    ],
)
def test_keys_the_program_would_never_read(keys: list[object], expected: list[tuple[str, str, str]]) -> None:
    assert [(p.key, p.message, p.fix) for p in namespace_problems(keys)] == expected


# --- reader factories: the tables are built at import, so each factory is also called here --------------


PORT_FIX = "write protocol/port or protocol/first-last, e.g. tcp/443 or udp/60000-61000"
RESERVED_FF = "starts with ff, which ZeroTier reserves (no node has such an address)"
RESERVED_0 = "is zero, which ZeroTier reserves (no node has such an address)"


def read(reader: Any, value: Any) -> tuple[Any, list[tuple[str, str, str]]]:
    p = Problems("zerotier-cluster:x")
    out = reader(value, p)
    return (None if out is INVALID else out), [(q.key, q.message, q.fix) for q in p.items]


@pytest.mark.parametrize(
    ("what", "value", "expected"),
    [
        ("node", "c1", ("c1", [])),
        (
            "node",
            "8",
            (
                None,
                [
                    (
                        "zerotier-cluster:x",
                        "'8' is read as the address 0.0.0.8 by ssh and every resolver, not as a name",
                        "give the node a name with a letter in it, e.g. compute-01",
                    )
                ],
            ),
        ),
        (
            "device",
            "localhost",
            (
                None,
                [
                    (
                        "zerotier-cluster:x",
                        "'localhost' already names each machine itself (/etc/hosts)",
                        "give the device a name with a letter in it, e.g. alice-laptop",
                    )
                ],
            ),
        ),
        ("head", "-x", (None, [("zerotier-cluster:x", "'-x' is not a DNS label", "NFIX")])),
        ("node", 5, (None, [("zerotier-cluster:x", "5 is read as a number, not as text", "quote it ('5'); NFIX")])),
    ],
)
def test_name_reader(what: str, value: Any, expected: Any) -> None:
    assert read(P._name(what, "NFIX"), value) == expected


@pytest.mark.parametrize(
    ("pattern", "what", "value", "expected"),
    [
        (ZT_ADDRESS, "a ZeroTier address", "0123456789", ("0123456789", [])),
        (
            ZT_ADDRESS,
            "a ZeroTier address",
            "ff00000001",
            (None, [("zerotier-cluster:x", "ff00000001 " + RESERVED_FF, "ZFIX")]),
        ),
        (
            ZT_ADDRESS,
            "a ZeroTier address",
            "0000000000",
            (None, [("zerotier-cluster:x", "0000000000 " + RESERVED_0, "ZFIX")]),
        ),
        (
            ZT_ADDRESS,
            "a ZeroTier address",
            5,
            (None, [("zerotier-cluster:x", "'5' is not a ZeroTier address", "ZFIX")]),
        ),
        (NETWORK_ID_PATTERN, "a network ID", "0123456789abcdef", ("0123456789abcdef", [])),
        (
            NETWORK_ID_PATTERN,
            "a network ID",
            "FF23456789ABCDEF",
            (
                None,
                [
                    (
                        "zerotier-cluster:x",
                        "its first 10 digits are its controller's address, and ff23456789 " + RESERVED_FF,
                        "ZFIX",
                    )
                ],
            ),
        ),
        (
            NETWORK_ID_PATTERN,
            "a network ID",
            "0000000000abcdef",
            (
                None,
                [
                    (
                        "zerotier-cluster:x",
                        "its first 10 digits are its controller's address, and 0000000000 " + RESERVED_0,
                        "ZFIX",
                    )
                ],
            ),
        ),
    ],
)
def test_zerotier_id_reader(pattern: Any, what: str, value: Any, expected: Any) -> None:
    assert read(P._zerotier_id(pattern, what, "ZFIX"), value) == expected


def test_nft_name_reader() -> None:
    assert read(P._nft_name("a table name", "TFIX"), "t_1") == ("t_1", [])
    assert read(P._nft_name("a table name", "TFIX"), "9t") == (
        None,
        [("zerotier-cluster:x", "'9t' is not a table name", "TFIX")],
    )


@pytest.mark.parametrize(
    ("value", "overlay", "other"),
    [
        ("tcp/22", ("tcp/22", []), "tcp/22"),
        ("udp/1-65535", ("udp/1-65535", []), "udp/1-65535"),
        ("tcp/0", (None, [("zerotier-cluster:x", "'tcp/0' has ports out of order or out of range", PORT_FIX)]), None),
        (
            "tcp/65536",
            (None, [("zerotier-cluster:x", "'tcp/65536' has ports out of order or out of range", PORT_FIX)]),
            None,
        ),
        (
            "tcp/5-4",
            (None, [("zerotier-cluster:x", "'tcp/5-4' has ports out of order or out of range", PORT_FIX)]),
            None,
        ),
        ("icmp/1", (None, [("zerotier-cluster:x", "'icmp/1' is not a port rule", PORT_FIX)]), None),
        (5, (None, [("zerotier-cluster:x", "5 is not a port rule", PORT_FIX)]), None),
        ({"port": "tcp/22", "from": ["10.0.0.0/8"]}, ("tcp/22 from 10.0.0.0/8", []), "tcp/22 from 10.0.0.0/8"),
        (
            {"port": "tcp/22", "from": "2001:db8::/32"},
            (
                None,
                [
                    (
                        "zerotier-cluster:x.from",
                        "lists an IPv6 network, but the overlay (network.cidr) is IPv4",
                        "list overlay ranges such as 10.147.17.0/28, or open the port in firewall.openings instead",
                    )
                ],
            ),
            "tcp/22 from 2001:db8::/32",
        ),
        ({"from": ["10.0.0.0/8"]}, (None, [("zerotier-cluster:x.port", "is missing", PORT_FIX)]), None),
    ],
)
def test_port_rule_reader(value: Any, overlay: Any, other: str | None) -> None:
    def shown(answer: tuple[Any, list[tuple[str, str, str]]]) -> tuple[Any, list[tuple[str, str, str]]]:
        rule, problems = answer
        if rule is None:
            return None, problems
        sources = " ".join(str(s) for s in rule.sources)
        return f"{rule.protocol}/{rule.first}" + (f"-{rule.last}" if rule.last != rule.first else "") + (
            f" from {sources}" if sources else ""
        ), problems

    assert shown(read(P.rule(overlay=True), value)) == overlay
    assert shown(read(P.rule(overlay=False), value))[0] == other


def test_cluster_ports_reader() -> None:
    assert read(P._cluster_ports, "all") == (None, [])
    assert read(P._cluster_ports, ["tcp/22"])[1] == []
    assert [(r.protocol, r.first, r.last) for r in read(P._cluster_ports, ["tcp/22"])[0]] == [("tcp", 22, 22)]
    assert read(P._cluster_ports, "ALL") == (
        None,
        [("zerotier-cluster:x", "must be a list, got str", "write e.g. [tcp/443, udp/60000-61000]")],
    )
    assert read(P._cluster_ports, [{"port": "tcp/22", "from": ["2001:db8::/32"]}]) == (
        None,
        [
            (
                "zerotier-cluster:x[0].from",
                "lists an IPv6 network, but the overlay (network.cidr) is IPv4",
                "list overlay ranges such as 10.147.17.0/28, or open the port in firewall.openings instead",
            )
        ],
    )


def test_proxy_reader() -> None:
    assert read(P._proxy, "none") == (None, [])
    assert read(P._proxy, "head") == ("head", [])
    fix = "write head, none, or a mapping with host, user, port"
    assert read(P._proxy, "bastion") == (None, [("zerotier-cluster:x", "'bastion' is not a jump host", fix)])
    assert read(P._proxy, "Head") == (None, [("zerotier-cluster:x", "'Head' is not a jump host", fix)])
    proxy, problems = read(P._proxy, {"host": "192.0.2.9", "user": "jump"})
    assert (proxy.host, proxy.user, proxy.port, problems) == ("192.0.2.9", "jump", 22, [])


CIDR_FIX = "write it like 10.147.17.0/24"


@pytest.mark.parametrize(
    ("cidr", "expected"),
    [
        (
            "10.147.17.0/31",
            [(NS + "network.cidr", "10.147.17.0/31 has no room for a cluster", "use a /30 or larger, e.g. a /24")],
        ),
        (
            "010.147.17.0/24",
            [
                (
                    NS + "network.cidr",
                    "'010.147.17.0' is read by ssh and the C library as the address 8.147.17.0 "
                    "(a leading 0 means octal); Python tools read 10.147.17.0: write 8.147.17.0 "
                    "(dotted quad, no leading zeros) or the address you mean",
                    CIDR_FIX,
                )
            ],
        ),
        (
            "10.147.17.1/24",
            [
                (
                    NS + "network.cidr",
                    "'10.147.17.1/24' is not an IPv4 network in CIDR form (host bits must be zero)",
                    CIDR_FIX,
                )
            ],
        ),
        (5, [(NS + "network.cidr", "5 is not an IPv4 network in CIDR form (host bits must be zero)", CIDR_FIX)]),
        (
            "127.0.0.0/24",
            [
                (
                    NS + "network.cidr",
                    "127.0.0.0/24 overlaps loopback (127.0.0.0/8)",
                    "use a private range no machine already uses, e.g. 10.147.17.0/24",
                )
            ],
        ),
    ],
)
def test_network_cidr_refusals(cidr: object, expected: list[tuple[str, str, str]]) -> None:
    assert refused(config(network={"name": "n", "cidr": cidr})) == expected


def test_a_30_is_the_smallest_cidr_read() -> None:
    """A /30 is read (two usable addresses); this config needs three, which the allocator refuses."""
    assert refused(config(network={"name": "n", "cidr": "10.147.17.0/30"})) == [
        (
            NS + "nodes",
            "2 nodes and devices need an address but only 1 are free in 10.147.17.0/30",
            "widen network.cidr or network.slice, shrink network.pool, or pin fewer addresses",
        )
    ]


INTEGRATE = {"table": "filter", "chain": "input"}


@pytest.mark.parametrize(
    ("firewall", "expected"),
    [
        (
            {"mode": "integrate"},
            (
                "firewall.integrate",
                "is missing",
                "set firewall.integrate: {table: filter, chain: input} with mode integrate",
            ),
        ),
        (
            {"mode": "enforce", "integrate": INTEGRATE},
            (
                "firewall.integrate",
                "is only used with mode integrate (mode is enforce)",
                "remove it or set mode: integrate",
            ),
        ),
        (
            {"mode": "integrate", "integrate": {"table": "filter", "chain": "zc"}, "table": "zc"},
            (
                "firewall.table",
                "names the program's chain 'zc', which is also firewall.integrate.chain",
                "choose another name for the program's chain, e.g. zerotier_cluster",
            ),
        ),
        (
            {"mode": "integrate", "integrate": INTEGRATE, "table": "Input"},
            (
                "firewall.table",
                "names 'Input', which in integrate mode is the program's own chain in your table: a chain of that "
                "name (a base chain on most hosts) would be taken over and flushed",
                "remove firewall.table (default zerotier_cluster), or name a chain nothing else uses",
            ),
        ),
        (
            {"mode": "enforce", "table": "Filter"},
            (
                "firewall.table",
                "names 'Filter', a table the distribution or another firewall owns (inet filter on Debian), which "
                "enforce mode replaces on every run and deletes on destroy",
                "keep the program's own table: remove firewall.table (default zerotier_cluster), or name one nothing "
                "else uses; to add to your own table, use mode: integrate",
            ),
        ),
        (
            {"mode": "integrate", "integrate": INTEGRATE, "table": 5},
            (
                "firewall.table",
                "5 is read as a number, not as text",
                "quote it ('5'); use letters, digits and '_', e.g. zerotier_cluster",
            ),
        ),
    ],
)
def test_firewall_section_refusals(firewall: dict[str, Any], expected: tuple[str, str, str]) -> None:
    key, message, fix = expected
    assert refused(config(firewall=firewall)) == [(NS + key, message, fix)]


OUTSIDE_FIX = "use a host address inside 10.147.17.0/24"


@pytest.mark.parametrize(
    ("pool", "expected"),
    [
        (
            {"start": "10.147.17.200", "end": "10.147.18.5"},
            [("network.pool.end", "10.147.18.5 is outside network.cidr 10.147.17.0/24", OUTSIDE_FIX)],
        ),
        (
            {"start": "10.147.17.0", "end": "10.147.17.255"},
            [
                ("network.pool.start", "10.147.17.0 is outside network.cidr 10.147.17.0/24", OUTSIDE_FIX),
                ("network.pool.end", "10.147.17.255 is outside network.cidr 10.147.17.0/24", OUTSIDE_FIX),
            ],
        ),
        # Outside, and after its end: the one problem is where it lies.
        (
            {"start": "10.147.18.5", "end": "10.147.17.200"},
            [("network.pool.start", "10.147.18.5 is outside network.cidr 10.147.17.0/24", OUTSIDE_FIX)],
        ),
        (
            {"start": "10.147.17.250", "end": "10.147.17.200"},
            [("network.pool", "start 10.147.17.250 is after end 10.147.17.200", "swap them so start <= end")],
        ),
    ],
)
def test_pool_refusals(pool: dict[str, str], expected: list[tuple[str, str, str]]) -> None:
    raw = config(network={"name": "n", "cidr": "10.147.17.0/24", "pool": pool})
    assert refused(raw) == [(NS + key, message, fix) for key, message, fix in expected]


def test_a_pool_of_one_address_is_read() -> None:
    spec = parse_cluster(
        config(
            network={"name": "n", "cidr": "10.147.17.0/24", "pool": {"start": "10.147.17.200", "end": "10.147.17.200"}}
        ),
        base_dir=ROOT,
    )
    assert spec.network.pool is not None
    assert (str(spec.network.pool.start), str(spec.network.pool.end)) == ("10.147.17.200", "10.147.17.200")


NET = {"name": "n", "cidr": "10.147.17.0/24", "pool": {"start": "10.147.17.200", "end": "10.147.17.250"}}
NETWORK_ID = "0123456789abcdef"
KEEP = (
    "network.keepSettings",
    "only applies to a network adopted with networkId and manage: true",
    "remove keepSettings, or set networkId to the network to adopt",
)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            {"slice": "10.147.18.0/25"},
            (
                "network.slice",
                "10.147.18.0/25 is not inside network.cidr 10.147.17.0/24",
                "choose a part of 10.147.17.0/24",
            ),
        ),
        (
            {"slice": "10.147.17.128/25"},
            (
                "network.slice",
                "10.147.17.128/25 overlaps network.pool 10.147.17.200-10.147.17.250",
                "keep the auto-assign pool and this stack's slice apart",
            ),
        ),
        (
            {"fromStack": "o/p/s", "networkId": NETWORK_ID},
            (
                "network.fromStack",
                "is set together with network.networkId",
                "keep one: fromStack reads the network ID from the owning stack",
            ),
        ),
        ({"keepSettings": True}, KEEP),
        ({"keepSettings": True, "networkId": NETWORK_ID, "manage": False}, KEEP),
    ],
)
def test_network_section_refusals(extra: dict[str, Any], expected: tuple[str, str, str]) -> None:
    key, message, fix = expected
    assert refused(config(network={**NET, **extra})) == [(NS + key, message, fix)]


@pytest.mark.parametrize(
    ("extra", "network_id", "keep"),
    [
        ({"slice": "10.147.17.0/25"}, None, False),
        ({"networkId": NETWORK_ID}, NETWORK_ID, False),
        ({"fromStack": "o/p/s"}, None, False),
        ({"keepSettings": True, "networkId": NETWORK_ID}, NETWORK_ID, True),
        ({"keepSettings": True, "networkId": NETWORK_ID, "manage": True}, NETWORK_ID, True),
    ],
)
def test_network_section_accepted(extra: dict[str, Any], network_id: str | None, keep: bool) -> None:
    network = parse_cluster(config(network={**NET, **extra}), base_dir=ROOT).network
    assert (network.network_id, network.keep_settings) == (network_id, keep)


def test_a_node_without_a_login_user_is_refused() -> None:
    raw = config(ssh={})
    assert refused(raw) == [
        (NS + f"nodes[{i}].user", "no login user for this node", "set zerotier-cluster:ssh.user or the node's user")
        for i in (0, 2)
    ]


FILE_PATH = ("inventory", "must be a file path", "write a path relative to the project, e.g. inventory.yaml")
NODES_LIST = ("nodes", "must be a non-empty list of at most 10000", "list the head and compute nodes")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"inventory": "inventory/onprem.yaml"},
            (
                "inventory",
                "is set together with nodes",
                "list nodes in zerotier-cluster:nodes or in the inventory file, not both",
            ),
        ),
        (
            {"nodes": DELETE},
            (
                "nodes",
                "is missing",
                "list the head and compute nodes in zerotier-cluster:nodes "
                "or point zerotier-cluster:inventory at a file",
            ),
        ),
        ({"nodes": DELETE, "inventory": 5}, FILE_PATH),
        ({"nodes": DELETE, "inventory": ""}, FILE_PATH),
        ({"nodes": DELETE, "inventory": "a\0b"}, FILE_PATH),
        ({"nodes": []}, NODES_LIST),
        ({"nodes": 5}, NODES_LIST),
        ({"nodes": [BASE["nodes"][0]] * 10_001}, NODES_LIST),
    ],
)
def test_where_nodes_come_from(changes: dict[str, Any], expected: tuple[str, str, str]) -> None:
    key, message, fix = expected
    assert refused(config(**changes)) == [(NS + key, message, fix)]


def test_proxy_head_takes_the_heads_connection_and_needs_a_head() -> None:
    raw = config(
        **{
            "nodes.0": {**BASE["nodes"][0], "port": 2222, "proxy": "head"},
            "nodes.2": {**BASE["nodes"][2], "proxy": "head"},
        }
    )
    spec = parse_cluster(raw, base_dir=ROOT)
    assert [(n.name, n.proxy) for n in spec.nodes][1:] == [("compute-01", None), ("compute-02", spec.nodes[2].proxy)]
    proxy = spec.nodes[2].proxy
    assert proxy is not None and not isinstance(proxy, str)
    assert (proxy.host, proxy.user, proxy.port) == ("203.0.113.10", "ubuntu", 2222)
    assert spec.nodes[0].proxy is None
    headless = config(
        **{"nodes.0": {**BASE["nodes"][0], "role": "compute"}, "nodes.2": {**BASE["nodes"][2], "proxy": "head"}}
    )
    assert refused(headless) == [
        (
            NS + "nodes[2].proxy",
            "is 'head', but there is no head node here whose host and user are plain text",
            "give the jump host as a mapping with host, user and port",
        )
    ]


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("b: &b {a: 1}\nn: {<<: *b, y: 2}\n", {"b": {"a": 1}, "n": {"a": 1, "y": 2}}),
        # Two merge keys are no duplicate: each merges its mapping in (YAML 1.1 merge keys, as PyYAML reads them).
        (
            "b: &b {a: 1}\nc: &c {z: 3}\nn: {<<: *b, <<: *c, y: 2}\n",
            {"b": {"a": 1}, "c": {"z": 3}, "n": {"a": 1, "z": 3, "y": 2}},
        ),
    ],
)
def test_merge_keys_are_read_and_never_taken_for_duplicates(tmp_path: Path, text: str, read: object) -> None:
    (tmp_path / "f.yaml").write_text(text)
    assert read_yaml(tmp_path / "f.yaml", shown_as="f.yaml", key="k", fix="fx") == (read, [])


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("b: &b {a: 1}\nn: {<<: *b, x: 1, x: 2}\n", "line 2, column 19"),  # after a merge key
        ("? [1]\n: a\nx: 1\nx: 2\n", "line 4, column 1"),  # after a key YAML cannot hash
    ],
)
def test_a_duplicate_key_is_found_after_merge_and_unhashable_keys(tmp_path: Path, text: str, where: str) -> None:
    (tmp_path / "f.yaml").write_text(text)
    document, problems = read_yaml(tmp_path / "f.yaml", shown_as="f.yaml", key="k", fix="fx")
    assert document is None
    assert [str(p) for p in problems] == [
        f"f.yaml: is not valid YAML at {where}: found duplicate key 'x'\n    fix: fix the YAML there"
    ]


def test_a_number_as_long_as_any_setting_takes_is_read_and_one_digit_more_refused(tmp_path: Path) -> None:
    digits = "9" * MAX_NUMBER_CHARS
    (tmp_path / "f.yaml").write_text(f"n: {digits}\n")
    assert read_yaml(tmp_path / "f.yaml", shown_as="f.yaml", key="k", fix="fx") == ({"n": int(digits)}, [])
    (tmp_path / "f.yaml").write_text(f"n: {digits}9\n")
    _, problems = read_yaml(tmp_path / "f.yaml", shown_as="f.yaml", key="k", fix="fx")
    assert [p.message for p in problems] == [
        f"is not valid YAML at line 1, column 4: found a number of {MAX_NUMBER_CHARS + 1} characters, "
        "longer than any setting takes"
    ]


def test_a_yaml_surprise_is_shown_as_written() -> None:
    assert repr(Surprise("on", True, 3)) == "'on'"
    assert str(Surprise("0o17", 15, 3)) == "0o17"


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("x: true\ny: False\n", {"x": True, "y": False}),
        ("x: 1.5\ny: -0.25e+3\nz: .inf\n", {"x": 1.5, "y": -250.0, "z": float("inf")}),
        ("x: 12\ny: -3\n", {"x": 12, "y": -3}),
    ],
)
def test_flags_and_numbers_written_plainly_are_no_surprise(tmp_path: Path, text: str, read: object) -> None:
    (tmp_path / "f.yaml").write_text(text)
    document, problems = read_yaml(tmp_path / "f.yaml", shown_as="f.yaml", key="k", fix="fx")
    assert (document, problems, surprises(document, "")) == (read, [], [])


def test_a_float_longer_than_any_setting_is_refused(tmp_path: Path) -> None:
    (tmp_path / "f.yaml").write_text(f"n: 1.{'5' * (MAX_NUMBER_CHARS - 2)}\nm: 1.{'5' * (MAX_NUMBER_CHARS - 1)}\n")
    _, problems = read_yaml(tmp_path / "f.yaml", shown_as="f.yaml", key="k", fix="fx")
    assert [p.message for p in problems] == [
        "is not valid YAML at line 2, column 4: found a number longer than any setting takes"
    ]


def test_surprises_are_found_in_keys_too_and_listed_by_line(tmp_path: Path) -> None:
    (tmp_path / "f.yaml").write_text("b: on\na: off\nn:\n  - {yes: 1}\n")
    document, _ = read_yaml(tmp_path / "f.yaml", shown_as="f.yaml", key="k", fix="fx")
    found = [(where, s.text, s.line) for where, s in surprises(document, "zerotier-cluster:")]
    assert found == [
        ("zerotier-cluster:b", "on", 1),
        ("zerotier-cluster:a", "off", 2),
        ("zerotier-cluster:n[0].yes", "yes", 4),
    ]


def test_surprises_on_one_line_are_listed_by_key_and_a_file_prefix_is_joined_as_written(tmp_path: Path) -> None:
    (tmp_path / "f.yaml").write_text("x: {b: off, a: on}\n")
    document, _ = read_yaml(tmp_path / "f.yaml", shown_as="f.yaml", key="k", fix="fx")
    assert [where for where, _ in surprises(document, "hosts.yaml: ")] == ["hosts.yaml: x.a", "hosts.yaml: x.b"]


def test_a_value_yaml_cannot_build_is_refused_with_pyyamls_words(tmp_path: Path) -> None:
    (tmp_path / "f.yaml").write_text("a: !!int x\n")
    assert [str(p) for p in read_yaml(tmp_path / "f.yaml", shown_as="f.yaml", key="k", fix="fx")[1]] == [
        "f.yaml: is not valid YAML: \"invalid literal for int() with base 10: 'x'\"\n    fix: fix the YAML"
    ]
    # The longest such value a setting's number bound lets through is shown whole.
    (tmp_path / "f.yaml").write_text(f"a: !!int {'x' * MAX_NUMBER_CHARS}\n")
    words = f"invalid literal for int() with base 10: '{'x' * MAX_NUMBER_CHARS}'"
    assert read_yaml(tmp_path / "f.yaml", shown_as="f.yaml", key="k", fix="fx")[1] == [
        Problem("f.yaml", f'is not valid YAML: "{words}"', "fix the YAML")
    ]


#: Errors PyYAML's safe loader never raises (each of its raise sites gives a problem and its mark), made
#: by a constructor: (the error, what the message says after "is not valid YAML").
UNMARKED = [
    (yaml.MarkedYAMLError("while reading", None, None, None), ": while reading"),
    (yaml.MarkedYAMLError(), ": "),
    (yaml.MarkedYAMLError("while reading", yaml.Mark("f", 0, 4, 2, None, None)), " at line 5, column 3: while reading"),
]


@pytest.mark.parametrize(("error", "message"), UNMARKED, ids=["context-only", "nothing", "context-mark"])
def test_a_yaml_error_without_a_problem_or_a_mark_is_still_a_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: yaml.MarkedYAMLError, message: str
) -> None:
    def fail(loader: StrictLoader, node: Any) -> Any:
        raise error

    monkeypatch.setitem(StrictLoader.yaml_constructors, "!fail", fail)
    (tmp_path / "f.yaml").write_text("a: !fail x\n")
    assert read_yaml(tmp_path / "f.yaml", shown_as="f.yaml", key="k", fix="fx") == (
        None,
        [Problem("f.yaml", f"is not valid YAML{message}", "fix the YAML there")],
    )


def test_a_yaml_error_is_cut_at_200_characters(tmp_path: Path) -> None:
    """PyYAML quotes a tag whole in its error: a 5,000-character tag must not fill the terminal."""
    (tmp_path / "f.yaml").write_text("a: !" + "x" * 5000 + " 1\n")
    words = ("could not determine a constructor for the tag '!" + "x" * 5000)[:200]
    assert read_yaml(tmp_path / "f.yaml", shown_as="f.yaml", key="k", fix="fx") == (
        None,
        [Problem("f.yaml", f"is not valid YAML at line 1, column 4: {words}", "fix the YAML there")],
    )


def test_read_text_bounds_and_refusals_are_literal(tmp_path: Path) -> None:
    file = tmp_path / "f.yaml"
    file.write_text("x" * 100)
    read = {"shown_as": "f.yaml", "key": "k", "fix": "fx"}
    assert read_text(file, **read, limit=100) == ("x" * 100, None), "exactly the limit is read"
    assert read_text(file, **read, limit=99)[1] == Problem("k", "f.yaml is larger than 99 bytes", "fx")
    big = tmp_path / "big.yaml"
    big.write_bytes(b"x" * (1024 * 1024 + 1))
    assert read_text(big, **read, limit=1024 * 1024)[1] == Problem("k", "f.yaml is larger than 1 MiB", "fx")
    assert read_text(tmp_path, **read)[1] == Problem("k", "f.yaml is not a regular file", "fx")
    file.write_bytes(b"ok \xff")
    assert read_text(file, **read)[1] == Problem("f.yaml", "is not UTF-8 text (byte 3)", "save it as UTF-8")


def test_a_file_that_opens_but_cannot_be_read_is_a_problem_not_a_traceback() -> None:
    # /proc/self/mem is a regular file that opens, then fails to read at offset 0 (EIO): like a failing disk.
    read = {"shown_as": "f.yaml", "key": "k", "fix": "fx"}
    assert read_text(Path("/proc/self/mem"), **read) == (
        "",
        Problem("k", "cannot read f.yaml: Input/output error", "fx"),
    )


def test_a_huge_file_is_refused_after_reading_one_byte_past_the_limit(tmp_path: Path) -> None:
    # 1 TiB, sparse: reading it whole would fail to allocate (MemoryError) instead of naming the limit.
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as file:
        file.truncate(1 << 40)
    read = {"shown_as": "f.yaml", "key": "k", "fix": "fx", "too_large": "split it"}
    assert read_text(huge, **read) == ("", Problem("k", "f.yaml is larger than 4 MiB", "split it"))


@pytest.mark.parametrize(
    "text",
    ["a: !!timestamp nonsense\n", "a: !!bool maybe\n", "a: !!set [1]\n", "a: !<tag:yaml.org,2002:timestamp> x\n"],
)
def test_a_value_its_explicit_tag_misnames_is_a_problem_not_a_traceback(tmp_path: Path, text: str) -> None:
    # PyYAML's constructors raise AttributeError, KeyError or TypeError on these: read_yaml must not.
    file = tmp_path / "f.yaml"
    file.write_text(text)
    assert read_yaml(file, shown_as="f.yaml", key="k", fix="fx") == (
        None,
        [
            Problem(
                "f.yaml",
                "is not valid YAML: a value with an explicit tag (such as !!timestamp, !!bool or !!set) "
                "is not of the kind the tag names",
                "remove the !! tag, or write a value of that kind",
            )
        ],
    )
