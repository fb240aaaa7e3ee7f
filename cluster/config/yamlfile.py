"""Reading an operator's YAML file (a stack file, an inventory, stack outputs) without trusting it.

Only a regular file is read, and only up to a size bound, so a device or a
FIFO named by mistake can neither hang nor exhaust memory. The loader is
PyYAML's C loader (``CSafeLoader``: the pure-Python one takes seconds on a
10,000-node file) with a Python constructor that refuses duplicate keys
(PyYAML silently keeps the last) and numbers too long to convert (``int()``
raises past 4,300 digits), and every YAML error names the file and the line.

Before PyYAML builds anything, one pass over libyaml's parser events (no
recursion, no values built) refuses two shapes a small file can take: nesting
past :data:`MAX_DEPTH` levels, which crashes PyYAML's C composer, and aliases
of aliases that expand past :data:`MAX_VALUES` values ("a billion laughs"),
which PyYAML loads as shared references that every later walk pays for in full.

YAML 1.1, which PyYAML (and Ansible) read, turns some unquoted text into
something else: ``on`` into true, ``010`` into 8, ``1:30`` into 90,
``2024-01-01`` into a date. Such a scalar is loaded as a :class:`Surprise`,
which keeps the text the operator wrote and where, so :func:`surprises` can
name it with "quote it" instead of echoing the value nobody wrote.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml
from yaml.constructor import ConstructorError
from yaml.error import Mark
from yaml.nodes import MappingNode, ScalarNode

from cluster.config.validate import shown
from cluster.errors import Problem

MAX_BYTES = 4 * 1024 * 1024
#: No setting takes a number anywhere near this long.
MAX_NUMBER_CHARS = 64
#: The deepest nesting of collections read, the document's own included. PyYAML's C composer recurses once
#: per level on the C stack with no recursion check: about 30,000 levels, flow (``[[[``) or block
#: (``- - -``, two bytes a level), crash the process with a segmentation fault, nothing to catch.
MAX_DEPTH = 1000
#: The most values (scalars and collections, every alias counted as what it stands for) a document may
#: hold. A 4 MiB file written out holds about two million at most; settings at the documented scale
#: (10,000 nodes and 10,000 devices) about 150,000.
MAX_VALUES = 1_000_000

#: Plain scalars that read the same in YAML 1.1 and 1.2 and mean what they say.
PLAIN_BOOL = re.compile(r"true|false", re.IGNORECASE)
PLAIN_INT = re.compile(r"-?(0|[1-9][0-9]*)")
PLAIN_FLOAT = re.compile(r"-?(0|[1-9][0-9]*)?\.[0-9]*([eE][-+]?[0-9]+)?|\.(inf|Inf|INF|nan|NaN|NAN)|-\.(inf|Inf|INF)")


@dataclass(frozen=True, repr=False)
class Surprise:
    """An unquoted scalar YAML 1.1 reads as something other than what was written (``on`` → true)."""

    text: str
    value: Any = field(compare=False)
    line: int = field(compare=False)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        """As a message shows any value: the text as written."""
        return repr(self.text)


class StrictLoader(yaml.CSafeLoader):
    """PyYAML's C safe loader that refuses duplicate keys and overlong numbers and keeps YAML 1.1 surprises."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key; the base constructor says so
                continue
            if duplicate:
                raise ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {shown(key)}",
                    key_node.start_mark,
                )
        return super().construct_mapping(node, deep=deep)

    def construct_checked_int(self, node: ScalarNode) -> Any:
        text = str(node.value)
        if len(text) > MAX_NUMBER_CHARS:
            raise ConstructorError(
                None, None, f"found a number of {len(text)} characters, longer than any setting takes", node.start_mark
            )
        return self._kept(node, self.construct_yaml_int(node), PLAIN_INT)

    def construct_checked_bool(self, node: ScalarNode) -> Any:
        return self._kept(node, self.construct_yaml_bool(node), PLAIN_BOOL)

    def construct_checked_float(self, node: ScalarNode) -> Any:
        if len(str(node.value)) > MAX_NUMBER_CHARS:
            raise ConstructorError(None, None, "found a number longer than any setting takes", node.start_mark)
        return self._kept(node, self.construct_yaml_float(node), PLAIN_FLOAT)

    def construct_checked_timestamp(self, node: ScalarNode) -> Any:
        return self._kept(node, self.construct_yaml_timestamp(node), None)

    @staticmethod
    def _kept(node: ScalarNode, value: Any, plain: re.Pattern[str] | None) -> Any:
        """``value``, or a :class:`Surprise` when an unquoted scalar does not read as it is written."""
        if node.style or (plain is not None and plain.fullmatch(node.value)):
            return value  # quoted or explicitly tagged: the operator asked for it
        return Surprise(node.value, value, node.start_mark.line + 1)


StrictLoader.add_constructor("tag:yaml.org,2002:int", StrictLoader.construct_checked_int)
StrictLoader.add_constructor("tag:yaml.org,2002:bool", StrictLoader.construct_checked_bool)
StrictLoader.add_constructor("tag:yaml.org,2002:float", StrictLoader.construct_checked_float)
StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", StrictLoader.construct_checked_timestamp)


def surprises(value: Any, path: str) -> list[tuple[str, Surprise]]:
    """Every :class:`Surprise` in ``value`` (keys included) with its key below ``path`` (``nodes[1].name``), by line."""
    found: list[tuple[str, Surprise]] = []
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, Surprise):
            found.append((where, item))
        elif isinstance(item, Mapping):
            for key, inner in item.items():
                below = _join(where, str(key))  # a surprise's str is its text as written
                if isinstance(key, Surprise):
                    found.append((below, key))
                stack.append((inner, below))
        elif isinstance(item, list):
            stack.extend((inner, f"{where}[{i}]") for i, inner in enumerate(item))
    return sorted(found, key=lambda pair: (pair[1].line, pair[0]))


