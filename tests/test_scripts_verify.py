"""verify.sh over real SSH, with real ICMP.

The overlay addresses are stood in for by extra addresses on the machines'
segment interface: the pings are real, only ZeroTier's tunnel is not there.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

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
            r = run_step(operator, c1, stdin)
    assert r.returncode == 1
    assert "no writable directory for scratch files on vtmp-c1" in r.stderr
    assert r.stdout == ""
