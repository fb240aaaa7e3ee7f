"""What the next tools consume: an /etc/hosts block, an MPI hostfile, Slurm node and topology lines."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address

#: (name, overlay ip, role) for every member that gets a line.
Entry = tuple[str, IPv4Address, str]


def hosts_markers(network_name: str) -> tuple[str, str]:
    """The lines that delimit the managed section of /etc/hosts."""
    return (
        f"# BEGIN zerotier-cluster {network_name} (managed by Pulumi; edits inside are replaced)",
        f"# END zerotier-cluster {network_name}",
    )


def hosts_block(network_name: str, entries: Sequence[Entry]) -> str:
    """The managed /etc/hosts section: every member's name on its overlay address."""
    begin, end = hosts_markers(network_name)
    width = max((len(str(ip)) for _, ip, _ in entries), default=0)
    lines = [f"{str(ip).ljust(width)}  {name}" for name, ip, _ in entries]
    return "\n".join([begin, *lines, end]) + "\n"


def mpi_hostfile(entries: Sequence[Entry]) -> str:
    """An Open MPI / MPICH hostfile of the compute nodes, by overlay address."""
    return "".join(f"{ip}  # {name}\n" for name, ip, role in entries if role == "compute")


def slurm_nodes(entries: Sequence[Entry]) -> str:
    """``NodeName=`` lines for slurm.conf, so slurmctld reaches compute nodes over the overlay."""
    return "".join(
        f"NodeName={name} NodeAddr={ip} NodeHostname={name}\n" for name, ip, role in entries if role == "compute"
    )


#: The switch every site's switch hangs under in ``slurmTopology``.
TOP_SWITCH = "overlay"


def slurm_topology(sites: Sequence[tuple[str, str]]) -> str:
    """topology.conf for Slurm's ``topology/tree`` plugin: one switch per site, all under one top switch.

    ``sites`` are (compute node, its site). Slurm then places a job inside one
    site when one site has room for it, and spans sites only when it must.
    Site switches are named ``site-<site>``, so no site can be named like the top switch.
    """
    by_site: dict[str, list[str]] = {}
    for name, site in sites:
        by_site.setdefault(site, []).append(name)
    if not by_site:
        return ""
    lines = [f"SwitchName=site-{site} Nodes={','.join(names)}\n" for site, names in sorted(by_site.items())]
    lines.append(f"SwitchName={TOP_SWITCH} Switches={','.join(f'site-{site}' for site in sorted(by_site))}\n")
    return "".join(lines)


def interface_list(interfaces: Iterable[str]) -> str:
    """The overlay's interface name(s) on the nodes, comma separated, each once.

    One name in practice (``join`` pins the same name on every node), and in
    the form Open MPI's ``btl_tcp_if_include``/``oob_tcp_if_include`` and
    MPICH's ``-iface`` take as they are.
    """
    return ",".join(sorted(set(interfaces)))
