import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aion.tables.indicators import IndicatorSet


def vwap_ref(prices, vols, resets):
    """Per session: cumsum(p * v) / cumsum(v); NaN until volume has traded."""
    out = np.full(len(prices), np.nan)
    pv = v = 0.0
    for i, (p, q) in enumerate(zip(prices, vols, strict=True)):
        if resets[i]:
            pv = v = 0.0
        pv += p * q
        v += q
        if v > 0:
            out[i] = pv / v
    return out


def run_ticks(prices, vols, resets):
    s = IndicatorSet()
    out = np.full(len(prices), np.nan)
    for i, (p, q) in enumerate(zip(prices, vols, strict=True)):
        if resets[i]:
            s.reset_session()
        s.update_tick(p, q)
        out[i] = s.values().get("vwap", np.nan)
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_vwap_matches_reference(seed):
    rng = np.random.default_rng(seed)
    n = 5000
    prices = np.round(100 * np.exp(np.cumsum(rng.normal(0, 1e-4, n))) / 0.05) * 0.05
    vols = rng.integers(0, 300, n).astype(float)
    vols[rng.random(n) < 0.2] = 0.0  # quote-only ticks
    resets = np.zeros(n, bool)
    resets[[0, 1700, 3400]] = True
    ref = vwap_ref(prices, vols, resets)
    ours = run_ticks(prices, vols, resets)
    assert np.array_equal(np.isnan(ours), np.isnan(ref))
    m = ~np.isnan(ref)
    np.testing.assert_allclose(ours[m], ref[m], rtol=1e-9, atol=0)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0.05, 1e5, allow_nan=False),
            st.sampled_from([0.0, 1.0, 50.0, 1e6]),
            st.booleans(),
        ),
        min_size=1,
        max_size=60,
    )
)
def test_vwap_matches_reference_on_generated_ticks(ticks):
    prices, vols, resets = (np.array(x) for x in zip(*ticks, strict=True))
    resets = resets & (np.random.default_rng(0).random(len(resets)) < 0.1)
    ref = vwap_ref(prices, vols, resets)
    ours = run_ticks(prices, vols, resets)
    assert np.array_equal(np.isnan(ours), np.isnan(ref))
    m = ~np.isnan(ref)
    np.testing.assert_allclose(ours[m], ref[m], rtol=1e-9, atol=0)


def test_vwap_absent_until_volume_and_after_reset():
    s = IndicatorSet()
    s.update_tick(100.0, 0.0)
    assert "vwap" not in s.values()
    s.update_tick(101.0, 10.0)
    s.update_tick(103.0, 30.0)
    assert s.values()["vwap"] == (101.0 * 10 + 103.0 * 30) / 40
    s.reset_session()
    assert "vwap" not in s.values()
    assert s.ticks == 3


@pytest.mark.parametrize(("price", "vol"), [(float("nan"), 1.0), (100.0, -1.0), (float("inf"), 1)])
def test_vwap_rejects_bad_ticks_without_touching_state(price, vol):
    s = IndicatorSet()
    s.update_tick(100.0, 5.0)
    before = s.to_bytes()
    with pytest.raises(ValueError):
        s.update_tick(price, vol)
    assert s.to_bytes() == before
