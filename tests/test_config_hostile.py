"""Hostile or broken config: every class of bad input gets a ConfigError naming its key, never a traceback."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cluster.config.parse import parse_cluster
from cluster.config.stackfile import read_stack_config
from cluster.config.yamlfile import read_yaml
from cluster.errors import ConfigError, Problem
from cluster.spec import ClusterSpec
from tests.mockrun import ROOT, run_program, stack_file_config
from tests.test_config import BASE, DELETE, config

NS = "zerotier-cluster:"
EXAMPLES = int(os.environ.get("ZTC_HYPOTHESIS_EXAMPLES", "300"))
HUGE = 10**5000  # repr() and str() of this raise ValueError


def node(index: int, **changes: Any) -> dict[str, Any]:
    """``nodes.<index>`` replaced by BASE's node with ``changes``, for :func:`config`."""
    return {f"nodes.{index}": {**BASE["nodes"][index], **changes}}


HOSTILE: list[tuple[str, Any, str]] = [
    # values that end in a newline (``re.match`` with ``$`` accepted them)
    ("name-newline", config(**{"network.name": "chpc\n"}), "network.name"),
    ("host-newline", config(**node(1, host="192.168.10.11\n")), "nodes[1].host"),
    ("user-newline", config(**{"ssh.user": "ubuntu\n"}), "ssh.user"),
    ("version-newline", config(zerotierVersion="1.14.1\n"), "zerotierVersion"),
    ("interface-newline", config(**{"network.interface": "zthpc\n"}), "network.interface"),
    ("fromstack-newline", config(**{"network.fromStack": "a/b/c\n"}), "network.fromStack"),
    ("table-newline", config(firewall={"table": "zc\n"}), "firewall.table"),
    ("device-name-newline", config(devices=[{"name": "alice\n", "address": "a1b2c3d4e5"}]), "devices[0].name"),
    (
        "fingerprint-newline",
        config(installer={"keyFingerprint": "74A5E9C458E1A431F1DA57A71657198823E52A61\n"}),
        "installer.keyFingerprint",
    ),
    # the network name goes into the hosts block's marker lines and to ZeroTier
    ("name-injects-a-line", config(**{"network.name": "x\n10.0.0.1 evil"}), "network.name"),
    ("name-space", config(**{"network.name": "chpc overlay"}), "network.name"),
    ("name-too-long", config(**{"network.name": "n" * 65}), "network.name"),
    ("name-not-text", config(**{"network.name": 5}), "network.name"),
    ("description-newline", config(**{"network.description": "a\nb"}), "network.description"),
    # cidr scope
    ("cidr-default-route", config(**{"network.cidr": "0.0.0.0/0", "network.pool": DELETE}), "network.cidr"),
    ("cidr-loopback", config(**{"network.cidr": "127.0.0.0/24", "network.pool": DELETE}), "network.cidr"),
    ("cidr-multicast", config(**{"network.cidr": "224.0.0.0/24", "network.pool": DELETE}), "network.cidr"),
    ("cidr-link-local", config(**{"network.cidr": "169.254.0.0/16", "network.pool": DELETE}), "network.cidr"),
    ("cidr-reserved", config(**{"network.cidr": "240.0.0.0/24", "network.pool": DELETE}), "network.cidr"),
    ("cidr-this-network", config(**{"network.cidr": "0.0.0.0/24", "network.pool": DELETE}), "network.cidr"),
    ("cidr-holds-a-node-ssh-address", config(**node(2, host="10.147.17.99")), "network.cidr"),
    (
        "cidr-holds-the-jump-host",
        config(ssh={"user": "u", "proxy": {"host": "10.147.17.98", "user": "j"}}),
        "network.cidr",
    ),
    # numbers: ASCII digits only, bounded, never converted when absurd
    ("port-arabic-indic-digits", config(ssh={"user": "u", "port": "٢٢"}), "ssh.port"),
    ("port-fullwidth-digits", config(**node(1, port="２２")), "nodes[1].port"),
    ("rule-superscript-digit", config(firewall={"openings": {"head": ["tcp/4²"]}}), "firewall.openings.head[0]"),
    ("rule-fullwidth-digits", config(firewall={"openings": {"head": ["tcp/４４３"]}}), "firewall.openings.head[0]"),
    ("timeout-huge-int", config(joinTimeout=HUGE), "joinTimeout"),
    ("port-5000-digit-text", config(**node(1, port="9" * 5000)), "nodes[1].port"),
    ("generation-huge-int", config(**node(1, generation=HUGE)), "nodes[1].generation"),
    ("network-id-huge-int", config(**{"network.networkId": HUGE}), "network.networkId"),
    ("timeout-float", config(joinTimeout=1.5), "joinTimeout"),
    # wrong types
    ("network-a-list", config(network=["x"]), "network"),
    ("nodes-a-string", config(nodes="head"), "nodes"),
    ("node-a-number", config(**{"nodes.1": 7}), "nodes[1]"),
    ("node-name-a-mapping", config(**node(1, name={"a": 1})), "nodes[1].name"),
    ("role-unhashable", config(**node(1, role=["compute"])), "nodes[1].role"),
    ("peers-a-string", config(firewall={"peers": "10.147.17.0/25"}), "firewall.peers"),
    ("openings-a-list", config(firewall={"openings": ["tcp/22"]}), "firewall.openings"),
    ("sshfrom-a-mapping", config(firewall={"sshFrom": {"a": 1}}), "firewall.sshFrom[0]"),
    ("cluster-ports-a-number", config(firewall={"clusterPorts": 5}), "firewall.clusterPorts"),
    ("mode-a-list", config(firewall={"mode": ["enforce"]}), "firewall.mode"),
    ("devices-a-mapping", config(devices={"alice": "a1b2c3d4e5"}), "devices"),
    ("remote-head-a-string", config(remoteHead="head"), "remoteHead"),
    ("installer-a-number", config(installer=5), "installer"),
    ("proxy-a-number", config(ssh={"user": "u", "proxy": 5}), "ssh.proxy"),
    ("flag-yes", config(uninstallOnDestroy="yes"), "uninstallOnDestroy"),
    ("pool-a-string", config(**{"network.pool": "10.147.17.200-250"}), "network.pool"),
    ("integer-key", config(**{"network.7": "x"}), "network.7"),
    ("plain-text-private-key", config(sshPrivateKey="-----BEGIN OPENSSH PRIVATE KEY-----"), "sshPrivateKey"),
    # addresses: an IPv6 zone would reach the ruleset verbatim
    ("sshfrom-ipv6-zone-injection", config(firewall={"sshFrom": ["fe80::1%eth0\n}"]}), "firewall.sshFrom[0]"),
    ("node-ip-unicode-digits", config(**node(1, ip="10.147.17.١")), "nodes[1].ip"),
    # credentials in URLs would sit in plain text in the state
    ("installer-url-credentials", config(installer={"url": "https://user:pass@mirror.example/zt/"}), "installer.url"),
    ("key-url-token", config(installer={"keyUrl": "https://token@mirror.example/key.gpg"}), "installer.keyUrl"),
    ("installer-url-not-http", config(installer={"url": "file:///etc/passwd"}), "installer.url"),
    # interface names that could be a real NIC
    ("interface-eth0", config(**{"network.interface": "eth0"}), "network.interface"),
    ("interface-ens3", config(**{"network.interface": "ens3"}), "network.interface"),
    ("interface-bare-zt", config(**{"network.interface": "zt"}), "network.interface"),
    ("interface-too-long", config(**{"network.interface": "ztabcdefghijklmn"}), "network.interface"),
    # eviction and generation
    ("evicted-head", config(**node(0, state="evicted")), "nodes[0].state"),
    ("unknown-state", config(**node(1, state="gone")), "nodes[1].state"),
    ("negative-generation", config(**node(1, generation=-1)), "nodes[1].generation"),
    ("generation-as-float-text", config(**node(1, generation="1e3")), "nodes[1].generation"),
    # not a mapping at all
    ("config-a-list", ["network"], "zerotier-cluster"),
    ("config-a-string", "network: x", "zerotier-cluster"),
]


