"""Volume profile: incremental state vs an independent textbook reference.

The reference below (``ref_*``) is written from the definitions in the
``aion.tables.profile`` docstring, not from its code: it bins with ``Decimal``, keeps
``{row: volume}`` dicts, walks the value area over Python lists with ``Fraction``
targets, and computes the Gini strength by the O(n^2) mean-absolute-difference formula.
Small hand-worked cases pin the numbers down independently of both.
"""

from __future__ import annotations

import json
import math
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aion.agents.writers import profile_payloads as pp
from aion.tables.profile import (
    POC_SHIFT,
    SMALL_BATCH,
    VA_CONTRACTION,
    VA_EXPANSION,
    ProfileParams,
    VolumeProfile,
)
from aion.tables.timeutil import NS_PER_S, ist_day, ist_wall_ns

DAY = ist_day(ist_wall_ns(2025, 10, 23))
T0 = ist_wall_ns(2025, 10, 23, 9, 15)


# --------------------------------------------------------------------------- reference
def ref_row(price: float, tick: float) -> int:
    q = Decimal(repr(price)) / Decimal(repr(tick))
    return int(q.to_integral_value(rounding=ROUND_HALF_EVEN))


def ref_hist(ticks, tick):
    h: dict[int, int] = {}
    for price, vol in ticks:
        if vol > 0:
            r = ref_row(price, tick)
            h[r] = h.get(r, 0) + vol
    return h


def ref_ladder(h):
    lo, hi = min(h), max(h)
    return lo, [h.get(r, 0) for r in range(lo, hi + 1)]


def ref_poc(h):
    lo, hi = min(h), max(h)
    top = max(h.values())
    cands = [r for r, v in h.items() if v == top]
    # Nearest the middle of the range, then the lower price.
    return min(cands, key=lambda r: (abs(Fraction(r) - Fraction(lo + hi, 2)), r))


def ref_value_area(h, pct=0.70):
    lo, v = ref_ladder(h)
    total = sum(v)
    target = Fraction(repr(pct)) * total
    p = ref_poc(h) - lo
    a = b = p
    acc = v[p]
    while acc < target:
        up = v[b + 1 : b + 3]
        dn = v[max(a - 2, 0) : a]
        if not up and not dn:
            break
        if up and (not dn or sum(up) > sum(dn)):
            b += len(up)
            acc += sum(up)
        elif dn and (not up or sum(dn) > sum(up)):
            a -= len(dn)
            acc += sum(dn)
        else:
            b += len(up)
            a -= len(dn)
            acc += sum(up) + sum(dn)
    return lo + a, lo + b, acc


def ref_strength(h):
    _, v = ref_ladder(h)
    n = len(v)
    if n == 1:
        return 1.0
    x = np.array(v, dtype=float)
    mad = np.abs(x[:, None] - x[None, :]).sum()
    return mad / (2 * (n - 1) * x.sum())


def ref_nodes(h, radius, hvn_k, lvn_k):
    lo, v = ref_ladder(h)
    n = len(v)
    mean = Fraction(sum(v), n)
    hvn, lvn = [], []
    for i in range(n):
        left = v[max(0, i - radius) : i]
        right = v[i + 1 : i + 1 + radius]
        if all(v[i] > x for x in left) and all(v[i] >= x for x in right) \
                and v[i] >= Fraction(repr(hvn_k)) * mean:
            hvn.append(lo + i)
        if 0 < i < n - 1 and all(v[i] < x for x in left) and all(v[i] <= x for x in right) \
                and v[i] <= Fraction(repr(lvn_k)) * mean:
            lvn.append(lo + i)
    return hvn, lvn


def feed(prof, ticks, day=DAY, t0=T0):
    for k, (price, vol) in enumerate(ticks):
        assert prof.update(price, vol, t0 + k * NS_PER_S, day)
    return prof


def from_rows(vols, first_row=1, tick=1.0, params=None):
    """A profile with ``vols[k]`` on row ``first_row + k`` (zeros skipped)."""
    prof = VolumeProfile(tick, params)
    feed(prof, [((first_row + k) * tick, v) for k, v in enumerate(vols) if v])
    return prof


