"""Bar features the detectors share: what an instrument's recent 1-minute bars looked like.

Updated once per closed bar, *after* the detectors have seen the bar, so a detector
compares the bar with the history before it (it never reads a later bar). Bounded state:
the last :data:`HISTORY` bars plus a handful of running figures.

* **N** (``atr``): Wilder's ATR over :data:`ATR_PERIOD` (20) bars, the turtle N: seeded with
  the mean of the first 20 true ranges (the first bar's true range is its high - low),
  then ``N = (19 N + TR) / 20``. None before 20 bars.
* **Local volatility** (``sigma``): root of an EWMA (span 30) of squared 1-minute log
  returns, close to close; None before :data:`WARM_BARS` returns.
* **Relative volume** (``rel_volume`` of a bar): the bar's volume over the time-of-day
  expectation, ``v / (m(t) * b)``, where ``m(t)`` is the volume baseline's session
  multiplier of the bar's minute (opening 1.8x, closing 2.0x, ...) and ``b`` an EWMA
  (span 20) of ``v / m(t)`` over the previous bars; None before :data:`WARM_BARS` bars.
* **Session** figures (reset on a new IST day): open, high, low, bar count and the first
  :data:`OPENING_RANGE_BARS` bars' range (the opening range).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any, ClassVar

ATR_PERIOD = 20
"""Bars in the Wilder ATR (the turtle N)."""

HISTORY = 30
"""Bars of history kept."""

WARM_BARS = 10
"""Bars before the volatility and relative volume are known."""

OPENING_RANGE_BARS = 15
"""Bars of the opening range (09:15-09:30)."""

_VOL_ALPHA = 2.0 / (20 + 1)
_VAR_ALPHA = 2.0 / (30 + 1)


@dataclass(frozen=True, slots=True)
class BarRow:
    """One closed bar as the features keep it.

    Attributes:
        start_ms: Bar start, epoch ms.
        open: Open.
        high: High.
        low: Low.
        close: Close.
        volume: Volume.
        multiplier: Time-of-day volume multiplier of its minute.
    """

    start_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    multiplier: float = 1.0


@dataclass(slots=True)
class BarFeatures:
    """Running features of one instrument's bars (see the module docstring).

    Attributes:
        bars: Last :data:`HISTORY` bars, oldest first.
        count: Bars seen (lifetime).
        atr: Wilder ATR (None before :data:`ATR_PERIOD` bars).
        tr_sum: Sum of true ranges while seeding the ATR.
        var: EWMA of squared log returns.
        returns: Log returns seen.
        vol_base: EWMA of time-of-day-normalised volume.
        day: IST epoch-day of the session.
        session_open: First open of the session.
        session_high: Session high so far.
        session_low: Session low so far.
        session_bars: Bars this session.
        or_high: Opening-range high.
        or_low: Opening-range low.
    """

    bars: deque[BarRow] = field(default_factory=lambda: deque(maxlen=HISTORY))
    count: int = 0
    atr: float | None = None
    tr_sum: float = 0.0
    var: float = 0.0
    returns: int = 0
    vol_base: float = 0.0
    day: int = -1
    session_open: float = 0.0
    session_high: float = 0.0
    session_low: float = 0.0
    session_bars: int = 0
    or_high: float = 0.0
    or_low: float = 0.0
    # ``bars`` as a list, made on the first read after a bar: a dozen detectors slice the
    # same history at each close. Not state (``encode`` writes ``FIELDS`` and ``bars``).
    _listed: list[BarRow] | None = field(default=None, repr=False, compare=False)

    FIELDS: ClassVar[tuple[str, ...]] = (
        "count", "atr", "tr_sum", "var", "returns", "vol_base", "day", "session_open",
        "session_high", "session_low", "session_bars", "or_high", "or_low")

    @property
    def sigma(self) -> float | None:
        """Local 1-minute volatility (log return sd), None while warming up."""
        return math.sqrt(self.var) if self.returns >= WARM_BARS and self.var > 0 else None

    @property
    def last(self) -> BarRow | None:
        """The previous bar, if any."""
        return self.bars[-1] if self.bars else None

    def rel_volume(self, volume: float, multiplier: float) -> float | None:
        """A bar's volume over its time-of-day expectation (None while warming up).

        Args:
            volume: The bar's volume.
            multiplier: The time-of-day multiplier of its minute.

        Returns:
            ``volume / (multiplier * base)``, or None.
        """
        if self.count < WARM_BARS or self.vol_base <= 0 or multiplier <= 0:
            return None
        return volume / (multiplier * self.vol_base)

    def past_rel_volumes(self, n: int) -> list[float] | None:
        """Relative volumes of the last ``n`` held bars, each as it was known at its bar.

        Bar ``k``'s relative volume is ``x_k / b_k`` with ``x_k = v_k / m_k`` and ``b_k``
        the volume EWMA *before* it (:meth:`rel_volume` at that bar). The EWMA is not
        stored per bar; it is walked back from the current one, ``b_k = (b_(k+1) -
        alpha x_k) / (1 - alpha)``, exact up to rounding (the inverse of :meth:`update`).

        Args:
            n: Bars back (at most :data:`HISTORY`).

        Returns:
            The ``n`` relative volumes, oldest first, or None when fewer bars are held
            or any of them was still warming up (fewer than :data:`WARM_BARS` bars before it).
        """
        if n <= 0:
            return []
        if n > len(self.bars) or self.count - n < WARM_BARS:
            return None
        out: list[float] = []
        after = self.vol_base
        for row in reversed(self.recent(n)):
            x = row.volume / row.multiplier if row.multiplier > 0 else row.volume
            before = (after - _VOL_ALPHA * x) / (1 - _VOL_ALPHA)
            if before <= 0 or row.multiplier <= 0:
                return None
            out.append(x / before)
            after = before
        return out[::-1]

    def recent(self, n: int) -> list[BarRow]:
        """The last ``n`` bars (fewer if not held), oldest first (a new list)."""
        if n <= 0:
            return []
        listed = self._listed
        if listed is None:
            listed = self._listed = list(self.bars)
        return listed[-n:]

    def ago(self, n: int) -> BarRow | None:
        """The bar ``n`` bars back (1: the previous one), None if not held.

        Args:
            n: Bars back, >= 1.

        Returns:
            The bar, or None.
        """
        return self.bars[-n] if 0 < n <= len(self.bars) else None

    def update(self, row: BarRow, day: int) -> None:
        """Take a closed bar (after the detectors saw it).

        Args:
            row: The bar.
            day: Its IST epoch-day.
        """
        prev = self.last
        if day != self.day:
            self.day, self.session_bars = day, 0
            self.session_open, self.session_high, self.session_low = row.open, row.high, row.low
            self.or_high, self.or_low = row.high, row.low
        self.session_high = max(self.session_high, row.high)
        self.session_low = min(self.session_low, row.low)
        if self.session_bars < OPENING_RANGE_BARS:
            self.or_high, self.or_low = max(self.or_high, row.high), min(self.or_low, row.low)
        self.session_bars += 1
        tr = row.high - row.low
        if prev is not None:
            tr = max(tr, abs(row.high - prev.close), abs(row.low - prev.close))
            if prev.close > 0 and row.close > 0:
                r = math.log(row.close / prev.close)
                self.var = r * r if self.returns == 0 else (
                    (1 - _VAR_ALPHA) * self.var + _VAR_ALPHA * r * r)
                self.returns += 1
        self.count += 1
        if self.atr is None:
            self.tr_sum += tr
            if self.count == ATR_PERIOD:
                self.atr = self.tr_sum / ATR_PERIOD
        else:
            self.atr = (self.atr * (ATR_PERIOD - 1) + tr) / ATR_PERIOD
        norm = row.volume / row.multiplier if row.multiplier > 0 else row.volume
        self.vol_base = norm if self.count == 1 else (
            (1 - _VOL_ALPHA) * self.vol_base + _VOL_ALPHA * norm)
        self.bars.append(row)
        self._listed = None

    def encode(self) -> dict[str, Any]:
        """JSON-able form (part of the ``patterns`` component)."""
        out: dict[str, Any] = {k: getattr(self, k) for k in self.FIELDS}
        out["bars"] = [[b.start_ms, b.open, b.high, b.low, b.close, b.volume, b.multiplier]
                       for b in self.bars]
        return out

    @classmethod
    def decode(cls, data: dict[str, Any]) -> BarFeatures:
        """Inverse of :meth:`encode`."""
        f = cls(**{k: data[k] for k in cls.FIELDS})
        f.bars.extend(BarRow(int(r[0]), *map(float, r[1:])) for r in data["bars"])
        return f
