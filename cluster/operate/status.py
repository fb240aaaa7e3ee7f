"""``python -m cluster status``: is every node still as ``pulumi up`` left it, and does traffic go direct?

Pulumi cannot say: a remote ``Command`` never notices drift (a flushed
firewall, a node that left the network, a package upgrade that restarted
ZeroTier with a new identity), and ``pulumi refresh`` does not re-run it. This
reaches every active node with the stack's own connection settings, runs the
read-only ``cluster/scripts/status.sh`` there, and compares what it reports
with the plan (:func:`cluster.plan.build.build_plan`) here, so every verdict lives in
one tested place. Paths come from ``zerotier-cli -j peers``: a peer with an
active, unexpired path is DIRECT; one with none (or tunneled over TCP) is
reached through a ZeroTier root, RELAY.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from cluster.conventions import COMPONENT_NAME, COMPONENT_TYPE
from cluster.operate.sshrun import Reply
from cluster.plan.build import NodePlan, Plan
from cluster.plan.declarations import Declaration, declarations
from cluster.plan.steps import StatusParams, standalone
from cluster.spec import NodeSpec

#: The command line status.sh runs under; the script and its parameters come on stdin.
COMMAND = "/bin/sh -s"
RELAY_CAUSES = (
    "a relayed path usually means UDP 9993 is blocked between the two sites (open it both ways) or a symmetric "
    "NAT is in front of one of them (give it a public address, a port forward of UDP 9993, or a NAT that keeps ports)"
)


def status_stdin(plan: Plan, node: NodePlan, probe: Sequence[str]) -> str:
    """status.sh with its parameters: where the node's firewall lives, the hosts tag, the overlay IPs to ping."""
    params = StatusParams(node=node.name, hosts_tag=plan.spec.network.name, probe=" ".join(probe))
    if node.firewall is not None:
        fw = node.firewall.params
        params = replace(params, mode=fw.mode, family=fw.family, table=fw.table, chain=fw.chain)
    return standalone(f"status check of node {node.name}", params)


# --- what a node reported -------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """status.sh's output: ``key value`` lines and raw ``zerotier-cli -j`` outputs with their exit codes."""

    values: Mapping[str, str]
    blocks: Mapping[str, tuple[int, str]]

    @classmethod
    def parse(cls, text: str) -> Facts:
        values: dict[str, str] = {}
        blocks: dict[str, tuple[int, str]] = {}
        current: tuple[str, int] | None = None
        body: list[str] = []
        for line in text.splitlines():
            if current is not None:
                if line == "@end":
                    blocks[current[0]] = (current[1], "\n".join(body))
                    current, body = None, []
                else:
                    body.append(line)
            elif line.startswith("@"):
                name, _, code = line[1:].partition(" ")
                current = (name, int(code) if code.lstrip("-").isdigit() else -1)
            else:
                key, _, value = line.partition(" ")
                values[key] = value
        return cls(values, blocks)

    def json(self, name: str) -> Any:
        """The parsed JSON of ``zerotier-cli -j <name>``, or None when it failed or is not JSON."""
        code, text = self.blocks.get(name, (-1, ""))
        if code != 0:
            return None
        try:
            return json.loads(text)
        except ValueError:
            return None

    def cli_error(self, name: str) -> str:
        code, text = self.blocks.get(name, (-1, ""))
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        return f"zerotier-cli -j {name} exited {code}: {first}" if first else f"zerotier-cli -j {name} exited {code}"


@dataclass(frozen=True)
class Path:
    """How a node reaches one peer: DIRECT, RELAY or UNKNOWN, and the latency ZeroTier measured."""

    kind: str
    latency_ms: int | None = None
    detail: str = ""

    def __str__(self) -> str:
        return self.kind + (f" {self.latency_ms}ms" if self.latency_ms is not None else "")


#: A direct path that has received nothing for this long is dead, whatever its flags say: ZeroTier
#: 1.14.1 kept a blocked path "active", unexpired and preferred for about four minutes (measured in
#: tests/test_lab_status.py) while it heartbeats a live one every few seconds.
STALE_PATH_MS = 60_000