# --------------------------------------------------------------------------- hand cases
def test_textbook_value_area_by_hand():
    # Rows 100..108; POC 104 (10). Target ceil(0.7 * 39) = 28.
    # Step 1: above 7+3=10 < below 8+5=13 -> add 103,102 (23).
    # Step 2: above 10 > below 2+1=3 -> add 105,106 (33 >= 28): VA 102..106.
    s = from_rows([1, 2, 5, 8, 10, 7, 3, 2, 1], first_row=100).evaluate()
    assert (s.poc, s.poc_volume, s.va_low, s.va_high, s.va_volume) == (104, 10, 102, 106, 33)
    assert s.total_volume == 39 and s.rows == 9


def test_equal_pairs_add_both_sides():
    # POC 12; 3+3 above equals 3+3 below -> both pairs, 22 >= ceil(15.4).
    s = from_rows([3, 3, 10, 3, 3], first_row=10).evaluate()
    assert (s.va_low, s.va_high, s.va_volume) == (10, 14, 22)


def test_edge_single_row_and_missing_side():
    # POC at the top (row 3): no rows above, the pair below is added.
    s = from_rows([5, 4, 9], first_row=1).evaluate()
    assert (s.poc, s.va_low, s.va_high) == (3, 1, 3)
    # One row left above (6) beats the pair below (2 + 1): VA 4..5 (15 >= 14).
    s = from_rows([1, 1, 2, 9, 6], first_row=1).evaluate()
    assert (s.poc, s.va_low, s.va_high, s.va_volume) == (4, 4, 5, 15)
    # One row left above (2) loses to the pair below (6 + 1).
    s = from_rows([1, 6, 8, 2], first_row=1).evaluate()
    assert (s.poc, s.va_low, s.va_high, s.va_volume) == (3, 1, 3, 15)


def test_value_area_target_is_exact_decimal():
    # 0.7 * 10 is exactly 7: POC row holds 7 -> the value area is the POC alone.
    s = from_rows([1, 7, 2], first_row=1).evaluate()
    assert (s.va_low, s.va_high) == (2, 2)
    # 0.68 * 75 is exactly 51, but in floating point 51.00000000000001 (ceil 52):
    # the POC row's 51 must suffice.
    s = from_rows([12, 51, 12], first_row=1,
                  params=ProfileParams(value_area_pct=0.68)).evaluate()
    assert (s.va_low, s.va_high) == (2, 2)


def test_poc_ties_nearest_middle_then_lower():
    # Equal rows 1 and 5, equidistant from the middle 3: the lower wins.
    assert from_rows([7, 1, 1, 1, 7]).evaluate().poc == 1
    # Range 1..6, middle 3.5: row 5 (1.5 away) beats row 1 (2.5 away).
    assert from_rows([7, 1, 1, 1, 7, 1]).evaluate().poc == 5
    # A later row overtaking the tie becomes the POC; a row reaching it rejoins.
    p = from_rows([7, 1, 1, 1, 7])
    p.update(3.0, 6, T0 + 100 * NS_PER_S, DAY)
    assert p.poc_index() == 3  # 7 at row 3 is nearest the middle
    p.update(1.0, 1, T0 + 101 * NS_PER_S, DAY)
    assert p.poc_index() == 1 and p.poc_volume == 8


def test_one_price_only():
    p = feed(VolumeProfile(0.05), [(250.35, 10)] * 5)
    s = p.evaluate()
    assert s.poc == s.va_low == s.va_high == s.low == s.high == 5007
    assert s.price_str(s.poc) == "250.35" and s.price(s.poc) == 250.35
    assert s.strength == 1.0 and s.total_volume == 50 == s.poc_volume
    # 50 < 1.5 x mean (75): even a lone row is no HVN, there is nothing to compare with.
    assert s.hvn == () and s.support == s.resistance == () and s.lvn == ()


def test_float_rounding_at_005_tick():
    p = VolumeProfile(0.05)
    prices = [100.05, 100.0 + 0.05, 2001 * 0.05, 100.15 - 0.1, 1000.5 / 10]
    feed(p, [(x, 1) for x in prices])
    assert p.lo == p.hi == 2001 and p.total == 5
    p2 = VolumeProfile(0.05)
    feed(p2, [(0.1 + 0.2, 1), (0.3, 1)])  # 0.30000000000000004 and 0.3: same row
    assert p2.lo == p2.hi == 6


