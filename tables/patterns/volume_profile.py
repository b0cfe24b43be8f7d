"""Volume-profile patterns (3): value-area breakout, POC rejection, volume-node test.

Every definition reads the session volume profile as known at the bar's close
(``BarContext.profile``: the levels of :meth:`aion.tables.profile.VolumeProfile.levels`
over the ticks that arrived before the tick that closed the bar, so the bar's own volume
is in it), the bar and the bars before it; never a later tick. The profile's definitions
(POC, the CBOT 70 % value area VAL..VAH, high- and low-volume nodes) are those of
:mod:`aion.tables.profile`. Distances are in local sigmas (``σ``, :mod:`.features`) in
log terms, volumes relative to the time-of-day expectation (``rv``; every volume threshold
is scaled by the day's VIX regime, ``ctx.volume_threshold``). None of them fires
while ``σ`` or ``rv`` is warming up, without a profile (indices have no tick size, so no
profile), or before ``min_session_bars`` (30) bars of the session closed before the bar:
an early profile has no value area worth the name.

A **rejection** of a level ``L`` (shared by ``vp_poc_rejection`` and the HVN case of
``vp_node_test``): from above, the previous bar closed above ``L``, the bar opens above
it, its low reaches ``L`` (``low <= L``: a wick to or through it) and it closes above it
by ``log(close / L) / σ >= min_sigma``: BULLISH (the level held as support). From below,
mirrored: BEARISH.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from aion.tables.patterns.base import (
    BarContext,
    Detector,
    DetectorParams,
    Hit,
    InstrumentKind,
    check_count,
)
from aion.tables.patterns.core import _confidence, _direction, _hit
from aion.tables.patterns.mathematics import bounded_confidence, protect_outliers
from aion.tables.profile import ProfileLevels

SESSION_BARS = 375
"""1-minute bars in an NSE session (09:15-15:30)."""


def _levels(ctx: BarContext, min_session_bars: int) -> ProfileLevels | None:
    """The profile at the bar's close, if it belongs to the bar's session and is mature.

    ``features`` hold the bars before this one: their day is the profile's and at least
    ``min_session_bars`` of them are of this session (the first bar of a day sees the
    previous day's features, so nothing fires on it).
    """
    lv = ctx.profile
    f = ctx.features
    if lv is None or f.sigma is None or ctx.rel_volume is None:
        return None
    if f.day != lv.day or f.session_bars < min_session_bars:
        return None
    return lv


def _rejection(ctx: BarContext, level: float, min_sigma: float) -> tuple[bool, float] | None:
    """Whether the bar rejected ``level`` (the module docstring's rule).

    Returns:
        ``(from_above, distance of the close from the level in σ)`` or None.
    """
    b, prev, sigma = ctx.bar, ctx.prev, ctx.features.sigma
    if prev is None or sigma is None or level <= 0 or b.close <= 0:
        return None
    if prev.close > level and b.open > level and b.low <= level < b.close:
        dist = math.log(b.close / level) / sigma
        return (True, dist) if dist >= min_sigma else None
    if prev.close < level and b.open < level and b.high >= level > b.close:
        dist = math.log(level / b.close) / sigma
        return (False, dist) if dist >= min_sigma else None
    return None


def _stops(lv: ProfileLevels) -> list[float]:
    """Where a node's move is expected to stop: every HVN and the POC, ascending."""
    return sorted({*lv.hvn, lv.poc})


def _next_level(levels: list[float], close: float, up: bool) -> float | None:
    """The nearest level strictly beyond the close in the move's direction."""
    beyond = [x for x in levels if (x > close if up else x < close)]
    if not beyond:
        return None
    return min(beyond) if up else max(beyond)


def _aimed_hit(ctx: BarContext, up: bool, confidence: float, target: float | None,
               rv: float, **details: Any) -> Hit:
    """A hit whose expected move is the way from the close to a target level.

    Args:
        ctx: The bar's context.
        up: BULLISH if True.
        confidence: Its confidence.
        target: The level aimed at (None: no expected move, the price change is used).
        rv: The bar's relative volume.
        **details: Pattern figures.

    Returns:
        The hit (price change: the bar's close-to-close move).
    """
    c = ctx.bar.close
    move = 0.0 if target is None or c <= 0 else abs(100.0 * (target / c - 1.0))
    return Hit(signal=_direction(up), confidence=confidence, expected_move=move,
               price_change=ctx.change_pct(1) or 0.0, volume_ratio=protect_outliers(rv),
               details={**details, "rel_volume": rv, "target_level": target})


def _volume_bonus(rv: float, min_ratio: float) -> float:
    """``0.05 (rv - min_ratio)``, rv capped at 10: the volume confirmation's share."""
    return 0.05 * (protect_outliers(rv) - min_ratio)


class _ProfileDetector(Detector):
    """Base of the family: its category, instrument classes and need of the profile."""

    CATEGORY = "volume_profile"
    APPLIES_TO = frozenset({InstrumentKind.EQUITY, InstrumentKind.FUTURE})
    NEEDS_PROFILE = True


@dataclass(frozen=True)
class ProfilePatternParams(DetectorParams):
    """``min_sigma``: a distance in σ; ``min_ratio``: the bar's rv; ``min_session_bars``."""

    min_sigma: float = 0.5
    min_ratio: float = 1.0
    min_session_bars: int = 30

    def __post_init__(self) -> None:
        check_count(self, "min_session_bars", 0, SESSION_BARS)


@dataclass(frozen=True)
class VpBreakoutParams(ProfilePatternParams):
    """:class:`ProfilePatternParams` (1.5x volume) plus ``within`` bars of a close inside."""

    min_ratio: float = 1.5
    within: int = 3

    def __post_init__(self) -> None:
        super().__post_init__()
        check_count(self, "within", 1, SESSION_BARS)


class VpBreakout(_ProfileDetector):
    """``vp_breakout``: the close leaves the value area on volume, after being inside it.

    Inputs: the profile at the bar's close (VAL, VAH), the bar's close and ``rv``, ``σ``.
    Conditions: the close is above VAH by ``log(close / VAH) / σ >= min_sigma`` (0.5)
    (BULLISH) or below VAL by ``log(VAL / close) / σ >= min_sigma`` (BEARISH); the
    bar's ``rv >= min_ratio`` (1.5); and one of the last ``within`` (3) bars before it
    closed inside ``[VAL, VAH]`` as known at its own close (the state counts the bars
    since the last close inside). Fires once per excursion: not again until a close is
    back inside the value area. Confidence ``0.5 + 0.1 (distance - min_sigma) + 0.05
    (rv - min_ratio)`` bounded to [0, 1]; expected move: the bar's close-to-close move
    in %. Known at the bar's end. The state resets with the profile's session.
    """

    NAME = "vp_breakout"
    Params = VpBreakoutParams

    def new_state(self) -> dict[str, Any]:
        """The session's breakout state.

        ``day``: the profile's session; ``since``: bars since the last close inside the
        value area (-1: none this session); ``armed``: no alert since that close.
        """
        return {"day": -1, "since": -1, "armed": False}

    def on_bar(self, state: dict[str, Any], ctx: BarContext) -> Hit | None:
        """The class docstring's definition, on one closed bar."""
        p: VpBreakoutParams = self.params  # type: ignore[assignment]
        lv = ctx.profile
        if lv is None:
            return None
        if state["day"] != lv.day:
            state.update(day=lv.day, since=-1, armed=False)
        c = ctx.bar.close
        if lv.val <= c <= lv.vah:
            state.update(since=0, armed=True)
            return None
        if state["since"] >= 0:
            state["since"] += 1
        ready = _levels(ctx, p.min_session_bars)
        sigma = ctx.features.sigma
        rv = ctx.rel_volume
        if (ready is None or sigma is None or rv is None or not state["armed"]
                or not 0 < state["since"] <= p.within
                or rv < ctx.volume_threshold(p.min_ratio) or c <= 0):
            return None
        up = c > lv.vah
        dist = math.log(c / lv.vah if up else lv.val / c) / sigma
        if dist < p.min_sigma:
            return None
        state["armed"] = False
        conf = bounded_confidence(_confidence(dist - p.min_sigma),
                                  _volume_bonus(rv, ctx.volume_threshold(p.min_ratio)))
        return _hit(ctx, _direction(up), conf, ctx.change_pct(1) or 0.0,
                    distance_sigma=dist, rel_volume=rv, vah=lv.vah, val=lv.val, poc=lv.poc)


class VpPocRejection(_ProfileDetector):
    """``vp_poc_rejection``: price tests the Point of Control and is turned away.

    Inputs: the POC, VAL and VAH at the bar's close, this bar and the previous one,
    ``σ``, ``rv``. Conditions: the bar rejects the POC (the module docstring's rule:
    coming from one side, a wick to or through the POC, the close back on that side by
    ``>= min_sigma`` (0.5) σ) on ``rv >= min_ratio`` (1). Direction: away from the POC
    (BULLISH from above, BEARISH from below). Confidence ``0.5 + 0.1 (distance -
    min_sigma) + 0.05 (rv - min_ratio)`` bounded to [0, 1]. Expected move: from the
    close to the value-area edge on its side (VAH when BULLISH, VAL when BEARISH), the
    rotation a rejection from value's centre points to; 0 (the price change) when the
    close is already past it. Known at the bar's end.
    """

    NAME = "vp_poc_rejection"
    Params = ProfilePatternParams

    def on_bar(self, state: dict[str, Any], ctx: BarContext) -> Hit | None:
        """The class docstring's definition, on one closed bar."""
        p: ProfilePatternParams = self.params  # type: ignore[assignment]
        lv = _levels(ctx, p.min_session_bars)
        rv = ctx.rel_volume
        if lv is None or rv is None or rv < ctx.volume_threshold(p.min_ratio):
            return None
        got = _rejection(ctx, lv.poc, p.min_sigma)
        if got is None:
            return None
        up, dist = got
        c = ctx.bar.close
        edge = lv.vah if up else lv.val
        target = edge if (edge > c if up else edge < c) else None
        conf = bounded_confidence(_confidence(dist - p.min_sigma),
                                  _volume_bonus(rv, ctx.volume_threshold(p.min_ratio)))
        return _aimed_hit(ctx, up, conf, target, rv, poc=lv.poc, distance_sigma=dist)


@dataclass(frozen=True)
class NodeTestParams(ProfilePatternParams):
    """HVN: the rejection's ``min_sigma``/``min_ratio``; LVN: ``lvn_sigma``/``lvn_ratio``."""

    lvn_sigma: float = 2.0
    lvn_ratio: float = 1.5


class VpNodeTest(_ProfileDetector):
    """``vp_node_test``: a high-volume node holds, or a low-volume node is run through.

    Inputs: the HVNs, LVNs and POC at the bar's close, this bar and the previous one,
    ``σ``, ``rv``. Two cases, the first that applies:

    * **HVN test** (support/resistance): the bar rejects an HVN other than the POC's
      row (that is ``vp_poc_rejection``) by the module docstring's rule with
      ``min_sigma`` (0.5) on ``rv >= min_ratio`` (1); candidates nearest the close
      first. BULLISH when support (from above) held, BEARISH for resistance.
    * **LVN run** (fast move through thin volume): the bar opens on one side of an LVN
      and closes on the other, its close-to-close move is ``>= lvn_sigma`` (2) σ on
      ``rv >= lvn_ratio`` (1.5). Direction: the move's.

    Confidence ``0.5 + 0.1 (distance - threshold) + 0.05 (rv - ratio threshold)``
    bounded to [0, 1], distance being the rejection's (HVN) or the move's (LVN) in σ.
    Expected move: from the close to the nearest HVN (the POC included) beyond it in the
    signal's direction, where thin volume gives way to the next accepted price; 0 (the
    price change) when there is none. Known at the bar's end.
    """

    NAME = "vp_node_test"
    Params = NodeTestParams

    def on_bar(self, state: dict[str, Any], ctx: BarContext) -> Hit | None:
        """The class docstring's definition, on one closed bar."""
        p: NodeTestParams = self.params  # type: ignore[assignment]
        lv = _levels(ctx, p.min_session_bars)
        rv = ctx.rel_volume
        if lv is None or rv is None:
            return None
        b = ctx.bar
        half = lv.tick_size / 2
        if rv >= ctx.volume_threshold(p.min_ratio):
            hvns = sorted((h for h in lv.hvn if abs(h - lv.poc) > half),
                          key=lambda h: (abs(h - b.close), h))
            for node in hvns:
                got = _rejection(ctx, node, p.min_sigma)
                if got is not None:
                    up, dist = got
                    conf = bounded_confidence(_confidence(dist - p.min_sigma),
                                              _volume_bonus(rv, ctx.volume_threshold(p.min_ratio)))
                    return _aimed_hit(ctx, up, conf, _next_level(_stops(lv), b.close, up),
                                      rv, node="hvn", level=node, distance_sigma=dist)
        z = ctx.move_sigmas(1)
        if rv < ctx.volume_threshold(p.lvn_ratio) or z is None or abs(z) < p.lvn_sigma:
            return None
        up = z > 0
        crossed = [x for x in lv.lvn if (b.open < x < b.close if up else b.close < x < b.open)]
        if not crossed:
            return None
        node = max(crossed) if up else min(crossed)  # the last one run through
        conf = bounded_confidence(_confidence(abs(z) - p.lvn_sigma),
                                  _volume_bonus(rv, ctx.volume_threshold(p.lvn_ratio)))
        return _aimed_hit(ctx, up, conf, _next_level(_stops(lv), b.close, up), rv, node="lvn",
                          level=node, move_sigma=z, crossed=len(crossed))

