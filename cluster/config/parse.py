"""The stack configuration, the user-facing interface, turned into a :class:`ClusterSpec`.

Input is the project's config as plain data (``{"network": {...}, "nodes": [...]}``),
whether it came from Pulumi's engine or straight from ``Pulumi.<stack>.yaml``.
Each section is a table of :class:`Field` (name, reader, default, fix); the
same table drives the unknown-key check, so a key is known exactly when
something reads it. Input is untrusted: any shape of value gets a message,
never a traceback. Every problem is collected, named by its config key and
paired with a fix, and raised together as one :class:`ConfigError` before
anything is declared.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

from cluster.config import validate as v
from cluster.config.checks import check_cluster
from cluster.config.dataplane import MTU_RANGE, check_dataplane, read_dataplane
from cluster.config.fields import (
    INVALID,
    REQUIRED,
    Field,
    Marker,
    Problems,
    Reader,
    attributes,
    choice,
    complete,
    connection_text,
    flag,
    hex_id,
    ipv4,
    ipv4_net,
    key,
    list_of,
    number,
    printable,
    read_fields,
    section,
    source,
    spelling,
    text,
)
from cluster.config.inventory import ALIASES, load_inventory
from cluster.config.policy import policy_problems, read_policy
from cluster.conventions import (
    CENTRAL_TOKEN_KEY,
    INTERFACE_NAME,
    MAX_LIST_ENTRIES,
    NAMESPACE,
    NETWORK_ID_PATTERN,
    PROVIDER_NAMESPACE,
    ZT_ADDRESS,
)
from cluster.errors import Problem
from cluster.rules.model import RulesSpec
from cluster.rules.parser import parse_rules
from cluster.spec import (
    ROLES,
    ClusterSpec,
    DataplaneSpec,
    DeviceSpec,
    FirewallSpec,
    IntegrateTarget,
    NetworkSpec,
    NodeSpec,
    Pool,
    PortRule,
    ProvisionSpec,
    Proxy,
    RemoteHead,
)

__all__ = ["KNOWN_KEYS", "SECRET_KEYS", "namespace_problems", "parse_cluster", "parse_node", "plain_token_problem"]

SECRET_KEYS = ("sshPrivateKey",)


#: A node's proxy when it takes the stack's ``ssh.proxy``.
INHERIT: Any = Marker("INHERIT")
#: ``proxy: head``, resolved once every node is known.
HEAD = "head"


def _plain_secret(value: Any, p: Problems) -> Any:
    p.add("", "is in plain text in the stack file", f"run `pulumi config set --secret {p.key()} < ~/.ssh/id_ed25519`")
    return INVALID


def _raw(value: Any, p: Problems) -> Any:
    return value


def _rules(value: Any, p: Problems) -> RulesSpec:
    """``rules``: ``{extra: <ZeroTier rule source>}`` or ``{replace: ...}`` (cluster/rules.py)."""
    spec, problems = parse_rules(value, p.key())
    p.items.extend(problems)
    return spec


HOST_FIX = "use a plain hostname or IP address"
USER_FIX = "use a plain login name, e.g. ubuntu"
URL_FIX = "write a full http(s) URL without user:password@, such as https://mirror.example/zerotier/"
RULE = re.compile(r"(tcp|udp)/([0-9]{1,5})(?:-([0-9]{1,5}))?")


def _url(value: Any, p: Problems) -> Any:
    why = v.check_url(value) if isinstance(value, str) else f"{v.shown(value)} is not an http(s) URL"
    if why is None:
        return value
    p.add("", why, URL_FIX)
    return INVALID


def _fingerprint(value: Any, p: Problems) -> Any:
    fingerprint = value.replace(" ", "").upper() if isinstance(value, str) else ""
    if v.FINGERPRINT.fullmatch(fingerprint):
        return fingerprint
    p.add("", "is not an OpenPGP fingerprint", "write the key's 40 hex digits")
    return INVALID


def _host_key(value: Any, p: Problems) -> Any:
    why = v.check_host_key(value.strip()) if isinstance(value, str) else "is not an OpenSSH public host key"
    if why is None:
        return value.strip()
    p.add("", why, f"{v.KEYSCAN}, e.g. 'ssh-ed25519 AAAA...'")
    return INVALID


EXAMPLE_NAMES = {"node": "compute-01", "device": "alice-laptop", "head": "head"}


def _name(what: str, fix: str) -> Reader:
    """A node's or device's name: a DNS label that every node's /etc/hosts can carry as a name."""
    label = text(v.DNS_LABEL, "a DNS label", fix)

    def read(value: Any, p: Problems) -> Any:
        name = label(value, p)
        why = v.check_name(name) if isinstance(name, str) else None
        if why is not None:
            p.add("", why, f"give the {what} a name with a letter in it, e.g. {EXAMPLE_NAMES[what]}")
            return INVALID
        return name

    return read


