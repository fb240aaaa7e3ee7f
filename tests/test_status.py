"""``python -m cluster status`` against real Debian 12 machines over real SSH.

Each node is provisioned the way the program does it (join, firewall and hosts
sent by :func:`tests.lab.provision.run_step`), with the stand-in zerotier-cli
(``tests/lab/fake_zerotier_cli.sh``) in place of ZeroTier: the overlay
addresses sit on the machines' segment interface, so the pings status sends are
real. The command runs as the operator would run it: ``python3 -m cluster
status --stack lab --project DIR --identity KEY`` inside the operator's
namespace, reading a ``Pulumi.lab.yaml`` written for the test.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from cluster.operate.status import Context, Facts, Target, peer_path
from cluster.plan.build import build_plan
from tests.lab.provision import NETWORK_ID, ROOT, plan_for, run_step, step_text
from tests.lab.zerotier_stand_in import ZT_HOME, install_fake_cli, set_running, set_scenario

ADDRESSES = {"head": "aaaa000001", "compute-01": "aaaa000011", "compute-02": "aaaa000012"}
IPS = {"head": "10.147.17.1", "compute-01": "10.147.17.11", "compute-02": "10.147.17.12"}


def lab_config(hosts: dict[str, str], **settings: Any) -> dict[str, Any]:
    """The stack config for machines named by node: head is the head, the rest compute nodes."""
    nodes = [
        {"name": name, "role": "head" if name == "head" else "compute", "host": host, "ip": IPS[name]}
        for name, host in hosts.items()
    ]
    return {
        "network": {"name": "chpc-overlay", "cidr": "10.147.17.0/24", "networkId": NETWORK_ID},
        "ssh": {"user": "ops"},
        "nodes": nodes,
        **settings,
    }


def write_stack(directory: Path, config: dict[str, Any]) -> Path:
    """Pulumi.lab.yaml (JSON is YAML) with the config under the project's namespace."""
    directory.mkdir(parents=True, exist_ok=True)
    document = {"config": {f"zerotier-cluster:{key}": value for key, value in config.items()}}
    (directory / "Pulumi.lab.yaml").write_text(json.dumps(document, indent=2))
    return directory


def peers_of(name: str, names: list[str], link: str = "direct") -> str:
    """The stand-in's PEERS: a planet, and every other node at 3 ms over ``link``."""
    others = [f"{ADDRESSES[n]}/LEAF/3/{link}" for n in names if n != name]
    return " ".join(["778cde7190/PLANET/88/direct", *others])


def provision(operator: Any, machine: Any, config: dict[str, Any], name: str, names: list[str]) -> None:
    """A node as pulumi up leaves it: ZeroTier (stand-in) up and joined, firewall and hosts applied."""
    machine.host.run(["ip", "addr", "add", f"{IPS[name]}/24", "dev", "eth0"], check=True)
    install_fake_cli(
        machine,
        address=ADDRESSES[name],
        scenario={"ADDRESSES": f"{IPS[name]}/24", "PEERS": peers_of(name, names)},
    )
    steps = ("join", "hosts") if config.get("firewall", {}).get("mode") == "off" else ("join", "firewall", "hosts")
    for step in steps:
        result = run_step(operator, machine, step_text(config, name, step))
        assert result.returncode == 0, f"{name} {step}: {result.stderr}"


def status(operator: Any, project: Path, *args: str, timeout: float = 120) -> Any:
    """``python3 -m cluster status --stack lab`` from the operator's workstation."""
    argv = ["python3", "-m", "cluster", "status", "--stack", "lab", "--project", str(project)]
    argv += ["--identity", str(operator.key), *args]
    return operator.host.run(argv, cwd=str(ROOT), timeout=timeout)


