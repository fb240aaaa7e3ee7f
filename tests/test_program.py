"""The whole program under Pulumi's mocks, against Pulumi.dev.yaml: what it declares, in what order."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import tarfile

import pytest

from cluster.config.parse import parse_cluster
from cluster.config.stackfile import read_stack_config
from cluster.declare.connection import refused_host_keys
from cluster.plan.build import build_plan
from cluster.spec import Proxy
from tests.mockrun import NETWORK_ID as MOCK_NETWORK_ID
from tests.mockrun import ROOT, Run, fake_address, run_program, shared_scope, stack_file_config

COMMAND = "command:remote:Command"
MEMBER = "zerotier:index/member:Member"
NETWORK = "zerotier:index/network:Network"
PROVIDER = "pulumi:providers:zerotier"
OVERLAY = "zerotier-cluster:index:Overlay"
STEPS_PER_NODE = ("install", "identity", "localconf", "join", "firewall", "hosts", "verify")
#: Pulumi.dev.yaml's machines and logins: what replaces a node's bundle, besides its generation.
HOSTS = {
    "head": ["203.0.113.10", 22, "ubuntu"],
    "compute-01": ["192.168.10.11", 22, "rocky"],
    "compute-02": ["192.168.10.12", 22, "ubuntu"],
}


@pytest.fixture(scope=shared_scope)
def dev() -> Run:
    config, secrets = stack_file_config("dev")
    return run_program(config, secrets)


@pytest.fixture(scope=shared_scope)
def dev_plan():
    return build_plan(parse_cluster(read_stack_config(ROOT, "dev"), base_dir=ROOT))


def command(run: Run, node: str, step: str):
    return run.named(f"zerotier-cluster-{node}-{step}")


def test_declares_one_network_one_member_per_node_and_the_step_chain(dev: Run, dev_plan) -> None:
    names = [n.name for n in dev_plan.nodes]
    assert len(names) == 3
    assert len(dev.of_type(OVERLAY)) == 1
    assert len(dev.of_type(PROVIDER)) == 1
    assert len(dev.of_type(NETWORK)) == 1
    assert sorted(m.inputs["name"] for m in dev.of_type(MEMBER)) == sorted(names)
    assert sorted(c.name for c in dev.of_type(COMMAND)) == sorted(
        f"zerotier-cluster-{n}-{s}" for n in names for s in STEPS_PER_NODE
    )


def test_every_resource_lives_under_the_overlay_component(dev: Run) -> None:
    overlay = dev.of_type(OVERLAY)[0]
    assert overlay.urn.endswith("zerotier-cluster:index:Overlay::zerotier-cluster")
    for res in dev.resources:
        if res.type not in ("pulumi:pulumi:Stack", OVERLAY):
            assert res.parent == overlay.urn, res.name


def test_network_is_private_with_route_pool_and_ipv4_only(dev: Run) -> None:
    net = dev.of_type(NETWORK)[0]
    provider = dev.of_type(PROVIDER)[0]
    assert net.inputs["name"] == "chpc-overlay"
    assert net.inputs["private"] is True
    assert net.inputs["routes"] == [{"target": "10.147.17.0/24"}]
    assert net.inputs["assignmentPools"] == [{"start": "10.147.17.200", "end": "10.147.17.250"}]
    assert net.inputs["assignIpv4s"] == [{"zerotier": True}]
    assert net.inputs["assignIpv6s"] == [{"zerotier": False, "sixplane": False, "rfc4193": False}]
    assert net.options["provider"].startswith(provider.urn)
    assert net.options["importId"] == ""


def test_a_network_without_a_pool_gives_central_no_assignment_pool() -> None:
    """Every member's address is static: with no ``pool`` Central gets no range to hand out."""
    config, secrets = stack_file_config("dev")
    network = {k: v for k, v in json.loads(config["zerotier-cluster:network"]).items() if k != "pool"}
    run = run_program({**config, "zerotier-cluster:network": json.dumps(network)}, secrets)
    net = run.of_type(NETWORK)[0]
    assert "assignmentPools" not in net.inputs
    assert net.inputs["routes"] == [{"target": "10.147.17.0/24"}]


