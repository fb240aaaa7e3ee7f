"""What a real ``pulumi up`` (and ``pulumi preview``) does with a change: the rules, stated, not an engine.

Pulumi's mocks show one evaluation of the program; the engine and the
providers act on the *difference* between the stored state (an earlier
evaluation's registrations) and the new one. Each rule below is one function
or constant, with the upstream file it is read from (see
``/work/shared/reference/pulumi-engine.md``: pulumi-command v1.2.1
``provider/pkg/provider/remote/``, ZeroTier's Terraform provider v1.6.0
``pkg/zerotier/``, the Pulumi engine ``pkg/resource/deploy/``). Given two
:class:`tests.mockrun.Run` s, :func:`changes` says what ``up`` does to each
resource and :func:`operations` lists what it runs, in the engine's order,
with the inputs each operation uses; :func:`preview` says what a preview
shows as changing, unknown values included.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pulumi

from tests.mockrun import Declared, Run

Action = Literal["create", "same", "update", "replace", "delete"]
COMMAND = "command:remote:Command"
COPY = "command:remote:CopyToRemote"
MEMBER = "zerotier:index/member:Member"
NETWORK = "zerotier:index/network:Network"

#: Properties whose change the *provider's* diff answers with a replacement (ForceNew in Terraform).
#: zerotier_member: only ``network_id`` is ForceNew, ``member_id`` is not (``pkg/zerotier/member.go``), so a
#: new member ID is an in-place update that writes the new member and leaves the old one authorized.
PROVIDER_REPLACE_KEYS: dict[str, tuple[str, ...]] = {MEMBER: ("networkId",)}

#: Outputs an in-place update leaves known in a preview. A Command declares no output dependencies, so
#: after any input change all its outputs are unknown (pulumi-go-provider ``infer``, used by
#: ``remote/command.go``); a Terraform resource's ``id`` (the Network's ``networkId``) is kept by an update
#: (pulumi-terraform-bridge's plan keeps prior state for attributes the change does not touch).
KEEPS_OUTPUTS_ON_UPDATE = frozenset({NETWORK, MEMBER})


@dataclass(frozen=True)
class Change:
    """What ``up`` does to one resource: ``old`` and ``new`` are its registrations (None where absent)."""

    name: str
    type: str
    action: Action
    old: Declared | None
    new: Declared | None
    #: The input names that differ (after ``ignoreChanges``).
    changed: tuple[str, ...] = ()

    @property
    def delete_before_replace(self) -> bool:
        return self.action == "replace" and self.new is not None and bool(self.new.options["deleteBeforeReplace"])


def custom(run: Run) -> dict[str, Declared]:
    """The resources a provider acts on, by name (components, the stack and providers are not diffed here)."""
    return {r.name: r for r in run.resources if r.type in (COMMAND, COPY, MEMBER, NETWORK)}


def _comparable(value: Any) -> Any:
    """An input as the engine compares it: an asset by its content hash (``resource/asset.go``), not its path."""
    if isinstance(value, pulumi.FileAsset):
        return ("asset", hashlib.sha256(Path(value.path).read_bytes()).hexdigest())
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value


def goal_inputs(old: Declared, new: Declared) -> dict[str, Any]:
    """The new inputs after ``ignoreChanges``: each listed input keeps its stored value.

    Engine, ``pkg/resource/deploy/step_generator.go`` (``processIgnoreChanges`` in ``generateSteps``):
    applied before the diff, so an ignored input can neither update nor replace, and the stored value is
    what an update runs with. A replacement does not: see :func:`replacement_inputs`.
    """
    inputs = dict(new.inputs)
    for key in new.options["ignoreChanges"]:
        if key in old.inputs:
            inputs[key] = old.inputs[key]
        else:
            inputs.pop(key, None)
    return inputs


def replacement_inputs(new: Declared) -> dict[str, Any]:
    """What a replacement is created with: the program's inputs, ``ignoreChanges`` not applied.

    Engine, ``step_generator.go`` (``continueStepsFromDiff``): once the diff says replace, "we need to
    recompute the default values" and the provider's ``Check`` runs again on ``goal.Properties``, the
    registration's own inputs, whose result becomes the new state's inputs.
    """
    return dict(new.inputs)


def changed_inputs(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[str, ...]:
    """Top-level inputs whose values differ (a missing input and an absent one are the same)."""
    keys = sorted(set(old) | set(new))
    return tuple(k for k in keys if _comparable(old.get(k)) != _comparable(new.get(k)))


def replace_keys(resource: Declared) -> tuple[str, ...]:
    """Inputs whose change replaces the resource rather than updating it.

    * ``replaceOnChanges`` the registration carries: pulumi-command's SDK declares ``triggers[*]`` on
      every Command and CopyToRemote itself (``sdk/python/pulumi_command/remote/command.py``,
      ``copy_to_remote.py``); the
      program adds ``memberId`` on a Member. Engine: ``step_generator.go`` (``applyReplaceOnChanges``).
    * what the provider's own diff says (:data:`PROVIDER_REPLACE_KEYS`).
    """
    declared = [k.split("[", 1)[0] for k in resource.options["replaceOnChanges"]]
    return tuple(sorted(set(declared) | set(PROVIDER_REPLACE_KEYS.get(resource.type, ()))))


def diff(old: Declared, new: Declared, unknown: Iterable[str] = ()) -> tuple[Action, tuple[str, ...]]:
    """same, update or replace; ``unknown`` inputs (a preview's) count as changed."""
    changed = set(changed_inputs(old.inputs, goal_inputs(old, new)))
    changed |= set(unknown) - set(new.options["ignoreChanges"])
    if not changed:
        return "same", ()
    action: Action = "replace" if changed & set(replace_keys(new)) else "update"
    return action, tuple(sorted(changed))


def changes(old: Run, new: Run) -> dict[str, Change]:
    """What ``up`` does to every resource of either evaluation (``delete``: only the old one has it)."""
    before, after = custom(old), custom(new)
    found: dict[str, Change] = {}
    for name, resource in after.items():
        if name not in before:
            found[name] = Change(name, resource.type, "create", None, resource)
            continue
        action, changed = diff(before[name], resource)
        found[name] = Change(name, resource.type, action, before[name], resource, changed)
    for name, resource in before.items():
        if name not in after:
            found[name] = Change(name, resource.type, "delete", resource, None)
    return found


def changing(found: Mapping[str, Change]) -> dict[str, Action]:
    """The resources ``up`` does something to, with what."""
    return {name: c.action for name, c in sorted(found.items()) if c.action != "same"}


# --- what runs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    """One provider call ``up`` makes: ``action`` on ``name`` with ``inputs`` (the stored ones for a delete)."""

    name: str
    type: str
    action: Literal["create", "update", "delete", "copy"]
    inputs: Mapping[str, Any]


def copies_on_update(old: Declared, new: Declared) -> bool:
    """CopyToRemote's update copies only when the asset's hash or ``remotePath`` changed.

    pulumi-command ``remote/copyController.go``, ``Update``: ``needCopy := news.hash() != olds.hash() ||
    news.RemotePath != olds.RemotePath``. A new host, port, user or key alone copies nothing.
    """
    return bool({"source", "remotePath"} & set(changed_inputs(old.inputs, new.inputs)))


def command_update(resource: Declared) -> str:
    """The command line an update runs: ``update``, else ``create`` (``remote/commandController.go``)."""
    return str(resource.inputs.get("update") or resource.inputs["create"])


def _order(resources: Mapping[str, Declared]) -> list[str]:
    """Dependencies first (``dependsOn`` and property dependencies), then by name: the engine's walk."""
    by_urn = {r.urn: name for name, r in resources.items()}
    done: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        r = resources[name]
        needs = set(r.dependencies) | {u for urns in r.options["propertyDependencies"].values() for u in urns}
        for urn in sorted(needs):
            if urn in by_urn:
                visit(by_urn[urn])
        done.append(name)

    for name in sorted(resources):
        visit(name)
    return done


def operations(old: Run, new: Run) -> list[Operation]:
    """What ``up`` runs, in order.

    * create and update run with the **new** inputs; a delete always with the **stored** (old) ones
      (``remote/commandController.go``, ``Delete``);
    * a replacement with ``deleteBeforeReplace`` deletes the old resource first; without it the new one
      is created first and the old one deleted at the end (engine, ``step_generator.go``);
    * resources the new program no longer declares are deleted last, dependents first, unless
      ``retainOnDelete`` (then the provider is never called: ``step_executor``/``DeleteStep``);
    * a replacement is created with the program's inputs (:func:`replacement_inputs`), an update runs
      with ``ignoreChanges`` applied (:func:`goal_inputs`);
    * a CopyToRemote's delete removes nothing on the remote, nor does a Command's without a ``delete``;
      a CopyToRemote's update copies only per :func:`copies_on_update`.
    """
    found = changes(old, new)
    ops: list[Operation] = []
    deferred: list[Operation] = []

    def delete(resource: Declared) -> list[Operation]:
        if resource.options["retainOnDelete"] or resource.type == COPY:
            return []
        if resource.type == COMMAND and not resource.inputs.get("delete"):
            return []  # commandController.go, Delete: nothing to run, nothing dialed
        return [Operation(resource.name, resource.type, "delete", resource.inputs)]

    for name in _order(custom(new)):
        c = found[name]
        assert c.new is not None
        if c.action == "create":
            ops.append(Operation(name, c.type, "copy" if c.type == COPY else "create", c.new.inputs))
        elif c.action == "update":
            assert c.old is not None
            inputs = goal_inputs(c.old, c.new)
            if c.type != COPY:
                ops.append(Operation(name, c.type, "update", inputs))
            elif copies_on_update(c.old, c.new):
                ops.append(Operation(name, c.type, "copy", inputs))
        elif c.action == "replace":
            assert c.old is not None
            inputs = replacement_inputs(c.new)
            create = Operation(name, c.type, "copy" if c.type == COPY else "create", inputs)
            if c.delete_before_replace:
                ops += [*delete(c.old), create]
            else:
                ops.append(create)
                deferred += delete(c.old)
    gone = {name: c.old for name, c in found.items() if c.action == "delete" and c.old is not None}
    for name in reversed(_order(gone)):
        deferred += delete(gone[name])
    return ops + deferred


# --- what a preview shows --------------------------------------------------------------------------


def outputs_unknown(resource: Declared, action: Action) -> bool:
    """Whether a preview shows ``resource``'s outputs as unknown after ``action``.

    A created or replaced resource's outputs are unknown; an updated Command's are too (it declares no
    output dependencies, so every output depends on every input: pulumi-go-provider ``infer``); an
    updated Terraform resource keeps its ``id`` (:data:`KEEPS_OUTPUTS_ON_UPDATE`).
    """
    if action in ("create", "replace"):
        return True
    return action == "update" and resource.type not in KEEPS_OUTPUTS_ON_UPDATE


def preview(old: Run, new: Run) -> dict[str, Action]:
    """What ``pulumi preview`` shows as changing: :func:`changing` with unknown values propagated.

    An input computed from an unknown output is unknown, and an unknown input is a change (an update,
    or a replacement when it is a replace key): the engine cannot know the value will come out the same.
    """
    before, after = custom(old), custom(new)
    by_urn = {r.urn: name for name, r in after.items()}
    unknown_outputs: set[str] = set()
    shown: dict[str, Action] = {}
    for name in _order(after):
        resource = after[name]
        unknown = [
            key
            for key, urns in resource.options["propertyDependencies"].items()
            if any(by_urn.get(u) in unknown_outputs for u in urns)
        ]
        action: Action = diff(before[name], resource, unknown)[0] if name in before else "create"
        if outputs_unknown(resource, action):
            unknown_outputs.add(name)
        if action != "same":
            shown[name] = action
    shown.update({name: "delete" for name in before if name not in after})
    return dict(sorted(shown.items()))
