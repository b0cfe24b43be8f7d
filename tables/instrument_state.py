"""Fused per-instrument state: idempotency guard, volume, buckets and 1-minute bars.

One :class:`InstrumentState` per instrument token is the value of a changelog-backed
Faust table. The agent decodes a bundle, slices it per token and calls
:func:`apply_ticks` once per touched token, then writes the key once (DESIGN.md
"Throughput").

Per tick, in arrival order:

1. **Duplicate**: at or below the remembered source position of its partition: skipped
   without effect (counted in :attr:`ApplyResult.skipped_duplicates` only).
2. **Reject** (``ApplyResult.rejects``, ``InstrumentState.rejects``): ``error != 0``
   -> ``"decode_error"``; last price NaN/inf/<= 0 -> ``"bad_price"``; event date before
   the state's trading date -> ``"stale_trading_date"``; cumulative volume drop ->
   ``"non_monotonic_volume"``. A rejected tick changes nothing but the counters and the
   source position (so a redelivery does not reject it twice).
3. **Apply**: volume step (``volume.volume_step``), then bar step
   (``bars.apply_bar_tick``); closed bars fold into the buckets.

Duplicates are deliberately *not* counted in the state: the state must be byte-for-byte
the same whether or not a crash caused redelivery (DESIGN.md: a replay killed with
``kill -9`` and restarted ends with exactly the state of an uninterrupted run). Likewise
nothing in the state depends on how ticks were cut into bundles, except the last source
position itself.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from aion.tables.bars import (
    NEW,
    POST_CLOSE,
    SAME,
    Bar,
    BarState,
    apply_bar_tick,
)
from aion.tables.bars import advance_watermark as _bars_advance_watermark
from aion.tables.position import first_new
from aion.tables.timeutil import (
    IST_OFFSET_NS,
    KIND_FULL,
    KIND_QUOTE,
    NS_PER_DAY,
    NS_PER_MIN,
    SESSION_CLOSE_MINUTE,
    SESSION_OPEN_MINUTE,
)
from aion.tables.volume import (
    BASELINE_CUTOFF_MINUTE,
    NON_MONOTONIC,
    REJECT_NON_MONOTONIC,
    REJECT_STALE_DATE,
    BucketRecord,
    BucketState,
    VolumeState,
    advance_buckets,
    close_all,
    current_buckets,
    fold_minute,
    roll_to,
    session_hash,
    volume_step,
)

FORMAT_VERSION = 1
REJECT_DECODE = "decode_error"
REJECT_BAD_PRICE = "bad_price"

_PRECHECK_REASONS = ("", REJECT_DECODE, REJECT_BAD_PRICE)


@dataclass(slots=True)
class ApplyResult:
    """What applying a bundle slice (or a watermark) produced.

    Attributes:
        closed_bars: Bars closed, in order.
        closed_buckets: Bucket records closed, in order (per close: 1m first, then by
            increasing resolution).
        rejects: ``(index_in_bundle, reason)`` per rejected tick, for the dead letter.
        applied: Ticks accepted into the state.
        skipped_duplicates: Ticks skipped as already applied.
        late_ticks: Accepted ticks that were late for their bar.
    """

    closed_bars: list[Bar] = field(default_factory=list)
    closed_buckets: list[BucketRecord] = field(default_factory=list)
    rejects: list[tuple[int, str]] = field(default_factory=list)
    applied: int = 0
    skipped_duplicates: int = 0
    late_ticks: int = 0


@dataclass(slots=True)
class InstrumentState:
    """Everything the per-instrument agent keeps for one token.

    Attributes:
        token: Instrument token.
        positions: Per source partition, the last applied ``(offset, index_in_bundle)``.
        volume: Day-scoped volume and session price state.
        bars: 1-minute bar state.
        buckets: Open coarse (5-60 minute) buckets.
        ticks_applied: Accepted ticks (lifetime).
        late_ticks: Accepted ticks that were late for their bar (lifetime).
        rejects: Rejected ticks by reason (lifetime).
    """

    token: int
    positions: dict[int, tuple[int, int]] = field(default_factory=dict)
    volume: VolumeState = field(default_factory=VolumeState)
    bars: BarState = field(default_factory=BarState)
    buckets: BucketState = field(default_factory=BucketState)
    ticks_applied: int = 0
    late_ticks: int = 0
    rejects: dict[str, int] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        """Compact, deterministic serialisation for the table changelog.

        JSON with sorted keys and no whitespace; floats use Python's shortest
        round-tripping repr, so :meth:`from_bytes` restores them exactly.

        Returns:
            UTF-8 JSON bytes.
        """
        doc = {
            "v": FORMAT_VERSION,
            "token": self.token,
            "pos": [[p, o, i] for p, (o, i) in sorted(self.positions.items())],
            "vol": self.volume.to_list(),
            "bars": self.bars.to_list(),
            "bk": self.buckets.to_list(),
            "n": self.ticks_applied,
            "late": self.late_ticks,
            "rej": self.rejects,
        }
        return json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> InstrumentState:
        """Restore a state written by :meth:`to_bytes`.

        Args:
            data: The serialised state.

        Returns:
            The state.

        Raises:
            ValueError: If the bytes are not a state of a known format version.
        """
        doc = json.loads(data)
        if not isinstance(doc, dict) or doc.get("v") != FORMAT_VERSION:
            raise ValueError("not an InstrumentState of format version 1")
        return cls(
            token=doc["token"],
            positions={p: (o, i) for p, o, i in doc["pos"]},
            volume=VolumeState.from_list(doc["vol"]),
            bars=BarState.from_list(doc["bars"]),
            buckets=BucketState.from_list(doc["bk"]),
            ticks_applied=doc["n"],
            late_ticks=doc["late"],
            rejects=dict(doc["rej"]),
        )


SMALL_SLICE = 32
"""Slices up to this many rows are precomputed in plain Python instead of numpy."""

_Precomputed = tuple[
    list[int], list[int], list[int], list[float], list[bool], list[int], list[bool], list[bool]
]


def _precompute_numpy(ticks: np.ndarray, ev_l: list[int], token: int) -> _Precomputed:
    """Per-row derived values, vectorised (see :func:`_precompute_python`, same output).

    Args:
        ticks: Tick rows.
        ev_l: Event times in epoch ns.
        token: Expected token of every row.

    Returns:
        Lists: precheck code (0 ok, 1 decode error, 2 bad price), IST day, bar start,
        price, has-volume flag, cumulative volume, before-baseline-cutoff flag,
        post-close flag.

    Raises:
        ValueError: If a row has another token.
    """
    if bool(np.any(ticks["token"] != token)):
        raise ValueError(f"ticks of another token passed to the state of {token}")
    ev = np.asarray(ev_l, dtype=np.int64)
    price = ticks["last_price"].astype(np.float64)
    kind = ticks["kind"]
    pre = np.where(ticks["error"] != 0, 1, np.where(np.isfinite(price) & (price > 0.0), 0, 2))
    shifted = ev + IST_OFFSET_NS
    day = shifted // NS_PER_DAY
    ns_of_day = shifted - day * NS_PER_DAY
    minute = ns_of_day // NS_PER_MIN
    # Pre-open ticks land in the 09:15 bar; post-close ones get no bar (clip is harmless).
    bar_minute = np.clip(minute, SESSION_OPEN_MINUTE, SESSION_CLOSE_MINUTE - 1)
    bar_start = ev - ns_of_day + bar_minute * NS_PER_MIN
    return (
        pre.tolist(),
        day.tolist(),
        bar_start.tolist(),
        price.tolist(),
        ((kind == KIND_QUOTE) | (kind == KIND_FULL)).tolist(),
        ticks["volume"].astype(np.int64).tolist(),
        (minute < BASELINE_CUTOFF_MINUTE).tolist(),
        (minute >= SESSION_CLOSE_MINUTE).tolist(),
    )


def _precompute_python(ticks: np.ndarray, ev_l: list[int], token: int) -> _Precomputed:
    """Per-row derived values in plain Python; identical output to the numpy path.

    Args:
        ticks: Tick rows.
        ev_l: Event times in epoch ns.
        token: Expected token of every row.

    Returns:
        See :func:`_precompute_numpy`.

    Raises:
        ValueError: If a row has another token.
    """
    cols = [ticks[name].tolist() for name in ("token", "error", "last_price", "kind", "volume")]
    pre: list[int] = []
    day: list[int] = []
    bar_start: list[int] = []
    has_vol: list[bool] = []
    early: list[bool] = []
    post: list[bool] = []
    for tok, err, p, kind, t in zip(cols[0], cols[1], cols[2], cols[3], ev_l, strict=True):
        if tok != token:
            raise ValueError(f"ticks of another token passed to the state of {token}")
        pre.append(1 if err else (0 if math.isfinite(p) and p > 0.0 else 2))
        d, ns_of_day = divmod(t + IST_OFFSET_NS, NS_PER_DAY)
        minute = ns_of_day // NS_PER_MIN
        day.append(d)
        bar_minute = min(max(minute, SESSION_OPEN_MINUTE), SESSION_CLOSE_MINUTE - 1)
        bar_start.append(t - ns_of_day + bar_minute * NS_PER_MIN)
        has_vol.append(kind in (KIND_QUOTE, KIND_FULL))
        early.append(minute < BASELINE_CUTOFF_MINUTE)
        post.append(minute >= SESSION_CLOSE_MINUTE)
    return pre, day, bar_start, cols[2], has_vol, cols[4], early, post


def apply_ticks(
    state: InstrumentState,
    ticks: np.ndarray,
    event_ns: npt.ArrayLike,
    partition: int,
    offset: int,
    indices: npt.ArrayLike,
) -> ApplyResult:
    """Apply one bundle's ticks of this instrument, in arrival order.

    Args:
        state: The instrument's state, updated in place.
        ticks: Structured array rows (TICK_DTYPE fields) of this token only.
        event_ns: Event time per row in epoch ns (see ``timeutil.event_time_ns``).
        partition: Source partition of the bundle.
        offset: Offset of the bundle in that partition.
        indices: Index in the bundle of each row, strictly increasing.

    Returns:
        Closed bars and buckets, rejects and counts.

    Raises:
        ValueError: If array lengths differ, indices are not strictly increasing or a
            row belongs to another token (caller bugs, not bad market data).
    """
    res = ApplyResult()
    n = len(ticks)
    idx_l: list[int] = np.asarray(indices, dtype=np.int64).tolist()
    ev_l: list[int] = np.asarray(event_ns, dtype=np.int64).tolist()
    if len(idx_l) != n or len(ev_l) != n:
        raise ValueError("ticks, event_ns and indices must have the same length")
    if n == 0:
        return res
    if any(b <= a for a, b in itertools.pairwise(idx_l)):
        raise ValueError("indices in bundle must be strictly increasing")
    first = first_new(state.positions, partition, offset, idx_l)
    res.skipped_duplicates = first
    if first == n:
        return res
    if first:
        ticks, idx_l, ev_l = ticks[first:], idx_l[first:], ev_l[first:]
    token = state.token
    # Small slices (live traffic) pay more for numpy call overhead than they save.
    pre_fn = _precompute_python if len(idx_l) <= SMALL_SLICE else _precompute_numpy
    pre, day, bar_start, price, has_vol, cum, early, post = pre_fn(ticks, ev_l, token)

    vs = state.volume
    bs = state.bars
    bk = state.buckets
    closed_bars = res.closed_bars
    closed_buckets = res.closed_buckets
    rejects = res.rejects
    applied = 0
    late = 0
    for ix, c, t, d, bst, p, hv, cv, e, pc in zip(
        idx_l,
        pre,
        ev_l,
        day,
        bar_start,
        price,
        has_vol,
        cum,
        early,
        post,
        strict=True,
    ):
        if c:
            rejects.append((ix, _PRECHECK_REASONS[c]))
            continue
        inc = volume_step(vs, d, t, hv, cv, p, e)
        if inc < 0:
            rejects.append(
                (ix, REJECT_NON_MONOTONIC if inc == NON_MONOTONIC else REJECT_STALE_DATE)
            )
            continue
        applied += 1
        outcome, closed = apply_bar_tick(bs, token, bst, d, t, p, inc, pc)
        if outcome == SAME:
            continue
        if closed is not None:
            closed_bars.append(closed)
            closed_buckets.extend(
                fold_minute(
                    bk,
                    token,
                    closed.start_ns,
                    closed.volume,
                    closed.tick_count,
                    closed.first_ts_ns,
                    closed.last_ts_ns,
                    closed.close,
                )
            )
        if outcome == NEW:
            closed_buckets.extend(roll_to(bk, token, bst))
        elif outcome == POST_CLOSE:
            closed_buckets.extend(close_all(bk, token))
        else:  # LATE or UNBARRED
            late += 1

    state.positions[partition] = (offset, idx_l[-1])
    state.ticks_applied += applied
    state.late_ticks += late
    if rejects:
        counts = state.rejects
        for _, reason in rejects:
            counts[reason] = counts.get(reason, 0) + 1
    res.applied = applied
    res.late_ticks = late
    return res


def advance_watermark(state: InstrumentState, t_ns: int) -> ApplyResult:
    """Close the bar and buckets that end at or before an event-time watermark.

    Used at end of stream or session end. Returns an :class:`ApplyResult` rather than
    only the bars because closing a bar also closes its 1-minute bucket (and maybe
    coarser ones): dropping those records would lose them for good.

    Args:
        state: The instrument's state, updated in place.
        t_ns: Watermark in epoch nanoseconds.

    Returns:
        The closed bars and bucket records (no applied ticks or rejects).
    """
    res = ApplyResult()
    for bar in _bars_advance_watermark(state.bars, state.token, t_ns):
        res.closed_bars.append(bar)
        res.closed_buckets.extend(
            fold_minute(
                state.buckets,
                state.token,
                bar.start_ns,
                bar.volume,
                bar.tick_count,
                bar.first_ts_ns,
                bar.last_ts_ns,
                bar.close,
            )
        )
    res.closed_buckets.extend(advance_buckets(state.buckets, state.token, t_ns))
    return res


def open_bar(state: InstrumentState) -> Bar | None:
    """Snapshot of the bar being built (not closed), for live views.

    Args:
        state: The instrument's state.

    Returns:
        The open bar as a :class:`Bar`, or None.
    """
    ob = state.bars.open_bar
    return None if ob is None else ob.freeze(state.token)


def open_buckets(state: InstrumentState) -> list[BucketRecord]:
    """The open bucket at every resolution, the open minute merged in.

    Args:
        state: The instrument's state.

    Returns:
        Bucket records (not closed) in increasing resolution.
    """
    ob = state.bars.open_bar
    minute = (
        None
        if ob is None
        else (ob.start_ns, ob.volume, ob.tick_count, ob.first_ts_ns, ob.last_ts_ns, ob.close)
    )
    return current_buckets(state.buckets, state.token, minute)


def session_fields(state: InstrumentState) -> dict[str, Any]:
    """The reference's ``session:SYMBOL:YYYY-MM-DD`` hash fields.

    Args:
        state: The instrument's state.

    Returns:
        JSON-safe fields (see ``volume.session_hash``).
    """
    return session_hash(state.volume)
