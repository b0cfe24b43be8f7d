"""ICT patterns (6): displacement, sweeps, fair value gaps, OTE, premium/discount, killzones.

Sizes are in ``N``, the 20-bar Wilder ATR of the bars before the bar (:mod:`.features`);
none of these fires before ``N`` is known (20 bars of history). Swing points are the
causal ones of :mod:`.swings` (known ``swing_length`` bars after the swing bar), levels
and stop-hunt zones those of :mod:`.levels`, rejection candles those of :mod:`.candles`.
Every hit is known at its bar's close and reads nothing later. State is JSON-able and
bounded (capped lists). Confidence is ``bounded_confidence`` of a base plus a bonus for
how far past the threshold the bar is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aion.tables.patterns.base import BarContext, Detector, DetectorParams, Hit, check_count
from aion.tables.patterns.candles import rejection
from aion.tables.patterns.core import _confidence, _direction, _hit
from aion.tables.patterns.features import HISTORY, OPENING_RANGE_BARS, BarRow
from aion.tables.patterns.levels import pools, stop_hunt_zone
from aion.tables.patterns.mathematics import bounded_confidence
from aion.tables.patterns.swings import HIGH, LOW, Swing, confirm
from aion.tables.timeutil import NS_PER_MS, ist_day

CATEGORY = "ict"
MAX_SWING_LENGTH = (HISTORY + 1) // 2
"""Largest swing length the features' history can confirm (``2L - 1`` bars before)."""


def _pct(num: float, den: float) -> float:
    return 100.0 * num / den if den > 0 else 0.0


def _same_session(ctx: BarContext) -> bool:
    """Whether the features' session figures are the bar's own day's."""
    return ctx.features.day == int(ist_day(ctx.bar.start_ms * NS_PER_MS))


def _track_swings(state: dict[str, Any], ctx: BarContext, length: int, cap: int) -> bool:
    """Confirm this bar's swing (``length`` bars back) into ``state["swings"]``."""
    recent = ctx.features.recent(2 * length - 1)
    if len(recent) < 2 * length - 1:
        return False
    return confirm(state["swings"], recent, ctx.bar, length, cap)


@dataclass(frozen=True)
class DisplacementParams(DetectorParams):
    """``min_body_atr``: body in N; ``min_body_share``: body / range; ``lookback`` bars."""

    min_body_atr: float = 1.5
    min_body_share: float = 0.6
    lookback: int = 5

    def __post_init__(self) -> None:
        check_count(self, "lookback", 1, HISTORY)


class IctMomentum(Detector):
    """``ict_momentum``: a displacement candle, one bar of large, one-sided body.

    Conditions on the closed bar: its body ``|close - open| >= min_body_atr`` (1.5) N,
    the body is at least ``min_body_share`` (0.6) of its high-low range (little wick),
    and the close is beyond the highest high (lowest low) of the previous ``lookback``
    (5) bars. Direction: the body's. Unlike the core ``upside_momentum`` /
    ``downside_momentum`` (a 5-bar close-to-close run in σ with most bars agreeing and
    volume at least normal), this is one candle measured against the ATR, and volume
    plays no part. Confidence ``0.5 + 0.1 (body / N - min_body_atr)``; expected move the
    body in percent. Known at the bar's close.
    """

    NAME = "ict_momentum"
    CATEGORY = CATEGORY
    Params = DisplacementParams

    def on_bar(self, state: dict[str, Any], ctx: BarContext) -> Hit | None:
        """The class docstring's definition, on one closed bar."""
        p: DisplacementParams = self.params  # type: ignore[assignment]
        atr, b = ctx.features.atr, ctx.bar
        back = ctx.features.recent(p.lookback)
        if not atr or len(back) < p.lookback or b.open <= 0:
            return None
        body = abs(b.close - b.open)
        if body < p.min_body_atr * atr or body < p.min_body_share * (b.high - b.low):
            return None
        up = b.close > b.open
        if (up and b.close <= max(x.high for x in back)) or (
                not up and b.close >= min(x.low for x in back)):
            return None
        return _hit(ctx, _direction(up), _confidence(body / atr - p.min_body_atr),
                    _pct(b.close - b.open, b.open), body_atr=body / atr)


@dataclass(frozen=True)
class LiquidityParams(DetectorParams):
    """Swings (``swing_length``, ``max_swings``), pools, zone depth ``depth_atr`` in N."""

    swing_length: int = 3
    max_swings: int = 12
    tol_atr: float = 0.25
    min_touches: int = 2
    depth_atr: float = 1.0

    def __post_init__(self) -> None:
        check_count(self, "swing_length", 1, MAX_SWING_LENGTH)
        check_count(self, "max_swings", 2, 64)
        check_count(self, "min_touches", 2, self.max_swings)


