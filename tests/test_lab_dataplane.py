"""The data plane settings on real ZeroTier One daemons: local.conf in effect, a trusted path only where declared,
the network's MTU end to end.

Two booted machines run the real zerotier-one (``tests/test_lab_zerotier.py``
explains the lab: offline, the head as controller and moon) and the
program's own commands (``tests/lab/stack_run.py``): localconf, moon,
network, members, join, firewall, hosts, verify. What the daemons report
(``zerotier-cli -j info``, ``peers``, ``listnetworks``) and what crosses the
wire (do-not-fragment pings) are compared with the stack config.

Skips without ``zerotier-one`` on PATH (``PATH=/opt/ztsrc:$PATH`` where it was built).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.lab.machine import Machine
from tests.lab.provision import cluster_config, plan_for
from tests.lab.ssh import Operator
from tests.lab.stack_run import StackRun
from tests.test_lab_zerotier import (
    INTERFACE,
    ZT_HOME,
    address_of,
    answers_ping,
    inside,
    networks,
    peers,
    service_installer,
    zerotier_one,
)

__all__ = ["zerotier_one"]  # a fixture, used by name

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(shutil.which("zerotier-one") is None, reason="needs zerotier-one on PATH (real daemons)"),
]

NODES = (("head", "head", "10.147.17.1"), ("compute-01", "compute", "10.147.17.11"))
BLACKLIST = ["zt", "docker", "br-", "veth", "virbr", "lxcbr", "cni", "flannel", "cali", "tun", "tap", "wg", "tailscale"]


@pytest.fixture
def pair(zerotier_one: Path, machine_factory: Callable[..., Machine]) -> dict[str, Machine]:
    hook = service_installer(zerotier_one)
    machines = {name: machine_factory(name, boot=True, before_start=hook) for name, _, _ in NODES}
    for machine in machines.values():
        address_of(machine)
    return machines


def config(lab: Mapping[str, Machine], trusted: str, **zerotier: Any) -> dict[str, Any]:
    """A ``controller: head``, ``roots: head`` stack with network MTU 9000 and ``trusted`` as a trusted path."""
    nodes = [{"name": name, "role": role, "host": str(lab[name].host.ip), "ip": ip} for name, role, ip in NODES]
    physical = {trusted: {"trustedPathId": 101}}
    settings = {"sites": {"cluster": {"physical": physical}}, **zerotier}
    made = cluster_config(
        nodes,
        network={"interface": INTERFACE, "mtu": 9000},
        controller="head",
        roots="head",
        joinTimeout=90,
        verifyTimeout=60,
        zerotier=settings,
    )
    del made["network"]["networkId"]
    return made


def path_trust(machine: Machine, peer: str, underlay: str) -> int | None:
    """The trusted path ID ZeroTier uses on its path to ``peer`` at ``underlay``; None while it has no such path."""
    for path in peers(machine).get(peer, {}).get("paths", []):
        if path["address"].split("/")[0] == underlay:
            return int(path["trustedPathId"])
    return None


def test_settings_trusted_path_and_mtu_in_effect(pair: dict[str, Machine], operator: Operator) -> None:
    lab = pair
    head, compute = lab["head"], lab["compute-01"]
    addresses = {name: address_of(m) for name, m in lab.items()}
    # First the trusted path is declared on a fabric the nodes are not on: nothing may be trusted.
    run = StackRun(plan_for(config(lab, "10.99.0.0/16")), lab, operator, addresses)
    run.ship()
    run.up()

    cores = inside(head, "nproc").strip()
    for name, machine in lab.items():
        assert run.results[(name, "localconf", "create")].stdout == (
            f"localconf: {ZT_HOME}/local.conf updated ({cores} cores: multicore off); zerotier-one restarted\n"
        )
        info = json.loads(inside(machine, "zerotier-cli", "-j", "info"))
        settings = info["config"]["settings"]
        assert (settings["allowTcpFallbackRelay"], settings["multicoreEnabled"]) == (False, False), name
        assert settings["interfacePrefixBlacklist"] == BLACKLIST, name
        assert info["config"]["physical"] == {"10.99.0.0/16": {"trustedPathId": 101}}, name
        # The network's MTU reached every member and its interface.
        assert networks(machine)[run.network_id]["mtu"] == 9000, name
        assert " mtu 9000 " in inside(machine, "ip", "-o", "link", "show", "dev", INTERFACE), name

    # MTU 9000 end to end: an unfragmented 9000-byte packet crosses the overlay (the underlay's is 1500), 9001 cannot.
    assert " mtu 1500 " in inside(head, "ip", "-o", "link", "show", "dev", "eth0")
    big = head.exec(["ping", "-n", "-c1", "-W2", "-M", "do", "-s", "8972", "10.147.17.11"])
    assert big.returncode == 0, big.stdout + big.stderr
    too_big = head.exec(["ping", "-n", "-c1", "-W2", "-M", "do", "-s", "8973", "10.147.17.11"])
    assert too_big.returncode != 0
    for name in lab:
        assert "verify: MTU 9000 end to end to every target" in run.results[(name, "verify", "create")].stdout

    # Not declared on their fabric: the nodes' direct path is not trusted (encrypted and authenticated).
    underlay = {name: str(m.host.ip) for name, m in lab.items()}
    assert path_trust(head, addresses["compute-01"], underlay["compute-01"]) == 0
    assert path_trust(compute, addresses["head"], underlay["head"]) == 0

    # Declared on the segment they share: after the update (a restart each), their path carries trusted path 101.
    trusted = StackRun(plan_for(config(lab, "10.77.0.0/24")), lab, operator, addresses)
    trusted.ship()
    for node in trusted.plan.nodes:
        result = trusted.run(node.name, node.localconf, "update")
        assert result.stdout.endswith("zerotier-one restarted\n"), result.stdout
    for machine in lab.values():
        address_of(machine)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        answers_ping(head, "10.147.17.11", timeout=5)
        if path_trust(head, addresses["compute-01"], underlay["compute-01"]) == 101 and (
            path_trust(compute, addresses["head"], underlay["head"]) == 101
        ):
            break
        time.sleep(1)
    assert path_trust(head, addresses["compute-01"], underlay["compute-01"]) == 101
    assert path_trust(compute, addresses["head"], underlay["head"]) == 101
    assert answers_ping(compute, "10.147.17.1")

    # Destroy: local.conf was not there before, so it is not there after.
    run.destroy()
    for name, machine in lab.items():
        assert not machine.path(f"{ZT_HOME}/local.conf").exists(), name
        assert "physical" not in json.loads(inside(machine, "zerotier-cli", "-j", "info"))["config"], name
