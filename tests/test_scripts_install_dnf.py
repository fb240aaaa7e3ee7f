"""install.sh's RHEL-family path (dnf, rpm, versionlock) over real SSH on booted Rocky-like nodes.

The nodes are :mod:`tests.lab.rocky` machines: Debian 12 with real dnf 4.14,
rpm 4.18 and dnf's versionlock plugin, Rocky Linux 9's os-release and dnf
configuration, and no apt or dpkg. A mirror on the operator's host serves a
stand-in of ZeroTier's installer (its RHEL branch: writes
``/etc/yum.repos.d/zerotier.repo`` and runs ``yum install``), clear-signed
with a key made for the test, and a dnf repository of stand-in
``zerotier-one`` rpms (1.14.1 and a newer 1.14.2, built here with rpmbuild,
see :mod:`tests.lab.rpmrepo`) whose daemon only makes an identity and idles.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import needs_root
from tests.lab.machine import Machine
from tests.lab.mirror import serve
from tests.lab.netns import Segment
from tests.lab.provision import cluster_config, last_line, run_step, step_text
from tests.lab.ssh import Operator
from tests.lab.zerotier_stand_in import ZT_HOME, Signer

PORT = 8080
LOCK_LIST = "/etc/dnf/plugins/versionlock.list"


@pytest.fixture(scope="session")
def rocky_rootfs() -> Path:
    """The cached Rocky-like tree (built from the Debian tree on first use)."""
    needs_root("debootstrap", "systemd-nspawn")
    from tests.lab.rocky import ensure_rocky_rootfs

    return ensure_rocky_rootfs()


@pytest.fixture
def rocky_factory(
    segment: Segment, rocky_rootfs: Path, operator: Operator, tmp_path: Path
) -> Iterator[Callable[[str], Machine]]:
    """Boots Rocky-like machines (systemd) on the segment, reachable as root, ops and pw."""
    machines: list[Machine] = []

    def make(name: str) -> Machine:
        machine = Machine(segment.add_host(name), rocky_rootfs, tmp_path / f"machine-{name}")
        machines.append(machine)
        for user in ("root", "ops", "pw"):
            machine.authorize(user, operator.public_key)
        machine.boot()
        return machine

    yield make
    for machine in machines:
        machine.close()


@dataclass
class Mirror:
    """Where the test's signed installer, key and dnf repository are served."""

    base: str
    fingerprint: str
    web: Path

    def config(self, **settings: Any) -> dict[str, Any]:
        urls = {"url": f"{self.base}/installer.asc", "keyUrl": f"{self.base}/key.asc"}
        return cluster_config(installer={**urls, "keyFingerprint": self.fingerprint}, **settings)


@pytest.fixture
def mirror(machine_factory, operator, tmp_path) -> Iterator[Mirror]:
    needs_root("rpmbuild", "createrepo_c")
    from tests.lab.rpmrepo import build_rpm_repo, rpm_installer_script

    signer = Signer(machine_factory("signer"))
    web = tmp_path / "web"
    base = f"http://{operator.host.ip}:{PORT}"
    build_rpm_repo(web / "rpm", ["1.14.1", "1.14.2"])
    (web / "key.asc").write_text(signer.public_key)
    (web / "installer.asc").write_text(signer.clearsign(rpm_installer_script(f"{base}/rpm")))
    with serve(operator.host, web, PORT, tmp_path):
        yield Mirror(base, signer.fingerprint, web)


def _sh(machine: Machine, command: str) -> subprocess.CompletedProcess[str]:
    return machine.exec(["sh", "-c", command])


def _rpm_q(machine: Machine) -> str:
    return _sh(machine, "rpm -q zerotier-one").stdout.strip()


def _locks(machine: Machine) -> list[str]:
    """The versionlock plugin's entries (its list file, comments dropped)."""
    text = machine.path(LOCK_LIST).read_text()
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _unit(machine: Machine) -> list[str]:
    return _sh(machine, "systemctl is-active zerotier-one; systemctl is-enabled zerotier-one").stdout.split()


def _address(machine: Machine) -> str:
    return machine.path(f"{ZT_HOME}/identity.public").read_text().split(":")[0]


