"""A Debian 12 tree built once with debootstrap and cached between test runs.

Machines boot copy-on-write overlays of it, so a test can do anything to its
machine and the next one still starts clean. The cache lives in
``$ZTC_ROOTFS_CACHE`` (default ``/var/cache/zerotier-cluster-tests``); its
directory name carries a digest of the recipe, so changing the recipe builds
a fresh tree instead of reusing a stale one.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

SUITE = "bookworm"
#: Where the machine's own package manager is configured (the mirror comes from there, never from this file).
APT_SOURCES = Path("/etc/apt")
PACKAGES = (
    "systemd", "systemd-sysv", "dbus", "openssh-server", "sudo", "nftables",
    "iproute2", "iputils-ping", "ca-certificates", "curl", "gnupg", "procps",
)  # fmt: skip
#: Login users inside every machine: (name, uid, sudo rule or None).
USERS = (
    ("ops", 1000, "ops ALL=(ALL) NOPASSWD: ALL"),
    ("pw", 1001, "pw ALL=(ALL) ALL"),
)
PASSWORD = "not-used-by-tests"
RECIPE_VERSION = "1"


def _sources(apt: Path) -> Iterator[tuple[list[str], list[str], list[str], list[str]]]:
    """Every source entry as (types, URIs, suites, components): deb822 ``*.sources`` and one-line ``*.list``."""
    for path in sorted((apt / "sources.list.d").glob("*.sources")):
        for stanza in path.read_text(encoding="utf-8", errors="replace").split("\n\n"):
            fields: dict[str, list[str]] = {}
            for line in stanza.splitlines():
                if line.strip() and not line.lstrip().startswith("#") and ":" in line and not line[0].isspace():
                    name, _, value = line.partition(":")
                    fields[name.strip().lower()] = value.split()
            if fields.get("enabled", ["yes"]) != ["no"]:
                yield (
                    fields.get("types", []),
                    fields.get("uris", []),
                    fields.get("suites", []),
                    fields.get("components", []),
                )
    for path in [apt / "sources.list", *sorted((apt / "sources.list.d").glob("*.list"))]:
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            words = re.sub(r"\[[^\]]*\]", " ", line.split("#", 1)[0]).split()
            if len(words) >= 4:
                yield [words[0]], [words[1]], [words[2]], words[3:]


def debian_mirror(apt: Path = APT_SOURCES) -> str:
    """The Debian mirror the machine itself uses for ``SUITE`` main (``ZTC_DEBIAN_MIRROR`` overrides it).

    CI and developers' machines reach only their configured package mirrors, so the test tree is
    built from the same one ``apt-get`` uses here.
    """
    override = os.environ.get("ZTC_DEBIAN_MIRROR")
    if override:
        return override
    for types, uris, suites, components in _sources(apt):
        if "deb" in types and SUITE in suites and "main" in components and uris:
            return uris[0].rstrip("/")
    raise RuntimeError(
        f"no apt source for Debian {SUITE} main in {apt}/sources.list(.d): set ZTC_DEBIAN_MIRROR to a Debian mirror"
    )


def cache_dir() -> Path:
    return Path(os.environ.get("ZTC_ROOTFS_CACHE", "/var/cache/zerotier-cluster-tests"))


def recipe_digest() -> str:
    text = "|".join([RECIPE_VERSION, SUITE, *PACKAGES, *(f"{u}:{i}:{r}" for u, i, r in USERS)])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def ensure_rootfs() -> Path:
    """Returns the cached tree, building it first if needed (a minute or two)."""
    return cached_tree(f"debian12-{recipe_digest()}", _debootstrap)


def cached_tree(name: str, build: Callable[[Path], None]) -> Path:
    """The tree ``name`` in the cache, made by ``build(directory)`` if it is not there yet.

    Built under a lock in a scratch directory and renamed into place, so
    parallel test runs wait for one build and never see a half-built tree.
    """
    root = cache_dir()
    tree = root / name
    if (tree / ".ztc-ready").exists():
        return tree
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (tree / ".ztc-ready").exists():
            return tree
        building = root / f"building-{os.getpid()}"
        shutil.rmtree(building, ignore_errors=True)
        build(building)
        shutil.rmtree(tree, ignore_errors=True)
        building.rename(tree)
        (tree / ".ztc-ready").write_text(name + "\n")
    return tree


def _debootstrap(building: Path) -> None:
    subprocess.run(
        ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE, str(building), debian_mirror()],
        check=True,
        capture_output=True,
        text=True,
    )
    _customise(building)


def _chroot(tree: Path, *argv: str, stdin: str | None = None) -> None:
    subprocess.run(["chroot", str(tree), *argv], check=True, input=stdin, capture_output=True, text=True)


def _customise(tree: Path) -> None:
    for name, uid, rule in USERS:
        _chroot(tree, "useradd", "--create-home", "--uid", str(uid), "--shell", "/bin/bash", name)
        _chroot(tree, "chpasswd", stdin=f"{name}:{PASSWORD}\n")
        if rule:
            sudoers = tree / "etc/sudoers.d" / name
            sudoers.write_text(rule + "\n")
            sudoers.chmod(0o440)
    # Keep the boot quiet and quick: nothing here should reach for the network on its own.
    for unit in ("apt-daily.timer", "apt-daily-upgrade.timer", "e2scrub_all.timer", "fstrim.timer"):
        subprocess.run(["chroot", str(tree), "systemctl", "disable", unit], capture_output=True, check=False)
    (tree / "etc/machine-id").write_text("")
    (tree / "etc/ssh/sshd_config.d/ztc-tests.conf").write_text("UseDNS no\nMaxStartups 100\n")
