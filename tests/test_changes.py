"""Every lifecycle change as the engine carries it out, under the mocks: what ``up`` does, what preview shows.

Each case evaluates the program twice (the deployed config, then the changed
one) and applies the rules in ``tests/engine.py``: which resources ``up``
creates, updates, replaces or deletes, what it runs with which inputs, and
what a preview shows as changing. The addresses a node's identity step reads
are the mocks' (``tests/mockrun.py``), a reimaged or replaced machine
reporting a new one. The same changes are carried out on booted machines in
``tests/test_lab_changes.py``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from tests import engine
from tests.mockrun import Run, fake_address, run_program, shared_scope, stack_file_config

PREFIX = "zerotier-cluster-"
NEW_ADDRESS = "0c0ffee001"  # what compute-01 reports once reimaged or replaced
OLD_ADDRESS = fake_address("compute-01")
TOKEN = "zerotier:zerotierCentralToken"


def config(
    controller: str, edit: Callable[[list[dict[str, Any]]], Any] | None = None, **top: Any
) -> tuple[dict[str, str], list[str]]:
    """Pulumi.dev.yaml with a device, under ``controller``, its nodes edited by ``edit``, ``top`` keys set."""
    values, secrets = stack_file_config("dev")
    if controller == "head":
        del values[TOKEN]
        secrets = [s for s in secrets if s != TOKEN]
        values["zerotier-cluster:controller"] = "head"
    values["zerotier-cluster:devices"] = json.dumps([{"name": "laptop", "address": "abcdef0123"}])
    nodes = json.loads(values["zerotier-cluster:nodes"])
    if edit is not None:
        edit(nodes)
    values["zerotier-cluster:nodes"] = json.dumps(nodes)
    for key, value in top.items():
        values[key if ":" in key else f"zerotier-cluster:{key}"] = (
            value if isinstance(value, str) else json.dumps(value)
        )
    return values, secrets


def evaluate(controller: str, edit: Callable[[list[dict[str, Any]]], Any] | None = None, **top: Any) -> Run:
    addresses = top.pop("addresses", None)
    return run_program(*config(controller, edit, **top), addresses=addresses)


def steps(spec: str) -> dict[str, engine.Action]:
    """``"compute-01: bundle=replace install identity=update; laptop: member=delete"``, spelled out:
    each word a resource (``<node>-<step>``; ``network`` alone), taking the action written after it or
    after the next word that has one."""
    found: dict[str, engine.Action] = {}
    for part in spec.split(";"):
        node, _, words = part.strip().partition(":")
        pending: list[str] = []
        for word in words.split():
            step, _, action = word.partition("=")
            pending.append(step)
            if action:
                for s in pending:
                    found[PREFIX + (s if node == "-" else f"{node}-{s}")] = action  # type: ignore[assignment]
                pending = []
        assert not pending, f"no action after {pending}"
    return dict(sorted(found.items()))


CONTROLLERS = ("central", "head")
REIMAGED = (
    "compute-01: bundle identity=replace install localconf join firewall hosts=update member=replace verify=replace"
)
NEW_HOST = (
    "compute-01: bundle identity=replace install localconf join firewall hosts=update member=replace verify=update"
)
#: A change to what the other nodes know (the hosts block, the firewall, the head's verify targets).
OTHERS = "head: bundle firewall hosts=update verify=replace; compute-02: bundle firewall hosts=update verify=replace"


@pytest.fixture(scope=shared_scope, params=CONTROLLERS)
def deployed(request: pytest.FixtureRequest) -> tuple[str, Run]:
    return request.param, evaluate(request.param)


def test_a_reimaged_node_reruns_its_chain_and_replaces_its_member_under_both_controllers(deployed) -> None:
    controller, old = deployed
    new = evaluate(controller, lambda n: n[1].update(generation=1), addresses={"compute-01": NEW_ADDRESS})
    assert engine.changing(engine.changes(old, new)) == steps(REIMAGED)
    assert engine.preview(old, new) == steps(REIMAGED), "preview shows exactly what up does"
    ops = [(o.name.removeprefix(PREFIX), o.action) for o in engine.operations(old, new)]
    # The old member goes first, with its old ID (delete runs the stored inputs), then the new one is set.
    delete, create = ops.index(("compute-01-member", "delete")), ops.index(("compute-01-member", "create"))
    assert delete < create
    old_member, new_member = engine.operations(old, new)[delete], engine.operations(old, new)[create]
    if controller == "central":
        assert (old_member.inputs["memberId"], new_member.inputs["memberId"]) == (OLD_ADDRESS, NEW_ADDRESS)
    else:
        assert f"\nZTC_MEMBER={OLD_ADDRESS}\n" in old_member.inputs["stdin"]
        assert f"\nZTC_MEMBER={NEW_ADDRESS}\n" in new_member.inputs["stdin"]
        assert old_member.inputs["connection"]["host"] == "203.0.113.10", "run on the head"
    assert ("compute-01-bundle", "copy") in ops
    assert ops.index(("compute-01-bundle", "copy")) < ops.index(("compute-01-install", "update"))


def test_without_replace_on_changes_a_new_member_id_is_an_update_that_leaves_the_old_one() -> None:
    """The upstream rule the program works around: memberId is not ForceNew (member.go)."""
    old = evaluate("central")
    new = evaluate("central", lambda n: n[1].update(generation=1), addresses={"compute-01": NEW_ADDRESS})
    member = new.named(f"{PREFIX}compute-01-member")
    member.options["replaceOnChanges"] = []
    assert engine.diff(old.named(f"{PREFIX}compute-01-member"), member) == ("update", ("memberId",))


def test_a_machine_replaced_at_a_new_host_gets_its_bundle_and_a_new_member(deployed) -> None:
    controller, old = deployed
    new = evaluate(controller, lambda n: n[1].update(host="192.168.10.21"), addresses={"compute-01": NEW_ADDRESS})
    assert engine.changing(engine.changes(old, new)) == steps(NEW_HOST)
    assert engine.preview(old, new) == steps(NEW_HOST)
    copy = next(o for o in engine.operations(old, new) if o.name == f"{PREFIX}compute-01-bundle")
    assert (copy.action, copy.inputs["connection"]["host"]) == ("copy", "192.168.10.21")


def test_copy_to_remote_alone_copies_nothing_for_a_new_host() -> None:
    """Why the bundle's triggers carry the host: CopyToRemote's update copies on hash or path only."""
    old = evaluate("central")
    new = evaluate("central", lambda n: n[1].update(host="192.168.10.21"))
    before, after = old.named(f"{PREFIX}compute-01-bundle"), new.named(f"{PREFIX}compute-01-bundle")
    assert engine.changed_inputs(before.inputs, after.inputs) == ("connection", "triggers")
    assert not engine.copies_on_update(before, after)


ROTATIONS = {
    "user": (lambda n: n[1].update(user="ops"), {}),
    "port": (lambda n: n[1].update(port=2222), {}),
}


@pytest.mark.parametrize("what", sorted(ROTATIONS))
def test_a_rotated_ssh_login_or_port_reruns_the_nodes_steps_and_keeps_its_member(deployed, what: str) -> None:
    controller, old = deployed
    new = evaluate(controller, ROTATIONS[what][0])
    up = engine.changing(engine.changes(old, new))
    chain = "compute-01: install localconf join firewall hosts=update"
    if what == "user":
        expected = steps(f"{chain} bundle=replace verify=update")
    else:  # the SSH port is also in the ZeroTier rules and the other nodes' firewall programs
        expected = steps(f"{chain} bundle=replace verify=replace; head: bundle=update; compute-02: bundle=update")
        expected[f"{PREFIX}network"] = "update"
    assert up == expected, "the identity step, and so the member, is left alone"
    assert engine.preview(old, new) == up


def test_a_rotated_key_reruns_every_step_but_identity_and_preview_shows_no_member(deployed) -> None:
    controller, old = deployed
    new = run_program(*config(controller, sshPrivateKey="another-key"))
    up = engine.changing(engine.changes(old, new))
    chains = "install localconf join firewall hosts bundle verify=update"
    expected = steps(f"head: {chains}; compute-01: {chains}; compute-02: {chains}")
    if controller == "head":  # the head's own commands: the network and every authorization
        members = "head: member=update; compute-01: member=update; compute-02: member=update; laptop: member=update"
        expected.update(steps(f"-: network=update; {members}"))
    assert up == expected
    assert engine.preview(old, new) == up, "no member replaced, no network, no verify replaced"


def test_a_login_and_a_host_changed_at_once_reads_the_new_machine_with_the_new_login(deployed) -> None:
    """The identity's connection is ignored in the diff, not in a replacement: it dials the new host as the new user."""
    controller, old = deployed
    new = evaluate(
        controller, lambda n: n[1].update(host="192.168.10.21", user="ops"), addresses={"compute-01": NEW_ADDRESS}
    )
    identity = next(o for o in engine.operations(old, new) if o.name == f"{PREFIX}compute-01-identity")
    assert identity.action == "create"
    assert (identity.inputs["connection"]["host"], identity.inputs["connection"]["user"]) == ("192.168.10.21", "ops")
    assert engine.preview(old, new) == engine.changing(engine.changes(old, new))


