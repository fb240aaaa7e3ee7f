"""The match keywords: one table entry each, with its text, compiled form, arguments and meaning.

The shape of ZeroTier's own rule compiler (``rule-compiler/rule-compiler.js``,
one ``case`` per keyword) and of its rule engine (``node/Network.cpp``,
``_doZtFilter``, one ``case`` per rule type), joined: each :class:`Keyword`
says how its arguments are read from rule source (:attr:`Keyword.parse`,
never looser than ZeroTier's compiler), how they are written back
(:attr:`Keyword.words`), what the controller takes (:attr:`Keyword.fields`,
what ZeroTier's compiler prints for those words) and whether a frame matches
(:attr:`Keyword.test`, what ZeroTier's engine decides). A keyword is added in
one place, or not at all.

Arguments are kept normalized (a tuple of ints and strings), so two spellings
of one rule are one model, and the source written back parses to the same
model.

How a test answers, as ZeroTier's engine does: a plain bool is inverted by
``not``; :data:`HARD_NO` is "no" even under ``not`` (a port match on a frame
without an IP header); :data:`HARD_YES` is "yes" even under ``not`` (``icmp``
with a type that matches and no code); :data:`YES_SKIP_DROP` is a tag the
sender cannot know yet (a receiver's ``treq`` before its credentials
arrived): "yes", and the next ``drop`` that would be taken is skipped.
"""

from __future__ import annotations

import enum
import functools
import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Any

from cluster.rules.frame import ARP, IPV4, PORTED, Frame, PortRange

#: The ``role`` tag: its ID and its values. ``other`` is every member without one.
ROLE_TAG = "role"
ROLE_TAG_ID = 1
ROLE_VALUES: Mapping[str, int] = {"other": 0, "head": 1, "compute": 2, "device": 3}

ETHERTYPES: Mapping[str, int] = {
    "ipv4": 0x0800, "arp": 0x0806, "wol": 0x0842, "rarp": 0x8035, "ipv6": 0x86DD,
    "atalk": 0x809B, "aarp": 0x80F3, "ipx_a": 0x8137, "ipx_b": 0x8138,
}  # fmt: skip
IP_PROTOCOLS: Mapping[str, int] = {
    "icmp4": 1, "icmp": 1, "icmpv4": 1, "igmp": 2, "ipip": 4, "tcp": 6, "egp": 8, "igp": 9,
    "udp": 17, "rdp": 27, "esp": 50, "ah": 51, "icmp6": 58, "icmpv6": 58, "l2tp": 115,
    "sctp": 132, "udplite": 136,
}  # fmt: skip
#: Bits of ``chr`` (0 is the least significant of 64).
CHARACTERISTICS: Mapping[str, int] = {
    "inbound": 63, "multicast": 62, "broadcast": 61, "ipauth": 60, "macauth": 59,
    "tcp_fin": 0, "tcp_syn": 1, "tcp_rst": 2, "tcp_psh": 3, "tcp_ack": 4, "tcp_urg": 5,
    "tcp_ece": 6, "tcp_cwr": 7, "tcp_ns": 8, "tcp_rs2": 9, "tcp_rs1": 10, "tcp_rs0": 11,
}  # fmt: skip
#: Words ZeroTier's compiler refuses as a match's argument (so ``ipprotocol icmp`` fails: write ``icmp4``).
RESERVED = frozenset({
    "macro", "tag", "cap", "default", "drop", "accept", "tee", "watch", "redirect", "break", "priority",
    "ztsrc", "ztdest", "vlan", "vlanpcp", "vlandei", "ethertype", "macsrc", "macdest", "ipsrc", "ipdest",
    "iptos", "ipprotocol", "icmp", "sport", "dport", "chr", "framesize", "random", "tand", "tor", "txor",
    "tdiff", "teq", "tseq", "treq", "type", "enum", "class", "define", "import", "include", "log", "not",
    "xor", "or", "and", "set", "var", "let",
})  # fmt: skip

Args = tuple[Any, ...]


class Hard(enum.Enum):
    """A test's answer that ``not`` does not invert (ZeroTier's ``hardNo``/``hardYes``)."""

    NO = "no"
    YES = "yes"
    YES_SKIP_DROP = "yes, and skip the next drop"


HARD_NO, HARD_YES, YES_SKIP_DROP = Hard.NO, Hard.YES, Hard.YES_SKIP_DROP
Answer = bool | Hard
#: A port test on a range that a rule's range cuts: the parts, to be decided one by one.
Parts = tuple[Frame, ...]


