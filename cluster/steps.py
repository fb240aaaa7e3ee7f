"""Provisioning steps as the node receives them: a fixed command line and a script on stdin.

Each step is a real file under ``cluster/scripts/`` (POSIX sh, shellcheck-clean).
What a node's shell reads on stdin is, byte for byte::

    #!/bin/sh
    # <banner>
    ZTC_NODE='compute-01'          <- parameters, each one shell-quoted
    ZTC_NETWORK_ID='8056c2e21c1930be'
    <cluster/scripts/lib.sh>
    <cluster/scripts/<step>.sh>    <- ends with: ztc_run "$@"; exit $?

and the command line is one of :data:`COMMANDS`, which never carries a value
from the config. Parameters therefore cannot be spliced into a shell command,
and secrets (there are none today) could only travel on stdin.

Because the script is read from stdin, every step file only defines functions
until its last line, so nothing a step runs can swallow the rest of the script.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal, TypeAlias

SCRIPTS = Path(__file__).resolve().parent / "scripts"
Step = Literal["install", "join", "firewall", "hosts", "verify"]
#: The order a node's steps run in.
STEPS: tuple[Step, ...] = ("install", "join", "firewall", "hosts", "verify")
Action = Literal["create", "update", "delete"]

#: The whole command line each action runs; the script arrives on stdin.
COMMANDS: dict[Action, str] = {action: f"/bin/sh -s -- {action}" for action in ("create", "update", "delete")}


@dataclass(frozen=True)
class Pending:
    """A parameter only ``pulumi up`` learns (the ID of a network it is about to create)."""

    name: str

    @property
    def placeholder(self) -> str:
        return f"<{self.name}: known once pulumi up has created it>"


ParamValue: TypeAlias = str | Pending


@cache
def script_source(name: str) -> str:
    """A script file's text; read once per process."""
    return (SCRIPTS / f"{name}.sh").read_text(encoding="utf-8")


def _body(name: str) -> str:
    """A script file without its shebang line: the composed script has exactly one."""
    text = script_source(name)
    return text.split("\n", 1)[1] if text.startswith("#!") else text


@dataclass(frozen=True)
class StepScript:
    """One step for one node: which script, and the parameters it is given."""

    step: Step
    node: str
    params: tuple[tuple[str, ParamValue], ...]

    @property
    def pending(self) -> tuple[str, ...]:
        """Names of the values :meth:`text` needs that only ``pulumi up`` knows."""
        return tuple(v.name for _, v in self.params if isinstance(v, Pending))

    def text(self, known: Mapping[str, str] | None = None) -> str:
        """The exact stdin for this step.

        ``known`` supplies :class:`Pending` values by name; those missing are
        shown as visible placeholders (what ``render`` prints for a reviewer).
        """
        lines = [
            "#!/bin/sh",
            f"# zerotier-cluster: {self.step} step for node {self.node}.",
            f"# Built from cluster/scripts/lib.sh and cluster/scripts/{self.step}.sh;",
            "# runs as: /bin/sh -s -- create|update|delete",
        ]
        for name, value in self.params:
            text = (known or {}).get(value.name, value.placeholder) if isinstance(value, Pending) else value
            lines.append(f"{name}={shlex.quote(text)}")
        return "\n".join(lines) + "\n" + _body("lib") + _body(self.step)
