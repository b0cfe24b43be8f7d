"""Scoring alerts against the simulator's labelled events: matching, precision, recall.

**Ground truth per pattern** (:data:`PATTERN_LABELS`). Each pattern counts the injected
event types below as its positives (``streams.simulator.events.EventType``; a label's
``direction`` is the simulator's: ``up``/``down``/None):

============================  ====================================================
pattern                       positive labels (alert direction it must have)
============================  ====================================================
``breakout``                  ``volume_breakout`` (same direction as the break)
``volume_breakout``           ``volume_breakout`` (same direction)
``upside_momentum``           ``momentum`` with direction ``up`` (bullish)
``downside_momentum``         ``momentum`` with direction ``down`` (bearish)
``reversal``                  ``reversal`` (the direction after the turn)
``volume_spike``              ``volume_spike`` (any direction)
``volume_price_divergence``   ``volume_price_divergence`` (*against* the push: the
                              label's direction is where price moved while volume
                              faded; the detector calls the turn the other way)
``hidden_accumulation``       none yet: alerts and forward figures only, no
                              precision or recall
``ict_momentum``              ``momentum`` (same direction)
``ict_liquidity_grab``        ``liquidity_sweep`` (the direction after the sweep: a
                              sweep of highs is bearish)
``ict_fair_value_gap``        ``fair_value_gap`` (the displacement's direction)
``ict_optimal_trade_entry``   ``impulse_retrace`` (the impulse's direction)
``vp_breakout``               ``value_area_break`` (the direction of the break)
``iv_crush``                  ``iv_crush`` (any direction; on the chain's index)
``range_bound_strangle``      ``range_bound`` (any direction; on the chain's index)
============================  ====================================================

A pattern not in the table (``ict_premium_discount``, ``ict_killzone``,
``market_maker_trap``, ``premium_collection``, ``kow_signal_straddle``,
``vp_poc_rejection``, ``vp_node_test``, ...) has no labels either. A labelled pattern
with no alerts (or not built yet) still has its positives: labelled n, alerts 0, recall 0.
``near_miss`` and ``failed_breakout`` labels are **negatives** for every pattern: an alert
inside one is a false positive (it is counted as such in ``on_negative``; every alert
that matches no positive label is a false positive anyway).

**Matching.** An alert of instrument token ``k`` at event time ``t`` (ms; the moment it is
known) matches a label when ``k`` is one of the label's tokens, ``start <= t <= end +
grace`` (``grace`` = :data:`DEFAULT_GRACE_MS`, 5 minutes: a detector on closed 1-minute
bars over a 5-20 bar window needs a few bars after the mechanism ends to see all of
it), and, for a positive label with a required direction, the alert's direction agrees.
A label's tokens are its instrument plus, for a label on an index future, the index:
the simulator injects a future's events on the index it is priced from, so the index
moves the same way (``InjectedEvent``'s docstring). Chain labels (``iv_crush``,
``range_bound``) are on the index the chain is on, and a chain alert carries its
underlying: its token is the index's, or, when the alert names the underlying only by
symbol (``NSE:NIFTY 50``) or by a token the master does not know, the evaluation resolves
the symbol to the index's token (``agents.evaluate.alert_token``).

**Scores** of a pattern with positives: ``precision = matched alerts / alerts`` (an alert
is matched when it matches at least one positive label; None with no alerts);
``recall = labels with >= 1 matching alert / labels`` (None with no labels). Recall by
size groups the labels by ``magnitude_sigma`` into :data:`SIZE_BUCKETS` (``[lo, hi)``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

DEFAULT_GRACE_MS = 5 * 60_000
"""Time after a label's end in which an alert still matches it (5 minutes)."""

NEGATIVE_TYPES: frozenset[str] = frozenset({"near_miss", "failed_breakout"})
"""Label types an alert must not fire on (false positives for every pattern)."""

SIZE_BUCKETS: tuple[tuple[float, float], ...] = (
    (0.0, 2.0), (2.0, 3.0), (3.0, 4.5), (4.5, float("inf")))