class IctLiquidityGrab(Detector):
    """``ict_liquidity_grab``: a stop hunt that sweeps a liquidity pool and closes back.

    Pool: ``min_touches`` (2) or more confirmed swing highs (lows) within ``tol_atr``
    (0.25) N of each other, from the last ``max_swings`` (12) swings of length
    ``swing_length`` (3; each known 3 bars after its bar) (:func:`.levels.pools`).
    Sweep on the closed bar: its high trades above the pool's price but no farther than
    its stop-hunt zone (``depth_atr`` (1) N beyond, :func:`.levels.stop_hunt_zone`) and
    it closes back below the price: BEARISH (back into the range); mirrored below a
    pool of lows: BULLISH. The pool's swings are retired once swept, and swings a close
    has gone through are retired as broken (no pool left there). Confidence ``0.5 +
    0.1 (touches - 2) + 0.3 x`` the share of the bar's range it closed back (``(price -
    close) / (high - low)`` for a high pool). Expected move: the bar's range in percent.
    Known at the bar's close; the swings it reads were confirmed by earlier bars.
    """

    NAME = "ict_liquidity_grab"
    CATEGORY = CATEGORY
    Params = LiquidityParams

    def new_state(self) -> dict[str, Any]:
        """``swings``: confirmed swings ``[start_ms, kind, level]``, capped."""
        return {"swings": []}

    def on_bar(self, state: dict[str, Any], ctx: BarContext) -> Hit | None:
        """The class docstring's definition, on one closed bar."""
        p: LiquidityParams = self.params  # type: ignore[assignment]
        swings: list[Swing] = state["swings"]
        hit = self._sweep(swings, ctx, p)
        b = ctx.bar
        swings[:] = [s for s in swings if (s[1] == HIGH and s[2] >= b.close)
                     or (s[1] == LOW and s[2] <= b.close)]
        _track_swings(state, ctx, p.swing_length, p.max_swings)
        return hit

    @staticmethod
    def _sweep(swings: list[Swing], ctx: BarContext, p: LiquidityParams) -> Hit | None:
        atr, b = ctx.features.atr, ctx.bar
        if not atr or b.high <= b.low:
            return None
        swept = []
        for kind in (HIGH, LOW):
            for level in pools(swings, kind, p.tol_atr * atr, p.min_touches):
                lo, hi = stop_hunt_zone(level, atr, p.depth_atr)
                if (kind == HIGH and level.price < b.high <= hi and b.close < level.price) or (
                        kind == LOW and lo <= b.low < level.price and b.close > level.price):
                    swept.append(level)
        if not swept:
            return None
        level = max(swept, key=lambda lv: lv.touches)
        gone = set(level.swing_ms)
        swings[:] = [s for s in swings if int(s[0]) not in gone or s[1] != level.kind]
        up = level.kind == LOW
        back = (b.close - level.price) if up else (level.price - b.close)
        conf = bounded_confidence(0.5 + 0.1 * (level.touches - 2) + 0.3 * back / (b.high - b.low))
        move = _pct(b.high - b.low, b.close) * (1 if up else -1)
        return _hit(ctx, _direction(up), conf, move, pool=level.price, touches=level.touches)


@dataclass(frozen=True)
class GapParams(DetectorParams):
    """``min_gap_atr``: gap size in N; ``max_gaps``: open gaps kept."""

    min_gap_atr: float = 0.3
    max_gaps: int = 8

    def __post_init__(self) -> None:
        check_count(self, "max_gaps", 1, 256)


Gap = list[float]
"""``[kind, top, bottom, formed_ms]`` (kind 1 bullish, -1 bearish), JSON-able."""


