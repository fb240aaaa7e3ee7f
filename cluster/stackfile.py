"""Reading ``Pulumi.<stack>.yaml`` without the Pulumi engine (for ``render``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .config import NAMESPACE
from .errors import ConfigError, Problem


def read_stack_config(project_dir: Path, stack: str) -> dict[str, Any]:
    """The project's config keys from the stack file, as ``parse_cluster`` takes them.

    Secure (encrypted) values are left out: nothing rendered needs them.
    """
    path = project_dir / f"Pulumi.{stack}.yaml"
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as err:
        raise ConfigError(
            [Problem(str(path), f"cannot be read: {err.strerror}", f"create it with `pulumi stack init {stack}`")]
        ) from None
    config = document.get("config") or {}
    raw: dict[str, Any] = {}
    for key, value in config.items():
        namespace, _, name = str(key).partition(":")
        if namespace != NAMESPACE:
            continue
        if isinstance(value, dict) and set(value) == {"secure"}:
            continue
        raw[name] = value
    return raw
