"""Every generated ruleset, loaded into a real kernel and probed with real packets.

Each scenario is a stack config, a node (head or compute) and a table of
packets: for every rule, one it must let in and one it must keep out. The
node is a network namespace on a segment with an operator's workstation
(``admin``) and an unlisted host (``stranger``), plus a veth interface named
like the network's ZeroTier interface (``zta51146d380``, derived from the
network name ``lab`` unless ``network.interface`` pins one) whose far end sends from overlay
addresses: the head's, another node's, a device's, a peer range's and one
that belongs to nobody. A raw-socket sink on the node records which packets
got past its input hook (see ``tests/lab/packets.py``).
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import pytest

from cluster.config.parse import parse_cluster
from cluster.plan.build import NodePlan, build_plan
from cluster.plan.nft_eval import Packet, Ruleset
from tests.conftest import needs_root

NODE_V4, ADMIN_V4, STRANGER_V4 = "10.77.0.1", "10.77.0.2", "10.77.0.3"
OVERLAY = {"head": "10.147.17.1", "c1": "10.147.17.11", "c2": "10.147.17.12"}
DEVICE, PEER, OUTSIDER = "10.147.17.200", "10.147.17.70", "10.147.17.100"

BASE: dict[str, Any] = {
    "network": {"name": "lab", "cidr": "10.147.17.0/24"},
    "ssh": {"user": "ops"},
    "nodes": [
        {"name": "head", "role": "head", "host": "192.0.2.1", "ip": OVERLAY["head"]},
        {"name": "c1", "role": "compute", "host": "192.0.2.11", "ip": OVERLAY["c1"]},
        {"name": "c2", "role": "compute", "host": "192.0.2.12", "ip": OVERLAY["c2"]},
    ],
    "devices": [{"name": "alice", "address": "0123456789", "ip": DEVICE}],
}

#: Who sends: (host in the lab, source address).
SENDERS = {
    "admin": ("admin", ADMIN_V4),
    "admin6": ("admin", "fd77::2"),
    "admin_ll": ("admin", "fe80::2%eth0"),
    "stranger": ("stranger", STRANGER_V4),
    "stranger6": ("stranger", "fd77::3"),
    # A member's overlay address arriving over the underlay, not the overlay interface.
    "spoofed_member": ("admin", OVERLAY["c2"]),
    "head_zt": ("overlay", OVERLAY["head"]),
    "member_zt": ("overlay", OVERLAY["c2"]),
    "device_zt": ("overlay", DEVICE),
    "peer_zt": ("overlay", PEER),
    "outsider_zt": ("overlay", OUTSIDER),
    "self": ("node", "127.0.0.1"),
}

# (sender, protocol, port or ICMP type, destination on the node, arrives?, source port)
Exp = tuple[str, str, int, str, bool] | tuple[str, str, int, str, bool, int]

#: What every node admits and drops whatever the config (ZeroTier on its default port).
BASICS: tuple[Exp, ...] = (
    ("stranger", "icmp", 8, "v4", True),  # echo-request
    ("stranger", "icmp", 3, "v4", True),  # destination-unreachable (incl. PMTU's fragmentation-needed)
    ("stranger", "icmp", 11, "v4", True),  # time-exceeded
    ("stranger", "icmp", 12, "v4", True),  # parameter-problem
    ("stranger", "icmp", 13, "v4", False),  # timestamp-request
    ("stranger", "icmp", 5, "v4", False),  # redirect
    ("stranger6", "icmp", 128, "v6", True),  # echo-request
    ("stranger6", "icmp", 2, "v6", True),  # packet-too-big (PMTU)
    ("stranger6", "icmp", 1, "v6", True),  # destination-unreachable
    ("stranger6", "icmp", 3, "v6", True),  # time-exceeded
    ("stranger6", "icmp", 135, "v6", True),  # neighbor solicitation
    ("stranger6", "icmp", 136, "v6", True),  # neighbor advertisement
    ("stranger6", "icmp", 134, "v6", True),  # router advertisement
    ("stranger6", "icmp", 137, "v6", False),  # redirect
    ("stranger6", "icmp", 139, "v6", False),  # node information query
    ("stranger", "udp", 68, "v4", True, 67),  # a DHCP server's reply
    ("stranger", "udp", 68, "v4", False),  # the client port, not from a server
    ("admin_ll", "udp", 546, "ll", True, 547),  # a DHCPv6 server's reply (link-local)
    ("admin6", "udp", 546, "v6", False, 547),  # DHCPv6 from a global address
    ("stranger", "udp", 9993, "v4", True),  # ZeroTier from anywhere
    ("stranger6", "udp", 9993, "v6", True),
    ("outsider_zt", "udp", 9993, "zt", True),
    ("stranger", "udp", 9994, "v4", False),
    ("stranger", "tcp", 80, "v4", False),  # everything else
    ("stranger6", "tcp", 80, "v6", False),
    ("stranger", "udp", 5000, "v4", False),
    ("self", "tcp", 5555, "lo", True),  # loopback
    ("outsider_zt", "tcp", 5000, "zt", False),  # on the overlay but no member
    ("outsider_zt", "udp", 5000, "zt", False),
    ("spoofed_member", "tcp", 5000, "v4", False),  # a member's address, wrong interface
)

OPERATOR_DROPS_ALL = """\
table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		tcp dport 8080 accept
	}
}
"""


@dataclass(frozen=True)
class Scenario:
    name: str
    #: The node under test: head or c1.
    node: str
    firewall: dict[str, Any]
    expect: tuple[Exp, ...]
    #: Extra top-level config and per-node fields.
    config: dict[str, Any] = field(default_factory=dict)
    node_fields: dict[str, Any] = field(default_factory=dict)
    #: The operator's own ruleset, loaded first.
    operator: str = ""
    #: The overlay interface's name on the node: by default zt + sha256("lab")[:10].
    link: str = "zta51146d380"
    basics: bool = True


SCENARIOS = (
    Scenario(
        "defaults-head",
        "head",
        {},
        (
            ("stranger", "tcp", 22, "v4", True),  # SSH from anywhere
            ("stranger6", "tcp", 22, "v6", True),
            ("stranger", "tcp", 2222, "v4", False),
            ("member_zt", "tcp", 5000, "zt", True),  # members: everything over the overlay
            ("member_zt", "udp", 5000, "zt", True),
            ("device_zt", "tcp", 22, "zt", True),  # devices: SSH only
            ("device_zt", "tcp", 5000, "zt", False),
            ("peer_zt", "tcp", 5000, "zt", False),  # no peers configured
        ),
    ),
    Scenario(
        "defaults-compute-sshd-port",
        "c1",
        {},
        (
            ("stranger", "tcp", 2222, "v4", True),  # nodes[1].sshdPort
            ("stranger", "tcp", 22, "v4", False),
            ("stranger6", "tcp", 2222, "v6", True),
            ("head_zt", "tcp", 5000, "zt", True),
            ("device_zt", "tcp", 2222, "zt", True),
            ("device_zt", "tcp", 22, "zt", False),
        ),
        node_fields={"sshdPort": 2222},
    ),
    Scenario(
        "ssh-from",
        "head",
        {"sshFrom": [f"{ADMIN_V4}/32", "fd77::2/128"]},
        (
            ("admin", "tcp", 22, "v4", True),
            ("stranger", "tcp", 22, "v4", False),
            ("admin6", "tcp", 22, "v6", True),
            ("stranger6", "tcp", 22, "v6", False),
            ("member_zt", "tcp", 22, "zt", True),  # members keep SSH over the overlay
            ("device_zt", "tcp", 22, "zt", True),
            ("outsider_zt", "tcp", 22, "zt", False),
        ),
    ),
    Scenario(
        "compute-ssh-head-and-overlay",
        "c1",
        # sshFrom names the stranger: a compute node with head-and-overlay ignores it.
        {"computeSsh": "head-and-overlay", "headAddresses": [ADMIN_V4], "sshFrom": [f"{STRANGER_V4}/32"]},
        (
            ("admin", "tcp", 22, "v4", True),  # the head's underlay address
            ("stranger", "tcp", 22, "v4", False),
            ("admin6", "tcp", 22, "v6", False),  # headAddresses has no IPv6 address
            ("head_zt", "tcp", 22, "zt", True),
            ("member_zt", "tcp", 22, "zt", True),
            ("device_zt", "tcp", 22, "zt", True),
            ("outsider_zt", "tcp", 22, "zt", False),
        ),
        config={"ssh": {"user": "ops", "proxy": "head"}},
    ),
    Scenario(
        "compute-ssh-head-and-overlay-on-head",
        "head",
        {"computeSsh": "head-and-overlay", "headAddresses": [ADMIN_V4], "sshFrom": [f"{STRANGER_V4}/32"]},
        (
            ("stranger", "tcp", 22, "v4", True),  # the head follows sshFrom
            ("admin", "tcp", 22, "v4", False),
        ),
        config={"ssh": {"user": "ops", "proxy": "head"}},
    ),
    Scenario(
        "cluster-ports",
        "c1",
        {
            "clusterPorts": ["tcp/6817-6819", "udp/60001", {"port": "tcp/5000", "from": ["10.147.17.0/28"]}],
            "peers": ["10.147.17.64/28"],
        },
        (
            ("member_zt", "tcp", 6818, "zt", True),
            ("member_zt", "tcp", 6820, "zt", False),
            ("member_zt", "udp", 60001, "zt", True),
            ("member_zt", "udp", 60002, "zt", False),
            ("member_zt", "tcp", 5000, "zt", True),  # 10.147.17.12 is in the rule's /28
            ("peer_zt", "tcp", 5000, "zt", False),  # a member outside the /28
            ("peer_zt", "tcp", 6817, "zt", True),
            ("head_zt", "tcp", 22, "zt", True),  # SSH over the overlay stays open
            ("head_zt", "tcp", 7000, "zt", False),
            ("device_zt", "tcp", 6818, "zt", False),
            ("outsider_zt", "tcp", 6818, "zt", False),
            ("stranger", "tcp", 6818, "v4", False),  # cluster ports are overlay-only
        ),
    ),
    Scenario(
        "openings-head",
        "head",
        {
            "openings": {
                "head": ["tcp/443", "udp/4000", {"port": "tcp/8443-8444", "from": [f"{ADMIN_V4}/32", "fd77::2/128"]}],
                "compute": ["tcp/9100"],
            }
        },
        (
            ("stranger", "tcp", 443, "v4", True),
            ("stranger6", "tcp", 443, "v6", True),
            ("outsider_zt", "tcp", 443, "zt", True),  # openings hold on every interface
            ("stranger", "udp", 4000, "v4", True),
            ("admin", "tcp", 8444, "v4", True),
            ("stranger", "tcp", 8444, "v4", False),
            ("admin6", "tcp", 8443, "v6", True),
            ("stranger6", "tcp", 8443, "v6", False),
            ("stranger", "tcp", 9100, "v4", False),  # the compute role's opening
        ),
    ),
    Scenario(
        "openings-compute",
        "c1",
        {"openings": {"head": ["tcp/443"], "compute": ["tcp/9100"]}},
        (
            ("stranger", "tcp", 9100, "v4", True),
            ("stranger", "tcp", 443, "v4", False),
        ),
    ),
    Scenario(
        "devices-all",
        "head",
        {"devices": "all"},
        (
            ("device_zt", "tcp", 5000, "zt", True),
            ("device_zt", "udp", 5000, "zt", True),
            ("device_zt", "tcp", 22, "zt", True),
        ),
    ),
    Scenario(
        "peers",
        "head",
        {"peers": ["10.147.17.64/28"]},
        (
            ("peer_zt", "tcp", 5000, "zt", True),
            ("peer_zt", "udp", 5000, "zt", True),
        ),
    ),
    Scenario(
        "zerotier-port",
        "head",
        {"zerotierPort": 29993},
        (
            ("stranger", "udp", 29993, "v4", True),
            ("stranger", "udp", 9993, "v4", False),
        ),
        basics=False,
    ),
    Scenario(
        "interface-pinned",
        "head",
        {},
        (("member_zt", "tcp", 5000, "zt", True),),
        config={"network": {"name": "lab", "cidr": "10.147.17.0/24", "interface": "zthpc"}},
        link="zthpc",
    ),
    Scenario(
        "interface-pinned-other-zt",
        "head",
        {},
        (("member_zt", "tcp", 5000, "zt", False), ("outsider_zt", "udp", 9993, "zt", True)),
        config={"network": {"name": "lab", "cidr": "10.147.17.0/24", "interface": "zthpc"}},
        basics=False,
    ),
    Scenario(
        "integrate-inet-operator-drops-all",
        "head",
        {"mode": "integrate", "integrate": {"family": "inet", "table": "filter", "chain": "input"}},
        (
            ("stranger", "tcp", 22, "v4", True),
            ("member_zt", "tcp", 5000, "zt", True),
            ("device_zt", "tcp", 22, "zt", True),
            ("stranger", "tcp", 8080, "v4", True),  # ours returns to the operator's chain
        ),
        operator=OPERATOR_DROPS_ALL,
    ),
    Scenario(
        "integrate-ip-family",
        "c1",
        {"mode": "integrate", "integrate": {"family": "ip", "table": "filter", "chain": "input"}},
        (
            ("stranger", "tcp", 22, "v4", True),
            ("head_zt", "tcp", 5000, "zt", True),
            ("stranger", "tcp", 8080, "v4", True),
            ("stranger6", "tcp", 80, "v6", True),  # an ip table filters no IPv6; neither do we
            ("stranger6", "icmp", 139, "v6", True),
        ),
        operator=OPERATOR_DROPS_ALL.replace("table inet filter", "table ip filter"),
        basics=False,
    ),
    Scenario(
        "enforce-beside-accepting-table",
        "head",
        {},
        (("stranger", "tcp", 80, "v4", False),),  # an accept elsewhere does not override our drop
        operator="table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter;\n"
        "\t\ttcp dport 80 accept\n\t}\n}\n",
    ),
    Scenario(
        "enforce-beside-dropping-table",
        "head",
        {},
        (("stranger", "udp", 9993, "v4", False), ("stranger", "tcp", 22, "v4", True)),  # a drop elsewhere is final
        operator="table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter;\n"
        "\t\tudp dport 9993 drop\n\t}\n}\n",
        basics=False,
    ),
)


def plan_node(scenario: Scenario) -> NodePlan:
    config = copy.deepcopy(BASE)
    config.update(copy.deepcopy(scenario.config))
    config["firewall"] = scenario.firewall
    for raw in config["nodes"]:
        if raw["name"] == scenario.node:
            raw.update(scenario.node_fields)
    plan = build_plan(parse_cluster(config, base_dir=Path(".")))
    return next(n for n in plan.nodes if n.name == scenario.node)


@dataclass
class Lab:
    node: Any
    admin: Any
    stranger: Any
    overlay: Any
    segment: Any

    def host(self, name: str) -> Any:
        return getattr(self, name)

    def destination(self, where: str, overlay_ip: str) -> str:
        return {"v4": NODE_V4, "v6": "fd77::1", "ll": "fe80::1%eth0", "zt": overlay_ip, "lo": "127.0.0.1"}[where]


@pytest.fixture
def make_lab(segment: Any) -> Iterator[Any]:
    from tests.lab.packets import add_addresses, attach

    links = []

    def make(overlay_ip: str, link: str) -> Lab:
        node, admin, stranger = (segment.add_host(n) for n in ("node", "admin", "stranger"))
        assert (str(node.ip), str(admin.ip), str(stranger.ip)) == (NODE_V4, ADMIN_V4, STRANGER_V4)
        add_addresses(node, ["fd77::1/64", "fe80::1/64"])
        add_addresses(admin, ["fd77::2/64", "fe80::2/64", f"{OVERLAY['c2']}/32"])
        add_addresses(stranger, ["fd77::3/64"])
        far = sorted({*OVERLAY.values(), DEVICE, PEER, OUTSIDER} - {overlay_ip})
        links.append(attach(segment, node, link, f"{overlay_ip}/24", [f"{ip}/24" for ip in far], name="overlay"))
        return Lab(node, admin, stranger, links[-1].far, segment)

    yield make
    for link in links:
        link.close()


def load(host: Any, ruleset: str) -> None:
    result = host.run(["nft", "-f", "-"], input=ruleset)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_every_rule_admits_and_drops_real_packets(scenario: Scenario, make_lab: Any) -> None:
    from tests.lab.packets import Probe, observe

    needs_root("ip", "nft")
    node_plan = plan_node(scenario)
    assert node_plan.ruleset is not None
    lab = make_lab(str(node_plan.ip), scenario.link)
    loaded = [scenario.operator] if scenario.operator else []
    loaded.append(node_plan.ruleset)
    if node_plan.firewall.params.mode == "enforce":
        loaded.append(node_plan.ruleset)  # loads again where the table already exists
    for ruleset in loaded:
        load(lab.node, ruleset)

    expectations = (BASICS if scenario.basics else ()) + scenario.expect
    interfaces = {"v4": "eth0", "v6": "eth0", "ll": "eth0", "zt": scenario.link, "lo": "lo"}
    batches: dict[str, list[tuple[Probe, bool, str]]] = {}
    for exp in expectations:
        sender, proto, port, where, arrives = exp[:5]
        host_name, src = SENDERS[sender]
        dst = lab.destination(where, str(node_plan.ip))
        sport = exp[5] if len(exp) > 5 else None
        probe = Probe(proto, src, dst, port, sport, label=sender)  # type: ignore[arg-type]
        batches.setdefault(host_name, []).append((probe, arrives, interfaces[where]))
    ordered = [(lab.host(h), [p for p, _, _ in items]) for h, items in batches.items()]
    expected = [arrives for items in batches.values() for _, arrives, _ in items]
    arriving = [interface for items in batches.values() for _, _, interface in items]
    results = observe(lab.node, ordered)

    wrong = [
        f"{probe}: {'arrived' if got else 'was dropped'}, expected {'arrival' if want else 'a drop'}"
        for (probe, got), want in zip(results, expected, strict=True)
        if got != want
    ]
    assert not wrong, "\n".join(wrong) + "\n\nruleset:\n" + node_plan.ruleset
    # The kernel is the nftables evaluator's oracle: the same packets, the same verdicts.
    assert_evaluator_agrees(
        loaded, [(probe, interface, got) for (probe, got), interface in zip(results, arriving, strict=True)]
    )


def assert_evaluator_agrees(loaded: list[str], seen: list[tuple[Any, str, bool]]) -> None:
    """The kernel is the nftables evaluator's oracle: for each probe (packet, arriving interface, whether the
    kernel let it in), :meth:`Ruleset.decide` on the same loaded rulesets must give the same verdict."""
    ruleset = Ruleset.load(*loaded)
    disagree = []
    for probe, interface, arrived in seen:
        packet = Packet(ip_address(probe.src.split("%")[0]), interface, probe.proto, probe.port, probe.sport)
        decision = ruleset.decide(packet)
        if arrived != (decision.verdict == "accept"):
            disagree.append(f"{probe} on {interface}: the kernel {'accepted' if arrived else 'dropped'} it, {decision}")
    assert seen
    assert not disagree, "\n".join(disagree)


REFUSED = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.5)
s.connect((sys.argv[1], 9))
s.send(b"x")
try:
    s.recv(10)
except ConnectionRefusedError:
    sys.exit(0)  # the ICMP port-unreachable came back in
except OSError:
    pass
sys.exit(1)
"""


