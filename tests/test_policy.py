"""``zerotier-cluster:policy``: the threat model's assertions and the operator's, checked against both layers.

The checks run on the real rules and rulesets the plan makes (the nftables
evaluator is held to the kernel by ``tests/test_firewall_packets.py``); a
config whose assertion fails is refused by ``build_plan``, so by ``render``
and under Pulumi's mocks by ``preview`` before anything is declared.
"""

from __future__ import annotations

import copy
import json
import os
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cluster.config.parse import parse_cluster
from cluster.config.stackfile import read_stack_config
from cluster.errors import ConfigError
from cluster.plan import reach
from cluster.plan.build import Plan, build_plan
from cluster.plan.nft_eval import NftError, Packet, Ruleset
from tests.mockrun import run_program, stack_file_config

ROOT = Path(__file__).resolve().parent.parent

BASE: dict[str, Any] = {
    "network": {"name": "lab", "cidr": "10.147.17.0/24"},
    "ssh": {"user": "ops"},
    "nodes": [
        {"name": "head", "role": "head", "host": "192.0.2.1", "ip": "10.147.17.1"},
        {"name": "c1", "role": "compute", "host": "192.0.2.11", "ip": "10.147.17.11"},
        {"name": "c2", "role": "compute", "host": "192.0.2.12", "ip": "10.147.17.12", "sshdPort": 2222},
    ],
    "devices": [{"name": "alice", "address": "0123456789", "ip": "10.147.17.200"}],
}
#: Keeps devices from pinging compute nodes: an extra rule that breaks a default (the rules' own lock-out
#: check lets it pass: devices are not the cluster).
NO_DEVICE_PING = "drop tseq role device and treq role compute and ipprotocol icmp4;\n"
#: Drops rsync between compute nodes (a port below MPI's, so the lock-out check lets it pass too).
NO_RSYNC = "drop tseq role compute and treq role compute and ipprotocol tcp and dport 873;\n"


def plan_of(**changes: Any) -> Plan:
    config = copy.deepcopy(BASE)
    config.update(copy.deepcopy(changes))
    return build_plan(parse_cluster(config, base_dir=ROOT))


def refusal(**changes: Any) -> str:
    with pytest.raises(ConfigError) as err:
        plan_of(**changes)
    return str(err.value)


def stack_plan(stack: str) -> Plan:
    return build_plan(parse_cluster(read_stack_config(ROOT, stack), base_dir=ROOT))


# --- the defaults ---------------------------------------------------------------------


def test_the_onprem_stacks_threat_model_holds_in_both_layers() -> None:
    plan = stack_plan("onprem")
    assert all(r.ok for r in plan.reach)
    assert reach.matrix(plan.reach) == (
        "FROM \\ TO  compute                   head\n"
        "head       +ssh +icmp +tcp/6818      .\n"
        "compute    +ssh +icmp +tcp/6818      +ssh +icmp +tcp/6817\n"
        "device     +ssh +icmp -tcp/6818      +ssh +icmp -tcp/6817\n"
        "lan        +udp/9993 -tcp/6818       +udp/9993 -tcp/6817\n"
        "internet   +udp/9993 -tcp/6818 +ssh  +udp/9993 -tcp/6817 +ssh\n"
    )


@pytest.mark.parametrize(("stack", "count"), [("dev", 20), ("onprem", 25), ("cloud", 11)])
def test_every_stacks_default_assertions_pass(stack: str, count: int) -> None:
    plan = stack_plan(stack)
    assert len(plan.reach) == count
    assert [r.assertion for r in plan.reach if not r.ok] == []


def test_a_device_is_denied_the_service_port_by_both_layers_and_the_decisive_rules_are_named() -> None:
    result = next(r for r in plan_of().reach if str(r.assertion) == "device -> compute tcp/6818 deny")
    assert result.probe == "alice -> c2 tcp/6818"  # every probe agreed: the last one is shown
    zerotier, nftables = result.layers
    assert (zerotier.allowed, zerotier.rule) == (False, "drop;")
    assert (nftables.allowed, nftables.rule) == (False, "policy drop")
    assert nftables.where == "c2: table inet zerotier_cluster chain input"


def test_ssh_is_each_destinations_own_port() -> None:
    probes = [r.probe for r in plan_of().reach if str(r.assertion) == "device -> compute ssh allow"]
    assert probes == ["alice -> c2 tcp/2222"]  # the last probe, when every one agreed: c1 (22) came first


