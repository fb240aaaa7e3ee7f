"""verify.sh over real SSH, with real ICMP.

The overlay addresses are stood in for by extra addresses on the machines'
segment interface: the pings are real, only ZeroTier's tunnel is not there.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.lab.faults import read_only, tmp_missing
from tests.lab.provision import cluster_config, last_line, run_step, step_of, step_text, with_param


def _overlay_ip(machine, ip: str) -> None:
    machine.host.run(["ip", "addr", "add", f"{ip}/24", "dev", "eth0"], check=True)


def test_verify_head_reaches_every_compute_node_and_compute_reaches_head(machine_factory, operator):
    config = cluster_config(verifyTimeout=10)
    head, c1, c2 = (machine_factory(name) for name in ("vhead", "vc1", "vc2"))
    for machine, ip in ((head, "10.147.17.1"), (c1, "10.147.17.11"), (c2, "10.147.17.12")):
        _overlay_ip(machine, ip)

    r = run_step(operator, head, step_text(config, "head", "verify"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "verify: 2/2 reachable over the overlay from this head node (compute-01 compute-02)"
    ]
    assert "compute-01 (10.147.17.11) answers" in r.stderr

    r = run_step(operator, c1, step_text(config, "compute-01", "verify"), "update")
    assert r.returncode == 0, r.stderr
    assert last_line(r.stdout) == "verify: 1/1 reachable over the overlay from this compute node (head)"

    r = run_step(operator, c1, step_text(config, "compute-01", "verify"), "delete")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""


def test_verify_waits_for_a_node_that_comes_up_late(machine_factory, operator):
    config = cluster_config(verifyTimeout=20)
    head, c1, c2 = (machine_factory(name) for name in ("lhead", "lc1", "lc2"))
    _overlay_ip(head, "10.147.17.1")
    _overlay_ip(c1, "10.147.17.11")
    started = time.monotonic()
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(run_step, operator, head, step_text(config, "head", "verify"))
        time.sleep(3)
        _overlay_ip(c2, "10.147.17.12")  # compute-02's path appears only now
        r = running.result(timeout=60)
    assert r.returncode == 0, r.stderr
    assert "2/2 reachable" in r.stdout
    assert time.monotonic() - started >= 3


def test_verify_failure_names_every_unreachable_node(machine_factory, operator):
    config = cluster_config(verifyTimeout=5)
    head, c1 = machine_factory("fhead"), machine_factory("fc1")
    _overlay_ip(head, "10.147.17.1")
    _overlay_ip(c1, "10.147.17.11")
    nodes = [*config["nodes"], {"name": "compute-03", "role": "compute", "host": "192.0.2.13", "ip": "10.147.17.13"}]
    config = cluster_config(nodes, verifyTimeout=5)

    started = time.monotonic()
    r = run_step(operator, head, step_text(config, "head", "verify"))
    elapsed = time.monotonic() - started
    assert r.returncode == 1
    assert r.stdout == ""
    assert (
        "2 of 3 node(s) did not answer ping over the overlay within 5s: "
        "compute-02 (10.147.17.12), compute-03 (10.147.17.13)"
    ) in r.stderr
    assert "compute-01 (10.147.17.11) answers" in r.stderr
    assert 5 <= elapsed < 15


def test_verify_bad_target_parameter_is_refused(machine_factory, operator):
    head = machine_factory("bhead")
    script = step_of(cluster_config(), "head", "verify")
    targets = script.params.targets.replace("10.147.17.12", "10.147.17.312")  # type: ignore[attr-defined]
    r = run_step(operator, head, with_param(script, "ZTC_TARGETS", targets))
    assert r.returncode == 1
    assert "ZTC_TARGETS address of compute-02 is not valid: '10.147.17.312'" in r.stderr


def test_verify_without_tmp_uses_another_scratch_place_or_says_there_is_none(machine_factory, operator):
    """verify needs no root, so its scratch files go to the first writable of $TMPDIR, /tmp, /var/tmp, $HOME."""
    config = cluster_config(verifyTimeout=10)
    head, c1 = machine_factory("vtmp-head"), machine_factory("vtmp-c1")
    _overlay_ip(head, "10.147.17.1")
    _overlay_ip(c1, "10.147.17.11")
    stdin = step_text(config, "compute-01", "verify")
    with tmp_missing(c1):
        r = run_step(operator, c1, stdin)
        assert r.returncode == 0, r.stderr
        assert last_line(r.stdout) == "verify: 1/1 reachable over the overlay from this compute node (head)"
        with read_only(c1, "/var/tmp"), read_only(c1, "/home/ops"):
            r = run_step(operator, c1, stdin, send_bundle=False)  # the first run left the bundle and program
    assert r.returncode == 1
    assert "no writable directory for scratch files on vtmp-c1" in r.stderr
    assert r.stdout == ""


# --- path types (DIRECT / RELAY) from zerotier-cli -j peers ----------------------------------

#: The network whose MACs the tests give the machines' interfaces, as ZeroTier would.
PATH_NETWORK = "8056c2e21c1930be"


def zerotier_mac(address: str, network_id: str) -> str:
    """The MAC ZeroTier gives member ``address`` on ``network_id`` (its MAC::fromAddress rule)."""
    nwid = int(network_id, 16)
    first = (nwid & 0xFE) | 0x02
    mac = ((0x32 if first == 0x52 else first) << 40) | int(address, 16)
    for byte, shift in enumerate((32, 24, 16, 8, 0), start=1):
        mac ^= ((nwid >> (8 * byte)) & 0xFF) << shift
    return ":".join(f"{mac:012x}"[i : i + 2] for i in range(0, 12, 2))


def test_zerotier_mac_rule_matches_a_real_daemon() -> None:
    # Captured from zerotier-one 1.14.1: node 354616c278 on network 354616c278cbb196 (tests/lab/zerotier_samples).
    assert zerotier_mac("354616c278", "354616c278cbb196") == "96:84:8d:6e:00:6e"
    assert zerotier_mac("354616c278", "354616c278fffff0") == "f2:ca:b9:6e:00:6e"


def _zerotier_node(machine, name: str, ip: str, address: str, peers: str) -> None:
    from tests.lab.zerotier_stand_in import install_fake_cli

    machine.host.run(["ip", "link", "set", "eth0", "address", zerotier_mac(address, PATH_NETWORK)], check=True)
    _overlay_ip(machine, ip)
    install_fake_cli(machine, address=address, scenario={"ADDRESSES": f"{ip}/24", "PEERS": peers})


def test_verify_reports_each_targets_path_and_latency_stand_in(machine_factory, operator):
    config = cluster_config(verifyTimeout=10)
    head, c1, c2 = (machine_factory(name) for name in ("phead", "pc1", "pc2"))
    planet = "778cde7190/PLANET/88/direct"
    _zerotier_node(
        head, "head", "10.147.17.1", "aaaa000001", f"{planet} aaaa000011/LEAF/4/direct aaaa000012/LEAF/61/relay"
    )
    _zerotier_node(c1, "compute-01", "10.147.17.11", "aaaa000011", f"{planet} aaaa000001/LEAF/4/direct")
    _zerotier_node(c2, "compute-02", "10.147.17.12", "aaaa000012", f"{planet} aaaa000001/LEAF/61/relay")

    r = run_step(operator, head, step_text(config, "head", "verify"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "verify: 2/2 reachable over the overlay from this head node (compute-01 compute-02)",
        "verify: paths from this node: 1 DIRECT, 1 RELAY, 0 UNKNOWN",
    ], r.stderr
    assert "compute-01 (10.147.17.11): DIRECT, latency 4 ms" in r.stderr
    assert "compute-02 (10.147.17.12): RELAY, latency 61 ms (no direct path)" in r.stderr

    r = run_step(operator, c2, step_text(config, "compute-02", "verify"))
    assert r.returncode == 0, r.stderr
    assert last_line(r.stdout) == "verify: paths from this node: 0 DIRECT, 1 RELAY, 0 UNKNOWN"


def test_verify_require_direct_fails_on_a_relayed_path_and_says_why_stand_in(machine_factory, operator):
    config = cluster_config(verifyTimeout=5, verify={"requireDirect": True})
    head, c1 = machine_factory("rhead"), machine_factory("rc1")
    _zerotier_node(head, "head", "10.147.17.1", "aaaa000001", "aaaa000011/LEAF/70/relay")
    _zerotier_node(c1, "compute-01", "10.147.17.11", "aaaa000011", "aaaa000001/LEAF/70/tunneled")

    started = time.monotonic()
    r = run_step(operator, c1, step_text(config, "compute-01", "verify"))
    elapsed = time.monotonic() - started
    assert r.returncode == 1
    assert "head (10.147.17.1): RELAY, latency 70 ms (tunneled over TCP)" in r.stderr
    assert (
        "verify.requireDirect: no direct ZeroTier path to head (RELAY) within 5s; traffic is relayed through a "
        "ZeroTier root (slow for MPI). Usual causes: UDP 9993 blocked between the sites"
    ) in r.stderr
    assert "symmetric NAT" in r.stderr
    assert 4 <= elapsed < 15

    # Once the path is direct (ZeroTier found one), the same step passes.
    from tests.lab.zerotier_stand_in import set_scenario

    set_scenario(c1, ADDRESSES="10.147.17.11/24", PEERS="aaaa000001/LEAF/2/direct")
    r = run_step(operator, c1, step_text(config, "compute-01", "verify"))
    assert r.returncode == 0, r.stderr
    assert last_line(r.stdout) == "verify: paths from this node: 1 DIRECT, 0 RELAY, 0 UNKNOWN"


def test_verify_require_direct_without_zerotier_cli_fails_clearly(machine_factory, operator):
    config = cluster_config(verifyTimeout=5, verify={"requireDirect": True})
    head, c1 = machine_factory("nhead"), machine_factory("nc1")
    _overlay_ip(head, "10.147.17.1")
    _overlay_ip(c1, "10.147.17.11")
    r = run_step(operator, c1, step_text(config, "compute-01", "verify"))
    assert r.returncode == 1
    assert "verify.requireDirect is set but path types cannot be read on nc1: zerotier-cli is not installed" in r.stderr

    r = run_step(operator, c1, step_text(cluster_config(verifyTimeout=5), "compute-01", "verify"))
    assert r.returncode == 0, r.stderr
    assert "path types not reported: zerotier-cli is not installed" in r.stderr


def test_require_direct_is_a_checked_config_key():
    from cluster.errors import ConfigError
    from tests.lab.provision import plan_for

    with pytest.raises(ConfigError) as err:
        plan_for(cluster_config(verify={"requireDirect": "yes"}))
    assert "zerotier-cluster:verify.requireDirect: must be true or false, got 'yes'" in str(err.value)
    with pytest.raises(ConfigError) as err:
        plan_for(cluster_config(verify={"requireDirekt": True}))
    assert "did you mean 'requireDirect'?" in str(err.value)
    verify = next(n for n in plan_for(cluster_config(verify={"requireDirect": True})).nodes if n.name == "head").verify
    assert verify.params.variables(per_node=False)[-2] == ("ZTC_REQUIRE_DIRECT", "true")
