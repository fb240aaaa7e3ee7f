"""localconf.sh over real SSH on booted Debian 12 machines: the stack's local.conf entries beside the operator's.

The machines run systemd with a stand-in ``zerotier-one.service`` (a process
whose PID shows each restart) and the stand-in ``zerotier-cli``
(``tests/lab/zerotier_stand_in.py``) that answers ``info`` after it; the
real daemon reading the file is ``tests/test_lab_dataplane.py``. Where the
core count matters, a stand-in ``nproc`` in /usr/local/bin (first on the
steps' PATH) gives the node 16 cores, which these test hosts do not have.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.lab.faults import digests, full, leftovers, read
from tests.lab.machine import Machine
from tests.lab.provision import cluster_config, run_step, step_of
from tests.lab.ssh import Operator
from tests.lab.zerotier_stand_in import ZT_HOME, install_fake_cli

LOCAL_CONF = f"{ZT_HOME}/local.conf"
STATE = "/var/lib/zerotier-cluster/localconf"
UNIT = """[Unit]
Description=TEST STAND-IN for zerotier-one: a process whose PID changes on every restart
# The tests restart it more often than systemd's default start limit allows.
StartLimitIntervalSec=0

[Service]
ExecStart=/bin/sleep infinity

[Install]
WantedBy=multi-user.target
"""
BLACKLIST = '["zt","docker","br-","veth","virbr","lxcbr","cni","flannel","cali","tun","tap","wg","tailscale"]'
OPERATOR = """{
  "settings": {
    "primaryPort": 9993,
    "portMappingEnabled": false
  },
  "physical": {
    "192.168.77.0/24": { "blacklist": true }
  }
}
"""


def service(machine: Machine) -> None:
    """``before_start``: the stand-in service, enabled, and the stand-in zerotier-cli."""
    install_fake_cli(machine)
    machine.write("/etc/systemd/system/zerotier-one.service", UNIT)
    wants = machine.path("/etc/systemd/system/multi-user.target.wants")
    wants.mkdir(parents=True, exist_ok=True)
    (wants / "zerotier-one.service").symlink_to("/etc/systemd/system/zerotier-one.service")


def sixteen_cores(machine: Machine) -> None:
    machine.write("/usr/local/bin/nproc", "#!/bin/sh\n# TEST STAND-IN: a node with 16 cores\necho 16\n", mode=0o755)


def pid(machine: Machine) -> str:
    out = machine.exec(["systemctl", "show", "-p", "MainPID", "--value", "zerotier-one"]).stdout.strip()
    assert out not in ("", "0"), "the stand-in service is not running"
    return out


@pytest.fixture
def node(machine_factory: Callable[..., Machine]) -> Machine:
    return machine_factory("lc", boot=True, before_start=service)


def step(**zerotier: Any):
    """compute-01's localconf step for a stack with ``zerotier-cluster:zerotier`` set to ``zerotier``."""
    config = cluster_config(zerotier=zerotier) if zerotier else cluster_config()
    return step_of(config, "compute-01", "localconf")


def ok(result) -> str:
    assert result.returncode == 0, result.stderr
    return str(result.stdout)


def test_written_whole_kept_when_unchanged_and_removed_on_destroy(node: Machine, operator: Operator) -> None:
    """No local.conf before: the stack's entries written whole, a restart only when they change, nothing after."""
    first = pid(node)
    out = ok(run_step(operator, node, step(multicore="false")))
    assert out == f"localconf: {LOCAL_CONF} updated ({node_cores(node)} cores: multicore off); zerotier-one restarted\n"
    assert read(node, LOCAL_CONF) == (
        "{\n"
        '    "settings": {\n'
        '        "allowTcpFallbackRelay": false,\n'
        f'        "interfacePrefixBlacklist": {BLACKLIST},\n'
        '        "multicoreEnabled": false\n'
        "    }\n"
        "}\n"
    )
    restarted = pid(node)
    assert restarted != first
    st = node.path(LOCAL_CONF).stat()
    assert (st.st_uid, st.st_mode & 0o777) == (0, 0o644)

    # Again: nothing written (same inode and time), no restart.
    before = node.path(LOCAL_CONF).stat()
    out = ok(run_step(operator, node, step(multicore="false"), "update"))
    assert out.startswith(f"localconf: {LOCAL_CONF} unchanged")
    after = node.path(LOCAL_CONF).stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert pid(node) == restarted

    # A changed setting: written again, restarted.
    ok(run_step(operator, node, step(multicore="false", allowTcpFallbackRelay=True), "update"))
    assert json.loads(read(node, LOCAL_CONF))["settings"]["allowTcpFallbackRelay"] is True
    assert pid(node) != restarted

    # Destroy: there was no local.conf, so there is none; the state is gone too; restarted once more.
    last = pid(node)
    out = ok(run_step(operator, node, step(multicore="false"), "delete"))
    assert out == f"localconf: the stack's entries removed from {LOCAL_CONF}; zerotier-one restarted\n"
    assert digests(node, LOCAL_CONF, STATE) == {LOCAL_CONF: "absent", STATE: "absent"}
    assert pid(node) != last
    assert leftovers(node, ZT_HOME) == []


def node_cores(machine: Machine) -> str:
    return machine.exec(["nproc"]).stdout.strip()


