"""What the program declares, in order: one entry per resource, straight from the plan.

The Pulumi layer (``cluster/declare/overlay.py``) turns each entry into one
resource and decides nothing itself; ``status`` and the lab's ``StackRun``
read the same list for resource names and the order steps run in. Per node::

    bundle ──► install ──► identity ──► member ──────────► join ──► firewall ──► verify
                  ├──► localconf ───────── (orbit) ─┘  └───► hosts ─────────┘
                  └─► (controller: head, roots: head) moon (after localconf), network, members on the head

Each entry names the entries it comes after (``after``), the values only
``pulumi up`` learns that it needs (``needs``: the network ID, a node's
address from its identity step, the head's signed moon) and its lifecycle
options (:class:`Lifecycle`), so a change of how a resource is replaced or
kept is a change of this data. An entry's resource is named
``<component>-<name>``.

What a change does follows from these options and the engine's rules
(``tests/engine.py``): a changed trigger replaces, any other changed input
updates, a delete runs the stored inputs. So the lifecycle promises live
here: a node's address comes from its identity step (triggered by the
node's generation and host, its connection ignored), not install, so a
version bump or a rotated login leaves every member and join alone; the
bundle is copied again for a new generation, host, port or login; a member
under a new address is replaced (the old one deleted first, with its old
address), on the head's controller by its trigger and on Central by
``replace_on_changes`` (``member_id`` is not ForceNew upstream); the head's
network under a new ID (renamed, or a reimaged head) likewise.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, TypeAlias

from cluster.plan.build import PENDING_MEMBER, PENDING_MOON, PENDING_NETWORK_ID, MemberSettings, NodePlan, Plan
from cluster.plan.network import network_suffix
from cluster.plan.steps import (
    REMOTE_BUNDLE,
    Action,
    MemberParams,
    NetworkParams,
    Pending,
    StepName,
    StepParams,
    StepScript,
)
from cluster.rules.model import NetworkRules
from cluster.spec import Deferrable, NetworkSpec

#: The entry whose result is the network's ID; without one (``fromStack``, an unmanaged network) the ID is given.
NETWORK = "network"
#: Every input of a remote Command and of a CopyToRemote (wire names): what an evicted node's resources ignore.
COMMAND_INPUTS = ("connection", "create", "update", "delete", "stdin", "triggers", "logging", "addPreviousOutputInEnv")
COPY_INPUTS = ("connection", "source", "remotePath", "triggers")
#: The Network inputs an adoption with ``keepSettings`` leaves as Central has them.
NETWORK_SETTINGS = (
    "name", "description", "private", "enableBroadcast", "multicastLimit", "routes",
    "assignmentPools", "assignIpv4s", "assignIpv6s", "flowRules",
)  # fmt: skip

#: The resource type each kind of entry becomes (the ``type`` in its URN).
COMMAND_TYPE = "command:remote:Command"
COPY_TYPE = "command:remote:CopyToRemote"
MEMBER_TYPE = "zerotier:index/member:Member"
NETWORK_TYPE = "zerotier:index/network:Network"


@dataclass(frozen=True)
class Lifecycle:
    """A resource's options, as data: what a replacement, a removal or a change of inputs does to it."""

    #: Undo the old resource before the new one runs (a firewall or a join must not be applied, then removed).
    delete_before_replace: bool = False
    #: Removing the resource leaves the node or network alone.
    retain_on_delete: bool = False
    #: Inputs (wire names) whose changes the engine ignores.
    ignore_changes: tuple[str, ...] = ()
    #: Inputs (wire names) whose change replaces the resource instead of updating it.
    replace_on_changes: tuple[str, ...] = ()
    #: The ID of an existing resource to adopt on the first ``pulumi up``.
    import_id: str | None = None


