"""The detectors' VIX regime from the previous session's INDIA VIX close (tables.vix_prior)."""

from __future__ import annotations

import math

import pytest

from aion.tables.timeutil import day_to_iso
from aion.tables.vix_prior import (
    NEUTRAL,
    REASON_NO_PRIOR_VIX,
    REASON_NOT_BEFORE_DAY,
    PriorVix,
    day_regime,
)
from aion.tables.volume_baseline import Regime, VixParams

VP = VixParams()
AS_OF = "2025-11-17"
"""A Monday: the session before the bars' Tuesday."""


def _day(iso: str) -> int:
    return next(d for d in range(20_000, 21_000) if day_to_iso(d) == iso)


@pytest.mark.parametrize(("close", "regime", "mult"), [
    (11.99, Regime.LOW, 0.8), (12.0, Regime.NORMAL, 1.0), (17.99, Regime.NORMAL, 1.0),
    (18.0, Regime.HIGH, 1.4), (24.99, Regime.HIGH, 1.4), (25.0, Regime.PANIC, 1.8)])
def test_the_previous_close_gives_the_next_days_regime_and_multiplier(
        close: float, regime: Regime, mult: float) -> None:
    prior = PriorVix.from_averages({"last_close": close, "as_of": AS_OF}, VP)
    assert prior == PriorVix(close, _day(AS_OF), regime)
    assert day_regime(prior, _day("2025-11-18"), VP) == (regime, mult, AS_OF)


def test_an_older_close_is_used_and_its_date_is_the_basis() -> None:
    prior = PriorVix.from_averages({"last_close": 19.0, "as_of": "2025-11-12"}, VP)
    assert day_regime(prior, _day("2025-11-18"), VP) == (Regime.HIGH, 1.4, "2025-11-12")


@pytest.mark.parametrize("as_of", ["2025-11-18", "2025-11-19"])
def test_a_close_of_the_bars_day_or_later_is_look_ahead_and_gives_no_regime(as_of: str) -> None:
    prior = PriorVix.from_averages({"last_close": 30.0, "as_of": as_of}, VP)
    assert day_regime(prior, _day("2025-11-18"), VP) == (None, 1.0, REASON_NOT_BEFORE_DAY)


def test_no_vix_close_is_neutral_and_says_so() -> None:
    assert day_regime(None, _day("2025-11-18"), VP) == NEUTRAL == (None, 1.0,
                                                                     REASON_NO_PRIOR_VIX)


@pytest.mark.parametrize("entry", [
    None, {}, {"as_of": AS_OF}, {"last_close": 15.0}, {"last_close": None, "as_of": AS_OF},
    {"last_close": "15", "as_of": AS_OF}, {"last_close": True, "as_of": AS_OF},
    {"last_close": math.nan, "as_of": AS_OF}, {"last_close": math.inf, "as_of": AS_OF},
    {"last_close": 0.0, "as_of": AS_OF}, {"last_close": -3.0, "as_of": AS_OF},
    {"last_close": 15.0, "as_of": "yesterday"}, {"last_close": 15.0, "as_of": 20251117}])
def test_an_unusable_entry_gives_no_prior_close(entry: dict | None) -> None:
    assert PriorVix.from_averages(entry, VP) is None


def test_configured_thresholds_and_multipliers_are_used() -> None:
    vp = VixParams.from_mapping({"multipliers": {"high": 1.2}})
    prior = PriorVix.from_averages({"last_close": 20.0, "as_of": AS_OF}, vp)
    assert day_regime(prior, _day("2025-11-18"), vp) == (Regime.HIGH, 1.2, AS_OF)
