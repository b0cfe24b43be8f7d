"""Pattern mathematics: bounded confidence, outlier-capped volume ratio, expected move.

The reference's ``PatternMathematics`` guarantees three things to every detector; these
are their definitions here (pure functions, total over bad inputs, no exceptions on the
hot path except for an invalid ``cap``):

* **Confidence** ``bounded_confidence(value, bonus=0.0) = min(1, max(0, value + bonus))``.
  NaN (in either argument) gives 0.0: a confidence nobody can compute is no confidence.
  ``+inf`` gives 1.0 and ``-inf`` 0.0 (clamped like any other number). The optional
  ``bonus`` is our reading of the reference's two-argument call
  ``calculate_bounded_confidence(0.8, 0.1)``: a base confidence plus an adjustment,
  bounded after the sum (so 0.8 + 0.1 = 0.9, and 0.95 + 0.1 = 1.0).
* **Volume ratio outlier cap** ``protect_outliers(ratio, cap=10.0) = min(ratio, cap)``
  for a ratio in ``[0, +inf]`` (``+inf``, e.g. volume over a zero baseline, gives
  ``cap``). NaN and negative ratios give 0.0: volumes are never negative, so such a
  ratio is a broken input and must not read as a volume surge. The reference caps at
  10.0 ("Outlier Protection ... max 10.0"; ``protect_outliers(15.0, 10.0)`` = 10.0), the
  same cap as ``volume_baseline.ratio_cap``. ``cap`` must be finite and positive.
* **Expected move** ``normalise_expected_move(value) = value / 100``: the reference's
  rule, "``expected_move: 1.5`` means a 1.5 % move", turned into the decimal 0.015. The
  reference's ``_normalise_expected_move`` "converts values to decimal format" and says
  nothing about telling an already-decimal value apart, so there is no guessing by
  magnitude here: **values are always percent** (0.015 means 0.015 %, not 1.5 %). The
  sign is kept (a ``price_change`` of -1.2 gives -0.012); callers that need a magnitude
  take ``abs``. ``None``, NaN, infinities, booleans and anything that does not parse as
  a number give 0.0, which the risk manager reads as "no expected move" and falls back
  (to the price change, then to its configured default).
"""

from __future__ import annotations

import math

DEFAULT_RATIO_CAP = 10.0
"""The reference's volume-ratio outlier cap."""


def bounded_confidence(value: float, bonus: float = 0.0) -> float:
    """Confidence bounded to ``[0, 1]``.

    Args:
        value: Raw (base) confidence.
        bonus: Adjustment added before bounding (may be negative).

    Returns:
        ``value + bonus`` clamped to ``[0.0, 1.0]``; 0.0 if the sum is NaN.
    """
    total = float(value) + float(bonus)
    if math.isnan(total):
        return 0.0
    return min(1.0, max(0.0, total))


def protect_outliers(ratio: float, cap: float = DEFAULT_RATIO_CAP) -> float:
    """Volume ratio with its outliers capped.

    Args:
        ratio: Observed / expected volume.
        cap: Upper bound, finite and positive (default 10.0, the reference's).

    Returns:
        ``min(ratio, cap)`` for a ratio in ``[0, +inf]``; 0.0 for NaN or a negative ratio.

    Raises:
        ValueError: If ``cap`` is not a finite positive number.
    """
    if not (math.isfinite(cap) and cap > 0.0):
        raise ValueError(f"cap must be a finite positive number, got {cap!r}")
    r = float(ratio)
    if math.isnan(r) or r < 0.0:
        return 0.0
    return min(r, cap)


def normalise_expected_move(value: float | int | str | None) -> float:
    """Percent expected move as a decimal fraction (1.5 -> 0.015).

    Args:
        value: Expected move (or price change) in percent, as a number or numeric
            string (Redis hands strings back).

    Returns:
        ``value / 100`` with its sign; 0.0 for None, booleans, non-numbers and
        non-finite values.
    """
    if value is None or isinstance(value, bool):
        return 0.0
    try:
        v = float(value)
    except (TypeError, ValueError):
        return 0.0
    if not math.isfinite(v):
        return 0.0
    return v / 100.0
