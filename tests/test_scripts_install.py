"""install.sh (create/update, and the opt-in uninstall on delete) over real SSH on booted systemd nodes.

ZeroTier's own installer and packages cannot be reached here, so a mirror on
the operator's host serves stand-ins (``tests/lab/zerotier_stand_in.py``): an
installer that does what ZeroTier's does on Debian (adds the package
repository, installs the newest zerotier-one), clear-signed with a key made
for the test; and an apt repository of stand-in ``zerotier-one`` packages
(1.14.1 and a newer 1.14.2) whose "daemon" only makes an identity and idles.
Everything install.sh does runs for real: curl, gpg's fingerprint and
signature checks, apt pinning and holding, dpkg, systemd. The stand-in daemon
is the ZeroTier boundary: nothing here networks.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cluster.spec import ProvisionSpec
from tests.lab.mirror import serve
from tests.lab.provision import cluster_config, last_line, run_step, step_of, step_text, with_param
from tests.lab.zerotier_stand_in import ZT_HOME, Signer, build_deb, build_repo, installer_script

PORT = 8080
LOG = "/var/log/zerotier-cluster/install.log"
#: A validly signed installer that talks a lot (as apt does) and then fails.
CHATTY_FAILING_INSTALLER = """#!/bin/bash
for i in $(seq 1 5000); do echo "chatty installer line $i"; done
echo "chatty installer gives up" >&2
exit 1
"""
#: Holds dpkg's frontend lock the way apt does (an fcntl lock), named as unattended-upgrades is.
APT_LOCK_HOLDER = (
    'perl -MFcntl -e \'open(my $f, ">>", "/var/lib/dpkg/lock-frontend") or die;'
    ' my $l = pack("s s x4 q q i x4", F_WRLCK, 0, 0, 0, 0); fcntl($f, F_SETLK, $l) or die;'
    ' $0 = "unattended-upgrade"; sleep $ARGV[0]\''
)


@dataclass
class Mirror:
    """Where the test's signed installer, key and package repository are served."""

    base: str
    fingerprint: str
    web: Path

    def config(self, *, installer: str = "installer.asc", key: str = "key.asc", **settings):
        urls = {"url": f"{self.base}/{installer}", "keyUrl": f"{self.base}/{key}"}
        return cluster_config(installer={**urls, "keyFingerprint": self.fingerprint}, **settings)


@pytest.fixture
def mirror(machine_factory, operator, tmp_path) -> Iterator[Mirror]:
    signer = Signer(machine_factory("signer"))
    web = tmp_path / "web"
    base = f"http://{operator.host.ip}:{PORT}"
    build_repo(web / "repo", ["1.14.1", "1.14.2"])
    installer = installer_script(f"{base}/repo")
    (web / "key.asc").write_text(signer.public_key)
    (web / "installer.asc").write_text(signer.clearsign(installer))
    (web / "tampered.asc").write_text(
        signer.clearsign(installer).replace("apt-get install -y zerotier-one", "apt-get install -y zerotier-one; id")
    )
    (web / "unsigned.asc").write_text(installer)
    (web / "chatty-failing.asc").write_text(signer.clearsign(CHATTY_FAILING_INSTALLER))
    other = Signer(machine_factory("other-signer"))
    (web / "other-key.asc").write_text(other.public_key)
    (web / "other-signed.asc").write_text(other.clearsign(installer))
    with serve(operator.host, web, PORT, tmp_path):
        yield Mirror(base, signer.fingerprint, web)


def _sh(machine, command: str) -> str:
    return machine.exec(["sh", "-c", command]).stdout


def _package(machine) -> str:
    return _sh(machine, "dpkg-query -W -f '${db:Status-Abbrev}${Version}' zerotier-one 2>/dev/null").strip()


def _snapshot(machine) -> dict[str, str]:
    """What an install that failed early must not have changed: /etc, dpkg's database, ZeroTier's home."""
    listing = _sh(
        machine,
        "find /etc /var/lib/dpkg /usr/sbin /var/lib/zerotier-one /var/lib/zerotier-cluster -xdev"
        " \\( -type f -o -type l \\) 2>/dev/null | sort",
    )
    out = {}
    for path in listing.split():
        target = machine.path(path)
        out[path] = (
            "-> " + str(target.readlink()) if target.is_symlink() else hashlib.sha256(target.read_bytes()).hexdigest()
        )
    return out


def _address(machine) -> str:
    return machine.path(f"{ZT_HOME}/identity.public").read_text().split(":")[0]