def peer_path(peers: Any, address: str | None, now_ms: int | None = None) -> Path:
    """The path to ``address`` in ``zerotier-cli -j peers`` output (``now_ms``: the node's clock)."""
    if address is None:
        return Path("UNKNOWN", detail="its ZeroTier address is not known (that node did not report)")
    if not isinstance(peers, list):
        return Path("UNKNOWN", detail="zerotier-cli -j peers gave no list")
    peer = next((p for p in peers if isinstance(p, dict) and p.get("address") == address), None)
    if peer is None:
        return Path("UNKNOWN", detail=f"{address} is not among this node's peers (no traffic between them yet)")
    latency = peer.get("latency")
    shown = latency if isinstance(latency, int) and latency >= 0 else None
    listed = peer.get("paths")
    paths = listed if isinstance(listed, list) else []
    direct = [p for p in paths if isinstance(p, dict) and p.get("active") and not p.get("expired")]
    if now_ms is not None:
        direct = [p for p in direct if not _stale(p.get("lastReceive"), now_ms)]
    if direct and not peer.get("tunneled"):
        best = next((p for p in direct if p.get("preferred")), direct[0])
        return Path("DIRECT", shown, f"via {best.get('address', '?')}")
    how = "tunneled over TCP" if peer.get("tunneled") else "no direct path"
    return Path("RELAY", shown, f"{how}: traffic goes through a ZeroTier root")


def _stale(last_receive: Any, now_ms: int) -> bool:
    return isinstance(last_receive, int) and last_receive > 0 and now_ms - last_receive > STALE_PATH_MS


# --- verdicts -------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One comparison: ``ok`` None means it could not be made (no root, not applicable)."""

    name: str
    ok: bool | None
    value: str
    detail: str = ""
    fix: str = ""
    #: Set on ``path:<peer>`` checks.
    path: Path | None = None

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "value": self.value, "detail": self.detail, "fix": self.fix}


@dataclass(frozen=True)
class Row:
    """One node: reached or not, and every check."""

    name: str
    host: str
    role: str
    reached: bool
    error: str = ""
    checks: tuple[Check, ...] = ()
    address: str | None = None

    @property
    def ok(self) -> bool:
        return self.reached and all(c.ok is not False for c in self.checks)

    @property
    def paths(self) -> dict[str, Path]:
        """Peer name → path, from the ``path:<peer>`` checks."""
        return {c.name.removeprefix("path:"): c.path for c in self.checks if c.path is not None}

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "host": self.host,
            "role": self.role,
            "reached": self.reached,
            "error": self.error,
            "ok": self.ok,
            "address": self.address,
            "checks": {c.name: c.as_json() for c in self.checks if c.path is None},
            "paths": {
                name: {"type": p.kind, "latencyMs": p.latency_ms, "detail": p.detail} for name, p in self.paths.items()
            },
        }


@dataclass(frozen=True)
class Target:
    """Where the program registered the stack's resources: what a ``pulumi up --replace`` URN names."""

    stack: str
    project: str
    #: The component's name and its type chain (its ancestors' types, then its own; the stack's left out).
    component: str
    component_type: str = COMPONENT_TYPE

    @classmethod
    def of_urn(cls, urn: str) -> Target | None:
        """The target of a component URN (the ``overlayUrn`` stack output); None when it is no such URN."""
        parts = urn.split("::")
        if len(parts) != 4 or not parts[0].startswith("urn:pulumi:"):
            return None
        chain = parts[2].removeprefix("pulumi:pulumi:Stack$")
        return cls(parts[0].removeprefix("urn:pulumi:"), parts[1], parts[3], chain)

    @classmethod
    def find(cls, stack: str, project: str, component: str | None, outputs: Mapping[str, Any]) -> Target:
        """``--component`` when given, else the stack's ``overlayUrn`` output, else this project's own program."""
        urn = outputs.get("overlayUrn")
        found = cls.of_urn(urn) if component is None and isinstance(urn, str) else None
        return found or cls(stack, project, component or COMPONENT_NAME)

    def urn(self, entry: Declaration) -> str:
        """The URN of the resource ``entry`` became: a child of the component."""
        chain = f"{self.component_type}${entry.resource_type}"
        return f"urn:pulumi:{self.stack}::{self.project}::{chain}::{self.component}-{entry.name}"


