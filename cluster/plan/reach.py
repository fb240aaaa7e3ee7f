"""Who may reach what, written once: the threat model as assertions, checked against both layers.

The threat model (``docs/threat-model.md``) is :data:`THREAT_MODEL`: each row
says who reaches which port on which nodes, and whether that is allowed, in
words for the docs and as a function of the config for the plan. Together
with the operator's ``zerotier-cluster:policy`` (which overrides a default it
overlaps) they are the assertions :func:`check` evaluates against

* the network's ZeroTier rules (:mod:`cluster.rules.evaluator`), on the
  sender and on the receiver, with the reply a TCP connect or a ping needs;
* each destination node's nftables ruleset (:mod:`cluster.plan.nft_eval`),
  for a new packet from the source's address on the interface it arrives on.

A probe is allowed when every layer that sees it admits it. Sources:
a role or node sends from its overlay address with its role tag; a device
with the ``device`` tag; ``lan`` is a host on a node's underlay sending from a
cluster member's overlay address (the spoofing neighbour: only nftables sees
it); ``internet`` sends from :data:`INTERNET`, an address no list names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import Literal

from cluster.errors import Problem
from cluster.plan.nft_eval import Packet, Ruleset
from cluster.rules.evaluator import Protocol, decide, exchange, first_dropped
from cluster.rules.frame import Member
from cluster.rules.keywords import network
from cluster.rules.model import Rule
from cluster.spec import ROLES, UNDERLAY_SOURCES, Assertion, ClusterSpec, Expect, PortRule, Role

KEY = "zerotier-cluster:policy"
#: Where ``internet`` sends from: a documentation address (RFC 5737) that no allowlist names by accident.
INTERNET = IPv4Address("198.51.100.7")
#: The underlay interface as the rulesets see it: any name but the overlay's and ``lo``.
UNDERLAY = "underlay"
#: The port the threat model probes as "a cluster service": slurmctld on the head, slurmd on compute nodes.
SERVICE_PORTS: Mapping[Role, int] = {"head": 6817, "compute": 6818}

#: What an ``icmp`` assertion sends: an echo request (ping).
ECHO_REQUEST = 8

Layer = Literal["zerotier", "nftables"]


@dataclass(frozen=True)
class LayerVerdict:
    """One layer's answer for one probe: allowed, denied, or None when the layer leaves it to someone else."""

    layer: Layer
    allowed: bool | None
    rule: str
    where: str

    def __str__(self) -> str:
        said = {True: "allows", False: "denies", None: "does not decide"}[self.allowed]
        return f"{self.layer} {said} it by `{self.rule}` ({self.where})"


@dataclass(frozen=True)
class Result:
    """An assertion's outcome: what the layers did for the first probe that decides it."""

    assertion: Assertion
    allowed: bool | None
    #: ``compute-01 -> head tcp/6817``: the probe the layers were asked about.
    probe: str
    layers: tuple[LayerVerdict, ...]

    @property
    def ok(self) -> bool:
        return self.allowed is not None and self.allowed == (self.assertion.expect == "allow")


# --- the threat model ------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One row of the threat model: in words (for the docs), and the assertions it makes of a config."""

    who: str
    reaches: str
    port: str
    expect: str
    why: str
    assertions: Callable[[ClusterSpec], Iterable[Assertion]]


def _covers(rules: Iterable[PortRule], protocol: str, port: int) -> bool | None:
    """Whether sourceless rules open the port; None when a rule with sources does (the answer depends on who)."""
    hits = [r for r in rules if r.protocol == protocol and r.first <= port <= r.last]
    if any(not r.sources for r in hits):
        return True
    return None if hits else False


def _roles(spec: ClusterSpec) -> list[Role]:
    return [r for r in ROLES if any(n.role == r for n in spec.active_nodes)]


def _member_sources(spec: ClusterSpec) -> list[Role]:
    return [r for r in ROLES if any(n.role == r for n in spec.active_nodes) or (r == "head" and spec.remote_head)]


def _pairs(spec: ClusterSpec) -> list[tuple[Role, Role]]:
    """Member roles and destination roles with at least one pair of distinct nodes between them."""
    count = {r: sum(1 for n in spec.active_nodes if n.role == r) for r in ROLES}
    pairs = []
    for src in _member_sources(spec):
        for dst in _roles(spec):
            senders = count[src] + (1 if src == "head" and spec.remote_head else 0)
            if src != dst or senders > 1:
                pairs.append((src, dst))
    return pairs


