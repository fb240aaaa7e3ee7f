"""Reading ``Pulumi.<stack>.yaml`` without the Pulumi engine (for ``render``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cluster.config.parse import namespace_problems
from cluster.config.yamlfile import read_yaml
from cluster.conventions import NAMESPACE
from cluster.errors import ConfigError, Problem


def read_stack_config(project_dir: Path, stack: str) -> dict[str, Any]:
    """The project's config keys from the stack file, as ``parse_cluster`` takes them.

    Secure (encrypted) values are left out: nothing rendered needs them. A
    key in a namespace that looks like a typo of the project's is refused
    rather than silently ignored.
    """
    path = project_dir / f"Pulumi.{stack}.yaml"
    document, problems = read_yaml(
        path, shown_as=path.name, key=str(path), fix=f"create it with `pulumi stack init {stack}`"
    )
    if problems:
        raise ConfigError(problems)
    document = {} if document is None else document
    if not isinstance(document, Mapping):
        raise ConfigError([Problem(path.name, "is not a stack file (a mapping)", "start it with config:")])
    config = document.get("config") or {}
    if not isinstance(config, Mapping):
        raise ConfigError(
            [Problem(f"{path.name}: config", "must be a mapping of settings", "write one namespace:key per line")]
        )
    problems = namespace_problems(config)
    if problems:
        raise ConfigError(problems)
    raw: dict[str, Any] = {}
    for key, value in config.items():
        namespace, _, name = str(key).partition(":")
        if namespace != NAMESPACE:
            continue
        if isinstance(value, Mapping) and set(value) == {"secure"}:
            continue
        raw[name] = value
    return raw


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
