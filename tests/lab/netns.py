"""Network namespaces joined into one Ethernet segment, each one a "host"."""

from __future__ import annotations

import itertools
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

_counter = itertools.count(1)


def sh(argv: Sequence[str], *, check: bool = True, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Runs a host-side command, capturing text output."""
    return subprocess.run(list(argv), check=check, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload,no-any-return]


@dataclass
class Host:
    """One network namespace with an address on the segment."""

    name: str
    netns: str
    interface: IPv4Interface
    veth: str

    @property
    def ip(self) -> IPv4Address:
        return self.interface.ip

    def run(self, argv: Sequence[str], *, check: bool = False, **kwargs: object) -> subprocess.CompletedProcess[str]:
        return sh(["ip", "netns", "exec", self.netns, *argv], check=check, **kwargs)

    def popen(self, argv: Sequence[str], **kwargs: object) -> subprocess.Popen[str]:
        return subprocess.Popen(["ip", "netns", "exec", self.netns, *argv], text=True, **kwargs)  # type: ignore[call-overload,no-any-return]

    @property
    def netns_path(self) -> str:
        return f"/run/netns/{self.netns}"


@dataclass
class Segment:
    """A bridge in its own namespace; every host plugs into it with a veth pair."""

    subnet: IPv4Network = field(default_factory=lambda: IPv4Network("10.77.0.0/24"))
    tag: str = field(default_factory=lambda: f"{os.getpid() % 10000}x{next(_counter)}")
    hosts: list[Host] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.switch = f"ztc{self.tag}sw"
        sh(["ip", "netns", "add", self.switch])
        sh(["ip", "-n", self.switch, "link", "add", "br0", "type", "bridge"])
        sh(["ip", "-n", self.switch, "link", "set", "br0", "up"])
        self._addresses = iter(list(self.subnet.hosts()))

    def add_host(self, name: str, address: IPv4Address | None = None) -> Host:
        """A new namespace on the segment with the next free (or the given) address."""
        netns = f"ztc{self.tag}{name}"[:40]
        index = len(self.hosts)
        inside, outside = f"zh{self.tag}n{index}"[:15], f"zs{self.tag}n{index}"[:15]
        ip = address if address is not None else next(self._addresses)
        sh(["ip", "netns", "add", netns])
        sh(["ip", "link", "add", inside, "netns", netns, "type", "veth", "peer", outside, "netns", self.switch])
        sh(["ip", "-n", self.switch, "link", "set", outside, "master", "br0", "up"])
        sh(["ip", "-n", netns, "link", "set", inside, "name", "eth0"])
        iface = IPv4Interface(f"{ip}/{self.subnet.prefixlen}")
        sh(["ip", "-n", netns, "addr", "add", str(iface), "dev", "eth0"])
        sh(["ip", "-n", netns, "link", "set", "eth0", "up"])
        sh(["ip", "-n", netns, "link", "set", "lo", "up"])
        host = Host(name, netns, iface, outside)
        self.hosts.append(host)
        return host

    def close(self) -> None:
        for host in self.hosts:
            sh(["ip", "netns", "del", host.netns], check=False)
        sh(["ip", "netns", "del", self.switch], check=False)
        self.hosts.clear()

    def __enter__(self) -> Segment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
