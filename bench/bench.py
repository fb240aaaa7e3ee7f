"""Scale benchmark: the whole program against Pulumi's own floor, under Pulumi's mocks.

For each size (default 10, 100 and 1,000 nodes) it generates a stack config and
measures, each in a fresh process:

* program: ``__main__``'s ``build()`` evaluated under mocks (parse, plan,
  declare; every RPC completed);
* floor: bare registration of the same resources (same types, names, parents,
  inputs and dependency edges) with no project logic: what Pulumi itself
  costs for this stack.

It prints both times, their ratio, resources per node and each process's peak
memory, and checks that two evaluations of the largest config, in two
interpreters with different ``PYTHONHASHSEED``, declare byte-identical inputs. Run it from the repository root::

    python bench/bench.py                 # 10, 100, 1000 nodes, best of 3
    python bench/bench.py --sizes 10 --repeat 1   # the CI smoke run
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.mockrun import declared_bytes, run_program, use_zerotier_sdk  # noqa: E402  (needs ROOT on the path)

#: The generated ZeroTier SDK, or the stand-in where `pulumi install` has not run.
ZEROTIER_SDK = use_zerotier_sdk()


def stack_config(nodes: int) -> dict[str, str]:
    """A stack config (as the engine passes it) with one head and ``nodes - 1`` compute nodes."""
    node_list: list[dict[str, Any]] = [{"name": "head", "role": "head", "host": "10.0.0.1"}]
    node_list += [
        {"name": f"cn-{i:04d}", "role": "compute", "host": f"10.{1 + i // 250}.{i % 250}.{10 + i % 7}"}
        for i in range(1, nodes)
    ]
    config = {
        "zerotier-cluster:network": {
            "name": "bench-overlay",
            "cidr": "10.147.0.0/16",
            "pool": {"start": "10.147.255.1", "end": "10.147.255.254"},
        },
        "zerotier-cluster:ssh": {"user": "ops"},
        "zerotier-cluster:nodes": node_list,
    }
    engine = {k: json.dumps(v) for k, v in config.items()}
    engine["zerotier:zerotierCentralToken"] = "bench-token"
    engine["zerotier-cluster:sshPrivateKey"] = BENCH_KEY
    return engine


#: As long as an OpenSSH ed25519 private key (411 bytes): the key is in every command's connection.
BENCH_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\n" + "b" * 340 + "\n-----END OPENSSH PRIVATE KEY-----\n"
#: What the state model assumes a command stores of its stdout plus stderr (the scripts keep it below this).
OUTPUT_BYTES = 2048
#: Per resource in a checkpoint besides its inputs and outputs: URN, ID, type, parent, dependencies, provider.
OVERHEAD_BYTES = 400


SECRETS = ["zerotier:zerotierCentralToken", "zerotier-cluster:sshPrivateKey"]


def _program_run(nodes: int) -> tuple[Any, float]:
    """Evaluates the program once; returns the run and its wall time (imports excluded)."""
    import pulumi

    from cluster.declare.program import build

    def program() -> None:
        for name, value in build().items():
            pulumi.export(name, value)

    config = stack_config(nodes)
    started = time.perf_counter()
    run = run_program(config, SECRETS, program=program)
    return run, time.perf_counter() - started


def state_figures(run: Any, nodes: int) -> dict[str, Any]:
    """Declared bytes per node and in total, the state they make, and what a first ``pulumi up`` writes.

    State model: each resource's inputs, its outputs (which echo every input;
    a command adds stdout and stderr, counted as :data:`OUTPUT_BYTES`) and
    :data:`OVERHEAD_BYTES`; the checkpoint is rewritten after every resource
    step, so a first ``pulumi up`` writes the sum of the state's size after
    each creation, in registration order.
    """
    declared = {r.name: declared_bytes(r.raw) for r in run.resources if r.type != "pulumi:pulumi:Stack"}
    per_node = run.declared_per_node()
    state_after, written = 0, 0
    for r in run.resources:
        if r.name in declared:
            output = OUTPUT_BYTES if r.type == "command:remote:Command" else 0
            state_after += 2 * declared[r.name] + output + OVERHEAD_BYTES
            written += state_after
    sizes = sorted(per_node.values())
    return {
        "per_node_max": sizes[-1],
        "per_node_median": sizes[len(sizes) // 2],
        "declared_total": sum(declared.values()),
        "state": state_after,
        "checkpoints": written,
    }


def child_program(nodes: int, record: Path | None) -> dict[str, Any]:
    run, seconds = _program_run(nodes)
    if record is not None:
        with record.open("wb") as fh:
            pickle.dump(
                [
                    (r.type, r.name, r.urn, r.parent, r.inputs, r.dependencies, r.options["propertyDependencies"])
                    for r in run.resources
                ],
                fh,
            )
    return {"seconds": seconds, "resources": len(run.resources), **state_figures(run, nodes)}


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def child_floor(record: Path) -> dict[str, Any]:
    """Registers the recorded resources again with no project code in between.

    Same SDK classes (so the SDKs' own input handling counts as floor), same
    names, parents and inputs (read back from the recording, outside the
    timing), and the same dependency edges: ``depends_on`` as declared, and an
    input that came from another resource's output arrives as an Output of
    that resource again. Secrets stay secrets.
    """
    import pulumi
    import pulumi_command as command
    import pulumi_zerotier as zerotier

    with record.open("rb") as fh:
        declared = pickle.load(fh)

    nested = {
        "routes": zerotier.NetworkRouteArgs,
        "assignmentPools": zerotier.NetworkAssignmentPoolArgs,
        "assignIpv4s": zerotier.NetworkAssignIpv4Args,
        "assignIpv6s": zerotier.NetworkAssignIpv6Args,
    }

    def connection(raw: dict[str, Any]) -> Any:
        args = {_snake(k): v for k, v in raw.items()}
        if "private_key" in args:
            args["private_key"] = pulumi.Output.secret(args["private_key"])
        if "proxy" in args:
            proxy = {_snake(k): v for k, v in args["proxy"].items()}
            if "private_key" in proxy:
                proxy["private_key"] = pulumi.Output.secret(proxy["private_key"])
            args["proxy"] = command.remote.ProxyConnectionArgs(**proxy)
        return command.remote.ConnectionArgs(**args)

    def floor() -> None:
        made: dict[str, pulumi.Resource] = {}
        for type_, name, urn, parent, inputs, deps, prop_deps in declared:
            if type_ == "pulumi:pulumi:Stack":
                continue
            kwargs: dict[str, Any] = {}
            for key, raw in inputs.items():
                value = raw
                if type_.startswith("command:remote:") and key == "connection":
                    value = connection(raw)
                elif key in nested:
                    value = [nested[key](**{_snake(k): v for k, v in item.items()}) for item in raw]
                sources = [made[u] for u in prop_deps.get(key, []) if u in made]
                if sources:  # the same edge the program has: this input is another resource's output
                    value = pulumi.Output.all(*(s.urn for s in sources)).apply(lambda _, v=value: v)
                kwargs[_snake(key)] = value
            opts = pulumi.ResourceOptions(
                parent=made.get(parent),
                depends_on=[made[d] for d in deps if d in made],
            )
            if type_.startswith("zerotier-cluster:"):
                made[urn] = pulumi.ComponentResource(type_, name, None, opts)
            elif type_ == "pulumi:providers:zerotier":
                made[urn] = zerotier.Provider(name, opts=opts, **kwargs)
            elif type_ == "zerotier:index/network:Network":
                made[urn] = zerotier.Network(name, opts=opts, **kwargs)
            elif type_ == "zerotier:index/member:Member":
                made[urn] = zerotier.Member(name, opts=opts, **kwargs)
            elif type_ == "command:remote:CopyToRemote":
                made[urn] = command.remote.CopyToRemote(name, opts=opts, **kwargs)
            else:
                kwargs["logging"] = command.remote.Logging(kwargs["logging"])
                opts.delete_before_replace = True
                made[urn] = command.remote.Command(name, opts=opts, **kwargs)

    started = time.perf_counter()
    run = run_program({}, [], program=floor)
    return {"seconds": time.perf_counter() - started, "resources": len(run.resources)}


def child_determinism(nodes: int) -> dict[str, Any]:
    """One evaluation's canonical registrations, hashed; main compares two interpreters' digests."""
    from tests.canonical import canonical_registrations

    run = _program_run(nodes)[0]
    digest = hashlib.sha256(canonical_registrations(run).encode()).hexdigest()
    return {"digest": digest, "resources": len(run.resources)}


def _mib(size: int) -> str:
    return f"{size / 2**20:.2f} MiB"


def run_child(*args: str, hashseed: str | None = None) -> dict[str, Any]:
    env = {**os.environ, "PYTHONHASHSEED": hashseed} if hashseed is not None else None
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, cwd=ROOT, check=False, env=env
    )
    if done.returncode != 0:
        raise SystemExit(f"benchmark child {args} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best time counts")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        kind, *rest = args.child
        if kind == "program":
            result = child_program(int(rest[0]), Path(rest[1]) if len(rest) > 1 else None)
        elif kind == "floor":
            result = child_floor(Path(rest[0]))
        else:
            result = child_determinism(int(rest[0]))
        result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return

    header = (
        f"{'nodes':>6} {'resources':>9} {'per node':>8} {'program s':>10} {'floor s':>8} {'ratio':>6}"
        f" {'program MB':>11} {'floor MB':>9}"
    )
    print(f"pulumi_zerotier: {ZEROTIER_SDK}")
    print(header)
    rows = []
    states = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            record = Path(tmp) / f"declared-{size}.pickle"
            run_child("program", str(size), str(record))  # warm caches, record what the floor registers
            program = [run_child("program", str(size)) for _ in range(args.repeat)]
            floor = [run_child("floor", str(record)) for _ in range(args.repeat)]
            best_p = min(program, key=lambda r: r["seconds"])
            best_f = min(floor, key=lambda r: r["seconds"])
            ratio = best_p["seconds"] / best_f["seconds"]
            resources = best_p["resources"] - 1  # the root Stack is Pulumi's, not ours
            rows.append((size, best_p["seconds"], best_f["seconds"]))
            states.append((size, best_p))
            print(
                f"{size:>6} {resources:>9} {resources / size:>8.2f} {best_p['seconds']:>10.3f} "
                f"{best_f['seconds']:>8.3f} {ratio:>6.2f} {max(r['peak_mb'] for r in program):>11.0f} "
                f"{max(r['peak_mb'] for r in floor):>9.0f}"
            )
    print()
    print(
        f"{'nodes':>6} {'declared/node max':>17} {'median':>7} {'declared total':>14} {'state':>10}"
        f" {'first up writes':>15}"
    )
    for size, figures in states:
        print(
            f"{size:>6} {figures['per_node_max']:>15} B {figures['per_node_median']:>5} B"
            f" {_mib(figures['declared_total']):>14} {_mib(figures['state']):>10} {_mib(figures['checkpoints']):>15}"
        )
    if len(rows) > 1:
        (n0, p0, f0), (n1, p1, f1) = rows[0], rows[-1]
        print(f"growth {n0}->{n1} nodes: program x{p1 / p0:.1f}, floor x{f1 / f0:.1f} (nodes x{n1 / n0:.0f})")
    largest = max(args.sizes)
    # Two interpreters with different string hashing: a set iterated anywhere would show here.
    digests = {run_child("determinism", str(largest), hashseed=seed)["digest"] for seed in ("1", "2")}
    identical = len(digests) == 1
    print(
        f"determinism at {largest} nodes: two evaluations (PYTHONHASHSEED 1 and 2) declare byte-identical inputs: "
        f"{identical}"
    )
    if not identical:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