def test_replies_related_errors_and_neighbour_discovery_get_through(make_lab: Any) -> None:
    """Output is not filtered and replies come back: what ZeroTier needs through NAT."""
    from tests.lab.packets import exchange

    needs_root("ip", "nft")
    node_plan = plan_node(SCENARIOS[0])
    assert node_plan.ruleset is not None
    lab = make_lab(str(node_plan.ip), "zta51146d380")
    load(lab.node, node_plan.ruleset)
    # The node talks to a root or peer on 9993 from its primary or a random (secondary) port.
    assert exchange(lab.node, lab.stranger, "udp", STRANGER_V4, 9993)
    assert exchange(lab.node, lab.stranger, "udp", STRANGER_V4, 45000)
    assert exchange(lab.node, lab.admin, "tcp", ADMIN_V4, 7000)
    assert exchange(lab.node, lab.admin, "tcp", "fd77::2", 7001)
    # Unsolicited, the same kind of packet is dropped.
    assert not exchange(lab.stranger, lab.node, "udp", NODE_V4, 45001)
    # An ICMP error about the node's own traffic is related, and gets in.
    assert lab.node.run([sys.executable, "-c", REFUSED, ADMIN_V4]).returncode == 0
    # IPv6 neighbour discovery both ways: the node must resolve the pinger to answer.
    lab.node.run(["ip", "neigh", "flush", "all"])
    assert lab.admin.run(["ping", "-6", "-c", "1", "-W", "2", "fd77::1"]).returncode == 0
    # Overlay members get through with a whole round trip too.
    assert exchange(lab.overlay, lab.node, "tcp", str(node_plan.ip), 7002, source=OVERLAY["c2"])
    assert not exchange(lab.overlay, lab.node, "tcp", str(node_plan.ip), 7003, source=OUTSIDER)