@dataclass(frozen=True)
class Need:
    """A value only ``pulumi up`` learns: its pending name, and the entry whose result gives it.

    An identity step's result is the node's ZeroTier address, the moon's the signed
    moon, :data:`NETWORK`'s the network ID; ``suffix`` is appended (the head's
    network ID: its address and six digits of the network's name).
    """

    value: str
    source: str
    suffix: str = ""


Trigger: TypeAlias = "str | int | Pending | Deferrable"


@dataclass(frozen=True, kw_only=True)
class Entry:
    """What every declaration has: its name, the node (or device) it is for, its order and options."""

    #: The resource's name after the component's: ``<component>-<name>``.
    name: str
    node: str
    #: Names of the entries this one comes after (its explicit dependencies).
    after: tuple[str, ...] = ()
    needs: tuple[Need, ...] = ()
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    #: A remote command's or copy's ``triggers``: a change of any of them replaces the resource
    #: (a :class:`Pending` one is filled in like a need). Central's resources have none.
    triggers: tuple[Trigger, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class CopyBundle(Entry):
    """The stack's bundle copied to ``host`` (``~/.zerotier-cluster/bundle.tar``)."""

    host: str
    remote_path: str = REMOTE_BUNDLE

    @property
    def step(self) -> Literal["bundle"]:
        return "bundle"

    @property
    def resource_type(self) -> str:
        return COPY_TYPE


@dataclass(frozen=True, kw_only=True)
class RunStep(Entry):
    """A step's script run on ``host`` over SSH (a remote Command)."""

    host: str
    script: StepScript[StepParams]
    #: The command lines the resource has. Without ``update`` a changed input runs ``create``; without
    #: ``delete`` removing or replacing the resource never connects to the node (pulumi-command's
    #: ``commandController.go``: ``Delete`` returns at once when ``props.Delete`` is nil).
    actions: tuple[Action, ...] = ("create", "update", "delete")

    @property
    def step(self) -> StepName:
        return self.script.name

    @property
    def resource_type(self) -> str:
        return COMMAND_TYPE


@dataclass(frozen=True, kw_only=True)
class DeclareNetwork(Entry):
    """The network this stack creates (or adopts): on ZeroTier Central, or by ``script`` on the head."""

    spec: NetworkSpec
    rules: NetworkRules
    #: ``controller: head``: the step on ``host`` (the head); None for Central.
    script: StepScript[NetworkParams] | None = None
    host: str | None = None

    @property
    def step(self) -> Literal["network"]:
        return "network"

    @property
    def resource_type(self) -> str:
        return NETWORK_TYPE if self.script is None else COMMAND_TYPE


@dataclass(frozen=True, kw_only=True)
class AuthorizeMember(Entry):
    """A node's or device's member: a Central Member, or (``controller: head``) ``script`` run on the head."""

    settings: MemberSettings
    script: StepScript[MemberParams] | None = None
    host: str | None = None

    @property
    def step(self) -> Literal["member"]:
        return "member"

    @property
    def resource_type(self) -> str:
        return MEMBER_TYPE if self.script is None else COMMAND_TYPE


Declaration: TypeAlias = CopyBundle | RunStep | DeclareNetwork | AuthorizeMember


def _lifecycle(node: NodePlan, inputs: tuple[str, ...]) -> Lifecycle:
    if node.spec.active:
        # A replacement must undo the old step before the new one runs: the other
        # order would apply a firewall or join and then remove or leave it again.
        return Lifecycle(delete_before_replace=True)
    # Evicted: nothing changes, so nothing runs; removing it later leaves the node alone.
    return Lifecycle(retain_on_delete=True, ignore_changes=inputs)


def _name(node: str, step: str) -> str:
    return f"{node}-{step}"


def _run(
    node: NodePlan,
    script: StepScript[StepParams],
    after: Sequence[str],
    needs: Sequence[Need] = (),
    *,
    triggers: tuple[Trigger, ...] | None = None,
) -> RunStep:
    """``script`` run on ``node`` (the head runs the controller's and the moon's), with ``node``'s lifecycle."""
    return RunStep(
        name=_name(script.node, script.name),
        node=script.node,
        host=node.name,
        script=script,
        after=tuple(after),
        needs=tuple(needs),
        lifecycle=_lifecycle(node, COMMAND_INPUTS),
        triggers=triggers,
    )


def _identity(node: NodePlan, after: Sequence[str]) -> RunStep:
    """The step whose result is the node's ZeroTier address: its member's subject (the head's: the network ID).

    Only a new machine can have a new address: reimaged (a new ``generation``) or at a new host. Those are its
    triggers, and every other input replaces it too, so it never runs an update: an update would run with
    the connection kept in state. Its connection is ignored, so a rotated login, port or key leaves it, and
    the address every member and join reads, unchanged in a preview as in ``up``. A replacement runs with
    the program's inputs, the new connection included (the engine checks ``goal.Properties`` again before
    replacing: ``continueStepsFromDiff`` in ``pkg/resource/deploy/step_generator.go``). It has nothing to
    undo and no delete, so the old one's removal never dials a machine that may be gone.
    """
    step = replace(
        _run(node, node.identity, after, triggers=(node.spec.generation, node.spec.host)), actions=("create",)
    )
    if not node.spec.active:
        return step
    others = tuple(i for i in COMMAND_INPUTS if i not in ("connection", "triggers"))
    return replace(step, lifecycle=Lifecycle(ignore_changes=("connection",), replace_on_changes=others))


def _network_need(script: StepScript[StepParams]) -> tuple[Need, ...]:
    return (Need(PENDING_NETWORK_ID, NETWORK),) if PENDING_NETWORK_ID in script.pending else ()


def _digest(texts: Sequence[str]) -> str:
    return hashlib.sha256("\0".join(texts).encode()).hexdigest()


def declarations(plan: Plan) -> tuple[Declaration, ...]:
    """Every resource the plan declares, in the order the program registers them; sources before their users."""
    out: list[Declaration] = []
    for node in plan.nodes:
        bundle = _name(node.name, "bundle")
        # An update copies only when the bundle's hash or path changed (pulumi-command's copyController.go),
        # so a machine that may not have it gets it by replacement: a reimaged node (a new generation), a
        # new machine at a new host, another login (another home). The host may be an Output.
        spec = node.spec
        out.append(
            CopyBundle(
                name=bundle,
                node=node.name,
                host=node.name,
                triggers=(spec.generation, spec.host, spec.port, spec.user),
                lifecycle=_lifecycle(node, COPY_INPUTS),
            )
        )
        out.append(_run(node, node.install, [bundle]))
        out.append(_identity(node, [_name(node.name, "install")]))
        out.append(_run(node, node.localconf, [_name(node.name, "install")]))
    # local.conf restarts zerotier-one: it is written before anything else talks to the daemon.
    configured = {n.name: _name(n.name, "localconf") for n in plan.nodes}

    head = next((n for n in plan.nodes if n.spec.role == "head"), None)
    moon = None
    if plan.moon is not None:
        # roots: head: the head signs its moon before anything else runs on it (it restarts zerotier-one).
        assert head is not None
        moon = _name(head.name, "moon")
        out.append(_run(head, plan.moon, [configured[head.name]]))
    on_head = [_name(head.name, "identity")] if head is not None else []
    if moon is not None:
        on_head.append(moon)
    elif head is not None:
        on_head.append(configured[head.name])

    net = plan.spec.network
    if plan.controller is not None:
        assert head is not None
        # Its ID is the head's address (from the head's identity step) and six digits of the network's name,
        # computed rather than read from the command's output: a change of its settings leaves the ID known in
        # a preview. Under a new ID (renamed, a reimaged head) it is replaced: the old network deleted first.
        expected = Need(PENDING_NETWORK_ID, _name(head.name, "identity"), network_suffix(net.name))
        out.append(
            DeclareNetwork(
                name=NETWORK,
                node=head.name,
                spec=net,
                rules=plan.rules,
                script=plan.controller.network,
                host=head.name,
                after=tuple(on_head),
                needs=(expected,),
                lifecycle=_lifecycle(head, COMMAND_INPUTS),
                triggers=(Pending(PENDING_NETWORK_ID),),
            )
        )
    elif net.from_stack is None and net.owned:
        adopted = net.network_id is not None
        out.append(
            DeclareNetwork(
                name=NETWORK,
                node=plan.head_name,
                spec=net,
                rules=plan.rules,
                # An adopted network was the operator's before this stack: destroy must leave it. Pulumi
                # refuses an import whose inputs differ from the network's settings; keepSettings ignores them.
                lifecycle=Lifecycle(
                    retain_on_delete=adopted,
                    ignore_changes=NETWORK_SETTINGS if net.keep_settings else (),
                    import_id=net.network_id,
                ),
            )
        )

    members = {m.name: m for m in plan.members}
    for node in plan.nodes:
        out.append(_member(plan, members[node.name], [_name(node.name, "identity")], on_head, head))
        before_join = [_name(node.name, "member"), configured[node.name]]
        if moon is not None:
            # roots: head: the head joins once its moon restarted it, every other node once it orbits the head.
            if node.orbit is None:
                before_join.append(moon)
            else:
                orbit = _run(node, node.orbit, [configured[node.name], moon], [Need(PENDING_MOON, moon)])
                out.append(orbit)
                before_join.append(orbit.name)
        join = _run(node, node.join, before_join, _network_need(node.join))
        out.append(join)
        if node.firewall is not None:
            out.append(_run(node, node.firewall, [join.name]))
        out.append(_run(node, node.hosts, [join.name]))

    ready = {n.name: _name(n.name, "firewall" if n.firewall is not None else "join") for n in plan.nodes}
    for node in plan.nodes:
        # The node's verify runs once the nodes it must reach admit it, and again whenever anything
        # its connectivity depends on changes.
        texts = [s.text() for s in (node.join, node.firewall, node.hosts) if s is not None]
        after = [ready[node.name], _name(node.name, "hosts"), *(ready[v] for v in node.verifies if v in ready)]
        triggers: tuple[Trigger, ...] = (_digest(texts), Pending(PENDING_NETWORK_ID))
        out.append(_run(node, node.verify, after, [Need(PENDING_NETWORK_ID, NETWORK)], triggers=triggers))

    for device, _ in plan.devices:
        out.append(_member(plan, members[device.name], [], on_head, head))
    return tuple(out)


def _member(
    plan: Plan, member: MemberSettings, after: Sequence[str], on_head: Sequence[str], head: NodePlan | None
) -> AuthorizeMember:
    """``member``'s authorization: on the head's controller after the network, else on Central."""
    needs = [Need(PENDING_NETWORK_ID, NETWORK)]
    if isinstance(member.address, Pending):
        needs.append(Need(PENDING_MEMBER, _name(member.name, "identity")))
    if plan.controller is None:
        # member_id is not ForceNew upstream (member.go): changed in place, the old identity would stay
        # authorized. Replaced, the old member is deleted first (with its old ID), then the new one set.
        replaced = Lifecycle(delete_before_replace=True, replace_on_changes=("memberId",))
        return AuthorizeMember(
            name=_name(member.name, "member"),
            node=member.name,
            settings=member,
            after=tuple(after),
            needs=tuple(needs),
            lifecycle=replaced,
        )
    assert head is not None
    return AuthorizeMember(
        name=_name(member.name, "member"),
        node=member.name,
        settings=member,
        script=plan.controller.member(member.name),
        host=head.name,
        after=(*on_head, NETWORK, *after),
        needs=tuple(needs),
        lifecycle=_lifecycle(head, COMMAND_INPUTS),
        # Its subject: under another address (reimaged, replaced, a device's new one) the old member's
        # delete runs first, with its old stdin: deauthorized and deleted on the head.
        triggers=(member.address,),
    )