def _zerotier_id(pattern: re.Pattern[str], what: str, fix: str) -> Reader:
    """A ZeroTier address or network ID (whose first 10 digits are its controller's address)."""
    read_id = hex_id(pattern, what, fix)

    def read(value: Any, p: Problems) -> Any:
        parsed = read_id(value, p)
        why = v.check_zerotier_address(parsed[:10]) if isinstance(parsed, str) else None
        if why is not None and len(parsed) > 10:
            why = f"its first 10 digits are its controller's address, and {why}"
        if why is not None:
            p.add("", why, fix)
            return INVALID
        return parsed

    return read


ENDPOINT_FIX = "write the head's IPv4 address as the other nodes reach it, e.g. 192.168.10.1"
_endpoint_address = ipv4(ENDPOINT_FIX)


def _endpoint(value: Any, p: Problems) -> Any:
    """``rootEndpoint``: an address other machines can send the moon's traffic to."""
    ip = _endpoint_address(value, p)
    why = v.check_endpoint(ip) if ip is not INVALID else None
    if why is not None:
        p.add("", why, ENDPOINT_FIX)
        return INVALID
    return ip


# --- network -----------------------------------------------------------------


def _cidr(value: Any, p: Problems) -> Any:
    net = v.parse_ipv4_network(value)
    if net is None:
        p.add(
            "",
            spelling(value) or f"{v.shown(value)} is not an IPv4 network in CIDR form (host bits must be zero)",
            "write it like 10.147.17.0/24",
        )
    elif net.prefixlen > 30:
        p.add("", f"{net} has no room for a cluster", "use a /30 or larger, e.g. a /24")
    elif why := v.check_overlay(net):
        p.add("", why, "use a private range no machine already uses, e.g. 10.147.17.0/24")
    else:
        return net
    return INVALID


POOL_FIX = "set both pool.start and pool.end inside network.cidr"
POOL = (
    Field("start", ipv4("use an address inside network.cidr"), REQUIRED, POOL_FIX),
    Field("end", ipv4("use an address inside network.cidr"), REQUIRED, POOL_FIX),
)
NETWORK = (
    Field(
        "name",
        text(
            v.NETWORK_NAME,
            "a usable network name",
            "use up to 64 letters, digits, '.', '_' or '-', starting with a letter or digit, e.g. chpc-overlay",
        ),
        REQUIRED,
        "name the ZeroTier network, e.g. name: chpc-overlay",
    ),
    Field(
        "description",
        text(
            v.ONE_LINE,
            "one line of printable text",
            "write a short sentence without control, bidi or zero-width characters",
        ),
        NetworkSpec.description,
    ),
    Field("cidr", _cidr, REQUIRED, "set the overlay's IPv4 network, e.g. cidr: 10.147.17.0/24"),
    Field("pool", section(POOL, lambda f: Pool(f["start"], f["end"]))),
    Field("slice", ipv4_net("write it like 10.147.17.64/26")),
    Field(
        "networkId",
        _zerotier_id(
            NETWORK_ID_PATTERN,
            "a ZeroTier network ID",
            "use the 16 hex digits ZeroTier Central shows (e.g. 8056c2e21c1930be), or remove it to create one",
        ),
    ),
    Field("manage", flag, True),
    Field("keepSettings", flag, False),
    Field("publicCidr", flag, False),
    Field(
        "fromStack",
        text(v.STACK_NAME, "a stack reference", "write organization/project/stack, e.g. acme/zerotier-cluster/onprem"),
    ),
    Field("mtu", number(*MTU_RANGE), NetworkSpec.mtu),
    Field(
        "interface",
        text(
            INTERFACE_NAME,
            "a usable interface name",
            "use 'zt' and up to 13 lowercase letters, digits, '-' or '_' (e.g. zthpc), so it is never a real NIC",
        ),
    ),
)


