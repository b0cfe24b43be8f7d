"""The volume profile the detectors see through ``analytics.update``, and bundle cuts.

A detector that reads ``BarContext.profile`` must see the levels of exactly the ticks
that arrived before the tick closing its bar, whatever the bundle holds after them, and
the volume-profile alerts must not depend on where bundles are cut or on a restart
between bundles (the synthetic session and runner of ``test_analytics_patterns``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from test_analytics_patterns import CONFIG, INFO, run, session

from aion.config.patterns import load_patterns
from aion.tables.patterns.alerts import AlertConfig
from aion.tables.patterns.base import BarContext, Detector, Hit, InstrumentKind, Signal
from aion.tables.patterns.registry import PatternSet, PatternSpec
from aion.tables.profile import VolumeProfile
from aion.tables.timeutil import NS_PER_S, ist_day

VP = ("vp_breakout", "vp_poc_rejection", "vp_node_test")


class ProfileProbe(Detector):
    """A test detector: a NEUTRAL hit on every bar carrying the context's profile levels."""

    NAME = "profile_probe"
    CATEGORY = "test"
    NEEDS_PROFILE = True

    def on_bar(self, state: dict[str, Any], ctx: BarContext) -> Hit | None:
        lv = ctx.profile
        if lv is None:
            return Hit(Signal.NEUTRAL, 0.5, details={"none": True})
        return Hit(Signal.NEUTRAL, 0.5, details={
            "poc": lv.poc, "vah": lv.vah, "val": lv.val, "hvn": list(lv.hvn),
            "lvn": list(lv.lvn), "total": lv.total_volume})


def probe_config(kinds: frozenset[InstrumentKind]) -> Any:
    return dataclasses.replace(CONFIG, alerts=AlertConfig(patterns=PatternSet((
        PatternSpec(ProfileProbe(), True, 0, kinds, "probe"),))))


def vp_only(**params: Any) -> Any:
    """The configured patterns with only the volume-profile ones enabled (cooldown 0)."""
    blocks = {k: dict(v) for k, v in load_patterns().items()}
    for k, block in blocks.items():
        block["enabled"] = k in VP
        if k in VP:
            block["cooldown_s"] = 0
            block["params"] = {**block.get("params", {}), **params.get(k, {})}
    return dataclasses.replace(CONFIG, alerts=AlertConfig(
        patterns=PatternSet.from_mapping(blocks), calendar=CONFIG.alerts.calendar))


def test_detectors_see_the_profile_of_the_ticks_before_the_close() -> None:
    arr, recv = session(5, minutes=60)
    n = len(arr)
    prices = arr["last_price"].astype(np.float64)
    inc = np.diff(arr["volume"].astype(np.int64), prepend=0)
    times = arr["exchange_ts"].astype(np.int64) * NS_PER_S
    config = probe_config(frozenset({InstrumentKind.EQUITY}))
    results = []
    for cuts in (list(range(5, n, 5)), list(range(400, n, 400)), []):
        alerts, _ = run(arr, recv, cuts, config=config)
        assert len(alerts) >= 55
        got = {}
        for a in alerts:
            end_ns = a.bar_start_ns + 60 * NS_PER_S
            known = times < end_ns  # ticks arrive in event-time order here
            ref = VolumeProfile(INFO.tick_size, CONFIG.profile)
            ref.update_many(prices[known], inc[known], times[known], ist_day(times[known]))
            lv = ref.levels()
            assert lv is not None
            want = {"poc": lv.poc, "vah": lv.vah, "val": lv.val, "hvn": list(lv.hvn),
                    "lvn": list(lv.lvn), "total": lv.total_volume}
            assert a.details == want, a.alert_id
            got[a.alert_id] = a.details
        results.append(got)
    assert results[0] == results[1] == results[2]
    # Not a constant: the profile grows and its levels move over the hour.
    assert len({d["total"] for d in results[0].values()}) == len(results[0])
    assert len({(d["poc"], d["vah"], d["val"]) for d in results[0].values()}) > 5


class BlindProbe(ProfileProbe):
    """The probe without ``NEEDS_PROFILE``: no detector asks, so no levels are computed."""

    NAME = "blind_probe"
    NEEDS_PROFILE = False


def test_no_levels_unless_an_enabled_detector_needs_them() -> None:
    arr, recv = session(6, minutes=40)
    config = dataclasses.replace(CONFIG, alerts=AlertConfig(patterns=PatternSet((
        PatternSpec(BlindProbe(), True, 0, frozenset({InstrumentKind.EQUITY}), "probe"),))))
    alerts, _ = run(arr, recv, [], config=config)
    assert len(alerts) >= 35 and all(a.details == {"none": True} for a in alerts)


@pytest.mark.parametrize("seed", [1, 2])
def test_volume_profile_alerts_do_not_depend_on_bundle_cuts(seed: int) -> None:
    arr, recv = session(seed, minutes=300)
    n = len(arr)
    rng = np.random.default_rng(200 + seed)
    config = vp_only(vp_breakout={"min_ratio": 1.2, "min_sigma": 0.3},
                     vp_poc_rejection={"min_sigma": 0.2, "min_ratio": 0.5},
                     vp_node_test={"min_sigma": 0.2, "min_ratio": 0.5, "lvn_sigma": 1.5,
                                   "lvn_ratio": 1.0})
    a1, v1 = run(arr, recv, list(range(7, n, 7)), config=config)
    a2, v2 = run(arr, recv, sorted({int(c) for c in rng.integers(1, n, size=40)}),
                 restart=True, config=config)
    a3, v3 = run(arr, recv, [], config=config)
    # Not vacuous: every volume-profile pattern alerts on these sessions.
    assert {a.pattern for a in a1} == set(VP), [a.pattern for a in a1]
    assert a1 == a2 == a3
    assert v1 == v2 == v3 and len(v1) >= len(a1)
