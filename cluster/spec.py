"""The validated description of a cluster overlay: plain, immutable values.

Everything downstream (addressing, scripts, firewall rulesets, the Pulumi
resources) is a pure function of a :class:`ClusterSpec`. Nothing here talks to
Pulumi's engine; the only Pulumi-shaped values allowed in are a node's
connection details (``host``, ``user``, ``private_key``), which may come from
another resource (a cloud VM's address) and which the core treats as opaque.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, IPv6Network
from typing import TYPE_CHECKING, Literal, TypeAlias

from cluster.rules.model import RulesSpec
from cluster.rules.policy import DevicesAccess

if TYPE_CHECKING:
    import pulumi

Role = Literal["head", "compute"]
ROLES: tuple[Role, ...] = ("head", "compute")

#: A connection value: a literal, or an Output of another resource (never inspected by the core).
Deferrable: TypeAlias = "str | pulumi.Output[str]"

#: Where a node's SSH sessions may come from, as seen by the node.
SourceNet: TypeAlias = IPv4Network | IPv6Network

FirewallMode = Literal["enforce", "integrate", "off"]
ComputeSsh = Literal["anywhere", "head-and-overlay"]
DeviceAccess = DevicesAccess
#: Who controls the network: ZeroTier Central (an API token) or the head's own zerotier-one.
ControllerKind = Literal["central", "head"]
#: Which roots nodes find each other through: ZeroTier's public planet, or the head as a moon.
RootsKind = Literal["public", "head"]


#: ZeroTier's own default network MTU (``zerotier-cli -j listnetworks``).
DEFAULT_MTU = 2800


@dataclass(frozen=True)
class Pool:
    """The range ZeroTier Central may auto-assign from (inclusive)."""

    start: IPv4Address
    end: IPv4Address

    def __contains__(self, ip: object) -> bool:
        return isinstance(ip, IPv4Address) and self.start <= ip <= self.end


@dataclass(frozen=True)
class NetworkSpec:
    """The ZeroTier network and the part of its address space this stack hands out."""

    name: str
    cidr: IPv4Network
    description: str = "HPC cluster overlay managed by zerotier-cluster (Pulumi)"
    pool: Pool | None = None
    #: This stack's slice of ``cidr``: every address it assigns lies inside.
    slice: IPv4Network | None = None
    #: An existing network to use instead of creating one.
    network_id: str | None = None
    #: With ``network_id``: adopt it (import, keep on destroy) or only use it.
    manage: bool = True
    #: Adopt the network with whatever settings Central has (the import cannot fail on a mismatch)
    #: and leave them alone; without it the config's settings are applied.
    keep_settings: bool = False
    #: A stack (``org/project/stack``) that owns the network; its outputs name it.
    from_stack: str | None = None
    #: Interface name pinned through ZeroTier's ``devicemap``; None keeps ``zt…`` names.
    interface: str | None = None
    #: The network's MTU (every member's overlay interface): set by ``controller: head``.
    mtu: int = DEFAULT_MTU

    @property
    def address_slice(self) -> IPv4Network:
        return self.slice if self.slice is not None else self.cidr

    @property
    def owned(self) -> bool:
        """Whether this stack declares (creates or adopts) the Network resource."""
        return self.from_stack is None and (self.network_id is None or self.manage)


@dataclass(frozen=True)
class Proxy:
    """A jump host (bastion) that SSH sessions to a node go through."""

    host: str
    user: str
    port: int = 22
    #: Expected SSH host key of the jump host; None accepts any key (``proxy: head`` takes the head's).
    host_key: str | None = None


@dataclass(frozen=True)
class NodeSpec:
    """One machine that gets ZeroTier installed, joined, firewalled and verified."""

    name: str
    role: Role
    host: Deferrable
    user: Deferrable
    port: int = 22
    #: Static overlay address; None means one is allocated.
    ip: IPv4Address | None = None
    proxy: Proxy | None = None
    #: Expected SSH host key (``ssh-ed25519 AAAA…``); None accepts any key.
    host_key: str | None = None
    #: Per-node private key (a Pulumi secret); None uses the stack's key or an agent.
    private_key: pulumi.Input[str] | None = field(default=None, compare=False, repr=False)
    #: The port sshd listens on as seen by the node (differs from ``port`` behind NAT).
    sshd_port: int | None = None
    #: ``evicted``: deauthorized and dropped from every other node's view; never contacted again.
    state: Literal["active", "evicted"] = "active"
    #: Raised after a node is reimaged: its chain runs again from install (a new identity, a new member).
    generation: int = 0
    #: Where this node came from, for error messages (``zerotier-cluster:nodes[2]``).
    origin: str = ""
    #: The site (machine room, cloud region) it sits in; None: the stack's name (see :func:`site_of`).
    site: str | None = None

    @property
    def listen_port(self) -> int:
        return self.sshd_port if self.sshd_port is not None else self.port

    @property
    def active(self) -> bool:
        return self.state == "active"


@dataclass(frozen=True)
class DeviceSpec:
    """An operator device (laptop, workstation) authorized on the overlay, never provisioned."""

    name: str
    #: The device's 10-hex-digit ZeroTier address (``zerotier-cli info``).
    address: str
    ip: IPv4Address | None = None
    description: str = ""
    origin: str = ""


@dataclass(frozen=True)
class PortRule:
    """An inbound opening: protocol, a port range, optional source networks."""

    protocol: Literal["tcp", "udp"]
    first: int
    last: int
    #: Source networks; empty means any source.
    sources: tuple[SourceNet, ...] = ()

    def __str__(self) -> str:
        ports = str(self.first) if self.first == self.last else f"{self.first}-{self.last}"
        return f"{self.protocol}/{ports}"


@dataclass(frozen=True)
class IntegrateTarget:
    """An operator-owned chain the program hooks its accepts into (``integrate`` mode)."""

    family: str
    table: str
    chain: str


@dataclass(frozen=True)
class FirewallSpec:
    """What every node's nftables ruleset admits."""

    mode: FirewallMode = "enforce"
    #: The nftables table the program owns (``enforce``) or its chain's name (``integrate``).
    table: str = "zerotier_cluster"
    integrate: IntegrateTarget | None = None
    zerotier_port: int = 9993
    #: Sources allowed to reach the management SSH port; empty means anywhere.
    ssh_from: tuple[SourceNet, ...] = ()
    compute_ssh: ComputeSsh = "anywhere"
    #: The head's own (underlay) addresses as compute nodes see them.
    head_addresses: tuple[SourceNet, ...] = ()
    #: Overlay traffic between members: None admits all of it, else only these openings.
    cluster_ports: tuple[PortRule, ...] | None = None
    #: Extra inbound openings per role (e.g. a login service on the head).
    openings: tuple[tuple[Role, tuple[PortRule, ...]], ...] = ()
    #: Overlay ranges trusted like members (other stacks' slices on a shared network).
    peers: tuple[IPv4Network, ...] = ()
    devices: DeviceAccess = "ssh"

    def openings_for(self, role: Role) -> tuple[PortRule, ...]:
        return next((rules for r, rules in self.openings if r == role), ())


