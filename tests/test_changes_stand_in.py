"""Every lifecycle change carried out on test machines and compared with a fresh deploy of the new config.

For each change: the old config deployed (every operation
:func:`tests.engine.operations` derives from an empty state, carried out by
``tests/lab/engine_run.py``), the machines changed as the change says (a
reimage, a new machine), the new config applied (exactly the operations the
engine's rules derive from the two evaluations), and the end state taken:
the controller's networks and members, and on every node the files the steps
keep (``/etc/hosts``, the join state and devicemap, the firewall ruleset,
the networks joined). Then every machine is wiped (the same identities put
back), the controller emptied, the new config deployed fresh, and the state
taken again: the two must be equal. The members are also held to literals:
one per node and device the config names, authorized at its address.

Machines run sshd only, with the stand-in ``zerotier-cli`` and the stand-in
of the head's controller API (``tests/lab/controller_stand_in.py``), so this
runs in CI; what only real daemons show (reaching each other over the
overlay) is in ``tests/test_lab_changes.py``. Not run here: ``install`` (no
package offline; ``tests/test_scripts_install.py``) and ``verify`` (no
overlay to ping), both recorded as operations all the same. Central's
Members are applied to the stand-in controller as the Terraform provider
applies them to Central; the changes that replace and remove no member (SSH
login, key and port, a version bump, a node added) run under ``controller:
head`` only, both controllers being covered by ``tests/test_changes.py``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cluster.config.parse import parse_cluster
from cluster.plan.network import cluster_rules, network_settings, network_suffix
from tests import engine
from tests.lab.controller_stand_in import ControllerStandIn
from tests.lab.engine_run import EngineRun, controller_api
from tests.lab.machine import Machine
from tests.lab.ssh import Operator
from tests.lab.zerotier_stand_in import ZT_HOME, install_fake_cli
from tests.mockrun import ROOT, Run, run_program

pytestmark = pytest.mark.machine
PREFIX = "zerotier-cluster-"
EMPTY = Run([], {}, set())
TOKEN, KEY = "zerotier:zerotierCentralToken", "zerotier-cluster:sshPrivateKey"
LAPTOP = "abcdef0123"
#: Each node's overlay address and the ZeroTier address its (stand-in) identity has.
NODES = {
    "head": ("head", "10.147.17.1", "a1a1a1a1a1"),
    "compute-01": ("compute", "10.147.17.11", "c1c1c1c1c1"),
    "compute-02": ("compute", "10.147.17.12", "c2c2c2c2c2"),
    "compute-03": ("compute", "10.147.17.13", "c3c3c3c3c3"),
}
REIMAGED = "c1c1c1c1ff"  # compute-01's identity after a reinstall
#: Where the head's controller holds this stack's network: the head's address and sha256(name)[:6].
NETWORK_ID = NODES["head"][2] + network_suffix("chpc-overlay")


@dataclass
class Site:
    """The machines by node name, what the config says of them, and the head's controller."""

    operator: Operator
    make: Callable[..., Machine]
    workdir: Path
    controller: str
    machines: dict[str, Machine] = field(default_factory=dict)
    identities: dict[str, str] = field(default_factory=dict)
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    top: dict[str, Any] = field(default_factory=dict)
    api: ControllerStandIn | None = None
    apis: int = 0
    #: Ports sshd listens on besides 22, on every machine made or wiped from now on.
    ports: tuple[int, ...] = ()
    name: str = "chpc-overlay"
    #: ``controller: central``: the network's settings as Central holds them.
    central: dict[str, Any] = field(default_factory=dict)

    def machine(self, name: str, host: str | None = None) -> Machine:
        """A machine for node ``name`` (hostname ``host``) with the stand-in CLI and its identity."""
        machine = self.make(host or name)
        self.prepare(name, machine)
        return machine

    def prepare(self, name: str, machine: Machine) -> None:
        address = self.identities.setdefault(name, NODES[name][2])
        install_fake_cli(machine, address=address, scenario={"ADDRESSES": f"{NODES[name][1]}/24"})
        if self.ports:
            machine.write("/etc/ssh/sshd_config.d/ports.conf", "".join(f"Port {p}\n" for p in (22, *self.ports)))

    def add(self, name: str) -> None:
        role, ip, _ = NODES[name]
        self.machines[name] = self.machine(name)
        self.nodes[name] = {"name": name, "role": role, "host": str(self.machines[name].host.ip), "ip": ip}

    def start_controller(self) -> None:
        """The head's controller API, empty (a fresh head's)."""
        if self.api is not None:
            self.api.stop()
        self.apis += 1
        self.api = ControllerStandIn(self.machines["head"], self.workdir / f"api-{self.apis}").start()
        if self.controller == "central":  # Central holds the network (as first set up); the stack only uses it
            if not self.central:
                spec = parse_cluster(self.config(), base_dir=ROOT)
                self.central = json.loads(network_settings(spec.network, cluster_rules(spec)))
            path = f"/controller/network/{NETWORK_ID}"
            assert controller_api(self.machines["head"], "POST", path, self.central)[0] == 200

    def config(self) -> dict[str, Any]:
        network = {"name": self.name, "cidr": "10.147.17.0/24", "interface": "ztcluster0"}
        if self.controller == "central":
            network |= {"networkId": NETWORK_ID, "manage": False}
        config = {"network": network, "ssh": {"user": "ops"}, "nodes": list(self.nodes.values())}
        return {**config, "controller": self.controller, "devices": [{"name": "laptop", "address": LAPTOP}], **self.top}

    def evaluate(self) -> Run:
        config = {f"zerotier-cluster:{k}": json.dumps(v) for k, v in self.config().items()}
        config[KEY] = self.operator.key.read_text()
        secrets = [KEY]
        if self.controller == "central":
            config[TOKEN] = "a-token"
            secrets.append(TOKEN)
        return run_program(config, secrets, addresses=self.identities)

    def up(self, old: Run) -> tuple[Run, EngineRun]:
        """``pulumi up`` of the config as it is now over ``old``: its operations carried out."""
        new = self.evaluate()
        by_host = {str(m.host.ip): m for m in self.machines.values()}
        run = EngineRun(self.operator, lambda: by_host, lambda: self.machines["head"], ("install", "verify"))
        run.apply(engine.operations(old, new))
        return new, run

    def state(self) -> dict[str, Any]:
        """What a deploy leaves: the controller's networks and members, the files each node's steps keep."""
        assert self.api is not None
        stored = self.api.state()
        volatile = re.compile(r"creationTime|revision|last(De)?[Aa]uthorizedTime")
        found: dict[str, Any] = {
            "networks": {
                k: {f: v for f, v in n.items() if not volatile.fullmatch(f)} for k, n in stored["networks"].items()
            },
            "members": {
                nwid: {a: {f: v for f, v in m.items() if not volatile.fullmatch(f)} for a, m in members.items()}
                for nwid, members in stored["members"].items()
            },
        }
        for name, machine in self.machines.items():
            files = {}
            for path in ("/etc/hosts", "/var/lib/zerotier-cluster/join", f"{ZT_HOME}/devicemap"):
                target = machine.path(path)
                files[path] = target.read_text() if target.exists() else None
            files["networks.d"] = sorted(p.name for p in machine.path(f"{ZT_HOME}/networks.d").glob("*.conf"))
            files["nft"] = machine.host.run(["nft", "list", "ruleset"], check=True).stdout
            found[name] = files
        return found

    def members(self) -> dict[str, tuple[bool, list[str], str]]:
        """The members of this stack's network: address → (authorized, addresses, name)."""
        assert self.api is not None
        members = self.api.state()["members"]
        nwid = NETWORK_ID if self.controller == "central" else NODES["head"][2] + network_suffix(self.name)
        assert set(members) == {nwid}, f"networks on the controller: {sorted(members)}"
        return {a: (m["authorized"], m["ipAssignments"], m["name"]) for a, m in members[nwid].items()}

    def fresh(self) -> dict[str, Any]:
        """The state a fresh deploy of the current config leaves on wiped machines."""
        keys = dict.fromkeys(("root", "ops", "pw"), self.operator.public_key)
        for name, machine in self.machines.items():
            machine.reimage(keys, lambda m, name=name: self.prepare(name, m))  # type: ignore[misc]
        self.start_controller()
        self.up(EMPTY)
        return self.state()


