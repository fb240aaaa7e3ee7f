"""The seam where the network and its members are declared.

Today that is ZeroTier Central through ``pulumi_zerotier``. Config parsing,
addressing, scripts and the firewall never see this module, so a second
implementation (the network controller built into the head's zerotier-one,
for air-gapped sites) only has to provide the same two methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address
from typing import Protocol

import pulumi
import pulumi_zerotier as zerotier

from .spec import NetworkSpec


class Controller(Protocol):
    """Declares a ZeroTier network and authorizes members on it."""

    def network(self, spec: NetworkSpec, *, flow_rules: str | None = None) -> pulumi.Output[str]:
        """Creates or adopts the network (when this stack owns it); returns its ID.

        ``flow_rules`` is rule source (``cluster.rules.NetworkRules.source()``);
        None leaves the controller's default (accept everything).
        """
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

        ``tags`` are ``(tag id, value)`` pairs (``cluster.rules.member_tags``); ``authorized=False``
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

    def network(self, spec: NetworkSpec, *, flow_rules: str | None = None) -> pulumi.Output[str]:
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
            flow_rules=flow_rules,
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
            opts=self._opts(),
        )
        return member
