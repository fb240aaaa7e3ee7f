# Stand-in for the generated SDK's nested output types.
from typing import Optional, Sequence

import pulumi

__all__ = [
    "NetworkAssignIpv4",
    "NetworkAssignIpv6",
    "NetworkAssignmentPool",
    "NetworkDn",
    "NetworkRoute",
    "GetNetworkAssignIpv4Result",
    "GetNetworkAssignIpv6Result",
    "GetNetworkAssignmentPoolResult",
    "GetNetworkDnResult",
    "GetNetworkRouteResult",
]


@pulumi.output_type
class NetworkAssignIpv4(dict):
    def __init__(__self__, *, zerotier: Optional[bool] = None):
        if zerotier is not None:
            pulumi.set(__self__, "zerotier", zerotier)

    @property
    @pulumi.getter
    def zerotier(self) -> Optional[bool]:
        return pulumi.get(self, "zerotier")


@pulumi.output_type
class NetworkAssignIpv6(dict):
    def __init__(
        __self__, *, rfc4193: Optional[bool] = None, sixplane: Optional[bool] = None, zerotier: Optional[bool] = None
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


@pulumi.output_type
class NetworkAssignmentPool(dict):
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


@pulumi.output_type
class NetworkDn(dict):
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


@pulumi.output_type
class NetworkRoute(dict):
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


@pulumi.output_type
class GetNetworkAssignIpv4Result(dict):
    def __init__(__self__, *, zerotier: Optional[bool] = None):
        if zerotier is not None:
            pulumi.set(__self__, "zerotier", zerotier)

    @property
    @pulumi.getter
    def zerotier(self) -> Optional[bool]:
        return pulumi.get(self, "zerotier")


@pulumi.output_type
class GetNetworkAssignIpv6Result(dict):
    def __init__(
        __self__, *, rfc4193: Optional[bool] = None, sixplane: Optional[bool] = None, zerotier: Optional[bool] = None
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


@pulumi.output_type
class GetNetworkAssignmentPoolResult(dict):
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


@pulumi.output_type
class GetNetworkDnResult(dict):
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


@pulumi.output_type
class GetNetworkRouteResult(dict):
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

