"""The Pulumi component: the plan's declarations turned into ZeroTier resources and remote commands.

This is the only module (with ``controller`` and ``connection``) that knows
Pulumi resource types, and it decides nothing about what is declared: it
walks :func:`cluster.plan.declarations.declarations` and turns each entry into
one resource (its name, its dependencies, its options and the values only
``pulumi up`` learns all come from the entry). Per node the chain is::

    bundle ──► install ──► identity ──► member ──► join ──► firewall ──► verify
                                                     └───► hosts ─────────┘

``bundle`` copies the stack's programs to the node (a file asset: state keeps
its path and hash, not its bytes); each command's stdin then names its
program by hash (see ``cluster/plan/steps.py``). The member needs the address
the identity step reads, so a node is authorized before its first join; how
each change plays out (what is replaced, what a preview shows) is the
declarations' lifecycle data under the engine's rules (``tests/engine.py``).

An evicted node (``state: evicted``) keeps its resources declared, unchanged
and retained on delete, so Pulumi never contacts it again, while its member
is deauthorized through the controller alone.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_command as command

from cluster.conventions import COMPONENT_TYPE, ZT_ADDRESS
from cluster.declare.connection import connection, refused_host_keys
from cluster.declare.controller import CentralController, Controller, HeadController
from cluster.errors import ConfigError
from cluster.plan import publish
from cluster.plan.build import Plan, build_plan
from cluster.plan.declarations import (
    NETWORK,
    AuthorizeMember,
    CopyBundle,
    Declaration,
    DeclareNetwork,
    RunStep,
    declarations,
)
from cluster.plan.steps import COMMANDS, Pending, StepParams, StepScript
from cluster.spec import ClusterSpec

#: Where bundles are written instead (tests and CI point it outside the repository).
BUNDLE_DIR_ENV = "ZEROTIER_CLUSTER_BUNDLE_DIR"
SIGNED_MOON = re.compile(r"000000[0-9a-f]{10}\.moon [A-Za-z0-9+/]+=*")


def _last_line(stdout: str, pattern: re.Pattern[str], problem: str) -> str:
    """A step's result: its last line of output, which must match ``pattern``, else ``problem`` (with the line)."""
    lines = stdout.strip().splitlines()
    last = lines[-1].strip() if lines else ""
    if not pattern.fullmatch(last):
        raise pulumi.RunError(problem.format(last=repr(last[:80])))
    return last


