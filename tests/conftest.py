"""Shared fixtures: the Pulumi SDK stand-in, and throwaway hosts for tests that need root."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Property tests are judged by their examples, never by the clock: a machine busy booting test nodes
# makes generation slow, which must not fail a test (CI shares 2 cores with nspawn machines).
settings.register_profile("ztc", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ztc")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.mockrun import use_zerotier_sdk  # noqa: E402  (needs ROOT on the path)

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ZEROTIER_SDK = use_zerotier_sdk()
#: Fixtures that build hosts (network namespaces, Debian 12 machines): a test using one is marked ``machine``.
MACHINE_FIXTURES = frozenset({"segment", "rootfs", "machine_factory", "operator"})
_running: list[pytest.Item] = []


def pytest_report_header() -> str:
    return f"pulumi_zerotier: {ZEROTIER_SDK}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks every test that builds hosts ``machine``, so ``-m "not machine"`` is the fast, root-free loop."""
    for item in items:
        if MACHINE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.machine)


def pytest_runtest_setup(item: pytest.Item) -> None:
    _running[:] = [item]


def needs(condition: bool, why: str) -> None:
    """Skips a test whose host requirements are missing; in CI that is a failure instead."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {why}: this test must run in CI", pytrace=False)
    pytest.skip(why)


def needs_root(*tools: str) -> None:
    """Skips (fails in CI) without root or ``tools``; a test that needs root must be marked ``machine``."""
    if _running and _running[0].get_closest_marker("machine") is None:
        pytest.fail("this test needs root: mark it @pytest.mark.machine (the fast loop leaves it out)", pytrace=False)
    needs(os.geteuid() == 0, "needs root (network namespaces, nftables, systemd-nspawn)")
    missing = [t for t in tools if shutil.which(t) is None]
    needs(not missing, f"needs {', '.join(missing)} on PATH")


@pytest.fixture(scope="session")
def rootfs() -> Path:
    """The cached Debian 12 tree (built on first use)."""
    needs_root("debootstrap", "systemd-nspawn")
    from tests.lab.rootfs import ensure_rootfs

    return ensure_rootfs()


@pytest.fixture
def segment() -> Iterator[Segment]:
    needs_root("ip", "nft")
    from tests.lab.netns import Segment

    with Segment() as seg:
        yield seg


@pytest.fixture
def operator(segment: Segment, tmp_path: Path) -> Operator:
    """The operator's workstation on the segment, with an SSH key."""
    from tests.lab.ssh import Operator

    return Operator(segment.add_host("op"), tmp_path / "operator")


@pytest.fixture
def machine_factory(
    segment: Segment, rootfs: Path, operator: Operator, tmp_path: Path
) -> Iterator[Callable[..., Machine]]:
    """Makes Debian 12 machines on the segment; ``boot=True`` runs systemd, else only sshd."""
    from tests.lab.machine import Machine

    machines: list[Machine] = []

    def make(name: str, *, boot: bool = False, before_start: Callable[[Machine], None] | None = None) -> Machine:
        machine = Machine(segment.add_host(name), rootfs, tmp_path / f"machine-{name}")
        machines.append(machine)
        for user in ("root", "ops", "pw"):
            machine.authorize(user, operator.public_key)
        if before_start is not None:
            before_start(machine)
        machine.boot() if boot else machine.start_sshd()
        return machine

    yield make
    for machine in machines:
        machine.close()


if "Segment" not in globals():  # names for the annotations above, imported lazily
    from tests.lab.machine import Machine
    from tests.lab.netns import Segment
    from tests.lab.ssh import Operator