@dataclass(frozen=True)
class Keyword:
    """One match keyword: everything about it, in one entry of :data:`KEYWORDS`."""

    #: The controller API's rule type (``MATCH_...``).
    api: str
    #: How many words of source follow the keyword.
    arity: int
    #: Source words → normalized arguments; raises ValueError with the reason.
    parse: Callable[[Sequence[str]], Args]
    #: Normalized arguments → source words (what ZeroTier's compiler reads as the same arguments).
    words: Callable[[Args], list[str]]
    #: Normalized arguments → the controller's fields besides ``type``, ``not`` and ``or``.
    fields: Callable[[Args], dict[str, Any]]
    #: Whether a frame matches (before ``not``), or the parts a port range must be cut into.
    test: Callable[[Args, Frame], Answer | Parts]


# --- numbers and names, read as ZeroTier's compiler reads them, but strictly ------------------

_DECIMAL = re.compile(r"[0-9]+")
_HEX = re.compile(r"0[xX][0-9a-fA-F]+")
_DOTTED = re.compile(r"(0|[1-9][0-9]{0,2})(\.(0|[1-9][0-9]{0,2})){3}")


def shown(text: str, limit: int = 40) -> str:
    """A bounded, quoted excerpt of operator text for a message (a 3 MB word never becomes a 3 MB message)."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text)} characters)"


def number(text: str, low: int, high: int, what: str) -> int:
    """A decimal or ``0x`` number in ``low..high``; ASCII digits only (Python's int() takes more)."""
    if _DECIMAL.fullmatch(text):
        value = int(text, 10) if len(text) <= 10 else high + 1
    elif _HEX.fullmatch(text):
        value = int(text[2:], 16) if len(text) <= 18 else high + 1
    else:
        raise ValueError(f"{what} {shown(text)} is not a number")
    if not low <= value <= high:
        raise ValueError(f"{what} {shown(text)} is out of range ({low}-{high})")
    return value


def _named(text: str, names: Mapping[str, int], low: int, high: int, what: str) -> int:
    if text in names:
        return names[text]
    if text.lower() in names:
        raise ValueError(f"{what} {shown(text)}: names are lower case, as ZeroTier reads them: write {text.lower()}")
    return number(text, low, high, what)


def _name_of(value: int, names: Mapping[str, int], default: str) -> str:
    return next((n for n, v in names.items() if v == value and n not in RESERVED), default)


# --- the keywords -----------------------------------------------------------------------------------


def _zt_parse(args: Sequence[str]) -> Args:
    if not re.fullmatch(r"[0-9a-fA-F]{10}", args[0]):
        raise ValueError(f"{shown(args[0])} is not a ZeroTier address (10 hex digits)")
    return (args[0].lower(),)


def _zt_src(a: Args, f: Frame) -> Answer:
    return bool(f.sender.zt == a[0])


def _zt_dest(a: Args, f: Frame) -> Answer:
    if f.receiver is None:  # a broadcast before its receivers are known: ZeroTier's ztDest is 0
        return bool(a[0] == "0000000000")
    return bool(f.receiver.zt == a[0])


def _ethertype_parse(args: Sequence[str]) -> Args:
    return (_named(args[0], ETHERTYPES, 0, 0xFFFF, "ethertype"),)


def _ipprotocol_parse(args: Sequence[str]) -> Args:
    return (_named(args[0], IP_PROTOCOLS, 0, 255, "IP protocol"),)


def _ipprotocol(a: Args, f: Frame) -> Answer:
    return f.protocol == a[0] if f.ethertype == IPV4 else HARD_NO


def _ip_parse(args: Sequence[str]) -> Args:
    text = args[0]
    address, slash, bits = text.partition("/")
    if not slash:
        raise ValueError(f"{shown(text)} needs a /bits prefix length (10.147.17.5/32)")
    if ":" in address:
        raise ValueError(f"{shown(text)}: the overlay is IPv4 only (IPv6 frames are dropped)")
    if not _DOTTED.fullmatch(address) or not re.fullmatch(r"[0-9]{1,2}", bits):
        raise ValueError(f"{shown(text)} is not an IPv4 address with /bits (a dotted quad, no leading zeros)")
    try:
        net = IPv4Interface(f"{address}/{int(bits)}")
    except ValueError:
        raise ValueError(f"{shown(text)} is not an IPv4 address with /bits") from None
    return (str(net),)


@functools.lru_cache(maxsize=4096)
def network(text: str) -> IPv4Network:
    """The network of an ``ipsrc``/``ipdest`` argument (cached: the evaluator tests it on every frame)."""
    return IPv4Interface(text).network


@functools.lru_cache(maxsize=4096)
def _bounds(text: str) -> tuple[int, int]:
    net = network(text)
    return int(net.network_address), int(net.netmask)


def _within(ip: IPv4Address, text: str) -> bool:
    address, mask = _bounds(text)
    return int(ip) & mask == address


def _ip_src(a: Args, f: Frame) -> Answer:
    return _within(f.sender.ip, a[0]) if f.ethertype == IPV4 else HARD_NO


def _ip_dest(a: Args, f: Frame) -> Answer:
    if f.ethertype != IPV4:
        return HARD_NO
    assert f.receiver is not None, "IPv4 frames here are unicast"
    return _within(f.receiver.ip, a[0])


def _icmp_parse(args: Sequence[str]) -> Args:
    kind = number(args[0], 0, 255, "ICMP type")
    code = -1 if args[1] == "-1" else number(args[1], 0, 255, "ICMP code (or -1 for any)")
    return (kind, code)


def _icmp(a: Args, f: Frame) -> Answer:
    if f.ethertype != IPV4 or f.protocol != 1 or f.icmp[0] != a[0]:
        return HARD_NO
    return HARD_YES if a[1] == -1 else f.icmp[1] == a[1]


def _ports_parse(args: Sequence[str]) -> Args:
    text = args[0]
    first, dash, last = text.partition("-")
    a = number(first, 0, 65535, "port")
    b = number(last, 0, 65535, "port") if dash else a
    if b < a:
        raise ValueError(f"{shown(text)}: the range is backwards")
    return (a, b)


def _ports_words(a: Args) -> list[str]:
    return [str(a[0]) if a[0] == a[1] else f"{a[0]}-{a[1]}"]


def _port_test(a: Args, f: Frame, field: str) -> Answer | Parts:
    if f.ethertype != IPV4:
        return HARD_NO
    if f.protocol not in PORTED:
        return False  # ZeroTier: an IPv4 frame without ports is a plain "no", which not inverts
    ports: PortRange = getattr(f, field)
    first, last = a
    if first <= ports[0] and ports[1] <= last:
        return True
    if ports[1] < first or last < ports[0]:
        return False
    cuts = sorted({ports[0], *(p for p in (first, last + 1) if ports[0] < p <= ports[1]), ports[1] + 1})
    parts = [(low, high - 1) for low, high in itertools.pairwise(cuts)]
    if field == "sport":
        return tuple(f.with_ports(part, f.dport) for part in parts)
    return tuple(f.with_ports(f.sport, part) for part in parts)


def _chr_parse(args: Sequence[str]) -> Args:
    text = args[0]
    mask = 0
    for name in text.split(","):
        if name:
            mask |= 1 << _named(name, CHARACTERISTICS, 0, 63, "bit")
    if not mask:
        raise ValueError(f"{shown(text)} names no characteristic, so it never matches")
    for top, rest, names in (
        (63, 0x7FFFFFFF << 32, "'inbound' (bit 63) and bits 32-62"),
        (31, 0x7FFFFFFF, "bits 31 and 0-30"),
    ):
        if mask >> top & 1 and mask & rest:
            # ZeroTier's compiler builds each 32-bit half in a signed JavaScript int: these come out wrong.
            raise ValueError(
                f"{shown(text)}: {names} cannot share one chr (ZeroTier's compiler gets the mask wrong); "
                "write them as 'chr a or chr b'"
            )
    return (mask,)


def _chr_words(a: Args) -> list[str]:
    names = {v: n for n, v in CHARACTERISTICS.items()}
    return [",".join(names.get(b, str(b)) for b in range(63, -1, -1) if a[0] >> b & 1)]


def _chr(a: Args, f: Frame) -> Answer:
    bits = 0
    if f.inbound:
        bits |= 1 << CHARACTERISTICS["inbound"]
    if f.destination != "unicast":  # a broadcast MAC is a multicast MAC too
        bits |= 1 << CHARACTERISTICS["multicast"]
    if f.destination == "broadcast":
        bits |= 1 << CHARACTERISTICS["broadcast"]
    # ipauth: the sender's IP (IPv4's source, ARP's sender) is in its certificate of ownership; on the
    # receiver that needs the sender's credentials. macauth: the controller (controller/
    # EmbeddedNetworkController.cpp) certifies only assigned IPs, never a MAC, so it never holds here.
    if f.ipauth and f.ethertype in (IPV4, ARP) and (f.peer_known or not f.inbound):
        bits |= 1 << CHARACTERISTICS["ipauth"]
    if f.macauth:
        bits |= 1 << CHARACTERISTICS["macauth"]
    if f.ethertype == IPV4 and f.protocol == 6:
        bits |= f.tcp_flags & 0xFFF
    return bool(bits & a[0])


def _tag_parse(args: Sequence[str]) -> Args:
    if args[0] != ROLE_TAG:
        raise ValueError(f"unknown tag {shown(args[0])}: the only tag is '{ROLE_TAG}' ({', '.join(ROLE_VALUES)})")
    if args[1] not in ROLE_VALUES:
        raise ValueError(f"unknown value {shown(args[1])} of tag '{ROLE_TAG}': use one of {', '.join(ROLE_VALUES)}")
    return (ROLE_TAG_ID, ROLE_VALUES[args[1]])


def _tag_words(a: Args) -> list[str]:
    return [ROLE_TAG, _name_of(a[1], ROLE_VALUES, str(a[1]))]


def _tseq(a: Args, f: Frame) -> Answer:
    if f.inbound and not f.peer_known:  # the receiver does not know the sender's tag: fail closed
        return HARD_NO
    return bool(ROLE_VALUES[f.sender.role] == a[1])


def _treq(a: Args, f: Frame) -> Answer:
    if not f.inbound and (f.receiver is None or not f.peer_known):
        return YES_SKIP_DROP  # the sender cannot know yet: ZeroTier lets the receiver decide
    assert f.receiver is not None
    return bool(ROLE_VALUES[f.receiver.role] == a[1])


def _plain(a: Args) -> list[str]:
    return [str(a[0])]


KEYWORDS: Mapping[str, Keyword] = {
    "ztsrc": Keyword("MATCH_SOURCE_ZEROTIER_ADDRESS", 1, _zt_parse, _plain, lambda a: {"zt": a[0]}, _zt_src),
    "ztdest": Keyword("MATCH_DEST_ZEROTIER_ADDRESS", 1, _zt_parse, _plain, lambda a: {"zt": a[0]}, _zt_dest),
    "ethertype": Keyword(
        "MATCH_ETHERTYPE",
        1,
        _ethertype_parse,
        lambda a: [_name_of(a[0], ETHERTYPES, f"0x{a[0]:04x}")],
        lambda a: {"etherType": a[0]},
        lambda a, f: f.ethertype == a[0],
    ),
    "ipprotocol": Keyword(
        "MATCH_IP_PROTOCOL",
        1,
        _ipprotocol_parse,
        lambda a: [_name_of(a[0], IP_PROTOCOLS, str(a[0]))],
        lambda a: {"ipProtocol": a[0]},
        _ipprotocol,
    ),
    "ipsrc": Keyword("MATCH_IPV4_SOURCE", 1, _ip_parse, _plain, lambda a: {"ip": a[0]}, _ip_src),
    "ipdest": Keyword("MATCH_IPV4_DEST", 1, _ip_parse, _plain, lambda a: {"ip": a[0]}, _ip_dest),
    "icmp": Keyword(
        "MATCH_ICMP",
        2,
        _icmp_parse,
        lambda a: [str(a[0]), str(a[1])],
        lambda a: {"icmpType": a[0], "icmpCode": None if a[1] == -1 else a[1]},
        _icmp,
    ),
    "sport": Keyword(
        "MATCH_IP_SOURCE_PORT_RANGE",
        1,
        _ports_parse,
        _ports_words,
        lambda a: {"start": a[0], "end": a[1]},
        lambda a, f: _port_test(a, f, "sport"),
    ),
    "dport": Keyword(
        "MATCH_IP_DEST_PORT_RANGE",
        1,
        _ports_parse,
        _ports_words,
        lambda a: {"start": a[0], "end": a[1]},
        lambda a, f: _port_test(a, f, "dport"),
    ),
    "chr": Keyword("MATCH_CHARACTERISTICS", 1, _chr_parse, _chr_words, lambda a: {"mask": f"{a[0]:016x}"}, _chr),
    "tseq": Keyword("MATCH_TAG_SENDER", 2, _tag_parse, _tag_words, lambda a: {"id": a[0], "value": a[1]}, _tseq),
    "treq": Keyword("MATCH_TAG_RECEIVER", 2, _tag_parse, _tag_words, lambda a: {"id": a[0], "value": a[1]}, _treq),
}
