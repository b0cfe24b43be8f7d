"""Compiled per-tick loop of ``instrument_state.apply_ticks`` (numba, plain arrays).

:func:`apply_kernel` is the loop of ``instrument_state._run_python`` (precheck,
``volume.volume_step``, ``bars.apply_bar_tick``, ``volume.fold_minute`` /
``roll_to`` / ``close_all``) fused into one ``@njit`` function over numpy arrays. It
follows those functions rule for rule and operation for operation (same comparisons,
same float operations in the same order, no fast-math), so the resulting state and
outputs are identical; ``tests/tables/test_kernels.py`` checks that byte for byte.

The state travels as two flat arrays, one ``int64`` and one ``float64``, whose layout is
given by the ``I_*`` / ``F_*`` indices below; ``instrument_state`` packs and unpacks
them. Closed bars, closed buckets and rejects come back as arrays in emission order.

Nothing here does I/O or reads a clock; ``cache=True`` only stores the compiled machine
code next to this file (or in numba's user cache) so it is compiled once per machine.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from aion.tables.sanity import (
    EVENT_MAX_NS,
    EVENT_MIN_NS,
    PRICE_MAX,
    REANCHOR_TICKS,
    VOLUME_JUMP_BASE,
    VOLUME_JUMP_PER_S,
)
from aion.tables.timeutil import (
    BUCKET_RESOLUTIONS,
    IST_OFFSET_NS,
    KIND_FULL,
    KIND_QUOTE,
    NS_PER_DAY,
    NS_PER_MIN,
    NS_PER_S,
    SESSION_CLOSE_MINUTE,
    SESSION_OPEN_MINUTE,
    SESSION_OPEN_NS,
)
from aion.tables.volume import BASELINE_CUTOFF_MINUTE

# ------------------------------------------------------------------ state layout
# int64 state: volume state, then bar state, then one block per coarse bucket.
I_DAY = 0
I_OBSERVED = 1
I_CUMULATIVE = 2
I_BASELINE = 3
I_INC_TOTAL = 4
I_LAST_INC = 5
I_UPDATE_COUNT = 6
I_LAST_UPDATE = 7
I_HAS_OPEN = 8
I_OB_START = 9
I_OB_VOLUME = 10
I_OB_TICKS = 11
I_OB_LATE = 12
I_OB_PV_VOLUME = 13
I_OB_FIRST_TS = 14
I_OB_LAST_TS = 15
I_FLOOR = 16
I_CLOSED_DAY = 17
I_POST_TICKS = 18
I_POST_VOLUME = 19
I_UNBARRED_TICKS = 20
I_UNBARRED_VOLUME = 21
I_PRICE_STREAK = 22
I_VOLUME_STREAK = 23
I_VOLUME_CAND = 24
I_ACC0 = 25
"""First coarse bucket block: ``start_ns, volume, count, first_ts_ns, last_ts_ns``."""
ACC_WIDTH = 5
N_COARSE = len(BUCKET_RESOLUTIONS) - 1
N_INT_STATE = I_ACC0 + ACC_WIDTH * N_COARSE

# float64 state.
F_LAST_PRICE = 0
F_HIGH = 1
F_LOW = 2
F_OB_OPEN = 3
F_OB_HIGH = 4
F_OB_LOW = 5
F_OB_CLOSE = 6
F_OB_PV = 7
F_PRICE_CAND = 8
F_ACC0 = 9
"""First coarse bucket's ``last_price``; one float per coarse resolution."""
N_FLOAT_STATE = F_ACC0 + N_COARSE

# Closed bar rows: ints ``start, volume, tick_count, late_ticks, first_ts, last_ts,
# has_vwap``; floats ``open, high, low, close, vwap``.
BAR_INT_WIDTH = 7
BAR_FLOAT_WIDTH = 5
MAX_BUCKETS_PER_TICK = 2 * N_COARSE + 1
"""A tick closes at most one bar (1m + coarse records) and then rolls every coarse one."""

# Reject codes (index into ``instrument_state``'s reason table).
REJ_DECODE = 1
REJ_BAD_PRICE = 2
REJ_STALE = 3
REJ_NON_MONOTONIC = 4
REJ_EVENT_RANGE = 5
REJ_PRICE_BAND = 6
REJ_VOLUME_JUMP = 7

