"""The ZeroTier layer of the reachability check against real daemons: what the evaluator says, the wire does.

Four booted machines with the real zerotier-one (``controller: head``,
``roots: head``, offline): head, compute-01 and compute-02 joined by the
program's own commands, and a laptop (a ``devices`` entry, ``devices: ssh``)
that joins by hand like an operator's. No firewall step runs, so every node
accepts everything and whatever is dropped is dropped by ZeroTier. The
network's rules carry a ``rules.extra`` that denies tcp/873 between compute
nodes, and ``zerotier-cluster:policy`` says so. For each probe the check's
ZeroTier verdict (:class:`cluster.plan.reach.Checker`) must be what a real
connect or ping met.

Run it as ``PATH=/opt/ztsrc:$PATH python3 -m pytest tests/test_lab_policy.py``;
without ``zerotier-one`` on PATH it skips.
"""

from __future__ import annotations

import base64
import shutil
from collections.abc import Callable
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from cluster.plan.reach import Checker, Destination, Sender
from tests.lab.machine import Machine
from tests.lab.ssh import Operator
from tests.test_lab_zerotier import (
    NODES,
    ZT_HOME,
    address_of,
    answers_ping,
    inside,
    joined_interface,
    service_installer,
    stack,
    tcp_outcome,
    zerotier_one,
)

pytestmark = [
    pytest.mark.machine,
    pytest.mark.lab,
    pytest.mark.skipif(shutil.which("zerotier-one") is None, reason="needs zerotier-one on PATH (real daemons)"),
]
__all__ = ["zerotier_one"]  # a fixture this module uses

NO_RSYNC = "drop tseq role compute and treq role compute and ipprotocol tcp and dport 873;\n"
POLICY = [{"from": "compute", "to": "compute", "port": "tcp/873", "expect": "deny"}]
LAPTOP_IP = "10.147.17.100"
#: (from machine, its role tag, to address, the target's role, protocol, port)
PROBES = (
    ("laptop", "device", "10.147.17.1", "head", "tcp", 22),
    ("laptop", "device", "10.147.17.1", "head", "tcp", 8080),
    ("laptop", "device", "10.147.17.1", "head", "icmp", 8),
    ("laptop", "device", "10.147.17.11", "compute", "tcp", 22),
    ("laptop", "device", "10.147.17.11", "compute", "tcp", 6818),
    ("compute-01", "compute", "10.147.17.12", "compute", "tcp", 873),
    ("compute-01", "compute", "10.147.17.12", "compute", "tcp", 6818),
    ("compute-01", "compute", "10.147.17.12", "compute", "tcp", 22),
    ("compute-01", "compute", "10.147.17.1", "head", "tcp", 873),
    ("head", "head", "10.147.17.11", "compute", "tcp", 873),
    ("head", "head", LAPTOP_IP, "device", "tcp", 22),
)


@pytest.fixture
def lab4(zerotier_one: Path, machine_factory: Callable[..., Machine]) -> dict[str, Machine]:
    hook = service_installer(zerotier_one)
    names = [name for name, _, _ in NODES] + ["laptop"]
    machines = {name: machine_factory(name, boot=True, before_start=hook) for name in names}
    for machine in machines.values():
        address_of(machine)
    return machines


def test_the_zerotier_verdicts_of_the_check_are_what_real_daemons_do(
    lab4: dict[str, Machine], operator: Operator
) -> None:
    laptop = lab4["laptop"]
    device = {"name": "laptop", "address": address_of(laptop), "ip": LAPTOP_IP}
    run = stack(lab4, operator, NODES, devices=[device], rules={"extra": NO_RSYNC}, policy=POLICY)
    plan = run.plan
    mine = plan.reach[0]
    assert (str(mine.assertion), mine.ok) == ("compute -> compute tcp/873 deny", True)
    run.roots_and_network()
    run.authorize()
    run.each("join")
    moon_file, moon = run.moon.split(" ")
    laptop.path(f"{ZT_HOME}/moons.d/{moon_file}").write_bytes(base64.b64decode(moon))
    inside(laptop, "systemctl", "restart", "zerotier-one")
    address_of(laptop)
    joined_interface(laptop, run.network_id, LAPTOP_IP)
    assert answers_ping(lab4["compute-01"], "10.147.17.12"), "the overlay is not up between the compute nodes"

    checker = Checker(plan.spec, plan.rules.rules, {}, [])
    overlay = {ip: name for name, _, ip in NODES} | {LAPTOP_IP: "laptop"}
    ips = {name: ip for ip, name in overlay.items()}
    said, wire = [], []
    for source, tag, address, role, protocol, port in PROBES:
        machine = lab4[source]
        sender = Sender(source, tag, IPv4Address(ips[source]))
        target = Destination(overlay[address], role, IPv4Address(address), 22, "", None, integrated=False)  # type: ignore[arg-type]
        verdict = checker.zerotier(sender, target, protocol, port)
        if protocol == "icmp":
            reached = answers_ping(machine, address)
        else:
            reached = tcp_outcome(machine, address, port) in ("open", "refused")
        said.append((source, address, protocol, port, verdict.allowed))
        wire.append((source, address, protocol, port, reached))
    assert said == wire
    # Literal anchors: the extra rule and the device rules really drop, the rest really passes.
    assert [reached for *_, reached in wire] == [True, False, True, True, False, False, True, True, True, True, False]