def _network(value: Any, p: Problems) -> Any:
    """The network section, then what needs the cidr: pool and slice inside it and apart."""
    f = read_fields(value, NETWORK, p)
    if f is None or f["cidr"] is INVALID:
        return INVALID
    cidr: IPv4Network = f["cidr"]
    pool, slice_ = f["pool"], f["slice"]
    if isinstance(pool, Pool):
        for end, ip in (("start", pool.start), ("end", pool.end)):
            if ip not in cidr or ip in (cidr.network_address, cidr.broadcast_address):
                p.at("pool").add(end, f"{ip} is outside network.cidr {cidr}", f"use a host address inside {cidr}")
                f["pool"] = INVALID
        if f["pool"] is not INVALID and pool.start > pool.end:
            p.add("pool", f"start {pool.start} is after end {pool.end}", "swap them so start <= end")
            f["pool"] = INVALID
    if isinstance(slice_, IPv4Network):
        if not slice_.subnet_of(cidr):
            p.add("slice", f"{slice_} is not inside network.cidr {cidr}", f"choose a part of {cidr}")
        elif isinstance(pool, Pool) and slice_.network_address <= pool.end and pool.start <= slice_.broadcast_address:
            p.add(
                "slice",
                f"{slice_} overlaps network.pool {pool.start}-{pool.end}",
                "keep the auto-assign pool and this stack's slice apart",
            )
    if f["fromStack"] not in (None, INVALID) and f["networkId"] not in (None, INVALID):
        p.add(
            "fromStack",
            "is set together with network.networkId",
            "keep one: fromStack reads the network ID from the owning stack",
        )
    if f["keepSettings"] is True and (f["networkId"] is None or f["manage"] is False):
        p.add(
            "keepSettings",
            "only applies to a network adopted with networkId and manage: true",
            "remove keepSettings, or set networkId to the network to adopt",
        )
    if f["publicCidr"] is False and not any(cidr.subnet_of(private) for private in v.PRIVATE_NETS):
        p.add(
            "cidr",
            f"{cidr} is public address space: every node would route it into the overlay, away from the internet",
            "use a private range (inside 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10), or set "
            "network.publicCidr: true if your organization holds this range and means to route it into the overlay",
        )
        return INVALID
    if not complete(f):
        return INVALID
    return NetworkSpec(**{name: value for name, value in attributes(f, NETWORK).items() if name != "public_cidr"})


# --- ssh and nodes -------------------------------------------------------------


@dataclass(frozen=True)
class SshDefaults:
    """Connection settings that apply to every node unless the node overrides them."""

    user: str | None = None
    port: int = 22
    #: A jump host, HEAD (the head node, resolved later) or None.
    proxy: Proxy | str | None = None
    #: False when ``ssh`` itself was refused: its problem is reported once, not again per node.
    valid: bool = True


PROXY = (
    Field("host", connection_text(v.check_host, HOST_FIX, outputs=False), REQUIRED, "give the jump host's host"),
    Field("user", connection_text(v.check_user, USER_FIX, outputs=False), REQUIRED, "give the jump host's user"),
    Field("port", number(1, 65535), 22),
    Field("hostKey", _host_key),
)


def _proxy(value: Any, p: Problems) -> Any:
    if isinstance(value, str) and value in ("none", HEAD):
        return None if value == "none" else HEAD
    if not isinstance(value, Mapping):
        p.add("", f"{v.shown(value)} is not a jump host", "write head, none, or a mapping with host, user, port")
        return INVALID
    return section(PROXY, lambda f: Proxy(**attributes(f, PROXY)))(value, p)


