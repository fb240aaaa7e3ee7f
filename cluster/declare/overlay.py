"""The Pulumi component: a plan turned into ZeroTier resources and remote commands.

This is the only module (with ``controller`` and ``connection``) that knows
Pulumi resource types. Per node the chain is::

    bundle ──► install ──► Member ──────► join ──► firewall ──► verify
                  └──► localconf ──┘           └───► hosts ─────────┘

``bundle`` copies the stack's programs to the node (a file asset: state keeps
its path and hash, not its bytes); each command's stdin then names its
program by hash (see ``cluster/steps.py``). The Member needs the address
install reports, so a node is authorized before its first join. Nodes run
their chains in parallel; only verification waits for other nodes, as
:attr:`NodePlan.verifies` says (a compute node for the head's firewall, the
head for every node's).

An evicted node (``state: evicted``) keeps its resources declared, unchanged
and retained on delete, so Pulumi never contacts it again, while its member
is deauthorized through the controller alone.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_command as command

from cluster.conventions import COMPONENT_TYPE, ZT_ADDRESS
from cluster.declare.connection import connection
from cluster.declare.controller import CentralController, Controller, HeadController
from cluster.plan import publish
from cluster.plan.build import PENDING_MOON, PENDING_NETWORK_ID, NodePlan, Plan, build_plan
from cluster.plan.steps import COMMANDS, REMOTE_BUNDLE, StepScript
from cluster.rules.model import member_tags
from cluster.spec import ClusterSpec

#: Where bundles are written instead (tests and CI point it outside the repository).
BUNDLE_DIR_ENV = "ZEROTIER_CLUSTER_BUNDLE_DIR"
SIGNED_MOON = re.compile(r"000000[0-9a-f]{10}\.moon [A-Za-z0-9+/]+=*")
#: Every input of a Command and of a CopyToRemote: what an evicted node's resources ignore.
COMMAND_INPUTS = ["connection", "create", "update", "delete", "stdin", "triggers", "logging", "addPreviousOutputInEnv"]
COPY_INPUTS = ["connection", "source", "remotePath", "triggers"]


def _last_line(stdout: str, pattern: re.Pattern[str], problem: str) -> str:
    """A step's result: its last line of output, which must match ``pattern``, else ``problem`` (with the line)."""
    lines = stdout.strip().splitlines()
    last = lines[-1].strip() if lines else ""
    if not pattern.fullmatch(last):
        raise pulumi.RunError(problem.format(last=repr(last[:80])))
    return last


def node_address(stdout: str, node: str) -> str:
    """The ZeroTier address install printed on its last line."""
    return _last_line(
        stdout,
        ZT_ADDRESS,
        f"install on {node} did not report a ZeroTier address (last line: {{last}}); "
        "run `zerotier-cli info` on the node and see /var/log/zerotier-cluster/install.log there",
    )


def signed_moon(stdout: str) -> str:
    """The moon the head's moon step printed on its last line: ``<file name> <base64>``."""
    return _last_line(
        stdout,
        SIGNED_MOON,
        "the head's moon step did not print a signed moon (last line: {last}); "
        "see /var/lib/zerotier-cluster/moon and `zerotier-idtool` on the head",
    )


@dataclass(frozen=True)
class NodeResources:
    """What one node's chain declared, for dependencies and outputs."""

    plan: NodePlan
    bundle: command.remote.CopyToRemote
    install: command.remote.Command
    member: pulumi.Resource
    member_id: pulumi.Output[str]
    join: command.remote.Command
    firewall: command.remote.Command | None
    hosts: command.remote.Command
    verify: command.remote.Command

    @property
    def ready(self) -> command.remote.Command:
        """The step after which this node answers over the overlay through its firewall."""
        return self.firewall or self.join


