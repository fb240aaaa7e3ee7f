"""Checks that need the whole cluster: names, roles, addresses, lock-out safety."""

from __future__ import annotations

from ipaddress import IPv4Address

from cluster.config import validate as v
from cluster.config.fields import Problems, key
from cluster.config.inventory import ALIASES
from cluster.errors import ConfigError
from cluster.plan.addressing import allocate
from cluster.plan.network import cluster_nodes, cluster_rules
from cluster.rules.evaluator import rules_problems
from cluster.spec import ClusterSpec, NodeSpec, SourceNet


def check_cluster(spec: ClusterSpec, p: Problems) -> None:
    """Checks that need the whole cluster: names, roles, addresses, lock-out safety."""
    _check_names(spec, p)
    _check_targets(spec, p)
    _check_roles(spec, p)
    _check_lockout(spec, p)
    _check_underlay(spec, p)
    _check_peers(spec, p)
    _check_controller(spec, p)
    _check_roots(spec, p)
    if not p.items:
        try:
            assignments = allocate(spec)
        except ConfigError as err:
            p.items.extend(err.problems)
        else:
            p.items.extend(rules_problems(cluster_rules(spec), spec.rules, cluster_nodes(spec, assignments)))


def _check_names(spec: ClusterSpec, p: Problems) -> None:
    seen: dict[str, str] = {}
    for origin, name in [(n.origin, n.name) for n in spec.nodes] + [(d.origin, d.name) for d in spec.devices]:
        other = seen.get(name.lower())
        if other is not None:
            p.under(origin).add(
                "name", f"{name!r} is already used by {other}", "give every node and device its own name"
            )
        else:
            seen[name.lower()] = origin
    if spec.remote_head is not None and spec.remote_head.name.lower() in seen:
        p.add("remoteHead.name", f"{spec.remote_head.name!r} is also a node or device here", "rename one of them")
    addresses: dict[str, str] = {}
    for device in spec.devices:
        if device.address in addresses:
            p.under(device.origin).add(
                "address", f"is the same device as {addresses[device.address]}", "list each device once"
            )
        addresses[device.address] = device.origin


def _scope(p: Problems, node: NodeSpec) -> Problems:
    """Problems about ``node``, named as written: an inventory host's ``host`` is its ``ansible_host``."""
    from_inventory = bool(node.origin) and not node.origin.startswith(key(""))
    return p.under(node.origin, ALIASES if from_inventory else None)


def _check_targets(spec: ClusterSpec, p: Problems) -> None:
    """Two active nodes at one SSH target (jump host, host, port) are one machine configured twice.

    Both would run every step on that machine, and it would join twice with one
    identity. Evicted nodes are left out: a replacement may reuse a stolen node's address.
    """
    seen: dict[tuple[object, ...], str] = {}
    for node in spec.active_nodes:
        if not isinstance(node.host, str):
            continue
        via = (node.proxy.host.lower(), node.proxy.port) if node.proxy else None
        target = (via, node.host.lower(), node.port)
        if target in seen:
            _scope(p, node).add(
                "host",
                f"{node.host} port {node.port} is also the SSH target of {seen[target]}",
                "give each node its own host (or port); a machine listed twice would be provisioned twice",
            )
        else:
            seen[target] = node.origin or node.name


def _check_peers(spec: ClusterSpec, p: Problems) -> None:
    """``firewall.peers`` are other stacks' slices: never the whole network, never the auto-assign pool.

    A peer range is trusted like a node. Covering the whole cidr (``0.0.0.0/0``)
    would trust every member, devices included; the pool is where ZeroTier
    puts members nobody manages.
    """
    net = spec.network
    for i, peer in enumerate(spec.firewall.peers):
        where = f"firewall.peers[{i}]"
        pool = net.pool
        if net.cidr.subnet_of(peer):
            p.add(
                where,
                f"{peer} covers the whole network {net.cidr}: every member, devices and members nobody manages "
                "included, would be trusted like a node",
                "list only other stacks' slices of the cidr (their addressSlice output), e.g. 10.147.17.128/25",
            )
        elif pool is not None and peer.network_address <= pool.end and pool.start <= peer.broadcast_address:
            p.add(
                where,
                f"{peer} overlaps the auto-assign pool {pool.start}-{pool.end}, whose members nobody manages",
                "list only other stacks' slices, which lie outside the pool",
            )
        elif net.slice is not None and peer.overlaps(net.slice):
            p.add(
                "network.slice",
                f"{net.slice} overlaps {where} {peer}, which is listed as another stack's slice",
                "give this stack its own part of the cidr, apart from the peers",
            )


def _check_roles(spec: ClusterSpec, p: Problems) -> None:
    heads = [n for n in spec.nodes if n.role == "head"]
    for node in heads:
        if node.state == "evicted":
            _scope(p, node).add(
                "state", "evicts the head node", "make another node the head first, or keep this one active"
            )
    if spec.remote_head is not None:
        for node in heads:
            p.under(node.origin).add(
                "role",
                "is head, but remoteHead says the head lives in another stack",
                "make this node a compute node, or remove remoteHead",
            )
        if spec.network.owned and spec.network.network_id is None:
            p.add(
                "remoteHead",
                "is set on a stack that creates its own network",
                "point network.fromStack or network.networkId at the head's network",
            )
        return
    if not heads:
        p.add(
            "nodes",
            "has no head node",
            "give exactly one node role: head (or set remoteHead when the head belongs to another stack)",
        )
    for extra in heads[1:]:
        p.under(extra.origin).add(
            "role", f"is a second head (the first is {heads[0].name})", "keep exactly one head; make this one compute"
        )


