"""``controller: head`` and ``roots: head`` under Pulumi's mocks: no Central, the head's own controller and moon.

The program runs for real against the real ``pulumi`` and ``pulumi_command``
SDKs with the Central token unset; only the engine and providers are mocked
(``tests/mockrun.py``: a ``network`` step prints the ID it was sent, a
``moon`` step a signed moon, as the scripts do on a node).
"""

from __future__ import annotations

import json
import re
import tarfile
from typing import Any

import pytest

from cluster.config.parse import parse_cluster
from cluster.errors import ConfigError
from tests.mockrun import ROOT, Run, fake_address, run_program, shared_scope, stack_file_config

TOKEN = "zerotier:zerotierCentralToken"
COMMAND = "command:remote:Command"
HEAD_ADDRESS = "9f2e6d33a3"  # fake_address("head")
#: The head's address and sha256("chpc-overlay")[:6].
NETWORK_ID = "9f2e6d33a3050e2a"
OWNER = "organization/zerotier-cluster/onprem"


def head_config(stack: str, **settings: Any) -> tuple[dict[str, str], list[str]]:
    """``stack``'s file with ``settings`` added and the Central token gone (neither in config nor in env)."""
    config, secrets = stack_file_config(stack)
    del config[TOKEN]
    config.update({f"zerotier-cluster:{k}": json.dumps(v) for k, v in settings.items()})
    return config, [s for s in secrets if s != TOKEN]


@pytest.fixture(scope=shared_scope)
def dev() -> Run:
    return run_program(*head_config("dev", controller="head"))


@pytest.fixture(scope=shared_scope)
def moon() -> Run:
    return run_program(*head_config("dev", controller="head", roots="head", rootEndpoint="192.168.10.1"))


def head_program(run: Run, command: str) -> str:
    """The program a command on the head runs, from the bundle the head was sent."""
    sha = re.search(r"^ZTC_PROGRAM=([0-9a-f]{64})$", one(run, command).inputs["stdin"], re.M)
    assert sha is not None
    with tarfile.open(one(run, "zerotier-cluster-head-bundle").inputs["source"].path) as tar:
        member = tar.extractfile(f"objects/{sha.group(1)}")
        assert member is not None
        return member.read().decode()


def one(run: Run, name: str):
    found = [r for r in run.resources if r.name == name]
    assert len(found) == 1, f"{len(found)} resources named {name}"
    return found[0]


def test_no_zerotier_resource_or_provider_is_declared_and_no_token_is_needed(dev: Run) -> None:
    types = {r.type for r in dev.resources}
    assert not [t for t in types if t.startswith(("zerotier:", "pulumi:providers:zerotier"))], types
    assert types == {
        "pulumi:pulumi:Stack",
        "zerotier-cluster:index:Overlay",
        "command:remote:CopyToRemote",
        COMMAND,
    }


def test_the_network_is_created_on_the_head_with_an_id_from_the_heads_address(dev: Run) -> None:
    network = one(dev, "zerotier-cluster-network")
    head_identity = one(dev, "zerotier-cluster-head-identity")
    assert network.type == COMMAND
    assert network.inputs["connection"]["host"] == "203.0.113.10"
    assert head_identity.urn in network.dependencies
    assert network.inputs["triggers"] == [NETWORK_ID], "a network under another ID replaces it"
    stdin = network.inputs["stdin"]
    assert stdin.startswith("#!/bin/sh\n# zerotier-cluster network step for node head\nZTC_NODE=head\n")
    assert f"\nZTC_NETWORK_ID={NETWORK_ID}\n" in stdin
    assert dev.outputs["networkId"] == NETWORK_ID
    assert dev.outputs["controller"] == "head"


def test_the_network_program_carries_what_central_declares_with_the_rules_compiled(dev: Run) -> None:
    program = head_program(dev, "zerotier-cluster-network")
    assert program.startswith("# zerotier-cluster network program: shared parameters, lib.sh, controller.sh\n")
    assert "\nZTC_STEP=network\n" in program
    line = next(x for x in program.splitlines() if x.startswith("ZTC_NETWORK_SETTINGS="))
    settings = json.loads(line.removeprefix("ZTC_NETWORK_SETTINGS=").strip("'"))
    assert settings["name"] == "chpc-overlay"
    assert settings["private"] is True
    assert settings["routes"] == [{"target": "10.147.17.0/24", "via": None}]
    assert settings["ipAssignmentPools"] == [{"ipRangeStart": "10.147.17.200", "ipRangeEnd": "10.147.17.250"}]
    assert settings["v4AssignMode"] == {"zt": True}
    assert settings["v6AssignMode"] == {"zt": False, "6plane": False, "rfc4193": False}
    assert (settings["enableBroadcast"], settings["multicastLimit"]) == (True, 32)
    assert settings["tags"] == [{"id": 1, "default": 0}]
    assert settings["capabilities"] == []
    # The anti-spoofing rule leads: drop what is not IPv4/ARP or not sent from an assigned address.
    assert settings["rules"][:4] == [
        {"type": "MATCH_ETHERTYPE", "not": True, "or": False, "etherType": 2048},
        {"type": "MATCH_ETHERTYPE", "not": True, "or": False, "etherType": 2054},
        {"type": "MATCH_CHARACTERISTICS", "not": True, "or": True, "mask": "1000000000000000"},
        {"type": "ACTION_DROP"},
    ]


