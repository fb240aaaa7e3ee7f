"""Data plane benchmark: what an MPI job gets between two nodes, over the underlay and over the overlay.

Two booted Debian 12 machines (``tests/lab``: systemd-nspawn on one veth
segment) run the real ``zerotier-one`` and the program's own commands
(``tests/lab/stack_run.py``: localconf, moon, network, members, join,
firewall, hosts, verify), with the head as controller and moon, offline.
For the underlay (before anything is deployed) and then for each overlay
setting it measures, from the head to the compute node:

* RTT: 200 pings 20 ms apart, p50 and p99;
* TCP throughput: iperf3 for 5 s, one stream and four streams.

Each setting is deployed as a stack update (``pulumi up`` with the changed
config: the network step sets the MTU, the localconf step writes local.conf
and restarts zerotier-one); every overlay figure is also shown as a ratio to
the underlay's. ping and iperf3 are the host's, run inside the machines'
network namespaces (the same network stack the machines use). It prints
figures; it asserts nothing about them. Needs root, ``zerotier-one`` on PATH
and ``iperf3``::

    PATH=/opt/ztsrc:$PATH python3 bench/dataplane.py        # about 3 minutes
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.mockrun import use_zerotier_sdk  # noqa: E402  (needs ROOT on the path)

use_zerotier_sdk()  # stack_run reads results with the program's parsers, which import the SDK (or its stand-in)

from tests.lab.machine import Machine  # noqa: E402
from tests.lab.netns import Host, Segment  # noqa: E402
from tests.lab.provision import cluster_config, plan_for  # noqa: E402
from tests.lab.rootfs import ensure_rootfs  # noqa: E402
from tests.lab.ssh import Operator  # noqa: E402
from tests.lab.stack_run import StackRun  # noqa: E402
from tests.test_lab_zerotier import INTERFACE, address_of, service_installer  # noqa: E402

NODES = (("head", "head", "10.147.17.1"), ("compute-01", "compute", "10.147.17.11"))
TARGET = "10.147.17.11"
SEGMENT = "10.77.0.0/24"


@dataclass(frozen=True)
class Setting:
    """One overlay configuration: its row label, ``network`` keys and ``zerotier`` keys."""

    label: str
    network: dict[str, Any]
    zerotier: dict[str, Any]


TRUSTED = {"sites": {"cluster": {"physical": {SEGMENT: {"trustedPathId": 101}}}}}
SETTINGS = (
    Setting("overlay, program's choice here (MTU 2800, multicore auto: off)", {}, {}),
    Setting("overlay, multicore on (ZeroTier: concurrency 1 on 2 cores)", {}, {"multicore": "true"}),
    Setting("overlay, trustedPathId on the segment", {}, TRUSTED),
    Setting("overlay, network MTU 1280", {"mtu": 1280}, {}),
    Setting("overlay, network MTU 9000", {"mtu": 9000}, {}),
    Setting("overlay, MTU 9000 + trustedPathId", {"mtu": 9000}, TRUSTED),
)


@dataclass(frozen=True)
class Figures:
    p50: float
    p99: float
    one: float
    four: float


def rtt(host: Host, target: str, count: int) -> tuple[float, float]:
    """p50 and p99 of ``count`` pings 20 ms apart, in ms."""
    out = host.run(["ping", "-n", "-i", "0.02", "-c", str(count), target], check=True, timeout=count).stdout
    times = sorted(float(t) for t in re.findall(r"time=([0-9.]+) ms", out))
    if len(times) < count * 0.9:
        raise RuntimeError(f"only {len(times)} of {count} pings to {target} were answered")
    return times[len(times) // 2], times[max(0, math.ceil(len(times) * 0.99) - 1)]


def throughput(client: Host, server: Host, target: str, streams: int, seconds: int) -> float:
    """iperf3 TCP throughput to ``target`` in Mbit/s, as the receiver counted it; a fresh server for each run."""
    listening = server.popen(["iperf3", "-s", "-1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        argv = ["iperf3", "-c", target, "-t", str(seconds), "-P", str(streams), "-J"]
        result = client.run(argv, timeout=seconds + 30)
        report = json.loads(result.stdout) if result.stdout.strip() else {}
        if result.returncode != 0 or "sum_received" not in report.get("end", {}):
            raise RuntimeError(f"iperf3 to {target} failed: {report.get('error', result.stderr[-500:])}")
        return float(report["end"]["sum_received"]["bits_per_second"]) / 1e6
    finally:
        listening.terminate()
        listening.wait(timeout=10)


def measure(client: Host, server: Host, target: str, args: argparse.Namespace) -> Figures:
    p50, p99 = rtt(client, target, args.pings)
    one = throughput(client, server, target, 1, args.seconds)
    return Figures(p50, p99, one, throughput(client, server, target, 4, args.seconds))


def stack_config(lab: dict[str, Machine], setting: Setting) -> dict[str, Any]:
    nodes = [{"name": name, "role": role, "host": str(lab[name].host.ip), "ip": ip} for name, role, ip in NODES]
    config = cluster_config(
        nodes,
        network={"interface": INTERFACE, **setting.network},
        controller="head",
        roots="head",
        joinTimeout=120,
        verifyTimeout=90,
        zerotier=setting.zerotier,
    )
    del config["network"]["networkId"]
    return config


def settle(lab: dict[str, Machine], mtu: int, timeout: float = 90) -> None:
    """Waits until both nodes pass an unfragmented packet of the network's MTU to each other (both ends updated)."""
    for machine in lab.values():
        address_of(machine)
    probes = ((lab["head"], TARGET), (lab["compute-01"], "10.147.17.1"))
    deadline = time.monotonic() + timeout
    for machine, target in probes:
        argv = ["ping", "-n", "-c1", "-W1", "-M", "do", "-s", str(mtu - 28), target]
        while machine.exec(argv).returncode != 0:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{machine.host.name} cannot pass {mtu} bytes unfragmented to {target}")
            time.sleep(0.5)
    time.sleep(2)


