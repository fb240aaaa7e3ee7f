"""Nodes from an Ansible-style YAML inventory, as an alternative to listing them in the stack.

Hosts under the groups ``head`` and ``compute`` (at the top level or under
``all.children``, directly or through child groups) become nodes. Ansible's
``ansible_host``, ``ansible_user`` and ``ansible_port`` give the SSH
connection; this project's own per-host keys are ``ip``, ``proxy``, ``hostKey``
and ``sshdPort``. Variables apply in Ansible's order: ``all`` vars, then group
vars (outer to inner), then host vars. Host ranges such as ``compute-[01:16]``
and ``node-[a:d]`` expand as in Ansible. Hosts outside ``head`` and
``compute`` are not part of the overlay.

Problems name the file, the YAML path of the host and the key.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from .errors import Problem

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
}
ALIASES = {field: var for var, field in FIELDS.items()}
RANGE = re.compile(r"\[([0-9a-z]+):([0-9a-z]+)(?::([0-9]+))?\]")

KeyOf = Callable[[str], str]
Entry = tuple[dict[str, Any], KeyOf]


def load_inventory(path: Path, *, shown_as: str) -> tuple[list[Entry], list[Problem]]:
    """Reads ``path``; returns raw node entries (as in ``nodes:``) and any problems."""
    problems: list[Problem] = []
    fix_path = "point zerotier-cluster:inventory at an existing YAML inventory (relative to the project)"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        return [], [Problem("zerotier-cluster:inventory", f"cannot read {shown_as}: {err.strerror}", fix_path)]
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        return [], [
            Problem(shown_as, f"is not valid YAML{where}: {getattr(err, 'problem', err)}", "fix the YAML syntax")
        ]
    if not isinstance(document, Mapping):
        return [], [
            Problem(
                shown_as, "is not a YAML inventory (a mapping of groups)", "start it with all: or head:/compute: groups"
            )
        ]

    top_vars: Mapping[str, Any] = {}
    groups: Mapping[str, Any] = document
    prefix = ""
    if "all" in document and isinstance(document["all"], Mapping):
        top_vars = document["all"].get("vars") or {}
        groups = document["all"].get("children") or {}
        prefix = "all.children."

    hosts: dict[str, tuple[dict[str, Any], str, str]] = {}  # name -> (vars, role, yaml path)
    for role in ROLE_GROUPS:
        group = groups.get(role)
        if group is None:
            continue
        _walk(shown_as, group, f"{prefix}{role}", role, dict(top_vars), hosts, problems)
    if not hosts and not problems:
        problems.append(
            Problem(
                shown_as,
                "has no hosts under the head or compute groups",
                "put the head node in a head group and the others in compute",
            )
        )

    entries: list[Entry] = []
    for name, (variables, role, path_in_file) in hosts.items():
        raw: dict[str, Any] = {"name": name, "role": role, "host": name}
        for var, value in variables.items():
            if var in FIELDS:
                raw[FIELDS[var]] = value
        entries.append((raw, _key_of(shown_as, path_in_file)))
    return entries, problems


def _key_of(shown_as: str, path_in_file: str) -> KeyOf:
    def key_of(field: str) -> str:
        return f"{shown_as}: {path_in_file}" + (f".{ALIASES.get(field, field)}" if field else "")

    return key_of


def _walk(
    shown_as: str,
    group: Any,
    path: str,
    role: str,
    inherited: dict[str, Any],
    hosts: dict[str, tuple[dict[str, Any], str, str]],
    problems: list[Problem],
) -> None:
    if group is None:
        return
    if not isinstance(group, Mapping):
        problems.append(
            Problem(
                f"{shown_as}: {path}",
                "must be a group (a mapping with hosts, vars or children)",
                "write hosts: under the group",
            )
        )
        return
    group_vars = dict(inherited)
    own_vars = group.get("vars") or {}
    if not isinstance(own_vars, Mapping):
        problems.append(Problem(f"{shown_as}: {path}.vars", "must be a mapping", "write key: value pairs"))
    else:
        group_vars.update(own_vars)
    members = group.get("hosts") or {}
    if not isinstance(members, Mapping):
        problems.append(
            Problem(
                f"{shown_as}: {path}.hosts",
                "must be a mapping of host names",
                "write each host as a key (its vars, if any, under it)",
            )
        )
        members = {}
    for pattern, host_vars in members.items():
        host_path = f"{path}.hosts.{pattern}"
        if host_vars is not None and not isinstance(host_vars, Mapping):
            problems.append(
                Problem(
                    f"{shown_as}: {host_path}",
                    "must be a mapping of host variables (or empty)",
                    "write ansible_host: ... under the host",
                )
            )
            continue
        names = expand(str(pattern))
        if names is None:
            problems.append(
                Problem(
                    f"{shown_as}: {host_path}",
                    "has a host range Ansible would not expand",
                    "write ranges like compute-[01:16] or node-[a:d]",
                )
            )
            continue
        for name in names:
            if name in hosts and hosts[name][1] != role:
                problems.append(
                    Problem(
                        f"{shown_as}: {host_path}",
                        f"{name} is in both the {hosts[name][1]} and {role} groups",
                        "put each host in exactly one of head and compute",
                    )
                )
                continue
            merged = dict(hosts[name][0]) if name in hosts else dict(group_vars)
            merged.update(host_vars or {})
            hosts[name] = (merged, role, f"{path}.hosts.{name}")
    children = group.get("children") or {}
    if not isinstance(children, Mapping):
        problems.append(
            Problem(f"{shown_as}: {path}.children", "must be a mapping of groups", "write child groups as keys")
        )
        return
    for child_name, child in children.items():
        _walk(shown_as, child, f"{path}.children.{child_name}", role, group_vars, hosts, problems)


def expand(pattern: str) -> list[str] | None:
    """Expands Ansible host ranges: ``db-[01:03]`` → db-01, db-02, db-03; None if malformed."""
    match = RANGE.search(pattern)
    if match is None:
        return None if ("[" in pattern or "]" in pattern) else [pattern]
    first, last, stride_s = match.group(1), match.group(2), match.group(3)
    stride = int(stride_s or 1)
    head, tail = pattern[: match.start()], pattern[match.end() :]
    if first.isdigit() and last.isdigit():
        width = len(first) if first.startswith("0") and len(first) > 1 else 0
        if int(first) > int(last) or stride < 1:
            return None
        items = [str(i).zfill(width) for i in range(int(first), int(last) + 1, stride)]
    elif len(first) == len(last) == 1 and first in string.ascii_lowercase and last in string.ascii_lowercase:
        if first > last or stride < 1:
            return None
        items = [chr(c) for c in range(ord(first), ord(last) + 1, stride)]
    else:
        return None
    result: list[str] = []
    for item in items:
        rest = expand(head + item + tail)
        if rest is None:
            return None
        result.extend(rest)
    return result
