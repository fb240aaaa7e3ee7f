"""Provisioning steps as a node receives them: a small stdin and a content-addressed program.

A step's program (its shared parameters, ``cluster/scripts/lib.sh`` and the
step's script) is the same for every node that shares those parameters, so it
travels once per node inside the stack's bundle (a tar of programs named by
their SHA-256, copied to ``~/.zerotier-cluster/bundle.tar`` by
pulumi-command's ``CopyToRemote``, whose state keeps only a path and a hash).
What each command carries on stdin is then only that node's parameters, the
program's hash and the loader, byte for byte::

    #!/bin/sh
    # zerotier-cluster join step for node compute-01
    ZTC_NODE='compute-01'           <- this node's parameters, each one shell-quoted
    ZTC_OVERLAY_IP='10.147.17.11'
    ZTC_PROGRAM='3f2a…'             <- SHA-256 of the program
    <cluster/scripts/load.sh without comments>

The loader checks the program's hash in memory before it evaluates it, so a
changed or damaged bundle never runs. The command line is one of
:data:`COMMANDS` and never carries a value from the config. Because stdin
changes exactly when the node's parameters or its program change, ``pulumi
preview`` shows an update of exactly the commands a change touches.

Each step's parameters are a frozen dataclass whose fields name their
``ZTC_*`` variable; ``per_node`` fields go on stdin, the rest into the program.
"""

from __future__ import annotations

import hashlib
import io
import shlex
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from functools import cache, cached_property
from pathlib import Path
from typing import Any, ClassVar, Generic, Literal, TypeAlias, TypeVar

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
StepName = Literal[
    "install", "identity", "localconf", "join", "firewall", "hosts", "verify", "network", "member", "moon", "orbit"
]
#: Steps whose script serves several steps; the program then sets ZTC_STEP before it, the others name themselves.
SHARED_SCRIPTS: dict[StepName, str] = {
    "network": "controller",
    "member": "controller",
    "moon": "roots",
    "orbit": "roots",
}
Action = Literal["create", "update", "delete"]

#: The whole command line each action runs; the script arrives on stdin.
COMMANDS: dict[Action, str] = {action: f"/bin/sh -s -- {action}" for action in ("create", "update", "delete")}
#: Where CopyToRemote puts the bundle, relative to the login's home (SFTP's starting directory).
REMOTE_BUNDLE = ".zerotier-cluster/bundle.tar"


@dataclass(frozen=True)
class Pending:
    """A parameter only ``pulumi up`` learns (the ID of a network it is about to create)."""

    name: str

    @property
    def placeholder(self) -> str:
        return f"<{self.name}: known once pulumi up has created it>"


ParamValue: TypeAlias = str | Pending


def var(name: str, *, per_node: bool = False) -> dict[str, Any]:
    """A step parameter's metadata: the ``ZTC_*`` variable it becomes; ``per_node`` ones travel on stdin."""
    return {"var": name, "per_node": per_node}


@dataclass(frozen=True)
class ScriptParams:
    """A script's parameters: each field names the ``ZTC_*`` variable it becomes (``tests/test_script_params.py``
    holds every script to its dataclass: each variable it reads is declared here and checked there)."""

    #: The file under ``cluster/scripts`` that reads these parameters.
    SCRIPT: ClassVar[str]

    def variables(self, *, per_node: bool) -> tuple[tuple[str, ParamValue], ...]:
        return tuple(
            (f.metadata["var"], getattr(self, f.name)) for f in fields(self) if f.metadata["per_node"] == per_node
        )


@dataclass(frozen=True)
class StepParams(ScriptParams):
    """The parameters of one step; subclasses name the step and declare the fields."""

    STEP: ClassVar[StepName]


@dataclass(frozen=True)
class InstallParams(StepParams):
    STEP: ClassVar[StepName] = "install"
    SCRIPT: ClassVar[str] = "install"
    zerotier_version: str = field(metadata=var("ZTC_ZEROTIER_VERSION"))
    installer_url: str = field(metadata=var("ZTC_INSTALLER_URL"))
    signing_key_url: str = field(metadata=var("ZTC_SIGNING_KEY_URL"))
    signing_key_fingerprint: str = field(metadata=var("ZTC_SIGNING_KEY_FINGERPRINT"))
    uninstall_on_destroy: str = field(metadata=var("ZTC_UNINSTALL_ON_DESTROY"))
    #: Seconds to wait for another package manager run (unattended-upgrades) to release its locks.
    lock_timeout: str = field(default="600", metadata=var("ZTC_LOCK_TIMEOUT"))