def _default(source: str, target: str, protocol: str, port: int | None, expect: Expect, row: str) -> Assertion:
    return Assertion(source, target, protocol, port, expect, f"{KEY} (default: {row})")  # type: ignore[arg-type]


def _service_expect(spec: ClusterSpec, role: Role) -> Expect | None:
    """A member's access to ``role``'s service port: every port, or clusterPorts, or the role's openings."""
    port = SERVICE_PORTS[role]
    fw = spec.firewall
    covered = True if fw.cluster_ports is None else _covers(fw.cluster_ports, "tcp", port)
    opened = _covers(fw.openings_for(role), "tcp", port)
    if covered or opened:
        return "allow"
    return None if covered is None or opened is None else "deny"


def _members(spec: ClusterSpec) -> Iterable[Assertion]:
    for src, dst in _pairs(spec):
        yield _default(src, dst, "tcp", None, "allow", "members keep SSH")
        yield _default(src, dst, "icmp", None, "allow", "members ping")


def _member_service(spec: ClusterSpec) -> Iterable[Assertion]:
    for src, dst in _pairs(spec):
        expect = _service_expect(spec, dst)
        if expect is not None:
            yield _default(src, dst, "tcp", SERVICE_PORTS[dst], expect, "members' cluster ports")


def _devices(spec: ClusterSpec) -> Iterable[Assertion]:
    if not spec.devices:
        return
    for dst in _roles(spec):
        yield _default("device", dst, "tcp", None, "allow", "devices reach SSH")
        yield _default("device", dst, "icmp", None, "allow", "devices ping")


def _device_service(spec: ClusterSpec) -> Iterable[Assertion]:
    if not spec.devices:
        return
    for dst in _roles(spec):
        if spec.firewall.devices == "ssh":
            yield _default("device", dst, "tcp", SERVICE_PORTS[dst], "deny", "devices reach SSH only")
        elif (expect := _service_expect(spec, dst)) is not None:
            yield _default("device", dst, "tcp", SERVICE_PORTS[dst], expect, "devices: all are members")


def _underlay(spec: ClusterSpec) -> Iterable[Assertion]:
    if spec.firewall.mode != "enforce":
        return  # off: no host layer; integrate: the operator's chain decides what ours does not admit
    fw = spec.firewall
    for dst in _roles(spec):
        for source in ("lan", "internet"):
            yield _default(source, dst, "udp", fw.zerotier_port, "allow", "ZeroTier's port is open")


def _underlay_service(spec: ClusterSpec) -> Iterable[Assertion]:
    if spec.firewall.mode != "enforce":
        return
    for dst in _roles(spec):
        if _covers(spec.firewall.openings_for(dst), "tcp", SERVICE_PORTS[dst]) is False:
            for source in ("lan", "internet"):
                yield _default(source, dst, "tcp", SERVICE_PORTS[dst], "deny", "cluster ports are overlay-only")


def _internet_ssh(spec: ClusterSpec) -> Iterable[Assertion]:
    if spec.firewall.mode != "enforce":
        return
    fw = spec.firewall
    for dst in _roles(spec):
        if _covers(fw.openings_for(dst), "tcp", 22):
            continue
        via_head = dst == "compute" and fw.compute_ssh == "head-and-overlay"
        listed = fw.head_addresses if via_head else fw.ssh_from
        # An empty sshFrom admits anyone; an empty headAddresses nobody.
        allowed = any(INTERNET in net for net in listed) or (not listed and not via_head)
        yield _default("internet", dst, "tcp", None, "allow" if allowed else "deny", "SSH per sshFrom")


def _openings(spec: ClusterSpec) -> Iterable[Assertion]:
    if spec.firewall.mode != "enforce":
        return
    for dst in _roles(spec):
        for rule in spec.firewall.openings_for(dst):
            if not rule.sources:
                yield _default("internet", dst, rule.protocol, rule.first, "allow", "openings are open")