def node_address(stdout: str, node: str) -> str:
    """The ZeroTier address the identity step printed on its last line."""
    return _last_line(
        stdout,
        ZT_ADDRESS,
        f"the identity step on {node} did not report a ZeroTier address (last line: {{last}}); "
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
class NodeOutputs:
    """One node as the stack outputs show it."""

    ip: str
    #: Its ZeroTier address, as its identity step read it.
    member_id: pulumi.Output[str]
    role: str
    host: pulumi.Input[str]
    state: str


@dataclass(frozen=True)
class OverlayOutputs:
    """What the component publishes (README, "Outputs"); :meth:`exports` gives the stack outputs' names."""

    network_id: pulumi.Output[str]
    controller: str
    cidr: str
    address_slice: str
    pool: Mapping[str, str] | None
    head_name: str
    head_ip: str
    nodes: Mapping[str, NodeOutputs]
    devices: Mapping[str, Mapping[str, str]]
    hosts_file: str
    mpi_hostfile: str
    slurm_nodes: str
    slurm_topology: str
    overlay_interface: str

    def exports(self) -> dict[str, Any]:
        """The stack outputs, by their published names."""
        return {
            "networkId": self.network_id,
            "controller": self.controller,
            "cidr": self.cidr,
            "addressSlice": self.address_slice,
            "pool": dict(self.pool) if self.pool is not None else None,
            "headName": self.head_name,
            "headIp": self.head_ip,
            "nodes": {
                name: {"ip": n.ip, "memberId": n.member_id, "role": n.role, "host": n.host, "state": n.state}
                for name, n in self.nodes.items()
            },
            "devices": {name: dict(d) for name, d in self.devices.items()},
            "hostsFile": self.hosts_file,
            "mpiHostfile": self.mpi_hostfile,
            "slurmNodes": self.slurm_nodes,
            "slurmTopology": self.slurm_topology,
            "overlayInterface": self.overlay_interface,
        }


class Overlay(pulumi.ComponentResource):
    """An HPC cluster on a private ZeroTier network: members authorized, nodes provisioned.

    ``spec`` is usually built from stack config (:func:`cluster.declare.program.build`),
    but a program can construct it with hosts that are Outputs of other
    resources (a cloud VM's address), see ``examples/``. Every resource comes
    from one entry of :func:`cluster.plan.declarations.declarations`, in its order.
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
        opts: pulumi.ResourceOptions | None = None,
        plan: Plan | None = None,
    ) -> None:
        """``network_id`` supplies the ID of a network another stack owns (``network.fromStack``).

        ``plan`` is ``spec``'s plan when the caller built it already (to be
        refused before it declared anything of its own); else it is built here.

        ``central_token`` is needed with ``controller: central`` only. The
        stack's bundle is written to ``$ZEROTIER_CLUSTER_BUNDLE_DIR``, else
        ``.zerotier-cluster/bundles`` in the project directory (relative, so
        every operator's state names the same path).
        """
        refused = refused_host_keys(spec.nodes)
        if refused:  # before anything is declared
            raise ConfigError(refused)
        # The plan first: a config it refuses (an assertion the rules break) declares nothing, not even this.
        assert plan is None or plan.spec is spec, "the plan is the spec's"
        self.plan: Plan = plan if plan is not None else build_plan(spec)
        super().__init__(COMPONENT_TYPE, name, None, opts)
        self.name = name
        self.declarations = declarations(self.plan)
        bundle_dir = Path(os.environ.get(BUNDLE_DIR_ENV) or ".zerotier-cluster/bundles")
        self.bundle = pulumi.FileAsset(_asset_path(self.plan.bundle.write(bundle_dir)))
        self.connections = {n.name: connection(n.spec, ssh_private_key) for n in self.plan.nodes}
        if self.plan.spec.controller == "central":
            assert central_token is not None, "controller central needs the Central token"
            self.controller: Controller = CentralController(name, self, central_token)
        else:
            self.controller = HeadController(self._command)
        #: Each declared entry's resource, and the values entries supply to others (see ``Need``).
        self.resources: dict[str, pulumi.Resource] = {}
        self.results: dict[str, pulumi.Output[str]] = {}
        if not any(isinstance(d, DeclareNetwork) for d in self.declarations):
            # Another stack's network (fromStack), or one this stack does not manage: its ID is given.
            given = network_id if network_id is not None else spec.network.network_id
            assert given is not None, "network.fromStack needs the owning stack's network ID (network_id)"
            self.results[NETWORK] = pulumi.Output.from_input(given)
        elif network_id is not None:
            raise ValueError("network_id is for a network another stack owns; this config declares its own")
        for entry in self.declarations:
            self._declare(entry)
        self.network_id = self.results[NETWORK]
        self.outputs = self._outputs()
        self.register_outputs(self.outputs.exports())

    # -- declaration ---------------------------------------------------------

    def _declare(self, entry: Declaration) -> None:
        """One entry, one resource; an identity step's, a moon's and a network's result is kept for those after."""
        known = {need.value: _suffixed(self.results[need.source], need.suffix) for need in entry.needs}
        after = [self.resources[name] for name in entry.after]
        match entry:
            case CopyBundle():
                resource: pulumi.Resource = command.remote.CopyToRemote(
                    f"{self.name}-{entry.name}",
                    connection=self.connections[entry.host],
                    source=self.bundle,
                    remote_path=entry.remote_path,
                    triggers=_triggers(entry, known),
                    opts=self._opts(entry, after),
                )
            case RunStep():
                resource = self._command(entry, entry.script, known, self._opts(entry, after))
            case DeclareNetwork():
                resource, self.results[NETWORK] = self.controller.network(entry, known, self._opts(entry, after))
            case AuthorizeMember():
                resource = self.controller.member(entry, known, self._opts(entry, after))
        self.resources[entry.name] = resource
        if isinstance(resource, command.remote.Command) and entry.step == "identity":
            self.results[entry.name] = _address(resource, entry.node)
        elif isinstance(resource, command.remote.Command) and entry.step == "moon":
            self.results[entry.name] = resource.stdout.apply(signed_moon)

    def _opts(self, entry: Declaration, depends_on: Sequence[pulumi.Resource]) -> pulumi.ResourceOptions:
        """The entry's lifecycle as resource options; every resource is the component's child."""
        life = entry.lifecycle
        return pulumi.ResourceOptions(
            parent=self,
            depends_on=list(depends_on) or None,
            delete_before_replace=life.delete_before_replace or None,
            retain_on_delete=life.retain_on_delete or None,
            ignore_changes=list(life.ignore_changes) or None,
            replace_on_changes=list(life.replace_on_changes) or None,
            import_=life.import_id,
        )

    def _command(
        self,
        entry: RunStep | DeclareNetwork | AuthorizeMember,
        script: StepScript[StepParams],
        known: Mapping[str, pulumi.Output[str]],
        opts: pulumi.ResourceOptions,
    ) -> command.remote.Command:
        """``script`` run on the entry's host; ``known`` supplies its pending values and triggers."""
        assert entry.host is not None
        triggers = _triggers(entry, known)
        actions = entry.actions if isinstance(entry, RunStep) else COMMANDS.keys()
        return command.remote.Command(
            f"{self.name}-{entry.name}",
            connection=self.connections[entry.host],
            create=COMMANDS["create"],
            update=COMMANDS["update"] if "update" in actions else None,
            delete=COMMANDS["delete"] if "delete" in actions else None,
            stdin=_text(script, known),
            triggers=triggers,
            # Scripts print short progress lines and results, never secrets; verbose
            # tool output goes to a log file on the node.
            logging=command.remote.Logging.STDOUT_AND_STDERR,
            add_previous_output_in_env=False,
            opts=opts,
        )

    # -- outputs ---------------------------------------------------------------

    def _outputs(self) -> OverlayOutputs:
        plan = self.plan
        net = plan.spec.network
        return OverlayOutputs(
            network_id=self.network_id,
            controller=plan.spec.controller,
            cidr=str(net.cidr),
            address_slice=str(net.address_slice),
            pool={"start": str(net.pool.start), "end": str(net.pool.end)} if net.pool else None,
            head_name=plan.head_name,
            head_ip=str(plan.head_ip),
            nodes={
                n.name: NodeOutputs(
                    str(n.ip), self.results[f"{n.name}-identity"], n.spec.role, n.spec.host, n.spec.state
                )
                for n in plan.nodes
            },
            devices={d.name: {"ip": str(a.ip), "memberId": d.address} for d, a in plan.devices},
            hosts_file=plan.hosts_block,
            mpi_hostfile=plan.mpi_hostfile,
            slurm_nodes=plan.slurm_nodes,
            slurm_topology=plan.slurm_topology,
            overlay_interface=publish.interface_list(n.interface for n in plan.active),
        )


def _triggers(entry: Declaration, known: Mapping[str, pulumi.Output[str]]) -> list[Any] | None:
    """The entry's triggers, pending ones filled in from ``known``."""
    if entry.triggers is None:
        return None
    return [known[t.name] if isinstance(t, Pending) else t for t in entry.triggers]


def _suffixed(value: pulumi.Output[str], suffix: str) -> pulumi.Output[str]:
    return value.apply(lambda v: v + suffix) if suffix else value


def _address(identity: command.remote.Command, node: str) -> pulumi.Output[str]:
    return identity.stdout.apply(lambda out: node_address(out, node))


def _text(step: StepScript[StepParams], known: Mapping[str, pulumi.Output[str]]) -> pulumi.Input[str]:
    """The step's stdin; values only ``pulumi up`` knows make it an Output."""
    if not step.pending:
        return step.text()
    values = {name: known[name] for name in step.pending}
    return pulumi.Output.all(**values).apply(step.text)


def _asset_path(path: Path) -> str:
    """The bundle's path as state records it: relative to the project when inside it."""
    absolute = path.resolve()
    try:
        return str(absolute.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(absolute)