def test_every_central_resource_uses_the_stacks_provider_not_a_default_one(dev: Run) -> None:
    """A default provider would have no token (or another account's, from the environment)."""
    provider = dev.of_type(PROVIDER)[0]
    for res in dev.of_type(NETWORK) + dev.of_type(MEMBER):
        assert res.options["provider"].startswith(provider.urn + "::"), res.name


def test_central_token_is_a_secret_of_the_explicit_provider(dev: Run) -> None:
    provider = dev.of_type(PROVIDER)[0]
    assert provider.inputs["zerotierCentralToken"] == "decrypted-zerotier:zerotierCentralToken"
    assert provider.secret_fields() == {"zerotierCentralToken"}


def test_members_are_authorized_static_and_wired_to_their_identity_step(dev: Run, dev_plan) -> None:
    network = dev.of_type(NETWORK)[0]
    for node in dev_plan.nodes:
        member = dev.named(f"zerotier-cluster-{node.name}-member")
        identity = command(dev, node.name, "identity")
        assert member.inputs["memberId"] == fake_address(node.name)
        assert member.inputs["networkId"] == MOCK_NETWORK_ID
        assert member.inputs["ipAssignments"] == [str(node.ip)]
        assert member.inputs["authorized"] is True
        assert member.inputs["noAutoAssignIps"] is True
        assert member.options["propertyDependencies"]["memberId"] == [identity.urn]
        assert (member.options["replaceOnChanges"], member.options["deleteBeforeReplace"]) == (["memberId"], True)
        assert member.options["propertyDependencies"]["networkId"] == [network.urn]


def test_static_and_allocated_addresses(dev_plan) -> None:
    ips = {n.name: str(n.ip) for n in dev_plan.nodes}
    assert ips["head"] == "10.147.17.1"
    assert len(set(ips.values())) == 3
    for name in ("compute-01", "compute-02"):
        last = int(ips[name].rsplit(".", 1)[1])
        assert 1 < last < 200, "allocated inside the cidr, outside the pool (200-250)"


def test_commands_connect_as_each_node_with_its_overrides_and_secret_key(dev: Run, dev_plan) -> None:
    hosts = {n.name: (n.spec.host, n.spec.user, n.spec.port) for n in dev_plan.nodes}
    assert hosts["compute-01"][1] == "rocky"
    for node, (host, user, port) in hosts.items():
        for step in STEPS_PER_NODE:
            cmd = command(dev, node, step)
            conn = cmd.inputs["connection"]
            assert (conn["host"], conn["user"], conn["port"]) == (host, user, port)
            assert conn["privateKey"] == "decrypted-zerotier-cluster:sshPrivateKey"
            assert cmd.secret_fields() == {"connection"}


def test_commands_carry_only_node_parameters_and_a_program_hash_on_stdin(dev: Run) -> None:
    for node in ("head", "compute-01", "compute-02"):
        for step in STEPS_PER_NODE:
            cmd = command(dev, node, step)
            assert cmd.inputs["create"] == "/bin/sh -s -- create"
            if step == "identity":  # only ever created: see test_changes.py
                assert ("update" in cmd.inputs, "delete" in cmd.inputs) == (False, False)
                assert cmd.options["deleteBeforeReplace"] is False
            else:
                assert cmd.inputs["update"] == "/bin/sh -s -- update"
                assert cmd.inputs["delete"] == "/bin/sh -s -- delete"
                assert cmd.options["deleteBeforeReplace"] is True
            assert cmd.inputs["logging"] == "stdoutAndStderr"
            assert cmd.inputs["addPreviousOutputInEnv"] is False
            stdin = cmd.inputs["stdin"]
            assert stdin.startswith(f"#!/bin/sh\n# zerotier-cluster {step} step for node {node}\nZTC_NODE={node}\n")
            assert f"\nZTC_NODE={node}\n" in stdin and "ZTC_GENERATION" not in stdin, "generation 0 is not sent"
            assert re.search(r"^ZTC_PROGRAM=[0-9a-f]{64}$", stdin, re.M), stdin
            assert stdin.endswith('eval "$ZTC_TEXT"\n')
            assert len(stdin) < 1200, "scripts and cluster-wide data travel in the bundle, not on stdin"
    join = command(dev, "compute-01", "join").inputs["stdin"]
    assert f"\nZTC_NETWORK_ID={MOCK_NETWORK_ID}\nZTC_OVERLAY_IP=10.147.17.112\nZTC_PROGRAM=" in join


