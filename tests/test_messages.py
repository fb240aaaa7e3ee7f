"""Every problem reaches the operator escaped and bounded, through one function (``cluster.errors.safe``)."""

from __future__ import annotations

from ipaddress import IPv4Address
from pathlib import Path

import pytest

from cluster.config.parse import parse_cluster
from cluster.errors import ConfigError, Problem, safe
from tests.test_config import config

OSC52 = "\x1b]52;c;cm0gLXJmIH4=\x07"  # writes "rm -rf ~" to the reader's clipboard


def test_safe_escapes_controls_bidi_and_zero_width_visibly() -> None:
    assert safe(f"a{OSC52}b\u202etxt.exe\u200b\x85\ufeffz") == (
        "a\\x1b]52;c;cm0gLXJmIH4=\\x07b\\u202etxt.exe\\u200b\\x85\\ufeffz"
    )
    assert safe("line\nnext\u2028\U000e0041") == "line\\x0anext\\u2028\\U000e0041"
    assert safe("plain é ü 中文") == "plain é ü 中文"


def test_safe_bounds_whatever_it_is_given() -> None:
    assert safe("x" * 3_000_000, 20) == "x" * 17 + "..."
    assert safe("\x1b" * 100, 20) == "\\x1b" * 4 + "..."
    assert safe("abc", 3) == "abc"


def test_safe_shows_any_value_as_its_text() -> None:
    """Problems carry what was read: numbers, addresses, None, as well as text."""
    assert safe(12345) == "12345"
    assert safe(IPv4Address("10.147.17.1")) == "10.147.17.1"
    assert safe(None) == "None"
    assert safe(["a\x1b"], 6) == "['a..."


def test_a_problems_key_and_fix_have_their_own_bounds() -> None:
    text = str(Problem("k" * 300, "m", "f" * 500))
    key, _, rest = text.partition(": ")
    assert key == "k" * 197 + "..."
    assert rest.partition("\n    fix: ")[2] == "f" * 397 + "..."


def test_a_problem_prints_escaped_and_bounded() -> None:
    problem = Problem(f"key{OSC52}", "bad \u202evalue" + "y" * 1000, "fix\x9b2J it")
    assert str(problem) == (
        "key\\x1b]52;c;cm0gLXJmIH4=\\x07: bad \\u202evalue" + "y" * 382 + "...\n    fix: fix\\x9b2J it"
    )


def test_hostile_values_from_config_are_echoed_escaped(tmp_path: Path) -> None:
    raw = config(devices=[{"name": "alice", "address": "a1b2c3d4e5", "description": f"hi{OSC52}\u202e"}])
    with pytest.raises(ConfigError) as err:
        parse_cluster(raw, base_dir=tmp_path)
    assert str(err.value) == (
        "1 configuration problem:\n"
        "  zerotier-cluster:devices[0].description: 'hi\\x1b]52;c;cm0gLXJmIH4=\\x07\\u202e' is not one line of "
        "printable text\n"
        "    fix: write a short sentence without control, bidi or zero-width characters"
    )


def test_a_three_megabyte_value_gives_a_short_message(tmp_path: Path) -> None:
    raw = config(**{"network.name": "\x1b[2J" * 750_000})
    with pytest.raises(ConfigError) as err:
        parse_cluster(raw, base_dir=tmp_path)
    text = str(err.value)
    assert len(text) < 400 and "\x1b" not in text
    assert text.startswith("1 configuration problem:\n  zerotier-cluster:network.name: '\\x1b[2J\\x1b[2J")


def test_an_inventory_host_name_with_escapes_is_shown_escaped(tmp_path: Path) -> None:
    (tmp_path / "hosts.yaml").write_text('head:\n  hosts:\n    "h\\e]52;c;eA==\\a1":\n')
    raw = {"network": {"name": "n", "cidr": "10.147.17.0/24"}, "inventory": "hosts.yaml", "ssh": {"user": "u"}}
    with pytest.raises(ConfigError) as err:
        parse_cluster(raw, base_dir=tmp_path)
    assert "\x1b" not in str(err.value) and "\x07" not in str(err.value)
    assert str(err.value).splitlines()[1] == (
        "  hosts.yaml: head.hosts.h\\x1b]52;c;eA==\\x071: has a host range Ansible would not expand"
    )


def test_an_error_counts_its_problems_in_words() -> None:
    one, two = Problem("a", "m", "f"), Problem("b", "m", "f")
    assert str(ConfigError([one])).splitlines()[0] == "1 configuration problem:"
    assert str(ConfigError([one, two, one])).splitlines()[0] == "2 configuration problems:", "one mistake listed once"


def test_an_error_lists_fifty_problems_and_counts_the_rest() -> None:
    problems = [Problem(f"k{i}", "m", "f") for i in range(51)]
    assert str(ConfigError(problems[:50])).splitlines()[-2:] == ["  k49: m", "    fix: f"], "fifty: none counted"
    assert str(ConfigError(problems)).splitlines()[-1] == "  ... and 1 more (fix these first)"
