"""Shapes a value must have before it goes near a shell, nftables or ZeroTier.

Every pattern is applied with ``fullmatch`` (a ``$`` would accept a trailing
newline) and spells digits as ``[0-9]`` (``\\d`` and ``int()`` accept
non-ASCII digits). Each check returns ``None`` when the value is fine and
otherwise a short sentence saying what is wrong; callers attach the config
key and the fix.
"""

from __future__ import annotations

import binascii
import re
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from urllib.parse import urlsplit

DNS_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
# Safe inside the hosts block's marker line and as a ZeroTier network name.
NETWORK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
# One printable line (descriptions shown in ZeroTier Central and in render): no C0 or C1 controls (terminal
# escapes), no bidi overrides or zero-width characters (text that reads differently than it is).
ONE_LINE = re.compile(r"[^\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]{0,255}")
# Hostnames, IPv4 and IPv6 literals. No leading '-' so a host can never become an ssh option.
HOST = re.compile(r"[A-Za-z0-9_.:][A-Za-z0-9_.:-]{0,252}")
USER = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,31}")
VERSION = re.compile(r"[0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,4}")
FINGERPRINT = re.compile(r"[0-9A-F]{40}")
URL = re.compile(r"https?://[A-Za-z0-9._~:/?#\[\]@!$&()*+,;=%-]{1,2000}")
NFT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,30}")
STACK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}")
HOST_KEY = re.compile(r"([a-z0-9@.-]{1,64}) ([A-Za-z0-9+/]{1,16384}={0,3})")
DIGITS = re.compile(r"[0-9]{1,12}")
SHELL_META = set("`$;&|<>()'\"\\*?[]{}~!#\n\t ")

