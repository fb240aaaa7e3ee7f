"""Ansible host ranges, expanded and counted as Ansible does (found by mutation testing, docs/testing.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cluster.config.inventory import count, expand
from cluster.errors import ConfigError
from tests.test_inventory import rows, spec_of


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


# --- inventories: states, loops and precedence by depth (inventory.py survivors) -----------------------


def read(tmp_path: Path, text: str) -> list[tuple[object, ...]]:
    try:
        return rows(spec_of(tmp_path, text))
    except ConfigError as err:
        return [(p.key, p.message, p.fix) for p in err.problems]


def test_a_state_that_is_not_active_or_evicted_is_refused_with_its_fix(tmp_path: Path) -> None:
    text = """
all:
  vars: {ansible_user: a}
  children:
    head:
      hosts: {h1: {ansible_host: 192.0.2.1, state: Evicted}}
    compute:
      hosts: {c1: {state: gone}, c2: {state: 5}}
"""
    hosts = "hosts.yaml: all.children."
    assert read(tmp_path, text) == [
        (
            hosts + "head.hosts.h1.state",
            "'Evicted' is not one of active, evicted",
            "write evicted (lowercase: the value is case-sensitive)",
        ),
        (hosts + "compute.hosts.c1.state", "'gone' is not one of active, evicted", "use one of: active, evicted"),
        (hosts + "compute.hosts.c2.state", "5 is not one of active, evicted", "use one of: active, evicted"),
    ]


def test_a_loop_of_groups_is_refused(tmp_path: Path) -> None:
    text = """
all:
  children:
    head:
      hosts: {h1: {ansible_host: 192.0.2.1, ansible_user: u}}
    x:
      children: {y: }
    y:
      children: {x: }
"""
    assert read(tmp_path, text) == [
        ("hosts.yaml: x", "group x is its own ancestor through its children", "remove the loop")
    ]


def test_the_deepest_group_wins_by_its_longest_path_from_all(tmp_path: Path) -> None:
    text = """
all:
  vars: {ansible_user: a, ansible_port: 2201}
  children:
    head:
      hosts: {h1: {ansible_host: 192.0.2.1}}
    site:
      vars: {ansible_user: b}
      children:
        rack:
          vars: {ansible_user: c}
          children:
            compute:
              hosts: {c1: }
compute:
  hosts: {c3: }
  vars: {ansible_port: 2222}
site:
  children:
    compute:
"""
    assert read(tmp_path, text) == [
        ("h1", "head", "192.0.2.1", "a", 2201, "active", 0),
        ("c1", "compute", "c1", "c", 2222, "active", 0),
        ("c3", "compute", "c3", "c", 2222, "active", 0),
    ]


def test_all_is_below_every_group_even_one_named_before_it(tmp_path: Path) -> None:
    text = """
all:
  vars: {ansible_user: from-all}
  children:
    head:
      hosts: {h1: {ansible_host: 192.0.2.1}}
    compute:
      hosts: {c1: }
aaa:
  vars: {ansible_user: from-aaa}
  hosts: {c1: , h1: }
"""
    assert read(tmp_path, text) == [
        ("h1", "head", "192.0.2.1", "from-aaa", 22, "active", 0),
        ("c1", "compute", "c1", "from-aaa", 22, "active", 0),
    ]


@pytest.mark.parametrize(("top", "winner"), [("aaa", "from-site"), ("zzz", "from-zzz")])
def test_a_top_level_group_is_as_deep_as_one_under_all_children(tmp_path: Path, top: str, winner: str) -> None:
    """Both are children of all (depth 1): the later name wins, as in Ansible."""
    text = f"""
all:
  children:
    head:
      hosts: {{h1: {{ansible_host: 192.0.2.1, ansible_user: u}}}}
    site:
      vars: {{ansible_user: from-site}}
      children:
        compute:
          hosts: {{c1: }}
{top}:
  vars: {{ansible_user: from-{top}}}
  hosts: {{c1: }}
"""
    assert read(tmp_path, text)[1] == ("c1", "compute", "c1", winner, 22, "active", 0)