def test_the_identity_step_never_runs_an_update_nor_dials_to_be_removed(deployed) -> None:
    """An update would run with the connection kept in state (perhaps a rotated key); a delete could dial a
    machine that is gone. Every input but the ignored connection replaces it, and it has no delete."""
    controller, old = deployed
    identity = old.named(f"{PREFIX}compute-01-identity")
    assert (identity.inputs.get("update"), identity.inputs.get("delete")) == (None, None)
    assert identity.options["ignoreChanges"] == ["connection"]
    assert sorted(identity.options["replaceOnChanges"]) == sorted(
        ["triggers[*]", "create", "update", "delete", "stdin", "logging", "addPreviousOutputInEnv"]
    )
    new = evaluate(controller, lambda n: n[1].update(host="192.168.10.21"))
    ops = [(o.name, o.action) for o in engine.operations(old, new) if o.name.endswith("compute-01-identity")]
    assert ops == [(f"{PREFIX}compute-01-identity", "create")], "the old machine is never dialed"


def test_a_version_bump_updates_only_install_and_the_bundle(deployed) -> None:
    controller, old = deployed
    new = evaluate(controller, zerotierVersion="1.14.2")
    expected = steps(
        "head: bundle install=update; compute-01: bundle install=update; compute-02: bundle install=update"
    )
    assert engine.changing(engine.changes(old, new)) == expected
    assert engine.preview(old, new) == expected, "no member, join or verify shows a change"
    copies = [o.name for o in engine.operations(old, new) if o.action == "copy"]
    assert len(copies) == 3, "a new bundle hash copies"


