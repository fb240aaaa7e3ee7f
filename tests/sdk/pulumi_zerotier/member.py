# Stand-in for the generated SDK's member.py (see README.md).
from typing import Optional, Sequence

import pulumi

from . import _utilities, outputs
from ._inputs import *

__all__ = ['MemberArgs', 'Member']


@pulumi.input_type
class MemberArgs:
    def __init__(__self__, *, member_id: pulumi.Input[str], network_id: pulumi.Input[str], allow_ethernet_bridging: Optional[pulumi.Input[bool]] = None, authorized: Optional[pulumi.Input[bool]] = None, capabilities: Optional[pulumi.Input[Sequence[pulumi.Input[int]]]] = None, description: Optional[pulumi.Input[str]] = None, hidden: Optional[pulumi.Input[bool]] = None, ip_assignments: Optional[pulumi.Input[Sequence[pulumi.Input[str]]]] = None, name: Optional[pulumi.Input[str]] = None, no_auto_assign_ips: Optional[pulumi.Input[bool]] = None, sso_exempt: Optional[pulumi.Input[bool]] = None, tags: Optional[pulumi.Input[Sequence[pulumi.Input[Sequence[pulumi.Input[int]]]]]] = None):
        if allow_ethernet_bridging is not None:
            pulumi.set(__self__, "allow_ethernet_bridging", allow_ethernet_bridging)
        if authorized is not None:
            pulumi.set(__self__, "authorized", authorized)
        if capabilities is not None:
            pulumi.set(__self__, "capabilities", capabilities)
        if description is not None:
            pulumi.set(__self__, "description", description)
        if hidden is not None:
            pulumi.set(__self__, "hidden", hidden)
        if ip_assignments is not None:
            pulumi.set(__self__, "ip_assignments", ip_assignments)
        pulumi.set(__self__, "member_id", member_id)
        if name is not None:
            pulumi.set(__self__, "name", name)
        pulumi.set(__self__, "network_id", network_id)
        if no_auto_assign_ips is not None:
            pulumi.set(__self__, "no_auto_assign_ips", no_auto_assign_ips)
        if sso_exempt is not None:
            pulumi.set(__self__, "sso_exempt", sso_exempt)
        if tags is not None:
            pulumi.set(__self__, "tags", tags)

    @property
    @pulumi.getter(name="allowEthernetBridging")
    def allow_ethernet_bridging(self) -> Optional[pulumi.Input[bool]]:
        return pulumi.get(self, "allow_ethernet_bridging")

    @allow_ethernet_bridging.setter
    def allow_ethernet_bridging(self, value: Optional[pulumi.Input[bool]]):
        pulumi.set(self, "allow_ethernet_bridging", value)

    @property
    @pulumi.getter
    def authorized(self) -> Optional[pulumi.Input[bool]]:
        return pulumi.get(self, "authorized")

    @authorized.setter
    def authorized(self, value: Optional[pulumi.Input[bool]]):
        pulumi.set(self, "authorized", value)

    @property
    @pulumi.getter
    def capabilities(self) -> Optional[pulumi.Input[Sequence[pulumi.Input[int]]]]:
        return pulumi.get(self, "capabilities")

    @capabilities.setter
    def capabilities(self, value: Optional[pulumi.Input[Sequence[pulumi.Input[int]]]]):
        pulumi.set(self, "capabilities", value)

    @property
    @pulumi.getter
    def description(self) -> Optional[pulumi.Input[str]]:
        return pulumi.get(self, "description")

    @description.setter
    def description(self, value: Optional[pulumi.Input[str]]):
        pulumi.set(self, "description", value)

    @property
    @pulumi.getter
    def hidden(self) -> Optional[pulumi.Input[bool]]:
        return pulumi.get(self, "hidden")

    @hidden.setter
    def hidden(self, value: Optional[pulumi.Input[bool]]):
        pulumi.set(self, "hidden", value)

    @property
    @pulumi.getter(name="ipAssignments")
    def ip_assignments(self) -> Optional[pulumi.Input[Sequence[pulumi.Input[str]]]]:
        return pulumi.get(self, "ip_assignments")

    @ip_assignments.setter
    def ip_assignments(self, value: Optional[pulumi.Input[Sequence[pulumi.Input[str]]]]):
        pulumi.set(self, "ip_assignments", value)

    @property
    @pulumi.getter(name="memberId")
    def member_id(self) -> pulumi.Input[str]:
        return pulumi.get(self, "member_id")

    @member_id.setter
    def member_id(self, value: pulumi.Input[str]):
        pulumi.set(self, "member_id", value)

    @property
    @pulumi.getter
    def name(self) -> Optional[pulumi.Input[str]]:
        return pulumi.get(self, "name")

    @name.setter
    def name(self, value: Optional[pulumi.Input[str]]):
        pulumi.set(self, "name", value)

    @property
    @pulumi.getter(name="networkId")
    def network_id(self) -> pulumi.Input[str]:
        return pulumi.get(self, "network_id")

    @network_id.setter
    def network_id(self, value: pulumi.Input[str]):
        pulumi.set(self, "network_id", value)

    @property
    @pulumi.getter(name="noAutoAssignIps")
    def no_auto_assign_ips(self) -> Optional[pulumi.Input[bool]]:
        return pulumi.get(self, "no_auto_assign_ips")

    @no_auto_assign_ips.setter
    def no_auto_assign_ips(self, value: Optional[pulumi.Input[bool]]):
        pulumi.set(self, "no_auto_assign_ips", value)

    @property
    @pulumi.getter
    def tags(self) -> Optional[pulumi.Input[Sequence[pulumi.Input[Sequence[pulumi.Input[int]]]]]]:
        return pulumi.get(self, "tags")

    @tags.setter
    def tags(self, value: Optional[pulumi.Input[Sequence[pulumi.Input[Sequence[pulumi.Input[int]]]]]]):
        pulumi.set(self, "tags", value)

    @property
    @pulumi.getter(name="ssoExempt")
    def sso_exempt(self) -> Optional[pulumi.Input[bool]]:
        return pulumi.get(self, "sso_exempt")

    @sso_exempt.setter
    def sso_exempt(self, value: Optional[pulumi.Input[bool]]):
        pulumi.set(self, "sso_exempt", value)


