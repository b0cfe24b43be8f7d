"""Simulated whole days must stay inside the calibration bands of issue 12.

Full sessions of 2022-11-18 (a few seeds, so one lucky day cannot hide a drift) are
generated and scored with :func:`calibration_report`; every banded statistic of
:mod:`aion.streams.simulator.calibration_targets` is checked against its band on every
seed, so the simulator cannot drift back to an easy world. The whole day is needed:
volume shares, swings and the strike that follows the market are whole-session
statistics. Cost: per seed one generation (~8-15 s) and one report (~6 s).

The seeds are the issue's (5, 6, 7), fixed in advance rather than picked because they
pass: when one fell out of a band (seed 7 opened with 11.5 % of the NIFTY future's
volume), the model was changed (streams/simulator/volume_level.py, block trades in
trade_sizes.py), not the seed list.
Seeds 31-36 were then run once as a fresh held-out set (README's calibration section).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date

import pytest

from aion.streams.simulator import simulate
from aion.streams.simulator.calibration import Stat, calibration_report, load_session
from aion.streams.simulator.calibration_targets import TARGETS, Target

DAY = date(2022, 11, 18)
SEEDS = (5, 6, 7)

BANDED = [t for t in TARGETS if t.low is not None or t.high is not None]
# Kurtoses need MIN_KURTOSIS_RETURNS background minutes: the chain carrying a long
# range-bound label reports n/a (NaN), the other chain must still be measured.
NEEDS_BACKGROUND = {"kurtosis_futures", "kurtosis_options"}
# Known misses, kept visible rather than dropped: strict, so a fix shows up as XPASS
# (a failure) and its entry must then go. Empty now: seed 7's opening share (12.9 %,
# band 5-10) went back in band with the nervous minutes (streams/simulator/
# minute_tails.py), which redraw the day; see the README's calibration section.
KNOWN_MISSES: set[tuple[int, str]] = set()


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], dict[str, Stat]]:
    """Each seed's report, simulated once per module on first use."""
    cache: dict[int, dict[str, Stat]] = {}

    def get(seed: int) -> dict[str, Stat]:
        if seed not in cache:
            path = tmp_path_factory.mktemp(f"bands{seed}") / "day.parquet"
            simulate(DAY, seed, path)
            cache[seed] = calibration_report(load_session(path))
        return cache[seed]

    return get


@pytest.fixture(scope="module", params=SEEDS, ids=[f"seed{s}" for s in SEEDS])
def report(request: pytest.FixtureRequest,
           reports: Callable[[int], dict[str, Stat]]) -> dict[str, Stat]:
    return reports(request.param)


@pytest.mark.parametrize("tg", BANDED, ids=[t.key for t in BANDED])
def test_statistic_within_its_band(report: dict[str, Stat], tg: Target,
                                   request: pytest.FixtureRequest) -> None:
    if (request.node.callspec.params["report"], tg.key) in KNOWN_MISSES:
        request.applymarker(pytest.mark.xfail(strict=True, reason="known miss, see above"))
    values = report[tg.key].values
    if tg.key in NEEDS_BACKGROUND:
        values = tuple(v for v in values if not math.isnan(v))
    assert values, tg.key
    assert all(tg.contains(v) for v in values), (tg.key, values, tg.band)


def test_events_are_labelled_with_sizes(report: dict[str, Stat]) -> None:
    # Price events on the futures too, and near-misses and failed breakouts exist.
    for kind in ("near_miss", "failed_breakout", "iv_crush", "range_bound", "gap"):
        assert report[f"event:{kind}:count"].values[0] >= 1, kind


POOLED = [t for t in TARGETS if t.pooled_low is not None or t.pooled_high is not None]


@pytest.mark.parametrize("tg", POOLED, ids=[t.key for t in POOLED])
def test_mean_over_the_seeds_within_its_pooled_band(
        reports: Callable[[int], dict[str, Stat]], tg: Target) -> None:
    # One day's figure spreads too wide to tell the real world from the easy one; the
    # mean over every seed's instruments cannot hide a drift.
    values = tuple(v for seed in SEEDS for v in reports(seed)[tg.key].values)
    assert tg.pooled_contains(values), (tg.key, values, tg.band)


def test_pooled_band_rejects_the_easy_world() -> None:
    # v1's futures autocorrelation (about +0.02) passes the per-day band but not the mean.
    tg = next(t for t in TARGETS if t.key == "acf1_futures")
    assert tg.contains(0.02)
    assert not tg.pooled_contains((0.02,) * 6)
    assert not tg.pooled_contains((-0.1, math.nan))
