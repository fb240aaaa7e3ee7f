"""``python -m cluster render``: what a reviewer sees is byte for byte what the program declares."""

from __future__ import annotations

import hashlib
import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.mockrun import NETWORK_ID, ROOT, run_program, shared_scope, stack_file_config

OWNER = "organization/zerotier-cluster/onprem"


def render(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cluster", "render", *args], cwd=cwd, capture_output=True, text=True, check=False
    )


@pytest.fixture(scope=shared_scope)
def declared() -> dict[str, tuple[dict[str, str], bytes]]:
    """stack → (resource name → stdin, the bundle's bytes), from the program under mocks."""
    result = {}
    owner_outputs = None
    for stack in ("dev", "onprem", "cloud"):
        config, secrets = stack_file_config(stack)
        run = run_program(config, secrets, stack=stack, stack_outputs={OWNER: owner_outputs or {}})
        if stack == "onprem":
            owner_outputs = run.outputs
        copies = {Path(c.inputs["source"].path).read_bytes() for c in run.of_type("command:remote:CopyToRemote")}
        assert len(copies) == 1
        result[stack] = ({c.name: c.inputs["stdin"] for c in run.of_type("command:remote:Command")}, copies.pop())
    return result


@pytest.mark.parametrize("stack", ["dev", "onprem", "cloud"])
def test_rendered_files_are_what_the_program_declares(stack: str, declared, tmp_path: Path) -> None:
    out = tmp_path / stack
    done = render("--stack", stack, "--out", str(out), "--network-id", NETWORK_ID)
    assert done.returncode == 0, done.stderr
    plan = json.loads((out / "plan.json").read_text())
    stdins, bundle = declared[stack]
    assert (out / "bundle.tar").read_bytes() == bundle, "the bundle render writes is the one the program ships"
    steps = 0
    for node in plan["nodes"]:
        for step, sha in node["steps"].items():
            rendered = (out / node["name"] / f"{step}.sh").read_text()
            assert rendered == stdins[f"zerotier-cluster-{node['name']}-{step}"], (node["name"], step)
            assert f"\nZTC_PROGRAM={sha}\n" in rendered
            program = (out / "programs" / f"{sha}.sh").read_bytes()
            assert hashlib.sha256(program).hexdigest() == sha
            steps += 1
        ruleset = (out / node["name"] / "firewall.nft").read_text()
        firewall = (out / "programs" / f"{node['steps']['firewall']}.sh").read_text()
        assert f"ZTC_RULESET={shlex.quote(ruleset)}\n" in firewall
    assert steps == len(stdins)


def test_plan_json_describes_network_nodes_and_interfaces(tmp_path: Path) -> None:
    assert render("--stack", "onprem", "--out", str(tmp_path)).returncode == 0
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert plan["network"]["cidr"] == "10.147.17.0/24"
    assert plan["network"]["networkId"] is None, "created by pulumi up: not known yet"
    head = plan["nodes"][0]
    assert set(head["steps"]) == {"install", "identity", "localconf", "join", "firewall", "hosts", "verify"}
    assert all(len(sha) == 64 for sha in head["steps"].values())
    del head["steps"]
    assert head == {
        "name": "head",
        "role": "head",
        "host": "192.0.2.10",
        "ip": "10.147.17.1",
        "interface": "zthpc",
        "state": "active",
        "generation": 0,
    }
    dev = tmp_path / "dev"
    assert render("--stack", "dev", "--out", str(dev)).returncode == 0
    assert json.loads((dev / "plan.json").read_text())["nodes"][0]["interface"] == "zt050e2a9f6a", "derived, pinned"
    assert (dev / "rules.zt").read_text().startswith("# ZeroTier rules of network 'chpc-overlay'")
    compiled = json.loads((dev / "rules.json").read_text())
    assert compiled[:2] == [
        {"type": "MATCH_ETHERTYPE", "not": True, "or": False, "etherType": 2048},
        {"type": "MATCH_ETHERTYPE", "not": True, "or": False, "etherType": 2054},
    ]


def test_unknown_values_are_visible_placeholders(tmp_path: Path) -> None:
    assert render("--stack", "dev", "--out", str(tmp_path)).returncode == 0
    join = (tmp_path / "compute-01" / "join.sh").read_text()
    assert "ZTC_NETWORK_ID='<networkId: known once pulumi up has created it>'" in join