def test_every_member_is_authorized_on_the_head_before_its_join(dev: Run) -> None:
    network = one(dev, "zerotier-cluster-network")
    ips = {"head": "10.147.17.1", "compute-01": "10.147.17.112", "compute-02": "10.147.17.18"}
    roles = {"head": 1, "compute-01": 2, "compute-02": 2}
    for node, ip in ips.items():
        member = one(dev, f"zerotier-cluster-{node}-member")
        assert member.type == COMMAND
        assert member.inputs["connection"]["host"] == "203.0.113.10", "runs on the head"
        stdin = member.inputs["stdin"]
        assert f"\nZTC_NETWORK_ID={NETWORK_ID}\nZTC_MEMBER={fake_address(node)}\n" in stdin
        settings = json.loads(stdin.split("ZTC_MEMBER_SETTINGS=", 1)[1].split("\n", 1)[0].strip("'"))
        assert settings == {
            "name": node,
            "authorized": True,
            "activeBridge": False,
            "noAutoAssignIps": True,
            "ipAssignments": [ip],
            "tags": [[1, roles[node]]],
        }
        assert network.urn in member.dependencies
        assert one(dev, f"zerotier-cluster-{node}-identity").urn in member.options["propertyDependencies"]["stdin"]
        assert member.inputs["triggers"] == [fake_address(node)], "another address replaces it"
        assert member.urn in one(dev, f"zerotier-cluster-{node}-join").dependencies


def test_outputs_as_with_central(dev: Run) -> None:
    assert dev.outputs["headIp"] == "10.147.17.1"
    assert dev.outputs["nodes"]["compute-01"] == {
        "ip": "10.147.17.112",
        "memberId": fake_address("compute-01"),
        "role": "compute",
        "host": "192.168.10.11",
        "state": "active",
    }
    assert dev.secret_outputs == set()


def test_the_auth_token_is_read_on_the_head_only(dev: Run) -> None:
    for resource in dev.resources:
        assert "authtoken" not in json.dumps(resource.inputs.get("stdin", "")), resource.name
    program = head_program(dev, "zerotier-cluster-network")
    assert 'ztc_root cat "$ZT_HOME/authtoken.secret"' in program
    assert '-H "@$ZTC_TMP/auth"' in program, "curl reads the header from a private file, not its command line"


def test_onprem_evaluates_and_devices_are_members_on_the_head() -> None:
    run = run_program(*head_config("onprem", controller="head"), stack="onprem")
    assert not [r for r in run.resources if r.type.startswith("zerotier:")]
    alice = one(run, "zerotier-cluster-alice-laptop-member")
    assert alice.inputs["connection"]["host"] == "192.0.2.10"
    assert "\nZTC_MEMBER=a1b2c3d4e5\n" in alice.inputs["stdin"]
    assert '"tags":[[1,3]]' in alice.inputs["stdin"]
    assert set(run.outputs["nodes"]) == {"head", "cn-01", "cn-02", "cn-03", "cn-04", "gpu-01"}


def test_an_evicted_node_is_deauthorized_on_the_head() -> None:
    config, secrets = head_config("dev", controller="head")
    nodes = json.loads(config["zerotier-cluster:nodes"])
    nodes[2]["state"] = "evicted"
    run = run_program({**config, "zerotier-cluster:nodes": json.dumps(nodes)}, secrets)
    member = one(run, "zerotier-cluster-compute-02-member")
    assert '"authorized":false' in member.inputs["stdin"]
    assert member.options["retainOnDelete"] in (None, False), "the head runs it: it must run"