@pytest.mark.parametrize(("raw", "key"), [(raw, key) for _, raw, key in HOSTILE], ids=[c[0] for c in HOSTILE])
def test_hostile_input_is_refused_naming_its_key(raw: Any, key: str) -> None:
    with pytest.raises(ConfigError) as err:  # anything else (a traceback) fails the test
        parse_cluster(raw, base_dir=ROOT)
    expected = key if key == "zerotier-cluster" else NS + key
    assert expected in err.value.locations(), err.value.locations()
    assert all(p.fix for p in err.value.problems)
    assert len(str(err.value)) < 4000


def test_the_new_node_keys_parse_with_their_defaults() -> None:
    spec = parse_cluster(config(**node(2, state="evicted", generation=3)), base_dir=ROOT)
    assert [(n.name, n.state, n.generation) for n in spec.nodes] == [
        ("head", "active", 0),
        ("compute-01", "active", 0),
        ("compute-02", "evicted", 3),
    ]
    assert [n.name for n in spec.active_nodes] == ["head", "compute-01"]
    assert spec.head is not None and spec.head.name == "head"


def test_error_output_is_bounded_however_large_the_input() -> None:
    long = "x" * 100_000 + ";"
    raw = config(nodes=[{"name": f"n{i}", "host": long} for i in range(5000)])
    raw["x" * 100_000] = 1
    with pytest.raises(ConfigError) as err:
        parse_cluster(raw, base_dir=ROOT)
    assert len(err.value.problems) > 5000
    text = str(err.value)
    assert len(text) < 30_000
    assert f"... and {len(err.value.problems) - 50} more" in text


