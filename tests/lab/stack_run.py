"""A stack's commands run over SSH in the order ``pulumi up`` and ``pulumi destroy`` run them.

For a lab with real ZeroTier daemons and no Pulumi engine: the plan's own
list of declarations (:func:`cluster.plan.declarations.declarations`, the one
``cluster/declare/overlay.py`` turns into resources), each command's stdin
composed by :meth:`cluster.plan.steps.StepScript.text` with the values Pulumi
fills in once it knows them (the head's address, the network ID, each
member's address, the signed moon), parsed from the earlier steps' output by
the program's own parsers. The whole bundle
travels once per machine over SFTP, as the program's ``CopyToRemote`` does;
every command is ``/bin/sh -s -- create|update|delete`` as the ``ops`` login
with sudo. A command runs once every entry it comes after or needs a value
from has run; commands that do not wait for each other run in parallel, and
``destroy`` runs the same waves backwards. Installs are not run: the machines
already run ZeroTier, and ``addresses`` are what their identity steps print
(checked when they run).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from cluster.declare.overlay import node_address, signed_moon
from cluster.plan.build import Plan
from cluster.plan.declarations import NETWORK, AuthorizeMember, Declaration, DeclareNetwork, RunStep, declarations
from cluster.plan.steps import COMMANDS, REMOTE_BUNDLE, StepParams, StepScript

from .machine import Machine
from .ssh import Operator

#: An entry that is a command with a script: what the lab runs.
Command = RunStep | DeclareNetwork | AuthorizeMember


class StepFailed(AssertionError):
    """A step that did not exit 0: its node, step and output."""


@dataclass
class StackRun:
    """One stack (``plan``) on ``machines`` (by node name), driven from ``operator``'s workstation.

    ``addresses`` are what each node's install printed last (its ZeroTier
    address); ``results`` keeps every step's output by ``(node, step, action)``.
    """

    plan: Plan
    machines: Mapping[str, Machine]
    operator: Operator
    addresses: Mapping[str, str]
    results: dict[tuple[str, str, str], subprocess.CompletedProcess[str]] = field(default_factory=dict)
    #: The values later entries need, by the name of the entry that gave them (see ``Need``).
    values: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, address in self.addresses.items():
            self.values[f"{name}-identity"] = node_address(address + "\n", name)

    @property
    def head(self) -> str:
        return self.plan.head_name

    @property
    def network_id(self) -> str:
        return self.values.get(NETWORK, "")

    @property
    def moon(self) -> str:
        return self.values.get(f"{self.head}-moon", "")

    @cached_property
    def commands(self) -> tuple[Command, ...]:
        """The plan's commands but the installs, in declaration order; every one runs a script on a machine."""
        found: list[Command] = []
        for entry in declarations(self.plan):
            if isinstance(entry, RunStep) and entry.step != "install":
                found.append(entry)
            elif isinstance(entry, DeclareNetwork | AuthorizeMember):
                assert entry.script is not None, "the lab runs controller: head stacks (Central is an API)"
                found.append(entry)
        return tuple(found)

    def ship(self) -> None:
        """The stack's bundle onto every machine, as each node's ``bundle`` resource copies it."""
        for name, machine in self.machines.items():
            copied = self.operator.upload(str(machine.host.ip), "ops", self.plan.bundle.tar, REMOTE_BUNDLE)
            assert copied.returncode == 0, f"copying the bundle to {name} failed: {copied.stderr}"

    def run(
        self,
        node: str,
        step: StepScript[StepParams],
        action: str,
        known: Mapping[str, str] | None = None,
        *,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """``step`` on ``node``'s machine, as its Command runs it; fails unless it exits 0 or not ``check``."""
        ip = str(self.machines[node].host.ip)
        stdin = step.text(known=known or {})
        assert "known once pulumi up" not in stdin, f"{node} {step.name}: a pending value was not filled in"
        result = self.operator.run(ip, "ops", COMMANDS[action], stdin=stdin, timeout=300)  # type: ignore[index]
        self.results[(step.node, step.name, action)] = result
        if check and result.returncode != 0:
            raise StepFailed(f"{step.name} {action} for {step.node} on {node}:\n{result.stdout}{result.stderr}")
        return result

    def known(self, entry: Declaration) -> dict[str, str]:
        """The values Pulumi fills into ``entry``'s stdin, from the entries that gave them."""
        return {need.value: self.values[need.source] + need.suffix for need in entry.needs}

    def execute(self, entry: Command, action: str) -> None:
        """One entry's command; a moon's and a network's result kept for the entries after it."""
        assert entry.script is not None and entry.host is not None
        known = self.known(entry)
        printed = self.run(entry.host, entry.script, action, known).stdout
        if action == "delete":
            return
        if entry.step == "moon":
            self.values[entry.name] = signed_moon(printed)
        elif entry.step == "identity":
            assert node_address(printed, entry.node) == self.values[entry.name], f"{entry.node}'s address changed"
        elif entry.name == NETWORK:
            last = printed.strip().splitlines()[-1:]
            assert last == [known["networkId"]], f"the head's network step printed {last}, not {known['networkId']}"
            self.values[NETWORK] = known["networkId"]

    def _waves(self, chosen: Iterable[Command]) -> list[list[Command]]:
        """``chosen`` in waves: each entry one wave after the last chosen entry it comes after or needs."""
        entries = list(chosen)
        names = {e.name for e in entries}
        level: dict[str, int] = {}
        for e in entries:  # declaration order: sources first
            waits = (set(e.after) | {n.source for n in e.needs}) & names
            level[e.name] = 1 + max((level[w] for w in waits), default=-1)
        waves: list[list[Command]] = [[] for _ in range(1 + max(level.values(), default=-1))]
        for e in entries:
            waves[level[e.name]].append(e)
        return waves

    def _parallel(self, jobs: Mapping[str, Callable[[], Any]]) -> None:
        with ThreadPoolExecutor(max(1, len(jobs))) as pool:
            for future in [pool.submit(job) for job in jobs.values()]:
                future.result()

    def _run_waves(self, chosen: Iterable[Command], action: str, *, backwards: bool = False) -> None:
        waves = self._waves(chosen)
        for wave in reversed(waves) if backwards else waves:
            self._parallel({e.name: (lambda e=e: self.execute(e, action)) for e in wave})

    def up(self, action: str = "create") -> None:
        """Every command of the stack, each once the entries it comes after have run.

        moon (head) → network (head) and orbit (other nodes) → members (on the
        head) → join → firewall, hosts → verify (the head's once every node's
        firewall is in, the others' once the head's is).
        """
        self._run_waves(self.commands, action)

    def roots_and_network(self, action: str = "create") -> None:
        """The head signs its moon, then creates the network while the other nodes orbit the moon."""
        self._run_waves((e for e in self.commands if e.step in ("moon", "network", "orbit")), action)

    def authorize(self, action: str = "create", names: Sequence[str] | None = None) -> None:
        """The member steps (on the head) of ``names``, every node's and device's by default."""
        self.each("member", action, names)

    def member_known(self, name: str) -> dict[str, str]:
        """The values Pulumi fills into ``name``'s member step: the network ID, and a node's address."""
        return self.known(self.entry(name, "member"))

    def entry(self, node: str, step: str) -> Command:
        """``node``'s entry for ``step`` in the plan's declarations."""
        found = [e for e in self.commands if e.node == node and e.step == step]
        assert len(found) == 1, f"{len(found)} {step} entries for {node}"
        return found[0]

    def step(self, node: str, name: str) -> StepScript[StepParams]:
        """``node``'s step ``name`` in the plan."""
        script = self.entry(node, name).script
        assert script is not None
        return script

    def each(self, step: str, action: str = "create", names: Sequence[str] | None = None) -> None:
        """``step`` on the nodes ``names`` (every node by default) in parallel; its pending values filled in."""
        self._run_waves((e for e in self.commands if e.step == step and (names is None or e.node in names)), action)

    def destroy(self) -> None:
        """``pulumi destroy``: every command's delete, dependents first (install's aside: it keeps ZeroTier)."""
        self._run_waves(self.commands, "delete", backwards=True)
