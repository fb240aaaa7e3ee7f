"""hosts.sh over real SSH: the managed /etc/hosts block, and nothing else, changes."""

from __future__ import annotations

from cluster.plan.publish import hosts_markers
from tests.lab.provision import cluster_config, plan_for, run_step, step_of, step_text, with_param

OTHER = "127.0.0.1\tlocalhost\n# a comment the admin wrote\n192.168.1.5  nas.lan nas\n::1\tlocalhost ip6-localhost\n"
STALE = (
    "# BEGIN zerotier-cluster chpc-overlay (managed by Pulumi; edits inside are replaced)\n"
    "10.147.17.99  old-node\n"
    "# END zerotier-cluster chpc-overlay\n"
)


def _hosts(machine) -> str:
    return machine.path("/etc/hosts").read_text()


def test_hosts_block_write_replace_idempotent_delete(machine_factory, operator):
    node = machine_factory("hosts1")
    config = cluster_config()
    block = plan_for(config).hosts_block
    stdin = step_text(config, "compute-01", "hosts")
    machine_path = node.path("/etc/hosts")

    # An older block between the admin's lines is replaced in place.
    node.write("/etc/hosts", OTHER.replace("# a comment", STALE + "# a comment"))
    r = run_step(operator, node, stdin)
    assert r.returncode == 0, r.stderr
    assert _hosts(node) == OTHER.replace("# a comment", block + "# a comment")
    assert r.stdout.strip().splitlines() == ["hosts: /etc/hosts updated (3 names)"]

    # Second run: identical content, no write at all (the inode and mtime stay).
    before = machine_path.stat()
    r = run_step(operator, node, stdin)
    assert r.returncode == 0, r.stderr
    assert "nothing changed" in r.stderr
    after = machine_path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)

    # Delete removes exactly the block; every other line is as it was.
    r = run_step(operator, node, stdin, "delete")
    assert r.returncode == 0, r.stderr
    assert _hosts(node) == OTHER
    r = run_step(operator, node, stdin, "delete")
    assert r.returncode == 0, r.stderr
    assert "nothing to remove" in r.stderr
    assert _hosts(node) == OTHER


def test_hosts_block_appended_when_absent_and_file_kept_root_owned_0644(machine_factory, operator):
    node = machine_factory("hosts2")
    config = cluster_config()
    node.write("/etc/hosts", OTHER.rstrip("\n"))  # no final newline: the block still starts on its own line
    r = run_step(operator, node, step_text(config, "head", "hosts"))
    assert r.returncode == 0, r.stderr
    assert _hosts(node) == OTHER + plan_for(config).hosts_block
    st = node.path("/etc/hosts").stat()
    assert (st.st_uid, st.st_mode & 0o777) == (0, 0o644)
    assert not [p for p in node.path("/etc").iterdir() if p.name.startswith(".ztc.")]


def test_hosts_on_a_bind_mounted_etc_hosts_rewritten_in_place(machine_factory, operator):
    """In containers /etc/hosts is often a bind mount: rename over it fails with EBUSY."""
    node = machine_factory("hosts3")
    node.write("/srv/hosts", OTHER)
    assert node.exec(["mount", "--bind", "/srv/hosts", "/etc/hosts"]).returncode == 0
    config = cluster_config()
    r = run_step(operator, node, step_text(config, "head", "hosts"))
    assert r.returncode == 0, r.stderr
    assert "rewriting it in place" in r.stderr
    assert node.path("/srv/hosts").read_text() == OTHER + plan_for(config).hosts_block
    assert node.exec(["cat", "/etc/hosts"]).stdout == OTHER + plan_for(config).hosts_block


