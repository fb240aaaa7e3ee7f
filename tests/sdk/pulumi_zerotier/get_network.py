# Stand-in for the generated SDK's get_network.py (data source `zerotier_network`): every network
# attribute but creation_time is also an optional argument, as generated for zerotier 1.6.0.
from typing import Optional, Sequence

import pulumi

from . import _utilities, outputs
from ._inputs import *

__all__ = ["GetNetworkResult", "AwaitableGetNetworkResult", "get_network", "get_network_output"]


@pulumi.output_type
class GetNetworkResult:
    """A collection of values returned by getNetwork."""

    def __init__(__self__, assign_ipv4s=None, assign_ipv6s=None, assignment_pools=None, creation_time=None, description=None, dns=None, enable_broadcast=None, flow_rules=None, id=None, multicast_limit=None, name=None, private=None, routes=None):
        if assign_ipv4s and not isinstance(assign_ipv4s, list):
            raise TypeError("Expected argument 'assign_ipv4s' to be a list")
        pulumi.set(__self__, "assign_ipv4s", assign_ipv4s)
        if assign_ipv6s and not isinstance(assign_ipv6s, list):
            raise TypeError("Expected argument 'assign_ipv6s' to be a list")
        pulumi.set(__self__, "assign_ipv6s", assign_ipv6s)
        if assignment_pools and not isinstance(assignment_pools, list):
            raise TypeError("Expected argument 'assignment_pools' to be a list")
        pulumi.set(__self__, "assignment_pools", assignment_pools)
        if creation_time and not isinstance(creation_time, float):
            raise TypeError("Expected argument 'creation_time' to be a float")
        pulumi.set(__self__, "creation_time", creation_time)
        if description and not isinstance(description, str):
            raise TypeError("Expected argument 'description' to be a str")
        pulumi.set(__self__, "description", description)
        if dns and not isinstance(dns, list):
            raise TypeError("Expected argument 'dns' to be a list")
        pulumi.set(__self__, "dns", dns)
        if enable_broadcast and not isinstance(enable_broadcast, bool):
            raise TypeError("Expected argument 'enable_broadcast' to be a bool")
        pulumi.set(__self__, "enable_broadcast", enable_broadcast)
        if flow_rules and not isinstance(flow_rules, str):
            raise TypeError("Expected argument 'flow_rules' to be a str")
        pulumi.set(__self__, "flow_rules", flow_rules)
        if id and not isinstance(id, str):
            raise TypeError("Expected argument 'id' to be a str")
        pulumi.set(__self__, "id", id)
        if multicast_limit and not isinstance(multicast_limit, float):
            raise TypeError("Expected argument 'multicast_limit' to be a float")
        pulumi.set(__self__, "multicast_limit", multicast_limit)
        if name and not isinstance(name, str):
            raise TypeError("Expected argument 'name' to be a str")
        pulumi.set(__self__, "name", name)
        if private and not isinstance(private, bool):
            raise TypeError("Expected argument 'private' to be a bool")
        pulumi.set(__self__, "private", private)
        if routes and not isinstance(routes, list):
            raise TypeError("Expected argument 'routes' to be a list")
        pulumi.set(__self__, "routes", routes)

    @property
    @pulumi.getter(name="assignIpv4s")
    def assign_ipv4s(self) -> Optional[Sequence['outputs.GetNetworkAssignIpv4Result']]:
        return pulumi.get(self, "assign_ipv4s")

    @property
    @pulumi.getter(name="assignIpv6s")
    def assign_ipv6s(self) -> Optional[Sequence['outputs.GetNetworkAssignIpv6Result']]:
        return pulumi.get(self, "assign_ipv6s")

    @property
    @pulumi.getter(name="assignmentPools")
    def assignment_pools(self) -> Optional[Sequence['outputs.GetNetworkAssignmentPoolResult']]:
        return pulumi.get(self, "assignment_pools")

    @property
    @pulumi.getter(name="creationTime")
    def creation_time(self) -> float:
        return pulumi.get(self, "creation_time")

    @property
    @pulumi.getter
    def description(self) -> Optional[str]:
        return pulumi.get(self, "description")

    @property
    @pulumi.getter
    def dns(self) -> Optional[Sequence['outputs.GetNetworkDnResult']]:
        return pulumi.get(self, "dns")

    @property
    @pulumi.getter(name="enableBroadcast")
    def enable_broadcast(self) -> Optional[bool]:
        return pulumi.get(self, "enable_broadcast")

    @property
    @pulumi.getter(name="flowRules")
    def flow_rules(self) -> Optional[str]:
        return pulumi.get(self, "flow_rules")

    @property
    @pulumi.getter
    def id(self) -> str:
        return pulumi.get(self, "id")

    @property
    @pulumi.getter(name="multicastLimit")
    def multicast_limit(self) -> Optional[float]:
        return pulumi.get(self, "multicast_limit")

    @property
    @pulumi.getter
    def name(self) -> str:
        return pulumi.get(self, "name")

    @property
    @pulumi.getter
    def private(self) -> Optional[bool]:
        return pulumi.get(self, "private")

    @property
    @pulumi.getter
    def routes(self) -> Optional[Sequence['outputs.GetNetworkRouteResult']]:
        return pulumi.get(self, "routes")


