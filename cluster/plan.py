"""Spec → plan: every node's address, scripts and firewall ruleset. Pure and deterministic."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address

from . import publish
from .addressing import Assignment, allocate
from .firewall import Firewall
from .spec import ClusterSpec, DeviceSpec, NodeSpec
from .steps import ParamValue, Pending, StepScript

#: The pending value ``join`` needs when this stack does not know the network ID yet.
NETWORK_ID = "networkId"


@dataclass(frozen=True)
class NodePlan:
    """Everything one node receives."""

    node: NodeSpec
    assignment: Assignment
    #: The steps in the order they run (no ``firewall`` step with firewall mode ``off``).
    steps: tuple[StepScript, ...]
    #: Exactly what ``nft -f`` loads on the node; None with firewall mode ``off``.
    ruleset: str | None
    #: The overlay interface: a name pinned through devicemap, or the ``zt*`` pattern.
    interface: str

    @property
    def ip(self) -> IPv4Address:
        return self.assignment.ip

    def step(self, name: str) -> StepScript:
        return next(s for s in self.steps if s.step == name)


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

    @property
    def network_id(self) -> str | None:
        """The network ID when the config names it; None until a created network exists."""
        net = self.spec.network
        return net.network_id if net.from_stack is None else None

    def displaced(self) -> list[Assignment]:
        """Members not at their first-choice address: pin them to make them permanent."""
        members = [n.assignment for n in self.nodes] + [a for _, a in self.devices]
        return [a for a in members if a.displaced_by is not None]


def build_plan(spec: ClusterSpec) -> Plan:
    """Turns a validated spec into the plan; raises ConfigError only for address exhaustion."""
    addresses = allocate(spec)
    head = spec.head
    if head is not None:
        head_name, head_ip = head.name, addresses[head.name].ip
    else:
        assert spec.remote_head is not None
        head_name, head_ip = spec.remote_head.name, spec.remote_head.ip

    entries: list[publish.Entry] = [(n.name, addresses[n.name].ip, n.role) for n in spec.nodes]
    if spec.remote_head is not None:
        entries.insert(0, (spec.remote_head.name, spec.remote_head.ip, "head"))
    entries += [(d.name, addresses[d.name].ip, "device") for d in spec.devices]
    hosts_block = publish.hosts_block(spec.network.name, entries)

    firewall = Firewall(spec, {name: a.ip for name, a in addresses.items()}, head_ip)
    interface = spec.network.interface or "zt*"
    network_id: ParamValue = spec.network.network_id or Pending(NETWORK_ID)
    if spec.network.from_stack is not None:
        network_id = Pending(NETWORK_ID)
    prov = spec.provision
    install_params: tuple[tuple[str, ParamValue], ...] = (
        ("ZTC_ZEROTIER_VERSION", prov.zerotier_version),
        ("ZTC_INSTALLER_URL", prov.installer_url),
        ("ZTC_SIGNING_KEY_URL", prov.signing_key_url),
        ("ZTC_SIGNING_KEY_FINGERPRINT", prov.signing_key_fingerprint),
        ("ZTC_UNINSTALL_ON_DESTROY", "true" if prov.uninstall_on_destroy else "false"),
    )
    compute_targets = f"{head_name} {head_ip}\n"
    head_targets = "".join(f"{n.name} {addresses[n.name].ip}\n" for n in spec.nodes if n.role != "head")

    nodes = []
    for node in spec.nodes:
        ip = addresses[node.name].ip
        common: tuple[tuple[str, ParamValue], ...] = (("ZTC_NODE", node.name),)
        steps = [
            StepScript("install", node.name, common + install_params),
            StepScript(
                "join",
                node.name,
                (
                    *common,
                    ("ZTC_NETWORK_ID", network_id),
                    ("ZTC_OVERLAY_IP", str(ip)),
                    ("ZTC_OVERLAY_PREFIX", str(spec.network.cidr.prefixlen)),
                    ("ZTC_INTERFACE", spec.network.interface or ""),
                    ("ZTC_JOIN_TIMEOUT", str(prov.join_timeout)),
                ),
            ),
        ]
        ruleset = None
        if spec.firewall.mode != "off":
            ruleset = firewall.ruleset(node)
            steps.append(StepScript("firewall", node.name, common + firewall.params(node, ruleset)))
        steps.append(
            StepScript(
                "hosts",
                node.name,
                (*common, ("ZTC_HOSTS_TAG", spec.network.name), ("ZTC_HOSTS_BLOCK", hosts_block)),
            )
        )
        steps.append(
            StepScript(
                "verify",
                node.name,
                (
                    *common,
                    ("ZTC_ROLE", node.role),
                    ("ZTC_TARGETS", head_targets if node.role == "head" else compute_targets),
                    ("ZTC_VERIFY_TIMEOUT", str(prov.verify_timeout)),
                ),
            )
        )
        nodes.append(NodePlan(node, addresses[node.name], tuple(steps), ruleset, interface))

    return Plan(
        spec=spec,
        nodes=tuple(nodes),
        devices=tuple((d, addresses[d.name]) for d in spec.devices),
        head_name=head_name,
        head_ip=head_ip,
        hosts_block=hosts_block,
        mpi_hostfile=publish.mpi_hostfile(entries),
        slurm_nodes=publish.slurm_nodes(entries),
    )