@dataclass(frozen=True)
class ProvisionSpec:
    """How nodes install and join ZeroTier."""

    zerotier_version: str = "1.14.1"
    join_timeout: int = 180
    verify_timeout: int = 60
    #: ``verify.requireDirect``: verify fails when a target is reached only through a ZeroTier relay.
    require_direct: bool = False
    uninstall_on_destroy: bool = False
    installer_url: str = "https://install.zerotier.com/"
    #: OpenPGP fingerprint of ZeroTier's release signing key (contact@zerotier.com).
    signing_key_fingerprint: str = "74A5E9C458E1A431F1DA57A71657198823E52A61"
    signing_key_url: str = (
        "https://raw.githubusercontent.com/zerotier/ZeroTierOne/master/doc/contact%40zerotier.com.gpg"
    )


#: ``zerotier.multicore``: ``auto`` chooses from the node's core count (``cluster/scripts/localconf.sh``).
Multicore = Literal["auto", "true", "false"]


@dataclass(frozen=True)
class PhysicalPath:
    """One ``physical`` entry of local.conf: how ZeroTier treats underlay addresses inside ``cidr``."""

    cidr: SourceNet
    #: UDP payload size on this path (ZeroTier's default is 1432); None leaves ZeroTier's.
    mtu: int | None = None
    #: ZeroTier never uses addresses in ``cidr`` (a management or IPMI network).
    blacklist: bool = False
    #: Both ends set the same ID: ZeroTier sends without encryption or authentication (a trusted fabric).
    trusted_path_id: int | None = None