"""``magnitude_sigma`` groups for recall by size: <2, 2-3, 3-4.5, >=4.5."""


@dataclass(frozen=True, slots=True)
class LabelRule:
    """Which labels are a pattern's positives.

    Attributes:
        event_type: The simulator's event type.
        direction: Only labels with this direction (``"up"``/``"down"``), or None: any.
        flip: The alert's direction is the opposite of the label's (divergence).
        directional: The alert's direction must agree with the label's (after ``flip``).
    """

    event_type: str
    direction: str | None = None
    flip: bool = False
    directional: bool = True


PATTERN_LABELS: Mapping[str, tuple[LabelRule, ...]] = {
    "breakout": (LabelRule("volume_breakout"),),
    "volume_breakout": (LabelRule("volume_breakout"),),
    "upside_momentum": (LabelRule("momentum", direction="up"),),
    "downside_momentum": (LabelRule("momentum", direction="down"),),
    "reversal": (LabelRule("reversal"),),
    "volume_spike": (LabelRule("volume_spike", directional=False),),
    "volume_price_divergence": (LabelRule("volume_price_divergence", flip=True),),
    "hidden_accumulation": (),
    "ict_momentum": (LabelRule("momentum"),),
    "ict_liquidity_grab": (LabelRule("liquidity_sweep"),),
    "ict_fair_value_gap": (LabelRule("fair_value_gap"),),
    "ict_optimal_trade_entry": (LabelRule("impulse_retrace"),),
    "vp_breakout": (LabelRule("value_area_break"),),
    "iv_crush": (LabelRule("iv_crush", directional=False),),
    "range_bound_strangle": (LabelRule("range_bound", directional=False),),
}
"""Positive labels per pattern (see the module docstring); absent or empty: unlabelled."""


@dataclass(frozen=True, slots=True)
class Label:
    """One labelled event, in event time.

    Attributes:
        event_type: The simulator's event type.
        tokens: Instrument tokens the event is on (its instrument; a future's index too).
        start_ms: Start, epoch ms.
        end_ms: End, epoch ms.
        direction: +1 (up), -1 (down) or 0 (none).
        magnitude_sigma: Size in the simulator's sigma units.
        symbol: Tradingsymbol of the labelled instrument (for reports).
    """

    event_type: str
    tokens: frozenset[int]
    start_ms: int
    end_ms: int
    direction: int = 0
    magnitude_sigma: float = 0.0
    symbol: str = ""


@dataclass(frozen=True, slots=True)
class ScoredAlert:
    """What scoring needs of an alert.

    Attributes:
        alert_id: Its id.
        pattern: Pattern name.
        token: Instrument token.
        event_ms: When it is known, epoch ms.
        direction: +1 bullish, -1 bearish, 0 neutral.
        confidence: In [0, 1].
    """

    alert_id: str
    pattern: str
    token: int
    event_ms: int
    direction: int
    confidence: float = 0.0


@dataclass(frozen=True, slots=True)
class PatternScore:
    """Precision and recall of one pattern.

    Attributes:
        pattern: Pattern name.
        labelled: Positive labels.
        alerts: Alerts.
        matched_alerts: Alerts matching at least one positive label.
        found_labels: Positive labels with at least one matching alert.
        on_negative: Alerts matching no positive but a negative label.
        precision: ``matched_alerts / alerts`` (None: unlabelled pattern or no alerts).
        recall: ``found_labels / labelled`` (None: no labels).
        recall_by_size: ``(lo, hi, labels, found)`` per :data:`SIZE_BUCKETS` group.
        has_labels: The pattern has a ground-truth mapping.
    """

    pattern: str
    labelled: int
    alerts: int
    matched_alerts: int
    found_labels: int
    on_negative: int
    precision: float | None
    recall: float | None
    recall_by_size: tuple[tuple[float, float, int, int], ...] = field(default=())
    has_labels: bool = True


def label_direction(text: object) -> int:
    """The simulator's ``"up"``/``"down"``/None as +1/-1/0."""
    return {"up": 1, "down": -1}.get(str(text) if text is not None else "", 0)


