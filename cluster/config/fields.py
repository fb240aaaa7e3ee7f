"""Reading untrusted config data against field tables, with every problem named by its key.

A section is a table of :class:`Field` (name, reader, default, fix).
:func:`read_fields` reads a mapping against it: it refuses keys no field
names, fills defaults, says which required ones are missing and hands each
present value to its reader. A reader takes any shape of value (YAML gives
anything) and either returns the parsed value or records a problem, scoped
by :class:`Problems`, and returns :data:`INVALID`; it never raises.
"""

from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from cluster.config import validate as v
from cluster.conventions import MAX_LIST_ENTRIES, NAMESPACE
from cluster.errors import ConfigError, Problem


class Problems:
    """Collects every problem of a run; ``at("firewall")`` is the same collector scoped to a section.

    A reader names fields relative to its scope and never builds keys itself.
    ``aliases`` show a field under another name (an inventory's ``ansible_host``).
    """

    def __init__(
        self,
        scope: str = f"{NAMESPACE}:",
        items: list[Problem] | None = None,
        aliases: Mapping[str, str] | None = None,
        places: Mapping[str, str] | None = None,
    ) -> None:
        self.scope = scope
        self.items = [] if items is None else items
        self.aliases = aliases or {}
        self.places = places or {}

    def key(self, field: object = "") -> str:
        name = printable(field)
        if name in self.places:
            return self.places[name]
        name = self.aliases.get(name, name)
        if not name:
            return self.scope.rstrip(":")
        joiner = "" if self.scope.endswith(":") or name.startswith("[") else "."
        return f"{self.scope}{joiner}{name}"

    def at(self, field: object) -> Problems:
        return Problems(self.key(field), self.items)

    def under(
        self, key: str, aliases: Mapping[str, str] | None = None, places: Mapping[str, str] | None = None
    ) -> Problems:
        """Scoped at a key that is not below this one (an inventory host, a node's origin).

        ``aliases`` name a field differently below the scope (``user`` as
        ``ansible_user``); ``places`` give a field's whole key elsewhere (a
        variable an inventory host takes from a group's ``vars``).
        """
        return Problems(key, self.items, aliases, places)

    def add(self, field: object, message: str, fix: str) -> None:
        self.items.append(Problem(self.key(field), message, fix))

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigError(self.items)


def key(path: str) -> str:
    return f"{NAMESPACE}:{path}"


def printable(field: object) -> str:
    """A key as an error may show it: printable and bounded, whatever YAML held."""
    text = field if isinstance(field, str) else v.shown(field)
    return text if len(text) <= 64 and text.isprintable() else v.shown(text, 64)


# --- the field table machinery ---------------------------------------------------