SSH = (
    Field("user", connection_text(v.check_user, USER_FIX, outputs=False)),
    Field("port", number(1, 65535), 22),
    Field("proxy", _proxy),
)
NODE = (
    Field(
        "name",
        _name("node", "use letters, digits and '-', at most 63, not starting or ending with '-' (e.g. compute-01)"),
        REQUIRED,
        "give every node a name (a DNS label such as compute-01)",
    ),
    Field("role", choice(ROLES, "a role"), "compute"),
    Field(
        "host",
        connection_text(v.check_host, HOST_FIX, outputs=True),
        REQUIRED,
        "give the address the program reaches the node at over SSH",
    ),
    Field("ip", ipv4("write it like 10.147.17.10, or remove it")),
    Field("user", connection_text(v.check_user, USER_FIX, outputs=True)),
    Field("port", number(1, 65535)),
    Field("proxy", _proxy, INHERIT),
    Field("hostKey", _host_key),
    Field("sshdPort", number(1, 65535)),
    Field("state", choice(("active", "evicted")), "active"),
    Field("generation", number(0, 2**31 - 1), 0),
    Field("site", text(v.DNS_LABEL, "a site name", "use letters, digits and '-', e.g. rack-a (default: the stack)")),
)


def parse_node(raw: Any, p: Problems, ssh: SshDefaults) -> tuple[NodeSpec, bool] | None:
    """One node entry (from the stack file or an inventory) into a :class:`NodeSpec`.

    Also says whether the node's jump host is "the head", which can only be
    resolved once every node is known.
    """
    f = read_fields(raw, NODE, p)
    if f is None:
        return None
    user = ssh.user if f["user"] is None else f["user"]
    if user is None and ssh.valid:
        p.add("user", "no login user for this node", f"set {key('ssh.user')} or the node's user")
    proxy = ssh.proxy if f["proxy"] is INHERIT else f["proxy"]
    if not complete(f) or user is None:
        return None
    values = {**attributes(f, NODE), "user": user, "proxy": None if proxy == HEAD else proxy}
    values["port"] = values["port"] or ssh.port
    return NodeSpec(**values, origin=p.key()), proxy == HEAD


def _resolve_head_proxies(parsed: list[tuple[NodeSpec, bool]], p: Problems) -> tuple[NodeSpec, ...]:
    """Replaces ``proxy: head`` with the head node's own connection details."""
    head = next((n for n, _ in parsed if n.role == "head"), None)
    nodes = []
    for node, via_head in parsed:
        if via_head and node is not head:
            if head is None or not isinstance(head.host, str) or not isinstance(head.user, str):
                p.under(node.origin).add(
                    "proxy",
                    "is 'head', but there is no head node here whose host and user are plain text",
                    "give the jump host as a mapping with host, user and port",
                )
            else:
                nodes.append(replace(node, proxy=Proxy(head.host, head.user, head.port, head.host_key)))
                continue
        nodes.append(node)
    return tuple(nodes)


def _node_entries(nodes: Any, inventory: Any, base_dir: Path, p: Problems) -> list[tuple[Any, Problems]]:
    """Raw node entries, each with the scope its problems are named under."""
    if nodes is not None and inventory is not None:
        p.add(
            "inventory",
            "is set together with nodes",
            f"list nodes in {key('nodes')} or in the inventory file, not both",
        )
        return []
    if inventory is not None:
        if not isinstance(inventory, str) or not inventory or "\0" in inventory:
            p.add("inventory", "must be a file path", "write a path relative to the project, e.g. inventory.yaml")
            return []
        entries, problems = load_inventory(base_dir / inventory, shown_as=v.shown(inventory, 200).strip("'\""))
        p.items.extend(problems)
        return [(entry.raw, p.under(entry.origin, ALIASES, entry.places)) for entry in entries]
    if nodes is None:
        p.add(
            "nodes",
            "is missing",
            f"list the head and compute nodes in {key('nodes')} or point {key('inventory')} at a file",
        )
        return []
    if not isinstance(nodes, list) or not nodes or len(nodes) > MAX_LIST_ENTRIES:
        p.add("nodes", f"must be a non-empty list of at most {MAX_LIST_ENTRIES}", "list the head and compute nodes")
        return []
    return [(raw, p.at("nodes").at(f"[{i}]")) for i, raw in enumerate(nodes)]


# --- devices and the remote head ---------------------------------------------