def test_install_fresh_from_verified_installer_pins_holds_starts_then_is_a_noop_stand_in(
    machine_factory, operator, mirror
):
    node = machine_factory("inst1", boot=True)
    config = mirror.config(uninstallOnDestroy=True)
    stdin = step_text(config, "compute-01", "install")

    r = run_step(operator, node, stdin)
    assert r.returncode == 0, r.stderr
    assert f"installer signature verified (key {mirror.fingerprint})" in r.stderr
    address = last_line(r.stdout)
    assert len(address) == 10 and address == _address(node)
    # The installer put the newest (1.14.2) in; the step pinned 1.14.1 and held it ("h").
    assert _package(node) == "hi 1.14.1"
    assert _sh(node, "apt-mark showhold").split() == ["zerotier-one"]
    assert _sh(node, "systemctl is-active zerotier-one; systemctl is-enabled zerotier-one").split() == [
        "active",
        "enabled",
    ]
    # The downloads went with the scratch dir; what stays is the program that ran, for its delete.
    assert sorted(p.name for p in node.path("/var/lib/zerotier-cluster").iterdir()) == ["objects"]
    program = re.search(r"^ZTC_PROGRAM=([0-9a-f]{64})$", stdin, re.M).group(1)  # type: ignore[union-attr]
    assert [p.name for p in node.path("/var/lib/zerotier-cluster/objects").iterdir()] == [program]

    # Second run: nothing to do, nothing changes, same address.
    before = _snapshot(node)
    r = run_step(operator, node, stdin, "update")
    assert r.returncode == 0, r.stderr
    assert "zerotier-one 1.14.1 is installed and running; nothing to do" in r.stderr
    assert r.stdout.splitlines() == [address]
    assert _snapshot(node) == before

    # Stopped (say, by an admin): the step starts it again.
    node.exec(["systemctl", "stop", "zerotier-one"])
    r = run_step(operator, node, stdin, "update")
    assert r.returncode == 0, r.stderr
    assert "installed but not running; enabling and starting it" in r.stderr
    assert _sh(node, "systemctl is-active zerotier-one").strip() == "active"
    assert last_line(r.stdout) == address

    # Destroy with uninstallOnDestroy: nothing runs, the package is purged, the identity stays...
    secret = node.path(f"{ZT_HOME}/identity.secret").read_bytes()
    # ...even when the package's purge removes the service's home. ZeroTier's own 1.14.1 package has no
    # postrm, but the step promises to keep the identity whatever the removal scripts do.
    with node.path("/var/lib/dpkg/info/zerotier-one.postrm").open("a") as postrm:
        postrm.write(f'if [ "$1" = purge ]; then rm -rf {ZT_HOME}; fi\n')
    r = run_step(operator, node, stdin, "delete")
    assert r.returncode == 0, r.stderr
    assert last_line(r.stdout) == f"install: zerotier-one uninstalled; identity kept in {ZT_HOME}"
    assert _package(node) in ("", "pn")
    assert _sh(node, "pgrep -x zerotier-one; systemctl is-active zerotier-one").split() == ["inactive"]
    assert node.path(f"{ZT_HOME}/identity.secret").read_bytes() == secret
    r = run_step(operator, node, stdin, "delete")
    assert r.returncode == 0, r.stderr
    assert last_line(r.stdout) == "install: not installed"

    # ...so installing again brings the node back with the same ZeroTier address.
    r = run_step(operator, node, stdin)
    assert r.returncode == 0, r.stderr
    assert last_line(r.stdout) == address
    assert _package(node) == "hi 1.14.1"


def test_install_refuses_unverifiable_installers_and_changes_nothing_stand_in(machine_factory, operator, mirror):
    node = machine_factory("inst2", boot=True)
    cases = {
        "tampered.asc": "is not validly signed by key",
        "unsigned.asc": "is not validly signed by key",
        "other-signed.asc": "is not validly signed by key",
        "missing.asc": "could not download the ZeroTier installer from",
    }
    before = _snapshot(node)
    for installer, message in cases.items():
        r = run_step(operator, node, step_text(mirror.config(installer=installer), "head", "install"))
        assert r.returncode == 1, installer
        assert message in r.stderr, (installer, r.stderr)
        assert r.stdout == "", installer
    # A key file that is not the pinned key is refused before any installer is looked at.
    r = run_step(operator, node, step_text(mirror.config(key="other-key.asc"), "head", "install"))
    assert r.returncode == 1
    assert f"has fingerprint {mirror.fingerprint}" not in r.stderr
    assert f"not the pinned {mirror.fingerprint} (zerotier-cluster:installer.keyFingerprint)" in r.stderr
    assert _snapshot(node) == before
    assert not node.path("/var/lib/zerotier-cluster").exists()