def fingerprint(machine: Any) -> dict[str, str]:
    """Hashes of everything the program owns on a node, and the loaded ruleset."""
    files: dict[str, str] = {}
    for top in ("etc/hosts", "etc/nftables.conf", "etc/zerotier-cluster", "var/lib/zerotier-cluster",
                "var/lib/zerotier-one", "home/ops", "etc/fake-zerotier"):  # fmt: skip
        root = machine.path(top)
        for path in [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file()):
            files[str(path.relative_to(machine.merged))] = hashlib.sha256(path.read_bytes()).hexdigest()
    files["nft list ruleset"] = machine.host.run(["nft", "list", "ruleset"], check=True).stdout
    return files


@pytest.fixture
def cluster(machine_factory: Any, operator: Any, tmp_path: Path) -> dict[str, Any]:
    """head and compute-01, provisioned; booted, so nftables.service is enabled for real."""
    machines = {"head": machine_factory("shead", boot=True), "compute-01": machine_factory("sc1", boot=True)}
    config = lab_config({name: str(m.host.ip) for name, m in machines.items()})
    for name, machine in machines.items():
        provision(operator, machine, config, name, list(machines))
    return {"machines": machines, "config": config, "project": write_stack(tmp_path / "project", config)}


def test_status_healthy_cluster_exits_0_and_changes_nothing_stand_in(cluster: dict[str, Any], operator: Any) -> None:
    machines, project = cluster["machines"], cluster["project"]
    before = {name: fingerprint(m) for name, m in machines.items()}

    r = status(operator, project)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.splitlines() == [
        "NODE        ROLE     ZEROTIER  NETWORK  ADDRESS       PATH TO HEAD  FIREWALL  HOSTS",
        "head        head     1.14.1    OK       10.147.17.1   -             ok        ok",
        "compute-01  compute  1.14.1    OK       10.147.17.11  DIRECT 3ms    ok        ok",
        "identities not compared with members: add --outputs FILE (`pulumi stack output --json > FILE`)",
    ]

    r = status(operator, project, "--json", "--mesh")
    assert r.returncode == 0, r.stdout + r.stderr
    report = json.loads(r.stdout)
    assert report["ok"] is True
    head, compute = report["nodes"]
    assert (head["name"], head["address"], compute["address"]) == ("head", "aaaa000001", "aaaa000011")
    assert compute["paths"] == {"head": {"type": "DIRECT", "latencyMs": 3, "detail": "via 192.0.2.1/9993"}}
    assert head["paths"] == {"compute-01": {"type": "DIRECT", "latencyMs": 3, "detail": "via 192.0.2.17/9993"}}
    assert {name: c["value"] for name, c in compute["checks"].items()} == {
        "zerotier": "1.14.1",
        "identity": "aaaa000011",
        "network": "OK",
        "address": "10.147.17.11",
        "mtu": "2800",
        "firewall": "ok",
        "hosts": "ok",
    }

    # Read-only: nothing the program owns changed, and nothing new appeared.
    assert {name: fingerprint(m) for name, m in machines.items()} == before


