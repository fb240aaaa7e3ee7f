"""Every resource's URN (type, name, parent) stays as it is: a renamed or re-parented resource is a replacement.

A stack deployed with an earlier program must see no change at its next
``pulumi up``; the engine keys state by URN, so a resource whose name, type or
parent moved would be deleted and created again (its step run again on every
node). These literals were taken from the program before the declarations moved
into the plan (``cluster/plan/declarations.py``); a reshaping must keep them,
or add aliases. Resources may be added (each node's ``identity`` and ``localconf`` steps were),
never renamed. Each line is ``<type chain>::<name> < <parent's name>`` after
``urn:pulumi:<stack>::zerotier-cluster::``; the parent's own URN must be
among the stack's.
"""

from __future__ import annotations

import json

import pytest

from tests.mockrun import Run, run_program, shared_scope, stack_file_config

PROJECT = "zerotier-cluster"
OWNER = "organization/zerotier-cluster/onprem"
TOKEN = "zerotier:zerotierCentralToken"

DEV = """
pulumi:pulumi:Stack$zerotier-cluster:index:Overlay::zerotier-cluster < zerotier-cluster-dev
pulumi:pulumi:Stack::zerotier-cluster-dev < -
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-compute-01-firewall < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-compute-01-hosts < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-compute-01-identity < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-compute-01-install < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-compute-01-join < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-compute-01-localconf < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-compute-01-verify < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-compute-02-firewall < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-compute-02-hosts < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-compute-02-identity < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-compute-02-install < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-compute-02-join < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-compute-02-localconf < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-compute-02-verify < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-head-firewall < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-head-hosts < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-head-identity < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-head-install < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-head-join < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-head-localconf < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-head-verify < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:CopyToRemote::zerotier-cluster-compute-01-bundle < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:CopyToRemote::zerotier-cluster-compute-02-bundle < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:CopyToRemote::zerotier-cluster-head-bundle < zerotier-cluster
zerotier-cluster:index:Overlay$pulumi:providers:zerotier::zerotier-cluster-central < zerotier-cluster
zerotier-cluster:index:Overlay$zerotier:index/member:Member::zerotier-cluster-compute-01-member < zerotier-cluster
zerotier-cluster:index:Overlay$zerotier:index/member:Member::zerotier-cluster-compute-02-member < zerotier-cluster
zerotier-cluster:index:Overlay$zerotier:index/member:Member::zerotier-cluster-head-member < zerotier-cluster
zerotier-cluster:index:Overlay$zerotier:index/network:Network::zerotier-cluster-network < zerotier-cluster
"""

ONPREM = """
pulumi:pulumi:Stack$zerotier-cluster:index:Overlay::zerotier-cluster < zerotier-cluster-onprem
pulumi:pulumi:Stack::zerotier-cluster-onprem < -
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-cn-01-firewall < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-cn-01-hosts < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-cn-01-identity < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-cn-01-install < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-cn-01-join < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-cn-01-localconf < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-cn-01-verify < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-cn-02-firewall < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-cn-02-hosts < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-cn-02-identity < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-cn-02-install < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-cn-02-join < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-cn-02-localconf < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-cn-02-verify < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-cn-03-firewall < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-cn-03-hosts < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-cn-03-identity < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-cn-03-install < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-cn-03-join < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-cn-03-localconf < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-cn-03-verify < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-cn-04-firewall < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-cn-04-hosts < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-cn-04-identity < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-cn-04-install < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-cn-04-join < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-cn-04-localconf < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-cn-04-verify < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-gpu-01-firewall < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-gpu-01-hosts < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-gpu-01-identity < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-gpu-01-install < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-gpu-01-join < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-gpu-01-localconf < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-gpu-01-verify < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-head-firewall < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-head-hosts < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-head-identity < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-head-install < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-head-join < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-head-localconf < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-head-verify < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:CopyToRemote::zerotier-cluster-cn-01-bundle < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:CopyToRemote::zerotier-cluster-cn-02-bundle < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:CopyToRemote::zerotier-cluster-cn-03-bundle < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:CopyToRemote::zerotier-cluster-cn-04-bundle < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:CopyToRemote::zerotier-cluster-gpu-01-bundle < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:CopyToRemote::zerotier-cluster-head-bundle < zerotier-cluster
zerotier-cluster:index:Overlay$pulumi:providers:zerotier::zerotier-cluster-central < zerotier-cluster
zerotier-cluster:index:Overlay$zerotier:index/member:Member::zerotier-cluster-alice-laptop-member < zerotier-cluster
zerotier-cluster:index:Overlay$zerotier:index/member:Member::zerotier-cluster-bob-desktop-member < zerotier-cluster
zerotier-cluster:index:Overlay$zerotier:index/member:Member::zerotier-cluster-cn-01-member < zerotier-cluster
zerotier-cluster:index:Overlay$zerotier:index/member:Member::zerotier-cluster-cn-02-member < zerotier-cluster
zerotier-cluster:index:Overlay$zerotier:index/member:Member::zerotier-cluster-cn-03-member < zerotier-cluster
zerotier-cluster:index:Overlay$zerotier:index/member:Member::zerotier-cluster-cn-04-member < zerotier-cluster
zerotier-cluster:index:Overlay$zerotier:index/member:Member::zerotier-cluster-gpu-01-member < zerotier-cluster
zerotier-cluster:index:Overlay$zerotier:index/member:Member::zerotier-cluster-head-member < zerotier-cluster
zerotier-cluster:index:Overlay$zerotier:index/network:Network::zerotier-cluster-network < zerotier-cluster
"""