@dataclass(frozen=True)
class IdentityParams(StepParams):
    """Reads the node's ZeroTier address: no parameters, so only the node's generation and connection change it."""

    STEP: ClassVar[StepName] = "identity"
    SCRIPT: ClassVar[str] = "identity"


@dataclass(frozen=True)
class LocalConfParams(StepParams):
    """The node's local.conf entries (``zerotier-cluster:zerotier``), merged with the operator's own."""

    STEP: ClassVar[StepName] = "localconf"
    SCRIPT: ClassVar[str] = "localconf"
    #: The entries the plan knows, as compact JSON (``cluster.plan.localconf.local_conf``).
    settings: str = field(metadata=var("ZTC_LC_SETTINGS"))
    #: ``auto``, ``true`` or ``false``: multicore packet processing; auto decides from the node's cores.
    multicore: str = field(metadata=var("ZTC_LC_MULTICORE"))
    #: Threads with multicore, or empty: chosen from the node's cores.
    concurrency: str = field(metadata=var("ZTC_LC_CONCURRENCY"))
    #: ``auto`` turns multicore on from this many cores.
    min_cores: str = field(metadata=var("ZTC_LC_MIN_CORES"))


@dataclass(frozen=True)
class JoinParams(StepParams):
    STEP: ClassVar[StepName] = "join"
    SCRIPT: ClassVar[str] = "join"
    network_id: ParamValue = field(metadata=var("ZTC_NETWORK_ID", per_node=True))
    overlay_ip: str = field(metadata=var("ZTC_OVERLAY_IP", per_node=True))
    overlay_prefix: str = field(metadata=var("ZTC_OVERLAY_PREFIX"))
    interface: str = field(metadata=var("ZTC_INTERFACE"))
    join_timeout: str = field(metadata=var("ZTC_JOIN_TIMEOUT"))


@dataclass(frozen=True)
class FirewallParams(StepParams):
    STEP: ClassVar[StepName] = "firewall"
    SCRIPT: ClassVar[str] = "firewall"
    mode: str = field(metadata=var("ZTC_FW_MODE"))
    family: str = field(metadata=var("ZTC_FW_FAMILY"))
    table: str = field(metadata=var("ZTC_FW_TABLE"))
    chain: str = field(metadata=var("ZTC_FW_CHAIN"))
    hook_chain: str = field(metadata=var("ZTC_FW_HOOK_CHAIN"))
    set_prefix: str = field(metadata=var("ZTC_FW_SET_PREFIX"))
    interface: str = field(metadata=var("ZTC_FW_INTERFACE"))
    ssh_port: str = field(metadata=var("ZTC_SSH_PORT"))
    ssh_port_key: str = field(metadata=var("ZTC_SSH_PORT_KEY", per_node=True))
    ssh_sources_key: str = field(metadata=var("ZTC_SSH_SOURCES_KEY"))
    ruleset: str = field(metadata=var("ZTC_RULESET"))


@dataclass(frozen=True)
class HostsParams(StepParams):
    STEP: ClassVar[StepName] = "hosts"
    SCRIPT: ClassVar[str] = "hosts"
    hosts_tag: str = field(metadata=var("ZTC_HOSTS_TAG"))
    hosts_block: str = field(metadata=var("ZTC_HOSTS_BLOCK"))


@dataclass(frozen=True)
class VerifyParams(StepParams):
    STEP: ClassVar[StepName] = "verify"
    SCRIPT: ClassVar[str] = "verify"
    role: str = field(metadata=var("ZTC_ROLE"))
    targets: str = field(metadata=var("ZTC_TARGETS"))
    verify_timeout: str = field(metadata=var("ZTC_VERIFY_TIMEOUT"))
    #: ``true``: a target reached only through a ZeroTier relay fails the step.
    require_direct: str = field(default="false", metadata=var("ZTC_REQUIRE_DIRECT"))
    #: The network's MTU: verify probes each target with unfragmented packets of that size.
    mtu: str = field(default="2800", metadata=var("ZTC_MTU"))


@dataclass(frozen=True)
class NetworkParams(StepParams):
    """The network on the head's controller (``controller: head``); the script runs on the head."""

    STEP: ClassVar[StepName] = "network"
    SCRIPT: ClassVar[str] = "controller"
    #: The head's address and six digits of the network name: known once the head's install reported it.
    network_id: ParamValue = field(metadata=var("ZTC_NETWORK_ID", per_node=True))
    #: The JSON the controller API takes (name, routes, pool, rules, ...).
    settings: str = field(metadata=var("ZTC_NETWORK_SETTINGS"))


