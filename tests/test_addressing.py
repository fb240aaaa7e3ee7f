"""Address allocation: never colliding, always in range, and as stable as a pure function can be."""

from __future__ import annotations

import os
from ipaddress import IPv4Address, IPv4Network

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cluster.errors import ConfigError
from cluster.plan.addressing import Assignment, allocate
from cluster.spec import ClusterSpec, DeviceSpec, NetworkSpec, NodeSpec, Pool, RemoteHead

#: Examples per property; mutation runs (docs/testing.md) lower it through the environment to finish in time.
EXAMPLES = int(os.environ.get("ZTC_HYPOTHESIS_EXAMPLES", "200"))
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
    network = NetworkSpec(name="lab", cidr=cidr, pool=pool)
    names = draw(st.lists(NAMES, min_size=2, max_size=capacity(network), unique_by=str.lower))
    return network, names


def capacity(network: NetworkSpec) -> int:
    """How many members fit: the usable host addresses outside the pool (counted here, not by the program)."""
    pool = network.pool
    return len(list(network.cidr.hosts())) - (int(pool.end) - int(pool.start) + 1 if pool else 0)


def spec_for(network: NetworkSpec, names: list[str], pins: dict[str, IPv4Address] | None = None) -> ClusterSpec:
    pins = pins or {}
    nodes = tuple(
        NodeSpec(name=n, role="head" if i == 0 else "compute", host="h", user="u", ip=pins.get(n), origin=f"nodes[{i}]")
        for i, n in enumerate(names)
    )
    return ClusterSpec(network=network, nodes=nodes)


def ips(network: NetworkSpec, names: list[str], pins: dict[str, IPv4Address] | None = None) -> dict[str, IPv4Address]:
    return {n: a.ip for n, a in allocate(spec_for(network, names, pins)).items()}


@settings(max_examples=EXAMPLES, deadline=None)
@given(layouts())
def test_never_colliding_always_inside_cidr_and_outside_pool(layout: tuple[NetworkSpec, list[str]]) -> None:
    network, names = layout
    result = ips(network, names)
    assert len(set(result.values())) == len(names)
    for ip in result.values():
        assert ip in network.cidr
        assert ip not in (network.cidr.network_address, network.cidr.broadcast_address)
        assert network.pool is None or ip not in network.pool


@settings(max_examples=EXAMPLES, deadline=None)
@given(layouts(), NAMES)
def test_appending_a_node_moves_nobody(layout: tuple[NetworkSpec, list[str]], newcomer: str) -> None:
    network, names = layout
    assume(newcomer.lower() not in {n.lower() for n in names})
    before = ips(network, names)
    if len(names) == capacity(network):  # full: one more is refused, naming the key to widen
        with pytest.raises(ConfigError) as refused:
            ips(network, [*names, newcomer])
        assert refused.value.locations() == ["zerotier-cluster:nodes"]
        return
    after = ips(network, [*names, newcomer])  # up to exactly full, every member fits
    assert {n: after[n] for n in names} == before


@settings(max_examples=EXAMPLES, deadline=None)
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


@settings(max_examples=EXAMPLES, deadline=None)
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


@settings(max_examples=EXAMPLES, deadline=None)
@given(layouts(), NAMES, st.data())
def test_inserting_a_node_only_moves_someone_whose_address_it_took(
    layout: tuple[NetworkSpec, list[str]], newcomer: str, data: st.DataObject
) -> None:
    network, names = layout
    assume(newcomer.lower() not in {n.lower() for n in names})
    at = data.draw(st.integers(min_value=1, max_value=len(names)))
    assume(len(names) < capacity(network))  # a full network refusing one more is test_appending's case
    before = ips(network, names)
    after = ips(network, [*names[:at], newcomer, *names[at:]])
    moved = {n for n in names if after[n] != before[n]}
    if moved:
        assert after[newcomer] in before.values(), "someone moved without the newcomer taking a taken address"


def test_head_takes_the_first_address_and_pins_cannot_take_it() -> None:
    network = NetworkSpec(name="lab", cidr=IPv4Network("10.147.17.0/24"))
    result = ips(network, ["head", "a", "b"])
    assert result["head"] == IPv4Address("10.147.17.1")
    with pytest.raises(ConfigError) as refused:
        ips(network, ["head", "a", "b"], {"b": IPv4Address("10.147.17.1")})
    assert [str(p) for p in refused.value.problems] == [
        "nodes[2].ip: 10.147.17.1 is where the head (head) is placed automatically\n"
        "    fix: choose another address, or pin the head's ip elsewhere"
    ]