#: Address space any site may use privately (RFC 1918, and RFC 6598's shared space): an overlay elsewhere
#: routes public addresses into the overlay on every node, which needs ``network.publicCidr: true``.
PRIVATE_NETS = tuple(IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"))
#: Address space an overlay must never cover: the default route and ranges with a meaning of their own.
FORBIDDEN_NETS = (
    (IPv4Network("0.0.0.0/8"), "'this network' (0.0.0.0/8)"),
    (IPv4Network("127.0.0.0/8"), "loopback (127.0.0.0/8)"),
    (IPv4Network("169.254.0.0/16"), "link-local (169.254.0.0/16)"),
    (IPv4Network("224.0.0.0/4"), "multicast (224.0.0.0/4)"),
    (IPv4Network("240.0.0.0/4"), "reserved (240.0.0.0/4, with the broadcast address)"),
)


def shown(value: object, limit: int = 60) -> str:
    """A value as an error message may echo it: repr, bounded, never raising.

    ``repr`` of an int of thousands of digits raises ``ValueError``; a deeply
    nested value can exhaust recursion.
    """
    try:
        text = repr(value)
    except ValueError:
        return "a number too long to show"
    except RecursionError:
        return "a value nested too deeply to show"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_meta(value: str) -> str:
    """Names the offending characters so the operator can find them."""
    bad = sorted({c for c in value[:1000] if c in SHELL_META or not c.isprintable()})[:10]
    listed = " ".join(repr(c) for c in bad)
    return f"contains characters a shell would interpret ({listed})" if bad else ""


def check_host(value: str) -> str | None:
    if HOST.fullmatch(value):
        return ipv4_spelling(value)
    why = describe_meta(value)
    if value.startswith("-"):
        why = "starts with '-', which ssh would read as an option"
    return f"{shown(value)} is not a hostname or IP address" + (f": it {why}" if why else "")


def check_user(value: str) -> str | None:
    if USER.fullmatch(value):
        return None
    why = describe_meta(value)
    return f"{shown(value)} is not a login name" + (f": it {why}" if why else "")


def check_url(value: str) -> str | None:
    """An http(s) URL with no credentials in it (they would sit in plain text in the state)."""
    if not URL.fullmatch(value):
        return f"{shown(value)} is not an http(s) URL"
    try:
        parts = urlsplit(value)
    except ValueError:
        return f"{shown(value)} is not an http(s) URL"
    if "@" in parts.netloc:
        return "carries credentials (user:password@), which would be stored in plain text"
    if not parts.hostname:
        return f"{shown(value)} names no host"
    return None


#: Host key types pulumi-command can pin, with the strings after the type in the key's wire form
#: (RFC 4253 section 6.6: uint32-length-prefixed strings) and their exact lengths (None: any).
HOST_KEY_TYPES: dict[str, tuple[tuple[bytes | None, int | None], ...]] = {
    "ssh-ed25519": ((None, 32),),
    "ecdsa-sha2-nistp256": ((b"nistp256", None), (None, 65)),
    "ecdsa-sha2-nistp384": ((b"nistp384", None), (None, 97)),
    "ecdsa-sha2-nistp521": ((b"nistp521", None), (None, 133)),
}
KEYSCAN = "pin the node's ed25519 key: paste the output of `ssh-keyscan -t ed25519 HOST` without the host name"


def check_host_key(value: str) -> str | None:
    """Why ``value`` (``type base64``) cannot pin a node's SSH host key, if it cannot.

    The base64 must decode, and its bytes must be a key of the declared type:
    a pasted key cut short or of another type would fail every connection
    with an error that names neither. ``ssh-rsa`` is refused: pulumi-command
    pins ``HostKeyAlgorithms`` to the key's type, so it would offer only
    ``ssh-rsa`` signatures (SHA-1), which OpenSSH 8.8 and later refuse.
    """
    match = HOST_KEY.fullmatch(value)
    if match is None:
        return "is not an OpenSSH public host key ('type base64')"
    declared, encoded = match.group(1), match.group(2)
    if declared == "ssh-rsa":
        return (
            "is an ssh-rsa key: pulumi-command would offer only ssh-rsa (SHA-1) signatures for it, "
            "which OpenSSH 8.8 and later refuse, so every connection would fail"
        )
    if declared not in HOST_KEY_TYPES:
        return f"has type {shown(declared)}, which is not a host key type ({', '.join(HOST_KEY_TYPES)})"
    try:
        blob = binascii.a2b_base64(encoded, strict_mode=True)
    except (binascii.Error, ValueError):
        return "is not valid base64 after the key type (cut short or mistyped?)"
    strings = _ssh_strings(blob)
    if not strings:  # None: the lengths do not add up
        return "does not decode to an SSH public key (cut short or mistyped?)"
    if strings[0] != declared.encode():
        inner = shown(strings[0][:64].decode("ascii", "replace"))
        return f"says {declared} but its bytes are a {inner} key"
    body, expected = strings[1:], HOST_KEY_TYPES[declared]
    if len(body) != len(expected) or any(
        (want is not None and got != want) or (size is not None and len(got) != size)
        for got, (want, size) in zip(body, expected, strict=False)
    ):
        return f"does not decode to a whole {declared} key (cut short or mistyped?)"
    return None


def _ssh_strings(blob: bytes) -> list[bytes] | None:
    """The length-prefixed strings of an SSH wire-format key, or None when the lengths do not add up."""
    strings, at = [], 0
    while at < len(blob):
        if at + 4 > len(blob):
            return None
        size = int.from_bytes(blob[at : at + 4], "big")
        at += 4
        if at + size > len(blob):
            return None
        strings.append(blob[at : at + size])
        at += size
    return strings


def check_name(value: str) -> str | None:
    """Why a node or device name cannot be a name in every node's /etc/hosts, if it cannot.

    ``localhost`` already names each machine itself; a name that ssh and the
    resolver read as an address (``8``, ``010``, ``0x1f``) would never be looked up.
    """
    if value.lower() in ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"):
        return f"{shown(value)} already names each machine itself (/etc/hosts)"
    read = inet_aton(value)
    if read is not None:
        return f"{shown(value)} is read as the address {read} by ssh and every resolver, not as a name"
    return None


def check_zerotier_address(address: str) -> str | None:
    """ZeroTier reserves addresses starting with ff and the address 0: no node can have one."""
    if address.startswith("ff"):
        return f"{address} starts with ff, which ZeroTier reserves (no node has such an address)"
    if int(address, 16) == 0:
        return f"{address} is zero, which ZeroTier reserves (no node has such an address)"
    return None


def check_endpoint(ip: IPv4Address) -> str | None:
    """Why other machines cannot reach ``ip`` as a root's (moon's) endpoint, if they cannot."""
    if ip.is_unspecified:
        return f"{ip} is 'any address', which no other machine can send to"
    if ip == IPv4Address("255.255.255.255") or ip in IPv4Network("240.0.0.0/4"):
        return f"{ip} is broadcast or reserved, not one machine's address"
    if ip.is_loopback:
        return f"{ip} is loopback: on every other node it is that node itself"
    if ip.is_multicast:
        return f"{ip} is a multicast group, not one machine's address"
    return None


def check_overlay(net: IPv4Network) -> str | None:
    """Refuses overlay networks that would capture traffic with another meaning."""
    if net.prefixlen == 0:
        return f"{net} is the default route: every packet would go into the overlay"
    clash = next((what for reserved, what in FORBIDDEN_NETS if net.overlaps(reserved)), None)
    return f"{net} overlaps {clash}" if clash else None


def _text(value: object) -> str | None:
    """Address text: bounded, and without an IPv6 zone (``%eth0``), which ``ipaddress`` takes verbatim."""
    if isinstance(value, str) and len(value) <= 100 and "%" not in value:
        return value.strip()
    return None


CANONICAL_IPV4 = re.compile(r"(0|[1-9][0-9]{0,2})(\.(0|[1-9][0-9]{0,2})){3}")


def inet_aton(text: str) -> IPv4Address | None:
    """The address glibc's ``inet_aton`` (so ssh, ping and ``getaddrinfo``) reads in ``text``, if any.

    It takes one to four parts, each decimal, octal (leading ``0``) or hex
    (``0x``); the last part fills the remaining bytes: ``10.147.4357`` is
    10.147.17.5, ``177410309`` is 10.146.254.5, ``192.168.010.011`` is 192.168.8.9.
    """
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values = []
    for part in parts:
        if re.fullmatch(r"0[xX][0-9a-fA-F]*", part):
            values.append(int(part[2:] or "0", 16))
        elif re.fullmatch(r"0[0-7]*", part):
            values.append(int(part, 8))
        elif re.fullmatch(r"[1-9][0-9]*", part) and len(part) <= 10:
            values.append(int(part))
        else:
            return None
    *leading, last = values
    if any(value > 255 for value in leading) or last >= 256 ** (4 - len(leading)):
        return None
    number = last
    for index, value in enumerate(leading):
        number |= value << (8 * (3 - index))
    return IPv4Address(number)


def ipv4_spelling(text: str) -> str | None:
    """Why ``text`` is not the one spelling of an IPv4 address (dotted quad, no leading zeros), if it is not.

    Python's ``ipaddress`` refuses ``010`` and ``10.147.4357``, but ssh and the
    C library read them as addresses (octal, short forms), so a check done in
    Python would judge a different machine than the one ssh reaches. An IPv6
    form of an IPv4 address (``::ffff:10.147.17.5``) reaches that IPv4 address.
    """
    if CANONICAL_IPV4.fullmatch(text) and inet_aton(text) is not None:
        return None
    read = inet_aton(text)
    if read is not None:
        why = f"{shown(text)} is read by ssh and the C library as the address {read}"
        if "0x" in text.lower():
            why += " (0x means hex)"
        elif re.search(r"(^|\.)0[0-9]", text):
            decimal = ".".join(str(int(part)) for part in text.split("."))
            why += " (a leading 0 means octal)"
            if CANONICAL_IPV4.fullmatch(decimal) and decimal != str(read):
                why += f"; Python tools read {decimal}"
        else:  # fewer than four parts: four decimal ones without leading zeros are the one spelling
            why += " (a short form: the last part fills the remaining bytes)"
        return f"{why}: write {read} (dotted quad, no leading zeros) or the address you mean"
    if re.fullmatch(r"[0-9.]+", text):
        return f"{shown(text)} is neither an IPv4 address nor a host name"
    if ":" in text:
        try:
            ip = ip_address(text)
        except ValueError:
            return None
        embedded = getattr(ip, "ipv4_mapped", None) or _ipv4_compatible(ip)
        if embedded is not None:
            return f"{shown(text)} is the IPv4 address {embedded} in IPv6 form: write {embedded}"
    return None


#: NAT64's well-known prefix (RFC 6052): the last 32 bits are an IPv4 address a gateway forwards to.
NAT64 = IPv6Network("64:ff9b::/96")


def embedded_ipv4(text: str) -> IPv4Address | None:
    """The IPv4 address traffic to ``text`` ends up at: itself, or the one inside an IPv6 form of it.

    Besides IPv4-mapped and -compatible forms (refused where hosts are read),
    6to4 (``2002:0a93:1105::``) and NAT64 (``64:ff9b::a93:1105``) addresses
    carry an IPv4 address that routers deliver to.
    """
    ip4 = parse_ipv4(text)
    if ip4 is not None or ":" not in text:
        return ip4
    try:
        ip = ip_address(text) if _text(text) is not None else None
    except ValueError:
        return None
    if not isinstance(ip, IPv6Address):
        return None
    if ip in NAT64:
        return IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.ipv4_mapped or ip.sixtofour or _ipv4_compatible(ip)


def _ipv4_compatible(ip: object) -> IPv4Address | None:
    """The IPv4 address inside a deprecated IPv4-compatible IPv6 address (``::10.147.17.5``)."""
    if isinstance(ip, IPv6Address) and int(ip) >> 32 == 0 and int(ip) > 0xFFFF:
        return IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def parse_ipv4(value: object) -> IPv4Address | None:
    text = _text(value)
    try:
        ip = ip_address(text) if text is not None else None
    except ValueError:
        return None
    return ip if isinstance(ip, IPv4Address) else None


def parse_ipv4_network(value: object) -> IPv4Network | None:
    net = parse_source(value)
    return net if isinstance(net, IPv4Network) else None


def parse_source(value: object) -> IPv4Network | IPv6Network | None:
    """A source network; a bare address means that one host."""
    text = _text(value)
    try:
        return ip_network(text, strict=True) if text is not None else None
    except ValueError:
        return None
