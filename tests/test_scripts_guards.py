"""The node scripts' guards, each on its own, on real Debian 12 machines over real SSH.

Every step checks its parameters before it touches anything, the loader runs
a program only when its SHA-256 matches, and the firewall step never takes
an SSH session on another interface for one on the overlay, nor applies a
ruleset the node could not load again at boot. Each test here is the one a
deliberate bug in one of those guards must fail (``tests/mutants/scripts.toml``
lists the bugs and ``python3 -m tests.mutants.scripts`` makes each of them).
"""

from __future__ import annotations

import io
import re
import shlex
import tarfile
from typing import Any

import pytest

from cluster.operate.status import status_stdin
from cluster.plan.steps import COMMANDS, REMOTE_BUNDLE, StepScript
from tests.lab.provision import cluster_config, plan_for, run_step, ship, step_of, with_param

MARKER = "/var/tmp/the-damaged-program-ran"
#: The config the firewall tests plan from: SSH admitted from 192.0.2.0/24 only, never from the operator.
HEAD_IP, OPERATOR_NODE = "10.77.0.200", "c1"
#: The network on the head's controller: its ZeroTier address (install_fake_cli's) and six digits of the name.
NWID = "a1b2c3d4e5050e2a"


def nft_ruleset(machine: Any) -> str:
    return str(machine.host.run(["nft", "list", "ruleset"], check=True).stdout)


def exists(machine: Any, path: str) -> bool:
    return machine.exec(["test", "-e", path]).returncode == 0


# --- load.sh: a program runs only when its hash matches ---------------------------------------


