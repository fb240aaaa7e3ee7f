"""A frame as ZeroTier's rule engine sees it, and the members that send and receive it.

ZeroTier runs a network's rules on every frame twice: on the sender before
the frame leaves (outbound) and on the receiver when it arrives (inbound)
(ZeroTierOne ``node/Network.cpp``, ``_doZtFilter``). A :class:`Frame` records
everything a rule this package accepts can test, so the evaluator decides a
frame as ZeroTier does, not as a sample of it:

* the members at both ends with their role tag, overlay address and ZeroTier
  address (``ztsrc``, ``ipsrc``, ``tseq``, ...);
* the side it is checked on (``chr inbound``, and which member's tag is the
  local one);
* the ethertype, IP protocol, ICMP type and code, TCP flags;
* port *ranges*: a TCP client's source port is any of Linux's ephemeral range,
  so the evaluator cuts a range where a rule's range starts or ends and decides
  each part (every port of a part meets the same fate);
* whether the destination is a unicast, broadcast or multicast MAC (an ARP
  request is broadcast: ``chr broadcast`` and ``chr multicast`` hold for it);
* what the checking side knows: whether it holds the other member's
  credentials (tags and certificates of ownership), and, for a broadcast on the
  sender, that no receiver is known at the first check (``receiver`` is None).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from ipaddress import IPv4Address
from typing import Literal

IPV4 = 0x0800
ARP = 0x0806
IPV6 = 0x86DD
ICMP, TCP, UDP = 1, 6, 17
#: IP protocols whose header starts with a source and a destination port (what sport/dport read).
PORTED = frozenset({TCP, UDP, 132, 136})  # and SCTP, UDP-Lite

#: TCP flags: the low bits of ``chr`` (ZeroTier reads them from the TCP header).
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
FLAG_NAMES = {FIN: "FIN", SYN: "SYN", RST: "RST", PSH: "PSH", ACK: "ACK", 0x20: "URG", 0x40: "ECE", 0x80: "CWR"}

#: Linux's ephemeral ports (``net.ipv4.ip_local_port_range``): the client end of every TCP session.
EPHEMERAL = (32768, 60999)

PortRange = tuple[int, int]
Destination = Literal["unicast", "broadcast", "multicast"]


@dataclass(frozen=True)
class Member:
    """A member as the rules see it: its role tag, overlay address and ZeroTier address.

    ``zt`` is None where the address is not known yet (a node makes its own
    identity when zerotier-one first starts): such a member is taken to have an
    address that no ``ztsrc``/``ztdest`` names.
    """

    role: str
    ip: IPv4Address
    zt: str | None = None
    name: str = ""

    def __str__(self) -> str:
        return f"{self.name or self.role} ({self.role}, {self.ip})" if self.name else f"{self.role} {self.ip}"


@dataclass(frozen=True)
class Frame:
    """A frame on one side: the sender's (outbound) or the receiver's (inbound) check."""

    sender: Member
    #: None only for a broadcast or multicast on the sender's first check, before any receiver is known.
    receiver: Member | None
    inbound: bool
    ethertype: int = IPV4
    protocol: int = 0
    sport: PortRange = (0, 0)
    dport: PortRange = (0, 0)
    #: ICMP type and code (IPv4 protocol 1).
    icmp: tuple[int, int] = (0, 0)
    tcp_flags: int = 0
    destination: Destination = "unicast"
    #: The checking side holds the other member's credentials (its tags, its certificate of ownership).
    peer_known: bool = True
    #: The sender's IP in the frame (ARP's sender address, IPv4's source) is one the controller assigned to it.
    ipauth: bool = True
    #: The sender's MAC is covered by a certificate of ownership: never, for this controller (see keywords.py).
    macauth: bool = False

    def __post_init__(self) -> None:
        if self.ethertype == IPV6:
            raise ValueError("IPv6 frames are not modelled: the overlay is IPv4 only")
        if self.receiver is None and (self.inbound or self.destination == "unicast"):
            raise ValueError("only a broadcast or multicast on the sender has no receiver yet")
        for first, last in (self.sport, self.dport):
            if not 0 <= first <= last <= 65535:
                raise ValueError(f"bad port range {first}-{last}")

    def with_ports(self, sport: PortRange, dport: PortRange) -> Frame:
        return replace(self, sport=sport, dport=dport)

    def __str__(self) -> str:
        if self.ethertype == ARP:
            what = "ARP request" if self.destination != "unicast" else "ARP reply"
        elif self.ethertype != IPV4:
            what = f"ethertype 0x{self.ethertype:04x}"
        elif self.protocol == ICMP:
            what = {8: "ICMP echo request", 0: "ICMP echo reply"}.get(self.icmp[0], f"ICMP type {self.icmp[0]}")
        elif self.protocol in PORTED:
            name = {TCP: "TCP", UDP: "UDP"}.get(self.protocol, f"IP protocol {self.protocol}")
            what = f"{name} {_ports(self.sport)}->{_ports(self.dport)}"
            if self.protocol == TCP:
                what += " " + "+".join(n for bit, n in FLAG_NAMES.items() if self.tcp_flags & bit)
        else:
            what = f"IP protocol {self.protocol}"
        if self.receiver is None:
            to = f"every member ({self.destination}, before the receivers are known)"
        else:
            to = str(self.receiver) + (f" ({self.destination})" if self.destination != "unicast" else "")
        side = "on the receiver" if self.inbound else "on the sender"
        return f"{what} from {self.sender} to {to}, {side}"


def _ports(ports: PortRange) -> str:
    return str(ports[0]) if ports[0] == ports[1] else f"{ports[0]}-{ports[1]}"
