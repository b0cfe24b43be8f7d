from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from aion.tables import timeutil as tu

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))


def ns(y, mo, d, h, mi, s=0):
    return int(dt.datetime(y, mo, d, h, mi, s, tzinfo=IST).timestamp()) * tu.NS_PER_S


def test_constants():
    assert tu.IST_OFFSET_S == 19800
    assert tu.SESSION_OPEN_MINUTE == 555
    assert tu.SESSION_CLOSE_MINUTE == 930


def test_ist_date_crosses_utc_midnight():
    # 2025-10-22 18:45 UTC is 2025-10-23 00:15 IST.
    t = int(dt.datetime(2025, 10, 22, 18, 45, tzinfo=dt.UTC).timestamp()) * tu.NS_PER_S
    assert tu.ist_date(t) == "2025-10-23"
    assert tu.minute_of_day_ist(t) == 15
    assert tu.day_to_iso(tu.ist_day(t)) == "2025-10-23"
    assert tu.ist_day_start_ns(tu.ist_day(t)) == ns(2025, 10, 23, 0, 0)


def test_minute_of_day_vectorised():
    t = np.array([ns(2025, 10, 23, 9, 15, 59), ns(2025, 10, 23, 15, 30)], dtype=np.int64)
    assert tu.minute_of_day_ist(t).tolist() == [555, 930]


def test_bucket_alignment_documented_examples():
    t = ns(2025, 10, 23, 9, 27, 42)
    assert tu.bucket_start_ns(t, 1) == ns(2025, 10, 23, 9, 27)
    assert tu.bucket_start_ns(t, 5) == ns(2025, 10, 23, 9, 25)
    assert tu.bucket_start_ns(t, 10) == ns(2025, 10, 23, 9, 25)
    assert tu.bucket_start_ns(t, 15) == ns(2025, 10, 23, 9, 15)
    assert tu.bucket_start_ns(ns(2025, 10, 23, 10, 14, 59), 60) == ns(2025, 10, 23, 9, 15)
    assert tu.bucket_start_ns(ns(2025, 10, 23, 10, 15), 60) == ns(2025, 10, 23, 10, 15)
    assert tu.bucket_start_ns(ns(2025, 10, 23, 15, 29), 60) == ns(2025, 10, 23, 15, 15)
    assert tu.session_bucket_end_ns(ns(2025, 10, 23, 15, 15), 60) == ns(2025, 10, 23, 15, 30)
    assert tu.session_bucket_end_ns(ns(2025, 10, 23, 9, 15), 5) == ns(2025, 10, 23, 9, 20)


def test_hhmm_and_iso():
    t = ns(2025, 10, 23, 12, 54, 2)
    assert tu.hhmm_ist(t) == "12:54"
    assert tu.iso_ist(t) == "2025-10-23T12:54:02+05:30"


@given(
    st.integers(min_value=0, max_value=4_000_000_000 * tu.NS_PER_S),
    st.sampled_from(tu.BUCKET_RESOLUTIONS),
)
def test_bucket_start_properties(t, res):
    start = tu.bucket_start_ns(t, res)
    assert start <= t < start + res * tu.NS_PER_MIN
    assert (tu.minute_of_day_ist(start) - tu.SESSION_OPEN_MINUTE) % res == 0
    assert start % tu.NS_PER_MIN == 0
    # Vectorised equals scalar.
    assert int(tu.bucket_start_ns(np.array([t], dtype=np.int64), res)[0]) == start


def test_event_time_ns():
    kind = np.array([184, 184, 44, 8, 32], dtype=np.uint16)
    ex = np.array([1_761_215_723, 0, 1_761_215_000, 5, 7], dtype=np.int64)
    recv = np.array([11, 12, 13, 14, 15], dtype=np.int64)
    out = tu.event_time_ns(kind, ex, recv)
    assert out.dtype == np.int64
    assert out.tolist() == [1_761_215_723 * tu.NS_PER_S, 12, 13, 14, 15]


@given(st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2090, 1, 1)))
def test_ist_wall_ns_matches_datetime(w):
    w = w.replace(microsecond=0)
    assert tu.ist_wall_ns(w.year, w.month, w.day, w.hour, w.minute, w.second) == ns(
        w.year, w.month, w.day, w.hour, w.minute, w.second
    )
