"""Calibration of alert confidence against realised success: deciles and the Brier score.

An alert's outcome on a chosen forward-validation window (:data:`DEFAULT_WINDOW_MIN`,
5 minutes) is ``y = 1`` when the window succeeded (``tables.validation.forward``'s
definition) and ``y = 0`` when it failed; neutral alerts (success None) are left out.
Its confidence ``c`` is in [0, 1].

* **Buckets**: deciles of confidence, bucket ``i = min(floor(10 c), 9)``, i.e.
  ``[0, 0.1), [0.1, 0.2), ..., [0.9, 1.0]``. Per bucket: count, mean confidence and the
  realised success rate ``mean(y)``. A calibrated detector has success rate close to
  mean confidence in every bucket.
* **Brier score**: ``mean((c - y)^2)`` over the alerts (0 perfect; 0.25 is what a
  constant 0.5 scores); None without outcomes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

DEFAULT_WINDOW_MIN = 5
"""Forward window whose success calibration reads (minutes)."""

N_BUCKETS = 10


@dataclass(frozen=True, slots=True)
class CalibrationBucket:
    """One confidence decile.

    Attributes:
        lo: Lower edge (inclusive).
        hi: Upper edge (exclusive; 1.0 inclusive for the last bucket).
        count: Outcomes in it.
        mean_confidence: Mean confidence (None when empty).
        success_rate: Share of successes (None when empty).
    """

    lo: float
    hi: float
    count: int
    mean_confidence: float | None
    success_rate: float | None


@dataclass(frozen=True, slots=True)
class Calibration:
    """Calibration of a set of outcomes.

    Attributes:
        buckets: The ten deciles, lowest first.
        brier: Brier score (None without outcomes).
        count: Outcomes used.
    """

    buckets: tuple[CalibrationBucket, ...]
    brier: float | None
    count: int


def bucket_of(confidence: float) -> int:
    """Decile of a confidence: ``min(floor(10 c), 9)``, clipped to [0, 9]."""
    return max(0, min(math.floor(confidence * N_BUCKETS), N_BUCKETS - 1))


def calibrate(outcomes: Iterable[tuple[float, bool]]) -> Calibration:
    """Confidence deciles against realised success, and the Brier score.

    Args:
        outcomes: ``(confidence, success)`` per alert (neutral alerts already left out).

    Returns:
        The calibration (module docstring).
    """
    conf: list[list[float]] = [[] for _ in range(N_BUCKETS)]
    hits: list[list[int]] = [[] for _ in range(N_BUCKETS)]
    sq = 0.0
    n = 0
    for c, ok in outcomes:
        y = 1 if ok else 0
        i = bucket_of(c)
        conf[i].append(c)
        hits[i].append(y)
        sq += (c - y) ** 2
        n += 1
    buckets = tuple(
        CalibrationBucket(
            lo=i / N_BUCKETS, hi=(i + 1) / N_BUCKETS, count=len(conf[i]),
            mean_confidence=sum(conf[i]) / len(conf[i]) if conf[i] else None,
            success_rate=sum(hits[i]) / len(hits[i]) if hits[i] else None)
        for i in range(N_BUCKETS))
    return Calibration(buckets=buckets, brier=sq / n if n else None, count=n)