@dataclass(frozen=True)
class SiteSpec:
    """A site's underlay as ZeroTier should treat it."""

    name: str
    physical: tuple[PhysicalPath, ...] = ()


@dataclass(frozen=True)
class DataplaneSpec:
    """``zerotier-cluster:zerotier``: every node's local.conf settings, and the sites."""

    multicore: Multicore = "auto"
    #: Threads with multicore; None lets the step choose from the node's core count.
    concurrency: int | None = None
    #: ZeroTier's TCP relay when UDP is blocked: false, so a blocked path fails loudly instead of crawling.
    allow_tcp_fallback_relay: bool = False
    #: Interface name prefixes ZeroTier must never send its own traffic over, beyond the built-in ones.
    interface_prefix_blacklist: tuple[str, ...] = ()
    sites: tuple[SiteSpec, ...] = ()

    def site(self, name: str) -> SiteSpec:
        return next((s for s in self.sites if s.name == name), SiteSpec(name))


@dataclass(frozen=True)
class RemoteHead:
    """The head node of another stack on the same network (hybrid cloud bursts)."""

    name: str
    ip: IPv4Address


#: ``zerotier-cluster:policy``: where a probe comes from, besides a role, a node or a device by name.
UNDERLAY_SOURCES = ("lan", "internet")
PolicyProtocol = Literal["tcp", "udp", "icmp"]
Expect = Literal["allow", "deny"]


@dataclass(frozen=True)
class Assertion:
    """One line of ``zerotier-cluster:policy``: who may (or may not) reach what.

    ``source`` is a role (``head``, ``compute``), ``device`` (every device), a
    node or device name, ``lan`` or ``internet``; ``target`` a role or a node
    name. ``port`` None with ``tcp`` is each destination's SSH port (``ssh``);
    with ``icmp`` it is unused (an echo request).
    """

    source: str
    target: str
    protocol: PolicyProtocol
    port: int | None
    expect: Expect
    #: The config key (``zerotier-cluster:policy[3]``), or where a default came from.
    key: str

    @property
    def service(self) -> str:
        if self.protocol == "icmp":
            return "icmp"
        return "ssh" if self.port is None else f"{self.protocol}/{self.port}"

    def __str__(self) -> str:
        return f"{self.source} -> {self.target} {self.service} {self.expect}"


@dataclass(frozen=True)
class ClusterSpec:
    """The whole overlay: network, nodes, devices, firewall and provisioning settings."""

    network: NetworkSpec
    nodes: tuple[NodeSpec, ...]
    devices: tuple[DeviceSpec, ...] = ()
    firewall: FirewallSpec = FirewallSpec()
    provision: ProvisionSpec = ProvisionSpec()
    #: Set when the head belongs to another stack; this stack then has none.
    remote_head: RemoteHead | None = None
    #: ``zerotier-cluster:rules``: additions to the generated ZeroTier rules, or their replacement.
    rules: RulesSpec = field(default_factory=RulesSpec)
    controller: ControllerKind = "central"
    roots: RootsKind = "public"
    #: With roots ``head``: the head's IPv4 address as the other nodes reach it (its moon's stable endpoint).
    root_endpoint: IPv4Address | None = None
    #: ``zerotier-cluster:policy``: the operator's reachability assertions (the defaults are the plan's).
    policy: tuple[Assertion, ...] = ()
    #: ``zerotier-cluster:zerotier``: network MTU, local.conf settings, sites.
    dataplane: DataplaneSpec = DataplaneSpec()
    #: The site of a node without one: the stack's name where the program knows it.
    default_site: str = "cluster"

    def site_of(self, node: NodeSpec) -> str:
        """The node's site: its own, else the stack's."""
        return node.site or self.default_site

    @property
    def head(self) -> NodeSpec | None:
        return next((n for n in self.nodes if n.role == "head"), None)

    @property
    def computes(self) -> tuple[NodeSpec, ...]:
        return tuple(n for n in self.nodes if n.role == "compute")

    @property
    def active_nodes(self) -> tuple[NodeSpec, ...]:
        """The nodes that are provisioned and trusted (not ``state: evicted``)."""
        return tuple(n for n in self.nodes if n.active)
