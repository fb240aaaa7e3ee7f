"""Per-environment stacks, hybrid cloud on one network, devices, inventories and the example program."""

from __future__ import annotations

import json
from ipaddress import ip_address, ip_network
from pathlib import Path

import pytest

from cluster.config.inventory import expand
from cluster.config.parse import parse_cluster
from cluster.config.stackfile import read_stack_config
from cluster.errors import ConfigError
from cluster.plan.build import build_plan
from tests.mockrun import ROOT, Run, run_program, shared_scope, stack_file_config

STACKS = ("dev", "onprem", "cloud")
OWNER = "organization/zerotier-cluster/onprem"


@pytest.fixture(scope=shared_scope)
def onprem() -> Run:
    config, secrets = stack_file_config("onprem")
    return run_program(config, secrets, stack="onprem")


def cloud_run(onprem: Run, **overrides: object) -> Run:
    config, secrets = stack_file_config("cloud")
    config.update({k: json.dumps(v) for k, v in overrides.items()})
    return run_program(config, secrets, stack="cloud", stack_outputs={OWNER: onprem.outputs})


def test_every_example_stack_evaluates_under_mocks() -> None:
    for stack in ("dev", "onprem"):
        config, secrets = stack_file_config(stack)
        run = run_program(config, secrets, stack=stack)
        assert run.outputs["nodes"], stack


def test_onprem_takes_its_nodes_from_the_inventory(onprem: Run) -> None:
    nodes = onprem.outputs["nodes"]
    assert set(nodes) == {"head", "cn-01", "cn-02", "cn-03", "cn-04", "gpu-01"}
    assert nodes["gpu-01"]["host"] == "10.20.0.41"
    conn = onprem.named("zerotier-cluster-cn-02-install").inputs["connection"]
    assert conn["host"] == "cn-02" and conn["user"] == "ops"
    assert conn["proxy"]["host"] == "192.0.2.10", "compute nodes go through the head (proxy: head)"
    assert onprem.named("zerotier-cluster-gpu-01-install").inputs["connection"]["user"] == "rocky"


def test_hybrid_stacks_share_one_network_and_never_collide(onprem: Run) -> None:
    cloud = cloud_run(onprem)
    members = cloud.of_type("zerotier:index/member:Member")
    assert members and {m.inputs["networkId"] for m in members} == {onprem.outputs["networkId"]}
    assert cloud.of_type("zerotier:index/network:Network") == [], "the cloud stack never manages the network"
    ours = {v["ip"] for v in onprem.outputs["nodes"].values()} | {v["ip"] for v in onprem.outputs["devices"].values()}
    theirs = {v["ip"] for v in cloud.outputs["nodes"].values()}
    assert ours.isdisjoint(theirs)
    assert all(ip_address(ip) in ip_network("10.147.17.128/26") for ip in theirs)
    verify = cloud.program("zerotier-cluster-burst-01-verify")
    assert "ZTC_TARGETS='head 10.147.17.1\n'" in verify, "cloud nodes verify they reach the on-premise head"


def test_the_head_admits_the_cloud_slice_and_the_cloud_nodes_admit_onprem(onprem: Run) -> None:
    head = build_plan(parse_cluster(read_stack_config(ROOT, "onprem"), base_dir=ROOT)).nodes[0]
    cloud = build_plan(parse_cluster(read_stack_config(ROOT, "cloud"), base_dir=ROOT)).nodes[0]
    assert head.ruleset is not None and "10.147.17.128/26" in head.ruleset
    assert cloud.ruleset is not None and "10.147.17.0/25" in cloud.ruleset


@pytest.mark.parametrize(
    ("override", "key"),
    [
        (
            {"name": "chpc-overlay", "cidr": "10.147.17.0/24", "slice": "10.147.17.64/26", "fromStack": OWNER},
            "network.slice",
        ),
        (
            {"name": "chpc-overlay", "cidr": "10.147.16.0/23", "slice": "10.147.17.128/26", "fromStack": OWNER},
            "network.cidr",
        ),
    ],
)
def test_a_cloud_stack_that_would_collide_with_the_owner_is_refused(onprem: Run, override: dict, key: str) -> None:
    with pytest.raises(Exception, match=key):
        cloud_run(onprem, **{"zerotier-cluster:network": override})


def test_a_cloud_stack_with_the_wrong_head_is_refused(onprem: Run) -> None:
    with pytest.raises(Exception, match="remoteHead"):
        cloud_run(onprem, **{"zerotier-cluster:remoteHead": {"name": "head", "ip": "10.147.17.2"}})


def test_devices_get_authorized_members_with_stable_addresses_and_no_provisioning(onprem: Run) -> None:
    devices = onprem.outputs["devices"]
    assert devices["bob-desktop"] == {"ip": "10.147.17.100", "memberId": "0f1e2d3c4b"}
    member = onprem.named("zerotier-cluster-alice-laptop-member")
    assert member.inputs["memberId"] == "a1b2c3d4e5"
    assert member.inputs["ipAssignments"] == [devices["alice-laptop"]["ip"]]
    assert member.inputs["authorized"] is True
    assert not [c for c in onprem.of_type("command:remote:Command") if "laptop" in c.name or "desktop" in c.name]
    hosts = onprem.outputs["hostsFile"]
    assert f"{devices['alice-laptop']['ip']}  alice-laptop" in hosts.replace("   ", "  ")