@dataclass(frozen=True)
class Context:
    """What every node's verdict needs beyond its own report."""

    plan: Plan
    target: Target
    #: Node name → its ZeroTier address, as the nodes reported them (or the stack outputs said).
    addresses: Mapping[str, str]
    #: The network ID when known (config, ``--network-id`` or the stack outputs).
    network_id: str | None
    #: Node name → member ID from the stack outputs, when given.
    members: Mapping[str, str]
    mesh: bool

    @cached_property
    def entries(self) -> dict[tuple[str, str], Declaration]:
        """The plan's declarations by (node, step): the same list the program declares from."""
        return {(e.node, e.step): e for e in declarations(self.plan)}

    def replace(self, node: str, step: str) -> str:
        """The command that runs one step of one node again (delete, then create)."""
        urn = self.target.urn(self.entries[(node, step)])
        return f"pulumi up --stack {shlex.quote(self.target.stack)} --replace {shlex.quote(urn)}"

    def reimage(self, node: NodeSpec) -> str:
        return (
            f"raise generation of {node.origin or node.name} to {node.generation + 1} and run pulumi up "
            "(its steps run again from install)"
        )


def unreachable_fix(node: NodeSpec) -> str:
    return (
        f"check that {node.name} is up and that `ssh -p {node.port} {node.user}@{node.host}` works "
        f"(with the same key); if the machine is gone for good, set state: evicted on {node.origin or node.name} "
        "and run pulumi up (it is deauthorized without being contacted)"
    )


def evaluate(ctx: Context, node: NodePlan, reply: Reply) -> Row:
    """The node's row: its report compared with the plan."""
    spec = node.spec
    host = spec.host if isinstance(spec.host, str) else "(from another resource)"
    if reply.error is not None:
        return Row(node.name, host, spec.role, False, f"unreachable: {reply.error}. Fix: {unreachable_fix(spec)}")
    facts = Facts.parse(reply.stdout)
    if facts.values.get("ztc-status") != "1":
        why = (reply.stderr.strip().splitlines() or ["no report"])[-1]
        return Row(node.name, host, spec.role, False, f"status check failed on the node: {why}")
    info = facts.json("info")
    address = info.get("address") if isinstance(info, dict) else None
    checks = [
        _zerotier(ctx, node, facts, info),
        _identity(ctx, node, address),
        *_network(ctx, node, facts),
        *_paths(ctx, node, facts),
        _firewall(ctx, node, facts),
        _hosts(ctx, node, facts),
    ]
    return Row(node.name, host, spec.role, True, checks=tuple(checks), address=address)


def _no_root(facts: Facts) -> str:
    return f"user {facts.values.get('user', '?')} cannot run sudo -n (it asks for a password)"


def _sudo_fix(facts: Facts) -> str:
    user = facts.values.get("user", "?")
    rule = f"{user} ALL=(ALL) NOPASSWD: ALL"
    return f"give {user} passwordless sudo, as provisioning needs too ('{rule}'), or log in as root"


def _zerotier(ctx: Context, node: NodePlan, facts: Facts, info: Any) -> Check:
    want = ctx.plan.spec.provision.zerotier_version
    if facts.values.get("cli") != "yes":
        fix = ctx.replace(node.name, "install")
        return Check("zerotier", False, "not installed", "zerotier-cli is not on PATH", fix)
    if facts.values.get("root") != "yes":
        return Check("zerotier", False, "?", _no_root(facts), _sudo_fix(facts))
    if not isinstance(info, dict):
        service = facts.values.get("service", "unknown")
        return Check(
            "zerotier",
            False,
            "not running",
            f"{facts.cli_error('info')} (zerotier-one service: {service})",
            f"start it on the node (sudo systemctl start zerotier-one); if it does not stay up, "
            f"{ctx.replace(node.name, 'install')}",
        )
    version = str(info.get("version", "?"))
    if version != want:
        return Check(
            "zerotier",
            False,
            version,
            f"runs ZeroTier {version}, zerotierVersion is {want}",
            f"{ctx.replace(node.name, 'install')} (installs and pins {want}), or set zerotierVersion: {version}",
        )
    if info.get("online") is False:
        return Check(
            "zerotier",
            False,
            f"{version} OFFLINE",
            "the node reaches no ZeroTier root: UDP 9993 is blocked upstream",
            "allow outbound UDP 9993 (and the replies) at the site's firewall",
        )
    return Check("zerotier", True, version)


