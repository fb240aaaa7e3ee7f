"""Runs the real program under Pulumi's mocks and records exactly what it declared.

The mocks stand in for the engine and the providers only: the program, the
``pulumi`` and ``pulumi_command`` SDKs and the ZeroTier SDK (real, or the
stand-in under ``tests/sdk``) all run for real. The recording monitor keeps
every RegisterResource request as the engine would receive it: wire names,
secret markers, parents, dependencies and resource options.
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import hashlib
import json
import os
import re
import runpy
import sys
import tarfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pulumi
import yaml
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.proto import engine_pb2
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

ROOT = Path(__file__).resolve().parent.parent
STAND_IN = ROOT / "tests" / "sdk"
#: How a secret travels on the wire: {SIG_KEY: SECRET_SIG, "value": ...} (pulumi.runtime.rpc).
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
NETWORK_ID = "8056c2e21c1930be"
#: Where programs under test write their bundles: never into the repository.
BUNDLE_DIR = str(Path(os.environ.get("TMPDIR", "/tmp")) / f"zerotier-cluster-test-bundles-{os.getuid()}")
#: The component name the program gives its resources' names as a prefix.
PREFIX = "zerotier-cluster"


def use_zerotier_sdk() -> str:
    """Makes ``pulumi_zerotier`` importable and says which one runs.

    ``pulumi install`` generates the real SDK; where it has not run (CI, a
    fresh clone) the stand-in under ``tests/sdk`` takes its place, so the
    program always runs against the same public surface.
    """
    try:
        import pulumi_zerotier
    except ImportError:
        sys.path.insert(0, str(STAND_IN))
        import pulumi_zerotier
    where = Path(pulumi_zerotier.__file__).resolve().parent
    if where.parent == STAND_IN:
        return "stand-in tests/sdk/pulumi_zerotier (the generated SDK is not installed)"
    return f"generated SDK at {where}"


def fake_address(node: str) -> str:
    """The ZeroTier address a node "reports" under mocks: stable per node name."""
    return hashlib.sha256(node.encode()).hexdigest()[:10]


def declared_bytes(raw: Any) -> int:
    """Bytes of a resource's inputs (wire JSON) as state stores them: a file asset by its path and hash."""
    if isinstance(raw, dict):
        if set(raw) == {SIG_KEY, "path"}:  # a file asset: state keeps its path and its hash
            return len(json.dumps({"path": raw["path"], "hash": "0" * 64}))
        return 2 + sum(len(json.dumps(k)) + 1 + declared_bytes(v) for k, v in raw.items())
    if isinstance(raw, list):
        return 2 + sum(declared_bytes(v) for v in raw)
    return len(json.dumps(raw))


@dataclass
class Declared:
    """One RegisterResource request, decoded."""

    type: str
    name: str
    urn: str
    parent: str
    inputs: dict[str, Any]
    raw: dict[str, Any]
    dependencies: list[str]
    options: dict[str, Any]

    def secret_fields(self) -> set[str]:
        """Top-level input names sent as secrets (marked with Pulumi's secret signature)."""
        return {k for k, v in self.raw.items() if _has_secret(v)}


def _has_secret(value: Any) -> bool:
    if isinstance(value, dict):
        return value.get(SIG_KEY) == SECRET_SIG or any(_has_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secret(v) for v in value)
    return False


def _unwrap(value: Any) -> Any:
    """Plain values: secrets unwrapped at any depth (``secret_fields`` says where they were)."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return _unwrap(value.get("value"))
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


@dataclass
class Run:
    """What one evaluation of the program declared and exported."""

    resources: list[Declared]
    outputs: dict[str, Any]
    secret_outputs: set[str]
    logs: list[str] = field(default_factory=list)

    def by_name(self) -> dict[tuple[str, str], Declared]:
        """Registration order depends on when Outputs resolve; compare by (type, name)."""
        return {(r.type, r.name): r for r in self.resources}

    def of_type(self, type_: str) -> list[Declared]:
        return [r for r in self.resources if r.type == type_]

    def named(self, name: str) -> Declared:
        return next(r for r in self.resources if r.name == name)

    def declared_per_node(self) -> dict[str, int]:
        """Bytes of inputs each node's resources declare (``zerotier-cluster-<node>-<what>``)."""
        per_node: dict[str, int] = {}
        for r in self.resources:
            if r.name.startswith(f"{PREFIX}-") and r.type != "pulumi:pulumi:Stack":
                node = r.name.removeprefix(f"{PREFIX}-").rpartition("-")[0]
                if node:
                    per_node[node] = per_node.get(node, 0) + declared_bytes(r.raw)
        return per_node

    def program(self, command: str) -> str:
        """The program a command runs: named by hash on its stdin, read from the bundle its node was sent."""
        stdin = self.named(command).inputs["stdin"]
        sha = re.search(r"^ZTC_PROGRAM=([0-9a-f]{64})$", stdin, re.M)
        assert sha is not None, f"{command} names no program"
        copy = self.named(command.rsplit("-", 1)[0] + "-bundle")
        with tarfile.open(copy.inputs["source"].path) as tar:
            member = tar.extractfile(f"objects/{sha.group(1)}")
            assert member is not None
            return member.read().decode()

    def by_urn(self, urn: str) -> Declared:
        return next(r for r in self.resources if r.urn == urn)


