"""Changes carried out as a real ``pulumi up`` carries them out, on booted machines with real zerotier-one.

A fresh deploy first: the program evaluated under Pulumi's mocks with the
addresses the machines' daemons really have (and the moon the head really
signed), every operation :func:`tests.engine.operations` derives from an
empty state carried out on the machines (``tests/lab/engine_run.py``). Then
a change: the machine reimaged (a fresh disk, a new identity, ``generation``
raised) or replaced by a new machine at a new address; the program evaluated
again, and exactly the operations the engine's rules derive from the two
evaluations carried out: replacements with the old inputs deleted first,
updates with the new ones, the bundle copied only where the rules copy it.
The end is compared with what a fresh deploy of the new config holds: the
controller has exactly one member per node, each authorized at its address
(the old identity neither authorized nor there), the node is OK on the
network, every node pings every other, and nothing of another node ran.

``controller: head`` and ``controller: central`` (Central's Members applied
to the head's controller as the Terraform provider applies them, see
``tests/lab/engine_run.py``); ``roots: head`` in both, since the lab is
offline. Needs ``zerotier-one`` on PATH (``PATH=/opt/ztsrc:$PATH``); skips
without it, in CI too.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cluster.config.parse import parse_cluster
from cluster.plan.network import cluster_rules, network_settings, network_suffix
from tests import engine
from tests.lab.engine_run import EngineRun, controller_api
from tests.lab.machine import Machine
from tests.lab.ssh import Operator
from tests.mockrun import ROOT, Run, run_program
from tests.test_lab_zerotier import INTERFACE, address_of, answers_ping, networks, service_installer

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(shutil.which("zerotier-one") is None, reason="needs zerotier-one on PATH (real daemons)"),
]

PREFIX = "zerotier-cluster-"
NODES = (
    ("head", "head", "10.147.17.1"),
    ("compute-01", "compute", "10.147.17.11"),
    ("compute-02", "compute", "10.147.17.12"),
)
EMPTY = Run([], {}, set())
TOKEN, KEY = "zerotier:zerotierCentralToken", "zerotier-cluster:sshPrivateKey"


@dataclass
class Lab:
    """Booted machines by node name, the operator, and the stack deployed on them."""

    operator: Operator
    make: Callable[..., Machine]
    hook: Callable[[Machine], None]
    controller: str
    machines: dict[str, Machine]
    generation: dict[str, int] = field(default_factory=dict)
    deployed: Run | None = None
    stdouts: dict[str, str] = field(default_factory=dict)

    def config(self) -> dict[str, Any]:
        """The stack's config (keys without the project prefix), hosts being the machines' addresses."""
        nodes = [
            {
                "name": n,
                "role": r,
                "host": str(self.machines[n].host.ip),
                "ip": ip,
                "generation": self.generation.get(n, 0),
            }
            for n, r, ip in NODES
        ]
        network: dict[str, Any] = {"name": "chpc-overlay", "cidr": "10.147.17.0/24", "interface": INTERFACE}
        if self.controller == "central":  # Central holds the network; this stack only uses it
            network |= {"networkId": self.network_id, "manage": False}
        return {
            "network": network,
            "ssh": {"user": "ops"},
            "nodes": nodes,
            "controller": self.controller,
            "roots": "head",
            "joinTimeout": 90,
            "verifyTimeout": 60,
        }

    @property
    def network_id(self) -> str:
        return address_of(self.machines["head"]) + network_suffix("chpc-overlay")

    def evaluate(self) -> Run:
        """The program under the mocks, reading what the machines really have (addresses, the signed moon)."""
        config = {f"zerotier-cluster:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in self.config().items()}
        config[KEY] = self.operator.key.read_text()
        secrets = [KEY]
        if self.controller == "central":
            config[TOKEN] = "a-token"
            secrets.append(TOKEN)
        addresses = {name: address_of(machine) for name, machine in self.machines.items()}
        return run_program(config, secrets, addresses=addresses, stdouts=self.stdouts)

    def runner(self) -> EngineRun:
        by_host = lambda: {str(m.host.ip): m for m in self.machines.values()}  # noqa: E731
        return EngineRun(self.operator, by_host, lambda: self.machines["head"])

    def deploy(self) -> EngineRun:
        """A fresh deploy: the head's moon first (the orbit steps carry what it printed), then everything."""
        if self.controller == "central":
            spec = parse_cluster(self.config(), base_dir=ROOT)
            settings = json.loads(network_settings(spec.network, cluster_rules(spec)))
            code, _ = controller_api(self.machines["head"], "POST", f"/controller/network/{self.network_id}", settings)
            assert code == 200
        run = self.runner()
        first = engine.operations(EMPTY, self.evaluate())
        moon = next(i for i, op in enumerate(first) if op.name == f"{PREFIX}head-moon")
        run.apply(first[: moon + 1])
        printed = run.done[-1][2]
        assert printed is not None
        self.stdouts[f"{PREFIX}head-moon"] = printed.stdout
        self.deployed = self.evaluate()
        rest = engine.operations(EMPTY, self.deployed)
        assert [op.name for op in rest[: moon + 1]] == [op.name for op in first[: moon + 1]]
        run.apply(rest[moon + 1 :])
        return run

    def change(self) -> EngineRun:
        """``pulumi up`` of the config as it is now over what was deployed."""
        assert self.deployed is not None
        new = self.evaluate()
        run = self.runner()
        run.apply(engine.operations(self.deployed, new))
        self.deployed = new
        return run

    def members(self) -> dict[str, tuple[bool, list[str], str]]:
        """Every member the network's controller holds: address → (authorized, addresses, name)."""
        head = self.machines["head"]
        code, listed = controller_api(head, "GET", f"/controller/network/{self.network_id}/member")
        assert code == 200
        found = {}
        for address in listed:
            _, member = controller_api(head, "GET", f"/controller/network/{self.network_id}/member/{address}")
            found[address] = (member["authorized"], member["ipAssignments"], member["name"])
        return found

    def expected_members(self) -> dict[str, tuple[bool, list[str], str]]:
        """What a fresh deploy of the config leaves: one authorized member per node, at its address."""
        return {address_of(self.machines[n]): (True, [ip], n) for n, _, ip in NODES}

    def assert_whole(self) -> None:
        """Every node OK on the network with its address, and reaching every other over the overlay."""
        for name, machine in self.machines.items():
            assert networks(machine)[self.network_id]["status"] == "OK", name
            for other, _, ip in NODES:
                if other != name:
                    assert answers_ping(machine, ip, timeout=60), f"{name} gets no answer from {other} ({ip})"