def test_internet_ssh_follows_ssh_from() -> None:
    plan = plan_of(firewall={"sshFrom": ["203.0.113.0/24"]})
    result = next(r for r in plan.reach if str(r.assertion) == "internet -> head ssh deny")
    assert result.ok
    assert result.layers[0].rule == "policy drop"


def test_cluster_ports_make_the_service_port_a_deny_between_members() -> None:
    plan = plan_of(firewall={"clusterPorts": ["tcp/6817"]})
    said = {str(r.assertion) for r in plan.reach}
    assert "compute -> head tcp/6817 allow" in said
    assert "compute -> compute tcp/6818 deny" in said


# --- refused configs ----------------------------------------------------------------


def test_an_extra_rule_that_breaks_a_default_is_refused_naming_the_assertion_layer_and_rule() -> None:
    text = refusal(rules={"extra": NO_DEVICE_PING})
    assert "zerotier-cluster:policy (default: devices ping): device -> compute icmp allow fails" in text
    assert "alice -> c1 icmp is denied" in text
    assert "zerotier denies it by `drop tseq role device and treq role compute and ipprotocol icmp4;`" in text
    assert (
        "(rules, ICMP echo request from alice (device, 10.147.17.200) to c1 (compute, 10.147.17.11), on the sender)"
        in text
    )
    assert "{from: device, to: compute, port: icmp, expect: deny}" in text


def test_an_extra_rule_that_breaks_the_operators_assertion_is_refused_naming_its_key() -> None:
    policy = [{"from": "compute", "to": "compute", "port": "tcp/873", "expect": "allow"}]
    text = refusal(rules={"extra": NO_RSYNC}, policy=policy)
    assert "zerotier-cluster:policy[0]: compute -> compute tcp/873 allow fails: c1 -> c2 tcp/873 is denied" in text
    assert (
        "zerotier denies it by `drop tseq role compute and treq role compute and ipprotocol tcp and dport 873;`" in text
    )
    assert 'nftables allows it by `iifname "zta51146d380" ip saddr @members accept' in text


def test_the_operators_assertion_states_the_new_intent_and_wins_over_the_default() -> None:
    policy = [{"from": "device", "to": "compute", "port": "icmp", "expect": "deny"}]
    plan = plan_of(rules={"extra": NO_DEVICE_PING}, policy=policy)
    mine = plan.reach[0]
    assert (str(mine.assertion), mine.assertion.key, mine.ok) == (
        "device -> compute icmp deny",
        "zerotier-cluster:policy[0]",
        True,
    )
    assert "device -> compute icmp allow" not in {str(r.assertion) for r in plan.reach}


def test_an_operators_assertion_the_firewall_breaks_names_its_key_and_the_nftables_rule() -> None:
    policy = [{"from": "device", "to": "head", "port": "tcp/8080", "expect": "allow"}]
    text = refusal(policy=policy, firewall={"devices": "all", "clusterPorts": ["tcp/6817"]})
    assert "zerotier-cluster:policy[0]: device -> head tcp/8080 allow fails: alice -> head tcp/8080 is denied" in text
    assert "zerotier allows it by `accept tseq role device and treq role head;`" in text
    assert "nftables denies it by `policy drop` (head: table inet zerotier_cluster chain input)" in text


