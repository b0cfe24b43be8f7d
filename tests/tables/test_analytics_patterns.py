"""Alerts and forward validations through ``analytics.update`` do not depend on bundling.

A synthetic instrument's ticks (a random walk with trending spells, jumps and volume
bursts, so most core detectors fire) go through ``engine.apply_bundle`` (which builds the
bars and calls ``analytics.update`` per bundle) with different bundle cuttings; one run
also serialises the instrument state between bundles, as a worker restart would. The
alert and validation records must be the same.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import numpy as np
import pytest

from aion.config.nse_calendar import NseCalendar
from aion.config.patterns import load_patterns
from aion.streams.batch import ERROR_REASONS, TICK_DTYPE
from aion.tables.analytics import AnalyticsConfig, InstrumentInfo
from aion.tables.engine import END_OF_STREAM_NS, EngineContext, apply_bundle, flush_states
from aion.tables.expiry import TradingCalendar
from aion.tables.instrument_state import InstrumentState
from aion.tables.patterns.alerts import AlertConfig
from aion.tables.patterns.base import BarContext, Detector, Hit, InstrumentKind, Signal
from aion.tables.patterns.registry import PatternSet, PatternSpec
from aion.tables.records import AlertRecord, ValidationRecord
from aion.tables.timeutil import NS_PER_S, ist_wall_ns

TOKEN = 738561
INFO = InstrumentInfo(tick_size=0.05, avg_volume_20d=2_000_000.0, symbol="NSE:TESTCO",
                      tradingsymbol="TESTCO", kind=InstrumentKind.EQUITY, lot_size=1)
CONFIG = AnalyticsConfig(alerts=AlertConfig(
    patterns=PatternSet.from_mapping(load_patterns()),
    calendar=TradingCalendar(NseCalendar.load())))


def context(config: AnalyticsConfig = CONFIG) -> EngineContext:
    return EngineContext(config, {TOKEN: INFO}.get, lambda t: None, {})


def session(seed: int, minutes: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Ticks every 2 s from 09:15:01: a walk with 6-minute trends, jumps and bursts."""
    rng = np.random.default_rng(seed)
    per_min = 30
    n = minutes * per_min
    minute = np.arange(n) // per_min
    drift = np.zeros(minutes)
    burst = np.ones(minutes)
    for m in rng.choice(np.arange(20, minutes - 10), size=minutes // 12, replace=False):
        kind = rng.integers(0, 3)
        if kind == 0:
            drift[m:m + 6] = rng.choice([-1, 1]) * 0.0004   # a trend spell
        elif kind == 1:
            drift[m] = rng.choice([-1, 1]) * 0.004          # a jump
        else:
            burst[m:m + rng.integers(1, 10)] = rng.uniform(3, 8)  # heavy volume
    steps = rng.normal(0, 0.00015, n) + drift[minute] / 3
    price = np.round(2000 * np.exp(np.cumsum(steps)) / 0.05) * 0.05
    inc = (rng.integers(50, 150, n) * burst[minute]).astype(np.int64)
    t0 = ist_wall_ns(2025, 11, 18, 9, 15, 1)
    times = t0 + np.arange(n, dtype=np.int64) * 2 * NS_PER_S
    arr = np.zeros(n, dtype=TICK_DTYPE)
    arr["token"], arr["kind"] = TOKEN, 184
    arr["last_price"] = price
    arr["volume"] = np.cumsum(inc)
    arr["exchange_ts"] = times // NS_PER_S
    return arr, times + 1_000_000


def run(arr: np.ndarray, recv: np.ndarray, cuts: list[int], restart: bool = False,
        config: AnalyticsConfig = CONFIG) -> tuple[list[AlertRecord], list[ValidationRecord]]:
    """Apply the ticks in bundles ending at ``cuts``, then flush; alerts and validations."""
    states: dict[int, InstrumentState] = {}
    records = []
    bounds = [0, *cuts, len(arr)]
    for off, (lo, hi) in enumerate(itertools.pairwise(bounds)):
        if lo == hi:
            continue
        out = apply_bundle(states.get, arr[lo:hi], recv[lo:hi], 0, off,
                           known=lambda t: True, error_reasons=ERROR_REASONS,
                           context=context(config))
        states.update(out.touched)
        records.extend(out.records)
        if restart:  # every bundle as if the worker had restarted from the changelog
            states = {t: InstrumentState.from_bytes(s.to_bytes(), config)
                      for t, s in states.items()}
    out = flush_states(states, END_OF_STREAM_NS, context(config), 0, 10**6)
    records.extend(out.records)
    return ([r for r in records if isinstance(r, AlertRecord)],
            [r for r in records if isinstance(r, ValidationRecord)])


@pytest.mark.parametrize("seed", [1, 2])
def test_alerts_and_validations_do_not_depend_on_bundle_cuts(seed: int) -> None:
    arr, recv = session(seed)
    n = len(arr)
    rng = np.random.default_rng(100 + seed)
    every_7 = list(range(7, n, 7))
    random_cuts = sorted({int(c) for c in rng.integers(1, n, size=40)})
    a1, v1 = run(arr, recv, every_7)
    a2, v2 = run(arr, recv, random_cuts, restart=True)
    a3, v3 = run(arr, recv, [])  # one bundle
    # Not vacuous: several patterns alert and every alert's windows are validated.
    assert len({a.pattern for a in a1}) >= 3, [a.pattern for a in a1]
    assert len(v1) >= len(a1) and len(a1) >= 5
    assert a1 == a2 == a3
    # The same windows in the same order: the order of the ticks that closed them.
    assert v1 == v2 == v3
    assert len({(r.alert_id, r.window_min) for r in v1}) == len(v1)
    assert [r.ts_ns for r in v1] == sorted(r.ts_ns for r in v1)


class VwapProbe(Detector):
    """A test detector: a NEUTRAL hit on every bar carrying the context's session VWAP."""

    NAME = "vwap_probe"
    CATEGORY = "test"

    def on_bar(self, state: dict[str, Any], ctx: BarContext) -> Hit | None:
        return Hit(Signal.NEUTRAL, 0.5, details={"vwap": ctx.vwap})


PROBE_CONFIG = dataclasses.replace(CONFIG, alerts=AlertConfig(patterns=PatternSet((
    PatternSpec(VwapProbe(), True, 0, frozenset({InstrumentKind.EQUITY}), "probe"),))))


def test_detectors_see_the_session_vwap_at_the_bars_close() -> None:
    """``BarContext.vwap`` is the VWAP of the ticks that arrived before the bar closed
    (before the first tick at or after its end), whatever the bundle holds after them."""
    arr, recv = session(3, minutes=60)
    n = len(arr)
    inc = np.diff(arr["volume"].astype(np.int64), prepend=0).astype(np.float64)
    times = arr["exchange_ts"].astype(np.int64) * NS_PER_S
    cuttings = [list(range(5, n, 5)), list(range(400, n, 400)), []]
    results = []
    for cuts in cuttings:
        alerts, _ = run(arr, recv, cuts, config=PROBE_CONFIG)
        assert len(alerts) >= 55
        got = {}
        for a in alerts:
            end_ns = a.bar_start_ns + 60 * NS_PER_S
            known = times < end_ns  # ticks arrive in event-time order here
            want = float(np.dot(arr["last_price"][known], inc[known]) / inc[known].sum())
            # details are rounded to 6 decimals in the alert
            assert a.details["vwap"] == pytest.approx(want, abs=1e-6), a.alert_id
            got[a.alert_id] = a.details["vwap"]
        results.append(got)
    assert results[0].keys() == results[1].keys() == results[2].keys()


class FlatProbe(Detector):
    """A test detector: a BULLISH hit without an expected move (its target is the entry)."""

    NAME = "flat_probe"
    CATEGORY = "test"

    def new_state(self) -> dict[str, Any]:
        return {"n": 0}

    def on_bar(self, state: dict[str, Any], ctx: BarContext) -> Hit | None:
        state["n"] += 1
        return Hit(Signal.BULLISH, 0.5) if state["n"] % 15 == 0 else None


FLAT_CONFIG = dataclasses.replace(CONFIG, alerts=AlertConfig(patterns=PatternSet((
    PatternSpec(FlatProbe(), True, 0, frozenset({InstrumentKind.EQUITY}), "probe"),))))


def test_a_target_at_the_entry_is_no_target() -> None:
    # Touched by the first tick, such a target would score every alert a success; the
    # windows are judged by the stop and the return instead.
    arr, recv = session(4, minutes=120)
    alerts, windows = run(arr, recv, list(range(50, len(arr), 50)), config=FLAT_CONFIG)
    assert len(alerts) >= 5
    assert all(a.target_price == a.entry_price for a in alerts)
    assert windows and all(w.first_touch != "target" for w in windows)
    by_id = {a.alert_id: a for a in alerts}
    for w in windows:
        if w.first_touch == "neither":
            assert w.success == (w.return_pct > 0), w
        assert by_id[w.alert_id].signal == "BULLISH"
