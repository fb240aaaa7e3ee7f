"""``zerotier-cluster:policy``: reachability assertions, read and checked against the cluster they name.

Each entry is ``{from, to, port, expect}``::

    zerotier-cluster:policy:
      - {from: device, to: compute, port: tcp/6818, expect: deny}
      - {from: compute, to: head, port: tcp/6817, expect: allow}

``from`` is a role (``head``, ``compute``), ``device`` (every device), a node
or device name, ``lan`` (a host on a node's underlay) or ``internet``; ``to``
is a role or a node name; ``port`` is ``tcp/N``, ``udp/N``, ``icmp`` or
``ssh`` (TCP to each destination's own SSH port). The plan evaluates every
assertion, and the defaults it derives from the roles, the devices' access
and the firewall's openings (:mod:`cluster.plan.reach`), against the ZeroTier
rules and each destination's nftables ruleset. Here only what the config
alone can refuse: shapes, names that do not exist, ports out of range,
assertions that contradict each other, and assertions no layer can decide.
"""

from __future__ import annotations

import re
from typing import Any

from cluster.config import validate as v
from cluster.config.fields import INVALID, Problems, printable
from cluster.plan.reach import overlaps, sources, targets
from cluster.spec import UNDERLAY_SOURCES, Assertion, ClusterSpec

FIELDS = ("from", "to", "port", "expect")
#: More assertions than this and the contradiction check (every pair) would cost more than a review is worth.
MAX_ASSERTIONS = 1000
PORT = re.compile(r"(tcp|udp)/([0-9]{1,5})")
EXAMPLE = "{from: compute, to: head, port: tcp/6817, expect: allow}"


def read_policy(value: Any, p: Problems) -> Any:
    """The list's shape and each entry's fields; names are checked once the cluster is known."""
    if not isinstance(value, list):
        p.add("", "must be a list of assertions", f"write e.g. [{EXAMPLE}]")
        return INVALID
    if len(value) > MAX_ASSERTIONS:
        p.add("", f"has {len(value)} assertions; at most {MAX_ASSERTIONS}", "assert about roles rather than each node")
        return INVALID
    out = []
    for index, raw in enumerate(value):
        entry = p.at(f"[{index}]")
        if not isinstance(raw, dict):
            entry.add("", "must be a mapping with from, to, port and expect", f"write e.g. {EXAMPLE}")
            continue
        unknown = [k for k in raw if k not in FIELDS]
        for k in unknown:
            entry.add(printable(k), "is not an assertion field", "use only from, to, port and expect")
        missing = [k for k in FIELDS if k not in raw]
        for k in missing:
            entry.add(k, "is missing", f"write e.g. {EXAMPLE}")
        texts: dict[str, Any] = {k: raw.get(k) for k in FIELDS}
        bad = [k for k in FIELDS if k in raw and not isinstance(texts[k], str)]
        for k in bad:
            entry.add(k, f"must be text, not {type(texts[k]).__name__}", f"write e.g. {EXAMPLE}")
        names = [k for k in ("from", "to") if k in raw and k not in bad and not v.DNS_LABEL.fullmatch(texts[k])]
        for k in names:
            entry.add(k, f"{_shown(texts[k])} is not a role, node or device name", f"write e.g. {EXAMPLE}")
        usable = "port" in raw and "port" not in bad
        parsed = _service(texts["port"], entry) if usable else None
        expect_ok = texts["expect"] in ("allow", "deny")
        if "expect" in raw and "expect" not in bad and not expect_ok:
            entry.add("expect", f"{_shown(texts['expect'])} is not allow or deny", "write expect: allow or deny")
        if unknown or missing or bad or names or parsed is None or not expect_ok:
            continue
        protocol, port = parsed
        out.append(Assertion(texts["from"], texts["to"], protocol, port, texts["expect"], entry.key()))
    return tuple(out)


def _shown(text: str) -> str:
    """A value as a message quotes it: in quotes, or bounded and escaped when it is long or not printable."""
    return repr(text) if printable(text) == text else printable(text)


def _service(text: str, p: Problems) -> tuple[Any, int | None] | None:
    if text in ("icmp", "ssh"):
        return ("icmp", None) if text == "icmp" else ("tcp", None)
    found = PORT.fullmatch(text)
    if found is None:
        p.add("port", f"{_shown(text)} is not tcp/N, udp/N, icmp or ssh", "write e.g. port: tcp/22 or port: icmp")
        return None
    port = int(found[2])
    if not 1 <= port <= 65535:
        p.add("port", f"port {port} is out of range (1-65535)", "use a port from 1 to 65535")
        return None
    return found[1], port


def policy_problems(spec: ClusterSpec, p: Problems) -> None:
    """Names that exist, sources a layer can judge, and no two assertions that contradict each other."""
    nodes = sorted(n.name for n in spec.active_nodes)
    valid = []
    for a in spec.policy:
        entry = p.under(a.key)
        ok = True
        if sources(spec, a.source) is None:
            entry.add(
                "from",
                f"{a.source!r} is no role, node, device, lan or internet here",
                f"use head, compute, device, lan, internet or one of {', '.join(nodes[:8])}",
            )
            ok = False
        elif not sources(spec, a.source):
            entry.add("from", f"{a.source!r} has no member in this stack", "assert about a role that has nodes")
            ok = False
        if targets(spec, a.target) is None:
            entry.add(
                "to",
                f"{a.target!r} is no role or node of this stack",
                f"use head, compute or one of {', '.join(nodes[:8])} (devices, lan and internet are no destination)",
            )
            ok = False
        elif not targets(spec, a.target):
            entry.add("to", f"{a.target!r} has no node in this stack", "assert about the stack that has that node")
            ok = False
        if a.source in UNDERLAY_SOURCES and spec.firewall.mode == "off":
            entry.add(
                "from",
                f"{a.source} reaches nodes over their underlay, where only nftables could decide, and "
                "firewall.mode is off",
                "drop the assertion, or let the program manage the firewall (firewall.mode: enforce)",
            )
            ok = False
        if ok:
            valid.append(a)
    for i, a in enumerate(valid):
        for b in valid[i + 1 :]:
            if a.expect != b.expect and overlaps(spec, a, b):
                p.under(b.key).add(
                    "",
                    f"{b} contradicts {a.key} ({a}): some probe would have to be allowed and denied",
                    "keep one of them, or narrow one to a node so that they no longer overlap",
                )
