"""Two fresh interpreters with different string hashing declare byte-identical resources.

In one process string hashing is fixed, so iterating a set of names gives the
same order twice and an in-process comparison cannot see it. Here each
evaluation runs in its own interpreter with its own ``PYTHONHASHSEED``.
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.mockrun import ROOT


def evaluate(stack: str, hashseed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hashseed}
    env.pop("ZEROTIER_CENTRAL_TOKEN", None)
    done = subprocess.run(
        [sys.executable, "-m", "tests.canonical", stack],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_dev_stack_declares_byte_identical_inputs_under_different_hash_seeds() -> None:
    first, second = evaluate("dev", "1"), evaluate("dev", "2")
    # Not vacuous: the dump holds the members and the node commands with their addresses.
    assert first.count('"type":"zerotier:index/member:Member"') == 3
    assert '"type":"command:remote:Command"' in first and "10.147.17.1" in first
    assert first == second


def test_forty_nodes_declare_byte_identical_inputs_under_different_hash_seeds() -> None:
    """With 39 compute nodes, a set iterated anywhere would reorder something between two seeds."""
    first, second = evaluate("40", "1"), evaluate("40", "2")
    assert first.count('"type":"zerotier:index/member:Member"') == 40
    assert "cn-039" in first
    assert first == second
