"""Plain payloads of a volume-profile snapshot for the Redis writer (no Redis here).

Each builder takes a :class:`~aion.tables.profile.ProfileSnapshot` and returns the fields
of one key of the reference's "Redis Storage Schema for Volume Profile" (DB 2): hash
builders return ``{field: str}`` (what a Redis hash stores), record builders return
JSON-able dicts. Prices are printed on the tick grid (``"19500.05"``), volumes as
integers, the strength with six decimals, times as ISO-8601 in IST plus epoch ms. Lists
inside a hash field are compact JSON strings. Same snapshot in, same strings out.

Keys (built by :mod:`aion.agents.writers.profile` from ``config/redis_keys.yaml``):

* ``volume_profile:poc:{symbol}``: :func:`poc_fields`
* ``volume_profile:session:{symbol}:{date}``: :func:`session_fields`
* ``volume_profile:distribution:{symbol}:{date}``: :func:`distribution_fields` (the
  writer sends only the rows changed since the previous publish:
  :func:`distribution_rows`, merged by HSET)
* ``volume_profile:nodes:{symbol}``: :func:`nodes_fields`
* ``volume_profile:historical:{symbol}`` (list): JSON of :func:`historical_entry`
* ``volume_profile:patterns:{symbol}:daily`` (sorted set): :func:`pattern_member` of
  each of ``snapshot.events``
* ``indicators:...`` POC/VA indicators (DB 5): :func:`indicator_fields`

:func:`publish_payloads` builds them all at once.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np

from aion.tables.profile import ProfileSnapshot
from aion.tables.records import ProfileUpdate
from aion.tables.timeutil import NS_PER_MS, day_to_iso, iso_ist


def _json(value: Any, sort_keys: bool = True) -> str:
    """Compact JSON, keys sorted unless the mapping is already in a meaningful order."""
    return json.dumps(value, sort_keys=sort_keys, separators=(",", ":"), allow_nan=False)


def _strength(s: ProfileSnapshot) -> str:
    return f"{s.strength:.6f}"


def poc_fields(s: ProfileSnapshot) -> dict[str, str]:
    """Fields of ``volume_profile:poc:{symbol}``.

    Args:
        s: The snapshot.

    Returns:
        ``poc_price``, ``poc_volume``, ``value_area_high``, ``value_area_low``,
        ``profile_strength``, ``exchange_timestamp`` (ISO, +05:30, of the last tick) and
        ``exchange_timestamp_ms``.
    """
    return {
        "poc_price": s.price_str(s.poc),
        "poc_volume": str(s.poc_volume),
        "value_area_high": s.price_str(s.va_high),
        "value_area_low": s.price_str(s.va_low),
        "profile_strength": _strength(s),
        "exchange_timestamp": iso_ist(s.last_ts_ns),
        "exchange_timestamp_ms": str(s.last_ts_ns // NS_PER_MS),
    }


def distribution_map(s: ProfileSnapshot) -> dict[str, int]:
    """``{price: volume}`` of the rows that hold volume, ascending price.

    Args:
        s: The snapshot.

    Returns:
        Prices printed on the tick grid mapped to integer volumes.
    """
    v = s.volumes
    nz = np.flatnonzero(v)
    units = ((nz + s.low) * s.tick_units).tolist()
    d = s.decimals
    if d == 0:
        keys = [str(u) for u in units]
    else:
        # One comprehension over integers instead of a method call per row: the
        # distribution is the biggest payload (hundreds to thousands of rows).
        scale = 10**d
        keys = [f"{u // scale}.{u % scale:0{d}d}" for u in units]
    return dict(zip(keys, v[nz].tolist(), strict=True))


def distribution_fields(s: ProfileSnapshot) -> dict[str, str]:
    """Fields of ``volume_profile:distribution:{symbol}:{date}``: ``{price: volume}``.

    Args:
        s: The snapshot.

    Returns:
        One field per row holding volume, e.g. ``{"19500.05": "9800"}``.
    """
    return {p: str(v) for p, v in distribution_map(s).items()}


def session_fields(s: ProfileSnapshot, dist: dict[str, int] | None = None) -> dict[str, str]:
    """Fields of ``volume_profile:session:{symbol}:{date}``: the full profile.

    Args:
        s: The snapshot.
        dist: Its :func:`distribution_map`, if already built.

    Returns:
        POC, value area, strength, range, totals, tick size, date, last price and time,
        and ``price_volume_distribution`` as a JSON object ``{price: volume}``.
    """
    return {
        **poc_fields(s),
        "session_date": day_to_iso(s.day),
        "tick_size": f"{s.tick_size:.{s.decimals}f}",
        "total_volume": str(s.total_volume),
        "rows": str(s.rows),
        "traded_rows": str(s.traded_rows),
        "profile_low": s.price_str(s.low),
        "profile_high": s.price_str(s.high),
        "value_area_volume": str(s.va_volume),
        "last_price": s.price_str(round(s.last_price / s.tick_size)),
        "tick_count": str(s.ticks),
        # Ascending price (sorting the strings would put "100.05" before "99.95").
        "price_volume_distribution": _json(distribution_map(s) if dist is None else dist,
                                           sort_keys=False),
    }


def nodes_fields(s: ProfileSnapshot) -> dict[str, str]:
    """Fields of ``volume_profile:nodes:{symbol}``.

    Args:
        s: The snapshot.

    Returns:
        ``support_levels`` and ``resistance_levels`` (JSON lists of prices, nearest the
        last price first), ``hvn`` and ``lvn`` (JSON lists of ``{"price", "volume"}``,
        ascending price), ``last_price`` and ``exchange_timestamp``.
    """
    def nodes(rows: tuple[int, ...]) -> str:
        return _json([{"price": s.price(r), "volume": int(s.volumes[r - s.low])}
                      for r in rows])

    return {
        "support_levels": _json([s.price(r) for r in s.support]),
        "resistance_levels": _json([s.price(r) for r in s.resistance]),
        "hvn": nodes(s.hvn),
        "lvn": nodes(s.lvn),
        "last_price": s.price_str(round(s.last_price / s.tick_size)),
        "exchange_timestamp": iso_ist(s.last_ts_ns),
    }


def indicator_fields(s: ProfileSnapshot) -> dict[str, str]:
    """Per-indicator strings for ``indicators:{symbol}:{name}`` (DB 5).

    Args:
        s: The snapshot.

    Returns:
        ``poc_price``, ``poc_volume``, ``value_area_high``, ``value_area_low``,
        ``profile_strength``, ``support_levels``, ``resistance_levels``.
    """
    f = poc_fields(s)
    n = nodes_fields(s)
    return {
        "poc_price": f["poc_price"],
        "poc_volume": f["poc_volume"],
        "value_area_high": f["value_area_high"],
        "value_area_low": f["value_area_low"],
        "profile_strength": f["profile_strength"],
        "support_levels": n["support_levels"],
        "resistance_levels": n["resistance_levels"],
    }


def historical_entry(s: ProfileSnapshot) -> dict[str, Any]:
    """One entry of ``volume_profile:historical:{symbol}`` (the mirror JSON-encodes it).

    Args:
        s: The snapshot.

    Returns:
        A JSON-able dict: ``timestamp`` (ISO), ``timestamp_ms``, ``session_date`` and the
        POC / value area / strength / totals as numbers.
    """
    return {
        "timestamp": iso_ist(s.last_ts_ns),
        "timestamp_ms": s.last_ts_ns // NS_PER_MS,
        "session_date": day_to_iso(s.day),
        "poc_price": s.price(s.poc),
        "poc_volume": s.poc_volume,
        "value_area_high": s.price(s.va_high),
        "value_area_low": s.price(s.va_low),
        "profile_strength": round(s.strength, 6),
        "total_volume": s.total_volume,
        "rows": s.rows,
        "last_price": s.last_price,
    }


def pattern_member(event: dict[str, Any]) -> tuple[float, str]:
    """Score and member of an event in ``volume_profile:patterns:{symbol}:daily``.

    Args:
        event: One of ``snapshot.events``.

    Returns:
        ``(epoch seconds, compact JSON)``: the score is what the reference's
        ``zrangebyscore(start.timestamp(), end.timestamp())`` queries.
    """
    return event["timestamp_ms"] / 1000.0, _json(event)


def publish_payloads(s: ProfileSnapshot) -> dict[str, Any]:
    """Every payload of one publish, the distribution built once.

    Args:
        s: The snapshot.

    Returns:
        ``{"poc", "session", "distribution", "nodes", "indicators"}`` hashes (field ->
        str), ``"historical"`` (JSON-able dict) and ``"patterns"`` (list of
        ``(score, member)`` for the events).
    """
    dist = distribution_map(s)
    session = session_fields(s, dist)
    nodes = nodes_fields(s)
    return {
        "poc": {k: session[k] for k in poc_fields(s)},
        "session": session,
        "distribution": {p: str(v) for p, v in dist.items()},
        "nodes": nodes,
        "indicators": {**{k: session[k] for k in ("poc_price", "poc_volume",
                                                   "value_area_high", "value_area_low",
                                                   "profile_strength")},
                       "support_levels": nodes["support_levels"],
                       "resistance_levels": nodes["resistance_levels"]},
        "historical": historical_entry(s),
        "patterns": [pattern_member(e) for e in s.events],
    }


def snapshot_from_record(rec: ProfileUpdate) -> ProfileSnapshot:
    """The :class:`ProfileSnapshot` a :class:`ProfileUpdate` record carries.

    Args:
        rec: The record.

    Returns:
        The snapshot (volumes as an ``int64`` array).
    """
    kw = {f.name: getattr(rec, f.name) for f in dataclasses.fields(ProfileSnapshot)}
    kw["volumes"] = np.asarray(rec.volumes, dtype=np.int64)
    return ProfileSnapshot(**kw)


def distribution_rows(s: ProfileSnapshot, lo: int, hi: int) -> dict[str, str]:
    """``{price: volume}`` of the non-empty rows within ``[lo, hi]``.

    The mirror writes only the rows that changed since the last publish into the
    distribution hash (HSET merges); the session hash carries the whole distribution.

    Args:
        s: The snapshot.
        lo: First row (-1: none).
        hi: Last row.

    Returns:
        Fields as in :func:`distribution_fields`.
    """
    if lo < 0:
        return {}
    a, b = max(lo, s.low), min(hi, s.high)
    vols = s.volumes
    return {s.price_str(r): str(int(vols[r - s.low])) for r in range(a, b + 1)
            if vols[r - s.low]}
