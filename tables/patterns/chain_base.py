"""The chain-detector interface: patterns on one underlying's option-chain snapshots.

Beside the bar detectors of :mod:`.base`: a :class:`ChainDetector` has a ``NAME``, a
``CATEGORY``, ``APPLIES_TO = {InstrumentKind.CHAIN}``, a frozen ``Params`` dataclass
(from ``config/patterns.yaml``), an optional JSON-able state and one method,
:meth:`ChainDetector.on_snapshot`, called once per chain-time minute snapshot of an
underlying (``tables.chain``) with a :class:`ChainContext`. It returns a
:class:`~.base.Hit` or None; the hit becomes an alert in :mod:`.chain_alerts`.

**When a hit becomes known.** A snapshot is emitted when chain time crosses a minute
boundary: it holds everything applied before that boundary. So a snapshot of minute
``[s, s + 1 min)`` and any hit on it are known at ``s + 1 min`` (:attr:`ChainContext.end_ms`),
exactly like a bar. The context holds that snapshot, the rows of the *earlier* snapshots
of the same IST day (:class:`ChainRow`, oldest first) and the underlying's session VWAP
at the snapshot: nothing later.

**The trade.** Every chain pattern proposes a short-premium position on two legs of the
snapshot's nearest expiry (:meth:`ChainDetector.legs`: the ATM call and put by default):
its entry is their combined premium ``P``; the target is ``P (1 - target_fraction)``
(the premium decayed by that fraction) and the stop ``P (1 + stop_fraction)`` (a loss of
that fraction of the premium collected), see :class:`StraddleParams`.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, ClassVar

from aion.tables.patterns.base import DetectorParams, Hit, InstrumentKind, PatternDetector
from aion.tables.records.chain import ChainSnapshot, OptionRow

MS_PER_MIN = 60_000


@dataclass(frozen=True, slots=True)
class ChainRow:
    """What the chain keeps of one earlier snapshot (its history, JSON as a list).

    Attributes:
        start_ms: Start of the snapshot's chain-time minute, epoch ms.
        price: Underlying price (None: none seen).
        atm_strike: ATM strike (None: no options).
        atm_iv: Mean IV of the ATM call and put (None: unknown).
        premium: ATM straddle premium (None: a leg missing).
        atm_volume: Combined CE + PE day volume at the ATM strike (0: unknown).
    """

    start_ms: int
    price: float | None
    atm_strike: float | None
    atm_iv: float | None
    premium: float | None
    atm_volume: int

    def to_list(self) -> list[Any]:
        """Positional serialisation (field order is the format)."""
        return [self.start_ms, self.price, self.atm_strike, self.atm_iv, self.premium,
                self.atm_volume]

    @classmethod
    def from_list(cls, v: list[Any]) -> ChainRow:
        """Inverse of :meth:`to_list`."""
        return cls(int(v[0]), _opt(v[1]), _opt(v[2]), _opt(v[3]), _opt(v[4]), int(v[5]))

    @classmethod
    def of(cls, snap: ChainSnapshot, start_ms: int) -> ChainRow:
        """The row of a snapshot."""
        vol = snap.straddle_volume.get(strike_key(snap.atm_strike), 0) \
            if snap.atm_strike is not None else 0
        return cls(start_ms, snap.underlying_price, snap.atm_strike, snap.atm_iv,
                   snap.atm_straddle_premium, int(vol))


def _opt(x: Any) -> float | None:
    return None if x is None else float(x)


def strike_key(strike: float) -> str:
    """A strike as ``ChainSnapshot.straddle_volume`` keys it (no ``.0`` on whole strikes)."""
    return str(int(strike)) if strike == int(strike) else repr(strike)


@dataclass(frozen=True, slots=True)
class ChainContext:
    """What a chain detector sees at one snapshot.

    Attributes:
        snapshot: The snapshot just made.
        start_ms: Start of its chain-time minute, epoch ms.
        minute: Session minute of that minute (0 = 09:15 IST).
        history: Rows of the earlier snapshots of the same IST day, oldest first.
        vwap: Session VWAP of the underlying at the snapshot (None: no volume seen).
        vwap_source: ``"spot"`` (the underlying's own volume: stocks), ``"future"``
            (indices carry no volume: the nearest-expiry future's VWAP) or ``"none"``.
        vwap_price: Last price of the instrument whose VWAP that is (the spot, or the
            future: compare a VWAP with its own instrument's price).
    """

    snapshot: ChainSnapshot
    start_ms: int
    minute: int
    history: tuple[ChainRow, ...]
    vwap: float | None
    vwap_source: str
    vwap_price: float | None = None

    @property
    def end_ms(self) -> int:
        """When the snapshot (and any hit on it) is known: its minute's end, epoch ms."""
        return self.start_ms + MS_PER_MIN

    @property
    def row(self) -> ChainRow:
        """The snapshot as a history row."""
        return ChainRow.of(self.snapshot, self.start_ms)

    def window(self, minutes: int) -> tuple[ChainRow, ...]:
        """Earlier rows whose minute starts at or after ``start_ms - minutes``, oldest first."""
        lo = self.start_ms - minutes * MS_PER_MIN
        return tuple(r for r in self.history if r.start_ms >= lo)

    def back(self, minutes: int) -> ChainRow | None:
        """The latest earlier row at least ``minutes`` before this snapshot's minute.

        Returns:
            The row with the largest ``start_ms <= start_ms - minutes`` min, or None.
        """
        lo = self.start_ms - minutes * MS_PER_MIN
        for r in reversed(self.history):
            if r.start_ms <= lo:
                return r
        return None

    def sigma(self, min_rows: int = 10) -> float | None:
        """Sample sd of the underlying's log change between consecutive earlier rows.

        Consecutive snapshots are usually one minute apart, so this is a per-minute sigma.

        Args:
            min_rows: Fewest changes needed (None below it).

        Returns:
            The sd (ddof 1), or None while warming up or when it is 0.
        """
        prices = [r.price for r in self.history if r.price is not None and r.price > 0]
        moves = [math.log(b / a) for a, b in itertools.pairwise(prices)]
        if len(moves) < max(min_rows, 2):
            return None
        mean = sum(moves) / len(moves)
        sd = math.sqrt(sum((m - mean) ** 2 for m in moves) / (len(moves) - 1))
        return sd if sd > 0 else None

    def option(self, strike: float, kind: str) -> OptionRow | None:
        """The snapshot's nearest-expiry option at a strike (``CE`` or ``PE``)."""
        for o in self.snapshot.options:
            if o.expiry == self.snapshot.expiry and o.strike == strike and o.type == kind:
                return o
        return None

    def strikes(self) -> list[float]:
        """The nearest expiry's strikes, ascending."""
        s = self.snapshot
        return sorted({o.strike for o in s.options if o.expiry == s.expiry})


@dataclass(frozen=True)
class StraddleParams(DetectorParams):
    """Trade levels shared by the chain patterns (fractions of the premium collected).

    Attributes:
        target_fraction: Target: the combined premium decayed by this fraction (0.5).
        stop_fraction: Stop: the combined premium up by this fraction (1.0: a loss of
            100 % of the premium collected).
    """

    target_fraction: float = 0.5
    stop_fraction: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 < self.target_fraction < 1.0:
            raise ValueError(f"target_fraction must be in (0, 1), got {self.target_fraction}")
        if not self.stop_fraction > 0.0:
            raise ValueError(f"stop_fraction must be > 0, got {self.stop_fraction}")


class ChainDetector(PatternDetector):
    """Base of every chain pattern detector (see the module docstring).

    Subclasses set the class attributes and implement :meth:`on_snapshot`; a detector
    with state (one per underlying) overrides :meth:`new_state` and keeps it JSON-able.
    """

    CATEGORY: ClassVar[str] = "straddle"
    ACTION: ClassVar[str] = "SELL_STRADDLE"
    APPLIES_TO: ClassVar[frozenset[InstrumentKind]] = frozenset({InstrumentKind.CHAIN})
    Params: ClassVar[type[DetectorParams]] = StraddleParams

    def on_snapshot(self, state: dict[str, Any], ctx: ChainContext) -> Hit | None:
        """Look at one chain snapshot.

        Args:
            state: This detector's state for the underlying (changed in place).
            ctx: The snapshot and what is known at its clock.

        Returns:
            A hit, or None.
        """
        raise NotImplementedError

    def legs(self, ctx: ChainContext, hit: Hit) -> tuple[OptionRow, OptionRow] | None:
        """The call and put the alert trades (default: the ATM straddle).

        Args:
            ctx: The snapshot the hit is on.
            hit: The hit.

        Returns:
            ``(call, put)`` of the nearest expiry, or None when a leg is missing.
        """
        k = ctx.snapshot.atm_strike
        if k is None:
            return None
        ce, pe = ctx.option(k, "CE"), ctx.option(k, "PE")
        return (ce, pe) if ce is not None and pe is not None else None

    def levels(self, premium: float) -> tuple[float, float]:
        """``(target, stop)`` of a short position entered at a combined premium."""
        p = self.params
        assert isinstance(p, StraddleParams)
        return premium * (1.0 - p.target_fraction), premium * (1.0 + p.stop_fraction)
