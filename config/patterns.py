"""Loading ``config/patterns.yaml``, the pattern registry's configuration.

The file's structure is checked by :func:`aion.tables.patterns.registry.PatternSet.from_mapping`
(names, parameters, instrument classes); this module only reads it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from aion.config.settings import CONFIG_DIR, ConfigError

PATTERNS_FILE = CONFIG_DIR / "patterns.yaml"


def load_patterns(path: Path | None = None) -> dict[str, Any]:
    """Read the ``patterns`` mapping of a patterns file.

    Args:
        path: The file; ``config/patterns.yaml`` by default.

    Returns:
        Pattern name to its block.

    Raises:
        ConfigError: If the file cannot be read or has no ``patterns`` mapping.
    """
    path = path or PATTERNS_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read pattern registry {path}: {exc}") from None
    blocks = data.get("patterns") if isinstance(data, dict) else None
    if not isinstance(blocks, dict):
        raise ConfigError(f"{path}: expected a top-level 'patterns' mapping")
    return blocks
