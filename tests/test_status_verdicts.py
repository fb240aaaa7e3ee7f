"""``status``'s verdicts, each drift on its own: a node's report compared with the plan, no machine needed.

status.sh on the node prints facts (``tests/test_status.py`` runs it on real
machines); :func:`cluster.operate.status.evaluate` judges them here. Each test
starts from the report of a healthy node and changes exactly one fact, so a
check that stopped looking at that fact fails its own test, never hidden by
another drift reported in the same run.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

import pytest

from cluster.config.parse import parse_cluster
from cluster.config.stackfile import read_stack_config
from cluster.operate.sshrun import Reply
from cluster.operate.status import Context, Facts, Row, Target, evaluate, peer_path, status_stdin
from cluster.plan.build import Plan, build_plan
from tests.lab.provision import NETWORK_ID, ROOT, cluster_config, plan_for

NOW = 1_764_000_000
ADDRESSES = {"head": "aaaa000001", "compute-01": "aaaa000011", "compute-02": "aaaa000012"}
URN = "urn:pulumi:lab::zerotier-cluster::zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-"
PLAN = plan_for(cluster_config())
#: Stack lab of this project, its component named as the program names it.
LAB = Target.find("lab", "zerotier-cluster", None, {})
IPS = {"head": "10.147.17.1", "compute-01": "10.147.17.11", "compute-02": "10.147.17.12"}


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def healthy(name: str, plan: Plan = PLAN) -> dict[str, Any]:
    """What status.sh prints on node ``name`` as pulumi up left it: facts, and the zerotier-cli JSON."""
    node = next(n for n in plan.nodes if n.name == name)
    assert node.ruleset is not None
    peers = [
        {
            "address": address,
            "latency": 3,
            "tunneled": False,
            "paths": [
                {
                    "active": True,
                    "expired": False,
                    "preferred": True,
                    "address": "192.0.2.1/9993",
                    "lastReceive": NOW * 1000 - 2000,
                },
            ],
        }
        for other, address in ADDRESSES.items()
        if other != name
    ]
    return {
        "values": {
            "ztc-status": "1",
            "user": "ops",
            "root": "yes",
            "service": "active",
            **{f"ping.{IPS[other]}": "yes" for other in IPS if other != name},
            "cli": "yes",
            "clock": str(NOW),
            "firewall.file": sha(node.ruleset),
            "firewall.loaded": "yes",
            "firewall.persisted": "yes",
            "firewall.service": "enabled",
            "hosts.blocks": "1",
            "hosts.block": sha(plan.hosts_block),
        },
        "info": (0, {"address": ADDRESSES[name], "version": "1.14.1", "online": True}),
        "listnetworks": (
            0,
            [
                {
                    "nwid": NETWORK_ID,
                    "status": "OK",
                    "portDeviceName": "zt050e2a9f6a",
                    "assignedAddresses": [f"{IPS[name]}/24", "fd80:56c2:e21c:1930:be99:93aa:aa00:11/88"],
                    "mtu": 2800,
                }
            ],
        ),
        "peers": (0, peers),
    }


def report(facts: dict[str, Any]) -> str:
    """The text status.sh prints for ``facts``: key value lines, then each zerotier-cli block."""
    lines = [f"{k} {v}" for k, v in facts["values"].items() if v is not None]
    for block in ("info", "listnetworks", "peers"):
        if facts.get(block) is not None:
            code, body = facts[block]
            lines += [f"@{block} {code}", body if isinstance(body, str) else json.dumps(body, indent=1), "@end"]
    return "\n".join(lines) + "\n"


def judge(name: str, facts: dict[str, Any], *, members: dict[str, str] | None = None, mesh: bool = False) -> Row:
    ctx = Context(PLAN, LAB, ADDRESSES, NETWORK_ID, members or {}, mesh)
    node = next(n for n in PLAN.nodes if n.name == name)
    return evaluate(ctx, node, Reply(stdout=report(facts)))


def verdicts(row: Row) -> dict[str, tuple[bool | None, str]]:
    return {c.name: (c.ok, c.value) for c in row.checks}


def failing(row: Row) -> list[tuple[str, str, str, str]]:
    """Every check that failed: name, value, detail, fix."""
    return [(c.name, c.value, c.detail, c.fix) for c in row.checks if c.ok is False]


def test_a_healthy_node_passes_every_check() -> None:
    row = judge("compute-01", healthy("compute-01"))
    assert row.ok is True
    assert row.address == "aaaa000011"
    assert verdicts(row) == {
        "zerotier": (True, "1.14.1"),
        "identity": (None, "aaaa000011"),
        "network": (True, "OK"),
        "address": (True, "10.147.17.11"),
        "mtu": (True, "2800"),
        "path:head": (True, "DIRECT 3ms"),
        "firewall": (True, "ok"),
        "hosts": (True, "ok"),
    }
    head = judge("head", healthy("head"))
    assert head.ok is True
    assert [c.name for c in head.checks] == ["zerotier", "identity", "network", "address", "mtu", "firewall", "hosts"]


# --- the overlay ------------------------------------------------------------------------------------


def test_a_failed_overlay_ping_fails_the_path_even_when_zerotier_shows_it_direct() -> None:
    facts = healthy("compute-01")
    facts["values"]["ping.10.147.17.1"] = "no"
    row = judge("compute-01", facts)
    assert row.ok is False
    assert failing(row) == [
        (
            "path:head",
            "DIRECT 3ms",
            "head (10.147.17.1) does not answer ping over the overlay; via 192.0.2.1/9993",
            "run python -m cluster status on head too; check its network, address and firewall",
        )
    ]


def test_a_relayed_path_fails_with_its_causes() -> None:
    facts = healthy("compute-01")
    facts["peers"][1][0]["paths"] = []
    row = judge("compute-01", facts)
    assert failing(row) == [
        (
            "path:head",
            "RELAY 3ms",
            "no direct path: traffic goes through a ZeroTier root",
            "a relayed path usually means UDP 9993 is blocked between the two sites (open it both ways) or a "
            "symmetric NAT is in front of one of them (give it a public address, a port forward of UDP 9993, or a "
            "NAT that keeps ports)",
        )
    ]


def test_with_mesh_every_other_node_is_a_path() -> None:
    row = judge("compute-01", healthy("compute-01"), mesh=True)
    assert [(c.name, c.ok, c.value) for c in row.checks if c.name.startswith("path:")] == [
        ("path:head", True, "DIRECT 3ms"),
        ("path:compute-02", True, "DIRECT 3ms"),
    ]
    facts = healthy("compute-01")
    facts["values"]["ping.10.147.17.12"] = "no"
    assert [c[0] for c in failing(judge("compute-01", facts, mesh=True))] == ["path:compute-02"]
    assert judge("compute-01", facts).ok is True  # without --mesh, compute-02 is nobody's business here


@pytest.mark.parametrize(
    ("assigned", "shown"),
    [
        (["10.147.17.11/24"], "10.147.17.11/24"),  # .11 is not .1
        (["10.147.17.1/16"], "10.147.17.1/16"),  # the right address with the wrong prefix
        (["10.147.17.10/24"], "10.147.17.10/24"),  # .10 starts like .1 too
        ([], "no address"),
    ],
    ids=["dot-11-for-dot-1", "slash-16-for-slash-24", "dot-10-for-dot-1", "none"],
)
def test_the_address_must_be_exactly_the_planned_one_with_its_prefix(assigned: list[str], shown: str) -> None:
    facts = healthy("head")
    facts["listnetworks"][1][0]["assignedAddresses"] = assigned
    row = judge("head", facts)
    assert failing(row) == [
        (
            "address",
            ", ".join(assigned) or "none",
            f"has {shown}, planned 10.147.17.1/24",
            "pulumi refresh, then pulumi up (sets the member's ipAssignments back to the plan)",
        )
    ]


def test_the_address_value_lists_only_ipv4_addresses() -> None:
    facts = healthy("head")
    facts["listnetworks"][1][0]["assignedAddresses"] = ["fd80::1/88", "10.147.17.2/24", "10.147.17.3/24"]
    assert failing(judge("head", facts))[0][:3] == (
        "address",
        "10.147.17.2/24, 10.147.17.3/24",
        "has fd80::1/88, 10.147.17.2/24, 10.147.17.3/24, planned 10.147.17.1/24",
    )


@pytest.mark.parametrize(
    ("status", "fix"),
    [
        ("ACCESS_DENIED", "the member is not authorized: pulumi refresh, then pulumi up (the member is managed)"),
        ("NOT_FOUND", "the controller does not know the network: check network.networkId, then pulumi up"),
        ("REQUESTING_CONFIGURATION", f"pulumi up --stack lab --replace '{URN}compute-01-join'"),
    ],
)
def test_a_network_status_other_than_ok_fails_with_its_fix(status: str, fix: str) -> None:
    facts = healthy("compute-01")
    facts["listnetworks"][1][0]["status"] = status
    assert failing(judge("compute-01", facts)) == [("network", status, f"network {NETWORK_ID}", fix)]


def test_the_network_on_another_interface_fails_because_the_firewall_trusts_only_the_planned_one() -> None:
    facts = healthy("compute-01")
    facts["listnetworks"][1][0]["portDeviceName"] = "ztother0"
    assert failing(judge("compute-01", facts)) == [
        (
            "network",
            "OK",
            "on interface ztother0, planned zt050e2a9f6a (the firewall trusts only that)",
            f"pulumi up --stack lab --replace '{URN}compute-01-join'",
        )
    ]


def test_a_network_left_fails_network_and_address() -> None:
    facts = healthy("compute-01")
    facts["listnetworks"] = (0, [{**facts["listnetworks"][1][0], "nwid": "1c33c1ced015c144"}])
    join = f"pulumi up --stack lab --replace '{URN}compute-01-join'"
    assert failing(judge("compute-01", facts)) == [
        ("network", "not joined", f"{NETWORK_ID} is not among the node's networks (it left)", join),
        ("address", "-", "planned 10.147.17.11/24", join),
    ]


def test_without_a_network_id_the_network_is_found_by_its_planned_interface() -> None:
    facts = healthy("compute-01")
    node = next(n for n in PLAN.nodes if n.name == "compute-01")
    ctx = Context(PLAN, LAB, ADDRESSES, None, {}, False)
    assert evaluate(ctx, node, Reply(stdout=report(facts))).ok is True
    facts["listnetworks"][1][0]["portDeviceName"] = "ztother0"
    row = evaluate(ctx, node, Reply(stdout=report(facts)))
    assert failing(row)[0][:3] == (
        "network",
        "not joined",
        "the network on interface zt050e2a9f6a is not among the node's networks (it left)",
    )


# --- ZeroTier itself ------------------------------------------------------------------------------------


def test_another_zerotier_version_fails_with_both_fixes() -> None:
    facts = healthy("compute-01")
    facts["info"] = (0, {"address": "aaaa000011", "version": "1.14.2", "online": True})
    assert failing(judge("compute-01", facts)) == [
        (
            "zerotier",
            "1.14.2",
            "runs ZeroTier 1.14.2, zerotierVersion is 1.14.1",
            f"pulumi up --stack lab --replace '{URN}compute-01-install' (installs and pins 1.14.1), "
            "or set zerotierVersion: 1.14.2",
        )
    ]


def test_an_offline_node_fails_zerotier() -> None:
    facts = healthy("compute-01")
    facts["info"] = (0, {"address": "aaaa000011", "version": "1.14.1", "online": False})
    assert failing(judge("compute-01", facts)) == [
        (
            "zerotier",
            "1.14.1 OFFLINE",
            "the node reaches no ZeroTier root: UDP 9993 is blocked upstream",
            "allow outbound UDP 9993 (and the replies) at the site's firewall",
        )
    ]


def test_a_stopped_service_fails_zerotier_and_leaves_the_rest_unknown() -> None:
    facts = healthy("compute-01")
    facts["values"]["service"] = "inactive"
    failed = "Error connecting to the ZeroTier service: connection failed"
    facts["info"] = facts["listnetworks"] = facts["peers"] = (1, failed)
    row = judge("compute-01", facts)
    assert row.address is None
    assert failing(row) == [
        (
            "zerotier",
            "not running",
            f"zerotier-cli -j info exited 1: {failed} (zerotier-one service: inactive)",
            "start it on the node (sudo systemctl start zerotier-one); if it does not stay up, "
            f"pulumi up --stack lab --replace '{URN}compute-01-install'",
        )
    ]
    assert verdicts(row)["network"] == (None, "?")
    assert verdicts(row)["path:head"] == (None, "UNKNOWN")
    assert row.check("path:head").detail == f"zerotier-cli -j peers exited 1: {failed}"  # type: ignore[union-attr]


def test_no_zerotier_cli_fails_zerotier() -> None:
    facts = healthy("compute-01")
    facts["values"]["cli"] = "no"
    facts["info"] = facts["listnetworks"] = facts["peers"] = None
    row = judge("compute-01", facts)
    assert failing(row)[0] == (
        "zerotier",
        "not installed",
        "zerotier-cli is not on PATH",
        f"pulumi up --stack lab --replace '{URN}compute-01-install'",
    )
    assert verdicts(row)["path:head"] == (None, "UNKNOWN")
    assert row.check("path:head").detail == "zerotier-cli could not be asked"  # type: ignore[union-attr]


def test_a_replaced_identity_fails_against_the_stack_outputs_member() -> None:
    row = judge("compute-01", healthy("compute-01"), members={"compute-01": "bbbb000011"})
    assert failing(row) == [
        (
            "identity",
            "aaaa000011",
            "the node is aaaa000011 but its member is bbbb000011: its identity was replaced (reimaged, or reinstalled)",
            "raise generation of zerotier-cluster:nodes[1] to 1 and run pulumi up (its steps run again from install)",
        )
    ]
    assert verdicts(judge("compute-01", healthy("compute-01"), members={"compute-01": "aaaa000011"}))["identity"] == (
        True,
        "aaaa000011",
    )


# --- the firewall: every drift status claims to detect, each alone --------------------------------------

FIREWALL_FIX = f"pulumi up --stack lab --replace '{URN}compute-01-firewall'"


@pytest.mark.parametrize(
    ("fact", "value", "shown", "detail"),
    [
        ("firewall.service", "disabled", "DRIFTED", "nftables.service is disabled: the ruleset is not loaded at boot"),
        ("firewall.service", "", "DRIFTED", "nftables.service is unknown: the ruleset is not loaded at boot"),
        (
            "firewall.file",
            "0" * 64,
            "DRIFTED",
            "/etc/zerotier-cluster/firewall.nft differs from the planned ruleset (sha256 000000000000)",
        ),
        ("firewall.file", "missing", "DRIFTED", "/etc/zerotier-cluster/firewall.nft is missing"),
        (
            "firewall.file",
            None,
            "DRIFTED",
            "/etc/zerotier-cluster/firewall.nft differs from the planned ruleset (sha256 unknown)",
        ),
        ("firewall.loaded", "no", "NOT LOADED", "table inet zerotier_cluster is not loaded (flushed or deleted)"),
        ("firewall.loaded", "unknown", "NOT LOADED", "table inet zerotier_cluster is not loaded (flushed or deleted)"),
        (
            "firewall.persisted",
            "no /etc/nftables.conf",
            "DRIFTED",
            "not persisted: no zerotier-cluster include in /etc/nftables.conf",
        ),
        ("firewall.persisted", None, "DRIFTED", "not persisted: no zerotier-cluster include in nftables.conf"),
    ],
    ids=[
        "service-disabled",
        "service-unknown",
        "file-drifted",
        "file-missing",
        "file-unreported",
        "table-flushed",
        "table-unknown",
        "not-included",
        "persistence-unreported",
    ],
)
def test_each_firewall_drift_alone_fails_the_firewall(fact: str, value: str | None, shown: str, detail: str) -> None:
    facts = healthy("compute-01")
    facts["values"][fact] = value
    assert failing(judge("compute-01", facts)) == [("firewall", shown, detail, FIREWALL_FIX)]


def test_a_node_without_systemctl_is_not_asked_about_the_service() -> None:
    facts = healthy("compute-01")
    facts["values"]["firewall.service"] = None
    assert judge("compute-01", facts).ok is True


def test_several_firewall_drifts_are_named_together() -> None:
    facts = healthy("compute-01")
    facts["values"].update({"firewall.file": "missing", "firewall.loaded": "no", "firewall.service": "disabled"})
    assert failing(judge("compute-01", facts)) == [
        (
            "firewall",
            "NOT LOADED",
            "/etc/zerotier-cluster/firewall.nft is missing; table inet zerotier_cluster is not loaded (flushed or "
            "deleted); nftables.service is disabled: the ruleset is not loaded at boot",
            FIREWALL_FIX,
        )
    ]


def test_firewall_off_is_not_compared() -> None:
    plan = plan_for(cluster_config(firewall={"mode": "off"}))
    node = next(n for n in plan.nodes if n.name == "compute-01")
    facts = healthy("compute-01")
    facts["values"]["firewall.loaded"] = "no"
    facts["values"]["hosts.block"] = sha(plan.hosts_block)
    row = evaluate(Context(plan, LAB, ADDRESSES, NETWORK_ID, {}, False), node, Reply(stdout=report(facts)))
    assert verdicts(row)["firewall"] == (None, "off")
    assert row.check("firewall").detail == "firewall.mode is off: nothing to compare"  # type: ignore[union-attr]
    assert row.ok is True


# --- without root, and the hosts block ----------------------------------------------------------------------


def test_without_root_what_needs_it_fails_with_the_sudo_fix() -> None:
    facts = healthy("compute-01")
    facts["values"]["root"] = "no"
    facts["info"] = facts["listnetworks"] = facts["peers"] = (126, "")
    sudo = "give ops passwordless sudo, as provisioning needs too ('ops ALL=(ALL) NOPASSWD: ALL'), or log in as root"
    why = "user ops cannot run sudo -n (it asks for a password)"
    row = judge("compute-01", facts)
    assert failing(row) == [("zerotier", "?", why, sudo), ("firewall", "?", why, sudo)]
    assert verdicts(row)["network"] == (None, "?")
    assert row.check("network").detail == why  # type: ignore[union-attr]
    assert row.check("path:head").detail == "zerotier-cli could not be asked"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("blocks", "block", "shown", "detail"),
    [
        ("0", None, "MISSING", "/etc/hosts has no zerotier-cluster block for this network"),
        ("2", "same", "DUPLICATED", "/etc/hosts has 2 blocks for this network"),
        ("1", "0" * 64, "EDITED", "the /etc/hosts block differs from the planned one"),
    ],
    ids=["missing", "duplicated", "edited"],
)
def test_each_hosts_drift_alone_fails_hosts(blocks: str, block: str | None, shown: str, detail: str) -> None:
    facts = healthy("compute-01")
    facts["values"]["hosts.blocks"] = blocks
    if block != "same":
        facts["values"]["hosts.block"] = block
    fix = f"pulumi up --stack lab --replace '{URN}compute-01-hosts'"
    assert failing(judge("compute-01", facts)) == [("hosts", shown, detail, fix)]


# --- what did not report ----------------------------------------------------------------------------------------


def test_an_unreachable_node_is_a_row_with_the_eviction_hint() -> None:
    node = next(n for n in PLAN.nodes if n.name == "compute-02")
    ctx = Context(PLAN, LAB, ADDRESSES, NETWORK_ID, {}, False)
    row = evaluate(ctx, node, Reply(error="ssh: connect to host 192.0.2.12 port 22: Connection timed out"))
    assert (row.reached, row.ok, row.checks) == (False, False, ())
    shown = row.as_json()
    assert (shown["reached"], shown["ok"], shown["address"], shown["checks"], shown["paths"]) == (
        False,
        False,
        None,
        {},
        {},
    )
    assert row.error == (
        "unreachable: ssh: connect to host 192.0.2.12 port 22: Connection timed out. Fix: check that compute-02 is "
        "up and that `ssh -p 22 ops@192.0.2.12` works (with the same key); if the machine is gone for good, set "
        "state: evicted on zerotier-cluster:nodes[2] and run pulumi up (it is deauthorized without being contacted)"
    )


def test_a_report_that_is_not_status_output_names_the_nodes_last_error_line() -> None:
    node = next(n for n in PLAN.nodes if n.name == "compute-01")
    ctx = Context(PLAN, LAB, ADDRESSES, NETWORK_ID, {}, False)
    row = evaluate(ctx, node, Reply(stdout="", stderr="sh: 1: sudo: not found\nzerotier-cluster: ERROR: bad\n"))
    assert (row.reached, row.error) == (False, "status check failed on the node: zerotier-cluster: ERROR: bad")
    assert evaluate(ctx, node, Reply()).error == "status check failed on the node: no report"


def test_the_status_stdin_carries_where_the_firewall_lives_and_what_to_ping() -> None:
    node = next(n for n in PLAN.nodes if n.name == "compute-01")
    stdin = status_stdin(PLAN, node, ["10.147.17.1", "10.147.17.12"])
    assert stdin.startswith(
        "#!/bin/sh\n# zerotier-cluster status check of node compute-01\nZTC_NODE=compute-01\nZTC_FW_MODE=enforce\n"
        "ZTC_FW_FAMILY=inet\nZTC_FW_TABLE=zerotier_cluster\nZTC_FW_CHAIN=input\nZTC_HOSTS_TAG=chpc-overlay\n"
        "ZTC_PROBE='10.147.17.1 10.147.17.12'\n"
    )
    integrated = plan_for(
        cluster_config(
            firewall={"mode": "integrate", "integrate": {"family": "ip", "table": "filter", "chain": "INPUT"}}
        )
    )
    stdin = status_stdin(integrated, next(n for n in integrated.nodes if n.name == "compute-01"), ["10.147.17.1"])
    assert (
        "\nZTC_FW_MODE=integrate\nZTC_FW_FAMILY=ip\nZTC_FW_TABLE=filter\nZTC_FW_CHAIN=zerotier_cluster\n"
        "ZTC_HOSTS_TAG=chpc-overlay\nZTC_PROBE=10.147.17.1\n"
    ) in stdin
    off = plan_for(cluster_config(firewall={"mode": "off"}))
    stdin = status_stdin(off, next(n for n in off.nodes if n.name == "head"), [])
    assert "\nZTC_FW_MODE=off\nZTC_FW_FAMILY=inet\nZTC_FW_TABLE=zerotier_cluster\nZTC_FW_CHAIN=input\n" in stdin
    assert "\nZTC_PROBE=''\n" in stdin


# --- the report's parts, and the JSON --json prints ----------------------------------------------------------


def test_a_cli_error_names_the_exit_code_and_the_first_line_said() -> None:
    facts = Facts.parse("ztc-status 1\n@peers 1\n\n   \n  connection refused  \nmore\n@end\n@info 2\n@end\n")
    assert facts.cli_error("peers") == "zerotier-cli -j peers exited 1: connection refused"
    assert facts.cli_error("info") == "zerotier-cli -j info exited 2"
    assert facts.cli_error("listnetworks") == "zerotier-cli -j listnetworks exited -1"
    assert facts.json("listnetworks") is None


def test_without_a_user_line_the_sudo_problem_says_so() -> None:
    facts = healthy("compute-01")
    facts["values"].update({"root": "no", "user": None})
    facts["info"] = facts["listnetworks"] = facts["peers"] = (126, "")
    row = judge("compute-01", facts)
    assert failing(row)[0] == (
        "zerotier",
        "?",
        "user ? cannot run sudo -n (it asks for a password)",
        "give ? passwordless sudo, as provisioning needs too ('? ALL=(ALL) NOPASSWD: ALL'), or log in as root",
    )
    assert row.check("no such check") is None


def test_the_json_of_a_row_is_every_check_and_every_path() -> None:
    facts = healthy("compute-01")
    facts["values"]["firewall.service"] = "disabled"
    assert judge("compute-01", facts).as_json() == {
        "name": "compute-01",
        "host": "192.0.2.11",
        "role": "compute",
        "reached": True,
        "error": "",
        "ok": False,
        "address": "aaaa000011",
        "checks": {
            "zerotier": {"ok": True, "value": "1.14.1", "detail": "", "fix": ""},
            "identity": {"ok": None, "value": "aaaa000011", "detail": "", "fix": ""},
            "network": {"ok": True, "value": "OK", "detail": "", "fix": ""},
            "address": {"ok": True, "value": "10.147.17.11", "detail": "", "fix": ""},
            "mtu": {"ok": True, "value": "2800", "detail": "", "fix": ""},
            "firewall": {
                "ok": False,
                "value": "DRIFTED",
                "detail": "nftables.service is disabled: the ruleset is not loaded at boot",
                "fix": FIREWALL_FIX,
            },
            "hosts": {"ok": True, "value": "ok", "detail": "", "fix": ""},
        },
        "paths": {"head": {"type": "DIRECT", "latencyMs": 3, "detail": "via 192.0.2.1/9993"}},
    }


# --- reading zerotier-cli -j peers --------------------------------------------------------------------------------


def path_of(peer: dict[str, Any] | None, *, peers: Any = None, now_ms: int | None = None) -> tuple[str, str, str]:
    found = peer_path(peers if peers is not None else [peer], "aaaa000001", now_ms)
    return found.kind, str(found), found.detail


def test_peers_output_that_is_no_list_is_unknown() -> None:
    assert path_of(None, peers={"address": "aaaa000001"}) == (
        "UNKNOWN",
        "UNKNOWN",
        "zerotier-cli -j peers gave no list",
    )


@pytest.mark.parametrize(
    ("latency", "shown"),
    [(0, "DIRECT 0ms"), (1, "DIRECT 1ms"), (-1, "DIRECT"), ("3", "DIRECT"), (None, "DIRECT")],
)
def test_a_latency_is_shown_when_zerotier_measured_one(latency: Any, shown: str) -> None:
    peer = {"address": "aaaa000001", "latency": latency, "paths": [{"active": True, "address": "192.0.2.1/9993"}]}
    assert path_of(peer)[1] == shown


@pytest.mark.parametrize(
    ("paths", "kind"),
    [
        (None, "RELAY"),
        ([{"active": False, "expired": False}], "RELAY"),
        ([{"active": True, "expired": True}], "RELAY"),
        (["192.0.2.1/9993"], "RELAY"),
        ([{"active": True}], "DIRECT"),
    ],
    ids=["no-list", "inactive", "expired", "not-an-object", "active"],
)
def test_only_an_active_unexpired_path_is_direct(paths: Any, kind: str) -> None:
    assert path_of({"address": "aaaa000001", "latency": 5, "paths": paths})[0] == kind


def test_the_preferred_path_is_named_else_the_first_else_a_question_mark() -> None:
    first = {"active": True, "address": "192.0.2.1/9993"}
    second = {"active": True, "address": "198.51.100.7/41000", "preferred": True}
    assert path_of({"address": "aaaa000001", "paths": [first, second]})[2] == "via 198.51.100.7/41000"
    assert path_of({"address": "aaaa000001", "paths": [first, {**second, "preferred": False}]})[2] == (
        "via 192.0.2.1/9993"
    )
    assert path_of({"address": "aaaa000001", "paths": [{"active": True}]})[2] == "via ?"


def test_a_path_is_stale_only_after_more_than_a_minute_without_a_packet() -> None:
    now = 1_764_000_000_000

    def kind(last_receive: Any) -> str:
        path = {"active": True, "address": "192.0.2.1/9993", "lastReceive": last_receive}
        return path_of({"address": "aaaa000001", "paths": [path]}, now_ms=now)[0]

    assert kind(now - 60_000) == "DIRECT"
    assert kind(now - 60_001) == "RELAY"
    assert kind(1) == "RELAY"
    assert kind(0) == "DIRECT", "0: ZeroTier has not recorded a receive time, nothing to judge"
    assert kind(None) == "DIRECT"


def test_an_assigned_address_that_is_no_address_is_not_listed_as_ipv4() -> None:
    facts = healthy("head")
    facts["listnetworks"][1][0]["assignedAddresses"] = ["garbage", "10.147.17.2/24"]
    assert failing(judge("head", facts))[0][:3] == (
        "address",
        "10.147.17.2/24",
        "has garbage, 10.147.17.2/24, planned 10.147.17.1/24",
    )


def checks(row: Row) -> list[tuple[str, bool | None, str, str, str]]:
    """Every check whole: name, ok, value, detail, fix."""
    return [(c.name, c.ok, c.value, c.detail, c.fix) for c in row.checks]


def test_when_zerotier_does_not_answer_every_check_it_feeds_says_why() -> None:
    facts = healthy("compute-01")
    facts["values"]["service"] = None  # no systemctl: status.sh prints "service unknown" then; here no line at all
    failed = "Error connecting to the ZeroTier service: connection failed"
    facts["info"] = facts["listnetworks"] = facts["peers"] = (1, failed)
    install = f"pulumi up --stack lab --replace '{URN}compute-01-install'"
    assert checks(judge("compute-01", facts))[:4] == [
        (
            "zerotier",
            False,
            "not running",
            f"zerotier-cli -j info exited 1: {failed} (zerotier-one service: unknown)",
            f"start it on the node (sudo systemctl start zerotier-one); if it does not stay up, {install}",
        ),
        ("identity", None, "?", "the node did not report its ZeroTier address", ""),
        ("network", None, "?", f"zerotier-cli -j listnetworks exited 1: {failed}", ""),
        ("address", None, "?", f"zerotier-cli -j listnetworks exited 1: {failed}", ""),
    ]


def test_a_version_or_a_status_zerotier_did_not_report_is_a_question_mark() -> None:
    facts = healthy("compute-01")
    facts["info"] = (0, {"address": "aaaa000011", "online": True})
    facts["listnetworks"][1][0].pop("status")
    row = judge("compute-01", facts)
    join = f"pulumi up --stack lab --replace '{URN}compute-01-join'"
    assert failing(row) == [
        (
            "zerotier",
            "?",
            "runs ZeroTier ?, zerotierVersion is 1.14.1",
            f"pulumi up --stack lab --replace '{URN}compute-01-install' (installs and pins 1.14.1), "
            "or set zerotierVersion: ?",
        ),
        ("network", "?", f"network {NETWORK_ID}", join),
    ]


def test_a_path_is_judged_stale_by_the_nodes_own_clock() -> None:
    facts = healthy("compute-01")
    head = facts["peers"][1][0]
    head["paths"][0]["lastReceive"] = NOW * 1000 - 61_000
    assert verdicts(judge("compute-01", facts))["path:head"] == (False, "RELAY 3ms")
    head["paths"][0]["lastReceive"] = NOW * 1000 - 59_000
    assert verdicts(judge("compute-01", facts))["path:head"] == (True, "DIRECT 3ms")
    # Without the node's clock there is nothing to judge the receive time against.
    head["paths"][0]["lastReceive"] = NOW * 1000 - 61_000
    facts["values"]["clock"] = None
    assert verdicts(judge("compute-01", facts))["path:head"] == (True, "DIRECT 3ms")
    facts["values"]["clock"] = "soon"
    assert verdicts(judge("compute-01", facts))["path:head"] == (True, "DIRECT 3ms")


def test_a_remote_heads_address_is_pinged_from_a_stack_that_does_not_own_the_head() -> None:
    """A cloud stack's nodes check their path to the head the onprem stack owns (remoteHead: its name and IP)."""
    config = read_stack_config(ROOT, "cloud")
    plan = build_plan(parse_cluster(config, base_dir=ROOT))
    node = next(n for n in plan.nodes if n.name == "burst-01")
    facts = healthy("compute-01")
    facts["values"] = {"ztc-status": "1", "user": "ops", "root": "yes", "cli": "yes", "clock": str(NOW)}
    facts["values"]["ping.10.147.17.1"] = "no"
    ctx = Context(plan, Target.find("cloud", "zerotier-cluster", None, {}), {"head": "aaaa000001"}, None, {}, False)
    row = evaluate(ctx, node, Reply(stdout=report(facts)))
    assert (row.check("path:head").ok, row.check("path:head").detail) == (  # type: ignore[union-attr]
        False,
        "head (10.147.17.1) does not answer ping over the overlay; via 192.0.2.1/9993",
    )


