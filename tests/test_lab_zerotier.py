"""The node steps against real ZeroTier One daemons, offline: a lab with its own controller and moon.

Every other test stops at the ZeroTier boundary (``tests/lab/fake_zerotier_cli.sh``
replays the real formats), because zerotier-one is not packaged for the test
hosts and CI has no internet. This file runs where ``zerotier-one`` is on PATH
(a CI with internet can install it): three machines each run the real daemon,
and the public roots are out of reach, so the head's daemon is both the
network's controller and a moon (a custom root) the other nodes orbit.

The first test is ``controller: head`` and ``roots: head`` as the program does
them: three booted machines with zerotier-one installed as a systemd service
and nothing set up by hand; the program's own commands
(``tests/lab/stack_run.py``: the plan's stdins, with the values Pulumi fills
in taken from earlier steps' output by the program's parsers) run over SSH in
the order ``cluster/declare/overlay.py`` declares: the head signs its moon, creates
the network on its controller, the others orbit the moon, every member is
authorized, then ``join``, ``firewall``, ``hosts``, ``verify``, and every
node pings every other over the overlay; everything runs a second time and
changes nothing; destroy leaves no network on the controller and no node on
the network.

The other tests build the same way, with the same commands, and keep only
what they need to meet what the program's stand-ins only replay. The join
diagnoses: a member step not run (ACCESS_DENIED), the member step of a stack
that gives the node another address (a wrong address), a network ID the
program never created on the head (NOT_FOUND), and a node whose UDP 9993 is
blocked upstream (OFFLINE). The compiled ZeroTier rules (``cluster.rules``)
the network step puts on the controller, with the members tagged by role and
no firewall step run: a member sending from an address it was not assigned
gets nothing back, a device (an operator's laptop joining with
``zerotier-cli``) reaches SSH (and ping) on the head and nothing else, and
the cluster's own traffic passes. No test calls the controller's API or
``zerotier-idtool`` by hand; they only read the controller's state back.

Where ``/opt/ztbin/zerotier-one`` exists (a build from source), run it as
``PATH=/opt/ztbin:$PATH python3 -m pytest tests/test_lab_zerotier.py``.

Without ``zerotier-one`` on PATH it skips, in CI too (where other skips fail).
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest

from cluster.plan.build import PENDING_NETWORK_ID, Plan
from cluster.rules.evaluator import reach
from cluster.rules.frame import Member
from cluster.rules.parser import parse_source
from tests.conftest import needs_root
from tests.lab.machine import Machine
from tests.lab.provision import cluster_config, plan_for
from tests.lab.ssh import Operator
from tests.lab.stack_run import StackRun

pytestmark = [
    pytest.mark.machine,
    pytest.mark.lab,
    pytest.mark.skipif(shutil.which("zerotier-one") is None, reason="needs zerotier-one on PATH (real daemons)"),
]

ZT_HOME = "/var/lib/zerotier-one"  # the home join.sh and zerotier-cli use
ZT_PORT = 9993
INTERFACE = "ztcluster0"  # pinned through devicemap by join.sh
NODES = (  # name, role, overlay address
    ("head", "head", "10.147.17.1"),
    ("compute-01", "compute", "10.147.17.11"),
    ("compute-02", "compute", "10.147.17.12"),
)


# --- the daemon in a machine -----------------------------------------------------------------


@pytest.fixture
def zerotier_one() -> Path:
    """The host's zerotier-one binary (checked before anything asks for root)."""
    found = shutil.which("zerotier-one")
    assert found is not None  # pytestmark skipped the test otherwise
    needs_root("systemd-nspawn", "nsenter")
    return Path(found).resolve()


def installer(binary: Path) -> Callable[[Machine], None]:
    """A ``before_start`` hook: the binary as a package installs it, cli and idtool as links to it."""

    def install(machine: Machine) -> None:
        target = machine.path("/usr/sbin/zerotier-one")
        shutil.copy2(binary, target)
        target.chmod(0o755)
        for tool in ("zerotier-cli", "zerotier-idtool"):
            machine.path(f"/usr/sbin/{tool}").symlink_to("zerotier-one")
        machine.path(f"{ZT_HOME}/moons.d").mkdir(parents=True, exist_ok=True)

    return install


def inside(machine: Machine, *argv: str, timeout: float = 60) -> str:
    """Runs a command in the machine as root; fails the test with its output unless it succeeds."""
    result = machine.exec(argv, timeout=timeout)
    assert result.returncode == 0, f"{machine.host.name}: {' '.join(argv)} failed:\n{result.stdout}{result.stderr}"
    return result.stdout