def test_an_allow_both_layers_grant_fails_a_deny_assertion() -> None:
    text = refusal(policy=[{"from": "compute", "to": "head", "port": "udp/5000", "expect": "deny"}])
    assert "zerotier-cluster:policy[0]: compute -> head udp/5000 deny fails" in text
    assert 'nftables allows it by `iifname "zta51146d380" ip saddr @members accept' in text


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"from": "gpu-99", "to": "head", "port": "ssh", "expect": "allow"},
         "zerotier-cluster:policy[0].from: 'gpu-99' is no role, node, device, lan or internet here"),
        ({"from": "compute", "to": "alice", "port": "ssh", "expect": "allow"},
         "zerotier-cluster:policy[0].to: 'alice' is no role or node of this stack"),
        ({"from": "compute", "to": "head", "port": "tcp/70000", "expect": "allow"},
         "zerotier-cluster:policy[0].port: port 70000 is out of range (1-65535)"),
        ({"from": "compute", "to": "head", "port": "tcp/0", "expect": "allow"},
         "zerotier-cluster:policy[0].port: port 0 is out of range"),
        ({"from": "compute", "to": "head", "port": "sctp/9", "expect": "allow"},
         "zerotier-cluster:policy[0].port: 'sctp/9' is not tcp/N, udp/N, icmp or ssh"),
        ({"from": "compute", "to": "head", "port": "ssh", "expect": "maybe"},
         "zerotier-cluster:policy[0].expect: 'maybe' is not allow or deny"),
        ({"from": "compute", "to": "head", "port": 22, "expect": "allow"},
         "zerotier-cluster:policy[0].port: must be text, not int"),
        ({"from": "compute", "to": "head", "expect": "allow"}, "zerotier-cluster:policy[0].port: is missing"),
        ({"from": "compute", "to": "head", "port": "ssh", "expect": "allow", "via": "x"},
         "zerotier-cluster:policy[0].via: is not an assertion field"),
        ("compute -> head", "zerotier-cluster:policy[0]: must be a mapping with from, to, port and expect"),
    ],
)  # fmt: skip
def test_bad_assertions_are_refused_naming_the_key(policy: Any, message: str) -> None:
    assert message in refusal(policy=[policy])


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ([{"from": "c1\nc2", "to": "head", "port": "ssh", "expect": "allow"}],
         "zerotier-cluster:policy[0].from: 'c1\\nc2' is not a role, node or device name"),
        ([{"from": "x" * 5000, "to": "head", "port": "ssh", "expect": "allow"}], "is not a role, node or device name"),
        ([{"from": "compute", "to": "head", "port": "tcp/" + "9" * 400, "expect": "allow"}],
         "zerotier-cluster:policy[0].port: 'tcp/999999"),
        ([{7: "x", "from": "compute", "to": "head", "port": "ssh", "expect": "allow"}],
         "zerotier-cluster:policy[0].7: is not an assertion field"),
        ([{"from": "compute", "to": "head", "port": "ssh", "expect": "allow"}] * 1001,
         "zerotier-cluster:policy: has 1001 assertions; at most 1000"),
    ],
)  # fmt: skip
def test_hostile_assertions_get_bounded_messages_naming_the_key(policy: Any, message: str) -> None:
    text = refusal(policy=policy)
    assert message in text
    assert len(text) < 2000


def test_a_policy_that_is_no_list_is_refused() -> None:
    assert "zerotier-cluster:policy: must be a list of assertions" in refusal(policy={"from": "compute"})


def test_two_assertions_that_contradict_each_other_are_refused_naming_both() -> None:
    policy = [
        {"from": "compute", "to": "head", "port": "ssh", "expect": "allow"},
        {"from": "c1", "to": "head", "port": "tcp/22", "expect": "deny"},
    ]
    text = refusal(policy=policy)
    assert (
        "zerotier-cluster:policy[1]: c1 -> head tcp/22 deny contradicts zerotier-cluster:policy[0] "
        "(compute -> head ssh allow)"
    ) in text


def test_assertions_on_different_ports_do_not_contradict() -> None:
    policy = [
        {"from": "compute", "to": "compute", "port": "ssh", "expect": "allow"},
        {"from": "c1", "to": "c2", "port": "tcp/22", "expect": "deny"},  # c2's sshd listens on 2222
    ]
    assert "contradicts" not in refusal(policy=policy)  # refused only because c1 reaches c2's port 22


def test_an_underlay_source_without_a_managed_firewall_is_refused() -> None:
    text = refusal(
        policy=[{"from": "lan", "to": "head", "port": "udp/9993", "expect": "allow"}], firewall={"mode": "off"}
    )
    assert "zerotier-cluster:policy[0].from: lan reaches nodes over their underlay, where only nftables" in text


def test_what_an_integrated_chain_leaves_to_the_operator_is_undecidable() -> None:
    firewall = {"mode": "integrate", "integrate": {"table": "filter", "chain": "input"}}
    text = refusal(policy=[{"from": "internet", "to": "head", "port": "tcp/8080", "expect": "deny"}], firewall=firewall)
    assert "zerotier-cluster:policy[0]: internet -> head tcp/8080 deny: no layer can decide" in text
    assert "nftables does not decide it by `no accept in the program's chain`" in text
    # What the program's chain accepts is decided, in integrate mode too.
    plan = plan_of(
        policy=[{"from": "internet", "to": "head", "port": "udp/9993", "expect": "allow"}], firewall=firewall
    )
    assert plan.reach[0].ok
    assert plan.reach[0].layers[0].where == "head: table inet filter chain zerotier_cluster"


