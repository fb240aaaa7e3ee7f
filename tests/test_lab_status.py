"""``python -m cluster status`` against real ZeroTier One daemons: DIRECT, then RELAY once UDP is blocked.

``tests/test_status.py`` runs status over real SSH with a stand-in
zerotier-cli; this file runs it where the answers come from real daemons. The
overlay is the one ``tests/test_lab_zerotier.py`` builds with the program's
own commands (``controller: head``, ``roots: head``: the head is the network's
controller and the only root the compute nodes can reach, since the public
roots are offline). Then status runs as the operator would, from the
operator's namespace, reading a ``Pulumi.lab.yaml`` written for the same
config: every network status, address and path to the head is the daemons'
own report.

Then UDP between compute-01 and compute-02 is dropped in both machines (by
segment address, every port: a daemon also listens on a secondary port
derived from its address, so 9993 alone would leave a direct path). Both
still reach the head, their root, so ZeroTier relays their traffic through
it: ``status --mesh`` shows RELAY between them, exits non-zero naming that
check, and still shows DIRECT to the head. Not at once: ZeroTier 1.14.1 keeps
the dead direct path (listed ``active``, still ``preferred``) and sends on it
for about four minutes before it drops it and relays, so the test pings and
asks again, for at most ``RELAY_WITHIN`` seconds (the run takes about five
minutes).

Run it as ``PATH=/opt/ztbin:$PATH python3 -m pytest tests/test_lab_status.py``.
Without ``zerotier-one`` on PATH it skips, in CI too (where other skips fail).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cluster.operate.status import RELAY_CAUSES
from tests.conftest import needs_root
from tests.lab.machine import Machine
from tests.lab.provision import ROOT, cluster_config, plan_for
from tests.lab.ssh import Operator
from tests.lab.stack_run import StackRun
from tests.test_lab_zerotier import NODES, address_of, answers_ping, service_installer

pytestmark = [
    pytest.mark.machine,
    pytest.mark.lab,
    pytest.mark.skipif(shutil.which("zerotier-one") is None, reason="needs zerotier-one on PATH (real daemons)"),
]

INTERFACE = "ztcluster0"
#: How long a daemon the orbit step just restarted may take to call itself ONLINE again (it re-checks its roots).
ONLINE_WITHIN = 90.0
#: How long a dead direct path stays in ``zerotier-cli peers`` (and in use) before ZeroTier drops it and relays
#: (about four minutes with 1.14.1; status sees it after STALE_PATH_MS already).
RELAY_WITHIN = 420.0


@pytest.fixture
def booted_lab(machine_factory: Callable[..., Machine]) -> dict[str, Machine]:
    """head, compute-01 and compute-02 booted, the host's zerotier-one installed as a service and answering."""
    found = shutil.which("zerotier-one")
    assert found is not None  # pytestmark skipped the test otherwise
    needs_root("systemd-nspawn", "nsenter")
    hook = service_installer(Path(found).resolve())
    machines = {name: machine_factory(name, boot=True, before_start=hook) for name, _, _ in NODES}
    for machine in machines.values():
        address_of(machine)
    return machines


def write_stack(directory: Path, config: dict[str, Any]) -> Path:
    """Pulumi.lab.yaml (JSON is YAML) with the config under the project's namespace."""
    directory.mkdir(parents=True, exist_ok=True)
    document = {"config": {f"zerotier-cluster:{key}": value for key, value in config.items()}}
    (directory / "Pulumi.lab.yaml").write_text(json.dumps(document, indent=2))
    return directory