def test_printing_summarizes_one_line_per_node_and_each_program_once() -> None:
    done = render("--stack", "dev")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("NAME "))
    assert lines[header].split() == [
        "NAME", "ROLE", "SSH", "HOST", "OVERLAY", "IP",
        "INSTALL", "IDENTITY", "LOCALCONF", "JOIN", "FIREWALL", "HOSTS", "VERIFY", "ADDRESS",
    ]  # fmt: skip
    rows = [line.split() for line in lines[header + 1 : header + 4]]
    assert [r[:4] for r in rows] == [
        ["head", "head", "203.0.113.10", "10.147.17.1"],
        ["compute-01", "compute", "192.168.10.11", "10.147.17.112"],
        ["compute-02", "compute", "192.168.10.12", "10.147.17.18"],
    ]
    assert rows[1][4:11] == rows[2][4:11], "the two compute nodes run the same programs"
    assert rows[0][4:7] == rows[1][4:7], "one install program, one identity program, one local.conf (one site)"
    assert rows[0][8] != rows[1][8], "firewalls differ by role"
    assert "bundle " in done.stdout and "9 programs" in done.stdout
    rules = lines.index("# ZeroTier rules of network 'chpc-overlay', generated by zerotier-cluster")
    assert rules < 30, "a summary, not every script: the address table and the programs, then the rules"
    assert "drop" in done.stdout[done.stdout.index("# ZeroTier rules") :]
    assert "AAABAPLACEHOLDER" not in done.stdout, "encrypted config values are never read"


def test_full_prints_every_stdin_program_and_ruleset() -> None:
    done = render("--stack", "dev", "--full")
    assert done.returncode == 0, done.stderr
    assert "===== compute-02: verify (stdin of `/bin/sh -s -- create`) =====" in done.stdout
    assert "===== head: firewall ruleset (nft -f) =====" in done.stdout
    assert done.stdout.count("===== program ") == 9
    assert "hosts_check_params() {" in done.stdout


def test_bad_stack_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.bad.yaml").write_text(
        "config:\n  zerotier-cluster:network: {name: n, cidr: 10.0.0.0/8}\n"
        "  zerotier-cluster:nodes: [{name: head, role: head, host: 'a b'}]\n"
    )
    done = render("--stack", "bad", "--project", str(tmp_path))
    assert done.returncode == 2
    assert "zerotier-cluster:nodes[0].host" in done.stderr and "fix:" in done.stderr
    missing = render("--stack", "nope", "--project", str(tmp_path))
    assert missing.returncode == 2 and "Pulumi.nope.yaml" in missing.stderr


def test_the_heads_controller_and_root_commands_are_reviewed_like_every_step(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.lab.yaml").write_text(
        "config:\n"
        "  zerotier-cluster:controller: head\n"
        "  zerotier-cluster:roots: head\n"
        "  zerotier-cluster:network: {name: lab, cidr: 10.147.17.0/24}\n"
        "  zerotier-cluster:ssh: {user: ops}\n"
        "  zerotier-cluster:nodes: [{name: head, role: head, host: 192.0.2.10}, {name: cn-01, host: 192.0.2.11}]\n"
        "  zerotier-cluster:devices: [{name: laptop, address: abcdef0123}]\n"
    )
    done = render("--stack", "lab", "--project", str(tmp_path))
    assert done.returncode == 0, done.stderr
    header = next(line for line in done.stdout.splitlines() if line.startswith("NAME "))
    assert header.split()[6:17] == [
        "INSTALL",
        "IDENTITY",
        "LOCALCONF",
        "MOON",
        "ORBIT",
        "NETWORK",
        "MEMBER",
        "JOIN",
        "FIREWALL",
        "HOSTS",
        "VERIFY",
    ]
    laptop = next(line for line in done.stdout.splitlines() if line.startswith("laptop "))
    assert laptop.split()[5:16].count("-") == 10, "a device has only its authorization on the head"
    out = tmp_path / "out"
    assert render("--stack", "lab", "--project", str(tmp_path), "--out", str(out)).returncode == 0
    for name, step in (("head", "network"), ("head", "moon"), ("cn-01", "member"), ("laptop", "member")):
        assert (
            (out / name / f"{step}.sh")
            .read_text()
            .startswith(f"#!/bin/sh\n# zerotier-cluster {step} step for node {name}\n")
        )
