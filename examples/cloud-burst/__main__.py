"""Cloud burst: create servers with one provider, put them on the overlay with the Overlay component.

A node's ``host`` is the server's ``ipv4_address`` Output, so each node's
provisioning waits for its server and connects to whatever address it got.
The overlay config is the same shape as the stack config of the main
program and goes through the same validation.
"""

from pathlib import Path

import pulumi
import pulumi_hcloud as hcloud

from cluster import parse_cluster
from cluster.declare.overlay import Overlay

config = pulumi.Config()
key = hcloud.SshKey("burst-ops", public_key=config.require("sshPublicKey"))
servers = {
    f"burst-{i:02d}": hcloud.Server(
        f"burst-{i:02d}",
        server_type="cpx31",
        image="debian-12",
        location="fsn1",
        ssh_keys=[key.id],
    )
    for i in range(1, config.require_int("servers") + 1)
}

spec = parse_cluster(
    {
        "network": {
            "name": "chpc-overlay",
            "cidr": "10.147.17.0/24",
            "slice": "10.147.17.192/27",
            "networkId": config.require("networkId"),
            "manage": False,  # the onprem stack owns the network
        },
        "remoteHead": {"name": "head", "ip": "10.147.17.1"},
        "ssh": {"user": "root"},
        "nodes": [{"name": name, "role": "compute", "host": server.ipv4_address} for name, server in servers.items()],
        "firewall": {"peers": ["10.147.17.0/25"]},
    },
    base_dir=Path.cwd(),
)
overlay = Overlay(
    "burst",
    spec,
    central_token=pulumi.Config("zerotier").require_secret("zerotierCentralToken"),
    ssh_private_key=config.require_secret("sshPrivateKey"),
)
exports = overlay.outputs.exports()
pulumi.export("overlayUrn", overlay.urn)  # where `python -m cluster status --outputs` finds its resources
pulumi.export("nodes", exports["nodes"])
pulumi.export("slurmNodes", exports["slurmNodes"])