def test_roots_head_places_the_heads_moon_on_every_node_before_it_joins(moon: Run) -> None:
    signed = one(moon, "zerotier-cluster-head-moon")
    assert signed.inputs["connection"]["host"] == "203.0.113.10"
    assert "\nZTC_ROOT_ENDPOINT=192.168.10.1/9993\n" in moon.program("zerotier-cluster-head-moon")
    assert signed.urn in one(moon, "zerotier-cluster-network").dependencies, "the moon restarts zerotier-one first"
    assert signed.urn in one(moon, "zerotier-cluster-head-join").dependencies
    for node in ("compute-01", "compute-02"):
        orbit = one(moon, f"zerotier-cluster-{node}-orbit")
        assert orbit.inputs["connection"]["host"] != "203.0.113.10"
        assert f"\nZTC_MOON='000000{HEAD_ADDRESS}.moon aGVhZA=='\n" in orbit.inputs["stdin"]
        assert signed.urn in orbit.dependencies
        assert orbit.urn in one(moon, f"zerotier-cluster-{node}-join").dependencies
    assert [r.name for r in moon.resources if r.name == "zerotier-cluster-head-orbit"] == []


def test_roots_head_defaults_to_the_heads_ssh_address() -> None:
    run = run_program(*head_config("dev", controller="head", roots="head"))
    assert "\nZTC_ROOT_ENDPOINT=203.0.113.10/9993\n" in run.program("zerotier-cluster-head-moon")


def test_central_stays_as_it_was_without_moon_or_controller_commands() -> None:
    config, secrets = stack_file_config("dev")
    run = run_program(config, secrets)
    names = {r.name for r in run.resources}
    assert "zerotier-cluster-network" in names
    assert one(run, "zerotier-cluster-network").type == "zerotier:index/network:Network"
    assert not [n for n in names if n.endswith(("-moon", "-orbit"))]
    assert run.outputs["controller"] == "central"


def test_a_stack_on_a_network_owned_by_a_head_controller_is_refused_at_preview() -> None:
    owner = run_program(*head_config("onprem", controller="head"), stack="onprem")
    config, secrets = stack_file_config("cloud")
    declared: list = []
    with pytest.raises(Exception, match=r"zerotier-cluster:network\.fromStack") as err:
        run_program(
            config, secrets, stack="cloud", preview=True, stack_outputs={OWNER: owner.outputs}, declared=declared
        )
    assert "controller: central" in str(err.value) and f"list these nodes in {OWNER}" in str(err.value)


def parse(**settings: Any) -> Any:
    base = {
        "network": {"name": "chpc-overlay", "cidr": "10.147.17.0/24"},
        "ssh": {"user": "ops"},
        "nodes": [
            {"name": "head", "role": "head", "host": "192.0.2.10"},
            {"name": "compute-01", "host": "192.0.2.11"},
        ],
    }
    base.update(settings)
    return parse_cluster(base, base_dir=ROOT)


def problems(**settings: Any) -> dict[str, str]:
    with pytest.raises(ConfigError) as err:
        parse(**settings)
    return {p.key: f"{p.message} | {p.fix}" for p in err.value.problems}


def test_controller_head_refuses_a_network_id() -> None:
    found = problems(
        controller="head", network={"name": "x", "cidr": "10.147.17.0/24", "networkId": "8056c2e21c1930be"}
    )
    assert list(found) == ["zerotier-cluster:network.networkId"]
    assert "remove network.networkId" in found["zerotier-cluster:network.networkId"]


def test_controller_head_refuses_a_remote_head() -> None:
    found = problems(
        controller="head",
        network={"name": "x", "cidr": "10.147.17.0/24", "fromStack": "org/zerotier-cluster/onprem"},
        remoteHead={"name": "head", "ip": "10.147.17.1"},
        nodes=[{"name": "burst-01", "host": "192.0.2.20"}],
    )
    assert "is head, but remoteHead" in found["zerotier-cluster:controller"]
    assert "zerotier-cluster:network.fromStack" in found


def test_controller_head_needs_a_head_node() -> None:
    found = problems(controller="head", nodes=[{"name": "compute-01", "host": "192.0.2.11"}])
    assert "no node has role: head" in found["zerotier-cluster:controller"]


def test_roots_head_needs_an_ip_endpoint_and_the_endpoint_needs_roots_head() -> None:
    named = [{"name": "head", "role": "head", "host": "head.example.org"}, {"name": "c1", "host": "192.0.2.11"}]
    found = problems(roots="head", nodes=named)
    assert list(found) == ["zerotier-cluster:rootEndpoint"]
    assert "the head's host ('head.example.org') is not an IPv4 address" in found["zerotier-cluster:rootEndpoint"]
    assert parse(roots="head", nodes=named, rootEndpoint="192.0.2.10").root_endpoint is not None
    assert list(problems(rootEndpoint="192.0.2.10")) == ["zerotier-cluster:rootEndpoint"]
    assert list(problems(controller="Head")) == ["zerotier-cluster:controller"]
