"""roots.sh over real SSH: the head signs its moon, every other node keeps it in moons.d before it joins.

Machines carry the stand-in ``zerotier-cli`` (``tests/lab/zerotier_stand_in.py``)
and stand-ins for ``zerotier-idtool initmoon/genmoon`` and the service
restart (``tests/lab/moon_stand_in.py``); the script's own side (its checks,
sudo, where the signing secret lives, when it re-signs and restarts,
base64 through the program's stdin) runs for real, as the ``ops`` login.
"""

from __future__ import annotations

import base64
import json

from cluster.plan.steps import COMMANDS, StepScript
from tests.lab.machine import Machine
from tests.lab.moon_stand_in import IDTOOL_LOG, RESTART_LOG, SAMPLES, calls, install_moon_tools
from tests.lab.provision import cluster_config, plan_for, ship
from tests.lab.ssh import Operator
from tests.lab.zerotier_stand_in import ZT_HOME, install_fake_cli

HEAD = "a1b2c3d4e5"
MOON_FILE = f"000000{HEAD}.moon"


def plan(**settings: str):
    return plan_for(cluster_config(roots="head", **settings))


def run(operator: Operator, machine: Machine, script: StepScript, action: str = "create", moon: str = ""):
    ship(operator, machine, [script.program])
    stdin = script.text(known={"moon": moon})
    return operator.run(str(machine.host.ip), "ops", COMMANDS[action], stdin=stdin)  # type: ignore[index]


def machine(machine_factory, name: str, address: str) -> Machine:
    made = machine_factory(name)
    install_fake_cli(made, address=address)
    install_moon_tools(made)
    return made


def test_the_head_signs_once_and_again_only_for_a_new_endpoint(machine_factory, operator) -> None:
    head = machine(machine_factory, "moonhead", HEAD)
    moon = plan().moon
    assert moon is not None

    r = run(operator, head, moon)
    assert r.returncode == 0, r.stderr
    name, encoded = r.stdout.strip().split(" ")
    assert name == MOON_FILE
    signed = base64.b64decode(encoded)
    assert signed.startswith(f'TEST STAND-IN signed moon {HEAD} endpoints ["192.0.2.10/9993"]'.encode())
    assert head.path(f"{ZT_HOME}/moons.d/{MOON_FILE}").read_bytes() == signed
    secret_dir = head.path("/var/lib/zerotier-cluster/moon")
    assert oct(secret_dir.stat().st_mode & 0o777) == "0o700"
    assert oct((secret_dir / "moon.json").stat().st_mode & 0o777) == "0o600"
    # roots.sh's edit of the definition, on the layout the real initmoon printed (zerotier_samples/initmoon.json).
    definition = json.loads((secret_dir / "moon.json").read_text())
    recorded = json.loads((SAMPLES / "initmoon.json").read_text())
    assert definition["roots"][0]["stableEndpoints"] == ["192.0.2.10/9993"]
    assert recorded["roots"][0]["stableEndpoints"] == []
    assert definition["id"] == HEAD and definition["roots"][0]["identity"].startswith(f"{HEAD}:0:")
    assert {k: v for k, v in definition.items() if k not in ("id", "roots")} == {
        k: v for k, v in recorded.items() if k not in ("id", "roots")
    }
    assert [c.split()[0] for c in calls(head, IDTOOL_LOG)] == ["initmoon", "genmoon"]
    assert calls(head, RESTART_LOG) == ["restart"]

    again = run(operator, head, moon, "update")
    assert again.returncode == 0, again.stderr
    assert again.stdout == r.stdout, "the same signed bytes: nodes see no change"
    assert "nothing changed" in again.stderr
    assert len(calls(head, IDTOOL_LOG)) == 2 and calls(head, RESTART_LOG) == ["restart"]

    moved = plan(rootEndpoint="198.51.100.7").moon
    assert moved is not None
    r = run(operator, head, moved, "update")
    assert r.returncode == 0, r.stderr
    assert b'endpoints ["198.51.100.7/9993"]' in base64.b64decode(r.stdout.split()[1])
    assert [c.split()[0] for c in calls(head, IDTOOL_LOG)] == ["initmoon", "genmoon", "genmoon"], "same signing key"
    assert calls(head, RESTART_LOG) == ["restart", "restart"]

    r = run(operator, head, moved, "delete")
    assert r.returncode == 0, r.stderr
    assert not head.path(f"{ZT_HOME}/moons.d/{MOON_FILE}").exists()
    assert (secret_dir / "moon.json").exists(), "the definition stays for a later pulumi up"


def test_a_node_orbits_the_heads_moon_before_it_joins(machine_factory, operator) -> None:
    head = machine(machine_factory, "moonhead2", HEAD)
    node = machine(machine_factory, "orbiter", "0c0ffee001")
    p = plan()
    assert p.moon is not None
    printed = run(operator, head, p.moon).stdout.strip()
    orbit = next(n for n in p.nodes if n.name == "compute-01").orbit
    assert orbit is not None

    r = run(operator, node, orbit, moon=printed)
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"orbit: 000000{HEAD}\n"
    placed = node.path(f"{ZT_HOME}/moons.d/{MOON_FILE}")
    assert placed.read_bytes() == head.path(f"{ZT_HOME}/moons.d/{MOON_FILE}").read_bytes()
    assert oct(placed.stat().st_mode & 0o777) == "0o644"
    assert calls(node, RESTART_LOG) == ["restart"]

    again = run(operator, node, orbit, "update", moon=printed)
    assert again.returncode == 0, again.stderr
    assert "nothing changed" in again.stderr and calls(node, RESTART_LOG) == ["restart"]

    r = run(operator, node, orbit, "delete", moon=printed)
    assert r.returncode == 0, r.stderr
    assert not placed.exists()
    assert calls(node, RESTART_LOG) == ["restart", "restart"], "restarted to drop the moon"
    assert not node.path("/var/lib/zerotier-cluster/orbit").exists()


def test_a_damaged_moon_is_refused_before_anything_changes(machine_factory, operator) -> None:
    node = machine(machine_factory, "orbiter2", "0c0ffee002")
    orbit = next(n for n in plan().nodes if n.name == "compute-01").orbit
    assert orbit is not None
    r = run(operator, node, orbit, moon="../../etc/passwd AAAA")
    assert r.returncode == 1
    assert "ZTC_MOON (<file> <base64>) is not valid" in r.stderr
    assert list(node.path(f"{ZT_HOME}/moons.d").iterdir()) == []
