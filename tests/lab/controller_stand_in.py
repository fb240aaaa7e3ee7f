"""A TEST STAND-IN for the network controller inside zerotier-one 1.14.1: its local JSON API only.

zerotier-one cannot run here (not packaged for the test machines, no
internet), so ``cluster/scripts/controller.sh`` is run against this server
instead, listening on 127.0.0.1:9993 inside a test machine's network
namespace (started from the host with :class:`ControllerStandIn`). It answers
the requests the script makes the way ``reference/zerotier-one.md`` describes
the real controller: ``X-ZT1-Auth`` checked against the machine's
``authtoken.secret`` (401 otherwise), ``POST /controller/network/<nwid>``
creates or updates exactly that ID (any prefix accepted, as the real one
does), ``.../member/<address>`` likewise, ``GET`` 404 for what does not exist,
``DELETE`` 200 and gone. Answers are JSON objects with sorted keys,
``objtype``, ``id``, ``nwid`` and ``revision`` as the real API gives them.
These answers were NOT recorded from a real daemon (none was available where
this was written); ``tests/test_lab_zerotier.py`` is where real ones are met.

Every request is appended to a JSON-lines log (method, path, whether the
token matched, the body) for the tests to read; the token itself is not logged.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

NETWORK = re.compile(r"/controller/network/([0-9a-f]{10})([0-9a-f]{6}|______)")
MEMBER = re.compile(r"/controller/network/([0-9a-f]{16})/member/([0-9a-f]{10})")
NETWORK_KEYS = (
    "name", "private", "enableBroadcast", "multicastLimit", "routes", "ipAssignmentPools",
    "v4AssignMode", "v6AssignMode", "rules", "tags", "capabilities",
)  # fmt: skip
MEMBER_KEYS = ("name", "authorized", "activeBridge", "noAutoAssignIps", "ipAssignments", "tags", "capabilities")


class Controller:
    """The controller's database: networks and their members, kept in memory."""

    def __init__(self) -> None:
        self.networks: dict[str, dict[str, Any]] = {}
        self.members: dict[str, dict[str, dict[str, Any]]] = {}

    def network(self, method: str, nwid: str, body: dict[str, Any]) -> tuple[int, Any]:
        if nwid.endswith("______"):
            nwid = nwid[:10] + f"{len(self.networks) + 1:06x}"
        current = self.networks.get(nwid)
        if method == "GET":
            return (200, current) if current else (404, {})
        if method == "DELETE":
            if current is None:
                return 404, {}
            self.members.pop(nwid, None)
            return 200, self.networks.pop(nwid)
        if current is None:
            current = {
                "id": nwid, "nwid": nwid, "objtype": "network", "revision": 0, "creationTime": int(time.time() * 1000),
                "name": "", "private": True, "enableBroadcast": True, "multicastLimit": 32, "routes": [],
                "ipAssignmentPools": [], "v4AssignMode": {"zt": False},
                "v6AssignMode": {"zt": False, "6plane": False, "rfc4193": False},
                "rules": [{"type": "ACTION_ACCEPT"}], "tags": [], "capabilities": [],
                "mtu": 2800, "dns": {"domain": "", "servers": []}, "remoteTraceLevel": 0, "remoteTraceTarget": None,
                "ssoEnabled": False, "authTokens": [None],
            }  # fmt: skip
            self.networks[nwid] = current
            self.members[nwid] = {}
        current.update({k: v for k, v in body.items() if k in NETWORK_KEYS})
        current["revision"] += 1
        return 200, current

    def member(self, method: str, nwid: str, address: str, body: dict[str, Any]) -> tuple[int, Any]:
        if nwid not in self.networks:
            return 404, {}
        members = self.members[nwid]
        current = members.get(address)
        if method == "GET":
            return (200, current) if current else (404, {})
        if method == "DELETE":
            return (200, members.pop(address)) if current else (404, {})
        if current is None:
            current = {
                "id": address, "address": address, "nwid": nwid, "objtype": "member", "revision": 0,
                "authorized": False, "activeBridge": False, "noAutoAssignIps": False, "ipAssignments": [],
                "tags": [], "capabilities": [], "name": "", "identity": "", "ssoExempt": False,
                "creationTime": int(time.time() * 1000), "lastAuthorizedTime": 0, "lastDeauthorizedTime": 0,
                "vMajor": -1, "vMinor": -1, "vRev": -1, "vProto": -1, "remoteTraceLevel": 0, "remoteTraceTarget": None,
            }  # fmt: skip
            members[address] = current
        current.update({k: v for k, v in body.items() if k in MEMBER_KEYS})
        current["revision"] += 1
        return 200, current


def serve(token_file: Path, log: Path, state: Path, port: int) -> None:
    controller = Controller()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            token = token_file.read_text().strip()
            authorized = self.headers.get("X-ZT1-Auth") == token
            entry = {"method": self.command, "path": self.path, "authorized": authorized, "body": raw.decode()}
            with log.open("a") as out:
                out.write(json.dumps(entry) + "\n")
            if not authorized:
                code, answer = 401, {}
            else:
                body = json.loads(raw) if raw.strip() else {}
                if match := MEMBER.fullmatch(self.path):
                    code, answer = controller.member(self.command, match[1], match[2], body)
                elif match := NETWORK.fullmatch(self.path):
                    code, answer = controller.network(self.command, match[1] + match[2], body)
                elif self.path == "/controller/network" and self.command == "GET":
                    code, answer = 200, sorted(controller.networks)
                else:
                    code, answer = 404, {}
            data = json.dumps(answer, indent=2, sort_keys=True).encode()
            state.write_text(json.dumps({"networks": controller.networks, "members": controller.members}))
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


class ControllerStandIn:
    """Runs :func:`serve` in ``machine``'s network namespace; the machine's token file decides who may call it."""

    def __init__(self, machine: Any, workdir: Path, *, port: int = 9993, token_file: Path | None = None) -> None:
        """``token_file`` replaces the machine's authtoken.secret as the token to expect (a controller restarted
        with another token than the file now holds)."""
        self.machine = machine
        self.token_file = token_file or machine.path("/var/lib/zerotier-one/authtoken.secret")
        self.port = port
        workdir.mkdir(parents=True, exist_ok=True)
        self.log = workdir / "requests.jsonl"
        self.state_file = workdir / "state.json"
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> ControllerStandIn:
        argv = [sys.executable, __file__, str(self.token_file), str(self.log), str(self.state_file), str(self.port)]
        self.process = self.machine.host.popen(argv)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            probe = [sys.executable, "-c", f"import socket; socket.create_connection(('127.0.0.1', {self.port}), 1)"]
            if self.machine.host.run(probe).returncode == 0:
                return self
            time.sleep(0.1)
        raise TimeoutError("the controller stand-in did not listen")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def requests(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text().splitlines()] if self.log.exists() else []

    def state(self) -> dict[str, Any]:
        return json.loads(self.state_file.read_text()) if self.state_file.exists() else {"networks": {}, "members": {}}


if __name__ == "__main__":
    arguments = argparse.ArgumentParser(description="TEST STAND-IN for zerotier-one's controller API")
    for name in ("token_file", "log", "state"):
        arguments.add_argument(name, type=Path)
    arguments.add_argument("port", type=int)
    parsed = arguments.parse_args()
    socket.setdefaulttimeout(30)
    serve(parsed.token_file, parsed.log, parsed.state, parsed.port)
