"""What a node's nftables input hook decides for one new packet: an evaluator of the rulesets the program loads.

Reachability is asserted at review (``zerotier-cluster:policy``), before any
node exists, so the host layer has to be answered from the ruleset text: the
exact bytes ``nft -f`` loads (:mod:`cluster.plan.firewall`), plus, in
``integrate`` mode, the operator's own ruleset around it. This module reads
that text the way the kernel would keep it (tables, sets, chains, the
commands ``add``/``flush``/``insert``/``delete``, a second ``table`` block
merging into the first) and runs one packet through every base chain on the
input hook: a ``drop`` in any of them is final, an ``accept`` only ends its own
chain, a ``jump`` returns when the called chain has no verdict, and a chain
without one ends in its policy.

It understands the statements the program generates and the common ones an
operator's chain holds (``ct state``, ``iif``/``iifname``, ``ip``/``ip6
saddr``, ``tcp``/``udp`` ports, ``icmp``/``icmpv6 type``, ``meta l4proto``,
``counter``, ``comment``); anything else is refused with :class:`NftError`
rather than guessed at. ``tests/test_firewall_packets.py`` holds every verdict
to what a real kernel did with the same packet.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from typing import Literal

Proto = Literal["tcp", "udp", "icmp"]
Verdict = Literal["accept", "drop"]

ICMP_TYPES = {
    "echo-reply": 0, "destination-unreachable": 3, "source-quench": 4, "redirect": 5, "echo-request": 8,
    "router-advertisement": 9, "router-solicitation": 10, "time-exceeded": 11, "parameter-problem": 12,
    "timestamp-request": 13, "timestamp-reply": 14, "info-request": 15, "info-reply": 16,
    "address-mask-request": 17, "address-mask-reply": 18,
}  # fmt: skip
ICMPV6_TYPES = {
    "destination-unreachable": 1, "packet-too-big": 2, "time-exceeded": 3, "parameter-problem": 4,
    "echo-request": 128, "echo-reply": 129, "mld-listener-query": 130, "mld-listener-report": 131,
    "mld-listener-done": 132, "mld-listener-reduction": 132, "nd-router-solicit": 133, "nd-router-advert": 134,
    "nd-neighbor-solicit": 135, "nd-neighbor-advert": 136, "nd-redirect": 137, "router-renumbering": 138,
    "ind-neighbor-solicit": 141, "ind-neighbor-advert": 142, "mld2-listener-report": 143,
}  # fmt: skip
L4 = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58}
#: What each table family sees.
FAMILIES = {"inet": (4, 6), "ip": (4,), "ip6": (6,)}
PRIORITIES = {"raw": -300, "mangle": -150, "dstnat": -100, "filter": 0, "security": 50, "srcnat": 100}


class NftError(ValueError):
    """A ruleset this evaluator cannot read (it never guesses what a statement does)."""


@dataclass(frozen=True)
class Packet:
    """One packet arriving at a node: who sends it, on which interface, what it is.

    ``port`` is the destination port, or the ICMP (ICMPv6 for an IPv6 source)
    type. ``state`` is conntrack's view: ``new`` for a first packet.
    """

    source: IPv4Address | IPv6Address
    interface: str
    protocol: Proto
    port: int
    sport: int = 40000
    state: str = "new"

    @property
    def version(self) -> int:
        return self.source.version

    @property
    def l4(self) -> int:
        if self.protocol == "icmp":
            return L4["icmpv6"] if self.version == 6 else L4["icmp"]
        return L4[self.protocol]


@dataclass(frozen=True)
class Decision:
    """The verdict and the rule that gave it (``policy drop`` when a chain's policy did)."""

    verdict: Verdict
    rule: str
    #: ``table inet zerotier_cluster chain input``.
    where: str

    def __str__(self) -> str:
        return f"{self.verdict} by `{self.rule}` ({self.where})"


# --- reading ------------------------------------------------------------------------

_TOKEN = re.compile(r'"[^"]*"|[{};,=\n]|[^\s{};,="]+')


def _tokens(text: str) -> list[str]:
    lines = [line.split("#", 1)[0] if '"' not in line.split("#", 1)[0] else line for line in text.splitlines()]
    return _TOKEN.findall("\n".join(lines) + "\n")


@dataclass
class _Rule:
    words: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.words).replace(" , ", ", ")


