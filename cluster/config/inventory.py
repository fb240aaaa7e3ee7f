"""Nodes from an Ansible-style YAML inventory, as an alternative to listing them in the stack.

Hosts under the groups ``head`` and ``compute`` (at the top level, beside
``all``, or under ``all.children``, directly or through child groups) become
nodes. Ansible's ``ansible_host``, ``ansible_user`` and ``ansible_port`` give
the SSH connection; this project's own per-host keys are ``ip``, ``proxy``,
``hostKey``, ``sshdPort``, ``state``, ``generation`` and ``site``. Variables apply in
Ansible's order: ``all`` vars, then group vars (outer to inner), then host
vars. Host ranges such as ``compute-[01:16]`` and ``node-[a:d]`` expand as in
Ansible. Hosts outside ``head`` and ``compute`` are not part of the overlay.

The file is untrusted input: it is read only if it is a regular file of
bounded size, ranges are counted before they are expanded, and the number of
hosts and groups is capped, so no inventory can exhaust memory or time.
Problems name the file, the YAML path of the host and the key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cluster.config.validate import shown
from cluster.config.yamlfile import read_yaml
from cluster.conventions import MAX_LIST_ENTRIES
from cluster.errors import Problem

ROLE_GROUPS = ("head", "compute")
#: Inventory variable → node field.
FIELDS = {
    "ansible_host": "host",
    "ansible_user": "user",
    "ansible_port": "port",
    "ip": "ip",
    "proxy": "proxy",
    "hostKey": "hostKey",
    "sshdPort": "sshdPort",
    "state": "state",
    "generation": "generation",
    "site": "site",
}
#: Node field → the inventory variable an error names.
ALIASES = {field: var for var, field in FIELDS.items()}
RANGE = re.compile(r"\[([0-9]{1,9}|[a-z]):([0-9]{1,9}|[a-z])(?::([0-9]{1,9}))?\]")
#: Group visits (children may repeat through YAML aliases) and nesting depth.
MAX_GROUPS = 10_000
MAX_DEPTH = 32
MAX_PATTERN = 255

#: A node entry as in ``nodes:``, and the YAML path problems with it are named by.
Entry = tuple[dict[str, Any], str]


def load_inventory(path: Path, *, shown_as: str) -> tuple[list[Entry], list[Problem]]:
    """Reads ``path``; returns raw node entries (as in ``nodes:``) and any problems."""
    fix_path = "point zerotier-cluster:inventory at an existing YAML inventory (relative to the project)"
    document, problems = read_yaml(path, shown_as=shown_as, key="zerotier-cluster:inventory", fix=fix_path)
    if problems:
        return [], problems
    if not isinstance(document, Mapping):
        return [], [
            Problem(
                shown_as, "is not a YAML inventory (a mapping of groups)", "start it with all: or head:/compute: groups"
            )
        ]
    walker = _Walker(shown_as)
    for yaml_path, group, role in _role_groups(document, walker):
        walker.walk(group, yaml_path, role, dict(walker.top_vars), 0)
    if not walker.hosts and not walker.problems:
        walker.problem(
            "",
            "has no hosts under the head or compute groups",
            "put the head node in a head group and the others in compute",
        )
    entries: list[Entry] = []
    for name, (variables, role, path_in_file) in walker.hosts.items():
        raw: dict[str, Any] = {"name": name, "role": role, "host": name}
        raw.update({FIELDS[var]: value for var, value in variables.items() if var in FIELDS})
        entries.append((raw, f"{shown_as}: {path_in_file}"))
    return entries, walker.problems


def _role_groups(document: Mapping[Any, Any], walker: _Walker) -> list[tuple[str, Any, str]]:
    """The head and compute groups, under ``all.children`` and at the top level (Ansible merges both)."""
    found = []
    everything = document.get("all")
    if isinstance(everything, Mapping):
        top_vars = everything.get("vars") or {}
        if isinstance(top_vars, Mapping):
            walker.top_vars = top_vars
        else:
            walker.problem("all.vars", "must be a mapping", "write key: value pairs")
        children = everything.get("children") or {}
        if isinstance(children, Mapping):
            found += [(f"all.children.{role}", children[role], role) for role in ROLE_GROUPS if role in children]
        else:
            walker.problem("all.children", "must be a mapping of groups", "write child groups as keys")
    elif everything is not None:
        walker.problem("all", "must be a group (a mapping with hosts, vars or children)", "write vars: or children:")
    return found + [(role, document[role], role) for role in ROLE_GROUPS if role in document]


class _Walker:
    """Collects hosts from nested groups, within the bounds."""

    def __init__(self, shown_as: str) -> None:
        self.shown_as = shown_as
        self.top_vars: Mapping[Any, Any] = {}
        self.hosts: dict[str, tuple[dict[Any, Any], str, str]] = {}  # name -> (vars, role, yaml path)
        self.problems: list[Problem] = []
        self.visits = 0
        self.capped = False

    def problem(self, path: str, message: str, fix: str) -> None:
        self.problems.append(Problem(f"{self.shown_as}: {path}" if path else self.shown_as, message, fix))

    def walk(self, group: Any, path: str, role: str, inherited: dict[Any, Any], depth: int) -> None:
        if group is None:
            return
        self.visits += 1
        if self.visits > MAX_GROUPS or depth > MAX_DEPTH:
            if not self.capped:
                self.problem(
                    path, f"nests groups deeper than {MAX_DEPTH} or more than {MAX_GROUPS} times", "flatten it"
                )
            self.capped = True
            return
        if not isinstance(group, Mapping):
            self.problem(
                path, "must be a group (a mapping with hosts, vars or children)", "write hosts: under the group"
            )
            return
        group_vars = dict(inherited)
        own_vars = group.get("vars") or {}
        if isinstance(own_vars, Mapping):
            group_vars.update(own_vars)
        else:
            self.problem(f"{path}.vars", "must be a mapping", "write key: value pairs")
        members = group.get("hosts") or {}
        if not isinstance(members, Mapping):
            self.problem(
                f"{path}.hosts",
                "must be a mapping of host names",
                "write each host as a key (its vars, if any, under it)",
            )
            members = {}
        for pattern, host_vars in members.items():
            self._add(pattern, host_vars, path, role, group_vars)
        children = group.get("children") or {}
        if not isinstance(children, Mapping):
            self.problem(f"{path}.children", "must be a mapping of groups", "write child groups as keys")
            return
        for child_name, child in children.items():
            self.walk(child, f"{path}.children.{shown(child_name, 64)}", role, group_vars, depth + 1)

    def _add(self, pattern: Any, host_vars: Any, path: str, role: str, group_vars: dict[Any, Any]) -> None:
        text = pattern if isinstance(pattern, str) else shown(pattern)
        host_path = f"{path}.hosts.{text[:64]}"
        if host_vars is not None and not isinstance(host_vars, Mapping):
            self.problem(
                host_path, "must be a mapping of host variables (or empty)", "write ansible_host: ... under the host"
            )
            return
        size = count(text) if len(text) <= MAX_PATTERN else None
        if size is None:
            self.problem(
                host_path,
                "has a host range Ansible would not expand",
                "write ranges like compute-[01:16] or node-[a:d]",
            )
            return
        if self.capped or len(self.hosts) + size > MAX_LIST_ENTRIES:
            if not self.capped:
                self.problem(
                    host_path,
                    f"would bring the inventory past {MAX_LIST_ENTRIES} hosts",
                    "split the cluster into several stacks",
                )
            self.capped = True
            return
        for name in expand(text) or []:
            known = self.hosts.get(name)
            if known is not None and known[1] != role:
                self.problem(
                    host_path,
                    f"{name} is in both the {known[1]} and {role} groups",
                    "put each host in exactly one of head and compute",
                )
                continue
            merged = dict(known[0]) if known is not None else dict(group_vars)
            merged.update(host_vars or {})
            self.hosts[name] = (merged, role, f"{path}.hosts.{name}")


def count(pattern: str) -> int | None:
    """How many names ``pattern`` expands to, worked out without expanding it; None if malformed."""
    total, rest = 1, pattern
    while (match := RANGE.search(rest)) is not None:
        size = _range_size(match)
        if size is None or _stray_bracket(rest[: match.start()]):
            return None
        total *= size
        rest = rest[match.end() :]
    return None if _stray_bracket(rest) else total


def _range_size(match: re.Match[str]) -> int | None:
    first, last, stride_s = match.group(1), match.group(2), match.group(3)
    stride = int(stride_s or 1)
    if first.isdigit() != last.isdigit() or stride < 1:
        return None
    low, high = (int(first), int(last)) if first.isdigit() else (ord(first), ord(last))
    return (high - low) // stride + 1 if low <= high else None


def _stray_bracket(text: str) -> bool:
    return "[" in text or "]" in text


def expand(pattern: str) -> list[str] | None:
    """Expands Ansible host ranges: ``db-[01:03]`` → db-01, db-02, db-03; None if malformed.

    Callers bound the result with :func:`count` first.
    """
    if count(pattern) is None:
        return None
    match = RANGE.search(pattern)
    if match is None:
        return [pattern]
    first, last, stride_s = match.group(1), match.group(2), match.group(3)
    stride = int(stride_s or 1)
    head, tail = pattern[: match.start()], pattern[match.end() :]
    if first.isdigit():
        width = len(first) if first.startswith("0") and len(first) > 1 else 0
        items = [str(i).zfill(width) for i in range(int(first), int(last) + 1, stride)]
    else:
        items = [chr(c) for c in range(ord(first), ord(last) + 1, stride)]
    return [name for item in items for name in expand(head + item + tail) or []]
