"""``kow_signal_straddle``: the reference's VWAP straddle (Kow Signal), made exact."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aion.tables.patterns.base import Hit, Signal, check_count
from aion.tables.patterns.chain_base import ChainContext, ChainDetector, StraddleParams
from aion.tables.patterns.mathematics import bounded_confidence
from aion.tables.timeutil import NS_PER_MS, SESSION_OPEN_MINUTE, ist_day, ist_day_start_ns

MS_PER_MIN = 60_000


@dataclass(frozen=True)
class KowParams(StraddleParams):
    """Entry and exit minutes, the VWAP band, the volume confirmation.

    Attributes:
        entry_minute: Session minute of the entry (15: 09:30 IST).
        exit_minute: Session minute of the exit (360: 15:15 IST).
        max_entry_delay_min: Latest entry after ``entry_minute`` when no snapshot falls on
            it (a quiet chain).
        max_vwap_distance_pct: Largest ``|P - VWAP| / VWAP`` (percent) that counts as
            balanced.
        volume_window_min: Look-back of the combined CE + PE volume confirmation.
        min_volume_increase: Combined ATM CE + PE volume traded in that look-back.
    """

    entry_minute: int = 15
    exit_minute: int = 360
    max_entry_delay_min: int = 5
    max_vwap_distance_pct: float = 0.25
    volume_window_min: int = 5
    min_volume_increase: int = 1

    def __post_init__(self) -> None:
        StraddleParams.__post_init__(self)
        check_count(self, "entry_minute", 0, 374)
        check_count(self, "exit_minute", self.entry_minute + 1, 375)
        check_count(self, "max_entry_delay_min", 0, 60)
        check_count(self, "volume_window_min", 1, 120)
        if not self.max_vwap_distance_pct > 0:
            raise ValueError("max_vwap_distance_pct must be > 0")


class KowSignalStraddle(ChainDetector):
    """``kow_signal_straddle``: at 09:30, an underlying balanced on its VWAP sells the ATM straddle.

    The decision snapshot is the first of an IST day whose session minute ``m`` is in
    ``[entry_minute, entry_minute + max_entry_delay_min]`` (09:30 to 09:35 IST): the day is
    decided there, whatever the outcome (state: the last decided day), so the pattern
    fires at most once a day. **The underlying's VWAP decides**: with ``V`` the
    underlying's session VWAP and ``P`` its last price (the spot's for a stock; an index
    has no volume, so the nearest-expiry future's VWAP and that future's price stand in
    for them, ``details["vwap_source"] == "future"``),
    ``d = 100 |P - V| / V <= max_vwap_distance_pct`` (0.25 %): price balanced on the
    VWAP expects a range day, so premium is sold; further away the day trends and nothing
    is sold. **Combined CE + PE volume confirms**:
    the ATM strike's call + put day volume grew by at least ``min_volume_increase`` over
    the latest earlier row at least ``volume_window_min`` (5) minutes back with the same
    ATM strike (from 0 without one). Direction NEUTRAL, action SELL_STRADDLE (ATM legs).
    Confidence ``0.5 + 0.5 (1 - d / max_vwap_distance_pct)``. Known at the decision
    snapshot's minute end (09:31 for the 09:30 snapshot).

    The trade: entry the ATM straddle premium ``P_s``; stop at 100 % of the premium
    collected (``P_s (1 + stop_fraction)``, ``2 P_s``), target 50 % (``P_s (1 -
    target_fraction)``); exit at ``exit_minute`` (15:15 IST, ``details["exit_ms"]``).
    Quantity (:mod:`.chain_alerts`): the turtle unit on the premium's N, capped so that the
    stop loses at most ``max_risk_fraction`` (3 %) of capital, in whole lots.
    """

    NAME = "kow_signal_straddle"
    CATEGORY = "kow"
    Params = KowParams

    def new_state(self) -> dict[str, Any]:
        """``{"day": last decided IST day or -1}``."""
        return {"day": -1}

    def on_snapshot(self, state: dict[str, Any], ctx: ChainContext) -> Hit | None:
        """The class docstring's definition, on one chain snapshot."""
        p = self.params
        assert isinstance(p, KowParams)
        day = int(ist_day(ctx.start_ms * NS_PER_MS))
        if state.get("day") == day or \
                not p.entry_minute <= ctx.minute <= p.entry_minute + p.max_entry_delay_min:
            return None
        state["day"] = day
        now, price = ctx.row, ctx.vwap_price
        if ctx.vwap is None or ctx.vwap <= 0 or price is None or now.premium is None:
            return None
        distance = 100.0 * abs(price - ctx.vwap) / ctx.vwap
        if distance > p.max_vwap_distance_pct:
            return None
        then = ctx.back(p.volume_window_min)
        base = then.atm_volume if then is not None and then.atm_strike == now.atm_strike else 0
        increase = now.atm_volume - base
        if increase < p.min_volume_increase:
            return None
        exit_ms = (ist_day_start_ns(day) // NS_PER_MS
                   + (SESSION_OPEN_MINUTE + p.exit_minute) * MS_PER_MIN)
        return Hit(signal=Signal.NEUTRAL,
                   confidence=bounded_confidence(
                       0.5 + 0.5 * (1.0 - distance / p.max_vwap_distance_pct)),
                   details={"vwap": ctx.vwap, "vwap_source": ctx.vwap_source,
                            "vwap_price": price,
                            "vwap_distance_pct": distance, "volume_increase": increase,
                            "exit_ms": exit_ms})
