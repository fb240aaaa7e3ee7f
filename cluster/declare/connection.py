"""How the program reaches a node over SSH (pulumi-command's connection settings).

pulumi-command (``provider/pkg/provider/remote/connection.go``) dials until
more than ``dialErrorLimit`` dials have failed, waiting 0.1 s after the
first and 1.5 times longer after each (at most 5 s), each TCP connect bounded
by ``perDialTimeout``: with the limits below (21 dials) a node that refuses
connections is given up after 61 s, one that drops packets after 6 min 16 s
(:func:`retry_seconds`). Authentication
failures are retried the same way. It always offers the agent on
``SSH_AUTH_SOCK`` as well as a configured key, and a socket that cannot be
dialed fails the connection (README, "SSH").
"""

from __future__ import annotations

from collections.abc import Iterable

import pulumi
import pulumi_command as command

from cluster.errors import Problem
from cluster.spec import NodeSpec

#: Give nodes that are still booting (fresh cloud VMs) time to accept SSH.
DIAL_ERROR_LIMIT = 20
PER_DIAL_TIMEOUT = 15
#: pulumi-command's backoff between dials: first wait, factor, cap (connection.go).
BACKOFF_FIRST, BACKOFF_FACTOR, BACKOFF_CAP = 0.1, 1.5, 5.0
#: Host key types pulumi-command cannot use: it offers exactly the pinned key's type as
#: HostKeyAlgorithms, and ``ssh-rsa`` (RSA with SHA-1) is refused by OpenSSH 8.8 and later.
REFUSED_HOST_KEY_TYPES = ("ssh-rsa",)


def retry_seconds(limit: int = DIAL_ERROR_LIMIT, *, answered: bool = True) -> float:
    """How long pulumi-command keeps dialing a node before it gives up: ``limit`` + 1 dials, ``limit`` waits.

    ``answered``: each dial fails at once (connection refused, authentication
    failed); otherwise each one also waits out ``PER_DIAL_TIMEOUT`` (packets dropped).
    """
    waits = sum(min(BACKOFF_FIRST * BACKOFF_FACTOR**i, BACKOFF_CAP) for i in range(limit))
    return waits + (0 if answered else (limit + 1) * PER_DIAL_TIMEOUT)


def refused_host_keys(nodes: Iterable[NodeSpec]) -> list[Problem]:
    """Every pinned host key (a node's, a jump host's) pulumi-command could never connect with."""
    problems = []
    for node in nodes:
        origin = node.origin or f"node {node.name}"
        pinned = [(f"{origin}.hostKey", node.host_key)]
        if node.proxy is not None:
            pinned.append((f"{origin}.proxy.hostKey", node.proxy.host_key))
        for where, key in pinned:
            if key is not None and key.split(maxsplit=1)[0] in REFUSED_HOST_KEY_TYPES:
                problems.append(
                    Problem(
                        where,
                        "is an ssh-rsa key: pulumi-command offers only the pinned key's type, and OpenSSH 8.8+ "
                        "refuses ssh-rsa (RSA with SHA-1), so no connection could ever succeed",
                        "pin the host's ed25519 or ecdsa key instead: `ssh-keyscan -t ed25519 HOST` "
                        "(every OpenSSH since 6.5 has one), without the host name",
                    )
                )
    return problems


def connection(node: NodeSpec, private_key: pulumi.Input[str] | None) -> command.remote.ConnectionArgs:
    """The node's SSH connection: its key (a secret) or, without one, the SSH agent.

    A jump host gets the same key: bastions in HPC sites are usually reached
    with the operator's own key, and a per-node key can be passed from Python.
    The jump host's own host key is pinned too (``proxy: head`` pins the head's).
    Keys of :data:`REFUSED_HOST_KEY_TYPES` are refused before (:func:`refused_host_keys`).
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
            host_key=node.proxy.host_key,
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
