"""Stand-ins for ZeroTier in test machines, where the real zerotier-one cannot run.

There is no ZeroTier package in any registry CI can reach, and no internet, so:

* :func:`install_fake_cli` puts ``fake_zerotier_cli.sh`` (a scripted
  ``zerotier-cli`` answering from output captured from a real 1.14.1 daemon,
  ``zerotier_samples/``, for a chosen status) with those samples, the
  files of a running service and a service script that logs restarts
  (``moon_stand_in.INIT_SCRIPT``) into a machine;
* :func:`build_repo` builds ``zerotier-one`` .deb packages with ``dpkg-deb``
  (a shell "daemon" that makes an identity, the stand-in CLI and a systemd
  unit) and an apt repository of them, so install.sh runs real apt, dpkg and
  systemd;
* :class:`Signer` makes an OpenPGP key and clear-signs an installer (gpg runs
  inside a throwaway machine, so the host needs no gnupg).

Everything here is clearly a test double; nothing pretends to be ZeroTier on a
real node.
"""

from __future__ import annotations

import hashlib
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from .machine import Machine
from .moon_stand_in import INIT_SCRIPT
from .netns import sh

LAB = Path(__file__).resolve().parent
FAKE_CLI = LAB / "fake_zerotier_cli.sh"
SAMPLES = LAB / "zerotier_samples"
#: Where the stand-in CLI reads the captured samples it answers from.
SAMPLES_ON_MACHINE = "/usr/share/zerotier-stand-in"
ZT_HOME = "/var/lib/zerotier-one"
CLI_LOG = "/var/log/fake-zerotier-cli.log"

#: The stand-in service: makes an identity on first start, like zerotier-one, then idles.
FAKE_DAEMON = f"""#!/bin/sh
# TEST STAND-IN for zerotier-one {{version}}: no networking. Creates an identity
# and an auth token on first start, as the real service does, and marks itself
# running (zerotier-one.port) for the stand-in zerotier-cli.
home={ZT_HOME}
mkdir -p "$home/networks.d"
hex() {{ od -An -N"$1" -tx1 /dev/urandom | tr -d ' \\n'; }}
if [ ! -f "$home/identity.secret" ]; then
    addr=$(hex 5)
    pub=$(hex 32)
    printf '%s:0:%s\\n' "$addr" "$pub" >"$home/identity.public"
    (umask 077; printf '%s:0:%s:%s\\n' "$addr" "$pub" "$(hex 32)" >"$home/identity.secret")
fi
[ -f "$home/authtoken.secret" ] || (umask 077; hex 12 >"$home/authtoken.secret")
echo 9993 >"$home/zerotier-one.port"
trap 'rm -f "$home/zerotier-one.port"; exit 0' TERM INT
while :; do sleep 3600 & wait $!; done
"""

UNIT = """[Unit]
Description=ZeroTier One (TEST STAND-IN)
After=network.target

[Service]
ExecStart=/usr/sbin/zerotier-one
Restart=always
KillMode=process

[Install]
WantedBy=multi-user.target
"""

POSTINST = """#!/bin/sh
set -e
if [ "$1" = configure ] && [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable zerotier-one >/dev/null 2>&1
    systemctl restart zerotier-one
fi
"""

PRERM = """#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
    systemctl stop zerotier-one || true
fi
"""

POSTRM = """#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload || true
fi
"""


def cli_samples() -> list[Path]:
    """The samples the stand-in zerotier-cli answers from (the folder also holds controller and moon recordings)."""
    return sorted(p for p in SAMPLES.iterdir() if p.name.startswith(("info-", "listnetworks-")))


def install_fake_cli(
    machine: Machine,
    *,
    address: str = "a1b2c3d4e5",
    running: bool = True,
    scenario: Mapping[str, str] | None = None,
) -> None:
    """Gives ``machine`` the stand-in ``zerotier-cli`` and the files of a running service."""
    machine.write("/usr/sbin/zerotier-cli", FAKE_CLI.read_text(), mode=0o755)
    for sample in cli_samples():
        machine.write(f"{SAMPLES_ON_MACHINE}/{sample.name}", sample.read_text())
    machine.write(f"{ZT_HOME}/identity.public", f"{address}:0:{'ab' * 32}\n")
    machine.write(f"{ZT_HOME}/identity.secret", f"{address}:0:{'ab' * 32}:{'cd' * 32}\n", mode=0o600)
    machine.write(f"{ZT_HOME}/authtoken.secret", "stand-in-token\n", mode=0o600)
    machine.path(f"{ZT_HOME}/networks.d").mkdir(parents=True, exist_ok=True)
    # The service as a machine without systemd restarts it (localconf, orbit): the restart is only logged.
    machine.write("/etc/init.d/zerotier-one", INIT_SCRIPT, mode=0o755)
    set_running(machine, running)
    set_scenario(machine, **(scenario or {}))


