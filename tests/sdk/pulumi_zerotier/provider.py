# Stand-in for the generated SDK's provider.py (see README.md). As generated for zerotier 1.6.0:
# the token is required, the SDK reads no environment variable (the provider plugin does, when the
# input is empty) and marks nothing secret (upstream has no Sensitive on it): the program must.
from typing import Any, Mapping, Optional

import pulumi
import pulumi.runtime

from . import _utilities

__all__ = ["ProviderArgs", "Provider"]


@pulumi.input_type
class ProviderArgs:
    def __init__(
        __self__,
        *,
        zerotier_central_token: pulumi.Input[str],
        zerotier_central_url: Optional[pulumi.Input[str]] = None,
    ):
        pulumi.set(__self__, "zerotier_central_token", zerotier_central_token)
        if zerotier_central_url is not None:
            pulumi.set(__self__, "zerotier_central_url", zerotier_central_url)

    @property
    @pulumi.getter(name="zerotierCentralToken")
    def zerotier_central_token(self) -> pulumi.Input[str]:
        return pulumi.get(self, "zerotier_central_token")

    @zerotier_central_token.setter
    def zerotier_central_token(self, value: pulumi.Input[str]):
        pulumi.set(self, "zerotier_central_token", value)

    @property
    @pulumi.getter(name="zerotierCentralUrl")
    def zerotier_central_url(self) -> Optional[pulumi.Input[str]]:
        return pulumi.get(self, "zerotier_central_url")

    @zerotier_central_url.setter
    def zerotier_central_url(self, value: Optional[pulumi.Input[str]]):
        pulumi.set(self, "zerotier_central_url", value)


@pulumi.type_token("pulumi:providers:zerotier")
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

            if zerotier_central_token is None and not opts.urn:
                raise TypeError("Missing required property 'zerotier_central_token'")
            __props__.__dict__["zerotier_central_token"] = zerotier_central_token
            __props__.__dict__["zerotier_central_url"] = zerotier_central_url
        super(Provider, __self__).__init__(
            "zerotier", resource_name, __props__, opts, package_ref=_utilities.get_package()
        )

    @property
    @pulumi.getter(name="zerotierCentralToken")
    def zerotier_central_token(self) -> pulumi.Output[str]:
        return pulumi.get(self, "zerotier_central_token")

    @property
    @pulumi.getter(name="zerotierCentralUrl")
    def zerotier_central_url(self) -> pulumi.Output[Optional[str]]:
        return pulumi.get(self, "zerotier_central_url")

    @pulumi.output_type
    class TerraformConfigResult:
        def __init__(__self__, result=None):
            if result and not isinstance(result, dict):
                raise TypeError("Expected argument 'result' to be a dict")
            pulumi.set(__self__, "result", result)

        @property
        @pulumi.getter
        def result(self) -> Mapping[str, Any]:
            return pulumi.get(self, "result")

    def terraform_config(__self__) -> pulumi.Output["Provider.TerraformConfigResult"]:
        """The provider's configuration with Terraform-cased keys (for the Terraform Module provider)."""
        return pulumi.runtime.call(
            "pulumi:providers:zerotier/terraformConfig",
            {"__self__": __self__},
            res=__self__,
            typ=Provider.TerraformConfigResult,
            package_ref=_utilities.get_package(),
        )