def _check_lockout(spec: ClusterSpec, p: Problems) -> None:
    """Refuses SSH restrictions that would cut off the connection the program itself uses."""
    fw = spec.firewall
    if fw.mode == "off":
        return
    via_head = fw.compute_ssh == "head-and-overlay"
    direct = [n for n in spec.active_nodes if not (via_head and n.role == "compute")]
    _check_family("firewall.sshFrom", fw.ssh_from, direct, p)
    if via_head:
        computes = [n for n in spec.active_nodes if n.role == "compute"]
        _check_family("firewall.headAddresses", fw.head_addresses, computes, p)
    if fw.compute_ssh != "head-and-overlay":
        return
    if not fw.head_addresses:
        p.add(
            "firewall.headAddresses",
            "is empty, but computeSsh head-and-overlay admits SSH to compute nodes only from the head",
            "list the head's own addresses as compute nodes see them (e.g. its LAN address 192.168.10.1)",
        )
    for node in spec.computes:
        if node.proxy is None:
            p.under(node.origin).add(
                "proxy",
                f"{node.name} is reached directly, so computeSsh head-and-overlay would lock the program out of it",
                f"route compute nodes through the head (set {key('ssh.proxy')}: head), or use computeSsh: anywhere",
            )


def _check_family(setting: str, sources: tuple[SourceNet, ...], nodes: list[NodeSpec], p: Problems) -> None:
    """Only IPv6 sources while a node is reached at an IPv4 address: its SSH session comes from IPv4, and is cut."""
    if not sources or any(net.version == 4 for net in sources):
        return
    cut = [n for n in nodes if isinstance(n.host, str) and v.parse_ipv4(n.host) is not None]
    if cut:
        named = ", ".join(n.name for n in cut[:3]) + (f" and {len(cut) - 3} more" if len(cut) > 3 else "")
        p.add(
            setting,
            f"lists only IPv6 sources, but {named} {'is' if len(cut) == 1 else 'are'} reached over IPv4, "
            "so the firewall would lock the program out",
            "add the IPv4 address or network the SSH sessions come from (e.g. 198.51.100.7), "
            "or reach the nodes over IPv6",
        )


def _check_underlay(spec: ClusterSpec, p: Problems) -> None:
    """Refuses an overlay that contains an address the program reaches a node (or its jump host) at.

    Routing that address into the overlay would cut the very SSH path the
    steps run over.
    """
    cidr = spec.network.cidr
    clashes: dict[IPv4Address, str] = {}
    for node in spec.nodes:
        for what, host in (("SSH address", node.host), ("jump host", node.proxy.host if node.proxy else None)):
            ip = v.embedded_ipv4(host) if isinstance(host, str) else None
            if ip is not None and ip in cidr:
                shown = str(ip) if host == str(ip) else f"{host} ({ip})"
                clashes.setdefault(ip, f"{node.name}'s {what} {shown}")
    if clashes:
        listed = ", ".join(list(clashes.values())[:3]) + (f" and {len(clashes) - 3} more" if len(clashes) > 3 else "")
        p.add(
            "network.cidr",
            f"{cidr} contains {listed}, so the overlay would capture the SSH path",
            "choose a cidr no node is reached at, or reach the nodes at addresses outside it",
        )


def _check_controller(spec: ClusterSpec, p: Problems) -> None:
    """``controller: head`` needs this stack's own head and a network this stack creates there."""
    if spec.controller != "head":
        return
    if spec.remote_head is not None:
        p.add(
            "controller",
            "is head, but remoteHead says the head lives in another stack",
            "remove controller: head here (a stack on another stack's network uses that stack's controller), "
            "or remove remoteHead and give this stack its own head node",
        )
    elif spec.head is None:
        p.add(
            "controller",
            "is head, but no node has role: head",
            "give exactly one node role: head (its zerotier-one becomes the controller), or use controller: central",
        )
    net = spec.network
    if net.network_id is not None:
        p.add(
            "network.networkId",
            "is set, but controller: head creates the network on the head, with an ID made of the head's address",
            "remove network.networkId, or use controller: central to use a network ZeroTier Central holds",
        )
    if net.from_stack is not None:
        p.add(
            "network.fromStack",
            "is set, but controller: head creates this stack's own network on its own head",
            "remove controller: head here: a stack on another stack's network is authorized by that stack's controller",
        )


def _check_roots(spec: ClusterSpec, p: Problems) -> None:
    """``roots: head`` makes this stack's head a moon at an IPv4 endpoint every node reaches."""
    if spec.roots != "head":
        if spec.root_endpoint is not None:
            p.add("rootEndpoint", "is only used with roots: head", "remove it, or set roots: head")
        return
    head = spec.head
    if head is None:
        p.add(
            "roots",
            "is head, but this stack has no node with role: head",
            "give this stack a head node, or use roots: public",
        )
        return
    fix = "set rootEndpoint to the head's IPv4 address as the other nodes reach it, e.g. 192.168.10.1"
    endpoint = spec.root_endpoint or v.parse_ipv4(head.host)  # an Output host is no address yet
    if endpoint is None:
        shown = v.shown(head.host) if isinstance(head.host, str) else "known only at deploy time"
        p.add(
            "rootEndpoint", f"is not set and the head's host ({shown}) is not an IPv4 address, which a moon needs", fix
        )
        return
    where = "rootEndpoint" if spec.root_endpoint is not None else "roots"
    said = "" if spec.root_endpoint is not None else "is head, and the moon's endpoint would be the head's host: "
    why = v.check_endpoint(endpoint)
    if why is not None:
        p.add(where, said + why, fix)
    elif endpoint in spec.network.cidr:
        p.add(
            where,
            f"{said}{endpoint} is inside the overlay {spec.network.cidr}: nodes would reach their root only "
            "through the network the root is there to set up",
            fix.replace("e.g.", "outside network.cidr, e.g."),
        )
