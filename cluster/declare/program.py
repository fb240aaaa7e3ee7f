"""The Pulumi program: stack config in, overlay declared, outputs out.

Everything is validated before the first resource is declared; a bad config
stops ``pulumi preview`` with every problem listed, each one naming its key.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from ipaddress import IPv4Address, ip_network
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from cluster.config.parse import KNOWN_KEYS, SECRET_KEYS, namespace_problems, parse_cluster
from cluster.config.stackfile import read_stack_config
from cluster.conventions import CENTRAL_TOKEN_KEY, COMPONENT_NAME, NAMESPACE
from cluster.declare.overlay import Overlay
from cluster.errors import ConfigError, Problem
from cluster.plan.build import build_plan
from cluster.spec import ClusterSpec

TOKEN_KEY = CENTRAL_TOKEN_KEY
TOKEN_ENV = "ZEROTIER_CENTRAL_TOKEN"


def _decode(value: str) -> Any:
    """Pulumi hands structured config over as JSON text and plain strings as they are.

    JSON nested past Python's recursion limit stays text too, so validation names its key.
    """
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        return value


def stack_config() -> dict[str, Any]:
    """This project's config keys (without the namespace), secrets excluded."""
    cfg = pulumi.Config(NAMESPACE)
    keys = _all_config_keys()
    # The language host passes secret keys in PULUMI_CONFIG_SECRET_KEYS; mocks and providers set them directly.
    secret_keys = set(runtime_config.get_config_secret_keys_env())
    secret_keys |= {k for k in keys if runtime_config.is_config_secret(k)}
    if typos := namespace_problems(sorted(keys), secret_keys=secret_keys):
        raise ConfigError(typos)
    present = {k.split(":", 1)[1] for k in keys if k.startswith(f"{NAMESPACE}:")}
    raw: dict[str, Any] = {}
    for key in sorted(present | set(KNOWN_KEYS)):
        if key in SECRET_KEYS:
            continue
        value = cfg.get(key)
        if value is not None:
            raw[key] = _decode(value)
    return raw


def stack_file_problems(project: Path) -> None:
    """Refuses what only the stack file shows, as ``render`` does (``cluster/config/stackfile.py``).

    The engine hands the program values, not text: a setting dedented out of
    ``config:`` never arrives, and unquoted text YAML 1.1 reads as something
    else (``on``, ``010``, ``1:30``) arrives as the engine's own reading of
    it. Reading the file too keeps ``pulumi up`` and ``render`` agreeing on
    what they refuse. Config from elsewhere (no such file) has no text to check.
    """
    if (project / f"Pulumi.{pulumi.get_stack()}.yaml").is_file():
        read_stack_config(project, pulumi.get_stack())


def _all_config_keys() -> set[str]:
    """Every config key the engine passed in (to point out misspelt ones)."""
    keys = set(runtime_config.CONFIG.get())
    keys |= set(runtime_config.get_config_env())
    return keys


def central_token() -> pulumi.Output[str]:
    """The ZeroTier Central API token, always as a secret."""
    token = pulumi.Config("zerotier").get_secret("zerotierCentralToken")
    if token is not None:
        return token
    if os.environ.get(TOKEN_ENV):
        return pulumi.Output.secret(os.environ[TOKEN_ENV])
    raise ConfigError(
        [
            Problem(
                TOKEN_KEY,
                "is not set, so the program cannot reach ZeroTier Central",
                f"run `pulumi config set --secret {TOKEN_KEY}` (it prompts for the API token from my.zerotier.com) "
                f"or export {TOKEN_ENV}",
            )
        ]
    )


def ssh_private_key() -> pulumi.Output[str] | None:
    """The stack's SSH key (a secret), or None when an SSH agent is to be used."""
    key = pulumi.Config(NAMESPACE).get_secret("sshPrivateKey")
    if key is None and not os.environ.get("SSH_AUTH_SOCK"):
        raise ConfigError(
            [
                Problem(
                    f"{NAMESPACE}:sshPrivateKey",
                    "is not set and no SSH agent is running (SSH_AUTH_SOCK is empty)",
                    f"run `pulumi config set --secret {NAMESPACE}:sshPrivateKey < ~/.ssh/id_ed25519`, "
                    "or start ssh-agent and add your key",
                )
            ]
        )
    return key


