# Stand-in for the generated SDK's network.py (see README.md).
from typing import Optional, Sequence

import pulumi

from . import _utilities, outputs
from ._inputs import *

__all__ = ['NetworkArgs', 'Network']


@pulumi.input_type
class NetworkArgs:
    def __init__(__self__, *, assign_ipv4s: Optional[pulumi.Input[Sequence[pulumi.Input['NetworkAssignIpv4Args']]]] = None, assign_ipv6s: Optional[pulumi.Input[Sequence[pulumi.Input['NetworkAssignIpv6Args']]]] = None, assignment_pools: Optional[pulumi.Input[Sequence[pulumi.Input['NetworkAssignmentPoolArgs']]]] = None, description: Optional[pulumi.Input[str]] = None, dns: Optional[pulumi.Input[Sequence[pulumi.Input['NetworkDnArgs']]]] = None, enable_broadcast: Optional[pulumi.Input[bool]] = None, flow_rules: Optional[pulumi.Input[str]] = None, multicast_limit: Optional[pulumi.Input[float]] = None, name: Optional[pulumi.Input[str]] = None, network_id: Optional[pulumi.Input[str]] = None, private: Optional[pulumi.Input[bool]] = None, routes: Optional[pulumi.Input[Sequence[pulumi.Input['NetworkRouteArgs']]]] = None):
        if assign_ipv4s is not None:
            pulumi.set(__self__, "assign_ipv4s", assign_ipv4s)
        if assign_ipv6s is not None:
            pulumi.set(__self__, "assign_ipv6s", assign_ipv6s)
        if assignment_pools is not None:
            pulumi.set(__self__, "assignment_pools", assignment_pools)
        if description is not None:
            pulumi.set(__self__, "description", description)
        if dns is not None:
            pulumi.set(__self__, "dns", dns)
        if enable_broadcast is not None:
            pulumi.set(__self__, "enable_broadcast", enable_broadcast)
        if flow_rules is not None:
            pulumi.set(__self__, "flow_rules", flow_rules)
        if multicast_limit is not None:
            pulumi.set(__self__, "multicast_limit", multicast_limit)
        if name is not None:
            pulumi.set(__self__, "name", name)
        if network_id is not None:
            pulumi.set(__self__, "network_id", network_id)
        if private is not None:
            pulumi.set(__self__, "private", private)
        if routes is not None:
            pulumi.set(__self__, "routes", routes)

    @property
    @pulumi.getter(name="assignIpv4s")
    def assign_ipv4s(self) -> Optional[pulumi.Input[Sequence[pulumi.Input['NetworkAssignIpv4Args']]]]:
        return pulumi.get(self, "assign_ipv4s")

    @assign_ipv4s.setter
    def assign_ipv4s(self, value: Optional[pulumi.Input[Sequence[pulumi.Input['NetworkAssignIpv4Args']]]]):
        pulumi.set(self, "assign_ipv4s", value)

    @property
    @pulumi.getter(name="assignIpv6s")
    def assign_ipv6s(self) -> Optional[pulumi.Input[Sequence[pulumi.Input['NetworkAssignIpv6Args']]]]:
        return pulumi.get(self, "assign_ipv6s")

    @assign_ipv6s.setter
    def assign_ipv6s(self, value: Optional[pulumi.Input[Sequence[pulumi.Input['NetworkAssignIpv6Args']]]]):
        pulumi.set(self, "assign_ipv6s", value)

    @property
    @pulumi.getter(name="assignmentPools")
    def assignment_pools(self) -> Optional[pulumi.Input[Sequence[pulumi.Input['NetworkAssignmentPoolArgs']]]]:
        return pulumi.get(self, "assignment_pools")

    @assignment_pools.setter
    def assignment_pools(self, value: Optional[pulumi.Input[Sequence[pulumi.Input['NetworkAssignmentPoolArgs']]]]):
        pulumi.set(self, "assignment_pools", value)

    @property
    @pulumi.getter
    def description(self) -> Optional[pulumi.Input[str]]:
        return pulumi.get(self, "description")

    @description.setter
    def description(self, value: Optional[pulumi.Input[str]]):
        pulumi.set(self, "description", value)

    @property
    @pulumi.getter
    def dns(self) -> Optional[pulumi.Input[Sequence[pulumi.Input['NetworkDnArgs']]]]:
        return pulumi.get(self, "dns")

    @dns.setter
    def dns(self, value: Optional[pulumi.Input[Sequence[pulumi.Input['NetworkDnArgs']]]]):
        pulumi.set(self, "dns", value)

    @property
    @pulumi.getter(name="enableBroadcast")
    def enable_broadcast(self) -> Optional[pulumi.Input[bool]]:
        return pulumi.get(self, "enable_broadcast")

    @enable_broadcast.setter
    def enable_broadcast(self, value: Optional[pulumi.Input[bool]]):
        pulumi.set(self, "enable_broadcast", value)

    @property
    @pulumi.getter(name="flowRules")
    def flow_rules(self) -> Optional[pulumi.Input[str]]:
        return pulumi.get(self, "flow_rules")

    @flow_rules.setter
    def flow_rules(self, value: Optional[pulumi.Input[str]]):
        pulumi.set(self, "flow_rules", value)

    @property
    @pulumi.getter(name="multicastLimit")
    def multicast_limit(self) -> Optional[pulumi.Input[float]]:
        return pulumi.get(self, "multicast_limit")

    @multicast_limit.setter
    def multicast_limit(self, value: Optional[pulumi.Input[float]]):
        pulumi.set(self, "multicast_limit", value)

    @property
    @pulumi.getter
    def name(self) -> Optional[pulumi.Input[str]]:
        return pulumi.get(self, "name")

    @name.setter
    def name(self, value: Optional[pulumi.Input[str]]):
        pulumi.set(self, "name", value)

    @property
    @pulumi.getter(name="networkId")
    def network_id(self) -> Optional[pulumi.Input[str]]:
        return pulumi.get(self, "network_id")

    @network_id.setter
    def network_id(self, value: Optional[pulumi.Input[str]]):
        pulumi.set(self, "network_id", value)

    @property
    @pulumi.getter
    def private(self) -> Optional[pulumi.Input[bool]]:
        return pulumi.get(self, "private")

    @private.setter
    def private(self, value: Optional[pulumi.Input[bool]]):
        pulumi.set(self, "private", value)

    @property
    @pulumi.getter
    def routes(self) -> Optional[pulumi.Input[Sequence[pulumi.Input['NetworkRouteArgs']]]]:
        return pulumi.get(self, "routes")

    @routes.setter
    def routes(self, value: Optional[pulumi.Input[Sequence[pulumi.Input['NetworkRouteArgs']]]]):
        pulumi.set(self, "routes", value)


