"""Valid syntax, wrong for a cluster: each refused with its key, what would happen, and the fix (literal)."""

from __future__ import annotations

from typing import Any

import pytest

from cluster.config.parse import parse_cluster
from cluster.spec import ClusterSpec
from tests.mockrun import ROOT
from tests.test_config import BASE, DELETE, config, problems

# Public keys made once with ssh-keygen (they pin nothing: the test only reads their bytes).
ED25519 = "AAAAC3NzaC1lZDI1NTE5AAAAIHye27b2anS4PZgN+ymun860L+OoaOYb9ZyAbCVT0IFi"
RSA = (
    "AAAAB3NzaC1yc2EAAAADAQABAAABgQDfoGT0gZxCyl2coKUiF7HviWxl8YK4q0OYRdGC2hvrZecg/gx+ht0AnSe5I4YhcauwQH8F"
    "jsqUXqyVEkcEhSoILI9g3GqpwRa2ZFzF+DNd+9o4qcS9bTgQww8iu7qUlhpFoNDkT3Q2dXOwlxopmW+okYqiLkzUJ5ZczhqguEyI"
    "X52jQLHouYyY390Urtx2yIkiD5V7Azwd1Ak/jy9nkYF8/aX0efQ2r9BkXMGj+deCO0G2nOklg2seooVr9kqafyLgzy0wcy0zYmL/"
    "Wbi7vTORgD0MmsfHD9GS3dLfpehX5Gd591hPW9YxLBLwno1jkPpGcGT94eRYQp5AOTbjXLbhwS8iZa3Wo3Y05jxx4Gnt9BRaa7iA"
    "qRpx5sNO7sI1MeZcMTWJwpuWvKzeN0X6n+dQ1Tp/EL9z52sgGO2EqVk2WDN3J5MoTfKxpiiBvEWW2nSnw/pwYArOO19ViJ1qkxsX"
    "KoPmG7mWeu7qCSmty4nUSWOllKZ3SiSSL1i0QYLH9Zk="
)


def node(index: int, **changes: Any) -> dict[str, Any]:
    return {f"nodes.{index}": {**BASE["nodes"][index], **changes}}