def shared_scope(fixture_name: str, config: Any) -> Literal["function", "module"]:
    """A program-running fixture's scope: one run per module, except in mutmut's stats pass.

    mutmut runs, for a mutant, only the tests its stats pass saw reaching the mutated
    function, and a cached fixture's calls are charged to the first test that used it.
    In that pass (``MUTANT_UNDER_TEST=stats``) every test runs the program itself, so
    each one is charged with the functions it reaches (docs/testing.md).
    """
    return "function" if os.environ.get("MUTANT_UNDER_TEST") == "stats" else "module"


def _fake_stdout(node: str, step: str, stdin: str, address: str) -> str:
    """The last line each step prints that the program reads: an address, the network ID, the signed moon."""
    if step in ("install", "identity"):
        return f"{address}\n"
    if step == "network":  # controller: head: controller.sh confirms the ID it was sent
        found = re.search(r"^ZTC_NETWORK_ID=([0-9a-f]{16})$", stdin, re.M)
        return f"{found.group(1) if found else 'no network id on stdin'}\n"
    if step == "moon":  # roots: head: roots.sh prints the signed moon's file name and bytes
        return f"000000{fake_address(node)}.moon {base64.b64encode(node.encode()).decode()}\n"
    return "ok\n"


class Mocks(pulumi_mocks.Mocks):
    """Plays the providers: returns inputs as state plus the few computed outputs the program reads."""

    def __init__(
        self,
        stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
        addresses: Mapping[str, str] | None = None,
        stdouts: Mapping[str, str] | None = None,
    ) -> None:
        """``addresses``: what a node's identity step reads, where not :func:`fake_address` (a reimaged node);
        ``stdouts``: a command's whole output by resource name (what it printed on a real node)."""
        self.stack_outputs = stack_outputs or {}
        self.addresses = addresses or {}
        self.stdouts = stdouts or {}

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = dict(args.inputs)
        if args.typ == "zerotier:index/network:Network":
            state["networkId"] = args.resource_id or NETWORK_ID
            state["creationTime"] = 0
        elif args.typ == "command:remote:Command" and not args.name.endswith("-bundle"):
            node, _, step = args.name.removeprefix(f"{PREFIX}-").rpartition("-")
            address = self.addresses.get(node) or fake_address(node)
            state["stdout"] = self.stdouts.get(args.name) or _fake_stdout(
                node, step, args.inputs.get("stdin", ""), address
            )
            state["stderr"] = ""
        elif args.typ == "hcloud:index/server:Server":  # examples/cloud-burst
            state["ipv4Address"] = f"198.51.100.{int(hashlib.sha256(args.name.encode()).hexdigest(), 16) % 200 + 1}"
        elif args.typ == "pulumi:pulumi:StackReference":
            name = args.inputs.get("name", args.name)
            state["outputs"] = dict(self.stack_outputs.get(name, {}))
            state["secretOutputNames"] = []
        resource_id = args.resource_id or f"{args.name}-id"
        return resource_id, state

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


class RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: Mocks, declared: list[Declared]) -> None:
        super().__init__(mocks)
        self.declared = declared

    def _record(self, request: Any, urn: str) -> None:
        def field(name: str, default: Any) -> Any:
            if name not in request.DESCRIPTOR.fields_by_name:  # ReadResource has fewer fields
                return default
            descriptor = request.DESCRIPTOR.fields_by_name[name]
            if descriptor.has_presence and not request.HasField(name):
                return default
            return getattr(request, name)

        props = request.object if "object" in request.DESCRIPTOR.fields_by_name else request.properties
        raw = json_format.MessageToDict(props)
        self.declared.append(
            Declared(
                type=request.type,
                name=request.name,
                urn=urn,
                parent=request.parent,
                inputs=_unwrap(pulumi.runtime.rpc.deserialize_properties(props)) if raw else {},
                raw=raw,
                dependencies=list(field("dependencies", [])),
                options={
                    "provider": request.provider,
                    "importId": field("importId", ""),
                    "retainOnDelete": field("retainOnDelete", None),
                    "ignoreChanges": list(field("ignoreChanges", [])),
                    "deleteBeforeReplace": field("deleteBeforeReplace", False),
                    "replaceOnChanges": list(field("replaceOnChanges", [])),
                    "additionalSecretOutputs": list(request.additionalSecretOutputs),
                    "propertyDependencies": {k: list(v.urns) for k, v in field("propertyDependencies", {}).items()},
                },
            )
        )

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        self._record(request, response.urn)
        return response

    def ReadResource(self, request: Any) -> Any:
        response = super().ReadResource(request)
        self._record(request, response.urn)
        return response


def stack_file_config(stack: str, directory: Path = ROOT) -> tuple[dict[str, str], list[str]]:
    """A ``Pulumi.<stack>.yaml`` as the engine passes it: every value as text, secrets decrypted."""
    text = (directory / f"Pulumi.{stack}.yaml").read_text()
    document = yaml.safe_load(text)
    config: dict[str, str] = {}
    secret_keys = []
    # The secrets the file's comments tell the operator to set, as `pulumi config set --secret` would.
    for key in re.findall(r"^#\s+pulumi config set --secret (\S+)", text, flags=re.MULTILINE):
        config[key] = f"decrypted-{key}"
        secret_keys.append(key)
    for key, value in document.get("config", {}).items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[key] = f"decrypted-{key}"
            secret_keys += [] if key in secret_keys else [key]
        else:
            config[key] = value if isinstance(value, str) else json.dumps(value)
    return config, secret_keys


@contextlib.contextmanager
def _environment(env: Mapping[str, str | None], directory: Path) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in env}
    cwd = Path.cwd()
    try:
        for k, v in env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        os.chdir(directory)
        yield
    finally:
        os.chdir(cwd)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_program(
    config: Mapping[str, str],
    secret_keys: list[str] | None = None,
    *,
    stack: str = "dev",
    project: str = "zerotier-cluster",
    preview: bool = False,
    program: Callable[[], None] | None = None,
    directory: Path = ROOT,
    stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
    env: Mapping[str, str | None] | None = None,
    declared: list[Declared] | None = None,
    addresses: Mapping[str, str] | None = None,
    stdouts: Mapping[str, str] | None = None,
) -> Run:
    """Evaluates the program (``__main__.py`` by default) once, in a fresh Pulumi context.

    ``declared`` receives each registration as it happens, so a caller still
    sees what was declared when the program fails. ``addresses`` are what
    nodes' identity steps read where not :func:`fake_address` (a reimaged node),
    ``stdouts`` whole outputs of commands by resource name.
    """
    mocks = Mocks(stack_outputs, addresses, stdouts)
    monitor = RecordingMonitor(mocks, declared if declared is not None else [])
    logs: list[str] = []

    def evaluate() -> Run:
        # As pulumi.runtime.test does: an earlier run's failed RPCs must not leak into this one.
        settings.SETTINGS.rpc_manager.clear()
        settings.SETTINGS.outputs.clear()
        settings.ROOT.set(None)
        pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=monitor)
        set_all_config(dict(config), secret_keys or [])
        engine = settings.get_engine()
        original_log = engine.Log

        def log(request: Any) -> Any:
            if request.severity >= engine_pb2.WARNING:
                logs.append(request.message)
            return original_log(request)

        engine.Log = log
        runner = program or (lambda: runpy.run_path(str(directory / "__main__.py"), run_name="__main__"))
        _sync_await(run_pulumi_func(runner))
        root = settings.get_root_resource()
        exported = dict(root.outputs) if root is not None else {}  # type: ignore[attr-defined]
        values, secrets = {}, set()
        for name, value in exported.items():
            out = pulumi.Output.from_input(value)
            values[name] = _sync_await(out.future(with_unknowns=True))
            if _sync_await(out.is_secret()):
                secrets.add(name)
        return Run(monitor.declared, values, secrets, logs)

    with _environment(
        {
            "SSH_AUTH_SOCK": None,
            "ZEROTIER_CENTRAL_TOKEN": None,
            "ZEROTIER_CLUSTER_BUNDLE_DIR": BUNDLE_DIR,
            **(env or {}),
        },
        directory,
    ):
        return contextvars.Context().run(evaluate)
