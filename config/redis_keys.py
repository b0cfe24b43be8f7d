"""The Redis key layout, generated from ``config/redis_keys.yaml`` (the one place keys live).

Example:
    >>> layout = KeyLayout.load()
    >>> layout.key("session", tradingsymbol="HDFCBANK", date="2025-10-23").name
    'session:HDFCBANK:2025-10-23'
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from aion.config.settings import CONFIG_DIR, ConfigError

LAYOUT_FILE = CONFIG_DIR / "redis_keys.yaml"


@dataclass(frozen=True, slots=True)
class RedisKey:
    """One concrete key: its name, database number, Redis type and TTL (None = no expiry)."""

    name: str
    db: int
    type: str
    ttl: int | None


@dataclass(frozen=True, slots=True)
class KeySpec:
    """A key pattern from the layout file."""

    kind: str
    pattern: str
    db: int
    type: str
    ttl: int | None
    fields: frozenset[str]

    def render(self, **values: Any) -> RedisKey:
        """Fill the pattern.

        Args:
            **values: One value per placeholder; extra or missing names are errors.

        Returns:
            The concrete key.

        Raises:
            ConfigError: When placeholders are missing or unexpected.
        """
        given = set(values)
        if given != self.fields:
            raise ConfigError(
                f"key {self.kind!r} needs {sorted(self.fields)}, got {sorted(given)}"
            )
        return RedisKey(self.pattern.format(**values), self.db, self.type, self.ttl)


@dataclass(frozen=True)
class KeyLayout:
    """All key patterns and database numbers."""

    databases: dict[str, int]
    specs: dict[str, KeySpec]

    @classmethod
    def load(cls, path: Path | None = None) -> KeyLayout:
        """Parse the layout file.

        Args:
            path: Layout YAML; defaults to ``config/redis_keys.yaml``.

        Returns:
            The layout.

        Raises:
            ConfigError: For unknown databases, bad TTLs or malformed patterns.
        """
        return _load(path or LAYOUT_FILE)

    def key(self, kind: str, **values: Any) -> RedisKey:
        """Render the key of ``kind``.

        Args:
            kind: Key name in the layout (``session``, ``volume_bucket`` ...).
            **values: Placeholder values.

        Returns:
            The concrete key.
        """
        try:
            spec = self.specs[kind]
        except KeyError:
            raise ConfigError(f"unknown Redis key kind {kind!r}") from None
        return spec.render(**values)

    def db(self, kind: str) -> int:
        """Database number of a key kind."""
        return self.specs[kind].db


def url_for_db(url: str, db: int) -> str:
    """The Redis URL ``url`` pointed at database ``db``.

    redis-py lets a ``/N`` path in the URL override a ``db=`` argument, so the mirror
    and every reader select databases by rewriting the URL instead.

    Args:
        url: ``redis://host:port[/N]`` (query and credentials kept).
        db: Database number from the key layout.

    Returns:
        The rewritten URL.
    """
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


@lru_cache(maxsize=4)
def _load(path: Path) -> KeyLayout:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        databases = {str(k): int(v) for k, v in data["databases"].items()}
        specs: dict[str, KeySpec] = {}
        for kind, entry in data["keys"].items():
            db_name = entry["db"]
            if db_name not in databases:
                raise ConfigError(f"{path}: key {kind!r} uses unknown db {db_name!r}")
            ttl = entry.get("ttl")
            if ttl is not None and (not isinstance(ttl, int) or ttl <= 0):
                raise ConfigError(f"{path}: key {kind!r} has bad ttl {ttl!r}")
            pattern = str(entry["pattern"])
            fields = frozenset(
                name for _, name, _, _ in string.Formatter().parse(pattern) if name
            )
            specs[kind] = KeySpec(
                kind, pattern, databases[db_name], str(entry["type"]), ttl, fields
            )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"{path}: malformed layout: {exc!r}") from exc
    return KeyLayout(databases, specs)