TOKEN_MISMATCH = -1
"""``apply_kernel`` status when a row has another token (nothing was changed)."""
NOT_INCREASING = -2
"""``apply_kernel`` status when indices are not strictly increasing (nothing changed)."""

_COARSE = np.array(BUCKET_RESOLUTIONS[1:], dtype=np.int64)


@njit(cache=True, nogil=True)
def bucket_row0(n: int) -> int:
    """First output row of closed buckets for ``n`` applied rows.

    Args:
        n: Rows applied.

    Returns:
        The row index (after room for ``n + 1`` bars).
    """
    return n + 1


@njit(cache=True, nogil=True)
def reject_row0(n: int) -> int:
    """First output row of rejects for ``n`` applied rows.

    Args:
        n: Rows applied.

    Returns:
        The row index (after room for the bars and ``MAX_BUCKETS_PER_TICK`` per row).
    """
    return n + 1 + n * MAX_BUCKETS_PER_TICK + 1


@njit(cache=True, nogil=True)
def _bucket_start(ns: int, minutes: int) -> int:  # pragma: no cover - compiled
    since_open = (ns + IST_OFFSET_NS) % NS_PER_DAY - SESSION_OPEN_NS
    return ns - since_open % (minutes * NS_PER_MIN)


@njit(cache=True, nogil=True)
def _emit_acc(
    si: npt.NDArray[np.int64],
    sf: npt.NDArray[np.float64],
    k: int,
    res: int,
    bk_i: npt.NDArray[np.int64],
    bk_f: npt.NDArray[np.float64],
    nb: int,
) -> int:  # pragma: no cover - compiled
    base = I_ACC0 + k * ACC_WIDTH
    bk_i[nb, 0] = res
    for j in range(ACC_WIDTH):
        bk_i[nb, j + 1] = si[base + j]
    bk_f[nb] = sf[F_ACC0 + k]
    si[base] = -1
    for j in range(1, ACC_WIDTH):
        si[base + j] = 0
    sf[F_ACC0 + k] = 0.0
    return nb + 1


@njit(cache=True, nogil=True)
def _close_bar(
    si: npt.NDArray[np.int64],
    sf: npt.NDArray[np.float64],
    coarse: npt.NDArray[np.int64],
    bar_i: npt.NDArray[np.int64],
    bar_f: npt.NDArray[np.float64],
    nbar: int,
    bk_i: npt.NDArray[np.int64],
    bk_f: npt.NDArray[np.float64],
    nb: int,
) -> int:  # pragma: no cover - compiled
    """Close the open bar (bars._close + Bar.freeze), then volume.fold_minute it."""
    start = si[I_OB_START]
    volume = si[I_OB_VOLUME]
    count = si[I_OB_TICKS]
    first_ts = si[I_OB_FIRST_TS]
    last_ts = si[I_OB_LAST_TS]
    close = sf[F_OB_CLOSE]
    pv_volume = si[I_OB_PV_VOLUME]
    bar_i[nbar, 0] = start
    bar_i[nbar, 1] = volume
    bar_i[nbar, 2] = count
    bar_i[nbar, 3] = si[I_OB_LATE]
    bar_i[nbar, 4] = first_ts
    bar_i[nbar, 5] = last_ts
    bar_f[nbar, 0] = sf[F_OB_OPEN]
    bar_f[nbar, 1] = sf[F_OB_HIGH]
    bar_f[nbar, 2] = sf[F_OB_LOW]
    bar_f[nbar, 3] = close
    if pv_volume > 0:
        bar_i[nbar, 6] = 1
        bar_f[nbar, 4] = sf[F_OB_PV] / pv_volume
    else:
        bar_i[nbar, 6] = 0
        bar_f[nbar, 4] = 0.0
    si[I_HAS_OPEN] = 0
    si[I_FLOOR] = start + NS_PER_MIN
    # fold_minute: the 1-minute record, then every coarse accumulator.
    bk_i[nb, 0] = 1
    bk_i[nb, 1] = start
    bk_i[nb, 2] = volume
    bk_i[nb, 3] = count
    bk_i[nb, 4] = first_ts
    bk_i[nb, 5] = last_ts
    bk_f[nb] = close
    nb += 1
    for k in range(coarse.shape[0]):
        res = coarse[k]
        base = I_ACC0 + k * ACC_WIDTH
        b_start = _bucket_start(start, res)
        if si[base] != b_start:
            if si[base] >= 0:
                nb = _emit_acc(si, sf, k, res, bk_i, bk_f, nb)
            si[base] = b_start
            si[base + 3] = first_ts
        si[base + 1] += volume
        si[base + 2] += count
        si[base + 4] = last_ts
        sf[F_ACC0 + k] = close
    return nb