def test_a_pinned_head_frees_the_first_address_for_others() -> None:
    network = NetworkSpec(name="lab", cidr=IPv4Network("10.147.17.0/24"))
    pins = {"head": IPv4Address("10.147.17.10"), "a": IPv4Address("10.147.17.1")}
    result = ips(network, ["head", "a"], pins)
    assert result == {"head": IPv4Address("10.147.17.10"), "a": IPv4Address("10.147.17.1")}


def test_head_is_the_first_usable_address_of_the_slice_below_the_pool() -> None:
    network = NetworkSpec(
        name="lab",
        cidr=IPv4Network("10.147.17.0/24"),
        slice=IPv4Network("10.147.17.0/29"),
        pool=Pool(IPv4Address("10.147.17.1"), IPv4Address("10.147.17.2")),
    )
    assert ips(network, ["head"]) == {"head": IPv4Address("10.147.17.3")}


def test_a_slice_that_is_exactly_full_is_accepted_and_one_more_is_refused() -> None:
    # A /30 slice inside a /24: all four addresses are usable (only the /24's own ends are reserved).
    network = NetworkSpec(name="lab", cidr=IPv4Network("10.147.17.0/24"), slice=IPv4Network("10.147.17.4/30"))
    result = ips(network, ["head", "a", "b", "c"])
    assert sorted(result.values()) == [IPv4Address(f"10.147.17.{i}") for i in (4, 5, 6, 7)]
    assert result["head"] == IPv4Address("10.147.17.4")
    with pytest.raises(ConfigError) as refused:
        ips(network, ["head", "a", "b", "c", "d"])
    assert [str(p) for p in refused.value.problems] == [
        "zerotier-cluster:nodes: 5 nodes and devices need an address but only 4 are free in 10.147.17.4/30\n"
        "    fix: widen network.cidr or network.slice, shrink network.pool, or pin fewer addresses"
    ]


def test_a_whole_slash_30_network_holds_exactly_its_two_hosts() -> None:
    network = NetworkSpec(name="lab", cidr=IPv4Network("10.147.17.0/30"))
    assert ips(network, ["head", "a"]) == {"head": IPv4Address("10.147.17.1"), "a": IPv4Address("10.147.17.2")}
    with pytest.raises(ConfigError) as refused:
        ips(network, ["head", "a", "b"])
    assert refused.value.locations() == ["zerotier-cluster:nodes"]
    assert "3 nodes and devices need an address but only 2 are free in 10.147.17.0/30" in str(refused.value)


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


LAB = NetworkSpec(
    name="lab",
    cidr=IPv4Network("10.147.17.0/24"),
    pool=Pool(IPv4Address("10.147.17.200"), IPv4Address("10.147.17.250")),
)


def problems(
    network: NetworkSpec, names: list[str], pins: dict[str, str], remote: RemoteHead | None = None
) -> list[str]:
    spec = spec_for(network, names, {n: IPv4Address(ip) for n, ip in pins.items()})
    spec = ClusterSpec(network=spec.network, nodes=spec.nodes, remote_head=remote)
    with pytest.raises(ConfigError) as refused:
        allocate(spec)
    return [str(p) for p in refused.value.problems]


@pytest.mark.parametrize(
    ("pin", "expected"),
    [
        (
            "10.147.18.5",
            "nodes[1].ip: 10.147.18.5 is outside network.cidr 10.147.17.0/24 (or is its network/broadcast address)\n"
            "    fix: choose a host address inside 10.147.17.0/24, or remove ip",
        ),
        (
            "10.147.17.255",
            "nodes[1].ip: 10.147.17.255 is outside network.cidr 10.147.17.0/24 (or is its network/broadcast address)\n"
            "    fix: choose a host address inside 10.147.17.0/24, or remove ip",
        ),
        (
            "10.147.17.200",
            "nodes[1].ip: 10.147.17.200 is inside network.pool, which ZeroTier may hand to other members\n"
            "    fix: choose an address outside the pool, or remove ip",
        ),
    ],
    ids=["outside-cidr", "broadcast", "in-pool"],
)
def test_every_bad_pin_is_refused_with_its_key_and_fix(pin: str, expected: str) -> None:
    assert problems(LAB, ["head", "a"], {"a": pin}) == [expected]


def test_a_pin_taken_twice_names_the_second_key() -> None:
    assert problems(LAB, ["head", "a", "b"], {"a": "10.147.17.9", "b": "10.147.17.9"}) == [
        "nodes[2].ip: 10.147.17.9 is already used by a\n    fix: give every node and device its own address"
    ]