@pulumi.type_token("zerotier:index/member:Member")
class Member(pulumi.CustomResource):
    def __init__(__self__, resource_name: str, *args, **kwargs):
        resource_args, opts = _utilities.get_resource_args_opts(MemberArgs, pulumi.ResourceOptions, *args, **kwargs)
        if resource_args is not None:
            __self__._internal_init(resource_name, opts, **resource_args.__dict__)
        else:
            __self__._internal_init(resource_name, *args, **kwargs)

    def _internal_init(__self__, resource_name: str, opts: Optional[pulumi.ResourceOptions] = None, allow_ethernet_bridging: Optional[pulumi.Input[bool]] = None, authorized: Optional[pulumi.Input[bool]] = None, capabilities: Optional[pulumi.Input[Sequence[pulumi.Input[int]]]] = None, description: Optional[pulumi.Input[str]] = None, hidden: Optional[pulumi.Input[bool]] = None, ip_assignments: Optional[pulumi.Input[Sequence[pulumi.Input[str]]]] = None, member_id: Optional[pulumi.Input[str]] = None, name: Optional[pulumi.Input[str]] = None, network_id: Optional[pulumi.Input[str]] = None, no_auto_assign_ips: Optional[pulumi.Input[bool]] = None, sso_exempt: Optional[pulumi.Input[bool]] = None, tags: Optional[pulumi.Input[Sequence[pulumi.Input[Sequence[pulumi.Input[int]]]]]] = None, __props__=None):
        opts = pulumi.ResourceOptions.merge(_utilities.get_resource_opts_defaults(), opts)
        if not isinstance(opts, pulumi.ResourceOptions):
            raise TypeError('Expected resource options to be a ResourceOptions instance')
        if opts.id is None:
            if __props__ is not None:
                raise TypeError('__props__ is only valid when passed in combination with a valid opts.id to get an existing resource')
            __props__ = MemberArgs.__new__(MemberArgs)

            __props__.__dict__["allow_ethernet_bridging"] = allow_ethernet_bridging
            __props__.__dict__["authorized"] = authorized
            __props__.__dict__["capabilities"] = capabilities
            __props__.__dict__["description"] = description
            __props__.__dict__["hidden"] = hidden
            __props__.__dict__["ip_assignments"] = ip_assignments
            if member_id is None and not opts.urn:
                raise TypeError("Missing required property 'member_id'")
            __props__.__dict__["member_id"] = member_id
            __props__.__dict__["name"] = name
            if network_id is None and not opts.urn:
                raise TypeError("Missing required property 'network_id'")
            __props__.__dict__["network_id"] = network_id
            __props__.__dict__["no_auto_assign_ips"] = no_auto_assign_ips
            __props__.__dict__["sso_exempt"] = sso_exempt
            __props__.__dict__["tags"] = tags
            __props__.__dict__["ipv4_assignments"] = None
            __props__.__dict__["ipv6_assignments"] = None
            __props__.__dict__["rfc4193"] = None
            __props__.__dict__["sixplane"] = None
        super(Member, __self__).__init__(
            'zerotier:index/member:Member',
            resource_name,
            __props__,
            opts,
            package_ref=_utilities.get_package())

    @property
    @pulumi.getter(name="allowEthernetBridging")
    def allow_ethernet_bridging(self) -> pulumi.Output[bool]:
        return pulumi.get(self, "allow_ethernet_bridging")

    @property
    @pulumi.getter
    def authorized(self) -> pulumi.Output[bool]:
        return pulumi.get(self, "authorized")

    @property
    @pulumi.getter
    def capabilities(self) -> pulumi.Output[Sequence[int]]:
        return pulumi.get(self, "capabilities")

    @property
    @pulumi.getter
    def description(self) -> pulumi.Output[str]:
        return pulumi.get(self, "description")

    @property
    @pulumi.getter
    def hidden(self) -> pulumi.Output[bool]:
        return pulumi.get(self, "hidden")

    @property
    @pulumi.getter(name="ipAssignments")
    def ip_assignments(self) -> pulumi.Output[Sequence[str]]:
        return pulumi.get(self, "ip_assignments")

    @property
    @pulumi.getter(name="ipv4Assignments")
    def ipv4_assignments(self) -> pulumi.Output[Sequence[str]]:
        return pulumi.get(self, "ipv4_assignments")

    @property
    @pulumi.getter(name="ipv6Assignments")
    def ipv6_assignments(self) -> pulumi.Output[Sequence[str]]:
        return pulumi.get(self, "ipv6_assignments")

    @property
    @pulumi.getter(name="memberId")
    def member_id(self) -> pulumi.Output[str]:
        return pulumi.get(self, "member_id")

    @property
    @pulumi.getter
    def name(self) -> pulumi.Output[str]:
        return pulumi.get(self, "name")

    @property
    @pulumi.getter(name="networkId")
    def network_id(self) -> pulumi.Output[str]:
        return pulumi.get(self, "network_id")

    @property
    @pulumi.getter(name="noAutoAssignIps")
    def no_auto_assign_ips(self) -> pulumi.Output[bool]:
        return pulumi.get(self, "no_auto_assign_ips")

    @property
    @pulumi.getter
    def rfc4193(self) -> pulumi.Output[str]:
        return pulumi.get(self, "rfc4193")

    @property
    @pulumi.getter
    def sixplane(self) -> pulumi.Output[str]:
        return pulumi.get(self, "sixplane")

    @property
    @pulumi.getter
    def tags(self) -> pulumi.Output[Sequence[Sequence[int]]]:
        return pulumi.get(self, "tags")

    @property
    @pulumi.getter(name="ssoExempt")
    def sso_exempt(self) -> pulumi.Output[bool]:
        return pulumi.get(self, "sso_exempt")
