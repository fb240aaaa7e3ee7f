"""``python -m cluster``: ``render`` (what ``pulumi up`` would do) and ``status`` (what the nodes have now).

Both read the stack file through the same parse → plan path as the program,
so what they show or compare against is byte for byte what the nodes receive.
Neither reads a secret: ``status`` connects with ``--identity`` or the SSH agent.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from cluster.config.parse import parse_cluster
from cluster.config.stackfile import project_name, read_stack_config
from cluster.config.yamlfile import read_text
from cluster.conventions import COMPONENT_NAME, NETWORK_ID_PATTERN
from cluster.errors import ConfigError, safe
from cluster.operate.status import Target
from cluster.plan.build import Plan, build_plan

from . import probe, render, report

#: Bounds that keep every option a value the tools can act on (``nan``, ``inf`` and ``1e308`` are floats too).
MAX_PARALLEL = 256
MAX_TIMEOUT = 3600.0
#: ``pulumi stack output --json`` of a 10,000-node stack is a few MiB; nothing legitimate is near this.
MAX_OUTPUTS_BYTES = 64 * 1024 * 1024
#: The longest line of status output (a node's error with its fix fits easily).
STATUS_LINE_CHARS = 4000
#: A stack name as ``pulumi stack`` prints it (``dev``, or ``org/project/dev``, whose file is Pulumi.dev.yaml).
STACK = re.compile(r"([A-Za-z0-9_.-]{1,100}/){0,2}[A-Za-z0-9_.-]{1,100}")
COMPONENT = re.compile(r"[A-Za-z0-9_.:-]{1,200}")
DECIMAL = re.compile(r"[0-9]{1,6}(\.[0-9]{1,6})?")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cluster", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    show = sub.add_parser("render", help="show the address plan, programs and rulesets for a stack")
    show.add_argument("--stack", required=True, type=_stack, help="the stack name: reads Pulumi.<stack>.yaml")
    show.add_argument("--out", type=Path, help="write plan.json, the bundle and per-node files here (a directory)")
    show.add_argument(
        "--full", action="store_true", help="print every step's stdin, every program and ruleset (also with --out)"
    )
    show.add_argument("--project", type=Path, default=Path.cwd(), help="the project directory (default: .)")
    show.add_argument("--network-id", type=_network_id, help="show this network ID where pulumi up would fill it in")

    status = sub.add_parser("status", help="check every node against the plan (read-only, over SSH)")
    status.add_argument("--stack", required=True, type=_stack, help="the stack name: reads Pulumi.<stack>.yaml")
    status.add_argument("--project", type=Path, default=Path.cwd(), help="the project directory (default: .)")
    status.add_argument("--identity", type=Path, help="SSH private key file (default: the SSH agent)")
    status.add_argument("--json", action="store_true", help="print the rows as JSON (for monitoring)")
    status.add_argument(
        "--parallel", type=_parallel, default=8, help=f"nodes checked at once, 1 to {MAX_PARALLEL} (default 8)"
    )
    status.add_argument(
        "--timeout", type=_timeout, default=30.0, help=f"seconds per node, up to {MAX_TIMEOUT:g} (default 30)"
    )
    status.add_argument("--mesh", action="store_true", help="paths between every pair of nodes, not only to the head")
    status.add_argument("--network-id", type=_network_id, help="the network ID, when the config does not name it")
    status.add_argument(
        "--component",
        type=_component,
        help=f"the Overlay component's name in the program (default: the overlayUrn output, else {COMPONENT_NAME})",
    )
    status.add_argument(
        "--probe",
        action="store_true",
        help="send each zerotier-cluster:policy assertion's probe over the overlay and compare (instead of the rows)",
    )
    status.add_argument(
        "--outputs",
        type=Path,
        help="the stack's outputs (`pulumi stack output --json > FILE`): compares identities with members",
    )
    return parser


def _stack(text: str) -> str:
    """The stack's short name (its file is ``Pulumi.<name>.yaml``); never a path out of the project."""
    if not STACK.fullmatch(text) or text.rpartition("/")[2] in (".", ".."):
        raise argparse.ArgumentTypeError(
            f"{safe(repr(text), 80)} is not a stack name (letters, digits, '_', '.', '-'; or org/project/stack)"
        )
    return text.rpartition("/")[2]