def test_a_pin_outside_the_stacks_slice_is_refused() -> None:
    network = NetworkSpec(name="lab", cidr=IPv4Network("10.147.17.0/24"), slice=IPv4Network("10.147.17.128/26"))
    assert problems(network, ["head", "a"], {"a": "10.147.17.5"}) == [
        "nodes[1].ip: 10.147.17.5 is outside this stack's slice 10.147.17.128/26\n"
        "    fix: choose an address inside 10.147.17.128/26 (zerotier-cluster:network.slice)"
    ]


def test_the_remote_head_must_lie_in_the_cidr_and_apart_from_this_stacks_pins() -> None:
    outside = RemoteHead("head", IPv4Address("10.147.18.1"))
    assert problems(LAB, ["a"], {}, outside) == [
        "zerotier-cluster:remoteHead.ip: 10.147.18.1 is outside network.cidr 10.147.17.0/24\n"
        "    fix: use the owning stack's headIp output"
    ]
    clash = RemoteHead("head", IPv4Address("10.147.17.5"))
    names = ["a", "b"]
    nodes = tuple(
        NodeSpec(
            name=n,
            role="compute",
            host="h",
            user="u",
            ip=IPv4Address("10.147.17.5") if n == "b" else None,
            origin=f"nodes[{i}]",
        )
        for i, n in enumerate(names)
    )
    with pytest.raises(ConfigError) as refused:
        allocate(ClusterSpec(network=LAB, nodes=nodes, remote_head=clash))
    assert [str(p) for p in refused.value.problems] == [
        "zerotier-cluster:remoteHead.ip: 10.147.17.5 is also used here by b\n"
        "    fix: keep this stack's slice apart from the owning stack's"
    ]


def test_a_stack_without_its_own_head_allocates_around_the_remote_one() -> None:
    network = NetworkSpec(name="lab", cidr=IPv4Network("10.147.17.0/24"), slice=IPv4Network("10.147.17.0/30"))
    nodes = tuple(
        NodeSpec(name=n, role="compute", host="h", user="u", origin=f"nodes[{i}]") for i, n in enumerate(["a", "b"])
    )
    remote = RemoteHead("head", IPv4Address("10.147.17.1"))
    result = {n: a.ip for n, a in allocate(ClusterSpec(network=network, nodes=nodes, remote_head=remote)).items()}
    assert result == {"a": IPv4Address("10.147.17.2"), "b": IPv4Address("10.147.17.3")}  # both hash to .2 first


GOLDEN = {
    "head": "10.147.17.1",
    "cn-01": "10.147.17.37",
    "cn-02": "10.147.17.254",
    "cn-03": "10.147.17.132",
    "login": "10.147.17.73",
}


def test_addresses_follow_each_names_own_sequence() -> None:
    """Literal addresses: the SHA-256 walk is part of the contract (changing it moves every node)."""
    network = NetworkSpec(name="lab", cidr=IPv4Network("10.147.17.0/24"))
    assert {n: str(ip) for n, ip in ips(network, ["head", "cn-01", "cn-02", "cn-03", "login"]).items()} == GOLDEN


@pytest.mark.parametrize(
    ("network", "nodes", "message"),
    [
        (
            NetworkSpec(
                name="lab",
                cidr=IPv4Network("10.147.17.0/28"),
                pool=Pool(IPv4Address("10.147.17.10"), IPv4Address("10.147.17.14")),
            ),
            10,
            "10 nodes and devices need an address but only 9 are free in 10.147.17.0/28 outside the pool",
        ),
        (
            NetworkSpec(
                name="lab",
                cidr=IPv4Network("10.147.17.0/24"),
                slice=IPv4Network("10.147.17.0/28"),
                pool=Pool(IPv4Address("10.147.17.16"), IPv4Address("10.147.17.250")),
            ),
            16,
            "16 nodes and devices need an address but only 15 are free in 10.147.17.0/28 outside the pool",
        ),
    ],
    ids=["pool-inside-the-cidr", "pool-beside-the-slice"],
)
def test_free_addresses_are_counted_outside_the_pool_and_the_cidrs_ends(
    network: NetworkSpec, nodes: int, message: str
) -> None:
    names = ["head", *[f"n{i}" for i in range(1, nodes)]]
    with pytest.raises(ConfigError) as refused:
        ips(network, names)
    assert [p.message for p in refused.value.problems] == [message]
    assert len(ips(network, names[:-1])) == nodes - 1  # one fewer fits


