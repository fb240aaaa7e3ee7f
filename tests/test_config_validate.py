"""The shape checks of ``cluster/config/validate.py``, each at its edges (found by mutation testing, docs/testing.md).

Every pattern's bounds (both ends), every refusal's literal sentence, and the
values just inside and just outside each reserved range.
"""

from __future__ import annotations

import base64
import sys
from ipaddress import IPv4Address, IPv4Network

import pytest

from cluster.config import validate as v


def blob(*parts: bytes) -> str:
    """An SSH wire-format key: each string with its 4-byte length."""
    return base64.b64encode(b"".join(len(p).to_bytes(4, "big") + p for p in parts)).decode()


ED = blob(b"ssh-ed25519", b"\x01" * 32)
#: A whole nistp256 key; its base64 ends in one '='.
P256 = "ecdsa-sha2-nistp256 " + blob(b"ecdsa-sha2-nistp256", b"nistp256", b"\x04" * 65)
NOT_HOST = "is not a hostname or IP address"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("node1", None),
        ("_a.b:c-", None),
        ("x" * 253, None),
        ("x" * 254, "'" + "x" * 56 + "... " + NOT_HOST),
        ("", "'' " + NOT_HOST),
        (
            "-oProxyCommand=x",
            "'-oProxyCommand=x' " + NOT_HOST + ": it starts with '-', which ssh would read as an option",
        ),
        ("a;b", "'a;b' " + NOT_HOST + ": it contains characters a shell would interpret (';')"),
        ("a b", "'a b' " + NOT_HOST + ": it contains characters a shell would interpret (' ')"),
        ("::ffff:10.1.2.3", "'::ffff:10.1.2.3' is the IPv4 address 10.1.2.3 in IPv6 form: write 10.1.2.3"),
    ],
)
def test_check_host(value: str, expected: str | None) -> None:
    assert v.check_host(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ops", None),
        ("_x", None),
        ("a.b-c_d", None),
        ("a" * 32, None),
        ("a" * 33, "'" + "a" * 33 + "' is not a login name"),
        ("1ops", "'1ops' is not a login name"),
        ("-x", "'-x' is not a login name"),
        ("", "'' is not a login name"),
        ("a$b", "'a$b' is not a login name: it contains characters a shell would interpret ('$')"),
    ],
)
def test_check_user(value: str, expected: str | None) -> None:
    assert v.check_user(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://x.example/a", None),
        ("http://x.example:8080/a?b=c#d", None),
        ("https://" + "a" * 2000, None),
        ("https://" + "a" * 2001, "'https://" + "a" * 48 + "... is not an http(s) URL"),
        ("http://u:p@x/", "carries credentials (user:password@), which would be stored in plain text"),
        ("ftp://x/", "'ftp://x/' is not an http(s) URL"),
        ("https://", "'https://' is not an http(s) URL"),
        ("https:///path", "'https:///path' names no host"),
        ("https://[::1/", "'https://[::1/' is not an http(s) URL"),
    ],
)
def test_check_url(value: str, expected: str | None) -> None:
    assert v.check_url(value) == expected


