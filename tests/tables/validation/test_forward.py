"""Forward validation: scenario tick paths, restart round trip, and a brute-force reference.

Times are IST wall times on 2025-01-15 (a Wednesday), in epoch ms. Prices are chosen so
that the percentages are exact decimal fractions of a 100 entry.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aion.tables.state_codec import dumps
from aion.tables.timeutil import NS_PER_MS, ist_wall_ns
from aion.tables.validation.costs import CostModel, InstrumentClass, round_trip_cost
from aion.tables.validation.forward import (
    DEFAULT_CONFIG,
    Alert,
    PendingValidations,
    Touch,
    ValidationConfig,
    WindowResult,
    finish,
    open_validation,
    trade_date,
    update,
    update_many,
)

TOKEN = 738561


def ms(h: int, m: int, s: int = 0, extra_ms: int = 0) -> int:
    """Epoch ms of an IST wall time on 2025-01-15."""
    return ist_wall_ns(2025, 1, 15, h, m, s) // NS_PER_MS + extra_ms


CLOSE = ms(15, 30)


def alert(t: int, direction: int = 1, target: float | None = 101.0,
          stop: float | None = 99.0, alert_id: str = "a1", quantity: int = 1) -> Alert:
    return Alert(alert_id, TOKEN, t, direction, target, stop, quantity)


def run(alerts: list[Alert], ticks: list[tuple[int, float]], *, end: bool = True,
        config: ValidationConfig = DEFAULT_CONFIG) -> dict[tuple[str, int], WindowResult]:
    """Open the alerts, feed the ticks, finish; results by (alert id, window)."""
    state = PendingValidations()
    for a in alerts:
        open_validation(state, a, config)
    out: list[WindowResult] = []
    for t, p in ticks:
        out += update(state, t, p, config)
    if end:
        out += finish(state, config)
    return {(r.alert_id, r.window_min): r for r in out}


def test_entry_is_the_next_tick_not_the_firing_one() -> None:
    t0 = ms(10, 0)
    res = run([alert(t0)], [(t0, 100.0), (t0, 100.2), (t0 + 1, 100.5), (t0 + 70_000, 100.6)])
    r = res[("a1", 1)]
    assert (r.entry_ms, r.entry_price) == (t0 + 1, 100.5)
    assert r.end_ms == t0 + 1 + 60_000
    assert not r.closed_at_session_end   # closed by the tick at t0 + 70 s


def test_target_touched_first() -> None:
    t0 = ms(10, 0)
    ticks = [(ms(10, 0, 1), 100.0),      # entry
             (ms(10, 0, 20), 100.5),
             (ms(10, 0, 40), 101.2),     # >= target 101: target
             (ms(10, 0, 50), 98.0),      # <= stop 99 later: does not matter
             (ms(10, 1, 5), 99.5)]       # after the 1-min end (10:01:01): closes it
    res = run([alert(t0)], ticks, end=False)
    assert list(res) == [("a1", 1)]
    r = res[("a1", 1)]
    assert r.exit_price == 98.0 and r.exit_ms == ms(10, 0, 50)  # last at or before the end
    assert r.first_touch is Touch.TARGET and r.touch_ms == ms(10, 0, 40)
    assert r.success is True
    assert r.return_pct == pytest.approx(-2.0)    # (98 - 100) / 100
    assert r.mfe_pct == pytest.approx(1.2)        # high 101.2
    assert r.mae_pct == pytest.approx(2.0)        # low 98
    assert not r.cut_at_close


def test_stop_touched_first_short() -> None:
    t0 = ms(11, 0)
    a = alert(t0, direction=-1, target=98.0, stop=101.0)
    ticks = [(ms(11, 0, 2), 100.0), (ms(11, 0, 10), 101.0),   # >= stop for a short
             (ms(11, 0, 30), 97.5),                           # target later
             (ms(11, 1, 2), 97.0)]                            # exactly the end: on the path
    r = run([a], ticks, end=False)[("a1", 1)]
    assert r.first_touch is Touch.STOP and r.success is False
    assert r.exit_price == 97.0 and r.exit_ms == r.end_ms == ms(11, 1, 2)
    assert r.return_pct == pytest.approx(3.0)     # short: (100 - 97) / 100
    assert r.mfe_pct == pytest.approx(3.0)        # low 97
    assert r.mae_pct == pytest.approx(1.0)        # high 101


def test_one_tick_touching_both_counts_the_stop() -> None:
    # With one price per tick, both levels are touched at once only when they are
    # inverted around the price: a long with target 99.5 below its stop 100.5. The entry
    # tick at 100 is >= target and <= stop: the stop counts (conservative).
    t0 = ms(10, 0)
    a = alert(t0, target=99.5, stop=100.5)
    r = run([a], [(t0 + 5, 100.0), (t0 + 5 + 60_000, 102.0)])[("a1", 1)]
    assert r.first_touch is Touch.STOP and r.touch_ms == t0 + 5
    assert r.success is False
    assert r.return_pct == pytest.approx(2.0)     # success is the touch, not the return


def test_neither_touched_success_is_the_return_sign() -> None:
    t0 = ms(10, 0)
    up = run([alert(t0, target=105.0, stop=95.0)],
             [(t0 + 1, 100.0), (t0 + 30_000, 100.4), (t0 + 61_000, 90.0)], end=False)
    r = up[("a1", 1)]
    assert r.first_touch is Touch.NEITHER and r.touch_ms is None
    assert r.exit_price == 100.4 and r.success is True
    down = run([alert(t0, target=105.0, stop=95.0)],
               [(t0 + 1, 100.0), (t0 + 30_000, 99.9), (t0 + 61_000, 90.0)], end=False)
    assert down[("a1", 1)].success is False
    flat = run([alert(t0, target=None, stop=None)],
               [(t0 + 1, 100.0), (t0 + 61_001, 100.0)], end=False)
    assert flat[("a1", 1)].success is False       # return 0 is not > 0


def test_neutral_alert_reports_raw_figures_and_no_success() -> None:
    t0 = ms(10, 0)
    r = run([alert(t0, direction=0)],
            [(t0 + 1, 100.0), (t0 + 10, 98.0), (t0 + 20, 103.0), (t0 + 60_001, 97.5)],
            end=False)[("a1", 1)]
    assert r.first_touch is Touch.NEITHER and r.success is None
    assert r.exit_ms == t0 + 60_001                # the tick at the end is on the path
    assert r.return_pct == pytest.approx(-2.5)    # raw (long side): 97.5 vs 100
    assert (r.mfe_pct, r.mae_pct) == pytest.approx((3.0, 2.5))  # high 103, low 97.5


def test_gap_in_ticks_closes_short_windows_on_the_last_price_before_their_end() -> None:
    t0 = ms(10, 0)
    te = t0 + 1_000
    ticks = [(te, 100.0), (te + 30_000, 100.5), (te + 180_000, 104.0)]  # gap 10:00:31-10:03:01
    state = PendingValidations()
    open_validation(state, alert(t0, target=103.0, stop=97.0))
    assert update(state, *ticks[0]) == [] and update(state, *ticks[1]) == []
    closed = update(state, *ticks[2])
    assert [r.window_min for r in closed] == [1, 2]   # 5-min end 10:05:01 not reached
    for r in closed:
        assert r.exit_price == 100.5 and r.exit_ms == te + 30_000
        assert r.first_touch is Touch.NEITHER            # 104 came after their end
        assert r.mfe_pct == pytest.approx(0.5)
    rest = finish(state)
    assert [r.window_min for r in rest] == [5, 10, 30, 60]
    r5 = rest[0]
    assert r5.exit_price == 104.0 and r5.first_touch is Touch.TARGET and r5.success
    assert all(r.closed_at_session_end and not r.cut_at_close for r in rest)


def test_window_crossing_the_close_is_cut_at_1530() -> None:
    t0 = ms(15, 25)
    te = ms(15, 25, 10)
    ticks = [(te, 100.0), (ms(15, 29, 0), 100.8), (ms(15, 29, 59, 999), 100.6),
             (ms(15, 30, 5), 120.0)]   # post-close tick: closes the cut windows, not on path
    res = run([alert(t0, target=None, stop=None)], ticks, end=False)
    assert set(res) == {("a1", w) for w in (1, 2, 5, 10, 30, 60)}
    for w in (1, 2):
        assert not res[("a1", w)].cut_at_close and res[("a1", w)].end_ms == te + w * 60_000
    for w in (5, 10, 30, 60):
        r = res[("a1", w)]
        assert r.cut_at_close and r.end_ms == CLOSE
        assert r.exit_price == 100.6 and r.return_pct == pytest.approx(0.6)
        assert not r.closed_at_session_end


def test_session_end_closes_cut_windows() -> None:
    t0 = ms(15, 0)
    res = run([alert(t0, target=None, stop=None)], [(ms(15, 0, 1), 100.0), (ms(15, 29), 99.0)])
    assert set(res) == {("a1", w) for w in (1, 2, 5, 10, 30, 60)}
    assert [res[("a1", w)].cut_at_close for w in (1, 2, 5, 10, 30, 60)] == [
        False, False, False, False, True, True]
    assert res[("a1", 30)].closed_at_session_end and res[("a1", 30)].exit_price == 99.0
    assert not res[("a1", 1)].closed_at_session_end   # closed by the 15:29 tick


def test_no_tick_before_the_close_leaves_the_alert_unentered() -> None:
    state = PendingValidations()
    open_validation(state, alert(ms(15, 29, 59, 500)))
    assert update(state, CLOSE, 100.0) == []
    assert state.pending == [] and state.unentered == 1
    open_validation(state, alert(ms(14, 0), alert_id="a2"))
    assert finish(state) == [] and state.unentered == 2


def test_out_of_order_and_bad_ticks_are_ignored() -> None:
    t0 = ms(10, 0)
    res = run([alert(t0, target=None, stop=None)],
              [(t0 + 1_000, 100.0), (t0 + 20_000, 100.2), (t0 + 10_000, 50.0),
               (t0 + 30_000, float("nan")), (t0 + 40_000, 0.0), (t0 + 70_000, 100.0)],
              end=False)
    r = res[("a1", 1)]
    assert r.exit_price == 100.2 and r.mae_pct == 0.0


def test_net_return_after_costs_hand_worked() -> None:
    # Long 100 shares at 100, exit 101 (intraday equity, 2025): charges 10.6685426
    # (test_costs.test_intraday_equity_brokerage_below_cap); gross P&L 100.
    t0 = ms(10, 0)
    r = run([alert(t0, target=None, stop=None, quantity=100)],
            [(t0 + 1, 100.0), (t0 + 60_001, 101.0)], end=False)[("a1", 1)]
    assert r.cost == pytest.approx(10.6685426)
    assert r.net_return_pct == pytest.approx((100 - 10.6685426) / 10_000 * 100)  # 0.8933...
    assert r.return_pct == pytest.approx(1.0)


def test_each_alert_is_independent() -> None:
    t0 = ms(10, 0)
    ticks = [(t0, 100.0), (t0 + 30_000, 101.0), (t0 + 100_000, 102.0), (t0 + 200_000, 103.0)]
    both = run([alert(t0, alert_id="a"), alert(t0 + 30_000, alert_id="b", direction=-1)], ticks)
    alone_a = run([alert(t0, alert_id="a")], ticks)
    alone_b = run([alert(t0 + 30_000, alert_id="b", direction=-1)], ticks)
    assert both == {**alone_a, **alone_b}
    assert both[("b", 1)].entry_price == 102.0


def test_state_survives_a_restart() -> None:
    t0 = ms(14, 58)
    alerts = [alert(t0, alert_id="x", target=100.9, stop=None),
              alert(t0 + 5_000, alert_id="y", direction=-1, target=None, stop=100.7),
              alert(ms(15, 29, 59), alert_id="z", direction=0, quantity=50)]
    ticks = [(t0 + 1_000 * k, 100.0 + (k % 7) * 0.15) for k in range(1, 2000, 37)]
    ticks += [(CLOSE + 1, 99.0)]
    straight = run(alerts, ticks)
    for cut in (0, 3, 17, 40, len(ticks)):
        state = PendingValidations()
        for a in alerts:
            open_validation(state, a)
        got: list[WindowResult] = []
        for t, p in ticks[:cut]:
            got += update(state, t, p)
        blob = dumps(state.encode())
        restored = PendingValidations.decode(json.loads(blob), PendingValidations.VERSION, None)
        assert dumps(restored.encode()) == blob
        for t, p in ticks[cut:]:
            got += update(restored, t, p)
        got += finish(restored)
        assert {(r.alert_id, r.window_min): r for r in got} == straight
    assert PendingValidations.NAME == "validation" and PendingValidations.VERSION == 1


def test_config_and_alert_checks() -> None:
    with pytest.raises(ValueError):
        ValidationConfig(windows_min=(5, 1))
    with pytest.raises(ValueError):
        ValidationConfig(windows_min=())
    with pytest.raises(ValueError):
        alert(ms(10, 0), direction=2)
    with pytest.raises(ValueError):
        alert(ms(10, 0), quantity=0)
    short = ValidationConfig(windows_min=(3,))
    res = run([alert(ms(10, 0))], [(ms(10, 0, 1), 100.0)], config=short)
    assert list(res) == [("a1", 3)]


# --- brute force -------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """What the reference derives for one window, and the tick index that closes it."""

    closed_at: int | None      # index of the closing tick, None: closed by finish
    entry: tuple[int, float]
    end_ms: int
    exit: tuple[int, float]
    high: float
    low: float
    touch: Touch
    touch_ms: int | None
    cut: bool


def reference(a: Alert, ticks: list[tuple[int, float]],
              windows: tuple[int, ...]) -> dict[int, Expected]:
    """Recompute each window of one alert from the whole tick path."""
    valid = [(i, t, p) for i, (t, p) in enumerate(ticks) if 0 < p < math.inf]
    close = CLOSE  # every generated alert is on 2025-01-15, before midnight IST
    first = next((k for k, x in enumerate(valid) if x[1] > a.event_ms), None)
    if first is None or valid[first][1] >= close:
        return {}
    # From the entry on, a tick older than the last one taken is ignored.
    after = []
    for x in valid[first:]:
        if not after or x[1] >= after[-1][1]:
            after.append(x)
    _, te, e = after[0]
    out = {}
    for w in windows:
        end = min(te + w * 60_000, close)
        closing = [i for (i, t, _) in after if t >= end]
        # The path: ticks before the end, and the closing tick if it is exactly at the end.
        path = [(t, p) for (i, t, p) in after
                if t < end or (t == end and closing and i == closing[0])]
        touch, touch_ms = Touch.NEITHER, None
        if a.direction:
            for t, p in path:
                at_stop = a.stop is not None and (p <= a.stop if a.direction > 0
                                                  else p >= a.stop)
                at_target = a.target is not None and (p >= a.target if a.direction > 0
                                                      else p <= a.target)
                if at_stop or at_target:
                    touch, touch_ms = (Touch.STOP if at_stop else Touch.TARGET), t
                    break
        out[w] = Expected(closing[0] if closing else None, (te, e), end, path[-1],
                          max(p for _, p in path), min(p for _, p in path), touch, touch_ms,
                          te + w * 60_000 > close)
    return out


def check(r: WindowResult, a: Alert, x: Expected, closed_at: int | None) -> None:
    assert closed_at == x.closed_at
    assert r.closed_at_session_end == (x.closed_at is None)
    assert (r.entry_ms, r.entry_price) == x.entry
    assert (r.exit_ms, r.exit_price) == x.exit
    assert r.end_ms == x.end_ms and r.cut_at_close == x.cut
    assert (r.first_touch, r.touch_ms) == (x.touch, x.touch_ms)
    e, xp = x.entry[1], x.exit[1]
    side = a.direction if a.direction else 1
    assert r.return_pct == pytest.approx((xp - e) * side / e * 100, rel=1e-12, abs=1e-12)
    fav, adv = (x.high - e, e - x.low) if side > 0 else (e - x.low, x.high - e)
    assert r.mfe_pct == pytest.approx(fav / e * 100, rel=1e-12, abs=1e-12)
    assert r.mae_pct == pytest.approx(adv / e * 100, rel=1e-12, abs=1e-12)
    if a.direction == 0:
        assert r.success is None
    elif x.touch is Touch.NEITHER:
        assert r.success == ((xp - e) * side > 0)
    else:
        assert r.success == (x.touch is Touch.TARGET)
    cost = round_trip_cost(a.instrument_class, e, xp, a.quantity, CostModel(),
                           trade_date=trade_date(a.event_ms), direction=side).total
    assert r.cost == pytest.approx(cost, rel=1e-12)
    gross = (xp - e) * side * a.quantity
    assert r.net_return_pct == pytest.approx((gross - cost) / (e * a.quantity) * 100,
                                             rel=1e-9, abs=1e-12)


STEPS = [0, 1, 499, 20_000, 59_999, 60_000, 60_001, 119_000, 300_000, 900_000, -1, -30_000]
# Dense paths: many ticks inside one window, so whole runs pass without an event.
DENSE_STEPS = [0, 1, 499, 3_000, 7_000, 20_000]
PRICES = [97.0, 98.0, 99.0, 99.5, 100.0, 100.5, 101.0, 102.0, 103.0]
BAD_PRICES = [0.0, -1.0, math.nan, math.inf]
LEVELS = st.one_of(st.none(), st.sampled_from(PRICES))


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[Alert], list[tuple[int, float]]]:
    start = draw(st.sampled_from([ms(9, 20), ms(14, 40), ms(15, 10), ms(15, 29)]))
    n = draw(st.integers(0, 60))
    steps = draw(st.sampled_from([STEPS, DENSE_STEPS]))
    t, ticks = start, []
    for _ in range(n):
        # Mostly forward in time and valid; now and then a late tick or a bad price.
        t += draw(st.sampled_from(steps))
        bad = draw(st.integers(0, 9)) == 0
        ticks.append((t, draw(st.sampled_from(BAD_PRICES if bad else PRICES))))
    alerts = []
    for k in range(draw(st.integers(1, 3))):
        # Alerts at a tick's time (the firing tick), between ticks, or before the first.
        if ticks and draw(st.booleans()):
            at = draw(st.sampled_from(ticks))[0]
        else:
            at = start - 1 + draw(st.integers(0, 3_000_000))
        alerts.append(Alert(f"a{k}", TOKEN, at, draw(st.sampled_from([-1, 0, 1])),
                            draw(LEVELS), draw(LEVELS), draw(st.integers(1, 500)),
                            draw(st.sampled_from(list(InstrumentClass)))))
    return alerts, ticks


@settings(max_examples=400, deadline=None)
@given(scenarios(), st.lists(st.integers(1, 20), max_size=8))
def test_update_matches_brute_force(case: tuple[list[Alert], list[tuple[int, float]]],
                                    runs: list[int]) -> None:
    """Tick by tick (``update``) or in runs of any length (``update_many``): same windows,
    closed by the same tick, in tick order, then alert order, then window length."""
    alerts, ticks = case
    windows = ValidationConfig().windows_min
    state = PendingValidations()
    for a in alerts:
        open_validation(state, a)
    closed: list[tuple[int | None, WindowResult]] = []
    i = 0
    for size in runs:  # the first runs through update_many, the rest tick by tick
        chunk = ticks[i:i + size]
        closed += [(i + j, r) for j, r in update_many(state, [t for t, _ in chunk],
                                                      [p for _, p in chunk])]
        i += len(chunk)
    for k in range(i, len(ticks)):
        closed += [(k, r) for r in update(state, *ticks[k])]
    closed += [(None, r) for r in finish(state)]
    seen = {(r.alert_id, r.window_min): (r, at) for at, r in closed}
    assert len(seen) == len(closed)
    rank = {a.alert_id: n for n, a in enumerate(alerts)}
    order = [(math.inf if at is None else at, rank[r.alert_id], r.window_min)
             for at, r in closed]
    assert order == sorted(order)
    expected_keys = set()
    unentered = 0
    for a in alerts:
        ref = reference(a, ticks, windows)
        unentered += not ref
        for w, x in ref.items():
            expected_keys.add((a.alert_id, w))
            r, closed_at = seen[(a.alert_id, w)]
            check(r, a, x, closed_at)
    assert set(seen) == expected_keys
    assert state.unentered == unentered and state.pending == []