@dataclass
class _Chain:
    name: str
    hook: str | None = None
    priority: int = 0
    policy: Verdict = "accept"
    rules: list[_Rule] = field(default_factory=list)
    #: The rules read once the ruleset is loaded (:meth:`_Table.compile`).
    compiled: list[_Compiled] = field(default_factory=list)


@dataclass
class _Table:
    family: str
    name: str
    chains: dict[str, _Chain] = field(default_factory=dict)
    sets: dict[str, list[str]] = field(default_factory=dict)
    #: Each set as merged address intervals per IP version, made once the ruleset is loaded.
    compiled: dict[str, dict[int, _Intervals]] = field(default_factory=dict)
    #: Every address set an ``ip``/``ip6 saddr`` match consults: all a packet's source address is tested against.
    source_sets: list[_Intervals] = field(default_factory=list)

    def compile(self) -> None:
        """Sets to intervals, then every rule to tests: a ruleset this evaluator cannot read fails at load."""
        self.compiled = {name: _Intervals.both(e) for name, e in self.sets.items()}
        for chain in self.chains.values():
            chain.compiled = [_Compiler(self, rule).compile() for rule in chain.rules]


class _Intervals:
    """Addresses, CIDR blocks and first-last ranges as sorted, merged integer intervals: a lookup is a bisect."""

    def __init__(self, spans: Sequence[tuple[int, int]]) -> None:
        merged: list[tuple[int, int]] = []
        for first_int, last_int in sorted(spans):
            if merged and first_int <= merged[-1][1] + 1:
                merged[-1] = (merged[-1][0], max(merged[-1][1], last_int))
            else:
                merged.append((first_int, last_int))
        self.starts = [a for a, _ in merged]
        self.ends = [b for _, b in merged]

    @classmethod
    def both(cls, elements: Sequence[str]) -> dict[int, _Intervals]:
        """The IPv4 and IPv6 intervals of one set's elements, parsed once (a member set holds thousands)."""
        spans = _spans(elements)
        return {version: cls(spans[version]) for version in (4, 6)}

    def __contains__(self, address: IPv4Address | IPv6Address) -> bool:
        at = bisect.bisect_right(self.starts, int(address)) - 1
        return at >= 0 and int(address) <= self.ends[at]


def _spans(elements: Sequence[str]) -> dict[int, list[tuple[int, int]]]:
    """Set elements (addresses, CIDR blocks, first-last ranges) as integer spans, by IP version."""
    spans: dict[int, list[tuple[int, int]]] = {4: [], 6: []}
    for element in elements:
        if "-" in element:
            first, last = (ip_address(x) for x in element.split("-", 1))
        else:
            net = ip_network(element, strict=False)
            first, last = net.network_address, net.broadcast_address
        spans[first.version].append((int(first), int(last)))
    return spans