THREAT_MODEL: tuple[Row, ...] = (
    Row("cluster member (head, compute)", "every other node", "ssh, icmp", "allow",
        "members keep SSH over the overlay whatever clusterPorts says", _members),
    Row("cluster member", "a node's cluster service (tcp/6817 head, tcp/6818 compute)", "tcp",
        "allow unless clusterPorts leaves it out", "members reach every port, or firewall.clusterPorts",
        _member_service),
    Row("operator device (devices)", "every node", "ssh, icmp", "allow", "devices manage nodes over SSH",
        _devices),
    Row("operator device", "a node's cluster service", "tcp", "deny (devices: all: as a member)",
        "ZeroTier's role tags let devices reach SSH and ping only; nftables again on each node", _device_service),
    Row("host on the LAN (even spoofing a member's overlay address), internet", "every node",
        "udp/zerotierPort", "allow", "ZeroTier's own protocol is authenticated and encrypted", _underlay),
    Row("host on the LAN, internet", "a node's cluster service", "tcp", "deny (unless openings open it)",
        "cluster ports are admitted on the overlay interface only", _underlay_service),
    Row("internet", "every node", "ssh", "allow only if sshFrom (computeSsh head-and-overlay: headAddresses) does",
        "management SSH per firewall.sshFrom", _internet_ssh),
    Row("internet", "the role's firewall.openings", "their ports", "allow", "openings are open to all", _openings),
)  # fmt: skip


def default_assertions(spec: ClusterSpec) -> list[Assertion]:
    """The threat model's assertions for ``spec``."""
    return [a for row in THREAT_MODEL for a in row.assertions(spec)]


def threat_model_table() -> str:
    """The threat model as docs/threat-model.md prints it (``tests/update_docs.py`` writes it there)."""
    lines = ["| who | reaches | port | expect | why |", "|---|---|---|---|---|"]
    lines += [f"| {r.who} | {r.reaches} | {r.port} | {r.expect} | {r.why} |" for r in THREAT_MODEL]
    return "\n".join(lines) + "\n"


def integrate_stand_in(family: str, table: str, chain: str) -> str:
    """An operator's table whose input chain jumps to the program's and decides nothing itself."""
    return (
        f"table {family} {table} {{\n\tchain {chain} {{\n"
        "\t\ttype filter hook input priority filter; policy accept;\n\t}\n}\n"
    )


def check(
    spec: ClusterSpec, rules: Sequence[Rule], addresses: Mapping[str, IPv4Address], destinations: Sequence[Destination]
) -> list[Result]:
    """Every effective assertion's result: the operator's, then the defaults they leave standing."""
    checker = Checker(spec, rules, addresses, destinations)
    return [checker.check(a) for a in effective(spec, default_assertions(spec))]


# --- evaluation --------------------------------------------------------------------


@dataclass(frozen=True)
class Destination:
    """A node as the check needs it: its role, SSH port, overlay interface and loaded ruleset (None: no firewall)."""

    name: str
    role: Role
    #: Its overlay address (what ``ipdest`` rules see).
    ip: IPv4Address
    ssh_port: int
    interface: str
    ruleset: Ruleset | None
    #: ``integrate``: the operator's chain decides what the program's does not accept.
    integrated: bool


@dataclass(frozen=True)
class Sender:
    """Where a probe comes from: a member (with its role tag) or an underlay host (no tag)."""

    name: str
    #: The ZeroTier role tag; None for underlay sources (ZeroTier never sees them).
    tag: str | None
    address: IPv4Address


