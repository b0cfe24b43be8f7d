"""The Redis mirror: copies derived results into the reference's documented key layout.

Writes are idempotent (HSET of whole records, a bar's sorted-set member replaced by its
score) and pipelined per batch. A failed write is retried, with backoff, until Redis
accepts it: the agent's events are acknowledged (and their offsets committed) only after
:meth:`RedisMirror.write` returns, so an outage delays the mirror and never loses from it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from aion.config import KeyLayout, url_for_db
from aion.tables.profile_payloads import distribution_rows, publish_payloads, snapshot_from_doc

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 2.0


class _Stats(Protocol):
    mirrored: int
    redis_retries: int


def _hash_fields(doc: dict[str, Any], names: tuple[str, ...]) -> dict[str, str]:
    return {k: "" if doc.get(k) is None else str(doc[k]) for k in names}


BUCKET_FIELDS = ("bucket_incremental_volume", "incremental_volume", "volume", "count",
                 "first_timestamp", "last_timestamp", "last_price", "bucket_id", "start_ms")
SESSION_FIELDS = ("zerodha_cumulative_volume", "bucket_incremental_volume", "last_price",
                  "high_price", "low_price", "update_count", "last_update", "baseline_volume")


GREEKS = ("delta", "gamma", "theta", "vega", "rho")
HISTORY_ENTRIES = 1440
"""``volume_profile:historical`` keeps the newest entries: 24 h at one per minute."""


def hhmm(ns: int) -> tuple[str, str]:
    """IST ``(HH, MM)`` of an epoch-ns time, zero padded (bucket keys)."""
    from aion.tables.timeutil import hhmm_ist

    hour, minute = hhmm_ist(ns).split(":")
    return hour, minute


class RedisMirror:
    """Batches of derived records -> Redis, per ``config/redis_keys.yaml``.

    Args:
        url: Redis URL (the database in it is ignored: each key kind names its own DB).
        layout: The key layout.
        stats: Counters to update (``mirrored``, ``redis_retries``).
    """

    def __init__(self, url: str, layout: KeyLayout, stats: _Stats) -> None:
        self._url = url
        self._layout = layout
        self._stats = stats
        self._clients: dict[int, aioredis.Redis] = {}
        self._done: dict[tuple[str, int], int] = {}

    def _client(self, db: int) -> aioredis.Redis:
        client = self._clients.get(db)
        if client is None:
            client = aioredis.Redis.from_url(url_for_db(self._url, db), socket_timeout=5,
                                             socket_connect_timeout=5)
            self._clients[db] = client
        return client

    def plan(self, batch: list[tuple[str, Any]]) -> dict[int, list[tuple[str, tuple, dict]]]:
        """Turn records into Redis commands grouped by database.

        Args:
            batch: ``("bar", dict)``, ``("bucket", dict)`` or ``("session", dict)``
                items in topic order.

        Returns:
            DB number -> list of ``(command, args, kwargs)``.
        """
        cmds: dict[int, list[tuple[str, tuple, dict]]] = {}

        def add(key: Any, command: str, *args: Any, **kwargs: Any) -> None:
            if command == "set" and key.ttl:
                # SET ... EX: one command (and one reply) instead of SET + EXPIRE.
                cmds.setdefault(key.db, []).append(
                    (command, (key.name, *args), kwargs | {"ex": key.ttl}))
                return
            cmds.setdefault(key.db, []).append((command, (key.name, *args), kwargs))
            if key.ttl:
                cmds[key.db].append(("expire", (key.name, key.ttl), {}))

        for kind, doc in batch:
            if kind == "bar":
                if not doc.get("symbol"):
                    continue
                key = self._layout.key("ohlc_bar", symbol=doc["symbol"])
                score = doc["start_ms"]
                # Replace the member at this score: a re-emitted bar overwrites itself.
                cmds.setdefault(key.db, []).append(
                    ("zremrangebyscore", (key.name, score, score), {}))
                add(key, "zadd", {json.dumps(doc, sort_keys=True): score})
            elif kind == "bucket":
                if not doc.get("tradingsymbol"):
                    continue
                self._bucket(add, doc["tradingsymbol"], doc)
            elif kind == "analytics":
                self._analytics(add, doc)
            elif kind == "chain":
                self._chain(add, doc)
            else:
                self._session(add, doc)
        return cmds

    def _indicator(self, add: Any, symbol: str, name: str, value: Any, ts_ms: int) -> None:
        """``indicators:{symbol}:{name}``: a number as text, a mapping as the JSON envelope."""
        key = self._layout.key("indicator", symbol=symbol, name=name)
        if isinstance(value, dict):
            text = json.dumps({"value": value, "timestamp": ts_ms, "symbol": symbol},
                              sort_keys=True)
        else:
            text = repr(float(value))
        add(key, "set", text)

    def _analytics(self, add: Any, doc: dict[str, Any]) -> None:
        symbol = doc["symbol"]
        ts_ms = int(doc.get("ts_ns") or 0) // 1_000_000
        for name, value in sorted((doc.get("indicators") or {}).items()):
            if value is not None:
                self._indicator(add, symbol, name, value, ts_ms)
        if doc.get("vwap") is not None:
            self._indicator(add, symbol, "vwap", doc["vwap"], ts_ms)
        if doc.get("vix_regime"):
            self._indicator(add, symbol, "vix_regime", doc["vix_regime"], ts_ms)
        for r in doc.get("volume_ratios") or ():
            hour, minute = hhmm(r["start_ns"])
            key = self._layout.key("volume_bucket", resolution=r["resolution"],
                                   tradingsymbol=doc["tradingsymbol"], hour=hour, minute=minute)
            add(key, "hset", mapping={
                "expected_volume": "" if r["expected"] is None else repr(float(r["expected"])),
                "volume_ratio": "" if r["volume_ratio"] is None else repr(r["volume_ratio"]),
                "volume_ratio_reason": r["reason"] or ""})
            if r["resolution"] == 1 and r["volume_ratio"] is not None:
                self._indicator(add, symbol, "volume_ratio", r["volume_ratio"], ts_ms)
        prof = doc.get("profile")
        if prof:
            self._profile(add, symbol, prof)

    def _profile(self, add: Any, symbol: str, doc: dict[str, Any]) -> None:
        lay = self._layout
        snap = snapshot_from_doc(doc["snapshot"])
        prof = publish_payloads(snap) | {"date": doc["date"]}
        prof["distribution"] = distribution_rows(snap, *doc["dirty"])
        add(lay.key("volume_profile_poc", symbol=symbol), "hset", mapping=prof["poc"])
        if prof.get("date"):
            add(lay.key("volume_profile_session", symbol=symbol, date=prof["date"]), "hset",
                mapping=prof["session"])
            if prof["distribution"]:
                add(lay.key("volume_profile_distribution", symbol=symbol, date=prof["date"]),
                    "hset", mapping=prof["distribution"])
        add(lay.key("volume_profile_nodes", symbol=symbol), "hset", mapping=prof["nodes"])
        for score, member in prof.get("patterns") or ():
            add(lay.key("volume_profile_patterns", symbol=symbol), "zadd", {member: score})
        for name, value in sorted((prof.get("indicators") or {}).items()):
            # POC/VA/strength/levels also as indicators (the reference's indicator keys).
            add(lay.key("indicator", symbol=symbol, name=name), "set", value)
        hist = lay.key("volume_profile_historical", symbol=symbol)
        entry = json.dumps(prof["historical"], sort_keys=True)
        # LREM first: a re-emitted entry (same bytes) replaces itself instead of doubling.
        add(hist, "lrem", 0, entry)
        add(hist, "lpush", entry)
        add(hist, "ltrim", 0, HISTORY_ENTRIES - 1)

    def _chain(self, add: Any, doc: dict[str, Any]) -> None:
        """Chain summary, and per option ``greeks`` (JSON) plus one key per number.

        ``greeks`` always carries iv, the five Greeks and ``reason`` ("" when they are
        numbers; e.g. "no_time_value" when they are null). A number's own key
        (``iv``, ``delta`` ...) exists only while it is a number: a null deletes it, so
        no stale value outlives the reason. Options not computed yet (no spot seen: no
        numbers, no reason) are skipped.
        """
        ts_ms = int(doc.get("clock_ns") or 0) // 1_000_000
        summary = {k: v for k, v in doc.items() if k != "options"}
        self._indicator(add, doc["underlying"], "option_chain", summary, ts_ms)
        for opt in doc.get("options") or ():
            values = {g: opt.get(g) for g in ("iv", *GREEKS)}
            reason = opt.get("reason") or ""
            if not reason and all(v is None for v in values.values()):
                continue
            symbol = opt["symbol"]
            self._indicator(add, symbol, "greeks", values | {"reason": reason}, ts_ms)
            nulls = [self._layout.key("indicator", symbol=symbol, name=g)
                     for g, v in values.items() if v is None]
            if nulls:  # one DEL for all of them (same database)
                add(nulls[0], "delete", *(k.name for k in nulls[1:]))
            for g, v in values.items():
                if v is not None:
                    self._indicator(add, symbol, g, v, ts_ms)

    def _bucket(self, add: Any, tradingsymbol: str, doc: dict[str, Any]) -> None:
        hour, minute = doc["bucket_time"].split(":")
        key = self._layout.key("volume_bucket", resolution=doc["resolution"],
                               tradingsymbol=tradingsymbol, hour=hour, minute=minute)
        add(key, "hset", mapping=_hash_fields(doc, BUCKET_FIELDS))

    def _session(self, add: Any, doc: dict[str, Any]) -> None:
        fields = doc["session"]
        if fields.get("trading_date") is None:
            return
        key = self._layout.key("session", tradingsymbol=doc["tradingsymbol"],
                               date=fields["trading_date"])
        add(key, "hset", mapping=_hash_fields(fields, SESSION_FIELDS))

    async def last_offset(self, topic: str, partition: int) -> int:
        """The last source offset of ``topic[partition]`` whose records Redis holds.

        Args:
            topic: Source topic.
            partition: Source partition.

        Returns:
            The offset, or -1 when none was written.
        """
        cached = self._done.get((topic, partition))
        if cached is not None:
            return cached
        key = self._layout.key("mirror_offsets", topic=topic)
        delay = 0.05
        while True:
            try:
                raw = await self._client(key.db).hget(key.name, str(partition))
                break
            except (RedisConnectionError, RedisTimeoutError, OSError, RedisError) as exc:
                self._stats.redis_retries += 1
                log.warning("Redis read failed (%r); retrying in %.2fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF_S)
        done = int(raw) if raw is not None else -1
        self._done[(topic, partition)] = done
        return done

    async def write(self, batch: list[tuple[str, Any]], topic: str | None = None,
                    partition: int = 0, offset: int = -1) -> None:
        """Write a batch, retrying until Redis accepts all of it.

        Args:
            batch: Records as for :meth:`plan`.
            topic: Source topic; when given, its offset is recorded after the data.
            partition: Source partition.
            offset: Source offset of the batch.
        """
        cmds = self.plan(batch)
        mark = None
        if topic is not None:
            mark = self._layout.key("mirror_offsets", topic=topic)
        if not cmds and mark is None:
            return
        delay = 0.05
        while True:
            try:
                for db, commands in sorted(cmds.items()):
                    pipe = self._client(db).pipeline(transaction=False)
                    for name, args, kwargs in commands:
                        getattr(pipe, name)(*args, **kwargs)
                    await pipe.execute()
                if mark is not None:
                    # After every database has the data: a crash in between only means
                    # the data is written again (idempotent), never that it is skipped.
                    await self._client(mark.db).hset(mark.name, str(partition), offset)
                    self._done[(topic, partition)] = offset
                self._stats.mirrored += len(batch)
                return
            except (RedisConnectionError, RedisTimeoutError, OSError, RedisError) as exc:
                # Every write is idempotent, so replaying the whole batch is safe.
                self._stats.redis_retries += 1
                log.warning("Redis write failed (%r); retrying in %.2fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF_S)

    async def close(self) -> None:
        """Close the connections."""
        for client in self._clients.values():
            await client.aclose()