def test_an_evicted_node_is_only_deauthorized_and_restored_by_its_member_alone(deployed) -> None:
    controller, old = deployed
    evicted = evaluate(controller, lambda n: n[1].update(state="evicted"))
    expected = {**steps(OTHERS), **steps("compute-01: member=update")}
    assert engine.changing(engine.changes(old, evicted)) == expected
    assert engine.preview(old, evicted) == expected
    ops = engine.operations(old, evicted)
    assert not [o for o in ops if o.inputs.get("connection", {}).get("host") == "192.168.10.11"], "never contacted"
    member = next(o for o in ops if o.name == f"{PREFIX}compute-01-member")
    if controller == "central":
        assert member.inputs["authorized"] is False
    else:
        assert '"authorized":false' in member.inputs["stdin"]

    restored = engine.changing(engine.changes(evicted, old))
    assert restored == {**steps(OTHERS), **steps("compute-01: bundle firewall hosts member=update verify=replace")}
    assert engine.preview(evicted, old) == restored


def test_a_removed_node_is_undone_with_its_old_inputs(deployed) -> None:
    controller, old = deployed
    new = evaluate(controller, lambda n: n.pop(2))
    gone = "compute-02: bundle install identity localconf join firewall hosts member verify=delete"
    others = (
        "head: bundle firewall hosts=update verify=replace; compute-01: bundle firewall hosts=update verify=replace"
    )
    assert engine.changing(engine.changes(old, new)) == {**steps(others), **steps(gone)}
    assert engine.preview(old, new) == {**steps(others), **steps(gone)}
    ops = engine.operations(old, new)
    deletes = [o.name.removeprefix(PREFIX) for o in ops if o.action == "delete" and "compute-02" in o.name]
    # Dependents first; the bundle's delete removes nothing (install's delete does, if it uninstalls).
    assert deletes[0] == "compute-02-verify"
    assert deletes.index("compute-02-join") < deletes.index("compute-02-member") < deletes.index("compute-02-install")
    assert "compute-02-identity" not in deletes, "nothing to undo: the identity step has no delete"
    assert deletes[-1] == "compute-02-install"