def test_a_destination_role_this_stack_has_no_node_of_is_refused() -> None:
    config = read_stack_config(ROOT, "cloud")
    config["policy"] = [{"from": "compute", "to": "head", "port": "ssh", "expect": "allow"}]
    with pytest.raises(ConfigError, match=r"policy\[0\]\.to: 'head' has no node in this stack"):
        parse_cluster(config, base_dir=ROOT)


# --- under Pulumi's mocks ----------------------------------------------------------


def test_preview_refuses_rules_that_break_a_default_before_declaring_anything() -> None:
    config, secrets = stack_file_config("onprem")
    config["zerotier-cluster:rules"] = json.dumps({"extra": NO_DEVICE_PING})
    declared: list[Any] = []
    with pytest.raises(Exception, match=r"policy \(default: devices ping\): device -> compute icmp allow fails") as err:
        run_program(config, secrets, stack="onprem", preview=True, declared=declared)
    assert "drop tseq role device and treq role compute and ipprotocol icmp4;" in str(err.value)
    assert [d.type for d in declared if d.type != "pulumi:pulumi:Stack"] == []


@pytest.mark.parametrize("stack", ["dev", "onprem", "cloud"])
def test_preview_passes_every_stacks_defaults(stack: str) -> None:
    config, secrets = stack_file_config(stack)
    outputs = {"organization/zerotier-cluster/onprem": ONPREM_OUTPUTS} if stack == "cloud" else None
    run = run_program(config, secrets, stack=stack, preview=True, stack_outputs=outputs)
    assert [r for r in run.resources if r.type == "command:remote:Command"]


ONPREM_OUTPUTS = {
    "networkId": "8056c2e21c1930be",
    "cidr": "10.147.17.0/24",
    "addressSlice": "10.147.17.0/25",
    "headName": "head",
    "headIp": "10.147.17.1",
    "pool": {"start": "10.147.17.200", "end": "10.147.17.250"},
    "controller": "central",
}


# --- the nftables evaluator's refusals ----------------------------------------------


def test_the_evaluator_refuses_a_statement_it_does_not_know_when_it_loads() -> None:
    text = "table inet t {\n\tchain input {\n\t\ttype filter hook input priority 0;\n\t\tmeta mark 0x1 accept\n\t}\n}\n"
    with pytest.raises(NftError, match="rule `meta mark 0x1 accept` in table inet t: expected 'l4proto', found 'mark'"):
        Ruleset.load(text)
    with pytest.raises(NftError, match="'ether' is not a statement this evaluator knows"):
        Ruleset.load(text.replace("meta mark 0x1", "ether saddr 00:11:22:33:44:55"))


def test_a_drop_in_any_base_chain_is_final_and_an_accept_is_not() -> None:
    ours = "table inet a {\n\tchain input {\n\t\ttype filter hook input priority 0; policy drop;\n"
    ours += "\t\ttcp dport 22 accept\n\t}\n}\n"
    theirs = "table ip b {\n\tchain in {\n\t\ttype filter hook input priority 10;\n\t\ttcp dport 22 drop\n\t}\n}\n"
    ruleset = Ruleset.load(ours, theirs)
    assert str(ruleset.decide(Packet(IPv4Address("192.0.2.1"), "eth0", "tcp", 22))) == (
        "drop by `tcp dport 22 drop` (table ip b chain in)"
    )


def test_a_connect_needs_its_reply_through_zerotier_too() -> None:
    """Dropping only the head's answers to devices breaks their SSH: the check follows the reply."""
    text = refusal(rules={"extra": "drop tseq role head and treq role device and ipprotocol tcp and sport 22;\n"})
    assert "zerotier-cluster:policy (default: devices reach SSH): device -> head ssh allow fails" in text
    assert "zerotier denies it by `drop tseq role head and treq role device and ipprotocol tcp and sport 22;` " in text
    assert (
        "TCP 22->32768-60999 SYN+ACK from head (head, 10.147.17.1) to alice (device, 10.147.17.200), on the sender"
        in text
    )


