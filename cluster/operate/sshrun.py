"""Reaching nodes from the operator's machine with OpenSSH, as the program's commands reach them.

``python -m cluster status`` uses the same connection settings as
:mod:`cluster.declare.connection` (user, port, jump host, expected host key) but runs
the system's ``ssh``, so the key comes from ``--identity`` or the SSH agent,
never from Pulumi's encrypted config. Every value on the ``ssh`` command line
is a separate argv element; the one shell string OpenSSH needs (a jump host's
``ProxyCommand``) is built from quoted parts.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from cluster.spec import NodeSpec

#: Whatever the node's key, as the program does when a node has no ``hostKey``.
ANY_HOST_KEY = ("-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null")


@dataclass(frozen=True)
class Reply:
    """What one node answered; ``error`` says why there is no answer."""

    stdout: str = ""
    stderr: str = ""
    error: str | None = None


@dataclass(frozen=True)
class Ssh:
    """How to reach nodes: an optional key file, a per-node time limit, a directory for known_hosts files."""

    identity: Path | None
    timeout: float
    scratch: Path

    def _common(self) -> list[str]:
        connect = max(1, min(int(self.timeout), 10))
        argv = ["-o", "BatchMode=yes", "-o", f"ConnectTimeout={connect}", "-o", "LogLevel=ERROR"]
        argv += ["-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=2"]
        if self.identity is not None:
            argv += ["-i", str(self.identity), "-o", "IdentitiesOnly=yes"]
        return argv

    def _host_keys(self, node: NodeSpec, host: str) -> list[str]:
        """Pins the node's ``hostKey`` in a known_hosts file of its own; without one any key is accepted."""
        if node.host_key is None:
            return list(ANY_HOST_KEY)
        pattern = host if node.port == 22 else f"[{host}]:{node.port}"
        known = self.scratch / f"known_hosts.{node.name}"
        known.write_text(f"{pattern} {node.host_key}\n", encoding="utf-8")
        return [
            "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known}",
            "-o", "GlobalKnownHostsFile=/dev/null",
        ]  # fmt: skip

    def argv(self, node: NodeSpec, command: str) -> list[str]:
        """The ssh command line for ``node`` (whose host and user are literals) running ``command``."""
        assert isinstance(node.host, str)
        assert isinstance(node.user, str)
        argv = ["ssh", "-T", *self._common(), *self._host_keys(node, node.host), "-p", str(node.port)]
        if node.proxy is not None:
            # The jump host's ssh gets the same key and limits; ssh expands %h/%p, so a literal % is doubled.
            jump = ["ssh", *self._common(), *ANY_HOST_KEY, "-p", str(node.proxy.port), "-W", "%h:%p"]
            jump.append(f"{node.proxy.user}@{node.proxy.host}")
            quoted = " ".join(a if a == "%h:%p" else shlex.quote(a).replace("%", "%%") for a in jump)
            argv += ["-o", f"ProxyCommand={quoted}"]
        return [*argv, "--", f"{node.user}@{node.host}", command]

    def run(self, node: NodeSpec, command: str, stdin: str) -> Reply:
        """Runs ``command`` on ``node`` with ``stdin``; never waits longer than the time limit."""
        if not isinstance(node.host, str) or not isinstance(node.user, str):
            return Reply(error="its host or user comes from another resource; status needs literal values")
        process = subprocess.Popen(
            self.argv(node, command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            # Its own process group: on timeout the jump host's ssh goes too, and our pipes close.
            start_new_session=True,
        )
        try:
            out, err = process.communicate(stdin, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            return Reply(error=f"no answer within {self.timeout:g}s (--timeout)")
        if process.returncode == 255:
            reason = err.strip().splitlines()[-1] if err.strip() else "ssh failed"
            return Reply(stdout=out, stderr=err, error=f"ssh: {reason}")
        return Reply(stdout=out, stderr=err)


def run_all(
    ssh: Ssh,
    jobs: Sequence[tuple[NodeSpec, str]],
    command: str,
    parallel: int,
    progress: Callable[[int, int, str], None] | None = None,
) -> dict[str, Reply]:
    """Runs ``command`` on every node with its stdin, at most ``parallel`` at a time; replies by node name."""
    replies: dict[str, Reply] = {}
    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        futures = {pool.submit(ssh.run, node, command, stdin): node.name for node, stdin in jobs}
        for done, future in enumerate(as_completed(futures), start=1):
            name = futures[future]
            try:
                replies[name] = future.result()
            except OSError as err:  # ssh itself missing or not runnable
                replies[name] = Reply(error=f"could not run ssh: {err}")
            if progress is not None:
                progress(done, len(futures), name)
    return replies
