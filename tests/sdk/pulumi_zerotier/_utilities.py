# Stand-in for the generated SDK's _utilities.py: only what the resources below use.
import json
import os
from pathlib import Path

import pulumi
import pulumi.runtime

_PLUGIN = json.loads((Path(__file__).parent / "pulumi-plugin.json").read_text())


def get_env(*args):
    for v in args:
        value = os.getenv(v)
        if value is not None:
            return value
    return None


def get_version():
    return _PLUGIN["parameterization"]["version"]


def get_plugin_download_url():
    return None


def get_resource_opts_defaults() -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(version=get_version(), plugin_download_url=get_plugin_download_url())


def get_invoke_opts_defaults() -> pulumi.InvokeOptions:
    return pulumi.InvokeOptions(version=get_version(), plugin_download_url=get_plugin_download_url())


async def get_package():
    """Registers the parameterized package (terraform-provider, parameterized by zerotier/zerotier)."""
    return await pulumi.runtime.settings.register_package(
        _PLUGIN["name"],
        _PLUGIN["version"],
        get_plugin_download_url() or "",
        _PLUGIN["parameterization"]["name"],
        _PLUGIN["parameterization"]["version"],
        _PLUGIN["parameterization"]["value"],
    )


def get_resource_args_opts(resource_args_type, resource_options_type, *args, **kwargs):
    """Lets a resource be built as Res(name, ResArgs(...), opts) or Res(name, opts, **kwargs)."""
    resource_args, opts = None, None
    if len(args) > 0 and isinstance(args[0], resource_args_type):
        resource_args = args[0]
    if len(args) > 1 and isinstance(args[1], resource_options_type):
        opts = args[1]
    if len(args) > 0 and isinstance(args[0], resource_options_type):
        opts = args[0]
    if resource_args is None:
        resource_args = kwargs.get("args")
    if opts is None:
        opts = kwargs.get("opts")
    return resource_args, opts
