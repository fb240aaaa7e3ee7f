"""One spelling per IPv4 address wherever an address is taken: what ssh and glibc read is what the checks see."""

from __future__ import annotations

from typing import Any

import pytest

from cluster.config.validate import inet_aton
from cluster.errors import Problem
from tests.test_config import config, problems

NS = "zerotier-cluster:"
HOST_FIX = "use a plain hostname or IP address"


def node(index: int, **changes: Any) -> dict[str, Any]:
    from tests.test_config import BASE

    return {f"nodes.{index}": {**BASE["nodes"][index], **changes}}


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("10.147.4357", "10.147.17.5"),
        ("177410309", "10.147.17.5"),
        ("0x0a.0x93.0x11.0x05", "10.147.17.5"),
        ("192.168.010.011", "192.168.8.9"),
        ("0", "0.0.0.0"),
        ("10.147.17.5", "10.147.17.5"),
        ("1.2.3.4.5", None),
        ("999.1.1.1", None),
        ("08.1.1.1", None),
        ("node1", None),
    ],
)
def test_inet_aton_reads_as_glibc_does(text: str, address: str | None) -> None:
    assert (None if (read := inet_aton(text)) is None else str(read)) == address


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (
            config(**node(2, host="10.147.4357")),
            Problem(
                NS + "nodes[2].host",
                "'10.147.4357' is read by ssh and the C library as the address 10.147.17.5 (a short form: the last "
                "part fills the remaining bytes): write 10.147.17.5 (dotted quad, no leading zeros) or the address "
                "you mean",
                HOST_FIX,
            ),
        ),
        (
            config(**node(2, host="177410309")),
            Problem(
                NS + "nodes[2].host",
                "'177410309' is read by ssh and the C library as the address 10.147.17.5 (a short form: the last "
                "part fills the remaining bytes): write 10.147.17.5 (dotted quad, no leading zeros) or the address "
                "you mean",
                HOST_FIX,
            ),
        ),
        (
            config(**node(2, host="0x0a.0x93.0x11.0x05")),
            Problem(
                NS + "nodes[2].host",
                "'0x0a.0x93.0x11.0x05' is read by ssh and the C library as the address 10.147.17.5 (0x means hex): "
                "write 10.147.17.5 (dotted quad, no leading zeros) or the address you mean",
                HOST_FIX,
            ),
        ),
        (
            config(**node(1, host="192.168.010.011")),
            Problem(
                NS + "nodes[1].host",
                "'192.168.010.011' is read by ssh and the C library as the address 192.168.8.9 (a leading 0 means "
                "octal); Python tools read 192.168.10.11: write 192.168.8.9 (dotted quad, no leading zeros) or the "
                "address you mean",
                HOST_FIX,
            ),
        ),
        (
            config(**node(2, host="::ffff:10.147.17.5")),
            Problem(
                NS + "nodes[2].host",
                "'::ffff:10.147.17.5' is the IPv4 address 10.147.17.5 in IPv6 form: write 10.147.17.5",
                HOST_FIX,
            ),
        ),
        (
            config(ssh={"user": "u", "proxy": {"host": "::ffff:10.147.17.9", "user": "j"}}),
            Problem(
                NS + "ssh.proxy.host",
                "'::ffff:10.147.17.9' is the IPv4 address 10.147.17.9 in IPv6 form: write 10.147.17.9",
                HOST_FIX,
            ),
        ),
        (
            config(**node(1, ip="10.147.17.010")),
            Problem(
                NS + "nodes[1].ip",
                "'10.147.17.010' is read by ssh and the C library as the address 10.147.17.8 (a leading 0 means "
                "octal); Python tools read 10.147.17.10: write 10.147.17.8 (dotted quad, no leading zeros) or the "
                "address you mean",
                "write it like 10.147.17.10, or remove it",
            ),
        ),
        (
            config(firewall={"sshFrom": ["::ffff:192.0.2.0/120"]}),
            Problem(
                NS + "firewall.sshFrom[0]",
                "'::ffff:192.0.2.0' is the IPv4 address 192.0.2.0 in IPv6 form: write 192.0.2.0",
                "write it like 192.0.2.0/24, 198.51.100.7 or 2001:db8::/32 (host bits zero)",
            ),
        ),
        (
            config(firewall={"headAddresses": ["192.168.010.1"]}),
            Problem(
                NS + "firewall.headAddresses[0]",
                "'192.168.010.1' is read by ssh and the C library as the address 192.168.8.1 (a leading 0 means "
                "octal); Python tools read 192.168.10.1: write 192.168.8.1 (dotted quad, no leading zeros) or the "
                "address you mean",
                "write it like 192.0.2.0/24, 198.51.100.7 or 2001:db8::/32 (host bits zero)",
            ),
        ),
    ],
)
def test_every_other_spelling_is_refused_with_the_one_to_write(raw: dict[str, Any], problem: Problem) -> None:
    assert problems(raw).problems == (problem,)


def test_ipv6_forms_routers_deliver_to_an_overlay_address_count_as_that_address() -> None:
    assert problems(config(**node(2, host="2002:a93:1105::1"), **node(1, host="64:ff9b::a93:1106"))).problems == (
        Problem(
            NS + "network.cidr",
            "10.147.17.0/24 contains compute-01's SSH address 64:ff9b::a93:1106 (10.147.17.6), compute-02's SSH "
            "address 2002:a93:1105::1 (10.147.17.5), so the overlay would capture the SSH path",
            "choose a cidr no node is reached at, or reach the nodes at addresses outside it",
        ),
    )


def test_a_host_name_and_ipv6_hosts_still_pass() -> None:
    from cluster.config.parse import parse_cluster
    from tests.mockrun import ROOT

    spec = parse_cluster(config(**node(1, host="cn01.example"), **node(2, host="2001:db8::12")), base_dir=ROOT)
    assert [n.host for n in spec.nodes] == ["203.0.113.10", "cn01.example", "2001:db8::12"]


def test_an_address_yaml_read_as_a_number_says_quote_it() -> None:
    assert problems(config(**node(2, host=177410309))).problems == (
        Problem(
            NS + "nodes[2].host",
            "177410309 is read as a number, not as text",
            "quote it ('177410309'); use a plain hostname or IP address",
        ),
    )