CLOUD = """
pulumi:pulumi:Stack$pulumi:pulumi:StackReference::zerotier-cluster-network-owner < zerotier-cluster-cloud
pulumi:pulumi:Stack$zerotier-cluster:index:Overlay::zerotier-cluster < zerotier-cluster-cloud
pulumi:pulumi:Stack::zerotier-cluster-cloud < -
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-burst-01-firewall < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-burst-01-hosts < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-burst-01-identity < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-burst-01-install < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-burst-01-join < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-burst-01-localconf < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-burst-01-verify < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-burst-02-firewall < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-burst-02-hosts < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-burst-02-identity < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-burst-02-install < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-burst-02-join < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-burst-02-localconf < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-burst-02-verify < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-burst-03-firewall < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-burst-03-hosts < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-burst-03-identity < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-burst-03-install < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-burst-03-join < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-burst-03-localconf < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-burst-03-verify < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:CopyToRemote::zerotier-cluster-burst-01-bundle < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:CopyToRemote::zerotier-cluster-burst-02-bundle < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:CopyToRemote::zerotier-cluster-burst-03-bundle < zerotier-cluster
zerotier-cluster:index:Overlay$pulumi:providers:zerotier::zerotier-cluster-central < zerotier-cluster
zerotier-cluster:index:Overlay$zerotier:index/member:Member::zerotier-cluster-burst-01-member < zerotier-cluster
zerotier-cluster:index:Overlay$zerotier:index/member:Member::zerotier-cluster-burst-02-member < zerotier-cluster
zerotier-cluster:index:Overlay$zerotier:index/member:Member::zerotier-cluster-burst-03-member < zerotier-cluster
"""

HEAD = """
pulumi:pulumi:Stack$zerotier-cluster:index:Overlay::zerotier-cluster < zerotier-cluster-dev
pulumi:pulumi:Stack::zerotier-cluster-dev < -
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-compute-01-firewall < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-compute-01-hosts < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-compute-01-identity < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-compute-01-install < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-compute-01-join < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-compute-01-localconf < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-compute-01-member < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-compute-01-orbit < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-compute-01-verify < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-compute-02-firewall < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-compute-02-hosts < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-compute-02-identity < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-compute-02-install < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-compute-02-join < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-compute-02-localconf < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-compute-02-member < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-compute-02-orbit < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-compute-02-verify < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-head-firewall < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-head-hosts < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-head-identity < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-head-install < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-head-join < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-head-localconf < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-head-member < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-head-moon < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-head-verify < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-network < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:CopyToRemote::zerotier-cluster-compute-01-bundle < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:CopyToRemote::zerotier-cluster-compute-02-bundle < zerotier-cluster
zerotier-cluster:index:Overlay$command:remote:CopyToRemote::zerotier-cluster-head-bundle < zerotier-cluster
"""


def _head_run() -> Run:
    """dev with ``controller: head`` and ``roots: head``: the head's moon, network and member commands."""
    config, secrets = stack_file_config("dev")
    del config[TOKEN]
    extra = {"controller": "head", "roots": "head", "rootEndpoint": "192.168.10.1"}
    config.update({f"zerotier-cluster:{k}": json.dumps(v) for k, v in extra.items()})
    return run_program(config, [s for s in secrets if s != TOKEN])


@pytest.fixture(scope=shared_scope)
def runs() -> dict[str, Run]:
    onprem_config, onprem_secrets = stack_file_config("onprem")
    onprem = run_program(onprem_config, onprem_secrets, stack="onprem")
    cloud_config, cloud_secrets = stack_file_config("cloud")
    cloud = run_program(cloud_config, cloud_secrets, stack="cloud", stack_outputs={OWNER: onprem.outputs})
    dev_config, dev_secrets = stack_file_config("dev")
    return {
        "dev": run_program(dev_config, dev_secrets),
        "onprem": onprem,
        "cloud": cloud,
        "head": _head_run(),
    }


def _urns(run: Run, stack: str) -> list[str]:
    prefix = f"urn:pulumi:{stack}::{PROJECT}::"
    urns = {r.urn for r in run.resources}
    lines = []
    for r in run.resources:
        assert r.urn.startswith(prefix), r.urn
        assert not r.parent or r.parent in urns, f"{r.urn}: its parent {r.parent} is not declared"
        parent = r.parent.rsplit("::", 1)[-1] if r.parent else "-"
        lines.append(f"{r.urn.removeprefix(prefix)} < {parent}")
    return sorted(lines)


@pytest.mark.parametrize(
    ("name", "stack", "expected"),
    [("dev", "dev", DEV), ("onprem", "onprem", ONPREM), ("cloud", "cloud", CLOUD), ("head", "dev", HEAD)],
    ids=["dev", "onprem", "cloud", "head"],
)
def test_every_urn_is_as_it_was(runs: dict[str, Run], name: str, stack: str, expected: str) -> None:
    assert _urns(runs[name], stack) == expected.strip().splitlines()