def test_status_names_each_drift_with_its_node_and_check_stand_in(cluster: dict[str, Any], operator: Any) -> None:
    machines, project = cluster["machines"], cluster["project"]
    c1 = machines["compute-01"]
    urn = "urn:pulumi:lab::zerotier-cluster::zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-"

    def drifted(expected: str) -> None:
        r = status(operator, project)
        assert r.returncode == 1, r.stdout + r.stderr
        assert expected in r.stdout, r.stdout
        assert not any(line.startswith("head:") for line in r.stdout.splitlines()), r.stdout

    # Table flushed: the kernel lost it; the file on disk is still right.
    c1.host.run(["nft", "delete", "table", "inet", "zerotier_cluster"], check=True)
    drifted(
        "compute-01: firewall: table inet zerotier_cluster is not loaded (flushed or deleted). "
        f"Fix: pulumi up --stack lab --replace '{urn}compute-01-firewall'"
    )
    assert run_step(operator, c1, step_text(cluster["config"], "compute-01", "firewall")).returncode == 0

    # Hosts block edited by hand.
    hosts = c1.path("/etc/hosts")
    original = hosts.read_text()
    hosts.write_text(original.replace("10.147.17.1   head", "10.147.17.99  head"))
    drifted(
        "compute-01: hosts: the /etc/hosts block differs from the planned one. "
        f"Fix: pulumi up --stack lab --replace '{urn}compute-01-hosts'"
    )
    hosts.write_text(original)

    # Network left.
    conf = c1.path(f"{ZT_HOME}/networks.d/{NETWORK_ID}.conf")
    joined = conf.read_text()
    conf.unlink()
    drifted(f"compute-01: network: {NETWORK_ID} is not among the node's networks (it left). Fix: pulumi up")
    conf.write_text(joined)

    # Wrong address.
    set_scenario(c1, ADDRESSES="10.147.17.77/24", PEERS=peers_of("compute-01", list(machines)))
    drifted("compute-01: address: has 10.147.17.77/24, planned 10.147.17.11/24. Fix: pulumi refresh, then pulumi up")

    # Relayed path to the head.
    set_scenario(c1, ADDRESSES="10.147.17.11/24", PEERS=peers_of("compute-01", list(machines), link="relay"))
    drifted(
        "compute-01: path to head: RELAY 3ms: no direct path: traffic goes through a ZeroTier root. "
        "Fix: a relayed path usually means UDP 9993 is blocked between the two sites"
    )

    # ZeroTier stopped.
    set_scenario(c1, ADDRESSES="10.147.17.11/24", PEERS=peers_of("compute-01", list(machines)))
    set_running(c1, False)
    drifted("compute-01: zerotier: zerotier-cli -j info exited 1: Error connecting to the ZeroTier service")
    set_running(c1, True)

    # A new identity (reimaged, or reinstalled) against the member the stack outputs name.
    outputs = project / "outputs.json"
    members = {"head": {"memberId": "aaaa000001"}, "compute-01": {"memberId": "bbbb000011"}}
    outputs.write_text(json.dumps({"networkId": NETWORK_ID, "nodes": members}))
    r = status(operator, project, "--outputs", str(outputs))
    assert r.returncode == 1
    assert (
        "compute-01: identity: the node is aaaa000011 but its member is bbbb000011: its identity was replaced "
        "(reimaged, or reinstalled). Fix: raise generation of zerotier-cluster:nodes[1] to 1 and run pulumi up"
    ) in r.stdout, r.stdout

    members["compute-01"]["memberId"] = "aaaa000011"
    outputs.write_text(json.dumps({"networkId": NETWORK_ID, "nodes": members}))
    assert status(operator, project, "--outputs", str(outputs)).returncode == 0
    assert status(operator, project).returncode == 0


def test_status_unreachable_node_is_a_row_and_does_not_slow_the_others_stand_in(
    machine_factory: Any, operator: Any, segment: Any, tmp_path: Path
) -> None:
    head, c1 = machine_factory("uhead"), machine_factory("uc1")
    # A host that drops everything: SSH to it hangs until the time limit.
    hole = segment.add_host("hole")
    hole.run(["nft", "add table inet t; add chain inet t in { type filter hook input priority 0; policy drop; }"])
    hosts = {"head": str(head.host.ip), "compute-01": str(c1.host.ip), "compute-02": str(hole.ip)}
    config = lab_config(hosts, firewall={"mode": "off"})
    for name, machine in (("head", head), ("compute-01", c1)):
        provision(operator, machine, config, name, list(hosts))
    project = write_stack(tmp_path / "project", config)

    started = time.monotonic()
    r = status(operator, project, "--timeout", "6", "--parallel", "3")
    elapsed = time.monotonic() - started
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert lines[3].split()[:3] == ["compute-02", "compute", "UNREACHABLE"], r.stdout
    assert "compute-02: unreachable: " in r.stdout
    assert "set state: evicted on zerotier-cluster:nodes[2]" in r.stdout
    assert lines[1].split()[-2:] == ["off", "ok"] and lines[2].split()[-2:] == ["off", "ok"], r.stdout
    assert "Traceback" not in r.stderr
    assert elapsed < 6 + 8, f"took {elapsed:.1f}s with --timeout 6"