class Overlay(pulumi.ComponentResource):
    """An HPC cluster on a private ZeroTier network: members authorized, nodes provisioned.

    ``spec`` is usually built from stack config (:func:`cluster.declare.program.build`),
    but a program can construct it with hosts that are Outputs of other
    resources (a cloud VM's address), see ``examples/``.
    """

    network_id: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        spec: ClusterSpec,
        *,
        central_token: pulumi.Input[str] | None = None,
        ssh_private_key: pulumi.Input[str] | None = None,
        network_id: pulumi.Input[str] | None = None,
        bundle_dir: Path | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """``network_id`` supplies the ID of a network another stack owns (``network.fromStack``).

        ``central_token`` is needed with ``controller: central`` only.
        ``bundle_dir`` is where the stack's bundle is written for ``CopyToRemote``:
        by default ``$ZEROTIER_CLUSTER_BUNDLE_DIR``, else ``.zerotier-cluster/bundles``
        in the project directory (relative, so every operator's state names the
        same path).
        """
        super().__init__(COMPONENT_TYPE, name, None, opts)
        self.name = name
        self.plan: Plan = build_plan(spec)
        if bundle_dir is None:
            bundle_dir = Path(os.environ.get(BUNDLE_DIR_ENV) or ".zerotier-cluster/bundles")
        self.bundle = pulumi.FileAsset(_asset_path(self.plan.bundle.write(bundle_dir)))
        conns = {n.name: connection(n.spec, ssh_private_key) for n in self.plan.nodes}
        installs = {n.name: self._install(n, conns[n.name]) for n in self.plan.nodes}
        # local.conf restarts zerotier-one: before anything else talks to the daemon (moon, controller, join).
        self._configured = {
            n.name: self._command(n, n.localconf, conns[n.name], [installs[n.name][1]])
            if n.localconf is not None
            else installs[n.name][1]
            for n in self.plan.nodes
        }
        # roots: head: the head signs its moon before anything else runs on it (it restarts zerotier-one).
        self.moon = self._moon(conns, installs)
        self.controller: Controller = self._controller(central_token, conns, installs)
        self.network_id = (
            pulumi.Output.from_input(network_id)
            if network_id is not None
            else self.controller.network(spec.network, self.plan.rules)
        )

        chains = {n.name: self._chain(n, conns[n.name], *installs[n.name]) for n in self.plan.nodes}
        ready = {name: chain.ready for name, chain in chains.items()}
        self.nodes: dict[str, NodeResources] = {
            n.name: chains[n.name].finish(self._verify(n, chains[n.name], [ready[v] for v in n.verifies if v in ready]))
            for n in self.plan.nodes
        }
        self.devices = {
            device.name: self.controller.member(
                device.name,
                network_id=self.network_id,
                member_id=device.address,
                ip=assignment.ip,
                description=device.description or f"operator device on {spec.network.name}",
                tags=member_tags("device"),
            )
            for device, assignment in self.plan.devices
        }
        self.register_outputs(self.outputs())

    # -- declaration ---------------------------------------------------------

    def _head(self) -> NodePlan:
        return next(n for n in self.plan.nodes if n.spec.role == "head")

    def _controller(
        self,
        central_token: pulumi.Input[str] | None,
        conns: Mapping[str, command.remote.ConnectionArgs],
        installs: Mapping[str, tuple[command.remote.CopyToRemote, command.remote.Command]],
    ) -> Controller:
        """The one place that picks the controller; nothing after this asks which one it is."""
        if self.plan.spec.controller == "central":
            assert central_token is not None, "controller central needs the Central token"
            return CentralController(self.name, self, central_token)
        head = self._head()
        install = installs[head.name][1]
        before = [self.moon[0]] if self.moon else [self._configured[head.name]]

        def run(
            suffix: str,
            step: StepScript,
            known: Mapping[str, pulumi.Output[str]],
            depends_on: Sequence[pulumi.Resource],
        ) -> command.remote.Command:
            return self._command(
                head, step, conns[head.name], [*before, *depends_on], name=f"{self.name}-{suffix}", known=known
            )

        return HeadController(head, install.stdout.apply(lambda out: node_address(out, head.name)), run)

    def _moon(
        self,
        conns: Mapping[str, command.remote.ConnectionArgs],
        installs: Mapping[str, tuple[command.remote.CopyToRemote, command.remote.Command]],
    ) -> tuple[command.remote.Command, pulumi.Output[str]] | None:
        """``roots: head``: the head's moon command and the signed moon it prints, for the other nodes."""
        if self.plan.moon is None:
            return None
        head = self._head()
        moon = self._command(head, self.plan.moon, conns[head.name], [self._configured[head.name]])
        return moon, moon.stdout.apply(signed_moon)

    def _text(self, step: StepScript, known: Mapping[str, pulumi.Output[str]] | None) -> pulumi.Input[str]:
        """The step's stdin; values only ``pulumi up`` knows (default: the network ID) make it an Output."""
        if not step.pending:
            return step.text()
        found = known if known is not None else {PENDING_NETWORK_ID: self.network_id}
        values = {name: found[name] for name in step.pending}
        return pulumi.Output.all(**values).apply(step.text)

    def _opts(self, node: NodePlan, depends_on: Sequence[pulumi.Resource], inputs: list[str]) -> pulumi.ResourceOptions:
        if node.spec.active:
            # A replacement must undo the old step before the new one runs: the other
            # order would apply a firewall or join and then remove or leave it again.
            return pulumi.ResourceOptions(parent=self, depends_on=list(depends_on), delete_before_replace=True)
        # Evicted: nothing changes, so nothing runs; removing it later leaves the node alone.
        return pulumi.ResourceOptions(
            parent=self, depends_on=list(depends_on), retain_on_delete=True, ignore_changes=inputs
        )

    def _command(
        self,
        node: NodePlan,
        step: StepScript,
        conn: command.remote.ConnectionArgs,
        depends_on: Sequence[pulumi.Resource],
        triggers: Sequence[Any] | None = None,
        *,
        name: str | None = None,
        known: Mapping[str, pulumi.Output[str]] | None = None,
    ) -> command.remote.Command:
        """``step`` run on ``node`` over ``conn``; ``known`` supplies its pending values (default: the network ID)."""
        return command.remote.Command(
            name or f"{self.name}-{node.name}-{step.name}",
            connection=conn,
            create=COMMANDS["create"],
            update=COMMANDS["update"],
            delete=COMMANDS["delete"],
            stdin=self._text(step, known),
            triggers=list(triggers) if triggers is not None else None,
            # Scripts print short progress lines and results, never secrets; verbose
            # tool output goes to a log file on the node.
            logging=command.remote.Logging.STDOUT_AND_STDERR,
            add_previous_output_in_env=False,
            opts=self._opts(node, depends_on, COMMAND_INPUTS),
        )

    def _install(
        self, node: NodePlan, conn: command.remote.ConnectionArgs
    ) -> tuple[command.remote.CopyToRemote, command.remote.Command]:
        bundle = command.remote.CopyToRemote(
            f"{self.name}-{node.name}-bundle",
            connection=conn,
            source=self.bundle,
            remote_path=REMOTE_BUNDLE,
            # A reimaged node (a new generation) needs the bundle again although its hash is the same.
            triggers=[node.spec.generation],
            opts=self._opts(node, [], COPY_INPUTS),
        )
        return bundle, self._command(node, node.install, conn, [bundle])

    def _chain(
        self,
        node: NodePlan,
        conn: command.remote.ConnectionArgs,
        bundle: command.remote.CopyToRemote,
        install: command.remote.Command,
    ) -> _Chain:
        member_id = install.stdout.apply(lambda out: node_address(out, node.name))
        member = self.controller.member(
            node.name,
            network_id=self.network_id,
            member_id=member_id,
            ip=node.ip,
            description=f"{node.spec.role} node of {self.plan.spec.network.name} (zerotier-cluster)",
            tags=member_tags(node.spec.role),
            authorized=node.spec.active,
        )
        before_join: list[pulumi.Resource] = [member, self._configured[node.name]]
        if self.moon is not None:
            # roots: head: the head joins once its moon restarted it, every other node once it orbits the head.
            moon, signed = self.moon
            before_join.append(
                moon
                if node.orbit is None
                else self._command(
                    node, node.orbit, conn, [self._configured[node.name], moon], known={PENDING_MOON: signed}
                )
            )
        join = self._command(node, node.join, conn, before_join)
        firewall = self._command(node, node.firewall, conn, [join]) if node.firewall is not None else None
        hosts = self._command(node, node.hosts, conn, [join])
        return _Chain(node, conn, bundle, install, member, member_id, join, firewall, hosts)

    def _verify(self, node: NodePlan, chain: _Chain, others: Sequence[pulumi.Resource]) -> command.remote.Command:
        """The node's verify step, once the nodes it must reach admit it."""
        own = [chain.ready, chain.hosts]
        # Re-verify whenever anything this node's connectivity depends on changes.
        texts = [s.text() for s in (node.join, node.firewall, node.hosts) if s is not None]
        return self._command(node, node.verify, chain.conn, own + list(others), [_digest(texts), self.network_id])

    # -- outputs ---------------------------------------------------------------

    def outputs(self) -> dict[str, Any]:
        """The values published as stack outputs (see README, "Outputs")."""
        plan = self.plan
        net = plan.spec.network
        return {
            "networkId": self.network_id,
            "controller": plan.spec.controller,
            "cidr": str(net.cidr),
            "addressSlice": str(net.address_slice),
            "pool": {"start": str(net.pool.start), "end": str(net.pool.end)} if net.pool else None,
            "headName": plan.head_name,
            "headIp": str(plan.head_ip),
            "nodes": {
                name: {
                    "ip": str(res.plan.ip),
                    "memberId": res.member_id,
                    "role": res.plan.spec.role,
                    "host": res.plan.spec.host,
                    "state": res.plan.spec.state,
                }
                for name, res in self.nodes.items()
            },
            "devices": {d.name: {"ip": str(a.ip), "memberId": d.address} for d, a in plan.devices},
            "hostsFile": plan.hosts_block,
            "mpiHostfile": plan.mpi_hostfile,
            "slurmNodes": plan.slurm_nodes,
            "slurmTopology": plan.slurm_topology,
            "overlayInterface": publish.interface_list(n.interface for n in plan.active),
        }


@dataclass(frozen=True)
class _Chain:
    """A node's resources up to (not including) verify, which needs other nodes' chains."""

    node: NodePlan
    conn: command.remote.ConnectionArgs
    bundle: command.remote.CopyToRemote
    install: command.remote.Command
    member: pulumi.Resource
    member_id: pulumi.Output[str]
    join: command.remote.Command
    firewall: command.remote.Command | None
    hosts: command.remote.Command

    @property
    def ready(self) -> command.remote.Command:
        return self.firewall or self.join

    def finish(self, verify: command.remote.Command) -> NodeResources:
        return NodeResources(
            self.node,
            self.bundle,
            self.install,
            self.member,
            self.member_id,
            self.join,
            self.firewall,
            self.hosts,
            verify,
        )


def _asset_path(path: Path) -> str:
    """The bundle's path as state records it: relative to the project when inside it."""
    absolute = path.resolve()
    try:
        return str(absolute.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(absolute)


def _digest(texts: Sequence[str]) -> str:
    return hashlib.sha256("\0".join(texts).encode()).hexdigest()
