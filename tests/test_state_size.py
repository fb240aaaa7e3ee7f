"""What a real ``pulumi up`` stores per node stays small and does not grow with the cluster.

Pulumi keeps every input of every resource in its state (twice for a
pulumi-command resource, whose outputs echo its inputs) and rewrites the whole
checkpoint after each step, so what each node declares is measured here under
mocks, at 10 and at 400 nodes. ``bench/bench.py`` prints the same figures at
1,000 nodes, with the state and checkpoint model.
"""

from __future__ import annotations

import json

import pytest

from tests.mockrun import Run, run_program, shared_scope

#: As long as an OpenSSH ed25519 private key: it is part of every command's connection.
KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\n" + "k" * 340 + "\n-----END OPENSSH PRIVATE KEY-----\n"
#: Eight commands and a copy per node, each with its connection (the key included): ~10.5 KiB here
#: (10 KiB held seven commands; localconf, issue 19, adds about 1.3 KiB).
BUDGET = 11 * 1024


def cluster(nodes: int) -> Run:
    members = [{"name": "head", "role": "head", "host": "10.0.0.1"}]
    members += [{"name": f"cn-{i:04d}", "host": f"10.{1 + i // 250}.{i % 250}.10"} for i in range(1, nodes)]
    config = {
        "zerotier-cluster:network": json.dumps({"name": "scale", "cidr": "10.147.0.0/16"}),
        "zerotier-cluster:ssh": json.dumps({"user": "ops"}),
        "zerotier-cluster:nodes": json.dumps(members),
        "zerotier-cluster:firewall": json.dumps({"openings": {"head": ["tcp/443"]}}),
        "zerotier:zerotierCentralToken": "token",
        "zerotier-cluster:sshPrivateKey": KEY,
    }
    return run_program(config, ["zerotier:zerotierCentralToken", "zerotier-cluster:sshPrivateKey"])


@pytest.fixture(scope=shared_scope)
def small() -> Run:
    return cluster(10)


@pytest.fixture(scope=shared_scope)
def large() -> Run:
    return cluster(400)


def test_every_node_declares_at_most_11_kib(small: Run, large: Run) -> None:
    for run, nodes in ((small, 10), (large, 400)):
        per_node = run.declared_per_node()
        assert len(per_node) == nodes
        worst = max(per_node, key=per_node.__getitem__)
        assert per_node[worst] <= BUDGET, f"{worst} declares {per_node[worst]} bytes at {nodes} nodes"


def test_what_a_node_declares_does_not_grow_with_the_cluster(small: Run, large: Run) -> None:
    for name in ("head", "cn-0001", "cn-0009"):
        at_10, at_400 = small.declared_per_node()[name], large.declared_per_node()[name]
        assert abs(at_400 - at_10) <= 0.05 * at_10, (name, at_10, at_400)


def test_cluster_wide_data_travels_once_per_node_in_the_bundle(large: Run) -> None:
    hosts = large.named("zerotier-cluster-cn-0123-hosts").inputs["stdin"]
    assert "cn-0399" not in hosts, "the hosts block is in the program, not on stdin"
    assert "10.147." not in large.named("zerotier-cluster-head-verify").inputs["stdin"]
    assert "cn-0399" in large.program("zerotier-cluster-cn-0123-hosts")
    sources = {c.inputs["source"].path for c in large.of_type("command:remote:CopyToRemote")}
    assert len(sources) == 1 and len(large.of_type("command:remote:CopyToRemote")) == 400
