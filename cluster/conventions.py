"""Facts every layer shares: the project's namespace, the shapes of ZeroTier's names, and limits.

One name, one meaning, one place: config reading validates against these
patterns, the plan derives names that match them, the declaring layer types
its component with :data:`COMPONENT_TYPE`, and the node scripts' own copies
(``lib.sh``) are held to them by ``tests/test_conventions.py``.
"""

from __future__ import annotations

import re

#: The stack config namespace, the marker in files the program writes on nodes, the state directory's name.
NAMESPACE = "zerotier-cluster"
#: The ZeroTier provider's namespace, and its API token (a secret: ``pulumi config set --secret``).
PROVIDER_NAMESPACE = "zerotier"
CENTRAL_TOKEN_KEY = f"{PROVIDER_NAMESPACE}:zerotierCentralToken"
#: The Overlay component's type token: the parent in every step's URN.
COMPONENT_TYPE = f"{NAMESPACE}:index:Overlay"
#: The name this project's own program gives its Overlay (another program names its own; ``status --component``).
COMPONENT_NAME = NAMESPACE

#: A ZeroTier node address (``zerotier-cli info``): 10 hex digits.
ZT_ADDRESS = re.compile(r"[0-9a-f]{10}")
#: A ZeroTier network ID: the controller's address and 6 more hex digits.
NETWORK_ID_PATTERN = re.compile(r"[0-9a-f]{16}")
#: An interface name the program may pin: ZeroTier's ``zt`` prefix, so it can never be a real NIC (eth0, ens3).
INTERFACE_NAME = re.compile(r"zt[a-z0-9_-]{1,13}")

#: The most entries a config list (nodes, devices) or an inventory may have.
MAX_LIST_ENTRIES = 10_000
#: ZeroTier's limit on rule entries (matches plus actions) in a network's rules.
MAX_RULE_ENTRIES = 1024
