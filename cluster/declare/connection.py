"""How the program reaches a node over SSH (pulumi-command's connection settings)."""

from __future__ import annotations

import pulumi
import pulumi_command as command

from cluster.spec import NodeSpec

#: Give nodes that are still booting (fresh cloud VMs) time to accept SSH.
DIAL_ERROR_LIMIT = 20
PER_DIAL_TIMEOUT = 15


def connection(node: NodeSpec, private_key: pulumi.Input[str] | None) -> command.remote.ConnectionArgs:
    """The node's SSH connection: its key (a secret) or, without one, the SSH agent.

    A jump host gets the same key: bastions in HPC sites are usually reached
    with the operator's own key, and a per-node key can be passed from Python.
    """
    key = node.private_key if node.private_key is not None else private_key
    secret_key = pulumi.Output.secret(key) if key is not None else None
    proxy = None
    if node.proxy is not None:
        proxy = command.remote.ProxyConnectionArgs(
            host=node.proxy.host,
            user=node.proxy.user,
            port=node.proxy.port,
            private_key=secret_key,
            dial_error_limit=DIAL_ERROR_LIMIT,
            per_dial_timeout=PER_DIAL_TIMEOUT,
        )
    return command.remote.ConnectionArgs(
        host=node.host,
        user=node.user,
        port=node.port,
        private_key=secret_key,
        host_key=node.host_key,
        proxy=proxy,
        dial_error_limit=DIAL_ERROR_LIMIT,
        per_dial_timeout=PER_DIAL_TIMEOUT,
    )
