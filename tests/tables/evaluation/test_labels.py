"""Matching, precision and recall on hand-made alerts and labels (expected values by hand)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from aion.tables.evaluation.labels import (
    DEFAULT_GRACE_MS,
    PATTERN_LABELS,
    SIZE_BUCKETS,
    Label,
    ScoredAlert,
    in_window,
    label_direction,
    score_pattern,
    size_bucket,
)

MIN = 60_000
T0 = 1_668_743_100_000  # 2022-11-18 09:15 IST


def lab(kind: str, token: int, start_min: int, end_min: int, direction: int = 0,
        sigma: float = 3.0) -> Label:
    return Label(kind, frozenset({token}), T0 + start_min * MIN, T0 + end_min * MIN,
                 direction, sigma)


def alert(pattern: str, token: int, at_min: float, direction: int = 1, n: int = 0
          ) -> ScoredAlert:
    return ScoredAlert(f"{pattern}:{token}:{at_min}:{n}", pattern, token,
                       T0 + int(at_min * MIN), direction)


def test_window_edges_inclusive_with_grace() -> None:
    label = lab("volume_breakout", 7, 10, 20)
    assert in_window(alert("breakout", 7, 10), label)  # at start
    assert in_window(alert("breakout", 7, 25), label)  # end + 5 min grace exactly
    assert not in_window(alert("breakout", 7, 25 + 1 / 60_000), label)  # 1 ms later
    assert not in_window(alert("breakout", 7, 10 - 1 / 60_000), label)  # 1 ms before
    assert not in_window(alert("breakout", 8, 15), label)  # another instrument
    assert DEFAULT_GRACE_MS == 5 * MIN


def test_breakout_precision_recall_by_hand() -> None:
    # Three volume_breakout labels: two up (tokens 1, 2), one down (token 3).
    labels = [lab("volume_breakout", 1, 10, 15, +1, sigma=1.8),
              lab("volume_breakout", 2, 30, 35, +1, sigma=2.5),
              lab("volume_breakout", 3, 50, 55, -1, sigma=5.0),
              lab("momentum", 4, 0, 100, +1)]  # not a breakout label
    alerts = [
        alert("breakout", 1, 12, +1),            # matches label 1
        alert("breakout", 1, 13, +1, n=1),       # matches label 1 again (label counted once)
        alert("breakout", 2, 33, -1),            # wrong direction: unmatched
        alert("breakout", 3, 61, -1),            # 6 min after end: outside grace
        alert("breakout", 4, 20, +1),            # momentum label: not a breakout positive
        alert("volume_breakout", 3, 52, -1),     # another pattern: ignored here
    ]
    s = score_pattern("breakout", alerts, labels)
    # alerts of the pattern: 5; matched: the two on label 1 -> precision 2/5
    assert (s.alerts, s.matched_alerts, s.precision) == (5, 2, 2 / 5)
    # labels 3, found 1 (label 1) -> recall 1/3
    assert (s.labelled, s.found_labels, s.recall) == (3, 1, 1 / 3)
    # sizes: 1.8 -> <2 (found), 2.5 -> 2-3 (missed), 5.0 -> >=4.5 (missed)
    assert [(n, f) for _, _, n, f in s.recall_by_size] == [(1, 1), (1, 0), (0, 0), (1, 0)]
    v = score_pattern("volume_breakout", alerts, labels)
    assert (v.alerts, v.matched_alerts, v.found_labels, v.labelled) == (1, 1, 1, 3)


def test_momentum_split_by_direction() -> None:
    labels = [lab("momentum", 1, 0, 10, +1), lab("momentum", 2, 0, 10, -1),
              lab("momentum", 3, 0, 10, -1)]
    alerts = [alert("downside_momentum", 2, 5, -1), alert("downside_momentum", 1, 5, -1),
              alert("upside_momentum", 1, 5, +1)]
    down = score_pattern("downside_momentum", alerts, labels)
    # down labels: tokens 2 and 3 -> 2; token 2 found; the alert on token 1 (an up move)
    # matches nothing -> precision 1/2, recall 1/2
    assert (down.labelled, down.precision, down.recall) == (2, 0.5, 0.5)
    up = score_pattern("upside_momentum", alerts, labels)
    assert (up.labelled, up.precision, up.recall) == (1, 1.0, 1.0)


def test_divergence_alert_is_against_the_push() -> None:
    labels = [lab("volume_price_divergence", 1, 0, 10, direction=+1)]  # price pushed up
    bearish = score_pattern("volume_price_divergence", [alert("volume_price_divergence",
                                                              1, 5, -1)], labels)
    bullish = score_pattern("volume_price_divergence", [alert("volume_price_divergence",
                                                              1, 5, +1)], labels)
    assert (bearish.precision, bearish.recall) == (1.0, 1.0)
    assert (bullish.precision, bullish.recall) == (0.0, 0.0)


def test_spike_ignores_direction_and_negatives_are_counted() -> None:
    labels = [lab("volume_spike", 1, 0, 3), lab("near_miss", 2, 10, 15),
              lab("failed_breakout", 3, 20, 30, +1)]
    alerts = [alert("volume_spike", 1, 2, -1), alert("volume_spike", 1, 4, 0, n=1),
              alert("volume_spike", 2, 12, +1), alert("volume_spike", 3, 40, +1)]
    s = score_pattern("volume_spike", alerts, labels)
    # 2 of 4 on the spike label; one on the near-miss, one nowhere
    assert (s.matched_alerts, s.on_negative, s.precision, s.recall) == (2, 1, 0.5, 1.0)
    b = score_pattern("breakout", [alert("breakout", 3, 25, +1)], labels)
    assert (b.on_negative, b.precision, b.recall, b.labelled) == (1, 0.0, None, 0)


def test_future_label_covers_its_index() -> None:
    label = Label("momentum", frozenset({100, 200}), T0, T0 + 10 * MIN, +1)
    s = score_pattern("upside_momentum", [alert("upside_momentum", 200, 5)], [label])
    assert s.recall == 1.0


def test_unlabelled_pattern_has_no_scores() -> None:
    assert PATTERN_LABELS["hidden_accumulation"] == ()
    s = score_pattern("hidden_accumulation", [alert("hidden_accumulation", 1, 5)],
                      [lab("volume_spike", 1, 0, 10)])
    assert (s.has_labels, s.alerts, s.precision, s.recall) == (False, 1, None, None)
    assert score_pattern("ict_killzone", [], []).has_labels is False


def test_label_direction_and_buckets() -> None:
    assert (label_direction("up"), label_direction("down"), label_direction(None)) == (1, -1, 0)
    assert [size_bucket(x) for x in (0.5, 1.999, 2.0, 2.99, 3.0, 4.49, 4.5, 40.0)] == [
        0, 0, 1, 1, 2, 2, 3, 3]
    assert SIZE_BUCKETS[0] == (0.0, 2.0)


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 60), st.sampled_from([-1, 1])),
                max_size=30),
       st.lists(st.tuples(st.integers(0, 3), st.integers(0, 50), st.integers(1, 10),
                          st.sampled_from([-1, 1])), max_size=10))
def test_scores_against_brute_force(raw_alerts: list[tuple[int, int, int]],
                                    raw_labels: list[tuple[int, int, int, int]]) -> None:
    """Precision and recall equal a direct count over all (alert, label) pairs."""
    labels = [lab("reversal", tok, a, a + d, sgn) for tok, a, d, sgn in raw_labels]
    alerts = [alert("reversal", tok, m, sgn, n=i) for i, (tok, m, sgn) in enumerate(raw_alerts)]

    def hit(a: ScoredAlert, lb: Label) -> bool:
        tok = next(iter(lb.tokens))
        return (a.token == tok and a.direction == lb.direction
                and lb.start_ms <= a.event_ms <= lb.end_ms + 5 * MIN)

    s = score_pattern("reversal", alerts, labels)
    matched = sum(any(hit(a, lb) for lb in labels) for a in alerts)
    found = sum(any(hit(a, lb) for a in alerts) for lb in labels)
    assert s.precision == (matched / len(alerts) if alerts else None)
    assert s.recall == (found / len(labels) if labels else None)
    assert 0 <= s.matched_alerts <= s.alerts and 0 <= s.found_labels <= s.labelled


def test_structure_labels_map_to_their_patterns_with_direction() -> None:
    # (pattern, label type): each pattern's positives are its mechanism's labels only, in
    # the label's direction (a sweep of highs is labelled "down": a bearish grab).
    pairs = [("ict_liquidity_grab", "liquidity_sweep"),
             ("ict_fair_value_gap", "fair_value_gap"),
             ("ict_optimal_trade_entry", "impulse_retrace"),
             ("vp_breakout", "value_area_break")]
    labels = [lab(kind, i, 10 * i, 10 * i + 8, -1 if i % 2 else +1)
              for i, (_, kind) in enumerate(pairs, start=1)]
    for i, (pattern, _) in enumerate(pairs, start=1):
        d = -1 if i % 2 else +1
        right = alert(pattern, i, 10 * i + 4, d)
        wrong_way = alert(pattern, i, 10 * i + 5, -d, n=1)
        other_kind = alert(pattern, i % 4 + 1, 10 * (i % 4 + 1) + 4, -1 if (i % 4 + 1) % 2
                           else +1, n=2)  # on another mechanism's label: unmatched
        s = score_pattern(pattern, [right, wrong_way, other_kind], labels)
        assert (s.labelled, s.alerts, s.matched_alerts, s.recall) == (1, 3, 1, 1.0), pattern
        assert s.precision == 1 / 3, pattern


def test_ict_momentum_takes_both_directions_and_must_agree() -> None:
    labels = [lab("momentum", 1, 0, 10, +1), lab("momentum", 2, 0, 10, -1),
              lab("reversal", 3, 0, 10, +1)]
    alerts = [alert("ict_momentum", 1, 5, +1), alert("ict_momentum", 2, 5, +1),
              alert("ict_momentum", 3, 5, +1)]
    s = score_pattern("ict_momentum", alerts, labels)
    # both momentum labels are positives; only the up one is found (token 2's alert is
    # the wrong way, token 3's is on a reversal)
    assert (s.labelled, s.found_labels, s.matched_alerts) == (2, 1, 1)


def test_chain_patterns_ignore_direction_on_the_index() -> None:
    index = 256265  # NIFTY 50's token: chain labels and chain alerts are on the index
    labels = [lab("iv_crush", index, 30, 40, -1), lab("range_bound", 260105, 60, 180)]
    crush = score_pattern("iv_crush", [alert("iv_crush", index, 41, 0)], labels)
    assert (crush.labelled, crush.precision, crush.recall) == (1, 1.0, 1.0)
    strangle = score_pattern("range_bound_strangle",
                             [alert("range_bound_strangle", 260105, 100, 0),
                              alert("range_bound_strangle", index, 100, 0, n=1)], labels)
    assert (strangle.labelled, strangle.precision, strangle.recall) == (1, 0.5, 1.0)


def test_labelled_pattern_without_alerts_scores_recall_zero() -> None:
    s = score_pattern("ict_liquidity_grab", [], [lab("liquidity_sweep", 1, 0, 10, -1)])
    assert (s.has_labels, s.labelled, s.alerts, s.precision, s.recall) == (
        True, 1, 0, None, 0.0)
