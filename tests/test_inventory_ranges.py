"""Ansible host ranges, expanded and counted as Ansible does (found by mutation testing, docs/testing.md)."""

from __future__ import annotations

import pytest

from cluster.config.inventory import count, expand


@pytest.mark.parametrize(
    ("pattern", "names"),
    [
        ("db-[01:03]", ["db-01", "db-02", "db-03"]),
        ("n[00:02]", ["n00", "n01", "n02"]),
        ("n[0:2]", ["n0", "n1", "n2"]),
        ("n[9:11]", ["n9", "n10", "n11"]),
        ("n[1:10:3]", ["n1", "n4", "n7", "n10"]),
        ("n[1:1]", ["n1"]),
        ("n[1:4:2]", ["n1", "n3"]),
        ("n[a:d]", ["na", "nb", "nc", "nd"]),
        ("n[a:e:2]", ["na", "nc", "ne"]),
        ("x[1:2]y[a:b]", ["x1ya", "x1yb", "x2ya", "x2yb"]),
        ("plain", ["plain"]),
        ("n[1:a]", None),
        ("n[3:1]", None),
        ("n[d:a]", None),
        ("n[1:3:0]", None),
        ("a]b", None),
        ("a[b", None),
        ("a[1:2]]", None),
        ("a][1:2]", None),
        ("a[[1:2]", None),
    ],
)
def test_expand(pattern: str, names: list[str] | None) -> None:
    assert expand(pattern) == names
    assert count(pattern) == (None if names is None else len(names))


@pytest.mark.parametrize(
    ("pattern", "size"),
    [
        ("n[1:3]", 3),
        ("n[a:z:5]", 6),
        ("[1:3][1:2]", 6),
        ("n[1:100000]", 100000),
        ("n[1:3]x[1:3:0]", None),
        ("n[1:3]x[b:a]", None),
    ],
)
def test_count_without_expanding(pattern: str, size: int | None) -> None:
    assert count(pattern) == size