def test_a_displaced_node_takes_the_next_address_of_its_own_walk_and_says_who_holds_its_first() -> None:
    network = NetworkSpec(name="lab", cidr=IPv4Network("10.147.17.0/24"))
    result = allocate(spec_for(network, ["head", *[f"cn-{i:02d}" for i in range(1, 26)]]))
    displaced = {n: (str(a.ip), str(a.first_choice), a.displaced_by) for n, a in result.items() if a.displaced_by}
    assert displaced == {
        "cn-18": ("10.147.17.75", "10.147.17.176", "cn-04"),
        "cn-23": ("10.147.17.92", "10.147.17.122", "cn-13"),
        "cn-25": ("10.147.17.35", "10.147.17.42", "cn-09"),
    }


def test_each_assignment_says_how_it_was_made() -> None:
    """render's address table and the program's pin warnings read these fields."""
    result = allocate(spec_for(LAB, ["head", "a", "b"], {"a": IPv4Address("10.147.17.9")}))
    assert result == {
        "head": Assignment("head", IPv4Address("10.147.17.1"), "head"),
        "a": Assignment("a", IPv4Address("10.147.17.9"), "pinned"),
        "b": Assignment("b", IPv4Address("10.147.17.74"), "auto", None, IPv4Address("10.147.17.74")),
    }


def test_nodes_walk_around_a_remote_head_inside_their_slice() -> None:
    network = NetworkSpec(
        name="lab",
        cidr=IPv4Network("10.147.17.0/24"),
        slice=IPv4Network("10.147.17.4/30"),
        pool=Pool(IPv4Address("10.147.17.200"), IPv4Address("10.147.17.250")),
    )
    nodes = tuple(
        NodeSpec(name=n, role="compute", host="h", user="u", origin=f"nodes[{i}]") for i, n in enumerate(["a", "b"])
    )
    remote = RemoteHead("head", IPv4Address("10.147.17.6"))
    result = allocate(ClusterSpec(network=network, nodes=nodes, remote_head=remote))
    # Both names walk the /30 as offsets 2, 3, 0, 1: .6 is the remote head's.
    assert result == {
        "a": Assignment("a", IPv4Address("10.147.17.7"), "auto", "head", IPv4Address("10.147.17.6")),
        "b": Assignment("b", IPv4Address("10.147.17.4"), "auto", "head", IPv4Address("10.147.17.6")),
    }


def test_pinned_addresses_count_against_a_full_slice() -> None:
    network = NetworkSpec(name="lab", cidr=IPv4Network("10.147.17.0/24"), slice=IPv4Network("10.147.17.4/30"))
    pins = {"a": IPv4Address("10.147.17.5")}
    assert {n: str(ip) for n, ip in ips(network, ["head", "a", "b", "c"], pins).items()} == {
        "head": "10.147.17.4",
        "a": "10.147.17.5",
        "b": "10.147.17.6",
        "c": "10.147.17.7",
    }
    with pytest.raises(ConfigError) as refused:
        ips(network, ["head", "a", "b", "c", "d"], pins)
    assert [p.message for p in refused.value.problems] == [
        "4 nodes and devices need an address but only 3 are free in 10.147.17.4/30"
    ]


def test_a_slice_of_only_the_network_address_has_no_room_even_for_the_head() -> None:
    network = NetworkSpec(name="lab", cidr=IPv4Network("10.147.17.0/24"), slice=IPv4Network("10.147.17.0/32"))
    with pytest.raises(ConfigError) as refused:
        ips(network, ["head"])
    assert [p.message for p in refused.value.problems] == [
        "1 nodes and devices need an address but only 0 are free in 10.147.17.0/32"
    ]


def test_a_single_address_slice_next_to_the_broadcast_address_holds_one_node() -> None:
    network = NetworkSpec(name="lab", cidr=IPv4Network("10.147.17.0/24"), slice=IPv4Network("10.147.17.254/32"))
    assert ips(network, ["head"]) == {"head": IPv4Address("10.147.17.254")}


def test_a_node_whose_first_choice_is_the_heads_address_names_the_head() -> None:
    network = NetworkSpec(name="lab", cidr=IPv4Network("10.147.17.0/24"), slice=IPv4Network("10.147.17.4/30"))
    # "x" walks the /30 as offsets 0, 1, 2, 3; the head sits at offset 0.
    assert allocate(spec_for(network, ["head", "x"]))["x"] == Assignment(
        "x", IPv4Address("10.147.17.5"), "auto", "head", IPv4Address("10.147.17.4")
    )
