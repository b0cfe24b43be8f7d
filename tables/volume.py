"""Per-instrument volume state: incremental volume and time buckets (reference VolumeStateManager).

Kite reports ``volume_traded`` as the instrument's *cumulative* volume for the day. The
reference turns it into incremental volume in one place; so do we, in
:func:`volume_step`, with these rules:

* **Trading date**: the IST date of the tick's event time. A tick of a later date resets
  the day's state; a tick of an earlier date than the state's is rejected
  (``"stale_trading_date"``), because applying it would rewind the day.
* **Baseline**: the first volume-bearing tick of a day sets the baseline. If its event
  time is before 09:16:00 IST (pre-open or the first session minute), nothing of the day
  can have been missed but the pre-open auction and the first minute, so its whole
  cumulative counts as incremental (``baseline_volume = 0``). Later (we joined mid-day)
  its cumulative is history we did not see: it becomes ``baseline_volume`` and
  contributes 0. Hence, for one day, ``cumulative - baseline_volume`` equals the sum of
  incremental volumes.
* **Non-monotonic**: a cumulative lower than the last accepted one within a day is bad
  data; the whole tick is rejected (``"non_monotonic_volume"``) and leaves the state
  untouched (but for the re-anchoring streak), so one bad packet cannot inflate the
  next tick's increment.
* **Volume jump** and **re-anchoring**: see ``tables.sanity`` (``"volume_jump"``; a
  streak of consistent volume rejects re-anchors the day's volume as a new baseline).
* **No volume**: LTP and index packets carry no ``volume_traded``; their increment is 0
  (they still move prices and counts).

Buckets of 1, 5, 10, 15, 30 and 60 minutes (aligned to 09:15, see ``timeutil``) are
built from closed 1-minute bars rather than per tick: every coarser bucket is a union of
whole minutes, so folding each finished minute into it gives the same totals at a sixth
of the per-tick cost. A coarse bucket closes as soon as a tick opens a minute in a later
bucket, when the session closes, or by watermark; :func:`current_buckets` merges the
still-open minute in for live views.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec

from aion.tables.records import BucketClosed
from aion.tables.sanity import (
    REANCHOR_TICKS,
    VOLUME_JUMP_BASE,
    next_streak,
    volume_jump_limit,
)
from aion.tables.timeutil import (
    BUCKET_RESOLUTIONS,
    NS_PER_MS,
    NS_PER_S,
    bucket_start_ns,
    day_to_iso,
    hhmm_ist,
    iso_ist,
    ist_date,
    session_bucket_end_ns,
)

if TYPE_CHECKING:
    from aion.tables.analytics import AnalyticsConfig

COARSE_RESOLUTIONS: tuple[int, ...] = BUCKET_RESOLUTIONS[1:]
"""Resolutions accumulated from closed minutes (1m buckets are the bars themselves)."""

BASELINE_CUTOFF_MINUTE = 9 * 60 + 16
"""A day's first cumulative observed before this IST minute (09:16) counts as incremental."""

REJECT_STALE_DATE = "stale_trading_date"
REJECT_NON_MONOTONIC = "non_monotonic_volume"

# volume_step's return codes for rejects; increments are >= 0.
STALE = -1
NON_MONOTONIC = -2
JUMP = -3


