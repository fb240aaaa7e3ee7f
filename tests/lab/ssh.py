"""OpenSSH as the program's remote commands use it: one command line, one stdin."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from .netns import Host, sh

OPTIONS = (
    "-o", "BatchMode=yes",
    "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null",
    "-o", "LogLevel=ERROR",
    "-o", "ConnectTimeout=10",
)  # fmt: skip


class Operator:
    """The operator's workstation: a namespace on the segment with an SSH key."""

    def __init__(self, host: Host, workdir: Path) -> None:
        self.host = host
        workdir.mkdir(parents=True, exist_ok=True)
        self.key = workdir / "id_ed25519"
        if not self.key.exists():
            sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ztc-tests", "-f", str(self.key)])
        self.public_key = self.key.with_suffix(".pub").read_text()

    def _argv(self, tool: str, port: int, proxy: str | None) -> list[str]:
        argv = [tool, "-i", str(self.key), *OPTIONS, "-P" if tool == "sftp" else "-p", str(port)]
        if proxy is not None:
            jump = f"ssh -i {self.key} {' '.join(OPTIONS)} -W %h:%p {proxy}"
            argv += ["-o", f"ProxyCommand={jump}"]
        return argv

    def upload(
        self, target: str, user: str, data: bytes, remote_path: str, *, port: int = 22, proxy: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Writes ``data`` to ``remote_path`` (relative: in the login's home) over SFTP, like CopyToRemote."""
        with tempfile.NamedTemporaryFile(dir=self.key.parent, prefix="upload.") as local:
            local.write(data)
            local.flush()
            parent = remote_path.rpartition("/")[0]
            batch = (f"-mkdir {parent}\n" if parent else "") + f"put {local.name} {remote_path}\n"
            argv = [*self._argv("sftp", port, proxy), "-b", "-", f"{user}@{target}"]
            return self.host.run(argv, input=batch, timeout=60)

    def run(
        self,
        target: str,
        user: str,
        command: str,
        *,
        stdin: str = "",
        port: int = 22,
        timeout: float = 300,
        proxy: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Runs ``command`` on ``user@target`` with ``stdin``, like pulumi-command's remote.Command."""
        argv = [*self._argv("ssh", port, proxy), f"{user}@{target}", command]
        return self.host.run(argv, input=stdin, timeout=timeout)