def test_a_zt_interface_name_is_accepted() -> None:
    spec = parse_cluster(config(**{"network.interface": "zt-hpc_0"}), base_dir=ROOT)
    assert spec.network.interface == "zt-hpc_0"


# -- any shape of value: a spec or a ConfigError, nothing else -------------------------------------

SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
SAMPLE_STRINGS = st.sampled_from(
    ["head", "compute", "all", "none", "evicted", "10.147.17.0/24", "tcp/22", "٢٢", "zthpc", "a\n", "fe80::1%x"]
)
VALUES = st.recursive(
    SCALARS | SAMPLE_STRINGS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8) | st.integers(), inner, max_size=4),
    max_leaves=12,
)
#: Where a value can sit in a config: every section's keys and a node's and a rule's fields.
PATHS = [
    (),
    ("network",),
    ("network", "name"),
    ("network", "cidr"),
    ("network", "pool"),
    ("network", "pool", "start"),
    ("network", "slice"),
    ("network", "networkId"),
    ("network", "interface"),
    ("ssh",),
    ("ssh", "port"),
    ("ssh", "proxy"),
    ("nodes",),
    ("nodes", 1),
    ("nodes", 1, "host"),
    ("nodes", 1, "port"),
    ("nodes", 1, "proxy"),
    ("nodes", 1, "state"),
    ("nodes", 1, "generation"),
    ("nodes", 0, "role"),
    ("inventory",),
    ("devices",),
    ("remoteHead",),
    ("firewall",),
    ("firewall", "mode"),
    ("firewall", "integrate"),
    ("firewall", "sshFrom"),
    ("firewall", "clusterPorts"),
    ("firewall", "openings"),
    ("firewall", "peers"),
    ("installer",),
    ("joinTimeout",),
]


def put(path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    raw = copy.deepcopy(BASE)
    target: Any = raw
    for part in path[:-1]:
        target = target[part] if isinstance(target, list) else target.setdefault(part, {})
    target[path[-1]] = value
    return raw


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PATHS), VALUES)
def test_any_value_anywhere_gives_a_spec_or_a_config_error(path: tuple[Any, ...], value: Any) -> None:
    try:
        outcome: ClusterSpec | ConfigError = parse_cluster(put(path, value), base_dir=ROOT)
    except ConfigError as err:  # any other exception fails the property
        outcome = err
    if isinstance(outcome, ConfigError):
        assert outcome.problems and all(p.key and p.fix for p in outcome.problems)
        assert len(str(outcome)) < 30_000
    else:
        assert isinstance(outcome, ClusterSpec)


# -- stack files --------------------------------------------------------------------------------