@pytest.fixture(params=["head", "central"])
def lab(request, machine_factory, operator, tmp_path: Path) -> Lab:
    found = shutil.which("zerotier-one")
    assert found is not None
    hook = service_installer(Path(found).resolve())
    machines = {name: machine_factory(name, boot=True, before_start=hook) for name, _, _ in NODES}
    for machine in machines.values():
        address_of(machine)
    return Lab(operator, machine_factory, hook, request.param, machines)


def chain(node: str, spec: str) -> set[tuple[str, str]]:
    """``"copy:bundle update:identity,join"`` → ``{(zerotier-cluster-<node>-bundle, copy), ...}``."""
    return {
        (f"{PREFIX}{node}-{step}", action)
        for part in spec.split()
        for action, steps in [part.split(":")]
        for step in steps.split(",")
    }


def test_a_reimaged_node_leaves_no_old_identity_behind(lab: Lab) -> None:
    lab.deploy()
    lab.assert_whole()
    assert lab.members() == lab.expected_members()
    old = address_of(lab.machines["compute-01"])

    # Reinstalled: a fresh disk and a new identity at the same address; the operator raises its generation.
    authorized = dict.fromkeys(("root", "ops", "pw"), lab.operator.public_key)
    lab.machines["compute-01"].reimage(authorized, lab.hook)
    assert address_of(lab.machines["compute-01"]) != old
    lab.generation["compute-01"] = 1
    run = lab.change()

    # The old identity is neither authorized nor there: the controller holds what a fresh deploy would.
    assert old not in lab.members()
    assert lab.members() == lab.expected_members()
    lab.assert_whole()
    # Exactly compute-01's chain, its member replaced (the old one deleted first, with its old address).
    member = [(f"{PREFIX}compute-01-member", "delete"), (f"{PREFIX}compute-01-member", "create")]
    steps = "copy:bundle create:identity update:localconf,orbit,join,firewall,hosts delete:verify create:verify"
    assert set(run.ran()) == chain("compute-01", steps) | set(member)
    assert run.ran().index(member[0]) < run.ran().index(member[1])


def test_a_machine_replaced_at_a_new_address_gets_its_bundle_and_its_old_identity_goes(lab: Lab) -> None:
    lab.deploy()
    old = address_of(lab.machines["compute-01"])

    # The provider recreated the VM: a new machine at a new address; the old one is gone.
    lab.machines["compute-01"].stop()
    lab.machines["compute-01"] = lab.make("compute-01b", boot=True, before_start=lab.hook)
    run = lab.change()

    assert old not in lab.members()
    assert lab.members() == lab.expected_members()
    lab.assert_whole()
    member = [(f"{PREFIX}compute-01-member", "delete"), (f"{PREFIX}compute-01-member", "create")]
    steps = "copy:bundle create:identity update:localconf,orbit,join,firewall,hosts,verify"
    assert set(run.ran()) == chain("compute-01", steps) | set(member)