def test_every_program_a_node_runs_is_in_the_bundle_copied_to_it_first(dev: Run) -> None:
    sources = set()
    for node in ("head", "compute-01", "compute-02"):
        copy = dev.named(f"zerotier-cluster-{node}-bundle")
        assert copy.type == "command:remote:CopyToRemote"
        assert copy.inputs["remotePath"] == ".zerotier-cluster/bundle.tar"
        assert copy.inputs["triggers"] == [0, *HOSTS[node]]
        assert copy.secret_fields() == {"connection"}
        assert copy.urn in command(dev, node, "install").dependencies
        sources.add(copy.inputs["source"].path)
        assert copy.raw["source"]["path"] == copy.inputs["source"].path, "a file asset: state keeps path and hash"
    assert len(sources) == 1, "one bundle for the whole stack"
    with tarfile.open(sources.pop()) as tar:
        objects = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
    for name, data in objects.items():
        assert name == f"objects/{hashlib.sha256(data).hexdigest()}"
    for node in ("head", "compute-01", "compute-02"):
        for step in STEPS_PER_NODE:
            sha = re.search(r"^ZTC_PROGRAM=([0-9a-f]{64})$", command(dev, node, step).inputs["stdin"], re.M)
            program = objects[f"objects/{sha.group(1)}"].decode()  # type: ignore[union-attr]
            assert program.startswith(f"# zerotier-cluster {step} program: shared parameters, lib.sh, {step}.sh\n")
            assert f"\nZTC_STEP={step}\n" in program or f"\nZTC_STEP='{step}'\n" in program
    hosts = objects[
        "objects/" + re.search(r"ZTC_PROGRAM=(\w+)", command(dev, "head", "hosts").inputs["stdin"]).group(1)  # type: ignore[union-attr]
    ].decode()
    assert "10.147.17.112  compute-01\n" in hosts and "10.147.17.18   compute-02\n" in hosts


def test_each_node_runs_its_steps_in_order_after_its_member_exists(dev: Run, dev_plan) -> None:
    for node in (n.name for n in dev_plan.nodes):
        member = dev.named(f"zerotier-cluster-{node}-member")
        join = command(dev, node, "join")
        assert member.urn in join.dependencies
        for step in ("firewall", "hosts"):
            assert join.urn in command(dev, node, step).dependencies
        verify = command(dev, node, "verify")
        assert command(dev, node, "firewall").urn in verify.dependencies
        assert command(dev, node, "hosts").urn in verify.dependencies


def test_nodes_do_not_wait_for_each_other_except_to_verify_through_the_head(dev: Run, dev_plan) -> None:
    by_urn = {r.urn: r for r in dev.resources}

    def upstream(res) -> set[str]:
        seen: set[str] = set()
        todo = list(res.dependencies)
        while todo:
            urn = todo.pop()
            if urn not in seen:
                seen.add(urn)
                todo.extend(by_urn[urn].dependencies)
        return seen

    names = [n.name for n in dev_plan.nodes]
    for node in names:
        for step in ("install", "join", "firewall", "hosts"):
            deps = upstream(command(dev, node, step))
            others = {u for u in deps for o in names if o != node and f"-{o}-" in u}
            assert not others, f"{node}-{step} waits for {others}"
    compute_verify = upstream(command(dev, "compute-01", "verify"))
    assert command(dev, "head", "firewall").urn in compute_verify
    assert not any("compute-02" in u for u in compute_verify)
    head_verify = command(dev, "head", "verify").dependencies
    assert {command(dev, n, "firewall").urn for n in ("compute-01", "compute-02")} <= set(head_verify)