@pulumi.type_token("zerotier:index/network:Network")
class Network(pulumi.CustomResource):
    def __init__(__self__, resource_name: str, *args, **kwargs):
        resource_args, opts = _utilities.get_resource_args_opts(NetworkArgs, pulumi.ResourceOptions, *args, **kwargs)
        if resource_args is not None:
            __self__._internal_init(resource_name, opts, **resource_args.__dict__)
        else:
            __self__._internal_init(resource_name, *args, **kwargs)

    def _internal_init(__self__, resource_name: str, opts: Optional[pulumi.ResourceOptions] = None, assign_ipv4s: Optional[pulumi.Input[Sequence[pulumi.Input['NetworkAssignIpv4Args']]]] = None, assign_ipv6s: Optional[pulumi.Input[Sequence[pulumi.Input['NetworkAssignIpv6Args']]]] = None, assignment_pools: Optional[pulumi.Input[Sequence[pulumi.Input['NetworkAssignmentPoolArgs']]]] = None, description: Optional[pulumi.Input[str]] = None, dns: Optional[pulumi.Input[Sequence[pulumi.Input['NetworkDnArgs']]]] = None, enable_broadcast: Optional[pulumi.Input[bool]] = None, flow_rules: Optional[pulumi.Input[str]] = None, multicast_limit: Optional[pulumi.Input[float]] = None, name: Optional[pulumi.Input[str]] = None, network_id: Optional[pulumi.Input[str]] = None, private: Optional[pulumi.Input[bool]] = None, routes: Optional[pulumi.Input[Sequence[pulumi.Input['NetworkRouteArgs']]]] = None, __props__=None):
        opts = pulumi.ResourceOptions.merge(_utilities.get_resource_opts_defaults(), opts)
        if not isinstance(opts, pulumi.ResourceOptions):
            raise TypeError('Expected resource options to be a ResourceOptions instance')
        if opts.id is None:
            if __props__ is not None:
                raise TypeError('__props__ is only valid when passed in combination with a valid opts.id to get an existing resource')
            __props__ = NetworkArgs.__new__(NetworkArgs)

            __props__.__dict__["assign_ipv4s"] = assign_ipv4s
            __props__.__dict__["assign_ipv6s"] = assign_ipv6s
            __props__.__dict__["assignment_pools"] = assignment_pools
            __props__.__dict__["description"] = description
            __props__.__dict__["dns"] = dns
            __props__.__dict__["enable_broadcast"] = enable_broadcast
            __props__.__dict__["flow_rules"] = flow_rules
            __props__.__dict__["multicast_limit"] = multicast_limit
            __props__.__dict__["name"] = name
            __props__.__dict__["network_id"] = network_id
            __props__.__dict__["private"] = private
            __props__.__dict__["routes"] = routes
            __props__.__dict__["creation_time"] = None
        super(Network, __self__).__init__(
            'zerotier:index/network:Network',
            resource_name,
            __props__,
            opts,
            package_ref=_utilities.get_package())

    @property
    @pulumi.getter(name="assignIpv4s")
    def assign_ipv4s(self) -> pulumi.Output[Sequence['outputs.NetworkAssignIpv4']]:
        return pulumi.get(self, "assign_ipv4s")

    @property
    @pulumi.getter(name="assignIpv6s")
    def assign_ipv6s(self) -> pulumi.Output[Sequence['outputs.NetworkAssignIpv6']]:
        return pulumi.get(self, "assign_ipv6s")

    @property
    @pulumi.getter(name="assignmentPools")
    def assignment_pools(self) -> pulumi.Output[Sequence['outputs.NetworkAssignmentPool']]:
        return pulumi.get(self, "assignment_pools")

    @property
    @pulumi.getter(name="creationTime")
    def creation_time(self) -> pulumi.Output[float]:
        return pulumi.get(self, "creation_time")

    @property
    @pulumi.getter
    def description(self) -> pulumi.Output[str]:
        return pulumi.get(self, "description")

    @property
    @pulumi.getter
    def dns(self) -> pulumi.Output[Sequence['outputs.NetworkDn']]:
        return pulumi.get(self, "dns")

    @property
    @pulumi.getter(name="enableBroadcast")
    def enable_broadcast(self) -> pulumi.Output[bool]:
        return pulumi.get(self, "enable_broadcast")

    @property
    @pulumi.getter(name="flowRules")
    def flow_rules(self) -> pulumi.Output[str]:
        return pulumi.get(self, "flow_rules")

    @property
    @pulumi.getter(name="multicastLimit")
    def multicast_limit(self) -> pulumi.Output[float]:
        return pulumi.get(self, "multicast_limit")

    @property
    @pulumi.getter
    def name(self) -> pulumi.Output[str]:
        return pulumi.get(self, "name")

    @property
    @pulumi.getter(name="networkId")
    def network_id(self) -> pulumi.Output[str]:
        return pulumi.get(self, "network_id")

    @property
    @pulumi.getter
    def private(self) -> pulumi.Output[bool]:
        return pulumi.get(self, "private")

    @property
    @pulumi.getter
    def routes(self) -> pulumi.Output[Sequence['outputs.NetworkRoute']]:
        return pulumi.get(self, "routes")