class Checker:
    """Evaluates assertions for one plan, with each layer's answers cached (one ruleset per role and SSH port)."""

    def __init__(
        self,
        spec: ClusterSpec,
        rules: Sequence[Rule],
        addresses: Mapping[str, IPv4Address],
        destinations: Sequence[Destination],
    ) -> None:
        self.spec, self.rules, self.addresses = spec, tuple(rules), addresses
        self.destinations = {d.name: d for d in destinations}
        self._zt: dict[tuple[object, ...], LayerVerdict] = {}
        #: Every ``ipsrc``/``ipdest`` network the rules name: what can tell two members of one role apart.
        self._networks = sorted(
            {network(str(m.args[0])) for r in self.rules for m in r.matches if m.keyword in ("ipsrc", "ipdest")}
        )
        self._nft: dict[tuple[int, tuple[object, ...], str, str, int], LayerVerdict] = {}
        self._classes: dict[tuple[int, IPv4Address], tuple[object, ...]] = {}

    def senders(self, name: str) -> list[Sender]:
        spec = self.spec
        if name == "internet":
            return [Sender(name, None, INTERNET)]
        if name == "lan":
            first = min(self.addresses[n.name] for n in spec.active_nodes)
            return [Sender(name, None, first)]
        out = []
        for node in spec.active_nodes:
            if name in (node.name, node.role):
                out.append(Sender(node.name, node.role, self.addresses[node.name]))
        if spec.remote_head is not None and name in ("head", spec.remote_head.name):
            out.append(Sender(spec.remote_head.name, "head", spec.remote_head.ip))
        for device in spec.devices:
            if name in ("device", device.name):
                out.append(Sender(device.name, "device", self.addresses[device.name]))
        return out

    def targets(self, name: str) -> list[Destination]:
        return [d for d in self.destinations.values() if name in (d.name, d.role)]

    def check(self, assertion: Assertion) -> Result:
        """The first probe whose outcome differs from the assertion (or the last one, when all agree).

        Destinations that look alike to both layers (role, ``ipdest`` networks,
        ruleset, interface, port) are probed once per sender, through any of
        them but the sender itself.
        """
        alike: dict[tuple[object, ...], tuple[int, list[Destination]]] = {}
        for target in self.targets(assertion.target):
            port = ECHO_REQUEST if assertion.protocol == "icmp" else assertion.port or target.ssh_port
            key = (target.role, self._kind(target.ip), id(target.ruleset), target.interface, port)
            alike.setdefault(key, (port, []))[1].append(target)
        result: Result | None = None
        for sender in self.senders(assertion.source):
            for port, group in alike.values():
                dest = next((d for d in group if d.name != sender.name), None)
                if dest is None:
                    continue
                result = self.probe(assertion, sender, dest, port)
                if not result.ok:
                    return result
        assert result is not None, f"{assertion.key}: no probe (config validation names empty sources)"
        return result

    def probe(self, assertion: Assertion, sender: Sender, dest: Destination, port: int) -> Result:
        layers = []
        if sender.tag is not None:
            layers.append(self.zerotier(sender, dest, assertion.protocol, port))
            interface = dest.interface
        else:
            interface = UNDERLAY
        if dest.ruleset is not None:
            layers.append(self.nftables(dest, sender.address, interface, assertion.protocol, port))
        decided = [v.allowed for v in layers if v.allowed is not None]
        if False in decided:
            allowed: bool | None = False
        elif decided and len(decided) == len(layers):
            allowed = True
        else:
            allowed = None
        what = "icmp" if assertion.protocol == "icmp" else f"{assertion.protocol}/{port}"
        return Result(assertion, allowed, f"{sender.name} -> {dest.name} {what}", tuple(layers))

    def zerotier(self, sender: Sender, dest: Destination, protocol: str, port: int) -> LayerVerdict:
        """ZeroTier's answer for the whole exchange (replies included, both sides): cached per kind of member.

        Members no rule can tell apart (same role tag, inside the same
        ``ipsrc``/``ipdest`` networks) get the same answer, so the cache keys on that.
        """
        assert sender.tag is not None
        key = (sender.tag, self._kind(sender.address), dest.role, self._kind(dest.ip), protocol, port)
        if key not in self._zt:
            self._zt[key] = self._zerotier(sender, dest, protocol, port)
        return self._zt[key]

    def _kind(self, address: IPv4Address) -> tuple[bool, ...]:
        return tuple(address in net for net in self._networks)

    def _zerotier(self, sender: Sender, dest: Destination, protocol: str, port: int) -> LayerVerdict:
        assert sender.tag is not None
        src = Member(sender.tag, sender.address, name=sender.name)
        dst = Member(dest.role, dest.ip, name=dest.name)
        kind: Protocol = "icmp" if protocol == "icmp" else "tcp" if protocol == "tcp" else "udp"
        frames = exchange(src, dst, kind, 0 if kind == "icmp" else port)
        dropped = first_dropped(self.rules, frames)
        if dropped is None:
            first = decide(self.rules, frames[0])[0]
            return LayerVerdict("zerotier", True, _rule_text(first.rule), f"rules, {first.frame}")
        return LayerVerdict("zerotier", False, _rule_text(dropped.rule), f"rules, {dropped.frame}")

    def nftables(
        self, dest: Destination, source: IPv4Address, interface: str, protocol: str, port: int
    ) -> LayerVerdict:
        assert dest.ruleset is not None
        # Keyed on what the rules can see of the source, not the source itself: 10,000 senders are a few classes.
        known = (id(dest.ruleset), source)
        if known not in self._classes:
            self._classes[known] = dest.ruleset.source_class(source)
        key = (id(dest.ruleset), self._classes[known], interface, protocol, port)
        if key not in self._nft:
            packet = Packet(source, interface, protocol, port)  # type: ignore[arg-type]
            decision = dest.ruleset.decide(packet)
            if dest.integrated and decision.rule.startswith("policy "):
                self._nft[key] = LayerVerdict("nftables", None, "no accept in the program's chain", dest.name)
            else:
                allowed = decision.verdict == "accept"
                self._nft[key] = LayerVerdict("nftables", allowed, decision.rule, f"{dest.name}: {decision.where}")
        return self._nft[key]


