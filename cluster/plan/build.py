"""Spec → plan: every node's address, steps and firewall ruleset, and the stack's bundle. Pure and deterministic."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import TypeVar

from cluster.conventions import NAMESPACE
from cluster.errors import ConfigError
from cluster.plan import publish, reach
from cluster.plan.addressing import Assignment, allocate
from cluster.plan.firewall import Firewall, overlay_interface, placement
from cluster.plan.localconf import MULTICORE_MIN_CORES, local_conf
from cluster.plan.network import cluster_rules, compact_json, network_settings
from cluster.plan.nft_eval import Ruleset
from cluster.plan.steps import (
    Bundle,
    FirewallParams,
    HostsParams,
    IdentityParams,
    InstallParams,
    JoinParams,
    LocalConfParams,
    MemberParams,
    MoonParams,
    NetworkParams,
    OrbitParams,
    ParamValue,
    Pending,
    StepParams,
    StepScript,
    VerifyParams,
)
from cluster.rules.model import NetworkRules, member_tags
from cluster.spec import ClusterSpec, DeviceSpec, NetworkSpec, NodeSpec

T = TypeVar("T", bound=StepParams)

#: Pending value: the network ID, when this stack does not know it before ``pulumi up``.
PENDING_NETWORK_ID = "networkId"
#: Pending value: a node's ZeroTier address, known once its identity step read it (a member step's subject).
PENDING_MEMBER = "memberAddress"
#: Pending value: the head's signed moon, known once its moon step printed it (``roots: head``).
PENDING_MOON = "moon"


@dataclass(frozen=True)
class NodePlan:
    """Everything one node receives."""

    spec: NodeSpec
    assignment: Assignment
    install: StepScript[InstallParams]
    #: Reads the node's ZeroTier address (its member's subject) after install; see ``cluster/scripts/identity.sh``.
    identity: StepScript[IdentityParams]
    join: StepScript[JoinParams]
    #: None with firewall mode ``off``.
    firewall: StepScript[FirewallParams] | None
    hosts: StepScript[HostsParams]
    verify: StepScript[VerifyParams]
    #: Exactly what ``nft -f`` loads on the node; None with firewall mode ``off``.
    ruleset: str | None
    #: The overlay interface's name, pinned through ZeroTier's devicemap.
    interface: str
    #: The nodes whose firewall must admit this one before its verify can pass.
    verifies: tuple[str, ...]
    #: The node's local.conf entries (``zerotier-cluster:zerotier``), written before it joins.
    localconf: StepScript[LocalConfParams]
    #: With ``roots: head``, every node but the head keeps the head's moon before it joins.
    orbit: StepScript[OrbitParams] | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def ip(self) -> IPv4Address:
        return self.assignment.ip

    @property
    def steps(self) -> tuple[StepScript[StepParams], ...]:
        """The steps in the order they run."""
        steps = (
            self.install,
            self.identity,
            self.localconf,
            self.orbit,
            self.join,
            self.firewall,
            self.hosts,
            self.verify,
        )
        return tuple(s for s in steps if s is not None)


@dataclass(frozen=True)
class Plan:
    """The whole cluster, ready to declare or to render for review."""

    spec: ClusterSpec
    nodes: tuple[NodePlan, ...]
    devices: tuple[tuple[DeviceSpec, Assignment], ...]
    head_name: str
    head_ip: IPv4Address
    hosts_block: str
    mpi_hostfile: str
    slurm_nodes: str
    #: topology.conf lines: a switch per site under one top switch (``slurmTopology``).
    slurm_topology: str
    #: Every program any node runs, shipped once per node.
    bundle: Bundle
    #: The network's ZeroTier rules (anti-spoofing, roles), for whichever controller declares it.
    rules: NetworkRules
    #: ``controller: head``: the network on the head's controller, and every member's authorization there.
    controller: HeadControllerPlan | None = None
    #: ``roots: head``: the head's moon (the other nodes' ``orbit`` steps place it).
    moon: StepScript[MoonParams] | None = None
    #: Every node's and device's member, as the controller authorizes it.
    members: tuple[MemberSettings, ...] = ()
    #: Every reachability assertion (``zerotier-cluster:policy`` and the threat model's), each borne out.
    reach: tuple[reach.Result, ...] = ()

    @property
    def network_id(self) -> str | None:
        """The network ID when the config names it; None until a created network exists."""
        net = self.spec.network
        return net.network_id if net.from_stack is None else None

    @property
    def active(self) -> tuple[NodePlan, ...]:
        return tuple(n for n in self.nodes if n.spec.active)

    def displaced(self) -> list[Assignment]:
        """Members not at their first-choice address: pin them to make them permanent."""
        members = [n.assignment for n in self.nodes] + [a for _, a in self.devices]
        return [a for a in members if a.displaced_by is not None]


@dataclass(frozen=True)
class HeadControllerPlan:
    """What runs on the head when it is the network's controller (see ``cluster/scripts/controller.sh``)."""

    network: StepScript[NetworkParams]
    #: One step per node and device, by name: its authorization (or deauthorization, when evicted).
    members: tuple[StepScript[MemberParams], ...]

    def member(self, name: str) -> StepScript[MemberParams]:
        found = [m for m in self.members if m.node == name]
        assert len(found) == 1, f"{len(found)} member steps named {name}"
        return found[0]