def test_outputs(dev: Run, dev_plan) -> None:
    out = dev.outputs
    assert out["networkId"] == MOCK_NETWORK_ID
    assert out["headIp"] == "10.147.17.1"
    assert out["nodes"] == {
        "head": {
            "ip": "10.147.17.1",
            "memberId": "9f2e6d33a3",
            "role": "head",
            "host": "203.0.113.10",
            "state": "active",
        },
        "compute-01": {
            "ip": "10.147.17.112",
            "memberId": fake_address("compute-01"),
            "role": "compute",
            "host": "192.168.10.11",
            "state": "active",
        },
        "compute-02": {
            "ip": "10.147.17.18",
            "memberId": fake_address("compute-02"),
            "role": "compute",
            "host": "192.168.10.12",
            "state": "active",
        },
    }
    lines = out["hostsFile"].splitlines()
    assert lines[0].startswith("# BEGIN zerotier-cluster chpc-overlay")
    assert lines[-1] == "# END zerotier-cluster chpc-overlay"
    assert sorted(line.split()[1] for line in lines[1:-1]) == ["compute-01", "compute-02", "head"]
    assert out["slurmNodes"].count("NodeName=") == 2
    assert out["overlayInterface"] == "zt050e2a9f6a", "zt + sha256('chpc-overlay')[:10], pinned on every node"
    assert dev.secret_outputs == set()


def test_no_secret_value_appears_in_plain_inputs_or_outputs(dev: Run) -> None:
    secrets = ("decrypted-zerotier:zerotierCentralToken", "decrypted-zerotier-cluster:sshPrivateKey")
    outputs = json.dumps(dev.outputs)
    for res in dev.resources:
        for key, value in res.raw.items():
            if key in res.secret_fields():
                continue
            assert not any(s in json.dumps(value) for s in secrets), (res.name, key)
    assert not any(s in outputs for s in secrets)


def test_two_evaluations_declare_identical_inputs(dev: Run) -> None:
    config, secrets = stack_file_config("dev")
    again = run_program(config, secrets)
    first, second = dev.by_name(), again.by_name()
    assert first.keys() == second.keys()
    for key, res in first.items():
        assert json.dumps(res.raw, sort_keys=True) == json.dumps(second[key].raw, sort_keys=True), key
        assert sorted(res.dependencies) == sorted(second[key].dependencies), key


def test_changing_one_parameter_updates_exactly_the_affected_commands(dev: Run) -> None:
    config, secrets = stack_file_config("dev")
    changed = run_program({**config, "zerotier-cluster:joinTimeout": "300"}, secrets)
    before, after = dev.by_name(), changed.by_name()
    assert before.keys() == after.keys()
    differ = {name for (kind, name), res in after.items() if res.raw != before[(kind, name)].raw}
    nodes = ("head", "compute-01", "compute-02")
    # join's program carries the timeout; verify re-runs because what it verifies changed;
    # every node gets the new bundle (a copy, nothing runs).
    assert differ == {f"zerotier-cluster-{n}-{s}" for n in nodes for s in ("bundle", "join", "verify")}


def test_adopting_an_existing_network_imports_it_and_keeps_it_on_destroy() -> None:
    config, secrets = stack_file_config("dev")
    network = json.loads(config["zerotier-cluster:network"])
    network["networkId"] = "8056C2E21C1930BE"
    run = run_program({**config, "zerotier-cluster:network": json.dumps(network)}, secrets)
    net = run.of_type(NETWORK)[0]
    assert net.options["importId"] == "8056c2e21c1930be"
    assert net.options["retainOnDelete"] is True
    assert "ZTC_NETWORK_ID=8056c2e21c1930be\n" in command(run, "head", "join").inputs["stdin"]


