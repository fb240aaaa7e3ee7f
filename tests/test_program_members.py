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


def test_the_heads_network_and_member_commands_are_the_components_children_after_the_identities() -> None:
    """The head's controller steps: parent, order (identities and the head's local.conf first), replacement."""
    config, secrets = stack_file_config("dev")
    del config["zerotier:zerotierCentralToken"]
    config["zerotier-cluster:controller"] = json.dumps("head")
    run = run_program(config, [s for s in secrets if s != "zerotier:zerotierCentralToken"])
    component = "urn:pulumi:dev::zerotier-cluster::pulumi:pulumi:Stack$zerotier-cluster:index:Overlay::zerotier-cluster"
    command = (
        "urn:pulumi:dev::zerotier-cluster::zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-"
    )
    steps = {r.name: r for r in run.resources if r.name.endswith(("-member", "-network"))}
    assert {
        name: (r.parent, sorted(r.dependencies), r.options["deleteBeforeReplace"]) for name, r in steps.items()
    } == {
        "zerotier-cluster-network": (component, [f"{command}head-identity", f"{command}head-localconf"], True),
        "zerotier-cluster-head-member": (
            component,
            [f"{command}head-identity", f"{command}head-localconf", f"{command}network"],
            True,
        ),
        "zerotier-cluster-compute-01-member": (
            component,
            [
                f"{command}compute-01-identity",
                f"{command}head-identity",
                f"{command}head-localconf",
                f"{command}network",
            ],
            True,
        ),
        "zerotier-cluster-compute-02-member": (
            component,
            [
                f"{command}compute-02-identity",
                f"{command}head-identity",
                f"{command}head-localconf",
                f"{command}network",
            ],
            True,
        ),
    }


def test_a_central_network_is_declared_with_exactly_these_settings() -> None:
    """Every setting of the Central network, whole (the module-scoped runs elsewhere hide which test reads which)."""
    network = next(r for r in dev_with(lambda nodes: None).resources if r.type == "zerotier:index/network:Network")
    inputs = dict(network.inputs)
    rules = inputs.pop("flowRules")
    assert inputs == {
        "name": "chpc-overlay",
        "description": "HPC cluster overlay managed by zerotier-cluster (Pulumi)",
        "private": True,
        "enableBroadcast": True,
        "multicastLimit": 32.0,
        "routes": [{"target": "10.147.17.0/24"}],
        "assignmentPools": [{"start": "10.147.17.200", "end": "10.147.17.250"}],
        "assignIpv4s": [{"zerotier": True}],
        "assignIpv6s": [{"zerotier": False, "sixplane": False, "rfc4193": False}],
    }
    assert rules.startswith("# ZeroTier rules of network 'chpc-overlay', generated by zerotier-cluster\n")
    assert (network.name, network.options["importId"], network.options["ignoreChanges"]) == (
        "zerotier-cluster-network",
        "",
        [],
    )
