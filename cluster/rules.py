"""The ZeroTier network's flow rules: anti-spoofing and role-based access, as one model.

ZeroTier filters every frame twice, on the sender (outbound) and on the
receiver (inbound), with the network's rules: a list of matches, each ending
in an action. This module holds those rules as Python values
(:class:`Rule`, :class:`Match`) and produces from them both forms a
controller takes:

* :meth:`NetworkRules.source`: rule source text, what ZeroTier Central
  compiles (the provider's ``flow_rules``);
* :meth:`NetworkRules.compiled`: ``{"rules", "tags", "capabilities"}``, what
  the controller inside zerotier-one takes (``POST /controller/network/<id>``).

Both come from the same values, and tests hold ``compiled()`` to what
ZeroTier's own rule compiler prints for ``source()``.

The generated policy (docs/firewall.md, "ZeroTier rules"):

1. drop every frame that is not IPv4 or ARP, and every frame whose sender IP
   the controller did not assign to the sender (``chr ipauth``);
2. accept ARP;
3. the operator's ``rules.extra``;
4. every member carries the tag ``role`` (:data:`ROLE_TAG_ID`): ``head``,
   ``compute``, ``device``, or ``other`` (the default: members this program
   does not manage). ``head``, ``compute`` and ``other`` reach each other
   unrestricted (what a node admits is nftables' business); devices with
   ``firewall.devices: ssh`` reach only TCP to the nodes' SSH ports (and get
   its replies) and ICMP to and from nodes; with ``devices: all`` they are
   like members;
5. drop everything else.

Tag matches fail closed: a receiver that does not (yet) know the sender's
tag does not match ``tseq``, so an untagged frame falls to the final drop.

``rules.replace`` swaps 1-5 for the operator's own rules; the ``role`` tag and
the members' tags stay. Operator rules are parsed by :func:`parse_source`, a
compiler for the subset of ZeroTier's language listed in :data:`MATCHES`;
anything else is refused with the key and the reason. Every rule set must
keep ARP, ICMP and SSH between the head and compute nodes (checked by
evaluating it, :func:`cluster_problems`) and stay within ZeroTier's limit of
:data:`MAX_ENTRIES` entries.

Pure: never imports pulumi.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Interface, ip_interface
from typing import TYPE_CHECKING, Any, Literal

from .errors import Problem

if TYPE_CHECKING:
    from .spec import ClusterSpec

#: The config key everything here is reported under.
KEY = "zerotier-cluster:rules"
#: ZeroTier's limit on rule entries (matches plus actions) in a network's rules.
MAX_ENTRIES = 1024
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
RESERVED = frozenset({
    "macro", "tag", "cap", "default", "drop", "accept", "tee", "watch", "redirect", "break", "priority",
    "ztsrc", "ztdest", "vlan", "vlanpcp", "vlandei", "ethertype", "macsrc", "macdest", "ipsrc", "ipdest",
    "iptos", "ipprotocol", "icmp", "sport", "dport", "chr", "framesize", "random", "tand", "tor", "txor",
    "tdiff", "teq", "tseq", "treq", "type", "enum", "class", "define", "import", "include", "log", "not",
    "xor", "or", "and", "set", "var", "let",
})  # fmt: skip
ACTIONS: Mapping[str, str] = {"accept": "ACTION_ACCEPT", "drop": "ACTION_DROP", "break": "ACTION_BREAK"}
#: Parts of ZeroTier's language refused in operator rules, and why.
REFUSED: Mapping[str, str] = {
    "tag": "tags are the program's: only the tag 'role' exists, defined by the program",
    "cap": "capabilities are not supported",
    "macro": "macros are not supported: write the rules out",
    "include": "macros are not supported: write the rules out",
    "tee": "tee sends copies of traffic elsewhere; not supported",
    "watch": "watch sends copies of traffic elsewhere; not supported",
    "redirect": "redirect sends traffic elsewhere; not supported",
    "priority": "priority (QoS) is not supported",
}


# --- the model -----------------------------------------------------------------------


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
            out["start"], out["end"] = _port_range(str(a[0]))
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


def _m(keyword: str, *args: int | str, negate: bool = False, either: bool = False) -> Match:
    return Match(keyword, args, negate, either)


def _role(keyword: Literal["tseq", "treq"], role: str) -> Match:
    return _m(keyword, ROLE_TAG_ID, ROLE_VALUES[role])


def _port_range(text: str) -> tuple[int, int]:
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


# --- the generated rules -------------------------------------------------------------

ANTI_SPOOF = Rule(
    "drop",
    (
        _m("ethertype", 0x0800, negate=True),
        _m("ethertype", 0x0806, negate=True),
        _m("chr", f"{1 << CHARACTERISTICS['ipauth']:016x}", negate=True, either=True),
    ),
    "Only IPv4 and ARP, and only from an address the controller assigned to the sender (chr ipauth).",
)
ARP = Rule("accept", (_m("ethertype", 0x0806),), "Address resolution between all members.")


def _merged_ports(ports: Iterable[int]) -> list[str]:
    ranges: list[list[int]] = []
    for port in sorted(set(ports)):
        if ranges and port == ranges[-1][1] + 1:
            ranges[-1][1] = port
        else:
            ranges.append([port, port])
    return [str(a) if a == b else f"{a}-{b}" for a, b in ranges]


def _between(senders: Sequence[str], receivers: Sequence[str], comment: str) -> list[Rule]:
    rules = [Rule("accept", (_role("tseq", s), _role("treq", r))) for s, r in itertools.product(senders, receivers)]
    return [Rule(rules[0].action, rules[0].matches, comment), *rules[1:]] if rules else []


def _device_rules(ssh_ports: Iterable[int]) -> list[Rule]:
    rules: list[Rule] = []
    comment = "Devices (firewall.devices: ssh): TCP to the nodes' SSH ports and its replies, ICMP; nothing else."
    for node in ("head", "compute"):
        for ports in _merged_ports(ssh_ports):
            to = (_role("tseq", "device"), _role("treq", node), _m("ipprotocol", 6), _m("dport", ports))
            back = (_role("tseq", node), _role("treq", "device"), _m("ipprotocol", 6), _m("sport", ports))
            rules += [Rule("accept", to, "" if rules else comment), Rule("accept", back)]
        rules.append(Rule("accept", (_role("tseq", "device"), _role("treq", node), _m("ipprotocol", 1))))
        rules.append(Rule("accept", (_role("tseq", node), _role("treq", "device"), _m("ipprotocol", 1))))
    return rules


def generated_rules(spec: ClusterSpec, extra: Sequence[Rule], ssh_ports: Iterable[int]) -> tuple[Rule, ...]:
    """The default policy (module docstring), with ``extra`` after anti-spoofing and ARP."""
    members = ["head", "compute", "other"] + (["device"] if spec.firewall.devices == "all" else [])
    rules = [ANTI_SPOOF, ARP]
    if extra:
        rules += [Rule(extra[0].action, extra[0].matches, "The operator's rules.extra."), *extra[1:]]
    rules += _between(members, members, "Members (head, compute, unmanaged members) reach each other.")
    if spec.firewall.devices == "ssh":
        rules += _device_rules(ssh_ports)
    rules.append(Rule("drop", (), "Everything else."))
    return tuple(rules)


def ssh_ports(spec: ClusterSpec) -> tuple[int, ...]:
    """The ports devices may reach on nodes: every node's sshd port (22 for a remote head's stack)."""
    return tuple(sorted({n.listen_port for n in spec.nodes} | ({22} if spec.remote_head else set())))


def network_rules(spec: ClusterSpec, rules: RulesSpec, ssh_ports: Iterable[int]) -> NetworkRules:
    """The network's rules: generated (with ``rules.extra``), or ``rules.replace``.

    ``ssh_ports`` are the ports devices may reach on nodes. Raises nothing:
    :func:`rules_problems` says what is wrong with the result.
    """
    chosen = rules.replace if rules.replace is not None else generated_rules(spec, rules.extra, ssh_ports)
    return NetworkRules(chosen, spec.network.name)


def cluster_rules(spec: ClusterSpec) -> NetworkRules:
    """The rules of ``spec``'s network, from its ``rules`` key and its nodes' SSH ports."""
    return network_rules(spec, spec.rules, ssh_ports(spec))


def rules_problems(result: NetworkRules, rules: RulesSpec, ssh_ports: Iterable[int]) -> list[Problem]:
    """What makes ``result`` unusable: too many entries, or the cluster cut off from itself."""
    problems = []
    if result.entries > MAX_ENTRIES:
        problems.append(
            Problem(
                rules.origin,
                f"the network's rules have {result.entries} entries; ZeroTier takes at most {MAX_ENTRIES}",
                "use fewer or shorter rules (every match and every action is an entry)",
            )
        )
    problems += cluster_problems(result.rules, rules.origin, ssh_ports)
    return problems


# --- parsing operator rules ----------------------------------------------------------


def parse_rules(value: Any, key: str = KEY) -> tuple[RulesSpec, list[Problem]]:
    """``zerotier-cluster:rules``: ``{extra: <rule source>}`` or ``{replace: <rule source>}``."""
    if value is None:
        return RulesSpec(), []
    if not isinstance(value, Mapping):
        return RulesSpec(), [Problem(key, "must be a mapping", "write `rules: {extra: |\\n  <ZeroTier rules>}`")]
    problems = []
    for name in value:
        if name not in ("extra", "replace"):
            near = difflib.get_close_matches(str(name), ["extra", "replace"], n=1)
            hint = f"did you mean {near[0]!r}? " if near else ""
            problems.append(Problem(f"{key}.{name}", "is not a known key", f"{hint}use extra or replace"))
    if "extra" in value and "replace" in value:
        problems.append(
            Problem(key, "sets both extra and replace", "use extra to add to the generated rules, or replace alone")
        )
        return RulesSpec(), problems
    spec = RulesSpec()
    for name in ("extra", "replace"):
        if name not in value:
            continue
        where = f"{key}.{name}"
        text = value[name]
        if not isinstance(text, str):
            problems.append(Problem(where, "must be ZeroTier rule source text", "write the rules as a YAML block: `|`"))
            continue
        parsed, found = parse_source(text, where, final=name == "replace")
        problems += found
        if not found and not parsed:
            problems.append(
                Problem(where, "has no rules", f"write at least one rule ending in an action, or remove {name}")
            )
        if found or not parsed:
            continue
        spec = RulesSpec(extra=parsed, origin=where) if name == "extra" else RulesSpec(replace=parsed, origin=where)
    return spec, problems


@dataclass(frozen=True)
class _Token:
    text: str
    line: int


def _tokens(text: str) -> list[list[_Token]]:
    """Statements (lists of words), split the way ZeroTier's compiler splits them: a word ending in ``;``."""
    statements: list[list[_Token]] = []
    current: list[_Token] = []
    for number, line in enumerate(text.splitlines(), start=1):
        for raw in line.split():
            if raw.startswith("#"):
                break
            end = raw.endswith(";")
            word = raw[:-1] if end else raw
            if word:
                current.append(_Token(word, number))
            if end and current:
                statements.append(current)
                current = []
    if current:
        statements.append(current)
    return statements


