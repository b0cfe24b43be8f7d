"""The random-entry baseline: reproducible, the alerts' mix, the forward machinery's figures."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from aion.tables.evaluation.baseline import (
    BaselineConfig,
    Draw,
    Template,
    TickSeries,
    draw_entries,
    run_baseline,
    window_outcomes,
)
from aion.tables.validation import forward

MIN = 60_000
T0 = 1_668_743_100_000  # 2022-11-18 09:15 IST


def templates() -> list[Template]:
    # Times: 09:20 x3, 11:00 x1; directions: 3 long, 1 short; instruments 1, 1, 2, 3.
    return [Template(1, T0 + 5 * MIN, +1, 100.0, 102.0, 99.0),
            Template(1, T0 + 5 * MIN, +1, 100.0, 101.0, 98.0),
            Template(2, T0 + 5 * MIN, -1, 50.0, 49.0, 51.0),
            Template(3, T0 + 105 * MIN, +1, 10.0, 10.5, 9.8)]


def test_reproducible_with_seed() -> None:
    a = draw_entries(templates(), BaselineConfig(per_alert=5, seed=1))
    b = draw_entries(templates(), BaselineConfig(per_alert=5, seed=1))
    c = draw_entries(templates(), BaselineConfig(per_alert=5, seed=2))
    assert a == b and a != c
    assert len(a) == 20
    assert draw_entries([], BaselineConfig()) == []


def test_mix_matches_the_alerts() -> None:
    draws = draw_entries(templates(), BaselineConfig(per_alert=4000, seed=7))
    n = len(draws)
    times = Counter(d.event_ms for d in draws)
    dirs = Counter(d.direction for d in draws)
    tokens = Counter(d.instrument.token for d in draws)
    assert set(times) == {T0 + 5 * MIN, T0 + 105 * MIN}
    # Expected shares from the templates: time 3/4 vs 1/4, direction 3/4 long,
    # instrument 1: 2/4, 2: 1/4, 3: 1/4. Binomial sd at n = 16000 is <= 0.004.
    assert abs(times[T0 + 5 * MIN] / n - 0.75) < 0.02
    assert abs(dirs[1] / n - 0.75) < 0.02
    assert abs(tokens[1] / n - 0.5) < 0.02 and abs(tokens[3] / n - 0.25) < 0.02
    # Independence: instrument 3 (alerted only at 11:00) is drawn at 09:20 too.
    assert any(d.instrument.token == 3 and d.event_ms == T0 + 5 * MIN for d in draws)


def test_fractions() -> None:
    t = Template(1, T0, +1, 200.0, 210.0, 190.0)
    assert t.target_frac == pytest.approx(0.05) and t.stop_frac == pytest.approx(0.05)
    assert Template(1, T0, 0, 200.0).target_frac is None


def ticks_path() -> TickSeries:
    # A tick every 10 s from 09:15 to 11:00, price a random walk; one tick out of order.
    rng = np.random.default_rng(5)
    t = T0 + np.arange(0, 105 * 60, 10, dtype=np.int64) * 1000
    p = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.001, len(t))))
    t[50], t[51] = t[51], t[50]
    return TickSeries(t, p)


def test_same_figures_as_feeding_every_tick() -> None:
    """Oracle: one alert fed the whole tick stream from the start through forward."""
    series = ticks_path()
    at = T0 + 7 * MIN + 5_000  # between ticks
    inst = Template(1, T0, +1, 100.0, 101.0, 99.5)
    run = run_baseline([Draw(inst, at, -1)], {1: series})
    assert run.entries == 1 and run.dropped == 0
    # Reference price: last tick at or before `at` (07:00 + 5 s -> the tick at 7:00).
    ref = float(series.price[np.flatnonzero(series.event_ms <= at)[-1]])
    alert = forward.Alert("baseline:0", 1, at, -1, ref * (1 - 0.01), ref * (1 + 0.005))
    state = forward.PendingValidations()
    forward.open_validation(state, alert)
    want: list[forward.WindowResult] = []
    for t, p in zip(series.event_ms.tolist(), series.price.tolist(), strict=True):
        want.extend(forward.update(state, t, p))
    want.extend(forward.finish(state))
    got = run.results
    assert [r.window_min for r in got] == [1, 2, 5, 10, 30, 60]
    assert [(r.entry_ms, r.exit_ms, r.return_pct, r.success) for r in got] == [
        (r.entry_ms, r.exit_ms, r.return_pct, r.success) for r in want]
    # Entry: the first tick strictly after `at` (07:10).
    assert got[0].entry_ms == T0 + 7 * MIN + 10_000


def test_no_tick_before_is_dropped() -> None:
    series = ticks_path()
    run = run_baseline([Draw(Template(1, T0, 1, 100.0), T0 - MIN, 1),
                        Draw(Template(9, T0, 1, 100.0), T0 + MIN, 1)], {1: series})
    assert (run.entries, run.dropped, run.results) == (0, 2, [])


def test_window_outcomes_skip_neutral() -> None:
    series = ticks_path()
    inst = Template(1, T0, +1, 100.0, 101.0, 99.5)
    run = run_baseline([Draw(inst, T0 + 10 * MIN, 0), Draw(inst, T0 + 10 * MIN, 1)],
                       {1: series})
    out = window_outcomes(run.results)
    assert sorted(out) == [1, 2, 5, 10, 30, 60]
    assert all(len(v) == 1 for v in out.values())  # the neutral entry has no success
