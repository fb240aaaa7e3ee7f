# Stand-in for the generated SDK's nested input types.
from typing import Optional, Sequence

import pulumi

__all__ = [
    "NetworkAssignIpv4Args",
    "NetworkAssignIpv6Args",
    "NetworkAssignmentPoolArgs",
    "NetworkDnArgs",
    "NetworkRouteArgs",
    "GetNetworkAssignIpv4Args",
    "GetNetworkAssignIpv6Args",
    "GetNetworkAssignmentPoolArgs",
    "GetNetworkDnArgs",
    "GetNetworkRouteArgs",
]


@pulumi.input_type
class NetworkAssignIpv4Args:
    def __init__(__self__, *, zerotier: Optional[pulumi.Input[bool]] = None):
        if zerotier is not None:
            pulumi.set(__self__, "zerotier", zerotier)

    @property
    @pulumi.getter
    def zerotier(self) -> Optional[pulumi.Input[bool]]:
        return pulumi.get(self, "zerotier")


@pulumi.input_type
class NetworkAssignIpv6Args:
    def __init__(
        __self__,
        *,
        rfc4193: Optional[pulumi.Input[bool]] = None,
        sixplane: Optional[pulumi.Input[bool]] = None,
        zerotier: Optional[pulumi.Input[bool]] = None,
    ):
        if rfc4193 is not None:
            pulumi.set(__self__, "rfc4193", rfc4193)
        if sixplane is not None:
            pulumi.set(__self__, "sixplane", sixplane)
        if zerotier is not None:
            pulumi.set(__self__, "zerotier", zerotier)

    @property
    @pulumi.getter
    def rfc4193(self) -> Optional[pulumi.Input[bool]]:
        return pulumi.get(self, "rfc4193")

    @property
    @pulumi.getter
    def sixplane(self) -> Optional[pulumi.Input[bool]]:
        return pulumi.get(self, "sixplane")

    @property
    @pulumi.getter
    def zerotier(self) -> Optional[pulumi.Input[bool]]:
        return pulumi.get(self, "zerotier")


@pulumi.input_type
class NetworkAssignmentPoolArgs:
    def __init__(__self__, *, end: Optional[pulumi.Input[str]] = None, start: Optional[pulumi.Input[str]] = None):
        if end is not None:
            pulumi.set(__self__, "end", end)
        if start is not None:
            pulumi.set(__self__, "start", start)

    @property
    @pulumi.getter
    def end(self) -> Optional[pulumi.Input[str]]:
        return pulumi.get(self, "end")

    @property
    @pulumi.getter
    def start(self) -> Optional[pulumi.Input[str]]:
        return pulumi.get(self, "start")


@pulumi.input_type
class NetworkDnArgs:
    def __init__(__self__, *, domain: pulumi.Input[str], servers: pulumi.Input[Sequence[pulumi.Input[str]]]):
        pulumi.set(__self__, "domain", domain)
        pulumi.set(__self__, "servers", servers)

    @property
    @pulumi.getter
    def domain(self) -> pulumi.Input[str]:
        return pulumi.get(self, "domain")

    @property
    @pulumi.getter
    def servers(self) -> pulumi.Input[Sequence[pulumi.Input[str]]]:
        return pulumi.get(self, "servers")


@pulumi.input_type
class NetworkRouteArgs:
    def __init__(__self__, *, target: pulumi.Input[str], via: Optional[pulumi.Input[str]] = None):
        pulumi.set(__self__, "target", target)
        if via is not None:
            pulumi.set(__self__, "via", via)

    @property
    @pulumi.getter
    def target(self) -> pulumi.Input[str]:
        return pulumi.get(self, "target")

    @property
    @pulumi.getter
    def via(self) -> Optional[pulumi.Input[str]]:
        return pulumi.get(self, "via")


@pulumi.input_type
class GetNetworkAssignIpv4Args:
    def __init__(__self__, *, zerotier: Optional[bool] = None):
        if zerotier is not None:
            pulumi.set(__self__, "zerotier", zerotier)

    @property
    @pulumi.getter
    def zerotier(self) -> Optional[bool]:
        return pulumi.get(self, "zerotier")


@pulumi.input_type
class GetNetworkAssignIpv6Args:
    def __init__(
        __self__,
        *,
        rfc4193: Optional[bool] = None,
        sixplane: Optional[bool] = None,
        zerotier: Optional[bool] = None,
    ):
        if rfc4193 is not None:
            pulumi.set(__self__, "rfc4193", rfc4193)
        if sixplane is not None:
            pulumi.set(__self__, "sixplane", sixplane)
        if zerotier is not None:
            pulumi.set(__self__, "zerotier", zerotier)

    @property
    @pulumi.getter
    def rfc4193(self) -> Optional[bool]:
        return pulumi.get(self, "rfc4193")

    @property
    @pulumi.getter
    def sixplane(self) -> Optional[bool]:
        return pulumi.get(self, "sixplane")

    @property
    @pulumi.getter
    def zerotier(self) -> Optional[bool]:
        return pulumi.get(self, "zerotier")


@pulumi.input_type
class GetNetworkAssignmentPoolArgs:
    def __init__(__self__, *, end: Optional[str] = None, start: Optional[str] = None):
        if end is not None:
            pulumi.set(__self__, "end", end)
        if start is not None:
            pulumi.set(__self__, "start", start)

    @property
    @pulumi.getter
    def end(self) -> Optional[str]:
        return pulumi.get(self, "end")

    @property
    @pulumi.getter
    def start(self) -> Optional[str]:
        return pulumi.get(self, "start")


@pulumi.input_type
class GetNetworkDnArgs:
    def __init__(__self__, *, domain: str, servers: Sequence[str]):
        pulumi.set(__self__, "domain", domain)
        pulumi.set(__self__, "servers", servers)

    @property
    @pulumi.getter
    def domain(self) -> str:
        return pulumi.get(self, "domain")

    @property
    @pulumi.getter
    def servers(self) -> Sequence[str]:
        return pulumi.get(self, "servers")


@pulumi.input_type
class GetNetworkRouteArgs:
    def __init__(__self__, *, target: str, via: Optional[str] = None):
        pulumi.set(__self__, "target", target)
        if via is not None:
            pulumi.set(__self__, "via", via)

    @property
    @pulumi.getter
    def target(self) -> str:
        return pulumi.get(self, "target")

    @property
    @pulumi.getter
    def via(self) -> Optional[str]:
        return pulumi.get(self, "via")