CASES = [
    pytest.param(
        config(firewall={"table": "filter"}),
        [
            (
                "zerotier-cluster:firewall.table",
                (
                    "names 'filter', a table the distribution or another firewall owns (inet filter on "
                    "Debian), which enforce mode replaces on every run and deletes on destroy"
                ),
                (
                    "keep the program's own table: remove firewall.table (default zerotier_cluster), or name "
                    "one nothing else uses; to add to your own table, use mode: integrate"
                ),
            ),
        ],
        id="table-filter",
    ),
    pytest.param(
        config(firewall={"mode": "integrate", "table": "forward", "integrate": {"table": "filter", "chain": "input"}}),
        [
            (
                "zerotier-cluster:firewall.table",
                (
                    "names 'forward', which in integrate mode is the program's own chain in your table: a "
                    "chain of that name (a base chain on most hosts) would be taken over and flushed"
                ),
                "remove firewall.table (default zerotier_cluster), or name a chain nothing else uses",
            ),
        ],
        id="integrate-forward",
    ),
    pytest.param(
        config(firewall={"peers": ["0.0.0.0/0"]}),
        [
            (
                "zerotier-cluster:firewall.peers[0]",
                (
                    "0.0.0.0/0 covers the whole network 10.147.17.0/24: every member, devices and members nobody "
                    "manages included, would be trusted like a node"
                ),
                "list only other stacks' slices of the cidr (their addressSlice output), e.g. 10.147.17.128/25",
            ),
        ],
        id="peers-all",
    ),
    pytest.param(
        config(firewall={"peers": ["10.147.17.192/26"]}),
        [
            (
                "zerotier-cluster:firewall.peers[0]",
                (
                    "10.147.17.192/26 overlaps the auto-assign pool 10.147.17.200-10.147.17.250, whose "
                    "members nobody manages"
                ),
                "list only other stacks' slices, which lie outside the pool",
            ),
        ],
        id="peers-pool",
    ),
    pytest.param(
        config(**{"network.cidr": "8.8.8.0/24", "network.pool": DELETE}),
        [
            (
                "zerotier-cluster:network.cidr",
                (
                    "8.8.8.0/24 is public address space: every node would route it into the overlay, away "
                    "from the internet"
                ),
                (
                    "use a private range (inside 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or "
                    "100.64.0.0/10), or set network.publicCidr: true if your organization holds this range "
                    "and means to route it into the overlay"
                ),
            ),
        ],
        id="public",
    ),
    pytest.param(
        config(**node(2, host="192.168.10.11")),
        [
            (
                "zerotier-cluster:nodes[2].host",
                "192.168.10.11 port 22 is also the SSH target of zerotier-cluster:nodes[1]",
                "give each node its own host (or port); a machine listed twice would be provisioned twice",
            ),
        ],
        id="same-target",
    ),
    pytest.param(
        config(**node(1, name="localhost")),
        [
            (
                "zerotier-cluster:nodes[1].name",
                "'localhost' already names each machine itself (/etc/hosts)",
                "give the node a name with a letter in it, e.g. compute-01",
            ),
        ],
        id="localhost",
    ),
    pytest.param(
        config(**node(1, name="8")),
        [
            (
                "zerotier-cluster:nodes[1].name",
                "'8' is read as the address 0.0.0.8 by ssh and every resolver, not as a name",
                "give the node a name with a letter in it, e.g. compute-01",
            ),
        ],
        id="digits",
    ),
    pytest.param(
        config(**node(1, name=1234)),
        [
            (
                "zerotier-cluster:nodes[1].name",
                "1234 is read as a number, not as text",
                (
                    "quote it ('1234'); use letters, digits and '-', at most 63, not starting or ending with "
                    "'-' (e.g. compute-01)"
                ),
            ),
        ],
        id="int-name",
    ),
    pytest.param(
        config(devices=[{"name": "0x1f", "address": "a1b2c3d4e5"}]),
        [
            (
                "zerotier-cluster:devices[0].name",
                "'0x1f' is read as the address 0.0.0.31 by ssh and every resolver, not as a name",
                "give the device a name with a letter in it, e.g. alice-laptop",
            ),
        ],
        id="device-hex",
    ),
    pytest.param(
        config(devices=[{"name": "d", "address": "ff12345678"}]),
        [
            (
                "zerotier-cluster:devices[0].address",
                "ff12345678 starts with ff, which ZeroTier reserves (no node has such an address)",
                "use the 10 hex digits `zerotier-cli info` prints on the device",
            ),
        ],
        id="device-ff",
    ),
    pytest.param(
        config(devices=[{"name": "d", "address": "0000000000"}]),
        [
            (
                "zerotier-cluster:devices[0].address",
                "0000000000 is zero, which ZeroTier reserves (no node has such an address)",
                "use the 10 hex digits `zerotier-cli info` prints on the device",
            ),
        ],
        id="device-zero",
    ),
    pytest.param(
        config(**{"network.networkId": "ff12345678abcdef"}),
        [
            (
                "zerotier-cluster:network.networkId",
                (
                    "its first 10 digits are its controller's address, and ff12345678 starts with ff, which "
                    "ZeroTier reserves (no node has such an address)"
                ),
                "use the 16 hex digits ZeroTier Central shows (e.g. 8056c2e21c1930be), or remove it to create one",
            ),
        ],
        id="netid-ff",
    ),
    pytest.param(
        config(roots="head", rootEndpoint="0.0.0.0"),
        [
            (
                "zerotier-cluster:rootEndpoint",
                "0.0.0.0 is 'any address', which no other machine can send to",
                "write the head's IPv4 address as the other nodes reach it, e.g. 192.168.10.1",
            ),
        ],
        id="ep-any",
    ),
    pytest.param(
        config(roots="head", rootEndpoint="255.255.255.255"),
        [
            (
                "zerotier-cluster:rootEndpoint",
                "255.255.255.255 is broadcast or reserved, not one machine's address",
                "write the head's IPv4 address as the other nodes reach it, e.g. 192.168.10.1",
            ),
        ],
        id="ep-bcast",
    ),
    pytest.param(
        config(roots="head", rootEndpoint="127.0.0.1"),
        [
            (
                "zerotier-cluster:rootEndpoint",
                "127.0.0.1 is loopback: on every other node it is that node itself",
                "write the head's IPv4 address as the other nodes reach it, e.g. 192.168.10.1",
            ),
        ],
        id="ep-lo",
    ),
    pytest.param(
        config(roots="head", rootEndpoint="224.0.0.1"),
        [
            (
                "zerotier-cluster:rootEndpoint",
                "224.0.0.1 is a multicast group, not one machine's address",
                "write the head's IPv4 address as the other nodes reach it, e.g. 192.168.10.1",
            ),
        ],
        id="ep-mc",
    ),
    pytest.param(
        config(roots="head", rootEndpoint="10.147.17.5"),
        [
            (
                "zerotier-cluster:rootEndpoint",
                (
                    "10.147.17.5 is inside the overlay 10.147.17.0/24: nodes would reach their root only "
                    "through the network the root is there to set up"
                ),
                (
                    "set rootEndpoint to the head's IPv4 address as the other nodes reach it, outside "
                    "network.cidr, e.g. 192.168.10.1"
                ),
            ),
        ],
        id="ep-overlay",
    ),
    pytest.param(
        config(roots="head", **node(0, host="127.0.0.1")),
        [
            (
                "zerotier-cluster:roots",
                (
                    "is head, and the moon's endpoint would be the head's host: 127.0.0.1 is loopback: on "
                    "every other node it is that node itself"
                ),
                "set rootEndpoint to the head's IPv4 address as the other nodes reach it, e.g. 192.168.10.1",
            ),
        ],
        id="ep-head-lo",
    ),
    pytest.param(
        config(firewall={"sshFrom": ["2001:db8::/32"]}),
        [
            (
                "zerotier-cluster:firewall.sshFrom",
                (
                    "lists only IPv6 sources, but head, compute-01, compute-02 are reached over IPv4, so the "
                    "firewall would lock the program out"
                ),
                (
                    "add the IPv4 address or network the SSH sessions come from (e.g. 198.51.100.7), or reach the "
                    "nodes over IPv6"
                ),
            ),
        ],
        id="v6-only",
    ),
    pytest.param(
        config(
            ssh={"user": "u", "proxy": "head"},
            firewall={"computeSsh": "head-and-overlay", "headAddresses": ["2001:db8::1"]},
        ),
        [
            (
                "zerotier-cluster:firewall.headAddresses",
                (
                    "lists only IPv6 sources, but compute-01, compute-02 are reached over IPv4, so the firewall "
                    "would lock the program out"
                ),
                (
                    "add the IPv4 address or network the SSH sessions come from (e.g. 198.51.100.7), or reach the "
                    "nodes over IPv6"
                ),
            ),
        ],
        id="v6-only-head-addresses",
    ),
    pytest.param(
        config(**node(1, hostKey="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK")),
        [
            (
                "zerotier-cluster:nodes[1].hostKey",
                "is not valid base64 after the key type (cut short or mistyped?)",
                (
                    "pin the node's ed25519 key: paste the output of `ssh-keyscan -t ed25519 HOST` without "
                    "the host name, e.g. 'ssh-ed25519 AAAA...'"
                ),
            ),
        ],
        id="key-garbage",
    ),
    pytest.param(
        config(**node(1, hostKey=f"ecdsa-sha2-nistp256 {ED25519}")),
        [
            (
                "zerotier-cluster:nodes[1].hostKey",
                "says ecdsa-sha2-nistp256 but its bytes are a 'ssh-ed25519' key",
                (
                    "pin the node's ed25519 key: paste the output of `ssh-keyscan -t ed25519 HOST` without "
                    "the host name, e.g. 'ssh-ed25519 AAAA...'"
                ),
            ),
        ],
        id="key-mismatch",
    ),
    pytest.param(
        config(**node(1, hostKey=f"ssh-rsa {RSA}")),
        [
            (
                "zerotier-cluster:nodes[1].hostKey",
                (
                    "is an ssh-rsa key: pulumi-command would offer only ssh-rsa (SHA-1) signatures for it, "
                    "which OpenSSH 8.8 and later refuse, so every connection would fail"
                ),
                (
                    "pin the node's ed25519 key: paste the output of `ssh-keyscan -t ed25519 HOST` without "
                    "the host name, e.g. 'ssh-ed25519 AAAA...'"
                ),
            ),
        ],
        id="key-rsa",
    ),
    pytest.param(
        config(ssh={"user": "bad user", "port": 22}),
        [
            (
                "zerotier-cluster:ssh.user",
                "'bad user' is not a login name: it contains characters a shell would interpret (' ')",
                "use a plain login name, e.g. ubuntu",
            ),
        ],
        id="cascade",
    ),
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_wrong_for_a_cluster_is_refused_with_key_and_fix(
    raw: dict[str, Any], expected: list[tuple[str, str, str]]
) -> None:
    assert [(p.key, p.message, p.fix) for p in problems(raw).problems] == expected


def parsed(raw: dict[str, Any]) -> ClusterSpec:
    return parse_cluster(raw, base_dir=ROOT)


def test_what_is_right_for_a_cluster_still_passes() -> None:
    public = parsed(
        config(
            **{"network.cidr": "8.8.8.0/24", "network.pool": DELETE, "network.publicCidr": True},
            **{"nodes.0": {k: v for k, v in BASE["nodes"][0].items() if k != "ip"}},
        )
    )
    assert str(public.network.cidr) == "8.8.8.0/24"
    shared = parsed(config(**{"network.slice": "10.147.17.0/25"}, firewall={"peers": ["10.147.17.128/26"]}))
    assert [str(p) for p in shared.firewall.peers] == ["10.147.17.128/26"]
    keyed = parsed(config(**node(1, hostKey=f"ssh-ed25519 {ED25519}")))
    assert keyed.nodes[1].host_key == f"ssh-ed25519 {ED25519}"
    # An evicted machine's address may be reused by its replacement.
    replaced = parsed(config(**node(2, host="192.168.10.11"), **{"nodes.1.state": "evicted"}))
    assert [(n.host, n.state) for n in replaced.nodes[1:]] == [
        ("192.168.10.11", "evicted"),
        ("192.168.10.11", "active"),
    ]
    # The same address behind two jump hosts is two machines.
    jumped = parsed(
        config(
            **node(1, proxy={"host": "203.0.113.1", "user": "j"}),
            **node(2, host="192.168.10.11", proxy={"host": "203.0.113.2", "user": "j"}),
        )
    )
    assert [n.host for n in jumped.nodes] == ["203.0.113.10", "192.168.10.11", "192.168.10.11"]
    dual = parsed(config(firewall={"sshFrom": ["2001:db8::/32", "198.51.100.0/24"]}))
    assert len(dual.firewall.ssh_from) == 2
    moon = parsed(config(roots="head", rootEndpoint="192.168.10.1"))
    assert str(moon.root_endpoint) == "192.168.10.1"
    integrated = parsed(config(firewall={"mode": "integrate", "integrate": {"table": "filter", "chain": "input"}}))
    assert integrated.firewall.table == "zerotier_cluster"
