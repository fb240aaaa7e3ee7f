"""Nodes from an Ansible-style YAML inventory, read as Ansible reads it.

Groups are global and nest at any depth: a group named ``compute`` is one
group wherever it is defined (top level, under ``all.children``, or as a
child of a site group), and a host in a child of ``compute`` is a compute
host. A host may sit in several groups. Its variables merge as Ansible
documents ("How variables are merged"): ``all`` vars, then every group the
host belongs to from the shallowest to the deepest (groups of one depth by
``ansible_group_priority``, then by name, later overriding earlier), then host
vars (later definitions overriding earlier). One exception keeps a stolen
node out: ``state: evicted`` set anywhere the host takes variables from
applies, whatever overrides it.

Ansible's ``ansible_host``, ``ansible_user`` and ``ansible_port`` (and the
legacy ``ansible_ssh_host``, ``ansible_ssh_user``, ``ansible_ssh_port``) give
the SSH connection; this project's own per-host keys are ``ip``, ``proxy``,
``hostKey``, ``sshdPort``, ``state``, ``generation`` and ``site``. Other variables
belong to other tools and are left alone, except near misses of these
(``State``), which are refused. Host ranges such as ``compute-[01:16]`` and
``node-[a:d]`` expand as in Ansible.

The file is untrusted input: it is read only if it is a regular file of
bounded size, ranges are counted before they are expanded, and the number of
hosts and group visits is capped, so no inventory can exhaust memory or time.
Nothing is dropped silently: a host or group name YAML reads as a number or
a flag, a group key Ansible does not know, a variable this program reads
spelled with other case, and a host in both ``head`` and ``compute`` are
refused, each naming the file and the YAML path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cluster.config.validate import shown
from cluster.config.yamlfile import Surprise, read_yaml, surprise_problem
from cluster.conventions import MAX_LIST_ENTRIES
from cluster.errors import Problem

ROLE_GROUPS = ("head", "compute")
#: Inventory variable → node field.
FIELDS = {
    "ansible_host": "host",
    "ansible_user": "user",
    "ansible_port": "port",
    "ansible_ssh_host": "host",
    "ansible_ssh_user": "user",
    "ansible_ssh_port": "port",
    "ip": "ip",
    "proxy": "proxy",
    "hostKey": "hostKey",
    "sshdPort": "sshdPort",
    "state": "state",
    "generation": "generation",
    "site": "site",
}
#: Current name → legacy name of the connection variables.
LEGACY = (
    ("ansible_host", "ansible_ssh_host"),
    ("ansible_user", "ansible_ssh_user"),
    ("ansible_port", "ansible_ssh_port"),
)
LEGACY_NAMES = {old for _, old in LEGACY}
#: Node field → the inventory variable an error names when the field is missing.
ALIASES = {"host": "ansible_host", "user": "ansible_user", "port": "ansible_port"}
#: Variables the program reads, by lowercase name, to catch ``State`` or ``HostKey``.
NEAR = {name.lower(): name for name in FIELDS}
GROUP_KEYS = ("hosts", "vars", "children")
RANGE = re.compile(r"\[([0-9]{1,9}|[a-z]):([0-9]{1,9}|[a-z])(?::([0-9]{1,9}))?\]")
#: Group visits (children may repeat through YAML aliases) and nesting depth.
MAX_GROUPS = 10_000
MAX_DEPTH = 32
MAX_PATTERN = 255
#: Host names expanded in all (a host may be listed in several groups).
MAX_EXPANDED = 4 * MAX_LIST_ENTRIES


@dataclass(frozen=True)
class Entry:
    """A node entry as in ``nodes:``, where problems with it are named, and where each field was set."""

    raw: dict[str, Any]
    origin: str
    places: dict[str, str]


@dataclass
class _Group:
    """A group as the walk found it, under its name in :attr:`_Reader.groups`."""

    #: Variable → (value, its YAML path).
    vars: dict[str, tuple[Any, str]] = field(default_factory=dict)
    parents: set[str] = field(default_factory=set)
    #: ``ansible_group_priority``: orders groups of one depth (higher wins).
    priority: int = 1


@dataclass
class _Host:
    name: str
    #: The YAML path of its first appearance (``compute.hosts.cn-[01:04]``).
    path: str
    vars: dict[str, tuple[Any, str]] = field(default_factory=dict)
    #: Groups it is listed in directly, each with the YAML path of that listing.
    groups: list[tuple[str, str]] = field(default_factory=list)


def load_inventory(path: Path, *, shown_as: str) -> tuple[list[Entry], list[Problem]]:
    """Reads ``path``; returns node entries (as in ``nodes:``) and any problems."""
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
    reader = _Reader(shown_as)
    for name, group in document.items():
        group_name = reader.name(name, "", "group")
        if group_name is not None:  # a top-level group's parent is all: every host is in all (entries)
            reader.walk(group_name, group, group_name, ())
    if reader.problems:
        return [], reader.problems
    entries = reader.entries()
    if not entries and not reader.problems:
        reader.problem(
            "",
            "has no hosts in the head or compute groups",
            "put the head node in a head group and the others in compute",
        )
    return entries, reader.problems


class _Reader:
    """Builds Ansible's group graph from the document, within the bounds, then each host's variables."""

    def __init__(self, shown_as: str) -> None:
        self.shown_as = shown_as
        self.groups: dict[str, _Group] = {"all": _Group()}
        self.hosts: dict[str, _Host] = {}
        self.problems: list[Problem] = []
        self.visits = 0
        self.expanded = 0
        self.capped = False

    def problem(self, path: str, message: str, fix: str) -> None:
        self.problems.append(Problem(self.where(path), message, fix))

    def where(self, path: str) -> str:
        return f"{self.shown_as}: {path}" if path else self.shown_as

    def group(self, name: str) -> _Group:
        return self.groups.setdefault(name, _Group())

    def name(self, key: Any, path: str, what: str) -> str | None:
        """A host or group name as written, or None (with a problem) when YAML read it as something else."""
        below = f"{path}.{key}" if path else str(key)
        if isinstance(key, Surprise):
            self.problems.append(surprise_problem(self.where(below), key, self.shown_as))
            return None
        if isinstance(key, str):
            return key
        text = shown(key)
        self.problem(
            f"{path}.{text}" if path else text,
            f"{text} is read by YAML as {type(key).__name__}, not as a {what} name",
            f"quote it ('{text}') if it is a {what} name",
        )
        return None

    def walk(self, name: str, data: Any, path: str, chain: tuple[str, ...]) -> None:
        """One definition of group ``name`` (groups may be defined in several places; all of them count)."""
        self.visits += 1
        if self.visits > MAX_GROUPS or len(chain) > MAX_DEPTH:
            if not self.capped:
                self.problem(
                    path, f"nests groups deeper than {MAX_DEPTH} or more than {MAX_GROUPS} times", "flatten it"
                )
            self.capped = True
            return
        if name in chain:
            self.problem(path, f"makes group {name} a descendant of itself", "remove the loop from the children")
            return
        if data is None:
            return
        if not isinstance(data, Mapping):
            self.problem(
                path, "must be a group (a mapping with hosts, vars or children)", "write hosts: under the group"
            )
            return
        group = self.group(name)
        for key in data:
            if key not in GROUP_KEYS:
                self.problem(
                    f"{path}.{shown(key, 40).strip(chr(39))}",
                    "is not a group key Ansible reads, so what is under it would be ignored",
                    "use hosts:, vars: or children:",
                )
        self._vars(data.get("vars"), f"{path}.vars", group.vars, group)
        members = data.get("hosts") or {}
        if isinstance(members, Mapping):
            for pattern, host_vars in members.items():
                self._hosts(pattern, host_vars, f"{path}.hosts", name)
        else:
            self.problem(
                f"{path}.hosts",
                "must be a mapping of host names",
                "write each host as a key (its vars, if any, under it)",
            )
        children = data.get("children") or {}
        if not isinstance(children, Mapping):
            self.problem(f"{path}.children", "must be a mapping of groups", "write child groups as keys")
            return
        for child_key, child in children.items():
            child_name = self.name(child_key, f"{path}.children", "group")
            if child_name is not None and not self.capped:
                self.group(child_name).parents.add(name)
                self.walk(child_name, child, f"{path}.children.{child_name}", (*chain, name))

    def _vars(self, raw: Any, path: str, into: dict[str, tuple[Any, str]], group: _Group | None = None) -> None:
        if raw is None:
            return
        if not isinstance(raw, Mapping):
            self.problem(path, "must be a mapping", "write key: value pairs")
            return
        for var, value in raw.items():
            if var == "ansible_group_priority" and group is not None:
                if isinstance(value, int) and not isinstance(value, bool):
                    group.priority = value
                else:
                    self.problem(f"{path}.{var}", f"must be a whole number, got {shown(value)}", "write e.g. 10")
            elif isinstance(var, str) and var in FIELDS:
                if isinstance(value, Surprise):
                    self.problems.append(surprise_problem(self.where(f"{path}.{var}"), value, self.shown_as))
                into[var] = (value, f"{path}.{var}")
            elif isinstance(var, str) and var.lower() in NEAR:
                self.problem(
                    f"{path}.{var}",
                    "is not a variable this program reads (names are case-sensitive), so it would be ignored",
                    f"write {NEAR[var.lower()]}",
                )

    def _hosts(self, pattern: Any, host_vars: Any, path: str, group: str) -> None:
        text = self.name(pattern, path, "host")
        if text is None:
            return
        host_path = f"{path}.{text[:64]}"
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
        self.expanded += size
        if self.capped or size > MAX_LIST_ENTRIES or self.expanded > MAX_EXPANDED:
            if not self.capped:
                self.problem(
                    host_path,
                    f"would bring the inventory past {MAX_LIST_ENTRIES} hosts",
                    "split the cluster into several stacks",
                )
            self.capped = True
            return
        parsed: dict[str, tuple[Any, str]] = {}
        self._vars(host_vars, host_path, parsed)
        for name in expand(text) or []:
            host = self.hosts.get(name)
            if host is None:
                if len(self.hosts) >= MAX_LIST_ENTRIES:
                    self.problem(
                        host_path,
                        f"would bring the inventory past {MAX_LIST_ENTRIES} hosts",
                        "split the cluster into several stacks",
                    )
                    self.capped = True
                    return
                host = self.hosts[name] = _Host(name, host_path)
            host.groups.append((group, host_path))
            host.vars.update(parsed)

    # --- after the walk: each host's groups, role and variables ----------------------------------

    def entries(self) -> list[Entry]:
        depths = self._depths()
        if depths is None:
            return []
        closure_of: dict[str, frozenset[str]] = {}
        entries = []
        for host in self.hosts.values():
            groups: set[str] = {"all"}
            role_path: dict[str, str] = {}
            for group, listed in host.groups:
                closure = closure_of.get(group)
                if closure is None:
                    closure = closure_of[group] = self._ancestors(group)
                groups |= closure
                for role in ROLE_GROUPS:
                    if role in closure:
                        role_path.setdefault(role, listed)
            if len(role_path) > 1:
                self.problem(
                    list(role_path.values())[1],  # where it joined its second role
                    f"{host.name} is in both the head and compute groups",
                    "put each host in exactly one of head and compute",
                )
                continue
            if role_path:
                entries.append(self._entry(host, next(iter(role_path)), groups, depths))
        return entries

    def _depths(self) -> dict[str, int] | None:
        """Each group's depth below ``all`` (its longest path of parents; a top group's is 1), None after a loop."""
        depths: dict[str, int] = {"all": 0}
        for start in self.groups:
            stack, seen = [start], set()
            while stack:
                name = stack[-1]
                if name in depths:
                    stack.pop()
                    continue
                pending = [p for p in self.groups[name].parents if p not in depths]
                if not pending:
                    depths[name] = 1 + max((depths[p] for p in self.groups[name].parents), default=0)
                    stack.pop()
                    continue
                if name in seen:
                    self.problem(name, f"group {name} is its own ancestor through its children", "remove the loop")
                    return None
                seen.add(name)
                stack.extend(pending)
        return depths

    def _ancestors(self, name: str) -> frozenset[str]:
        found, stack = {name}, [name]
        while stack:
            for parent in self.groups[stack.pop()].parents:
                if parent not in found:
                    found.add(parent)
                    stack.append(parent)
        return frozenset(found)

    def _entry(self, host: _Host, role: str, groups: set[str], depths: dict[str, int]) -> Entry:
        ordered = sorted(groups, key=lambda g: (depths[g], self.groups[g].priority, g))
        merged: dict[str, tuple[Any, str]] = {}
        for name in ordered:
            merged.update(self.groups[name].vars)
        merged.update(host.vars)
        states = [self.groups[g].vars["state"] for g in ordered if "state" in self.groups[g].vars]
        states += [host.vars["state"]] if "state" in host.vars else []
        evicted = next((state for state in states if state[0] == "evicted"), None)
        if evicted is not None:
            merged["state"] = evicted  # a stolen node stays out, whatever overrides it
        for state in states:
            if state is not merged["state"] and state[0] not in ("active", "evicted"):
                self.problem(state[1], f"{shown(state[0])} is not one of active, evicted", _state_fix(state[0]))
        for new, old in LEGACY:
            if new in merged and old in merged and merged[new][0] != merged[old][0]:
                self.problem(
                    merged[old][1],
                    f"says {shown(merged[old][0])}, but {new} says {shown(merged[new][0])} (at {merged[new][1]})",
                    f"keep one of them ({new} is the current name)",
                )
        raw: dict[str, Any] = {"name": host.name, "role": role, "host": host.name}
        places: dict[str, str] = {}
        # Legacy names first, so the current name wins where both are set (to the same value).
        for var in sorted(merged, key=lambda var: var not in LEGACY_NAMES):
            value, where = merged[var]
            raw[FIELDS[var]] = value
            places[FIELDS[var]] = self.where(where)
        return Entry(raw, self.where(host.path), places)


def _state_fix(value: Any) -> str:
    if isinstance(value, str) and value.lower() in ("active", "evicted"):
        return f"write {value.lower()} (lowercase: the value is case-sensitive)"
    return "use one of: active, evicted"


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
        width = len(first)  # 01 pads to two digits; 1 pads nothing that follows it, as no later number is shorter
        items = [str(i).zfill(width) for i in range(int(first), int(last) + 1, stride)]
    else:
        items = [chr(c) for c in range(ord(first), ord(last) + 1, stride)]
    return [name for item in items for name in expand(head + item + tail) or []]
