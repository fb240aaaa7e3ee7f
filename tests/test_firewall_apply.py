"""The firewall step on real Debian 12 machines, through the command the program sends.

Every apply here is ``/bin/sh -s -- create|update|delete`` over SSH as the
login user ``ops`` with the composed step on stdin, exactly what the
program's remote Command runs. The machines are systemd-nspawn containers in
network namespaces (``tests/lab/machine.py``), so their nftables is a real
kernel's, and ``boot=True`` machines run systemd and its nftables.service.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from cluster.config.parse import parse_cluster
from cluster.plan.build import NodePlan, build_plan
from tests.conftest import needs_root
from tests.lab.provision import run_step, with_param

MachineFactory = Callable[..., Any]

OWN_TABLE = ["nft", "list", "table", "inet", "zerotier_cluster"]


def plan_for(machines: dict[str, Any], firewall: dict[str, Any], **extra: Any) -> dict[str, NodePlan]:
    """The plan for machines named head/c1/...: roles from their names, hosts their addresses."""
    nodes = []
    for i, (name, machine) in enumerate(machines.items()):
        node = {"name": name, "role": "head" if name == "head" else "compute", "host": str(machine.host.ip)}
        node["ip"] = f"10.147.17.{i + 1}"
        node.update(extra.pop(f"node_{name}", {}))
        nodes.append(node)
    config: dict[str, Any] = {
        "network": {"name": "lab", "cidr": "10.147.17.0/24"},
        "ssh": {"user": "ops"},
        "nodes": nodes,
        "firewall": copy.deepcopy(firewall),
    }
    config.update(extra)
    plan = build_plan(parse_cluster(config, base_dir=Path(".")))
    return {n.name: n for n in plan.nodes}


def applied(result: Any) -> None:
    assert result.returncode == 0, f"the step failed:\n{result.stderr}"


def ruleset(machine: Any) -> str:
    return str(machine.host.run(["nft", "list", "ruleset"], check=True).stdout)


def ssh_works(operator: Any, machine: Any, **kwargs: Any) -> bool:
    return bool(operator.run(str(machine.host.ip), "ops", "true", timeout=20, **kwargs).returncode == 0)


def arrivals(machine: Any, senders: list[tuple[Any, str, int]]) -> list[bool]:
    """For each (host, proto, port): whether a packet from that host reached the machine."""
    from tests.lab.packets import Probe, observe

    batches = [(host, [Probe(proto, str(host.ip), str(machine.host.ip), port)]) for host, proto, port in senders]  # type: ignore[arg-type]
    return [got for _, got in observe(machine.host, batches)]


@pytest.fixture
def stranger(segment: Any) -> Any:
    """A host on the segment that no config names."""
    return segment.add_host("stranger")


def test_apply_keeps_ssh_open_closes_the_rest_and_is_idempotent(
    machine_factory: MachineFactory, operator: Any, stranger: Any
) -> None:
    needs_root("ip", "nft", "systemd-nspawn")
    head = machine_factory("head")
    node = plan_for({"head": head}, {"sshFrom": [f"{operator.host.ip}/32"]})["head"]
    script = node.firewall

    result = run_step(operator, head, script)
    applied(result)
    assert result.stdout == "table inet zerotier_cluster\n"
    assert ssh_works(operator, head)
    assert arrivals(head, [(operator.host, "tcp", 22), (stranger, "tcp", 22), (operator.host, "tcp", 80)]) == [
        True,
        False,
        False,
    ]
    assert head.path("/etc/zerotier-cluster/firewall.nft").read_text() == node.ruleset
    assert 'include "/etc/zerotier-cluster/firewall.nft"' in head.path("/etc/nftables.conf").read_text()

    first = ruleset(head)
    applied(run_step(operator, head, script, "update"))
    assert ruleset(head) == first


def test_delete_right_after_apply_leaves_the_machine_as_it_was(machine_factory: MachineFactory, operator: Any) -> None:
    needs_root("ip", "nft", "systemd-nspawn")
    head = machine_factory("head")
    before = (
        ruleset(head),
        head.path("/etc/nftables.conf").read_bytes(),
        head.exec(["systemctl", "is-enabled", "nftables"]).stdout,
    )
    script = plan_for({"head": head}, {})["head"].firewall
    applied(run_step(operator, head, script))
    assert "zerotier_cluster" in ruleset(head)
    applied(run_step(operator, head, script, "delete"))
    after = (
        ruleset(head),
        head.path("/etc/nftables.conf").read_bytes(),
        head.exec(["systemctl", "is-enabled", "nftables"]).stdout,
    )
    assert after == before
    assert not head.path("/etc/zerotier-cluster").exists()
    assert not head.path("/var/lib/zerotier-cluster/firewall.state").exists()
    applied(run_step(operator, head, script, "delete"))  # deleting twice is harmless


@pytest.mark.parametrize(
    ("firewall", "node_fields", "key"),
    [
        ({"sshFrom": ["192.0.2.0/24"]}, {}, "zerotier-cluster:firewall.sshFrom"),
        # Refused by the config already when the node's host is an IPv4 address (tests/test_config_cluster.py);
        # reached by name, the node's own guard is what stops it.
        ({"sshFrom": ["2001:db8::/32"]}, {"host": "head.lab.example"}, "zerotier-cluster:firewall.sshFrom"),
        ({}, {"sshdPort": 2222}, "zerotier-cluster:nodes[0].sshdPort"),
    ],
    ids=["ssh-from-elsewhere", "ssh-from-ipv6-only", "wrong-sshd-port"],
)
def test_an_apply_that_would_lock_the_operator_out_is_refused(
    machine_factory: MachineFactory, operator: Any, firewall: dict[str, Any], node_fields: dict[str, Any], key: str
) -> None:
    needs_root("ip", "nft", "systemd-nspawn")
    head = machine_factory("head")
    good = plan_for({"head": head}, {})["head"].firewall
    applied(run_step(operator, head, good))
    before = (ruleset(head), head.path("/etc/zerotier-cluster/firewall.nft").read_text())

    bad = plan_for({"head": head}, firewall, node_head=node_fields)["head"].firewall
    result = run_step(operator, head, bad, "update")
    assert result.returncode != 0
    assert "refusing to apply the firewall" in result.stderr and key in result.stderr, result.stderr
    assert (ruleset(head), head.path("/etc/zerotier-cluster/firewall.nft").read_text()) == before
    assert ssh_works(operator, head)


def test_a_refused_first_apply_changes_nothing(machine_factory: MachineFactory, operator: Any) -> None:
    needs_root("ip", "nft", "systemd-nspawn")
    head = machine_factory("head")
    conf = head.path("/etc/nftables.conf").read_bytes()
    bad = plan_for({"head": head}, {"sshFrom": ["192.0.2.0/24"]})["head"].firewall
    result = run_step(operator, head, bad)
    assert result.returncode != 0 and f"comes from {operator.host.ip}" in result.stderr, result.stderr
    assert ruleset(head) == ""
    assert head.path("/etc/nftables.conf").read_bytes() == conf
    assert not head.path("/etc/zerotier-cluster").exists()


def test_without_a_scratch_namespace_a_lockout_is_rolled_back(machine_factory: MachineFactory, operator: Any) -> None:
    """Where unshare cannot make a namespace, the live check after loading restores the old ruleset."""
    needs_root("ip", "nft", "systemd-nspawn")

    def no_unshare(machine: Any) -> None:
        machine.write(
            "/usr/local/bin/unshare", "#!/bin/sh\necho 'unshare: Operation not permitted' >&2\nexit 1\n", mode=0o755
        )

    head = machine_factory("head", before_start=no_unshare)
    good = plan_for({"head": head}, {"sshFrom": [f"{operator.host.ip}/32"]})["head"].firewall
    applied(run_step(operator, head, good))
    before = ruleset(head)
    bad = plan_for({"head": head}, {"sshFrom": ["192.0.2.0/24"]})["head"].firewall
    result = run_step(operator, head, bad, "update")
    assert result.returncode != 0
    assert "the previous firewall was restored" in result.stderr and "firewall.sshFrom" in result.stderr, result.stderr
    assert ruleset(head) == before
    assert ssh_works(operator, head)


def test_a_ruleset_that_fails_the_check_is_never_applied(machine_factory: MachineFactory, operator: Any) -> None:
    needs_root("ip", "nft", "systemd-nspawn")
    head = machine_factory("head")
    good = plan_for({"head": head}, {})["head"].firewall
    applied(run_step(operator, head, good))
    before = (ruleset(head), head.path("/etc/zerotier-cluster/firewall.nft").read_text())

    # The same step with a ruleset nft cannot load: a rule after the table is closed.
    broken = replace(
        good.params, ruleset=good.params.ruleset + "add rule inet zerotier_cluster input tcp dport 1 acept\n"
    )
    result = run_step(operator, head, replace(good, params=broken), "update")
    assert result.returncode != 0 and "nft rejected the new ruleset" in result.stderr, result.stderr
    assert (ruleset(head), head.path("/etc/zerotier-cluster/firewall.nft").read_text()) == before

    # Integrating into a table the node does not have fails the same way.
    missing = plan_for(
        {"head": head}, {"mode": "integrate", "integrate": {"family": "inet", "table": "filter", "chain": "input"}}
    )["head"].firewall
    result = run_step(operator, head, missing, "update")
    assert result.returncode != 0, result.stderr
    assert (ruleset(head), head.path("/etc/zerotier-cluster/firewall.nft").read_text()) == before


def test_compute_ssh_only_through_the_head(machine_factory: MachineFactory, operator: Any) -> None:
    """computeSsh head-and-overlay: compute nodes take SSH only from the head, which the program jumps through."""
    needs_root("ip", "nft", "systemd-nspawn")
    head, c1 = machine_factory("head"), machine_factory("c1")
    via_head = f"ops@{head.host.ip}"
    firewall = {"computeSsh": "head-and-overlay", "headAddresses": [str(head.host.ip)]}
    nodes = plan_for({"head": head, "c1": c1}, firewall, ssh={"user": "ops", "proxy": "head"})
    applied(run_step(operator, head, nodes["head"].firewall))
    applied(run_step(operator, c1, nodes["c1"].firewall, proxy=via_head))
    assert ssh_works(operator, c1, proxy=via_head)
    assert arrivals(c1, [(operator.host, "tcp", 22), (head.host, "tcp", 22)]) == [False, True]

    wrong = plan_for(
        {"head": head, "c1": c1}, {**firewall, "headAddresses": ["192.0.2.1"]}, ssh={"user": "ops", "proxy": "head"}
    )
    result = run_step(operator, c1, wrong["c1"].firewall, "update", proxy=via_head)
    assert result.returncode != 0 and "zerotier-cluster:firewall.headAddresses" in result.stderr, result.stderr
    assert ssh_works(operator, c1, proxy=via_head)


def test_renaming_the_table_replaces_the_old_one(machine_factory: MachineFactory, operator: Any) -> None:
    needs_root("ip", "nft", "systemd-nspawn")
    head = machine_factory("head")
    applied(run_step(operator, head, plan_for({"head": head}, {})["head"].firewall))
    renamed = plan_for({"head": head}, {"table": "ztc_renamed"})["head"].firewall
    applied(run_step(operator, head, renamed, "update"))
    tables = head.host.run(["nft", "list", "tables"], check=True).stdout
    assert tables == "table inet ztc_renamed\n"
    applied(run_step(operator, head, renamed, "delete"))
    assert ruleset(head) == ""


def test_persists_across_reboot_and_destroy_removes_exactly_what_it_added(
    machine_factory: MachineFactory, operator: Any, stranger: Any
) -> None:
    needs_root("ip", "nft", "systemd-nspawn")
    head = machine_factory("head", boot=True)

    def state() -> tuple[bytes, str, str]:
        enabled = head.exec(["systemctl", "is-enabled", "nftables.service"]).stdout
        return head.path("/etc/nftables.conf").read_bytes(), enabled, ruleset(head)

    before = state()
    assert before[1] == "disabled\n"
    node = plan_for({"head": head}, {"sshFrom": [f"{operator.host.ip}/32"]})["head"]
    applied(run_step(operator, head, node.firewall))
    assert head.exec(["systemctl", "is-enabled", "nftables.service"]).stdout == "enabled\n"

    head.reboot()
    assert head.host.run(OWN_TABLE).returncode == 0, "the ruleset did not come back after the reboot"
    assert ssh_works(operator, head)
    probes = [(operator.host, "tcp", 22), (stranger, "tcp", 22), (stranger, "udp", 9993), (stranger, "tcp", 80)]
    assert arrivals(head, probes) == [True, False, True, False]

    applied(run_step(operator, head, node.firewall, "delete"))
    conf, enabled, live = state()
    assert (conf, enabled) == before[:2]
    assert "zerotier_cluster" not in live
    assert not head.path("/etc/zerotier-cluster").exists()
    head.reboot()
    assert state() == before


OPERATOR_CONF = """\
#!/usr/sbin/nft -f