@dataclass(frozen=True)
class MemberParams(StepParams):
    """One member on the head's controller: run on the head, named after the member."""

    STEP: ClassVar[StepName] = "member"
    SCRIPT: ClassVar[str] = "controller"
    network_id: ParamValue = field(metadata=var("ZTC_NETWORK_ID", per_node=True))
    #: The member's 10-digit address: a device's from config, a node's once its install reported it.
    member: ParamValue = field(metadata=var("ZTC_MEMBER", per_node=True))
    #: The member JSON (authorized, ipAssignments, noAutoAssignIps, tags, name).
    settings: str = field(metadata=var("ZTC_MEMBER_SETTINGS", per_node=True))


@dataclass(frozen=True)
class MoonParams(StepParams):
    """``roots: head``: the head signs a moon whose stable endpoint the other nodes reach."""

    STEP: ClassVar[StepName] = "moon"
    SCRIPT: ClassVar[str] = "roots"
    endpoint: str = field(metadata=var("ZTC_ROOT_ENDPOINT"))


@dataclass(frozen=True)
class OrbitParams(StepParams):
    """``roots: head``: a node keeps the head's moon in moons.d before it joins."""

    STEP: ClassVar[StepName] = "orbit"
    SCRIPT: ClassVar[str] = "roots"
    #: ``<file name> <base64 of the signed moon>``, as the head's moon step printed it.
    moon: ParamValue = field(metadata=var("ZTC_MOON", per_node=True))


def _as_in(params: type[ScriptParams], name: str) -> dict[str, Any]:
    """The metadata of ``params``'s field ``name``: another script reading the same variable."""
    return dict(next(f.metadata for f in fields(params) if f.name == name))


@dataclass(frozen=True, kw_only=True)
class StatusParams(ScriptParams):
    """``status.sh``'s parameters: not a step (it runs outside ``pulumi up``), whole on stdin.

    Where the firewall lives are the firewall step's own variables; with the
    firewall off, the script only checks their shape.
    """

    SCRIPT: ClassVar[str] = "status"
    node: str = field(metadata=var("ZTC_NODE"))
    mode: str = field(default="off", metadata=_as_in(FirewallParams, "mode"))
    family: str = field(default="inet", metadata=_as_in(FirewallParams, "family"))
    table: str = field(default="zerotier_cluster", metadata=_as_in(FirewallParams, "table"))
    chain: str = field(default="input", metadata=_as_in(FirewallParams, "chain"))
    hosts_tag: str = field(metadata=_as_in(HostsParams, "hosts_tag"))
    #: The overlay addresses to ping before reading the peers, space-separated.
    probe: str = field(metadata=var("ZTC_PROBE"))


@dataclass(frozen=True, kw_only=True)
class ProbeParams(ScriptParams):
    """``probe.sh``'s parameters (``status --probe``): not a step, whole on stdin, one pass of three."""

    SCRIPT: ClassVar[str] = "probe"
    #: ``listen`` (start UDP listeners), ``send`` (the probes), ``collect`` (read and stop the listeners).
    mode: str = field(metadata=var("ZTC_PROBE_MODE"))
    #: ``send``: ``<id> <tcp|udp|icmp> <overlay IPv4> <port>`` lines; ``listen``/``collect``: UDP ports, one a line.
    probes: str = field(metadata=var("ZTC_PROBES"))
    #: Seconds each probe may take.
    timeout: str = field(metadata=var("ZTC_PROBE_TIMEOUT"))
    #: Names the listeners' scratch directory, so that collect finds what listen started.
    tag: str = field(metadata=var("ZTC_PROBE_TAG"))


@cache
def script_source(name: str) -> str:
    """A script file's text; read once per process."""
    return (SCRIPTS / f"{name}.sh").read_text(encoding="utf-8")


def _body(name: str) -> str:
    """A script file without its shebang line: the composed text has exactly one."""
    text = script_source(name)
    return text.split("\n", 1)[1] if text.startswith("#!") else text


@cache
def loader() -> str:
    """load.sh as stdin carries it: without its comments, which every command would store again."""
    return "".join(line + "\n" for line in _body("load").splitlines() if line and not line.startswith("#"))


def _assignments(variables: tuple[tuple[str, ParamValue], ...], known: Mapping[str, str]) -> str:
    lines = []
    for name, value in variables:
        text = known.get(value.name, value.placeholder) if isinstance(value, Pending) else value
        lines.append(f"{name}={shlex.quote(text)}\n")
    return "".join(lines)


