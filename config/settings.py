"""Settings: YAML defaults in ``config/default.yaml`` overridden by ``AION_*`` env vars.

Environment variables win over YAML. Names are ``AION_`` + the upper-cased key, nested
keys joined by ``__`` (``AION_WEB__PORT=6067``). Values are parsed as YAML scalars, so
``AION_PARTITIONS=8`` is an int and ``AION_KAFKA_BOOTSTRAP=`` (empty) means unset.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CONFIG_DIR = Path(__file__).resolve().parent
DEFAULT_FILE = CONFIG_DIR / "default.yaml"
ENV_PREFIX = "AION_"


class ConfigError(ValueError):
    """A configuration file or override is malformed."""


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read settings file {path} (AION_CONFIG?): {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping")
    return data


def _apply_env(tree: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """Overlay ``AION_*`` variables whose path exists in ``tree``.

    Args:
        tree: Defaults loaded from YAML (copied, not modified).
        env: Environment mapping.

    Returns:
        A new tree with overrides applied. Unknown ``AION_*`` names are ignored so that
        variables meant for other tools (``AION_CACHE_DIR`` is known, typos are not)
        don't break start-up.
    """
    out = copy.deepcopy(tree)
    for name, raw in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        path = name[len(ENV_PREFIX) :].lower().split("__")
        node: Any = out
        for part in path[:-1]:
            if not isinstance(node, dict) or part not in node:
                node = None
                break
            node = node[part]
        if not isinstance(node, dict) or path[-1] not in node:
            continue
        try:
            value = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError as exc:
            reason = str(exc).splitlines()[0]
            raise ConfigError(f"{name}={raw!r} is not a YAML scalar ({reason})") from None
        node[path[-1]] = value
    return out


@dataclass(frozen=True)
class Settings:
    """Resolved settings.

    Attributes:
        raw: The merged settings tree (YAML + env).
    """

    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(
        cls, path: Path | None = None, env: Mapping[str, str] | None = None
    ) -> Settings:
        """Load YAML defaults and apply environment overrides.

        Args:
            path: YAML file; defaults to ``config/default.yaml`` or ``$AION_CONFIG``.
            env: Environment; defaults to ``os.environ``.

        Returns:
            The resolved settings.
        """
        env = os.environ if env is None else env
        chosen = path or (Path(env["AION_CONFIG"]) if env.get("AION_CONFIG") else DEFAULT_FILE)
        tree = _load_yaml(DEFAULT_FILE)
        if chosen != DEFAULT_FILE:
            tree = _merge(tree, _load_yaml(chosen))
        return cls(_apply_env(tree, env))

    def get(self, dotted: str, default: Any = None) -> Any:
        """Look up a dotted key such as ``"web.port"``.

        Args:
            dotted: Key path separated by dots.
            default: Returned when the key is absent.

        Returns:
            The value or ``default``.
        """
        node: Any = self.raw
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    def with_overrides(self, **values: Any) -> Settings:
        """Return a copy with top-level keys replaced (used by CLI flags).

        Args:
            **values: Top-level keys and their new values.

        Returns:
            New settings.
        """
        tree = copy.deepcopy(self.raw)
        tree.update(values)
        return Settings(tree)

    @property
    def kafka_bootstrap(self) -> str | None:
        """Broker address, or None to use the embedded broker."""
        return self.raw.get("kafka_bootstrap") or None

    @property
    def redis_url(self) -> str | None:
        """Redis URL, or None to use the embedded server."""
        return self.raw.get("redis_url") or None

    def positive_int(self, dotted: str) -> int:
        """A setting that must be an integer of at least 1.

        Args:
            dotted: Key path separated by dots (``"producer.replay_bundle_packets"``).

        Returns:
            The value.

        Raises:
            ConfigError: If it is absent, not an integer or below 1; the message names
                the key and its environment variable.
        """
        value = self.get(dotted)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            env = ENV_PREFIX + "__".join(part.upper() for part in dotted.split("."))
            raise ConfigError(f"setting {dotted} ({env}) must be a positive integer, "
                              f"got {value!r}")
        return value

    @property
    def partitions(self) -> int:
        """Partition count of ``aion.ticks.raw`` and its co-partitioned tables.

        Raises:
            ConfigError: If it is not a positive integer (see :meth:`positive_int`).
        """
        return self.positive_int("partitions")

    @property
    def topic_prefix(self) -> str:
        """Prefix for every topic name."""
        return str(self.raw.get("topic_prefix") or "")

    @property
    def cache_dir(self) -> Path:
        """Where generated artefacts (sample session, infra state) live."""
        configured = self.raw.get("cache_dir") or os.environ.get("AION_CACHE_DIR")
        return Path(configured) if configured else Path.home() / ".cache" / "aion"


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out
