"""A simulated whole day must stay inside the calibration bands of issue 12.

One full session (2022-11-18, seed 5, the bench's first seed) is generated and scored
with :func:`calibration_report`; every banded statistic of
:mod:`aion.streams.simulator.calibration_targets` is checked against its band, so the
simulator cannot drift back to an easy world. The whole day is needed: volume shares,
swings and the strike that follows the market are whole-session statistics. Cost: one
generation (~10-15 s) and one report (~7 s).

Statistics this seed still misses are marked ``xfail(strict=True)`` with the measured
value: the test fails as soon as one of them comes into its band (then drop the mark)
and keeps failing on any other statistic that leaves its band.
"""

from __future__ import annotations

from datetime import date

import pytest

from aion.streams.simulator import simulate
from aion.streams.simulator.calibration import Stat, calibration_report, load_session
from aion.streams.simulator.calibration_targets import TARGETS, Target

DAY = date(2022, 11, 18)
SEED = 5

# Out of band for seed 5 with generator v2 (bench/bench_calibration.py), still to calibrate.
KNOWN_OUT: dict[str, str] = {
    # One future's labelled trends (a momentum and a failed breakout) outweigh the
    # transient's mean reversion.
    "acf1_futures": "+0.04 on one future (band -0.2..-0.03, real -0.10)",
}

BANDED = [t for t in TARGETS if t.low is not None or t.high is not None]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Stat]:
    path = tmp_path_factory.mktemp("bands") / "day.parquet"
    simulate(DAY, SEED, path)
    return calibration_report(load_session(path))


@pytest.mark.parametrize("tg", BANDED, ids=[t.key for t in BANDED])
def test_statistic_within_its_band(
    report: dict[str, Stat], tg: Target, request: pytest.FixtureRequest
) -> None:
    if tg.key in KNOWN_OUT:
        request.applymarker(pytest.mark.xfail(strict=True, reason=KNOWN_OUT[tg.key]))
    values = report[tg.key].values
    assert values, tg.key
    assert all(tg.contains(v) for v in values), (tg.key, values, tg.band)


def test_events_are_labelled_with_sizes(report: dict[str, Stat]) -> None:
    # Price events on the futures too, and near-misses and failed breakouts exist.
    for kind in ("near_miss", "failed_breakout", "iv_crush", "range_bound", "gap"):
        assert report[f"event:{kind}:count"].values[0] >= 1, kind