def test_empty_session():
    p = VolumeProfile(0.05)
    assert p.evaluate() is None and p.poc_index() is None and not p.due(T0)
    assert VolumeProfile.from_bytes(p.to_bytes()).to_bytes() == p.to_bytes()
    # Zero-volume ticks: a tick arrived (due), still nothing to show.
    assert p.update(100.0, 0, T0, DAY)
    assert p.evaluate() is None and p.due(T0)
    assert p.publish(T0) is None and not p.due(T0 + 1)
    assert p.volumes().shape == (0,)


def test_zero_volume_ticks_move_price_not_rows():
    p = feed(VolumeProfile(1.0), [(10.0, 9), (11.0, 3)])
    before = p.volumes().copy()
    assert p.update(50.0, 0, T0 + 10 * NS_PER_S, DAY)
    assert np.array_equal(p.volumes(), before) and (p.lo, p.hi) == (10, 11)
    assert p.last_price == 50.0 and p.ticks == 3
    s = p.evaluate()
    assert s.resistance == () and s.support == (10,)  # HVN 10 (9 >= 1.5 * 6) below 50


def test_rejects_leave_state_untouched():
    p = feed(VolumeProfile(0.05), [(100.0, 5)])
    b = p.to_bytes()
    for price, vol in [(math.nan, 1), (math.inf, 1), (-1.0, 1), (0.0, 1), (100.0, -1)]:
        assert not p.update(price, vol, T0 + NS_PER_S, DAY)
    assert not p.update(100.0, 1, T0, DAY - 1)  # earlier trading date
    assert p.rejected == 6
    q = VolumeProfile.from_bytes(p.to_bytes())
    q.rejected = 0
    assert q.to_bytes() == b


def test_session_reset_on_new_date():
    p = feed(VolumeProfile(0.05), [(100.0, 5), (100.05, 9)])
    p.publish(T0 + 5 * NS_PER_S)
    assert p.update(200.0, 3, T0 + 86_400 * NS_PER_S, DAY + 1)
    s = p.evaluate()
    assert (s.day, s.total_volume, s.low, s.high, s.poc, s.ticks) == (DAY + 1, 3, 4000, 4000,
                                                                      4000, 1)
    assert s.events == ()  # the previous session's publish is no baseline
    assert p.due(T0 + 86_400 * NS_PER_S)  # a new session publishes at once
    assert not p.update(100.0, 1, T0 + 86_401 * NS_PER_S, DAY)  # the old date is stale


def test_wide_sparse_range_and_max_rows():
    p = feed(VolumeProfile(0.05), [(100.0, 5), (5100.0, 7), (100.0, 1)])
    s = p.evaluate()
    assert s.rows == 100_001 and s.traded_rows == 2
    # POC 102000 holds 7 < ceil(0.7 * 13) = 10: the area walks down the zero pairs of
    # the gap to row 2000 (the POC is at the top edge, so only the lower side is left).
    assert (s.poc, s.va_low, s.va_high, s.va_volume) == (102_000, 2000, 102_000, 13)
    assert (s.va_low, s.va_high, s.va_volume) == ref_value_area({2000: 6, 102_000: 7})
    b = p.to_bytes()
    assert len(b) < 200  # sparse encoding: two rows, not 100k
    q = VolumeProfile.from_bytes(b)
    assert q.to_bytes() == b and q.evaluate().poc == s.poc
    # Gap rows count as rows: the gap's first zero row (just above 100.00) is its LVN;
    # the rest of the all-zero gap is a flat bottom and reports nothing more.
    assert s.lvn == (2001,)
    small = VolumeProfile(1.0, ProfileParams(max_rows=10))
    assert small.update(5.0, 1, T0, DAY) and small.update(14.0, 1, T0, DAY)
    assert not small.update(15.0, 1, T0, DAY) and not small.update(4.0, 1, T0, DAY)
    assert (small.lo, small.hi, small.total, small.rejected) == (5, 14, 2, 2)