@pytest.mark.parametrize(
    ("firewall", "expected"),
    [
        ({}, {"internet -> head ssh allow", "internet -> compute ssh allow"}),
        ({"sshFrom": ["0.0.0.0/0"]}, {"internet -> head ssh allow", "internet -> compute ssh allow"}),
        (
            {"computeSsh": "head-and-overlay", "headAddresses": ["192.0.2.1"]},
            {"internet -> head ssh allow", "internet -> compute ssh deny"},
        ),
    ],
)
def test_the_internets_ssh_default_follows_the_firewall(firewall: dict[str, Any], expected: set[str]) -> None:
    extra = {"ssh": {"user": "ops", "proxy": "head"}} if "computeSsh" in firewall else {}
    plan = plan_of(firewall=firewall, **extra)
    assert {
        str(r.assertion)
        for r in plan.reach
        if str(r.assertion).startswith("internet -> ") and "ssh" in str(r.assertion)
    } == expected


def test_status_probe_sends_from_the_first_node_of_each_source_to_every_destination() -> None:
    from cluster.operate.probe import probes

    todo, skipped = probes(plan_of(policy=[{"from": "c2", "to": "compute", "port": "udp/5000", "expect": "allow"}]))
    assert [(str(p), p.line()) for p in todo if p.result.assertion.source in ("c2", "head")][:4] == [
        ("c2 -> c1 udp/5000", "0 udp 10.147.17.11 5000"),
        ("head -> c1 tcp/22", "1 tcp 10.147.17.11 22"),
        ("head -> c2 tcp/2222", "2 tcp 10.147.17.12 2222"),
        ("head -> c1 icmp", "3 icmp 10.147.17.11 8"),
    ]
    assert {str(p) for p in todo if str(p.result.assertion) == "compute -> compute ssh allow"} == {
        "c1 -> c2 tcp/2222"  # the first compute node sends; it does not probe itself
    }
    assert {o.detail.split(":")[1].strip() for o in skipped} == {
        "device is no node of this stack to send from",
        "lan is no node of this stack to send from",
        "internet is no node of this stack to send from",
    }


POLICY_WORDS = st.sampled_from(
    ["head", "compute", "device", "lan", "internet", "c1", "alice", "ssh", "icmp", "tcp/22", "udp/9993", "tcp/6818",
     "allow", "deny", "tcp/0", "udp/65536", "٢٢", "a\n", ""]
)  # fmt: skip
POLICY_VALUES = st.none() | st.booleans() | st.integers() | st.text(max_size=12) | POLICY_WORDS
ASSERTIONS = st.lists(
    st.dictionaries(st.sampled_from(["from", "to", "port", "expect", "via"]), POLICY_VALUES, max_size=5)
    | POLICY_VALUES,
    max_size=4,
)


@settings(max_examples=int(os.environ.get("ZTC_HYPOTHESIS_EXAMPLES", "300")), deadline=None)
@given(ASSERTIONS | POLICY_VALUES, st.sampled_from(["enforce", "off", "integrate"]))
def test_any_policy_gives_a_plan_or_a_config_error(policy: Any, mode: str) -> None:
    firewall: dict[str, Any] = {"mode": mode}
    if mode == "integrate":
        firewall["integrate"] = {"table": "filter", "chain": "input"}
    try:
        outcome: Plan | ConfigError = plan_of(policy=policy, firewall=firewall)
    except ConfigError as err:  # anything else fails the property
        outcome = err
    if isinstance(outcome, ConfigError):
        assert outcome.problems
        assert all(p.key.startswith("zerotier-cluster:policy") and p.fix for p in outcome.problems)
        assert len(str(outcome)) < 30_000
    else:
        assert all(r.ok for r in outcome.reach)


