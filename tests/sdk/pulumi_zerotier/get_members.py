# Stand-in for the generated SDK's get_members.py (data source `zerotier_members`). The element type of
# `members` (outputs.GetMembersMemberResult upstream) is not checked against the generated SDK; kept as mappings.
from typing import Any, Mapping, Optional, Sequence

import pulumi

from . import _utilities

__all__ = ["GetMembersResult", "AwaitableGetMembersResult", "get_members", "get_members_output"]


@pulumi.output_type
class GetMembersResult:
    def __init__(__self__, id=None, members=None, network_id=None):
        pulumi.set(__self__, "id", id)
        pulumi.set(__self__, "members", members)
        pulumi.set(__self__, "network_id", network_id)

    @property
    @pulumi.getter
    def id(self) -> str:
        return pulumi.get(self, "id")

    @property
    @pulumi.getter
    def members(self) -> Sequence[Mapping[str, Any]]:
        return pulumi.get(self, "members")

    @property
    @pulumi.getter(name="networkId")
    def network_id(self) -> str:
        return pulumi.get(self, "network_id")


class AwaitableGetMembersResult(GetMembersResult):
    def __await__(self):
        if False:
            yield self
        return GetMembersResult(id=self.id, members=self.members, network_id=self.network_id)


def get_members(id: Optional[str] = None, network_id: Optional[str] = None,
                opts: Optional[pulumi.InvokeOptions] = None) -> AwaitableGetMembersResult:
    __args__ = {"id": id, "networkId": network_id}
    opts = pulumi.InvokeOptions.merge(_utilities.get_invoke_opts_defaults(), opts)
    __ret__ = pulumi.runtime.invoke("zerotier:index/getMembers:getMembers", __args__, opts=opts,
                                    typ=GetMembersResult, package_ref=_utilities.get_package()).value
    return AwaitableGetMembersResult(id=__ret__.id, members=__ret__.members, network_id=__ret__.network_id)


def get_members_output(id: pulumi.Input[Optional[str]] = None, network_id: pulumi.Input[Optional[str]] = None,
                       opts=None) -> pulumi.Output[GetMembersResult]:
    __args__ = {"id": id, "networkId": network_id}
    opts = pulumi.InvokeOutputOptions.merge(_utilities.get_invoke_opts_defaults(), opts)
    __ret__ = pulumi.runtime.invoke_output("zerotier:index/getMembers:getMembers", __args__, opts=opts,
                                           typ=GetMembersResult, package_ref=_utilities.get_package())
    return __ret__.apply(lambda r: GetMembersResult(id=r.id, members=r.members, network_id=r.network_id))
