"""The rules model: matches and rules as Python values, in the two forms a controller takes.

:meth:`NetworkRules.source` is rule source text (what Central compiles, the
provider's ``flow_rules``); :meth:`NetworkRules.compiled` is what the
controller inside zerotier-one takes. Both come from the same values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from cluster.conventions import NAMESPACE

#: The config key everything here is reported under.
KEY = f"{NAMESPACE}:rules"
#: The ``role`` tag: its ID and its values. ``other`` is every member without one.
ROLE_TAG = "role"
ROLE_TAG_ID = 1
ROLE_VALUES: Mapping[str, int] = {"other": 0, "head": 1, "compute": 2, "device": 3}
ROLE_DEFAULT = "other"

MemberRole = Literal["head", "compute", "device"]
Action = Literal["accept", "drop", "break"]

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

#: The matches operator rules may use: keyword → (controller API type, number of arguments).
MATCHES: Mapping[str, tuple[str, int]] = {
    "ztsrc": ("MATCH_SOURCE_ZEROTIER_ADDRESS", 1),
    "ztdest": ("MATCH_DEST_ZEROTIER_ADDRESS", 1),
    "ethertype": ("MATCH_ETHERTYPE", 1),
    "ipprotocol": ("MATCH_IP_PROTOCOL", 1),
    "ipsrc": ("MATCH_IPV4_SOURCE", 1),
    "ipdest": ("MATCH_IPV4_DEST", 1),
    "icmp": ("MATCH_ICMP", 2),
    "sport": ("MATCH_IP_SOURCE_PORT_RANGE", 1),
    "dport": ("MATCH_IP_DEST_PORT_RANGE", 1),
    "chr": ("MATCH_CHARACTERISTICS", 1),
    "tseq": ("MATCH_TAG_SENDER", 2),
    "treq": ("MATCH_TAG_RECEIVER", 2),
}
#: Words ZeroTier's compiler refuses as a match's argument (so ``ipprotocol icmp`` fails: write ``icmp4``).
ACTIONS: Mapping[str, str] = {"accept": "ACTION_ACCEPT", "drop": "ACTION_DROP", "break": "ACTION_BREAK"}


@dataclass(frozen=True)
class Match:
    """One match: a keyword and its normalized arguments; ``negate`` is ``not``, ``either`` is ``or``."""

    keyword: str
    args: tuple[int | str, ...]
    negate: bool = False
    either: bool = False

    def source(self) -> str:
        words = (["or"] if self.either else []) + (["not"] if self.negate else []) + [self.keyword]
        return " ".join(words + [self._arg_text(a, i) for i, a in enumerate(self.args)])

    def _arg_text(self, arg: int | str, index: int) -> str:
        if self.keyword == "ethertype":
            return next((n for n, v in ETHERTYPES.items() if v == arg), f"0x{arg:04x}")
        if self.keyword == "ipprotocol":
            return next((n for n, v in IP_PROTOCOLS.items() if v == arg), str(arg))
        if self.keyword in ("tseq", "treq"):
            return ROLE_TAG if index == 0 else next((n for n, v in ROLE_VALUES.items() if v == arg), str(arg))
        if self.keyword == "chr":
            mask = int(str(arg), 16)
            names = {v: n for n, v in CHARACTERISTICS.items()}
            return ",".join(names.get(b, str(b)) for b in range(63, -1, -1) if mask >> b & 1)
        return str(arg)

    def compiled(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": MATCHES[self.keyword][0], "not": self.negate, "or": self.either}
        kw, a = self.keyword, self.args
        if kw in ("ztsrc", "ztdest"):
            out["zt"] = a[0]
        elif kw == "ethertype":
            out["etherType"] = a[0]
        elif kw == "ipprotocol":
            out["ipProtocol"] = a[0]
        elif kw in ("ipsrc", "ipdest"):
            out["ip"] = a[0]
        elif kw == "icmp":
            out["icmpType"], out["icmpCode"] = a[0], None if a[1] == -1 else a[1]
        elif kw in ("sport", "dport"):
            out["start"], out["end"] = port_range(str(a[0]))
        elif kw == "chr":
            out["mask"] = a[0]
        else:  # tseq, treq
            out["id"], out["value"] = a
        return out


@dataclass(frozen=True)
class Rule:
    """Matches (all must hold, read left to right with ``or``) and the action taken when they do."""

    action: Action
    matches: tuple[Match, ...] = ()
    #: Said above the rule in the source, so a reviewer reads why.
    comment: str = ""

    def source(self) -> str:
        words: list[str] = [self.action]
        for i, m in enumerate(self.matches):
            words += [m.source()] if i == 0 or m.either else ["and", m.source()]
        text = " ".join(words) + ";"
        return f"# {self.comment}\n{text}" if self.comment else text

    def compiled(self) -> list[dict[str, Any]]:
        return [*(m.compiled() for m in self.matches), {"type": ACTIONS[self.action]}]

    @property
    def entries(self) -> int:
        return len(self.matches) + 1


def match(keyword: str, *args: int | str, negate: bool = False, either: bool = False) -> Match:
    return Match(keyword, args, negate, either)


def role_match(keyword: Literal["tseq", "treq"], role: str) -> Match:
    return match(keyword, ROLE_TAG_ID, ROLE_VALUES[role])


def port_range(text: str) -> tuple[int, int]:
    first, _, last = text.partition("-")
    return int(first), int(last or first)


@dataclass(frozen=True)
class RulesSpec:
    """``zerotier-cluster:rules``: the operator's additions, or rules replacing the generated ones."""

    extra: tuple[Rule, ...] = ()
    replace: tuple[Rule, ...] | None = None
    #: The config key the rules came from, for problems found later (cluster check, limit).
    origin: str = KEY


@dataclass(frozen=True)
class NetworkRules:
    """A network's rules and its ``role`` tag, in both forms a controller takes."""

    rules: tuple[Rule, ...]
    network_name: str

    def source(self) -> str:
        """Rule source for Central (``flow_rules``): the tag definition, then every rule."""
        values = "\n".join(f"  enum {v} {n}" for n, v in sorted(ROLE_VALUES.items(), key=lambda i: i[1]))
        lines = [
            f"# ZeroTier rules of network {self.network_name!r}, generated by zerotier-cluster",
            f"# from {KEY} (docs/firewall.md, 'ZeroTier rules'). Read top to bottom;",
            "# the first action whose matches hold decides, on the sender and on the receiver.",
            f"tag {ROLE_TAG}",
            f"  id {ROLE_TAG_ID}",
            values,
            f"  default {ROLE_DEFAULT}",
            ";",
            *(r.source() for r in self.rules),
        ]
        return "\n".join(lines) + "\n"

    def compiled(self) -> dict[str, Any]:
        """What the zerotier-one controller API takes on the network: ``rules``, ``tags``, ``capabilities``."""
        return {
            "rules": [entry for r in self.rules for entry in r.compiled()],
            "tags": [{"id": ROLE_TAG_ID, "default": ROLE_VALUES[ROLE_DEFAULT]}],
            "capabilities": [],
        }

    @property
    def entries(self) -> int:
        return sum(r.entries for r in self.rules)


def member_tags(role: MemberRole) -> tuple[tuple[int, int], ...]:
    """A member's tags, ``((tag id, value),)``: the provider's Member ``tags``, the controller's member ``tags``."""
    return ((ROLE_TAG_ID, ROLE_VALUES[role]),)
