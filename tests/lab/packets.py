"""Real packets between test hosts, and what a host's firewall let through.

:class:`Sink` watches a host with raw sockets for TCP, UDP, ICMP and ICMPv6.
Linux hands raw sockets a copy of every packet *after* the input hook
(``ip_local_deliver_finish`` / ``ip6_input_finish``), so a probe the sink saw
is one the host's nftables input chains accepted, and one it did not see was
dropped. No listener is needed: what counts is whether the packet got in.

:func:`send` fires a batch of :class:`Probe` packets at once from one host
(real kernel sockets: a TCP SYN from ``connect``, a UDP datagram, a raw ICMP
message), each from a unique source port or ICMP identifier so conntrack never
mistakes a probe for a reply to an earlier one. :func:`observe` runs a batch
against a sink and returns, probe by probe, whether it arrived.

:func:`attach` gives a host an extra interface (a veth pair whose far end is a
fresh namespace), e.g. one named like a ZeroTier interface (``ztabcdef12``)
carrying overlay addresses, so ``iifname "zt*"`` rules see real packets.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from ipaddress import IPv4Interface, ip_address
from typing import Literal

from .netns import Host, Segment, sh

Proto = Literal["tcp", "udp", "icmp"]

#: Source ports and ICMP identifiers, never reused within a test run.
_unique = itertools.count(20000)

_SINK = r"""
import json, select, socket, struct, sys
kinds = ((socket.AF_INET, 6, "tcp"), (socket.AF_INET, 17, "udp"), (socket.AF_INET, 1, "icmp"),
         (socket.AF_INET6, 6, "tcp"), (socket.AF_INET6, 17, "udp"), (socket.AF_INET6, 58, "icmp"))
socks = {}
for family, number, name in kinds:
    s = socket.socket(family, socket.SOCK_RAW, number)
    s.setblocking(False)
    socks[s] = (family, name)
print("ready", flush=True)
seen = set()
done = False
while not done:
    ready, _, _ = select.select(list(socks) + [sys.stdin], [], [])
    for s in ready:
        if s is sys.stdin:
            done = True
            continue
        family, name = socks[s]
        while True:
            try:
                data, addr = s.recvfrom(65535)
            except BlockingIOError:
                break
            if family == socket.AF_INET:
                payload, src = data[(data[0] & 15) * 4:], socket.inet_ntoa(data[12:16])
            else:
                payload, src = data, addr[0].split("%")[0]
            if len(payload) < 8:
                continue
            if name == "icmp":
                seen.add((name, src, payload[0], struct.unpack("!H", payload[4:6])[0]))
            else:
                seen.add((name, src) + struct.unpack("!HH", payload[:4]))
print(json.dumps(sorted(seen)), flush=True)
"""

_SENDER = r"""
import json, socket, struct, sys, time
def checksum(data):
    data += b"\0" * (len(data) % 2)
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF
def where(address, port, family):
    return socket.getaddrinfo(address, port, family, 0, 0, socket.AI_NUMERICHOST)[0][4]
