"""1-minute OHLCV bars in event time.

Rules (each a decision the rest of the system relies on):

* **Placement**: a tick belongs to the minute of its event time. Ticks before 09:15 IST
  (pre-open auction, or anything earlier that day) are placed in the 09:15 bar, as Kite's
  own 09:15 candle carries the pre-open price and volume. The bar id is
  ``f"{token}:{start_ms}"``, deterministic, so a re-emitted bar overwrites itself.
* **Closing**: the open bar closes when a tick of a later minute arrives, when a tick at
  or after 15:30 IST arrives (session close), or by :func:`advance_watermark` once the
  watermark reaches the bar's end.
* **Post-close ticks** (event time at or after 15:30 IST): they close the session's last
  bar and open none; they are counted (``post_close_ticks``) and their volume is kept in
  ``post_close_volume``, so no volume disappears. After such a tick no bar is opened for
  that IST day any more.
* **Late ticks** (event time in a minute before the open bar's): closed bars are never
  reopened (they are already published). A late tick's volume and tick count are folded
  into the open bar, but not its price: the open bar's OHLC, VWAP and timestamps only
  reflect its own minute. With no bar open (closed by watermark or session close) a late
  tick's volume goes to ``unbarred_volume``. Either way the caller counts it as late.

So, per day: closed bars + open bar + ``unbarred_volume`` + ``post_close_volume`` hold
all the incremental volume applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec

from aion.tables.records import BarClosed
from aion.tables.timeutil import NS_PER_MIN, NS_PER_MS, iso_ist

if TYPE_CHECKING:
    from aion.tables.analytics import AnalyticsConfig

# apply_bar_tick outcomes.
SAME = 0
"""Tick added to the open bar."""
NEW = 1
"""Tick opened a new bar (the previous one, if any, was closed and returned)."""
LATE = 2
"""Tick was late; its volume folded into the open bar."""
UNBARRED = 3
"""Tick was late (or after the session close) with no bar to fold into."""
POST_CLOSE = 4
"""Tick at or after 15:30 IST; the open bar (if any) was closed and returned."""


@dataclass(frozen=True, slots=True)
class Bar:
    """A closed 1-minute bar.

    Attributes:
        token: Instrument token.
        start_ns: Bar start in epoch nanoseconds (a whole IST minute).
        open: First in-order price.
        high: Highest in-order price.
        low: Lowest in-order price.
        close: Last in-order price.
        volume: Incremental volume (late ticks' volume included).
        tick_count: Ticks in the bar (late ticks included).
        late_ticks: Late ticks folded in.
        vwap: Volume-weighted price of the in-order ticks, None without volume.
        first_ts_ns: Event time of the first tick (before ``start_ns`` for pre-open ticks).
        last_ts_ns: Event time of the last in-order tick.
    """

    token: int
    start_ns: int
    open: float
    high: float
    low: float
    close: float
    volume: int
    tick_count: int
    late_ticks: int
    vwap: float | None
    first_ts_ns: int
    last_ts_ns: int

    @property
    def bar_id(self) -> str:
        """Deterministic id ``"{token}:{start_ms}"``."""
        return f"{self.token}:{self.start_ns // NS_PER_MS}"

    @property
    def end_ns(self) -> int:
        """Exclusive end of the bar in epoch nanoseconds."""
        return self.start_ns + NS_PER_MIN

    def to_record(self, symbol: str | None) -> BarClosed:
        """The closed bar as its output record.

        Args:
            symbol: ``EXCHANGE:TRADINGSYMBOL`` (None when the master does not list it).

        Returns:
            The record (the fields of :meth:`to_dict` plus the symbol).
        """
        # Built field by field: no intermediate dict on the hot path.
        return BarClosed(
            bar_id=self.bar_id, token=self.token, symbol=symbol,
            start_ms=self.start_ns // NS_PER_MS, end_ms=self.end_ns // NS_PER_MS,
            start=iso_ist(self.start_ns), open=self.open, high=self.high, low=self.low,
            close=self.close, volume=self.volume, tick_count=self.tick_count,
            late_ticks=self.late_ticks, vwap=self.vwap,
            first_ts_ms=self.first_ts_ns // NS_PER_MS, last_ts_ms=self.last_ts_ns // NS_PER_MS)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict: the fields of the ``BarClosed`` record except the symbol.

        Returns:
            The bar's fields with times as epoch ms and the start as ISO (+05:30).
        """
        doc = msgspec.structs.asdict(self.to_record(None))
        del doc["symbol"]
        return doc


@dataclass(slots=True)
class OpenBar:
    """The bar being built.

    Attributes:
        start_ns: Bar start in epoch nanoseconds.
        open: First price.
        high: Highest price.
        low: Lowest price.
        close: Last price.
        volume: Incremental volume, late ticks included.
        tick_count: Ticks, late ticks included.
        late_ticks: Late ticks folded in.
        pv: Sum of price x incremental volume of in-order ticks (VWAP numerator).
        pv_volume: Sum of incremental volume of in-order ticks (VWAP denominator).
        first_ts_ns: First tick's event time.
        last_ts_ns: Last in-order tick's event time.
    """

    start_ns: int
    open: float
    high: float
    low: float
    close: float
    volume: int
    tick_count: int
    late_ticks: int
    pv: float
    pv_volume: int
    first_ts_ns: int
    last_ts_ns: int

    def freeze(self, token: int) -> Bar:
        """The closed-bar record of this bar.

        Args:
            token: Instrument token.

        Returns:
            The immutable :class:`Bar`.
        """
        vwap = self.pv / self.pv_volume if self.pv_volume > 0 else None
        return Bar(
            token,
            self.start_ns,
            self.open,
            self.high,
            self.low,
            self.close,
            self.volume,
            self.tick_count,
            self.late_ticks,
            vwap,
            self.first_ts_ns,
            self.last_ts_ns,
        )


@dataclass(slots=True)
class BarState:
    """Bar-building state of one instrument.

    Attributes:
        open_bar: The bar being built, or None.
        floor_ns: End of the last closed bar: a tick placed before it is late.
        closed_day: IST epoch-day whose session a post-close tick has closed (-1 none).
        post_close_ticks: Ticks at or after 15:30 IST (lifetime).
        post_close_volume: Their incremental volume (lifetime).
        unbarred_ticks: Late ticks with no bar to fold into (lifetime).
        unbarred_volume: Their incremental volume (lifetime).
    """

    open_bar: OpenBar | None = None
    floor_ns: int = 0
    closed_day: int = -1
    post_close_ticks: int = 0
    post_close_volume: int = 0
    unbarred_ticks: int = 0
    unbarred_volume: int = 0

    NAME: ClassVar[str] = "bars"
    VERSION: ClassVar[int] = 1

    def encode(self) -> list[Any]:
        """The state component payload (``state_codec``), version 1.

        Returns:
            ``[open_bar, floor_ns, closed_day, post_close_ticks, post_close_volume,
            unbarred_ticks, unbarred_volume]``, the open bar None or ``[start_ns, open,
            high, low, close, volume, tick_count, late_ticks, pv, pv_volume,
            first_ts_ns, last_ts_ns]``.
        """
        ob = self.open_bar
        return [
            None if ob is None else [
                ob.start_ns,
                ob.open,
                ob.high,
                ob.low,
                ob.close,
                ob.volume,
                ob.tick_count,
                ob.late_ticks,
                ob.pv,
                ob.pv_volume,
                ob.first_ts_ns,
                ob.last_ts_ns,
            ],
            self.floor_ns,
            self.closed_day,
            self.post_close_ticks,
            self.post_close_volume,
            self.unbarred_ticks,
            self.unbarred_volume,
        ]

    @classmethod
    def decode(cls, payload: Any, version: int, config: AnalyticsConfig) -> BarState:
        """Inverse of :meth:`encode`.

        Args:
            payload: An :meth:`encode` payload.
            version: Its version (1, the only one so far).
            config: Unused (the layout does not depend on configuration).

        Returns:
            The restored state.
        """
        ob, floor_ns, closed_day, post_ticks, post_volume, unbarred_ticks, unbarred_volume = (
            payload)
        if ob is not None:
            (start, o, h, lo, c, volume, ticks, late, pv, pv_volume, first_ts, last_ts) = ob
            ob = OpenBar(start, o, h, lo, c, volume, ticks, late, pv, pv_volume, first_ts,
                         last_ts)
        return cls(ob, floor_ns, closed_day, post_ticks, post_volume, unbarred_ticks,
                   unbarred_volume)


def _close(bs: BarState, token: int) -> Bar:
    ob = bs.open_bar
    assert ob is not None  # callers check; an assert documents the invariant
    bs.open_bar = None
    bs.floor_ns = ob.start_ns + NS_PER_MIN
    return ob.freeze(token)


def apply_bar_tick(
    bs: BarState,
    token: int,
    bar_start_ns: int,
    day: int,
    ts_ns: int,
    price: float,
    inc: int,
    post_close: bool,
) -> tuple[int, Bar | None]:
    """Apply one accepted tick to the bar state.

    Args:
        bs: The bar state, updated in place.
        token: Instrument token.
        bar_start_ns: Start of the tick's bar (its event minute, pre-open clamped to
            09:15); ignored for post-close ticks.
        day: IST epoch-day of the event time.
        ts_ns: Event time in epoch nanoseconds.
        price: Validated last price.
        inc: Incremental volume of the tick.
        post_close: Whether the event time is at or after 15:30 IST.

    Returns:
        ``(outcome, closed_bar)``: one of :data:`SAME`, :data:`NEW`, :data:`LATE`,
        :data:`UNBARRED`, :data:`POST_CLOSE`, and the bar this tick closed, if any.
    """
    ob = bs.open_bar
    if post_close:
        bs.post_close_ticks += 1
        bs.post_close_volume += inc
        if day > bs.closed_day:
            bs.closed_day = day
        return POST_CLOSE, (_close(bs, token) if ob is not None else None)
    if ob is not None:
        start = ob.start_ns
        if bar_start_ns == start:
            if price > ob.high:
                ob.high = price
            elif price < ob.low:
                ob.low = price
            ob.close = price
            ob.volume += inc
            ob.tick_count += 1
            ob.pv += price * inc
            ob.pv_volume += inc
            ob.last_ts_ns = ts_ns
            return SAME, None
        if bar_start_ns < start:
            ob.volume += inc
            ob.tick_count += 1
            ob.late_ticks += 1
            return LATE, None
        closed: Bar | None = _close(bs, token)
    else:
        closed = None
        if bar_start_ns < bs.floor_ns or day <= bs.closed_day:
            bs.unbarred_ticks += 1
            bs.unbarred_volume += inc
            return UNBARRED, None
    bs.open_bar = OpenBar(
        bar_start_ns, price, price, price, price, inc, 1, 0, price * inc, inc, ts_ns, ts_ns
    )
    return NEW, closed


def advance_watermark(bs: BarState, token: int, t_ns: int) -> list[Bar]:
    """Close the open bar if the watermark has reached its end.

    Use at end of stream or session end; the bar is closed when ``t_ns >= end``.

    Args:
        bs: The bar state, updated in place.
        token: Instrument token.
        t_ns: Watermark (event time) in epoch nanoseconds.

    Returns:
        The closed bar in a list, or an empty list.
    """
    ob = bs.open_bar
    if ob is not None and t_ns >= ob.start_ns + NS_PER_MIN:
        return [_close(bs, token)]
    return []
