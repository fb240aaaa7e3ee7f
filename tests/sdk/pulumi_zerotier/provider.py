# Stand-in for the generated SDK's provider.py (see README.md).
from typing import Optional

import pulumi

from . import _utilities

__all__ = ["ProviderArgs", "Provider"]


@pulumi.input_type
class ProviderArgs:
    def __init__(
        __self__,
        *,
        zerotier_central_token: Optional[pulumi.Input[str]] = None,
        zerotier_central_url: Optional[pulumi.Input[str]] = None,
    ):
        if zerotier_central_token is None:
            zerotier_central_token = _utilities.get_env("ZEROTIER_CENTRAL_TOKEN")
        if zerotier_central_token is not None:
            pulumi.set(__self__, "zerotier_central_token", zerotier_central_token)
        if zerotier_central_url is None:
            zerotier_central_url = _utilities.get_env("ZEROTIER_CENTRAL_URL")
        if zerotier_central_url is not None:
            pulumi.set(__self__, "zerotier_central_url", zerotier_central_url)

    @property
    @pulumi.getter(name="zerotierCentralToken")
    def zerotier_central_token(self) -> Optional[pulumi.Input[str]]:
        return pulumi.get(self, "zerotier_central_token")

    @property
    @pulumi.getter(name="zerotierCentralUrl")
    def zerotier_central_url(self) -> Optional[pulumi.Input[str]]:
        return pulumi.get(self, "zerotier_central_url")


class Provider(pulumi.ProviderResource):
    def __init__(__self__, resource_name: str, *args, **kwargs):
        resource_args, opts = _utilities.get_resource_args_opts(ProviderArgs, pulumi.ResourceOptions, *args, **kwargs)
        if resource_args is not None:
            __self__._internal_init(resource_name, opts, **resource_args.__dict__)
        else:
            __self__._internal_init(resource_name, *args, **kwargs)

    def _internal_init(
        __self__,
        resource_name: str,
        opts: Optional[pulumi.ResourceOptions] = None,
        zerotier_central_token: Optional[pulumi.Input[str]] = None,
        zerotier_central_url: Optional[pulumi.Input[str]] = None,
        __props__=None,
    ):
        opts = pulumi.ResourceOptions.merge(_utilities.get_resource_opts_defaults(), opts)
        if not isinstance(opts, pulumi.ResourceOptions):
            raise TypeError("Expected resource options to be a ResourceOptions instance")
        if opts.id is None:
            if __props__ is not None:
                raise TypeError(
                    "__props__ is only valid when passed in combination with a valid opts.id to get an existing resource"
                )
            __props__ = ProviderArgs.__new__(ProviderArgs)

            if zerotier_central_token is None:
                zerotier_central_token = _utilities.get_env("ZEROTIER_CENTRAL_TOKEN")
            __props__.__dict__["zerotier_central_token"] = (
                None if zerotier_central_token is None else pulumi.Output.secret(zerotier_central_token)
            )
            if zerotier_central_url is None:
                zerotier_central_url = _utilities.get_env("ZEROTIER_CENTRAL_URL")
            __props__.__dict__["zerotier_central_url"] = zerotier_central_url
        secret_opts = pulumi.ResourceOptions(additional_secret_outputs=["zerotierCentralToken"])
        opts = pulumi.ResourceOptions.merge(opts, secret_opts)
        super(Provider, __self__).__init__(
            "zerotier", resource_name, __props__, opts, package_ref=_utilities.get_package()
        )

    @property
    @pulumi.getter(name="zerotierCentralToken")
    def zerotier_central_token(self) -> pulumi.Output[Optional[str]]:
        return pulumi.get(self, "zerotier_central_token")

    @property
    @pulumi.getter(name="zerotierCentralUrl")
    def zerotier_central_url(self) -> pulumi.Output[Optional[str]]:
        return pulumi.get(self, "zerotier_central_url")
