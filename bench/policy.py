"""Cost of checking reachability assertions at review, next to the rest of the plan.

``build_plan`` evaluates every assertion (the threat model's and the
config's) against the ZeroTier rules and each destination's nftables ruleset.
This prints, per cluster size, the time of the whole plan and of the check
alone (best of ``--repeat``), how many assertions and distinct rulesets were
evaluated, so the check's share stays visible as clusters grow. Run it from
the repository root::

    python bench/policy.py                  # 10, 100, 1000, 5000 nodes
    python bench/policy.py --sizes 10 --repeat 1
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cluster.config.parse import parse_cluster  # noqa: E402  (needs ROOT on the path)
from cluster.plan import build, reach  # noqa: E402


def config(nodes: int) -> dict[str, Any]:
    """One head, ``nodes - 1`` compute nodes (every tenth on its own SSH port), ten devices, two openings."""
    node_list: list[dict[str, Any]] = [{"name": "head", "role": "head", "host": "10.0.0.1"}]
    node_list += [
        {"name": f"cn-{i:04d}", "role": "compute", "host": f"10.{1 + i // 250}.{i % 250}.10"}
        | ({"sshdPort": 2222} if i % 10 == 0 else {})
        for i in range(1, nodes)
    ]
    return {
        "network": {"name": "bench-overlay", "cidr": "10.147.0.0/16"},
        "ssh": {"user": "ops"},
        "nodes": node_list,
        "devices": [{"name": f"laptop-{i}", "address": f"{0xA000000000 + i:010x}"} for i in range(10)],
        "firewall": {"openings": {"head": ["tcp/443"], "compute": ["tcp/9100"]}},
        "policy": [{"from": "compute", "to": "head", "port": "tcp/6817", "expect": "allow"}],
    }


def best(repeat: int, work: Any) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000, 5000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'nodes':>6} {'plan s':>8} {'check s':>8} {'share':>6} {'assertions':>10} {'rulesets':>8}")
    for size in args.sizes:
        spec = parse_cluster(config(size), base_dir=ROOT)
        plan_time, plan = best(args.repeat, lambda spec=spec: build.build_plan(spec))
        addresses = {n.name: n.ip for n in plan.nodes} | {d.name: a.ip for d, a in plan.devices}
        destinations = build._destinations(spec, plan.nodes, plan.nodes[0].interface)

        def check(plan: Any = plan, addresses: Any = addresses, destinations: Any = destinations) -> Any:
            return reach.check(plan.spec, plan.rules.rules, addresses, destinations)

        check_time, results = best(args.repeat, check)
        rulesets = len({id(d.ruleset) for d in destinations})
        print(
            f"{size:>6} {plan_time:>8.3f} {check_time:>8.3f} {check_time / plan_time:>6.0%} "
            f"{len(results):>10} {rulesets:>8}"
        )


if __name__ == "__main__":
    main()
