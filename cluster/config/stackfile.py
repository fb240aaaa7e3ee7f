"""Reading ``Pulumi.<stack>.yaml`` without the Pulumi engine (for ``render`` and ``status``).

The same keys are refused here as in the program (``cluster/declare/program.py``):
namespace typos, this program's settings under ``zerotier:``, a Central token
in plain text. A file can go wrong in ways the engine hides from the
program, and these are refused here too: a setting dedented out of
``config:`` (Pulumi ignores it), and unquoted text YAML 1.1 reads as
something else (``on``, ``010``, ``1:30``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cluster.config.parse import namespace_problems
from cluster.config.yamlfile import read_yaml, surprise_problem, surprises
from cluster.conventions import NAMESPACE
from cluster.errors import ConfigError, Problem

#: The top-level keys of a stack file that Pulumi itself reads.
STACK_FILE_KEYS = ("config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment")
TOO_LARGE = (
    "move the nodes into an inventory file (zerotier-cluster:inventory: inventory.yaml, which may hold "
    "10,000 hosts) and keep the stack file to settings"
)


def read_stack_config(project_dir: Path, stack: str) -> dict[str, Any]:
    """The project's config keys from the stack file, as ``parse_cluster`` takes them.

    Secure (encrypted) values are left out: nothing rendered needs them.
    """
    path = project_dir / f"Pulumi.{stack}.yaml"
    if (project_dir / "Pulumi.yaml").is_file():
        missing = f"create the stack with `pulumi stack init {stack}` (in {project_dir})"
    else:
        missing = (
            f"pass --project DIR, the directory holding Pulumi.yaml and Pulumi.{stack}.yaml "
            f"({project_dir} has no Pulumi.yaml)"
        )
    document, problems = read_yaml(path, shown_as=path.name, key=str(path), fix=missing, too_large=TOO_LARGE)
    if problems:
        raise ConfigError(problems)
    document = {} if document is None else document
    if not isinstance(document, Mapping):
        raise ConfigError([Problem(path.name, "is not a stack file (a mapping)", "start it with config:")])
    problems = [_outside_config(path.name, top) for top in document if top not in STACK_FILE_KEYS]
    config = document.get("config") or {}
    if not isinstance(config, Mapping):
        problems.append(
            Problem(f"{path.name}: config", "must be a mapping of settings", "write one namespace:key per line")
        )
        raise ConfigError(problems)
    secret = [k for k, value in config.items() if isinstance(value, Mapping) and set(value) == {"secure"}]
    problems += namespace_problems(config, secret_keys=secret)
    ours = {k: value for k, value in config.items() if isinstance(k, str) and k.startswith(f"{NAMESPACE}:")}
    problems += [surprise_problem(where, found, path.name) for where, found in surprises(ours, "")]
    if problems:
        raise ConfigError(problems)
    return {str(k).partition(":")[2]: value for k, value in ours.items() if k not in secret}


def _outside_config(file: str, top: object) -> Problem:
    if isinstance(top, str) and ":" in top:
        return Problem(
            f"{file}: {top}",
            "is outside config: (dedented), so Pulumi ignores it",
            "indent it under config: like the other settings",
        )
    return Problem(
        f"{file}: {top}",
        "is not a stack file key (Pulumi reads config, secretsprovider, encryptedkey, encryptionsalt, environment)",
        "remove it, or indent it under config: if it is a setting",
    )


def project_name(project_dir: Path) -> str:
    """The project's name from its ``Pulumi.yaml`` (a stack's URNs carry it); the config namespace without one."""
    path = project_dir / "Pulumi.yaml"
    if not path.is_file():
        return NAMESPACE
    document, problems = read_yaml(path, shown_as=path.name, key=str(path), fix="give the project a name:")
    if problems:
        raise ConfigError(problems)
    name = document.get("name") if isinstance(document, Mapping) else None
    if not isinstance(name, str) or not name:
        raise ConfigError([Problem(f"{path.name}: name", "is missing", "name the project (name: ...)")])
    return name
