"""A TEST STAND-IN for the network controller inside zerotier-one 1.14.1: its local JSON API only.

zerotier-one is not packaged for the test machines and CI has no internet,
so ``cluster/scripts/controller.sh`` is run against this server instead,
listening on 127.0.0.1:9993 inside a test machine's network namespace
(started from the host with :class:`ControllerStandIn`). It answers from
what a real 1.14.1 controller answered to the same requests, recorded in
``zerotier_samples/controller-api.jsonl`` (see that folder's README): the
network and member objects are the recorded ones (every key, compact JSON
with sorted keys) with the request's settings applied; ``revision`` starts
at 1 and rises only when a POST changes something; a POST creates exactly
the ID it names (any prefix, as the real one does); ``GET
/controller/network`` lists IDs, ``.../member`` maps addresses to
revisions; what does not exist is 404 with an empty body and no
Content-Type; a wrong ``X-ZT1-Auth`` is 401 ``{}``; ``DELETE`` answers the
removed object. :func:`answer` is the whole behaviour, so a test can replay
the recorded exchanges through it (``tests/test_scripts_controller.py``).

Every request is appended to a JSON-lines log (method, path, whether the
token matched, the body) for the tests to read; the token itself is not logged.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import socket
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parent / "zerotier_samples"
NETWORK = re.compile(r"/controller/network/([0-9a-f]{16})")
MEMBER = re.compile(r"/controller/network/([0-9a-f]{16})/member/([0-9a-f]{10})")
MEMBERS = re.compile(r"/controller/network/([0-9a-f]{16})/member")
#: What a POST may set (the rest is the controller's own), as the real controller takes it.
NETWORK_KEYS = (
    "name", "private", "enableBroadcast", "multicastLimit", "routes", "ipAssignmentPools",
    "v4AssignMode", "v6AssignMode", "rules", "tags", "capabilities", "mtu", "dns",
)  # fmt: skip
MEMBER_KEYS = ("name", "authorized", "activeBridge", "noAutoAssignIps", "ipAssignments", "tags", "capabilities")


def recorded() -> list[dict[str, Any]]:
    """The exchanges recorded from a real 1.14.1 controller, in the order they were made."""
    lines = (SAMPLES / "controller-api.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def _template(tag: str) -> dict[str, Any]:
    """The object a recorded answer holds: the shape every object of its kind takes here."""
    found = next(e for e in recorded() if e["tag"] == tag)
    return dict(json.loads(found["answer"]))


def _now() -> int:
    return int(time.time() * 1000)


class Controller:
    """The controller's database: networks and their members, kept in memory."""

    def __init__(self) -> None:
        self.networks: dict[str, dict[str, Any]] = {}
        self.members: dict[str, dict[str, dict[str, Any]]] = {}
        self.network_template = _template("03-network-create")
        self.member_template = _template("07-member-set")

    def network(self, method: str, nwid: str, body: dict[str, Any]) -> tuple[int, Any]:
        current = self.networks.get(nwid)
        if method == "GET":
            return (200, current) if current else (404, None)
        if method == "DELETE":
            if current is None:
                return 404, None
            self.members.pop(nwid, None)
            return 200, self.networks.pop(nwid)
        if current is None:
            current = copy.deepcopy(self.network_template)
            current.update({"id": nwid, "nwid": nwid, "creationTime": _now(), "revision": 0})
            self.networks[nwid] = current
            self.members[nwid] = {}
        _apply(current, body, NETWORK_KEYS)
        return 200, current

    def member(self, method: str, nwid: str, address: str, body: dict[str, Any]) -> tuple[int, Any]:
        if nwid not in self.networks:
            return 404, None
        members = self.members[nwid]
        current = members.get(address)
        if method == "GET":
            return (200, current) if current else (404, None)
        if method == "DELETE":
            return (200, members.pop(address)) if current else (404, None)
        if current is None:
            current = copy.deepcopy(self.member_template)
            current.update({"id": address, "address": address, "nwid": nwid, "creationTime": _now(), "revision": 0})
            current.update({"authorized": False, "lastAuthorizedTime": 0, "lastDeauthorizedTime": 0})
            current.update({"ipAssignments": [], "tags": [], "name": "", "noAutoAssignIps": False})
            members[address] = current
        was = current["authorized"]
        _apply(current, body, MEMBER_KEYS)
        if current["authorized"] != was:
            current["lastAuthorizedTime" if current["authorized"] else "lastDeauthorizedTime"] = _now()
        return 200, current


def _apply(current: dict[str, Any], body: dict[str, Any], keys: tuple[str, ...]) -> None:
    """Sets ``body``'s settable keys; the revision rises only when something changed (or the object is new)."""
    before = {k: current.get(k) for k in keys}
    current.update({k: v for k, v in body.items() if k in keys})
    if current["revision"] == 0 or before != {k: current.get(k) for k in keys}:
        current["revision"] += 1


def answer(controller: Controller, method: str, path: str, authorized: bool, raw: bytes) -> tuple[int, bytes | None]:
    """One request's status and JSON body (None: an empty answer without Content-Type, as the real 404)."""
    if not authorized:
        return 401, b"{}"
    body = json.loads(raw) if raw.strip() else {}
    code: int
    found: Any
    if match := MEMBER.fullmatch(path):
        code, found = controller.member(method, match[1], match[2], body)
    elif match := MEMBERS.fullmatch(path):
        members = controller.members.get(match[1])
        code, found = (200, {a: m["revision"] for a, m in members.items()}) if members is not None else (404, None)
    elif match := NETWORK.fullmatch(path):
        code, found = controller.network(method, match[1], body)
    elif path == "/controller/network" and method == "GET":
        code, found = 200, sorted(controller.networks)
    else:
        code, found = 404, None
    return code, None if found is None else json.dumps(found, sort_keys=True, separators=(",", ":")).encode()


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
            code, data = answer(controller, self.command, self.path, authorized, raw)
            state.write_text(json.dumps({"networks": controller.networks, "members": controller.members}))
            self.send_response(code)
            if data is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data or b"")))
            self.end_headers()
            self.wfile.write(data or b"")

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