WHOLE = "does not decode to a whole {} key (cut short or mistyped?)"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (f"ssh-ed25519 {ED}", None),
        (P256, None),
        ("ecdsa-sha2-nistp384 " + blob(b"ecdsa-sha2-nistp384", b"nistp384", b"\x04" * 97), None),
        ("ecdsa-sha2-nistp521 " + blob(b"ecdsa-sha2-nistp521", b"nistp521", b"\x04" * 133), None),
        ("ssh-ed25519 " + blob(b"ssh-ed25519", b"\x01" * 31), WHOLE.format("ssh-ed25519")),
        ("ssh-ed25519 " + blob(b"ssh-ed25519", b"\x01" * 33), WHOLE.format("ssh-ed25519")),
        ("ssh-ed25519 " + blob(b"ssh-ed25519", b"\x01" * 32, b"x"), WHOLE.format("ssh-ed25519")),
        ("ssh-ed25519 " + blob(b"ssh-ed25519"), WHOLE.format("ssh-ed25519")),
        (
            "ecdsa-sha2-nistp256 " + blob(b"ecdsa-sha2-nistp256", b"nistp384", b"\x04" * 65),
            WHOLE.format("ecdsa-sha2-nistp256"),
        ),
        (
            "ecdsa-sha2-nistp256 " + blob(b"ecdsa-sha2-nistp256", b"nistp256", b"\x04" * 64),
            WHOLE.format("ecdsa-sha2-nistp256"),
        ),
        (
            "ecdsa-sha2-nistp384 " + blob(b"ecdsa-sha2-nistp384", b"nistp384", b"\x04" * 65),
            WHOLE.format("ecdsa-sha2-nistp384"),
        ),
        (
            "ecdsa-sha2-nistp521 " + blob(b"ecdsa-sha2-nistp521", b"nistp521", b"\x04" * 132),
            WHOLE.format("ecdsa-sha2-nistp521"),
        ),
        (
            f"ssh-rsa {ED}",
            "is an ssh-rsa key: pulumi-command would offer only ssh-rsa (SHA-1) signatures for it, "
            "which OpenSSH 8.8 and later refuse, so every connection would fail",
        ),
        (
            f"ssh-dss {ED}",
            "has type 'ssh-dss', which is not a host key type "
            "(ssh-ed25519, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521)",
        ),
        ("ssh-ed25519 AAAA=A", "is not an OpenSSH public host key ('type base64')"),
        ("ssh-ed25519 ", "is not an OpenSSH public host key ('type base64')"),
        (f"SSH-ED25519 {ED}", "is not an OpenSSH public host key ('type base64')"),
        (f"ssh-ed25519  {ED}", "is not an OpenSSH public host key ('type base64')"),
        ("ssh-ed25519 AAAAC3NzaC1lZDI", "is not valid base64 after the key type (cut short or mistyped?)"),
        (P256 + "=", "is not valid base64 after the key type (cut short or mistyped?)"),
        ("ssh-ed25519 AAAAC3NzaC1lZDI=", "does not decode to an SSH public key (cut short or mistyped?)"),
        ("ssh-ed25519 AAAA", "does not decode to an SSH public key (cut short or mistyped?)"),
        ("ssh-ed25519 AAAAAA==", "says ssh-ed25519 but its bytes are a '' key"),
        (
            "ssh-ed25519 " + blob(b"ecdsa-sha2-nistp256", b"\x01" * 32),
            "says ssh-ed25519 but its bytes are a 'ecdsa-sha2-nistp256' key",
        ),
        (
            "ssh-ed25519 " + blob(b"\xffssh", b"\x01" * 32),
            "says ssh-ed25519 but its bytes are a '\ufffdssh' key",
        ),
    ],
)
def test_check_host_key(value: str, expected: str | None) -> None:
    assert v.check_host_key(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("node1", None),
        ("localhost", "'localhost' already names each machine itself (/etc/hosts)"),
        ("LocalHost", "'LocalHost' already names each machine itself (/etc/hosts)"),
        ("localhost.localdomain", "'localhost.localdomain' already names each machine itself (/etc/hosts)"),
        ("ip6-localhost", "'ip6-localhost' already names each machine itself (/etc/hosts)"),
        ("ip6-loopback", "'ip6-loopback' already names each machine itself (/etc/hosts)"),
        ("8", "'8' is read as the address 0.0.0.8 by ssh and every resolver, not as a name"),
        ("010", "'010' is read as the address 0.0.0.8 by ssh and every resolver, not as a name"),
        ("0x1f", "'0x1f' is read as the address 0.0.0.31 by ssh and every resolver, not as a name"),
    ],
)
def test_check_name(value: str, expected: str | None) -> None:
    assert v.check_name(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("fe00000001", None),
        ("0000000001", None),
        ("ff00000001", "ff00000001 starts with ff, which ZeroTier reserves (no node has such an address)"),
        ("0000000000", "0000000000 is zero, which ZeroTier reserves (no node has such an address)"),
    ],
)
def test_check_zerotier_address(value: str, expected: str | None) -> None:
    assert v.check_zerotier_address(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.0.0.1", None),
        ("223.255.255.255", None),
        ("126.255.255.255", None),
        ("128.0.0.1", None),
        ("0.0.0.0", "0.0.0.0 is 'any address', which no other machine can send to"),
        ("255.255.255.255", "255.255.255.255 is broadcast or reserved, not one machine's address"),
        ("240.0.0.1", "240.0.0.1 is broadcast or reserved, not one machine's address"),
        ("127.0.0.1", "127.0.0.1 is loopback: on every other node it is that node itself"),
        ("224.0.0.1", "224.0.0.1 is a multicast group, not one machine's address"),
        ("239.255.255.255", "239.255.255.255 is a multicast group, not one machine's address"),
    ],
)
def test_check_endpoint(value: str, expected: str | None) -> None:
    assert v.check_endpoint(IPv4Address(value)) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.0.0.0/8", None),
        ("1.0.0.0/8", None),
        ("126.0.0.0/8", None),
        ("169.253.0.0/16", None),
        ("223.0.0.0/8", None),
        ("0.0.0.0/0", "0.0.0.0/0 is the default route: every packet would go into the overlay"),
        ("0.0.0.0/8", "0.0.0.0/8 overlaps 'this network' (0.0.0.0/8)"),
        ("127.0.0.0/8", "127.0.0.0/8 overlaps loopback (127.0.0.0/8)"),
        ("169.254.0.0/16", "169.254.0.0/16 overlaps link-local (169.254.0.0/16)"),
        ("224.0.0.0/4", "224.0.0.0/4 overlaps multicast (224.0.0.0/4)"),
        ("240.0.0.0/4", "240.0.0.0/4 overlaps reserved (240.0.0.0/4, with the broadcast address)"),
    ],
)
def test_check_overlay(value: str, expected: str | None) -> None:
    assert v.check_overlay(IPv4Network(value)) == expected


