"""The rules lock-out check's cost: by cluster size, and for rules at ZeroTier's limit of entries.

The check (``cluster.rules.evaluator.cluster_problems``) evaluates ARP, ping,
SSH, Slurm and MPI between every pair of *kinds* of node (nodes no rule can
tell apart), so its time should follow the rules, not the node count. Prints
seconds per check (best of ``--repeat``)::

    python bench/rules.py
"""

from __future__ import annotations

import argparse
import sys
import time
from ipaddress import IPv4Address
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cluster.conventions import MAX_RULE_ENTRIES
from cluster.rules.evaluator import Node, cluster_problems
from cluster.rules.frame import Member
from cluster.rules.parser import parse_source
from cluster.rules.policy import generated_rules


def nodes(count: int) -> list[Node]:
    """A head and ``count - 1`` compute nodes in 10.147.0.0/16."""
    return [
        Node(Member("head" if i == 0 else "compute", IPv4Address(0x0A930000 + i + 1), name=f"n{i}"), 22)
        for i in range(count)
    ]


def worst_extra() -> str:
    """``rules.extra`` up to the limit: 3-entry rules on TCP ports and /32 sources, each cutting a port range."""
    lines = []
    for i in range((MAX_RULE_ENTRIES - 70) // 3):
        if i % 2:
            lines.append(f"drop ipprotocol udp and dport {2000 + 7 * i}-{2003 + 7 * i};")
        else:
            lines.append(f"drop ipsrc 10.147.{i // 250}.{i % 250 + 1}/32 and ipprotocol udp;")
    return "\n".join(lines)


def best(repeat: int, rules: tuple, members: list[Node]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        assert cluster_problems(rules, "k", members) == []
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    extra, problems = parse_source(worst_extra(), "rules.extra", final=False)
    assert problems == [], problems
    cases = {"generated rules": generated_rules("ssh", (), (22,)), "with rules.extra at the limit": None}
    print(f"{'nodes':>7}  {'rules':<32}{'entries':>8}  {'seconds':>8}")
    for count in (10, 1_000, 10_000):
        members = nodes(count)
        for name, rules in cases.items():
            chosen = rules if rules is not None else generated_rules("ssh", extra, (22,))
            entries = sum(r.entries for r in chosen)
            print(f"{count:>7}  {name:<32}{entries:>8}  {best(args.repeat, chosen, members):>8.3f}")


if __name__ == "__main__":
    main()
