"""Shapes a value must have before it goes near a shell, nftables or ZeroTier.

Each check returns ``None`` when the value is fine and otherwise a short
sentence saying what is wrong; callers attach the config key and the fix.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv4Network, IPv6Network, ip_address, ip_network

DNS_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
# Hostnames, IPv4 and IPv6 literals. No leading '-' so a host can never become an ssh option.
HOST = re.compile(r"^[A-Za-z0-9_.:][A-Za-z0-9_.:-]{0,252}$")
USER = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,31}$")
NETWORK_ID = re.compile(r"^[0-9a-f]{16}$")
ZT_ADDRESS = re.compile(r"^[0-9a-f]{10}$")
VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")
FINGERPRINT = re.compile(r"^[0-9A-F]{40}$")
URL = re.compile(r"^https?://[A-Za-z0-9._~:/?#\[\]@!$&()*+,;=%-]+$")
IFNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,14}$")
NFT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,30}$")
STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
HOST_KEY = re.compile(
    r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com)"
    r" [A-Za-z0-9+/]+={0,3}$"
)
SHELL_META = set("`$;&|<>()'\"\\*?[]{}~!#\n\t ")


def describe_meta(value: str) -> str:
    """Names the offending characters so the operator can find them."""
    bad = sorted({c for c in value if c in SHELL_META or not c.isprintable()})
    shown = " ".join(repr(c) for c in bad)
    return f"contains characters a shell would interpret ({shown})" if bad else ""


def check_host(value: str) -> str | None:
    if HOST.match(value):
        return None
    why = describe_meta(value)
    if value.startswith("-"):
        why = "starts with '-', which ssh would read as an option"
    return f"{value!r} is not a hostname or IP address" + (f": it {why}" if why else "")


def check_user(value: str) -> str | None:
    if USER.match(value):
        return None
    why = describe_meta(value)
    return f"{value!r} is not a login name" + (f": it {why}" if why else "")


def parse_ipv4(value: object) -> IPv4Address | None:
    try:
        ip = ip_address(str(value).strip())
    except ValueError:
        return None
    return ip if isinstance(ip, IPv4Address) else None


def parse_ipv4_network(value: object) -> IPv4Network | None:
    try:
        net = ip_network(str(value).strip(), strict=True)
    except ValueError:
        return None
    return net if isinstance(net, IPv4Network) else None


def parse_source(value: object) -> IPv4Network | IPv6Network | None:
    """A source network; a bare address means that one host."""
    try:
        return ip_network(str(value).strip(), strict=True)
    except ValueError:
        return None
