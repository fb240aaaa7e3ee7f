"""Overlay address allocation: deterministic, collision-free, and as stable as a pure function can be.

Rules, in order:

1. A pinned ``ip`` is used as given (it must lie in the stack's slice, outside
   the auto-assign pool, and be unique).
2. The head, unless pinned, takes the lowest usable address of the slice. No
   pin may take that address, so the head never moves.
3. Every other node, then every device, in config order, takes the first
   free usable address along a sequence derived from its own name alone
   (SHA-256; a full permutation of the slice).

Consequences (property-tested in ``tests/test_addressing.py``):

* appending a node or device never moves anyone;
* removing one moves nobody who sits at its *first choice*; a node that was
  displaced from its first choice is reported (:attr:`Assignment.displaced_by`)
  so the operator can pin it, after which nothing can move it;
* the result depends only on the config, never on time, randomness or dict order.

No allocation that is a pure function of the config can promise more: a new
node whose name hashes onto an existing node's address must go somewhere, and
without remembered state only list order can say who was there first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import Literal

from cluster.errors import ConfigError, Problem
from cluster.spec import ClusterSpec

Kind = Literal["pinned", "head", "auto"]


@dataclass(frozen=True)
class Assignment:
    """Where a node or device sits on the overlay, and how it got there."""

    name: str
    ip: IPv4Address
    kind: Kind
    #: For ``auto``: the name of whoever holds this member's first-choice address.
    displaced_by: str | None = None
    first_choice: IPv4Address | None = None


class _Space:
    """The usable addresses of the stack's slice, as integers for speed."""

    def __init__(self, spec: ClusterSpec) -> None:
        net = spec.network
        self.cidr = net.cidr
        self.slice = net.address_slice
        self.base = int(self.slice.network_address)
        self.size = self.slice.num_addresses
        self.reserved = {int(self.cidr.network_address), int(self.cidr.broadcast_address)}
        pool = net.pool
        self.pool = (int(pool.start), int(pool.end)) if pool else None

    def usable(self, value: int) -> bool:
        if value in self.reserved:
            return False
        return self.pool is None or not (self.pool[0] <= value <= self.pool[1])

    def lowest(self) -> int | None:
        return next((a for a in range(self.base, self.base + self.size) if self.usable(a)), None)

    def sequence(self, name: str) -> Iterator[int]:
        """Every address of the slice exactly once, in an order fixed by ``name``."""
        digest = hashlib.sha256(name.lower().encode()).digest()
        start = int.from_bytes(digest[:8], "big") % self.size
        stride = (int.from_bytes(digest[8:16], "big") % self.size) | 1  # odd: a full cycle
        for i in range(self.size):
            yield self.base + (start + i * stride) % self.size

    def count_usable(self) -> int:
        total = self.size - sum(1 for r in self.reserved if self.base <= r < self.base + self.size)
        if self.pool:
            low, high = max(self.pool[0], self.base), min(self.pool[1], self.base + self.size - 1)
            total -= max(0, high - low + 1)
        return total


def allocate(spec: ClusterSpec) -> dict[str, Assignment]:
    """Assigns every node and device an overlay address; raises :class:`ConfigError`."""
    space = _Space(spec)
    problems: list[Problem] = []
    members = [(n.name, n.ip, n.origin, n.role == "head") for n in spec.nodes]
    members += [(d.name, d.ip, d.origin, False) for d in spec.devices]

    head_spot = space.lowest()
    head = next((m for m in members if m[3]), None)
    taken: dict[int, str] = {}
    result: dict[str, Assignment] = {}

    for name, ip, origin, is_head in members:
        if ip is None:
            continue
        value = int(ip)
        where = f"{origin}.ip"
        if ip not in space.cidr or value in space.reserved:
            problems.append(
                Problem(
                    where,
                    f"{ip} is outside network.cidr {space.cidr} (or is its network/broadcast address)",
                    f"choose a host address inside {space.cidr}, or remove ip",
                )
            )
        elif ip not in space.slice:
            problems.append(
                Problem(
                    where,
                    f"{ip} is outside this stack's slice {space.slice}",
                    f"choose an address inside {space.slice} (zerotier-cluster:network.slice)",
                )
            )
        elif not space.usable(value):
            problems.append(
                Problem(
                    where,
                    f"{ip} is inside network.pool, which ZeroTier may hand to other members",
                    "choose an address outside the pool, or remove ip",
                )
            )
        elif value in taken:
            problems.append(
                Problem(where, f"{ip} is already used by {taken[value]}", "give every node and device its own address")
            )
        elif head is not None and head[1] is None and not is_head and value == head_spot:
            problems.append(
                Problem(
                    where,
                    f"{ip} is where the head ({head[0]}) is placed automatically",
                    "choose another address, or pin the head's ip elsewhere",
                )
            )
        else:
            taken[value] = name
            result[name] = Assignment(name, ip, "pinned")

    if spec.remote_head is not None:
        remote = spec.remote_head
        if remote.ip not in space.cidr:
            problems.append(
                Problem(
                    "zerotier-cluster:remoteHead.ip",
                    f"{remote.ip} is outside network.cidr {space.cidr}",
                    "use the owning stack's headIp output",
                )
            )
        elif int(remote.ip) in taken:
            problems.append(
                Problem(
                    "zerotier-cluster:remoteHead.ip",
                    f"{remote.ip} is also used here by {taken[int(remote.ip)]}",
                    "keep this stack's slice apart from the owning stack's",
                )
            )
        elif remote.ip in space.slice and space.usable(int(remote.ip)):
            taken[int(remote.ip)] = remote.name

    needed = sum(1 for m in members if m[1] is None)
    free = space.count_usable() - sum(
        1 for a in taken if space.usable(a) and a in range(space.base, space.base + space.size)
    )
    if needed > free:
        problems.append(
            Problem(
                "zerotier-cluster:nodes",
                f"{needed} nodes and devices need an address but only {free} are free in {space.slice}"
                + (" outside the pool" if space.pool else ""),
                "widen network.cidr or network.slice, shrink network.pool, or pin fewer addresses",
            )
        )
    if problems:
        raise ConfigError(problems)

    if head is not None and head[1] is None:
        assert head_spot is not None
        taken[head_spot] = head[0]
        result[head[0]] = Assignment(head[0], IPv4Address(head_spot), "head")

    for name, ip, _origin, is_head in members:
        if ip is not None or is_head:
            continue
        first: int | None = None
        for value in space.sequence(name):
            if not space.usable(value):
                continue
            if first is None:
                first = value
            if value not in taken:
                holder = taken[first] if first != value else None
                taken[value] = name
                result[name] = Assignment(name, IPv4Address(value), "auto", holder, IPv4Address(first))
                break
    return {m[0]: result[m[0]] for m in members}
