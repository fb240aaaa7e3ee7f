"""``python -m cluster`` options are checked like config: a clear error, exit 2, no traceback, no hang.

Each case runs the real command in a subprocess (with a timeout, so a hang fails by name) and
compares stderr's last line with a literal.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.mockrun import ROOT

OUTPUTS_FIX = "write it with `pulumi stack output --json > FILE`"


def cluster(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cluster", *args], cwd=ROOT, capture_output=True, text=True, check=False, timeout=60
    )


def refused(*args: str) -> str:
    done = cluster(*args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    return done.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ("status", "--stack", "dev", "--timeout", "nan"),
            "python -m cluster status: error: argument --timeout: 'nan' is not a number of seconds greater than 0 "
            "and at most 3600",
        ),
        (
            ("status", "--stack", "dev", "--timeout", "inf"),
            "python -m cluster status: error: argument --timeout: 'inf' is not a number of seconds greater than 0 "
            "and at most 3600",
        ),
        (
            ("status", "--stack", "dev", "--timeout", "1e308"),
            "python -m cluster status: error: argument --timeout: '1e308' is not a number of seconds greater than 0 "
            "and at most 3600",
        ),
        (
            ("status", "--stack", "dev", "--parallel", "\u0663"),
            "python -m cluster status: error: argument --parallel: '\u0663' is not a whole number from 1 to 256",
        ),
        (
            ("status", "--stack", "dev", "--parallel", "0"),
            "python -m cluster status: error: argument --parallel: '0' is not a whole number from 1 to 256",
        ),
        (
            ("render", "--stack", "dev", "--network-id", "\x1b]52;c;aGk=\x07"),
            "python -m cluster render: error: argument --network-id: '\\x1b]52;c;aGk=\\x07' is not 16 lowercase hex "
            "digits",
        ),
        (
            ("render", "--stack", "a/b/c/d"),
            "python -m cluster render: error: argument --stack: 'a/b/c/d' is not a stack name (letters, digits, '_', "
            "'.', '-'; or org/project/stack)",
        ),
        (
            ("status", "--stack", "dev", "--outputs", "/dev/zero"),
            f"error: --outputs: /dev/zero is not a regular file; {OUTPUTS_FIX}",
        ),
        (
            ("render", "--stack", "dev", "--out", "/proc/self/nowhere/out"),
            "error: --out /proc/self/nowhere/out: cannot create it (No such file or directory); name a directory "
            "you can write",
        ),
    ],
)
def test_bad_options_are_refused_with_a_fix(args: tuple[str, ...], line: str) -> None:
    assert refused(*args) == line


def test_outputs_that_hang_exhaust_or_mislead_are_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # no writer: a plain open() would block forever
    assert refused("status", "--stack", "dev", "--outputs", str(fifo)) == (
        f"error: --outputs: {fifo} is not a regular file; {OUTPUTS_FIX}"
    )
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    assert refused("status", "--stack", "dev", "--outputs", str(deep)) == (
        f"error: --outputs {deep}: nested too deeply to be stack outputs; {OUTPUTS_FIX}"
    )
    listed = tmp_path / "list.json"
    listed.write_text('["networkId"]')
    assert refused("status", "--stack", "dev", "--outputs", str(listed)) == (
        f"error: --outputs {listed}: holds a JSON list, not the outputs object; {OUTPUTS_FIX}"
    )
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    assert refused("status", "--stack", "dev", "--outputs", str(broken)) == (
        f"error: --outputs {broken}: not JSON (Expecting property name enclosed in double quotes: line 1 column 2 "
        f"(char 1)); {OUTPUTS_FIX}"
    )
    huge = tmp_path / "huge.json"
    with huge.open("wb") as file:
        file.truncate(64 * 1024 * 1024 + 1)
    assert refused("status", "--stack", "dev", "--outputs", str(huge)) == (
        f"error: --outputs: {huge} is larger than 64 MiB; {OUTPUTS_FIX}"
    )


def test_render_out_onto_a_file_is_refused_before_anything_is_printed(tmp_path: Path) -> None:
    target = tmp_path / "plan"
    target.write_text("keep me\n")
    assert refused("render", "--stack", "dev", "--out", str(target)) == (
        f"error: --out {target} exists and is not a directory; name a new or existing directory"
    )
    assert target.read_text() == "keep me\n"


def test_full_with_out_prints_everything_and_writes_the_files(tmp_path: Path) -> None:
    done = cluster("render", "--stack", "dev", "--full", "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert "===== head: firewall ruleset (nft -f) =====" in done.stdout
    assert f"wrote {tmp_path / 'out' / 'plan.json'}" in done.stdout
    assert (tmp_path / "out" / "head" / "firewall.nft").is_file()


def test_what_nodes_report_is_printed_escaped_line_by_line() -> None:
    from cluster.operate.cli import safe_lines

    reported = "NODE  ERROR\ncompute-01  unreachable: \x1b]52;c;cm0gLXJm\x07 \u202eboom\n"
    assert safe_lines(reported) == "NODE  ERROR\ncompute-01  unreachable: \\x1b]52;c;cm0gLXJm\\x07 \\u202eboom\n"