def test_install_on_an_offline_node_fails_clearly_and_changes_nothing(machine_factory, operator):
    node = machine_factory("offline", boot=True)
    before = _snapshot(node)
    r = run_step(operator, node, step_text(cluster_config(), "head", "install"), timeout=120)
    assert r.returncode == 1
    assert r.stdout == ""
    key_url = ProvisionSpec().signing_key_url
    assert f"could not download ZeroTier's signing key from {key_url}: curl: (6) Could not resolve host" in r.stderr
    assert "needs HTTPS access to install.zerotier.com, download.zerotier.com" in r.stderr
    assert "or zerotier-one 1.14.1 pre-installed" in r.stderr
    assert "Nothing was changed on offline." in r.stderr
    assert _snapshot(node) == before


def test_install_prebaked_node_offline_is_a_noop_and_a_stopped_service_is_started_stand_in(
    machine_factory, operator, tmp_path
):
    """Air-gapped nodes with the pinned version baked in never reach for the network."""
    node = machine_factory("baked", boot=True)
    shutil.copy(build_deb(tmp_path, "1.14.1"), node.path("/root/zerotier-one.deb"))
    assert node.exec(["dpkg", "-i", "/root/zerotier-one.deb"]).returncode == 0
    node.exec(["systemctl", "stop", "zerotier-one"])
    node.exec(["systemctl", "disable", "zerotier-one"])
    stdin = step_text(cluster_config(), "head", "install")  # the real, unreachable URLs

    r = run_step(operator, node, stdin)
    assert r.returncode == 0, r.stderr
    assert "zerotier-one 1.14.1 is installed but not running; enabling and starting it" in r.stderr
    assert r.stdout.splitlines() == [_address(node)]
    assert _sh(node, "systemctl is-active zerotier-one; systemctl is-enabled zerotier-one").split() == [
        "active",
        "enabled",
    ]
    before = _snapshot(node)
    r = run_step(operator, node, stdin)
    assert r.returncode == 0, r.stderr
    assert "nothing to do" in r.stderr
    assert _snapshot(node) == before

    # Destroy without uninstallOnDestroy (the default) leaves ZeroTier alone.
    r = run_step(operator, node, stdin, "delete")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "install: ZeroTier stays installed"
    assert _package(node) == "ii 1.14.1"
    assert _sh(node, "systemctl is-active zerotier-one").strip() == "active"


def test_install_pinned_version_missing_from_the_repository_is_named_stand_in(machine_factory, operator, mirror):
    node = machine_factory("inst3", boot=True)
    r = run_step(operator, node, step_text(mirror.config(zerotierVersion="1.12.0"), "head", "install"))
    assert r.returncode == 1
    assert "version 1.12.0 of zerotier-one is not offered by the configured apt repositories" in r.stderr
    assert "lists: 1.14.2 1.14.1" in r.stderr


def test_install_sudo_asking_for_a_password_fails_clearly_and_changes_nothing(machine_factory, operator):
    node = machine_factory("instpw", boot=True)
    before = _snapshot(node)
    r = run_step(operator, node, step_text(cluster_config(), "head", "install"), user="pw")
    assert r.returncode == 1
    assert "sudo on instpw asks user pw for a password, and provisioning runs unattended" in r.stderr
    assert r.stdout == ""
    assert _snapshot(node) == before


def test_install_unsupported_distribution_is_named(machine_factory, operator):
    node = machine_factory("arch")
    node.write("/etc/os-release", 'NAME="Arch Linux"\nPRETTY_NAME="Arch Linux"\nID=arch\n')
    r = run_step(operator, node, step_text(cluster_config(), "head", "install"))
    assert r.returncode == 1
    assert "unsupported distribution Arch Linux (ID=arch) on arch" in r.stderr