def answers_ping(machine: Machine, target: str, timeout: float = 30) -> bool:
    """Whether ``target`` answers a ping from the machine within ``timeout`` seconds (one try a second)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if machine.exec(["ping", "-n", "-c1", "-W1", target]).returncode == 0:
            return True
        time.sleep(0.5)
    return False


def peers(machine: Machine) -> dict[str, dict[str, Any]]:
    """``zerotier-cli -j peers``, by ZeroTier address."""
    return {p["address"]: p for p in json.loads(inside(machine, "zerotier-cli", "-j", "peers"))}


def networks(machine: Machine) -> dict[str, dict[str, Any]]:
    """``zerotier-cli -j listnetworks``, by network ID."""
    return {n["nwid"]: n for n in json.loads(inside(machine, "zerotier-cli", "-j", "listnetworks"))}


# --- the controller's state, read back (the program's commands are the only writers) ---------


def controller_get(controller: Machine, path: str) -> Any:
    """A GET on the controller's JSON API on 127.0.0.1; its authtoken goes to curl on stdin, never in argv."""
    token = controller.path(f"{ZT_HOME}/authtoken.secret").read_text().strip()
    argv = ["curl", "-sS", "--fail-with-body", "-H", "@-", f"http://127.0.0.1:{ZT_PORT}{path}"]
    result = controller.exec(argv, stdin=f"X-ZT1-Auth: {token}\n")
    assert result.returncode == 0, f"GET {path} on the controller failed:\n{result.stdout}{result.stderr}"
    return json.loads(result.stdout)


# --- the test -----------------------------------------------------------------------------------


UNIT = """[Unit]
Description=ZeroTier One (the lab's build of 1.14.1, installed as the package installs it)
After=network-online.target network.target

[Service]
ExecStart=/usr/sbin/zerotier-one
Restart=always
KillMode=process

[Install]
WantedBy=multi-user.target
"""


def service_installer(binary: Path) -> Callable[[Machine], None]:
    """``installer`` plus the package's systemd unit, enabled: the daemon starts at boot and restarts on request."""
    install_binary = installer(binary)

    def install(machine: Machine) -> None:
        install_binary(machine)
        machine.write("/etc/systemd/system/zerotier-one.service", UNIT)
        wants = machine.path("/etc/systemd/system/multi-user.target.wants")
        wants.mkdir(parents=True, exist_ok=True)
        (wants / "zerotier-one.service").symlink_to("/etc/systemd/system/zerotier-one.service")

    return install


def service_pid(machine: Machine) -> str:
    """The daemon's PID as systemd knows it: a restart changes it."""
    return inside(machine, "systemctl", "show", "-p", "MainPID", "--value", "zerotier-one").strip()


