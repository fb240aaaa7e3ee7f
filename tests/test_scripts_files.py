"""Steps that write files never lose one or cut one short: booted Debian 12 nodes, real SSH, real faults.

Each step that writes files (hosts, the firewall's persistence, join's
devicemap and state) runs with /tmp tiny and full, at 1.2, 1.6 and 1.9 times
the size of what it writes, or missing; and with the target's filesystem full
or read-only (``tests/lab/faults.py``). It either succeeds whole or fails with
a message naming the file and the room it needed, and every file it touches is
then byte-identical to before (sha256) or complete.
"""

from __future__ import annotations

from tests.lab.faults import digests, full, leftovers, read, read_only, run, tmp_conditions
from tests.lab.provision import NETWORK_ID, cluster_config, plan_for, run_step, step_text
from tests.lab.zerotier_stand_in import ZT_HOME, cli_calls, install_fake_cli

OTHER_NETWORK = "1c33c1ced015c144"


def operator_hosts() -> str:
    """About 179 KB of the operator's own /etc/hosts lines, as in the issue."""
    lines = ["127.0.0.1\tlocalhost\n", "::1\tlocalhost ip6-localhost\n"]
    for i in range(3520):
        lines.append(f"10.20.{i // 256}.{i % 256}\track{i // 40:03d}-n{i:05d}.site.example.org n{i:05d}\n")
    text = "".join(lines)
    assert 175_000 < len(text) < 183_000
    return text


BIG = operator_hosts()


def test_hosts_with_179_kb_of_operator_lines_succeeds_whole_or_changes_nothing(machine_factory, operator):
    node = machine_factory("files-hosts", boot=True)
    config = cluster_config()
    stdin = step_text(config, "head", "hosts")
    wanted = BIG + plan_for(config).hosts_block

    # /tmp does not matter: tiny and full, the 1.2/1.6/1.9x sizes, or missing.
    for name, condition in tmp_conditions(len(BIG)).items():
        node.write("/etc/hosts", BIG)
        with condition(node):
            r = run_step(operator, node, stdin)
        assert r.returncode == 0, (name, r.stderr)
        assert r.stdout == "hosts: /etc/hosts updated (3 names)\n", name
        assert read(node, "/etc/hosts") == wanted, name

    # /etc full, with a little room or none, or read-only: the step fails and says why; /etc/hosts stays.
    need = f"it needs {(len(wanted) + 1023) // 1024} KiB"
    for name, condition, reason in [
        ("etc full", lambda m: full(m, "/etc"), "No space left on device"),
        ("etc 64k free", lambda m: full(m, "/etc", free_kib=64), "No space left on device"),
        ("etc read-only", lambda m: read_only(m, "/etc"), "Read-only file system"),
    ]:
        node.write("/etc/hosts", BIG)
        with condition(node):
            before = digests(node, "/etc/hosts")
            r = run_step(operator, node, stdin)
            assert digests(node, "/etc/hosts") == before, name
            assert leftovers(node, "/etc") == [], name
        assert r.returncode == 1, name
        assert r.stdout == "", name
        assert "ERROR: could not write /etc/hosts: " in r.stderr, (name, r.stderr)
        assert reason in r.stderr, (name, r.stderr)
        assert need in r.stderr and "KiB free on the filesystem of /etc" in r.stderr, (name, r.stderr)
        assert "/etc/hosts was left as it was" in r.stderr, name

    # Removing the block from a read-only /etc fails the same way.
    node.write("/etc/hosts", wanted)
    with read_only(node, "/etc"):
        r = run_step(operator, node, stdin, "delete")
        assert read(node, "/etc/hosts") == wanted
    assert r.returncode == 1
    assert "could not write /etc/hosts" in r.stderr