def test_adding_a_device_moves_no_node(onprem: Run) -> None:
    config, secrets = stack_file_config("onprem")
    devices = [*json.loads(config["zerotier-cluster:devices"]), {"name": "carol-laptop", "address": "cafe000001"}]
    more = run_program({**config, "zerotier-cluster:devices": json.dumps(devices)}, secrets, stack="onprem")
    assert {n: v["ip"] for n, v in more.outputs["nodes"].items()} == {
        n: v["ip"] for n, v in onprem.outputs["nodes"].items()
    }


def test_outputs_for_the_next_tools(onprem: Run) -> None:
    out = onprem.outputs
    computes = [n for n, v in out["nodes"].items() if v["role"] == "compute"]
    assert out["mpiHostfile"].count("\n") == len(computes)
    for name in computes:
        ip = out["nodes"][name]["ip"]
        assert f"NodeName={name} NodeAddr={ip} NodeHostname={name}\n" in out["slurmNodes"]
        assert f"{ip}  # {name}\n" in out["mpiHostfile"]


# -- inventories -------------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hosts.yaml"
    path.write_text(text)
    return path


def inventory_config(path: Path) -> dict[str, object]:
    return {"network": {"name": "n", "cidr": "10.147.17.0/24"}, "inventory": path.name}


def test_inventory_vars_apply_in_ansible_order(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
head:
  hosts:
    h1: {ansible_host: 192.0.2.1, ansible_user: admin}
compute:
  vars: {ansible_user: rocky, ansible_port: 2222}
  children:
    rack1:
      vars: {ansible_port: 2200}
      hosts:
        c-[1:3]:
        c-9: {ansible_port: 22, ip: 10.147.17.9}
""",
    )
    spec = parse_cluster(inventory_config(tmp_path / "hosts.yaml"), base_dir=tmp_path)
    nodes = {n.name: n for n in spec.nodes}
    assert set(nodes) == {"h1", "c-1", "c-2", "c-3", "c-9"}
    assert (nodes["h1"].user, nodes["h1"].port, nodes["h1"].host) == ("admin", 22, "192.0.2.1")
    assert (nodes["c-2"].user, nodes["c-2"].port, nodes["c-2"].host) == ("rocky", 2200, "c-2")
    assert (nodes["c-9"].port, str(nodes["c-9"].ip)) == (22, "10.147.17.9")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("head: [oops", "hosts.yaml"),
        (
            "head:\n  hosts:\n    h1: {ansible_host: 192.0.2.1}\n    h2: {ansible_host: 'x; reboot'}\n",
            "hosts.yaml: head.hosts.h2.ansible_host",
        ),
        ("head:\n  hosts:\n    h1:\ncompute:\n  hosts:\n    h1:\n", "hosts.yaml: compute.hosts.h1"),
        ("head:\n  hosts:\n    h1:\ncompute:\n  hosts:\n    c[1:x]:\n", "hosts.yaml: compute.hosts.c[1:x]"),
        ("head:\n  hosts:\n    h1: {ansible_port: seventy}\n", "hosts.yaml: head.hosts.h1.ansible_port"),
        ("compute:\n  hosts:\n    c1: {ansible_user: ops}\n", "zerotier-cluster:nodes"),
    ],
)
def test_inventory_errors_name_the_file_the_host_and_the_key(tmp_path: Path, text: str, key: str) -> None:
    write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        parse_cluster(inventory_config(tmp_path / "hosts.yaml"), base_dir=tmp_path)
    assert any(p.key.startswith(key) for p in err.value.problems), err.value.locations()


def test_missing_inventory_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"zerotier-cluster:inventory: cannot read hosts.yaml"):
        parse_cluster(inventory_config(tmp_path / "hosts.yaml"), base_dir=tmp_path)


def test_host_ranges_expand_like_ansible() -> None:
    assert expand("cn-[01:03]") == ["cn-01", "cn-02", "cn-03"]
    assert expand("n[a:c]-[1:2]") == ["na-1", "na-2", "nb-1", "nb-2", "nc-1", "nc-2"]
    assert expand("x[0:6:3]") == ["x0", "x3", "x6"]
    assert expand("bad[3:1]") is None


# -- the example program ----------------------------------------------------------------------


def test_example_program_passes_cloud_server_addresses_as_hosts() -> None:
    directory = ROOT / "examples" / "cloud-burst"
    config, secrets = stack_file_config("burst", directory)
    run = run_program(config, secrets, stack="burst", project="cloud-burst", directory=directory)
    servers = {s.name: s for s in run.of_type("hcloud:index/server:Server")}
    assert len(servers) == 3
    for name, server in servers.items():
        install = run.named(f"burst-{name}-install")
        # The host is the server's ipv4Address output, so the command depends on the server.
        assert install.options["propertyDependencies"]["connection"] == [server.urn]
        assert install.inputs["connection"]["host"].startswith("198.51.100.")
        assert install.inputs["connection"]["user"] == "root"
    assert set(run.outputs["nodes"]) == set(servers)
    assert {m.inputs["networkId"] for m in run.of_type("zerotier:index/member:Member")} == {"8056c2e21c1930be"}