def address_of(machine: Machine, timeout: float = 60) -> str:
    """The node's address as its install step reports it: from ``zerotier-cli info`` once the service answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        words = machine.exec(["zerotier-cli", "info"]).stdout.split()
        if words[:2] == ["200", "info"]:
            return words[2]
        time.sleep(0.5)
    info = machine.exec(["zerotier-cli", "info"])
    raise AssertionError(f"zerotier-one on {machine.host.name} does not answer: {info.stdout}{info.stderr}")


def snapshot(machines: Mapping[str, Machine], run: StackRun) -> dict[str, Any]:
    """What a second run must leave alone: the controller's network and members, every node's files and daemon."""
    head = machines["head"]
    state: dict[str, Any] = {
        "network": controller_get(head, f"/controller/network/{run.network_id}"),
        "members": {
            name: controller_get(head, f"/controller/network/{run.network_id}/member/{address}")
            for name, address in run.addresses.items()
        },
    }
    for name, machine in machines.items():
        moons = machine.path(f"{ZT_HOME}/moons.d")
        state[name] = {
            "pid": service_pid(machine),
            "moons": {p.name: p.read_bytes() for p in sorted(moons.iterdir())},
            "devicemap": machine.path(f"{ZT_HOME}/devicemap").read_text(),
            "hosts": machine.path("/etc/hosts").read_text(),
            "nft": inside(machine, "nft", "list", "ruleset"),
            "networks": {k: (v["status"], v["assignedAddresses"]) for k, v in networks(machine).items()},
        }
    return state


@pytest.fixture
def booted_lab(zerotier_one: Path, machine_factory: Callable[..., Machine]) -> dict[str, Machine]:
    """head, compute-01 and compute-02 booted, zerotier-one installed and running; nothing set up by hand."""
    hook = service_installer(zerotier_one)
    machines = {name: machine_factory(name, boot=True, before_start=hook) for name, _, _ in NODES}
    for name, machine in machines.items():
        address_of(machine)
        # Offline: no route off the segment, so ZeroTier's public roots are out of reach.
        assert "default" not in inside(machine, "ip", "-4", "route"), f"{name} has a default route"
    return machines


def test_the_programs_own_commands_build_run_again_and_destroy_a_cluster_with_the_head_as_controller_and_root(
    booted_lab: dict[str, Machine], operator: Operator
) -> None:
    """controller: head and roots: head end to end: the program's commands in dependency order, twice, then destroy."""
    lab = booted_lab
    head = lab["head"]
    nodes = [{"name": name, "role": role, "host": str(lab[name].host.ip), "ip": ip} for name, role, ip in NODES]
    network = {"interface": INTERFACE, "pool": {"start": "10.147.17.200", "end": "10.147.17.250"}}
    config = cluster_config(nodes, network=network, controller="head", roots="head", joinTimeout=90, verifyTimeout=60)
    del config["network"]["networkId"]
    addresses = {name: address_of(machine) for name, machine in lab.items()}
    run = StackRun(plan_for(config), lab, operator, addresses)
    run.ship()
    run.up()

    # The network's ID is the head's address and sha256("chpc-overlay")[:6]; the controller has it as planned.
    assert run.network_id == addresses["head"] + "050e2a"
    assert json.loads(inside(head, "zerotier-cli", "-j", "info"))["address"] == addresses["head"]
    stored = controller_get(head, f"/controller/network/{run.network_id}")
    assert (stored["name"], stored["private"], stored["v4AssignMode"]) == ("chpc-overlay", True, {"zt": True})
    assert stored["routes"] == [{"target": "10.147.17.0/24", "via": None}]
    assert stored["ipAssignmentPools"] == [{"ipRangeEnd": "10.147.17.250", "ipRangeStart": "10.147.17.200"}]
    assert stored["tags"] == [{"default": 0, "id": 1}]
    assert stored["rules"][:4] == [
        {"etherType": 2048, "not": True, "or": False, "type": "MATCH_ETHERTYPE"},
        {"etherType": 2054, "not": True, "or": False, "type": "MATCH_ETHERTYPE"},
        {"mask": "1000000000000000", "not": True, "or": True, "type": "MATCH_CHARACTERISTICS"},
        {"type": "ACTION_DROP"},
    ]
    roles = {"head": 1, "compute": 2}
    for name, role, ip in NODES:
        member = controller_get(head, f"/controller/network/{run.network_id}/member/{addresses[name]}")
        assert (member["authorized"], member["ipAssignments"], member["noAutoAssignIps"]) == (True, [ip], True)
        assert (member["name"], member["tags"]) == (name, [[1, roles[role]]])
        assert run.results[(name, "member", "create")].stdout == f"{addresses[name]} authorized {ip}\n"
        assert run.results[(name, "join", "create")].stdout.splitlines() == [f"{INTERFACE} {ip}/24"]
        assert networks(lab[name])[run.network_id]["status"] == "OK"
    assert run.results[("head", "network", "create")].stdout == f"{run.network_id}\n"

    # The head is the moon: its file in every moons.d, the nodes see it as their MOON and reach each other directly.
    moon_file = f"000000{addresses['head']}.moon"
    assert run.moon.split(" ")[0] == moon_file
    signed = head.path(f"{ZT_HOME}/moons.d/{moon_file}").read_bytes()
    for name, machine in lab.items():
        assert [p.name for p in machine.path(f"{ZT_HOME}/moons.d").iterdir()] == [moon_file], name
        assert machine.path(f"{ZT_HOME}/moons.d/{moon_file}").read_bytes() == signed
    assert "restarting zerotier-one so it loads" in run.results[("head", "moon", "create")].stderr
    for name in ("compute-01", "compute-02"):
        assert run.results[(name, "orbit", "create")].stdout == f"orbit: 000000{addresses['head']}\n"
        assert "restarting zerotier-one so it loads" in run.results[(name, "orbit", "create")].stderr

    # On one segment every path is direct: no traffic goes through the moon.
    # ... and the network's MTU (2800) passes unfragmented end to end.
    assert run.results[("head", "verify", "create")].stdout.splitlines()[-3:] == [
        "verify: 2/2 reachable over the overlay from this head node (compute-01 compute-02)",
        "verify: MTU 2800 end to end to every target",
        "verify: paths from this node: 2 DIRECT, 0 RELAY, 0 UNKNOWN",
    ]
    for name in ("compute-01", "compute-02"):
        assert run.results[(name, "verify", "create")].stdout.splitlines()[-3:] == [
            "verify: 1/1 reachable over the overlay from this compute node (head)",
            "verify: MTU 2800 end to end to every target",
            "verify: paths from this node: 1 DIRECT, 0 RELAY, 0 UNKNOWN",
        ]
    # Every node reaches every other (compute to compute too, which verify does not check), by address and name.
    for name, machine in lab.items():
        for other, _, ip in NODES:
            if other != name:
                assert f"dev {INTERFACE}" in inside(machine, "ip", "route", "get", ip)
                assert answers_ping(machine, ip), f"{name} gets no answer from {other} ({ip}) over the overlay"
                assert answers_ping(machine, other), f"{name} gets no answer from {other} by name"
    # The nodes found the head as their moon, and each other directly on the segment.
    for name in ("compute-01", "compute-02"):
        seen = peers(lab[name])
        assert seen[addresses["head"]]["role"] == "MOON"
        for other, machine in lab.items():
            if other != name:
                assert f"{machine.host.ip}/{ZT_PORT}" in [p["address"] for p in seen[addresses[other]]["paths"]]

    # A second run of every command changes nothing: the controller's revisions, the files, the daemons.
    before = snapshot(lab, run)
    printed = run.moon
    run.up("update")
    assert run.moon == printed, "the moon is not signed again"
    assert snapshot(lab, run) == before
    for name in ("compute-01", "compute-02"):
        assert "nothing changed" in run.results[(name, "orbit", "update")].stderr
    assert "nothing changed" in run.results[("head", "moon", "update")].stderr

    # Destroy, dependents first: no member and no network left, every node off the network and its moon gone.
    run.destroy()
    assert controller_get(head, "/controller/network") == []
    for name, machine in lab.items():
        assert networks(machine) == {}, name
        assert machine.exec(["ip", "link", "show", INTERFACE]).returncode != 0
        assert list(machine.path(f"{ZT_HOME}/moons.d").iterdir()) == [], name
        assert "chpc-overlay" not in machine.path("/etc/hosts").read_text()
    assert head.exec(["ping", "-n", "-c1", "-W2", "10.147.17.12"]).returncode != 0
    assert run.results[("head", "network", "delete")].stdout == f"network: deleted {run.network_id}\n"