def test_a_block_whose_exit_code_is_not_a_number_counts_as_failed() -> None:
    facts = Facts.parse("ztc-status 1\n@info x\nboom\n@end\n")
    assert facts.blocks == {"info": (-1, "boom")}
    assert facts.cli_error("info") == "zerotier-cli -j info exited -1: boom"


@pytest.mark.parametrize("blocks", [None, ""], ids=["no-line", "empty"])
def test_no_count_of_hosts_blocks_is_none(blocks: str | None) -> None:
    facts = healthy("compute-01")
    facts["values"]["hosts.blocks"] = blocks
    assert verdicts(judge("compute-01", facts))["hosts"] == (False, "MISSING")


def test_rows_name_the_node_its_host_and_role_whether_or_not_it_answered() -> None:
    node = next(n for n in PLAN.nodes if n.name == "compute-02")
    ctx = Context(PLAN, LAB, ADDRESSES, NETWORK_ID, {}, False)
    for reply in (Reply(error="timed out"), Reply(stdout="garbage\n")):
        row = evaluate(ctx, node, reply)
        assert (row.name, row.host, row.role, row.reached) == ("compute-02", "192.0.2.12", "compute", False)
    # A host another resource gives (a cloud server's address) is not known until pulumi up: shown as such.
    elsewhere = replace(node, spec=replace(node.spec, host=object()))  # type: ignore[arg-type]
    assert evaluate(ctx, elsewhere, Reply(error="timed out")).host == "(from another resource)"


def test_a_component_urn_names_the_target_and_anything_else_none() -> None:
    urn = "urn:pulumi:burst::cloud-burst::pulumi:pulumi:Stack$custom:index:Burst$zerotier-cluster:index:Overlay::burst"
    target = Target.of_urn(urn)
    assert target == Target("burst", "cloud-burst", "burst", "custom:index:Burst$zerotier-cluster:index:Overlay")
    assert Target.of_urn("a::b::c::d") is None
    assert Target.of_urn("urn:pulumi:lab::zerotier-cluster::zerotier-cluster:index:Overlay") is None