def stack(tmp_path: Path, text: str) -> ConfigError:
    (tmp_path / "Pulumi.t.yaml").write_text(text)
    with pytest.raises(ConfigError) as err:
        read_stack_config(tmp_path, "t")
    return err.value


def test_stack_file_yaml_errors_name_the_file_and_line(tmp_path: Path) -> None:
    err = stack(tmp_path, "config:\n  zerotier-cluster:network:\n    name: [x\n  zerotier-cluster:ssh: {}\n")
    assert err.locations() == ["Pulumi.t.yaml"]
    assert "at line 4" in str(err)


def test_stack_file_duplicate_keys_are_refused(tmp_path: Path) -> None:
    err = stack(
        tmp_path,
        "config:\n  zerotier-cluster:network:\n    name: a\n    cidr: 10.147.17.0/24\n    name: b\n",
    )
    assert err.locations() == ["Pulumi.t.yaml"]
    assert "duplicate key 'name'" in str(err) and "line 5" in str(err)
    top = stack(tmp_path, "config:\n  zerotier-cluster:nodes: []\n  zerotier-cluster:nodes: [{}]\n")
    assert "duplicate key 'zerotier-cluster:nodes'" in str(top) and "line 3" in str(top)


def test_stack_file_with_a_5000_digit_number(tmp_path: Path) -> None:
    err = stack(tmp_path, "config:\n  zerotier-cluster:joinTimeout: " + "9" * 5000 + "\n")
    assert err.locations() == ["Pulumi.t.yaml"] and "line 2" in str(err) and "5000 characters" in str(err)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("- a\n- b\n", "Pulumi.t.yaml"),
        ("config: [a, b]\n", "Pulumi.t.yaml: config"),
        ("config:\n  zerotier-clustr:nodes: []\n", "zerotier-clustr:nodes"),
        ("config:\n  zerotier_cluster:network: {}\n", "zerotier_cluster:network"),
        ("config:\n  zerotiercluster:ssh: {}\n", "zerotiercluster:ssh"),
        ("config:\n  7: x\n", "7"),
    ],
)
def test_stack_file_shapes_and_namespace_typos_are_refused(tmp_path: Path, text: str, key: str) -> None:
    err = stack(tmp_path, text)
    assert key in err.locations(), err.locations()


def test_other_namespaces_are_left_alone(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.t.yaml").write_text(
        "config:\n  zerotier:zerotierCentralToken: {secure: v1:abc}\n  hcloud:token: x\n  zerotier-cluster:ssh: {}\n"
    )
    assert read_stack_config(tmp_path, "t") == {"ssh": {}}


def test_the_program_refuses_a_namespace_typo() -> None:
    config_values, secrets = stack_file_config("dev")
    config_values["zerotier-clustr:joinTimeout"] = "600"
    declared: list[Any] = []
    with pytest.raises(Exception, match=r"zerotier-clustr:joinTimeout") as err:
        run_program(config_values, secrets, declared=declared)
    assert "zerotier-cluster:joinTimeout" in str(err.value), "the fix names the key it meant"
    assert [d.type for d in declared if d.type != "pulumi:pulumi:Stack"] == []


def test_example_stacks_carry_no_secret_values() -> None:
    for name in ("dev", "onprem", "cloud"):
        text = (ROOT / f"Pulumi.{name}.yaml").read_text()
        assert "secure:" not in text, name
        assert "# Secrets to set" in text and "pulumi config set --secret zerotier:zerotierCentralToken" in text


# -- inventories --------------------------------------------------------------------------------


@pytest.fixture
def alarm() -> Iterator[None]:
    """Fails by name instead of hanging if a read blocks (a FIFO without a writer)."""

    def fail(*_: Any) -> None:
        raise TimeoutError("reading the inventory blocked")

    previous = signal.signal(signal.SIGALRM, fail)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def inventory(tmp_path: Path, name: str) -> ConfigError:
    raw = {"network": {"name": "n", "cidr": "10.147.17.0/24"}, "inventory": name}
    with pytest.raises(ConfigError) as err:
        parse_cluster(raw, base_dir=tmp_path)
    return err.value


