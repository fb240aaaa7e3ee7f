"""The plan for ``controller: head``: the network and every member as the head's controller API takes them.

The settings are compared byte for byte (``controller.sh`` and the controller
see exactly these bytes, and equal settings must be equal bytes for a
no-change ``pulumi up`` to be a no-op); the compiled rules against the golden
output of ZeroTier's own rule compiler (``tests/rules_golden/onprem.json``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from cluster.config.parse import parse_cluster
from cluster.config.stackfile import read_stack_config
from cluster.operate.status import status_stdin
from cluster.plan.build import Plan, build_plan
from cluster.plan.steps import Pending
from tests.lab.provision import ROOT, cluster_config, plan_for


def onprem_on_the_head() -> Plan:
    config = read_stack_config(ROOT, "onprem")
    config["controller"] = "head"
    return build_plan(parse_cluster(config, base_dir=ROOT))


def test_the_network_settings_are_exactly_these_bytes() -> None:
    plan = onprem_on_the_head()
    assert plan.controller is not None
    network = plan.controller.network
    assert (network.node, network.generation, network.params.network_id) == ("head", 0, Pending("networkId"))  # type: ignore[attr-defined]
    settings: str = network.params.settings  # type: ignore[attr-defined]
    assert settings.startswith(
        '{"capabilities":[],"enableBroadcast":true,'
        '"ipAssignmentPools":[{"ipRangeEnd":"10.147.17.250","ipRangeStart":"10.147.17.200"}],'
        '"mtu":2800,"multicastLimit":32,"name":"chpc-overlay","private":true,'
        '"routes":[{"target":"10.147.17.0/24","via":null}],'
        '"rules":[{"etherType":2048,"not":true,"or":false,"type":"MATCH_ETHERTYPE"},'
    )
    assert settings.endswith(
        '{"type":"ACTION_ACCEPT"},{"type":"ACTION_DROP"}],"tags":[{"default":0,"id":1}],'
        '"v4AssignMode":{"zt":true},"v6AssignMode":{"6plane":false,"rfc4193":false,"zt":false}}'
    )
    golden = json.loads((ROOT / "tests" / "rules_golden" / "onprem.json").read_text())["config"]
    parsed = json.loads(settings)
    assert (parsed["rules"], parsed["tags"], parsed["capabilities"]) == (
        golden["rules"],
        golden["tags"],
        golden["capabilities"],
    )


def test_without_a_pool_the_network_has_none() -> None:
    config = cluster_config(controller="head")
    del config["network"]["networkId"]
    plan = plan_for(config)
    assert plan.controller is not None
    settings = json.loads(plan.controller.network.params.settings)  # type: ignore[attr-defined]
    assert settings["ipAssignmentPools"] == []
    assert settings["routes"] == [{"target": "10.147.17.0/24", "via": None}]


def test_every_node_and_device_is_a_member_with_exactly_these_settings() -> None:
    plan = onprem_on_the_head()
    assert plan.controller is not None

    def row(name: str, ip: str, tag: int) -> str:
        return (
            f'{{"activeBridge":false,"authorized":true,"ipAssignments":["{ip}"],"name":"{name}",'
            f'"noAutoAssignIps":true,"tags":[[1,{tag}]]}}'
        )

    members: list[tuple[Any, ...]] = [
        (m.node, m.generation, m.params.network_id, m.params.member, m.params.settings)  # type: ignore[attr-defined]
        for m in plan.controller.members
    ]
    node, device = Pending("memberAddress"), Pending("networkId")
    assert members == [
        ("head", 0, device, node, row("head", "10.147.17.1", 1)),
        ("cn-01", 0, device, node, row("cn-01", "10.147.17.37", 2)),
        ("cn-02", 0, device, node, row("cn-02", "10.147.17.126", 2)),
        ("cn-03", 0, device, node, row("cn-03", "10.147.17.4", 2)),
        ("cn-04", 0, device, node, row("cn-04", "10.147.17.48", 2)),
        ("gpu-01", 0, device, node, row("gpu-01", "10.147.17.78", 2)),
        ("alice-laptop", 0, device, "a1b2c3d4e5", row("alice-laptop", "10.147.17.98", 3)),
        ("bob-desktop", 0, device, "0f1e2d3c4b", row("bob-desktop", "10.147.17.100", 3)),
    ]
    assert plan.controller.member("cn-03") is plan.controller.members[3]


def test_an_evicted_node_stays_a_member_deauthorized_with_its_address() -> None:
    nodes = [
        {"name": "head", "role": "head", "host": "192.0.2.10", "ip": "10.147.17.1", "generation": 2},
        {"name": "compute-01", "role": "compute", "host": "192.0.2.11", "ip": "10.147.17.11", "state": "evicted"},
    ]
    config = cluster_config(nodes, controller="head")
    del config["network"]["networkId"]
    plan = plan_for(config)
    assert plan.controller is not None
    assert plan.controller.network.generation == 2
    assert [(m.node, m.params.settings) for m in plan.controller.members] == [  # type: ignore[attr-defined]
        (
            "head",
            '{"activeBridge":false,"authorized":true,"ipAssignments":["10.147.17.1"],"name":"head",'
            '"noAutoAssignIps":true,"tags":[[1,1]]}',
        ),
        (
            "compute-01",
            '{"activeBridge":false,"authorized":false,"ipAssignments":["10.147.17.11"],"name":"compute-01",'
            '"noAutoAssignIps":true,"tags":[[1,2]]}',
        ),
    ]


def test_a_member_name_that_is_not_planned_is_an_error() -> None:
    plan = onprem_on_the_head()
    assert plan.controller is not None
    with pytest.raises(AssertionError, match=r"^0 member steps named nobody$"):
        plan.controller.member("nobody")


def test_every_composed_text_has_exactly_one_shebang_line() -> None:
    """The scripts are joined without their own ``#!`` lines: a stdin starts with the one, a program has none."""
    config = cluster_config(controller="head", roots="head")
    del config["network"]["networkId"]
    plan = plan_for(config)
    assert plan.controller is not None and plan.moon is not None
    steps = [s for n in plan.nodes for s in n.steps if s is not None]
    steps += [plan.controller.network, *plan.controller.members, plan.moon]
    assert len(steps) == 28  # 7 on the head, 8 on each compute node (orbit), network, 3 members, moon

    def shebangs(text: str) -> int:
        return sum(line.startswith("#!") for line in text.splitlines())

    for step in steps:
        stdin = step.text()
        assert stdin.startswith("#!/bin/sh\n") and shebangs(stdin) == 1, step.name
        assert shebangs(step.program.text) == 0, step.name
    status = status_stdin(plan, plan.nodes[0], [])
    assert status.startswith("#!/bin/sh\n") and shebangs(status) == 1