def plan_for_nodes(lab: Mapping[str, Machine], nodes: Sequence[tuple[str, str, str]], **settings: Any) -> Plan:
    """The plan of a ``controller: head``, ``roots: head`` stack of ``nodes`` (name, role, overlay address)."""
    listed = [{"name": name, "role": role, "host": str(lab[name].host.ip), "ip": ip} for name, role, ip in nodes]
    config = cluster_config(listed, network={"interface": INTERFACE}, controller="head", roots="head", **settings)
    del config["network"]["networkId"]
    return plan_for(config)


def stack(
    lab: Mapping[str, Machine], operator: Operator, nodes: Sequence[tuple[str, str, str]] = NODES, **settings: Any
) -> StackRun:
    """The stack of :func:`plan_for_nodes` on its nodes' machines, its bundle shipped; nothing run yet."""
    machines = {name: lab[name] for name, _, _ in nodes}
    addresses = {name: address_of(m) for name, m in machines.items()}
    run = StackRun(plan_for_nodes(lab, nodes, **settings), machines, operator, addresses)
    run.ship()
    return run


def join(run: StackRun, name: str, network_id: str) -> subprocess.CompletedProcess[str]:
    """``name``'s join step as the program runs it, but for ``network_id``; its result, failed or not."""
    return run.run(name, run.step(name, "join"), "create", {PENDING_NETWORK_ID: network_id}, check=False)