def _snapshot(machine: Machine) -> dict[str, str]:
    """What a no-op or an early failure must not change: /etc, rpm's and dnf's state, ZeroTier's home."""
    listing = _sh(
        machine,
        "find /etc /var/lib/rpm /var/lib/dnf /usr/sbin /usr/lib/systemd/system /var/lib/zerotier-one"
        " /var/lib/zerotier-cluster -xdev \\( -type f -o -type l \\) 2>/dev/null | sort",
    ).stdout
    out = {}
    for path in listing.split():
        target = machine.path(path)
        out[path] = (
            "-> " + str(target.readlink()) if target.is_symlink() else hashlib.sha256(target.read_bytes()).hexdigest()
        )
    return out


def test_rocky_machine_is_rhel_family_with_dnf_and_no_apt(rocky_factory):
    node = rocky_factory("rocky0")
    os_release = node.path("/etc/os-release").read_text()
    assert 'ID="rocky"\n' in os_release and 'ID_LIKE="rhel centos fedora"\n' in os_release
    tools = "dnf yum rpm apt-get apt-cache apt-mark dpkg dpkg-query"
    r = _sh(node, f"for t in {tools}; do command -v $t || echo no-$t; done; dnf --version | head -n 1")
    assert r.stdout.split() == [
        "/usr/bin/dnf", "/usr/bin/yum", "/usr/bin/rpm",
        "no-apt-get", "no-apt-cache", "no-apt-mark", "no-dpkg", "no-dpkg-query",
        "4.14.0",
    ]  # fmt: skip
    # rpm knows only the stand-in for the base system, whose provides are what packages require of it.
    assert _sh(node, "rpm -qa").stdout == "base-system-12-1.noarch\n"
    assert _sh(node, "rpm -q --whatprovides /bin/sh systemd").stdout.split() == ["base-system-12-1.noarch"] * 2


def test_dnf_fresh_install_pins_locks_starts_then_is_a_noop_and_holds_against_upgrade_stand_in(
    rocky_factory, operator, mirror
):
    node = rocky_factory("rinst1")
    stdin = step_text(mirror.config(), "compute-01", "install")

    r = run_step(operator, node, stdin)
    assert r.returncode == 0, r.stderr
    assert "zerotier-one is not installed; installing 1.14.1" in r.stderr
    assert f"installer signature verified (key {mirror.fingerprint})" in r.stderr
    assert "locked zerotier-one at 1.14.1 (dnf versionlock)" in r.stderr
    address = last_line(r.stdout)
    assert len(address) == 10 and address == _address(node)
    # The installer's yum put the newest (1.14.2) in; the step went to 1.14.1 and locked it there.
    assert _rpm_q(node) == "zerotier-one-1.14.1-1.noarch"
    assert _locks(node) == ["zerotier-one-0:1.14.1-1.*"]
    assert _unit(node) == ["active", "enabled"]
    assert "baseurl=" + mirror.base + "/rpm\n" in node.path("/etc/yum.repos.d/zerotier.repo").read_text()
    assert not _sh(node, "ls -d /tmp/ztc.* 2>/dev/null").stdout

    # Second run: nothing to do, nothing changes, same address.
    before = _snapshot(node)
    r = run_step(operator, node, stdin, "update")
    assert r.returncode == 0, r.stderr
    assert "zerotier-one 1.14.1 is installed and running; nothing to do" in r.stderr
    assert r.stdout.splitlines() == [address]
    assert _snapshot(node) == before

    # An admin's routine upgrade does not move it: the lock holds.
    r = _sh(node, "dnf -y upgrade")
    assert r.returncode == 0, r.stderr
    assert _rpm_q(node) == "zerotier-one-1.14.1-1.noarch"

    # Stopped (say, by an admin): the step starts it again.
    node.exec(["systemctl", "stop", "zerotier-one"])
    r = run_step(operator, node, stdin, "update")
    assert r.returncode == 0, r.stderr
    assert "installed but not running; enabling and starting it" in r.stderr
    assert _unit(node) == ["active", "enabled"]
    assert last_line(r.stdout) == address


