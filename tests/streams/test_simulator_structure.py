"""The market-structure events' mechanisms are in the generated ticks (issue 13).

One whole day (2022-11-18, seed 5) is simulated; every labelled ``liquidity_sweep``,
``fair_value_gap``, ``impulse_retrace`` and ``value_area_break`` is checked on 1-minute
bars built from the session's own packets (last traded prices and volume deltas), not
on the simulator's latent path: what a detector will see. The oracles are the mechanisms'
definitions (``streams/simulator/structure.py``), written out here independently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from aion.streams.simulator import simulate
from aion.streams.simulator.calibration import CalibrationInput, load_session
from aion.streams.simulator.events import EventType, InjectedEvent
from aion.streams.simulator.structure import (
    GAP_S,
    STRUCTURE_KINDS,
    plan_structure,
    value_area,
)
from aion.streams.simulator.universe import build_universe

DAY = date(2022, 11, 18)
SEED = 5


@dataclass(frozen=True, slots=True)
class Bars:
    """One instrument's 1-minute bars, indexed by minute after 09:15 (NaN: no trade)."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> tuple[CalibrationInput, list]:
    path: Path = tmp_path_factory.mktemp("structure") / "day.parquet"
    result = simulate(DAY, SEED, path)
    return load_session(path), list(result.events)


