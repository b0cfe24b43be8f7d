"""NSE trading-calendar arithmetic and time to expiry, on event time (pure).

Built from the calendar that ``aion.config.nse_calendar`` loads; this module reads no
file and no clock: the caller passes the calendar in, and "now" is always an event time
in epoch nanoseconds. Days are IST epoch-day numbers as in :mod:`aion.tables.timeutil`
(``ist_day``); functions taking a day also accept a :class:`datetime.date`.

Trading day
    A weekday that is not a holiday, or a closed date given a ``full`` special session
    (regular hours, e.g. the 2025-02-01 budget Saturday). Partial ``special`` sessions
    (DR drills) and ``muhurat`` sessions add live minutes but do not make their date a
    trading day: NSE never settles or expires contracts on them.

Expiry
    Contracts expire at the regular close, 15:30 IST, of the expiry date. When the
    nominal expiry date is not a trading day NSE moves the expiry to the previous
    trading day (e.g. the NIFTY weekly of Tuesday 2025-10-21, a Muhurat holiday, expired
    on Monday 2025-10-20); :meth:`TradingCalendar.adjust_expiry` applies that rule and
    :meth:`TradingCalendar.time_to_expiry` applies it to whatever date it is given, so
    a nominal date and the instrument master's (already shifted) date agree.

Time to expiry (default: trading time)
    ``T = session time from the event to the expiry close / (days_per_year x 375 min)``.
    Session time counts only live-session nanoseconds: what is left of today's session,
    every session on the days in between (a Muhurat hour counts 60 minutes), and the
    expiry day up to 15:30. Nights, weekends and holidays count zero, so one trading day
    is exactly ``1 / days_per_year`` years (default 252) and theta "per day" from
    :mod:`aion.tables.greeks` with the same ``days_per_year`` is per trading day. The
    calendar-time alternative, seconds to the expiry close / (365 x 86400), is
    :meth:`TradingCalendar.time_to_expiry_calendar`; holidays then only move the expiry
    date. At or after the expiry close the result is ``NaN`` with reason ``"expired"``.

Dates outside the calendar's covered years raise :class:`CalendarRangeError` instead of
being guessed.

Example:
    >>> from aion.config.nse_calendar import NseCalendar
    >>> from aion.tables.timeutil import ist_wall_ns
    >>> cal = TradingCalendar(NseCalendar.load())
    >>> import datetime as dt
    >>> cal.is_trading_day(dt.date(2025, 2, 1))   # budget Saturday
    True
    >>> t = cal.time_to_expiry(ist_wall_ns(2025, 1, 2, 15, 30), dt.date(2025, 1, 3))
    >>> round(t.years * 252, 12), t.reason       # one full trading day
    (1.0, None)
"""

from __future__ import annotations

import datetime as _dt
import math
import operator
from typing import NamedTuple

from aion.config.nse_calendar import NseCalendar
from aion.tables.timeutil import (
    NS_PER_DAY,
    NS_PER_MIN,
    ist_day,
    ist_day_start_ns,
)

DayLike = int | _dt.date
"""An IST epoch-day number (``timeutil.ist_day``) or a calendar date."""

EXPIRED = "expired"
"""Reason attached to a time to expiry at or after the expiry close."""

DEFAULT_TRADING_DAYS_PER_YEAR = 252.0
CALENDAR_DAYS_PER_YEAR = 365.0

_EPOCH_ORDINAL = _dt.date(1970, 1, 1).toordinal()


class CalendarRangeError(ValueError):
    """A date lies outside the years the NSE calendar file covers."""


class TimeToExpiry(NamedTuple):
    """Time to expiry in years, or ``NaN`` with a reason.

    Attributes:
        years: Year fraction (> 0), ``NaN`` when expired.
        reason: ``None`` when valid, else ``"expired"``.
    """

    years: float
    reason: str | None