def test_status_pins_host_keys_and_goes_through_the_jump_host_stand_in(
    machine_factory: Any, operator: Any, tmp_path: Path
) -> None:
    head, c1 = machine_factory("khead"), machine_factory("kc1")
    key = head.path("/etc/ssh/ssh_host_ed25519_key.pub").read_text().split()
    pinned = f"{key[0]} {key[1]}"
    hosts = {"head": str(head.host.ip), "compute-01": str(c1.host.ip)}
    other = c1.path("/etc/ssh/ssh_host_ed25519_key.pub").read_text().split()
    config = lab_config(hosts, firewall={"mode": "off"}, ssh={"user": "ops", "proxy": "head"})
    config["nodes"][0]["hostKey"] = pinned
    config["nodes"][1]["hostKey"] = f"{other[0]} {other[1]}"
    for name, machine in (("head", head), ("compute-01", c1)):
        provision(operator, machine, config, name, list(hosts))
    # compute-01 only admits SSH from the head: reaching it proves the jump.
    only_head = f"tcp dport 22 ip saddr != {head.host.ip} drop"
    chain = "add table inet t; add chain inet t in { type filter hook input priority 0; }"
    rules = f"{chain}; add rule inet t in {only_head}"
    c1.host.run(["nft", rules], check=True)
    project = write_stack(tmp_path / "project", config)
    r = status(operator, project, "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert [n["reached"] for n in json.loads(r.stdout)["nodes"]] == [True, True]

    # Another key (the machines are copies of one tree, so they share theirs): refused, not reached.
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "wrong")], check=True)
    wrong = (tmp_path / "wrong.pub").read_text().split()
    config["nodes"][0]["hostKey"] = f"{wrong[0]} {wrong[1]}"
    write_stack(project, config)
    r = status(operator, project, "--json")
    report = json.loads(r.stdout)
    assert r.returncode == 1
    assert report["nodes"][0]["reached"] is False
    assert "Host key verification failed" in report["nodes"][0]["error"]


# --- the verdicts on their own: output shapes ZeroTier 1.14 prints --------------------------

PEERS_JSON = [
    {"address": "778cde7190", "latency": 88, "role": "PLANET", "tunneled": False,
     "paths": [{"active": True, "expired": False, "preferred": True, "address": "103.195.103.66/9993"}]},
    {"address": "aaaa000001", "latency": 12, "role": "LEAF", "tunneled": False,
     "paths": [{"active": False, "expired": True, "preferred": False, "address": "198.51.100.1/9993"},
               {"active": True, "expired": False, "preferred": True, "address": "198.51.100.1/41234"}]},
    {"address": "aaaa000002", "latency": -1, "role": "LEAF", "tunneled": False, "paths": []},
    {"address": "aaaa000003", "latency": 140, "role": "LEAF", "tunneled": True,
     "paths": [{"active": True, "expired": False, "preferred": True, "address": "198.51.100.3/443"}]},
    {"address": "aaaa000004", "latency": 9, "role": "LEAF", "tunneled": False,
     "paths": [{"active": False, "expired": True, "preferred": False, "address": "198.51.100.4/9993"}]},
]  # fmt: skip


@pytest.mark.parametrize(
    ("address", "shown", "detail"),
    [
        ("aaaa000001", "DIRECT 12ms", "via 198.51.100.1/41234"),
        ("aaaa000002", "RELAY", "no direct path: traffic goes through a ZeroTier root"),
        ("aaaa000003", "RELAY 140ms", "tunneled over TCP: traffic goes through a ZeroTier root"),
        ("aaaa000004", "RELAY 9ms", "no direct path: traffic goes through a ZeroTier root"),
        ("aaaa0000ff", "UNKNOWN", "aaaa0000ff is not among this node's peers (no traffic between them yet)"),
        (None, "UNKNOWN", "its ZeroTier address is not known (that node did not report)"),
    ],
)
def test_peer_path_direct_relay_unknown(address: str | None, shown: str, detail: str) -> None:
    path = peer_path(PEERS_JSON, address)
    assert (str(path), path.detail) == (shown, detail)