@pytest.fixture(params=["head", "central"])
def site(request, machine_factory, operator, tmp_path: Path) -> Iterator[Site]:
    site = Site(operator, machine_factory, tmp_path, request.param)
    for name in ("head", "compute-01", "compute-02"):
        site.add(name)
    site.start_controller()
    yield site
    if site.api is not None:  # it runs in the head's namespace, which outlives no test
        site.api.stop()


def authorized(*names: str, **addresses: str) -> dict[str, tuple[bool, list[str], str]]:
    """The members a fresh deploy leaves: each node named, at its address (``addresses`` for new identities)."""
    found = {addresses.get(n.replace("-", "_"), NODES[n][2]): (True, [NODES[n][1]], n) for n in names}
    return {**found, LAPTOP: (True, ["10.147.17.55"], "laptop")}


def change_and_compare(site: Site, change: Callable[[Site], None]) -> tuple[EngineRun, dict[str, Any]]:
    """Deploys, changes, applies; returns the operations run and the end state, checked equal to a fresh deploy."""
    deployed, _ = site.up(EMPTY)
    change(site)
    _, run = site.up(deployed)
    after = site.state()
    assert after == site.fresh(), "the change ends where a fresh deploy of the new config does"
    return run, after


def reimage(site: Site) -> None:
    site.identities["compute-01"] = REIMAGED
    site.machines["compute-01"].reimage(
        dict.fromkeys(("root", "ops", "pw"), site.operator.public_key), lambda m: site.prepare("compute-01", m)
    )
    site.nodes["compute-01"]["generation"] = 1