def step_gaps(gaps: list[Gap], prior: list[BarRow], bar: BarRow, min_size: float,
              cap: int) -> tuple[list[Gap], Gap | None]:
    """Retest the open gaps with a closed bar, then record the gap it completes.

    A *bullish* gap forms on bars 1-2-3 (``bar`` is 3) when ``bar1.high < bar3.low``
    and bar 2 closed above its open: the gap is ``[bar1.high, bar3.low]``; a *bearish*
    one when ``bar1.low > bar3.high`` and bar 2 closed below its open: ``[bar3.high,
    bar1.low]`` (``smartmoneyconcepts.fvg``'s definition, which dates it at bar 2 though
    it is known only at bar 3's close). It is kept when at least ``min_size`` tall. A
    later bar *retests* a bullish gap when its low reaches the gap's top (``low <=
    top``), a bearish one when its high reaches its bottom (the library's mitigation);
    a retested gap is closed (removed) whether it held or not.

    Args:
        gaps: Open gaps, oldest first (changed in place; at most ``cap`` kept).
        prior: The bars before ``bar`` (the last two are bars 1 and 2).
        bar: The closed bar.
        min_size: Smallest gap kept (price units).
        cap: Most open gaps kept (the oldest go).

    Returns:
        (the gaps this bar retested, oldest first; the gap it formed or None).
    """
    touched = [g for g in gaps if (g[0] == 1 and bar.low <= g[1])
               or (g[0] == -1 and bar.high >= g[2])]
    if touched:
        gaps[:] = [g for g in gaps if g not in touched]
    formed = None
    if len(prior) >= 2:
        b1, b2 = prior[-2], prior[-1]
        if b1.high < bar.low and b2.close > b2.open:
            formed = [1, bar.low, b1.high, bar.start_ms]
        elif b1.low > bar.high and b2.close < b2.open:
            formed = [-1, b1.low, bar.high, bar.start_ms]
        if formed is not None and formed[1] - formed[2] >= min_size:
            gaps.append(formed)
            del gaps[:-cap]
        else:
            formed = None
    return touched, formed


class IctFairValueGap(Detector):
    """``ict_fair_value_gap``: the retest of an open 3-bar fair value gap that holds.

    Formation (:func:`step_gaps`): bars 1-2-3 leave a gap between bar 1's high and bar
    3's low (bullish; bar 2 closed up) or bar 1's low and bar 3's high (bearish; bar 2
    closed down), at least ``min_gap_atr`` (0.3) N tall; known at bar 3's close, kept
    open in state (the newest ``max_gaps`` (8)). **Formation does not fire** (the
    displacement that opens a gap is ``ict_momentum``'s). Retest: a later bar trades
    into an open gap (low to its top for a bullish gap, high to its bottom for a
    bearish one) and closes on the gap's far side of its opposite edge, i.e. above the
    bullish gap's bottom (below a bearish gap's top): the gap held, BULLISH (BEARISH).
    A retest that closes through the gap fills it: no hit. Either way the gap is closed.
    When several gaps are retested on one bar the newest decides. Confidence ``0.5 +
    0.1 (gap / N - min_gap_atr)``; expected move the gap's height in percent. Known at
    the retesting bar's close.
    """

    NAME = "ict_fair_value_gap"
    CATEGORY = CATEGORY
    Params = GapParams

    def new_state(self) -> dict[str, Any]:
        """``gaps``: open gaps ``[kind, top, bottom, formed_ms]``, capped."""
        return {"gaps": []}

    def on_bar(self, state: dict[str, Any], ctx: BarContext) -> Hit | None:
        """The class docstring's definition, on one closed bar."""
        p: GapParams = self.params  # type: ignore[assignment]
        atr, b = ctx.features.atr, ctx.bar
        if not atr:
            return None
        touched, _ = step_gaps(state["gaps"], ctx.features.recent(2), b,
                               p.min_gap_atr * atr, p.max_gaps)
        if not touched:
            return None
        kind, top, bottom, _ = touched[-1]
        up = kind == 1
        if (up and b.close <= bottom) or (not up and b.close >= top):
            return None
        size = top - bottom
        return _hit(ctx, _direction(up), _confidence(size / atr - p.min_gap_atr),
                    _pct(size, b.close) * (1 if up else -1), gap_top=top, gap_bottom=bottom)


@dataclass(frozen=True)
class OteParams(DetectorParams):
    """Swings (``swing_length``), impulse size ``min_impulse_atr``, zone ``zone_lo``-``zone_hi``."""

    swing_length: int = 3
    min_impulse_atr: float = 3.0
    zone_lo: float = 0.62
    zone_hi: float = 0.79

    def __post_init__(self) -> None:
        check_count(self, "swing_length", 1, MAX_SWING_LENGTH)
        if not 0.0 < self.zone_lo < self.zone_hi < 1.0:
            raise ValueError(f"OteParams: need 0 < zone_lo < zone_hi < 1, got "
                             f"{self.zone_lo}, {self.zone_hi}")


