"""Sites and the MTU in what the program publishes and reports: ``slurmTopology`` for the example stacks under
mocks, ``status --mesh``'s latency per pair of sites, ``status``'s MTU check."""

from __future__ import annotations

from cluster.plan.publish import slurm_topology
from tests.mockrun import run_program, stack_file_config
from tests.test_environments import OWNER


def test_dev_stack_is_one_site_named_after_the_stack() -> None:
    config, secrets = stack_file_config("dev")
    run = run_program(config, secrets, stack="dev")
    assert run.outputs["slurmTopology"] == (
        "SwitchName=site-dev Nodes=compute-01,compute-02\nSwitchName=overlay Switches=site-dev\n"
    )


def test_onprem_stack_has_its_machine_room_and_the_gpu_room() -> None:
    config, secrets = stack_file_config("onprem")
    run = run_program(config, secrets, stack="onprem")
    assert run.outputs["slurmTopology"] == (
        "SwitchName=site-gpu-room Nodes=gpu-01\n"
        "SwitchName=site-onprem Nodes=cn-01,cn-02,cn-03,cn-04\n"
        "SwitchName=overlay Switches=site-gpu-room,site-onprem\n"
    )


def test_cloud_stack_lists_its_burst_nodes_as_its_own_site() -> None:
    onprem_config, onprem_secrets = stack_file_config("onprem")
    onprem = run_program(onprem_config, onprem_secrets, stack="onprem")
    config, secrets = stack_file_config("cloud")
    run = run_program(config, secrets, stack="cloud", stack_outputs={OWNER: onprem.outputs})
    assert run.outputs["slurmTopology"] == (
        "SwitchName=site-cloud Nodes=burst-01,burst-02,burst-03\nSwitchName=overlay Switches=site-cloud\n"
    )


def test_sites_sorted_nodes_kept_in_order_and_no_compute_node_means_no_lines() -> None:
    assert slurm_topology([]) == ""
    assert slurm_topology([("b", "x"), ("a", "x"), ("c", "w")]) == (
        "SwitchName=site-w Nodes=c\nSwitchName=site-x Nodes=b,a\nSwitchName=overlay Switches=site-w,site-x\n"
    )


def test_status_mesh_shows_the_latency_between_every_pair_of_sites() -> None:
    from cluster.operate.report import site_latency
    from cluster.operate.status import Check, Path, Row
    from tests.lab.provision import cluster_config, plan_for

    nodes = [
        {"name": "head", "role": "head", "host": "192.0.2.10"},
        {"name": "compute-01", "host": "192.0.2.11"},
        {"name": "burst-01", "host": "198.51.100.21", "site": "cloud"},
    ]
    plan = plan_for(cluster_config(nodes))

    def row(name: str, paths: dict[str, Path]) -> Row:
        checks = tuple(Check(f"path:{peer}", True, str(p), path=p) for peer, p in paths.items())
        return Row(name, "-", "compute", True, checks=checks)

    rows = [
        row("head", {"compute-01": Path("DIRECT", 1), "burst-01": Path("DIRECT", 31)}),
        row("compute-01", {"head": Path("DIRECT", 2), "burst-01": Path("RELAY", 95)}),
        row("burst-01", {"head": Path("DIRECT", 29), "compute-01": Path("RELAY")}),
    ]
    assert site_latency(plan, rows) == [
        "sites cloud <-> cluster: median 31 ms, max 95 ms over 4 paths (2 DIRECT)",
        "sites cluster <-> cluster: median 2 ms, max 2 ms over 2 paths (2 DIRECT)",
    ]


def test_status_flags_a_network_mtu_other_than_the_planned_one() -> None:
    from cluster.operate.status import Check, Context, _mtu
    from tests.lab.provision import cluster_config, plan_for

    def check(mtu: int, **settings: object):
        config = cluster_config(controller="head", **settings) if settings else cluster_config()
        if settings:
            del config["network"]["networkId"]
        plan = plan_for(config)
        context = Context(plan, None, {}, None, {}, False)  # type: ignore[arg-type]  # no URN is asked for
        return _mtu(context, {"mtu": mtu})

    assert check(2800) == check(2800, network={"mtu": 2800})
    assert (check(2800).ok, check(2800).value) == (True, "2800")
    assert check(1500) == Check(
        "mtu",
        False,
        "1500",
        "the network gives this node MTU 1500, planned 2800",
        "set the network's MTU to 2800 in ZeroTier Central",
    )
    missing = _mtu(Context(plan_for(cluster_config()), None, {}, None, {}, False), {})  # type: ignore[arg-type]
    assert missing == Check("mtu", None, "?", "zerotier-cli -j listnetworks reported no MTU for the network")
    assert check(2800, network={"mtu": 9000}) == Check(
        "mtu",
        False,
        "2800",
        "the network gives this node MTU 2800, planned 9000",
        "pulumi up (the head's network step sets network.mtu)",
    )
