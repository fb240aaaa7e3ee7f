"""Operator rules (``rules.extra``, ``rules.replace``): ZeroTier rule source parsed into the model.

A compiler for the subset of ZeroTier's language listed in
:data:`~cluster.rules.model.MATCHES`; anything else is refused with the key
and the reason.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Interface, ip_interface
from typing import Any

from cluster.errors import Problem
from cluster.rules.model import (
    ACTIONS,
    CHARACTERISTICS,
    ETHERTYPES,
    IP_PROTOCOLS,
    KEY,
    MATCHES,
    ROLE_TAG,
    ROLE_TAG_ID,
    ROLE_VALUES,
    Match,
    Rule,
    RulesSpec,
)

#: Words ZeroTier's compiler refuses as a match's argument (so ``ipprotocol icmp`` fails: write ``icmp4``).
RESERVED = frozenset({
    "macro", "tag", "cap", "default", "drop", "accept", "tee", "watch", "redirect", "break", "priority",
    "ztsrc", "ztdest", "vlan", "vlanpcp", "vlandei", "ethertype", "macsrc", "macdest", "ipsrc", "ipdest",
    "iptos", "ipprotocol", "icmp", "sport", "dport", "chr", "framesize", "random", "tand", "tor", "txor",
    "tdiff", "teq", "tseq", "treq", "type", "enum", "class", "define", "import", "include", "log", "not",
    "xor", "or", "and", "set", "var", "let",
})  # fmt: skip

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