def test_nodes_support_resistance_by_hand():
    # Rows 1..13, mean 60/13 ~ 4.6; HVN >= 6.9 (1.5x), LVN <= 2.3 (0.5x), radius 2.
    vols = [1, 3, 9, 3, 1, 0, 1, 4, 10, 4, 1, 8, 15]
    prm = ProfileParams(node_radius=2)
    p = from_rows(vols, params=prm)
    p.update(7.0, 0, T0 + 99 * NS_PER_S, DAY)  # last price on row 7
    s = p.evaluate()
    # Peaks: row 3 (9), row 9 (10), row 13 (15); row 12 (8) is dominated by 13.
    assert s.hvn == (3, 9, 13)
    assert s.support == (3,) and s.resistance == (9, 13)
    # Troughs strictly inside the range: row 6 (0 < 3, 1 on the left, <= 1, 4 on the
    # right); row 11 (1 < 10, 4 on the left, <= 8, 15 on the right, and 1 <= 2.3).
    # Rows 5 and 7 (1) are not: 0 is next to each. Row 1 is the range edge.
    assert s.lvn == (6, 11)
    hv, lv = ref_nodes({r: v for r, v in enumerate(vols, 1) if v}, 2, 1.5, 0.5)
    assert (list(s.hvn), list(s.lvn)) == (hv, lv)
    # Capped, nearest first.
    s2 = from_rows(vols, params=ProfileParams(node_radius=2, max_levels=1)).evaluate()
    assert s2.last_price == 13.0 and s2.support == (9,) and s2.resistance == ()


def test_strength_by_hand():
    # Uniform rows: 0. Two rows 0 and 10 (gap row between): sum|vi - vj| over ordered
    # pairs = 4 * 10 = 40; 40 / (2 * 2 * 10) = 1.0.
    assert from_rows([4, 4, 4, 4]).evaluate().strength == 0.0
    assert from_rows([10, 0, 0]).evaluate().strength == 1.0  # one row
    s = from_rows([10, 0, 5]).evaluate()
    # v = 10, 0, 5: pairs |10-0| + |10-5| + |0-5| = 20, doubled 40; / (2 * 2 * 15).
    assert s.strength == pytest.approx(40 / 60)


# --------------------------------------------------------------------------- cadence, events
def test_publish_cadence_ticks_and_time():
    p = VolumeProfile(0.05)
    t = T0
    p.update(100.0, 1, t, DAY)
    assert p.due(t)  # first publish of the session: at once
    p.publish(t)
    for k in range(1, 100):
        p.update(100.0, 1, t + k * 10**6, DAY)
        assert not p.due(t + k * 10**6)
    p.update(100.0, 1, t + 100 * 10**6, DAY)
    assert p.due(t + 100 * 10**6)  # 100 ticks
    p.mark_published(t + 100 * 10**6)
    p.update(100.0, 1, t + 59 * NS_PER_S, DAY)
    assert not p.due(t + 59 * NS_PER_S + 10**8)
    assert p.due(t + 100 * 10**6 + 60 * NS_PER_S)  # one minute of event time
    p.mark_published(t + 61 * NS_PER_S)
    assert not p.due(t + 3600 * NS_PER_S)  # no tick since: nothing to publish
    q = VolumeProfile(0.05, ProfileParams(publish_every_ticks=3, publish_interval_s=5))
    q.update(1.0, 1, t, DAY)
    q.publish(t)
    q.update(1.0, 1, t + 5 * NS_PER_S, DAY)
    assert q.due(t + 5 * NS_PER_S)