class AwaitableGetNetworkResult(GetNetworkResult):
    def __await__(self):
        if False:
            yield self
        return GetNetworkResult(assign_ipv4s=self.assign_ipv4s, assign_ipv6s=self.assign_ipv6s, assignment_pools=self.assignment_pools, creation_time=self.creation_time, description=self.description, dns=self.dns, enable_broadcast=self.enable_broadcast, flow_rules=self.flow_rules, id=self.id, multicast_limit=self.multicast_limit, name=self.name, private=self.private, routes=self.routes)


def _args(assign_ipv4s, assign_ipv6s, assignment_pools, description, dns, enable_broadcast, flow_rules, id, multicast_limit, name, private, routes):
    return {"assignIpv4s": assign_ipv4s, "assignIpv6s": assign_ipv6s, "assignmentPools": assignment_pools, "description": description, "dns": dns, "enableBroadcast": enable_broadcast, "flowRules": flow_rules, "id": id, "multicastLimit": multicast_limit, "name": name, "private": private, "routes": routes}


def get_network(assign_ipv4s: Optional[Sequence[GetNetworkAssignIpv4Args]] = None, assign_ipv6s: Optional[Sequence[GetNetworkAssignIpv6Args]] = None, assignment_pools: Optional[Sequence[GetNetworkAssignmentPoolArgs]] = None, description: Optional[str] = None, dns: Optional[Sequence[GetNetworkDnArgs]] = None, enable_broadcast: Optional[bool] = None, flow_rules: Optional[str] = None, id: Optional[str] = None, multicast_limit: Optional[float] = None, name: Optional[str] = None, private: Optional[bool] = None, routes: Optional[Sequence[GetNetworkRouteArgs]] = None,
                opts: Optional[pulumi.InvokeOptions] = None) -> AwaitableGetNetworkResult:
    """Reads an existing network."""
    __args__ = _args(assign_ipv4s, assign_ipv6s, assignment_pools, description, dns, enable_broadcast, flow_rules, id, multicast_limit, name, private, routes)
    opts = pulumi.InvokeOptions.merge(_utilities.get_invoke_opts_defaults(), opts)
    __ret__ = pulumi.runtime.invoke("zerotier:index/getNetwork:getNetwork", __args__, opts=opts,
                                    typ=GetNetworkResult, package_ref=_utilities.get_package()).value
    return AwaitableGetNetworkResult(assign_ipv4s=pulumi.get(__ret__, "assign_ipv4s"), assign_ipv6s=pulumi.get(__ret__, "assign_ipv6s"), assignment_pools=pulumi.get(__ret__, "assignment_pools"), creation_time=pulumi.get(__ret__, "creation_time"), description=pulumi.get(__ret__, "description"), dns=pulumi.get(__ret__, "dns"), enable_broadcast=pulumi.get(__ret__, "enable_broadcast"), flow_rules=pulumi.get(__ret__, "flow_rules"), id=pulumi.get(__ret__, "id"), multicast_limit=pulumi.get(__ret__, "multicast_limit"), name=pulumi.get(__ret__, "name"), private=pulumi.get(__ret__, "private"), routes=pulumi.get(__ret__, "routes"))


def get_network_output(assign_ipv4s: pulumi.Input[Optional[Sequence[GetNetworkAssignIpv4Args]]] = None, assign_ipv6s: pulumi.Input[Optional[Sequence[GetNetworkAssignIpv6Args]]] = None, assignment_pools: pulumi.Input[Optional[Sequence[GetNetworkAssignmentPoolArgs]]] = None, description: pulumi.Input[Optional[str]] = None, dns: pulumi.Input[Optional[Sequence[GetNetworkDnArgs]]] = None, enable_broadcast: pulumi.Input[Optional[bool]] = None, flow_rules: pulumi.Input[Optional[str]] = None, id: pulumi.Input[Optional[str]] = None, multicast_limit: pulumi.Input[Optional[float]] = None, name: pulumi.Input[Optional[str]] = None, private: pulumi.Input[Optional[bool]] = None, routes: pulumi.Input[Optional[Sequence[GetNetworkRouteArgs]]] = None,
                       opts=None) -> pulumi.Output[GetNetworkResult]:
    """Reads an existing network, with Inputs as arguments."""
    __args__ = _args(assign_ipv4s, assign_ipv6s, assignment_pools, description, dns, enable_broadcast, flow_rules, id, multicast_limit, name, private, routes)
    opts = pulumi.InvokeOutputOptions.merge(_utilities.get_invoke_opts_defaults(), opts)
    __ret__ = pulumi.runtime.invoke_output("zerotier:index/getNetwork:getNetwork", __args__, opts=opts,
                                           typ=GetNetworkResult, package_ref=_utilities.get_package())
    return __ret__.apply(lambda r: GetNetworkResult(assign_ipv4s=pulumi.get(r, "assign_ipv4s"), assign_ipv6s=pulumi.get(r, "assign_ipv6s"), assignment_pools=pulumi.get(r, "assignment_pools"), creation_time=pulumi.get(r, "creation_time"), description=pulumi.get(r, "description"), dns=pulumi.get(r, "dns"), enable_broadcast=pulumi.get(r, "enable_broadcast"), flow_rules=pulumi.get(r, "flow_rules"), id=pulumi.get(r, "id"), multicast_limit=pulumi.get(r, "multicast_limit"), name=pulumi.get(r, "name"), private=pulumi.get(r, "private"), routes=pulumi.get(r, "routes")))