def test_using_a_network_without_managing_it_declares_no_network() -> None:
    config, secrets = stack_file_config("dev")
    network = {**json.loads(config["zerotier-cluster:network"]), "networkId": "8056c2e21c1930be", "manage": False}
    run = run_program({**config, "zerotier-cluster:network": json.dumps(network)}, secrets)
    assert run.of_type(NETWORK) == []
    assert {m.inputs["networkId"] for m in run.of_type(MEMBER)} == {"8056c2e21c1930be"}
    assert run.outputs["networkId"] == "8056c2e21c1930be"


def test_token_from_the_environment_is_still_a_secret() -> None:
    config, secrets = stack_file_config("dev")
    del config["zerotier:zerotierCentralToken"]
    run = run_program(
        config, [s for s in secrets if s.startswith("zerotier-cluster")], env={"ZEROTIER_CENTRAL_TOKEN": "tok-env"}
    )
    provider = run.of_type(PROVIDER)[0]
    assert provider.inputs["zerotierCentralToken"] == "tok-env"
    assert provider.secret_fields() == {"zerotierCentralToken"}


def test_an_ssh_agent_stands_in_for_a_key() -> None:
    config, _ = stack_file_config("dev")
    del config["zerotier-cluster:sshPrivateKey"]
    run = run_program(config, ["zerotier:zerotierCentralToken"], env={"SSH_AUTH_SOCK": "/run/agent.sock"})
    conn = command(run, "head", "install").inputs["connection"]
    assert "privateKey" not in conn


@pytest.mark.parametrize(
    ("drop", "env", "key"),
    [
        ("zerotier:zerotierCentralToken", {}, "zerotier:zerotierCentralToken"),
        ("zerotier-cluster:sshPrivateKey", {}, "zerotier-cluster:sshPrivateKey"),
    ],
)
def test_missing_credentials_stop_before_any_resource(drop: str, env: dict[str, str], key: str) -> None:
    config, secrets = stack_file_config("dev")
    del config[drop]
    with pytest.raises(Exception, match=key) as err:
        run_program(config, [s for s in secrets if s != drop], env=env)
    assert "fix:" in str(err.value)


def test_bad_config_stops_before_any_resource_is_declared() -> None:
    config, secrets = stack_file_config("dev")
    nodes = json.loads(config["zerotier-cluster:nodes"])
    nodes[1]["host"] = "192.168.10.11; rm -rf /"
    declared: list = []
    with pytest.raises(Exception, match=r"zerotier-cluster:nodes\[1\]\.host") as err:
        run_program({**config, "zerotier-cluster:nodes": json.dumps(nodes)}, secrets, declared=declared)
    assert "shell" in str(err.value)
    assert [d.type for d in declared if d.type != "pulumi:pulumi:Stack"] == []


def program_of(run: Run, node: str, step: str) -> str:
    return run.program(f"zerotier-cluster-{node}-{step}")


def test_firewall_program_carries_the_ruleset_render_shows(dev: Run) -> None:
    for node in ("head", "compute-01"):
        role = "head" if node == "head" else "compute"
        program = program_of(dev, node, "firewall")
        assert f"\nZTC_RULESET='# zerotier-cluster firewall for {role} nodes with sshd on port 22," in program
        assert ("tcp dport 443 accept" in program) == (node == "head")
        assert "elements = { 10.147.17.1, 10.147.17.18, 10.147.17.112 }" in program


def test_a_firewall_change_updates_only_the_firewall_and_verify_of_the_nodes_it_touches(dev: Run) -> None:
    config, secrets = stack_file_config("dev")
    firewall = json.loads(config["zerotier-cluster:firewall"])
    firewall["openings"]["head"].append("tcp/8443")  # a head-only opening
    changed = run_program({**config, "zerotier-cluster:firewall": json.dumps(firewall)}, secrets)
    before, after = dev.by_name(), changed.by_name()
    differ = {name for (kind, name), res in after.items() if res.raw != before[(kind, name)].raw}
    bundles = {f"zerotier-cluster-{n}-bundle" for n in ("head", "compute-01", "compute-02")}
    assert differ == {"zerotier-cluster-head-firewall", "zerotier-cluster-head-verify", *bundles}
    assert "tcp dport { 443, 8443 } accept" in program_of(changed, "head", "firewall")