def boot(segment: Segment, operator: Operator, workdir: Path, stack: ExitStack) -> dict[str, Machine]:
    zerotier = shutil.which("zerotier-one")
    assert zerotier is not None
    hook = service_installer(Path(zerotier).resolve())
    rootfs = ensure_rootfs()
    lab = {}
    for name, _, _ in NODES:
        machine = Machine(segment.add_host(name), rootfs, workdir / name)
        stack.callback(machine.close)
        for user in ("root", "ops"):
            machine.authorize(user, operator.public_key)
        hook(machine)
        machine.boot()
        lab[name] = machine
    return lab


def row(label: str, f: Figures, under: Figures | None) -> str:
    """A table row; overlay figures also as a ratio to the underlay's (RTT: times; throughput: percent)."""

    def cell(value: float, base: float, unit: str, *, times: bool) -> str:
        shown = f"{value:.3f} ms" if unit == "ms" else f"{value:,.0f} Mbit/s"
        if under is None:
            return shown
        return f"{shown} ({value / base:.1f}x)" if times else f"{shown} ({100 * value / base:.1f} %)"

    b = under or f
    cells = [
        cell(f.p50, b.p50, "ms", times=True),
        cell(f.p99, b.p99, "ms", times=True),
        cell(f.one, b.one, "Mbit/s", times=False),
        cell(f.four, b.four, "Mbit/s", times=False),
    ]
    return f"| {label} | " + " | ".join(cells) + " |"


def emit(line: str) -> None:
    print(line, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pings", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=5, help="iperf3 duration per run")
    parser.add_argument("--only", type=int, nargs="*", help="indexes of SETTINGS to run (default: all)")
    args = parser.parse_args()
    for tool in ("zerotier-one", "iperf3", "systemd-nspawn", "ping"):
        if shutil.which(tool) is None:
            print(f"needs {tool} on PATH", file=sys.stderr)
            return 2
    started = time.monotonic()
    settings = [SETTINGS[i] for i in args.only] if args.only else list(SETTINGS)
    # The machines' overlay mounts live in the scratch directory: they are closed (the stack) before it goes.
    with tempfile.TemporaryDirectory(prefix="ztc-dataplane-") as tmp, ExitStack() as stack:
        segment = stack.enter_context(Segment())
        operator = Operator(segment.add_host("op"), Path(tmp) / "operator")
        lab = boot(segment, operator, Path(tmp), stack)
        head, compute = lab["head"].host, lab["compute-01"].host
        under = measure(head, compute, str(compute.ip), args)
        cores = os.cpu_count()
        emit(f"{cores} cores shared by both nodes; {args.pings} pings 20 ms apart; iperf3 TCP for {args.seconds} s")
        emit("| path | RTT p50 | RTT p99 | TCP 1 stream | TCP 4 streams |")
        emit("|---|---|---|---|---|")
        emit(row("underlay (veth)", under, None))
        addresses = {name: address_of(m) for name, m in lab.items()}
        run: StackRun | None = None
        for i, setting in enumerate(settings):
            run = StackRun(plan_for(stack_config(lab, setting)), lab, operator, addresses)
            run.ship()
            run.up("create" if i == 0 else "update")
            chosen = run.results[("head", "localconf", "create" if i == 0 else "update")].stdout.strip()
            settle(lab, int(setting.network.get("mtu", 2800)))
            figures = measure(head, compute, TARGET, args)
            emit(row(setting.label, figures, under))
            print(f"    ({chosen})", flush=True)
        if run is not None:
            run.destroy()
    print(f"\n{time.monotonic() - started:.0f} s in all", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
