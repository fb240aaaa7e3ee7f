"""``python -m cluster``: ``render`` (what ``pulumi up`` would do) and ``status`` (what the nodes have now).

Both read the stack file through the same parse → plan path as the program,
so what they show or compare against is byte for byte what the nodes receive.
Neither reads a secret: ``status`` connects with ``--identity`` or the SSH agent.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cluster.config.parse import parse_cluster
from cluster.config.stackfile import project_name, read_stack_config
from cluster.conventions import COMPONENT_NAME, NETWORK_ID_PATTERN
from cluster.errors import ConfigError
from cluster.operate.status import Target
from cluster.plan.build import Plan, build_plan

from . import render, report


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cluster", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    show = sub.add_parser("render", help="show the address plan, programs and rulesets for a stack")
    show.add_argument("--stack", required=True, help="the stack name: reads Pulumi.<stack>.yaml")
    show.add_argument("--out", type=Path, help="write plan.json, the bundle and per-node files here")
    show.add_argument("--full", action="store_true", help="print every step's stdin, every program and ruleset")
    show.add_argument("--project", type=Path, default=Path.cwd(), help="the project directory (default: .)")
    show.add_argument("--network-id", help="show this network ID where pulumi up would fill it in")

    status = sub.add_parser("status", help="check every node against the plan (read-only, over SSH)")
    status.add_argument("--stack", required=True, help="the stack name: reads Pulumi.<stack>.yaml")
    status.add_argument("--project", type=Path, default=Path.cwd(), help="the project directory (default: .)")
    status.add_argument("--identity", type=Path, help="SSH private key file (default: the SSH agent)")
    status.add_argument("--json", action="store_true", help="print the rows as JSON (for monitoring)")
    status.add_argument("--parallel", type=_positive(int), default=8, help="nodes checked at once (default 8)")
    status.add_argument("--timeout", type=_positive(float), default=30.0, help="seconds per node (default 30)")
    status.add_argument("--mesh", action="store_true", help="paths between every pair of nodes, not only to the head")
    status.add_argument("--network-id", help="the network ID, when the config does not name it")
    status.add_argument(
        "--component",
        help=f"the Overlay component's name in the program (default: the overlayUrn output, else {COMPONENT_NAME})",
    )
    status.add_argument(
        "--outputs",
        type=Path,
        help="the stack's outputs (`pulumi stack output --json > FILE`): compares identities with members",
    )
    return parser


def _positive(kind: type[int] | type[float]) -> Any:
    def read(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be greater than 0")
        return value

    return read


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.network_id is not None and not NETWORK_ID_PATTERN.fullmatch(args.network_id):
        parser.error(f"--network-id {args.network_id!r} is not 16 lowercase hex digits")
    try:
        config = read_stack_config(args.project, args.stack)
        plan = build_plan(parse_cluster(config, base_dir=args.project, stack=args.stack))
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    if args.command == "render":
        return render.show(plan, args.out, args.full, args.network_id)
    return _status(plan, args)


def _status(plan: Plan, args: argparse.Namespace) -> int:
    outputs: dict[str, Any] = {}
    if args.outputs is not None:
        try:
            loaded = json.loads(args.outputs.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            print(f"--outputs {args.outputs}: {err}; write it with `pulumi stack output --json`", file=sys.stderr)
            return 2
        outputs = loaded if isinstance(loaded, dict) else {}
    if args.identity is not None and not args.identity.is_file():
        print(f"--identity {args.identity}: no such file", file=sys.stderr)
        return 2
    try:
        target = Target.find(args.stack, project_name(args.project), args.component, outputs)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    options = report.Options(
        target=target,
        identity=args.identity,
        parallel=args.parallel,
        timeout=args.timeout,
        mesh=args.mesh,
        network_id=args.network_id,
        outputs=outputs,
    )
    rows = report.check_cluster(plan, options)
    sys.stdout.write(report.as_json(rows) if args.json else report.table(plan, rows, args.mesh))
    return 0 if all(r.ok for r in rows) else 1