class Marker:
    """A sentinel that reads as its name in a repr."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


#: A reader's answer after it has recorded a problem.
INVALID: Any = Marker("INVALID")
#: A default that means "must be set".
REQUIRED: Any = Marker("REQUIRED")

#: Reads one present (non-null) value; records problems under the given scope and returns INVALID.
Reader = Callable[[Any, Problems], Any]


@dataclass(frozen=True)
class Field:
    """One config key: how to read it, its default (or REQUIRED), and the fix when it is missing."""

    name: str
    read: Reader
    default: Any = None
    fix: str = ""
    #: The spec attribute it fills; by default the key in snake case.
    attr: str = ""

    @cached_property
    def attribute(self) -> str:
        return self.attr or re.sub(r"[A-Z]", lambda m: "_" + m.group(0).lower(), self.name)


def read_fields(raw: Any, table: Sequence[Field], p: Problems) -> dict[str, Any] | None:
    """Every field of ``table`` from the mapping ``raw`` (default, value or INVALID); None if not a mapping."""
    if not isinstance(raw, Mapping):
        p.add("", f"must be a mapping, got {type(raw).__name__}", "write it as YAML keys")
        return None
    names = [f.name for f in table]
    top = p.scope.endswith(":")
    for extra in sorted((k for k in raw if k not in names), key=printable):
        close = difflib.get_close_matches(printable(extra), names, n=1)
        if top:
            p.add(
                extra,
                "is not a setting this program reads",
                f"did you mean {p.key(close[0])}?" if close else "remove it",
            )
        else:
            hint = f"did you mean {close[0]!r}?" if close else f"use one of: {', '.join(names)}"
            p.add(extra, "is not a recognised field", hint)
    values: dict[str, Any] = {}
    for f in table:
        value = raw.get(f.name)
        if value is not None:
            values[f.name] = f.read(value, p.at(f.name))
        elif f.default is REQUIRED:
            p.add(f.name, "is missing", f.fix)
            values[f.name] = INVALID
        else:
            values[f.name] = f.default
    return values


def complete(values: Mapping[str, Any] | None) -> bool:
    return values is not None and all(value is not INVALID for value in values.values())


def attributes(values: Mapping[str, Any], table: Sequence[Field]) -> dict[str, Any]:
    return {f.attribute: values[f.name] for f in table}


def section(table: Sequence[Field], build: Callable[[dict[str, Any]], Any]) -> Reader:
    """A nested mapping read with its own table, then built into a value."""

    def read(value: Any, p: Problems) -> Any:
        values = read_fields(value, table, p)
        return build(values) if values is not None and complete(values) else INVALID

    return read


# --- readers -----------------------------------------------------------------


def text(pattern: re.Pattern[str], what: str, fix: str) -> Reader:
    def read(value: Any, p: Problems) -> Any:
        if isinstance(value, str) and pattern.fullmatch(value):
            return value
        if not _not_text(value, p, fix):
            p.add("", f"{v.shown(value)} is not {what}", fix)
        return INVALID

    return read


def _not_text(value: Any, p: Problems, fix: str) -> bool:
    """Says "quote it" when YAML (or the engine's JSON) made a number or a flag of what must be text."""
    if not isinstance(value, bool | int | float):
        return False
    written = str(value).lower() if isinstance(value, bool) else v.shown(value)
    kind = "true or false" if isinstance(value, bool) else "a number"
    p.add("", f"{written} is read as {kind}, not as text", f"quote it ('{written}'); {fix}")
    return True


def hex_id(pattern: re.Pattern[str], what: str, fix: str) -> Reader:
    """A ZeroTier ID; YAML reads one made only of decimal digits as a number, so that is taken too."""

    def read(value: Any, p: Problems) -> Any:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**20:
            value = str(value)
        if isinstance(value, str) and pattern.fullmatch(value.strip().lower()):
            return value.strip().lower()
        p.add("", f"{v.shown(value)} is not {what}", fix)
        return INVALID

    return read


def number(low: int, high: int) -> Reader:
    """A whole number; text only of ASCII digits (``int()`` also takes other scripts' digits)."""

    def read(value: Any, p: Problems) -> Any:
        if isinstance(value, str) and v.DIGITS.fullmatch(value.strip()):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            p.add("", f"must be a whole number, got {v.shown(value)}", f"use a number from {low} to {high}")
        elif not low <= value <= high:
            p.add("", f"{v.shown(value)} is out of range", f"use a number from {low} to {high}")
        else:
            return value
        return INVALID

    return read


def flag(value: Any, p: Problems) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    p.add("", f"must be true or false, got {v.shown(value)}", "write true or false")
    return INVALID


def choice(choices: Sequence[str], what: str = "") -> Reader:
    listed = ", ".join(choices)

    def read(value: Any, p: Problems) -> Any:
        if isinstance(value, str) and value in choices:
            return value
        same = [c for c in choices if isinstance(value, str) and c.lower() == value.lower()]
        fix = f"write {same[0]} (lowercase: the value is case-sensitive)" if same else f"use one of: {listed}"
        p.add("", f"{v.shown(value)} is not {what or 'one of ' + listed}", fix)
        return INVALID

    return read


def spelling(value: Any) -> str | None:
    """Why an address (or a network's address part) is not in its one spelling; see :func:`v.ipv4_spelling`."""
    if not isinstance(value, str) or len(value) > 100:
        return None
    address = value.strip().partition("/")[0]
    return v.ipv4_spelling(address) if address else None


def ipv4(fix: str) -> Reader:
    def read(value: Any, p: Problems) -> Any:
        ip = v.parse_ipv4(value)
        if ip is None:
            p.add("", spelling(value) or f"{v.shown(value)} is not an IPv4 address", fix)
            return INVALID
        return ip

    return read


def ipv4_net(fix: str) -> Reader:
    def read(value: Any, p: Problems) -> Any:
        net = v.parse_ipv4_network(value)
        if net is None:
            why = spelling(value) or f"{v.shown(value)} is not an IPv4 network in CIDR form (host bits must be zero)"
            p.add("", why, fix)
            return INVALID
        return net

    return read


def source(value: Any, p: Problems) -> Any:
    why = spelling(value)
    net = v.parse_source(value) if why is None else None
    if net is None:
        p.add(
            "",
            why or f"{v.shown(value)} is not an address or network in CIDR form",
            "write it like 192.0.2.0/24, 198.51.100.7 or 2001:db8::/32 (host bits zero)",
        )
        return INVALID
    return net


def list_of(item: Reader, fix: str, *, single: bool = False) -> Reader:
    """A list (``single``: or one item alone), each item read at ``[i]``; bounded in length."""

    def read(value: Any, p: Problems) -> Any:
        items = [value] if single and not isinstance(value, list) else value
        if not isinstance(items, list):
            p.add("", f"must be a list, got {type(value).__name__}", fix)
            return INVALID
        if len(items) > MAX_LIST_ENTRIES:
            p.add(
                "", f"has {len(items)} entries, more than {MAX_LIST_ENTRIES}", "split the cluster into several stacks"
            )
            return INVALID
        parsed = [item(entry, p.at(f"[{i}]")) for i, entry in enumerate(items)]
        return INVALID if INVALID in parsed else tuple(parsed)

    return read


def connection_text(check: Callable[[str], str | None], fix: str, *, outputs: bool) -> Reader:
    """A host or login; ``outputs`` also lets a Pulumi Output (a cloud VM's address) through unread."""

    def read(value: Any, p: Problems) -> Any:
        if isinstance(value, str):
            why = check(value)
            if why is None:
                return value
            p.add("", why, fix)
        elif outputs and _is_output(value):
            return value
        elif not _not_text(value, p, fix):
            p.add("", f"must be text, got {v.shown(value)}", fix)
        return INVALID

    return read


def _is_output(value: Any) -> bool:
    """A Pulumi Output (a host from another resource). The core never imports pulumi: no Output can
    exist unless the program already did."""
    pulumi = sys.modules.get("pulumi")
    return pulumi is not None and isinstance(value, pulumi.Output)
