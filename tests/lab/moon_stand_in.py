"""TEST STAND-INS for what roots.sh calls: ``zerotier-idtool initmoon/genmoon`` and a service restart.

zerotier-one cannot run on the test machines (see ``zerotier_stand_in``).
The stand-in ``zerotier-idtool initmoon`` prints what the real 1.14.1 tool
printed (``zerotier_samples/initmoon.json``: the layout, the keys, the
signing key pair) with the machine's identity in place of the recorded one;
``genmoon`` writes ``000000<address>.moon`` into the working directory and
prints the real tool's line (``zerotier_samples/genmoon.txt``: ``wrote ...
(signed world with timestamp <ms>)``). The signed bytes are a readable
stand-in (the real ones are binary, ``zerotier_samples/000000fda7bc8dbd.moon``)
holding the endpoints and a fresh timestamp, so a second signature differs
from the first as the real one does. An ``/etc/init.d/zerotier-one`` logs
restarts for machines without systemd. Every call is logged for the tests.
"""

from __future__ import annotations

from pathlib import Path

from .machine import Machine

SAMPLES = Path(__file__).resolve().parent / "zerotier_samples"
#: The identity the recorded initmoon ran on; the stand-in puts the machine's in its place.
RECORDED_ID = "fda7bc8dbd"
INITMOON = "/usr/share/ztc-stand-in/initmoon.json"
IDTOOL_LOG = "/var/log/fake-zerotier-idtool.log"
RESTART_LOG = "/var/log/fake-zerotier-restarts.log"

IDTOOL = f"""#!/bin/sh
# TEST STAND-IN for zerotier-idtool (initmoon, genmoon only).
echo "$*" >>{IDTOOL_LOG}
case $1 in
    initmoon)
        id=$(cut -d: -f1 "$2")
        sed -e "s/\\"id\\": \\"{RECORDED_ID}\\"/\\"id\\": \\"$id\\"/" \\
            -e "s/\\"identity\\": \\"{RECORDED_ID}:[^\\"]*\\"/\\"identity\\": \\"$(cat "$2")\\"/" {INITMOON}
        ;;
    genmoon)
        id=$(sed -n 's/^ "id": "\\([0-9a-f]*\\)".*/\\1/p' "$2")
        endpoints=$(sed -n 's/.*"stableEndpoints": \\(.*\\)$/\\1/p' "$2")
        stamp=$(date +%s%3N)
        printf 'TEST STAND-IN signed moon %s endpoints %s timestamp %s\\n' "$id" "$endpoints" "$stamp" \\
            >"000000$id.moon"
        echo "wrote 000000$id.moon (signed world with timestamp $stamp)"
        ;;
    *) echo "stand-in zerotier-idtool: $1 not supported" >&2; exit 1 ;;
esac
"""

INIT_SCRIPT = f"""#!/bin/sh
# TEST STAND-IN service script: records restarts of zerotier-one.
echo "$1" >>{RESTART_LOG}
"""


def install_moon_tools(machine: Machine) -> None:
    machine.write("/usr/sbin/zerotier-idtool", IDTOOL, mode=0o755)
    machine.write(INITMOON, (SAMPLES / "initmoon.json").read_text())
    machine.write("/etc/init.d/zerotier-one", INIT_SCRIPT, mode=0o755)
    machine.path("/var/lib/zerotier-one/moons.d").mkdir(parents=True, exist_ok=True)


def calls(machine: Machine, log: str) -> list[str]:
    path = machine.path(log)
    return path.read_text().splitlines() if path.exists() else []
