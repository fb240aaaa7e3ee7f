"""The SSH connection settings: how long pulumi-command keeps dialing, and which pinned keys it can never use.

The retry figures are the README's (section "SSH"); the refusal is what a
stack built from Python (``examples/``) meets where the config refuses an
``ssh-rsa`` key itself.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from cluster.config.parse import parse_cluster
from cluster.config.stackfile import read_stack_config
from cluster.declare.connection import refused_host_keys, retry_seconds
from cluster.declare.overlay import Overlay
from cluster.spec import Proxy
from tests.mockrun import ROOT, run_program

RSA = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7"
ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"


@pytest.mark.parametrize(
    ("limit", "answered", "seconds"),
    [
        (0, True, 0.0),
        (1, True, 0.1),  # two dials, one wait of 0.1 s
        (2, True, 0.25),  # 0.1 + 0.15
        (2, False, 45.25),  # and three dials that each wait out 15 s
        (11, True, 16.33),  # the eleventh wait is capped at 5 s (0.1 x 1.5^10 = 5.77)
        (20, True, 61.33),  # the program's limit: 21 dials
        (20, False, 376.33),  # 6 min 16 s
    ],
)
def test_retry_seconds_follow_pulumi_commands_backoff(limit: int, answered: bool, seconds: float) -> None:
    assert retry_seconds(limit, answered=answered) == pytest.approx(seconds, abs=0.01)


def test_the_readme_states_the_retry_times_the_program_sets() -> None:
    readme = (Path(ROOT) / "README.md").read_text()
    refused, dropped = round(retry_seconds()), round(retry_seconds(answered=False))
    assert (refused, dropped) == (61, 376)
    said = r"is given up after\s+(\d+) s, one whose packets are dropped after (\d+) min (\d+) s"
    section = re.search(said, readme)
    assert section is not None, "README, SSH: the two retry times"
    assert int(section.group(1)) == refused
    assert int(section.group(2)) * 60 + int(section.group(3)) == dropped


def _spec_nodes():
    return parse_cluster(read_stack_config(ROOT, "dev"), base_dir=ROOT).nodes


def test_an_rsa_host_key_is_refused_with_why_and_what_to_pin_instead() -> None:
    head, first, second = _spec_nodes()
    nodes = (head, dataclasses.replace(first, host_key=f"{RSA} root@c1"), second)
    (problem,) = refused_host_keys(nodes)
    assert str(problem) == (
        "zerotier-cluster:nodes[1].hostKey: is an ssh-rsa key: pulumi-command offers only the pinned key's type, "
        "and OpenSSH 8.8+ refuses ssh-rsa (RSA with SHA-1), so no connection could ever succeed\n"
        "    fix: pin the host's ed25519 or ecdsa key instead: `ssh-keyscan -t ed25519 HOST` "
        "(every OpenSSH since 6.5 has one), without the host name"
    )


def test_a_jump_hosts_rsa_key_is_refused_and_other_types_pass() -> None:
    head, first, second = _spec_nodes()
    jump = Proxy("192.0.2.1", "jump", 22, RSA)
    nodes = (
        dataclasses.replace(head, host_key=ED25519),
        dataclasses.replace(first, host_key="rsa-sha2-512 AAAA"),  # not a key type ssh-keyscan prints; not refused here
        dataclasses.replace(second, proxy=jump, host_key=ED25519),
    )
    assert [p.key for p in refused_host_keys(nodes)] == ["zerotier-cluster:nodes[2].proxy.hostKey"]
    assert refused_host_keys((dataclasses.replace(second, proxy=dataclasses.replace(jump, host_key=None)),)) == []


def test_a_node_built_in_python_is_named_by_its_name() -> None:
    _, first, _ = _spec_nodes()
    python_node = dataclasses.replace(first, origin="", host_key=RSA)
    assert [p.key for p in refused_host_keys((python_node,))] == ["node compute-01.hostKey"]


def _connections(spec_nodes, ssh_private_key: str | None) -> dict[str, dict]:
    """Each node's install connection, as the Overlay declared from Python registers it."""
    spec = parse_cluster(read_stack_config(ROOT, "dev"), base_dir=ROOT)
    spec = dataclasses.replace(spec, nodes=tuple(spec_nodes))

    def program() -> None:
        Overlay("zerotier-cluster", spec, central_token="a-token", ssh_private_key=ssh_private_key)

    run = run_program({}, [], program=program)
    return {n.name: run.named(f"zerotier-cluster-{n.name}-install").inputs["connection"] for n in spec.nodes}


def test_a_nodes_own_key_wins_over_the_stacks_and_the_agent_gets_no_key_field() -> None:
    head, first, second = _spec_nodes()
    found = _connections((head, dataclasses.replace(first, private_key="compute-01-key"), second), "stack-key")
    assert [found[n].get("privateKey") for n in ("head", "compute-01", "compute-02")] == [
        "stack-key",
        "compute-01-key",
        "stack-key",
    ]
    agent = _connections((head, first, second), None)
    assert agent["compute-01"] == {
        "host": "192.168.10.11",
        "user": "rocky",
        "port": 22,
        "dialErrorLimit": 20,  # pulumi-command's default is 10: 11 dials, about 15 s
        "perDialTimeout": 15,
    }
    assert [sorted(c) for c in agent.values()] == [["dialErrorLimit", "host", "perDialTimeout", "port", "user"]] * 3


def test_a_jump_host_gets_its_own_login_and_port_the_stacks_key_and_the_same_retries() -> None:
    head, first, second = _spec_nodes()
    jump = Proxy("192.0.2.1", "jump", 2222, ED25519)
    pinned = dataclasses.replace(head, host_key=ED25519)
    found = _connections((pinned, dataclasses.replace(first, proxy=jump), second), "stack-key")
    assert (found["head"]["hostKey"], "hostKey" in found["compute-02"]) == (ED25519, False)
    assert found["compute-01"]["proxy"] == {
        "host": "192.0.2.1",
        "user": "jump",
        "port": 2222,
        "privateKey": "stack-key",
        "hostKey": ED25519,
        "dialErrorLimit": 20,
        "perDialTimeout": 15,
    }
    assert "proxy" not in found["compute-02"], "no jump host: no proxy field at all"