DEVICE = (
    Field("name", _name("device", "name the device like alice-laptop"), REQUIRED, "name the device"),
    Field(
        "address",
        _zerotier_id(
            ZT_ADDRESS, "a ZeroTier address", "use the 10 hex digits `zerotier-cli info` prints on the device"
        ),
        REQUIRED,
        "give the 10 hex digits `zerotier-cli info` prints on the device",
    ),
    Field("ip", ipv4("write it like 10.147.17.240, or remove it")),
    Field(
        "description",
        text(
            v.ONE_LINE,
            "one line of printable text",
            "write a short sentence without control, bidi or zero-width characters",
        ),
        "",
    ),
)


def _device(value: Any, p: Problems) -> Any:
    return section(DEVICE, lambda f: DeviceSpec(**attributes(f, DEVICE), origin=p.key()))(value, p)


REMOTE_HEAD = (
    Field(
        "name",
        _name("head", "use the head's node name in the owning stack"),
        REQUIRED,
        "use the head's node name in the owning stack",
    ),
    Field("ip", ipv4("use the owning stack's headIp output"), REQUIRED, "use the owning stack's headIp output"),
)


# --- firewall ------------------------------------------------------------------

RULE_FIX = "write protocol/port or protocol/first-last, e.g. tcp/443 or udp/60000-61000"


def _ports(value: Any, p: Problems) -> Any:
    match = RULE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        p.add("", f"{v.shown(value)} is not a port rule", RULE_FIX)
        return INVALID
    first, last = int(match[2]), int(match[3] or match[2])
    if not 1 <= first <= last <= 65535:
        p.add("", f"{v.shown(value)} has ports out of order or out of range", RULE_FIX)
        return INVALID
    return PortRule(match[1], first, last)  # type: ignore[arg-type]  # the pattern admits tcp or udp only


SOURCES = list_of(source, "list addresses or networks, e.g. [192.0.2.0/24]", single=True)
RULE_FIELDS = (Field("port", _ports, REQUIRED, RULE_FIX), Field("from", SOURCES, ()))


def rule(*, overlay: bool) -> Reader:
    """``proto/port[-last]`` or ``{port, from}``; ``overlay`` rules admit IPv4 sources only."""

    def read(value: Any, p: Problems) -> Any:
        if not isinstance(value, Mapping):
            return _ports(value, p)
        f = read_fields(value, RULE_FIELDS, p)
        if f is None or not complete(f):
            return INVALID
        if overlay and any(net.version != 4 for net in f["from"]):
            p.add(
                "from",
                "lists an IPv6 network, but the overlay (network.cidr) is IPv4",
                "list overlay ranges such as 10.147.17.0/28, or open the port in firewall.openings instead",
            )
            return INVALID
        return replace(f["port"], sources=f["from"])

    return read


RULES_FIX = "write e.g. [tcp/443, udp/60000-61000]"


def _cluster_ports(value: Any, p: Problems) -> Any:
    return None if value == "all" else list_of(rule(overlay=True), RULES_FIX)(value, p)


def _nft_name(what: str, fix: str) -> Reader:
    return text(v.NFT_NAME, what, fix)


#: Tables distributions and other firewalls own (nftables.conf, iptables-nft, firewalld, ufw, Docker).
DISTRIBUTION_TABLES = ("filter", "nat", "mangle", "raw", "security", "broute", "firewalld", "ufw", "docker")
#: Chain names hosts give their base chains (the hooks, and what nftables.conf and iptables-nft call them).
BASE_CHAINS = ("input", "forward", "output", "prerouting", "postrouting", "ingress", "egress")
INTEGRATE_FIX = "name your existing {}, as `nft list ruleset` shows it (e.g. filter / input)"
INTEGRATE = (
    Field("family", choice(("inet", "ip", "ip6")), "inet"),
    Field(
        "table",
        _nft_name("an nftables table name", INTEGRATE_FIX.format("table")),
        REQUIRED,
        INTEGRATE_FIX.format("table"),
    ),
    Field(
        "chain",
        _nft_name("an nftables chain name", INTEGRATE_FIX.format("chain")),
        REQUIRED,
        INTEGRATE_FIX.format("chain"),
    ),
)
OPENINGS = tuple(Field(role, list_of(rule(overlay=False), RULES_FIX), ()) for role in ROLES)
FIREWALL = (
    Field("mode", choice(("enforce", "integrate", "off")), "enforce"),
    Field(
        "table",
        _nft_name("an nftables name", "use letters, digits and '_', e.g. zerotier_cluster"),
        FirewallSpec.table,
    ),
    Field("integrate", section(INTEGRATE, lambda f: IntegrateTarget(**attributes(f, INTEGRATE)))),
    Field("zerotierPort", number(1, 65535), FirewallSpec.zerotier_port),
    Field("sshFrom", SOURCES, ()),
    Field("computeSsh", choice(("anywhere", "head-and-overlay")), "anywhere"),
    Field("headAddresses", SOURCES, ()),
    Field("clusterPorts", _cluster_ports),
    Field("openings", section(OPENINGS, lambda f: tuple((role, f[role]) for role in ROLES)), ()),
    Field(
        "peers", list_of(ipv4_net("write it like 10.147.17.64/26"), "list overlay networks, e.g. [10.147.17.64/26]"), ()
    ),
    Field("devices", choice(("ssh", "all")), "ssh"),
)


