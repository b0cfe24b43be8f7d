from __future__ import annotations

from hypothesis import given, settings
from state_strategies import assert_round_trips, bar_states

from aion.tables import bars as b
from aion.tables.analytics import default_config
from aion.tables.timeutil import NS_PER_MIN, ist_day
from aion.tables.timeutil import ist_wall_ns as ist_ns

D = (2025, 10, 23)
CONFIG = default_config()
TOK = 99


def t(h, m, s=0, day=D):
    return ist_ns(*day, h, m, s)


def bar_start(ts):
    mod = (ts // NS_PER_MIN + 330) % 1440
    m = min(max(mod, 555), 929)
    return ts - (ts + 19800 * 10**9) % (1440 * NS_PER_MIN) + m * NS_PER_MIN


def tick(bs, ts, price, inc=0):
    mod = (ts // NS_PER_MIN + 330) % 1440
    return b.apply_bar_tick(bs, TOK, bar_start(ts), ist_day(ts), ts, price, inc, mod >= 930)


def test_ohlcv_and_roll():
    bs = b.BarState()
    assert tick(bs, t(9, 15, 1), 100.0, 10) == (b.NEW, None)
    assert tick(bs, t(9, 15, 20), 103.0, 5)[0] == b.SAME
    assert tick(bs, t(9, 15, 40), 99.0, 5)[0] == b.SAME
    assert tick(bs, t(9, 15, 59), 101.0, 0)[0] == b.SAME
    outcome, closed = tick(bs, t(9, 16, 0), 102.0, 1)
    assert outcome == b.NEW
    assert closed is not None
    assert (closed.open, closed.high, closed.low, closed.close) == (100.0, 103.0, 99.0, 101.0)
    assert closed.volume == 20 and closed.tick_count == 4
    assert closed.vwap == (100 * 10 + 103 * 5 + 99 * 5) / 20
    assert closed.bar_id == f"{TOK}:{t(9, 15) // 1_000_000}"
    d = closed.to_dict()
    assert d["start"] == "2025-10-23T09:15:00+05:30"
    assert d["end_ms"] - d["start_ms"] == 60_000


def test_preopen_ticks_go_to_0915_bar():
    bs = b.BarState()
    tick(bs, t(9, 7, 30), 100.0, 500)
    tick(bs, t(9, 15, 10), 101.0, 20)
    ob = bs.open_bar
    assert ob is not None and ob.start_ns == t(9, 15)
    assert ob.volume == 520 and ob.open == 100.0 and ob.first_ts_ns == t(9, 7, 30)


def test_late_tick_folds_volume_not_price():
    bs = b.BarState()
    tick(bs, t(9, 15, 1), 100.0, 10)
    tick(bs, t(9, 16, 1), 100.0, 10)
    outcome, closed = tick(bs, t(9, 15, 50), 500.0, 7)
    assert outcome == b.LATE and closed is None
    ob = bs.open_bar
    assert ob is not None
    assert (ob.high, ob.volume, ob.tick_count, ob.late_ticks) == (100.0, 17, 2, 1)
    assert ob.freeze(TOK).vwap == 100.0


def test_post_close_closes_last_bar_and_opens_none():
    bs = b.BarState()
    tick(bs, t(15, 29, 30), 100.0, 10)
    outcome, closed = tick(bs, t(15, 30, 0), 101.0, 40)
    assert outcome == b.POST_CLOSE
    assert closed is not None and closed.start_ns == t(15, 29)
    assert bs.open_bar is None
    assert (bs.post_close_ticks, bs.post_close_volume) == (1, 40)
    assert tick(bs, t(15, 45), 101.0, 5) == (b.POST_CLOSE, None)
    # A straggler from before the close, after the session closed: counted, not barred.
    assert tick(bs, t(15, 29, 59), 100.0, 3) == (b.UNBARRED, None)
    assert (bs.unbarred_ticks, bs.unbarred_volume) == (1, 3)
    # Next day opens bars again.
    assert tick(bs, t(9, 15, day=(2025, 10, 24)), 100.0, 1)[0] == b.NEW


def test_watermark_closes_at_bar_end_only():
    bs = b.BarState()
    tick(bs, t(10, 0, 5), 100.0, 1)
    assert b.advance_watermark(bs, TOK, t(10, 0, 59)) == []
    closed = b.advance_watermark(bs, TOK, t(10, 1))
    assert [x.start_ns for x in closed] == [t(10, 0)]
    assert b.advance_watermark(bs, TOK, t(10, 5)) == []
    # A late tick for the closed minute does not reopen it.
    assert tick(bs, t(10, 0, 30), 100.0, 4) == (b.UNBARRED, None)
    assert tick(bs, t(10, 2, 0), 100.0, 4)[0] == b.NEW


def test_bar_state_round_trip():
    bs = b.BarState()
    tick(bs, t(10, 0, 5), 0.1 + 0.2, 3)
    assert b.BarState.decode(bs.encode(), 1, CONFIG) == bs
    assert b.BarState.decode(b.BarState().encode(), 1, CONFIG) == b.BarState()


@settings(max_examples=200, deadline=None)
@given(bar_states())
def test_bar_state_component_round_trips(bs: b.BarState) -> None:
    assert_round_trips(bs)