class _Reader:
    """A cursor over one ruleset's tokens that applies its commands to the tables."""

    def __init__(self, tables: dict[tuple[str, str], _Table], text: str) -> None:
        self.tables = tables
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> str:
        return self.toks[self.i] if self.i < len(self.toks) else ""

    def take(self, expect: str | None = None) -> str:
        if self.i >= len(self.toks):
            raise NftError("unexpected end of ruleset")
        tok = self.toks[self.i]
        if expect is not None and tok != expect:
            raise NftError(f"expected {expect!r}, found {tok!r}")
        self.i += 1
        return tok

    def skip_breaks(self) -> None:
        while self.peek() in ("\n", ";"):
            self.i += 1

    def statement(self) -> list[str]:
        """Words up to the end of the line or a ``;``, braces kept balanced (element lists span lines)."""
        words: list[str] = []
        depth = 0
        while self.i < len(self.toks):
            tok = self.toks[self.i]
            if depth == 0 and tok in ("\n", ";", "}"):
                break
            self.i += 1
            if tok == "\n":
                continue
            depth += {"{": 1, "}": -1}.get(tok, 0)
            words.append(tok)
        return words

    def table(self, family: str, name: str) -> _Table:
        if family not in FAMILIES:
            raise NftError(f"table family {family!r} is not one an input hook sees (inet, ip, ip6)")
        return self.tables.setdefault((family, name), _Table(family, name))

    def existing(self, family: str, name: str) -> _Table:
        if (family, name) not in self.tables:
            raise NftError(f"table {family} {name} does not exist")
        return self.tables[(family, name)]

    def run(self) -> None:
        while True:
            self.skip_breaks()
            if not self.peek():
                return
            verb = self.take()
            if verb == "table":
                table = self.table(self.take(), self.take())
                self.take("{")
                self.table_body(table)
            elif verb in ("add", "insert", "flush", "delete"):
                self.command(verb)
            else:
                raise NftError(f"unknown command {verb!r}")

    def command(self, verb: str) -> None:
        what = self.take()
        if what == "table":
            family, name = self.take(), self.take()
            if verb == "delete":
                self.existing(family, name)
                del self.tables[(family, name)]
            elif verb == "add":
                self.table(family, name)
            else:
                raise NftError(f"{verb} table is not supported")
            return
        table = self.existing(self.take(), self.take())
        name = self.take()
        if what == "chain":
            if verb == "add":
                chain = table.chains.setdefault(name, _Chain(name))
                if self.peek() == "{":
                    self.take("{")
                    self.chain_body(chain)
            elif verb == "flush":
                table.chains[name].rules.clear()
            elif verb == "delete":
                del table.chains[name]
            else:
                raise NftError(f"{verb} chain is not supported")
        elif what == "set":
            if verb == "add":
                elements = table.sets.setdefault(name, [])
                if self.peek() == "{":
                    self.take("{")
                    self.set_body(elements)
            elif verb == "flush":
                table.sets[name].clear()
            elif verb == "delete":
                del table.sets[name]
            else:
                raise NftError(f"{verb} set is not supported")
        elif what == "rule":
            if name not in table.chains:
                raise NftError(f"chain {name} does not exist in table {table.family} {table.name}")
            rule = _Rule(tuple(self.statement()))
            rules = table.chains[name].rules
            if verb == "insert":
                rules.insert(0, rule)
            elif verb == "add":
                rules.append(rule)
            else:
                raise NftError(f"{verb} rule is not supported")
        else:
            raise NftError(f"{verb} {what} is not supported")

    def table_body(self, table: _Table) -> None:
        while True:
            self.skip_breaks()
            tok = self.take()
            if tok == "}":
                return
            if tok == "chain":
                name = self.take()
                chain = table.chains.setdefault(name, _Chain(name))
                self.take("{")
                self.chain_body(chain)
            elif tok == "set":
                elements = table.sets.setdefault(self.take(), [])
                self.take("{")
                self.set_body(elements)
            else:
                raise NftError(f"unknown table statement {tok!r}")

    def chain_body(self, chain: _Chain) -> None:
        while True:
            self.skip_breaks()
            if self.peek() == "}":
                self.take()
                return
            words = self.statement()
            if words[:1] == ["type"]:
                if len(words) < 6 or words[1] != "filter" or words[2] != "hook" or words[4] != "priority":
                    raise NftError(f"unsupported chain type: {' '.join(words)}")
                chain.hook = words[3]
                prio = words[5]
                chain.priority = PRIORITIES[prio] if prio in PRIORITIES else int(prio)
            elif words[:1] == ["policy"]:
                if len(words) != 2 or words[1] not in ("accept", "drop"):
                    raise NftError(f"unsupported chain policy: {' '.join(words)}")
                chain.policy = words[1]  # type: ignore[assignment]
            elif words[:1] == ["comment"]:
                continue
            elif words:
                chain.rules.append(_Rule(tuple(words)))

    def set_body(self, elements: list[str]) -> None:
        while True:
            self.skip_breaks()
            if self.peek() == "}":
                self.take()
                return
            words = self.statement()
            if words[:1] == ["elements"]:
                elements += [w for w in words[2:] if w not in ("{", "}", ",")]
            elif words[:1] not in (["type"], ["flags"], ["comment"], ["policy"], ["auto-merge"]):
                raise NftError(f"unknown set statement {' '.join(words)!r}")


