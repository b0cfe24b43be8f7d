"""Fused per-instrument state: idempotency guard, volume, buckets, 1-minute bars, analytics.

One :class:`InstrumentState` per instrument token is the value of a changelog-backed
Faust table. The engine (``tables.engine.apply_bundle``) slices a decoded bundle per token
and calls :func:`apply_ticks` once per touched token (then the analytics of
``tables.analytics``); the agent writes each touched key once (docs/architecture.md,
"Throughput").

Per tick, in arrival order:

1. **Duplicate**: at or below the remembered source position of its partition: skipped
   without effect (counted in :attr:`ApplyResult.skipped_duplicates` only).
2. **Reject** (``ApplyResult.rejects``, ``InstrumentState.rejects``): ``error != 0``
   -> ``"decode_error"``; last price NaN/inf/<= 0/above the ceiling -> ``"bad_price"``;
   event time outside 2000-2100 -> ``"event_time_out_of_range"``; event date before the
   state's trading date -> ``"stale_trading_date"``; price outside the band of the last
   accepted one -> ``"price_out_of_band"``; cumulative volume drop ->
   ``"non_monotonic_volume"``; implausible rise -> ``"volume_jump"``. Every rule, band
   and tolerance is documented in ``tables.sanity``. A rejected tick changes nothing but
   the counters, the source position (so a redelivery does not reject it twice) and the
   re-anchoring streaks of ``tables.sanity``.
3. **Apply**: volume step (``volume.volume_step``), then bar step
   (``bars.apply_bar_tick``); closed bars fold into the buckets.

Duplicates are deliberately *not* counted in the state: the state must be byte-for-byte
the same whether or not a crash caused redelivery (docs/architecture.md, "Exactly the
events, once": a replay killed with ``kill -9`` and restarted ends with exactly the state
of an uninterrupted run). Likewise nothing in the volume, bucket and bar state depends on
how ticks were cut into bundles, except the last source position itself; the analytics
part does (the volume profile's publish points are checked once per bundle).
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from aion.tables import kernels, state_registry
from aion.tables.analytics import Analytics, AnalyticsConfig, default_config
from aion.tables.bars import (
    NEW,
    POST_CLOSE,
    SAME,
    Bar,
    BarState,
    OpenBar,
    apply_bar_tick,
)
from aion.tables.bars import advance_watermark as _bars_advance_watermark
from aion.tables.kernels import (
    ACC_WIDTH,
    F_ACC0,
    F_HIGH,
    F_LAST_PRICE,
    F_LOW,
    F_OB_CLOSE,
    F_OB_HIGH,
    F_OB_LOW,
    F_OB_OPEN,
    F_OB_PV,
    F_PRICE_CAND,
    I_ACC0,
    I_BASELINE,
    I_CLOSED_DAY,
    I_CUMULATIVE,
    I_DAY,
    I_FLOOR,
    I_HAS_OPEN,
    I_INC_TOTAL,
    I_LAST_INC,
    I_LAST_UPDATE,
    I_OB_FIRST_TS,
    I_OB_LAST_TS,
    I_OB_LATE,
    I_OB_PV_VOLUME,
    I_OB_START,
    I_OB_TICKS,
    I_OB_VOLUME,
    I_OBSERVED,
    I_POST_TICKS,
    I_POST_VOLUME,
    I_PRICE_STREAK,
    I_UNBARRED_TICKS,
    I_UNBARRED_VOLUME,
    I_UPDATE_COUNT,
    I_VOLUME_CAND,
    I_VOLUME_STREAK,
    N_FLOAT_STATE,
    N_INT_STATE,
)
from aion.tables.position import first_new
from aion.tables.records import SessionSnapshot
from aion.tables.sanity import (
    EVENT_MAX_NS,
    EVENT_MIN_NS,
    PRICE_BAND,
    PRICE_MAX,
    REANCHOR_TICKS,
    REJECT_EVENT_RANGE,
    REJECT_PRICE_BAND,
    REJECT_VOLUME_JUMP,
    next_streak,
    out_of_band,
)
from aion.tables.state_codec import (
    StateComponent,
    StateFormatError,
    component_index,
    decode_section,
    dumps,
    encode_section,
)
from aion.tables.state_legacy import upgrade_v1
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
    JUMP,
    NON_MONOTONIC,
    REJECT_NON_MONOTONIC,
    REJECT_STALE_DATE,
    STALE,
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

FORMAT_VERSION = 2
"""Envelope version :meth:`InstrumentState.to_bytes` writes (named components)."""
READ_VERSIONS = (1, 2)
"""Envelope versions :meth:`InstrumentState.from_bytes` reads (1 via ``state_legacy``)."""
REJECT_DECODE = "decode_error"
REJECT_BAD_PRICE = "bad_price"

_PRECHECK_REASONS = ("", REJECT_DECODE, REJECT_BAD_PRICE, REJECT_EVENT_RANGE)


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
        tick_incs: Per row of the slice passed in, the incremental volume of an accepted
            tick, ``-1`` for a rejected or duplicate one (None when nothing was applied).
    """

    closed_bars: list[Bar] = field(default_factory=list)
    closed_buckets: list[BucketRecord] = field(default_factory=list)
    rejects: list[tuple[int, str]] = field(default_factory=list)
    applied: int = 0
    skipped_duplicates: int = 0
    late_ticks: int = 0
    tick_incs: npt.NDArray[np.int64] | None = None


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
        analytics: The analytics' components: indicators, VWAP, volume profile, VIX
            regime (``tables.analytics.Analytics``; None until the first accepted tick
            of an instrument the engine context describes).
    """

    token: int
    positions: dict[int, tuple[int, int]] = field(default_factory=dict)
    volume: VolumeState = field(default_factory=VolumeState)
    bars: BarState = field(default_factory=BarState)
    buckets: BucketState = field(default_factory=BucketState)
    ticks_applied: int = 0
    late_ticks: int = 0
    rejects: dict[str, int] = field(default_factory=dict)
    analytics: Analytics | None = None

    def to_bytes(self) -> bytes:
        """Compact, deterministic serialisation for the table changelog (envelope v2).

        The envelope holds the agent's own bookkeeping (token, source positions,
        counters); every component is written under its name with its version
        (``state_codec``): the tick state's in ``"c"``, the analytics' in ``"an"``
        (absent when the instrument has no analytics). Canonical JSON, so equal states
        give equal bytes and floats restore bit for bit. For example::

            {"an":{"indicators":[1,"QUlYUwE..."],"profile":[1,["VlBGMZqZ...",29997,30036]],
                   "vwap":[1,[20410,8541212.3,5691]]},
             "c":{"bars":[1,[[1763437500000000000,1500.0,...],0,-1,0,0,0,0]],
                  "buckets":[1,[[-1,0,0,0,0,0.0],...]],
                  "volume":[1,[20410,true,5691,0,5691,101,1501.15,...,25,1763437549]]},
             "late":0,"n":25,"pos":[[0,2,6],[1,3,3]],"rej":{},"token":341249,"v":2}

        Returns:
            UTF-8 JSON bytes.

        Raises:
            StateFormatError: If a component's class is not in the registry (it could
                not be read back).
        """
        index = component_index(state_registry.COMPONENTS)
        doc: dict[str, Any] = {
            "v": FORMAT_VERSION,
            "token": self.token,
            "pos": [[p, o, i] for p, (o, i) in sorted(self.positions.items())],
            "n": self.ticks_applied,
            "late": self.late_ticks,
            "rej": self.rejects,
            "c": encode_section((self.volume, self.bars, self.buckets), index),
        }
        if self.analytics is not None:
            doc["an"] = encode_section(self.analytics.parts.values(), index)
        return dumps(doc)

    @classmethod
    def from_bytes(cls, data: bytes, config: AnalyticsConfig | None = None) -> InstrumentState:
        """Restore a state written by :meth:`to_bytes` (or by a version-1 build).

        Args:
            data: The serialised state.
            config: Analytics parameters the state was built with (defaults if None).

        Returns:
            The state.

        Raises:
            StateFormatError: (a ``ValueError``) If the bytes are not a state this
                build can read: not JSON, an unknown envelope version, an unknown
                component or component version, or a malformed part; the message
                names what and which versions are known.
        """
        try:
            doc = json.loads(data)
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
            raise StateFormatError(f"not an InstrumentState: {exc}") from None
        if not isinstance(doc, dict):
            raise StateFormatError(f"not an InstrumentState: a JSON {type(doc).__name__}, "
                                   "not an object")
        version = doc.get("v")
        if type(version) is int and version in READ_VERSIONS:
            if version == 1:
                doc = upgrade_v1(doc)
        else:
            raise StateFormatError(
                f"InstrumentState format version {version!r} is unknown to this build "
                f"(known: 1 (upgraded on read), {FORMAT_VERSION})",
                version=version, known=READ_VERSIONS)
        config = config or default_config()
        index = component_index(state_registry.COMPONENTS)
        try:
            tick = decode_section(doc["c"], index, config)
            analytics = None if "an" not in doc else decode_section(doc["an"], index, config)
            state = cls(
                token=doc["token"],
                positions={p: (o, i) for p, o, i in doc["pos"]},
                volume=_take(tick, VolumeState),
                bars=_take(tick, BarState),
                buckets=_take(tick, BucketState),
                ticks_applied=doc["n"],
                late_ticks=doc["late"],
                rejects=dict(doc["rej"]),
                analytics=None if analytics is None else Analytics(analytics),
            )
        except StateFormatError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise StateFormatError(f"malformed InstrumentState envelope "
                                   f"({type(exc).__name__}: {exc})") from exc
        if tick:
            raise StateFormatError(
                f"state component(s) {', '.join(sorted(tick))} cannot be held by the tick "
                f"state (it holds {', '.join(sorted(_TICK_NAMES))}; other components "
                "belong under \"an\")", component=min(tick))
        if analytics and not _TICK_NAMES.isdisjoint(analytics):
            misplaced = sorted(_TICK_NAMES.intersection(analytics))
            raise StateFormatError(
                f"state component(s) {', '.join(misplaced)} belong to the tick state, not "
                "to the analytics", component=misplaced[0])
        return state


_TICK_NAMES = frozenset(c.NAME for c in state_registry.TICK_COMPONENTS)
"""Names of the components held by ``InstrumentState`` fields (section ``"c"``)."""

_TickPartT = TypeVar("_TickPartT", VolumeState, BarState, BucketState)


def _take(parts: dict[str, StateComponent], kind: type[_TickPartT]) -> _TickPartT:
    """Remove and return the tick-state component of a class from decoded parts.

    Args:
        parts: Decoded components by name (the one taken is removed).
        kind: Its class.

    Returns:
        The component.

    Raises:
        StateFormatError: If it is missing.
    """
    part = parts.pop(kind.NAME, None)
    if not isinstance(part, kind):
        raise StateFormatError(f"state component {kind.NAME!r} is missing from the tick state",
                               component=kind.NAME)
    return part


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
        Lists: precheck code (0 ok, 1 decode error, 2 bad price, 3 event time out of
        range), IST day, bar start,
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
    ok_price = np.isfinite(price) & (price > 0.0) & (price <= PRICE_MAX)
    ok_time = (ev >= EVENT_MIN_NS) & (ev < EVENT_MAX_NS)
    pre = np.where(ticks["error"] != 0, 1, np.where(ok_price, np.where(ok_time, 0, 3), 2))
    # Out-of-range rows are rejected: their (possibly wrapped) derived values are unused.
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
        pre.append(1 if err else (
            2 if not (math.isfinite(p) and 0.0 < p <= PRICE_MAX)
            else 0 if EVENT_MIN_NS <= t < EVENT_MAX_NS else 3))
        d, ns_of_day = divmod(t + IST_OFFSET_NS, NS_PER_DAY)
        minute = ns_of_day // NS_PER_MIN
        day.append(d)
        bar_minute = min(max(minute, SESSION_OPEN_MINUTE), SESSION_CLOSE_MINUTE - 1)
        bar_start.append(t - ns_of_day + bar_minute * NS_PER_MIN)
        has_vol.append(kind in (KIND_QUOTE, KIND_FULL))
        early.append(minute < BASELINE_CUTOFF_MINUTE)
        post.append(minute >= SESSION_CLOSE_MINUTE)
    return pre, day, bar_start, cols[2], has_vol, cols[4], early, post


KERNEL_MIN_SLICE = 6
"""Slices (after duplicates) longer than this run the compiled loop of ``kernels``."""

_KERNEL_REASONS = (
    "",
    REJECT_DECODE,
    REJECT_BAD_PRICE,
    REJECT_STALE_DATE,
    REJECT_NON_MONOTONIC,
    REJECT_EVENT_RANGE,
    REJECT_PRICE_BAND,
    REJECT_VOLUME_JUMP,
)
"""Reason of each ``kernels.REJ_*`` code."""

_VOLUME_REASONS = {STALE: REJECT_STALE_DATE, NON_MONOTONIC: REJECT_NON_MONOTONIC,
                   JUMP: REJECT_VOLUME_JUMP}


def apply_ticks(
    state: InstrumentState,
    ticks: np.ndarray,
    event_ns: npt.ArrayLike,
    partition: int,
    offset: int,
    indices: npt.ArrayLike,
    *,
    price_band: float = PRICE_BAND,
) -> ApplyResult:
    """Apply one bundle's ticks of this instrument, in arrival order.

    Slices longer than :data:`KERNEL_MIN_SLICE` (after dropping duplicates) run the
    compiled loop (:func:`apply_ticks_kernel`), shorter ones the Python reference loop
    (:func:`apply_ticks_python`); both give byte-identical states and results.

    Args:
        state: The instrument's state, updated in place.
        ticks: Structured array rows (TICK_DTYPE fields) of this token only.
        event_ns: Event time per row in epoch ns (see ``timeutil.event_time_ns``).
        partition: Source partition of the bundle.
        offset: Offset of the bundle in that partition.
        indices: Index in the bundle of each row, strictly increasing.
        price_band: The instrument's relative price band (``sanity.price_band``; 0:
            none).

    Returns:
        Closed bars and buckets, rejects and counts.

    Raises:
        ValueError: If array lengths differ, indices are not strictly increasing or a
            row belongs to another token (caller bugs, not bad market data).
    """
    return _apply(state, ticks, event_ns, partition, offset, indices, KERNEL_MIN_SLICE,
                  price_band)


def apply_ticks_python(
    state: InstrumentState,
    ticks: np.ndarray,
    event_ns: npt.ArrayLike,
    partition: int,
    offset: int,
    indices: npt.ArrayLike,
    *,
    price_band: float = PRICE_BAND,
) -> ApplyResult:
    """:func:`apply_ticks` always on the Python reference loop.

    Args:
        state: See :func:`apply_ticks`.
        ticks: See :func:`apply_ticks`.
        event_ns: See :func:`apply_ticks`.
        partition: See :func:`apply_ticks`.
        offset: See :func:`apply_ticks`.
        indices: See :func:`apply_ticks`.
        price_band: See :func:`apply_ticks`.

    Returns:
        See :func:`apply_ticks`.
    """
    return _apply(state, ticks, event_ns, partition, offset, indices, None, price_band)


def apply_ticks_kernel(
    state: InstrumentState,
    ticks: np.ndarray,
    event_ns: npt.ArrayLike,
    partition: int,
    offset: int,
    indices: npt.ArrayLike,
    *,
    price_band: float = PRICE_BAND,
) -> ApplyResult:
    """:func:`apply_ticks` always on the compiled loop (any slice length).

    Args:
        state: See :func:`apply_ticks`.
        ticks: See :func:`apply_ticks`.
        event_ns: See :func:`apply_ticks`.
        partition: See :func:`apply_ticks`.
        offset: See :func:`apply_ticks`.
        indices: See :func:`apply_ticks`.
        price_band: See :func:`apply_ticks`.

    Returns:
        See :func:`apply_ticks`.
    """
    return _apply(state, ticks, event_ns, partition, offset, indices, 0, price_band)


def _apply(
    state: InstrumentState,
    ticks: np.ndarray,
    event_ns: npt.ArrayLike,
    partition: int,
    offset: int,
    indices: npt.ArrayLike,
    kernel_min: int | None,
    band: float,
) -> ApplyResult:
    """Validate, drop duplicates, then run the kernel or the Python loop.

    Args:
        state: See :func:`apply_ticks`.
        ticks: See :func:`apply_ticks`.
        event_ns: See :func:`apply_ticks`.
        partition: See :func:`apply_ticks`.
        offset: See :func:`apply_ticks`.
        indices: See :func:`apply_ticks`.
        kernel_min: Use the kernel for slices longer than this; None never.
        band: See ``price_band`` of :func:`apply_ticks`.

    Returns:
        See :func:`apply_ticks`.

    Raises:
        ValueError: See :func:`apply_ticks`.
    """
    res = ApplyResult()
    n = len(ticks)
    idx_a = np.asarray(indices, dtype=np.int64)
    ev_a = np.asarray(event_ns, dtype=np.int64)
    if len(idx_a) != n or len(ev_a) != n:
        raise ValueError("ticks, event_ns and indices must have the same length")
    if n == 0:
        return res
    if kernel_min is not None and n > kernel_min:
        # bisect on an unchecked array is harmless: the kernel checks the order first.
        first = first_new(state.positions, partition, offset, idx_a)
        if n - first > kernel_min:
            res.skipped_duplicates = first
            _run_kernel(state, ticks, ev_a, idx_a, first, res, band)
            state.positions[partition] = (offset, int(idx_a[-1]))
            return res
    idx_l: list[int] = idx_a.tolist()
    ev_l: list[int] = ev_a.tolist()
    if any(b <= a for a, b in itertools.pairwise(idx_l)):
        raise ValueError("indices in bundle must be strictly increasing")
    first = first_new(state.positions, partition, offset, idx_l)
    res.skipped_duplicates = first
    if first == n:
        return res
    if first:
        ticks, idx_l, ev_l = ticks[first:], idx_l[first:], ev_l[first:]
    _run_python(state, ticks, ev_l, idx_l, res, band)
    if first and res.tick_incs is not None:
        res.tick_incs = np.concatenate((np.full(first, -1, dtype=np.int64), res.tick_incs))
    state.positions[partition] = (offset, idx_l[-1])
    return res


def _count_rejects(state: InstrumentState, res: ApplyResult) -> None:
    if res.rejects:
        counts = state.rejects
        for _, reason in res.rejects:
            counts[reason] = counts.get(reason, 0) + 1


def _run_python(
    state: InstrumentState,
    ticks: np.ndarray,
    ev_l: list[int],
    idx_l: list[int],
    res: ApplyResult,
    band: float,
) -> None:
    """The reference per-tick loop (non-empty slice of new ticks).

    Args:
        state: The instrument's state, updated in place (not its positions).
        ticks: The new rows.
        ev_l: Their event times.
        idx_l: Their indices in the bundle.
        res: Result to fill.
        band: Relative price band (0: none).
    """
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
    incs = [-1] * len(idx_l)
    for row, (ix, c, t, d, bst, p, hv, cv, e, pc) in enumerate(zip(
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
    )):
        if c:
            rejects.append((ix, _PRECHECK_REASONS[c]))
            continue
        if d < vs.day:
            rejects.append((ix, REJECT_STALE_DATE))
            continue
        if out_of_band(p, vs.last_price, band):
            # Re-anchoring (tables.sanity): count consecutive rejects that agree.
            vs.price_streak = next_streak(
                vs.price_streak, not out_of_band(p, vs.price_candidate, band))
            vs.price_candidate = p
            if vs.price_streak < REANCHOR_TICKS:
                rejects.append((ix, REJECT_PRICE_BAND))
                continue
        inc = volume_step(vs, d, t, hv, cv, p, e)
        if inc < 0:
            rejects.append((ix, _VOLUME_REASONS[inc]))
            continue
        incs[row] = inc
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

    state.ticks_applied += applied
    state.late_ticks += late
    _count_rejects(state, res)
    res.applied = applied
    res.late_ticks = late
    res.tick_incs = np.array(incs, dtype=np.int64)


def _pack(state: InstrumentState) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """The kernel's flat state arrays (``kernels.I_*`` / ``F_*`` layout).

    Every value is written at its named slot, so the layout is defined once, in
    ``kernels``, and a slot moved there cannot silently shift the others here.

    Args:
        state: The instrument's state.

    Returns:
        The integer and float state arrays.
    """
    vs = state.volume
    bs = state.bars
    ob = bs.open_bar
    si = [0] * N_INT_STATE
    sf = [0.0] * N_FLOAT_STATE
    si[I_DAY] = vs.day
    si[I_OBSERVED] = int(vs.observed)
    si[I_CUMULATIVE] = vs.cumulative
    si[I_BASELINE] = vs.baseline_volume
    si[I_INC_TOTAL] = vs.incremental_total
    si[I_LAST_INC] = vs.last_incremental
    si[I_UPDATE_COUNT] = vs.update_count
    si[I_LAST_UPDATE] = vs.last_update
    sf[F_LAST_PRICE] = vs.last_price
    sf[F_HIGH] = vs.high_price
    sf[F_LOW] = vs.low_price
    if ob is not None:  # else every open-bar slot stays 0, I_HAS_OPEN included
        si[I_HAS_OPEN] = 1
        si[I_OB_START] = ob.start_ns
        si[I_OB_VOLUME] = ob.volume
        si[I_OB_TICKS] = ob.tick_count
        si[I_OB_LATE] = ob.late_ticks
        si[I_OB_PV_VOLUME] = ob.pv_volume
        si[I_OB_FIRST_TS] = ob.first_ts_ns
        si[I_OB_LAST_TS] = ob.last_ts_ns
        sf[F_OB_OPEN] = ob.open
        sf[F_OB_HIGH] = ob.high
        sf[F_OB_LOW] = ob.low
        sf[F_OB_CLOSE] = ob.close
        sf[F_OB_PV] = ob.pv
    si[I_FLOOR] = bs.floor_ns
    si[I_CLOSED_DAY] = bs.closed_day
    si[I_POST_TICKS] = bs.post_close_ticks
    si[I_POST_VOLUME] = bs.post_close_volume
    si[I_UNBARRED_TICKS] = bs.unbarred_ticks
    si[I_UNBARRED_VOLUME] = bs.unbarred_volume
    si[I_PRICE_STREAK] = vs.price_streak
    si[I_VOLUME_STREAK] = vs.volume_streak
    si[I_VOLUME_CAND] = vs.volume_candidate
    sf[F_PRICE_CAND] = vs.price_candidate
    for k, acc in enumerate(state.buckets.accs):
        # Each coarse bucket block is start_ns, volume, count, first_ts_ns, last_ts_ns.
        j = I_ACC0 + k * ACC_WIDTH
        si[j : j + ACC_WIDTH] = (
            acc.start_ns, acc.volume, acc.count, acc.first_ts_ns, acc.last_ts_ns)
        sf[F_ACC0 + k] = acc.last_price
    return np.array(si, dtype=np.int64), np.array(sf, dtype=np.float64)


def _unpack(state: InstrumentState, si: list[int], sf: list[float]) -> None:
    """Write the kernel's state arrays (as lists) back into the dataclasses.

    Args:
        state: The instrument's state, updated in place.
        si: Integer state, ``kernels.I_*`` layout.
        sf: Float state, ``kernels.F_*`` layout.
    """
    vs = state.volume
    vs.day = si[I_DAY]
    vs.observed = bool(si[I_OBSERVED])
    vs.cumulative = si[I_CUMULATIVE]
    vs.baseline_volume = si[I_BASELINE]
    vs.incremental_total = si[I_INC_TOTAL]
    vs.last_incremental = si[I_LAST_INC]
    vs.update_count = si[I_UPDATE_COUNT]
    vs.last_update = si[I_LAST_UPDATE]
    vs.last_price = sf[F_LAST_PRICE]
    vs.high_price = sf[F_HIGH]
    vs.low_price = sf[F_LOW]
    bs = state.bars
    if si[I_HAS_OPEN]:
        bs.open_bar = OpenBar(
            start_ns=si[I_OB_START],
            open=sf[F_OB_OPEN],
            high=sf[F_OB_HIGH],
            low=sf[F_OB_LOW],
            close=sf[F_OB_CLOSE],
            volume=si[I_OB_VOLUME],
            tick_count=si[I_OB_TICKS],
            late_ticks=si[I_OB_LATE],
            pv=sf[F_OB_PV],
            pv_volume=si[I_OB_PV_VOLUME],
            first_ts_ns=si[I_OB_FIRST_TS],
            last_ts_ns=si[I_OB_LAST_TS],
        )
    else:
        bs.open_bar = None
    bs.floor_ns = si[I_FLOOR]
    bs.closed_day = si[I_CLOSED_DAY]
    bs.post_close_ticks = si[I_POST_TICKS]
    bs.post_close_volume = si[I_POST_VOLUME]
    bs.unbarred_ticks = si[I_UNBARRED_TICKS]
    bs.unbarred_volume = si[I_UNBARRED_VOLUME]
    vs.price_streak = si[I_PRICE_STREAK]
    vs.volume_streak = si[I_VOLUME_STREAK]
    vs.volume_candidate = si[I_VOLUME_CAND]
    vs.price_candidate = sf[F_PRICE_CAND]
    for k, acc in enumerate(state.buckets.accs):
        j = I_ACC0 + k * ACC_WIDTH
        acc.start_ns, acc.volume, acc.count, acc.first_ts_ns, acc.last_ts_ns = si[j : j + 5]
        acc.last_price = sf[F_ACC0 + k]


def _run_kernel(
    state: InstrumentState,
    ticks: np.ndarray,
    ev: npt.NDArray[np.int64],
    idx: npt.NDArray[np.int64],
    first: int,
    res: ApplyResult,
    band: float,
) -> None:
    """The compiled per-tick loop over rows ``first:`` (at least one).

    Args:
        state: The instrument's state, updated in place (not its positions).
        ticks: All rows of the slice (duplicates included).
        ev: Their event times.
        idx: Their indices in the bundle.
        first: Position of the first new row.
        res: Result to fill.
        band: Relative price band (0: none).

    Raises:
        ValueError: If indices are not strictly increasing or a row belongs to another
            token (nothing is changed).
    """
    token = state.token
    si, sf = _pack(state)
    incs = np.full(len(ev), -1, dtype=np.int64)
    status, applied, late, nbar, nb, nrej, out_i, out_f = kernels.apply_kernel(
        token,
        idx,
        first,
        band,
        ticks["token"],
        ticks["error"],
        ticks["last_price"],
        ticks["kind"],
        ticks["volume"],
        ev,
        si,
        sf,
        incs,
    )
    if status == kernels.NOT_INCREASING:
        raise ValueError("indices in bundle must be strictly increasing")
    if status == kernels.TOKEN_MISMATCH:
        raise ValueError(f"ticks of another token passed to the state of {token}")
    _unpack(state, si.tolist(), sf.tolist())
    res.tick_incs = incs
    n = len(ev) - first
    if nbar:
        res.closed_bars.extend(
            Bar(token, start, o, h, lo, c, vol, cnt, lt, vwap if has_vwap else None, f, la)
            for (start, vol, cnt, lt, f, la, has_vwap), (o, h, lo, c, vwap) in zip(
                out_i[:nbar].tolist(), out_f[:nbar].tolist(), strict=True
            )
        )
    if nb:
        b0 = n + 1  # kernels.bucket_row0(n)
        res.closed_buckets.extend(
            BucketRecord(token, r, s, v, cnt, f, la, p)
            for (r, s, v, cnt, f, la, _), p in zip(
                out_i[b0 : b0 + nb].tolist(), out_f[b0 : b0 + nb, 0].tolist(), strict=True
            )
        )
    if nrej:
        r0 = n + 1 + n * kernels.MAX_BUCKETS_PER_TICK + 1  # kernels.reject_row0(n)
        reasons = _KERNEL_REASONS
        res.rejects.extend((ix, reasons[code]) for ix, code in out_i[r0 : r0 + nrej, :2].tolist())
    state.ticks_applied += applied
    state.late_ticks += late
    _count_rejects(state, res)
    res.applied = applied
    res.late_ticks = late


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


def session_snapshot(state: InstrumentState, symbol: str, tradingsymbol: str) -> SessionSnapshot:
    """The instrument's session snapshot record (the ``session:...`` hash fields).

    Args:
        state: The instrument's state.
        symbol: ``EXCHANGE:TRADINGSYMBOL``.
        tradingsymbol: The symbol without exchange.

    Returns:
        The record.
    """
    return SessionSnapshot(token=state.token, symbol=symbol, tradingsymbol=tradingsymbol,
                           **session_hash(state.volume))


def session_fields(state: InstrumentState) -> dict[str, Any]:
    """The reference's ``session:SYMBOL:YYYY-MM-DD`` hash fields.

    Args:
        state: The instrument's state.

    Returns:
        JSON-safe fields (see ``volume.session_hash``).
    """
    return session_hash(state.volume)
