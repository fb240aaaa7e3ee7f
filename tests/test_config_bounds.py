"""Every bound in the config, both ends, and the values that only look like numbers or booleans.

For each bounded key: its lowest and highest values are taken (and reach the
spec), one past either end is refused naming that key and nothing else, and
so are a boolean where a number belongs (YAML's ``true`` is a Python int), a
fraction and text. Every boolean key refuses a number and a word that YAML 1.2
does not read as a boolean. A host or user that starts with ``-`` would be read
by ssh as an option (``-oProxyCommand=...``), so it is refused wherever one is
given.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cluster.config.parse import parse_cluster
from cluster.errors import ConfigError
from cluster.spec import ClusterSpec
from tests.lab.provision import ROOT, cluster_config

Setter = Callable[[dict[str, Any], Any], None]
Getter = Callable[[ClusterSpec], Any]


def node_field(index: int, field: str) -> Setter:
    def put(config: dict[str, Any], value: Any) -> None:
        config["nodes"][index][field] = value

    return put


def section_field(section: str, field: str) -> Setter:
    def put(config: dict[str, Any], value: Any) -> None:
        config.setdefault(section, {})[field] = value

    return put


def top(field: str) -> Setter:
    def put(config: dict[str, Any], value: Any) -> None:
        config[field] = value

    return put


def proxy_port(config: dict[str, Any], value: Any) -> None:
    config["ssh"]["proxy"] = {"host": "192.0.2.1", "user": "jump", "port": value}


#: key, how to set it, lowest, highest, how to read it back from the spec
BOUNDS: list[tuple[str, Setter, int, int, Getter]] = [
    ("ssh.port", section_field("ssh", "port"), 1, 65535, lambda s: s.nodes[0].port),
    ("ssh.proxy.port", proxy_port, 1, 65535, lambda s: s.nodes[0].proxy.port),  # type: ignore[union-attr]
    ("nodes[1].port", node_field(1, "port"), 1, 65535, lambda s: s.nodes[1].port),
    ("nodes[1].sshdPort", node_field(1, "sshdPort"), 1, 65535, lambda s: s.nodes[1].sshd_port),
    ("nodes[1].generation", node_field(1, "generation"), 0, 2**31 - 1, lambda s: s.nodes[1].generation),
    ("firewall.zerotierPort", section_field("firewall", "zerotierPort"), 1, 65535, lambda s: s.firewall.zerotier_port),
    ("joinTimeout", top("joinTimeout"), 10, 3600, lambda s: s.provision.join_timeout),
    ("verifyTimeout", top("verifyTimeout"), 5, 3600, lambda s: s.provision.verify_timeout),
]


def parsed(edit: Setter, value: Any) -> ClusterSpec:
    """The test config with one value set; every node names its user, so a refused ``ssh`` leaves them be."""
    config = cluster_config()
    for node in config["nodes"]:
        node["user"] = "ops"
    edit(config, value)
    return parse_cluster(config, base_dir=ROOT)


def refused(edit: Setter, value: Any) -> list[str]:
    """The keys of every problem the config with ``value`` has (it must have some)."""
    with pytest.raises(ConfigError) as caught:
        parsed(edit, value)
    return caught.value.locations()


@pytest.mark.parametrize(("key", "edit", "low", "high", "get"), BOUNDS, ids=[b[0] for b in BOUNDS])
def test_both_ends_are_taken_and_one_past_either_is_refused(
    key: str, edit: Setter, low: int, high: int, get: Getter
) -> None:
    assert get(parsed(edit, low)) == low
    assert get(parsed(edit, high)) == high
    assert get(parsed(edit, str(high))) == high, "YAML text of digits is the number"
    assert refused(edit, low - 1) == [f"zerotier-cluster:{key}"]
    assert refused(edit, high + 1) == [f"zerotier-cluster:{key}"]


@pytest.mark.parametrize(("key", "edit", "low", "high", "get"), BOUNDS, ids=[b[0] for b in BOUNDS])
@pytest.mark.parametrize("value", [True, False, 22.0, 22.5, "22x", " ", [22], "２２"])
def test_what_only_looks_like_a_number_is_refused(
    key: str, edit: Setter, low: int, high: int, get: Getter, value: Any
) -> None:
    assert refused(edit, value) == [f"zerotier-cluster:{key}"]


FLAGS: list[tuple[str, Setter, Getter]] = [
    ("network.manage", section_field("network", "manage"), lambda s: s.network.manage),
    ("network.keepSettings", section_field("network", "keepSettings"), lambda s: s.network.keep_settings),
    ("verify.requireDirect", section_field("verify", "requireDirect"), lambda s: s.provision.require_direct),
    ("uninstallOnDestroy", top("uninstallOnDestroy"), lambda s: s.provision.uninstall_on_destroy),
]


@pytest.mark.parametrize(("key", "edit", "get"), FLAGS, ids=[f[0] for f in FLAGS])
def test_a_boolean_key_takes_true_and_false_only(key: str, edit: Setter, get: Getter) -> None:
    assert get(parsed(edit, True)) is True
    assert get(parsed(edit, False)) is False
    assert get(parsed(edit, "true")) is True
    assert get(parsed(edit, "False")) is False
    for value in (1, 0, "yes", "on", "1", 1.0, [True]):
        assert refused(edit, value) == [f"zerotier-cluster:{key}"], value


OPTION_LIKE = ["-oProxyCommand=touch /tmp/x", "-l", "--", "-"]


@pytest.mark.parametrize("value", OPTION_LIKE)
@pytest.mark.parametrize(
    ("key", "edit"),
    [
        ("nodes[1].host", node_field(1, "host")),
        ("nodes[1].user", node_field(1, "user")),
        ("ssh.user", section_field("ssh", "user")),
    ],
    ids=["node-host", "node-user", "ssh-user"],
)
def test_a_host_or_user_that_ssh_would_read_as_an_option_is_refused(key: str, edit: Setter, value: str) -> None:
    assert refused(edit, value) == [f"zerotier-cluster:{key}"]


@pytest.mark.parametrize("value", OPTION_LIKE)
@pytest.mark.parametrize("field", ["host", "user"])
def test_a_jump_host_or_its_user_that_ssh_would_read_as_an_option_is_refused(field: str, value: str) -> None:
    def edit(config: dict[str, Any], v: Any) -> None:
        config["ssh"]["proxy"] = {"host": "192.0.2.1", "user": "jump", field: v}

    assert refused(edit, value) == [f"zerotier-cluster:ssh.proxy.{field}"]


def test_a_host_or_user_with_a_dash_inside_is_fine() -> None:
    spec = parsed(node_field(1, "host"), "compute-01.site.example.org")
    assert spec.nodes[1].host == "compute-01.site.example.org"
    assert parsed(node_field(1, "user"), "hpc-ops").nodes[1].user == "hpc-ops"