def is_positive(rule: LabelRule, label: Label) -> bool:
    """Whether a label is a positive under a rule.

    Args:
        rule: One of a pattern's rules.
        label: The label.

    Returns:
        True when the type agrees and, if the rule names a direction, the direction too.
    """
    if label.event_type != rule.event_type:
        return False
    return rule.direction is None or label.direction == label_direction(rule.direction)


def in_window(alert: ScoredAlert, label: Label, grace_ms: int = DEFAULT_GRACE_MS) -> bool:
    """Same instrument and ``start <= t <= end + grace`` (no direction check).

    Args:
        alert: The alert.
        label: The label.
        grace_ms: Grace after the label's end.

    Returns:
        Whether the alert falls on the label.
    """
    return (alert.token in label.tokens
            and label.start_ms <= alert.event_ms <= label.end_ms + grace_ms)


def matches(alert: ScoredAlert, label: Label, rule: LabelRule,
            grace_ms: int = DEFAULT_GRACE_MS) -> bool:
    """Whether an alert matches a positive label (module docstring, "Matching").

    Args:
        alert: The alert.
        label: A label that is a positive under ``rule``.
        rule: The rule that made it one.
        grace_ms: Grace after the label's end.

    Returns:
        True on a match.
    """
    if not in_window(alert, label, grace_ms):
        return False
    if not rule.directional:
        return True
    want = -label.direction if rule.flip else label.direction
    return alert.direction == want


def positives(pattern: str, labels: Iterable[Label]) -> list[tuple[Label, LabelRule]]:
    """A pattern's positive labels, each with the rule that selects it.

    Args:
        pattern: Pattern name.
        labels: All labels.

    Returns:
        ``(label, rule)`` pairs, in the labels' order.
    """
    rules = PATTERN_LABELS.get(pattern, ())
    out = []
    for label in labels:
        for rule in rules:
            if is_positive(rule, label):
                out.append((label, rule))
                break
    return out


def size_bucket(sigma: float) -> int:
    """Index of the :data:`SIZE_BUCKETS` group holding ``sigma``."""
    for i, (lo, hi) in enumerate(SIZE_BUCKETS):
        if lo <= sigma < hi:
            return i
    return 0  # negative or NaN sizes: the smallest group


def score_pattern(pattern: str, alerts: Sequence[ScoredAlert], labels: Sequence[Label],
                  grace_ms: int = DEFAULT_GRACE_MS) -> PatternScore:
    """Precision and recall of one pattern's alerts against all labels.

    Args:
        pattern: Pattern name.
        alerts: The pattern's alerts (others are ignored).
        labels: Every label of the sessions (positives are selected per pattern).
        grace_ms: Grace after a label's end.

    Returns:
        The score (module docstring, "Scores").
    """
    mine = [a for a in alerts if a.pattern == pattern]
    has_labels = bool(PATTERN_LABELS.get(pattern))
    pos = positives(pattern, labels)
    negs = [lb for lb in labels if lb.event_type in NEGATIVE_TYPES]
    found = [False] * len(pos)
    matched = on_negative = 0
    for a in mine:
        hit = False
        for i, (label, rule) in enumerate(pos):
            if matches(a, label, rule, grace_ms):
                found[i] = hit = True
        if hit:
            matched += 1
        elif any(in_window(a, lb, grace_ms) for lb in negs):
            on_negative += 1
    by_size = []
    for j, (lo, hi) in enumerate(SIZE_BUCKETS):
        idx = [i for i, (lb, _) in enumerate(pos) if size_bucket(lb.magnitude_sigma) == j]
        by_size.append((lo, hi, len(idx), sum(found[i] for i in idx)))
    n_found = sum(found)
    return PatternScore(
        pattern=pattern, labelled=len(pos), alerts=len(mine), matched_alerts=matched,
        found_labels=n_found, on_negative=on_negative,
        precision=matched / len(mine) if has_labels and mine else None,
        recall=n_found / len(pos) if has_labels and pos else None,
        recall_by_size=tuple(by_size), has_labels=has_labels,
    )