def test_a_device_file_as_inventory_is_refused_unread(tmp_path: Path, alarm: None) -> None:
    err = inventory(tmp_path, "/dev/zero")
    assert err.locations() == [NS + "inventory"] and "not a regular file" in str(err)


def test_a_fifo_as_inventory_is_refused_without_blocking(tmp_path: Path, alarm: None) -> None:
    os.mkfifo(tmp_path / "hosts.yaml")
    err = inventory(tmp_path, "hosts.yaml")
    assert err.locations() == [NS + "inventory"] and "not a regular file" in str(err)


def test_a_directory_as_inventory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "inv").mkdir()
    assert inventory(tmp_path, "inv").locations() == [NS + "inventory"]


def test_an_oversized_inventory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "hosts.yaml").write_text("# " + "x" * (4 * 1024 * 1024) + "\n")
    err = inventory(tmp_path, "hosts.yaml")
    assert err.locations() == [NS + "inventory"] and "larger than 4 MiB" in str(err)


#: Inventories at a bound or of the wrong shape: the text, the key its problem is named under, words of it.
INVENTORY_SHAPES: list[tuple[str, str, str]] = [
    ("compute:\n  hosts:\n    cn-[0:9999999]:\n", "hosts.yaml: compute.hosts.cn-[0:9999999]", "past 10000"),
    ("compute:\n  hosts:\n    c[0:99]-[0:99]-[0:9]:\n", "hosts.yaml: compute.hosts.c[0:99]-[0:99]-[0:9]", "past"),
    ("compute:\n  hosts:\n    ? c[0:" + "9" * 5000 + "]\n", "hosts.yaml: compute.hosts.c[0:", "expand"),
    ("head:\n  hosts:\n    h1:\n    h1:\n", "hosts.yaml", "duplicate key 'h1'"),
    ("head:\n  hosts:\n    h1: {ansible_port: 22, ansible_port: 23}\n", "hosts.yaml", "line 3"),
    ("head: {hosts: {h1: }}\ncompute: &c {children: {a: *c}}\n", "hosts.yaml", "a collection inside itself"),
    ("head: {hosts: {h1: }}\ncompute: {children: {a: {children: {compute: }}}}\n", "hosts.yaml: compute", "itself"),
    ("head:\n  hosts:\n    h1: {ansible_port: ٢٢}\n", "hosts.yaml: head.hosts.h1.ansible_port", "whole number"),
    ("head:\n  hosts:\n    h1: {state: evicted, ansible_user: ops}\n", "hosts.yaml: head.hosts.h1.state", "evicts"),
    (
        "all: {vars: {ansible_user: ops}}\nhead: {hosts: {h1: }}\ncompute:\n  hosts:\n    c1: {generation: -2}\n",
        "hosts.yaml: compute.hosts.c1.generation",
        "range",
    ),
    ("all: [x]\n", "hosts.yaml: all", "group"),
]


@pytest.mark.parametrize(("text", "key", "words"), INVENTORY_SHAPES)
def test_inventory_bounds_and_shapes(tmp_path: Path, text: str, key: str, words: str) -> None:
    (tmp_path / "hosts.yaml").write_text(text)
    err = inventory(tmp_path, "hosts.yaml")
    assert any(k.startswith(key) for k in err.locations()), err.locations()
    assert words in str(err)


def test_nested_groups_are_bounded(tmp_path: Path) -> None:
    text = "head: {hosts: {h1: }}\ncompute:\n  children:\n"
    text += "".join(f"{'    ' * (i + 1)}g{i}:\n{'    ' * (i + 1)}  children:\n" for i in range(40))
    (tmp_path / "hosts.yaml").write_text(text)
    assert "nests groups deeper than 32" in str(inventory(tmp_path, "hosts.yaml"))


def test_groups_beside_all_vars_are_read_with_state_and_generation(tmp_path: Path) -> None:
    (tmp_path / "hosts.yaml").write_text(
        "all:\n  vars: {ansible_user: ops}\n"
        "head:\n  hosts:\n    h1: {ansible_host: 192.0.2.1}\n"
        "compute:\n  vars: {generation: 2}\n  hosts:\n    c[1:2]:\n    c3: {state: evicted, generation: 5}\n"
    )
    raw = {"network": {"name": "n", "cidr": "10.147.17.0/24"}, "inventory": "hosts.yaml"}
    spec = parse_cluster(raw, base_dir=tmp_path)
    assert [(n.name, n.role, n.user, n.state, n.generation) for n in spec.nodes] == [
        ("h1", "head", "ops", "active", 0),
        ("c1", "compute", "ops", "active", 2),
        ("c2", "compute", "ops", "active", 2),
        ("c3", "compute", "ops", "evicted", 5),
    ]


