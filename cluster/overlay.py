"""The Pulumi component: a plan turned into ZeroTier resources and remote commands.

This is the only module (with ``controller`` and ``connection``) that knows
Pulumi resource types. Per node the chain is::

    install ──► Member ──► join ──► firewall ──► verify
                              └───► hosts ─────────┘

The Member needs the address install reports, so a node is authorized before
its first join. Nodes run their chains in parallel; only verification waits
for the head (a compute node pings the head once the head's firewall admits
it, and the head pings every node once theirs do).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_command as command

from .connection import connection
from .controller import CentralController, Controller
from .plan import NETWORK_ID, NodePlan, Plan, build_plan
from .spec import ClusterSpec
from .steps import COMMANDS, StepScript

TYPE = "zerotier-cluster:index:Overlay"
ZT_ADDRESS = re.compile(r"^[0-9a-f]{10}$")


def node_address(stdout: str, node: str) -> str:
    """The ZeroTier address install printed on its last line."""
    lines = stdout.strip().splitlines()
    address = lines[-1].strip() if lines else ""
    if not ZT_ADDRESS.match(address):
        raise pulumi.RunError(
            f"install on {node} did not report a ZeroTier address (last line: {address!r}); "
            "run `zerotier-cli info` on the node and see the install step's log"
        )
    return address


@dataclass
class NodeResources:
    """What one node's chain declared, for dependencies and outputs."""

    plan: NodePlan
    connection: command.remote.ConnectionArgs
    commands: dict[str, command.remote.Command]
    member: pulumi.Resource
    member_id: pulumi.Output[str]

    @property
    def ready(self) -> command.remote.Command:
        """The step after which this node answers over the overlay through its firewall."""
        return self.commands.get("firewall", self.commands["join"])


class Overlay(pulumi.ComponentResource):
    """An HPC cluster on a private ZeroTier network: members authorized, nodes provisioned.

    ``spec`` is usually built from stack config (:func:`cluster.program.build`),
    but a program can construct it with hosts that are Outputs of other
    resources (a cloud VM's address), see ``examples/``.
    """

    network_id: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        spec: ClusterSpec,
        *,
        central_token: pulumi.Input[str],
        ssh_private_key: pulumi.Input[str] | None = None,
        network_id: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """``network_id`` supplies the ID of a network another stack owns (``network.fromStack``)."""
        super().__init__(TYPE, name, None, opts)
        self.name = name
        self.plan: Plan = build_plan(spec)
        self.controller: Controller = CentralController(name, self, central_token)
        self.network_id = (
            pulumi.Output.from_input(network_id) if network_id is not None else self.controller.network(spec.network)
        )

        self.nodes = {n.node.name: self._node_chain(n, ssh_private_key) for n in self.plan.nodes}
        self._verify()
        self.devices = {
            device.name: self.controller.member(
                device.name,
                network_id=self.network_id,
                member_id=device.address,
                ip=assignment.ip,
                description=device.description or f"operator device on {spec.network.name}",
            )
            for device, assignment in self.plan.devices
        }
        self.register_outputs(self.outputs())

    # -- declaration ---------------------------------------------------------

    def _text(self, step: StepScript) -> pulumi.Input[str]:
        """The step's stdin; a pending network ID makes it an Output."""
        if NETWORK_ID in step.pending:
            return self.network_id.apply(lambda nid: step.text({NETWORK_ID: nid}))
        return step.text()

    def _command(
        self,
        node: NodePlan,
        step: StepScript,
        conn: command.remote.ConnectionArgs,
        depends_on: Sequence[pulumi.Resource],
        triggers: Sequence[Any] | None = None,
    ) -> command.remote.Command:
        return command.remote.Command(
            f"{self.name}-{node.node.name}-{step.step}",
            connection=conn,
            create=COMMANDS["create"],
            update=COMMANDS["update"],
            delete=COMMANDS["delete"],
            stdin=self._text(step),
            triggers=list(triggers) if triggers is not None else None,
            # Scripts print progress and addresses, never secrets; operators need both streams.
            logging=command.remote.Logging.STDOUT_AND_STDERR,
            add_previous_output_in_env=False,
            # A replacement must undo the old step before the new one runs: the other
            # order would apply a firewall or join and then remove or leave it again.
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(depends_on), delete_before_replace=True),
        )

    def _node_chain(self, node: NodePlan, private_key: pulumi.Input[str] | None) -> NodeResources:
        conn = connection(node.node, private_key)
        commands: dict[str, command.remote.Command] = {}
        install = commands["install"] = self._command(node, node.step("install"), conn, [])
        member_id = install.stdout.apply(lambda out: node_address(out, node.node.name))
        member = self.controller.member(
            node.node.name,
            network_id=self.network_id,
            member_id=member_id,
            ip=node.ip,
            description=f"{node.node.role} node of {self.plan.spec.network.name} (zerotier-cluster)",
        )
        commands["join"] = self._command(node, node.step("join"), conn, [member])
        after_join: list[pulumi.Resource] = [commands["join"]]
        if node.ruleset is not None:
            commands["firewall"] = self._command(node, node.step("firewall"), conn, after_join)
        commands["hosts"] = self._command(node, node.step("hosts"), conn, after_join)
        return NodeResources(node, conn, commands, member, member_id)

    def _verify(self) -> None:
        """Adds each node's verify step once the nodes it must reach admit it."""
        head = next((r for r in self.nodes.values() if r.plan.node.role == "head"), None)
        for res in self.nodes.values():
            own = [res.ready, res.commands["hosts"]]
            if res is head:
                others = [r.ready for r in self.nodes.values() if r is not head]
            else:
                others = [head.ready] if head is not None else []
            # Re-verify whenever anything this node's connectivity depends on changes.
            texts = [s.text() for s in res.plan.steps if s.step in ("join", "firewall", "hosts")]
            res.commands["verify"] = self._command(
                res.plan,
                res.plan.step("verify"),
                res.connection,
                own + others,
                triggers=[_digest(texts), self.network_id],
            )

    # -- outputs ---------------------------------------------------------------

    def outputs(self) -> dict[str, Any]:
        """The values published as stack outputs (see README, "Outputs")."""
        plan = self.plan
        nodes = {
            name: {
                "ip": str(res.plan.ip),
                "memberId": res.member_id,
                "role": res.plan.node.role,
                "host": res.plan.node.host,
            }
            for name, res in self.nodes.items()
        }
        return {
            "networkId": self.network_id,
            "cidr": str(plan.spec.network.cidr),
            "addressSlice": str(plan.spec.network.address_slice),
            "pool": (
                {"start": str(plan.spec.network.pool.start), "end": str(plan.spec.network.pool.end)}
                if plan.spec.network.pool
                else None
            ),
            "headName": plan.head_name,
            "headIp": str(plan.head_ip),
            "nodes": nodes,
            "devices": {d.name: {"ip": str(a.ip), "memberId": d.address} for d, a in plan.devices},
            "hostsFile": plan.hosts_block,
            "mpiHostfile": plan.mpi_hostfile,
            "slurmNodes": plan.slurm_nodes,
        }


def _digest(texts: Sequence[str]) -> str:
    return hashlib.sha256("\0".join(texts).encode()).hexdigest()