def _firewall(value: Any, p: Problems) -> Any:
    f = read_fields(value, FIREWALL, p)
    if f is None:
        return INVALID
    mode, integrate, table = f["mode"], f["integrate"], f["table"]
    if mode == "integrate" and integrate is None:
        p.add("integrate", "is missing", "set firewall.integrate: {table: filter, chain: input} with mode integrate")
        return INVALID
    if mode not in ("integrate", INVALID) and integrate is not None:
        p.add("integrate", f"is only used with mode integrate (mode is {mode})", "remove it or set mode: integrate")
        return INVALID
    if mode == "enforce" and isinstance(table, str) and table.lower() in DISTRIBUTION_TABLES:
        p.add(
            "table",
            f"names {table!r}, a table the distribution or another firewall owns (inet filter on Debian), which "
            "enforce mode replaces on every run and deletes on destroy",
            "keep the program's own table: remove firewall.table (default zerotier_cluster), or name one nothing else "
            "uses; to add to your own table, use mode: integrate",
        )
        return INVALID
    if mode == "integrate" and isinstance(table, str) and table.lower() in BASE_CHAINS:
        p.add(
            "table",
            f"names {table!r}, which in integrate mode is the program's own chain in your table: a chain of that "
            "name (a base chain on most hosts) would be taken over and flushed",
            "remove firewall.table (default zerotier_cluster), or name a chain nothing else uses",
        )
        return INVALID
    if isinstance(integrate, IntegrateTarget) and integrate.chain == table:
        p.add(
            "table",
            f"names the program's chain {table!r}, which is also firewall.integrate.chain",
            "choose another name for the program's chain, e.g. zerotier_cluster",
        )
        return INVALID
    return FirewallSpec(**attributes(f, FIREWALL)) if complete(f) else INVALID


# --- the whole stack -------------------------------------------------------------

INSTALLER = (
    Field("url", _url, ProvisionSpec.installer_url, attr="installer_url"),
    Field("keyUrl", _url, ProvisionSpec.signing_key_url, attr="signing_key_url"),
    Field("keyFingerprint", _fingerprint, ProvisionSpec.signing_key_fingerprint, attr="signing_key_fingerprint"),
)
VERIFY = (Field("requireDirect", flag, False),)
PROVISION = (
    Field(
        "zerotierVersion",
        text(v.VERSION, "a ZeroTier One version", "write it like 1.14.1"),
        ProvisionSpec.zerotier_version,
    ),
    Field("joinTimeout", number(10, 3600), ProvisionSpec.join_timeout),
    Field("verifyTimeout", number(5, 3600), ProvisionSpec.verify_timeout),
    Field("uninstallOnDestroy", flag, False),
)
TOP = (
    Field("network", _network, REQUIRED, f"set {key('network')} in Pulumi.<stack>.yaml (see README)"),
    Field("ssh", section(SSH, lambda f: SshDefaults(**attributes(f, SSH))), SshDefaults()),
    Field("sshPrivateKey", _plain_secret),
    Field("nodes", _raw),
    Field("inventory", _raw),
    Field("devices", list_of(_device, "list devices with name and address"), ()),
    Field("remoteHead", section(REMOTE_HEAD, lambda f: RemoteHead(**attributes(f, REMOTE_HEAD)))),
    Field("firewall", _firewall, FirewallSpec()),
    *PROVISION,
    Field("installer", section(INSTALLER, lambda f: attributes(f, INSTALLER)), {}),
    Field("verify", section(VERIFY, lambda f: attributes(f, VERIFY)), {}),
    Field("rules", _rules, RulesSpec()),
    Field("controller", choice(("central", "head")), "central"),
    Field("roots", choice(("public", "head")), "public"),
    Field("rootEndpoint", _endpoint),
    Field("policy", read_policy, ()),
    Field("zerotier", read_dataplane, DataplaneSpec()),
)
#: Every key the program reads, in the project's namespace.
KNOWN_KEYS = tuple(f.name for f in TOP)