def test_poc_shift_and_value_area_events():
    prm = ProfileParams(poc_shift_ticks=3, poc_shift_ratio=0, va_change_ratio=0.5)
    p = from_rows([5, 10, 5], first_row=100, params=prm)
    first = p.publish(T0 + 10 * NS_PER_S)
    assert first.events == () and (first.poc, first.va_low, first.va_high) == (101, 100, 102)
    # POC 101 -> 103, 2 rows: below the 3-tick threshold; VA 101..103, width still 3.
    p.update(103.0, 20, T0 + 11 * NS_PER_S, DAY)
    s = p.evaluate()
    assert s.poc == 103 and s.events == ()
    # Now 4 rows up, VA grows to width >= 6 (>= 1.5 x 3 = 4.5).
    p.update(105.0, 60, T0 + 12 * NS_PER_S, DAY)
    p.update(99.0, 50, T0 + 12 * NS_PER_S, DAY)
    s = p.evaluate(T0 + 13 * NS_PER_S)
    kinds = {e["pattern"]: e for e in s.events}
    assert s.poc == 105
    assert kinds[POC_SHIFT]["direction"] == "up" and kinds[POC_SHIFT]["shift_ticks"] == 4
    assert kinds[POC_SHIFT]["from_price"] == 101.0 and kinds[POC_SHIFT]["to_price"] == 105.0
    # 40 -> 150 volume, target 105: 60, +20 (104, 103), +15 (102, 101), +55 (100, 99).
    assert (s.va_low, s.va_high) == (99, 105)
    assert kinds[VA_EXPANSION]["from_width_ticks"] == 3
    assert kinds[VA_EXPANSION]["to_width_ticks"] == 7
    assert all(e["timestamp"].startswith("2025-10-23T09:15:13") for e in s.events)
    json.dumps(s.events)
    # Evaluate does not move the baseline; publish does.
    assert p.evaluate().events and p.publish(T0 + 14 * NS_PER_S).events
    assert p.evaluate().events == ()


def test_value_area_contraction_and_ratio_shift():
    prm = ProfileParams(poc_shift_ticks=0, poc_shift_ratio=0.01, va_change_ratio=0.5)
    # Flat rows 1000..1009: POC 1004 (nearest the middle 1004.5, then lower); equal
    # pairs both sides twice: VA 1000..1008 (90 >= 70), 9 rows wide.
    p = from_rows([10] * 10, first_row=1000, params=prm)
    first = p.publish(T0)
    assert (first.poc, first.va_low, first.va_high) == (1004, 1000, 1008)
    p.update(1008.0, 500, T0 + NS_PER_S, DAY)  # one dominant row: VA collapses to it
    s = p.evaluate()
    kinds = {e["pattern"]: e for e in s.events}
    assert VA_CONTRACTION in kinds and kinds[VA_CONTRACTION]["to_width_ticks"] == 1
    # POC 1004 -> 1008 is 0.4 %: below the 1 % ratio (10.04 rows).
    assert POC_SHIFT not in kinds
    p.update(1014.0, 1000, T0 + 2 * NS_PER_S, DAY)  # 10 rows: still below
    assert POC_SHIFT not in {e["pattern"] for e in p.evaluate().events}
    p.update(1015.0, 2000, T0 + 3 * NS_PER_S, DAY)  # 11 rows: 1.1 %
    ev = {e["pattern"]: e for e in p.evaluate().events}[POC_SHIFT]
    assert ev["shift_ticks"] == 11 and ev["shift_pct"] == pytest.approx(1100 / 1004)


# --------------------------------------------------------------------------- serialisation
def test_serialisation_is_deterministic_and_compact():
    ticks = [(100.0 + 0.05 * (k % 40), (k * 7) % 13) for k in range(2000)]
    a = feed(VolumeProfile(0.05), ticks)
    b = feed(VolumeProfile(0.05), ticks)
    assert a.to_bytes() == b.to_bytes()
    assert len(a.to_bytes()) < 200 + 40 * 2  # 40 rows at 2 bytes each
    big = feed(VolumeProfile(0.05), [(100.0, 70_000), (100.05, 1 << 33)])
    rt = VolumeProfile.from_bytes(big.to_bytes())
    assert rt.total == 70_000 + (1 << 33) and rt.to_bytes() == big.to_bytes()
    with pytest.raises(ValueError):
        VolumeProfile.from_bytes(b"nope" + bytes(200))


def test_params_from_mapping():
    prm = ProfileParams.from_mapping({"value_area_pct": 0.68, "node_radius": 5})
    assert prm.value_area_pct == 0.68 and prm.publish_every_ticks == 100
    with pytest.raises(ValueError):
        ProfileParams.from_mapping({"nope": 1})
    with pytest.raises(ValueError):
        ProfileParams(value_area_pct=1.5)
    with pytest.raises(ValueError):
        VolumeProfile(0.0)


