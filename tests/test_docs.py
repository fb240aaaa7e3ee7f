"""The rulesets printed in docs/firewall.md are the ones the dev stack really gets.

A reviewer reads the docs, not the generator; this keeps the two from
drifting. The test only reads: after a deliberate change, regenerate the
blocks with ``python3 -m tests.update_docs`` and commit the diff.
"""

from __future__ import annotations

from cluster.plan.reach import threat_model_table
from tests.update_docs import DOC, NODES, THREAT_DOC, THREAT_TABLE, block, dev_rulesets


def test_docs_show_the_dev_stacks_rulesets_exactly() -> None:
    rulesets = dev_rulesets()
    text = DOC.read_text()
    for node in NODES:
        found = block(node).search(text)
        assert found, f"docs/firewall.md has no ruleset block for {node}"
        assert found[2] == rulesets[node], (
            f"docs/firewall.md's {node} ruleset is stale: run `python3 -m tests.update_docs` and review the diff"
        )


def test_the_docs_show_the_head_opening_https_and_compute_nodes_not() -> None:
    """A literal anchor, so the comparison above cannot pass on two empty blocks."""
    text = DOC.read_text()
    head, compute = (block(node).search(text) for node in NODES)
    assert head and compute
    assert "tcp dport 443 accept" in head[2]
    assert "dport 443" not in compute[2]
    assert "udp dport 9993 accept" in compute[2]


def test_the_compute_nodes_differ_only_in_their_name() -> None:
    rulesets = dev_rulesets()
    assert rulesets["compute-02"] == rulesets["compute-01"].replace("compute-01", "compute-02")


def test_the_threat_models_table_is_the_one_the_default_assertions_come_from() -> None:
    found = THREAT_TABLE.search(THREAT_DOC.read_text())
    assert found, "docs/threat-model.md has no generated assertions table"
    assert found[2] == threat_model_table(), (
        "docs/threat-model.md's assertions table is stale: run `python3 -m tests.update_docs` and review the diff"
    )
    assert "| operator device | a node's cluster service | tcp | deny (devices: all: as a member) |" in found[2]