def test_hosts_changed_membership_replaces_the_block(machine_factory, operator):
    node = machine_factory("hosts4")
    node.write("/etc/hosts", OTHER)
    config = cluster_config()
    assert run_step(operator, node, step_text(config, "head", "hosts")).returncode == 0
    nodes = [*config["nodes"], {"name": "compute-03", "role": "compute", "host": "192.0.2.13", "ip": "10.147.17.13"}]
    bigger = cluster_config(nodes)
    r = run_step(operator, node, step_text(bigger, "head", "hosts"), "update")
    assert r.returncode == 0, r.stderr
    text = _hosts(node)
    assert text == OTHER + plan_for(bigger).hosts_block
    begin, end = hosts_markers("chpc-overlay")
    assert text.count(begin) == 1 and text.count(end) == 1


def test_hosts_unterminated_block_is_left_for_a_person(machine_factory, operator):
    node = machine_factory("hosts5")
    broken = OTHER + STALE.splitlines(keepends=True)[0] + "10.147.17.99 old\n"
    node.write("/etc/hosts", broken)
    r = run_step(operator, node, step_text(cluster_config(), "head", "hosts"))
    assert r.returncode != 0
    assert "without the matching '# END zerotier-cluster chpc-overlay'" in r.stderr
    assert _hosts(node) == broken


def test_hosts_sudo_asking_for_a_password_fails_clearly_and_changes_nothing(machine_factory, operator):
    node = machine_factory("hosts6")
    node.write("/etc/hosts", OTHER)
    r = run_step(operator, node, step_text(cluster_config(), "head", "hosts"), user="pw")
    assert r.returncode != 0
    assert "sudo on hosts6 asks user pw for a password" in r.stderr
    assert r.stdout == ""
    assert _hosts(node) == OTHER


def test_hosts_bad_block_parameter_is_refused(machine_factory, operator):
    node = machine_factory("hosts7")
    node.write("/etc/hosts", OTHER)
    r = run_step(operator, node, with_param(step_of(cluster_config(), "head", "hosts"), "ZTC_HOSTS_TAG", "other"))
    assert r.returncode != 0
    assert "ZTC_HOSTS_BLOCK must start with the line '# BEGIN zerotier-cluster other ...'" in r.stderr
    assert _hosts(node) == OTHER


def test_hosts_sudo_requiretty_is_diagnosed_with_its_fix(machine_factory, operator):
    node = machine_factory("hoststty")
    node.write("/etc/hosts", OTHER)
    node.write("/etc/sudoers.d/zz-requiretty", "Defaults:ops requiretty\n", mode=0o440)
    r = run_step(operator, node, step_text(cluster_config(), "head", "hosts"))
    assert r.returncode == 1
    assert "sudo on hoststty requires a terminal for user ops (sudoers 'requiretty')" in r.stderr
    assert "Fix: add the line 'Defaults:ops !requiretty' to /etc/sudoers.d/ops" in r.stderr
    assert "password" not in r.stderr
    assert r.stdout == ""
    assert _hosts(node) == OTHER


def test_renaming_the_network_leaves_no_stale_block(machine_factory, operator):
    node = machine_factory("hosts8")
    node.write("/etc/hosts", OTHER)
    old = cluster_config()
    renamed = cluster_config(network={"name": "hpc-renamed"})
    assert run_step(operator, node, step_text(old, "compute-01", "hosts")).returncode == 0
    assert "# BEGIN zerotier-cluster chpc-overlay " in _hosts(node)

    r = run_step(operator, node, step_text(renamed, "compute-01", "hosts"), "update")
    assert r.returncode == 0, r.stderr
    assert "renamed from chpc-overlay" in r.stderr
    assert _hosts(node) == OTHER + plan_for(renamed).hosts_block
    assert node.path("/var/lib/zerotier-cluster/hosts").read_text() == "tag=hpc-renamed\n"

    r = run_step(operator, node, step_text(renamed, "compute-01", "hosts"), "delete")
    assert r.returncode == 0, r.stderr
    assert _hosts(node) == OTHER
    assert not node.path("/var/lib/zerotier-cluster/hosts").exists()
