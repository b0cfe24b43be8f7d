"""The straddle family: premium-selling setups on one underlying's option chain.

Each detector reads :class:`~.chain_base.ChainContext` (the minute's snapshot, the earlier
snapshots of the day, the underlying's VWAP) and proposes a short-premium trade; entry,
target and stop are the pattern's legs' combined premium and :class:`~.chain_base.StraddleParams`.
IVs are decimals (0.15 = 15 %); one **vol point** is 0.01 of IV. ``sigma`` is the sd of
the underlying's log change between consecutive earlier snapshots of the day
(:meth:`~.chain_base.ChainContext.sigma`, at least 10 changes). Every hit is known at the
snapshot's minute end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from aion.tables.patterns.base import Hit, Signal, check_count
from aion.tables.patterns.chain_base import ChainContext, ChainDetector, StraddleParams
from aion.tables.patterns.mathematics import bounded_confidence
from aion.tables.records.chain import OptionRow


def _hit(signal: Signal, confidence: float, **details: Any) -> Hit:
    return Hit(signal=signal, confidence=bounded_confidence(confidence), details=details or None)


def _vol_points(iv: float) -> float:
    return 100.0 * iv


@dataclass(frozen=True)
class IvCrushParams(StraddleParams):
    """``window_min`` minutes back; IV drop thresholds; largest underlying move allowed."""

    window_min: int = 15
    min_drop_points: float = 2.0
    min_drop_pct: float = 10.0
    max_move_sigma: float = 1.0

    def __post_init__(self) -> None:
        StraddleParams.__post_init__(self)
        check_count(self, "window_min", 1, 120)


class IvCrush(ChainDetector):
    """``iv_crush``: ATM IV collapses while the underlying stays put: sell premium.

    Inputs: the snapshot's ATM IV ``iv`` and underlying price ``P``; the latest earlier
    row at least ``window_min`` (15) minutes back, ``iv0`` and ``P0``; ``sigma``.
    Conditions: ``d = 100 (iv0 - iv) >= min_drop_points`` (2 vol points) and
    ``100 (iv0 - iv) / iv0 >= min_drop_pct`` (10 %), and the underlying's move
    ``z = |ln(P / P0)| / (sigma sqrt(n))`` is below ``max_move_sigma`` (1.0), ``n`` the
    minutes between the two rows. Direction NEUTRAL, action SELL_STRADDLE (ATM).
    Confidence ``0.5 + 0.1 (d - min_drop_points)`` bounded to [0, 1].
    """

    NAME = "iv_crush"
    Params = IvCrushParams

    def on_snapshot(self, state: dict[str, Any], ctx: ChainContext) -> Hit | None:
        """The class docstring's definition, on one chain snapshot."""
        p = self.params
        assert isinstance(p, IvCrushParams)
        now, then, sigma = ctx.row, ctx.back(p.window_min), ctx.sigma()
        if then is None or sigma is None or None in (now.atm_iv, then.atm_iv, now.price,
                                                     then.price):
            return None
        assert now.atm_iv is not None and then.atm_iv is not None
        assert now.price is not None and then.price is not None
        drop = _vol_points(then.atm_iv - now.atm_iv)
        if then.atm_iv <= 0 or now.price <= 0 or then.price <= 0 or drop < p.min_drop_points \
                or 100.0 * (then.atm_iv - now.atm_iv) / then.atm_iv < p.min_drop_pct:
            return None
        n = (now.start_ms - then.start_ms) / 60_000
        z = abs(math.log(now.price / then.price)) / (sigma * math.sqrt(n))
        if z >= p.max_move_sigma:
            return None
        return _hit(Signal.NEUTRAL, 0.5 + 0.1 * (drop - p.min_drop_points),
                    iv_from=then.atm_iv, iv_to=now.atm_iv, drop_points=drop, move_sigma=z)


@dataclass(frozen=True)
class RangeBoundParams(StraddleParams):
    """``window_min`` of range; its width cap in sigmas; IV rise allowed; strangle width."""

    window_min: int = 30
    max_range_sigma: float = 3.0
    max_iv_rise_points: float = 0.0
    strikes_out: int = 2
    min_rows: int = 20

    def __post_init__(self) -> None:
        StraddleParams.__post_init__(self)
        check_count(self, "window_min", 2, 120)
        check_count(self, "strikes_out", 1, 20)
        check_count(self, "min_rows", 2, 120)