@njit(cache=True, nogil=True)
def _out_of_band(price: float, ref: float, band: float) -> bool:  # pragma: no cover - compiled
    """``sanity.out_of_band``, same operations."""
    if band <= 0.0 or ref <= 0.0:
        return False
    width = 1.0 + band
    return price > ref * width or price * width < ref


@njit(cache=True, nogil=True)
def _next_streak(streak: int, consistent: bool) -> int:  # pragma: no cover - compiled
    """``sanity.next_streak``, same operations."""
    return streak + 1 if streak > 0 and consistent else 1


@njit(cache=True, nogil=True)
def apply_kernel(
    token: int,
    indices: npt.NDArray[np.int64],
    first: int,
    band: float,
    tokens: npt.NDArray[np.uint32],
    errors: npt.NDArray[np.uint8],
    prices: npt.NDArray[np.float64],
    kinds: npt.NDArray[np.uint16],
    volumes: npt.NDArray[np.uint32],
    event_ns: npt.NDArray[np.int64],
    si: npt.NDArray[np.int64],
    sf: npt.NDArray[np.float64],
    incs: npt.NDArray[np.int64],
) -> tuple[
    int, int, int, int, int, int, npt.NDArray[np.int64], npt.NDArray[np.float64]
]:  # pragma: no cover - compiled
    """Apply a slice of not-yet-applied ticks of one token, in arrival order.

    Same semantics as the reference loop in ``instrument_state`` (see the module
    docstrings of ``volume``, ``bars`` and ``instrument_state``).

    Rows before ``first`` are duplicates: only ``indices`` is checked over them.

    Args:
        token: The instrument token every row must carry.
        indices: Index in bundle of every row (all of them are checked).
        first: Position of the first row to apply (earlier ones were applied before).
        band: Relative price band (0: none; ``tables.sanity``).
        tokens: ``token`` column.
        errors: ``error`` column.
        prices: ``last_price`` column.
        kinds: ``kind`` column.
        volumes: ``volume`` (cumulative) column.
        event_ns: Event time per row, epoch ns.
        si: Integer state (``I_*`` layout), updated in place.
        sf: Float state (``F_*`` layout), updated in place.
        incs: Per row, filled with the tick's incremental volume when it is accepted
            (left untouched otherwise; callers pass ``-1`` everywhere). The volume
            profile bins these.

    Returns:
        ``(status, applied, late, n_bars, n_buckets, n_rejects, out_i, out_f)`` where
        ``status`` is 0, :data:`NOT_INCREASING` or :data:`TOKEN_MISMATCH` (then nothing
        was changed). Closed bars are rows ``[0, n_bars)`` of ``out_i`` (ints
        ``start, volume, tick_count, late_ticks, first_ts, last_ts, has_vwap``) and
        ``out_f`` (``open, high, low, close, vwap``); closed buckets rows
        ``[bucket_row0(n), +n_buckets)`` (ints ``resolution, start, volume, count,
        first_ts, last_ts``, float ``last_price``); rejects rows
        ``[reject_row0(n), +n_rejects)`` (ints ``index_in_bundle, REJ_* code``), where
        ``n`` is the number of rows applied (``len(event_ns) - first``).
    """
    total = event_ns.shape[0]
    n = total - first
    coarse = _COARSE
    b0 = bucket_row0(n)
    r0 = reject_row0(n)
    out_i = np.empty((r0 + n, BAR_INT_WIDTH), dtype=np.int64)
    out_f = np.empty((r0, BAR_FLOAT_WIDTH), dtype=np.float64)
    for r in range(1, total):
        if indices[r] <= indices[r - 1]:
            return NOT_INCREASING, 0, 0, 0, 0, 0, out_i, out_f
    for r in range(first, total):
        if tokens[r] != token:
            return TOKEN_MISMATCH, 0, 0, 0, 0, 0, out_i, out_f
    bar_i = out_i[:b0]
    bar_f = out_f[:b0]
    bk_i = out_i[b0:r0]
    bk_f = out_f[b0:r0, 0]
    rej = out_i[r0:]
    nbar = 0
    nb = 0
    nrej = 0
    applied = 0
    late = 0
    for r in range(first, total):
        # ---- precheck (instrument_state._precompute_*)
        if errors[r] != 0:
            rej[nrej, 0] = indices[r]
            rej[nrej, 1] = REJ_DECODE
            nrej += 1
            continue
        p = prices[r]
        if not (np.isfinite(p) and p > 0.0 and p <= PRICE_MAX):
            rej[nrej, 0] = indices[r]
            rej[nrej, 1] = REJ_BAD_PRICE
            nrej += 1
            continue
        t = event_ns[r]
        if not (t >= EVENT_MIN_NS and t < EVENT_MAX_NS):
            rej[nrej, 0] = indices[r]
            rej[nrej, 1] = REJ_EVENT_RANGE
            nrej += 1
            continue
        shifted = t + IST_OFFSET_NS
        d = shifted // NS_PER_DAY
        ns_of_day = shifted - d * NS_PER_DAY
        minute = ns_of_day // NS_PER_MIN
        bar_minute = min(max(minute, SESSION_OPEN_MINUTE), SESSION_CLOSE_MINUTE - 1)
        bst = t - ns_of_day + bar_minute * NS_PER_MIN
        kind = kinds[r]
        hv = kind in (KIND_QUOTE, KIND_FULL)
        cv = np.int64(volumes[r])
        early = minute < BASELINE_CUTOFF_MINUTE
        post = minute >= SESSION_CLOSE_MINUTE

        if d < si[I_DAY]:
            rej[nrej, 0] = indices[r]
            rej[nrej, 1] = REJ_STALE
            nrej += 1
            continue
        # ---- sanity.out_of_band + re-anchoring (instrument_state._run_python)
        if _out_of_band(p, sf[F_LAST_PRICE], band):
            si[I_PRICE_STREAK] = _next_streak(
                si[I_PRICE_STREAK], not _out_of_band(p, sf[F_PRICE_CAND], band))
            sf[F_PRICE_CAND] = p
            if si[I_PRICE_STREAK] < REANCHOR_TICKS:
                rej[nrej, 0] = indices[r]
                rej[nrej, 1] = REJ_PRICE_BAND
                nrej += 1
                continue

        # ---- volume.volume_step
        new_day = d != si[I_DAY]
        ts_s = t // NS_PER_S
        observed = si[I_OBSERVED] != 0 and not new_day
        reanchor = False
        if hv and (early or observed):
            if observed:
                prev = si[I_CUMULATIVE]
                elapsed = ts_s - si[I_LAST_UPDATE]
                limit = VOLUME_JUMP_BASE + VOLUME_JUMP_PER_S * max(elapsed, 0)
            else:
                prev = np.int64(0)
                limit = VOLUME_JUMP_BASE
            code = 0
            if cv < prev:
                code = REJ_NON_MONOTONIC
            elif cv - prev > limit:
                code = REJ_VOLUME_JUMP
            if code != 0:
                cand = si[I_VOLUME_CAND]
                si[I_VOLUME_STREAK] = _next_streak(
                    si[I_VOLUME_STREAK], cand <= cv and cv <= cand + VOLUME_JUMP_BASE)
                si[I_VOLUME_CAND] = cv
                if si[I_VOLUME_STREAK] < REANCHOR_TICKS:
                    rej[nrej, 0] = indices[r]
                    rej[nrej, 1] = code
                    nrej += 1
                    continue
                reanchor = True
        if new_day:
            si[I_DAY] = d
            si[I_OBSERVED] = 0
            si[I_CUMULATIVE] = 0
            si[I_BASELINE] = 0
            si[I_INC_TOTAL] = 0
            sf[F_HIGH] = 0.0
            sf[F_LOW] = 0.0
            si[I_UPDATE_COUNT] = 0
        if hv:
            if si[I_OBSERVED] != 0 and not reanchor:
                inc = cv - si[I_CUMULATIVE]
            elif early and not reanchor:
                si[I_OBSERVED] = 1
                inc = cv
            else:
                si[I_OBSERVED] = 1
                inc = np.int64(0)
                si[I_BASELINE] = cv - si[I_INC_TOTAL]
            si[I_CUMULATIVE] = cv
            si[I_INC_TOTAL] += inc
        else:
            inc = np.int64(0)
        si[I_LAST_INC] = inc
        sf[F_LAST_PRICE] = p
        if p > sf[F_HIGH]:
            sf[F_HIGH] = p
        if p < sf[F_LOW] or sf[F_LOW] == 0.0:
            sf[F_LOW] = p
        si[I_UPDATE_COUNT] += 1
        si[I_LAST_UPDATE] = ts_s
        si[I_PRICE_STREAK] = 0
        sf[F_PRICE_CAND] = 0.0
        si[I_VOLUME_STREAK] = 0
        si[I_VOLUME_CAND] = 0
        incs[r] = inc
        applied += 1

        # ---- bars.apply_bar_tick (+ bucket folding of instrument_state)
        if post:
            si[I_POST_TICKS] += 1
            si[I_POST_VOLUME] += inc
            if d > si[I_CLOSED_DAY]:
                si[I_CLOSED_DAY] = d
            if si[I_HAS_OPEN] != 0:
                nb = _close_bar(si, sf, coarse, bar_i, bar_f, nbar, bk_i, bk_f, nb)
                nbar += 1
            for k in range(coarse.shape[0]):  # volume.close_all
                if si[I_ACC0 + k * ACC_WIDTH] >= 0:
                    nb = _emit_acc(si, sf, k, coarse[k], bk_i, bk_f, nb)
            continue
        if si[I_HAS_OPEN] != 0:
            start = si[I_OB_START]
            if bst == start:
                if p > sf[F_OB_HIGH]:
                    sf[F_OB_HIGH] = p
                elif p < sf[F_OB_LOW]:
                    sf[F_OB_LOW] = p
                sf[F_OB_CLOSE] = p
                si[I_OB_VOLUME] += inc
                si[I_OB_TICKS] += 1
                sf[F_OB_PV] += p * inc
                si[I_OB_PV_VOLUME] += inc
                si[I_OB_LAST_TS] = t
                continue
            if bst < start:
                si[I_OB_VOLUME] += inc
                si[I_OB_TICKS] += 1
                si[I_OB_LATE] += 1
                late += 1
                continue
            nb = _close_bar(si, sf, coarse, bar_i, bar_f, nbar, bk_i, bk_f, nb)
            nbar += 1
        elif bst < si[I_FLOOR] or d <= si[I_CLOSED_DAY]:
            si[I_UNBARRED_TICKS] += 1
            si[I_UNBARRED_VOLUME] += inc
            late += 1
            continue
        # NEW: open the bar, then volume.roll_to.
        si[I_HAS_OPEN] = 1
        si[I_OB_START] = bst
        sf[F_OB_OPEN] = p
        sf[F_OB_HIGH] = p
        sf[F_OB_LOW] = p
        sf[F_OB_CLOSE] = p
        si[I_OB_VOLUME] = inc
        si[I_OB_TICKS] = 1
        si[I_OB_LATE] = 0
        sf[F_OB_PV] = p * inc
        si[I_OB_PV_VOLUME] = inc
        si[I_OB_FIRST_TS] = t
        si[I_OB_LAST_TS] = t
        for k in range(coarse.shape[0]):
            acc_start = si[I_ACC0 + k * ACC_WIDTH]
            if acc_start >= 0 and _bucket_start(bst, coarse[k]) > acc_start:
                nb = _emit_acc(si, sf, k, coarse[k], bk_i, bk_f, nb)
    return 0, applied, late, nbar, nb, nrej, out_i, out_f