# --------------------------------------------------------------------------- payloads
def test_payloads():
    p = VolumeProfile(0.05)
    feed(p, [(19500.0, 12500), (19500.05, 9800), (19500.1, 15600), (19500.05, 0)])
    s = p.evaluate()
    f = pp.poc_fields(s)
    assert f["poc_price"] == "19500.10" and f["poc_volume"] == "15600"
    assert set(f) >= {"poc_price", "poc_volume", "value_area_high", "value_area_low",
                      "profile_strength", "exchange_timestamp"}
    assert f["exchange_timestamp"] == "2025-10-23T09:15:03+05:30"
    assert all(isinstance(v, str) for v in f.values())
    assert pp.distribution_fields(s) == {"19500.00": "12500", "19500.05": "9800",
                                         "19500.10": "15600"}
    sess = pp.session_fields(s)
    assert json.loads(sess["price_volume_distribution"]) == {
        "19500.00": 12500, "19500.05": 9800, "19500.10": 15600}
    assert sess["session_date"] == "2025-10-23" and sess["tick_size"] == "0.05"
    assert sess["total_volume"] == "37900" and sess["rows"] == "3"
    assert all(isinstance(v, str) for v in sess.values())
    nodes = pp.nodes_fields(s)
    for k in ("support_levels", "resistance_levels", "hvn", "lvn"):
        assert isinstance(json.loads(nodes[k]), list)
    h = pp.historical_entry(s)
    assert h["poc_price"] == 19500.1 and h["timestamp"] == f["exchange_timestamp"]
    json.dumps(h)
    assert set(pp.indicator_fields(s)) >= {"poc_price", "support_levels"}
    score, member = pp.pattern_member({"timestamp_ms": 1_700_000_000_123, "pattern": "x"})
    assert score == 1_700_000_000.123 and json.loads(member)["pattern"] == "x"


# --------------------------------------------------------------------------- properties
ROW0 = 2000  # 100.00 at a 0.05 tick

tick_lists = st.lists(
    st.tuples(st.integers(-12, 12), st.one_of(st.just(0), st.integers(1, 9),
                                               st.integers(1, 10_000))),
    min_size=0, max_size=120,
)


def prices_of(rows):
    return [float(f"{(ROW0 + r) * 0.05:.2f}") for r in rows]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tick_lists, st.sampled_from([0.7, 0.68, 0.5, 1.0]), st.integers(1, 4))
def test_incremental_equals_reference(ticks, pct, radius):
    prm = ProfileParams(value_area_pct=pct, node_radius=radius)
    prof = VolumeProfile(0.05, prm)
    raw = list(zip(prices_of([r for r, _ in ticks]), [v for _, v in ticks], strict=True))
    for k, (price, vol) in enumerate(raw):
        prof.update(price, vol, T0 + k, DAY)
        # Incremental POC equals the full recomputation after every tick.
        h = ref_hist(raw[: k + 1], 0.05)
        assert prof.poc_index() == (ref_poc(h) if h else None)
    h = ref_hist(raw, 0.05)
    s = prof.evaluate()
    if not h:
        assert s is None
        return
    assert (s.va_low, s.va_high, s.va_volume) == ref_value_area(h, pct)
    assert (s.low, s.high) == (min(h), max(h)) and s.total_volume == sum(h.values())
    assert s.strength == pytest.approx(ref_strength(h), abs=1e-12)
    hv, lv = ref_nodes(h, radius, prm.hvn_factor, prm.lvn_factor)
    last = ref_row(raw[-1][0], 0.05)
    sup = sorted((r for r in hv if r < last), reverse=True)[: prm.max_levels]
    res = sorted(r for r in hv if r > last)[: prm.max_levels]
    assert (list(s.support), list(s.resistance)) == (sup, res)
    near = sorted(sorted(hv, key=lambda r: (abs(r - last), r))[: prm.max_nodes])
    assert list(s.hvn) == near
    near = sorted(sorted(lv, key=lambda r: (abs(r - last), r))[: prm.max_nodes])
    assert list(s.lvn) == near
    # Round trip: same bytes, same evaluation.
    rt = VolumeProfile.from_bytes(prof.to_bytes(), prm)
    assert rt.to_bytes() == prof.to_bytes()
    s2 = rt.evaluate()
    for name in ("poc", "poc_volume", "va_low", "va_high", "va_volume", "strength", "hvn",
                 "lvn", "support", "resistance", "low", "high", "total_volume"):
        assert getattr(s2, name) == getattr(s, name), name
    assert np.array_equal(s2.volumes, s.volumes)


