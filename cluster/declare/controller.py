"""The seam where the network and its members are declared.

Two implementations of the same two methods: ZeroTier Central through
``pulumi_zerotier`` (:class:`CentralController`), and the network controller
built into the head's own zerotier-one (:class:`HeadController`, for sites
with no third party in the trust path), driven by remote commands on the
head. Config parsing, addressing, scripts and the firewall never see this
module; :func:`cluster.declare.overlay.Overlay` picks one and asks nothing more.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from ipaddress import IPv4Address
from typing import Protocol

import pulumi
import pulumi_command as command
import pulumi_zerotier as zerotier

from cluster.plan.build import PENDING_MEMBER, PENDING_NETWORK_ID, NodePlan, member_step, network_step
from cluster.plan.network import network_suffix
from cluster.plan.steps import Pending, StepScript
from cluster.rules.model import NetworkRules
from cluster.spec import NetworkSpec

#: Declares one command on the head: its resource name, step, pending values, dependencies, triggers.
HeadCommand = Callable[
    [str, StepScript, Mapping[str, pulumi.Output[str]], Sequence[pulumi.Resource], Sequence[pulumi.Input[str]]],
    command.remote.Command,
]


class Controller(Protocol):
    """Declares a ZeroTier network and authorizes members on it."""

    def network(self, spec: NetworkSpec, rules: NetworkRules) -> pulumi.Output[str]:
        """Creates or adopts the network (when this stack owns it) with ``rules``; returns its ID."""
        ...

    def member(
        self,
        name: str,
        *,
        network_id: pulumi.Input[str],
        member_id: pulumi.Input[str],
        ip: IPv4Address,
        description: str,
        tags: Sequence[tuple[int, int]] = (),
        authorized: bool = True,
    ) -> pulumi.Resource:
        """Authorizes ``member_id`` on the network with a static address, before it joins.

        ``tags`` are ``(tag id, value)`` pairs (``cluster.rules.model.member_tags``); ``authorized=False``
        keeps the member (and its address) but shuts it out: an evicted node.
        """
        ...


#: The Network inputs an adoption with ``keepSettings`` leaves as Central has them.
NETWORK_SETTINGS = [
    "name", "description", "private", "enableBroadcast", "multicastLimit", "routes",
    "assignmentPools", "assignIpv4s", "assignIpv6s", "flowRules",
]  # fmt: skip


class CentralController:
    """ZeroTier Central, through ZeroTier's Terraform provider bridged to Pulumi."""

    def __init__(self, prefix: str, parent: pulumi.Resource, token: pulumi.Input[str]) -> None:
        self.prefix = prefix
        self.parent = parent
        self.provider = zerotier.Provider(
            f"{prefix}-central",
            zerotier_central_token=pulumi.Output.secret(token),
            opts=pulumi.ResourceOptions(parent=parent),
        )

    def _opts(self, **extra: object) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self.parent, provider=self.provider, **extra)  # type: ignore[arg-type]

    def network(self, spec: NetworkSpec, rules: NetworkRules) -> pulumi.Output[str]:
        if not spec.owned:
            assert spec.network_id is not None
            return pulumi.Output.from_input(spec.network_id)
        adopted = spec.network_id is not None
        network = zerotier.Network(
            f"{self.prefix}-network",
            name=spec.name,
            description=spec.description,
            private=True,
            enable_broadcast=True,
            multicast_limit=32,
            routes=[zerotier.NetworkRouteArgs(target=str(spec.cidr))],
            assignment_pools=(
                [zerotier.NetworkAssignmentPoolArgs(start=str(spec.pool.start), end=str(spec.pool.end))]
                if spec.pool
                else None
            ),
            assign_ipv4s=[zerotier.NetworkAssignIpv4Args(zerotier=True)],
            assign_ipv6s=[zerotier.NetworkAssignIpv6Args(zerotier=False, sixplane=False, rfc4193=False)],
            flow_rules=rules.source(),
            # An adopted network was the operator's before this stack: destroy must leave it. Pulumi
            # refuses an import whose inputs differ from the network's settings; keepSettings ignores them.
            opts=self._opts(
                import_=spec.network_id,
                retain_on_delete=adopted or None,
                ignore_changes=NETWORK_SETTINGS if spec.keep_settings else None,
            ),
        )
        return network.network_id  # type: ignore[no-any-return]

    def member(
        self,
        name: str,
        *,
        network_id: pulumi.Input[str],
        member_id: pulumi.Input[str],
        ip: IPv4Address,
        description: str,
        tags: Sequence[tuple[int, int]] = (),
        authorized: bool = True,
    ) -> pulumi.Resource:
        member: pulumi.Resource = zerotier.Member(
            f"{self.prefix}-{name}-member",
            network_id=network_id,
            member_id=member_id,
            name=name,
            description=description,
            authorized=authorized,
            hidden=False,
            allow_ethernet_bridging=False,
            no_auto_assign_ips=True,
            ip_assignments=[str(ip)],
            tags=[[tag, value] for tag, value in tags] or None,
            # member_id is not ForceNew upstream (member.go): changed in place, the old identity would
            # stay authorized. Replaced, the old member is deleted first (with its old ID), then the new set.
            opts=self._opts(replace_on_changes=["memberId"], delete_before_replace=True),
        )
        return member


class HeadController:
    """The controller inside the head's zerotier-one, set through its local API by commands on the head.

    The network's ID is the head's address (from the head's identity step)
    and six digits of the network's name, computed here rather than read from
    the network command's output: a change to the network's settings then
    leaves the ID known in a preview, and no member or join shows a change it
    will not make (the script refuses an ID that is not this head's).
    ``cluster/scripts/controller.sh`` reads the API token on the head itself,
    so it is in no input, output or state here.

    Each command's trigger is its subject: a network under a new ID (renamed,
    or a reimaged head) and a member under a new address (a reimaged or
    replaced node, a device's new address) replace the command, and the
    replaced one's delete, run first with its old stdin, removes the old
    network or deauthorizes and deletes the old member.
    """

    def __init__(self, head: NodePlan, head_address: pulumi.Output[str], run: HeadCommand) -> None:
        self.head = head
        self.head_address = head_address
        self.run = run
        self.command: command.remote.Command | None = None

    def network(self, spec: NetworkSpec, rules: NetworkRules) -> pulumi.Output[str]:
        network_id = self.head_address.apply(lambda address: address + network_suffix(spec.name))
        step = network_step(self.head.spec, spec, rules)
        self.command = self.run("network", step, {PENDING_NETWORK_ID: network_id}, [], [network_id])
        return network_id

    def member(
        self,
        name: str,
        *,
        network_id: pulumi.Input[str],
        member_id: pulumi.Input[str],
        ip: IPv4Address,
        description: str,
        tags: Sequence[tuple[int, int]] = (),
        authorized: bool = True,
    ) -> pulumi.Resource:
        assert self.command is not None, "the network comes first"
        address = member_id if isinstance(member_id, str) else Pending(PENDING_MEMBER)
        step = member_step(name, address, ip, tags, authorized=authorized)
        known = {
            PENDING_NETWORK_ID: pulumi.Output.from_input(network_id),
            PENDING_MEMBER: pulumi.Output.from_input(member_id),
        }
        return self.run(f"{name}-member", step, known, [self.command], [pulumi.Output.from_input(member_id)])
