# Stand-in for the generated SDK's get_network.py (data source `zerotier_network`).
from typing import Optional, Sequence

import pulumi

from . import _utilities, outputs

__all__ = ["GetNetworkResult", "AwaitableGetNetworkResult", "get_network", "get_network_output"]


@pulumi.output_type
class GetNetworkResult:
    def __init__(__self__, assignment_pools=None, creation_time=None, description=None, id=None, name=None,
                 private=None, routes=None):
        pulumi.set(__self__, "assignment_pools", assignment_pools)
        pulumi.set(__self__, "creation_time", creation_time)
        pulumi.set(__self__, "description", description)
        pulumi.set(__self__, "id", id)
        pulumi.set(__self__, "name", name)
        pulumi.set(__self__, "private", private)
        pulumi.set(__self__, "routes", routes)

    @property
    @pulumi.getter(name="assignmentPools")
    def assignment_pools(self) -> Sequence["outputs.NetworkAssignmentPool"]:
        return pulumi.get(self, "assignment_pools")

    @property
    @pulumi.getter(name="creationTime")
    def creation_time(self) -> int:
        return pulumi.get(self, "creation_time")

    @property
    @pulumi.getter
    def description(self) -> str:
        return pulumi.get(self, "description")

    @property
    @pulumi.getter
    def id(self) -> str:
        return pulumi.get(self, "id")

    @property
    @pulumi.getter
    def name(self) -> str:
        return pulumi.get(self, "name")

    @property
    @pulumi.getter
    def private(self) -> bool:
        return pulumi.get(self, "private")

    @property
    @pulumi.getter
    def routes(self) -> Sequence["outputs.NetworkRoute"]:
        return pulumi.get(self, "routes")


class AwaitableGetNetworkResult(GetNetworkResult):
    def __await__(self):
        if False:
            yield self
        return GetNetworkResult(**{k: getattr(self, k) for k in
                                   ("assignment_pools", "creation_time", "description", "id", "name", "private",
                                    "routes")})


def get_network(id: Optional[str] = None, name: Optional[str] = None,
                opts: Optional[pulumi.InvokeOptions] = None) -> AwaitableGetNetworkResult:
    __args__ = {"id": id, "name": name}
    opts = pulumi.InvokeOptions.merge(_utilities.get_invoke_opts_defaults(), opts)
    __ret__ = pulumi.runtime.invoke("zerotier:index/getNetwork:getNetwork", __args__, opts=opts,
                                    typ=GetNetworkResult, package_ref=_utilities.get_package()).value
    return AwaitableGetNetworkResult(**{k: getattr(__ret__, k) for k in
                                        ("assignment_pools", "creation_time", "description", "id", "name",
                                         "private", "routes")})


def get_network_output(id: Optional[pulumi.Input[Optional[str]]] = None,
                       name: Optional[pulumi.Input[Optional[str]]] = None,
                       opts=None) -> pulumi.Output[GetNetworkResult]:
    __args__ = {"id": id, "name": name}
    opts = pulumi.InvokeOutputOptions.merge(_utilities.get_invoke_opts_defaults(), opts)
    return pulumi.runtime.invoke_output("zerotier:index/getNetwork:getNetwork", __args__, opts=opts,
                                        typ=GetNetworkResult, package_ref=_utilities.get_package())