def test_dnf_version_change_moves_the_lock_and_keeps_the_identity_stand_in(rocky_factory, operator, mirror):
    node = rocky_factory("rinst2")
    r = run_step(operator, node, step_text(mirror.config(), "head", "install"))
    assert r.returncode == 0, r.stderr
    address = last_line(r.stdout)
    assert _rpm_q(node) == "zerotier-one-1.14.1-1.noarch"

    r = run_step(operator, node, step_text(mirror.config(zerotierVersion="1.14.2"), "head", "install"), "update")
    assert r.returncode == 0, r.stderr
    assert "zerotier-one 1.14.1 is installed; the pinned version is 1.14.2" in r.stderr
    assert _rpm_q(node) == "zerotier-one-1.14.2-1.noarch"
    assert _locks(node) == ["zerotier-one-0:1.14.2-1.*"]
    assert _unit(node) == ["active", "enabled"]
    assert r.stdout.splitlines()[-1] == address

    # And back down: a pin to an older version downgrades and locks there.
    r = run_step(operator, node, step_text(mirror.config(), "head", "install"), "update")
    assert r.returncode == 0, r.stderr
    assert _rpm_q(node) == "zerotier-one-1.14.1-1.noarch"
    assert _locks(node) == ["zerotier-one-0:1.14.1-1.*"]
    assert _unit(node) == ["active", "enabled"]
    assert last_line(r.stdout) == address


def test_dnf_without_the_versionlock_plugin_installs_and_changes_versions_with_a_warning_stand_in(
    rocky_factory, operator, mirror
):
    """A minimal Rocky 9 has no versionlock plugin (python3-dnf-plugin-versionlock): pinning still works."""
    node = rocky_factory("rnolock")
    r = _sh(node, "rm /usr/lib/python3/dist-packages/dnf-plugins/versionlock.py /etc/dnf/plugins/versionlock.*")
    assert r.returncode == 0, r.stderr
    assert "No such command: versionlock" in _sh(node, "dnf versionlock list").stderr

    r = run_step(operator, node, step_text(mirror.config(), "head", "install"))
    assert r.returncode == 0, r.stderr
    assert "warning: dnf versionlock is not available; an upgrade may move zerotier-one off 1.14.1" in r.stderr
    assert _rpm_q(node) == "zerotier-one-1.14.1-1.noarch"
    assert _unit(node) == ["active", "enabled"]
    address = last_line(r.stdout)

    r = run_step(operator, node, step_text(mirror.config(zerotierVersion="1.14.2"), "head", "install"), "update")
    assert r.returncode == 0, r.stderr
    assert _rpm_q(node) == "zerotier-one-1.14.2-1.noarch"
    assert last_line(r.stdout) == address


def test_dnf_uninstall_on_destroy_removes_package_and_lock_and_keeps_the_identity_stand_in(
    rocky_factory, operator, mirror
):
    node = rocky_factory("rinst3")
    stdin = step_text(mirror.config(uninstallOnDestroy=True), "head", "install")
    r = run_step(operator, node, stdin)
    assert r.returncode == 0, r.stderr
    address = last_line(r.stdout)
    secret = node.path(f"{ZT_HOME}/identity.secret").read_bytes()

    r = run_step(operator, node, stdin, "delete")
    assert r.returncode == 0, r.stderr
    assert last_line(r.stdout) == f"install: zerotier-one uninstalled; identity kept in {ZT_HOME}"
    assert _rpm_q(node) == "package zerotier-one is not installed"
    assert _locks(node) == []
    assert _sh(node, "pgrep -x zerotier-one; systemctl is-active zerotier-one").stdout.split() == ["inactive"]
    assert node.path(f"{ZT_HOME}/identity.secret").read_bytes() == secret
    r = run_step(operator, node, stdin, "delete")
    assert r.returncode == 0, r.stderr
    assert last_line(r.stdout) == "install: not installed"

    # Installing again brings the node back with the same ZeroTier address.
    r = run_step(operator, node, stdin)
    assert r.returncode == 0, r.stderr
    assert last_line(r.stdout) == address
    assert _rpm_q(node) == "zerotier-one-1.14.1-1.noarch"
    assert _locks(node) == ["zerotier-one-0:1.14.1-1.*"]