def new_host(site: Site) -> None:
    site.machines["compute-01"].stop()
    site.identities["compute-01"] = REIMAGED
    site.machines["compute-01"] = site.machine("compute-01", "compute-01b")
    site.nodes["compute-01"]["host"] = str(site.machines["compute-01"].host.ip)


def test_a_reimaged_node_keeps_no_old_identity(site: Site) -> None:
    run, _ = change_and_compare(site, reimage)
    assert site.members() == authorized("head", "compute-01", "compute-02", compute_01=REIMAGED)
    ran = run.ran()
    assert ran.index((f"{PREFIX}compute-01-member", "delete")) < ran.index((f"{PREFIX}compute-01-member", "create"))
    assert all(name.startswith(f"{PREFIX}compute-01-") for name, _ in ran), "nothing of another node runs"


def test_a_machine_at_a_new_host_gets_its_bundle_and_keeps_no_old_identity(site: Site) -> None:
    run, _ = change_and_compare(site, new_host)
    assert site.members() == authorized("head", "compute-01", "compute-02", compute_01=REIMAGED)
    assert (f"{PREFIX}compute-01-bundle", "copy") in run.ran()


@pytest.mark.parametrize("site", ["head"], indirect=True)  # no member replaced or removed (see the docstring)
@pytest.mark.parametrize("what", ["user", "key"])
def test_a_rotated_login_port_or_key_changes_no_member(site: Site, what: str) -> None:
    def rotate(site: Site) -> None:
        if what == "user":  # another login with the same key
            site.nodes["compute-01"]["user"] = "root"
        else:  # a new key, and only it authorized
            site.operator.key.unlink()
            site.operator.key.with_suffix(".pub").unlink()
            site.operator = Operator(site.operator.host, site.operator.key.parent)
            for machine in site.machines.values():
                for user in ("root", "ops", "pw"):
                    machine.authorize(user, site.operator.public_key)

    run, _ = change_and_compare(site, rotate)
    assert site.members() == authorized("head", "compute-01", "compute-02")
    members = [op for op in run.ran() if op[0].endswith("-member")]
    assert all(action == "update" for _, action in members), "no member replaced or deleted"