def test_a_second_zerotier_interface_with_cluster_addresses_is_not_the_cluster(make_lab: Any, segment: Any) -> None:
    """Another ZeroTier network on the node (the operator's own, on overlapping addresses) is not trusted.

    Both interfaces are up at once and their far ends send from the same
    member addresses; only this network's interface (the name derived from
    ``network.name``, which join pins through devicemap) is the cluster.
    Reverse-path filtering is off, and without the ruleset both get through,
    so a drop is the ruleset's doing.
    """
    from tests.lab.packets import Probe, attach, observe

    needs_root("ip", "nft")
    node_plan = plan_node(SCENARIOS[0])
    assert node_plan.ruleset is not None
    assert 'iifname "zta51146d380" ip saddr @members accept' in node_plan.ruleset
    lab = make_lab(str(node_plan.ip), "zta51146d380")
    far = [f"{OVERLAY['c2']}/24"]
    other = attach(segment, lab.node, "ztabcdef12", "10.147.17.250/24", far, name="other")
    try:
        for conf in ("all", "default", "zta51146d380", "ztabcdef12"):
            lab.node.run(["sysctl", "-qw", f"net.ipv4.conf.{conf}.rp_filter=0"])

        def arrivals(loaded: list[str]) -> list[bool]:
            batches = [
                (lab.overlay, [Probe("tcp", OVERLAY["c2"], str(node_plan.ip), 5000, label="member, this network")]),
                (other.far, [Probe("tcp", OVERLAY["c2"], str(node_plan.ip), 5000, label="member, other network")]),
                (other.far, [Probe("udp", OVERLAY["c2"], str(node_plan.ip), 6000, label="member UDP, other network")]),
                (other.far, [Probe("udp", OVERLAY["c2"], str(node_plan.ip), 9993, label="ZeroTier, other network")]),
            ]
            seen = observe(lab.node, batches)
            links = ["zta51146d380", "ztabcdef12", "ztabcdef12", "ztabcdef12"]
            assert_evaluator_agrees(
                loaded, [(p, link, arrived) for (p, arrived), link in zip(seen, links, strict=True)]
            )
            return [arrived for _, arrived in seen]

        assert arrivals([]) == [True, True, True, True]  # no ruleset: everything arrives on both
        load(lab.node, node_plan.ruleset)
        assert arrivals([node_plan.ruleset]) == [True, False, False, True]
    finally:
        other.close()