def status(operator: Operator, project: Path, network_id: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``python3 -m cluster status --stack lab`` from the operator's namespace."""
    argv = ["python3", "-m", "cluster", "status", "--stack", "lab", "--project", str(project)]
    argv += ["--identity", str(operator.key), "--network-id", network_id, *args]
    return operator.host.run(argv, cwd=str(ROOT), timeout=180)


def rows(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    """The JSON report's rows by node name."""
    assert result.stdout.startswith("{"), result.stdout + result.stderr
    return {row["name"]: row for row in json.loads(result.stdout)["nodes"]}


def until(
    attempt: Callable[[], subprocess.CompletedProcess[str]],
    done: Callable[[subprocess.CompletedProcess[str]], bool],
    within: float,
) -> subprocess.CompletedProcess[str]:
    """``attempt`` every 5 seconds until ``done`` says so or ``within`` seconds pass; the last result either way.

    Real daemons converge on their own clock; the assertions after this are
    what the test proves, so a result that never converged fails there.
    """
    deadline = time.monotonic() + within
    while True:
        result = attempt()
        if done(result) or time.monotonic() > deadline:
            return result
        time.sleep(5)


def succeeded(result: subprocess.CompletedProcess[str]) -> bool:
    return result.returncode == 0


def path_types(report: dict[str, dict[str, Any]]) -> dict[str, dict[str, str]]:
    return {name: {peer: p["type"] for peer, p in row["paths"].items()} for name, row in report.items()}


def block_udp_between(machine: Machine, other: Machine) -> None:
    """Drops every UDP datagram between the two machines' segment addresses, both ways, in ``machine``'s netns."""
    peer = str(other.host.ip)
    ruleset = (
        "table inet lab_block {\n"
        "  chain input { type filter hook input priority -10; policy accept;"
        f" ip saddr {peer} meta l4proto udp drop; }}\n"
        "  chain output { type filter hook output priority -10; policy accept;"
        f" ip daddr {peer} meta l4proto udp drop; }}\n"
        "}\n"
    )
    machine.host.run(["nft", "-f", "-"], input=ruleset, check=True)


def test_status_reports_real_daemons_direct_then_relay_when_udp_between_two_nodes_is_blocked(
    booted_lab: dict[str, Machine], operator: Operator, tmp_path: Path
) -> None:
    lab = booted_lab
    nodes = [{"name": name, "role": role, "host": str(lab[name].host.ip), "ip": ip} for name, role, ip in NODES]
    network = {"interface": INTERFACE, "pool": {"start": "10.147.17.200", "end": "10.147.17.250"}}
    config = cluster_config(nodes, network=network, controller="head", roots="head", joinTimeout=90, verifyTimeout=60)
    del config["network"]["networkId"]
    addresses = {name: address_of(machine) for name, machine in lab.items()}
    run = StackRun(plan_for(config), lab, operator, addresses)
    run.ship()
    run.up()
    project = write_stack(tmp_path / "project", config)

    healthy = until(lambda: status(operator, project, run.network_id, "--json"), succeeded, ONLINE_WITHIN)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    report = rows(healthy)
    assert list(report) == ["head", "compute-01", "compute-02"]
    for name, _, ip in NODES:
        checks = report[name]["checks"]
        assert report[name]["address"] == addresses[name]
        assert (checks["zerotier"]["value"], checks["network"]["value"]) == ("1.14.1", "OK"), checks
        assert (checks["address"]["ok"], checks["address"]["value"]) == (True, ip), checks
        assert (checks["firewall"]["value"], checks["hosts"]["value"]) == ("ok", "ok"), checks
    assert path_types(report) == {"head": {}, "compute-01": {"head": "DIRECT"}, "compute-02": {"head": "DIRECT"}}
    for name in ("compute-01", "compute-02"):
        # The head's segment address; the port is 9993 or the daemon's secondary port, whichever answered first.
        assert report[name]["paths"]["head"]["detail"].startswith(f"via {lab['head'].host.ip}/"), report[name]

    # With --mesh, status pings every node from every other first: the compute nodes find each other directly.
    mesh = until(lambda: status(operator, project, run.network_id, "--json", "--mesh"), succeeded, ONLINE_WITHIN)
    assert mesh.returncode == 0, mesh.stdout + mesh.stderr
    assert path_types(rows(mesh)) == {
        "head": {"compute-01": "DIRECT", "compute-02": "DIRECT"},
        "compute-01": {"head": "DIRECT", "compute-02": "DIRECT"},
        "compute-02": {"head": "DIRECT", "compute-01": "DIRECT"},
    }
    assert rows(mesh)["compute-01"]["paths"]["compute-02"]["detail"].startswith(f"via {lab['compute-02'].host.ip}/")

    # compute-01 and compute-02 lose UDP to each other; both still reach the head, their root.
    one, two = lab["compute-01"], lab["compute-02"]
    block_udp_between(one, two)
    block_udp_between(two, one)

    def relay_both_ways(result: subprocess.CompletedProcess[str]) -> bool:
        types = path_types(rows(result))
        return types["compute-01"]["compute-02"] == types["compute-02"]["compute-01"] == "RELAY"

    def ping_then_status() -> subprocess.CompletedProcess[str]:
        # Overlay traffic between them makes ZeroTier give the dead direct path up sooner and relay through the head.
        answers_ping(one, "10.147.17.12", timeout=5)
        return status(operator, project, run.network_id, "--json", "--mesh")

    first = until(ping_then_status, relay_both_ways, RELAY_WITHIN)
    assert relay_both_ways(first), first.stdout
    # status calls the dead path RELAY once it has received nothing for a minute; ZeroTier itself keeps
    # sending on it for minutes more before it relays. Relayed, not cut off: then they reach each other
    # again, through the head, and status says RELAY with nothing else wrong.
    assert answers_ping(one, "10.147.17.12", timeout=RELAY_WITHIN), "compute-01 never reaches compute-02 again"
    assert answers_ping(two, "10.147.17.11"), "compute-02 no longer reaches compute-01, even through the head"
    relayed = status(operator, project, run.network_id, "--json", "--mesh")
    report = rows(relayed)
    types = path_types(report)
    assert relayed.returncode == 1, relayed.stdout + relayed.stderr
    assert types == {
        "head": {"compute-01": "DIRECT", "compute-02": "DIRECT"},
        "compute-01": {"head": "DIRECT", "compute-02": "RELAY"},
        "compute-02": {"head": "DIRECT", "compute-01": "RELAY"},
    }
    assert {name: row["ok"] for name, row in report.items()} == {"head": True, "compute-01": False, "compute-02": False}
    for name, other in (("compute-01", "compute-02"), ("compute-02", "compute-01")):
        path = report[name]["paths"][other]
        assert path["detail"] == "no direct path: traffic goes through a ZeroTier root", path
        assert all(check["ok"] is not False for check in report[name]["checks"].values()), report[name]["checks"]

    # The table names the node, the check and what usually causes it.
    table = status(operator, project, run.network_id, "--mesh")
    assert table.returncode == 1, table.stdout + table.stderr
    problems = [line for line in table.stdout.splitlines() if ": path to " in line]
    assert [line.split(": ")[:2] for line in problems] == [
        ["compute-01", "path to compute-02"],
        ["compute-02", "path to compute-01"],
    ], table.stdout
    for line in problems:
        assert line.split(": ")[2].startswith("RELAY"), line
        assert line.endswith(f"Fix: {RELAY_CAUSES}"), line