@pytest.mark.parametrize(
    ("address", "shown", "detail"),
    [
        ("7ed68ec79a", "DIRECT 9ms", "via 10.77.0.4/9993"),  # the other compute node, on the segment
        ("f14cbf0e1c", "DIRECT 22ms", "via 10.77.0.2/9993"),  # the head, the moon: three paths, one preferred
        ("778cde7190", "RELAY", "no direct path: traffic goes through a ZeroTier root"),  # an offline planet root
    ],
)
def test_peer_path_reads_a_real_zerotier_1_14_1_peers_output(address: str, shown: str, detail: str) -> None:
    """``zerotier-cli -j peers`` as compute-01 printed it in tests/test_lab_status.py (see the samples' README)."""
    peers = json.loads((ROOT / "tests" / "lab" / "zerotier_samples" / "peers-1.14.1.json").read_text())
    path = peer_path(peers, address)
    assert (str(path), path.detail) == (shown, detail)


def test_a_path_that_has_received_nothing_for_a_minute_is_relayed_whatever_its_flags() -> None:
    """ZeroTier 1.14.1 keeps a blocked path active, unexpired and preferred for minutes (tests/test_lab_status.py)."""
    peers = json.loads((ROOT / "tests" / "lab" / "zerotier_samples" / "peers-1.14.1.json").read_text())
    compute_02 = next(p for p in peers if p["address"] == "7ed68ec79a")
    last = max(p["lastReceive"] for p in compute_02["paths"])
    assert str(peer_path(peers, "7ed68ec79a", now_ms=last + 59_000)) == "DIRECT 9ms"
    stale = peer_path(peers, "7ed68ec79a", now_ms=last + 61_000)
    assert (str(stale), stale.detail) == ("RELAY 9ms", "no direct path: traffic goes through a ZeroTier root")


def test_report_parser_keeps_json_blocks_and_exit_codes() -> None:
    failed = "Error connecting to the ZeroTier service: connection failed"
    facts = Facts.parse(
        'ztc-status 1\nroot yes\n@info 0\n{"address": "aaaa000001",\n "version": "1.14.1"}\n@end\n'
        f"@peers 1\n{failed}\n@end\nhosts.blocks 2\n"
    )
    assert facts.values == {"ztc-status": "1", "root": "yes", "hosts.blocks": "2"}
    assert facts.json("info") == {"address": "aaaa000001", "version": "1.14.1"}
    assert facts.json("peers") is None
    assert facts.cli_error("peers") == f"zerotier-cli -j peers exited 1: {failed}"


def test_replace_fix_names_a_urn_the_program_declares() -> None:
    """The `pulumi up --replace` status suggests targets a resource the program really registers."""
    from tests.mockrun import run_program

    config = lab_config({"head": "192.0.2.10", "compute-01": "192.0.2.11"})
    raw = {f"zerotier-cluster:{k}": json.dumps(v) for k, v in config.items()}
    secrets = {"zerotier:zerotierCentralToken": "decrypted-token", "zerotier-cluster:sshPrivateKey": "decrypted-key"}
    run = run_program(raw | secrets, list(secrets), stack="lab")
    # Without the outputs: this project's own program; with them: the component's URN they carry.
    for target in (Target.find("lab", "zerotier-cluster", None, {}), Target.find("lab", "x", None, run.outputs)):
        ctx = Context(build_plan_for(config), target, {}, NETWORK_ID, {}, mesh=False)
        for step in ("install", "join", "firewall", "hosts"):
            urn = ctx.replace("compute-01", step).split("--replace ")[1].strip("'")
            assert run.by_urn(urn).name == f"zerotier-cluster-compute-01-{step}"


