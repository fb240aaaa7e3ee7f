"""What every node's local.conf gets from ``zerotier-cluster:zerotier``: the settings part the plan knows.

The part that depends on the node itself (multicore and concurrency, from its
core count) is chosen on the node by ``cluster/scripts/localconf.sh`` from
:data:`MULTICORE_MIN_CORES`; see README "The data plane" for the figures
behind both.
"""

from __future__ import annotations

from typing import Any

from cluster.plan.network import compact_json
from cluster.spec import DataplaneSpec, SiteSpec

#: Interface name prefixes ZeroTier never sends its own traffic over: container bridges and veths,
#: virtual machine bridges, other VPNs (tun/tap, WireGuard, Tailscale), and ZeroTier's own interfaces.
DEFAULT_INTERFACE_BLACKLIST = (
    "zt",
    "docker",
    "br-",
    "veth",
    "virbr",
    "lxcbr",
    "cni",
    "flannel",
    "cali",
    "tun",
    "tap",
    "wg",
    "tailscale",
)
#: ``multicore: auto`` turns ZeroTier's multicore packet processing on from this many cores (README).
MULTICORE_MIN_CORES = 8


def local_conf(dp: DataplaneSpec, site: SiteSpec) -> str:
    """The local.conf entries the program owns on a node of ``site`` (besides multicore), as compact JSON."""
    settings: dict[str, Any] = {
        "allowTcpFallbackRelay": dp.allow_tcp_fallback_relay,
        "interfacePrefixBlacklist": list(dict.fromkeys((*DEFAULT_INTERFACE_BLACKLIST, *dp.interface_prefix_blacklist))),
    }
    physical: dict[str, Any] = {}
    for path in site.physical:
        entry: dict[str, Any] = {}
        if path.blacklist:
            entry["blacklist"] = True
        if path.mtu is not None:
            entry["mtu"] = path.mtu
        if path.trusted_path_id is not None:
            entry["trustedPathId"] = path.trusted_path_id
        physical[str(path.cidr)] = entry
    return compact_json({"physical": physical, "settings": settings} if physical else {"settings": settings})
