"""``zerotier-cluster:zerotier`` (the local.conf settings every node gets) and ``network.mtu``.

Read like every other section (a :class:`Field` table, each problem named by
its key), then checked against the whole cluster by :func:`check_dataplane`:
an MTU the controller cannot set, a trusted path that could carry traffic
between sites or over the internet, a blacklist that would cut the path the
program or ZeroTier reaches a node by. What each setting does on a node is
``cluster/scripts/localconf.sh``; why these defaults, README "The data plane".
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Any

from cluster.config import validate as v
from cluster.config.fields import (
    INVALID,
    Field,
    Problems,
    attributes,
    choice,
    complete,
    flag,
    list_of,
    number,
    read_fields,
    text,
)
from cluster.conventions import MAX_LIST_ENTRIES
from cluster.spec import DEFAULT_MTU, ClusterSpec, DataplaneSpec, PhysicalPath, SiteSpec, SourceNet

#: ZeroTier's network MTU range (``ZT_MIN_MTU``, ``ZT_MAX_MTU`` in ZeroTierOne.h).
MTU_RANGE = (1280, 10000)
#: A physical path's UDP payload range (``ZT_MIN_PHYSMTU``, ``ZT_MAX_PHYSMTU``).
PHYSICAL_MTU_RANGE = (1400, 10324)
#: Names a node's main interface usually has: a blacklisted prefix must not cover them.
MAIN_INTERFACES = ("eth0", "ens3", "enp1s0", "eno1", "em1", "bond0")
#: Where a trusted path may be: private ranges, which never cross the internet.
PRIVATE_NETS: tuple[SourceNet, ...] = (
    IPv4Network("10.0.0.0/8"),
    IPv4Network("172.16.0.0/12"),
    IPv4Network("192.168.0.0/16"),
    IPv4Network("169.254.0.0/16"),
    IPv6Network("fc00::/7"),
    IPv6Network("fe80::/10"),
)
SITE_NAME_FIX = "use letters, digits and '-', e.g. rack-a or aws-eu-west-1"
#: An ``interfacePrefixBlacklist`` entry: the start of a Linux interface name.
IFACE_PREFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,14}")
PREFIX_FIX = "use up to 15 letters, digits, '-', '_' or '.', e.g. ib-mgmt"


def _physical(value: Any, p: Problems) -> Any:
    """``physical``: a mapping of underlay networks (CIDR) to ``{mtu, blacklist, trustedPathId}``."""
    if not isinstance(value, Mapping):
        p.add("", f"must be a mapping of networks, got {type(value).__name__}", "write e.g. 10.10.0.0/16: {mtu: 9000}")
        return INVALID
    if len(value) > MAX_LIST_ENTRIES:
        p.add("", f"has {len(value)} entries, more than {MAX_LIST_ENTRIES}", "merge them into fewer networks")
        return INVALID
    paths = []
    for cidr, entry in value.items():
        net = v.parse_source(cidr)
        at = p.at(cidr)
        if net is None or net.prefixlen == 0:
            at.add("", "is not a network in CIDR form", "write it like 10.10.0.0/16 (host bits zero, not /0)")
            continue
        f = read_fields(entry, PHYSICAL, at)
        if f is None or not complete(f):
            continue
        if f["mtu"] is None and not f["blacklist"] and f["trustedPathId"] is None:
            at.add("", "sets nothing", "give it mtu, blacklist: true or trustedPathId, or remove it")
            continue
        if f["blacklist"] and (f["mtu"] is not None or f["trustedPathId"] is not None):
            at.add(
                "blacklist",
                "is set with mtu or trustedPathId, which a path ZeroTier never uses cannot have",
                "keep one",
            )
            continue
        paths.append(PhysicalPath(net, **attributes(f, PHYSICAL)))
    if len(paths) != len(value):
        return INVALID
    return tuple(sorted(paths, key=lambda path: (path.cidr.version, path.cidr)))


PHYSICAL = (
    Field("mtu", number(*PHYSICAL_MTU_RANGE)),
    Field("blacklist", flag, False),
    Field("trustedPathId", number(1, 2**53 - 1), attr="trusted_path_id"),
)
SITE = (Field("physical", _physical, ()),)


def _sites(value: Any, p: Problems) -> Any:
    """``sites``: site name to its settings; a node names its site with ``site``."""
    if not isinstance(value, Mapping):
        p.add("", f"must be a mapping of site names, got {type(value).__name__}", "write e.g. rack-a: {physical: ...}")
        return INVALID
    sites = []
    for name, entry in value.items():
        if not isinstance(name, str) or not v.DNS_LABEL.fullmatch(name):
            p.add(name, "is not a site name", SITE_NAME_FIX)
            continue
        f = read_fields(entry, SITE, p.at(name))
        if f is not None and complete(f):
            sites.append(SiteSpec(name, f["physical"]))
    return tuple(sorted(sites, key=lambda s: s.name)) if len(sites) == len(value) else INVALID


def _prefix(value: Any, p: Problems) -> Any:
    prefix = text(IFACE_PREFIX, "an interface name prefix", PREFIX_FIX)(value, p)
    if prefix is INVALID:
        return INVALID
    covered = [name for name in MAIN_INTERFACES if name.startswith(prefix) or prefix.startswith(name[:2])]
    if covered:
        p.add(
            "",
            f"{prefix!r} would keep ZeroTier off interfaces named like a node's main one ({', '.join(covered)})",
            "blacklist a management network by address instead: sites.<site>.physical.<cidr>: {blacklist: true}",
        )
        return INVALID
    return prefix


ZEROTIER = (
    Field("multicore", choice(("auto", "true", "false")), "auto"),
    Field("concurrency", number(2, 1024)),
    Field("allowTcpFallbackRelay", flag, False),
    Field("interfacePrefixBlacklist", list_of(_prefix, "list prefixes, e.g. [ib-mgmt]"), ()),
    Field("sites", _sites, ()),
)


def read_dataplane(value: Any, p: Problems) -> Any:
    """The ``zerotier`` section into a :class:`DataplaneSpec` (what needs other sections: :func:`check_dataplane`)."""
    if isinstance(value, Mapping) and isinstance(value.get("multicore"), bool):
        value = {**value, "multicore": "true" if value["multicore"] else "false"}
    f = read_fields(value, ZEROTIER, p)
    if f is None or not complete(f):
        return INVALID
    if f["concurrency"] is not None and f["multicore"] == "false":
        p.add("concurrency", "is set, but multicore is false", "remove concurrency, or set multicore: true or auto")
        return INVALID
    return DataplaneSpec(**attributes(f, ZEROTIER))


def check_dataplane(spec: ClusterSpec, p: Problems) -> None:
    """What ``zerotier`` and ``network.mtu`` can only be checked against with every node known."""
    dp = spec.dataplane
    zt = p.at("zerotier")
    mtu = spec.network.mtu
    if mtu != DEFAULT_MTU:
        if spec.controller == "central" and spec.network.owned and not spec.network.keep_settings:
            p.add(
                "network.mtu",
                f"is {mtu}, but ZeroTier Central's Terraform provider (zerotier/zerotier 1.6.0) has no network MTU",
                "set the MTU in ZeroTier Central itself (the network's settings; config.mtu in Central's API), remove "
                "this key, "
                "or use controller: head, which sets it",
            )
        elif not spec.network.owned or spec.network.keep_settings:
            p.add(
                "network.mtu",
                "is set, but this stack does not set the network's settings (network.fromStack, manage: false or "
                "keepSettings)",
                "set the MTU where the network is owned and remove it here",
            )
    sites = {spec.site_of(n) for n in spec.nodes}
    for site in dp.sites:
        if site.name not in sites:
            close = difflib.get_close_matches(site.name, sorted(sites), n=1)
            zt.at("sites").add(
                site.name,
                f"is no node's site (the nodes' sites: {', '.join(sorted(sites))})",
                f"did you mean {close[0]!r}?" if close else "set site: on the nodes in it, or remove it",
            )
    hosts = _underlay(spec)
    for site in dp.sites:
        for path in site.physical:
            at = zt.at("sites").at(site.name).at("physical").at(str(path.cidr))
            if path.blacklist:
                for what, ip in hosts:
                    if ip in path.cidr:
                        at.add(
                            "blacklist",
                            f"covers {what} {ip}, the path SSH and ZeroTier use",
                            "blacklist a narrower network (a management or IPMI range) that none of them is in",
                        )
                        break
            if path.trusted_path_id is not None:
                _check_trusted(spec, site, path, hosts, at)


def _check_trusted(
    spec: ClusterSpec, site: SiteSpec, path: PhysicalPath, hosts: list[tuple[str, Any]], at: Problems
) -> None:
    """A trusted path turns off encryption and authentication: only inside one site's private fabric."""
    if not any(path.cidr.version == net.version and path.cidr.subnet_of(net) for net in PRIVATE_NETS):  # type: ignore[arg-type]
        at.add(
            "trustedPathId",
            f"is set on {path.cidr}, which is not a private range: traffic there could cross the internet "
            "unencrypted and unauthenticated",
            "set trustedPathId only on a site's private fabric (10/8, 172.16/12, 192.168/16, fc00::/7)",
        )
        return
    for other in spec.dataplane.sites:
        if other.name == site.name:
            continue
        for theirs in other.physical:
            if theirs.cidr.version == path.cidr.version and theirs.cidr.overlaps(path.cidr):
                at.add(
                    "trustedPathId",
                    f"{path.cidr} overlaps site {other.name}'s {theirs.cidr}: a trusted path must stay inside one site",
                    "declare the trusted fabric under one site only, with a network no other site uses",
                )
                return
    for node in spec.nodes:
        if spec.site_of(node) == site.name:
            continue
        for what, ip in hosts:
            if what == f"{node.name}'s address" and ip in path.cidr:
                at.add(
                    "trustedPathId",
                    f"{path.cidr} contains {node.name}'s address {ip}, and {node.name} is in site {spec.site_of(node)}",
                    "a trusted path must not reach another site: narrow the network, or move the node to this site",
                )
                return


def _underlay(spec: ClusterSpec) -> list[tuple[str, Any]]:
    """Every underlay address the program or ZeroTier reaches a node at (IP literals only), named."""
    named: list[tuple[str, object]] = []
    for node in spec.nodes:
        named.append((f"{node.name}'s address", node.host))
        if node.proxy is not None:
            named.append((f"{node.name}'s jump host", node.proxy.host))
    found: list[tuple[str, Any]] = []
    for what, host in named:
        if not isinstance(host, str):
            continue
        try:
            found.append((what, ip_address(host.strip())))
        except ValueError:
            continue
    if spec.root_endpoint is not None:
        found.append(("the head's root endpoint", spec.root_endpoint))
    return found