def parse_cluster(config: Any, *, base_dir: Path, stack: str = "cluster") -> ClusterSpec:
    """Validates ``config`` (keys without the ``zerotier-cluster:`` prefix) into a spec.

    ``base_dir`` resolves a relative ``inventory`` path (the project directory);
    ``stack`` is the site of every node that names none.
    """
    p = Problems()
    top = read_fields(config, TOP, p)
    if top is None:
        p.raise_if_any()
    assert top is not None
    ssh = top["ssh"] if isinstance(top["ssh"], SshDefaults) else SshDefaults(valid=False)
    entries = _node_entries(top["nodes"], top["inventory"], base_dir, p)
    parsed = [node for raw, scope in entries if (node := parse_node(raw, scope, ssh))]
    nodes = _resolve_head_proxies(parsed, p)
    p.raise_if_any()
    spec = ClusterSpec(
        network=top["network"],
        nodes=nodes,
        devices=top["devices"],
        firewall=top["firewall"],
        provision=ProvisionSpec(**attributes(top, PROVISION), **top["installer"], **top["verify"]),
        remote_head=top["remoteHead"],
        rules=top["rules"],
        controller=top["controller"],
        roots=top["roots"],
        root_endpoint=top["rootEndpoint"],
        policy=top["policy"],
        dataplane=top["zerotier"],
        default_site=stack,
    )
    check_cluster(spec, p)
    policy_problems(spec, p)
    check_dataplane(spec, p)
    p.raise_if_any()
    return spec


def namespace_problems(keys: Iterable[object], *, secret_keys: Iterable[str] | None = None) -> list[Problem]:
    """Config keys the program would never read, and a Central token stored in plain text.

    A namespace that looks like a typo of this project's (``zerotier-clustr:``)
    and one of this program's settings under the provider's namespace
    (``zerotier:nodes``) are kept by Pulumi without complaint and never read.
    With ``secret_keys`` (the keys Pulumi holds encrypted), a Central token
    outside them sits in plain text in the stack file and in the state.
    """
    problems = []
    for config_key in keys:
        if not isinstance(config_key, str):
            problems.append(Problem(v.shown(config_key), "is not a namespace:key name", "write it as text"))
            continue
        namespace, _, name = config_key.partition(":")
        if namespace == PROVIDER_NAMESPACE and name.split(".")[0] in KNOWN_KEYS:
            problems.append(
                Problem(
                    printable(config_key),
                    f"is a setting of this program in the ZeroTier provider's namespace {PROVIDER_NAMESPACE!r}",
                    f"write it as {printable(key(name))}",
                )
            )
        elif namespace != NAMESPACE and difflib.get_close_matches(namespace[:64], [NAMESPACE], n=1, cutoff=0.8):
            problems.append(
                Problem(
                    printable(config_key),
                    f"is in namespace {printable(namespace)!r}, which looks like a typo of {NAMESPACE!r}",
                    f"write it as {printable(key(name))}",
                )
            )
        elif config_key == CENTRAL_TOKEN_KEY and secret_keys is not None and config_key not in secret_keys:
            problems.append(plain_token_problem())
    return problems


def plain_token_problem() -> Problem:
    """The Central token given as plain config: it would sit unencrypted in the stack file and the state."""
    return Problem(
        CENTRAL_TOKEN_KEY,
        "is in plain text in the stack file (anyone who reads the repository can control the network)",
        f"remove it, revoke it at my.zerotier.com, and run `pulumi config set --secret {CENTRAL_TOKEN_KEY}`",
    )
