"""What the head pays for ``controller: head``'s SSH connections: sshd memory per open connection.

pulumi-command never closes a command's SSH client before the run ends
(``remote/commandOutputs.go`` closes only the session), so the head holds one
connection per member command a run changes. This boots a Debian 12 test
machine running sshd (``tests/lab``; needs root, systemd-nspawn and the
cached tree), opens ``--sessions`` connections from an operator namespace and
prints the proportional set size of all sshd processes before and after::

    sudo python3 bench/head_sessions.py --sessions 40
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.lab.machine import Machine
from tests.lab.netns import Segment
from tests.lab.rootfs import ensure_rootfs
from tests.lab.ssh import OPTIONS, Operator

PSS = "for p in $(pgrep sshd); do grep ^Pss: /proc/$p/smaps_rollup; done | awk '{s+=$2} END {print s, NR}'"


def sshd_pss(machine: Machine) -> tuple[int, int]:
    """KiB of proportional set size of every sshd process, and how many there are."""
    kib, count = machine.exec(["sh", "-c", PSS]).stdout.split()
    return int(kib), int(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=40)
    sessions = parser.parse_args().sessions
    work = Path(tempfile.mkdtemp(prefix="head-sessions-"))
    with Segment() as segment:
        operator = Operator(segment.add_host("op"), work / "op")
        head = Machine(segment.add_host("head"), ensure_rootfs(), work / "head")
        held: list[subprocess.Popen[str]] = []
        try:
            head.authorize("ops", operator.public_key)
            head.start_sshd()
            before = sshd_pss(head)
            for _ in range(sessions):
                argv = ["ssh", "-i", str(operator.key), *OPTIONS, f"ops@{head.host.ip}", "sleep 300"]
                held.append(operator.host.popen(argv))
                time.sleep(0.3)  # under MaxStartups' 10 unauthenticated connections
            time.sleep(3)
            after = sshd_pss(head)
            per = (after[0] - before[0]) / sessions
            print(f"sshd before: {before[0]} KiB in {before[1]} processes")
            print(f"sshd with {sessions} connections: {after[0]} KiB in {after[1]} processes")
            print(f"per connection: {per:.0f} KiB; 500 members: {per * 500 / 1024:.0f} MiB")
        finally:
            for process in held:
                process.kill()
            head.close()


if __name__ == "__main__":
    main()
