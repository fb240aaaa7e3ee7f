"""The stack configuration, the user-facing interface, turned into a :class:`ClusterSpec`.

Input is the project's config as plain data (``{"network": {...}, "nodes": [...]}``),
whether it came from Pulumi's engine or straight from ``Pulumi.<stack>.yaml``.
Every problem is collected, named by its config key and paired with a fix, and
raised together as one :class:`ConfigError` before anything is declared.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any, cast

from . import validate as v
from .addressing import allocate
from .errors import ConfigError, Problem
from .inventory import load_inventory
from .spec import (
    ROLES,
    ClusterSpec,
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
    Role,
    SourceNet,
)

NAMESPACE = "zerotier-cluster"

#: Every key the program reads, in the project's namespace.
KNOWN_KEYS = (
    "network",
    "ssh",
    "sshPrivateKey",
    "nodes",
    "inventory",
    "devices",
    "remoteHead",
    "firewall",
    "zerotierVersion",
    "joinTimeout",
    "verifyTimeout",
    "uninstallOnDestroy",
    "installer",
)
SECRET_KEYS = ("sshPrivateKey",)

NODE_KEYS = ("name", "role", "host", "ip", "user", "port", "proxy", "hostKey", "sshdPort")
KeyOf = Callable[[str], str]


class Problems:
    """Collects problems so every one of them is reported in a single run."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, key: str, message: str, fix: str) -> None:
        self.items.append(Problem(key, message, fix))

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigError(self.items)


def key(path: str) -> str:
    return f"{NAMESPACE}:{path}"


def parse_cluster(config: Mapping[str, Any], *, base_dir: Path) -> ClusterSpec:
    """Validates ``config`` (keys without the ``zerotier-cluster:`` prefix) into a spec.

    ``base_dir`` resolves a relative ``inventory`` path (the project directory).
    """
    problems = Problems()
    _check_unknown_keys(config, problems)
    network = _parse_network(config.get("network"), problems)
    ssh = _parse_ssh(config.get("ssh"), problems)
    raw_nodes = _node_sources(config, base_dir, problems)
    parsed = [p for raw, key_of in raw_nodes if (p := parse_node(raw, key_of, ssh, problems))]
    nodes = _resolve_head_proxies(parsed, problems)
    devices = _parse_devices(config.get("devices"), problems)
    remote_head = _parse_remote_head(config.get("remoteHead"), problems)
    firewall = _parse_firewall(config.get("firewall"), problems)
    provision = _parse_provision(config, problems)
    problems.raise_if_any()
    assert network is not None
    spec = ClusterSpec(
        network=network,
        nodes=nodes,
        devices=devices,
        firewall=firewall,
        provision=provision,
        remote_head=remote_head,
    )
    check_cluster(spec, problems)
    problems.raise_if_any()
    return spec


def check_cluster(spec: ClusterSpec, problems: Problems) -> None:
    """Checks that need the whole cluster: names, roles, addresses, lock-out safety."""
    _check_names(spec, problems)
    _check_roles(spec, problems)
    _check_lockout(spec, problems)
    if not problems.items:
        try:
            allocate(spec)
        except ConfigError as err:
            problems.items.extend(err.problems)


# --- helpers -----------------------------------------------------------------


def _check_unknown_keys(config: Mapping[str, Any], problems: Problems) -> None:
    for name in sorted(set(config) - set(KNOWN_KEYS)):
        close = difflib.get_close_matches(name, KNOWN_KEYS, n=1)
        hint = f"did you mean {key(close[0])}?" if close else "remove it"
        problems.add(key(name), "is not a setting this program reads", hint)


def _mapping(value: Any, k: str, problems: Problems, *, required: bool) -> Mapping[str, Any] | None:
    if value is None:
        if required:
            problems.add(key(k), "is missing", f"set {key(k)} in Pulumi.<stack>.yaml (see README)")
        return None
    if not isinstance(value, Mapping):
        problems.add(key(k), f"must be a mapping, got {type(value).__name__}", "write it as YAML keys")
        return None
    return value