def _with_nodes(edit) -> Run:  # type: ignore[no-untyped-def]
    config, secrets = stack_file_config("dev")
    nodes = json.loads(config["zerotier-cluster:nodes"])
    edit(nodes)
    return run_program({**config, "zerotier-cluster:nodes": json.dumps(nodes)}, secrets)


def test_an_evicted_node_is_deauthorized_and_never_contacted_and_nobody_trusts_it(dev: Run) -> None:
    evicted = _with_nodes(lambda nodes: nodes[2].update(state="evicted"))
    member = evicted.named("zerotier-cluster-compute-02-member")
    assert member.inputs["authorized"] is False
    assert member.inputs["ipAssignments"] == ["10.147.17.18"], "its address stays reserved"
    # Its commands stay declared, retained on delete, and ignore every input: nothing about it changes, nothing runs.
    for what in (*STEPS_PER_NODE, "bundle"):
        res = evicted.named(f"zerotier-cluster-compute-02-{what}")
        assert res.options["retainOnDelete"] is True, what
        assert "stdin" in res.options["ignoreChanges"] or "source" in res.options["ignoreChanges"], what
    # Nobody else lists, trusts or verifies it.
    assert "compute-02" not in evicted.program("zerotier-cluster-head-hosts")
    assert "compute-02" not in evicted.program("zerotier-cluster-compute-01-hosts")
    assert "10.147.17.18" not in evicted.program("zerotier-cluster-head-verify")
    assert "10.147.17.18" not in evicted.program("zerotier-cluster-head-firewall")
    assert "10.147.17.18" not in evicted.outputs["hostsFile"] + evicted.outputs["mpiHostfile"]
    assert "compute-02" not in evicted.outputs["slurmNodes"]
    assert evicted.outputs["nodes"]["compute-02"]["state"] == "evicted"
    # No other node's verify waits for it.
    head_verify = command(evicted, "head", "verify").dependencies
    assert command(evicted, "compute-02", "firewall").urn not in head_verify


def test_an_active_node_is_not_retained_and_ignores_nothing_but_its_identitys_connection(dev: Run) -> None:
    for what in (*STEPS_PER_NODE, "bundle"):
        res = dev.named(f"zerotier-cluster-compute-02-{what}")
        ignored = ["connection"] if what == "identity" else []
        assert res.options["retainOnDelete"] is None and res.options["ignoreChanges"] == ignored, what


def test_raising_a_generation_reruns_only_that_nodes_chain(dev: Run) -> None:
    bumped = _with_nodes(lambda nodes: nodes[1].update(generation=1))
    before, after = dev.by_name(), bumped.by_name()
    differ = {name for (kind, name), res in after.items() if res.raw != before[(kind, name)].raw}
    assert differ == {f"zerotier-cluster-compute-01-{s}" for s in (*STEPS_PER_NODE, "bundle")}
    assert command(bumped, "compute-01", "install").inputs["stdin"].count("\nZTC_GENERATION=1\n") == 1
    assert bumped.named("zerotier-cluster-compute-01-bundle").inputs["triggers"] == [1, *HOSTS["compute-01"]]


def test_the_network_carries_the_rules_and_members_carry_role_tags() -> None:
    config, secrets = stack_file_config("onprem")
    run = run_program(config, secrets, stack="onprem")
    rules = run.of_type(NETWORK)[0].inputs["flowRules"]
    assert rules.startswith("# ZeroTier rules of network 'chpc-overlay', generated by zerotier-cluster\n")
    assert "\ndrop not ethertype ipv4 and not ethertype arp or not chr ipauth;\n" in rules
    tags = {m.inputs["name"]: m.inputs["tags"] for m in run.of_type(MEMBER)}
    assert tags["head"] == [[1, 1]]
    computes = [t for n, t in tags.items() if n.startswith("cn-")]
    assert computes and all(t == [[1, 2]] for t in computes)
    devices = [n for n in tags if n in run.outputs["devices"]]
    assert devices and all(tags[d] == [[1, 3]] for d in devices)