@pytest.mark.parametrize("site", ["head"], indirect=True)  # no member replaced or removed (see the docstring)
def test_a_version_bump_reruns_install_alone(site: Site) -> None:
    run, _ = change_and_compare(site, lambda s: s.top.update(zerotierVersion="1.14.2"))
    assert {step.rsplit("-", 1)[1] for step, _, _ in run.done} == {"bundle", "install"}
    assert site.members() == authorized("head", "compute-01", "compute-02")


def test_an_evicted_node_is_deauthorized_and_restored(site: Site) -> None:
    deployed, _ = site.up(EMPTY)
    site.nodes["compute-01"]["state"] = "evicted"
    evicted, run = site.up(deployed)
    members = authorized("head", "compute-01", "compute-02")
    members[NODES["compute-01"][2]] = (False, ["10.147.17.11"], "compute-01")
    assert site.members() == members
    assert not [name for name, _ in run.ran() if "compute-01" in name and not name.endswith("-member")]
    site.nodes["compute-01"]["state"] = "active"
    site.up(evicted)
    after = site.state()
    assert site.members() == authorized("head", "compute-01", "compute-02")
    assert after == site.fresh()


def test_a_removed_node_is_undone_and_leaves_no_member(site: Site) -> None:
    deployed, _ = site.up(EMPTY)
    site.nodes.pop("compute-02")
    site.up(deployed)
    assert site.members() == authorized("head", "compute-01")
    removed = site.machines.pop("compute-02")  # no longer the stack's: a fresh deploy never touches it
    assert list(removed.path(f"{ZT_HOME}/networks.d").glob("*.conf")) == [], "it left the network"
    assert "chpc-overlay" not in removed.path("/etc/hosts").read_text()
    assert "zerotier" not in removed.host.run(["nft", "list", "ruleset"], check=True).stdout
    assert site.state() == site.fresh()


@pytest.mark.parametrize("site", ["head"], indirect=True)  # no member replaced or removed (see the docstring)
def test_an_added_node_is_authorized_and_the_others_learn_of_it(site: Site) -> None:
    change_and_compare(site, lambda s: s.add("compute-03"))
    assert site.members() == authorized("head", "compute-01", "compute-02", "compute-03")


def test_a_removed_device_is_gone_from_the_controller(site: Site) -> None:
    change_and_compare(site, lambda s: s.top.update(devices=[]))
    members = authorized("head", "compute-01", "compute-02")
    del members[LAPTOP]
    assert site.members() == members


@pytest.mark.parametrize("site", ["head"], indirect=True)  # Central keeps a network's ID when it is renamed
def test_a_renamed_network_leaves_no_old_network_on_the_heads_controller(site: Site) -> None:
    change_and_compare(site, lambda s: setattr(s, "name", "chpc-other"))
    assert site.api is not None
    assert sorted(site.api.state()["networks"]) == [NODES["head"][2] + network_suffix("chpc-other")]


@pytest.mark.parametrize("site", ["head"], indirect=True)  # no member replaced or removed (see the docstring)
def test_a_new_ssh_port_is_opened_first_then_used(site: Site) -> None:
    """The node's firewall admits SSH on its configured port only, and every step of the port change (the bundle
    copy first) already connects to the new one: open it (``firewall.openings``) in one ``up``, move in the next."""
    deployed, _ = site.up(EMPTY)
    site.ports = (2222,)
    machine = site.machines["compute-01"]
    assert machine.exec(["/usr/sbin/sshd", "-p", "22", "-p", "2222"]).returncode == 0
    machine.wait_for_port(2222)
    site.top["firewall"] = {"openings": {"compute": ["tcp/2222"]}}
    opened, _ = site.up(deployed)
    site.nodes["compute-01"]["port"] = 2222
    _, run = site.up(opened)
    after = site.state()
    assert site.members() == authorized("head", "compute-01", "compute-02")
    assert [name for name, _ in run.ran() if name.endswith("-member")] == [], "no member changes"
    assert after == site.fresh()
