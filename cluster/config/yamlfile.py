"""Reading an operator's YAML file (a stack file, an inventory) without trusting it.

Only a regular file is read, and only up to a size bound, so a device or a
FIFO named by mistake can neither hang nor exhaust memory. The loader refuses
duplicate keys (PyYAML silently keeps the last) and numbers too long to
convert (``int()`` raises past 4,300 digits), and every YAML error names the
file and the line.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, ScalarNode

from cluster.config.validate import shown
from cluster.errors import Problem

MAX_BYTES = 4 * 1024 * 1024
#: No setting takes a number anywhere near this long.
MAX_NUMBER_CHARS = 64


class StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses duplicate keys and overlong numbers."""

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

    def construct_bounded_int(self, node: ScalarNode) -> Any:
        text = str(self.construct_scalar(node))
        if len(text) > MAX_NUMBER_CHARS:
            raise ConstructorError(
                None, None, f"found a number of {len(text)} characters, longer than any setting takes", node.start_mark
            )
        return self.construct_yaml_int(node)


StrictLoader.add_constructor("tag:yaml.org,2002:int", StrictLoader.construct_bounded_int)


def read_yaml(path: Path, *, shown_as: str, key: str, fix: str) -> tuple[Any, list[Problem]]:
    """The document in ``path``, or the problems that stop it being read.

    Problems reading the file go to ``key`` (the setting that names it) with
    ``fix``; problems inside it go to ``shown_as`` (the file as the operator
    wrote it) with the line.
    """
    text, problem = _read_text(path, shown_as=shown_as, key=key, fix=fix)
    if problem is not None:
        return None, [problem]
    try:
        return yaml.load(text, Loader=StrictLoader), []  # StrictLoader is a SafeLoader
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        what = str(err.problem or err.context or "")[:200]
        return None, [Problem(shown_as, f"is not valid YAML{where}: {what}", "fix the YAML there")]
    except (yaml.YAMLError, ValueError) as err:
        return None, [Problem(shown_as, f"is not valid YAML: {shown(str(err), 200)}", "fix the YAML")]
    except RecursionError:
        return None, [Problem(shown_as, "is nested too deeply to read", "flatten the YAML")]


def _read_text(path: Path, *, shown_as: str, key: str, fix: str) -> tuple[str, Problem | None]:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as err:
        return "", Problem(key, f"cannot read {shown_as}: {err.strerror}", fix)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return "", Problem(key, f"{shown_as} is not a regular file", fix)
        with os.fdopen(os.dup(fd), "rb") as file:
            data = file.read(MAX_BYTES + 1)
    except OSError as err:
        return "", Problem(key, f"cannot read {shown_as}: {err.strerror}", fix)
    finally:
        os.close(fd)
    if len(data) > MAX_BYTES:
        return "", Problem(key, f"{shown_as} is larger than {MAX_BYTES // 1024 // 1024} MiB", fix)
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as err:
        return "", Problem(shown_as, f"is not UTF-8 text (byte {err.start})", "save it as UTF-8")
