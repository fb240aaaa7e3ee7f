"""Address allocation: never colliding, always in range, and as stable as a pure function can be."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cluster.addressing import allocate
from cluster.errors import ConfigError
from cluster.spec import ClusterSpec, DeviceSpec, NetworkSpec, NodeSpec, Pool

NAMES = st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True)


@st.composite
def layouts(draw: st.DrawFn) -> tuple[NetworkSpec, list[str]]:
    """A small network (collisions are likely) with a pool, and some node names."""
    prefix = draw(st.integers(min_value=26, max_value=28))
    cidr = IPv4Network(f"10.147.17.0/{prefix}")
    hosts = list(cidr.hosts())
    pool = None
    if draw(st.booleans()):
        start = draw(st.integers(min_value=len(hosts) // 2, max_value=len(hosts) - 2))
        pool = Pool(hosts[start], hosts[draw(st.integers(min_value=start, max_value=len(hosts) - 1))])
    capacity = len(hosts) - (int(pool.end) - int(pool.start) + 1 if pool else 0)
    names = draw(st.lists(NAMES, min_size=2, max_size=max(2, capacity - 1), unique_by=str.lower))
    return NetworkSpec(name="lab", cidr=cidr, pool=pool), names


def spec_for(network: NetworkSpec, names: list[str], pins: dict[str, IPv4Address] | None = None) -> ClusterSpec:
    pins = pins or {}
    nodes = tuple(
        NodeSpec(name=n, role="head" if i == 0 else "compute", host="h", user="u", ip=pins.get(n), origin=f"nodes[{i}]")
        for i, n in enumerate(names)
    )
    return ClusterSpec(network=network, nodes=nodes)


def ips(network: NetworkSpec, names: list[str], pins: dict[str, IPv4Address] | None = None) -> dict[str, IPv4Address]:
    return {n: a.ip for n, a in allocate(spec_for(network, names, pins)).items()}


@settings(max_examples=200, deadline=None)
@given(layouts())
def test_never_colliding_always_inside_cidr_and_outside_pool(layout: tuple[NetworkSpec, list[str]]) -> None:
    network, names = layout
    result = ips(network, names)
    assert len(set(result.values())) == len(names)
    for ip in result.values():
        assert ip in network.cidr
        assert ip not in (network.cidr.network_address, network.cidr.broadcast_address)
        assert network.pool is None or ip not in network.pool


@settings(max_examples=200, deadline=None)
@given(layouts(), NAMES)
def test_appending_a_node_moves_nobody(layout: tuple[NetworkSpec, list[str]], newcomer: str) -> None:
    network, names = layout
    assume(newcomer.lower() not in {n.lower() for n in names})
    before = ips(network, names)
    try:
        after = ips(network, [*names, newcomer])
    except ConfigError:  # the network is full: refused, so nothing moved
        return
    assert {n: after[n] for n in names} == before


@settings(max_examples=200, deadline=None)
@given(layouts(), st.data())
def test_removing_a_node_moves_nobody_at_its_first_choice(
    layout: tuple[NetworkSpec, list[str]], data: st.DataObject
) -> None:
    network, names = layout
    assume(len(names) >= 3)
    gone = data.draw(st.sampled_from(names[1:]))
    before = allocate(spec_for(network, names))
    after = ips(network, [n for n in names if n != gone])
    for name, assignment in before.items():
        if name != gone and assignment.displaced_by is None:
            assert after[name] == assignment.ip, f"{name} moved although it held its first choice"


@settings(max_examples=200, deadline=None)
@given(layouts(), st.data())
def test_once_displaced_members_are_pinned_removals_move_nobody(
    layout: tuple[NetworkSpec, list[str]], data: st.DataObject
) -> None:
    network, names = layout
    assume(len(names) >= 3)
    before = allocate(spec_for(network, names))
    pins = {n: a.ip for n, a in before.items() if a.displaced_by is not None}
    gone = data.draw(st.sampled_from(names[1:]))
    after = ips(network, [n for n in names if n != gone], pins)
    assert {n: after[n] for n in names if n != gone} == {n: a.ip for n, a in before.items() if n != gone}


@settings(max_examples=200, deadline=None)
@given(layouts(), NAMES, st.data())
def test_inserting_a_node_only_moves_someone_whose_address_it_took(
    layout: tuple[NetworkSpec, list[str]], newcomer: str, data: st.DataObject
) -> None:
    network, names = layout
    assume(newcomer.lower() not in {n.lower() for n in names})
    at = data.draw(st.integers(min_value=1, max_value=len(names)))
    before = ips(network, names)
    try:
        after = ips(network, [*names[:at], newcomer, *names[at:]])
    except ConfigError:  # the network is full: refused, so nothing moved
        return
    moved = {n for n in names if after[n] != before[n]}
    if moved:
        assert after[newcomer] in before.values(), "someone moved without the newcomer taking a taken address"


def test_head_takes_the_first_address_and_pins_cannot_take_it() -> None:
    network = NetworkSpec(name="lab", cidr=IPv4Network("10.147.17.0/24"))
    result = ips(network, ["head", "a", "b"])
    assert result["head"] == IPv4Address("10.147.17.1")


def test_allocation_is_a_pure_function_of_names_not_of_order_of_evaluation() -> None:
    network = NetworkSpec(name="lab", cidr=IPv4Network("10.147.16.0/22"))
    names = ["head", *[f"compute-{i:03d}" for i in range(200)]]
    assert ips(network, names) == ips(network, list(names))


def test_devices_come_after_nodes_and_never_move_them() -> None:
    network = NetworkSpec(name="lab", cidr=IPv4Network("10.147.17.0/26"))
    names = ["head", *[f"c{i}" for i in range(20)]]
    nodes_only = ips(network, names)
    spec = spec_for(network, names)
    with_devices = ClusterSpec(
        network=network,
        nodes=spec.nodes,
        devices=tuple(DeviceSpec(name=f"laptop{i}", address=f"{i:010x}", origin=f"devices[{i}]") for i in range(10)),
    )
    result = {n: a.ip for n, a in allocate(with_devices).items()}
    assert {n: result[n] for n in names} == nodes_only
    assert len(set(result.values())) == 31
