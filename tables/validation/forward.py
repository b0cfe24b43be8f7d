"""Forward validation of alerts on the alerted instrument's later ticks: the ``validation`` state.

An :class:`Alert` (id, instrument token, event time ``t_a`` in ms, direction ``d`` in
{+1, -1, 0}, target and stop price) opens a pending validation in its instrument's
:class:`PendingValidations`. Ticks of that instrument (event time ms, last price), fed in
event-time order to :func:`update`, advance it:

* **Entry** is the first tick with event time strictly after ``t_a`` (never the tick the
  alert fired on, nor another tick of the same millisecond) and before ``close``, 15:30 IST
  of ``t_a``'s IST day; entry time ``t_e``, entry price ``E``. An alert with no such tick
  (a tick at or after the close comes first, or the session ends) is dropped unvalidated
  and counted in ``PendingValidations.unentered``.
* **Windows** of ``w`` minutes (1, 2, 5, 10, 30, 60 by default) run from the *entry* tick:
  ``end = min(t_e + w min, close)``, ``cut_at_close`` when the nominal end was after the
  close. Entry time rather than alert time, because the returns are measured from ``E``:
  from the alert, the exposure would be ``w`` minus the wait for the first tick, so windows
  of liquid and illiquid instruments would not be comparable.
* A window **closes** on the first tick with ``t >= end``. Its **path** is the ticks from
  the entry tick (included) up to that closing tick, which is included only when it is
  exactly at ``end`` (so the path is every tick with ``t < end`` and the first one at
  ``end``; further ticks of that same millisecond come after the close). Its **exit** ``X``
  is the path's last price: the last price at or before ``end``. A window whose end passes
  with no later tick stays open; :func:`finish` (session end, no more ticks) closes every
  open window on its path so far, flagged ``closed_at_session_end``.
* Figures, with ``s = d`` for d = +/-1 and ``s = +1`` for d = 0 (a neutral alert reports the
  raw, long-side figures): **return** ``100 * s * (X - E) / E`` (percent); **maximum
  favourable excursion** ``100 * max(s * (p - E)) / E`` and **maximum adverse excursion**
  ``100 * max(-s * (p - E)) / E`` over the path, both >= 0 as the path holds ``E``.
* **Touches** (d = +/-1 only): a path price touches the target when ``d * (p - target) >= 0``
  and the stop when ``d * (p - stop) <= 0``; ``first_touch`` is the level of the first
  touching tick (``"target"``, ``"stop"`` or ``"neither"``). One price can touch both only
  when the levels are inverted around it (e.g. a long whose target is below its stop);
  then the stop counts first, the conservative choice. For d = 0 no level is evaluated
  (``"neither"``). A missing level (None) is never touched.
* **Success** (d = +/-1): the target touched first within the window; the stop touched
  first is a failure; neither touched: the gross return at the exit is > 0. For d = 0 it is
  None: a neutral alert claims no direction to check.
* **Net return**: ``100 * (s * (X - E) * q - C) / (E * q)`` with ``q`` the alert's quantity
  and ``C`` the round-trip charges of ``tables.validation.costs`` for the alert's
  instrument class on ``t_a``'s IST date (a short sells at ``E`` and buys back at ``X``).

Ticks with a non-positive or non-finite price, and ticks older than the last one taken by
an alert, are ignored by that alert. Per tick the work per pending alert is constant: the
windows share their start, so one running high, low, last price and first touch serve all
of an alert's open windows, and a closing window takes a snapshot of them.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from aion.tables.records.validation import ValidationRecord
from aion.tables.timeutil import (
    NS_PER_MS,
    SESSION_CLOSE_NS,
    day_to_iso,
    ist_day,
    ist_day_start_ns,
)
from aion.tables.validation.costs import CostModel, InstrumentClass, round_trip_cost

if TYPE_CHECKING:
    from aion.tables.analytics import AnalyticsConfig

MS_PER_MIN = 60_000
WINDOWS_MIN: tuple[int, ...] = (1, 2, 5, 10, 30, 60)
"""Forward-validation windows in minutes (the reference's 1m, 2m, 5m, 10m, 30m, 60m)."""


class Touch(StrEnum):
    """Which level a window's path touched first."""

    TARGET = "target"
    STOP = "stop"
    NEITHER = "neither"


@dataclass(frozen=True, slots=True)
class Alert:
    """What forward validation needs of an alert.

    Attributes:
        alert_id: The alert's id.
        token: Instrument token (the ticks that validate it are this instrument's).
        event_ms: Event time the alert became known, epoch ms.
        direction: +1 long (bullish), -1 short (bearish), 0 neutral.
        target: Target price, or None.
        stop: Stop price, or None.
        quantity: Units for the cost model (shares, or lots x lot size), >= 1.
        instrument_class: Cost class of the instrument.
        pattern: The alert's pattern (carried to the results).
        confidence: The alert's confidence (carried to the results).
    """

    alert_id: str
    token: int
    event_ms: int
    direction: int
    target: float | None
    stop: float | None
    quantity: int = 1
    instrument_class: InstrumentClass = InstrumentClass.EQUITY
    pattern: str = ""
    confidence: float = 0.0

    def __post_init__(self) -> None:
        if self.direction not in (-1, 0, 1):
            raise ValueError(f"alert {self.alert_id}: direction must be -1, 0 or +1, "
                             f"got {self.direction!r}")
        if self.quantity < 1:
            raise ValueError(f"alert {self.alert_id}: quantity must be >= 1, "
                             f"got {self.quantity}")


@dataclass(frozen=True, slots=True)
class ValidationConfig:
    """Forward-validation parameters.

    Attributes:
        windows_min: Window lengths in minutes, positive and strictly increasing.
        costs: The round-trip cost model.
    """

    windows_min: tuple[int, ...] = WINDOWS_MIN
    costs: CostModel = field(default_factory=CostModel)

    def __post_init__(self) -> None:
        w = self.windows_min
        if not w or w[0] <= 0 or any(b <= a for a, b in itertools.pairwise(w)):
            raise ValueError(f"windows_min must be positive and strictly increasing, got {w}")


DEFAULT_CONFIG = ValidationConfig()


@dataclass(frozen=True, slots=True)
class WindowResult:
    """One closed window of one alert (figures as defined in the module docstring).

    Attributes:
        alert_id: The alert.
        token: Its instrument.
        direction: The alert's direction.
        window_min: Window length, minutes.
        entry_ms: Entry tick's event time, epoch ms.
        entry_price: Entry price.
        end_ms: The window's end, epoch ms (cut at 15:30 IST if ``cut_at_close``).
        exit_ms: Event time of the exit price's tick, epoch ms.
        exit_price: Last price at or before ``end_ms``.
        return_pct: Signed (raw for d = 0) return, percent.
        mfe_pct: Maximum favourable excursion, percent of entry, >= 0.
        mae_pct: Maximum adverse excursion, percent of entry, >= 0.
        first_touch: Level touched first on the path.
        touch_ms: Event time of the touching tick, or None.
        success: See the module docstring; None for a neutral alert.
        cost: Round-trip charges, rupees.
        net_return_pct: Return after the charges, percent.
        cut_at_close: The window's nominal end was after 15:30 IST and was cut there.
        closed_at_session_end: Closed by :func:`finish`, not by a tick at or after its end.
        pattern: The alert's pattern.
        confidence: The alert's confidence.
    """

    alert_id: str
    token: int
    direction: int
    window_min: int
    entry_ms: int
    entry_price: float
    end_ms: int
    exit_ms: int
    exit_price: float
    return_pct: float
    mfe_pct: float
    mae_pct: float
    first_touch: Touch
    touch_ms: int | None
    success: bool | None
    cost: float
    net_return_pct: float
    cut_at_close: bool
    closed_at_session_end: bool
    pattern: str = ""
    confidence: float = 0.0


def session_close_ms(event_ms: int) -> int:
    """15:30 IST of the IST day of an instant.

    Args:
        event_ms: Epoch ms.

    Returns:
        Epoch ms of that day's close.
    """
    day = ist_day(event_ms * NS_PER_MS)
    return (ist_day_start_ns(day) + SESSION_CLOSE_NS) // NS_PER_MS


def trade_date(event_ms: int) -> _dt.date:
    """IST calendar date of an instant.

    Args:
        event_ms: Epoch ms.

    Returns:
        The date.
    """
    return _dt.date.fromisoformat(day_to_iso(ist_day(event_ms * NS_PER_MS)))


@dataclass(slots=True)
class _Pending:
    """One alert under validation: running figures shared by its open windows."""

    alert: Alert
    windows: tuple[int, ...]
    close_ms: int
    entry_ms: int | None = None
    entry_price: float = 0.0
    last_ms: int = 0
    last_price: float = 0.0
    high: float = 0.0
    low: float = 0.0
    touch: Touch = Touch.NEITHER
    touch_ms: int | None = None
    next_window: int = 0

    def end_ms(self, i: int) -> int:
        assert self.entry_ms is not None
        return min(self.entry_ms + self.windows[i] * MS_PER_MIN, self.close_ms)

    def take(self, t: int, p: float) -> None:
        """Put a tick on the path of every open window."""
        self.last_ms, self.last_price = t, p
        self.high = max(self.high, p)
        self.low = min(self.low, p)
        a = self.alert
        if self.touch is Touch.NEITHER and a.direction != 0:
            d = a.direction
            if a.stop is not None and d * (p - a.stop) <= 0:
                self.touch, self.touch_ms = Touch.STOP, t
            elif a.target is not None and d * (p - a.target) >= 0:
                self.touch, self.touch_ms = Touch.TARGET, t

    def close_window(self, config: ValidationConfig, *, at_session_end: bool) -> WindowResult:
        """Close the next open window on the running figures."""
        assert self.entry_ms is not None
        i = self.next_window
        self.next_window += 1
        a, e, x = self.alert, self.entry_price, self.last_price
        s = a.direction or 1
        ret = 100 * s * (x - e) / e
        up, down = 100 * (self.high - e) / e, 100 * (e - self.low) / e
        if a.direction == 0:
            success = None
        elif self.touch is Touch.NEITHER:
            success = ret > 0
        else:
            success = self.touch is Touch.TARGET
        q = a.quantity
        cost = round_trip_cost(a.instrument_class, e, x, q, config.costs,
                               trade_date=trade_date(a.event_ms), direction=s).total
        return WindowResult(
            alert_id=a.alert_id, token=a.token, direction=a.direction,
            window_min=self.windows[i], entry_ms=self.entry_ms, entry_price=e,
            end_ms=self.end_ms(i), exit_ms=self.last_ms, exit_price=x, return_pct=ret,
            mfe_pct=up if s > 0 else down, mae_pct=down if s > 0 else up,
            first_touch=self.touch, touch_ms=self.touch_ms, success=success, cost=cost,
            net_return_pct=100 * (s * (x - e) * q - cost) / (e * q),
            cut_at_close=self.entry_ms + self.windows[i] * MS_PER_MIN > self.close_ms,
            closed_at_session_end=at_session_end, pattern=a.pattern, confidence=a.confidence,
        )

    def encode(self) -> list[Any]:
        a = self.alert
        return [a.alert_id, a.token, a.event_ms, a.direction, a.target, a.stop, a.quantity,
                a.instrument_class.value, list(self.windows), self.close_ms, self.entry_ms,
                self.entry_price, self.last_ms, self.last_price, self.high, self.low,
                self.touch.value, self.touch_ms, self.next_window, a.pattern, a.confidence]

    @classmethod
    def decode(cls, row: list[Any]) -> _Pending:
        (alert_id, token, event_ms, direction, target, stop, quantity, iclass, windows,
         close_ms, entry_ms, entry_price, last_ms, last_price, high, low, touch, touch_ms,
         next_window, pattern, confidence) = row
        alert = Alert(str(alert_id), int(token), int(event_ms), int(direction),
                      None if target is None else float(target),
                      None if stop is None else float(stop), int(quantity),
                      InstrumentClass(iclass), str(pattern), float(confidence))
        return cls(alert, tuple(int(w) for w in windows), int(close_ms),
                   None if entry_ms is None else int(entry_ms), float(entry_price),
                   int(last_ms), float(last_price), float(high), float(low), Touch(touch),
                   None if touch_ms is None else int(touch_ms), int(next_window))


@dataclass(slots=True)
class PendingValidations:
    """The alerts of one instrument under forward validation (state component).

    Attributes:
        pending: Alerts not yet entered or with open windows, in the order opened.
        unentered: Alerts dropped because no tick came after them before the close.
    """

    pending: list[_Pending] = field(default_factory=list)
    unentered: int = 0

    NAME: ClassVar[str] = "validation"
    VERSION: ClassVar[int] = 1

    def encode(self) -> dict[str, Any]:
        """The state component payload (``state_codec``), version 1.

        Returns:
            ``{"pending": [row, ...], "unentered": n}``, a row being the alert's fields
            then the running figures (positional, see ``_Pending.encode``).
        """
        return {"pending": [p.encode() for p in self.pending], "unentered": self.unentered}

    @classmethod
    def decode(cls, payload: Any, version: int,
               config: AnalyticsConfig | None = None) -> PendingValidations:
        """Inverse of :meth:`encode`.

        Args:
            payload: An :meth:`encode` payload.
            version: Its version (1, the only one so far).
            config: Unused (the windows are stored with each alert).

        Returns:
            The state.
        """
        return cls([_Pending.decode(r) for r in payload["pending"]], int(payload["unentered"]))


def open_validation(state: PendingValidations, alert: Alert,
                    config: ValidationConfig = DEFAULT_CONFIG) -> None:
    """Start validating an alert (its windows are fixed now, from ``config``).

    Args:
        state: The alerted instrument's state.
        alert: The alert.
        config: Parameters (the windows are taken from it).
    """
    state.pending.append(_Pending(alert, config.windows_min, session_close_ms(alert.event_ms)))


def update(state: PendingValidations, event_ms: int, price: float,
           config: ValidationConfig = DEFAULT_CONFIG) -> list[WindowResult]:
    """Advance every pending alert of the instrument by one tick.

    Args:
        state: The instrument's state (changed in place).
        event_ms: The tick's event time, epoch ms.
        price: Its last traded price.
        config: Parameters (the cost model is used).

    Returns:
        The windows this tick closed, in the order the alerts were opened and, per alert,
        by increasing length.
    """
    return [r for _, r in update_many(state, (event_ms,), (price,), config)]


def update_many(state: PendingValidations, times_ms: Sequence[int], prices: Sequence[float],
                config: ValidationConfig = DEFAULT_CONFIG) -> list[tuple[int, WindowResult]]:
    """Advance every pending alert of the instrument by a run of ticks.

    The same as :func:`update` tick by tick (so results never depend on how a run is cut),
    but each alert walks the run on its own: between two window ends a tick only moves
    the running figures, which stay in local variables.

    Args:
        state: The instrument's state (changed in place).
        times_ms: The ticks' event times, epoch ms, in arrival order.
        prices: Their last traded prices.
        config: Parameters (the cost model is used).

    Returns:
        ``(tick index, window)`` per closed window, by tick index, then in the order the
        alerts were opened, then by increasing length.
    """
    if not state.pending or not times_ms:
        return []
    found: list[tuple[int, int, WindowResult]] = []
    keep: list[_Pending] = []
    run = _Run.of(times_ms, prices)
    for k, p in enumerate(state.pending):
        if (run is not None and p.entry_ms is not None and run.passes(p)) or \
                _advance(state, p, k, times_ms, prices, config, found):
            keep.append(p)
    state.pending = keep
    found.sort(key=lambda x: (x[0], x[1]))  # stable: each alert's windows stay by length
    return [(i, r) for i, _, r in found]


@dataclass(frozen=True, slots=True)
class _Run:
    """A run of valid ticks in time order, summed up once for every entered alert."""

    first_ms: int
    last_ms: int
    last_price: float
    high: float
    low: float

    @classmethod
    def of(cls, times: Sequence[int], prices: Sequence[float]) -> _Run | None:
        """The summary, or None when a price is invalid or a tick is late (walk those)."""
        if not all(0.0 < x < math.inf for x in prices) or \
                any(b < a for a, b in itertools.pairwise(times)):
            return None
        return cls(times[0], times[-1], prices[-1], max(prices), min(prices))

    def passes(self, p: _Pending) -> bool:
        """Take the whole run into an entered alert at once, if nothing happens in it.

        Nothing happens when every tick is taken (none older than the alert's last), no
        window ends within the run, and no price can touch a level; then the running
        figures move exactly as a tick-by-tick walk would move them.

        Returns:
            True if taken; False (alert unchanged) when the run needs the walk.
        """
        if self.first_ms < p.last_ms or self.last_ms >= p.end_ms(p.next_window):
            return False
        a = p.alert
        if a.direction != 0 and p.touch is Touch.NEITHER:
            far, near = (self.high, self.low) if a.direction > 0 else (self.low, self.high)
            d = a.direction
            if (a.stop is not None and d * (near - a.stop) <= 0) or \
                    (a.target is not None and d * (far - a.target) >= 0):
                return False
        p.last_ms, p.last_price = self.last_ms, self.last_price
        p.high, p.low = max(p.high, self.high), min(p.low, self.low)
        return True


def _advance(state: PendingValidations, p: _Pending, k: int, times: Sequence[int],
             prices: Sequence[float], config: ValidationConfig,
             found: list[tuple[int, int, WindowResult]]) -> bool:
    """Walk one alert over a run of ticks; closed windows go to ``found`` as ``(i, k, r)``.

    Returns:
        Whether the alert is still pending.
    """
    n, i, a = len(times), 0, p.alert
    if p.entry_ms is None:
        while True:
            if i == n:
                return True
            t, x = times[i], prices[i]
            if t > a.event_ms and 0.0 < x < math.inf:
                break
            i += 1
        if t >= p.close_ms:
            state.unentered += 1
            return False
        p.entry_ms, p.entry_price, p.high, p.low = t, x, x, x
        p.take(t, x)
        i += 1
    nw = len(p.windows)
    d, stop, target = a.direction, a.stop, a.target
    nxt = p.end_ms(p.next_window)
    last_ms, last_price, hi, lo = p.last_ms, p.last_price, p.high, p.low
    watch = d != 0 and p.touch is Touch.NEITHER
    while i < n:
        t, x = times[i], prices[i]
        i += 1
        if t < last_ms or not 0.0 < x < math.inf:
            continue
        if t < nxt:  # the common case: no window ends here
            last_ms, last_price = t, x
            if x > hi:
                hi = x
            elif x < lo:
                lo = x
            if watch:
                if stop is not None and d * (x - stop) <= 0:
                    p.touch, p.touch_ms, watch = Touch.STOP, t, False
                elif target is not None and d * (x - target) >= 0:
                    p.touch, p.touch_ms, watch = Touch.TARGET, t, False
            continue
        p.last_ms, p.last_price, p.high, p.low = last_ms, last_price, hi, lo
        while p.next_window < nw and p.end_ms(p.next_window) < t:
            found.append((i - 1, k, p.close_window(config, at_session_end=False)))
        if p.next_window < nw:
            p.take(t, x)
            while p.next_window < nw and p.end_ms(p.next_window) == t:
                found.append((i - 1, k, p.close_window(config, at_session_end=False)))
        if p.next_window == nw:
            return False
        nxt = p.end_ms(p.next_window)
        last_ms, last_price, hi, lo = p.last_ms, p.last_price, p.high, p.low
        watch = d != 0 and p.touch is Touch.NEITHER
    p.last_ms, p.last_price, p.high, p.low = last_ms, last_price, hi, lo
    return True


def finish(state: PendingValidations,
           config: ValidationConfig = DEFAULT_CONFIG) -> list[WindowResult]:
    """Session end: close every open window on the figures so far, drop unentered alerts.

    Args:
        state: The instrument's state (emptied).
        config: Parameters (the cost model is used).

    Returns:
        The windows closed, flagged ``closed_at_session_end``, in the order of
        :func:`update`.
    """
    out: list[WindowResult] = []
    for p in state.pending:
        if p.entry_ms is None:
            state.unentered += 1
            continue
        while p.next_window < len(p.windows):
            out.append(p.close_window(config, at_session_end=True))
    state.pending = []
    return out


def records(symbol: str, results: list[WindowResult], ts_ns: int) -> list[ValidationRecord]:
    """Closed windows as ``aion.validations`` records.

    Args:
        symbol: The alerted instrument's (or underlying's) symbol.
        results: The windows.
        ts_ns: Event time they are known at (the tick or chain input that closed them).

    Returns:
        One record per window, in order.
    """
    return [ValidationRecord(
        alert_id=r.alert_id, token=r.token, symbol=symbol, pattern=r.pattern,
        confidence=r.confidence, direction=r.direction, window_min=r.window_min,
        entry_ms=r.entry_ms, entry_price=r.entry_price, end_ms=r.end_ms, exit_ms=r.exit_ms,
        exit_price=r.exit_price, return_pct=r.return_pct, net_return_pct=r.net_return_pct,
        cost=r.cost, mfe_pct=r.mfe_pct, mae_pct=r.mae_pct, first_touch=r.first_touch.value,
        touch_ms=r.touch_ms, success=r.success, cut_at_close=r.cut_at_close,
        closed_at_session_end=r.closed_at_session_end, ts_ns=ts_ns) for r in results]
