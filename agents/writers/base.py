"""The Redis writer interface: one writer per record type, commands into a batch.

A writer turns one record into Redis commands on a :class:`RedisBatch`; it never talks
to Redis itself. The mirror agents (Faust path) and the direct driver both write through
:meth:`aion.agents.mirror.RedisMirror.write` (which plans the batch and runs it with
:meth:`~aion.agents.mirror.RedisMirror.execute`), so both write identical keys.

Every key comes from ``config/redis_keys.yaml`` (:class:`aion.config.KeyLayout`). Whether
a key gets the layout's TTL is the batch's :class:`TtlPolicy`: live mirrors keep the
layout's wall-clock TTLs; replays and backtests write without expiry by default
(``mirror.ttl: none``), so their results are still there when someone looks.
"""

from __future__ import annotations

import enum
from typing import Any, ClassVar

from aion.config import KeyLayout, RedisKey
from aion.tables.records import Record


class TtlPolicy(enum.Enum):
    """How keys expire: ``layout`` (the layout's TTLs) or ``none`` (never)."""

    LAYOUT = "layout"
    NONE = "none"

    @classmethod
    def parse(cls, value: str) -> TtlPolicy:
        """The policy named ``value`` (``layout`` or ``none``).

        Args:
            value: The setting's text.

        Returns:
            The policy.

        Raises:
            ValueError: For any other text.
        """
        try:
            return cls(str(value).lower())
        except ValueError:
            raise ValueError(f"mirror.ttl must be 'layout' or 'none', got {value!r}") from None


Command = tuple[str, tuple[Any, ...], dict[str, Any]]


class RedisBatch:
    """Redis commands grouped by database, in the order they were added.

    Args:
        ttl: The expiry policy.
    """

    def __init__(self, ttl: TtlPolicy = TtlPolicy.LAYOUT) -> None:
        self.ttl = ttl
        self.commands: dict[int, list[Command]] = {}

    def __len__(self) -> int:
        return sum(len(c) for c in self.commands.values())

    def _ttl(self, key: RedisKey) -> int | None:
        return key.ttl if self.ttl is TtlPolicy.LAYOUT else None

    def raw(self, db: int, command: str, *args: Any, **kwargs: Any) -> None:
        """Add any command (no TTL handling)."""
        self.commands.setdefault(db, []).append((command, args, kwargs))

    def _then_expire(self, key: RedisKey) -> None:
        ttl = self._ttl(key)
        if ttl:
            self.raw(key.db, "expire", key.name, ttl)

    def set(self, key: RedisKey, value: str) -> None:
        """``SET key value`` (``EX ttl`` in the same command when the key expires)."""
        ttl = self._ttl(key)
        if ttl:
            self.raw(key.db, "set", key.name, value, ex=ttl)
        else:
            self.raw(key.db, "set", key.name, value)

    def hset(self, key: RedisKey, mapping: dict[str, str]) -> None:
        """``HSET key field value ...`` then the TTL."""
        self.raw(key.db, "hset", key.name, mapping=mapping)
        self._then_expire(key)

    def zreplace(self, key: RedisKey, member: str, score: float) -> None:
        """Put ``member`` at ``score``, replacing whatever held that score (idempotent)."""
        self.raw(key.db, "zremrangebyscore", key.name, score, score)
        self.raw(key.db, "zadd", key.name, {member: score})
        self._then_expire(key)

    def zadd(self, key: RedisKey, member: str, score: float) -> None:
        """``ZADD key score member`` then the TTL."""
        self.raw(key.db, "zadd", key.name, {member: score})
        self._then_expire(key)

    def push_unique(self, key: RedisKey, entry: str, keep: int) -> None:
        """Newest-first list entry; a re-written entry replaces itself; at most ``keep``."""
        self.raw(key.db, "lrem", key.name, 0, entry)
        self.raw(key.db, "lpush", key.name, entry)
        self.raw(key.db, "ltrim", key.name, 0, keep - 1)
        self._then_expire(key)

    def delete(self, *keys: RedisKey) -> None:
        """``DEL`` keys (of one database)."""
        if keys:
            self.raw(keys[0].db, "delete", *(k.name for k in keys))


class RedisWriter:
    """Writes one record type into Redis. Subclasses set :attr:`record` and :meth:`write`.

    Args:
        layout: The key layout.
    """

    record: ClassVar[type[Record]]

    def __init__(self, layout: KeyLayout) -> None:
        self.layout = layout

    def write(self, record: Any, batch: RedisBatch) -> None:
        """Add the commands that mirror ``record`` to ``batch``.

        Args:
            record: An instance of :attr:`record`.
            batch: Where the commands go.
        """
        raise NotImplementedError


def text(value: Any) -> str:
    """A hash field's text: ``""`` for None, else ``str`` (the reference's format)."""
    return "" if value is None else str(value)
