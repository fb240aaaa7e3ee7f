"""controller.sh over real SSH on a Debian 12 machine, against a stand-in of the controller's local API.

The head is a test machine with the stand-in ``zerotier-cli`` and the files of
a running zerotier-one (identity ``a1b2c3d4e5``, ``authtoken.secret``), and
:class:`tests.lab.controller_stand_in.ControllerStandIn` listening on its
127.0.0.1:9993. The script runs exactly as the program sends it (the plan's
``network`` and ``member`` steps of a ``controller: head`` config, the bundle
copied over SFTP, ``/bin/sh -s -- <action>`` as the unprivileged ``ops`` with
passwordless sudo): it reads the token as root on the head, calls the API
with the node's own curl, and checks the answers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cluster.plan.build import Plan
from cluster.plan.steps import COMMANDS, StepScript
from tests.lab.controller_stand_in import Controller, ControllerStandIn, answer, recorded
from tests.lab.machine import Machine
from tests.lab.provision import cluster_config, plan_for, ship
from tests.lab.ssh import Operator
from tests.lab.zerotier_stand_in import ZT_HOME, install_fake_cli

HEAD = "a1b2c3d4e5"  # install_fake_cli's identity
NWID = "a1b2c3d4e5050e2a"  # the head's address + sha256("chpc-overlay")[:6]
COMPUTE = "0c0ffee001"
TOKEN = "stand-in-token"  # install_fake_cli's authtoken.secret


def _times(text: str) -> str:
    """An answer with its clock readings made comparable: a time is 0 (never) or T (some moment)."""
    return re.sub(r'"(creationTime|lastAuthorizedTime|lastDeauthorizedTime)":[1-9][0-9]*', r'"\1":"T"', text)


def test_the_stand_in_answers_what_a_real_controller_answered() -> None:
    """The 1.14.1 controller's recorded exchanges replayed through the stand-in: same status, same bytes."""
    exchanges = recorded()
    assert [e["tag"][:2] for e in exchanges] == [f"{i:02}" for i in range(1, 22)]
    controller = Controller()
    for e in exchanges:
        raw = (e["request"] or "").encode()
        code, body = answer(controller, e["method"], e["path"], e["token"] == "authtoken.secret", raw)
        assert code == e["status"], e["tag"]
        assert (body is None) == (e["contentType"] is None), e["tag"]
        assert _times((body or b"").decode()) == _times(e["answer"]), e["tag"]
    # What the scripts rely on, as the real controller answered it.
    create = json.loads(exchanges[2]["answer"])
    assert (create["nwid"], create["revision"], create["name"]) == ("fda7bc8dbd050e2a", 1, "chpc-overlay")
    assert json.loads(exchanges[3]["answer"])["revision"] == 1, "the same settings again: no new revision"
    assert json.loads(exchanges[10]["answer"])["revision"] == 2
    assert exchanges[1]["status"] == exchanges[12]["status"] == exchanges[18]["status"] == 404
    assert exchanges[16]["status"] == 401


def head_plan(**settings: Any) -> Plan:
    config = cluster_config(controller="head", **settings)
    del config["network"]["networkId"]
    return plan_for(config)


@pytest.fixture
def head(machine_factory, tmp_path: Path) -> Iterator[tuple[Machine, ControllerStandIn]]:
    machine = machine_factory("ctl")
    install_fake_cli(machine, address=HEAD)
    api = ControllerStandIn(machine, tmp_path / "api").start()
    yield machine, api
    api.stop()


def run(operator: Operator, machine: Machine, script: StepScript, action: str = "create", **known: str):
    """``script`` as the program runs it on the head, with its pending values (networkId, memberAddress)."""
    ship(operator, machine, [script.program])
    stdin = script.text(known={"networkId": NWID, "memberAddress": COMPUTE, **known})
    result = operator.run(str(machine.host.ip), "ops", COMMANDS[action], stdin=stdin)  # type: ignore[index]
    assert TOKEN not in result.stdout + result.stderr, "the token is never printed"
    return result


