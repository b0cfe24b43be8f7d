"""The VIX regime a trading day's detectors use: the previous session's INDIA VIX close.

The volume-baseline issue defines the VIX-adjusted volume threshold as ``expected x
regime multiplier`` (:class:`aion.tables.volume_baseline.VixParams`: LOW 0.8, NORMAL 1.0,
HIGH 1.4, PANIC 1.8). The live regime (:class:`~aion.tables.volume_baseline.VixRegime`) is
only known in the INDIA VIX instrument's partition; reading it from another partition at
processing time would make an alert depend on which partition ran first. So detectors in
every partition use a regime that is fixed before the session opens:

* **Source.** The INDIA VIX entry (``NSE:INDIA VIX``) of the daily volume averages: its
  ``last_close`` (close of the ``as_of`` session), classified with
  :meth:`VixParams.classify` (no hysteresis: one value). The averages reach every worker
  the way ``avg_volume_20d`` does (the averages file / compacted topic, then the
  instrument info of :func:`aion.agents.context.build_context`), so the Faust workers and
  the direct driver see the same value, identical in every partition.
* **Causality.** A bar of IST day ``D`` uses it only if ``as_of < D``: that close was
  known before ``D``'s first tick. An ``as_of`` on or after ``D`` (averages computed
  after the session being replayed) would be look-ahead and gives no regime. An older
  ``as_of`` (averages not refreshed for a few days) is used and recorded as the basis.
* **No regime** (no VIX entry, a bad close, or the look-ahead case): multiplier 1.0, the
  baseline's neutral value, and the alert says why (:data:`REASON_NO_PRIOR_VIX`,
  :data:`REASON_NOT_BEFORE_DAY`).

Pure: reference data in, regime out.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from aion.tables.timeutil import day_to_iso
from aion.tables.volume_baseline import Regime, VixParams

REASON_NO_PRIOR_VIX = "no_prior_vix"
"""No usable INDIA VIX close in the daily averages."""
REASON_NOT_BEFORE_DAY = "vix_close_not_before_day"
"""The VIX close is of the bar's own day or later: using it would read the future."""

_EPOCH_ORDINAL = _dt.date(1970, 1, 1).toordinal()


@dataclass(frozen=True, slots=True)
class PriorVix:
    """An INDIA VIX daily close and its regime.

    Attributes:
        vix: The close.
        as_of_day: IST epoch-day of that session.
        regime: Its regime (:meth:`VixParams.classify`).
    """

    vix: float
    as_of_day: int
    regime: Regime

    @classmethod
    def from_averages(cls, entry: Mapping[str, Any] | None, params: VixParams
                      ) -> PriorVix | None:
        """From the INDIA VIX entry of the daily averages.

        Args:
            entry: The entry (``last_close``, ``as_of`` ISO date), or None.
            params: Regime thresholds.

        Returns:
            The close and regime, or None when the entry is missing or its close or date
            is unusable (not finite, not positive, not an ISO date).
        """
        if not entry:
            return None
        close, as_of = entry.get("last_close"), entry.get("as_of")
        if (not isinstance(close, int | float) or isinstance(close, bool)
                or not math.isfinite(close) or close <= 0 or not isinstance(as_of, str)):
            return None
        try:
            day = _dt.date.fromisoformat(as_of[:10]).toordinal() - _EPOCH_ORDINAL
        except ValueError:
            return None
        return cls(float(close), day, params.classify(float(close)))


class DayRegime(NamedTuple):
    """The regime a bar's detectors use.

    Attributes:
        regime: The regime, None when unknown.
        multiplier: Volume-threshold multiplier (1.0 when unknown).
        basis: ISO date of the VIX close used, or why there is none.
    """

    regime: Regime | None
    multiplier: float
    basis: str


NEUTRAL = DayRegime(None, 1.0, REASON_NO_PRIOR_VIX)
"""No VIX close known: thresholds as configured."""


def day_regime(prior: PriorVix | None, day: int, params: VixParams) -> DayRegime:
    """The regime of IST day ``day`` (see the module docstring).

    Args:
        prior: The latest INDIA VIX daily close known, or None.
        day: IST epoch-day of the bar.
        params: Regime multipliers.

    Returns:
        The regime, its multiplier and its basis.
    """
    if prior is None:
        return NEUTRAL
    if prior.as_of_day >= day:
        return DayRegime(None, 1.0, REASON_NOT_BEFORE_DAY)
    return DayRegime(prior.regime, params.multiplier(prior.regime), day_to_iso(prior.as_of_day))
