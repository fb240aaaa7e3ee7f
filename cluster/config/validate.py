"""Shapes a value must have before it goes near a shell, nftables or ZeroTier.

Every pattern is applied with ``fullmatch`` (a ``$`` would accept a trailing
newline) and spells digits as ``[0-9]`` (``\\d`` and ``int()`` accept
non-ASCII digits). Each check returns ``None`` when the value is fine and
otherwise a short sentence saying what is wrong; callers attach the config
key and the fix.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from urllib.parse import urlsplit

DNS_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
# Safe inside the hosts block's marker line and as a ZeroTier network name.
NETWORK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
# One printable line (descriptions shown in ZeroTier Central).
ONE_LINE = re.compile(r"[^\x00-\x1f\x7f]{0,255}")
# Hostnames, IPv4 and IPv6 literals. No leading '-' so a host can never become an ssh option.
HOST = re.compile(r"[A-Za-z0-9_.:][A-Za-z0-9_.:-]{0,252}")
USER = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,31}")
VERSION = re.compile(r"[0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,4}")
FINGERPRINT = re.compile(r"[0-9A-F]{40}")
URL = re.compile(r"https?://[A-Za-z0-9._~:/?#\[\]@!$&()*+,;=%-]{1,2000}")
NFT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,30}")
STACK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}")
HOST_KEY = re.compile(
    r"(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com) [A-Za-z0-9+/]{1,16384}={0,3}"
)
DIGITS = re.compile(r"[0-9]{1,12}")
SHELL_META = set("`$;&|<>()'\"\\*?[]{}~!#\n\t ")

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
        elif text.count(".") < 3:
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
