"""Records what ZeroTier's own rule compiler makes of the rules the tests hold the program to.

Run by hand after a change to the rules (never by the tests, which read only
the recorded files), with a checkout of ZeroTierOne and Node::

    python3 -m tests.rules_golden.record /path/to/ZeroTierOne/rule-compiler

It writes, next to itself:

* ``<case>.zt`` and ``<case>.json`` for each case of ``tests/test_rules.py``
  (the source the program gives Central, and the compiler's output for it);
* ``keywords.json``: each text of :data:`tests.test_rules_keywords.TEXTS`
  compiled (or refused) by ZeroTier's compiler, as written by an operator;
* ``generated.json``: the source of rules drawn by the property test's
  strategy (a fixed seed), and what the compiler makes of each.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, seed, settings

from cluster.rules.model import NetworkRules, Rule

HERE = Path(__file__).resolve().parent
#: How many generated rule lists are recorded (each compiled by one run of the compiler).
GENERATED = 200


def compile_source(compiler: Path, source: str) -> dict[str, Any]:
    """The compiler's output for ``source``: ``{"config": ...}``, or ``{"error": message}``."""
    with tempfile.NamedTemporaryFile("w", suffix=".zt") as file:
        file.write(source)
        file.flush()
        done = subprocess.run(
            ["node", str(compiler / "cli.js"), file.name], check=False, capture_output=True, text=True
        )
    if done.returncode != 0:
        return {"error": done.stderr.strip().replace(file.name, "FILE")}
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def main(compiler: Path) -> None:
    for missing in ("keywords.json", "generated.json"):  # the test modules read them when imported
        if not (HERE / missing).exists():
            (HERE / missing).write_text("[]\n")
    from tests import test_rules, test_rules_keywords, test_rules_property

    for name in test_rules.CASES:
        source = test_rules.case_rules(name).source()
        (HERE / f"{name}.zt").write_text(source)
        (HERE / f"{name}.json").write_text(json.dumps(compile_source(compiler, source), indent=1) + "\n")

    header = NetworkRules((), "golden").source()
    keywords = []
    for text in test_rules_keywords.TEXTS:
        out = compile_source(compiler, header + text)
        keywords.append({"text": text, **({"rules": out["config"]["rules"]} if "config" in out else out)})
    (HERE / "keywords.json").write_text(json.dumps(keywords, indent=1) + "\n")

    drawn: list[tuple[Rule, ...]] = []

    @seed(17)
    @settings(max_examples=GENERATED, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(test_rules_property.rule_lists())
    def draw(rules: tuple[Rule, ...]) -> None:
        drawn.append(rules)

    draw()
    generated = []
    for rules in drawn[:GENERATED]:
        source = NetworkRules(rules, "golden").source()
        out = compile_source(compiler, source)
        generated.append({"source": source, **({"rules": out["config"]["rules"]} if "config" in out else out)})
    (HERE / "generated.json").write_text(json.dumps(generated, indent=1) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