def test_an_added_node_is_created_and_the_others_learn_of_it(deployed) -> None:
    controller, old = deployed
    new = evaluate(controller, lambda n: n.append({"name": "compute-03", "host": "192.168.10.13"}))
    created = "compute-03: bundle install identity localconf join firewall hosts member verify=create"
    others = "compute-01: bundle firewall hosts=update verify=replace"
    expected = {**steps(OTHERS), **steps(others), **steps(created)}
    assert engine.changing(engine.changes(old, new)) == expected
    assert engine.preview(old, new) == expected


def test_a_renamed_network_on_the_heads_controller_replaces_the_old_one() -> None:
    old = evaluate("head")
    network = {
        "name": "chpc-other",
        "cidr": "10.147.17.0/24",
        "pool": {"start": "10.147.17.200", "end": "10.147.17.250"},
    }
    new = evaluate("head", network=network)
    nodes = "join member firewall hosts bundle=update verify=replace"
    expected = steps(
        f"-: network=replace; head: {nodes}; compute-01: {nodes}; compute-02: {nodes}; laptop: member=update"
    )
    assert engine.changing(engine.changes(old, new)) == expected
    assert engine.preview(old, new) == expected
    ops = [o for o in engine.operations(old, new) if o.name == f"{PREFIX}network"]
    ids = [re.search(r"^ZTC_NETWORK_ID='?([0-9a-f]{16})", o.inputs["stdin"], re.M)[1] for o in ops]  # type: ignore[index]
    head = fake_address("head")
    assert [o.action for o in ops] == ["delete", "create"], "the old network goes first"
    assert ids == [head + "050e2a", head + ids[1][10:]] and ids[0] != ids[1]


def test_a_removed_device_is_deleted_from_the_controller(deployed) -> None:
    controller, old = deployed
    new = evaluate(controller, devices=[])
    expected = {**steps(OTHERS), **steps("compute-01: bundle firewall hosts=update verify=replace")}
    expected[f"{PREFIX}laptop-member"] = "delete"
    assert engine.changing(engine.changes(old, new)) == expected
    assert engine.preview(old, new) == expected
    delete = next(o for o in engine.operations(old, new) if o.name == f"{PREFIX}laptop-member")
    assert delete.action == "delete"
    if controller == "central":
        assert delete.inputs["memberId"] == "abcdef0123"
    else:
        assert "\nZTC_MEMBER=abcdef0123\n" in delete.inputs["stdin"]


def test_nothing_changed_is_nothing_to_do(deployed) -> None:
    controller, old = deployed
    again = evaluate(controller)
    assert engine.changing(engine.changes(old, again)) == {}
    assert engine.preview(old, again) == {}
    assert engine.operations(old, again) == []