@dataclass(slots=True)
class VolumeState:
    """Day-scoped cumulative/incremental volume and session price fields.

    Attributes:
        day: IST epoch-day the state belongs to (-1 before the first tick).
        observed: Whether a cumulative volume has been seen this day.
        cumulative: Last accepted Kite cumulative volume (``zerodha_cumulative_volume``).
        baseline_volume: Cumulative volume at the first observation if it came after
            09:16 IST (volume we did not see), else 0.
        incremental_total: Sum of incremental volume applied this day.
        last_incremental: Incremental volume of the last accepted tick
            (``bucket_incremental_volume``).
        last_price: Last accepted price (0.0 before any).
        high_price: Highest accepted price this day (0.0 before any).
        low_price: Lowest accepted price this day (0.0 before any).
        update_count: Accepted ticks this day.
        last_update: Epoch seconds of the last accepted tick's event time.
        price_streak: Consecutive mutually consistent ``price_out_of_band`` rejects
            (``tables.sanity``, re-anchoring).
        price_candidate: Price of the last of them.
        volume_streak: Consecutive mutually consistent volume rejects.
        volume_candidate: Cumulative volume of the last of them.
    """

    day: int = -1
    observed: bool = False
    cumulative: int = 0
    baseline_volume: int = 0
    incremental_total: int = 0
    last_incremental: int = 0
    last_price: float = 0.0
    high_price: float = 0.0
    low_price: float = 0.0
    update_count: int = 0
    last_update: int = 0
    price_streak: int = 0
    price_candidate: float = 0.0
    volume_streak: int = 0
    volume_candidate: int = 0

    NAME: ClassVar[str] = "volume"
    VERSION: ClassVar[int] = 2

    def encode(self) -> list[Any]:
        """The state component payload (``state_codec``), version 2.

        Returns:
            ``[day, observed, cumulative, baseline_volume, incremental_total,
            last_incremental, last_price, high_price, low_price, update_count,
            last_update, price_streak, price_candidate, volume_streak,
            volume_candidate]`` (version 1 is the first eleven).
        """
        return [
            self.day,
            self.observed,
            self.cumulative,
            self.baseline_volume,
            self.incremental_total,
            self.last_incremental,
            self.last_price,
            self.high_price,
            self.low_price,
            self.update_count,
            self.last_update,
            self.price_streak,
            self.price_candidate,
            self.volume_streak,
            self.volume_candidate,
        ]

    @classmethod
    def decode(cls, payload: Any, version: int, config: AnalyticsConfig) -> VolumeState:
        """Inverse of :meth:`encode`.

        Args:
            payload: An :meth:`encode` payload.
            version: Its version: 1 (before the re-anchoring streaks of
                ``tables.sanity``: they start at 0) or 2.
            config: Unused (the layout does not depend on configuration).

        Returns:
            The restored state.
        """
        (day, observed, cumulative, baseline, inc_total, last_inc, last_price, high, low,
         count, last_update, *streaks) = payload
        if len(streaks) != (0 if version == 1 else 4):
            raise ValueError(f"volume payload of version {version} with {len(payload)} fields")
        return cls(day, observed, cumulative, baseline, inc_total, last_inc, last_price, high,
                   low, count, last_update, *streaks)


def volume_step(
    vs: VolumeState,
    day: int,
    ts_ns: int,
    has_volume: bool,
    cumulative: int,
    price: float,
    early: bool,
) -> int:
    """Apply one tick to the volume state.

    The price must already be validated (finite, positive, in band: ``tables.sanity``).
    A rejected tick leaves the state untouched but for the volume re-anchoring streak
    (``tables.sanity``); an accepted one clears both streaks.

    Args:
        vs: The state, updated in place.
        day: IST epoch-day of the tick's event time.
        ts_ns: Event time in epoch nanoseconds.
        has_volume: Whether the packet carries ``volume_traded`` (quote/full mode).
        cumulative: Kite's cumulative day volume (ignored without ``has_volume``).
        price: Last traded price.
        early: Whether the event time is before :data:`BASELINE_CUTOFF_MINUTE`.

    Returns:
        The tick's incremental volume (>= 0), or :data:`STALE`, :data:`NON_MONOTONIC`
        or :data:`JUMP` if the tick is rejected.
    """
    new_day = day != vs.day
    if new_day and day < vs.day:
        return STALE
    ts_s = ts_ns // NS_PER_S
    reanchor = False
    if has_volume and (early or (vs.observed and not new_day)):
        # The rise to check: from the last cumulative, or from 0 for a day's first
        # volume before 09:16 (a mid-day first volume is a baseline: not checked).
        if vs.observed and not new_day:
            prev = vs.cumulative
            limit = volume_jump_limit(ts_s - vs.last_update)
        else:
            prev = 0
            limit = VOLUME_JUMP_BASE
        code = NON_MONOTONIC if cumulative < prev else JUMP if cumulative - prev > limit else 0
        if code:
            cand = vs.volume_candidate
            vs.volume_streak = next_streak(
                vs.volume_streak, cand <= cumulative <= cand + VOLUME_JUMP_BASE)
            vs.volume_candidate = cumulative
            if vs.volume_streak < REANCHOR_TICKS:
                return code
            reanchor = True
    if new_day:
        vs.day = day
        vs.observed = False
        vs.cumulative = 0
        vs.baseline_volume = 0
        vs.incremental_total = 0
        vs.high_price = 0.0
        vs.low_price = 0.0
        vs.update_count = 0
    if has_volume:
        if vs.observed and not reanchor:
            inc = cumulative - vs.cumulative
        elif early and not reanchor:
            vs.observed = True
            inc = cumulative
        else:
            # Joined mid-day, or re-anchored: what came before is history we did not see.
            vs.observed = True
            inc = 0
            vs.baseline_volume = cumulative - vs.incremental_total
        vs.cumulative = cumulative
        vs.incremental_total += inc
    else:
        inc = 0
    vs.last_incremental = inc
    vs.last_price = price
    if price > vs.high_price:
        vs.high_price = price
    if price < vs.low_price or vs.low_price == 0.0:
        vs.low_price = price
    vs.update_count += 1
    vs.last_update = ts_s
    vs.price_streak = 0
    vs.price_candidate = 0.0
    vs.volume_streak = 0
    vs.volume_candidate = 0
    return inc


