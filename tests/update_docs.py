"""Rewrites the ruleset blocks of docs/firewall.md and the assertions table of docs/threat-model.md.

Not a test: tests only read the repository. After a deliberate change to the
firewall, run ``python3 -m tests.update_docs``, review the diff and commit it;
``tests/test_docs.py`` then passes again.
"""

from __future__ import annotations

import re
from pathlib import Path

from cluster.config.parse import parse_cluster
from cluster.config.stackfile import read_stack_config
from cluster.plan.build import build_plan
from cluster.plan.reach import threat_model_table

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "firewall.md"
THREAT_DOC = ROOT / "docs" / "threat-model.md"
#: The generated table of docs/threat-model.md (groups: opening, table, closing).
THREAT_TABLE = re.compile(
    r"(<!-- BEGIN threat-model assertions -->\n)(.*?)(<!-- END threat-model assertions -->)", re.S
)
#: The nodes whose rulesets the docs print.
NODES = ("head", "compute-01")


def block(node: str) -> re.Pattern[str]:
    """The marked ```nft block of ``node`` in docs/firewall.md (groups: opening, ruleset, closing)."""
    return re.compile(rf"(<!-- BEGIN ruleset {node} -->\n```nft\n)(.*?)(```\n<!-- END ruleset {node} -->)", re.S)


def dev_rulesets() -> dict[str, str]:
    """Every node's ruleset for Pulumi.dev.yaml, as the program renders it."""
    plan = build_plan(parse_cluster(read_stack_config(ROOT, "dev"), base_dir=ROOT))
    return {n.name: n.ruleset or "" for n in plan.nodes}


def main() -> None:
    rulesets = dev_rulesets()
    text = DOC.read_text()
    for node in NODES:
        text = block(node).sub(lambda m, n=node: m[1] + rulesets[n] + m[3], text)
    DOC.write_text(text)
    print(f"updated {DOC.relative_to(ROOT)}: rulesets of {', '.join(NODES)}")
    threat = THREAT_TABLE.sub(lambda m: m[1] + threat_model_table() + m[3], THREAT_DOC.read_text())
    THREAT_DOC.write_text(threat)
    print(f"updated {THREAT_DOC.relative_to(ROOT)}: the threat model's assertions")


if __name__ == "__main__":
    main()