flush ruleset

table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		iif "lo" accept
		tcp dport 22 accept
	}
}
"""


def test_integrate_into_the_operators_table_survives_reboot_and_destroy(
    machine_factory: MachineFactory, operator: Any, stranger: Any
) -> None:
    needs_root("ip", "nft", "systemd-nspawn")

    def operator_firewall(machine: Any) -> None:
        machine.write("/etc/nftables.conf", OPERATOR_CONF, mode=0o755)
        target = machine.path("/etc/systemd/system/sysinit.target.wants/nftables.service")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to("/lib/systemd/system/nftables.service")

    head = machine_factory("head", boot=True, before_start=operator_firewall)
    theirs = head.host.run(["nft", "list", "table", "inet", "filter"], check=True).stdout
    zerotier = [(stranger, "udp", 9993), (stranger, "tcp", 80)]
    assert arrivals(head, zerotier) == [False, False]  # their table drops ZeroTier

    firewall = {"mode": "integrate", "integrate": {"table": "filter", "chain": "input"}}
    script = plan_for({"head": head}, firewall)["head"].firewall
    result = run_step(operator, head, script)
    applied(result)
    assert result.stdout == "chain inet filter zerotier_cluster\n"
    applied(run_step(operator, head, script, "update"))
    listing = head.host.run(["nft", "list", "chain", "inet", "filter", "input"], check=True).stdout
    assert listing.count('jump zerotier_cluster comment "zerotier-cluster"') == 1
    assert listing.index("jump zerotier_cluster") < listing.index("ct state")  # at the top of their chain
    assert arrivals(head, zerotier) == [True, False]

    head.reboot()
    listing = head.host.run(["nft", "list", "chain", "inet", "filter", "input"], check=True).stdout
    assert listing.count('jump zerotier_cluster comment "zerotier-cluster"') == 1
    assert arrivals(head, zerotier) == [True, False]
    assert ssh_works(operator, head)

    applied(run_step(operator, head, script, "delete"))
    assert head.host.run(["nft", "list", "table", "inet", "filter"], check=True).stdout == theirs
    assert head.path("/etc/nftables.conf").read_text() == OPERATOR_CONF
    assert head.exec(["systemctl", "is-enabled", "nftables.service"]).stdout == "enabled\n"  # theirs, kept


def test_refuses_while_firewalld_is_active(machine_factory: MachineFactory, operator: Any) -> None:
    needs_root("ip", "nft", "systemd-nspawn")

    def fake_firewalld(machine: Any) -> None:
        machine.write(
            "/etc/systemd/system/firewalld.service",
            "[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n",
        )
        link = machine.path("/etc/systemd/system/multi-user.target.wants/firewalld.service")
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to("/etc/systemd/system/firewalld.service")

    head = machine_factory("head", boot=True, before_start=fake_firewalld)
    result = run_step(operator, head, plan_for({"head": head}, {})["head"].firewall)
    assert result.returncode != 0 and "firewalld is active" in result.stderr, result.stderr
    assert "zerotier_cluster" not in ruleset(head)


@pytest.mark.parametrize("interface", ["zt*", "eth0", "zt0;reboot", ""])
def test_a_firewall_that_would_trust_anything_but_one_zt_interface_is_refused(
    machine_factory: MachineFactory, operator: Any, interface: str
) -> None:
    """Members are trusted on this network's own interface only: the step refuses a pattern or a real NIC."""
    needs_root("ip", "nft", "systemd-nspawn")
    head = machine_factory("head")
    script = plan_for({"head": head}, {})["head"].firewall
    before = ruleset(head)
    result = run_step(operator, head, with_param(script, "ZTC_FW_INTERFACE", interface))
    assert result.returncode == 1, result.stderr
    assert "ZTC_FW_INTERFACE is not valid" in result.stderr
    assert ruleset(head) == before