def set_running(machine: Machine, running: bool) -> None:
    port = machine.path(f"{ZT_HOME}/zerotier-one.port")
    if running:
        machine.write(f"{ZT_HOME}/zerotier-one.port", "9993\n")
    else:
        port.unlink(missing_ok=True)


def set_scenario(machine: Machine, **values: str) -> None:
    """What the stand-in reports: STATUS, ADDRESSES, ONLINE, OK_AFTER, PORT_ERROR, NAME."""
    text = "".join(f"{k}={shlex.quote(v)}\n" for k, v in values.items())
    machine.write("/etc/fake-zerotier/scenario", text)


def cli_calls(machine: Machine) -> list[str]:
    """Every stand-in zerotier-cli invocation so far (its arguments)."""
    log = machine.path(CLI_LOG)
    return log.read_text().splitlines() if log.exists() else []


def build_deb(workdir: Path, version: str) -> Path:
    """A ``zerotier-one`` stand-in package at ``version`` (Architecture: all)."""
    root = workdir / f"pkg-{version}"
    files = {
        "DEBIAN/control": (
            f"Package: zerotier-one\nVersion: {version}\nArchitecture: all\n"
            "Maintainer: zerotier-cluster tests <tests@invalid>\n"
            "Description: TEST STAND-IN for ZeroTier One (no networking)\n"
        ),
        "DEBIAN/postinst": POSTINST,
        "DEBIAN/prerm": PRERM,
        "DEBIAN/postrm": POSTRM,
        "usr/sbin/zerotier-one": FAKE_DAEMON.replace("{version}", version),
        "usr/sbin/zerotier-cli": FAKE_CLI.read_text().replace("VERSION=1.14.1", f"VERSION={version}"),
        "lib/systemd/system/zerotier-one.service": UNIT,
        **{f"{SAMPLES_ON_MACHINE[1:]}/{p.name}": p.read_text() for p in cli_samples()},
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(0o755 if rel.startswith(("usr/", "DEBIAN/p")) else 0o644)
    deb = workdir / f"zerotier-one_{version}_all.deb"
    sh(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(root), str(deb)])
    return deb


def build_repo(repo: Path, versions: Sequence[str]) -> Path:
    """A flat apt repository (``deb [trusted=yes] <url> ./``) of stand-in packages."""
    repo.mkdir(parents=True, exist_ok=True)
    stanzas = []
    for version in versions:
        deb = build_deb(repo.parent, version)
        target = repo / deb.name
        deb.replace(target)
        data = target.read_bytes()
        control = sh(["dpkg-deb", "-f", str(target)]).stdout.strip()
        stanzas.append(
            f"{control}\nFilename: ./{target.name}\nSize: {len(data)}\n"
            f"MD5sum: {hashlib.md5(data).hexdigest()}\nSHA256: {hashlib.sha256(data).hexdigest()}\n"
        )
    (repo / "Packages").write_text("\n".join(stanzas))
    return repo


def installer_script(repo_url: str) -> str:
    """What ZeroTier's installer does on Debian, against the test's repository (bash, run as root)."""
    return f"""#!/bin/bash
# TEST STAND-IN for https://install.zerotier.com (Debian branch): adds the
# package repository and installs the newest zerotier-one. Like the real one,
# it does nothing when /usr/sbin/zerotier-one is already there.
if [ -f /usr/sbin/zerotier-one ]; then
    echo '*** ZeroTier One appears to already be installed.'
    exit 0
fi
echo 'deb [trusted=yes] {repo_url} ./' >/etc/apt/sources.list.d/zerotier.list
apt-get update -o Dir::Etc::sourcelist=sources.list.d/zerotier.list -o Dir::Etc::sourceparts=- \\
    -o APT::Get::List-Cleanup=0 </dev/null
apt-get install -y zerotier-one </dev/null
exit 0
"""


class Signer:
    """An OpenPGP key in a throwaway machine; signs installers like ZeroTier does (clear-signed)."""

    def __init__(self, machine: Machine) -> None:
        self.machine = machine
        self._gpg(["--quick-gen-key", "--passphrase", "", "ztc-tests <tests@invalid>", "ed25519", "sign", "never"])
        listing = self._gpg(["--with-colons", "--fingerprint"])
        self.fingerprint = next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))
        self.public_key = self._gpg(["--armor", "--export", self.fingerprint])

    def _gpg(self, args: Sequence[str], stdin: str | None = None) -> str:
        argv = ["gpg", "--batch", "--homedir", "/root/signer", "--pinentry-mode", "loopback", *args]
        self.machine.exec(["mkdir", "-m", "700", "-p", "/root/signer"])
        result = self.machine.exec(argv, stdin=stdin)
        if result.returncode != 0:
            raise subprocess.CalledProcessError(result.returncode, argv, result.stdout, result.stderr)
        return result.stdout

    def clearsign(self, text: str) -> str:
        return self._gpg(["--clearsign", "--local-user", self.fingerprint, "--output", "-"], stdin=text)
