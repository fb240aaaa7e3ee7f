"""A stack's commands run over SSH in the order ``pulumi up`` and ``pulumi destroy`` run them.

For a lab with real ZeroTier daemons and no Pulumi engine: the plan's steps
(:func:`cluster.plan.build_plan`), each stdin composed by
:meth:`cluster.steps.StepScript.text` with the values Pulumi fills in once it
knows them (the head's address, the network ID the head's controller
confirmed, each member's address, the signed moon), parsed from the earlier
steps' output by the program's own parsers (``cluster.overlay``). The whole
bundle travels once per machine over SFTP, as the program's ``CopyToRemote``
does; every command is ``/bin/sh -s -- create|update|delete`` as the ``ops``
login with sudo. The dependency order is the one ``cluster/overlay.py``
declares (see :meth:`StackRun.up`); nodes run in parallel where it lets them.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from cluster.controller import _reported_network
from cluster.overlay import _signed_moon, node_address
from cluster.plan import MEMBER, MOON, NETWORK_ID, Plan, network_suffix
from cluster.steps import COMMANDS, REMOTE_BUNDLE, StepScript

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
        self, node: str, step: StepScript, action: str, known: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``step`` on ``node``'s machine, exactly as its Command runs it; fails unless it exits 0."""
        ip = str(self.machines[node].host.ip)
        stdin = step.text(known=known or {})
        assert "known once pulumi up" not in stdin, f"{node} {step.name}: a pending value was not filled in"
        result = self.operator.run(ip, "ops", COMMANDS[action], stdin=stdin, timeout=300)  # type: ignore[index]
        self.results[(step.node, step.name, action)] = result
        if result.returncode != 0:
            raise StepFailed(f"{step.name} {action} for {step.node} on {node}:\n{result.stdout}{result.stderr}")
        return result

    def _parallel(self, jobs: Mapping[str, Callable[[], Any]]) -> None:
        with ThreadPoolExecutor(max(1, len(jobs))) as pool:
            for future in [pool.submit(job) for job in jobs.values()]:
                future.result()

    def up(self, action: str = "create") -> None:
        """Every command of the stack, in the order of the dependencies overlay.py declares.

        moon (head) → network (head) and orbit (other nodes) → members (on the
        head) → join → firewall, hosts → verify (the head's once every node's
        firewall is in, the others' once the head's is).
        """
        controller, head = self.plan.controller, self.head
        assert controller is not None and self.plan.moon is not None, "a controller: head, roots: head stack"
        head_address = node_address(self.addresses[head] + "\n", head)
        printed = self.run(head, self.plan.moon, action).stdout
        self.moon = _signed_moon(printed)
        nodes = {n.name: n for n in self.plan.nodes}

        expected = head_address + network_suffix(self.plan.spec.network.name)
        jobs: dict[str, Callable[[], Any]] = {
            "network": partial(self.run, head, controller.network, action, {NETWORK_ID: expected})
        }
        for name, node in nodes.items():
            if node.orbit is not None:
                jobs[name] = partial(self.run, name, node.orbit, action, {MOON: self.moon})
        self._parallel(jobs)
        self.network_id = _reported_network(self.results[(head, "network", action)].stdout, expected)

        self._parallel(
            {
                name: partial(
                    self.run,
                    head,
                    controller.member(name),
                    action,
                    {NETWORK_ID: self.network_id, MEMBER: node_address(self.addresses[name] + "\n", name)},
                )
                for name in nodes
            }
        )
        self._each(nodes, "join", action, {NETWORK_ID: self.network_id})
        self._each(nodes, "firewall", action)
        self._each(nodes, "hosts", action)
        self._each(nodes, "verify", action)

    def _each(self, nodes: Mapping[str, Any], step: str, action: str, known: Mapping[str, str] | None = None) -> None:
        self._parallel(
            {name: partial(self.run, name, _step(node, step), action, known) for name, node in nodes.items()}
        )  # fmt: skip

    def destroy(self) -> None:
        """``pulumi destroy``: every command's delete, dependents first (install's aside: it keeps ZeroTier)."""
        controller, head = self.plan.controller, self.head
        assert controller is not None and self.plan.moon is not None
        nodes = {n.name: n for n in self.plan.nodes}
        for step in ("verify", "hosts", "firewall"):
            self._each(nodes, step, "delete")
        self._each(nodes, "join", "delete", {NETWORK_ID: self.network_id})
        jobs: dict[str, Callable[[], Any]] = {
            f"{name}-member": partial(
                self.run,
                head,
                controller.member(name),
                "delete",
                {NETWORK_ID: self.network_id, MEMBER: self.addresses[name]},
            )
            for name in nodes
        }
        for name, node in nodes.items():
            if node.orbit is not None:
                jobs[f"{name}-orbit"] = partial(self.run, name, node.orbit, "delete", {MOON: self.moon})
        self._parallel(jobs)
        self.run(head, controller.network, "delete", {NETWORK_ID: self.network_id})
        self.run(head, self.plan.moon, "delete")


def _step(node: Any, name: str) -> StepScript:
    found = getattr(node, name)
    assert isinstance(found, StepScript), f"{node.name} has no {name} step"
    return found