def parse_source(text: str, key: str, *, final: bool) -> tuple[tuple[Rule, ...], list[Problem]]:
    """Rules from ZeroTier rule source (the subset in :data:`MATCHES` and :data:`ACTIONS`).

    A rule without matches decides every frame, so nothing after it ever
    applies: it may only be the last rule, and only of rules that end the
    list (``final``, i.e. ``rules.replace``), never in ``rules.extra``.
    """
    rules: list[Rule] = []
    problems: list[Problem] = []
    statements = _tokens(text)
    for index, statement in enumerate(statements):
        head = statement[0]
        where = f"{key} (line {head.line})"
        word = head.text.lower()
        if word in REFUSED:
            problems.append(Problem(where, f"'{head.text}': {REFUSED[word]}", "remove it"))
            continue
        if word not in ACTIONS:
            problems.append(
                Problem(where, f"'{head.text}' is not an action", "start every rule with accept, drop or break")
            )
            continue
        try:
            matches = _parse_matches(statement[1:])
        except ValueError as err:
            problems.append(Problem(where, str(err), "see docs/firewall.md, 'ZeroTier rules', for what is accepted"))
            continue
        if not matches and (not final or index < len(statements) - 1):
            after = "the rules after it" if final else "the generated rules after rules.extra"
            problems.append(
                Problem(
                    where,
                    f"'{word};' without matches decides every frame, so {after} would never apply",
                    "give it matches (e.g. tseq role device and ipprotocol tcp and dport 443)",
                )
            )
            continue
        rules.append(Rule(word, matches))  # type: ignore[arg-type]
    return tuple(rules), problems