def sources(spec: ClusterSpec, name: str) -> frozenset[str] | None:
    """Who ``name`` stands for as a source: node and device names, ``lan``, ``internet``; None if nobody."""
    if name in UNDERLAY_SOURCES:
        return frozenset({name})
    if name in ROLES:
        found = {n.name for n in spec.active_nodes if n.role == name}
        if name == "head" and spec.remote_head is not None:
            found.add(spec.remote_head.name)
        return frozenset(found)
    if name == "device":
        return frozenset(d.name for d in spec.devices)
    if any(n.name == name for n in spec.active_nodes) or any(d.name == name for d in spec.devices):
        return frozenset({name})
    return None


def targets(spec: ClusterSpec, name: str) -> frozenset[str] | None:
    """The nodes of this stack ``name`` stands for as a destination; None if it names none."""
    if name in ROLES:
        return frozenset(n.name for n in spec.active_nodes if n.role == name)
    return frozenset({name}) if any(n.name == name for n in spec.active_nodes) else None


def overlaps(spec: ClusterSpec, a: Assertion, b: Assertion) -> bool:
    """Whether some probe is covered by both assertions (a shared source, destination, protocol and port)."""
    sa, sb, ta, tb = sources(spec, a.source), sources(spec, b.source), targets(spec, a.target), targets(spec, b.target)
    if not (sa and sb and ta and tb) or not (sa & sb) or not (ta & tb) or a.protocol != b.protocol:
        return False
    if a.port == b.port:
        return True
    ssh = {n.listen_port for n in spec.active_nodes if n.name in ta & tb}
    return (a.port is None and b.port in ssh) or (b.port is None and a.port in ssh)


def effective(spec: ClusterSpec, defaults: Sequence[Assertion]) -> list[Assertion]:
    """The operator's assertions, then every default that none of them overlaps (theirs win)."""
    from_config = list(spec.policy)
    kept = [d for d in defaults if not any(overlaps(spec, d, a) for a in from_config)]
    return from_config + kept


def _rule_text(rule: Rule | None) -> str:
    """A rule as its source line (without the comment above it); no rule: ZeroTier drops what none accepts."""
    return rule.source().splitlines()[-1] if rule is not None else "no rule accepts it (dropped)"


def problems(results: Iterable[Result]) -> list[Problem]:
    """A problem per assertion the layers do not bear out, naming the probe, the layer and the rule."""
    out = []
    for r in results:
        if r.ok:
            continue
        a = r.assertion
        layers = "; ".join(str(v) for v in r.layers) or "no layer sees it"
        if r.allowed is None:
            out.append(
                Problem(
                    a.key,
                    f"{a}: no layer can decide {r.probe} ({layers})",
                    "assert only what the program's rules decide (in integrate mode your own chain decides "
                    "the rest), or drop the assertion",
                )
            )
            continue
        got = "allowed" if r.allowed else "denied"
        now = "allow" if r.allowed else "deny"
        fix = (
            "change the rule that decides, or write the intent you mean in zerotier-cluster:policy "
            f"(e.g. {{from: {a.source}, to: {a.target}, port: {a.service}, expect: {now}}})"
            if "(default" in a.key
            else "change the rule that decides, or the assertion if the rule is what you want"
        )
        out.append(Problem(a.key, f"{a} fails: {r.probe} is {got}: {layers}", fix))
    return out


def matrix(results: Sequence[Result]) -> str:
    """Sources by destinations, each cell the ports allowed (``+``) and denied (``-``): one screen for a reviewer."""
    cells: dict[tuple[str, str], list[str]] = {}
    for r in results:
        a = r.assertion
        mark = ("+" if a.expect == "allow" else "-") + ("" if r.ok else "!FAILS")
        cells.setdefault((a.source, a.target), []).append(f"{mark}{a.service}")
    sources = list(dict.fromkeys(s for s, _ in cells))
    targets = list(dict.fromkeys(t for _, t in cells))
    rows = [["FROM \\ TO", *targets]]
    rows += [[s, *(" ".join(cells.get((s, t), ["."])) for t in targets)] for s in sources]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n" for row in rows)