@dataclass(frozen=True)
class MemberSettings:
    """A member as either controller authorizes it: a static address, no auto-assignment, its role tag.

    ``address`` is a device's from config, or :data:`PENDING_MEMBER` for a
    node (known once its install reported it); ``authorized`` is False for an
    evicted node, which keeps its member and address but is shut out.
    """

    name: str
    address: ParamValue
    ip: IPv4Address
    description: str
    tags: tuple[tuple[int, int], ...]
    authorized: bool = True


def members(spec: ClusterSpec, addresses: Mapping[str, Assignment]) -> tuple[MemberSettings, ...]:
    """Every node's member, then every device's, in config order."""
    net = spec.network.name
    nodes = [
        MemberSettings(
            n.name,
            Pending(PENDING_MEMBER),
            addresses[n.name].ip,
            f"{n.role} node of {net} ({NAMESPACE})",
            member_tags(n.role),
            authorized=n.active,
        )
        for n in spec.nodes
    ]
    devices = [
        MemberSettings(
            d.name, d.address, addresses[d.name].ip, d.description or f"operator device on {net}", member_tags("device")
        )
        for d in spec.devices
    ]
    return tuple(nodes + devices)


def member_step(member: MemberSettings) -> StepScript[MemberParams]:
    """A member's authorization on the head's controller (``cluster/scripts/controller.sh``)."""
    settings = {
        "name": member.name,
        "authorized": member.authorized,
        "activeBridge": False,
        "noAutoAssignIps": True,
        "ipAssignments": [str(member.ip)],
        "tags": [list(t) for t in member.tags],
    }
    return StepScript(member.name, 0, MemberParams(Pending(PENDING_NETWORK_ID), member.address, compact_json(settings)))


def _head_controller(
    spec: ClusterSpec, head: NodeSpec, rules: NetworkRules, settings: Sequence[MemberSettings]
) -> HeadControllerPlan:
    return HeadControllerPlan(network_step(head, spec.network, rules), tuple(member_step(m) for m in settings))


def network_step(head: NodeSpec, net: NetworkSpec, rules: NetworkRules) -> StepScript[NetworkParams]:
    """The network's creation (and update, and deletion) on the head's controller."""
    return StepScript(
        head.name, head.generation, NetworkParams(Pending(PENDING_NETWORK_ID), network_settings(net, rules))
    )