def test_replace_fix_names_the_resources_of_a_program_that_names_its_component_otherwise() -> None:
    """A program of its own (project cloud-burst, component burst, as examples/cloud-burst): the outputs or
    --component point status at its resources; this project's defaults would name none of them."""
    import pulumi

    from cluster.config.parse import parse_cluster
    from cluster.declare.overlay import Overlay
    from tests.mockrun import run_program

    config = lab_config({"head": "192.0.2.10", "compute-01": "192.0.2.11"})
    plan = build_plan_for(config)

    def program() -> None:
        overlay = Overlay("burst", parse_cluster(config, base_dir=ROOT), central_token="t", ssh_private_key="k")
        pulumi.export("overlayUrn", overlay.urn)

    run = run_program({}, stack="burst", project="cloud-burst", program=program)
    from_outputs = Target.find("burst", "zerotier-cluster", None, run.outputs)
    from_flag = Target.find("burst", "cloud-burst", "burst", {"overlayUrn": "ignored: --component wins"})
    assert from_outputs == from_flag == Target("burst", "cloud-burst", "burst")
    ctx = Context(plan, from_flag, {}, NETWORK_ID, {}, mesh=False)
    for step in ("install", "join", "firewall", "hosts"):
        urn = ctx.replace("compute-01", step).split("--replace ")[1].strip("'")
        assert run.by_urn(urn).name == f"burst-compute-01-{step}"
    default = Context(plan, Target.find("burst", "cloud-burst", None, {}), {}, NETWORK_ID, {}, mesh=False)
    urn = default.replace("compute-01", "join").split("--replace ")[1].strip("'")
    assert urn not in {r.urn for r in run.resources}


def build_plan_for(config: dict[str, Any]) -> Any:
    return build_plan(plan_for(config).spec)


# --- the output MPI and Slurm configs use -------------------------------------------------


def test_interface_output_is_the_pinned_name_mpi_takes_as_is() -> None:
    from cluster.plan.publish import interface_list

    derived = plan_for(lab_config({"head": "192.0.2.10", "compute-01": "192.0.2.11"}))
    assert interface_list(n.interface for n in derived.active) == "zt050e2a9f6a"
    config = lab_config({"head": "192.0.2.10"})
    config["network"]["interface"] = "zthpc"
    pinned = plan_for(config)
    assert interface_list(n.interface for n in pinned.active) == "zthpc"
    assert interface_list(["zthpc", "ztb", "zthpc"]) == "ztb,zthpc"


def test_status_as_a_user_whose_sudo_asks_for_a_password_says_what_it_could_not_check_stand_in(
    machine_factory: Any, operator: Any, tmp_path: Path
) -> None:
    head = machine_factory("phead")
    config = lab_config({"head": str(head.host.ip)})
    provision(operator, head, config, "head", ["head"])
    config["ssh"] = {"user": "pw"}  # the machines' user whose sudo asks for a password
    r = status(operator, write_stack(tmp_path / "project", config))
    assert r.returncode == 1
    assert (
        "head: zerotier: user pw cannot run sudo -n (it asks for a password). "
        "Fix: give pw passwordless sudo, as provisioning needs too ('pw ALL=(ALL) NOPASSWD: ALL'), or log in as root"
    ) in r.stdout, r.stdout
    assert "head: firewall: user pw cannot run sudo -n" in r.stdout
    assert "head: hosts:" not in r.stdout  # /etc/hosts needs no root: checked, and as planned