class IctOptimalTradeEntry(Detector):
    """``ict_optimal_trade_entry``: a 0.62-0.79 retrace of the last impulse, closing its way.

    Impulse: the last two confirmed swings (:mod:`.swings`, length ``swing_length`` (3),
    so known 3 bars after the second swing's bar), a low then a high (bullish) or a high
    then a low (bearish), at least ``min_impulse_atr`` (3) N apart (N at the
    confirmation). Zone, for a bullish impulse of size ``I`` ending at ``H``:
    ``[H - zone_hi I, H - zone_lo I]`` (0.79 and 0.62 retracements); mirrored for a
    bearish one. Fires BULLISH on the first bar after the confirmation whose low is in
    the zone (``H - 0.79 I <= low <= H - 0.62 I``) and that closes above its open; the
    impulse is then spent. It is spent without a hit when a bar (or one of the
    confirmation bars) trades beyond the zone (deeper than 0.79) or beyond ``H`` (the
    leg extends: the next swing makes a new impulse). Confidence ``0.5 + 0.05 (I / N -
    min_impulse_atr)``; expected move back to ``H`` in percent. Known at the bar's close.
    """

    NAME = "ict_optimal_trade_entry"
    CATEGORY = CATEGORY
    Params = OteParams

    def new_state(self) -> dict[str, Any]:
        """``swings`` (capped at 4) and ``impulse`` ``[dir, start, end, size_atr]`` or None."""
        return {"swings": [], "impulse": None}

    def on_bar(self, state: dict[str, Any], ctx: BarContext) -> Hit | None:
        """The class docstring's definition, on one closed bar."""
        p: OteParams = self.params  # type: ignore[assignment]
        hit = self._retrace(state, ctx, p)
        if _track_swings(state, ctx, p.swing_length, 4):
            state["impulse"] = self._impulse(state["swings"], ctx, p)
        return hit

    @staticmethod
    def _zone(imp: list[float], p: OteParams) -> tuple[float, float, float]:
        """(deep edge, shallow edge, end) as prices of the impulse's retracement zone."""
        start, end = imp[1], imp[2]
        size = end - start  # signed: negative for a bearish impulse
        return end - p.zone_hi * size, end - p.zone_lo * size, end

    @classmethod
    def _spent(cls, imp: list[float], bar: BarRow, p: OteParams) -> bool:
        deep, _, end = cls._zone(imp, p)
        if imp[0] > 0:
            return bar.high > end or bar.low < deep
        return bar.low < end or bar.high > deep

    @classmethod
    def _impulse(cls, swings: list[Swing], ctx: BarContext, p: OteParams
                 ) -> list[float] | None:
        atr = ctx.features.atr
        if len(swings) < 2 or not atr:
            return None
        first, last = swings[-2], swings[-1]
        size = abs(last[2] - first[2])
        if size < p.min_impulse_atr * atr:
            return None
        imp = [float(last[1]), first[2], last[2], size / atr]
        # Bars after the swing bar (its confirmation) may already have spent it.
        after = [b for b in [*ctx.features.recent(p.swing_length), ctx.bar]
                 if b.start_ms > last[0]]
        return None if any(cls._spent(imp, b, p) for b in after) else imp

    @classmethod
    def _retrace(cls, state: dict[str, Any], ctx: BarContext, p: OteParams) -> Hit | None:
        imp = state.get("impulse")
        if imp is None:
            return None
        b = ctx.bar
        if cls._spent(imp, b, p):
            state["impulse"] = None
            return None
        deep, shallow, end = cls._zone(imp, p)
        up = imp[0] > 0
        touched = b.low <= shallow if up else b.high >= shallow
        if not touched or not ((b.close > b.open) if up else (b.close < b.open)):
            return None
        state["impulse"] = None
        return _hit(ctx, _direction(up), _confidence(imp[3] - p.min_impulse_atr, 0.5, 0.05),
                    _pct(end - b.close, b.close), impulse_atr=imp[3], zone=[deep, shallow])


@dataclass(frozen=True)
class ZoneParams(DetectorParams):
    """``min_bars`` of session; ``deep``: zone depth as a range fraction; ``min_range_atr``."""

    min_bars: int = 15
    deep: float = 0.25
    min_range_atr: float = 2.0

    def __post_init__(self) -> None:
        check_count(self, "min_bars", 1, 375)
        if not 0.0 < self.deep < 0.5:
            raise ValueError(f"ZoneParams: deep must be in (0, 0.5), got {self.deep}")