def test_adopting_a_network_whose_settings_differ_keeps_them_until_told_otherwise() -> None:
    """Pulumi refuses an import whose inputs differ from the resource; keepSettings ignores every setting.

    The flow (README "Adopting an existing network"): first `pulumi up` with
    keepSettings: true imports the network whatever its settings; removing it
    later makes the next `pulumi up` an update that applies the config.
    """
    config, secrets = stack_file_config("dev")
    network = {**json.loads(config["zerotier-cluster:network"]), "networkId": "8056c2e21c1930be"}
    kept = run_program(
        {**config, "zerotier-cluster:network": json.dumps({**network, "keepSettings": True})}, secrets
    ).of_type(NETWORK)[0]
    assert kept.options["importId"] == "8056c2e21c1930be"
    assert kept.options["retainOnDelete"] is True
    assert set(kept.options["ignoreChanges"]) == {
        "name", "description", "private", "enableBroadcast", "multicastLimit", "routes",
        "assignmentPools", "assignIpv4s", "assignIpv6s", "flowRules",
    }  # fmt: skip
    applied = run_program({**config, "zerotier-cluster:network": json.dumps(network)}, secrets).of_type(NETWORK)[0]
    assert applied.options["ignoreChanges"] == []
    assert kept.raw == applied.raw, "the same desired settings: only whether they are applied differs"
    with pytest.raises(Exception, match=r"network\.keepSettings") as err:
        run_program(
            {**config, "zerotier-cluster:network": json.dumps({**network, "networkId": None, "keepSettings": True})},
            secrets,
        )
    assert "fix:" in str(err.value)


def test_the_jump_host_key_is_pinned_and_an_rsa_host_key_is_refused_by_the_program_too() -> None:
    """proxy: head pins the head's key for the jump, a mapping its own; ssh-rsa can never connect (connection.go)."""
    ed25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJS1dZ/JtsfX31uNCbfhmwgJjCmnLCewjeA1mY7HuNQd"
    jump_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICSO6oaaJt0yQNEoGgm18F0vMlvtHpqwTi4NbZb8U1vs"
    config, secrets = stack_file_config("dev")
    nodes = json.loads(config["zerotier-cluster:nodes"])
    nodes[0]["hostKey"] = ed25519
    nodes[1]["proxy"] = "head"
    nodes[2]["proxy"] = {"host": "192.0.2.1", "user": "jump", "hostKey": jump_key}
    run = run_program({**config, "zerotier-cluster:nodes": json.dumps(nodes)}, secrets)
    proxies = {n: command(run, n, "install").inputs["connection"]["proxy"] for n in ("compute-01", "compute-02")}
    assert (proxies["compute-01"]["host"], proxies["compute-01"]["hostKey"]) == ("203.0.113.10", ed25519)
    assert (proxies["compute-02"]["host"], proxies["compute-02"]["hostKey"]) == ("192.0.2.1", jump_key)

    # The config refuses ssh-rsa; a spec built in Python (examples/) meets the same refusal in the program.
    rsa = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7"
    spec = parse_cluster(read_stack_config(ROOT, "dev"), base_dir=ROOT)
    head, first, second = spec.nodes
    jump = Proxy("192.0.2.1", "jump", 22, rsa)
    nodes_with_rsa = (head, dataclasses.replace(first, host_key=rsa), dataclasses.replace(second, proxy=jump))
    assert [p.key for p in refused_host_keys(nodes_with_rsa)] == [
        "zerotier-cluster:nodes[1].hostKey",
        "zerotier-cluster:nodes[2].proxy.hostKey",
    ]
    assert refused_host_keys(spec.nodes) == []