def test_network_is_created_with_everything_then_updated_then_deleted(head, operator) -> None:
    machine, api = head
    plan = head_plan()
    assert plan.controller is not None
    network = plan.controller.network

    r = run(operator, machine, network)
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{NWID}\n"
    stored = api.state()["networks"][NWID]
    assert stored["name"] == "chpc-overlay"
    assert stored["private"] is True
    assert stored["routes"] == [{"target": "10.147.17.0/24", "via": None}]
    assert stored["v4AssignMode"] == {"zt": True}
    assert stored["tags"] == [{"id": 1, "default": 0}]
    assert stored["rules"][:4] == [
        {"type": "MATCH_ETHERTYPE", "not": True, "or": False, "etherType": 2048},
        {"type": "MATCH_ETHERTYPE", "not": True, "or": False, "etherType": 2054},
        {"type": "MATCH_CHARACTERISTICS", "not": True, "or": True, "mask": "1000000000000000"},
        {"type": "ACTION_DROP"},
    ]
    assert len(stored["rules"]) == plan.rules.entries, "every entry arrived"
    assert [(q["method"], q["path"], q["authorized"]) for q in api.requests()] == [
        ("POST", f"/controller/network/{NWID}", True)
    ]

    # A changed config (a pool now) updates the same network in place.
    pooled = head_plan(network={"pool": {"start": "10.147.17.200", "end": "10.147.17.250"}})
    assert pooled.controller is not None
    r = run(operator, machine, pooled.controller.network, "update")
    assert r.returncode == 0, r.stderr
    stored = api.state()["networks"][NWID]
    assert stored["ipAssignmentPools"] == [{"ipRangeStart": "10.147.17.200", "ipRangeEnd": "10.147.17.250"}]
    assert stored["revision"] == 2

    r = run(operator, machine, network, "delete")
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"network: deleted {NWID}\n"
    assert api.state()["networks"] == {}
    r = run(operator, machine, network, "delete")
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"network: {NWID} already gone\n"


def test_member_is_authorized_deauthorized_when_evicted_and_deleted(head, operator) -> None:
    machine, api = head
    plan = head_plan()
    assert plan.controller is not None
    assert run(operator, machine, plan.controller.network).returncode == 0

    r = run(operator, machine, plan.controller.member("compute-01"))
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{COMPUTE} authorized 10.147.17.11\n"
    member = api.state()["members"][NWID][COMPUTE]
    assert (member["authorized"], member["ipAssignments"], member["noAutoAssignIps"]) == (True, ["10.147.17.11"], True)
    assert member["tags"] == [[1, 2]]
    assert member["name"] == "compute-01"

    nodes = cluster_config()["nodes"]
    nodes[1] = {**nodes[1], "state": "evicted"}
    evicted = head_plan(nodes=nodes)
    assert evicted.controller is not None
    r = run(operator, machine, evicted.controller.member("compute-01"), "update")
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{COMPUTE} deauthorized 10.147.17.11\n"
    member = api.state()["members"][NWID][COMPUTE]
    assert (member["authorized"], member["ipAssignments"]) == (False, ["10.147.17.11"])

    before = len(api.requests())
    r = run(operator, machine, evicted.controller.member("compute-01"), "delete")
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"member: deleted {COMPUTE}\n"
    assert [(q["method"], q["body"]) for q in api.requests()[before:]] == [
        ("GET", ""),
        ("POST", '{"authorized":false}'),
        ("DELETE", ""),
    ]
    assert api.state()["members"][NWID] == {}
    r = run(operator, machine, evicted.controller.member("compute-01"), "delete")
    assert (r.returncode, r.stdout) == (0, f"member: {COMPUTE} already gone\n")


def test_a_network_that_is_not_the_heads_own_is_refused(head, operator) -> None:
    machine, api = head
    plan = head_plan()
    assert plan.controller is not None
    r = run(operator, machine, plan.controller.network, networkId="ffffffffff050e2a")
    assert r.returncode == 1
    assert f"does not start with this head's ZeroTier address {HEAD}" in r.stderr
    assert api.requests() == []


def test_a_member_before_its_network_says_what_comes_first(head, operator) -> None:
    machine, _ = head
    plan = head_plan()
    assert plan.controller is not None
    r = run(operator, machine, plan.controller.member("head"))
    assert r.returncode == 1
    assert f"network {NWID} is not on this head's controller: its network step must run first" in r.stderr


def test_a_wrong_token_and_a_silent_controller_are_explained(head, operator, tmp_path: Path) -> None:
    machine, api = head
    plan = head_plan()
    assert plan.controller is not None
    api.stop()
    expected = tmp_path / "token-the-daemon-holds"
    expected.write_text("a-token-the-file-no-longer-holds\n")
    other = ControllerStandIn(machine, tmp_path / "other", token_file=expected).start()
    try:
        r = run(operator, machine, plan.controller.network)
        assert r.returncode == 1
        assert "the controller refused the token in /var/lib/zerotier-one/authtoken.secret (HTTP 401)" in r.stderr
        assert [q["authorized"] for q in other.requests()] == [False]
    finally:
        other.stop()

    r = run(operator, machine, plan.controller.network)
    assert r.returncode == 1
    assert "the controller API on http://127.0.0.1:9993" in r.stderr and "does not answer" in r.stderr
    assert "systemctl start zerotier-one" in r.stderr


def test_delete_after_zerotier_is_gone_is_a_no_op(head, operator) -> None:
    machine, api = head
    plan = head_plan()
    assert plan.controller is not None
    api.stop()
    machine.path(f"{ZT_HOME}/identity.public").unlink()
    r = run(operator, machine, plan.controller.network, "delete")
    assert (r.returncode, r.stdout) == (0, "network: controller gone\n"), r.stderr
