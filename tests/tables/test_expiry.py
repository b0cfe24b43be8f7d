"""NSE calendar arithmetic and time to expiry (aion.tables.expiry)."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aion.config.nse_calendar import NseCalendar
from aion.tables.expiry import (
    EXPIRED,
    CalendarRangeError,
    TradingCalendar,
    to_date,
    to_day,
)
from aion.tables.timeutil import NS_PER_DAY, NS_PER_MIN, ist_wall_ns

D = dt.date
CAL = TradingCalendar(NseCalendar.load())
DAY_NS = 375 * NS_PER_MIN  # one regular session


def trading_days(n: float) -> float:
    """Trading-time years of ``n`` regular sessions at the default 252 days a year."""
    return n / 252.0


# ------------------------------------------------------------------ days


@pytest.mark.parametrize(
    ("day", "trading"),
    [
        (D(2025, 1, 3), True),  # Friday
        (D(2025, 1, 4), False),  # Saturday
        (D(2025, 2, 1), True),  # budget Saturday, full session
        (D(2026, 2, 1), True),  # budget Sunday, full session
        (D(2024, 1, 20), True),  # Saturday full session
        (D(2024, 1, 22), False),  # special holiday
        (D(2024, 3, 2), False),  # DR drill: live minutes, not a trading day
        (D(2024, 11, 1), False),  # Muhurat day
        (D(2025, 10, 21), False),  # Muhurat day
        (D(2026, 1, 15), False),  # municipal elections
    ],
)
def test_is_trading_day(day: dt.date, trading: bool) -> None:
    assert CAL.is_trading_day(day) is trading
    assert CAL.is_trading_day(to_day(day)) is trading  # epoch-day ints work too


def test_sessions_and_minutes() -> None:
    assert CAL.sessions(D(2025, 1, 3)) == ((555, 930),)
    assert CAL.sessions(D(2025, 1, 4)) == ()
    assert CAL.sessions(D(2024, 11, 1)) == ((1080, 1140),)
    assert CAL.session_minutes(D(2024, 3, 2)) == 45 + 60
    assert CAL.session_minutes(D(2025, 10, 21)) == 60
    assert CAL.session_minutes(D(2024, 1, 20)) == 375


def test_next_and_previous_trading_day() -> None:
    # Diwali 2025: Tue 21 Muhurat holiday, Wed 22 Balipratipada.
    assert to_date(CAL.next_trading_day(D(2025, 10, 20))) == D(2025, 10, 23)
    assert to_date(CAL.previous_trading_day(D(2025, 10, 23))) == D(2025, 10, 20)
    # Monday 2024-01-22 closed, Saturday 2024-01-20 was a full session.
    assert to_date(CAL.previous_trading_day(D(2024, 1, 23))) == D(2024, 1, 20)
    assert to_date(CAL.next_trading_day(D(2024, 1, 19))) == D(2024, 1, 20)
    # A DR-drill Saturday is skipped.
    assert to_date(CAL.next_trading_day(D(2024, 3, 1))) == D(2024, 3, 4)
    assert CAL.trading_days_between(D(2025, 10, 20), D(2025, 10, 27)) == 3  # 20, 23, 24


def test_outside_covered_years_is_refused() -> None:
    for day in (D(2014, 12, 31), D(2027, 1, 1)):
        assert not CAL.covers(day)
        with pytest.raises(CalendarRangeError, match=r"nse_calendar\.yaml"):
            CAL.is_trading_day(day)
    with pytest.raises(CalendarRangeError):
        CAL.next_trading_day(D(2026, 12, 31))
    with pytest.raises(CalendarRangeError):
        CAL.previous_trading_day(D(2015, 1, 1))
    with pytest.raises(CalendarRangeError):
        CAL.time_to_expiry(ist_wall_ns(2026, 12, 30, 10), D(2027, 1, 28))
    with pytest.raises(CalendarRangeError):
        CAL.time_to_expiry(ist_wall_ns(2014, 12, 29, 10), D(2015, 1, 1))
    with pytest.raises(TypeError):
        CAL.is_trading_day(dt.datetime(2025, 1, 3, 10, 0))  # type: ignore[arg-type]


def test_is_open() -> None:
    assert CAL.is_open(ist_wall_ns(2025, 1, 3, 9, 15))
    assert not CAL.is_open(ist_wall_ns(2025, 1, 3, 15, 30))
    assert not CAL.is_open(ist_wall_ns(2025, 1, 3, 9, 14, 59))
    assert CAL.is_open(ist_wall_ns(2024, 11, 1, 18, 30))
    assert not CAL.is_open(ist_wall_ns(2024, 11, 1, 10, 0))
    assert CAL.is_open(ist_wall_ns(2025, 2, 1, 12, 0))


# ------------------------------------------------------------------ expiry rule


@pytest.mark.parametrize(
    ("nominal", "effective"),
    [
        (D(2024, 4, 11), D(2024, 4, 10)),  # Thursday Id-Ul-Fitr -> Wednesday
        (D(2024, 8, 15), D(2024, 8, 14)),  # Thursday Independence Day
        (D(2024, 11, 20), D(2024, 11, 19)),  # Wednesday election holiday
        (D(2025, 10, 21), D(2025, 10, 20)),  # Tuesday Muhurat holiday (NIFTY weekly)
        (D(2026, 3, 31), D(2026, 3, 30)),  # Tuesday Mahavir Jayanti
        (D(2025, 1, 2), D(2025, 1, 2)),  # ordinary Thursday
    ],
)
def test_adjust_expiry(nominal: dt.date, effective: dt.date) -> None:
    assert to_date(CAL.adjust_expiry(nominal)) == effective


def test_weekly_and_monthly_expiry() -> None:
    thu, tue = 3, 1
    assert to_date(CAL.next_weekly_expiry(ist_wall_ns(2024, 4, 8, 10), thu)) == D(2024, 4, 10)
    # On the (shifted) expiry day before and after the close.
    assert to_date(CAL.next_weekly_expiry(ist_wall_ns(2024, 4, 10, 15, 29), thu)) == D(2024, 4, 10)
    assert to_date(CAL.next_weekly_expiry(ist_wall_ns(2024, 4, 10, 15, 30), thu)) == D(2024, 4, 18)
    assert to_date(CAL.next_weekly_expiry(ist_wall_ns(2025, 10, 17, 12), tue)) == D(2025, 10, 20)
    assert to_date(CAL.monthly_expiry(2025, 12, thu)) == D(2025, 12, 24)  # 25th is Christmas
    assert to_date(CAL.monthly_expiry(2025, 12, tue)) == D(2025, 12, 30)
    assert to_date(CAL.monthly_expiry(2026, 3, tue)) == D(2026, 3, 30)  # 31st is a holiday
    assert to_date(CAL.monthly_expiry(2024, 12, thu)) == D(2024, 12, 26)


# ------------------------------------------------------------------ time to expiry


def test_one_full_trading_day() -> None:
    t = CAL.time_to_expiry(ist_wall_ns(2025, 1, 2, 15, 30), D(2025, 1, 3))
    assert t.reason is None
    assert t.years == pytest.approx(trading_days(1), rel=1e-15)
    # Any time outside the session on the eve counts the same.
    assert CAL.time_to_expiry(ist_wall_ns(2025, 1, 2, 22, 0), D(2025, 1, 3)) == t
    assert CAL.time_to_expiry(ist_wall_ns(2025, 1, 3, 8, 0), D(2025, 1, 3)) == t
    assert CAL.time_to_expiry(ist_wall_ns(2025, 1, 3, 9, 15), D(2025, 1, 3)) == t


def test_intraday_and_expired() -> None:
    one_minute = CAL.time_to_expiry(ist_wall_ns(2025, 1, 3, 15, 29), D(2025, 1, 3))
    assert one_minute.years == pytest.approx(1 / (252 * 375), rel=1e-15)
    for late in (ist_wall_ns(2025, 1, 3, 15, 30), ist_wall_ns(2025, 1, 3, 18, 0),
                 ist_wall_ns(2025, 1, 6, 10, 0)):
        t = CAL.time_to_expiry(late, D(2025, 1, 3))
        assert math.isnan(t.years) and t.reason == EXPIRED
        t = CAL.time_to_expiry_calendar(late, D(2025, 1, 3))
        assert math.isnan(t.years) and t.reason == EXPIRED


def test_holidays_and_weekends_count_zero_special_minutes_count() -> None:
    # Fri 2025-10-17 close -> Thu 2025-10-23 close: Mon 20 and Thu 23 only (Tue 21 has the
    # 60-minute Muhurat session, Wed 22 is shut).
    t = CAL.time_to_expiry(ist_wall_ns(2025, 10, 17, 15, 30), D(2025, 10, 23))
    assert t.years == pytest.approx(trading_days(2 + 60 / 375), rel=1e-15)
    # The DR-drill Saturday 2024-03-02 adds 105 minutes.
    t = CAL.time_to_expiry(ist_wall_ns(2024, 3, 1, 15, 30), D(2024, 3, 4))
    assert t.years == pytest.approx(trading_days(1 + 105 / 375), rel=1e-15)
    # Budget Saturday 2025-02-01 is a whole session.
    t = CAL.time_to_expiry(ist_wall_ns(2025, 1, 31, 15, 30), D(2025, 2, 3))
    assert t.years == pytest.approx(trading_days(2), rel=1e-15)


def test_nominal_and_shifted_expiry_dates_agree() -> None:
    now = ist_wall_ns(2025, 10, 16, 11, 0)
    nominal = CAL.time_to_expiry(now, D(2025, 10, 21))
    shifted = CAL.time_to_expiry(now, D(2025, 10, 20))
    assert nominal == shifted
    # Thu 11:00 -> Mon 15:30: 270 min + Fri 375 + Mon 375.
    assert nominal.years == pytest.approx(trading_days((270 + 750) / 375), rel=1e-15)
    assert CAL.expiry_close_ns(D(2025, 10, 21)) == ist_wall_ns(2025, 10, 20, 15, 30)


def test_days_per_year_parameter_and_calendar_convention() -> None:
    now = ist_wall_ns(2025, 1, 2, 15, 30)
    assert CAL.time_to_expiry(now, D(2025, 1, 3), days_per_year=250).years == pytest.approx(
        1 / 250, rel=1e-15)
    cal_t = CAL.time_to_expiry_calendar(now, D(2025, 1, 6))  # Thu 15:30 -> Mon 15:30
    assert cal_t.years == pytest.approx(4 / 365, rel=1e-15)
    assert CAL.time_to_expiry_calendar(now, D(2025, 1, 6), days_per_year=365.25).years == (
        pytest.approx(4 / 365.25, rel=1e-15))


def brute_force_session_minutes(start_ns: int, end_ns: int) -> float:
    """Independent count: walk the days, intersect [start, end) with each session."""
    total = 0
    day0 = (start_ns + 19_800 * 10**9) // NS_PER_DAY
    day1 = (end_ns + 19_800 * 10**9) // NS_PER_DAY
    for day in range(day0, day1 + 1):
        midnight = day * NS_PER_DAY - 19_800 * 10**9
        for a, b in CAL.sessions(day):
            lo = max(start_ns, midnight + a * NS_PER_MIN)
            hi = min(end_ns, midnight + b * NS_PER_MIN)
            total += max(0, hi - lo)
    return total / NS_PER_MIN


FIRST_NS = ist_wall_ns(2015, 1, 1)
LAST_NS = ist_wall_ns(2026, 10, 31)  # + 60 days stays inside the calendar


@settings(max_examples=300, deadline=None)
@given(st.integers(FIRST_NS, LAST_NS), st.integers(0, 60))
def test_time_to_expiry_matches_brute_force(event_ns: int, days_ahead: int) -> None:
    expiry = to_date((event_ns + 19_800 * 10**9) // NS_PER_DAY + days_ahead)
    t = CAL.time_to_expiry(event_ns, expiry)
    close = CAL.expiry_close_ns(expiry)
    if event_ns >= close:
        assert t.reason == EXPIRED
        return
    minutes = brute_force_session_minutes(event_ns, close)
    assert t.reason is None
    assert t.years * 252 * 375 == pytest.approx(minutes, rel=1e-12, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(st.integers(FIRST_NS, LAST_NS), st.integers(0, 40 * NS_PER_DAY),
       st.integers(0, 40 * NS_PER_DAY))
def test_session_time_is_additive_and_monotone(a: int, gap1: int, gap2: int) -> None:
    b = min(a + gap1, LAST_NS)
    c = min(b + gap2, LAST_NS)
    ab, bc = CAL.session_ns_between(a, b), CAL.session_ns_between(b, c)
    assert ab >= 0 and bc >= 0
    assert CAL.session_ns_between(a, c) == ab + bc  # exact integers
    assert CAL.session_ns_between(c, a) == -(ab + bc)


def test_trading_day_count_consistent_with_session_time() -> None:
    # Every trading day contributes exactly one regular session over a whole year,
    # plus the special and Muhurat minutes.
    start, end = ist_wall_ns(2025, 1, 1), ist_wall_ns(2026, 1, 1)
    n_trading = CAL.trading_days_between(D(2025, 1, 1), D(2026, 1, 1))
    assert n_trading == 261 - 14 + 1  # weekdays - weekday holidays + budget Saturday
    extra = 60  # Muhurat 2025-10-21
    assert CAL.session_ns_between(start, end) == n_trading * DAY_NS + extra * NS_PER_MIN
