"""Output captured from a real ZeroTier One 1.14.1, read by join.sh and replayed by the stand-in CLI.

``tests/lab/zerotier_samples/`` holds what a real daemon printed (nested
``dns``, ``routes``, ``multicastSubscriptions``; real interface names). Here,
without root or machines:

* join.sh's own JSON reader (``zt_networks_awk``, taken from the script as it
  ships) runs with the host's awk over every sample, pretty and compacted;
* the stand-in ``zerotier-cli`` that the SSH tests put on their machines is
  shown to print exactly those samples for the same scenario, so what
  join.sh meets in CI is what it meets on a node.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.lab.zerotier_stand_in import FAKE_CLI, SAMPLES
from tests.mockrun import ROOT

JOIN = ROOT / "cluster" / "scripts" / "join.sh"

#: What zt_networks_awk prints: nwid, status, interface, addresses (or -), portError.
ROWS = {
    "listnetworks-ok.json": [
        "354616c278cbb196\tOK\tztcluster0\t10.147.17.1/24\t0",
        "354616c278fffff0\tNOT_FOUND\tzt647ospmi\t-\t0",
        "8056c2e21c1930be\tREQUESTING_CONFIGURATION\tztmjfnxuvc\t-\t0",
    ],
    "listnetworks-denied-notfound.json": [
        "354616c278cbb196\tACCESS_DENIED\tzt647n247o\t-\t0",
        "354616c278fffff0\tNOT_FOUND\tzt647ospmi\t-\t0",
        "8056c2e21c1930be\tREQUESTING_CONFIGURATION\tztmjfnxuvc\t-\t0",
    ],
    "info-offline.json": [],  # an object, not a list of networks: no rows
}
AWKS = [a for a in ("mawk", "gawk", "original-awk", "busybox") if shutil.which(a)] or ["awk"]


def _awk_program(path: Path, name: str) -> str:
    found = re.search(rf"^{name}='(.*?)'$", path.read_text(), re.S | re.M)
    assert found is not None, f"{name} not found in {path.name}"
    return found.group(1)


def networks_awk() -> str:
    """join.sh's JSON reader, exactly as the step composes it: its callbacks, then lib.sh's walker."""
    return _awk_program(JOIN, "zt_networks_awk") + _awk_program(JOIN.parent / "lib.sh", "ZTC_JSON_AWK")


def read_networks(awk: str, text: str) -> list[str]:
    argv = [awk, "awk", networks_awk()] if awk == "busybox" else [awk, networks_awk()]
    done = subprocess.run(argv, input=text, capture_output=True, text=True, check=True, timeout=60)
    return done.stdout.splitlines()


def test_every_sample_has_expected_rows() -> None:
    assert sorted(p.name for p in SAMPLES.glob("*.json") if p.name.startswith(("info-", "listnetworks-"))) == sorted(
        ROWS
    )


@pytest.mark.parametrize("awk", AWKS)
@pytest.mark.parametrize("sample", sorted(ROWS))
def test_join_reads_every_captured_sample(awk: str, sample: str) -> None:
    text = (SAMPLES / sample).read_text()
    assert read_networks(awk, text) == ROWS[sample]
    compact = json.dumps(json.loads(text), separators=(",", ":"))  # as `zerotier-cli -j join` prints it
    assert read_networks(awk, compact) == ROWS[sample]


@pytest.mark.parametrize("awk", AWKS)
def test_join_reads_names_with_json_syntax_and_keys_in_any_order(awk: str) -> None:
    network = json.loads((SAMPLES / "listnetworks-ok.json").read_text())[0]
    network["name"] = 'we{ird "name", [x]'
    reordered = dict(reversed(list(network.items())))
    assert read_networks(awk, json.dumps([reordered], indent=2)) == ROWS["listnetworks-ok.json"][:1]


class StandIn:
    """The stand-in zerotier-cli run on this host, every path under a scratch root (FAKE_ZT_ROOT)."""

    def __init__(self, root: Path, address: str = "354616c278") -> None:
        self.root = root
        home = root / "var/lib/zerotier-one"
        (home / "networks.d").mkdir(parents=True)
        (root / "var/log").mkdir(parents=True)
        shutil.copytree(SAMPLES, root / "usr/share/zerotier-stand-in")
        (home / "identity.public").write_text(f"{address}:0:{'ab' * 32}\n")
        (home / "authtoken.secret").write_text("stand-in\n")
        (home / "zerotier-one.port").write_text("9993\n")

    def scenario(self, **values: str) -> None:
        path = self.root / "etc/fake-zerotier/scenario"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{k}='{v}'\n" for k, v in values.items()))

    def devicemap(self, text: str) -> None:
        (self.root / "var/lib/zerotier-one/devicemap").write_text(text)

    def __call__(self, *args: str) -> str:
        done = subprocess.run(
            ["sh", str(FAKE_CLI), *args],
            env={"PATH": "/usr/bin:/bin", "FAKE_ZT_ROOT": str(self.root)},
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return done.stdout


def sample(name: str, index: int) -> dict[str, object]:
    networks: list[dict[str, object]] = json.loads((SAMPLES / name).read_text())
    return networks[index]


@pytest.mark.parametrize(
    ("nwid", "scenario", "devicemap", "expected", "text_line"),
    [
        (
            "354616c278cbb196",
            {"STATUS": "OK", "ADDRESSES": "10.147.17.1/24", "NAME": "capnet"},
            "354616c278cbb196=ztcluster0\n",
            sample("listnetworks-ok.json", 0),
            "200 listnetworks 354616c278cbb196 capnet 96:84:8d:6e:00:6e OK PRIVATE ztcluster0 10.147.17.1/24",
        ),
        (
            "354616c278fffff0",
            {"STATUS": "NOT_FOUND"},
            "",
            sample("listnetworks-ok.json", 1),
            "200 listnetworks 354616c278fffff0  f2:ca:b9:6e:00:6e NOT_FOUND PRIVATE zt647ospmi -",
        ),
        (
            "8056c2e21c1930be",
            {"STATUS": "REQUESTING_CONFIGURATION"},
            "",
            sample("listnetworks-ok.json", 2),
            "200 listnetworks 8056c2e21c1930be  be:05:5f:0a:20:ba REQUESTING_CONFIGURATION PRIVATE ztmjfnxuvc -",
        ),
        (
            "354616c278cbb196",
            {"STATUS": "ACCESS_DENIED"},
            "",
            sample("listnetworks-denied-notfound.json", 0),
            "200 listnetworks 354616c278cbb196  96:84:8d:6e:00:6e ACCESS_DENIED PRIVATE zt647n247o -",
        ),
    ],
    ids=["ok-pinned-interface", "not-found", "requesting", "access-denied"],
)
def test_the_stand_in_cli_prints_the_captured_network_for_the_same_scenario(
    tmp_path: Path,
    nwid: str,
    scenario: dict[str, str],
    devicemap: str,
    expected: dict[str, object],
    text_line: str,
) -> None:
    cli = StandIn(tmp_path)
    cli.scenario(**scenario)
    cli.devicemap(devicemap)
    assert cli("join", nwid) == "200 join OK\n"
    assert json.loads(cli("-j", "listnetworks")) == [expected]
    assert cli("listnetworks").splitlines() == [
        "200 listnetworks <nwid> <name> <mac> <status> <type> <dev> <ZT assigned ips>",
        text_line,
    ]


def test_the_stand_in_cli_names_interfaces_as_zerotier_does(tmp_path: Path) -> None:
    cli = StandIn(tmp_path)
    for nwid in ("354616c278cbb196", "354616c278fffff0", "8056c2e21c1930be"):
        cli("join", nwid)
    rows = read_networks("awk", cli("-j", "listnetworks"))
    # The names the real daemon gave these networks (the captured samples).
    assert [row.split("\t")[2] for row in rows] == ["zt647n247o", "zt647ospmi", "ztmjfnxuvc"]


def test_the_stand_in_cli_prints_the_captured_info(tmp_path: Path) -> None:
    cli = StandIn(tmp_path)
    cli.scenario(ONLINE="OFFLINE")
    captured = json.loads((SAMPLES / "info-offline.json").read_text())
    printed = json.loads(cli("-j", "info"))
    assert {k: v for k, v in printed.items() if k != "clock"} == {k: v for k, v in captured.items() if k != "clock"}
    assert cli("info") == (SAMPLES / "info-offline.txt").read_text()
    cli.scenario(ONLINE="ONLINE")
    assert json.loads(cli("-j", "info"))["online"] is True
