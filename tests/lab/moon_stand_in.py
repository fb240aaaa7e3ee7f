"""TEST STAND-INS for what roots.sh calls: ``zerotier-idtool initmoon/genmoon`` and a service restart.

zerotier-one cannot run on the test machines (see ``zerotier_stand_in``).
The stand-in ``zerotier-idtool`` prints a moon definition in the real
command's JSON layout (one root: the identity, ``"stableEndpoints": []``; a
``signingKey_SECRET``) and ``genmoon`` writes ``000000<address>.moon`` into
the working directory, as the real tool does; the signed bytes are a
readable stand-in holding the endpoints and a fresh timestamp, so a second
signature differs from the first as the real one does. An
``/etc/init.d/zerotier-one`` logs restarts for machines without systemd.
Every call is logged for the tests.
"""

from __future__ import annotations

from .machine import Machine

IDTOOL_LOG = "/var/log/fake-zerotier-idtool.log"
RESTART_LOG = "/var/log/fake-zerotier-restarts.log"

IDTOOL = f"""#!/bin/sh
# TEST STAND-IN for zerotier-idtool (initmoon, genmoon only).
echo "$*" >>{IDTOOL_LOG}
case $1 in
    initmoon)
        id=$(cut -d: -f1 "$2")
        random() {{ od -An -N8 -tx1 /dev/urandom | tr -d ' \\n'; }}
        printf '{{\\n "id": "%s",\\n "objtype": "world",\\n "roots": [\\n  {{\\n' "$id"
        printf '   "identity": "%s",\\n   "stableEndpoints": []\\n  }}\\n ],\\n' "$(cat "$2")"
        printf ' "signingKey": "%s",\\n "signingKey_SECRET": "%s",\\n' "pub$(random)" "SECRET$(random)"
        printf ' "updatesMustBeSignedBy": "pub",\\n "worldType": "moon"\\n}}\\n'
        ;;
    genmoon)
        id=$(sed -n 's/^ "id": "\\([0-9a-f]*\\)".*/\\1/p' "$2")
        endpoints=$(sed -n 's/.*"stableEndpoints": \\(.*\\)$/\\1/p' "$2")
        printf 'TEST STAND-IN signed moon %s endpoints %s timestamp %s\\n' "$id" "$endpoints" "$(date +%s%N)" \\
            >"000000$id.moon"
        echo "wrote 000000$id.moon (signed world with timestamp $(date +%s))"
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
    machine.write("/etc/init.d/zerotier-one", INIT_SCRIPT, mode=0o755)
    machine.path("/var/lib/zerotier-one/moons.d").mkdir(parents=True, exist_ok=True)


def calls(machine: Machine, log: str) -> list[str]:
    path = machine.path(log)
    return path.read_text().splitlines() if path.exists() else []