def _parse_matches(words: Sequence[_Token]) -> tuple[Match, ...]:
    matches: list[Match] = []
    negate = either = False
    i = 0
    while i < len(words):
        word = words[i].text.lower()
        i += 1
        if word == "and":
            continue
        if word == "not":
            negate = True
            continue
        if word == "or":
            either = True
            continue
        if word not in MATCHES:
            near = difflib.get_close_matches(word, list(MATCHES), n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ValueError(f"'{words[i - 1].text}' is not a supported match{hint}")
        count = MATCHES[word][1]
        args = [w.text for w in words[i : i + count]]
        if len(args) < count:
            raise ValueError(f"'{word}' needs {count} argument{'s' if count > 1 else ''}")
        reserved = [a for a in args if a.lower() in RESERVED]
        if reserved:
            hint = " (write icmp4 or 1)" if reserved[0].lower() == "icmp" else ""
            raise ValueError(f"'{word} {reserved[0]}': {reserved[0]!r} is a reserved word, not a value{hint}")
        i += count
        matches.append(Match(word, _arguments(word, args), negate, either))
        negate = either = False
    if negate or either:
        raise ValueError("'not' or 'or' must come before a match")
    return tuple(matches)


def _number(text: str, low: int, high: int, what: str) -> int:
    try:
        value = int(text[2:], 16) if text.lower().startswith("0x") else int(text, 10)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a number") from None
    if not low <= value <= high:
        raise ValueError(f"{what} {text} is out of range ({low}-{high})")
    return value


def _arguments(keyword: str, args: list[str]) -> tuple[int | str, ...]:
    """Normalized arguments, checked the way ZeroTier's compiler checks them (and stricter)."""
    arg = args[0]
    if keyword in ("ztsrc", "ztdest"):
        if len(arg) != 10 or any(c not in "0123456789abcdef" for c in arg.lower()):
            raise ValueError(f"{keyword} {arg!r} is not a ZeroTier address (10 hex digits)")
        return (arg.lower(),)
    if keyword == "ethertype":
        return (ETHERTYPES[arg.lower()] if arg.lower() in ETHERTYPES else _number(arg, 0, 0xFFFF, "ethertype"),)
    if keyword == "ipprotocol":
        known = IP_PROTOCOLS.get(arg.lower())
        return (known if known is not None else _number(arg, 0, 255, "IP protocol"),)
    if keyword in ("ipsrc", "ipdest"):
        if "/" not in arg:
            raise ValueError(f"{keyword} {arg!r} needs a /bits prefix length (10.147.17.5/32)")
        try:
            net = ip_interface(arg)
        except ValueError:
            raise ValueError(f"{keyword} {arg!r} is not an IPv4 address with /bits") from None
        if not isinstance(net, IPv4Interface):
            raise ValueError(f"{keyword} {arg!r}: the overlay is IPv4 only (IPv6 frames are dropped)")
        return (str(net),)
    if keyword == "icmp":
        return (_number(arg, 0, 255, "ICMP type"), -1 if args[1] == "-1" else _number(args[1], 0, 255, "ICMP code"))
    if keyword in ("sport", "dport"):
        first, dash, last = arg.partition("-")
        a = _number(first, 0, 65535, "port")
        b = _number(last, 0, 65535, "port") if dash else a
        if b < a:
            raise ValueError(f"{keyword} {arg}: the range is backwards")
        return (str(a) if a == b else f"{a}-{b}",)
    if keyword == "chr":
        mask = 0
        for name in filter(None, arg.split(",")):
            bit = CHARACTERISTICS.get(name.lower())
            mask |= 1 << (bit if bit is not None else _number(name, 0, 63, "chr bit"))
        if mask >> 63 and mask >> 32 & 0x7FFFFFFF:
            # ZeroTier's compiler gets this mask wrong (a signed 32-bit overflow): Central would differ.
            raise ValueError(f"chr {arg}: 'inbound' cannot share a chr with bits 32-62; write 'chr inbound or chr ...'")
        return (f"{mask:016x}",)
    # tseq, treq
    if arg.lower() != ROLE_TAG:
        raise ValueError(f"unknown tag {arg!r}: the only tag is '{ROLE_TAG}' ({', '.join(ROLE_VALUES)})")
    value = args[1].lower()
    if value not in ROLE_VALUES:
        raise ValueError(f"unknown value {args[1]!r} of tag '{ROLE_TAG}': use one of {', '.join(ROLE_VALUES)}")
    return (ROLE_TAG_ID, ROLE_VALUES[value])


# --- evaluation: what the cluster needs must still pass -------------------------------


@dataclass(frozen=True)
class Frame:
    """A frame as the filter sees it, on one side: the sender (outbound) or the receiver (inbound)."""

    sender: str
    receiver: str
    inbound: bool
    ethertype: int = 0x0800
    protocol: int = 0
    sport: int = 0
    dport: int = 0
    icmp_type: int = -1
    #: The sender's IP is one the controller assigned to it.
    ipauth: bool = True
    tcp_flags: int = 0

    def __str__(self) -> str:
        what = {0x0806: "ARP"}.get(self.ethertype) or {1: "ICMP", 6: "TCP", 17: "UDP"}.get(self.protocol, "IPv4")
        port = f" {self.sport}->{self.dport}" if self.protocol in (6, 17) else ""
        return f"{what}{port} {self.sender}->{self.receiver} ({'receiver' if self.inbound else 'sender'})"


def _matches(m: Match, f: Frame) -> bool | None:
    """Whether ``m`` holds for ``f``; None where ZeroTier says "no" even under ``not`` (no IP header)."""
    kw, a = m.keyword, m.args
    ip = f.ethertype == 0x0800
    if kw == "ethertype":
        return f.ethertype == a[0]
    if kw == "ipprotocol":
        return f.protocol == a[0] if ip else None
    if kw in ("sport", "dport"):
        first, last = _port_range(str(a[0]))
        port = f.sport if kw == "sport" else f.dport
        return (f.protocol in (6, 17) and first <= port <= last) if ip else None
    if kw == "icmp":
        return (f.protocol == 1 and f.icmp_type == a[0]) if ip else None
    if kw == "chr":
        bits = (1 << 63 if f.inbound else 0) | (1 << 60 if f.ipauth else 0) | f.tcp_flags
        return bool(bits & int(str(a[0]), 16))
    if kw in ("tseq", "treq"):
        role = f.sender if kw == "tseq" else f.receiver
        return ROLE_VALUES[role] == a[1]
    # ztsrc, ztdest, ipsrc, ipdest: the frames checked carry no particular address.
    return False


def evaluate(rules: Sequence[Rule], frame: Frame) -> Action | None:
    """The action ZeroTier takes on ``frame`` (None: no rule matched, the frame is dropped).

    Matches read left to right: each ANDs into the result, or ORs with ``or``;
    ``not`` inverts one match. Tags are taken as known on both sides.
    """
    for rule in rules:
        result = True
        for m in rule.matches:
            held = _matches(m, frame)
            value = False if held is None else held != m.negate
            result = (result or value) if m.either else (result and value)
        if result:
            return rule.action if rule.action != "break" else None
    return None


def needed_frames(ssh_ports: Iterable[int]) -> list[Frame]:
    """ARP, ICMP echo and SSH (and its replies) between the head and compute nodes, both sides."""
    frames = []
    for a, b in (("head", "compute"), ("compute", "head"), ("compute", "compute")):
        for inbound in (False, True):
            frames.append(Frame(a, b, inbound, ethertype=0x0806))
            frames += [Frame(a, b, inbound, protocol=1, icmp_type=t) for t in (8, 0)]
            for port in sorted(set(ssh_ports)):
                frames.append(Frame(a, b, inbound, protocol=6, sport=40000, dport=port, tcp_flags=1 << 1))
                frames.append(Frame(b, a, inbound, protocol=6, sport=port, dport=40000, tcp_flags=1 << 4))
    return frames


def cluster_problems(rules: Sequence[Rule], key: str, ssh_ports: Iterable[int]) -> list[Problem]:
    """Refuses rules that cut the cluster off from itself: the first frame they drop, named."""
    for frame in needed_frames(ssh_ports):
        if evaluate(rules, frame) != "accept":
            return [
                Problem(
                    key,
                    f"these rules drop {frame}: the cluster would be cut off from itself",
                    "let ARP, ICMP and SSH through between head and compute (put narrower drops, "
                    "e.g. with tseq/treq role and a port, before broad ones)",
                )
            ]
    return []