WRITE = " (dotted quad, no leading zeros) or the address you mean"
SHORT = " (a short form: the last part fills the remaining bytes): write "


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.147.17.5", None),
        ("0.0.0.0", None),
        ("2001:db8::1", None),
        ("::1", None),
        ("::ffff", None),
        ("fe80::1%eth0", None),
        ("node", None),
        ("1.2.3.4.5", "'1.2.3.4.5' is neither an IPv4 address nor a host name"),
        ("999.1.1.1", "'999.1.1.1' is neither an IPv4 address nor a host name"),
        (
            "010.147.17.5",
            "'010.147.17.5' is read by ssh and the C library as the address 8.147.17.5 (a leading 0 means octal); "
            "Python tools read 10.147.17.5: write 8.147.17.5" + WRITE,
        ),
        (
            "01.1.1.1",
            "'01.1.1.1' is read by ssh and the C library as the address 1.1.1.1 (a leading 0 means octal): "
            "write 1.1.1.1" + WRITE,
        ),
        (
            "1.2.3.04",
            "'1.2.3.04' is read by ssh and the C library as the address 1.2.3.4 (a leading 0 means octal): "
            "write 1.2.3.4" + WRITE,
        ),
        (
            "0X0a.1.1.1",
            "'0X0a.1.1.1' is read by ssh and the C library as the address 10.1.1.1 (0x means hex): write 10.1.1.1"
            + WRITE,
        ),
        ("1.2.3", "'1.2.3' is read by ssh and the C library as the address 1.2.0.3" + SHORT + "1.2.0.3" + WRITE),
        ("10.1", "'10.1' is read by ssh and the C library as the address 10.0.0.1" + SHORT + "10.0.0.1" + WRITE),
        ("::10.147.17.5", "'::10.147.17.5' is the IPv4 address 10.147.17.5 in IPv6 form: write 10.147.17.5"),
        ("::ffff:10.1.2.3", "'::ffff:10.1.2.3' is the IPv4 address 10.1.2.3 in IPv6 form: write 10.1.2.3"),
    ],
)
def test_ipv4_spelling(value: str, expected: str | None) -> None:
    assert v.ipv4_spelling(value) == expected


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("0x", "0.0.0.0"),
        ("4294967295", "255.255.255.255"),
        ("4294967296", None),
        ("1.16777215", "1.255.255.255"),
        ("1.16777216", None),
        ("255.255.65535", "255.255.255.255"),
        ("256.1.1", None),
        ("1.2.3.255", "1.2.3.255"),
        ("1.2.3.256", None),
        ("12345678901", None),
        ("1.2.3.4.0", None),
        ("", None),
        ("1..2", None),
    ],
)
def test_inet_aton_bounds(text: str, address: str | None) -> None:
    assert (None if (read := v.inet_aton(text)) is None else str(read)) == address


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("10.1.2.3", "10.1.2.3"),
        ("2002:0a93:1105::", "10.147.17.5"),
        ("64:ff9b::a93:1105", "10.147.17.5"),
        ("::ffff:10.1.2.3", "10.1.2.3"),
        ("::10.147.17.5", "10.147.17.5"),
        ("::1", None),
        ("::ffff", None),
        ("::1:0", "0.1.0.0"),
        ("::1:0:1", None),
        ("::ffff:10.1.2.3%eth0", None),
        ("2001:db8::1", None),
        ("node", None),
        ("fe80::1%eth0", None),
        ("::x", None),
    ],
)
def test_embedded_ipv4(text: str, address: str | None) -> None:
    assert (None if (read := v.embedded_ipv4(text)) is None else str(read)) == address


