"""Readers of single settings and the namespace check, each refusal literal (found by mutation testing).

Provisioning (installer URL, signing key fingerprint), a pinned host key, a
private key in plain text, the moon's endpoint, and config keys in the wrong
namespace: what is accepted comes back normalised, what is refused names the
key, says why and gives the fix.
"""

from __future__ import annotations

from typing import Any

import pytest

from cluster.config.parse import namespace_problems, parse_cluster
from cluster.errors import ConfigError
from tests.mockrun import ROOT
from tests.test_config import BASE, config

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