def build_plan(spec: ClusterSpec) -> Plan:
    """Turns a validated spec into the plan; raises ConfigError only for address exhaustion."""
    addresses = allocate(spec)
    head = spec.head
    if head is not None:
        head_name, head_ip = head.name, addresses[head.name].ip
    else:
        assert spec.remote_head is not None
        head_name, head_ip = spec.remote_head.name, spec.remote_head.ip

    # Evicted nodes keep their address (nobody else may take it) but nobody lists, trusts or verifies them.
    entries: list[publish.Entry] = [(n.name, addresses[n.name].ip, n.role) for n in spec.active_nodes]
    if spec.remote_head is not None:
        entries.insert(0, (spec.remote_head.name, spec.remote_head.ip, "head"))
    entries += [(d.name, addresses[d.name].ip, "device") for d in spec.devices]
    hosts_block = publish.hosts_block(spec.network.name, entries)

    firewall = Firewall(spec, {name: a.ip for name, a in addresses.items()}, head_ip)
    interface = overlay_interface(spec.network)
    network_id: ParamValue = spec.network.network_id or Pending(PENDING_NETWORK_ID)
    if spec.network.from_stack is not None:
        network_id = Pending(PENDING_NETWORK_ID)
    prov = spec.provision
    install = InstallParams(
        zerotier_version=prov.zerotier_version,
        installer_url=prov.installer_url,
        signing_key_url=prov.signing_key_url,
        signing_key_fingerprint=prov.signing_key_fingerprint,
        uninstall_on_destroy="true" if prov.uninstall_on_destroy else "false",
    )
    hosts = HostsParams(hosts_tag=spec.network.name, hosts_block=hosts_block)
    others = tuple(n.name for n in spec.active_nodes if n.role != "head")
    direct = "true" if prov.require_direct else "false"
    mtu = str(spec.network.mtu)
    verify_targets = {
        "head": VerifyParams(
            "head", "".join(f"{n} {addresses[n].ip}\n" for n in others), str(prov.verify_timeout), direct, mtu
        ),
        "compute": VerifyParams("compute", f"{head_name} {head_ip}\n", str(prov.verify_timeout), direct, mtu),
    }

    moon = orbit = None
    if spec.roots == "head":
        assert head is not None  # checks.py: roots head needs a head, and an endpoint when its host is no IP
        endpoint = str(spec.root_endpoint or head.host)
        moon = StepScript(head.name, head.generation, MoonParams(f"{endpoint}/{spec.firewall.zerotier_port}"))
        orbit = OrbitParams(Pending(PENDING_MOON))

    dp = spec.dataplane

    def localconf(node: NodeSpec) -> LocalConfParams:
        return LocalConfParams(
            settings=local_conf(dp, dp.site(spec.site_of(node))),
            multicore=dp.multicore,
            concurrency="" if dp.concurrency is None else str(dp.concurrency),
            min_cores=str(MULTICORE_MIN_CORES),
        )

    nodes = []
    for node in spec.nodes:
        ip = addresses[node.name].ip

        def step(params: T, node: NodeSpec = node) -> StepScript[T]:
            return StepScript(node.name, node.generation, params)

        ruleset = None
        firewall_step = None
        if spec.firewall.mode != "off":
            ruleset = firewall.ruleset(node)
            firewall_step = step(firewall.params(node, ruleset))
        nodes.append(
            NodePlan(
                spec=node,
                assignment=addresses[node.name],
                install=step(install),
                identity=step(IdentityParams()),
                join=step(
                    JoinParams(
                        network_id=network_id,
                        overlay_ip=str(ip),
                        overlay_prefix=str(spec.network.cidr.prefixlen),
                        interface=interface,
                        join_timeout=str(prov.join_timeout),
                    )
                ),
                firewall=firewall_step,
                hosts=step(hosts),
                verify=step(verify_targets[node.role]),
                ruleset=ruleset,
                interface=interface,
                verifies=others if node.role == "head" else (head_name,),
                orbit=step(orbit) if orbit is not None and node.role != "head" else None,
                localconf=step(localconf(node)),
            )
        )
    rules = cluster_rules(spec)
    results = reach.check(
        spec, rules.rules, {name: a.ip for name, a in addresses.items()}, _destinations(spec, nodes, interface)
    )
    if failed := reach.problems(results):
        raise ConfigError(failed)
    settings = members(spec, addresses)
    controller = _head_controller(spec, head, rules, settings) if spec.controller == "head" and head else None
    extra: list[StepScript[StepParams]] = [moon] if moon is not None else []
    extra += [controller.network, *controller.members] if controller is not None else []

    return Plan(
        spec=spec,
        nodes=tuple(nodes),
        devices=tuple((d, addresses[d.name]) for d in spec.devices),
        head_name=head_name,
        head_ip=head_ip,
        hosts_block=hosts_block,
        mpi_hostfile=publish.mpi_hostfile(entries),
        slurm_nodes=publish.slurm_nodes(entries),
        slurm_topology=publish.slurm_topology(
            [(n.name, spec.site_of(n)) for n in spec.active_nodes if n.role == "compute"]
        ),
        bundle=Bundle.of([s.program for n in nodes for s in n.steps] + [s.program for s in extra]),
        rules=rules,
        controller=controller,
        moon=moon,
        members=settings,
        reach=tuple(results),
    )


def _destinations(spec: ClusterSpec, nodes: Sequence[NodePlan], interface: str) -> list[reach.Destination]:
    """Every active node as the reachability check sees it, each distinct ruleset loaded once."""
    p = placement(spec)
    stand_in = reach.integrate_stand_in(p.family, p.table, p.hook_chain or "") if p.mode == "integrate" else ""
    loaded: dict[str, Ruleset] = {}
    out = []
    for node in nodes:
        if not node.spec.active:
            continue
        ruleset = None
        if node.ruleset is not None:
            if node.ruleset not in loaded:
                loaded[node.ruleset] = Ruleset.load(*([stand_in] if stand_in else []), node.ruleset)
            ruleset = loaded[node.ruleset]
        out.append(
            reach.Destination(
                node.name, node.spec.role, node.ip, node.spec.listen_port, interface, ruleset, bool(stand_in)
            )
        )
    return out
