"""The plan's list of declarations: one entry per resource the program registers, sources before users."""

from __future__ import annotations

import json

import pytest

from cluster.config.parse import parse_cluster
from cluster.config.stackfile import read_stack_config
from cluster.plan.build import build_plan
from cluster.plan.declarations import NETWORK, AuthorizeMember, RunStep, declarations
from cluster.plan.steps import Pending
from tests.mockrun import ROOT, Run, run_program, stack_file_config
from tests.test_program_head import head_config

#: What the program declares besides the entries: the stack, the component, Central's provider, a stack reference.
FRAME = {"pulumi:pulumi:Stack", "zerotier-cluster:index:Overlay", "pulumi:providers:zerotier"}


def plan_of(stack: str, **settings: object):
    raw = read_stack_config(ROOT, stack)
    raw.update(settings)
    return build_plan(parse_cluster(raw, base_dir=ROOT))


def registered(run: Run) -> dict[str, str]:
    return {r.name: r.type for r in run.resources if r.type not in FRAME}


@pytest.mark.parametrize(
    ("run_of", "plan"),
    [
        (lambda: run_program(*stack_file_config("dev")), lambda: plan_of("dev")),
        (
            lambda: run_program(*head_config("dev", controller="head", roots="head", rootEndpoint="192.168.10.1")),
            lambda: plan_of("dev", controller="head", roots="head", rootEndpoint="192.168.10.1"),
        ),
        (lambda: run_program(*stack_file_config("onprem"), stack="onprem"), lambda: plan_of("onprem")),
    ],
    ids=["dev", "head", "onprem"],
)
def test_the_program_registers_exactly_one_resource_per_entry(run_of, plan) -> None:
    entries = declarations(plan())
    assert registered(run_of()) == {f"zerotier-cluster-{e.name}": e.resource_type for e in entries}
    assert len({e.name for e in entries}) == len(entries)


def test_every_entry_comes_after_and_needs_only_earlier_entries() -> None:
    for entries in (
        declarations(plan_of("dev")),
        declarations(plan_of("dev", controller="head", roots="head", rootEndpoint="192.168.10.1")),
    ):
        # Without a network entry (Central's network is given, or another stack's) its ID is known up front.
        seen = set() if any(e.name == NETWORK for e in entries) else {NETWORK}
        for e in entries:
            assert set(e.after) <= seen, (e.name, e.after)
            assert {n.source for n in e.needs} <= seen, (e.name, e.needs)
            seen.add(e.name)


def test_a_node_chain_in_the_dev_plan() -> None:
    by_name = {e.name: e for e in declarations(plan_of("dev"))}
    chain = ("compute-01-install", "compute-01-localconf", "compute-01-join", "compute-01-verify")
    assert [(n, by_name[n].after) for n in chain] == [
        ("compute-01-install", ("compute-01-bundle",)),
        ("compute-01-localconf", ("compute-01-install",)),
        ("compute-01-join", ("compute-01-member", "compute-01-localconf")),
        ("compute-01-verify", ("compute-01-firewall", "compute-01-hosts", "head-firewall")),
    ]
    assert by_name["compute-01-identity"].after == ("compute-01-install",)
    assert by_name["compute-01-bundle"].triggers == (0, "192.168.10.11", 22, "rocky")
    member = by_name["compute-01-member"]
    assert isinstance(member, AuthorizeMember) and member.script is None
    assert member.after == ("compute-01-identity",)
    assert (member.lifecycle.replace_on_changes, member.lifecycle.delete_before_replace) == (("memberId",), True)
    assert member.settings.description == "compute node of chpc-overlay (zerotier-cluster)"
    verify = by_name["head-verify"]
    assert isinstance(verify, RunStep)
    assert verify.after == ("head-firewall", "head-hosts", "compute-01-firewall", "compute-02-firewall")
    assert [(n.value, n.source) for n in verify.needs] == [("networkId", "network")]


def test_controller_head_members_run_on_the_head_after_its_network() -> None:
    entries = declarations(plan_of("dev", controller="head", roots="head", rootEndpoint="192.168.10.1"))
    by_name = {e.name: e for e in entries}
    network = by_name["network"]
    assert network.after == ("head-identity", "head-moon")
    assert [(n.value, n.source, n.suffix) for n in network.needs] == [("networkId", "head-identity", "050e2a")]
    assert network.triggers == (Pending("networkId"),), "a network under another ID replaces it"
    member = by_name["compute-02-member"]
    assert isinstance(member, AuthorizeMember) and member.host == "head" and member.script is not None
    assert member.after == ("head-identity", "head-moon", "network", "compute-02-identity")
    assert member.triggers == (Pending("memberAddress"),), "a member under another address replaces it"
    assert json.loads(member.script.params.settings)["ipAssignments"] == [str(member.settings.ip)]
    # local.conf restarts zerotier-one: on each node it is written before the moon, the orbit and the join talk to it.
    assert by_name["head-moon"].after == ("head-localconf",)
    assert by_name["compute-02-orbit"].after == ("compute-02-localconf", "head-moon")
    assert by_name["head-join"].after == ("head-member", "head-localconf", "head-moon")
