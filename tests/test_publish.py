"""What other tools read: the /etc/hosts block, the MPI hostfile and Slurm's node lines, as literal text."""

from __future__ import annotations

from ipaddress import IPv4Address

from cluster.plan.publish import hosts_block, hosts_markers, mpi_hostfile, slurm_nodes

ENTRIES = [
    ("head", IPv4Address("10.147.17.1"), "head"),
    ("cn-01", IPv4Address("10.147.17.23"), "compute"),
    ("cn-02", IPv4Address("10.147.17.104"), "compute"),
    ("alice", IPv4Address("10.147.17.9"), "device"),
]


def test_hosts_markers_name_the_network() -> None:
    assert hosts_markers("lab") == (
        "# BEGIN zerotier-cluster lab (managed by Pulumi; edits inside are replaced)",
        "# END zerotier-cluster lab",
    )


def test_hosts_block_aligns_names_after_the_widest_address() -> None:
    assert hosts_block("lab", ENTRIES) == (
        "# BEGIN zerotier-cluster lab (managed by Pulumi; edits inside are replaced)\n"
        "10.147.17.1    head\n"
        "10.147.17.23   cn-01\n"
        "10.147.17.104  cn-02\n"
        "10.147.17.9    alice\n"
        "# END zerotier-cluster lab\n"
    )


def test_an_empty_hosts_block_still_has_both_markers() -> None:
    assert hosts_block("lab", []) == (
        "# BEGIN zerotier-cluster lab (managed by Pulumi; edits inside are replaced)\n# END zerotier-cluster lab\n"
    )


def test_mpi_hostfile_lists_compute_nodes_only() -> None:
    assert mpi_hostfile(ENTRIES) == "10.147.17.23  # cn-01\n10.147.17.104  # cn-02\n"


def test_slurm_nodes_lists_compute_nodes_only() -> None:
    assert slurm_nodes(ENTRIES) == (
        "NodeName=cn-01 NodeAddr=10.147.17.23 NodeHostname=cn-01\n"
        "NodeName=cn-02 NodeAddr=10.147.17.104 NodeHostname=cn-02\n"
    )


def test_nothing_to_publish_is_empty() -> None:
    assert mpi_hostfile([]) == ""
    assert slurm_nodes([ENTRIES[0]]) == ""
