"""The VIX regime scales every relative-volume threshold (``expected x regime multiplier``).

The regime of a bar's day comes from the previous session's INDIA VIX close
(``tables.vix_prior``); the multipliers are the volume baseline's (LOW 0.8, NORMAL 1.0,
HIGH 1.4, PANIC 1.8). Paths from ``bar_paths``: after ``quiet(30)`` a step ``(ret, rv)``
is a bar moving ``ret`` R on ``rv`` times the expected volume.
"""

from __future__ import annotations

import pytest
from bar_paths import BASELINE, DAY, SUBJECT, only, path, quiet

from aion.tables.bars import Bar
from aion.tables.patterns.alerts import AlertConfig, on_bar
from aion.tables.patterns.state import PatternState
from aion.tables.records.alert import AlertRecord
from aion.tables.vix_prior import REASON_NO_PRIOR_VIX, REASON_NOT_BEFORE_DAY, PriorVix
from aion.tables.volume_baseline import VixParams

VP = VixParams()
PREV = "2025-11-17"
"""The session before the paths' day (``bar_paths.DAY``, 2025-11-18)."""
CLOSES = {"LOW": 11.0, "NORMAL": 15.0, "HIGH": 21.0, "PANIC": 30.0}
"""A previous close in each regime."""


def prior(regime: str | None, as_of: str = PREV) -> PriorVix | None:
    if regime is None:
        return None
    return PriorVix.from_averages({"last_close": CLOSES[regime], "as_of": as_of}, VP)


def alerts(name: str, bars: list[Bar], vix: PriorVix | None) -> list[tuple[int, AlertRecord]]:
    state, config = PatternState(), AlertConfig(patterns=only(name))
    return [(i, a) for i, b in enumerate(bars)
            for a in on_bar(state, SUBJECT, b, dict, None, config, BASELINE, prior_vix=vix)]


def spike(rv: float) -> list[Bar]:
    return path([*quiet(30), (1.0, rv), *quiet(5, -1)])


def test_paths_are_on_the_day_after_the_vix_close() -> None:
    assert DAY == (2025, 11, 18)


@pytest.mark.parametrize(("rv", "fires_in"), [
    # min_ratio 4: thresholds LOW 3.2, NORMAL 4.0, HIGH 5.6, PANIC 7.2.
    (3.5, {"LOW"}),
    (4.5, {"LOW", "NORMAL"}),
    (5.5, {"LOW", "NORMAL"}),
    (5.7, {"LOW", "NORMAL", "HIGH"}),
    (7.1, {"LOW", "NORMAL", "HIGH"}),
    (7.3, {"LOW", "NORMAL", "HIGH", "PANIC"}),
])
def test_volume_spike_threshold_is_min_ratio_times_the_regime_multiplier(
        rv: float, fires_in: set[str]) -> None:
    fired = {r for r in CLOSES if alerts("volume_spike", spike(rv), prior(r))}
    assert fired == fires_in


@pytest.mark.parametrize(("regime", "threshold"), [
    ("LOW", 3.2), ("NORMAL", 4.0), ("HIGH", 5.6), ("PANIC", 7.2)])
def test_volume_spike_confidence_counts_from_the_scaled_threshold(
        regime: str, threshold: float) -> None:
    (i, a), = alerts("volume_spike", spike(8.0), prior(regime))
    assert i == 30
    assert a.confidence == pytest.approx(0.5 + 0.05 * (8.0 - threshold), abs=1e-6)


@pytest.mark.parametrize(("regime", "mult"), [
    ("LOW", 0.8), ("NORMAL", 1.0), ("HIGH", 1.4), ("PANIC", 1.8)])
def test_the_alert_records_the_regime_its_multiplier_and_basis(regime: str,
                                                                mult: float) -> None:
    (_, a), = alerts("volume_spike", spike(8.0), prior(regime))
    assert (a.vix_regime, a.vix_multiplier, a.vix_basis) == (regime, mult, PREV)


def test_no_vix_close_is_neutral_and_the_alert_says_so() -> None:
    (_, a), = alerts("volume_spike", spike(4.5), None)
    assert (a.vix_regime, a.vix_multiplier, a.vix_basis) == (None, 1.0, REASON_NO_PRIOR_VIX)
    assert a.confidence == pytest.approx(0.5 + 0.05 * 0.5, abs=1e-6)


def test_a_close_of_the_same_day_is_not_used() -> None:
    # A PANIC close dated the bars' own day would be look-ahead: neutral, 4.5x fires.
    (_, a), = alerts("volume_spike", spike(4.5), prior("PANIC", as_of="2025-11-18"))
    assert (a.vix_regime, a.vix_multiplier, a.vix_basis) == (None, 1.0, REASON_NOT_BEFORE_DAY)


@pytest.mark.parametrize(("regime", "confidence"), [
    # 2.5 R up = 1.5 sigma past the range on 3x; min_ratio 2: HIGH 2.8, PANIC 3.6.
    ("NORMAL", 0.5 + 0.1 * 0.5 + 0.05 * (3.0 - 2.0)),
    ("HIGH", 0.5 + 0.1 * 0.5 + 0.05 * (3.0 - 2.8)),
    ("PANIC", None),
])
def test_volume_breakout_volume_threshold_scales(regime: str, confidence: float | None
                                                 ) -> None:
    got = alerts("volume_breakout", path([*quiet(30), (2.5, 3.0)]), prior(regime))
    if confidence is None:
        assert got == []
    else:
        (i, a), = got
        assert i == 30 and a.confidence == pytest.approx(confidence, abs=1e-6)


@pytest.mark.parametrize(("name", "sign"), [("upside_momentum", 1.0),
                                            ("downside_momentum", -1.0)])
def test_momentum_volume_condition_scales(name: str, sign: float) -> None:
    # test_core's run: ten 1 R bars its way; the window's mean relative volume (each bar
    # against the expectation before it) is 1.29 at 1.5x and 1.73 at 2.5x. min_ratio 1.1:
    # NORMAL 1.1 and LOW 0.88 pass 1.29, HIGH 1.54 does not; HIGH passes 1.73, PANIC
    # 1.98 does not.
    def run(rv: float) -> list[Bar]:
        return path(quiet(30, int(sign)) + [(sign, rv)] * 10)

    for regime in ("LOW", "NORMAL"):
        assert [i for i, _ in alerts(name, run(1.5), prior(regime))] == [39]
    assert alerts(name, run(1.5), prior("HIGH")) == []
    assert [i for i, _ in alerts(name, run(2.5), prior("HIGH"))] == [39]
    assert alerts(name, run(2.5), prior("PANIC")) == []


def test_hidden_accumulation_mean_volume_threshold_scales() -> None:
    # test_core's scenario fires at bar 46 in NORMAL (window mean 2.05 >= 2); the mean
    # never reaches PANIC's 3.6, and LOW's 1.6 is reached sooner.
    steps = quiet(40) + [(1.0 if i % 2 == 0 else -1.0, 4.0) for i in range(10)]
    bars = path(steps)
    assert [i for i, _ in alerts("hidden_accumulation", bars, prior("NORMAL"))] == [46]
    low = [i for i, _ in alerts("hidden_accumulation", bars, prior("LOW"))]
    assert low and low[0] < 46
    assert alerts("hidden_accumulation", bars, prior("PANIC")) == []