@dataclass(frozen=True)
class Ruleset:
    """The kernel's input-hook view after loading one or more rulesets in order."""

    tables: tuple[_Table, ...]

    @classmethod
    def load(cls, *texts: str) -> Ruleset:
        """Applies each text as ``nft -f`` would, in order (the operator's first, then the program's)."""
        tables: dict[tuple[str, str], _Table] = {}
        for text in texts:
            _Reader(tables, text).run()
        for table in tables.values():
            table.compile()
        return cls(tuple(tables.values()))

    def source_class(self, address: IPv4Address | IPv6Address) -> tuple[object, ...]:
        """What every rule can know of a source address: its version and which address sets hold it.

        Two sources of one class get the same decision for otherwise equal
        packets (the ``saddr`` matches are the only tests that read the
        address), so a caller probing thousands of senders can decide once per class.
        """
        return (address.version, *(address in found for table in self.tables for found in table.source_sets))

    def decide(self, packet: Packet) -> Decision:
        """The input hook's verdict: every base chain of a family that sees the packet runs; a drop is final."""
        chains = [
            (c.priority, n, t, c)
            for n, t in enumerate(self.tables)
            if packet.version in FAMILIES[t.family]
            for c in t.chains.values()
            if c.hook == "input"
        ]
        first: Decision | None = None
        for _, _, table, chain in sorted(chains, key=lambda c: (c[0], c[1])):
            decision = _run_chain(table, chain, packet, 0)
            if decision is None:
                decision = Decision(chain.policy, f"policy {chain.policy}", _where(table, chain))
            if decision.verdict == "drop":
                return decision
            first = first or decision
        return first or Decision("accept", "no base chain on the input hook", "kernel")


def _where(table: _Table, chain: _Chain) -> str:
    return f"table {table.family} {table.name} chain {chain.name}"


def _run_chain(table: _Table, chain: _Chain, packet: Packet, depth: int) -> Decision | None:
    if depth > 16:
        raise NftError(f"jumps nest deeper than 16 at chain {chain.name}")
    for rule in chain.compiled:
        if rule.verdict is None or not all(test(packet) for test in rule.tests):
            continue
        if rule.verdict in ("accept", "drop"):
            return Decision(rule.verdict, rule.text, _where(table, chain))  # type: ignore[arg-type]
        if rule.verdict == "return":
            return None
        kind, target = rule.verdict.split(" ", 1)
        if target not in table.chains:
            raise NftError(f"{rule.text}: chain {target} does not exist")
        called = _run_chain(table, table.chains[target], packet, depth + 1)
        if called is not None or kind == "goto":
            return called
    return None


# --- matching -----------------------------------------------------------------------

Test = Callable[[Packet], bool]


@dataclass(frozen=True)
class _Compiled:
    """A rule read once: its matches as tests (all must hold) and its verdict (None: it only counts)."""

    text: str
    tests: tuple[Test, ...]
    verdict: str | None


