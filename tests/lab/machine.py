"""A Debian 12 machine in a network namespace: sshd only, or booted with systemd.

``systemd-nspawn`` runs a copy-on-write overlay of the cached tree on a
:class:`~tests.lab.netns.Host`'s namespace, so the machine's firewall is that
namespace's nftables and its files are its own.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .netns import Host, sh


class Machine:
    """One container. Use :meth:`start_sshd` for a plain host or :meth:`boot` for systemd."""

    def __init__(self, host: Host, rootfs: Path, workdir: Path) -> None:
        self.host = host
        self.workdir = workdir
        self.merged = workdir / "root"
        self.rootfs = rootfs
        for part in ("upper", "work", "root"):
            (workdir / part).mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen[bytes] | None = None
        self.booted = False
        self._mount()

    def _mount(self) -> None:
        """The cached tree under a fresh (or the kept) writable layer, named after its host."""
        sh([
            "mount", "-t", "overlay", "overlay", "-o",
            f"lowerdir={self.rootfs},upperdir={self.workdir / 'upper'},workdir={self.workdir / 'work'}",
            str(self.merged),
        ])  # fmt: skip
        name = self.host.name
        self.write("/etc/hostname", f"{name}\n")
        self.write("/etc/hosts", f"127.0.0.1\tlocalhost\n127.0.1.1\t{name}\n::1\tlocalhost ip6-localhost\n")

    # -- files -------------------------------------------------------------

    def path(self, inside: str) -> Path:
        return self.merged / inside.lstrip("/")

    def write(self, inside: str, content: str, *, mode: int = 0o644, owner: str | None = None) -> None:
        """Writes a file into the machine (before or while it runs)."""
        target = self.path(inside)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
        target.chmod(mode)
        if owner is not None:
            sh(["chroot", str(self.merged), "chown", owner, inside])

    def authorize(self, user: str, public_key: str) -> None:
        home = "/root" if user == "root" else f"/home/{user}"
        self.write(f"{home}/.ssh/authorized_keys", public_key.strip() + "\n", mode=0o600)
        sh(
            [
                "chroot",
                str(self.merged),
                "chown",
                "-R",
                f"{user}:{user}" if user != "root" else "root:root",
                f"{home}/.ssh",
            ]
        )

    # -- lifecycle -----------------------------------------------------------

    def _spawn(self, argv: Sequence[str], boot: bool) -> None:
        log = open(self.workdir / "console.log", "ab")  # noqa: SIM115 - lives as long as the process
        command = [
            "systemd-nspawn", "--quiet", "--register=no", "--keep-unit", "--console=passive",
            f"--network-namespace-path={self.host.netns_path}", f"--machine={self.host.name}",
            "-D", str(self.merged),
            # A joined namespace is not "private networking" to nspawn, so it drops
            # CAP_NET_ADMIN; nftables and ZeroTier's tap device need it.
            "--capability=CAP_NET_ADMIN",
        ]  # fmt: skip
        command += ["--boot"] if boot else ["--as-pid2", *argv]
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        self.booted = boot

    def start_sshd(self) -> None:
        """Runs only sshd (no init): a lightweight host reachable over SSH."""
        self._spawn(["/bin/sh", "-c", "mkdir -p /run/sshd && exec /usr/sbin/sshd -D -e"], boot=False)
        self.wait_for_port(22)

    def boot(self, timeout: float = 90) -> None:
        """Boots systemd and waits until it has settled (sshd included)."""
        self._spawn([], boot=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.leader() is not None:
                state = self.exec(["systemctl", "is-system-running", "--wait"], timeout=timeout)
                if state.stdout.strip() in ("running", "degraded"):
                    self.wait_for_port(22)
                    return
            time.sleep(0.2)
        raise TimeoutError(f"{self.host.name} did not boot; see {self.workdir / 'console.log'}")

    def leader(self) -> int | None:
        """The PID of the container's first process, as the host sees it."""
        if self.process is None or self.process.poll() is not None:
            return None
        children = sh(["pgrep", "-P", str(self.process.pid)], check=False).stdout.split()
        return int(children[0]) if children else None

    def exec(
        self, argv: Sequence[str], *, timeout: float = 60, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Runs a command inside the running container, as root."""
        pid = self.leader()
        if pid is None:
            raise RuntimeError(f"{self.host.name} is not running")
        return subprocess.run(
            ["nsenter", "-t", str(pid), "-a", *argv],
            capture_output=True,
            text=True,
            timeout=timeout,
            input=stdin,
            check=False,
        )

    def wait_for_port(self, port: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.host.run(["ss", "-Hltn", f"sport = :{port}"]).stdout.strip():
                return
            time.sleep(0.1)
        raise TimeoutError(f"nothing listens on {self.host.name}:{port}")

    def reboot(self, *, forget_kernel_state: bool = True, timeout: float = 90) -> None:
        """``systemctl reboot`` inside, then boot again like a real host would.

        The namespace outlives the container, so kernel state (nftables) would
        survive a container restart; ``forget_kernel_state`` clears it, as a
        real reboot does, so only what the machine restores at boot is there.
        """
        assert self.process is not None and self.booted
        self.exec(["systemctl", "reboot"])
        code = self.process.wait(timeout=timeout)
        if code != 133:
            raise RuntimeError(f"{self.host.name} exited with {code} instead of rebooting")
        if forget_kernel_state:
            self.host.run(["nft", "flush", "ruleset"], check=True)
        self.boot(timeout=timeout)

    def reimage(self, authorized: dict[str, str], before_start: Callable[[Machine], None] | None = None) -> None:
        """A reinstall on the same host: stopped, a fresh copy of the cached tree, started again as it was.

        Everything the machine wrote is gone (its ZeroTier identity included),
        and so is its kernel state (nftables); its address stays. ``authorized``
        maps users to the public key their login takes again.
        """
        booted = self.booted
        self.stop()
        sh(["umount", str(self.merged)])
        for part in ("upper", "work"):
            shutil.rmtree(self.workdir / part)
            (self.workdir / part).mkdir()
        self.host.run(["nft", "flush", "ruleset"], check=True)
        self._mount()
        for user, key in authorized.items():
            self.authorize(user, key)
        if before_start is not None:
            before_start(self)
        self.boot() if booted else self.start_sshd()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        if self.booted:
            self.exec(["systemctl", "poweroff"], timeout=30)
            try:
                self.process.wait(timeout=30)
                return
            except subprocess.TimeoutExpired:
                pass
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def close(self) -> None:
        self.stop()
        sh(["umount", str(self.merged)], check=False)
        shutil.rmtree(self.workdir, ignore_errors=True)
