"""How long ``python -m cluster render`` takes at the documented limit: 10,000 nodes and 10,000 devices.

It writes a project with a generated ``Pulumi.scale.yaml`` (one head, 9,999
compute nodes behind it, 10,000 devices, the default enforce firewall) into
a temporary directory, runs ``python -m cluster render`` on it in a fresh
process (output to /dev/null, as a reviewer piping it to a pager would pay
for it too), and prints the wall time and the child's peak RSS. Run it from
the repository root::

    python bench/render_scale.py                  # 10,000 nodes and devices, best of 3
    python bench/render_scale.py --nodes 1000 --devices 1000 --repeat 1
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def stack_file(nodes: int, devices: int) -> str:
    """A stack file in the shape an operator writes: flow-style entries, one per line."""
    lines = [
        "config:",
        "  zerotier-cluster:network: {name: scale, cidr: 10.96.0.0/16}",
        "  zerotier-cluster:ssh: {user: ops, proxy: head}",
        "  zerotier-cluster:nodes:",
        "    - {name: head, role: head, host: 192.0.2.1}",
    ]
    lines += [f"    - {{name: cn-{i:05d}, host: cn-{i:05d}.cluster.example}}" for i in range(1, nodes)]
    if devices:
        lines.append("  zerotier-cluster:devices:")
        lines += [f"    - {{name: dev-{i:05d}, address: '{0xA000000000 + i:010x}'}}" for i in range(devices)]
    return "\n".join(lines) + "\n"


def run_once(project: Path) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and the child's peak RSS in MiB for one render.

    CPU time is what the render costs whatever else the machine runs; wall
    time is what the operator waits, and grows when other work shares the cores.
    """
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    before, cpu_before = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    start = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        done = subprocess.run(
            [sys.executable, "-m", "cluster", "render", "--stack", "scale", "--project", str(project)],
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.PIPE,
            check=False,
        )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"render failed ({done.returncode}):\n{done.stderr.decode()[:2000]}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, usage.ru_utime + usage.ru_stime - cpu_before, max(usage.ru_maxrss, before) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "Pulumi.yaml").write_text("name: zerotier-cluster\nruntime: python\n")
        (project / "Pulumi.scale.yaml").write_text(stack_file(args.nodes, args.devices))
        size = (project / "Pulumi.scale.yaml").stat().st_size
        runs = [run_once(project) for _ in range(args.repeat)]
    print(f"python -m cluster render: {args.nodes} nodes, {args.devices} devices, stack file {size / 1024:.0f} KiB")
    print(
        f"wall seconds: best {min(r[0] for r in runs):.2f} of {args.repeat} ({', '.join(f'{r[0]:.2f}' for r in runs)})"
    )
    print(
        f"CPU seconds:  best {min(r[1] for r in runs):.2f} of {args.repeat} ({', '.join(f'{r[1]:.2f}' for r in runs)})"
    )
    print(f"peak RSS: {max(r[2] for r in runs):.0f} MiB")
    print(f"load average when done: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