def test_status_progress_and_parallel_limit_with_many_unreachable_nodes(tmp_path: Path) -> None:
    """Six nodes on TEST-NET-1 (never routed): six rows within the time limit, progress on stderr."""
    import sys

    hosts = {"head": "192.0.2.10"} | {f"compute-0{i}": f"192.0.2.1{i}" for i in range(1, 6)}
    config = lab_config({"head": hosts.pop("head")})
    config["nodes"] += [
        {"name": name, "role": "compute", "host": host, "ip": f"10.147.17.{20 + i}"}
        for i, (name, host) in enumerate(hosts.items())
    ]
    project = write_stack(tmp_path / "project", config)
    argv = [sys.executable, "-m", "cluster", "status", "--stack", "lab", "--project", str(project)]
    started = time.monotonic()
    r = subprocess.run(
        [*argv, "--timeout", "2", "--parallel", "3", "--json"],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    elapsed = time.monotonic() - started
    assert r.returncode == 1
    report = json.loads(r.stdout)
    assert [(n["name"], n["reached"]) for n in report["nodes"]] == [
        ("head", False), ("compute-01", False), ("compute-02", False),
        ("compute-03", False), ("compute-04", False), ("compute-05", False),
    ]  # fmt: skip
    progress = [line for line in r.stderr.splitlines() if line.startswith("status: ")]
    assert [line.split()[1] for line in progress] == ["1/6", "2/6", "3/6", "4/6", "5/6", "6/6"]
    # Three at a time, each given up after 2 s at the latest (how fast a route fails depends on the host).
    assert elapsed < 2 * 2 + 6, f"took {elapsed:.1f}s"


def test_status_reports_the_drifts_only_the_node_can_see_each_alone_stand_in(
    cluster: dict[str, Any], operator: Any
) -> None:
    """A ruleset file edited on disk, nftables.service disabled, a ping that gets no answer: each exits 1 alone."""
    machines, project = cluster["machines"], cluster["project"]
    head, c1 = machines["head"], machines["compute-01"]
    urn = "urn:pulumi:lab::zerotier-cluster::zerotier-cluster:index:Overlay$command:remote:Command::zerotier-cluster-"
    firewall_fix = f"Fix: pulumi up --stack lab --replace '{urn}compute-01-firewall'"

    def drifted(expected: str) -> None:
        r = status(operator, project)
        assert r.returncode == 1, r.stdout + r.stderr
        problems = [line for line in r.stdout.splitlines() if line.startswith(("head:", "compute-01:"))]
        assert problems == [expected], r.stdout

    # The ruleset file on disk edited to accept everything: what the next boot loads (the live table is right).
    ruleset = c1.path("/etc/zerotier-cluster/firewall.nft")
    original = ruleset.read_text()
    assert original.count("policy drop;") == 1
    ruleset.write_text(original.replace("policy drop;", "policy accept;"))
    edited = hashlib.sha256(ruleset.read_bytes()).hexdigest()[:12]
    drifted(
        "compute-01: firewall: /etc/zerotier-cluster/firewall.nft differs from the planned ruleset "
        f"(sha256 {edited}). {firewall_fix}"
    )
    ruleset.write_text(original)
    assert status(operator, project).returncode == 0

    # nftables.service disabled: the ruleset is loaded now but not after the next boot.
    assert c1.exec(["systemctl", "disable", "nftables.service"]).returncode == 0
    drifted(f"compute-01: firewall: nftables.service is disabled: the ruleset is not loaded at boot. {firewall_fix}")
    assert c1.exec(["systemctl", "enable", "nftables.service"]).returncode == 0
    assert status(operator, project).returncode == 0

    # The head's overlay address gone: ZeroTier (the stand-in) still shows a direct path, the ping fails.
    head.host.run(["ip", "addr", "del", f"{IPS['head']}/24", "dev", "eth0"], check=True)
    drifted(
        "compute-01: path to head: DIRECT 3ms: head (10.147.17.1) does not answer ping over the overlay; "
        "via 192.0.2.1/9993. Fix: run python -m cluster status on head too; check its network, address and firewall"
    )
    head.host.run(["ip", "addr", "add", f"{IPS['head']}/24", "dev", "eth0"], check=True)
    assert status(operator, project).returncode == 0
