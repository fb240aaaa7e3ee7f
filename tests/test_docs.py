"""The rulesets printed in docs/firewall.md are the ones the dev stack really gets.

A reviewer reads the docs, not the generator; this keeps the two from
drifting. ``ZTC_UPDATE_DOCS=1 python3 -m pytest tests/test_docs.py`` rewrites
the blocks from the current render after a deliberate change.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from cluster.config import parse_cluster
from cluster.plan import build_plan
from cluster.stackfile import read_stack_config

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "firewall.md"
NODES = ("head", "compute-01")


def block(node: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- BEGIN ruleset {node} -->\n```nft\n)(.*?)(```\n<!-- END ruleset {node} -->)", re.S)


def dev_rulesets() -> dict[str, str]:
    plan = build_plan(parse_cluster(read_stack_config(ROOT, "dev"), base_dir=ROOT))
    return {n.name: n.ruleset or "" for n in plan.nodes}


def test_docs_show_the_dev_stacks_rulesets_exactly() -> None:
    rulesets = dev_rulesets()
    text = DOC.read_text()
    if os.environ.get("ZTC_UPDATE_DOCS") == "1":
        for node in NODES:
            text = block(node).sub(lambda m, n=node: m[1] + rulesets[n] + m[3], text)
        DOC.write_text(text)
    for node in NODES:
        found = block(node).search(text)
        assert found, f"docs/firewall.md has no ruleset block for {node}"
        assert found[2] == rulesets[node], f"docs/firewall.md's {node} ruleset is stale: run with ZTC_UPDATE_DOCS=1"


def test_the_compute_nodes_differ_only_in_their_name() -> None:
    rulesets = dev_rulesets()
    assert rulesets["compute-02"] == rulesets["compute-01"].replace("compute-01", "compute-02")