def standalone(title: str, params: ScriptParams) -> str:
    """A script that is not a provisioning step (``status``), whole on stdin: parameters, lib.sh, the script.

    It is not stored or shipped in the bundle: it runs outside ``pulumi up``,
    on whatever the node has now.
    """
    head = f"#!/bin/sh\n# zerotier-cluster {title}\n"
    return head + _assignments(params.variables(per_node=False), {}) + _body("lib") + _body(params.SCRIPT)


@dataclass(frozen=True)
class Program:
    """A step's shared parameters, lib.sh and its script: one content-addressed object."""

    step: StepName
    shared: tuple[tuple[str, str], ...]

    @cached_property
    def text(self) -> str:
        script = SHARED_SCRIPTS.get(self.step)
        header = f"# zerotier-cluster {self.step} program: shared parameters, lib.sh, {script or self.step}.sh\n"
        if script is not None:
            header += f"ZTC_STEP={self.step}\n"
        return header + _assignments(self.shared, {}) + _body("lib") + _body(script or self.step)

    @cached_property
    def data(self) -> bytes:
        return self.text.encode()

    @cached_property
    def sha(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def program_for(params: StepParams) -> Program:
    """The program of ``params``'s shared part; nodes with equal shared parameters share one object."""
    shared = params.variables(per_node=False)
    if any(isinstance(v, Pending) for _, v in shared):
        raise ValueError(f"{params.STEP}: a value only pulumi up knows must be a per-node parameter")
    return _program(params.STEP, shared)


@cache
def _program(step: StepName, shared: tuple[tuple[str, str], ...]) -> Program:
    return Program(step, shared)


#: A step's parameter dataclass: ``StepScript[FirewallParams].params`` is a FirewallParams.
P_co = TypeVar("P_co", bound=StepParams, covariant=True)


@dataclass(frozen=True)
class StepScript(Generic[P_co]):
    """One step for one node: its parameters, and the stdin its command carries."""

    node: str
    generation: int
    params: P_co

    @property
    def name(self) -> StepName:
        return self.params.STEP

    @cached_property
    def program(self) -> Program:
        """Cached: render asks for it several times per step, and at 10,000 nodes that adds up."""
        return program_for(self.params)

    @property
    def pending(self) -> tuple[str, ...]:
        """Names of the values :meth:`text` needs that only ``pulumi up`` knows."""
        return tuple(v.name for _, v in self.params.variables(per_node=True) if isinstance(v, Pending))

    def text(self, known: Mapping[str, str] | None = None) -> str:
        """The exact stdin for this step.

        ``known`` supplies :class:`Pending` values by name; those missing are
        shown as visible placeholders (what ``render`` prints for a reviewer).
        """
        head = f"#!/bin/sh\n# zerotier-cluster {self.name} step for node {self.node}\n"
        # The generation only needs to be there once raised: then every step of the node changes.
        own = (("ZTC_NODE", self.node),) + ((("ZTC_GENERATION", str(self.generation)),) if self.generation else ())
        variables = own + self.params.variables(per_node=True) + (("ZTC_PROGRAM", self.program.sha),)
        return head + _assignments(variables, known or {}) + loader()


@dataclass(frozen=True)
class Bundle:
    """Every program of the stack in one deterministic tar: ``objects/<sha256>``."""

    programs: tuple[Program, ...]

    @classmethod
    def of(cls, programs: Iterable[Program]) -> Bundle:
        unique = {p.sha: p for p in programs}
        return cls(tuple(unique[sha] for sha in sorted(unique)))

    @cached_property
    def tar(self) -> bytes:
        """Byte-identical for identical programs: sorted names, fixed owner, mode and time."""
        out = io.BytesIO()
        with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
            for program in self.programs:
                info = tarfile.TarInfo(f"objects/{program.sha}")
                info.size, info.mode, info.mtime = len(program.data), 0o644, 0
                info.uid = info.gid = 0
                info.uname = info.gname = "root"
                tar.addfile(info, io.BytesIO(program.data))
        return out.getvalue()

    @cached_property
    def sha(self) -> str:
        return hashlib.sha256(self.tar).hexdigest()

    def write(self, directory: Path) -> Path:
        """Writes the tar as ``<directory>/<first 16 hex digits of its sha>.tar``, once: the name is the content."""
        path = directory / f"{self.sha[:16]}.tar"
        if not path.exists():
            directory.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".partial")
            partial.write_bytes(self.tar)
            partial.replace(path)
        return path