def bars_of(session: CalibrationInput, token: int) -> Bars:
    """Minute OHLC of last traded prices and the volume traded in each minute."""
    t = session.ticks[session.ticks["token"] == token]
    dv = np.diff(t["volume"], prepend=t["volume"][:1]).clip(min=0)
    frame = pd.DataFrame({"m": t["sec"] // 60, "px": t["last_price"], "dv": dv})
    frame = frame[(frame.px > 0) & (frame.m >= 0) & (frame.m < 375)]
    g = frame.groupby("m")
    idx = np.arange(375)
    ohlc = [g.px.first(), g.px.max(), g.px.min(), g.px.last(), g.dv.sum()]
    return Bars(*(s.reindex(idx).to_numpy(dtype=float) for s in ohlc))


def of_kind(events: list[InjectedEvent], kind: EventType) -> list[InjectedEvent]:
    found = [e for e in events if e.event_type is kind]
    assert found, f"no {kind} on this day"
    return found


def oriented(bars: Bars, up: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(high, low, close) along the direction: mirrored for "down" so "up" logic holds."""
    if up:
        return bars.high, bars.low, bars.close
    return -bars.low, -bars.high, -bars.close


def test_four_of_each_kind_on_a_whole_day_apart_from_other_events(day: tuple) -> None:
    _, events = day
    for kind in STRUCTURE_KINDS:
        assert len(of_kind(events, kind)) == 4, kind
    by_token: dict[int, list[InjectedEvent]] = {}
    for e in events:
        by_token.setdefault(e.token, []).append(e)
    for e in events:
        if e.event_type not in STRUCTURE_KINDS:
            continue
        for other in by_token[e.token]:
            if other is not e:  # GAP_S apart from anything else on the stock
                assert (e.end_s + GAP_S <= other.start_s - other.setup_s
                        or other.end_s + GAP_S <= e.start_s), (e, other)


def test_liquidity_sweep_takes_the_pool_and_closes_back_inside(day: tuple) -> None:
    session, events = day
    for e in of_kind(events, EventType.LIQUIDITY_SWEEP):
        # The pool is on the side opposite to the label's direction: a sweep of highs is
        # "down". Orient so the pool is above.
        high, _low, close = oriented(bars_of(session, e.token), e.direction == "down")
        a, b = e.start_s // 60, e.end_s // 60
        vol = bars_of(session, e.token).volume
        sweep = a + int(np.nanargmax(high[a:b]))  # the bar that reaches furthest
        pool = float(np.nanmax(high[a:sweep - 1]))  # the highs before the push
        assert high[sweep] > pool, (e, high[sweep], pool)
        # Back inside the pool within two bars of the sweep, and below it at the end.
        assert min(close[sweep], close[sweep + 1]) < pool, e
        assert close[b - 1] < pool, e
        # A volume burst at the sweep against the pool's bars.
        assert vol[sweep] > 1.5 * float(np.nanmedian(vol[a:sweep - 1])), e


def test_fair_value_gap_leaves_a_three_bar_gap_then_is_retested(day: tuple) -> None:
    session, events = day
    for e in of_kind(events, EventType.FAIR_VALUE_GAP):
        bars = bars_of(session, e.token)
        high, low, _close = oriented(bars, e.direction == "up")
        a, b = e.start_s // 60, e.end_s // 60
        # The displacement's gap: the first one at least a typical bar's range of the
        # stock's day wide (not a tick's; a fast continuation may leave later ones).
        typical = float(np.nanmedian(high - low))
        gaps = [i for i in range(a, b - 2) if low[i + 2] - high[i] >= typical]
        assert gaps, e
        i = gaps[0]
        bottom, top = high[i], low[i + 2]
        later = range(i + 3, b)
        # Retest: a later bar trades down into the gap ...
        retest = [j for j in later if low[j] <= top]
        assert retest, (e, bottom, top)
        # ... and price then continues past the displacement's extreme.
        assert np.nanmax(high[retest[0]:b]) > np.nanmax(high[i:retest[0]]), e


def test_impulse_retrace_depth_is_within_the_ote_band(day: tuple) -> None:
    session, events = day
    for e in of_kind(events, EventType.IMPULSE_RETRACE):
        high, low, _close = oriented(bars_of(session, e.token), e.direction == "up")
        a, b = e.start_s // 60, e.end_s // 60
        origin = float(np.nanmin(low[a:a + 3]))
        top_i = a + int(np.nanargmax(high[a:(a + b) // 2 + 3]))
        # The retracement's low: before price leaves again past the impulse's top.
        past = [j for j in range(top_i + 1, b) if high[j] > high[top_i]]
        end = past[0] if past else b
        trough = float(np.nanmin(low[top_i + 1:end]))
        depth = (high[top_i] - trough) / (high[top_i] - origin)
        assert 0.62 <= depth <= 0.79, (e, depth)
        assert past, e  # and it continues


def day_value_area(bars: Bars, upto: int) -> tuple[float, float]:
    """VAL, VAH (70 %) of the day's minute volume at the minute's close, up to ``upto``."""
    ok = np.isfinite(bars.close[:upto])
    px, vol = bars.close[:upto][ok], bars.volume[:upto][ok]
    step = float(np.nanmedian(np.abs(np.diff(px)))) or 0.05
    _, val, vah = value_area(px, vol, step)
    return val, vah


def test_value_area_break_leaves_a_balance_inside_the_value_area_and_holds(
        day: tuple) -> None:
    session, events = day
    for e in of_kind(events, EventType.VALUE_AREA_BREAK):
        bars = bars_of(session, e.token)
        b = e.end_s // 60
        # The break is the last 13-27 minutes (break + hold); the balance ends before.
        closes, vol = bars.close, bars.volume
        up = e.direction == "up"
        a = e.start_s // 60
        # The break: the first bar (after 20 minutes of balance) that closes beyond the
        # value area of the day up to five minutes before it (so the break's own heavy
        # volume does not drag the area along with it).
        for m in range(a + 20, b):
            val, vah = day_value_area(bars, m - 5)
            if (closes[m] > vah) if up else (closes[m] < val):
                break
        else:
            pytest.fail(f"{e}: no break")
        # Before the break, the last 15 minutes stayed inside that value area.
        assert np.all((closes[m - 15:m] >= val) & (closes[m - 15:m] <= vah)), (e, m, val, vah)
        # It holds: the label's last close is beyond the edge.
        assert (closes[b - 1] > vah) if up else (closes[b - 1] < val), (e, m, val, vah)
        # On volume: the break's bars trade more than the balance's.
        assert vol[m:m + 4].mean() > vol[m - 15:m].mean(), e


def test_structure_plans_keep_the_other_events_and_fit_short_windows() -> None:
    universe = build_universe(DAY)
    rng = np.random.default_rng(1)
    # A one-hour window from 11:15: too short for a value-area break, the rest fit.
    plans = plan_structure(universe, rng, 7200, 10800, [])
    kinds = {p.kind for p in plans}
    assert EventType.VALUE_AREA_BREAK not in kinds
    assert kinds == set(STRUCTURE_KINDS) - {EventType.VALUE_AREA_BREAK}
    assert all(p.start_s >= 7200 and p.start_s + p.duration_s <= 10800 for p in plans)