def _tar(name: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        info.size, info.mode = len(data), 0o644
        tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_a_damaged_program_in_the_bundle_is_refused_and_nothing_runs(machine_factory, operator) -> None:
    node = machine_factory("load-bundle")
    hosts = node.path("/etc/hosts").read_text()
    script = step_of(cluster_config(), "head", "hosts")
    sha = script.program.sha
    # The bundle under the program's own name, its content changed: one line more at the top.
    damaged = f"touch {MARKER}\n".encode() + script.program.data
    assert operator.upload(str(node.host.ip), "ops", _tar(f"objects/{sha}", damaged), REMOTE_BUNDLE).returncode == 0

    r = run_step(operator, node, script, send_bundle=False)
    assert r.returncode == 1
    assert r.stdout == ""
    assert r.stderr == f"zerotier-cluster[head]: program {sha} missing or damaged on load-bundle: run pulumi up again\n"
    assert not exists(node, MARKER)
    assert node.path("/etc/hosts").read_text() == hosts
    assert not exists(node, "/var/lib/zerotier-cluster")


def test_a_program_cut_short_or_missing_is_refused(machine_factory, operator) -> None:
    node = machine_factory("load-short")
    script = step_of(cluster_config(), "head", "hosts")
    sha = script.program.sha
    cut = script.program.data[: len(script.program.data) // 2]
    assert operator.upload(str(node.host.ip), "ops", _tar(f"objects/{sha}", cut), REMOTE_BUNDLE).returncode == 0
    r = run_step(operator, node, script, send_bundle=False)
    assert (r.returncode, r.stdout) == (1, "")
    assert f"program {sha} missing or damaged on load-short" in r.stderr

    node.exec(["rm", "-f", f"/home/ops/{REMOTE_BUNDLE}"])
    r = run_step(operator, node, script, send_bundle=False)
    assert (r.returncode, r.stdout) == (1, "")
    assert f"program {sha} missing or damaged on load-short" in r.stderr


def test_a_program_altered_in_the_nodes_store_is_refused_even_beside_a_good_bundle(machine_factory, operator) -> None:
    node = machine_factory("load-store")
    script = step_of(cluster_config(), "head", "hosts")
    sha = script.program.sha
    r = run_step(operator, node, script)
    assert r.returncode == 0, r.stderr
    stored = f"/var/lib/zerotier-cluster/objects/{sha}"
    assert node.path(stored).read_bytes() == script.program.data

    node.path(stored).write_bytes(f"touch {MARKER}\n".encode() + script.program.data)
    hosts = node.path("/etc/hosts").read_text()
    r = run_step(operator, node, script, "update")  # the good bundle is shipped again
    assert (r.returncode, r.stdout) == (1, "")
    assert f"program {sha} missing or damaged on load-store" in r.stderr
    assert not exists(node, MARKER)
    assert node.path("/etc/hosts").read_text() == hosts


# --- every parameter a script checks, each refused by name before anything changes ---------------


def _controller_plan() -> Any:
    config = cluster_config(controller="head")
    del config["network"]["networkId"]
    return plan_for(config)


def _step(kind: str) -> StepScript:
    """The step a parameter belongs to, with every value only pulumi up knows filled in."""
    if kind == "network":
        controller = _controller_plan().controller
        assert controller is not None
        return controller.network
    if kind == "member":
        controller = _controller_plan().controller
        assert controller is not None
        return with_param(controller.member("compute-01"), "ZTC_MEMBER", "0c0ffee001")
    if kind == "moon":
        moon = plan_for(cluster_config(roots="head")).moon
        assert moon is not None
        return moon
    if kind == "orbit":
        return step_of(cluster_config(roots="head"), "compute-01", "orbit")
    return step_of(cluster_config(), "head", kind)


BAD_PARAMETERS = [
    # (step, variable, bad value, the message)
    ("firewall", "ZTC_FW_MODE", "off", "ZTC_FW_MODE is not valid: 'off'"),
    ("firewall", "ZTC_FW_FAMILY", "bridge", "ZTC_FW_FAMILY is not valid: 'bridge'"),
    ("firewall", "ZTC_FW_TABLE", "t;flush", "ZTC_FW_TABLE is not valid: 't;flush'"),
    ("firewall", "ZTC_FW_CHAIN", "in put", "ZTC_FW_CHAIN is not valid: 'in put'"),
    ("firewall", "ZTC_FW_HOOK_CHAIN", "1input", "ZTC_FW_HOOK_CHAIN is not valid: '1input'"),
    ("firewall", "ZTC_FW_SET_PREFIX", "a-b", "ZTC_FW_SET_PREFIX is not valid: 'a-b'"),
    ("firewall", "ZTC_SSH_PORT", "22 ", "ZTC_SSH_PORT is not valid: '22 '"),
    ("firewall", "ZTC_SSH_PORT", "22\n2222", "ZTC_SSH_PORT must be one line, got: 22\n2222"),
    ("hosts", "ZTC_HOSTS_TAG", "-net", "ZTC_HOSTS_TAG (network name) is not valid: '-net'"),
    (
        "hosts",
        "ZTC_HOSTS_BLOCK",
        "# BEGIN zerotier-cluster chpc-overlay\n10.147.17.1 head\n",
        "ZTC_HOSTS_BLOCK must end with the line '# END zerotier-cluster chpc-overlay', got '10.147.17.1 head'",
    ),
    ("install", "ZTC_SIGNING_KEY_URL", "file:///etc/key", "ZTC_SIGNING_KEY_URL is not valid: 'file:///etc/key'"),
    ("install", "ZTC_LOCK_TIMEOUT", "soon", "ZTC_LOCK_TIMEOUT (seconds) is not valid: 'soon'"),
    ("verify", "ZTC_ROLE", "Head", "ZTC_ROLE is not valid: 'Head'"),
    ("verify", "ZTC_VERIFY_TIMEOUT", "0", "ZTC_VERIFY_TIMEOUT (seconds) is not valid: '0'"),
    ("verify", "ZTC_REQUIRE_DIRECT", "yes", "ZTC_REQUIRE_DIRECT is not valid: 'yes'"),
    (
        "verify",
        "ZTC_TARGETS",
        "compute-01 10.147.17.11 extra",
        "ZTC_TARGETS line 'compute-01 10.147.17.11 extra' has more than a name and an address",
    ),
    ("verify", "ZTC_TARGETS", "-c1 10.147.17.11", "ZTC_TARGETS name is not valid: '-c1'"),
    ("network", "ZTC_NETWORK_ID", "a1b2c3d4e5050e2", "ZTC_NETWORK_ID (16 hex digits) is not valid: 'a1b2c3d4e5050e2'"),
    ("network", "ZTC_NETWORK_SETTINGS", '["x"]', "ZTC_NETWORK_SETTINGS (a JSON object) is not valid: '[\"x\"]'"),
    ("member", "ZTC_MEMBER", "0c0ffee00", "ZTC_MEMBER (10 hex digits) is not valid: '0c0ffee00'"),
    ("member", "ZTC_MEMBER_SETTINGS", "true", "ZTC_MEMBER_SETTINGS (a JSON object) is not valid: 'true'"),
    ("moon", "ZTC_ROOT_ENDPOINT", "192.0.2.10", "ZTC_ROOT_ENDPOINT (<ipv4>/<port>) is not valid: '192.0.2.10'"),
    ("orbit", "ZTC_MOON", "x.moon AAAA", "ZTC_MOON (<file> <base64>) is not valid: 'x.moon AAAA'"),
    ("firewall", "ZTC_SSH_PORT_KEY", "", "ZTC_SSH_PORT_KEY is not valid: ''"),
    ("firewall", "ZTC_SSH_SOURCES_KEY", "", "ZTC_SSH_SOURCES_KEY is not valid: ''"),
    (
        "firewall",
        "ZTC_RULESET",
        "",
        "ZTC_RULESET is empty: the program sends the node's whole ruleset; run pulumi up again",
    ),
    ("localconf", "ZTC_LC_MULTICORE", "yes", "ZTC_LC_MULTICORE is not valid: 'yes'"),
    ("localconf", "ZTC_LC_CONCURRENCY", "0", "ZTC_LC_CONCURRENCY is not valid: '0'"),
    ("localconf", "ZTC_LC_MIN_CORES", "many", "ZTC_LC_MIN_CORES is not valid: 'many'"),
    ("localconf", "ZTC_LC_SETTINGS", "[1]", "ZTC_LC_SETTINGS (one line of JSON) is not valid: '[1]'"),
    ("verify", "ZTC_MTU", "900", "ZTC_MTU is not valid: '900'"),
]


def _bad_stdin(kind: str, var: str, value: str) -> tuple[StepScript, str]:
    """The step and its stdin with its parameter ``var`` set to ``value`` (on stdin or in its program)."""
    script = with_param(_step(kind), var, value)
    return script, script.text(known={"networkId": NWID, "memberAddress": "0c0ffee001", "moon": "x.moon AAAA"})


@pytest.mark.parametrize(
    ("kind", "var", "value", "message"),
    BAD_PARAMETERS,
    ids=[f"{kind}-{var}-{i}" for i, (kind, var, _, _) in enumerate(BAD_PARAMETERS)],
)
def test_a_bad_parameter_is_refused_by_name_before_anything_changes(
    machine_factory, operator, kind: str, var: str, value: str, message: str
) -> None:
    node = machine_factory("guard")
    script, stdin = _bad_stdin(kind, var, value)
    ship(operator, node, [script.program])
    hosts = node.path("/etc/hosts").read_text()
    r = operator.run(str(node.host.ip), "ops", COMMANDS["create"], stdin=stdin)
    assert (r.returncode, r.stdout) == (1, ""), r.stderr
    assert f"ERROR: {message}" in r.stderr, r.stderr
    assert nft_ruleset(node) == ""
    assert node.path("/etc/hosts").read_text() == hosts
    assert not exists(node, "/var/lib/zerotier-cluster/objects")
    assert not exists(node, "/etc/zerotier-cluster")


def test_a_network_name_recorded_on_the_node_is_checked_before_it_is_used(machine_factory, operator) -> None:
    """A tampered hosts state file cannot smuggle a pattern into the block hosts removes."""
    node = machine_factory("guard-state")
    node.write("/var/lib/zerotier-cluster/hosts", "tag=.*\n")
    hosts = node.path("/etc/hosts").read_text()
    r = run_step(operator, node, step_of(cluster_config(), "head", "hosts"))
    assert (r.returncode, r.stdout) == (1, "")
    assert "ERROR: the network name recorded in /var/lib/zerotier-cluster/hosts is not valid: '.*'" in r.stderr
    assert node.path("/etc/hosts").read_text() == hosts


STATUS_BAD = [
    ("ZTC_FW_MODE", "enforced", "ZTC_FW_MODE is not valid: 'enforced'"),
    ("ZTC_FW_FAMILY", "arp", "ZTC_FW_FAMILY is not valid: 'arp'"),
    ("ZTC_FW_TABLE", "t t", "ZTC_FW_TABLE is not valid: 't t'"),
    ("ZTC_FW_CHAIN", "-c", "ZTC_FW_CHAIN is not valid: '-c'"),
    ("ZTC_HOSTS_TAG", "a b", "ZTC_HOSTS_TAG (network name) is not valid: 'a b'"),
    ("ZTC_PROBE", "10.147.17.1 -f", "ZTC_PROBE is not valid: '10.147.17.1 -f'"),
]


@pytest.mark.parametrize(("var", "value", "message"), STATUS_BAD, ids=[v for v, _, _ in STATUS_BAD])
def test_status_refuses_a_bad_parameter_by_name(machine_factory, operator, var: str, value: str, message: str) -> None:
    node = machine_factory("guard-status")
    plan = plan_for(cluster_config())
    stdin = status_stdin(plan, next(n for n in plan.nodes if n.name == "head"), ["10.147.17.11"])
    stdin, found = re.subn(rf"^{var}=.*$", f"{var}={shlex.quote(value)}", stdin, count=1, flags=re.M)
    assert found == 1, f"status.sh takes no {var}"
    r = operator.run(str(node.host.ip), "ops", "/bin/sh -s", stdin=stdin)
    assert (r.returncode, r.stdout) == (1, ""), r.stderr
    assert f"ERROR: {message}" in r.stderr


# --- the firewall step: the overlay is one exact interface; the boot config must still load -----


def _firewall(operator: Any, **settings: Any) -> StepScript:
    """head's firewall step; node c1's overlay address is the operator's own address on the segment."""
    nodes = [
        {"name": "head", "role": "head", "host": "192.0.2.10", "ip": HEAD_IP},
        {"name": OPERATOR_NODE, "role": "compute", "host": "192.0.2.11", "ip": str(operator.host.ip)},
    ]
    config = cluster_config(nodes, network={"cidr": "10.77.0.0/24"}, **settings)
    return step_of(config, "head", "firewall")


def test_ssh_over_a_second_zerotier_interface_is_not_taken_for_the_overlay(machine_factory, operator) -> None:
    """The operator's address is a member's, but the session arrives on ztother0, not this network's interface.

    Members are trusted on the overlay interface only, so the new ruleset
    would not admit this session: the step must refuse, not count ztother0
    as the overlay because its name starts with zt.
    """
    head = machine_factory("fw-ztother")
    for argv in (["link", "set", "eth0", "down"], ["link", "set", "eth0", "name", "ztother0"]):
        head.host.run(["ip", *argv], check=True)
    head.host.run(["ip", "link", "set", "ztother0", "up"], check=True)
    script = _firewall(operator, firewall={"sshFrom": ["192.0.2.0/24"]})
    assert script.params.interface != "ztother0"  # type: ignore[attr-defined]

    r = run_step(operator, head, script)
    assert (r.returncode, r.stdout) == (1, ""), r.stderr
    assert (
        f"refusing to apply the firewall on fw-ztother: this SSH session comes from {operator.host.ip}, which the "
        "new ruleset would not admit to SSH (tcp/22). Nothing was changed."
    ) in r.stderr, r.stderr
    assert nft_ruleset(head) == ""
    assert not exists(head, "/etc/zerotier-cluster")


def test_the_same_session_on_the_overlay_interface_is_admitted(machine_factory, operator) -> None:
    """The counterpart: on the network's own interface, a member's session is admitted (so the test above can fail)."""
    head = machine_factory("fw-zt")
    script = _firewall(operator, firewall={"sshFrom": ["192.0.2.0/24"]})
    interface = script.params.interface  # type: ignore[attr-defined]
    for argv in (["link", "set", "eth0", "down"], ["link", "set", "eth0", "name", interface]):
        head.host.run(["ip", *argv], check=True)
    head.host.run(["ip", "link", "set", interface, "up"], check=True)
    r = run_step(operator, head, script)
    assert (r.returncode, r.stdout) == (0, "table inet zerotier_cluster\n"), r.stderr


def test_a_ruleset_the_boot_config_could_not_load_is_refused_before_anything_changes(machine_factory, operator) -> None:
    """Integrating into a table that exists only in the live ruleset: it would load now and fail at the next boot."""
    head = machine_factory("fw-boot")
    head.host.run(
        ["nft", "add table inet opfw; add chain inet opfw input { type filter hook input priority 0; }"], check=True
    )
    conf = head.path("/etc/nftables.conf").read_text()
    before = nft_ruleset(head)
    firewall = {
        "mode": "integrate",
        "integrate": {"family": "inet", "table": "opfw", "chain": "input"},
        "sshFrom": [f"{operator.host.ip}/32"],
    }
    script = _firewall(operator, firewall=firewall)
    r = run_step(operator, head, script)
    assert (r.returncode, r.stdout) == (1, ""), r.stderr
    assert (
        "ERROR: /etc/nftables.conf (what nftables.service loads at boot) would fail to load with this ruleset "
        "included, so nothing was applied. In integrate mode, /etc/nftables.conf must define table inet opfw and "
        "its chain input before the include this program adds at its end."
    ) in r.stderr, r.stderr
    assert nft_ruleset(head) == before
    assert head.path("/etc/nftables.conf").read_text() == conf
    assert not exists(head, "/etc/zerotier-cluster")


def test_the_boot_check_passes_once_the_boot_config_defines_the_table(machine_factory, operator) -> None:
    """The counterpart: the operator's table in /etc/nftables.conf too, and the same step applies."""
    head = machine_factory("fw-boot-ok")
    table = "table inet opfw {\n\tchain input {\n\t\ttype filter hook input priority 0;\n\t}\n}\n"
    head.write("/etc/nftables.conf", "#!/usr/sbin/nft -f\nflush ruleset\n" + table)
    head.host.run(["nft", "-f", "-"], input=table, check=True)
    firewall = {
        "mode": "integrate",
        "integrate": {"family": "inet", "table": "opfw", "chain": "input"},
        "sshFrom": [f"{operator.host.ip}/32"],
    }
    r = run_step(operator, head, _firewall(operator, firewall=firewall))
    assert (r.returncode, r.stdout) == (0, "chain inet opfw zerotier_cluster\n"), r.stderr
    assert re.search(
        r'^include "/etc/zerotier-cluster/firewall.nft"$', head.path("/etc/nftables.conf").read_text(), re.M
    )


# --- writing in place never cuts a file short, even for a moment -----------------------------------

#: A dd for the node's PATH (before /usr/bin): writing /etc/hosts, it copies one 64 KiB block, notes the
#: file's size at that moment (what a reader, or a power cut, would find), then does the whole copy.
HALFWAY_DD = """#!/bin/sh
case " $* " in
*" of=/etc/hosts "*)
    /usr/bin/dd "$@" count=1 2>/dev/null
    stat -c %s /etc/hosts >>/var/tmp/size-halfway
    ;;
esac
exec /usr/bin/dd "$@"
"""


def test_a_file_rewritten_in_place_is_never_shorter_than_before_while_it_is_written(machine_factory, operator):
    """A bind-mounted /etc/hosts (containers) is rewritten in place: over the old bytes, cut to size only at the end."""
    node = machine_factory("inplace")
    old = "".join(f"10.20.{i // 256}.{i % 256}\tn{i:05d}.site.example.org n{i:05d}\n" for i in range(4000))
    assert len(old) > 2 * 65536
    node.write("/srv/hosts", old)
    node.exec(["mount", "--bind", "/srv/hosts", "/etc/hosts"], timeout=30).check_returncode()
    node.write("/usr/local/bin/dd", HALFWAY_DD, mode=0o755)
    config = cluster_config()
    r = run_step(operator, node, step_of(config, "head", "hosts"))
    assert r.returncode == 0, r.stderr
    assert "/etc/hosts cannot be replaced (a mount point?); rewriting it in place" in r.stderr
    assert node.path("/srv/hosts").read_text() == old + plan_for(config).hosts_block
    assert node.path("/var/tmp/size-halfway").read_text() == f"{len(old)}\n"


# --- the head's controller must confirm exactly what was asked -------------------------------------

#: A controller API on the head that answers 200 to everything, but for another network, and keeps
#: every member deauthorized: what a confused (or impostor) service on port 9993 could say.
WRONG_CONTROLLER = r"""
import json
from http.server import BaseHTTPRequestHandler, HTTPServer

class Wrong(BaseHTTPRequestHandler):
    def answer(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        parts = self.path.strip("/").split("/")
        if len(parts) == 3:
            nwid = parts[2] if self.command == "GET" else parts[2][:10] + "ffffff"
            body = {"nwid": nwid, "name": "chpc-overlay"}
        else:
            body = {"id": parts[4], "address": parts[4], "nwid": parts[2], "authorized": False}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = answer

    def log_message(self, *args):
        pass

HTTPServer(("127.0.0.1", 9993), Wrong).serve_forever()
"""


@pytest.fixture
def wrong_controller(machine_factory) -> Any:
    import sys
    import time

    from tests.lab.zerotier_stand_in import install_fake_cli

    machine = machine_factory("ctl-wrong")
    install_fake_cli(machine, address="a1b2c3d4e5")
    server = machine.host.popen([sys.executable, "-c", WRONG_CONTROLLER])
    probe = [sys.executable, "-c", "import socket; socket.create_connection(('127.0.0.1', 9993), 1)"]
    deadline = time.monotonic() + 10
    while machine.host.run(probe).returncode != 0:
        assert time.monotonic() < deadline, "the wrong controller did not listen"
        time.sleep(0.1)
    yield machine
    server.terminate()
    server.wait(timeout=10)


def test_a_controller_that_confirms_another_network_is_not_believed(wrong_controller, operator) -> None:
    network = _step("network")
    ship(operator, wrong_controller, [network.program])
    r = operator.run(
        str(wrong_controller.host.ip), "ops", COMMANDS["create"], stdin=network.text(known={"networkId": NWID})
    )
    assert (r.returncode, r.stdout) == (1, ""), r.stderr
    assert 'ERROR: the controller answered for another network: {"nwid": "a1b2c3d4e5ffffff"' in r.stderr, r.stderr


def test_a_controller_that_does_not_authorize_the_member_is_not_believed(wrong_controller, operator) -> None:
    member = _step("member")
    ship(operator, wrong_controller, [member.program])
    r = operator.run(
        str(wrong_controller.host.ip), "ops", COMMANDS["create"], stdin=member.text(known={"networkId": NWID})
    )
    assert (r.returncode, r.stdout) == (1, ""), r.stderr
    assert "ERROR: the controller did not take member 0c0ffee001 as asked: " in r.stderr, r.stderr