class IctPremiumDiscount(Detector):
    """``ict_premium_discount``: a rejection candle deep in the session range's discount/premium.

    Range: the session's high and low so far, *before* the bar (:mod:`.features`: the
    IST day's bars only; not VWAP), once the session has ``min_bars`` (15, the opening
    range) bars and spans at least ``min_range_atr`` (2) N. Equilibrium is its middle;
    below it is discount, above premium; the deep discount is its bottom ``deep`` (25 %),
    the deep premium its top 25 %. Fires BULLISH when the bar's low reaches the deep
    discount (``low <= L + deep (H - L)``), it closes back out of it but still in the
    discount (``L + deep (H - L) < close < (L + H) / 2``), and it is a bullish rejection
    candle (:func:`.candles.rejection`: TA-Lib's hammer or bullish engulfing); BEARISH
    mirrored in the deep premium (bearish pin or engulfing). Confidence ``0.5 + (deep -
    depth)``, ``depth`` the bar's extreme as a fraction of the range from its own end (0
    at the session low, negative below it).
    Expected move: back to the equilibrium, in percent. Known at the bar's close.
    """

    NAME = "ict_premium_discount"
    CATEGORY = CATEGORY
    Params = ZoneParams

    def on_bar(self, state: dict[str, Any], ctx: BarContext) -> Hit | None:
        """The class docstring's definition, on one closed bar."""
        p: ZoneParams = self.params  # type: ignore[assignment]
        f, b = ctx.features, ctx.bar
        if not f.atr or not _same_session(ctx) or f.session_bars < p.min_bars:
            return None
        lo, hi = f.session_low, f.session_high
        span = hi - lo
        if span < p.min_range_atr * f.atr:
            return None
        mid = (lo + hi) / 2
        prior = f.recent(HISTORY)
        for up in (True, False):
            depth = (b.low - lo) / span if up else (hi - b.high) / span
            line = lo + p.deep * span if up else hi - p.deep * span
            inside = line < b.close < mid if up else mid < b.close < line
            if depth <= p.deep and inside and rejection(prior, b, up):
                return _hit(ctx, _direction(up), bounded_confidence(0.5 + p.deep - depth),
                            _pct(mid - b.close, b.close), depth=depth, range_high=hi,
                            range_low=lo)
        return None


@dataclass(frozen=True)
class KillzoneParams(DetectorParams):
    """Killzones in session minutes (0 = 09:15 IST); ``min_body_atr``: the break's body."""

    open_end: int = 45
    close_start: int = 315
    min_body_atr: float = 1.0

    def __post_init__(self) -> None:
        check_count(self, "open_end", OPENING_RANGE_BARS, 375)
        check_count(self, "close_start", 0, 375)


class IctKillzone(Detector):
    """``ict_killzone``: a displacement out of the opening range inside an NSE killzone.

    Killzones (IST): the opening killzone 09:15-10:00 (session minutes ``[0,
    open_end)``, ``open_end`` 45) and the closing killzone 14:30-15:30 (``[close_start,
    375)``, ``close_start`` 315). The opening range is the session's first 15 bars
    (09:15-09:30, :mod:`.features`), so the opening killzone can break it from 09:30.
    Fires on a bar inside a killzone, once the range is complete, that closes above the
    opening-range high (below its low) while the previous bar closed inside it, with a
    body in the break's direction of at least ``min_body_atr`` (1) N: BULLISH
    (BEARISH). At most once per side per day. Confidence ``0.5 + 0.1 (body / N -
    min_body_atr)``; expected move: the opening range's height in percent (a measured
    move). Known at the bar's close.
    """

    NAME = "ict_killzone"
    CATEGORY = CATEGORY
    Params = KillzoneParams

    def new_state(self) -> dict[str, Any]:
        """``day``: IST day of ``sides``, the sides (1 up, -1 down) already fired."""
        return {"day": -1, "sides": []}

    def on_bar(self, state: dict[str, Any], ctx: BarContext) -> Hit | None:
        """The class docstring's definition, on one closed bar."""
        p: KillzoneParams = self.params  # type: ignore[assignment]
        f, b, prev = ctx.features, ctx.bar, ctx.prev
        in_zone = OPENING_RANGE_BARS <= ctx.minute < p.open_end or (
            p.close_start <= ctx.minute < 375)
        if (not in_zone or not f.atr or prev is None or not _same_session(ctx)
                or f.session_bars < OPENING_RANGE_BARS):
            return None
        if state.get("day") != f.day:
            state["day"], state["sides"] = f.day, []
        body = b.close - b.open
        up = body > 0
        broke = (b.close > f.or_high >= prev.close) if up else (b.close < f.or_low <= prev.close)
        side = 1 if up else -1
        if not broke or abs(body) < p.min_body_atr * f.atr or side in state["sides"]:
            return None
        state["sides"].append(side)
        height = f.or_high - f.or_low
        return _hit(ctx, _direction(up), _confidence(abs(body) / f.atr - p.min_body_atr),
                    _pct(height, b.close) * side, opening_high=f.or_high,
                    opening_low=f.or_low)
