"""Makes every deliberate bug of ``tests/mutants/scripts.toml`` in a copy of the repository and runs its tests.

mutmut mutates Python only, so the node scripts' guards have a committed list
of bugs instead: each names its file, the exact text, its replacement and the
tests that must fail with it. This command copies the working tree (tracked
and untracked files, never ignored ones) into a temporary directory, runs the
listed tests there once unchanged (they must pass, or a "caught" would mean
nothing), then for each bug: changes the copy, runs its tests with ``-x``,
restores the copy. A bug is caught when a test fails or errors; it survived
when they all pass; a test that was skipped catches nothing. The worktree is
never written to.

    python3 -m tests.mutants.scripts                 # every bug; exit 0 when every one is caught
    python3 -m tests.mutants.scripts load-hash-not-empty fw-interface-prefix   # some of them
    python3 -m tests.mutants.scripts --list          # what is listed, and nothing run

The tests boot Debian 12 machines (``tests/lab/``), so this needs root, like
the lab tests themselves.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIST = Path(__file__).with_name("scripts.toml")


@dataclass(frozen=True)
class Mutant:
    """One deliberate bug: in ``file``, ``find`` (present exactly once) becomes ``replace``."""

    id: str
    file: str
    find: str
    replace: str
    tests: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class Outcome:
    """What the tests did: how many ran, failed (or errored) and were skipped."""

    ran: int
    failed: int
    skipped: int
    seconds: float

    @property
    def verdict(self) -> str:
        if self.failed:
            return "caught"
        return "not run" if self.ran == self.skipped else "SURVIVED"


def load(path: Path = LIST) -> list[Mutant]:
    """The listed bugs, checked: unique ids, every field present, tests named."""
    data = tomllib.loads(path.read_text())
    mutants = [Mutant(m["id"], m["file"], m["find"], m["replace"], tuple(m["tests"]), m["why"]) for m in data["mutant"]]
    ids = [m.id for m in mutants]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise SystemExit(f"{path}: ids listed twice: {', '.join(duplicated)}")
    for m in mutants:
        if not m.tests or m.find == m.replace:
            raise SystemExit(f"{path}: {m.id} needs tests and a replacement that differs from its text")
    return mutants


def copy_tree(destination: Path) -> None:
    """The working tree as it is now (tracked and untracked files, not ignored ones) under ``destination``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        source = ROOT / name
        if not source.is_file():  # deleted in the worktree but still in the index
            continue
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def run_tests(copy: Path, tests: tuple[str, ...], report: Path) -> Outcome:
    """pytest in the copy, stopping at the first failure; counts read from its JUnit report."""
    env = {k: v for k, v in os.environ.items() if k != "CI"}  # a skip must stay a skip here
    argv = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", f"--junitxml={report}", *tests]
    started = time.monotonic()
    subprocess.run(argv, cwd=copy, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    seconds = time.monotonic() - started
    if not report.exists():
        return Outcome(0, 1, 0, seconds)  # pytest could not even start: the bug broke collection
    suite = ET.parse(report).getroot()
    suite = suite if suite.tag == "testsuite" else suite[0]
    attrs = {k: int(suite.get(k, "0")) for k in ("tests", "failures", "errors", "skipped")}
    report.unlink()
    return Outcome(attrs["tests"], attrs["failures"] + attrs["errors"], attrs["skipped"], seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("ids", nargs="*", help="run only these bugs (default: all)")
    parser.add_argument("--list", action="store_true", help="print the bugs and their tests, run nothing")
    parser.add_argument("--no-baseline", action="store_true", help="skip the run of the unchanged copy")
    args = parser.parse_args(argv)

    mutants = load()
    unknown = sorted(set(args.ids) - {m.id for m in mutants})
    if unknown:
        parser.error(f"not in {LIST.name}: {', '.join(unknown)}")
    chosen = [m for m in mutants if not args.ids or m.id in args.ids]
    if args.list:
        for m in chosen:
            print(f"{m.id}  {m.file}\n    {m.why}\n    " + "\n    ".join(m.tests))
        return 0

    with tempfile.TemporaryDirectory(prefix="ztc-script-mutants-") as tmp:
        copy = Path(tmp) / "repo"
        copy_tree(copy)
        report = Path(tmp) / "junit.xml"
        for m in chosen:
            text = (copy / m.file).read_text()
            if text.count(m.find) != 1:
                print(f"{m.id}: its text occurs {text.count(m.find)} times in {m.file}, not once: update the list")
                return 2
        if not args.no_baseline:
            tests = tuple(dict.fromkeys(t for m in chosen for t in m.tests))
            base = run_tests(copy, tests, report)
            print(f"baseline: {base.ran} tests, {base.failed} failed, {base.skipped} skipped ({base.seconds:.0f}s)")
            if base.failed or base.skipped:
                print("the unchanged copy must pass every listed test (and run it) before a bug can count as caught")
                return 2
        survived = 0
        for m in chosen:
            path = copy / m.file
            original = path.read_text()
            path.write_text(original.replace(m.find, m.replace))
            try:
                outcome = run_tests(copy, m.tests, report)
            finally:
                path.write_text(original)
            survived += outcome.verdict != "caught"
            print(f"{outcome.verdict:8}  {m.id:40} {outcome.seconds:5.0f}s  ({m.file})", flush=True)
        print(f"{len(chosen) - survived} of {len(chosen)} caught")
    return 0 if survived == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
