"""The network as this cluster needs it: its rules, and its settings as a controller API takes them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from cluster.plan.addressing import Assignment
from cluster.rules.evaluator import Node
from cluster.rules.frame import Member
from cluster.rules.model import NetworkRules
from cluster.rules.policy import network_rules
from cluster.spec import ClusterSpec, NetworkSpec


def ssh_ports(spec: ClusterSpec) -> tuple[int, ...]:
    """The ports devices may reach on nodes: every node's sshd port (22 for a remote head's stack)."""
    return tuple(sorted({n.listen_port for n in spec.nodes} | ({22} if spec.remote_head else set())))


def cluster_rules(spec: ClusterSpec) -> NetworkRules:
    """The rules of ``spec``'s network, from its ``rules`` key and its nodes' SSH ports."""
    return network_rules(spec.network.name, spec.firewall.devices, spec.rules, ssh_ports(spec))


def cluster_nodes(spec: ClusterSpec, assignments: Mapping[str, Assignment]) -> tuple[Node, ...]:
    """The nodes that must keep reaching each other, at their overlay addresses (what the rules check needs).

    Active nodes at the addresses ``assignments`` gives them, and a remote head
    (at its own ``ip``, sshd on 22). Their ZeroTier addresses are made on the
    nodes, so they are not known here (:class:`~cluster.rules.frame.Member`).
    """
    nodes = [Node(Member(n.role, assignments[n.name].ip, name=n.name), n.listen_port) for n in spec.nodes if n.active]
    if spec.remote_head is not None:
        nodes.append(Node(Member("head", spec.remote_head.ip, name=spec.remote_head.name), 22))
    return tuple(nodes)


def network_suffix(name: str) -> str:
    """The six hex digits after the head's address in the network ID: the same name always gets the same ID."""
    return hashlib.sha256(name.encode()).hexdigest()[:6]


def compact_json(value: Any) -> str:
    """JSON as the controller scripts receive it: sorted keys, no spaces, so equal settings are equal bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def network_settings(net: NetworkSpec, rules: NetworkRules) -> str:
    """The network as the controller API takes it: what CentralController declares, rules compiled, the MTU."""
    return compact_json(
        {
            "name": net.name,
            "mtu": net.mtu,
            "private": True,
            "enableBroadcast": True,
            "multicastLimit": 32,
            "routes": [{"target": str(net.cidr), "via": None}],
            "ipAssignmentPools": (
                [{"ipRangeStart": str(net.pool.start), "ipRangeEnd": str(net.pool.end)}] if net.pool else []
            ),
            "v4AssignMode": {"zt": True},
            "v6AssignMode": {"zt": False, "6plane": False, "rfc4193": False},
            **rules.compiled(),
        }
    )
