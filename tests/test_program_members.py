"""What a member and an evicted node's resources are declared with, whole, under Pulumi's mocks.

A Central member's inputs are compared as one literal dict, so every setting
(no ethernet bridging, no auto-assigned addresses, its role tag) is held,
not only the ones a test happened to name. An evicted node's resources must
ignore every input, ``connection`` included: after its host, user or port
changes (the machine was stolen, or its address reused), ``pulumi up`` must
not contact it again.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from cluster.declare.controller import reported_network
from tests import mockrun
from tests.mockrun import Run, run_program, stack_file_config

STEPS = ("install", "join", "firewall", "hosts", "verify")
COMMAND_INPUTS = ["connection", "create", "update", "delete", "stdin", "triggers", "logging", "addPreviousOutputInEnv"]
BUNDLE_INPUTS = ["connection", "source", "remotePath", "triggers"]


def dev_with(edit: Any) -> Run:
    """The dev stack with its nodes list edited."""
    config, secrets = stack_file_config("dev")
    nodes = json.loads(config["zerotier-cluster:nodes"])
    edit(nodes)
    return run_program({**config, "zerotier-cluster:nodes": json.dumps(nodes)}, secrets)


def test_a_central_member_is_declared_with_exactly_these_settings() -> None:
    member = dev_with(lambda nodes: None).named("zerotier-cluster-compute-01-member")
    assert member.inputs == {
        "networkId": "8056c2e21c1930be",
        "memberId": "63707593d2",
        "name": "compute-01",
        "description": "compute node of chpc-overlay (zerotier-cluster)",
        "authorized": True,
        "hidden": False,
        "allowEthernetBridging": False,
        "noAutoAssignIps": True,
        "ipAssignments": ["10.147.17.112"],
        "tags": [[1.0, 2.0]],
    }


def test_an_evicted_member_keeps_its_address_and_every_other_setting_but_access() -> None:
    evicted = dev_with(lambda nodes: nodes[1].update(state="evicted"))
    member = evicted.named("zerotier-cluster-compute-01-member")
    assert member.inputs == {
        "networkId": "8056c2e21c1930be",
        "memberId": "63707593d2",
        "name": "compute-01",
        "description": "compute node of chpc-overlay (zerotier-cluster)",
        "authorized": False,
        "hidden": False,
        "allowEthernetBridging": False,
        "noAutoAssignIps": True,
        "ipAssignments": ["10.147.17.112"],
        "tags": [[1.0, 2.0]],
    }


def test_an_evicted_node_whose_connection_changed_ignores_it_with_every_other_input() -> None:
    def evict_and_move(nodes: list[dict[str, Any]]) -> None:
        nodes[2].update(state="evicted", host="198.51.100.99", user="intruder", port=2222)

    evicted = dev_with(evict_and_move)
    for step in STEPS:
        res = evicted.named(f"zerotier-cluster-compute-02-{step}")
        # The new connection is what the config now says; ignoring it is what keeps pulumi away from the node.
        conn = res.inputs["connection"]
        assert (conn["host"], conn["user"], conn["port"]) == ("198.51.100.99", "intruder", 2222.0), step
        assert res.options["ignoreChanges"] == COMMAND_INPUTS, step
        assert res.options["retainOnDelete"] is True, step
    bundle = evicted.named("zerotier-cluster-compute-02-bundle")
    assert bundle.inputs["connection"]["host"] == "198.51.100.99"
    assert bundle.options["ignoreChanges"] == BUNDLE_INPUTS
    assert bundle.options["retainOnDelete"] is True
    # Nobody else's resources ignore anything.
    for step in STEPS:
        assert evicted.named(f"zerotier-cluster-compute-01-{step}").options["ignoreChanges"] == [], step


# --- controller: head: the network ID the head's controller confirms ----------------------------------------


def test_the_program_refuses_a_network_id_the_heads_controller_did_not_derive(monkeypatch: pytest.MonkeyPatch) -> None:
    """controller.sh prints the network it set; another ID (or none) stops pulumi up before any node joins it."""
    config, secrets = stack_file_config("dev")
    del config["zerotier:zerotierCentralToken"]
    config["zerotier-cluster:controller"] = json.dumps("head")
    secrets = [s for s in secrets if s != "zerotier:zerotierCentralToken"]
    original = mockrun._fake_stdout

    def wrong_network(node: str, step: str, stdin: str) -> str:
        return "network set\na1b2c3d4e5ffffff\n" if step == "network" else original(node, step, stdin)

    monkeypatch.setattr(mockrun, "_fake_stdout", wrong_network)
    with pytest.raises(
        Exception,
        match=r"the head's controller reported network 'a1b2c3d4e5ffffff' instead of "
        r"9f2e6d33a3050e2a; see /var/log/zerotier-cluster and `zerotier-cli info` on the head",
    ):
        run_program(config, secrets)


@pytest.mark.parametrize(
    ("stdout", "shown"),
    [("", "''"), ("\n\n", "''"), ("9f2e6d33a3050e2a \nother\n", "'other'"), ("x" * 100, repr("x" * 80))],
)
def test_a_controller_report_without_the_expected_id_on_its_last_line_is_refused(stdout: str, shown: str) -> None:
    with pytest.raises(pulumi.RunError) as err:
        reported_network(stdout, "9f2e6d33a3050e2a")
    assert str(err.value) == (
        f"the head's controller reported network {shown} instead of 9f2e6d33a3050e2a; "
        "see /var/log/zerotier-cluster and `zerotier-cli info` on the head"
    )


def test_the_expected_id_on_the_last_line_is_taken() -> None:
    assert reported_network("setting network\n  9f2e6d33a3050e2a  \n", "9f2e6d33a3050e2a") == "9f2e6d33a3050e2a"