def session_hash(vs: VolumeState) -> dict[str, Any]:
    """The reference's ``session:SYMBOL:YYYY-MM-DD`` hash fields.

    Args:
        vs: The volume state.

    Returns:
        A JSON-safe dict with the reference's field names (plus the date and baseline).
    """
    return {
        "trading_date": day_iso(vs.day),
        "zerodha_cumulative_volume": vs.cumulative,
        "bucket_incremental_volume": vs.last_incremental,
        "baseline_volume": vs.baseline_volume,
        "last_price": vs.last_price,
        "high_price": vs.high_price,
        "low_price": vs.low_price,
        "update_count": vs.update_count,
        "last_update": vs.last_update,
    }


def day_iso(day: int) -> str | None:
    """ISO date of an IST epoch-day, or None for the "no day yet" marker -1.

    Args:
        day: IST epoch-day number or -1.

    Returns:
        ``YYYY-MM-DD`` or None.
    """
    return None if day < 0 else day_to_iso(day)


@dataclass(frozen=True, slots=True)
class BucketRecord:
    """A closed (or, from :func:`current_buckets`, still open) volume bucket.

    Attributes:
        token: Instrument token.
        resolution: Bucket width in minutes.
        start_ns: Bucket start, epoch nanoseconds (aligned to 09:15 IST).
        volume: Incremental volume in the bucket.
        count: Ticks in the bucket (late ticks included).
        first_ts_ns: Event time of the bucket's first (in-order) tick.
        last_ts_ns: Event time of the bucket's last (in-order) tick.
        last_price: Price of the bucket's last (in-order) tick.
    """

    token: int
    resolution: int
    start_ns: int
    volume: int
    count: int
    first_ts_ns: int
    last_ts_ns: int
    last_price: float

    @property
    def bucket_id(self) -> str:
        """Deterministic id ``token:resolution:start_ms`` (re-emits overwrite downstream)."""
        return f"{self.token}:{self.resolution}:{self.start_ns // NS_PER_MS}"

    def to_record(self, symbol: str | None, tradingsymbol: str | None) -> BucketClosed:
        """The closed bucket as its output record.

        Args:
            symbol: ``EXCHANGE:TRADINGSYMBOL`` (None when the master does not list it).
            tradingsymbol: The symbol without exchange (None likewise).

        Returns:
            The record (the fields of :meth:`to_dict` plus the symbols).
        """
        # Built field by field: no intermediate dict on the hot path.
        return BucketClosed(
            bucket_id=self.bucket_id, token=self.token, symbol=symbol,
            tradingsymbol=tradingsymbol, resolution=self.resolution,
            trading_date=ist_date(self.start_ns), bucket_time=hhmm_ist(self.start_ns),
            start_ms=self.start_ns // NS_PER_MS, bucket_incremental_volume=self.volume,
            incremental_volume=self.volume, volume=self.volume, count=self.count,
            first_timestamp=iso_ist(self.first_ts_ns), last_timestamp=iso_ist(self.last_ts_ns),
            first_timestamp_ms=self.first_ts_ns // NS_PER_MS,
            last_timestamp_ms=self.last_ts_ns // NS_PER_MS, last_price=self.last_price)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict with the reference's bucket hash fields plus identity.

        Returns:
            The fields of the ``BucketClosed`` record without the symbols:
            ``bucket_incremental_volume``, ``incremental_volume``, ``volume``, ``count``,
            ``first_timestamp``, ``last_timestamp`` (ISO, +05:30) and ``last_price`` as
            in the reference, plus token, resolution, start and ids.
        """
        doc = msgspec.structs.asdict(self.to_record(None, None))
        del doc["symbol"], doc["tradingsymbol"]
        return doc


@dataclass(slots=True)
class BucketAcc:
    """Accumulator of closed minutes for one open coarse bucket.

    Attributes:
        start_ns: Bucket start, or -1 when no bucket is open at this resolution.
        volume: Volume of the minutes folded in.
        count: Ticks of the minutes folded in.
        first_ts_ns: First tick time of the first minute folded in.
        last_ts_ns: Last tick time of the last minute folded in.
        last_price: Close of the last minute folded in.
    """

    start_ns: int = -1
    volume: int = 0
    count: int = 0
    first_ts_ns: int = 0
    last_ts_ns: int = 0
    last_price: float = 0.0


@dataclass(slots=True)
class BucketState:
    """Open coarse buckets, one accumulator per entry of :data:`COARSE_RESOLUTIONS`."""

    accs: list[BucketAcc] = field(default_factory=lambda: [BucketAcc() for _ in COARSE_RESOLUTIONS])

    NAME: ClassVar[str] = "buckets"
    VERSION: ClassVar[int] = 1

    def encode(self) -> list[list[Any]]:
        """The state component payload (``state_codec``), version 1.

        Returns:
            Per coarse resolution, in increasing order, ``[start_ns, volume, count,
            first_ts_ns, last_ts_ns, last_price]``.
        """
        return [
            [a.start_ns, a.volume, a.count, a.first_ts_ns, a.last_ts_ns, a.last_price]
            for a in self.accs
        ]

    @classmethod
    def decode(cls, payload: Any, version: int, config: AnalyticsConfig) -> BucketState:
        """Inverse of :meth:`encode`.

        Args:
            payload: An :meth:`encode` payload.
            version: Its version (1, the only one so far).
            config: Unused (the layout does not depend on configuration).

        Returns:
            The restored bucket state.

        Raises:
            ValueError: If the number of resolutions does not match.
        """
        if len(payload) != len(COARSE_RESOLUTIONS):
            raise ValueError("bucket state has the wrong number of resolutions")
        return cls([BucketAcc(s, v, n, f, la, p) for s, v, n, f, la, p in payload])


def _emit(token: int, res: int, acc: BucketAcc) -> BucketRecord:
    rec = BucketRecord(
        token,
        res,
        acc.start_ns,
        acc.volume,
        acc.count,
        acc.first_ts_ns,
        acc.last_ts_ns,
        acc.last_price,
    )
    acc.start_ns = -1
    acc.volume = 0
    acc.count = 0
    acc.first_ts_ns = 0
    acc.last_ts_ns = 0
    acc.last_price = 0.0
    return rec


def fold_minute(
    bk: BucketState,
    token: int,
    start_ns: int,
    volume: int,
    count: int,
    first_ts_ns: int,
    last_ts_ns: int,
    last_price: float,
) -> list[BucketRecord]:
    """Fold a finished minute into every coarse bucket; emit its 1-minute bucket.

    Args:
        bk: Bucket state, updated in place.
        token: Instrument token.
        start_ns: Minute start in epoch nanoseconds.
        volume: The minute's incremental volume.
        count: The minute's tick count.
        first_ts_ns: The minute's first tick time.
        last_ts_ns: The minute's last tick time.
        last_price: The minute's close.

    Returns:
        The 1-minute bucket record, then any coarse bucket the minute lies after
        (normally none: those close when the next minute opens, see :func:`roll_to`).
    """
    out = [BucketRecord(token, 1, start_ns, volume, count, first_ts_ns, last_ts_ns, last_price)]
    for res, acc in zip(COARSE_RESOLUTIONS, bk.accs, strict=True):
        b_start = bucket_start_ns(start_ns, res)
        if acc.start_ns != b_start:
            if acc.start_ns >= 0:
                out.append(_emit(token, res, acc))
            acc.start_ns = b_start
            acc.first_ts_ns = first_ts_ns
        acc.volume += volume
        acc.count += count
        acc.last_ts_ns = last_ts_ns
        acc.last_price = last_price
    return out


def roll_to(bk: BucketState, token: int, minute_start_ns: int) -> list[BucketRecord]:
    """Close every coarse bucket that ends at or before a newly opened minute.

    Args:
        bk: Bucket state, updated in place.
        token: Instrument token.
        minute_start_ns: Start of the minute a tick just opened.

    Returns:
        The closed coarse bucket records, in increasing resolution.
    """
    out: list[BucketRecord] = []
    for res, acc in zip(COARSE_RESOLUTIONS, bk.accs, strict=True):
        if acc.start_ns >= 0 and bucket_start_ns(minute_start_ns, res) > acc.start_ns:
            out.append(_emit(token, res, acc))
    return out


def close_all(bk: BucketState, token: int) -> list[BucketRecord]:
    """Close every open coarse bucket (session close).

    Args:
        bk: Bucket state, updated in place.
        token: Instrument token.

    Returns:
        The closed bucket records, in increasing resolution.
    """
    return [
        _emit(token, res, acc)
        for res, acc in zip(COARSE_RESOLUTIONS, bk.accs, strict=True)
        if acc.start_ns >= 0
    ]


def advance_buckets(bk: BucketState, token: int, t_ns: int) -> list[BucketRecord]:
    """Close coarse buckets whose end (cut at 15:30 IST) is at or before ``t_ns``.

    Args:
        bk: Bucket state, updated in place.
        token: Instrument token.
        t_ns: Watermark in epoch nanoseconds.

    Returns:
        The closed bucket records, in increasing resolution.
    """
    return [
        _emit(token, res, acc)
        for res, acc in zip(COARSE_RESOLUTIONS, bk.accs, strict=True)
        if acc.start_ns >= 0 and session_bucket_end_ns(acc.start_ns, res) <= t_ns
    ]


def current_buckets(
    bk: BucketState,
    token: int,
    minute: tuple[int, int, int, int, int, float] | None,
) -> list[BucketRecord]:
    """Live view of the open bucket at every resolution, the open minute merged in.

    Args:
        bk: Bucket state (not modified).
        token: Instrument token.
        minute: The open minute as ``(start_ns, volume, count, first_ts_ns,
            last_ts_ns, last_price)``, or None.

    Returns:
        One record per resolution that has an open bucket, increasing resolution.
    """
    out: list[BucketRecord] = []
    if minute is not None:
        out.append(BucketRecord(token, 1, *minute))
    for res, acc in zip(COARSE_RESOLUTIONS, bk.accs, strict=True):
        m_start = bucket_start_ns(minute[0], res) if minute is not None else -1
        if acc.start_ns >= 0 and m_start == acc.start_ns and minute is not None:
            out.append(
                BucketRecord(
                    token,
                    res,
                    acc.start_ns,
                    acc.volume + minute[1],
                    acc.count + minute[2],
                    acc.first_ts_ns,
                    minute[4],
                    minute[5],
                )
            )
        elif acc.start_ns >= 0:
            out.append(_snapshot(token, res, acc))
            if minute is not None:
                out.append(BucketRecord(token, res, m_start, *minute[1:]))
        elif minute is not None:
            out.append(BucketRecord(token, res, m_start, *minute[1:]))
    return out


def _snapshot(token: int, res: int, acc: BucketAcc) -> BucketRecord:
    return BucketRecord(
        token,
        res,
        acc.start_ns,
        acc.volume,
        acc.count,
        acc.first_ts_ns,
        acc.last_ts_ns,
        acc.last_price,
    )