def test_shown_bounds_every_value_and_never_raises() -> None:
    assert v.shown("x" * 58) == "'" + "x" * 58 + "'"
    assert v.shown("x" * 59) == "'" + "x" * 56 + "..."
    assert v.shown("y" * 60, 10) == "'yyyyyy..."
    assert v.shown([[[]]]) == "[[[]]]"
    limit = sys.get_int_max_str_digits()
    assert v.shown(10 ** (limit + 1)) == "a number too long to show"
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    assert v.shown(deep) == "a value nested too deeply to show"


def test_describe_meta_names_at_most_ten_sorted_characters() -> None:
    assert v.describe_meta("abc") == ""
    assert (
        v.describe_meta("a$b`c d\te\x01") == "contains characters a shell would interpret ('\\x01' '\\t' ' ' '$' '`')"
    )
    assert v.describe_meta("`$;&|<>()'\"\\") == (
        "contains characters a shell would interpret ('\"' '$' '&' \"'\" '(' ')' ';' '<' '>' '\\\\')"
    )
    assert v.describe_meta("a" * 1000 + ";") == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (" 10.0.0.1 ", "10.0.0.1"),
        ("1" * 101, None),
        (" " * 92 + "10.0.0.1", "10.0.0.1"),
        (" " * 93 + "10.0.0.1", None),
        ("::1", None),
        (5, None),
        ("x", None),
    ],
)
def test_parse_ipv4(value: object, expected: str | None) -> None:
    assert (None if (ip := v.parse_ipv4(value)) is None else str(ip)) == expected


@pytest.mark.parametrize(
    ("value", "source", "ipv4"),
    [
        ("10.0.0.0/8", "10.0.0.0/8", "10.0.0.0/8"),
        ("10.0.0.1", "10.0.0.1/32", "10.0.0.1/32"),
        ("10.0.0.1/8", None, None),
        ("fe80::/10", "fe80::/10", None),
        ("fe80::1%eth0", None, None),
        (" 10.0.0.0/8", "10.0.0.0/8", "10.0.0.0/8"),
        ("1" * 101, None, None),
        (None, None, None),
    ],
)
def test_parse_source_and_ipv4_network(value: object, source: str | None, ipv4: str | None) -> None:
    assert (None if (net := v.parse_source(value)) is None else str(net)) == source
    assert (None if (net4 := v.parse_ipv4_network(value)) is None else str(net4)) == ipv4


@pytest.mark.parametrize(
    ("pattern", "good", "bad"),
    [
        (v.DNS_LABEL, ["a", "a-b", "a" * 63, "A9"], ["-a", "a-", "a" * 64, "a_b", "a\n"]),
        (v.NETWORK_NAME, ["a", "a_b.c-d", "a" * 64], ["_a", "a" * 65, "a b", ""]),
        (v.VERSION, ["1.2.3", "1234.0.9999"], ["1.2", "12345.1.1", "1.2.3.4", "a.b.c"]),
        (v.FINGERPRINT, ["0123456789ABCDEF0123456789ABCDEF01234567"], ["0123456789abcdef0123456789abcdef01234567"]),
        (v.NFT_NAME, ["a", "a_9", "a" * 31], ["9a", "_a", "a" * 32, "a-b"]),
        (v.STACK_NAME, ["o/p/s", "a.b/c_d/e-f"], ["p/s", "o/p/s/x", "o/p/"]),
        (v.DIGITS, ["0", "1" * 12], ["", "1" * 13, "٣"]),
        (v.ONE_LINE, ["plain text", "é ü", "a" * 255], ["a" * 256, "a\nb", "\x1b[31m", "a\u202eb", "\u200b", "\x85"]),
    ],
)
def test_patterns_at_their_bounds(pattern: object, good: list[str], bad: list[str]) -> None:
    import re

    assert isinstance(pattern, re.Pattern)
    assert [g for g in good if not pattern.fullmatch(g)] == []
    assert [b for b in bad if pattern.fullmatch(b)] == []
