"""Everything a stack evaluation declares, as canonical JSON: what "deterministic" is checked against.

Generic on purpose: every registration (type, name, parent, wire inputs with
their secret markers, dependencies and options), whatever resources the
program declares, sorted by (type, name) because registration order follows
Output resolution. Dependency lists are sorted because the engine reads them
as sets; input values are kept exactly as sent.

Run as a script it evaluates a stack in this fresh interpreter and prints the
dump, so a test can compare interpreters started with different
``PYTHONHASHSEED`` values::

    PYTHONHASHSEED=1 python3 -m tests.canonical dev     # Pulumi.dev.yaml
    PYTHONHASHSEED=1 python3 -m tests.canonical 40      # a generated stack: a head and 39 compute nodes
"""

from __future__ import annotations

import json
import sys
from typing import Any

from tests.mockrun import Run, use_zerotier_sdk


def canonical_registrations(run: Run) -> str:
    """One line of sorted-key JSON per registration, sorted; identical runs give identical bytes."""
    lines = []
    for r in run.resources:
        options: dict[str, Any] = dict(r.options)
        options["propertyDependencies"] = {k: sorted(v) for k, v in r.options["propertyDependencies"].items()}
        record = {
            "type": r.type,
            "name": r.name,
            "urn": r.urn,
            "parent": r.parent,
            "inputs": r.raw,
            "dependencies": sorted(r.dependencies),
            "options": options,
        }
        lines.append(json.dumps(record, sort_keys=True, separators=(",", ":")))
    return "\n".join(sorted(lines)) + "\n"


def generated_stack(nodes: int) -> tuple[dict[str, str], list[str]]:
    """A stack config as the engine passes it: many nodes, so any set-ordered output shows under a new seed."""
    node_list: list[dict[str, Any]] = [{"name": "head", "role": "head", "host": "192.0.2.1"}]
    node_list += [{"name": f"cn-{i:03d}", "role": "compute", "host": f"192.0.2.{10 + i}"} for i in range(1, nodes)]
    config = {
        "zerotier-cluster:network": json.dumps({"name": "many", "cidr": "10.147.16.0/22"}),
        "zerotier-cluster:ssh": json.dumps({"user": "ops"}),
        "zerotier-cluster:nodes": json.dumps(node_list),
        "zerotier:zerotierCentralToken": "token",
        "zerotier-cluster:sshPrivateKey": "key",
    }
    return config, ["zerotier:zerotierCentralToken", "zerotier-cluster:sshPrivateKey"]


def main(stack: str) -> None:
    use_zerotier_sdk()
    from tests.mockrun import run_program, stack_file_config

    config, secrets = generated_stack(int(stack)) if stack.isdigit() else stack_file_config(stack)
    sys.stdout.write(canonical_registrations(run_program(config, secrets)))


if __name__ == "__main__":
    main(sys.argv[1])
