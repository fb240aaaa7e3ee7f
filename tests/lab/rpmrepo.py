"""Stand-in ``zerotier-one`` rpm packages, a dnf repository of them, and the RHEL branch of the installer.

The rpm twin of :func:`tests.lab.zerotier_stand_in.build_repo`: the same
stand-in daemon (makes an identity, then idles), stand-in CLI and systemd
unit, packaged with the real ``rpmbuild`` from a spec file written here, and
indexed with ``createrepo_c``, so install.sh's dnf path runs real dnf, rpm,
versionlock and systemd on a :mod:`tests.lab.rocky` machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .netns import sh
from .zerotier_stand_in import FAKE_CLI, FAKE_DAEMON, UNIT

SPEC = """Name: zerotier-one
Version: {version}
Release: 1
Summary: TEST STAND-IN for ZeroTier One (no networking)
License: none
BuildArch: noarch
Requires: systemd

%description
TEST STAND-IN for ZeroTier One: its daemon only makes an identity and idles.

%install
install -D -m 755 %{{_sourcedir}}/zerotier-one %{{buildroot}}/usr/sbin/zerotier-one
install -D -m 755 %{{_sourcedir}}/zerotier-cli %{{buildroot}}/usr/sbin/zerotier-cli
install -D -m 644 %{{_sourcedir}}/zerotier-one.service %{{buildroot}}/usr/lib/systemd/system/zerotier-one.service

%post
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable zerotier-one >/dev/null 2>&1
    systemctl restart zerotier-one
fi

%preun
if [ "$1" -eq 0 ] && [ -d /run/systemd/system ]; then
    systemctl disable --now zerotier-one >/dev/null 2>&1 || true
fi

%postun
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload || true
fi

%files
/usr/sbin/zerotier-one
/usr/sbin/zerotier-cli
/usr/lib/systemd/system/zerotier-one.service
"""


def build_rpm(workdir: Path, version: str) -> Path:
    """A ``zerotier-one-<version>-1.noarch.rpm`` stand-in, built with rpmbuild under ``workdir``."""
    top = workdir / f"rpmbuild-{version}"
    sources = top / "SOURCES"
    sources.mkdir(parents=True, exist_ok=True)
    (sources / "zerotier-one").write_text(FAKE_DAEMON.replace("{version}", version))
    (sources / "zerotier-cli").write_text(FAKE_CLI.read_text().replace("VERSION=1.14.1", f"VERSION={version}"))
    (sources / "zerotier-one.service").write_text(UNIT)
    spec = top / "zerotier-one.spec"
    spec.write_text(SPEC.format(version=version))
    sh(["rpmbuild", "-bb", "--define", f"_topdir {top}", str(spec)])
    return top / "RPMS" / "noarch" / f"zerotier-one-{version}-1.noarch.rpm"


def build_rpm_repo(repo: Path, versions: Sequence[str]) -> Path:
    """A dnf repository (``baseurl=<url>``) of stand-in packages, indexed by createrepo_c."""
    repo.mkdir(parents=True, exist_ok=True)
    for version in versions:
        build_rpm(repo.parent, version).replace(repo / f"zerotier-one-{version}-1.noarch.rpm")
    sh(["createrepo_c", "--quiet", str(repo)])
    return repo


def rpm_installer_script(repo_url: str) -> str:
    """What ZeroTier's installer does on RHEL/Rocky/Alma, against the test's repository (bash, run as root)."""
    return f"""#!/bin/bash
# TEST STAND-IN for https://install.zerotier.com (RHEL branch): adds the
# package repository and installs the newest zerotier-one with yum. Like the
# real one, it does nothing when /usr/sbin/zerotier-one is already there.
# (The stand-in packages are unsigned, hence gpgcheck=0 where ZeroTier's
# repository file has gpgcheck=1 and its key.)
if [ -f /usr/sbin/zerotier-one ]; then
    echo '*** ZeroTier One appears to already be installed.'
    exit 0
fi
cat >/etc/yum.repos.d/zerotier.repo <<'EOF'
[zerotier]
name=ZeroTier, Inc. RPM Release Repository
baseurl={repo_url}
enabled=1
gpgcheck=0
EOF
yum install -y zerotier-one </dev/null
exit 0
"""
