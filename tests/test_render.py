"""``python -m cluster render``: what a reviewer sees is byte for byte what the program declares."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.mockrun import NETWORK_ID, ROOT, run_program, stack_file_config

OWNER = "organization/zerotier-cluster/onprem"


def render(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cluster", "render", *args], cwd=cwd, capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def declared() -> dict[str, dict[str, str]]:
    """stack → resource name → stdin, from the program under mocks."""
    result = {}
    owner_outputs = None
    for stack in ("dev", "onprem", "cloud"):
        config, secrets = stack_file_config(stack)
        run = run_program(config, secrets, stack=stack, stack_outputs={OWNER: owner_outputs or {}})
        if stack == "onprem":
            owner_outputs = run.outputs
        result[stack] = {c.name: c.inputs["stdin"] for c in run.of_type("command:remote:Command")}
    return result


@pytest.mark.parametrize("stack", ["dev", "onprem", "cloud"])
def test_rendered_files_are_what_the_program_declares(stack: str, declared, tmp_path: Path) -> None:
    out = tmp_path / stack
    done = render("--stack", stack, "--out", str(out), "--network-id", NETWORK_ID)
    assert done.returncode == 0, done.stderr
    plan = json.loads((out / "plan.json").read_text())
    stdins = declared[stack]
    steps = 0
    for node in plan["nodes"]:
        for step in node["steps"]:
            rendered = (out / node["name"] / f"{step}.sh").read_text()
            assert rendered == stdins[f"zerotier-cluster-{node['name']}-{step}"], (node["name"], step)
            steps += 1
        ruleset = (out / node["name"] / "firewall.nft").read_text()
        assert f"ZTC_RULESET={shlex.quote(ruleset)}\n" in stdins[f"zerotier-cluster-{node['name']}-firewall"]
    assert steps == len(stdins)


def test_plan_json_describes_network_nodes_and_interfaces(tmp_path: Path) -> None:
    assert render("--stack", "onprem", "--out", str(tmp_path)).returncode == 0
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert plan["network"]["cidr"] == "10.147.17.0/24"
    assert plan["network"]["networkId"] is None, "created by pulumi up: not known yet"
    head = plan["nodes"][0]
    assert head == {
        "name": "head",
        "role": "head",
        "host": "192.0.2.10",
        "ip": "10.147.17.1",
        "interface": "zthpc",
        "steps": ["install", "join", "firewall", "hosts", "verify"],
    }
    dev = tmp_path / "dev"
    assert render("--stack", "dev", "--out", str(dev)).returncode == 0
    assert json.loads((dev / "plan.json").read_text())["nodes"][0]["interface"] == "zt*"


def test_unknown_values_are_visible_placeholders(tmp_path: Path) -> None:
    assert render("--stack", "dev", "--out", str(tmp_path)).returncode == 0
    join = (tmp_path / "compute-01" / "join.sh").read_text()
    assert "ZTC_NETWORK_ID='<networkId: known once pulumi up has created it>'" in join


def test_printing_shows_the_address_table_scripts_and_rulesets() -> None:
    done = render("--stack", "dev")
    assert done.returncode == 0, done.stderr
    assert "NAME        ROLE     SSH HOST       OVERLAY IP     ADDRESS" in done.stdout
    assert "===== compute-02: verify" in done.stdout
    assert "===== head: firewall ruleset (nft -f) =====" in done.stdout
    assert "AAABAPLACEHOLDER" not in done.stdout, "encrypted config values are never read"


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