def owning_stack_network(spec: ClusterSpec) -> pulumi.Output[str] | None:
    """For ``network.fromStack``: the owning stack's network ID, after checking the two fit.

    The check runs when the reference resolves, which ``pulumi preview`` does
    before anything changes, so a clash stops the preview.
    """
    net = spec.network
    if net.from_stack is None:
        return None
    ref = pulumi.StackReference(f"{NAMESPACE}-network-owner", stack_name=net.from_stack)
    owner = pulumi.Output.all(
        ref.require_output("networkId"),
        ref.require_output("cidr"),
        ref.require_output("addressSlice"),
        ref.require_output("headName"),
        ref.require_output("headIp"),
        ref.get_output("pool"),
        ref.get_output("controller"),
    )
    return owner.apply(lambda values: check_owner(spec, dict(zip(OWNER_KEYS, values, strict=True))))


OWNER_KEYS = ("networkId", "cidr", "addressSlice", "headName", "headIp", "pool", "controller")


def check_owner(spec: ClusterSpec, owner: Mapping[str, Any]) -> str:
    """Refuses to join a network whose owner's address plan this stack would collide with."""
    net = spec.network
    stack = net.from_stack
    problems = []
    if owner.get("controller") == "head":
        # Its members can only be authorized by commands on the owner's head, which this stack cannot reach.
        problems.append(
            Problem(
                f"{NAMESPACE}:network.fromStack",
                f"names {stack}, whose network is controlled by its own head (controller: head), "
                "which only that stack can authorize members on",
                f"list these nodes in {stack} itself (its head authorizes them), "
                f"or switch {stack} to controller: central so that other stacks can share its network",
            )
        )
    if owner["cidr"] != str(net.cidr):
        problems.append(
            Problem(f"{NAMESPACE}:network.cidr", f"is {net.cidr} but {stack} uses {owner['cidr']}", "use the same cidr")
        )
    theirs = ip_network(owner["addressSlice"])
    if net.address_slice.overlaps(theirs):
        problems.append(
            Problem(
                f"{NAMESPACE}:network.slice",
                f"{net.address_slice} overlaps {theirs}, the slice {stack} hands out",
                "give this stack its own part of the cidr",
            )
        )
    pool = owner.get("pool")
    if pool and net.pool is None:
        start, end = IPv4Address(pool["start"]), IPv4Address(pool["end"])
        if net.address_slice.network_address <= end and start <= net.address_slice.broadcast_address:
            problems.append(
                Problem(
                    f"{NAMESPACE}:network.slice",
                    f"{net.address_slice} overlaps {stack}'s auto-assign pool {pool['start']}-{pool['end']}",
                    "keep the slice outside the pool",
                )
            )
    remote = spec.remote_head
    if remote is not None and (remote.name, str(remote.ip)) != (owner["headName"], owner["headIp"]):
        problems.append(
            Problem(
                f"{NAMESPACE}:remoteHead",
                f"says {remote.name} {remote.ip} but {stack}'s head is {owner['headName']} {owner['headIp']}",
                "copy the owning stack's headName and headIp outputs",
            )
        )
    if problems:
        raise pulumi.RunError(str(ConfigError(problems)))
    return str(owner["networkId"])


def build(project_dir: Path | None = None) -> dict[str, Any]:
    """Reads the stack config, declares the overlay, and returns the stack outputs."""
    project = project_dir or Path.cwd()
    try:
        stack_file_problems(project)
        spec = parse_cluster(stack_config(), base_dir=project, stack=pulumi.get_stack())
        # controller: head keeps the network on the head's own zerotier-one: no Central, no token read.
        token = central_token() if spec.controller == "central" else None
        key = ssh_private_key()
        # The plan (and its reachability check) before anything is declared, the owning stack's reference too.
        plan = build_plan(spec)
        overlay = Overlay(
            COMPONENT_NAME,
            spec,
            central_token=token,
            ssh_private_key=key,
            network_id=owning_stack_network(spec),
            plan=plan,
        )
    except ConfigError as err:
        raise pulumi.RunError(str(err)) from None
    for assignment in overlay.plan.displaced():
        pulumi.log.warn(
            f"{assignment.name} sits at {assignment.ip} because {assignment.displaced_by} holds its first-choice "
            f"address {assignment.first_choice}; pin `ip: {assignment.ip}` on it so removing "
            f"{assignment.displaced_by} can never move it"
        )
    # The component's URN tells `python -m cluster status` where the stack's resources are.
    return {"overlayUrn": overlay.urn, **overlay.outputs.exports()}