def test_hosts_symlinked_is_written_through_its_target(machine_factory, operator):
    node = machine_factory("files-link", boot=True)
    config = cluster_config()
    stdin = step_text(config, "head", "hosts")
    run(node, "mkdir -p /srv/net && rm /etc/hosts && ln -s ../srv/net/hosts /etc/hosts")
    node.write("/srv/net/hosts", BIG)

    r = run_step(operator, node, stdin)
    assert r.returncode == 0, r.stderr
    assert run(node, "readlink /etc/hosts") == "../srv/net/hosts\n"
    assert read(node, "/srv/net/hosts") == BIG + plan_for(config).hosts_block
    assert run(node, "stat -c '%u %a' /srv/net/hosts") == "0 644\n"
    assert leftovers(node, "/srv/net") == [] and leftovers(node, "/etc") == []

    # The link's target on a full filesystem: the step fails naming both, and nothing changes.
    r = run_step(operator, node, stdin, "delete")
    assert r.returncode == 0, r.stderr
    with full(node, "/srv/net"):
        before = digests(node, "/srv/net/hosts")
        r = run_step(operator, node, stdin)
        assert digests(node, "/srv/net/hosts") == before
    assert r.returncode == 1
    assert "could not write /etc/hosts (a symlink to /srv/net/hosts): " in r.stderr
    assert run(node, "readlink /etc/hosts") == "../srv/net/hosts\n"


def test_hosts_bind_mounted_rewritten_in_place_only_when_it_fits(machine_factory, operator):
    """Containers bind-mount /etc/hosts (rename over it fails with EBUSY): in place, never truncated first."""
    node = machine_factory("files-bind", boot=True)
    config = cluster_config()
    stdin = step_text(config, "head", "hosts")
    wanted = BIG + plan_for(config).hosts_block
    run(node, "mkdir -p /srv/small && mount -t tmpfs -o size=256k tmpfs /srv/small")
    node.exec(["sh", "-c", "cat >/srv/small/hosts"], stdin=BIG)
    run(node, "mount --bind /srv/small/hosts /etc/hosts")

    # Its own filesystem has no room for the bigger content: refused before a byte is written.
    run(node, "dd if=/dev/zero of=/srv/small/filler bs=4k 2>/dev/null || true")
    before = digests(node, "/etc/hosts")
    r = run_step(operator, node, stdin)
    assert r.returncode == 1
    assert "could not write /etc/hosts: its filesystem has no room for the bigger content" in r.stderr
    assert digests(node, "/etc/hosts") == before
    assert leftovers(node, "/etc") == []

    # With room, it is rewritten in place and complete.
    run(node, "rm /srv/small/filler")
    r = run_step(operator, node, stdin)
    assert r.returncode == 0, r.stderr
    assert "rewriting it in place" in r.stderr
    assert read(node, "/srv/small/hosts") == wanted

    # Shrinking needs no room: removing the block works on a full filesystem and leaves exactly the rest.
    run(node, "dd if=/dev/zero of=/srv/small/filler bs=4k 2>/dev/null || true")
    r = run_step(operator, node, stdin, "delete")
    assert r.returncode == 0, r.stderr
    assert read(node, "/srv/small/hosts") == BIG
    assert leftovers(node, "/etc") == []


FIREWALL_FILES = (
    "/etc/nftables.conf",
    "/etc/zerotier-cluster/firewall.nft",
    "/var/lib/zerotier-cluster/firewall.state",
)


