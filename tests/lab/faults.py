"""Faults a real node throws at a step that writes files, made inside a running machine.

Each condition is a context manager that mounts something inside the
machine's own mount namespace (so the step, over SSH, sees it; the host-side
:meth:`~tests.lab.machine.Machine.path` view does not) and undoes it on exit.
Files are therefore read back with :func:`digests` and :func:`read`, inside.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from .machine import Machine

Condition = Callable[[Machine], AbstractContextManager[None]]


def run(machine: Machine, script: str, *args: str) -> str:
    """Runs ``sh -ec script`` as root inside the machine; fails the test when it fails."""
    result = machine.exec(["sh", "-ec", script, "sh", *args], timeout=120)
    assert result.returncode == 0, f"{script!r} failed: {result.stderr}"
    return result.stdout


def read(machine: Machine, path: str) -> str:
    return run(machine, 'cat "$1"', path)


def digests(machine: Machine, *paths: str) -> dict[str, str]:
    """sha256 of each file as the machine sees it ("absent" when there is none)."""
    out = run(machine, 'for f; do if [ -e "$f" ]; then sha256sum "$f"; else echo "absent $f"; fi; done', *paths)
    return {line.split()[1]: line.split()[0] for line in out.splitlines()}


def leftovers(machine: Machine, directory: str) -> list[str]:
    """Staged copies (``.ztc.*``) a step left next to its targets."""
    return run(machine, 'ls -A "$1" | grep "^\\.ztc\\." || true', directory).split()


@contextmanager
def tmp_on_tmpfs(machine: Machine, size: str, *, fill: bool = False) -> Iterator[None]:
    """/tmp on a tmpfs of ``size`` (``16k``, ``215k``), filled to the last byte if ``fill``."""
    run(machine, 'mount -t tmpfs -o "size=$1,mode=1777" tmpfs /tmp', size)
    if fill:
        run(machine, "dd if=/dev/zero of=/tmp/filler bs=4k 2>/dev/null || true")
    try:
        yield
    finally:
        run(machine, "umount /tmp")


@contextmanager
def tmp_missing(machine: Machine) -> Iterator[None]:
    """No /tmp at all: every mount on it undone and the directory moved away."""
    run(machine, "while mountpoint -q /tmp; do umount -l /tmp; done; mv /tmp /tmp.away")
    try:
        yield
    finally:
        run(machine, "mv /tmp.away /tmp")


@contextmanager
def full(machine: Machine, directory: str, *, free_kib: int = 0) -> Iterator[None]:
    """``directory`` on its own tmpfs (a copy of its files) with only ``free_kib`` left free."""
    copy = "/run/ztc-full" + directory.replace("/", "-")
    run(
        machine,
        """
        mkdir -p "$2"
        used=$(du -sk "$1" | cut -f1)
        mount -t tmpfs -o "size=$((used + 2048))k" tmpfs "$2"
        cp -a "$1/." "$2/"
        mount --bind "$2" "$1"
        dd if=/dev/zero of="$1/.filler" bs=4k 2>/dev/null || true
        if [ "$3" -gt 0 ]; then truncate -s "-$3k" "$1/.filler"; fi
        """,
        directory,
        copy,
        str(free_kib),
    )
    try:
        yield
    finally:
        run(machine, 'umount "$1" && umount "$2"', directory, copy)


@contextmanager
def read_only(machine: Machine, directory: str) -> Iterator[None]:
    """``directory`` mounted read-only over itself."""
    run(machine, 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1"', directory)
    try:
        yield
    finally:
        run(machine, 'umount "$1"', directory)


def tmp_conditions(size: int) -> dict[str, Condition]:
    """/tmp tiny (full), missing, and tmpfs of 1.2, 1.6 and 1.9 times ``size`` bytes: the issue's sizes."""
    conditions: dict[str, Condition] = {
        "tmp 16k full": lambda m: tmp_on_tmpfs(m, "16k", fill=True),
        "tmp missing": tmp_missing,
    }
    for factor in (1.2, 1.6, 1.9):
        kib = int(size * factor) // 1024
        conditions[f"tmp {factor}x"] = lambda m, kib=kib: tmp_on_tmpfs(m, f"{kib}k")
    return conditions
