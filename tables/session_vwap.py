"""Session VWAP of one instrument: the state component ``vwap``.

It accumulates ``price x incremental volume`` of every accepted tick, so it is exact per
tick (not per bar), and restarts on a new IST trading date. It is a different thing from
the ``vwap`` of ``tables.indicators`` (the indicator set's own, fed by the caller).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:
    from aion.tables.analytics import AnalyticsConfig


@dataclass(slots=True)
class SessionVwap:
    """VWAP accumulators of the current trading date.

    Attributes:
        day: IST epoch-day of the accumulators (-1 before any tick).
        pv: Sum of price x incremental volume this day.
        volume: Sum of incremental volume this day.
    """

    day: int = -1
    pv: float = 0.0
    volume: int = 0

    NAME: ClassVar[str] = "vwap"
    VERSION: ClassVar[int] = 1

    @property
    def value(self) -> float | None:
        """The VWAP, or None before any volume this day."""
        return self.pv / self.volume if self.volume > 0 else None

    def add(self, prices: np.ndarray, incs: np.ndarray, days: np.ndarray) -> None:
        """Accumulate a run of accepted ticks (in order, at least one).

        Ticks of a day before the run's last day are dropped: the run's last day is the
        state's day from now on, and only its ticks count.

        Args:
            prices: Prices.
            incs: Incremental volumes (int64).
            days: IST epoch-days of the ticks.
        """
        last_day = int(days[-1])
        if last_day != self.day:
            self.day, self.pv, self.volume = last_day, 0.0, 0
            keep = days == last_day
            prices, incs = prices[keep], incs[keep]
        self.pv += float(np.dot(prices, incs.astype(np.float64)))
        self.volume += int(incs.sum())

    def encode(self) -> list[Any]:
        """The state component payload (``state_codec``), version 1.

        Returns:
            ``[day, pv, volume]``.
        """
        return [self.day, self.pv, self.volume]

    @classmethod
    def decode(cls, payload: Any, version: int, config: AnalyticsConfig) -> SessionVwap:
        """Inverse of :meth:`encode`.

        Args:
            payload: An :meth:`encode` payload.
            version: Its version (1, the only one so far).
            config: Unused (the layout does not depend on configuration).

        Returns:
            The accumulators.
        """
        day, pv, volume = payload
        return cls(int(day), float(pv), int(volume))
