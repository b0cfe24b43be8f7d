"""Hypothesis strategies for every state component and whole instrument states (a helper).

Values are drawn wide (any finite float, 62-bit integers, every optional part present or
not), but only states the engine can reach: e.g. a VIX regime with no accepted tick keeps
its NaN default, and an ``Analytics`` holds each component at most once.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from hypothesis import strategies as st

from aion.tables.analytics import Analytics, default_config
from aion.tables.bars import BarState, OpenBar
from aion.tables.indicators import IndicatorSet
from aion.tables.instrument_state import InstrumentState
from aion.tables.profile import VolumeProfile
from aion.tables.profile_state import ProfileState
from aion.tables.session_vwap import SessionVwap
from aion.tables.state_codec import dumps
from aion.tables.volume import COARSE_RESOLUTIONS, BucketAcc, BucketState, VolumeState
from aion.tables.volume_baseline import Regime, VixRegime

CONFIG = default_config()

ints = st.integers(-(2**62), 2**62)
counts = st.integers(0, 2**62)
# Every finite float: subnormals, -0.0, the largest; JSON must restore each bit for bit.
floats = st.floats(allow_nan=False, allow_infinity=False)
ns = st.integers(0, 2**62)


def volume_states() -> st.SearchStrategy[VolumeState]:
    """Any ``VolumeState``."""
    return st.builds(VolumeState, ints, st.booleans(), counts, counts, counts, counts, floats,
                     floats, floats, counts, counts, counts, floats, counts, counts)


def open_bars() -> st.SearchStrategy[OpenBar]:
    """Any ``OpenBar``."""
    return st.builds(OpenBar, ns, floats, floats, floats, floats, counts, counts, counts, floats,
                     counts, ns, ns)


def bar_states() -> st.SearchStrategy[BarState]:
    """Any ``BarState``, with or without an open bar."""
    return st.builds(BarState, st.none() | open_bars(), ns, ints, counts, counts, counts, counts)


def bucket_states() -> st.SearchStrategy[BucketState]:
    """Any ``BucketState`` (one accumulator per coarse resolution)."""
    acc = st.builds(BucketAcc, st.just(-1) | ns, counts, counts, ns, ns, floats)
    n = len(COARSE_RESOLUTIONS)
    return st.builds(BucketState, st.lists(acc, min_size=n, max_size=n))


@st.composite
def vix_regimes(draw: st.DrawFn) -> VixRegime:
    """A ``VixRegime``: fresh (NaN last VIX) or after accepted ticks."""
    out = VixRegime(rejected=draw(counts))
    if draw(st.booleans()):
        out.regime = draw(st.sampled_from(Regime))
        out.last_vix = draw(st.floats(1e-6, 1e6))
        out.last_ns = draw(ns)
    return out


def session_vwaps() -> st.SearchStrategy[SessionVwap]:
    """Any ``SessionVwap``."""
    return st.builds(SessionVwap, st.integers(-1, 100_000), floats, counts)


@st.composite
def profile_states(draw: st.DrawFn) -> ProfileState:
    """A ``ProfileState`` after random ticks, with a random unpublished row range."""
    tick = draw(st.sampled_from([0.05, 0.01, 0.0025, 1.0]))
    prof = VolumeProfile(tick, CONFIG.profile)
    n = draw(st.integers(0, 40))
    if n:
        rows = np.asarray(draw(st.lists(st.integers(1, 4000), min_size=n, max_size=n)))
        vols = np.asarray(draw(st.lists(st.integers(0, 2**40), min_size=n, max_size=n)))
        t0 = draw(st.integers(1_763_000_000, 1_764_000_000)) * 10**9
        t = t0 + np.cumsum(np.asarray(draw(st.lists(st.integers(0, 10**10), min_size=n,
                                                    max_size=n))))
        prof.update_many(rows * tick, vols, t, np.full(n, 20410))
    lo = draw(st.integers(-1, 4000))
    hi = -1 if lo < 0 else draw(st.integers(lo, 4000))
    return ProfileState(prof, lo, hi)


@st.composite
def indicator_sets(draw: st.DrawFn) -> IndicatorSet:
    """An ``IndicatorSet`` after 0-60 random valid bars."""
    out = IndicatorSet(CONFIG.indicators)
    for _ in range(draw(st.integers(0, 60))):
        o, c = draw(st.floats(1.0, 1e5)), draw(st.floats(1.0, 1e5))
        h = max(o, c) + draw(st.floats(0.0, 10.0))
        lo = min(o, c) - draw(st.floats(0.0, 0.5))
        out.update_bar(o, h, lo, c, draw(st.floats(0.0, 1e9)))
    return out


@st.composite
def analytics(draw: st.DrawFn) -> Analytics:
    """An ``Analytics`` holding any subset of its components."""
    out = Analytics()
    for strategy in (indicator_sets(), profile_states(), session_vwaps(), vix_regimes()):
        if draw(st.booleans()):
            out.put(draw(strategy))
    return out


@st.composite
def instrument_states(draw: st.DrawFn) -> InstrumentState:
    """Any ``InstrumentState``, with or without analytics."""
    positions = draw(st.dictionaries(st.integers(0, 63), st.tuples(counts, st.integers(0, 65535)),
                                     max_size=3))
    rejects = draw(st.dictionaries(st.sampled_from(["bad_price", "decode_error",
                                                    "non_monotonic_volume",
                                                    "stale_trading_date"]), counts))
    return InstrumentState(
        token=draw(st.integers(0, 2**32 - 1)),
        positions=positions,
        volume=draw(volume_states()),
        bars=draw(bar_states()),
        buckets=draw(bucket_states()),
        ticks_applied=draw(counts),
        late_ticks=draw(counts),
        rejects=rejects,
        analytics=draw(st.none() | analytics()),
    )


def assert_round_trips(part: Any) -> Any:
    """Encode a component, through JSON and back: equal, and re-encoded to the same bytes.

    Args:
        part: A state component.

    Returns:
        The decoded component.
    """
    data = dumps(part.encode())
    back = type(part).decode(json.loads(data), type(part).VERSION, CONFIG)
    assert type(back) is type(part)
    assert back == part
    assert dumps(back.encode()) == data
    return back
