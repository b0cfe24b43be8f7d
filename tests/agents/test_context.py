"""The engine context's VIX regime: the INDIA VIX close of the averages, for every instrument."""

from __future__ import annotations

import logging
from datetime import date, time
from pathlib import Path

import pytest

from aion.agents.context import VIX_SYMBOL, build_context
from aion.streams.instruments import InstrumentMaster
from aion.streams.simulator import simulate
from aion.tables.analytics import AnalyticsConfig
from aion.tables.vix_prior import PriorVix
from aion.tables.volume_baseline import Regime


@pytest.fixture(scope="module")
def master(tmp_path_factory: pytest.TempPathFactory) -> InstrumentMaster:
    path = tmp_path_factory.mktemp("s") / "s.parquet"
    simulate(date(2025, 11, 18), 11, path, start=time(9, 15), end=time(9, 16))
    return InstrumentMaster.from_csv(Path(path).with_suffix(".instruments.csv"))


def test_every_instrument_gets_the_same_previous_vix_close(master: InstrumentMaster) -> None:
    averages = {VIX_SYMBOL: {"last_close": 26.5, "as_of": "2025-11-17"}}
    ctx = build_context(master, averages, 2, AnalyticsConfig())
    priors = {ctx.info(i.instrument_token).prior_vix for i in master}
    assert priors == {PriorVix(26.5, 20409, Regime.PANIC)}
    assert len(master) > 10


def test_no_or_a_bad_vix_entry_gives_none_and_a_bad_one_is_logged(
        master: InstrumentMaster, caplog: pytest.LogCaptureFixture) -> None:
    ctx = build_context(master, {}, 2, AnalyticsConfig())
    assert {ctx.info(i.instrument_token).prior_vix for i in master} == {None}
    assert not caplog.records
    with caplog.at_level(logging.WARNING):
        ctx = build_context(master, {VIX_SYMBOL: {"last_close": "n/a"}}, 2, AnalyticsConfig())
    assert {ctx.info(i.instrument_token).prior_vix for i in master} == {None}
    assert "no VIX regime" in caplog.text