keep = []
for p in json.loads(sys.stdin.read()):
    family = socket.AF_INET6 if ":" in p["dst"] else socket.AF_INET
    src, dst = where(p["src"], p["sport"], family), where(p["dst"], p["port"], family)
    if p["proto"] == "icmp":
        s = socket.socket(family, socket.SOCK_RAW, 58 if family == socket.AF_INET6 else 1)
        s.bind(where(p["src"], 0, family))
        body = struct.pack("!BBHHH", p["port"], 0, 0, p["sport"], 1) + b"ztc-probe"
        if family == socket.AF_INET:
            body = body[:2] + struct.pack("!H", checksum(body)) + body[4:]
        else:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
        s.sendto(body, where(p["dst"], 0, family))
    else:
        s = socket.socket(family, socket.SOCK_STREAM if p["proto"] == "tcp" else socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(src)
        if p["proto"] == "tcp":
            s.setblocking(False)
            s.connect_ex(dst)
        else:
            s.sendto(b"ztc-probe", dst)
    keep.append(s)
time.sleep(0.05)
"""


@dataclass(frozen=True)
class Probe:
    """One packet: ``port`` is the destination port, or the ICMP/ICMPv6 type."""

    proto: Proto
    src: str
    dst: str
    port: int
    #: TCP/UDP source port or ICMP identifier; None picks a fresh one.
    sport: int | None = None
    #: What the probe stands for, shown when an expectation fails.
    label: str = ""

    def key(self) -> tuple[str, str, int, int]:
        assert self.sport is not None
        src = str(ip_address(self.src.split("%")[0]))
        if self.proto == "icmp":
            return (self.proto, src, self.port, self.sport)
        return (self.proto, src, self.sport, self.port)

    def __str__(self) -> str:
        what = f"{self.proto} type {self.port}" if self.proto == "icmp" else f"{self.proto}/{self.port}"
        return f"{self.label or what}: {what} {self.src} -> {self.dst}"


def fresh(probes: Iterable[Probe]) -> list[Probe]:
    """Gives every probe without a source port a never-used one."""
    return [p if p.sport is not None else replace(p, sport=next(_unique)) for p in probes]


class Sink:
    """Records which probe packets get past a host's input hook."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.process = host.popen(
            [sys.executable, "-u", "-c", _SINK], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(
                f"sink on {host.name} did not start: {self.process.stderr.read() if self.process.stderr else ''}"
            )

    def close(self, settle: float = 0.15) -> set[tuple[str, str, int, int]]:
        """Stops watching (after ``settle`` seconds) and returns what arrived."""
        time.sleep(settle)
        out, err = self.process.communicate("", timeout=10)
        if self.process.returncode != 0:
            raise RuntimeError(f"sink on {self.host.name} failed: {err}")
        return {tuple(item) for item in json.loads(out)}  # type: ignore[misc]


def send(host: Host, probes: Sequence[Probe]) -> None:
    """Sends every probe from ``host`` (its addresses must include each probe's source)."""
    payload = json.dumps([p.__dict__ for p in probes])
    result = host.run([sys.executable, "-c", _SENDER], input=payload, timeout=30)
    if result.returncode != 0:
        raise RuntimeError(f"sending probes from {host.name} failed: {result.stderr}")


def observe(target: Host, batches: Sequence[tuple[Host, Sequence[Probe]]]) -> list[tuple[Probe, bool]]:
    """Sends each batch from its host while ``target`` watches: (probe, arrived) in sending order."""
    sink = Sink(target)
    sent: list[Probe] = []
    try:
        for sender, probes in batches:
            ready = fresh(probes)
            send(sender, ready)
            sent += ready
    finally:
        arrived = sink.close()
    return [(p, p.key() in arrived) for p in sent]


def exchange(
    client: Host, server: Host, proto: Literal["tcp", "udp"], address: str, port: int, *, source: str = ""
) -> bool:
    """Whether ``client`` (from ``source``, if given) gets a reply from an echo server on ``server``."""
    family = "AF_INET6" if ":" in address else "AF_INET"
    kind = "SOCK_STREAM" if proto == "tcp" else "SOCK_DGRAM"
    serve = (
        f"import socket\ns = socket.socket(socket.{family}, socket.{kind})\n"
        "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        f"s.bind(({address!r}, {port}))\n"
        + ("s.listen()\nprint('ready', flush=True)\nc, _ = s.accept()\nc.sendall(c.recv(100))\n" if proto == "tcp"
           else "print('ready', flush=True)\ndata, peer = s.recvfrom(100)\ns.sendto(data, peer)\n")
    )  # fmt: skip
    ask = (
        f"import socket, sys\ns = socket.socket(socket.{family}, socket.{kind})\ns.settimeout(1.0)\n"
        + (f"s.bind(({source!r}, 0))\n" if source else "")
        + "try:\n"
        + (f"    s.connect(({address!r}, {port}))\n    s.sendall(b'ping')\n    ok = s.recv(100) == b'ping'\n"
           if proto == "tcp" else f"    s.sendto(b'ping', ({address!r}, {port}))\n    ok = s.recv(100) == b'ping'\n")
        + "except OSError:\n    ok = False\nsys.exit(0 if ok else 1)\n"
    )  # fmt: skip
    server_process = server.popen([sys.executable, "-u", "-c", serve], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert server_process.stdout is not None
        if server_process.stdout.readline().strip() != "ready":
            raise RuntimeError(f"echo server on {server.name} did not start")
        return client.run([sys.executable, "-c", ask], timeout=30).returncode == 0
    finally:
        server_process.kill()
        server_process.wait()


# --- topology --------------------------------------------------------------------


@dataclass
class Link:
    """A namespace wired straight to ``host`` by a veth pair, as a Host of its own."""

    host: Host
    far: Host
    #: The interface's name on ``host``'s side.
    ifname: str

    def close(self) -> None:
        sh(["ip", "netns", "del", self.far.netns], check=False)


_links = itertools.count(1)


def attach(
    segment: Segment,
    host: Host,
    ifname: str,
    host_address: str,
    far_addresses: Sequence[str],
    *,
    name: str = "far",
) -> Link:
    """Adds interface ``ifname`` (``host_address``, CIDR form) to ``host``, wired to a new namespace.

    The far namespace gets every address in ``far_addresses`` (CIDR form), so
    it can send from any of them. Its name is derived from ``segment``'s tag;
    close the link (or let :func:`attached` do it) to delete it.
    """
    index = next(_links)
    netns = f"ztc{segment.tag}l{index}{name}"[:40]
    far_if = f"zl{segment.tag}l{index}"[:15]
    sh(["ip", "netns", "add", netns])
    try:
        sh(["ip", "link", "add", ifname, "netns", host.netns, "type", "veth", "peer", far_if, "netns", netns])
        sh(["ip", "-n", host.netns, "addr", "add", host_address, "dev", ifname])
        sh(["ip", "-n", host.netns, "link", "set", ifname, "up"])
        for address in far_addresses:
            sh(["ip", "-n", netns, "addr", "add", address, "dev", far_if, "nodad"])
        sh(["ip", "-n", netns, "link", "set", far_if, "up"])
        sh(["ip", "-n", netns, "link", "set", "lo", "up"])
    except subprocess.CalledProcessError:
        sh(["ip", "netns", "del", netns], check=False)
        raise
    return Link(host, Host(name, netns, IPv4Interface(far_addresses[0]), far_if), ifname)


@contextmanager
def attached(segment: Segment, host: Host, ifname: str, host_address: str, far: Sequence[str]) -> Iterator[Link]:
    link = attach(segment, host, ifname, host_address, far)
    try:
        yield link
    finally:
        link.close()


def add_addresses(host: Host, addresses: Iterable[str], device: str = "eth0") -> None:
    """Adds addresses (CIDR form) to one of ``host``'s interfaces, IPv6 without duplicate detection."""
    for address in addresses:
        extra = ["nodad"] if ":" in address else []
        sh(["ip", "-n", host.netns, "addr", "add", address, "dev", device, *extra])