def _identity(ctx: Context, node: NodePlan, address: str | None) -> Check:
    member = ctx.members.get(node.name)
    if address is None:
        return Check("identity", None, "?", "the node did not report its ZeroTier address")
    if member is None or member == address:
        # Without the stack's outputs there is nothing to compare with; the table says so once.
        return Check("identity", True if member else None, address)
    return Check(
        "identity",
        False,
        address,
        f"the node is {address} but its member is {member}: its identity was replaced (reimaged, or reinstalled)",
        ctx.reimage(node.spec),
    )


def _network(ctx: Context, node: NodePlan, facts: Facts) -> list[Check]:
    """The network's status and the node's address on it (two checks)."""
    prefix = ctx.plan.spec.network.cidr.prefixlen
    planned = f"{node.ip}/{prefix}"
    networks = facts.json("listnetworks")
    if not isinstance(networks, list):
        why = _no_root(facts) if facts.values.get("root") != "yes" else facts.cli_error("listnetworks")
        return [Check("network", None, "?", why), Check("address", None, "?", why)]
    mine = [
        n
        for n in networks
        if isinstance(n, dict)
        and (n.get("nwid") == ctx.network_id if ctx.network_id else n.get("portDeviceName") == node.interface)
    ]
    rejoin = ctx.replace(node.name, "join")
    if not mine:
        which = ctx.network_id or f"the network on interface {node.interface}"
        return [
            Check("network", False, "not joined", f"{which} is not among the node's networks (it left)", rejoin),
            Check("address", False, "-", f"planned {planned}", rejoin),
        ]
    net = mine[0]
    status = str(net.get("status", "?"))
    checks = []
    if status != "OK":
        fixes = {
            "ACCESS_DENIED": "the member is not authorized: pulumi refresh, then pulumi up (the member is managed)",
            "NOT_FOUND": "the controller does not know the network: check network.networkId, then pulumi up",
        }
        checks.append(Check("network", False, status, f"network {net.get('nwid')}", fixes.get(status, rejoin)))
    elif net.get("portDeviceName") != node.interface:
        checks.append(
            Check(
                "network",
                False,
                "OK",
                f"on interface {net.get('portDeviceName')}, planned {node.interface} (the firewall trusts only that)",
                rejoin,
            )
        )
    else:
        checks.append(Check("network", True, "OK"))
    assigned = [str(a) for a in net.get("assignedAddresses") or []]
    ipv4 = [a for a in assigned if _is_ipv4(a)]
    if planned in assigned:
        checks.append(Check("address", True, str(node.ip)))
    else:
        checks.append(
            Check(
                "address",
                False,
                ", ".join(ipv4) or "none",
                f"has {', '.join(assigned) or 'no address'}, planned {planned}",
                "pulumi refresh, then pulumi up (sets the member's ipAssignments back to the plan)",
            )
        )
    checks.append(_mtu(ctx, net))
    return checks


def _mtu(ctx: Context, net: dict[str, Any]) -> Check:
    """The MTU the node's network config carries (``listnetworks``) against ``network.mtu``."""
    planned = ctx.plan.spec.network.mtu
    found = net.get("mtu")
    if not isinstance(found, int) or isinstance(found, bool):
        return Check("mtu", None, "?", "zerotier-cli -j listnetworks reported no MTU for the network")
    if found == planned:
        return Check("mtu", True, str(found))
    fix = (
        f"set the network's MTU to {planned} in ZeroTier Central"
        if ctx.plan.spec.controller == "central"
        else "pulumi up (the head's network step sets network.mtu)"
    )
    return Check("mtu", False, str(found), f"the network gives this node MTU {found}, planned {planned}", fix)