def _component(text: str) -> str:
    """The Overlay component's resource name, as the program named it (it goes into the URNs status prints)."""
    if not COMPONENT.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{safe(repr(text), 80)} is not a resource name (letters, digits, '_', '.', ':', '-')"
        )
    return text


def _network_id(text: str) -> str:
    if not NETWORK_ID_PATTERN.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{safe(repr(text), 80)} is not 16 lowercase hex digits")
    return text


def _parallel(text: str) -> int:
    if not DECIMAL.fullmatch(text) or "." in text or not 1 <= int(text) <= MAX_PARALLEL:
        raise argparse.ArgumentTypeError(f"{safe(repr(text), 80)} is not a whole number from 1 to {MAX_PARALLEL}")
    return int(text)


def _timeout(text: str) -> float:
    """Seconds as plain ASCII decimals: ``float()`` also takes nan, inf, 1e308 and other scripts' digits."""
    if not DECIMAL.fullmatch(text) or not 0 < float(text) <= MAX_TIMEOUT:
        raise argparse.ArgumentTypeError(
            f"{safe(repr(text), 80)} is not a number of seconds greater than 0 and at most {MAX_TIMEOUT:g}"
        )
    return float(text)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    out: Path | None = None
    if args.command == "render" and args.out is not None:
        made = _out_directory(args.out)
        if isinstance(made, str):
            return _fail(made)
        out = made
    outputs: dict[str, Any] = {}
    if args.command == "status":
        read = _outputs(args.outputs) if args.outputs is not None else {}
        if isinstance(read, str):
            return _fail(read)
        outputs = read
        if args.identity is not None and not args.identity.is_file():
            return _fail(f"--identity {safe(args.identity, 200)}: not a regular file; give the SSH private key file")
    try:
        config = read_stack_config(args.project, args.stack)
        plan = build_plan(parse_cluster(config, base_dir=args.project, stack=args.stack))
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    if args.command == "render":
        try:
            return render.show(plan, out, args.full, args.network_id)
        except OSError as err:
            return _fail(f"--out {safe(args.out, 200)}: cannot write there ({safe(err.strerror or err, 200)})")
    return _status(plan, args, outputs)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _out_directory(out: Path) -> Path | str:
    """``--out`` made (or found) a writable directory before anything is printed, or why it cannot be."""
    shown = safe(out, 200)
    if out.exists() and not out.is_dir():
        return f"--out {shown} exists and is not a directory; name a new or existing directory"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        return f"--out {shown}: cannot create it ({safe(err.strerror or err, 200)}); name a directory you can write"
    if not os.access(out, os.W_OK | os.X_OK):
        return f"--out {shown}: not writable; name a directory you can write"
    return out


def _outputs(path: Path) -> dict[str, Any] | str:
    """The stack outputs file: a regular file of bounded size holding one JSON object, or why not."""
    fix = "write it with `pulumi stack output --json > FILE`"
    text, problem = read_text(path, shown_as=safe(path, 200), key="--outputs", fix=fix, limit=MAX_OUTPUTS_BYTES)
    if problem is not None:
        return f"--outputs: {safe(problem.message)}; {problem.fix}"
    try:
        loaded = json.loads(text)
    except ValueError as err:
        return f"--outputs {safe(path, 200)}: not JSON ({safe(err, 200)}); {fix}"
    except RecursionError:
        return f"--outputs {safe(path, 200)}: nested too deeply to be stack outputs; {fix}"
    if not isinstance(loaded, dict):
        return f"--outputs {safe(path, 200)}: holds a JSON {type(loaded).__name__}, not the outputs object; {fix}"
    return loaded


def safe_lines(text: str) -> str:
    """``text`` line by line through :func:`safe`: its line structure kept, anything else unprintable escaped."""
    return "".join(safe(line, STATUS_LINE_CHARS) + "\n" for line in text.splitlines())


def _status(plan: Plan, args: argparse.Namespace, outputs: dict[str, Any]) -> int:
    if args.probe:
        outcomes = probe.run(plan, args.identity, args.parallel, args.timeout)
        sys.stdout.write(safe_lines(probe.table(outcomes)))
        return 1 if any(o.ok is False for o in outcomes) else 0
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
    # What nodes report (their stderr, zerotier-cli's output) is theirs to choose: escaped like any message.
    text = report.as_json(rows) if args.json else report.table(plan, rows, args.mesh)
    sys.stdout.write(safe_lines(text))
    return 0 if all(r.ok for r in rows) else 1