def test_merged_with_the_operators_entries_and_their_file_restored(node: Machine, operator: Operator) -> None:
    """The operator's own entries stay; multicore chosen from 16 cores; their file comes back byte for byte."""
    sixteen_cores(node)
    node.write(LOCAL_CONF, OPERATOR)
    zerotier = {"sites": {"cluster": {"physical": {"10.10.0.0/16": {"mtu": 9000, "trustedPathId": 101}}}}}
    out = ok(run_step(operator, node, step(**zerotier)))
    assert out == f"localconf: {LOCAL_CONF} updated (16 cores: multicore on, concurrency 8); zerotier-one restarted\n"
    assert read(node, LOCAL_CONF) == (
        "{\n"
        '    "physical": {\n'
        '        "10.10.0.0/16": {\n'
        '            "mtu": 9000,\n'
        '            "trustedPathId": 101\n'
        "        },\n"
        '        "192.168.77.0/24": {\n'
        '            "blacklist": true\n'
        "        }\n"
        "    },\n"
        '    "settings": {\n'
        '        "allowTcpFallbackRelay": false,\n'
        '        "concurrency": 8,\n'
        f'        "interfacePrefixBlacklist": {BLACKLIST},\n'
        '        "multicoreEnabled": true,\n'
        '        "portMappingEnabled": false,\n'
        '        "primaryPort": 9993\n'
        "    }\n"
        "}\n"
    )
    assert read(node, f"{STATE}/original") == OPERATOR

    # The operator adds an entry of their own between two runs: it stays, and stays after destroy.
    conf = json.loads(read(node, LOCAL_CONF))
    conf["settings"]["softwareUpdate"] = "disable"
    node.write(LOCAL_CONF, json.dumps(conf))
    ok(run_step(operator, node, step(**zerotier), "update"))
    assert json.loads(read(node, LOCAL_CONF))["settings"]["softwareUpdate"] == "disable"
    ok(run_step(operator, node, step(**zerotier), "delete"))
    assert json.loads(read(node, LOCAL_CONF)) == {
        "physical": {"192.168.77.0/24": {"blacklist": True}},
        "settings": {"portMappingEnabled": False, "primaryPort": 9993, "softwareUpdate": "disable"},
    }

    # Without that edit, destroy gives the operator's file back exactly as it was.
    node.write(LOCAL_CONF, OPERATOR)
    ok(run_step(operator, node, step(**zerotier)))
    ok(run_step(operator, node, step(**zerotier), "delete"))
    assert read(node, LOCAL_CONF) == OPERATOR
    assert digests(node, STATE) == {STATE: "absent"}


def test_a_conflicting_operator_entry_is_refused_with_both_values(node: Machine, operator: Operator) -> None:
    """An entry the operator set otherwise is not overwritten: the step fails naming it, nothing changes."""
    conf = '{"settings": {"allowTcpFallbackRelay": true, "multicoreEnabled": true}}\n'
    node.write(LOCAL_CONF, conf)
    first = pid(node)
    result = run_step(operator, node, step(multicore="false"))
    assert result.returncode != 0
    assert "local.conf sets settings.allowTcpFallbackRelay to true, the stack (zerotier-cluster:zerotier) to false" in (
        result.stderr
    )
    assert "local.conf sets settings.multicoreEnabled to true, the stack (zerotier-cluster:zerotier) to false" in (
        result.stderr
    )
    assert "(nothing was changed)" in result.stderr
    assert read(node, LOCAL_CONF) == conf
    assert digests(node, STATE) == {STATE: "absent"}
    assert pid(node) == first
    # A delete (a replacement's) where the stack never wrote: the operator's file is left exactly as it is.
    out = ok(run_step(operator, node, step(multicore="false"), "delete"))
    assert out == f"localconf: the stack never wrote {LOCAL_CONF} here; nothing to remove\n"
    assert read(node, LOCAL_CONF) == conf

    # Not JSON at all: refused, named, untouched.
    node.write(LOCAL_CONF, '{"settings": {"primaryPort": 9993,}}\n')
    result = run_step(operator, node, step())
    assert result.returncode != 0
    assert f"{LOCAL_CONF} is not a JSON object: a key that is not a string" in result.stderr


def test_concurrency_above_the_nodes_cores_is_refused_naming_the_key(node: Machine, operator: Operator) -> None:
    sixteen_cores(node)
    result = run_step(operator, node, step(multicore="true", concurrency=16))
    assert result.returncode != 0
    assert "zerotier-cluster:zerotier.concurrency is 16, but lc has 16 cores" in result.stderr
    assert digests(node, LOCAL_CONF) == {LOCAL_CONF: "absent"}
    out = ok(run_step(operator, node, step(multicore="true", concurrency=12)))
    assert "(16 cores: multicore on, concurrency 12)" in out


def test_a_full_disk_changes_nothing(node: Machine, operator: Operator) -> None:
    """ZeroTier's directory full: create and delete fail naming the file; local.conf and the state stay as they were."""
    node.write(LOCAL_CONF, OPERATOR)
    first = pid(node)
    with full(node, ZT_HOME):
        result = run_step(operator, node, step())
        assert result.returncode != 0
        assert f"could not write {LOCAL_CONF}" in result.stderr
        assert read(node, LOCAL_CONF) == OPERATOR
        assert leftovers(node, ZT_HOME) == []
    assert digests(node, STATE) == {STATE: "absent"}
    assert pid(node) == first

    ok(run_step(operator, node, step()))
    written = digests(node, LOCAL_CONF, f"{STATE}/added", f"{STATE}/original")
    restarted = pid(node)
    with full(node, ZT_HOME):
        result = run_step(operator, node, step(), "delete")
        assert result.returncode != 0
        assert f"could not write {LOCAL_CONF}" in result.stderr
        assert digests(node, LOCAL_CONF, f"{STATE}/added", f"{STATE}/original") == written
    assert pid(node) == restarted
    ok(run_step(operator, node, step(), "delete"))
    assert read(node, LOCAL_CONF) == OPERATOR