def _is_ipv4(text: str) -> bool:
    try:
        return ipaddress.ip_interface(text).version == 4
    except ValueError:
        return False


def _paths(ctx: Context, node: NodePlan, facts: Facts) -> list[Check]:
    """``path:<peer>`` checks: to the head, or with --mesh to every other active node."""
    plan = ctx.plan
    if ctx.mesh:
        peers = [n.name for n in plan.active if n.name != node.name]
    else:
        peers = [plan.head_name] if node.name != plan.head_name else []
    if not peers:
        return []
    data = facts.json("peers")
    asked = facts.values.get("cli") == "yes" and facts.values.get("root") == "yes"
    checks = []
    for peer in peers:
        if data is None:
            why = facts.cli_error("peers") if asked else "zerotier-cli could not be asked"
            path = Path("UNKNOWN", detail=why)
        else:
            clock = facts.values.get("clock", "")
            path = peer_path(data, ctx.addresses.get(peer), int(clock) * 1000 if clock.isdigit() else None)
        ok = {"DIRECT": True, "RELAY": False}.get(path.kind)
        fix = RELAY_CAUSES if path.kind == "RELAY" else ""
        target = next((n for n in plan.active if n.name == peer), None)
        ip = str(target.ip) if target else str(plan.head_ip)
        if facts.values.get(f"ping.{ip}") == "no":
            ok = False
            why = f"{peer} ({ip}) does not answer ping over the overlay; {path.detail}"
            path = Path(path.kind, path.latency_ms, why)
            fix = fix or f"run python -m cluster status on {peer} too; check its network, address and firewall"
        checks.append(Check(f"path:{peer}", ok, str(path), path.detail, fix, path))
    return checks


def _firewall(ctx: Context, node: NodePlan, facts: Facts) -> Check:
    if node.ruleset is None:
        return Check("firewall", None, "off", "firewall.mode is off: nothing to compare")
    if facts.values.get("root") != "yes":
        return Check("firewall", False, "?", _no_root(facts), _sudo_fix(facts))
    reapply = ctx.replace(node.name, "firewall")
    planned = hashlib.sha256(node.ruleset.encode()).hexdigest()
    on_disk = facts.values.get("firewall.file", "unknown")
    problems = []
    if on_disk == "missing":
        problems.append("/etc/zerotier-cluster/firewall.nft is missing")
    elif on_disk != planned:
        problems.append(f"/etc/zerotier-cluster/firewall.nft differs from the planned ruleset (sha256 {on_disk[:12]})")
    if facts.values.get("firewall.loaded") != "yes":
        where = f"{node.firewall.params.family} {node.firewall.params.table}" if node.firewall else "its table"
        problems.append(f"table {where} is not loaded (flushed or deleted)")
    persisted = facts.values.get("firewall.persisted", "no")
    if persisted != "yes":
        conf = persisted.partition(" ")[2] or "nftables.conf"
        problems.append(f"not persisted: no zerotier-cluster include in {conf}")
    service = facts.values.get("firewall.service")
    if service is not None and service != "enabled":
        problems.append(f"nftables.service is {service or 'unknown'}: the ruleset is not loaded at boot")
    if problems:
        value = "NOT LOADED" if facts.values.get("firewall.loaded") != "yes" else "DRIFTED"
        return Check("firewall", False, value, "; ".join(problems), reapply)
    return Check("firewall", True, "ok")


def _hosts(ctx: Context, node: NodePlan, facts: Facts) -> Check:
    count = int(facts.values.get("hosts.blocks", "0") or 0)
    redo = ctx.replace(node.name, "hosts")
    if count == 0:
        return Check("hosts", False, "MISSING", "/etc/hosts has no zerotier-cluster block for this network", redo)
    if count > 1:
        return Check("hosts", False, "DUPLICATED", f"/etc/hosts has {count} blocks for this network", redo)
    planned = hashlib.sha256(ctx.plan.hosts_block.encode()).hexdigest()
    if facts.values.get("hosts.block") != planned:
        return Check("hosts", False, "EDITED", "the /etc/hosts block differs from the planned one", redo)
    return Check("hosts", True, "ok")
