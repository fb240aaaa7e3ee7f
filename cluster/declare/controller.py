"""The seam where the network and its members are declared.

Two implementations of the same two methods: ZeroTier Central through
``pulumi_zerotier`` (:class:`CentralController`), and the network controller
built into the head's own zerotier-one (:class:`HeadController`, for sites
with no third party in the trust path), driven by remote commands on the
head. Config parsing, addressing, scripts and the firewall never see this
module; :func:`cluster.declare.overlay.Overlay` picks one and asks nothing more.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

import pulumi
import pulumi_command as command
import pulumi_zerotier as zerotier

from cluster.plan.build import PENDING_MEMBER, PENDING_NETWORK_ID
from cluster.plan.declarations import AuthorizeMember, DeclareNetwork
from cluster.plan.steps import Pending, StepParams, StepScript

#: Declares one command on the head: its entry, its script, the pending values it needs, its options.
HeadCommand = Callable[
    [
        DeclareNetwork | AuthorizeMember,
        StepScript[StepParams],
        Mapping[str, pulumi.Output[str]],
        pulumi.ResourceOptions,
    ],
    command.remote.Command,
]


class Controller(Protocol):
    """Declares a ZeroTier network and authorizes members on it, as the plan's entries say."""

    def network(
        self, entry: DeclareNetwork, known: Mapping[str, pulumi.Output[str]], opts: pulumi.ResourceOptions
    ) -> tuple[pulumi.Resource, pulumi.Output[str]]:
        """Creates or adopts the network with the entry's settings and rules; returns it and its ID."""
        ...

    def member(
        self, entry: AuthorizeMember, known: Mapping[str, pulumi.Output[str]], opts: pulumi.ResourceOptions
    ) -> pulumi.Resource:
        """Authorizes the entry's member with its static address, before it joins.

        ``known`` holds the network ID and (a node's) address; a member whose
        settings say ``authorized=False`` keeps its address but is shut out:
        an evicted node.
        """
        ...


class CentralController:
    """ZeroTier Central, through ZeroTier's Terraform provider bridged to Pulumi.

    Its resources inherit the provider: it is in their options' ``providers``.
    """

    def __init__(self, prefix: str, parent: pulumi.Resource, token: pulumi.Input[str]) -> None:
        self.prefix = prefix
        self.provider = zerotier.Provider(
            f"{prefix}-central",
            zerotier_central_token=pulumi.Output.secret(token),
            opts=pulumi.ResourceOptions(parent=parent),
        )
        self.providers = pulumi.ResourceOptions(providers=[self.provider])

    def network(
        self, entry: DeclareNetwork, known: Mapping[str, pulumi.Output[str]], opts: pulumi.ResourceOptions
    ) -> tuple[pulumi.Resource, pulumi.Output[str]]:
        spec = entry.spec
        assert entry.triggers is None, "a Central network has no triggers input"
        network = zerotier.Network(
            f"{self.prefix}-{entry.name}",
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
            flow_rules=entry.rules.source(),
            opts=pulumi.ResourceOptions.merge(opts, self.providers),
        )
        return network, network.network_id

    def member(
        self, entry: AuthorizeMember, known: Mapping[str, pulumi.Output[str]], opts: pulumi.ResourceOptions
    ) -> pulumi.Resource:
        member = entry.settings
        assert entry.triggers is None, "a Central member has no triggers input"
        address = known.get(PENDING_MEMBER) if isinstance(member.address, Pending) else member.address
        declared: pulumi.Resource = zerotier.Member(
            f"{self.prefix}-{entry.name}",
            network_id=known[PENDING_NETWORK_ID],
            member_id=address,
            name=member.name,
            description=member.description,
            authorized=member.authorized,
            hidden=False,
            allow_ethernet_bridging=False,
            no_auto_assign_ips=True,
            ip_assignments=[str(member.ip)],
            tags=[[tag, value] for tag, value in member.tags] or None,
            opts=pulumi.ResourceOptions.merge(opts, self.providers),
        )
        return declared


class HeadController:
    """The controller inside the head's zerotier-one, set through its local API by commands on the head.

    The network's ID is the head's address (from the head's identity step)
    and six digits of the network's name (the entry's ``needs``), used as it
    is rather than read back from the command's output: a change of the
    network's settings then leaves the ID known in a preview, so no member or
    join shows a change it will not make (``controller.sh`` refuses an ID that
    is not this head's). It reads the API token on the head itself, so the
    token is in no input, output or state here.
    """

    def __init__(self, run: HeadCommand) -> None:
        self.run = run

    def network(
        self, entry: DeclareNetwork, known: Mapping[str, pulumi.Output[str]], opts: pulumi.ResourceOptions
    ) -> tuple[pulumi.Resource, pulumi.Output[str]]:
        assert entry.script is not None, "controller: head networks are a step on the head"
        return self.run(entry, entry.script, known, opts), known[PENDING_NETWORK_ID]

    def member(
        self, entry: AuthorizeMember, known: Mapping[str, pulumi.Output[str]], opts: pulumi.ResourceOptions
    ) -> pulumi.Resource:
        assert entry.script is not None, "controller: head members are a step on the head"
        return self.run(entry, entry.script, known, opts)