def test_ten_thousand_hosts_are_accepted_and_one_more_is_not(tmp_path: Path) -> None:
    (tmp_path / "hosts.yaml").write_text("head:\n  hosts:\n    h:\ncompute:\n  hosts:\n    c[1:9999]:\n")
    raw = {"network": {"name": "n", "cidr": "10.0.0.0/16"}, "inventory": "hosts.yaml", "ssh": {"user": "u"}}
    assert len(parse_cluster(raw, base_dir=tmp_path).nodes) == 10_000
    (tmp_path / "hosts.yaml").write_text("head:\n  hosts:\n    h:\ncompute:\n  hosts:\n    c[0:9999]:\n")
    assert "past 10000" in str(inventory(tmp_path, "hosts.yaml"))


def test_stack_values_arriving_from_the_engine_as_json_text_are_checked_too() -> None:
    config_values, secrets = stack_file_config("dev")
    network = json.loads(config_values["zerotier-cluster:network"])
    config_values["zerotier-cluster:network"] = json.dumps({**network, "name": "chpc\n10.0.0.1 evil"})
    with pytest.raises(Exception, match=r"zerotier-cluster:network\.name"):
        run_program(config_values, secrets)


# -- any inventory: a spec or a ConfigError, nothing else ------------------------------------------

INVENTORY_NAMES = st.sampled_from(["all", "head", "compute", "rack", "site", "ungrouped"]) | st.text(max_size=6)
HOST_NAMES = st.sampled_from(["h1", "c1", "c2", "c[1:3]", "010", "on", "localhost", "8", "c[a:c]"]) | st.text(
    max_size=6
)
VARIABLES = st.sampled_from(
    [
        "ansible_host",
        "ansible_ssh_host",
        "ansible_user",
        "ansible_ssh_user",
        "ansible_port",
        "ansible_ssh_port",
        "ip",
        "proxy",
        "hostKey",
        "sshdPort",
        "state",
        "State",
        "generation",
        "ansible_group_priority",
    ]
)
VARIABLE_VALUES = VALUES | st.sampled_from(
    ["evicted", "Evicted", "active", "ops", "192.0.2.1", "10.147.4357", "::ffff:10.147.17.5", "1:30", "head"]
)
HOST_VARS = st.none() | st.dictionaries(VARIABLES, VARIABLE_VALUES, max_size=3)
HOSTS = st.dictionaries(HOST_NAMES, HOST_VARS, max_size=3)
GROUPS = st.recursive(
    st.none() | st.fixed_dictionaries({}, optional={"hosts": HOSTS}),
    lambda inner: st.fixed_dictionaries(
        {},
        optional={
            "hosts": HOSTS,
            "vars": st.dictionaries(VARIABLES, VARIABLE_VALUES, max_size=3),
            "children": st.dictionaries(INVENTORY_NAMES, inner, max_size=3),
        },
    ),
    max_leaves=10,
)
#: Mostly inventory-shaped (a head, groups of hosts), sometimes anything at all in any place.
INVENTORIES = (
    st.builds(
        lambda head, groups: {"head": {"hosts": {"h1": head}}, **groups},
        st.none() | st.fixed_dictionaries({"ansible_host": st.just("192.0.2.1")}),
        st.dictionaries(INVENTORY_NAMES, GROUPS | VALUES, max_size=4),
    )
    | VALUES
)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(INVENTORIES, st.booleans())
def test_any_inventory_gives_a_spec_or_a_config_error(tmp_path_factory: Any, document: Any, unquoted: bool) -> None:
    import yaml

    directory = tmp_path_factory.mktemp("inventory")
    text = yaml.safe_dump(document, allow_unicode=True)
    # Without quotes, YAML 1.1 reads some of the text as numbers, flags and dates (or the file breaks).
    (directory / "hosts.yaml").write_text(text.replace("'", "") if unquoted else text)
    raw = {"network": {"name": "n", "cidr": "10.147.17.0/24"}, "inventory": "hosts.yaml", "ssh": {"user": "u"}}
    try:
        outcome: ClusterSpec | ConfigError = parse_cluster(raw, base_dir=directory)
    except ConfigError as err:  # any other exception fails the property
        outcome = err
    if isinstance(outcome, ConfigError):
        assert outcome.problems and all(p.key and p.fix for p in outcome.problems)
        assert len(str(outcome)) < 60_000
    else:
        assert isinstance(outcome, ClusterSpec) and outcome.nodes


