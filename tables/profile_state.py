"""An instrument's volume profile with its unpublished rows: the state component ``profile``.

The profile (``tables.profile.VolumeProfile``) is published at its own cadence; each
publish carries only the price rows that gained volume since the previous one (the
mirror HSETs just those). Which rows those are is part of the profile's publish cycle,
so the range travels with the profile, in one component, rather than beside it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from aion.tables.profile import SMALL_BATCH, ProfileSnapshot, VolumeProfile, row_index

if TYPE_CHECKING:
    from aion.tables.analytics import AnalyticsConfig


@dataclass(slots=True, eq=False)
class ProfileState:
    """A volume profile and the rows that gained volume since it was last published.

    Attributes:
        profile: The session's volume profile.
        dirty_lo: Lowest row that gained volume since the last publish (-1: none).
        dirty_hi: Highest such row (-1: none).
    """

    profile: VolumeProfile
    dirty_lo: int = -1
    dirty_hi: int = -1

    NAME: ClassVar[str] = "profile"
    VERSION: ClassVar[int] = 1

    def add(self, prices: np.ndarray, incs: np.ndarray, event_ns: np.ndarray,
            days: np.ndarray) -> None:
        """Bin a run of accepted ticks and widen the unpublished range by their rows.

        Args:
            prices: Prices, in order.
            incs: Their incremental volumes.
            event_ns: Their event times.
            days: Their IST epoch-days.
        """
        self.profile.update_many(prices, incs, event_ns, days)
        if len(prices) <= SMALL_BATCH:  # a few ticks: Python beats numpy's set-up
            traded = [p for p, v in zip(prices.tolist(), incs.tolist(), strict=True) if v > 0]
            low, high = (min(traded), max(traded)) if traded else (None, None)
        else:
            arr = prices[incs > 0]
            low, high = (float(arr.min()), float(arr.max())) if len(arr) else (None, None)
        if low is not None and high is not None:
            tick = self.profile.tick_size
            lo, hi = row_index(low, tick), row_index(high, tick)
            self.dirty_lo = lo if self.dirty_lo < 0 else min(self.dirty_lo, lo)
            self.dirty_hi = max(self.dirty_hi, hi)

    def publish(self, t_ns: int) -> tuple[ProfileSnapshot, tuple[int, int]] | None:
        """Evaluate and mark published (``VolumeProfile.publish``), taking the dirty rows.

        Args:
            t_ns: Event time, epoch ns.

        Returns:
            The snapshot and the ``(lo, hi)`` rows changed since the previous publish
            (``(-1, -1)``: none), or None when there was nothing to publish (the range
            is then kept for the next publish).
        """
        snap = self.profile.publish(t_ns)
        if snap is None:
            return None
        dirty = (self.dirty_lo, self.dirty_hi)
        self.dirty_lo = self.dirty_hi = -1
        return snap, dirty

    def encode(self) -> list[Any]:
        """The state component payload (``state_codec``), version 1.

        Returns:
            ``[profile, dirty_lo, dirty_hi]``, the profile as ``VolumeProfile.to_bytes``
            in base64 (its own header carries its format version).
        """
        return [base64.b64encode(self.profile.to_bytes()).decode(), self.dirty_lo,
                self.dirty_hi]

    @classmethod
    def decode(cls, payload: Any, version: int, config: AnalyticsConfig) -> ProfileState:
        """Inverse of :meth:`encode`.

        Args:
            payload: An :meth:`encode` payload.
            version: Its version (1, the only one so far).
            config: Parameters the state was built with (its profile settings).

        Returns:
            The profile state.

        Raises:
            ValueError: If the profile bytes are not a profile of a known format.
        """
        blob, lo, hi = payload
        return cls(VolumeProfile.from_bytes(base64.b64decode(blob), config.profile), int(lo),
                   int(hi))

    def __eq__(self, other: object) -> bool:
        # VolumeProfile has no equality; its bytes are its whole state (as for indicators:
        # same bytes, same future).
        if not isinstance(other, ProfileState):
            return NotImplemented
        return (self.dirty_lo, self.dirty_hi) == (other.dirty_lo, other.dirty_hi) \
            and self.profile.params == other.profile.params \
            and self.profile.to_bytes() == other.profile.to_bytes()

    __hash__ = None  # type: ignore[assignment]  # mutable