@settings(max_examples=150, deadline=None)
@given(tick_lists, st.integers(0, 120),
       st.lists(st.sampled_from([0] * 30 + [1, 2]), min_size=120, max_size=120),
       st.booleans())
def test_restore_midway_and_batches_match_per_tick(ticks, cut, day_steps, stale):
    raw = [(p, v) for p, v in zip(prices_of([r for r, _ in ticks]),
                                  [v for _, v in ticks], strict=True)]
    days = np.cumsum([DAY, *day_steps[: max(0, len(raw) - 1)]])[: len(raw)] \
        if raw else np.zeros(0, dtype=np.int64)
    if stale:  # some ticks of an earlier date (rejected)
        days = np.where(np.arange(len(raw)) % 17 == 16, days - 1, days)
    ts = [T0 + k * NS_PER_S for k in range(len(raw))]
    # Uninterrupted per-tick run.
    a = VolumeProfile(0.05)
    for (price, vol), t, d in zip(raw, ts, days.tolist(), strict=True):
        a.update(price, vol, t, d)
    # Restore from bytes at `cut`, continue.
    cut = min(cut, len(raw))
    b = VolumeProfile(0.05)
    for (price, vol), t, d in zip(raw[:cut], ts[:cut], days[:cut].tolist(), strict=True):
        b.update(price, vol, t, d)
    b = VolumeProfile.from_bytes(b.to_bytes())
    for (price, vol), t, d in zip(raw[cut:], ts[cut:], days[cut:].tolist(), strict=True):
        b.update(price, vol, t, d)
    assert b.to_bytes() == a.to_bytes() and b.poc_index() == a.poc_index()
    # The same ticks in batches (vectorised path for the long one-day batches).
    c = VolumeProfile(0.05)
    pr = np.array([p for p, _ in raw], dtype=float)
    vo = np.array([v for _, v in raw], dtype=np.int64)
    for lo_, hi_ in ((0, cut), (cut, len(raw))):
        c.update_many(pr[lo_:hi_], vo[lo_:hi_], ts[lo_:hi_], days[lo_:hi_])
    assert c.to_bytes() == a.to_bytes() and c.poc_index() == a.poc_index()
    assert sorted(c.ties) == sorted(a.ties)


def test_update_many_vectorised_path_with_bad_rows():
    rng = np.random.default_rng(7)
    n = 500
    prices = np.round(100 + np.cumsum(rng.choice([-0.05, 0, 0.05], n)), 2)
    vols = rng.integers(0, 50, n)
    prices[10], prices[20], vols[30] = np.nan, -5.0, -1
    ts = T0 + np.arange(n) * NS_PER_S
    days = np.full(n, DAY)
    a = VolumeProfile(0.05)
    for row in zip(prices.tolist(), vols.tolist(), ts.tolist(), days.tolist(), strict=True):
        a.update(*row)
    b = VolumeProfile(0.05)
    assert b.update_many(prices, vols, ts, days) == n - 3
    assert b.to_bytes() == a.to_bytes() and b.rejected == 3
    sa, sb = a.evaluate(), b.evaluate()
    assert (sa.poc, sa.va_low, sa.va_high, sa.hvn) == (sb.poc, sb.va_low, sb.va_high, sb.hvn)


# --------------------------------------------------------------------------- MarketProfile
def test_poc_matches_marketprofile_package():
    """POC agrees with the ``marketprofile`` package on unique-maximum data.

    The package rounds prices up to the row (``ceil``) and breaks ties by the middle of
    the non-empty rows, and its value area adds one row at a time, so only the POC of a
    profile with a single maximum on integer prices (where ceil is exact) is comparable.
    """
    pd = pytest.importorskip("pandas")
    mp = pytest.importorskip("market_profile")
    rng = np.random.default_rng(3)
    for _ in range(20):
        n = 400
        rows = np.cumsum(rng.choice([-1, 0, 1], n)) + 500
        vols = rng.integers(1, 100, n)
        h: dict[int, int] = {}
        for r, v in zip(rows.tolist(), vols.tolist(), strict=True):
            h[r] = h.get(r, 0) + v
        if list(h.values()).count(max(h.values())) > 1:
            continue
        idx = pd.date_range("2025-10-23 09:15", periods=n, freq="s")
        df = pd.DataFrame({"Open": rows, "High": rows, "Low": rows, "Close": rows,
                           "Volume": vols}, index=idx).astype(float)
        ref = mp.MarketProfile(df, tick_size=1.0)[idx[0]:idx[-1]]
        ours = from_rows([h.get(r, 0) for r in range(min(h), max(h) + 1)],
                         first_row=min(h)).evaluate()
        assert ours.poc == int(ref.poc_price) and ours.poc_volume == int(ref.poc_volume)