#: One more level each, by every way YAML nests: flow, block sequences (two bytes a level), complex keys.
NESTING = {
    "flow": lambda depth: "[" * depth + "]" * depth,
    "block": lambda depth: "- " * depth + "x",
    "keys": lambda depth: "? " * depth + "x",
}


@pytest.mark.parametrize("shape", sorted(NESTING))
def test_nesting_past_a_thousand_levels_is_refused_before_pyyaml_composes_it(tmp_path: Path, shape: str) -> None:
    """30,000 levels (60 KB) crashed PyYAML's C composer with a segmentation fault, so the read runs in a child.

    A crash there is a failing test here, not a dead test run.
    """
    for depth in (1001, 30_000):
        (tmp_path / "f.yaml").write_text(NESTING[shape](depth) + "\n")
        code = "from pathlib import Path; from cluster.config.yamlfile import read_yaml; "
        code += "print([str(p) for p in read_yaml(Path('f.yaml'), shown_as='f.yaml', key='k', fix='x')[1]])"
        child = os.environ | {"PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-c", code]
        done = subprocess.run(command, check=False, cwd=tmp_path, env=child, capture_output=True, text=True)
        assert (done.returncode, done.stdout) == (
            0,
            "['f.yaml: is nested more than 1000 levels deep (line 1)\\n    fix: flatten the YAML']\n",
        ), done.stderr[-2000:]


def test_a_stack_file_nested_past_the_bound_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: zerotier-cluster\n")
    text = "config:\n  zerotier-cluster:nodes:\n" + "".join(f"{'  ' * (2 + level)}- \n" for level in range(999))
    (tmp_path / "Pulumi.dev.yaml").write_text(text)
    with pytest.raises(ConfigError) as err:
        read_stack_config(tmp_path, "dev")
    assert [str(p) for p in err.value.problems] == [
        "Pulumi.dev.yaml: is nested more than 1000 levels deep (line 1001)\n    fix: flatten the YAML"
    ]


def test_a_thousand_levels_deep_is_read_and_quoted_brackets_do_not_count(tmp_path: Path) -> None:
    (tmp_path / "f.yaml").write_text("a: " + "[" * 999 + "]" * 999 + "\nb: '" + "{" * 2000 + "'\n")
    document, problems = read_yaml(tmp_path / "f.yaml", shown_as="f.yaml", key="k", fix="fx")
    depth, inner = 1, document["a"]
    while inner:
        depth, inner = depth + 1, inner[0]
    assert (depth + 1, document["b"], problems) == (1000, "{" * 2000, [])
    (tmp_path / "f.yaml").write_text("a: 1\n\nb: " + "{a: " * 1000 + "1" + "}" * 1000 + "\n")
    assert [p.message for p in read_yaml(tmp_path / "f.yaml", shown_as="f.yaml", key="k", fix="fx")[1]] == [
        "is nested more than 1000 levels deep (line 3)"
    ]


@pytest.mark.parametrize(
    "text",
    [
        "? " + "[" * 900 + "]" * 900 + "\n: 1\n",
        "deep: &deep " + "[" * 900 + "]" * 900 + "\n? *deep\n: 1\n",
    ],
    ids=["key", "aliased-key"],
)
def test_a_key_nested_past_pythons_recursion_limit_is_a_problem(tmp_path: Path, text: str) -> None:
    """PyYAML builds a key whole, one Python call per level, and a 900-level key passes the recursion limit."""
    (tmp_path / "f.yaml").write_text(text)
    assert read_yaml(tmp_path / "f.yaml", shown_as="f.yaml", key="k", fix="fx") == (
        None,
        [Problem("f.yaml", "is nested too deeply to read", "flatten the YAML")],
    )


