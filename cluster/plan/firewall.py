"""Every node's nftables ruleset, generated from ``zerotier-cluster:firewall``.

A node admits, inbound:

* replies (``ct state established,related``), loopback, essential ICMP/ICMPv6
  (errors, PMTU, NDP, echo requests) and DHCP/DHCPv6 client replies;
* ZeroTier's UDP port (``firewall.zerotierPort``) from anywhere;
* SSH on the port sshd listens on (``nodes[i].sshdPort``, else ``port``) from
  ``firewall.sshFrom`` (empty: anywhere); on compute nodes with
  ``computeSsh: head-and-overlay`` only from ``firewall.headAddresses``;
* over this network's overlay interface (:func:`overlay_interface`: exactly
  one name, never a ``zt*`` pattern, so a second ZeroTier network on the node
  is not trusted as the cluster), from cluster members (every node's overlay
  address, the head's, ``firewall.peers``, and devices with ``devices: all``):
  everything, or only ``firewall.clusterPorts`` (SSH always); devices with
  ``devices: ssh`` reach SSH only;
* the role's ``firewall.openings``;

and drops everything else inbound (``enforce``; in ``integrate`` mode the
operator's chain decides what happens to the rest). Output and forwarding are
not filtered.

``enforce`` owns ``table inet <firewall.table>``; ``integrate`` owns one
regular chain named ``<firewall.table>``, and sets prefixed ``<firewall.table>_``,
inside the operator's table, plus one jump rule at the top of their chain
marked with the comment :data:`MARK`. The step script
(``cluster/scripts/firewall.sh``) applies the ruleset atomically and persists
it; the docs are ``docs/firewall.md``.

Rulesets are deterministic (everything sorted, ranges merged), and the parts
that depend on the whole cluster (member sets) are rendered once per
:class:`Firewall`, so a 1,000-node plan costs one render per (role, SSH port).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Literal

from cluster.conventions import INTERFACE_NAME
from cluster.errors import Problem
from cluster.plan.steps import FirewallParams
from cluster.spec import ClusterSpec, NetworkSpec, NodeSpec, PortRule, Role, SourceNet

#: The comment on the jump rule the program adds to an operator's chain (``integrate``).
MARK = "zerotier-cluster"
#: The config keys named in rule comments and in the step's lock-out messages.
KEY = "zerotier-cluster:firewall"

ICMP_TYPES = ("destination-unreachable", "echo-request", "parameter-problem", "time-exceeded")
ICMPV6_TYPES = (
    "destination-unreachable", "echo-request", "nd-neighbor-advert", "nd-neighbor-solicit",
    "nd-router-advert", "packet-too-big", "parameter-problem", "time-exceeded",
)  # fmt: skip
#: Elements per line inside a set, for readable rulesets.
PER_LINE = 4

Family = Literal["inet", "ip", "ip6"]


def overlay_interface(network: NetworkSpec) -> str:
    """The network's interface name on every node: ``network.interface``, else derived from its name.

    The derived name is ``zt`` + the first 10 hex digits of sha256(network name):
    12 characters (Linux allows 15), deterministic, the same on every node and
    in every stack sharing the network (they share its name), and never one of
    ZeroTier's own ``zt`` + 8-character names. ``join`` pins it through
    ZeroTier's ``devicemap`` (``ZTC_INTERFACE``), so the firewall can trust
    exactly this interface.
    """
    if network.interface is not None:
        return network.interface
    return "zt" + hashlib.sha256(network.name.encode("utf-8")).hexdigest()[:10]


def interface_problems(value: object, key: str) -> list[Problem]:
    """What is wrong with a ``network.interface`` value: it must be a ``zt`` name of up to 15 characters."""
    if isinstance(value, str) and INTERFACE_NAME.fullmatch(value):
        return []
    return [
        Problem(
            key,
            f"{value!r} is not a ZeroTier interface name",
            "use 'zt' plus up to 13 letters, digits, '-' or '_' (e.g. zthpc), or leave it unset for a name "
            "derived from network.name; a name without 'zt' could be a real NIC the firewall would trust",
        )
    ]


@dataclass(frozen=True)
class Placement:
    """Where the program's objects live on a node."""

    mode: Literal["enforce", "integrate"]
    family: Family
    #: The table holding the program's chain and sets (its own, or the operator's).
    table: str
    #: The program's chain: ``input`` in its own table, ``<firewall.table>`` when integrated.
    chain: str
    #: ``integrate``: the operator's chain that jumps to ours; None in ``enforce``.
    hook_chain: str | None
    #: Prefix of the program's set names (they share the operator's namespace when integrated).
    set_prefix: str

    @property
    def ipv4(self) -> bool:
        return self.family != "ip6"

    @property
    def ipv6(self) -> bool:
        return self.family != "ip"

    def set_name(self, name: str) -> str:
        return self.set_prefix + name


