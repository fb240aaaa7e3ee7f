"""``python -m cluster status --probe`` against Debian 12 machines over real SSH, firewalled by the real step.

The machines get the program's firewall step (sent as ``pulumi up`` sends it)
and an interface named like the network's overlay interface, wired to one
bridge with every node's overlay address on it, so a probe between two nodes
arrives where ZeroTier's traffic would. Then the command runs as the operator
would, from the operator's namespace, reading a ``Pulumi.lab.yaml``: healthy,
it exits 0; a hand-added drop on the head, or a node's table flushed or
deleted, and it exits 1 naming the node and the assertion.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cluster.plan.firewall import overlay_interface
from cluster.spec import NetworkSpec
from tests.conftest import needs_root
from tests.lab.netns import sh
from tests.lab.provision import ROOT, run_step, step_text
from tests.test_status import IPS, lab_config, write_stack

POLICY = [{"from": "compute", "to": "head", "port": "tcp/5000", "expect": "deny"}]
FIREWALL = {"clusterPorts": ["tcp/6817-6818"]}


@pytest.fixture
def overlay(machine_factory: Any, operator: Any, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """head and compute-01, firewalled by the program's step, joined by a stand-in overlay link."""
    needs_root("ip", "nft", "systemd-nspawn")
    machines = {"head": machine_factory("phead"), "compute-01": machine_factory("pc1")}
    config = lab_config({n: str(m.host.ip) for n, m in machines.items()}, firewall=FIREWALL, policy=POLICY)
    interface = overlay_interface(NetworkSpec(config["network"]["name"], config["network"]["cidr"]))
    bridge = f"ztcpb{os.getpid() % 100000}"
    sh(["ip", "netns", "add", bridge])
    try:
        sh(["ip", "-n", bridge, "link", "add", "br0", "type", "bridge"])
        sh(["ip", "-n", bridge, "link", "set", "br0", "up"])
        for i, (name, machine) in enumerate(machines.items()):
            sh(
                [
                    "ip",
                    "link",
                    "add",
                    interface,
                    "netns",
                    machine.host.netns,
                    "type",
                    "veth",
                    "peer",
                    f"p{i}",
                    "netns",
                    bridge,
                ]
            )
            sh(["ip", "-n", bridge, "link", "set", f"p{i}", "master", "br0", "up"])
            sh(["ip", "-n", machine.host.netns, "addr", "add", f"{IPS[name]}/24", "dev", interface])
            sh(["ip", "-n", machine.host.netns, "link", "set", interface, "up"])
            result = run_step(operator, machine, step_text(config, name, "firewall"))
            assert result.returncode == 0, f"{name} firewall: {result.stderr}"
        yield {"machines": machines, "project": write_stack(tmp_path / "project", config)}
    finally:
        sh(["ip", "netns", "del", bridge], check=False)


def probe(operator: Any, project: Path) -> Any:
    argv = ["python3", "-m", "cluster", "status", "--probe", "--stack", "lab", "--project", str(project)]
    argv += ["--identity", str(operator.key), "--timeout", "40"]
    return operator.host.run(argv, cwd=str(ROOT), timeout=180)


