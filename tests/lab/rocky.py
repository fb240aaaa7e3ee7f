"""A RHEL-family test machine: the cached Debian 12 tree with dnf as its package manager.

Most HPC clusters run Rocky or Alma Linux, and no such image can be fetched
here. Debian 12 ships the real package tools of that family (dnf 4.14, rpm
4.18, dnf-plugins-core with versionlock), so the variant is the Debian tree
with those installed and made to look and behave like a minimal Rocky Linux 9
where install.sh can tell:

* ``/etc/os-release`` is Rocky 9's (install.sh picks its package manager from
  ``ID``/``ID_LIKE`` alone);
* ``yum`` is dnf, as on RHEL 8 and 9 (ZeroTier's installer calls ``yum``);
* dnf's configuration is Rocky 9's (``skip_if_unavailable=False``: an
  unreachable repository is an error, not an empty one; ``best=True``), not
  Debian's packaging defaults; ``$releasever`` is 9; the ``local`` plugin,
  not part of a RHEL install, is off;
* rpm keeps its database in ``/var/lib/rpm`` (Debian's rpm would use
  ``~/.rpmdb``);
* the rpm database is not empty: one package stands for the base system
  Debian installed (:data:`BASE_SPEC`), so rpm packages' usual requirements
  (``/bin/sh``, ``systemd``) resolve as on a real RHEL machine;
* apt and dpkg are gone, so a stray apt call on this path fails loudly
  instead of quietly working.

The tree is cached beside the base tree (:func:`tests.lab.rootfs.cached_tree`),
named by a digest of the base and this recipe.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from .rootfs import cached_tree, ensure_rootfs

#: Debian packages that make the package manager dnf.
PACKAGES = ("dnf", "dnf-plugins-core", "rpm")
RECIPE_VERSION = "1"

OS_RELEASE = """NAME="Rocky Linux"
VERSION="9.4 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.4"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"
ANSI_COLOR="0;32"
HOME_URL="https://rockylinux.org/"
"""

#: Rocky Linux 9's /etc/dnf/dnf.conf.
DNF_CONF = """[main]
gpgcheck=1
installonly_limit=3
clean_requirements_on_remove=True
best=True
skip_if_unavailable=False
"""

#: The rpm that stands for what Debian installed: a RHEL machine's rpm database has bash, systemd, ...
BASE_SPEC = """Name: base-system
Version: 12
Release: 1
Summary: TEST STAND-IN: the base system that Debian's packages installed in this tree
License: none
BuildArch: noarch
Provides: /bin/sh, /bin/bash, /usr/bin/sh, /usr/bin/bash, bash, systemd, coreutils, sed, grep, gawk

%description
Lets rpm packages' requirements on the base system resolve on a Debian-built test machine.

%files
"""

#: Debian tools a RHEL machine does not have.
DEBIAN_TOOLS = (
    "usr/bin/apt", "usr/bin/apt-get", "usr/bin/apt-cache", "usr/bin/apt-mark", "usr/bin/apt-config",
    "usr/bin/dpkg", "usr/bin/dpkg-query", "usr/bin/dpkg-deb",
)  # fmt: skip


def recipe_digest(base: Path) -> str:
    text = "|".join([RECIPE_VERSION, base.name, *PACKAGES, OS_RELEASE, DNF_CONF, BASE_SPEC, *DEBIAN_TOOLS])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def ensure_rocky_rootfs() -> Path:
    """Returns the cached Rocky-like tree, building it from the Debian tree if needed (under a minute)."""
    base = ensure_rootfs()  # before cached_tree takes the cache lock: it takes the same lock
    return cached_tree(f"rocky9-{recipe_digest(base)}", lambda building: _build(base, building))


def _build(base: Path, tree: Path) -> None:
    subprocess.run(["cp", "-a", "--reflink=auto", str(base), str(tree)], check=True)
    (tree / ".ztc-ready").unlink()
    install = (
        "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "
        + " ".join(PACKAGES)
        + " && apt-get clean && rm -rf /var/lib/apt/lists/*"
    )
    _inside(tree, install)
    (tree / "etc/os-release").unlink()
    (tree / "usr/lib/os-release").write_text(OS_RELEASE)
    (tree / "etc/os-release").symlink_to("../usr/lib/os-release")
    (tree / "etc/dnf/dnf.conf").write_text(DNF_CONF)
    (tree / "etc/dnf/vars/releasever").write_text("9\n")
    (tree / "etc/dnf/plugins/local.conf").write_text("[main]\nenabled = 0\n")
    (tree / "etc/yum.repos.d").mkdir(exist_ok=True)
    (tree / "etc/rpm").mkdir(exist_ok=True)
    (tree / "etc/rpm/macros").write_text("%_dbpath /var/lib/rpm\n")
    (tree / "usr/bin/yum").symlink_to("dnf-3")
    (tree / "root/base-system.spec").write_text(BASE_SPEC)
    register = (
        "rpmbuild -bb --quiet --define '_topdir /root/rpmbuild' /root/base-system.spec"
        " && rpm -i /root/rpmbuild/RPMS/noarch/base-system-12-1.noarch.rpm"
        " && rm -rf /root/rpmbuild /root/base-system.spec"
    )
    _inside(tree, register)
    for tool in DEBIAN_TOOLS:
        (tree / tool).unlink()


def _inside(tree: Path, script: str) -> None:
    """Runs ``script`` in the tree: nspawn, not chroot, so package scripts see /proc, /dev and a resolver."""
    subprocess.run(
        ["systemd-nspawn", "--quiet", "--register=no", "--keep-unit", "--pipe", "-D", str(tree), "sh", "-c", script],
        check=True,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