def _join(where: str, name: str) -> str:
    return f"{where}{name}" if not where or where.endswith((":", " ")) else f"{where}.{name}"


def surprise_problem(key: str, found: Surprise, file: str) -> Problem:
    """ "Quote it", naming the text as written: the value YAML 1.1 made of it was never written by anyone."""
    value = found.value
    if isinstance(value, bool):
        reading = str(value).lower()
    elif isinstance(value, int | float):
        reading = f"the number {value}"
    else:
        reading = "a date"
    return Problem(
        key,
        f"{found.text!r} (line {found.line} of {file}) is read by YAML 1.1 as {reading}, not as written",
        f"quote it ('{found.text}') if you mean that text; a number is plain decimal digits, a flag true or false",
    )


def read_yaml(path: Path, *, shown_as: str, key: str, fix: str, too_large: str = "") -> tuple[Any, list[Problem]]:
    """The document in ``path``, or the problems that stop it being read.

    Problems reading the file go to ``key`` (the setting that names it) with
    ``fix`` (``too_large``: the fix when it is over :data:`MAX_BYTES`);
    problems inside it go to ``shown_as`` (the file as the operator wrote it)
    with the line.
    """
    text, problem = read_text(path, shown_as=shown_as, key=key, fix=fix, too_large=too_large)
    if problem is not None:
        return None, [problem]
    try:
        shape = _shape_problem(text)
        if shape is not None:
            message, fix = shape
            return None, [Problem(shown_as, message, fix)]
        return yaml.load(text, Loader=StrictLoader), []  # StrictLoader is a CSafeLoader
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        what = str(err.problem or err.context or "")[:200]
        return None, [Problem(shown_as, f"is not valid YAML{where}: {what}", "fix the YAML there")]
    except (yaml.YAMLError, ValueError) as err:
        return None, [Problem(shown_as, f"is not valid YAML: {shown(str(err), 200)}", "fix the YAML")]
    except (AttributeError, KeyError, TypeError):
        # PyYAML's own constructors fail this way on a value an explicit tag misnames (`!!timestamp x`,
        # `!!bool maybe`, `!!set [1]`): the text is hostile or mistaken, never a reason for a traceback.
        return None, [
            Problem(
                shown_as,
                "is not valid YAML: a value with an explicit tag (such as !!timestamp, !!bool or !!set) "
                "is not of the kind the tag names",
                "remove the !! tag, or write a value of that kind",
            )
        ]
    except RecursionError:
        return None, [Problem(shown_as, "is nested too deeply to read", "flatten the YAML")]


def _shape_problem(text: str) -> tuple[str, str] | None:
    """What is wrong with the document's shape, with its fix, or None.

    Too deep, too many values through aliases, or a collection holding
    itself (``&a [*a]``, which PyYAML builds as a cycle that every walk
    follows forever). A YAML error on the way is raised as loading would
    raise it.
    """
    parser = yaml.CSafeLoader(text)
    values = 0
    expanded: dict[str, int] = {}  # a collection's anchor: the values it stands for (a scalar's: one)
    opened: list[tuple[str | None, int]] = []  # each open collection's anchor and the count before it
    holding: set[str] = set()  # the anchors of the open collections
    while (event := parser.get_event()) is not None:
        if isinstance(event, yaml.CollectionStartEvent):
            if len(opened) >= MAX_DEPTH:
                return f"is nested more than {MAX_DEPTH} levels deep (line {_line(event)})", "flatten the YAML"
            opened.append((event.anchor, values))
            if event.anchor is not None:
                holding.add(event.anchor)
            values += 1
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, before = opened.pop()
            if anchor is not None:
                expanded[anchor] = values - before
                holding.discard(anchor)
        elif isinstance(event, yaml.ScalarEvent):
            values += 1
        elif isinstance(event, yaml.AliasEvent):
            anchor = cast(str, event.anchor)
            if anchor in holding:
                return (
                    f"holds a collection inside itself (alias *{anchor} on line {_line(event)})",
                    f"write the value out instead of *{anchor} inside the collection it names",
                )
            values += expanded.get(anchor, 1)  # a scalar, or an unknown anchor: the loader names that error
        if values > MAX_VALUES:
            return (
                f"holds more than {MAX_VALUES} values once its aliases are expanded (line {_line(event)})",
                "write the values out instead of aliasing aliases",
            )
    return None  # the parser needs no dispose(): CParser frees libyaml's state when collected


def _line(event: yaml.Event) -> int:
    return cast(Mark, event.start_mark).line + 1  # libyaml marks every event


def read_text(
    path: Path, *, shown_as: str, key: str, fix: str, too_large: str = "", limit: int = MAX_BYTES
) -> tuple[str, Problem | None]:
    """Up to ``limit`` bytes of a regular file as UTF-8, opened so that a FIFO or a device cannot block."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as err:
        return "", Problem(key, f"cannot read {shown_as}: {err.strerror}", fix)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return "", Problem(key, f"{shown_as} is not a regular file", fix)
        with os.fdopen(os.dup(fd), "rb") as file:
            data = file.read(limit + 1)
    except OSError as err:
        return "", Problem(key, f"cannot read {shown_as}: {err.strerror}", fix)
    finally:
        os.close(fd)
    if len(data) > limit:
        size = f"{limit // 1024 // 1024} MiB" if limit >= 1024 * 1024 else f"{limit} bytes"
        return "", Problem(key, f"{shown_as} is larger than {size}", too_large or fix)
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as err:
        return "", Problem(shown_as, f"is not UTF-8 text (byte {err.start})", "save it as UTF-8")