def test_status_probe_healthy_exits_0_then_a_hand_added_drop_and_a_flushed_table_exit_1(
    overlay: dict[str, Any], operator: Any
) -> None:
    machines, project = overlay["machines"], overlay["project"]
    r = probe(operator, project)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[:7] == [
        "OK    zerotier-cluster:policy[0]: compute -> head tcp/5000 deny: 1 probe(s) blocked",
        "OK    zerotier-cluster:policy (default: members keep SSH): head -> compute ssh allow: 1 probe(s) got through",
        "OK    zerotier-cluster:policy (default: members ping): head -> compute icmp allow: 1 probe(s) got through",
        "OK    zerotier-cluster:policy (default: members keep SSH): compute -> head ssh allow: 1 probe(s) got through",
        "OK    zerotier-cluster:policy (default: members ping): compute -> head icmp allow: 1 probe(s) got through",
        "OK    zerotier-cluster:policy (default: members' cluster ports): head -> compute tcp/6818 allow: "
        "1 probe(s) got through",
        "OK    zerotier-cluster:policy (default: members' cluster ports): compute -> head tcp/6817 allow: "
        "1 probe(s) got through",
    ]
    assert lines[7:] and all(line.startswith("SKIP") and "is no node of this stack" in line for line in lines[7:])

    head = machines["head"].host
    head.run(["nft", "insert", "rule", "inet", "zerotier_cluster", "input", "tcp", "dport", "6817", "drop"], check=True)
    r = probe(operator, project)
    assert r.returncode == 1, r.stdout + r.stderr
    failed = [line for line in r.stdout.splitlines() if line.startswith("FAIL")]
    assert failed == [
        "FAIL  zerotier-cluster:policy (default: members' cluster ports): compute -> head tcp/6817 allow: "
        "compute-01 -> head tcp/6817: blocked"
    ]

    head.run(["nft", "flush", "table", "inet", "zerotier_cluster"], check=True)  # rules gone; policy drop stays
    r = probe(operator, project)
    assert r.returncode == 1, r.stdout + r.stderr
    failed = [line for line in r.stdout.splitlines() if line.startswith("FAIL")]
    assert [line.split("): ", 1)[1] for line in failed] == [
        "compute -> head ssh allow: compute-01 -> head tcp/22: blocked",
        "compute -> head icmp allow: compute-01 -> head icmp: blocked",
        "compute -> head tcp/6817 allow: compute-01 -> head tcp/6817: blocked",
    ]

    head.run(["nft", "delete", "table", "inet", "zerotier_cluster"], check=True)  # nothing filters any more
    r = probe(operator, project)
    assert r.returncode == 1, r.stdout + r.stderr
    assert [line for line in r.stdout.splitlines() if line.startswith("FAIL")] == [
        "FAIL  zerotier-cluster:policy[0]: compute -> head tcp/5000 deny: compute-01 -> head tcp/5000: got through"
    ]


def probe_script(mode: str, lines: list[str], tag: str = "t1") -> str:
    """probe.sh as status --probe sends it, for a node named n1."""
    from cluster.operate.probe import PROBE_TIMEOUT
    from cluster.plan.steps import ProbeParams, standalone

    params = ProbeParams(mode=mode, probes="\n".join(lines), timeout=str(PROBE_TIMEOUT), tag=tag)
    return standalone("probe on node n1", params)


def test_a_udp_probe_reaches_the_listener_unless_the_destination_drops_it(segment: Any) -> None:
    """The UDP path (python3 on both ends: the test machines have neither python3 nor nc, so it runs here)."""
    needs_root("ip", "nft")
    sender, receiver = segment.add_host("usend"), segment.add_host("urecv")

    def run(host: Any, mode: str, lines: list[str]) -> str:
        result = host.run(["sh", "-s"], input=probe_script(mode, lines), timeout=60)
        assert result.returncode == 0, result.stderr
        return str(result.stdout)

    for blocked in (False, True):
        if blocked:
            drop = "table inet t {\n\tchain input {\n\t\ttype filter hook input priority 0;\n\t\tudp dport 5000 drop\n"
            receiver.run(["nft", "-f", "-"], input=drop + "\t}\n}\n", check=True)
        assert run(receiver, "listen", ["5000"]) == "listening 5000\n"
        assert run(sender, "send", [f"7 udp {receiver.ip} 5000", f"8 icmp {receiver.ip} 8"]) == "7 open\n8 open\n"
        assert run(receiver, "collect", ["5000"]) == f"received 5000 {'no' if blocked else 'yes'}\n"
    assert run(sender, "send", ["1 tcp 10.77.0.250 22"]) == "1 blocked\n"  # nobody there: no answer in time