def placement(spec: ClusterSpec) -> Placement:
    fw = spec.firewall
    if fw.mode == "integrate":
        assert fw.integrate is not None, "config validation requires firewall.integrate"
        target = fw.integrate
        family: Family = "ip" if target.family == "ip" else "ip6" if target.family == "ip6" else "inet"
        return Placement("integrate", family, target.table, fw.table, target.chain, f"{fw.table}_")
    return Placement("enforce", "inet", fw.table, "input", None, "")


# --- value formatting ----------------------------------------------------------------


def _merged(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted inclusive ranges with overlapping or adjacent ones merged: nft rejects overlapping elements."""
    merged: list[tuple[int, int]] = []
    for first, last in sorted(ranges):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def _address_elements(nets: Iterable[SourceNet], version: int) -> list[str]:
    """Set elements for one address family: single addresses, CIDR blocks or first-last ranges."""
    make = IPv4Address if version == 4 else IPv6Address
    width = 32 if version == 4 else 128
    elements = []
    for first, last in _merged(
        (int(n.network_address), int(n.broadcast_address)) for n in nets if n.version == version
    ):
        size = last - first + 1
        if size == 1:
            elements.append(str(make(first)))
        elif size & (size - 1) == 0 and first % size == 0:
            elements.append(f"{make(first)}/{width - size.bit_length() + 1}")
        else:
            elements.append(f"{make(first)}-{make(last)}")
    return elements


def _port_elements(ranges: Iterable[tuple[int, int]]) -> list[str]:
    return [str(a) if a == b else f"{a}-{b}" for a, b in _merged(ranges)]


def _anonymous(elements: Sequence[str]) -> str:
    """``x`` for one element, ``{ x, y }`` for several."""
    return elements[0] if len(elements) == 1 else "{ " + ", ".join(elements) + " }"


def _quote(text: str) -> str:
    return '"' + text.replace('"', "'") + '"'


@dataclass(frozen=True)
class _Set:
    name: str
    kind: Literal["ipv4_addr", "ipv6_addr"]
    elements: tuple[str, ...]
    comment: str

    def block(self, indent: str) -> list[str]:
        lines = [f"{indent}set {self.name} {{", f"{indent}\ttype {self.kind}", f"{indent}\tflags interval"]
        lines.append(f"{indent}\tcomment {_quote(self.comment)}")
        if self.elements:
            rows = [", ".join(self.elements[i : i + PER_LINE]) for i in range(0, len(self.elements), PER_LINE)]
            if len(rows) == 1:
                lines.append(f"{indent}\telements = {{ {rows[0]} }}")
            else:
                lines.append(f"{indent}\telements = {{")
                lines += [f"{indent}\t\t{row}," for row in rows[:-1]] + [f"{indent}\t\t{rows[-1]}", f"{indent}\t}}"]
        lines.append(f"{indent}}}")
        return lines


# --- the firewall --------------------------------------------------------------------


class Firewall:
    """Renders every node's ruleset and the firewall step's parameters.

    ``addresses`` maps every node and device name to its overlay address;
    ``head_ip`` is the head's overlay address (possibly another stack's head).
    """

    def __init__(self, spec: ClusterSpec, addresses: Mapping[str, IPv4Address], head_ip: IPv4Address) -> None:
        self.spec = spec
        fw = spec.firewall
        self.placement = placement(spec)
        self.interface = overlay_interface(spec.network)
        members: list[SourceNet] = [IPv4Network(head_ip), *fw.peers]
        members += [IPv4Network(addresses[n.name]) for n in spec.active_nodes]
        devices: list[SourceNet] = [IPv4Network(addresses[d.name]) for d in spec.devices]
        if fw.devices == "all":
            members, devices = members + devices, []
        # The cluster-wide parts, rendered once for every node.
        self._members = tuple(_address_elements(members, 4))
        self._devices = tuple(_address_elements(devices, 4))
        #: Each ruleset once per (role, sshd port).
        self._bodies: dict[tuple[Role, int], str] = {}

    # -- what the step needs -------------------------------------------------------

    def ssh_sources_key(self, node: NodeSpec) -> str:
        """The config key that decides where ``node`` admits management SSH from."""
        if self._via_head(node.role):
            return f"{KEY}.headAddresses"
        return f"{KEY}.sshFrom"

    def ruleset(self, node: NodeSpec) -> str:
        """Exactly what ``nft -f`` loads on ``node``.

        It depends only on the node's role and sshd port, so nodes alike share
        one string: the cluster-wide member sets make it grow with the
        cluster, and a copy per node would make rendering quadratic.
        """
        key = (node.role, node.listen_port)
        ruleset = self._bodies.get(key)
        if ruleset is None:
            ruleset = self._bodies[key] = self._header(node) + self._render(node.role, node.listen_port)
        return ruleset

    def _header(self, node: NodeSpec) -> str:
        p = self.placement
        if p.mode == "enforce":
            owned = f"table {p.family} {p.table}"
        else:
            owned = (
                f"chain {p.chain}, sets {p.set_prefix}* and the jump from chain {p.hook_chain}\n"
                f"# in table {p.family} {p.table}"
            )
        header = (
            f"# zerotier-cluster firewall for {node.role} nodes with sshd on port {node.listen_port}, generated from\n"
            f"# {KEY}. nft -f loads it as one transaction. It replaces the program's\n"
            f"# {owned}, and touches nothing else.\n"
        )
        return header

    def params(self, node: NodeSpec, ruleset: str) -> FirewallParams:
        """The firewall step's parameters (``cluster/scripts/firewall.sh`` documents them)."""
        p = self.placement
        origin = node.origin or f"zerotier-cluster:nodes[name={node.name}]"
        return FirewallParams(
            mode=p.mode,
            family=p.family,
            table=p.table,
            chain=p.chain,
            hook_chain=p.hook_chain or "",
            set_prefix=p.set_prefix,
            interface=self.interface,
            ssh_port=str(node.listen_port),
            ssh_port_key=f"{origin}.sshdPort",
            ssh_sources_key=self.ssh_sources_key(node),
            ruleset=ruleset,
        )

    # -- rendering -------------------------------------------------------------------

    def _via_head(self, role: Role) -> bool:
        return role == "compute" and self.spec.firewall.compute_ssh == "head-and-overlay"

    def _sets(self, role: Role) -> list[_Set]:
        fw, p = self.spec.firewall, self.placement
        if self._via_head(role):
            ssh: Sequence[SourceNet] = fw.head_addresses
            ssh_why = "management SSH: firewall.headAddresses (computeSsh head-and-overlay)"
        else:
            ssh = fw.ssh_from or (IPv4Network("0.0.0.0/0"), IPv6Network("::/0"))
            ssh_why = "management SSH: firewall.sshFrom" + ("" if fw.ssh_from else " (empty: anywhere)")
        sets = []
        if p.ipv4:
            sets.append(_Set(p.set_name("ssh_v4"), "ipv4_addr", tuple(_address_elements(ssh, 4)), ssh_why))
        if p.ipv6:
            sets.append(_Set(p.set_name("ssh_v6"), "ipv6_addr", tuple(_address_elements(ssh, 6)), ssh_why))
        if p.ipv4:
            sets.append(_Set(p.set_name("members"), "ipv4_addr", self._members, "nodes, head, firewall.peers"))
            sets.append(_Set(p.set_name("ssh_devices"), "ipv4_addr", self._devices, "devices (devices: ssh): SSH only"))
        return sets

    def _rules(self, role: Role, ssh_port: int) -> list[str]:
        fw, p = self.spec.firewall, self.placement
        zt = f"iifname {_quote(self.interface)}"
        members = f"ip saddr @{p.set_name('members')}"
        rules = [
            "ct state established,related accept comment " + _quote("replies, incl. to ZeroTier's other ports"),
            'iif "lo" accept',
        ]
        if p.ipv4:
            rules.append(f"icmp type {_anonymous(ICMP_TYPES)} accept")
        if p.ipv6:
            rules.append(f"icmpv6 type {_anonymous(ICMPV6_TYPES)} accept")
        if p.mode == "enforce":
            rules.append("ct state invalid drop")
        if p.ipv4:
            rules.append('udp sport 67 udp dport 68 accept comment "DHCP replies"')
        if p.ipv6:
            rules.append('ip6 saddr fe80::/10 udp sport 547 udp dport 546 accept comment "DHCPv6 replies"')
        rules.append(f'udp dport {fw.zerotier_port} accept comment "ZeroTier: firewall.zerotierPort"')
        ssh_key = "firewall.headAddresses" if self._via_head(role) else "firewall.sshFrom"
        if p.ipv4:
            rules.append(f"tcp dport {ssh_port} ip saddr @{p.set_name('ssh_v4')} accept comment {_quote(ssh_key)}")
        if p.ipv6:
            rules.append(f"tcp dport {ssh_port} ip6 saddr @{p.set_name('ssh_v6')} accept comment {_quote(ssh_key)}")
        if p.ipv4:
            if fw.cluster_ports is None:
                rules.append(f'{zt} {members} accept comment "cluster members (clusterPorts: all)"')
            else:
                rules.append(f'{zt} {members} tcp dport {ssh_port} accept comment "SSH over the overlay"')
                rules += self._port_rules(fw.cluster_ports, f"{zt} {members}", "firewall.clusterPorts")
            if self._devices:
                rules.append(
                    f'{zt} ip saddr @{p.set_name("ssh_devices")} tcp dport {ssh_port} accept comment "devices: ssh"'
                )
        rules += self._port_rules(fw.openings_for(role), "", f"firewall.openings.{role}")
        return rules

    def _port_rules(self, rules: Sequence[PortRule], prefix: str, key: str) -> list[str]:
        """Rules for port openings: sourceless ones grouped per protocol, the others one each."""
        p = self.placement
        lead = f"{prefix} " if prefix else ""
        out = []
        for proto in ("tcp", "udp"):
            open_ports = [(r.first, r.last) for r in rules if r.protocol == proto and not r.sources]
            if open_ports:
                ports = _anonymous(_port_elements(open_ports))
                out.append(f"{lead}{proto} dport {ports} accept comment {_quote(key)}")
        for rule in sorted(
            (r for r in rules if r.sources), key=lambda r: (r.protocol, r.first, r.last, str(r.sources))
        ):
            ports = _anonymous(_port_elements([(rule.first, rule.last)]))
            for version, match, usable in ((4, "ip", p.ipv4), (6, "ip6", p.ipv6)):
                sources = _address_elements(rule.sources, version)
                if sources and usable:
                    out.append(
                        f"{lead}{match} saddr {_anonymous(sources)} {rule.protocol} dport {ports} accept"
                        f" comment {_quote(key)}"
                    )
        return out

    def _render(self, role: Role, ssh_port: int) -> str:
        p = self.placement
        sets = self._sets(role)
        rules = self._rules(role, ssh_port)
        if p.mode == "enforce":
            lines = [
                f"table {p.family} {p.table} {{}}",
                f"delete table {p.family} {p.table}",
                f"table {p.family} {p.table} {{",
            ]
            for s in sets:
                lines += [*s.block("\t"), ""]
            lines += [
                f"\tchain {p.chain} {{",
                "\t\ttype filter hook input priority filter; policy drop;",
                *(f"\t\t{r}" for r in rules),
                "\t}",
                "}",
            ]
            return "\n".join(lines) + "\n"
        where = f"{p.family} {p.table}"
        lines = [f"add chain {where} {p.chain}", f"flush chain {where} {p.chain}"]
        for s in sets:
            lines += [
                f"add set {where} {s.name} {{ type {s.kind}; flags interval; comment {_quote(s.comment)}; }}",
                f"flush set {where} {s.name}",
            ]
        lines.append(f"table {where} {{")
        for s in sets:
            lines += [*s.block("\t"), ""]
        lines += [f"\tchain {p.chain} {{", *(f"\t\t{r}" for r in rules), "\t}", "}"]
        lines.append(f"insert rule {where} {p.hook_chain} jump {p.chain} comment {_quote(MARK)}")
        return "\n".join(lines) + "\n"