class _Compiler:
    """Reads one rule left to right into tests on a packet and a verdict; refuses what it does not know."""

    def __init__(self, table: _Table, rule: _Rule) -> None:
        self.table, self.rule = table, rule
        self.words = list(rule.words)

    def fail(self, why: str) -> NftError:
        return NftError(f"rule `{self.rule.text}` in table {self.table.family} {self.table.name}: {why}")

    def values(self) -> tuple[bool, list[str]]:
        """The next operand: one value, a comma list or ``{ … }``; and whether it was negated with ``!=``."""
        negate = False
        if self.words and self.words[0] in ("!=", "=="):
            negate = self.words.pop(0) == "!="
        if not self.words:
            raise self.fail("a match has no value")
        if self.words[0] == "{":
            end = self.words.index("}")
            values, self.words = self.words[1:end], self.words[end + 1 :]
        else:
            values = [self.words.pop(0)]
            while self.words[:1] == [","]:
                self.words.pop(0)
                values.append(self.words.pop(0))
        return negate, [v.strip('"') for v in values if v != ","]

    def compile(self) -> _Compiled:
        tests: list[Test] = []
        while self.words:
            word = self.words.pop(0)
            if word in ("accept", "drop", "return"):
                self.finish()
                return _Compiled(self.rule.text, tuple(tests), word)
            if word in ("jump", "goto"):
                target = self.words.pop(0) if self.words else ""
                self.finish()
                return _Compiled(self.rule.text, tuple(tests), f"{word} {target}")
            if word == "counter":
                continue
            if word == "comment":
                self.words.pop(0)
                continue
            tests.append(self.match(word))
        return _Compiled(self.rule.text, tuple(tests), None)

    def match(self, word: str) -> Test:
        """One match as a test; a match on a header the packet lacks never holds, negated or not."""
        if word == "ct":
            self.expect("state")
            neg, states = self.values()
            return lambda p: (p.state in states) != neg
        if word in ("iif", "iifname"):
            neg, names = self.values()
            return lambda p: any(_glob(n, p.interface) for n in names) != neg
        if word in ("ip", "ip6"):
            self.expect("saddr")
            neg, nets = self.values()
            version = 4 if word == "ip" else 6
            sets = [n[1:] for n in nets if n.startswith("@")]
            missing = [n for n in sets if n not in self.table.compiled]
            if missing:
                raise self.fail(f"set @{missing[0]} does not exist")
            found = [self.table.compiled[n][version] for n in sets]
            literal = [n for n in nets if not n.startswith("@")]
            if literal:
                found.append(_Intervals.both(literal)[version])
            self.table.source_sets.extend(found)
            return lambda p: p.version == version and any(p.source in f for f in found) != neg
        if word in ("tcp", "udp"):
            which = self.words.pop(0) if self.words else ""
            if which not in ("dport", "sport"):
                raise self.fail(f"{word} {which} is not supported")
            neg, ports = self.values()
            ranges = _port_ranges(ports, self)
            if which == "dport":
                return lambda p: p.protocol == word and any(a <= p.port <= b for a, b in ranges) != neg
            return lambda p: p.protocol == word and any(a <= p.sport <= b for a, b in ranges) != neg
        if word in ("icmp", "icmpv6"):
            self.expect("type")
            neg, types = self.values()
            kinds = ICMP_TYPES if word == "icmp" else ICMPV6_TYPES
            try:
                numbers = {kinds[t] if t in kinds else int(t) for t in types}
            except ValueError:
                raise self.fail(f"unknown {word} type in {types}") from None
            number = L4[word]
            return lambda p: p.l4 == number and (p.port in numbers) != neg
        if word == "meta":
            self.expect("l4proto")
            neg, protos = self.values()
            wanted = {L4.get(x, -1) for x in protos}
            return lambda p: (p.l4 in wanted) != neg
        raise self.fail(f"{word!r} is not a statement this evaluator knows")

    def expect(self, word: str) -> None:
        got = self.words.pop(0) if self.words else ""
        if got != word:
            raise self.fail(f"expected {word!r}, found {got!r}")

    def finish(self) -> None:
        if self.words[:1] == ["comment"]:
            self.words = self.words[2:]
        if self.words:
            raise self.fail(f"words after the verdict: {' '.join(self.words)}")


def _port_ranges(values: Sequence[str], compiler: _Compiler) -> list[tuple[int, int]]:
    ranges = []
    for value in values:
        first, _, last = value.partition("-")
        if not first.isdigit() or not (last or first).isdigit():
            raise compiler.fail(f"port {value!r} is not a number or range")
        ranges.append((int(first), int(last or first)))
    return ranges


def _glob(pattern: str, name: str) -> bool:
    """nft's interface names: exact, or a prefix with a trailing ``*``."""
    return name.startswith(pattern[:-1]) if pattern.endswith("*") else name == pattern