def test_dnf_pinned_version_missing_from_the_repository_fails_by_name_stand_in(rocky_factory, operator, mirror):
    node = rocky_factory("rinst4")
    r = run_step(operator, node, step_text(mirror.config(zerotierVersion="1.12.0"), "head", "install"))
    assert r.returncode == 1
    assert "Unable to find a match: zerotier-one-1.12.0" in r.stderr
    assert "dnf could not install zerotier-one-1.12.0. Its output is in /var/log/zerotier-cluster/install.log" in (
        r.stderr
    )
    assert r.stdout == ""


def test_dnf_version_change_with_the_repository_unreachable_fails_and_keeps_the_old_version_stand_in(
    rocky_factory, operator, mirror
):
    node = rocky_factory("rinst5")
    r = run_step(operator, node, step_text(mirror.config(), "head", "install"))
    assert r.returncode == 0, r.stderr
    shutil.rmtree(mirror.web / "rpm")  # the installer is still there, the repository is gone

    r = run_step(operator, node, step_text(mirror.config(zerotierVersion="1.14.2"), "head", "install"), "update")
    assert r.returncode == 1
    assert "Failed to download metadata for repo 'zerotier'" in r.stderr
    assert "dnf could not install zerotier-one-1.14.2. Its output is in /var/log/zerotier-cluster/install.log" in (
        r.stderr
    )
    assert _rpm_q(node) == "zerotier-one-1.14.1-1.noarch"
    assert _locks(node) == ["zerotier-one-0:1.14.1-1.*"]
    assert _unit(node) == ["active", "enabled"]


def test_dnf_on_an_offline_node_fails_clearly_and_changes_nothing(rocky_factory, operator):
    node = rocky_factory("roffline")
    before = _snapshot(node)
    r = run_step(operator, node, step_text(cluster_config(), "head", "install"), timeout=120)
    assert r.returncode == 1
    assert r.stdout == ""
    assert (
        "could not download ZeroTier's signing key from"
        " https://raw.githubusercontent.com/zerotier/ZeroTierOne/master/doc/contact%40zerotier.com.gpg:"
        " curl: (6) Could not resolve host" in r.stderr
    )
    assert "or zerotier-one 1.14.1 pre-installed" in r.stderr
    assert "Nothing was changed on roffline." in r.stderr
    assert _snapshot(node) == before
    assert _rpm_q(node) == "package zerotier-one is not installed"


def test_dnf_prebaked_node_offline_is_a_noop_and_a_stopped_service_is_started_stand_in(
    rocky_factory, operator, tmp_path
):
    """Air-gapped Rocky nodes with the pinned rpm baked in never reach for the network."""
    needs_root("rpmbuild")
    from tests.lab.rpmrepo import build_rpm

    node = rocky_factory("rbaked")
    shutil.copy(build_rpm(tmp_path, "1.14.1"), node.path("/root/zerotier-one.rpm"))
    r = _sh(node, "dnf -y -q install /root/zerotier-one.rpm && systemctl disable --now zerotier-one")
    assert r.returncode == 0, r.stderr
    stdin = step_text(cluster_config(), "head", "install")  # the real, unreachable URLs

    r = run_step(operator, node, stdin)
    assert r.returncode == 0, r.stderr
    assert "zerotier-one 1.14.1 is installed but not running; enabling and starting it" in r.stderr
    assert r.stdout.splitlines() == [_address(node)]
    assert _unit(node) == ["active", "enabled"]
    before = _snapshot(node)
    r = run_step(operator, node, stdin)
    assert r.returncode == 0, r.stderr
    assert "zerotier-one 1.14.1 is installed and running; nothing to do" in r.stderr
    assert _snapshot(node) == before

    # Destroy without uninstallOnDestroy (the default) leaves ZeroTier alone.
    r = run_step(operator, node, stdin, "delete")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "install: ZeroTier stays installed"
    assert _rpm_q(node) == "zerotier-one-1.14.1-1.noarch"
    assert _unit(node) == ["active", "enabled"]