def test_render_prints_the_matrix_and_refuses_a_broken_assertion(tmp_path: Path, capsys: Any) -> None:
    import yaml

    from cluster.operate.cli import main

    document = yaml.safe_load((ROOT / "Pulumi.onprem.yaml").read_text())
    (tmp_path / "inventory").mkdir()
    (tmp_path / "inventory" / "onprem.yaml").write_text((ROOT / "inventory" / "onprem.yaml").read_text())
    (tmp_path / "Pulumi.t.yaml").write_text(yaml.safe_dump(document))
    assert main(["render", "--stack", "t", "--project", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "reachability: 25 assertions" in out
    assert "device     +ssh +icmp -tcp/6818      +ssh +icmp -tcp/6817\n" in out

    document["config"]["zerotier-cluster:rules"] = {"extra": NO_DEVICE_PING}
    (tmp_path / "Pulumi.t.yaml").write_text(yaml.safe_dump(document))
    assert main(["render", "--stack", "t", "--project", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert "zerotier-cluster:policy (default: devices ping): device -> compute icmp allow fails" in captured.err
    assert captured.out == ""


def test_a_stack_on_another_stacks_network_declares_nothing_either_when_an_assertion_fails() -> None:
    """The check runs before the program reads the owning stack (its StackReference is a registration too)."""
    config, secrets = stack_file_config("cloud")
    config["zerotier-cluster:policy"] = json.dumps(
        [{"from": "compute", "to": "compute", "port": "tcp/873", "expect": "deny"}]
    )
    declared: list[Any] = []
    with pytest.raises(Exception, match=r"zerotier-cluster:policy\[0\]: compute -> compute tcp/873 deny fails"):
        run_program(config, secrets, stack="cloud", preview=True, declared=declared,
                    stack_outputs={"organization/zerotier-cluster/onprem": ONPREM_OUTPUTS})  # fmt: skip
    assert [d.type for d in declared if d.type != "pulumi:pulumi:Stack"] == []


def test_an_ipdest_rule_tells_nodes_of_one_role_apart() -> None:
    """c1 and c2 share a ruleset; only the ZeroTier rule on c2's address separates them."""
    config = copy.deepcopy(BASE)
    del config["nodes"][2]["sshdPort"]
    config["rules"] = {"extra": "drop ipdest 10.147.17.12/32 and ipprotocol tcp and dport 873;\n"}
    config["policy"] = [{"from": "head", "to": "compute", "port": "tcp/873", "expect": "allow"}]
    with pytest.raises(ConfigError) as err:
        build_plan(parse_cluster(config, base_dir=ROOT))
    assert "zerotier-cluster:policy[0]: head -> compute tcp/873 allow fails: head -> c2 tcp/873 is denied" in str(
        err.value
    )
    assert "zerotier denies it by `drop ipdest 10.147.17.12/32 and ipprotocol tcp and dport 873;`" in str(err.value)
    config["policy"] = [{"from": "head", "to": "c1", "port": "tcp/873", "expect": "allow"}]
    assert build_plan(parse_cluster(config, base_dir=ROOT)).reach[0].ok


@pytest.mark.parametrize(
    ("mode", "probes", "timeout", "tag", "name"),
    [
        pytest.param("bogus", "", "3", "t1", "ZTC_PROBE_MODE", id="mode"),
        pytest.param("send", "", "0", "t1", "ZTC_PROBE_TIMEOUT", id="timeout"),
        pytest.param("send", "", "3", "../x", "ZTC_PROBE_TAG", id="tag"),
        pytest.param("send", "x1 tcp 127.0.0.1 1", "3", "t1", "probe id", id="id"),
        pytest.param("send", "1 sctp 127.0.0.1 1", "3", "t1", "probe protocol", id="protocol"),
        pytest.param("send", "1 tcp 999.0.0.1 1", "3", "t1", "probe address", id="address"),
        pytest.param("send", "1 tcp 127.0.0.1 123456", "3", "t1", "probe port", id="port"),
        pytest.param("listen", "123456", "1", "t1", "listener port", id="listener-port"),
        pytest.param("collect", "123456", "1", "t1", "port to collect", id="collect-port"),
    ],
)
def test_probe_refuses_a_bad_parameter_by_name(
    mode: str, probes: str, timeout: str, tag: str, name: str, tmp_path: Path
) -> None:
    """probe.sh as status --probe sends it, run here (nothing it is refused reaches the network)."""
    import subprocess

    from cluster.plan.steps import ProbeParams, standalone

    script = standalone("probe on node n1", ProbeParams(mode=mode, probes=probes, timeout=timeout, tag=tag))
    env = {"PATH": os.environ["PATH"], "TMPDIR": str(tmp_path), "HOME": str(tmp_path)}
    result = subprocess.run(
        ["sh", "-s"], check=False, input=script, capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode != 0, result.stdout
    assert name in result.stderr
    assert result.stdout == ""