class RangeBoundStrangle(ChainDetector):
    """``range_bound_strangle``: a narrow range of the underlying, IV not rising: sell a strangle.

    Inputs: the earlier rows whose minute starts within ``window_min`` (30) minutes before
    the snapshot's, plus the snapshot; ``sigma``. Conditions: at least ``min_rows`` (20)
    earlier rows in the window and one of them at least ``window_min - 1`` minutes back
    (the range covers the window); the range ``(max P - min P) / P`` is at most
    ``max_range_sigma * sigma * sqrt(window_min)`` (3.0); the ATM IV now is at most the
    window's first row's plus ``max_iv_rise_points`` (0). Direction NEUTRAL, action
    SELL_STRANGLE: the call ``strikes_out`` (2) strikes above ATM and the put as many
    below. Confidence ``0.5 + 0.5 (1 - width / cap)``.
    """

    NAME = "range_bound_strangle"
    ACTION = "SELL_STRANGLE"
    Params = RangeBoundParams

    def on_snapshot(self, state: dict[str, Any], ctx: ChainContext) -> Hit | None:
        """The class docstring's definition, on one chain snapshot."""
        p = self.params
        assert isinstance(p, RangeBoundParams)
        rows = [r for r in ctx.window(p.window_min) if r.price is not None]
        now, sigma = ctx.row, ctx.sigma()
        if len(rows) < p.min_rows or sigma is None or now.price is None or now.atm_iv is None \
                or rows[0].start_ms > ctx.start_ms - (p.window_min - 1) * 60_000:
            return None
        first_iv = next((r.atm_iv for r in rows if r.atm_iv is not None), None)
        if first_iv is None or _vol_points(now.atm_iv - first_iv) > p.max_iv_rise_points:
            return None
        prices = [r.price for r in rows if r.price is not None] + [now.price]
        if now.price <= 0:
            return None
        width = (max(prices) - min(prices)) / now.price
        cap = p.max_range_sigma * sigma * math.sqrt(p.window_min)
        if width > cap:
            return None
        return _hit(Signal.NEUTRAL, 0.5 + 0.5 * (1.0 - width / cap), range_pct=100 * width,
                    cap_pct=100 * cap, iv_from=first_iv, iv_to=now.atm_iv)

    def legs(self, ctx: ChainContext, hit: Hit) -> tuple[OptionRow, OptionRow] | None:
        """The call ``strikes_out`` strikes above ATM and the put as many below."""
        p = self.params
        assert isinstance(p, RangeBoundParams)
        strikes, atm = ctx.strikes(), ctx.snapshot.atm_strike
        if atm is None or atm not in strikes:
            return None
        i = strikes.index(atm)
        lo, hi = i - p.strikes_out, i + p.strikes_out
        if lo < 0 or hi >= len(strikes):
            return None
        ce, pe = ctx.option(strikes[hi], "CE"), ctx.option(strikes[lo], "PE")
        return (ce, pe) if ce is not None and pe is not None else None


@dataclass(frozen=True)
class TrapParams(StraddleParams):
    """``window_min`` of the spike and reversion; spike size; premium move allowed."""

    window_min: int = 5
    min_spike_sigma: float = 2.0
    max_premium_change_pct: float = 5.0

    def __post_init__(self) -> None:
        StraddleParams.__post_init__(self)
        check_count(self, "window_min", 2, 60)