def _unknown_fields(raw: Mapping[str, Any], allowed: Sequence[str], key_of: KeyOf, problems: Problems) -> None:
    for name in sorted(set(raw) - set(allowed)):
        close = difflib.get_close_matches(str(name), allowed, n=1)
        problems.add(
            key_of(str(name)),
            "is not a recognised field",
            f"did you mean {close[0]!r}?" if close else f"use one of: {', '.join(allowed)}",
        )


def _int(value: Any, k: str, problems: Problems, *, low: int, high: int, default: int | None = None) -> int | None:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        problems.add(k, f"must be a whole number, got {value!r}", f"use a number from {low} to {high}")
        return default
    try:
        number = int(value)
    except ValueError:
        problems.add(k, f"must be a whole number, got {value!r}", f"use a number from {low} to {high}")
        return default
    if not low <= number <= high:
        problems.add(k, f"{number} is out of range", f"use a number from {low} to {high}")
        return default
    return number


def _bool(value: Any, k: str, problems: Problems, *, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    problems.add(k, f"must be true or false, got {value!r}", "write true or false")
    return default


def _choice(value: Any, k: str, choices: Sequence[str], problems: Problems, default: str) -> str:
    if value is None:
        return default
    if value not in choices:
        problems.add(k, f"{value!r} is not one of {', '.join(choices)}", f"use one of: {', '.join(choices)}")
        return default
    return str(value)


def _sources(value: Any, k: str, problems: Problems) -> tuple[SourceNet, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    result: list[SourceNet] = []
    for i, item in enumerate(items):
        net = v.parse_source(item)
        if net is None:
            problems.add(
                f"{k}[{i}]",
                f"{item!r} is not an address or network in CIDR form",
                "write it like 192.0.2.0/24, 198.51.100.7 or 2001:db8::/32 (host bits zero)",
            )
        else:
            result.append(net)
    return tuple(result)


# --- network ---------------------------------------------------------------


def _parse_network(value: Any, problems: Problems) -> NetworkSpec | None:
    raw = _mapping(value, "network", problems, required=True)
    if raw is None:
        return None
    allowed = ("name", "description", "cidr", "pool", "slice", "networkId", "manage", "fromStack", "interface")
    _unknown_fields(raw, allowed, lambda f: key(f"network.{f}"), problems)

    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.add(key("network.name"), "is missing", "name the ZeroTier network, e.g. name: chpc-overlay")
        name = ""
    description = raw.get("description", NetworkSpec.description)
    if not isinstance(description, str):
        problems.add(key("network.description"), "must be text", "write a short sentence")
        description = NetworkSpec.description

    cidr_raw = raw.get("cidr")
    cidr = v.parse_ipv4_network(cidr_raw) if cidr_raw is not None else None
    if cidr_raw is None:
        problems.add(key("network.cidr"), "is missing", "set the overlay's IPv4 network, e.g. cidr: 10.147.17.0/24")
        return None
    if cidr is None:
        problems.add(
            key("network.cidr"),
            f"{cidr_raw!r} is not an IPv4 network in CIDR form (host bits must be zero)",
            "write it like 10.147.17.0/24",
        )
        return None
    if cidr.prefixlen > 30:
        problems.add(key("network.cidr"), f"{cidr} has no room for a cluster", "use a /30 or larger, e.g. a /24")
        return None

    pool = _parse_pool(raw.get("pool"), cidr, problems)
    slice_ = _parse_slice(raw.get("slice"), cidr, pool, problems)

    network_id = raw.get("networkId")
    if network_id is not None:
        network_id = str(network_id).strip().lower()
        if not v.NETWORK_ID.match(network_id):
            problems.add(
                key("network.networkId"),
                f"{raw.get('networkId')!r} is not a ZeroTier network ID",
                "use the 16 hex digits ZeroTier Central shows (e.g. 8056c2e21c1930be), or remove it to create one",
            )
            network_id = None
    manage = _bool(raw.get("manage"), key("network.manage"), problems, default=True)
    from_stack = raw.get("fromStack")
    if from_stack is not None:
        if not isinstance(from_stack, str) or not v.STACK_NAME.match(from_stack):
            problems.add(
                key("network.fromStack"),
                f"{from_stack!r} is not a stack reference",
                "write organization/project/stack, e.g. acme/zerotier-cluster/onprem",
            )
            from_stack = None
        elif network_id is not None:
            problems.add(
                key("network.fromStack"),
                "is set together with network.networkId",
                "keep one: fromStack reads the network ID from the owning stack",
            )
    interface = raw.get("interface")
    if interface is not None and (not isinstance(interface, str) or not v.IFNAME.match(interface)):
        problems.add(
            key("network.interface"),
            f"{interface!r} is not a usable interface name",
            "use up to 15 letters, digits, '-' or '_', starting with a letter, e.g. zthpc",
        )
        interface = None
    return NetworkSpec(
        name=str(name),
        cidr=cidr,
        description=str(description),
        pool=pool,
        slice=slice_,
        network_id=network_id,
        manage=manage,
        from_stack=from_stack,
        interface=interface,
    )


def _parse_pool(value: Any, cidr: IPv4Network, problems: Problems) -> Pool | None:
    raw = _mapping(value, "network.pool", problems, required=False)
    if raw is None:
        return None
    _unknown_fields(raw, ("start", "end"), lambda f: key(f"network.pool.{f}"), problems)
    ends: dict[str, IPv4Address] = {}
    for end in ("start", "end"):
        k = key(f"network.pool.{end}")
        ip = v.parse_ipv4(raw.get(end))
        if raw.get(end) is None:
            problems.add(k, "is missing", f"set both pool.start and pool.end inside {cidr}")
        elif ip is None:
            problems.add(k, f"{raw.get(end)!r} is not an IPv4 address", f"use an address inside {cidr}")
        elif ip not in cidr or ip in (cidr.network_address, cidr.broadcast_address):
            problems.add(k, f"{ip} is outside network.cidr {cidr}", f"use a host address inside {cidr}")
        else:
            ends[end] = ip
    if len(ends) != 2:
        return None
    if ends["start"] > ends["end"]:
        problems.add(
            key("network.pool"),
            f"start {ends['start']} is after end {ends['end']}",
            "swap them so start <= end",
        )
        return None
    return Pool(ends["start"], ends["end"])


def _parse_slice(value: Any, cidr: IPv4Network, pool: Pool | None, problems: Problems) -> IPv4Network | None:
    if value is None:
        return None
    k = key("network.slice")
    net = v.parse_ipv4_network(value)
    if net is None:
        problems.add(k, f"{value!r} is not an IPv4 network in CIDR form", "write it like 10.147.17.64/26")
        return None
    if not net.subnet_of(cidr):
        problems.add(k, f"{net} is not inside network.cidr {cidr}", f"choose a part of {cidr}")
        return None
    if pool is not None and net.network_address <= pool.end and pool.start <= net.broadcast_address:
        problems.add(
            k,
            f"{net} overlaps network.pool {pool.start}-{pool.end}",
            "keep the auto-assign pool and this stack's slice apart",
        )
        return None
    return net


# --- ssh and nodes -------------------------------------------------------------


class SshDefaults:
    """Connection settings that apply to every node unless the node overrides them."""

    def __init__(self, user: str | None, port: int, proxy: Proxy | None, proxy_is_head: bool) -> None:
        self.user = user
        self.port = port
        self.proxy = proxy
        self.proxy_is_head = proxy_is_head


def _parse_ssh(value: Any, problems: Problems) -> SshDefaults:
    raw = _mapping(value, "ssh", problems, required=False) or {}
    _unknown_fields(raw, ("user", "port", "proxy"), lambda f: key(f"ssh.{f}"), problems)
    user = raw.get("user")
    if user is not None:
        why = v.check_user(user) if isinstance(user, str) else "must be text"
        if why:
            problems.add(key("ssh.user"), why, "use a plain login name, e.g. ubuntu")
            user = None
    port = _int(raw.get("port"), key("ssh.port"), problems, low=1, high=65535, default=22)
    proxy, proxy_is_head = _parse_proxy(raw.get("proxy"), lambda f: key(f"ssh.proxy{f}"), problems)
    return SshDefaults(user, port or 22, proxy, proxy_is_head)


def _parse_proxy(value: Any, key_of: KeyOf, problems: Problems) -> tuple[Proxy | None, bool]:
    """Returns the jump host, and whether it is "the head node" (resolved later)."""
    if value is None or value == "none":
        return None, False
    if value == "head":
        return None, True
    if not isinstance(value, Mapping):
        problems.add(
            key_of(""), f"{value!r} is not a jump host", "write head, none, or a mapping with host, user, port"
        )
        return None, False
    _unknown_fields(value, ("host", "user", "port"), lambda f: key_of(f".{f}"), problems)
    host, user = value.get("host"), value.get("user")
    ok = True
    for field_name, field_value, check in (("host", host, v.check_host), ("user", user, v.check_user)):
        if not isinstance(field_value, str):
            problems.add(key_of(f".{field_name}"), "is missing", f"give the jump host's {field_name}")
            ok = False
        elif why := check(field_value):
            problems.add(key_of(f".{field_name}"), why, "use a plain hostname/IP and login name")
            ok = False
    port = _int(value.get("port"), key_of(".port"), problems, low=1, high=65535, default=22)
    if not ok:
        return None, False
    return Proxy(str(host), str(user), port or 22), False


def parse_node(raw: Any, key_of: KeyOf, ssh: SshDefaults, problems: Problems) -> tuple[NodeSpec, bool] | None:
    """One node entry (from the stack file or an inventory) into a :class:`NodeSpec`.

    Also says whether the node's jump host is "the head", which can only be
    resolved once every node is known.
    """
    if not isinstance(raw, Mapping):
        problems.add(key_of(""), f"must be a mapping, got {raw!r}", "write name, role and host keys")
        return None
    _unknown_fields(raw, NODE_KEYS, key_of, problems)
    before = len(problems.items)
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        problems.add(key_of("name"), "is missing", "give every node a name (a DNS label such as compute-01)")
        name = ""
    elif not v.DNS_LABEL.match(name):
        problems.add(
            key_of("name"),
            f"{name!r} is not a DNS label",
            "use letters, digits and '-', at most 63, not starting or ending with '-' (e.g. compute-01)",
        )
    role = raw.get("role", "compute")
    if role not in ROLES:
        problems.add(key_of("role"), f"{role!r} is not a role", "use head or compute")
    host = raw.get("host")
    if host is None or host == "":
        problems.add(key_of("host"), "is missing", "give the address the program reaches the node at over SSH")
    elif isinstance(host, str):
        if why := v.check_host(host):
            problems.add(key_of("host"), why, "use a plain hostname or IP address")
    elif not _is_output(host):
        problems.add(key_of("host"), f"must be text, got {host!r}", "use a hostname or IP address")
    user = raw.get("user", ssh.user)
    if user is None:
        problems.add(key_of("user"), "no login user for this node", f"set {key('ssh.user')} or the node's user")
    elif isinstance(user, str):
        if why := v.check_user(user):
            problems.add(key_of("user"), why, "use a plain login name, e.g. ubuntu")
    elif not _is_output(user):
        problems.add(key_of("user"), f"must be text, got {user!r}", "use a plain login name")
    port = _int(raw.get("port"), key_of("port"), problems, low=1, high=65535, default=ssh.port)
    sshd_port = _int(raw.get("sshdPort"), key_of("sshdPort"), problems, low=1, high=65535)
    ip_raw = raw.get("ip")
    ip = v.parse_ipv4(ip_raw) if ip_raw is not None else None
    if ip_raw is not None and ip is None:
        problems.add(key_of("ip"), f"{ip_raw!r} is not an IPv4 address", "write it like 10.147.17.10, or remove it")
    host_key = raw.get("hostKey")
    if host_key is not None and (not isinstance(host_key, str) or not v.HOST_KEY.match(host_key.strip())):
        problems.add(
            key_of("hostKey"),
            "is not an OpenSSH public host key",
            "paste one line of `ssh-keyscan -t ed25519 HOST` without the host name, e.g. 'ssh-ed25519 AAAA...'",
        )
    if "proxy" in raw:
        proxy, proxy_is_head = _parse_proxy(raw.get("proxy"), lambda f: key_of(f"proxy{f}"), problems)
    else:
        proxy, proxy_is_head = ssh.proxy, ssh.proxy_is_head
    if len(problems.items) != before:
        return None
    assert host is not None  # checked above
    assert user is not None
    node = NodeSpec(
        name=str(name),
        role=cast(Role, role),
        host=host,
        user=user,
        port=port or 22,
        ip=ip,
        proxy=proxy,
        host_key=host_key.strip() if isinstance(host_key, str) else None,
        sshd_port=sshd_port,
        origin=key_of(""),
    )
    return node, proxy_is_head


def _resolve_head_proxies(parsed: list[tuple[NodeSpec, bool]], problems: Problems) -> tuple[NodeSpec, ...]:
    """Replaces ``proxy: head`` with the head node's own connection details."""
    head = next((n for n, _ in parsed if n.role == "head"), None)
    nodes = []
    for node, via_head in parsed:
        if via_head and node is not head:
            if head is None or not isinstance(head.host, str) or not isinstance(head.user, str):
                problems.add(
                    f"{node.origin}.proxy",
                    "is 'head', but there is no head node here whose host and user are plain text",
                    "give the jump host as a mapping with host, user and port",
                )
            else:
                nodes.append(replace(node, proxy=Proxy(head.host, head.user, head.port)))
                continue
        nodes.append(node)
    return tuple(nodes)


def _is_output(value: Any) -> bool:
    try:
        import pulumi
    except ImportError:  # pragma: no cover - pulumi is a hard dependency
        return False
    return isinstance(value, pulumi.Output)


def _node_sources(config: Mapping[str, Any], base_dir: Path, problems: Problems) -> list[tuple[Any, KeyOf]]:
    nodes, inventory = config.get("nodes"), config.get("inventory")
    if nodes is not None and inventory is not None:
        problems.add(
            key("inventory"),
            "is set together with nodes",
            f"list nodes in {key('nodes')} or in the inventory file, not both",
        )
        return []
    if inventory is not None:
        if not isinstance(inventory, str):
            problems.add(
                key("inventory"), "must be a file path", "write a path relative to the project, e.g. inventory.yaml"
            )
            return []
        entries, inventory_problems = load_inventory(base_dir / inventory, shown_as=inventory)
        problems.items.extend(inventory_problems)
        return entries
    if nodes is None:
        problems.add(
            key("nodes"),
            "is missing",
            f"list the head and compute nodes in {key('nodes')} or point {key('inventory')} at a file",
        )
        return []
    if not isinstance(nodes, list) or not nodes:
        problems.add(key("nodes"), "must be a non-empty list", "list the head and compute nodes")
        return []
    return [(raw, _node_key(i)) for i, raw in enumerate(nodes)]


def _node_key(index: int) -> KeyOf:
    return lambda field: key(f"nodes[{index}]" + (f".{field}" if field else ""))


def _parse_devices(value: Any, problems: Problems) -> tuple[DeviceSpec, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.add(key("devices"), "must be a list", "list devices with name and address")
        return ()
    devices = []
    for i, raw in enumerate(value):
        k = key(f"devices[{i}]")
        if not isinstance(raw, Mapping):
            problems.add(k, "must be a mapping", "write name and address keys")
            continue
        _unknown_fields(raw, ("name", "address", "ip", "description"), _prefixed(k), problems)
        name, address = raw.get("name"), str(raw.get("address", "")).strip().lower()
        ok = True
        if not isinstance(name, str) or not v.DNS_LABEL.match(name):
            problems.add(f"{k}.name", f"{name!r} is not a DNS label", "name the device like alice-laptop")
            ok = False
        if not v.ZT_ADDRESS.match(address):
            problems.add(
                f"{k}.address",
                f"{raw.get('address')!r} is not a ZeroTier address",
                "use the 10 hex digits `zerotier-cli info` prints on the device",
            )
            ok = False
        ip_raw = raw.get("ip")
        ip = v.parse_ipv4(ip_raw) if ip_raw is not None else None
        if ip_raw is not None and ip is None:
            problems.add(f"{k}.ip", f"{ip_raw!r} is not an IPv4 address", "write it like 10.147.17.240, or remove it")
            ok = False
        if ok:
            devices.append(
                DeviceSpec(
                    name=str(name),
                    address=address,
                    ip=ip,
                    description=str(raw.get("description", "")),
                    origin=k,
                )
            )
    return tuple(devices)


def _prefixed(prefix: str) -> KeyOf:
    return lambda field: f"{prefix}.{field}"


def _parse_remote_head(value: Any, problems: Problems) -> RemoteHead | None:
    raw = _mapping(value, "remoteHead", problems, required=False)
    if raw is None:
        return None
    _unknown_fields(raw, ("name", "ip"), lambda f: key(f"remoteHead.{f}"), problems)
    name, ip = raw.get("name"), v.parse_ipv4(raw.get("ip"))
    if not isinstance(name, str) or not v.DNS_LABEL.match(name):
        problems.add(
            key("remoteHead.name"), f"{name!r} is not a DNS label", "use the head's node name in the owning stack"
        )
        return None
    if ip is None:
        problems.add(
            key("remoteHead.ip"), f"{raw.get('ip')!r} is not an IPv4 address", "use the owning stack's headIp output"
        )
        return None
    return RemoteHead(name, ip)


# --- firewall ------------------------------------------------------------------


def _parse_rule(value: Any, k: str, problems: Problems, *, overlay: bool) -> PortRule | None:
    """One ``proto/port[-last]`` rule, or ``{port, from}``; ``overlay`` rules admit IPv4 sources only."""
    sources: tuple[SourceNet, ...] = ()
    spec = value
    if isinstance(value, Mapping):
        _unknown_fields(value, ("port", "from"), lambda f: f"{k}.{f}", problems)
        spec = value.get("port")
        sources = _sources(value.get("from"), f"{k}.from", problems)
        if overlay and any(net.version != 4 for net in sources):
            problems.add(
                f"{k}.from",
                "lists an IPv6 network, but the overlay (network.cidr) is IPv4",
                "list overlay ranges such as 10.147.17.0/28, or open the port in firewall.openings instead",
            )
    fix = "write protocol/port or protocol/first-last, e.g. tcp/443 or udp/60000-61000"
    if not isinstance(spec, str) or "/" not in spec:
        problems.add(k, f"{spec!r} is not a port rule", fix)
        return None
    proto, _, ports = spec.partition("/")
    first_s, _, last_s = ports.partition("-")
    if proto not in ("tcp", "udp") or not first_s.isdigit() or (last_s and not last_s.isdigit()):
        problems.add(k, f"{spec!r} is not a port rule", fix)
        return None
    first, last = int(first_s), int(last_s or first_s)
    if not (1 <= first <= last <= 65535):
        problems.add(k, f"{spec!r} has ports out of order or out of range", fix)
        return None
    return PortRule(cast(Any, proto), first, last, sources)


def _rules(value: Any, k: str, problems: Problems, *, overlay: bool = False) -> tuple[PortRule, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.add(k, "must be a list of port rules", "write e.g. [tcp/443, udp/60000-61000]")
        return ()
    return tuple(r for i, item in enumerate(value) if (r := _parse_rule(item, f"{k}[{i}]", problems, overlay=overlay)))


def _parse_firewall(value: Any, problems: Problems) -> FirewallSpec:
    raw = _mapping(value, "firewall", problems, required=False) or {}
    allowed = (
        "mode", "table", "integrate", "zerotierPort", "sshFrom", "computeSsh",
        "headAddresses", "clusterPorts", "openings", "peers", "devices",
    )  # fmt: skip
    _unknown_fields(raw, allowed, lambda f: key(f"firewall.{f}"), problems)
    mode = _choice(raw.get("mode"), key("firewall.mode"), ("enforce", "integrate", "off"), problems, "enforce")
    table = raw.get("table", FirewallSpec.table)
    if not isinstance(table, str) or not v.NFT_NAME.match(table):
        problems.add(
            key("firewall.table"),
            f"{table!r} is not an nftables name",
            "use letters, digits and '_', e.g. zerotier_cluster",
        )
        table = FirewallSpec.table
    integrate = None
    if mode == "integrate":
        integrate = _parse_integrate(raw.get("integrate"), problems)
    elif raw.get("integrate") is not None:
        problems.add(
            key("firewall.integrate"),
            f"is only used with mode integrate (mode is {mode})",
            "remove it or set mode: integrate",
        )
    cluster_raw = raw.get("clusterPorts", "all")
    cluster_ports = (
        None if cluster_raw == "all" else _rules(cluster_raw, key("firewall.clusterPorts"), problems, overlay=True)
    )
    if integrate is not None and integrate.chain == table:
        problems.add(
            key("firewall.table"),
            f"names the program's chain {table!r}, which is also firewall.integrate.chain",
            "choose another name for the program's chain, e.g. zerotier_cluster",
        )
    openings_raw = _mapping(raw.get("openings"), "firewall.openings", problems, required=False) or {}
    _unknown_fields(openings_raw, ROLES, lambda f: key(f"firewall.openings.{f}"), problems)
    openings = tuple(
        (role, _rules(openings_raw.get(role), key(f"firewall.openings.{role}"), problems)) for role in ROLES
    )
    peers = []
    for i, item in enumerate(raw.get("peers") or []):
        net = v.parse_ipv4_network(item)
        if net is None:
            problems.add(
                key(f"firewall.peers[{i}]"), f"{item!r} is not an IPv4 network", "write it like 10.147.17.64/26"
            )
        else:
            peers.append(net)
    return FirewallSpec(
        mode=cast(Any, mode),
        table=table,
        integrate=integrate,
        zerotier_port=_int(
            raw.get("zerotierPort"), key("firewall.zerotierPort"), problems, low=1, high=65535, default=9993
        )
        or 9993,
        ssh_from=_sources(raw.get("sshFrom"), key("firewall.sshFrom"), problems),
        compute_ssh=cast(
            Any,
            _choice(
                raw.get("computeSsh"),
                key("firewall.computeSsh"),
                ("anywhere", "head-and-overlay"),
                problems,
                "anywhere",
            ),
        ),
        head_addresses=_sources(raw.get("headAddresses"), key("firewall.headAddresses"), problems),
        cluster_ports=cluster_ports,
        openings=openings,
        peers=tuple(peers),
        devices=cast(Any, _choice(raw.get("devices"), key("firewall.devices"), ("ssh", "all"), problems, "ssh")),
    )


def _parse_integrate(value: Any, problems: Problems) -> IntegrateTarget | None:
    raw = _mapping(value, "firewall.integrate", problems, required=True)
    if raw is None:
        return None
    _unknown_fields(raw, ("family", "table", "chain"), lambda f: key(f"firewall.integrate.{f}"), problems)
    family = _choice(raw.get("family"), key("firewall.integrate.family"), ("inet", "ip", "ip6"), problems, "inet")
    names = {}
    for field_name in ("table", "chain"):
        name = raw.get(field_name)
        if not isinstance(name, str) or not v.NFT_NAME.match(name):
            problems.add(
                key(f"firewall.integrate.{field_name}"),
                f"{name!r} is not an nftables {field_name} name",
                f"name your existing {field_name}, as `nft list ruleset` shows it (e.g. filter / input)",
            )
            return None
        names[field_name] = name
    return IntegrateTarget(family, names["table"], names["chain"])


# --- provisioning ----------------------------------------------------------------


def _parse_provision(config: Mapping[str, Any], problems: Problems) -> ProvisionSpec:
    defaults = ProvisionSpec()
    version = config.get("zerotierVersion", defaults.zerotier_version)
    if not isinstance(version, str) or not v.VERSION.match(version):
        problems.add(key("zerotierVersion"), f"{version!r} is not a ZeroTier One version", "write it like 1.14.1")
        version = defaults.zerotier_version
    installer = _mapping(config.get("installer"), "installer", problems, required=False) or {}
    _unknown_fields(installer, ("url", "keyUrl", "keyFingerprint"), lambda f: key(f"installer.{f}"), problems)
    urls = {}
    for field_name, default in (("url", defaults.installer_url), ("keyUrl", defaults.signing_key_url)):
        url = installer.get(field_name, default)
        if not isinstance(url, str) or not v.URL.match(url):
            problems.add(
                key(f"installer.{field_name}"),
                f"{url!r} is not an http(s) URL",
                "write a full URL such as https://mirror.example/zerotier/",
            )
            url = default
        urls[field_name] = url
    fingerprint = str(installer.get("keyFingerprint", defaults.signing_key_fingerprint)).replace(" ", "").upper()
    if not v.FINGERPRINT.match(fingerprint):
        problems.add(key("installer.keyFingerprint"), "is not an OpenPGP fingerprint", "write the key's 40 hex digits")
        fingerprint = defaults.signing_key_fingerprint
    return ProvisionSpec(
        zerotier_version=version,
        join_timeout=_int(
            config.get("joinTimeout"), key("joinTimeout"), problems, low=10, high=3600, default=defaults.join_timeout
        )
        or defaults.join_timeout,
        verify_timeout=_int(
            config.get("verifyTimeout"),
            key("verifyTimeout"),
            problems,
            low=5,
            high=3600,
            default=defaults.verify_timeout,
        )
        or defaults.verify_timeout,
        uninstall_on_destroy=_bool(
            config.get("uninstallOnDestroy"), key("uninstallOnDestroy"), problems, default=False
        ),
        installer_url=urls["url"],
        signing_key_url=urls["keyUrl"],
        signing_key_fingerprint=fingerprint,
    )


# --- whole-cluster checks ---------------------------------------------------------


def _check_names(spec: ClusterSpec, problems: Problems) -> None:
    seen: dict[str, str] = {}
    for origin, name in [(n.origin, n.name) for n in spec.nodes] + [(d.origin, d.name) for d in spec.devices]:
        other = seen.get(name.lower())
        if other is not None:
            problems.add(
                f"{origin}.name", f"{name!r} is already used by {other}", "give every node and device its own name"
            )
        else:
            seen[name.lower()] = origin
    if spec.remote_head is not None and spec.remote_head.name.lower() in seen:
        problems.add(
            key("remoteHead.name"), f"{spec.remote_head.name!r} is also a node or device here", "rename one of them"
        )
    addresses: dict[str, str] = {}
    for device in spec.devices:
        if device.address in addresses:
            problems.add(
                f"{device.origin}.address",
                f"is the same device as {addresses[device.address]}",
                "list each device once",
            )
        addresses[device.address] = device.origin


def _check_roles(spec: ClusterSpec, problems: Problems) -> None:
    heads = [n for n in spec.nodes if n.role == "head"]
    if spec.remote_head is not None:
        for node in heads:
            problems.add(
                f"{node.origin}.role",
                "is head, but remoteHead says the head lives in another stack",
                "make this node a compute node, or remove remoteHead",
            )
        if spec.network.owned and spec.network.network_id is None:
            problems.add(
                key("remoteHead"),
                "is set on a stack that creates its own network",
                "point network.fromStack or network.networkId at the head's network",
            )
        return
    if not heads:
        problems.add(
            key("nodes"),
            "has no head node",
            "give exactly one node role: head (or set remoteHead when the head belongs to another stack)",
        )
    for extra in heads[1:]:
        problems.add(
            f"{extra.origin}.role",
            f"is a second head (the first is {heads[0].name})",
            "keep exactly one head; make this one compute",
        )


def _check_lockout(spec: ClusterSpec, problems: Problems) -> None:
    """Refuses SSH restrictions that would cut off the connection the program itself uses."""
    fw = spec.firewall
    if fw.mode == "off" or fw.compute_ssh != "head-and-overlay":
        return
    if not fw.head_addresses:
        problems.add(
            key("firewall.headAddresses"),
            "is empty, but computeSsh head-and-overlay admits SSH to compute nodes only from the head",
            "list the head's own addresses as compute nodes see them (e.g. its LAN address 192.168.10.1)",
        )
    for node in spec.computes:
        if node.proxy is None:
            problems.add(
                f"{node.origin}.proxy",
                f"{node.name} is reached directly, so computeSsh head-and-overlay would lock the program out of it",
                f"route compute nodes through the head (set {key('ssh.proxy')}: head), or use computeSsh: anywhere",
            )