def test_join_diagnoses_what_a_real_controller_says(booted_lab: dict[str, Machine], operator: Operator) -> None:
    """The diagnoses the stand-in replays, checked against the real daemon and controller.

    The program's own commands make the moon, the network and the members; what goes wrong is
    what a real stack can get wrong: a member step not run (compute-01), the member step of a
    stack that gives compute-02 another address, and a network ID no command created.
    """
    lab = booted_lab
    run = stack(lab, operator, joinTimeout=15)
    run.roots_and_network()
    moved = plan_for_nodes(lab, (*NODES[:2], ("compute-02", "compute", "10.147.17.99")))
    assert moved.controller is not None
    run.run("head", moved.controller.member("compute-02"), "create", run.member_known("compute-02"))
    missing = run.addresses["head"] + "abcdef"  # the right controller, a network it never made
    assert missing != run.network_id

    with ThreadPoolExecutor(3) as pool:
        denied, wrong, not_found = pool.map(
            lambda name, nwid: join(run, name, nwid),
            ("compute-01", "compute-02", "head"),
            (run.network_id, run.network_id, missing),
        )
    assert denied.returncode != 0
    assert f"Diagnosis: ACCESS_DENIED: the network's controller refuses node {run.addresses['compute-01']}" in (
        denied.stderr
    )
    assert "zerotier-cli info:" in denied.stderr and "ACCESS_DENIED" in denied.stderr.split("listnetworks")[-1]
    assert wrong.returncode != 0
    assert "the network is OK but assigns 10.147.17.99/24 instead of 10.147.17.12/24" in wrong.stderr
    assert not_found.returncode != 0
    assert f"Diagnosis: NOT_FOUND: no controller knows network {missing}" in not_found.stderr

    # Once compute-01's own member step has run, the same join succeeds.
    run.authorize(names=["compute-01"])
    again = join(run, "compute-01", run.network_id)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == [f"{INTERFACE} 10.147.17.11/24"]


def test_join_on_a_node_whose_udp_9993_is_blocked_says_so(booted_lab: dict[str, Machine], operator: Operator) -> None:
    """With ZeroTier's UDP blocked upstream the node is OFFLINE, and the diagnosis says what to open."""
    node = booted_lab["compute-01"]
    run = stack(booted_lab, operator, joinTimeout=15)
    run.roots_and_network()
    run.authorize(names=["compute-01"])
    # The site firewall: nothing reaches the moon's port, and the daemon restarts without a root.
    for command in (
        "add table inet upstream",
        "add chain inet upstream out { type filter hook output priority 0; }",
        "add rule inet upstream out udp dport 9993 drop",
    ):
        inside(node, "nft", command)
    inside(node, "systemctl", "restart", "zerotier-one")
    address_of(node)
    blocked = join(run, "compute-01", run.network_id)
    assert blocked.returncode != 0
    assert "OFFLINE" in inside(node, "zerotier-cli", "info")
    assert f"Diagnosis: REQUESTING_CONFIGURATION and node {run.addresses['compute-01']} is OFFLINE" in blocked.stderr
    assert "UDP 9993 is probably blocked upstream" in blocked.stderr


def joined_interface(machine: Machine, network_id: str, ip: str, timeout: float = 60) -> str:
    """Joins with zerotier-cli (as an operator's laptop does), waits for OK and ``ip``; returns the interface."""
    inside(machine, "zerotier-cli", "join", network_id)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        network = networks(machine).get(network_id, {})
        if network.get("status") == "OK" and f"{ip}/24" in network.get("assignedAddresses", []):
            return str(network["portDeviceName"])
        time.sleep(0.5)
    raise AssertionError(f"{machine.host.name} did not join {network_id} with {ip}: {networks(machine)}")


def tcp_outcome(machine: Machine, address: str, port: int, *, wait: int = 6) -> str:
    """What a TCP connection from ``machine`` meets: ``open``, ``refused`` (an RST came back) or ``dropped``."""
    script = f"exec 3<>/dev/tcp/{address}/{port}"
    result = machine.exec(["timeout", str(wait), "bash", "-c", script], timeout=wait + 10)
    return {0: "open", 124: "dropped"}.get(result.returncode, "refused")