class MarketMakerTrap(ChainDetector):
    """``market_maker_trap``: a spike through the heaviest-OI strike that reverts, premium unmoved.

    Inputs: ``K``, the nearest expiry's strike with the largest call + put OI in the
    snapshot (lowest strike on a tie); the earlier rows within ``window_min`` (5) minutes,
    the first of them ``R0``; the snapshot's price ``P``; ``sigma``. Conditions: the
    underlying started on one side of ``K``, ``s = sign(P0 - K) != 0``; some later earlier
    row crossed to the other side by at least ``min_spike_sigma`` (2.0) ``* sigma * K``
    (``s (Pj - K) <= -min_spike_sigma sigma K``); now it is back, ``s (P - K) > 0``; and
    the ATM straddle premium moved at most ``max_premium_change_pct`` (5 %) from ``R0``:
    option writers did not reprice the spike (stops were run, the pin holds). Direction:
    the side it returned to (``s > 0`` BULLISH, else BEARISH); action SELL_STRADDLE (ATM).
    Confidence ``0.5 + 0.1 (spike / (sigma K) - min_spike_sigma)``.
    """

    NAME = "market_maker_trap"
    Params = TrapParams

    def on_snapshot(self, state: dict[str, Any], ctx: ChainContext) -> Hit | None:
        """The class docstring's definition, on one chain snapshot."""
        p = self.params
        assert isinstance(p, TrapParams)
        rows = [r for r in ctx.window(p.window_min) if r.price is not None]
        now, sigma, k = ctx.row, ctx.sigma(), _max_oi_strike(ctx)
        if len(rows) < 2 or sigma is None or k is None or now.price is None \
                or now.premium is None or rows[0].premium is None or rows[0].premium <= 0:
            return None
        p0 = rows[0].price
        assert p0 is not None
        s = (p0 > k) - (p0 < k)
        if s == 0 or s * (now.price - k) <= 0:
            return None
        spike = max(-s * (r.price - k) for r in rows[1:] if r.price is not None)
        if spike < p.min_spike_sigma * sigma * k:
            return None
        change = 100.0 * abs(now.premium / rows[0].premium - 1.0)
        if change > p.max_premium_change_pct:
            return None
        return _hit(Signal.BULLISH if s > 0 else Signal.BEARISH,
                    0.5 + 0.1 * (spike / (sigma * k) - p.min_spike_sigma),
                    pin_strike=k, spike_points=spike, premium_change_pct=change)


def _max_oi_strike(ctx: ChainContext) -> float | None:
    """The nearest expiry's strike with the largest call + put OI (lowest on a tie)."""
    oi: dict[float, int] = {}
    for o in ctx.snapshot.options:
        if o.expiry == ctx.snapshot.expiry:
            oi[o.strike] = oi.get(o.strike, 0) + o.oi
    if not oi or max(oi.values()) <= 0:
        return None
    return min(oi, key=lambda k: (-oi[k], k))


@dataclass(frozen=True)
class PremiumCollectionParams(StraddleParams):
    """Theta share needed; the session minutes it may fire in; the IV look-back."""

    min_theta_share: float = 0.05
    from_minute: int = 60
    to_minute: int = 300
    iv_window_min: int = 15

    def __post_init__(self) -> None:
        StraddleParams.__post_init__(self)
        check_count(self, "from_minute", 0, 374)
        check_count(self, "to_minute", self.from_minute, 374)
        check_count(self, "iv_window_min", 1, 120)


class PremiumCollection(ChainDetector):
    """``premium_collection``: theta-rich ATM straddle, IV steady or falling: collect premium.

    Inputs: the ATM call and put of the nearest expiry (their premiums and per-trading-day
    theta), the snapshot's ATM IV, the latest earlier row at least ``iv_window_min`` (15)
    minutes back. Conditions: the snapshot's session minute is in ``[from_minute,
    to_minute]`` (10:15 to 14:15 IST: after the opening, with time left for decay); the
    theta share ``h = -(theta_CE + theta_PE) / (P_CE + P_PE) >= min_theta_share`` (5 % of
    the premium decays per trading day: close to expiry); the ATM IV is not above the
    earlier row's. Direction NEUTRAL, action SELL_STRADDLE (ATM). Confidence
    ``0.5 + 2.5 (h - min_theta_share)``.
    """

    NAME = "premium_collection"
    Params = PremiumCollectionParams

    def on_snapshot(self, state: dict[str, Any], ctx: ChainContext) -> Hit | None:
        """The class docstring's definition, on one chain snapshot."""
        p = self.params
        assert isinstance(p, PremiumCollectionParams)
        if not p.from_minute <= ctx.minute <= p.to_minute:
            return None
        k, now, then = ctx.snapshot.atm_strike, ctx.row, ctx.back(p.iv_window_min)
        if k is None or then is None or now.atm_iv is None or then.atm_iv is None \
                or now.atm_iv > then.atm_iv:
            return None
        ce, pe = ctx.option(k, "CE"), ctx.option(k, "PE")
        if ce is None or pe is None or ce.theta is None or pe.theta is None:
            return None
        premium = ce.price + pe.price
        if premium <= 0:
            return None
        share = -(ce.theta + pe.theta) / premium
        if share < p.min_theta_share:
            return None
        return _hit(Signal.NEUTRAL, 0.5 + 2.5 * (share - p.min_theta_share),
                    theta_share=share, iv_from=then.atm_iv, iv_to=now.atm_iv)