def test_firewall_persistence_succeeds_whole_or_changes_nothing(machine_factory, operator):
    head = machine_factory("files-fw", boot=True)
    nodes = [{"name": "head", "role": "head", "host": str(head.host.ip), "ip": "10.147.17.1"}]
    config = cluster_config(nodes, firewall={"sshFrom": [f"{operator.host.ip}/32"]})
    stdin = step_text(config, "head", "firewall")
    ruleset = next(n for n in plan_for(config).nodes if n.name == "head").ruleset
    pristine = digests(head, *FIREWALL_FILES)
    live = run(head, "nft list ruleset")

    for name, condition in tmp_conditions(len(ruleset)).items():
        with condition(head):
            r = run_step(operator, head, stdin)
        assert r.returncode == 0, (name, r.stderr)
        assert read(head, "/etc/zerotier-cluster/firewall.nft") == ruleset, name
        assert 'include "/etc/zerotier-cluster/firewall.nft"' in read(head, "/etc/nftables.conf"), name
        assert "mode=enforce\n" in read(head, "/var/lib/zerotier-cluster/firewall.state"), name
        assert "table inet zerotier_cluster" in run(head, "nft list tables"), name
        r = run_step(operator, head, stdin, "delete")
        assert r.returncode == 0, (name, r.stderr)
        assert digests(head, *FIREWALL_FILES) == pristine, name

    # /etc full or read-only: the step fails before it loads anything, so files and live ruleset stay.
    for name, condition, reason in [
        ("etc full", lambda m: full(m, "/etc"), "No space left on device"),
        ("etc read-only", lambda m: read_only(m, "/etc"), "Read-only file system"),
    ]:
        with condition(head):
            r = run_step(operator, head, stdin)
            assert digests(head, *FIREWALL_FILES) == pristine, name
            assert leftovers(head, "/etc") == [], name
            assert run(head, "ls -d /etc/zerotier-cluster 2>/dev/null || true") == "", name
        assert r.returncode == 1, name
        assert "ERROR: could not write /etc/zerotier-cluster/firewall.nft: " in r.stderr, (name, r.stderr)
        assert reason in r.stderr, (name, r.stderr)
        assert "KiB free on the filesystem of /etc" in r.stderr, (name, r.stderr)
        assert run(head, "nft list ruleset") == live, name

    # Removing it from a read-only /etc fails before the live firewall goes: applied and persistent stay together.
    r = run_step(operator, head, stdin)
    assert r.returncode == 0, r.stderr
    applied = digests(head, *FIREWALL_FILES)
    with read_only(head, "/etc"):
        r = run_step(operator, head, stdin, "delete")
        assert digests(head, *FIREWALL_FILES) == applied
    assert r.returncode == 1
    assert "could not write /etc/nftables.conf: " in r.stderr and "Read-only file system" in r.stderr
    assert "table inet zerotier_cluster" in run(head, "nft list tables")
    r = run_step(operator, head, stdin, "delete")
    assert r.returncode == 0, r.stderr
    assert digests(head, *FIREWALL_FILES) == pristine


def test_join_devicemap_and_state_succeed_whole_or_change_nothing_stand_in(machine_factory, operator):
    node = machine_factory("files-join", boot=True)
    install_fake_cli(node, scenario={"ADDRESSES": "10.147.17.11/24"})
    node.write(f"{ZT_HOME}/devicemap", f"{OTHER_NETWORK}=ztother0\n")
    stdin = step_text(cluster_config(network={"interface": "ztcluster0"}), "compute-01", "join")
    devicemap = f"{ZT_HOME}/devicemap"

    for name, condition in tmp_conditions(4096).items():
        with condition(node):
            r = run_step(operator, node, stdin)
        assert r.returncode == 0, (name, r.stderr)
        assert r.stdout == "ztcluster0 10.147.17.11/24\n", name
        assert read(node, devicemap) == f"{OTHER_NETWORK}=ztother0\n{NETWORK_ID}=ztcluster0\n", name
        assert read(node, "/var/lib/zerotier-cluster/join") == f"network={NETWORK_ID}\ninterface=ztcluster0\n", name
        r = run_step(operator, node, stdin, "delete")
        assert r.returncode == 0, (name, r.stderr)
        assert read(node, devicemap) == f"{OTHER_NETWORK}=ztother0\n", name

    # ZeroTier's home full or read-only: the devicemap cannot change, so the node does not join.
    for name, condition, reason in [
        ("zerotier home full", lambda m: full(m, ZT_HOME), "No space left on device"),
        ("zerotier home read-only", lambda m: read_only(m, ZT_HOME), "Read-only file system"),
    ]:
        calls = len(cli_calls(node))
        with condition(node):
            r = run_step(operator, node, stdin)
            assert read(node, devicemap) == f"{OTHER_NETWORK}=ztother0\n", name
            assert leftovers(node, ZT_HOME) == [], name
        assert r.returncode == 1, name
        assert f"ERROR: could not write {devicemap}: " in r.stderr, (name, r.stderr)
        assert reason in r.stderr, (name, r.stderr)
        assert f"{devicemap} was left as it was" in r.stderr, name
        assert not [c for c in cli_calls(node)[calls:] if c.startswith("join")], name