def test_rules_stop_spoofed_senders_and_limit_devices(booted_lab: dict[str, Machine], operator: Operator) -> None:
    """The compiled rules on a real controller: ZeroTier itself enforces anti-spoofing and the roles.

    The program's commands make the moon, the network with its rules and the members, and
    join the nodes; no firewall step runs, so every node accepts everything and what is
    dropped is dropped by ZeroTier. compute-02's machine plays an operator's laptop (a
    ``devices`` entry, ``firewall.devices: ssh``): it puts the moon the head printed into
    its ``moons.d`` and joins with ``zerotier-cli``, as an operator's laptop does.
    """
    head, compute, laptop = booted_lab["head"], booted_lab["compute-01"], booted_lab["compute-02"]
    device = {"name": "laptop", "address": address_of(laptop), "ip": "10.147.17.100"}
    run = stack(booted_lab, operator, NODES[:2], devices=[device])
    run.roots_and_network()
    run.authorize()
    run.each("join")
    moon_file, moon = run.moon.split(" ")
    laptop.path(f"{ZT_HOME}/moons.d/{moon_file}").write_bytes(base64.b64decode(moon))
    inside(laptop, "systemctl", "restart", "zerotier-one")
    address_of(laptop)
    joined_interface(laptop, run.network_id, "10.147.17.100")

    # The cluster's own traffic passes: ping both ways, TCP to any port (refused: nothing listens, but the RST came).
    assert answers_ping(compute, "10.147.17.1"), "compute-01 gets no answer from the head"
    assert answers_ping(head, "10.147.17.11"), "the head gets no answer from compute-01"
    assert tcp_outcome(compute, "10.147.17.1", 22) == "open"
    assert tcp_outcome(compute, "10.147.17.1", 8080) == "refused"
    assert tcp_outcome(head, "10.147.17.11", 8080) == "refused"

    # The device: SSH and ping on the nodes, nothing else, and no one reaches it but for SSH replies and ping.
    assert answers_ping(laptop, "10.147.17.1"), "the device gets no answer to ping from the head"
    assert tcp_outcome(laptop, "10.147.17.1", 22) == "open"
    assert tcp_outcome(laptop, "10.147.17.11", 22) == "open"
    assert tcp_outcome(laptop, "10.147.17.1", 8080) == "dropped"
    assert tcp_outcome(laptop, "10.147.17.11", 8080) == "dropped"
    assert tcp_outcome(head, "10.147.17.100", 22) == "dropped"  # the device is no node: no SSH to it

    # Spoofing: compute-01 takes an address the controller never gave it; nothing comes back to it.
    inside(compute, "ip", "addr", "add", "10.147.17.77/24", "dev", INTERFACE)
    spoofed = compute.exec(["ping", "-n", "-c3", "-W2", "-I", "10.147.17.77", "10.147.17.1"], timeout=30)
    assert spoofed.returncode != 0, f"a ping from an unassigned address got answers:\n{spoofed.stdout}"
    assert tcp_outcome(compute, "10.147.17.1", 22) == "open"  # its own address still works


#: Rules whose outcome hinges on ZeroTier facts the lock-out check models (docs/firewall.md): the controller
#: certifies members' IPs, never their MACs, so ``chr macauth`` never holds and ``not chr macauth`` always does.
EVALUATED_RULES = """\
drop chr macauth and ipprotocol icmp4;
drop ipprotocol tcp and dport 81;
drop not chr macauth and ipprotocol tcp and dport 82;
accept;
"""


def test_the_rules_evaluator_predicts_what_real_zerotier_does(
    booted_lab: dict[str, Machine], operator: Operator
) -> None:
    """``cluster.rules.evaluator.reach`` against the real daemons, for rules the config check accepted.

    The stack's ``rules.replace`` goes through the program's own config check and commands onto
    the head's controller; no firewall step runs, so what is dropped is dropped by ZeroTier. For
    each probe the evaluator's prediction (at the nodes' overlay addresses) must be what happens.
    """
    head, compute = booted_lab["head"], booted_lab["compute-01"]
    run = stack(booted_lab, operator, NODES[:2], rules={"replace": EVALUATED_RULES})
    run.roots_and_network()
    run.authorize()
    run.each("join")
    rules, problems = parse_source(EVALUATED_RULES, "rules.replace", final=True)
    assert problems == []
    sender = Member("compute", IPv4Address("10.147.17.11"), name="compute-01")
    receiver = Member("head", IPv4Address("10.147.17.1"), name="head")

    # Predicted: ping passes (macauth never holds), TCP 80 reaches the head (refused: nothing listens), 81 and 82
    # are dropped (not macauth always holds). Measured: the same.
    assert reach(rules, sender, receiver, "icmp") is None
    assert answers_ping(compute, "10.147.17.1"), "the ping the evaluator lets through gets no answer"
    predicted = {port: reach(rules, sender, receiver, "tcp", port) is None for port in (80, 81, 82)}
    assert predicted == {80: True, 81: False, 82: False}
    measured = {port: tcp_outcome(compute, "10.147.17.1", port) for port in (80, 81, 82)}
    assert measured == {80: "refused", 81: "dropped", 82: "dropped"}
    assert answers_ping(head, "10.147.17.11")
