"""What ``pulumi up`` runs for a change, carried out on lab machines: :func:`tests.engine.operations`, for real.

Each :class:`tests.engine.Operation` is the program's own registration (under
Pulumi's mocks, with the addresses and moon the machines really reported),
so what runs is exactly what a real ``up`` would run: a Command's command
line with its stdin over SSH to the host, as the user, on the port of its
``connection`` (a delete with the stored, old ones); a CopyToRemote's bundle
over SFTP when the rules say it copies. Two things the lab cannot run as a
real site does, and what it does instead:

* ``install``: the lab has no ZeroTier package to install offline; each
  machine gets the daemon when it is made (the test's ``before_start``
  hook), and install.sh is tested on its own (``tests/test_scripts_install.py``).
  Install operations are recorded, not run.
* ZeroTier Central (``controller: central``): its Members are applied to the
  head's own controller through its local API as ZeroTier's Terraform
  provider applies them to Central (``pkg/zerotier/member.go``: create and
  update write the member named by ``member_id`` with the resource's
  settings; delete deletes that member), so the provider's rules, not
  Central's database, decide what is left.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cluster.plan.steps import COMMANDS
from tests import engine

from .machine import Machine
from .ssh import Operator

ZT_HOME = "/var/lib/zerotier-one"


class OperationFailed(AssertionError):
    """An operation that did not succeed: its resource, action and output."""


def controller_api(head: Machine, method: str, path: str, body: Mapping[str, Any] | None = None) -> tuple[int, Any]:
    """One request to the head's controller API on 127.0.0.1; the token goes to curl on stdin, never in argv."""
    token = head.path(f"{ZT_HOME}/authtoken.secret").read_text().strip()
    argv = ["curl", "-sS", "-o", "/dev/stdout", "-w", "\n%{http_code}", "-X", method, "-H", "@-"]
    if body is not None:
        argv += ["-H", "Content-Type: application/json", "--data-binary", json.dumps(body)]
    result = head.exec([*argv, f"http://127.0.0.1:9993{path}"], stdin=f"X-ZT1-Auth: {token}\n")
    assert result.returncode == 0, f"{method} {path} on the head's controller failed: {result.stderr}"
    text, _, code = result.stdout.rpartition("\n")
    return int(code), json.loads(text) if text.strip() else None


@dataclass
class EngineRun:
    """Carries out operations on ``machines`` (by their SSH host) as ``operator``; ``head`` plays Central."""

    operator: Operator
    machines: Callable[[], Mapping[str, Machine]]
    head: Callable[[], Machine]
    #: Steps whose operations are recorded, not run (see above).
    skip: tuple[str, ...] = ("install",)
    #: Every operation carried out (or recorded), in order, with what it printed.
    done: list[tuple[str, str, subprocess.CompletedProcess[str] | None]] = field(default_factory=list)

    def apply(self, operations: Sequence[engine.Operation]) -> None:
        for op in operations:
            self.done.append((op.name, op.action, self._one(op)))

    def _one(self, op: engine.Operation) -> subprocess.CompletedProcess[str] | None:
        if op.type == engine.MEMBER:
            self._central_member(op)
            return None
        conn = op.inputs["connection"]
        host, user, port = conn["host"], conn["user"], int(conn.get("port", 22))
        assert host in self.machines(), f"{op.name}: no lab machine at {host}"
        if op.type == engine.COPY:
            data = Path(op.inputs["source"].path).read_bytes()
            result = self.operator.upload(host, user, data, op.inputs["remotePath"], port=port)
        elif op.name.rsplit("-", 1)[1] in self.skip:
            return None
        else:
            line = {"create": op.inputs["create"], "update": op.inputs.get("update") or op.inputs["create"]}
            line["delete"] = op.inputs.get("delete", "")
            assert line[op.action] in COMMANDS.values(), f"{op.name}: an unexpected command line {line[op.action]!r}"
            result = self.operator.run(host, user, line[op.action], stdin=op.inputs["stdin"], port=port)
        if result.returncode != 0:
            raise OperationFailed(f"{op.action} {op.name} on {host}:\n{result.stdout}{result.stderr}")
        return result

    def _central_member(self, op: engine.Operation) -> None:
        """zerotier_member as the Terraform provider applies it (to the head's controller, standing in for Central)."""
        i = op.inputs
        path = f"/controller/network/{i['networkId']}/member/{i['memberId']}"
        if op.action == "delete":
            code, _ = controller_api(self.head(), "DELETE", path)
            assert code in (200, 404), f"deleting {op.name}: HTTP {code}"
            return
        settings = {
            "name": i.get("name", ""),
            "authorized": i.get("authorized", True),
            "activeBridge": i.get("allowEthernetBridging", False),
            "noAutoAssignIps": i.get("noAutoAssignIps", False),
            "ipAssignments": i.get("ipAssignments", []),
            "tags": i.get("tags") or [],
        }
        code, _ = controller_api(self.head(), "POST", path, settings)
        assert code == 200, f"{op.action} {op.name}: HTTP {code}"

    def ran(self) -> list[tuple[str, str]]:
        """``(resource, action)`` of every operation carried out, the skipped steps' (recorded only) left out."""
        return [(name, action) for name, action, _ in self.done if name.rsplit("-", 1)[1] not in self.skip]
