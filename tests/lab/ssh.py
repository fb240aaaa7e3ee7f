"""OpenSSH as the program's remote commands use it: one command line, one stdin."""

from __future__ import annotations

import subprocess
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
        argv = ["ssh", "-i", str(self.key), *OPTIONS, "-p", str(port)]
        if proxy is not None:
            jump = f"ssh -i {self.key} {' '.join(OPTIONS)} -W %h:%p {proxy}"
            argv += ["-o", f"ProxyCommand={jump}"]
        argv += [f"{user}@{target}", command]
        return self.host.run(argv, input=stdin, timeout=timeout)