def values_file(values: int) -> str:
    """A list of exactly ``values`` values (the list itself counted), most of them through aliases."""
    lines = ["- &s y", "- &a [" + ", ".join(["x"] * 999) + "]"] + ["- *a"] * 998
    # 1 (the list) + 1 (y) + 1,000 (&a) * 999 = 999,002
    return "\n".join(lines + ["- *s"] * (values - 999_002)) + "\n"


def test_aliases_past_a_million_values_are_refused_at_the_value_that_passes(tmp_path: Path) -> None:
    (tmp_path / "f.yaml").write_text(values_file(1_000_000))
    document, problems = read_yaml(tmp_path / "f.yaml", shown_as="f.yaml", key="k", fix="fx")
    assert (len(document), sum(len(item) for item in document if isinstance(item, list)), problems) == (
        2 + 998 + 998,
        999 * 999,
        [],
    )
    (tmp_path / "f.yaml").write_text(values_file(1_000_001))
    assert read_yaml(tmp_path / "f.yaml", shown_as="f.yaml", key="k", fix="fx") == (
        None,
        [
            Problem(
                "f.yaml",
                "holds more than 1000000 values once its aliases are expanded (line 1999)",
                "write the values out instead of aliasing aliases",
            )
        ],
    )


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("a: &a [*a]\n", 1),
        ("a: &a {k: *a}\n", 1),
        ("a: &a\n  - b: [1, 2]\n  - [[*a]]\n", 3),
        ("a: &a [1]\nb: &b\n  - c: *a\n  - d: *b\n", 4),
    ],
    ids=["list", "mapping", "nested", "beside-another"],
)
def test_a_collection_holding_itself_is_refused_before_anything_walks_it(tmp_path: Path, text: str, line: int) -> None:
    """PyYAML builds these as cycles: walking one (looking for YAML 1.1 surprises) never ended."""
    (tmp_path / "f.yaml").write_text(text)
    anchor = "a" if line < 4 else "b"
    assert read_yaml(tmp_path / "f.yaml", shown_as="f.yaml", key="k", fix="fx") == (
        None,
        [
            Problem(
                "f.yaml",
                f"holds a collection inside itself (alias *{anchor} on line {line})",
                f"write the value out instead of *{anchor} inside the collection it names",
            )
        ],
    )


def test_an_alias_of_a_closed_collection_is_read(tmp_path: Path) -> None:
    (tmp_path / "f.yaml").write_text("a: &a [1]\nb: [*a, {c: *a}]\n&k d: *k\n")
    assert read_yaml(tmp_path / "f.yaml", shown_as="f.yaml", key="k", fix="fx") == (
        {"a": [1], "b": [[1], {"c": [1]}], "d": "d"},
        [],
    )


def test_a_billion_laughs_in_a_stack_file_is_refused_before_anything_walks_it(tmp_path: Path) -> None:
    """Twelve lines of aliases of aliases stand for 10**12 values; reading them once took 0.5 s per million."""
    (tmp_path / "Pulumi.yaml").write_text("name: zerotier-cluster\n")
    lines = ["config:", "  zerotier-cluster:x0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"  zerotier-cluster:x{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 12)]
    (tmp_path / "Pulumi.dev.yaml").write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError) as err:
        read_stack_config(tmp_path, "dev")
    assert [str(p) for p in err.value.problems] == [
        "Pulumi.dev.yaml: holds more than 1000000 values once its aliases are expanded (line 7)\n"
        "    fix: write the values out instead of aliasing aliases"
    ]


def test_config_json_nested_past_pythons_recursion_limit_is_a_config_problem() -> None:
    values, secrets = stack_file_config("dev")
    values["zerotier-cluster:nodes"] = "[" * 30_000 + "]" * 30_000
    with pytest.raises(Exception, match=r"zerotier-cluster:nodes: must be a non-empty list"):
        run_program(values, secrets)
