"""join.sh (create/update) and leave (delete) over real SSH.

zerotier-one cannot run here (no package, no internet), so everything past the
ZeroTier boundary is played by the stand-in ``tests/lab/fake_zerotier_cli.sh``
(tests named ``..._stand_in``): it answers ``join``/``leave``/``info``/
``listnetworks`` from output captured from a real 1.14.1 daemon, for a chosen status. What the script
does on its own side of that boundary (parameters, sudo, devicemap, its state,
JSON parsing with the node's own awk, diagnoses) runs for real.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.lab.provision import NETWORK_ID, cluster_config, last_line, run_step, step_of, step_text, with_param
from tests.lab.zerotier_stand_in import ZT_HOME, cli_calls, install_fake_cli, set_scenario

OTHER_NETWORK = "1c33c1ced015c144"  # a network the node was in before; never ours to touch
PINNED = {"interface": "ztcluster0"}


def _join(config, node="compute-01"):
    return step_text(config, node, "join")


def _joined(machine) -> set[str]:
    return {p.stem for p in machine.path(f"{ZT_HOME}/networks.d").glob("*.conf")}


def _devicemap(machine) -> str:
    path = machine.path(f"{ZT_HOME}/devicemap")
    return path.read_text() if path.exists() else ""


def _stand_in(machine_factory, name, **scenario):
    machine = machine_factory(name)
    install_fake_cli(machine, scenario={"ADDRESSES": "10.147.17.11/24", **scenario})
    return machine


def test_join_fresh_waits_for_ok_then_second_run_is_a_noop_stand_in(machine_factory, operator):
    node = _stand_in(machine_factory, "join1", OK_AFTER="3", NAME="chpc-overlay")
    node.write(f"{ZT_HOME}/devicemap", f"{OTHER_NETWORK}=ztother0\n")
    config = cluster_config(network=PINNED, joinTimeout=30)

    r = run_step(operator, node, _join(config))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["ztcluster0 10.147.17.11/24"]
    assert "status REQUESTING_CONFIGURATION" in r.stderr  # it polled until the network was ready
    assert _devicemap(node) == f"{OTHER_NETWORK}=ztother0\n{NETWORK_ID}=ztcluster0\n"
    assert node.path("/var/lib/zerotier-cluster/join").read_text() == f"network={NETWORK_ID}\ninterface=ztcluster0\n"
    assert [c for c in cli_calls(node) if c.startswith(("join", "leave"))] == [f"join {NETWORK_ID}"]

    stamps = {p: node.path(p).stat().st_mtime_ns for p in (f"{ZT_HOME}/devicemap", "/var/lib/zerotier-cluster/join")}
    calls = len(cli_calls(node))
    r = run_step(operator, node, _join(config), "update")
    assert r.returncode == 0, r.stderr
    assert last_line(r.stdout) == "ztcluster0 10.147.17.11/24"
    assert "nothing changed" in r.stderr
    assert not [c for c in cli_calls(node)[calls:] if c.startswith(("join", "leave"))]
    assert stamps == {p: node.path(p).stat().st_mtime_ns for p in stamps}


def test_join_pins_the_name_derived_from_the_network_name_by_default_stand_in(machine_factory, operator):
    node = _stand_in(machine_factory, "join2")
    r = run_step(operator, node, _join(cluster_config()))
    assert r.returncode == 0, r.stderr
    assert last_line(r.stdout) == "zt050e2a9f6a 10.147.17.11/24"  # zt + sha256("chpc-overlay")[:10]
    assert _devicemap(node) == f"{NETWORK_ID}=zt050e2a9f6a\n"


def test_join_interface_change_leaves_and_rejoins_stand_in(machine_factory, operator):
    node = _stand_in(machine_factory, "join3")
    assert run_step(operator, node, _join(cluster_config())).returncode == 0
    r = run_step(operator, node, _join(cluster_config(network=PINNED)), "update")
    assert r.returncode == 0, r.stderr
    assert last_line(r.stdout) == "ztcluster0 10.147.17.11/24"
    assert [c for c in cli_calls(node) if c.startswith(("join", "leave"))] == [
        f"join {NETWORK_ID}",
        f"leave {NETWORK_ID}",
        f"join {NETWORK_ID}",
    ]
    # Back to the default name: our devicemap line changes and the node rejoins under it.
    r = run_step(operator, node, _join(cluster_config()), "update")
    assert r.returncode == 0, r.stderr
    assert last_line(r.stdout) == "zt050e2a9f6a 10.147.17.11/24"
    assert _devicemap(node) == f"{NETWORK_ID}=zt050e2a9f6a\n"


def test_join_update_to_another_network_leaves_only_the_old_one_stand_in(machine_factory, operator):
    node = _stand_in(machine_factory, "join4")
    node.exec(["zerotier-cli", "join", OTHER_NETWORK])  # the node's own, older membership
    new_network = "8056c2e21c000001"
    assert run_step(operator, node, _join(cluster_config(network=PINNED))).returncode == 0
    assert _joined(node) == {OTHER_NETWORK, NETWORK_ID}
    moved = cluster_config(network={**PINNED, "networkId": new_network})

    r = run_step(operator, node, _join(moved), "update")
    assert r.returncode == 0, r.stderr
    assert f"leaving network {NETWORK_ID}" in r.stderr
    assert _joined(node) == {OTHER_NETWORK, new_network}
    assert _devicemap(node) == f"{new_network}=ztcluster0\n"

    # Delete leaves what this program joined, and only that.
    r = run_step(operator, node, _join(moved), "delete")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"leave: left {new_network}"
    assert _joined(node) == {OTHER_NETWORK}
    assert _devicemap(node) == ""
    assert not node.path("/var/lib/zerotier-cluster/join").exists()
    r = run_step(operator, node, _join(moved), "delete")
    assert r.returncode == 0, r.stderr
    assert "nothing to leave" in r.stderr
    assert _joined(node) == {OTHER_NETWORK}


DIAGNOSES = {
    "access_denied": (
        {"STATUS": "ACCESS_DENIED"},
        "ACCESS_DENIED: the network's controller refuses node a1b2c3d4e5. The member a1b2c3d4e5 is not authorized",
    ),
    "not_found": ({"STATUS": "NOT_FOUND"}, "NOT_FOUND: no controller knows network 8056c2e21c1930be"),
    "offline": (
        {"STATUS": "REQUESTING_CONFIGURATION", "ONLINE": "OFFLINE"},
        "node a1b2c3d4e5 is OFFLINE: it cannot reach any ZeroTier root. UDP 9993 is probably blocked upstream",
    ),
    "controller_silent": (
        {"STATUS": "REQUESTING_CONFIGURATION"},
        "node a1b2c3d4e5 is ONLINE but the controller of network 8056c2e21c1930be (ZeroTier address 8056c2e21c)",
    ),
    "port_error": (
        {"STATUS": "PORT_ERROR"},
        "PORT_ERROR (portError -1): zerotier-one could not create the virtual interface zt050e2a9f6a. "
        "Check that /dev/net/tun exists",
    ),
    "wrong_address": (
        {"STATUS": "OK", "ADDRESSES": "10.147.17.200/24"},
        "the network is OK but assigns 10.147.17.200/24 instead of 10.147.17.11/24: check the Member's ipAssignments",
    ),
    "no_address": (
        {"STATUS": "OK", "ADDRESSES": ""},
        "the network is OK but assigns - instead of 10.147.17.11/24",
    ),
}


@pytest.mark.parametrize("assigned", ["10.147.17.200/24", "10.147.17.11/16", "10.147.17.110/24 fd80::11/88"])
def test_join_refuses_ok_without_the_planned_address_stand_in(machine_factory, operator, assigned):
    """Status OK is not enough: the planned address (with its prefix) must be among the assigned ones."""
    node = _stand_in(machine_factory, "okelse", STATUS="OK", ADDRESSES=assigned)
    r = run_step(operator, node, _join(cluster_config(joinTimeout=10)))
    assert r.returncode == 1, r.stderr
    assert r.stdout == ""
    assert f"the network is OK but assigns {assigned} instead of 10.147.17.11/24" in r.stderr


def test_join_timeout_diagnoses_stand_in(machine_factory, operator):
    """Every status a join can end in, each on its own node, all waiting out joinTimeout at once."""
    config = cluster_config(joinTimeout=10)
    nodes = {name: _stand_in(machine_factory, f"diag{i}", **scenario) for i, (name, (scenario, _)) in
             enumerate(DIAGNOSES.items())}  # fmt: skip
    with ThreadPoolExecutor(len(nodes)) as pool:
        runs = {name: pool.submit(run_step, operator, node, _join(config)) for name, node in nodes.items()}
        results = {name: run.result() for name, run in runs.items()}
    for name, (_, diagnosis) in DIAGNOSES.items():
        r = results[name]
        assert r.returncode == 1, (name, r.stderr)
        assert r.stdout == "", name
        assert "did not become ready with 10.147.17.11/24 within 10s" in r.stderr, name
        assert diagnosis in r.stderr, (name, r.stderr)
        # The raw outputs a person would ask for come with it.
        assert "zerotier-cli info:\n200 info a1b2c3d4e5 1.14.1 " in r.stderr, name
        assert "zerotier-cli listnetworks:\n200 listnetworks <nwid> <name>" in r.stderr, name
        assert f"200 listnetworks {NETWORK_ID} " in r.stderr, name
        # A failed join is still recorded, so delete leaves it.
        assert nodes[name].path("/var/lib/zerotier-cluster/join").exists()


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("ZTC_NETWORK_ID", "8056C2E21C1930BE", "ZTC_NETWORK_ID (16 hex digits) is not valid"),
        (
            "ZTC_NETWORK_ID",
            "<networkId: known once pulumi up has created it>",
            "ZTC_NETWORK_ID (16 hex digits) is not valid: '<networkId: known once pulumi up has created it>'",
        ),
        ("ZTC_OVERLAY_IP", "10.147.17.256", "ZTC_OVERLAY_IP is not valid: '10.147.17.256'"),
        ("ZTC_OVERLAY_PREFIX", "33", "ZTC_OVERLAY_PREFIX is not valid: '33'"),
        ("ZTC_INTERFACE", "zt0;reboot", "ZTC_INTERFACE is not valid: 'zt0;reboot'"),
        ("ZTC_JOIN_TIMEOUT", "soon", "ZTC_JOIN_TIMEOUT (seconds) is not valid: 'soon'"),
    ],
    ids=["uppercase-network-id", "placeholder-network-id", "ip", "prefix", "interface", "timeout"],
)
def test_join_bad_parameters_fail_before_touching_anything_stand_in(machine_factory, operator, var, value, message):
    node = _stand_in(machine_factory, "badp")
    r = run_step(operator, node, with_param(step_of(cluster_config(network=PINNED), "compute-01", "join"), var, value))
    assert r.returncode == 1
    assert message in r.stderr
    assert cli_calls(node) == []
    assert not node.path(f"{ZT_HOME}/devicemap").exists()
    assert not node.path("/var/lib/zerotier-cluster").exists()


def test_join_up_to_zerotier_boundary_without_zerotier_installed_fails_clearly(machine_factory, operator):
    node = machine_factory("nozt")
    r = run_step(operator, node, _join(cluster_config()))
    assert r.returncode == 1
    assert "zerotier-cli is not installed on nozt: the install step must succeed first" in r.stderr
    assert not node.path("/var/lib/zerotier-cluster").exists()


def test_join_service_not_running_fails_clearly_stand_in(machine_factory, operator):
    node = machine_factory("ztdown")
    install_fake_cli(node, running=False)
    r = run_step(operator, node, _join(cluster_config()))
    assert r.returncode == 1
    assert "the zerotier-one service on ztdown does not answer: Error connecting to the ZeroTier service" in r.stderr
    assert "systemctl start zerotier-one" in r.stderr


def test_join_sudo_asking_for_a_password_fails_clearly_stand_in(machine_factory, operator):
    node = _stand_in(machine_factory, "joinpw")
    r = run_step(operator, node, _join(cluster_config(network=PINNED)), user="pw")
    assert r.returncode == 1
    assert "sudo on joinpw asks user pw for a password" in r.stderr
    assert cli_calls(node) == []
    assert not node.path(f"{ZT_HOME}/devicemap").exists()


def test_join_as_root_login_stand_in(machine_factory, operator):
    node = _stand_in(machine_factory, "joinroot")
    r = run_step(operator, node, _join(cluster_config()), user="root")
    assert r.returncode == 0, r.stderr
    assert last_line(r.stdout) == "zt050e2a9f6a 10.147.17.11/24"


def test_leave_when_not_a_member_is_a_noop_stand_in(machine_factory, operator):
    node = _stand_in(machine_factory, "leave1")
    node.exec(["zerotier-cli", "join", OTHER_NETWORK])
    r = run_step(operator, node, _join(cluster_config()), "delete")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"leave: not a member of {NETWORK_ID}"
    assert _joined(node) == {OTHER_NETWORK}


def test_leave_on_a_node_without_zerotier_is_a_noop(machine_factory, operator):
    """On a booted systemd node that never had ZeroTier."""
    node = machine_factory("leave2", boot=True)
    r = run_step(operator, node, _join(cluster_config()), "delete")
    assert r.returncode == 0, r.stderr
    assert "ZeroTier is not installed on leave2; nothing to leave" in r.stderr
    assert r.stdout.strip() == "leave: ZeroTier not installed"
    assert not node.path("/var/lib/zerotier-cluster").exists()


def test_leave_while_the_service_is_stopped_forgets_the_network_stand_in(machine_factory, operator):
    node = _stand_in(machine_factory, "leave3")
    assert run_step(operator, node, _join(cluster_config())).returncode == 0
    node.path(f"{ZT_HOME}/zerotier-one.port").unlink()  # the service stopped meanwhile
    r = run_step(operator, node, _join(cluster_config()), "delete")
    assert r.returncode == 0, r.stderr
    assert "so it is not rejoined at start" in r.stderr
    assert _joined(node) == set()


def test_listnetworks_parser_reads_changing_json_layouts_stand_in(machine_factory, operator):
    """The node's own awk (mawk here) reads compact JSON and odd names too; the join still succeeds."""
    node = _stand_in(machine_factory, "parse", NAME='we{ird "name", [x]')
    cli = node.path("/usr/sbin/zerotier-cli")
    # Compact output (no whitespace at all), as `zerotier-cli -j join` prints it.
    cli.write_text(cli.read_text().replace('network_json "$nwid"\n', 'network_json "$nwid" | tr -d "\\n "\n'))
    set_scenario(node, STATUS="OK", ADDRESSES="fd80::1/88 10.147.17.11/24", NAME='we{ird \\"name\\", [x]')
    r = run_step(operator, node, _join(cluster_config()))
    assert r.returncode == 0, r.stderr
    assert last_line(r.stdout) == "zt050e2a9f6a 10.147.17.11/24"


def test_join_fails_when_its_state_cannot_be_recorded_stand_in(machine_factory, operator):
    """Without the record, delete would not know what to leave: that must stop the join, not pass silently."""
    node = _stand_in(machine_factory, "join-ro")
    node.path("/var/lib/zerotier-cluster").mkdir(parents=True, exist_ok=True)
    mounted = node.exec(["mount", "-t", "tmpfs", "-o", "ro", "tmpfs", "/var/lib/zerotier-cluster"])
    assert mounted.returncode == 0, mounted.stderr
    r = run_step(operator, node, _join(cluster_config()))
    assert r.returncode != 0
    # Its scratch files live there too, so the step stops before anything.
    assert "could not create a scratch directory in /var/lib/zerotier-cluster/tmp" in r.stderr
    assert "nothing was changed" in r.stderr
    assert not [c for c in cli_calls(node) if c.startswith("join")]