def test_install_needs_systemd_up_to_zerotier_boundary(machine_factory, operator):
    node = machine_factory("nosystemd")  # sshd only, no init
    r = run_step(operator, node, step_text(cluster_config(), "head", "install"))
    assert r.returncode == 1
    assert "systemd is not running on nosystemd" in r.stderr


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("ZTC_ZEROTIER_VERSION", "latest", "ZTC_ZEROTIER_VERSION is not valid: 'latest'"),
        (
            "ZTC_SIGNING_KEY_FINGERPRINT",
            "74A5E9C4",
            "ZTC_SIGNING_KEY_FINGERPRINT (40 hex digits) is not valid: '74A5E9C4'",
        ),
        ("ZTC_INSTALLER_URL", "file:///etc/shadow", "ZTC_INSTALLER_URL is not valid: 'file:///etc/shadow'"),
        ("ZTC_UNINSTALL_ON_DESTROY", "yes", "ZTC_UNINSTALL_ON_DESTROY is not valid"),
    ],
    ids=["version", "fingerprint", "url", "uninstall"],
)
def test_install_bad_parameters_are_refused(machine_factory, operator, var, value, message):
    node = machine_factory("instbad")
    r = run_step(operator, node, with_param(step_of(cluster_config(), "head", "install"), var, value))
    assert r.returncode == 1
    assert message in r.stderr


def _background(machine, command: str) -> str:
    """Starts ``command`` in the machine, detached; returns its pid."""
    r = machine.exec(["sh", "-c", f"{command} >/dev/null 2>&1 </dev/null & echo $!"])
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_install_waits_for_package_manager_locks_and_keeps_its_output_short_stand_in(machine_factory, operator, mirror):
    node = machine_factory("instlock", boot=True)
    stdin = step_text(mirror.config(), "head", "install")

    # A chatty installer that fails: its output is in the log on the node; the operator sees a bounded tail.
    r = run_step(operator, node, step_text(mirror.config(installer="chatty-failing.asc"), "head", "install"))
    assert r.returncode == 1
    assert len((r.stdout + r.stderr).encode()) < 4096, r.stderr
    assert f"ZeroTier's installer failed. Its output is in {LOG} on instlock; the last lines:" in r.stderr
    assert "chatty installer line 4999\nchatty installer line 5000\nchatty installer gives up" in r.stderr
    assert "chatty installer line 4900" not in r.stderr
    log = node.path(LOG).read_text()
    assert "chatty installer line 1\n" in log and "chatty installer line 5000\n" in log
    assert _sh(node, f"stat -c '%U %a' {LOG} /var/log/zerotier-cluster").split() == ["root", "640", "root", "750"]

    # dpkg's lock held (flock) past ZTC_LOCK_TIMEOUT: refused, naming the holder; nothing changed.
    holder = _background(node, "flock /var/lib/dpkg/lock-frontend sleep 120")
    before = _snapshot(node)
    # ZTC_LOCK_TIMEOUT is InstallParams.lock_timeout (600 s); a program with 3 s instead.
    short = with_param(step_of(mirror.config(), "head", "install"), "ZTC_LOCK_TIMEOUT", "3")
    assert short.text() != stdin
    r = run_step(operator, node, short)
    assert r.returncode == 1
    assert "ERROR: the package manager on instlock is still busy after 3s: " in r.stderr
    assert f"pid {holder} (flock: flock /var/lib/dpkg/lock-frontend sleep 120) holds /var/lib/dpkg/lock-frontend" in (
        r.stderr
    )
    assert _snapshot(node) == before
    node.exec(["kill", holder])

    # Held as apt holds it, for 40 s (long enough for two progress lines on a busy test machine):
    # install says who holds it every 15 s, waits, then installs.
    holder = _background(node, f"{APT_LOCK_HOLDER} 40")
    r = run_step(operator, node, stdin)
    assert r.returncode == 0, r.stderr
    waits = [line for line in r.stderr.splitlines() if "waiting for the package manager" in line]
    assert len(waits) >= 2, r.stderr
    holds = f"waiting for the package manager: pid {holder} (unattended-upgr: unattended-upgrade)"
    holds += " holds /var/lib/dpkg/lock-frontend (waited "
    assert all(holds in line and line.endswith("s of at most 600s)") for line in waits), r.stderr
    assert _package(node) == "hi 1.14.1"
    assert r.stdout.splitlines() == [_address(node)]
    # Bounded output: apt's and dpkg's chatter went to the log; the previous run's log was kept once.
    assert len((r.stdout + r.stderr).encode()) < 4096, r.stderr
    assert "Setting up zerotier-one" not in r.stderr
    log = node.path(LOG).read_text()
    assert "Setting up zerotier-one (1.14.1" in log and "zerotier-one set on hold." in log
    assert "chatty installer line 5000" in node.path(LOG + ".1").read_text()
