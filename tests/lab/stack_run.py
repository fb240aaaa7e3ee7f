"""A stack's commands run over SSH in the order ``pulumi up`` and ``pulumi destroy`` run them.

For a lab with real ZeroTier daemons and no Pulumi engine: the plan's steps
(:func:`cluster.plan.build.build_plan`), each stdin composed by
:meth:`cluster.plan.steps.StepScript.text` with the values Pulumi fills in once it
knows them (the head's address, the network ID the head's controller
confirmed, each member's address, the signed moon), parsed from the earlier
steps' output by the program's own parsers (``cluster.declare.overlay``). The whole
bundle travels once per machine over SFTP, as the program's ``CopyToRemote``
does; every command is ``/bin/sh -s -- create|update|delete`` as the ``ops``
login with sudo. The dependency order is the one ``cluster/declare/overlay.py``
declares (see :meth:`StackRun.up`); nodes run in parallel where it lets them.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from cluster.declare.controller import reported_network
from cluster.declare.overlay import node_address, signed_moon
from cluster.plan.build import PENDING_MEMBER, PENDING_MOON, PENDING_NETWORK_ID, Plan
from cluster.plan.network import network_suffix
from cluster.plan.steps import COMMANDS, REMOTE_BUNDLE, StepScript

from .machine import Machine
from .ssh import Operator


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
    network_id: str = ""
    moon: str = ""

    @property
    def head(self) -> str:
        return self.plan.head_name

    def ship(self) -> None:
        """The stack's bundle onto every machine, as each node's ``bundle`` resource copies it."""
        for name, machine in self.machines.items():
            copied = self.operator.upload(str(machine.host.ip), "ops", self.plan.bundle.tar, REMOTE_BUNDLE)
            assert copied.returncode == 0, f"copying the bundle to {name} failed: {copied.stderr}"

    def run(
        self, node: str, step: StepScript, action: str, known: Mapping[str, str] | None = None, *, check: bool = True
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

    def _parallel(self, jobs: Mapping[str, Callable[[], Any]]) -> None:
        with ThreadPoolExecutor(max(1, len(jobs))) as pool:
            for future in [pool.submit(job) for job in jobs.values()]:
                future.result()

    def up(self, action: str = "create") -> None:
        """Every command of the stack, in the order of the dependencies overlay.py declares.

        localconf → moon (head) → network (head) and orbit (other nodes) →
        members (on the head) → join → firewall, hosts → verify (the head's
        once every node's firewall is in, the others' once the head's is).
        """
        self.each("localconf", action)
        self.roots_and_network(action)
        self.authorize(action)
        for step in ("join", "firewall", "hosts", "verify"):
            self.each(step, action)

    def roots_and_network(self, action: str = "create") -> None:
        """The head signs its moon, then creates the network while the other nodes orbit the moon."""
        controller, head = self.plan.controller, self.head
        assert controller is not None and self.plan.moon is not None, "a controller: head, roots: head stack"
        head_address = node_address(self.addresses[head] + "\n", head)
        printed = self.run(head, self.plan.moon, action).stdout
        self.moon = signed_moon(printed)

        expected = head_address + network_suffix(self.plan.spec.network.name)
        jobs: dict[str, Callable[[], Any]] = {
            "network": partial(self.run, head, controller.network, action, {PENDING_NETWORK_ID: expected})
        }
        for node in self.plan.nodes:
            if node.orbit is not None:
                jobs[node.name] = partial(self.run, node.name, node.orbit, action, {PENDING_MOON: self.moon})
        self._parallel(jobs)
        self.network_id = reported_network(self.results[(head, "network", action)].stdout, expected)

    def authorize(self, action: str = "create", names: Sequence[str] | None = None) -> None:
        """The member steps (on the head) of ``names``, every node's and device's by default."""
        controller = self.plan.controller
        assert controller is not None, "a controller: head stack"
        self._parallel(
            {
                member.node: partial(self.run, self.head, member, action, self.member_known(member.node))
                for member in controller.members
                if names is None or member.node in names
            }
        )

    def member_known(self, name: str) -> dict[str, str]:
        """The values Pulumi fills into ``name``'s member step: the network ID, and a node's address."""
        known = {PENDING_NETWORK_ID: self.network_id}
        if name in self.addresses:  # a node: its address as its install printed it (a device's is in the config)
            known[PENDING_MEMBER] = node_address(self.addresses[name] + "\n", name)
        return known

    def step(self, node: str, name: str) -> StepScript:
        """``node``'s step ``name`` in the plan."""
        return _step(next(n for n in self.plan.nodes if n.name == node), name)

    def each(self, step: str, action: str = "create", names: Sequence[str] | None = None) -> None:
        """``step`` on the nodes ``names`` (every node by default) in parallel; the network ID filled in."""
        known = {PENDING_NETWORK_ID: self.network_id} if step == "join" else None
        self._parallel(
            {
                node.name: partial(self.run, node.name, self.step(node.name, step), action, known)
                for node in self.plan.nodes
                if names is None or node.name in names
            }
        )

    def destroy(self) -> None:
        """``pulumi destroy``: every command's delete, dependents first (install's aside: it keeps ZeroTier)."""
        controller, head = self.plan.controller, self.head
        assert controller is not None and self.plan.moon is not None
        for step in ("verify", "hosts", "firewall", "join"):
            self.each(step, "delete")
        jobs: dict[str, Callable[[], Any]] = {
            f"{member.node}-member": partial(self.run, head, member, "delete", self.member_known(member.node))
            for member in controller.members
        }
        for node in self.plan.nodes:
            if node.orbit is not None:
                jobs[f"{node.name}-orbit"] = partial(
                    self.run, node.name, node.orbit, "delete", {PENDING_MOON: self.moon}
                )
        self._parallel(jobs)
        self.run(head, controller.network, "delete", {PENDING_NETWORK_ID: self.network_id})
        self.run(head, self.plan.moon, "delete")
        self.each("localconf", "delete")


def _step(node: Any, name: str) -> StepScript:
    found = getattr(node, name)
    assert isinstance(found, StepScript), f"{node.name} has no {name} step"
    return found