def to_day(day: DayLike) -> int:
    """IST epoch-day number of a date or day number.

    Args:
        day: A :class:`datetime.date` or an integer epoch-day (numpy ints accepted).

    Returns:
        Days since 1970-01-01.
    """
    if isinstance(day, _dt.datetime):
        # A datetime would silently drop its time and zone; make callers say what they mean.
        raise TypeError("pass a date or an epoch-day int, not a datetime")
    if isinstance(day, _dt.date):
        return day.toordinal() - _EPOCH_ORDINAL
    return operator.index(day)


def to_date(day: int) -> _dt.date:
    """Calendar date of an IST epoch-day number.

    Args:
        day: Days since 1970-01-01.

    Returns:
        The date.
    """
    return _dt.date.fromordinal(_EPOCH_ORDINAL + int(day))


class TradingCalendar:
    """Day arithmetic and session time over the covered years of an :class:`NseCalendar`.

    Construction precomputes, for every covered day, its sessions and a prefix sum of
    session nanoseconds, so :meth:`time_to_expiry` is O(1) (a few microseconds).
    Instances are immutable after construction.

    Args:
        calendar: The validated calendar (``NseCalendar.load()``).
    """

    __slots__ = (
        "_close_ns",
        "_cum_ns",
        "_sessions_ns",
        "_trading",
        "calendar",
        "first_day",
        "last_day",
        "regular_session_ns",
    )

    def __init__(self, calendar: NseCalendar) -> None:
        self.calendar = calendar
        self.first_day = to_day(calendar.first_date)
        self.last_day = to_day(calendar.last_date)
        regular = (
            calendar.session_open_minute * NS_PER_MIN,
            calendar.session_close_minute * NS_PER_MIN,
        )
        self.regular_session_ns = regular[1] - regular[0]
        self._close_ns = regular[1]
        sessions: list[tuple[tuple[int, int], ...]] = []
        trading: list[bool] = []
        cum = [0]
        for day in range(self.first_day, self.last_day + 1):
            date = to_date(day)
            special = calendar.special_sessions.get(date)
            if special is not None:
                spans = tuple((a * NS_PER_MIN, b * NS_PER_MIN) for a, b in special.sessions)
                is_trading = special.kind == "full"
            elif date.weekday() in calendar.weekend or date in calendar.holidays:
                spans, is_trading = (), False
            else:
                spans, is_trading = (regular,), True
            sessions.append(spans)
            trading.append(is_trading)
            cum.append(cum[-1] + sum(b - a for a, b in spans))
        self._sessions_ns = tuple(sessions)
        self._trading = tuple(trading)
        # _cum_ns[i] = session ns on covered days before day first_day + i (exact ints).
        self._cum_ns = tuple(cum)

    # ------------------------------------------------------------------ days

    def _index(self, day: DayLike) -> int:
        d = to_day(day)
        if not self.first_day <= d <= self.last_day:
            raise CalendarRangeError(
                f"{to_date(d)} is outside the NSE calendar "
                f"({self.calendar.first_year}..{self.calendar.last_year}); "
                "add the year to config/nse_calendar.yaml"
            )
        return d - self.first_day

    def covers(self, day: DayLike) -> bool:
        """Whether ``day`` is inside the covered years.

        Args:
            day: Date or epoch-day.

        Returns:
            True if covered.
        """
        return self.first_day <= to_day(day) <= self.last_day

    def is_trading_day(self, day: DayLike) -> bool:
        """Whether ``day`` is a trading day (regular hours; see the module docstring).

        Args:
            day: Date or epoch-day.

        Returns:
            True for a trading day.

        Raises:
            CalendarRangeError: Outside the covered years.
        """
        return self._trading[self._index(day)]

    def sessions(self, day: DayLike) -> tuple[tuple[int, int], ...]:
        """Live sessions of ``day`` as ``(open, close)`` minutes since IST midnight.

        Args:
            day: Date or epoch-day.

        Returns:
            ``((555, 930),)`` on a regular day, ``()`` when closed, the special
            session(s) otherwise.

        Raises:
            CalendarRangeError: Outside the covered years.
        """
        spans = self._sessions_ns[self._index(day)]
        return tuple((a // NS_PER_MIN, b // NS_PER_MIN) for a, b in spans)

    def session_minutes(self, day: DayLike) -> int:
        """Total live-session minutes of ``day``.

        Args:
            day: Date or epoch-day.

        Returns:
            375 on a regular day, 0 when closed.

        Raises:
            CalendarRangeError: Outside the covered years.
        """
        i = self._index(day)
        return (self._cum_ns[i + 1] - self._cum_ns[i]) // NS_PER_MIN

    def next_trading_day(self, day: DayLike) -> int:
        """First trading day strictly after ``day``.

        Args:
            day: Date or epoch-day.

        Returns:
            Its epoch-day number.

        Raises:
            CalendarRangeError: If ``day`` or the answer is outside the covered years.
        """
        i = self._index(day) + 1
        while i < len(self._trading):
            if self._trading[i]:
                return self.first_day + i
            i += 1
        raise CalendarRangeError(f"no trading day after {to_date(to_day(day))} is covered")

    def previous_trading_day(self, day: DayLike) -> int:
        """Last trading day strictly before ``day``.

        Args:
            day: Date or epoch-day.

        Returns:
            Its epoch-day number.

        Raises:
            CalendarRangeError: If ``day`` or the answer is outside the covered years.
        """
        i = self._index(day) - 1
        while i >= 0:
            if self._trading[i]:
                return self.first_day + i
            i -= 1
        raise CalendarRangeError(f"no trading day before {to_date(to_day(day))} is covered")

    def trading_days_between(self, start: DayLike, end: DayLike) -> int:
        """Number of trading days ``d`` with ``start <= d < end``.

        Args:
            start: First day (inclusive).
            end: Last day (exclusive).

        Returns:
            The count (0 if ``end <= start``).

        Raises:
            CalendarRangeError: Outside the covered years.
        """
        i, j = self._index(start), self._index(end)
        return sum(self._trading[i:j]) if j > i else 0

    # ------------------------------------------------------------------ instants

    def _session_ns_before(self, event_ns: int) -> int:
        """Session nanoseconds from the first covered midnight up to ``event_ns``."""
        day = ist_day(event_ns)
        i = self._index(day)
        tod = event_ns - ist_day_start_ns(day)
        elapsed = 0
        for a, b in self._sessions_ns[i]:
            if tod > a:
                elapsed += min(tod, b) - a
        return self._cum_ns[i] + elapsed

    def is_open(self, event_ns: int) -> bool:
        """Whether a live session is running at ``event_ns`` (open inclusive, close not).

        Args:
            event_ns: Event time, epoch nanoseconds.

        Returns:
            True inside a session.

        Raises:
            CalendarRangeError: Outside the covered years.
        """
        event_ns = int(event_ns)
        day = ist_day(event_ns)
        tod = event_ns - ist_day_start_ns(day)
        return any(a <= tod < b for a, b in self._sessions_ns[self._index(day)])

    def session_ns_between(self, start_ns: int, end_ns: int) -> int:
        """Live-session nanoseconds in ``[start_ns, end_ns)`` (negative if reversed).

        Args:
            start_ns: Start instant, epoch ns.
            end_ns: End instant, epoch ns.

        Returns:
            Exact integer nanoseconds of session time.

        Raises:
            CalendarRangeError: Outside the covered years.
        """
        return self._session_ns_before(int(end_ns)) - self._session_ns_before(int(start_ns))

    # ------------------------------------------------------------------ expiry

    def adjust_expiry(self, day: DayLike) -> int:
        """Apply NSE's holiday rule: a non-trading expiry date moves to the previous one.

        Args:
            day: Nominal expiry date or epoch-day.

        Returns:
            The effective expiry epoch-day.

        Raises:
            CalendarRangeError: Outside the covered years.
        """
        return to_day(day) if self.is_trading_day(day) else self.previous_trading_day(day)

    def expiry_close_ns(self, expiry: DayLike) -> int:
        """Expiry instant: 15:30 IST on the (holiday-adjusted) expiry date.

        Args:
            expiry: Expiry date or epoch-day.

        Returns:
            Epoch nanoseconds of the expiry close.

        Raises:
            CalendarRangeError: Outside the covered years.
        """
        return ist_day_start_ns(self.adjust_expiry(expiry)) + self._close_ns

    def time_to_expiry(
        self,
        event_ns: int,
        expiry: DayLike,
        days_per_year: float = DEFAULT_TRADING_DAYS_PER_YEAR,
    ) -> TimeToExpiry:
        """Trading-time years from ``event_ns`` to the expiry close (the default).

        Args:
            event_ns: Event time, epoch nanoseconds.
            expiry: Expiry date or epoch-day (holiday rule applied).
            days_per_year: Trading days per year (one year = this many 375-minute days).

        Returns:
            ``TimeToExpiry(years, None)``, or ``(nan, "expired")`` at or after the close.

        Raises:
            CalendarRangeError: If the event or expiry date is outside the covered years.
        """
        event_ns = int(event_ns)
        close = self.expiry_close_ns(expiry)
        if event_ns >= close:
            self._index(ist_day(event_ns))  # still refuse an uncovered event date
            return TimeToExpiry(math.nan, EXPIRED)
        session_ns = self._session_ns_before(close) - self._session_ns_before(event_ns)
        return TimeToExpiry(session_ns / (days_per_year * self.regular_session_ns), None)

    def time_to_expiry_calendar(
        self,
        event_ns: int,
        expiry: DayLike,
        days_per_year: float = CALENDAR_DAYS_PER_YEAR,
    ) -> TimeToExpiry:
        """Calendar-time years from ``event_ns`` to the expiry close.

        Args:
            event_ns: Event time, epoch nanoseconds.
            expiry: Expiry date or epoch-day (holiday rule applied).
            days_per_year: Calendar days per year.

        Returns:
            ``TimeToExpiry(years, None)``, or ``(nan, "expired")`` at or after the close.

        Raises:
            CalendarRangeError: If the event or expiry date is outside the covered years.
        """
        event_ns = int(event_ns)
        self._index(ist_day(event_ns))
        close = self.expiry_close_ns(expiry)
        if event_ns >= close:
            return TimeToExpiry(math.nan, EXPIRED)
        return TimeToExpiry((close - event_ns) / (days_per_year * NS_PER_DAY), None)

    def next_weekly_expiry(self, event_ns: int, weekday: int) -> int:
        """The first weekly expiry (nominal ``weekday``, holiday-adjusted) not yet closed.

        Which weekday an index expires on is contract data (NIFTY: Thursday until
        August 2025, Tuesday since September 2025), so it is a parameter here.

        Args:
            event_ns: Event time, epoch nanoseconds.
            weekday: Nominal expiry weekday, Monday = 0.

        Returns:
            The effective expiry epoch-day whose 15:30 close is after ``event_ns``.

        Raises:
            CalendarRangeError: If the answer is outside the covered years.
        """
        day = ist_day(int(event_ns))
        nominal = day + (weekday - to_date(day).weekday()) % 7
        while True:
            effective = self.adjust_expiry(nominal)
            if ist_day_start_ns(effective) + self._close_ns > event_ns:
                return effective
            nominal += 7

    def monthly_expiry(self, year: int, month: int, weekday: int) -> int:
        """Monthly expiry: last ``weekday`` of the month, holiday-adjusted.

        Args:
            year: Year.
            month: Month (1-12).
            weekday: Nominal expiry weekday, Monday = 0 (NSE index monthlies: Thursday
                until August 2025, Tuesday since September 2025).

        Returns:
            The effective expiry epoch-day.

        Raises:
            CalendarRangeError: Outside the covered years.
        """
        nxt = _dt.date(year + month // 12, month % 12 + 1, 1)
        last = nxt - _dt.timedelta(days=1)
        nominal = last - _dt.timedelta(days=(last.weekday() - weekday) % 7)
        return self.adjust_expiry(nominal)