def test_node_thresholds_at_the_boundary():
    # mean 5 -> LVN needs <= 2.5: a trough of 3 is not one, a trough of 2 (mean 14/3,
    # bound 2.33) is.
    assert from_rows([6, 3, 6], params=ProfileParams(node_radius=1)).evaluate().lvn == ()
    assert from_rows([6, 2, 6], params=ProfileParams(node_radius=1)).evaluate().lvn == (2,)
    # HVN needs >= 1.5 x mean: 5 vs 5.5 (mean 11/3) no; 5 vs 4.5 (mean 3) yes.
    assert from_rows([3, 5, 3], params=ProfileParams(node_radius=1)).evaluate().hvn == ()
    assert from_rows([2, 5, 2], params=ProfileParams(node_radius=1)).evaluate().hvn == (2,)


def test_batch_that_ties_the_maximum():
    # Batch 1 puts 100 on row 1; batch 2 brings row 5 to 100 as well and widens the
    # range to 1..9, whose middle is row 5: the tie must be seen, and row 5 wins it.
    # (Batches longer than SMALL_BATCH take the vectorised path.)
    n = 2 * SMALL_BATCH
    ts = T0 + np.arange(n + 1) * NS_PER_S
    days = np.full(n + 1, DAY)
    p = VolumeProfile(1.0)
    p.update_many(np.full(n, 1.0), np.ones(n, dtype=np.int64), ts[:n], days[:n])
    prices = np.r_[np.full(n, 5.0), 9.0]
    p.update_many(prices, np.ones(n + 1, dtype=np.int64), ts, days)
    assert p.poc_volume == n and sorted(p.ties) == [1, 5] and p.poc_index() == 5
    q = VolumeProfile(1.0)
    feed(q, [(1.0, 1)] * n + [(5.0, 1)] * n + [(9.0, 1)])
    assert q.poc_index() == 5 and np.array_equal(q.volumes(), p.volumes())


def test_price_strings_and_publish_payloads():
    p = VolumeProfile(0.0025)  # currency-derivative tick
    feed(p, [(83.1225, 5), (83.125, 7), (99.9975, 1)])
    s = p.evaluate()
    assert pp.distribution_fields(s) == {"83.1225": "5", "83.1250": "7", "99.9975": "1"}
    q = VolumeProfile(1.0)
    feed(q, [(99.0, 3), (100.0, 4), (101.0, 2)])
    sq = q.evaluate()
    assert list(json.loads(pp.session_fields(sq)["price_volume_distribution"])) == [
        "99", "100", "101"]  # ascending price, not string order
    assert pp.poc_fields(sq)["poc_price"] == "100"
    allp = pp.publish_payloads(sq)
    assert allp["session"] == pp.session_fields(sq)
    assert allp["poc"] == pp.poc_fields(sq)
    assert allp["distribution"] == pp.distribution_fields(sq)
    assert allp["nodes"] == pp.nodes_fields(sq)
    assert allp["indicators"] == pp.indicator_fields(sq)
    assert allp["historical"] == pp.historical_entry(sq) and allp["patterns"] == []


def test_bad_tick_of_a_new_date_does_not_reset():
    p = feed(VolumeProfile(0.05), [(100.0, 5)])
    assert not p.update(math.nan, 1, T0 + 86_400 * NS_PER_S, DAY + 1)
    assert p.day == DAY and p.total == 5
    n = 100
    bad = np.full(n, math.nan)
    assert p.update_many(bad, np.ones(n, dtype=np.int64), np.full(n, T0), np.full(n, DAY + 1)) == 0
    assert p.day == DAY and p.total == 5 and p.rejected == 1 + n
