"""Core patterns (8): volume, momentum, breakout, reversal and accumulation on 1-minute bars.

Every definition reads the bar that just closed and the bars before it (never a later
one); sizes are in local sigmas (``σ``: the EWMA sd of 1-minute log returns before the bar,
:mod:`.features`) so one threshold serves a quiet stock and a busy index, and volumes are
relative to the time-of-day expectation (``rv``, :meth:`.features.BarFeatures.rel_volume`).
Every ``min_ratio`` below is the NORMAL-regime value: the detectors compare ``rv`` (and
compute the confidence bonus) against ``ctx.volume_threshold(min_ratio)``, the threshold
times the day's VIX regime multiplier (:mod:`aion.tables.vix_prior`; LOW 0.8, HIGH 1.4,
PANIC 1.8, 1.0 when unknown).
A move of ``n`` bars is ``log(close / close n bars back) / (σ sqrt(n))``. Confidence is
``bounded_confidence`` of a base plus a bonus that grows with how far past the threshold
the bar is; ``expected_move`` is the move that triggered the hit in percent (the risk
manager's target is that far again). None of them fires while ``σ`` or ``rv`` is warming
up (the first 10 bars of an instrument's history).

Each definition asks for the context its mechanism has, not a bare threshold: a breakout
leaves a consolidation on volume, momentum is a 10-bar trend that draws volume, a
divergence is the same push on thin volume, a spike is volume without a price jump. The
window's volume is :func:`_window_rel_volume` (each bar against the expectation before
it). Defaults were chosen on a simulated training seed (1 of 2022-11-18) and checked on
held-out ones (``aion evaluate``); never on the held-out ones.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace
from typing import Any

from aion.tables.patterns.base import (
    BarContext,
    Detector,
    DetectorParams,
    Hit,
    Signal,
    check_count,
)
from aion.tables.patterns.features import HISTORY
from aion.tables.patterns.mathematics import bounded_confidence, protect_outliers


def _direction(up: bool) -> Signal:
    return Signal.BULLISH if up else Signal.BEARISH


def _confidence(excess: float, base: float = 0.5, per_unit: float = 0.1) -> float:
    """``base + per_unit * excess`` bounded to [0, 1] (``excess``: how far past the threshold)."""
    return bounded_confidence(base + per_unit * max(excess, 0.0))


def _hit(ctx: BarContext, signal: Signal, confidence: float, move_pct: float,
         **details: Any) -> Hit:
    return Hit(signal=signal, confidence=confidence, expected_move=abs(move_pct),
               price_change=move_pct, volume_ratio=protect_outliers(ctx.rel_volume or 0.0),
               details=details or None)


@dataclass(frozen=True)
class VolumeSpikeParams(DetectorParams):
    """``min_ratio``: the spike's relative volume; ``max_sigma``: the bar's largest move."""

    min_ratio: float = 4.0
    max_sigma: float = 3.0


class VolumeSpike(Detector):
    """``volume_spike``: a bar trades ``rv >= min_ratio`` (4x) volume without a jump.

    Conditions: ``rv >= min_ratio`` and the bar's close-to-close move (log, from the
    previous close) is at most ``max_sigma`` (3) σ: volume that a jump or a burst of
    volatility brings along is the price move's, not a spike of its own (those are the
    momentum and breakout patterns' to call). Direction: the bar's body (close above
    open BULLISH, below BEARISH, equal NEUTRAL). Confidence ``0.5 + 0.05 (rv -
    min_ratio)``, ``rv`` capped at 10. Known at the bar's end.
    """

    NAME = "volume_spike"
    CATEGORY = "core"
    Params = VolumeSpikeParams

    def on_bar(self, state: dict[str, Any], ctx: BarContext) -> Hit | None:
        """The class docstring's definition, on one closed bar."""
        p: VolumeSpikeParams = self.params  # type: ignore[assignment]
        rv = ctx.rel_volume
        min_ratio = ctx.volume_threshold(p.min_ratio)
        if rv is None or rv < min_ratio:
            return None
        z = ctx.move_sigmas(1)
        if z is None or abs(z) > p.max_sigma:
            return None
        b = ctx.bar
        signal = (Signal.NEUTRAL if b.close == b.open else _direction(b.close > b.open))
        move = 100.0 * (b.close / b.open - 1.0) if b.open > 0 else 0.0
        return _hit(ctx, signal, _confidence(protect_outliers(rv) - min_ratio, 0.5, 0.05),
                    move, rel_volume=rv, move_sigma=z)


@dataclass(frozen=True)
class BreakoutParams(DetectorParams):
    """The consolidation, the break and its volume.

    ``lookback`` bars of range at most ``max_range`` σ sqrt(lookback) wide;
    ``min_sigma``: the close's distance past it, in σ; ``min_ratio``: the breaking bar's
    relative volume.
    """

    lookback: int = 10
    max_range: float = 1.2
    min_sigma: float = 1.0
    min_ratio: float = 1.5

    def __post_init__(self) -> None:
        check_count(self, "lookback", 1, HISTORY)


@dataclass(frozen=True)
class VolumeBreakoutParams(BreakoutParams):
    """:class:`BreakoutParams` with a heavier bar: ``min_ratio`` 2."""

    min_ratio: float = 2.0


class Breakout(Detector):
    """``breakout``: the close leaves a tight range of the previous ``lookback`` (10) bars.

    Conditions at the close of bar ``t``: the previous ``lookback`` bars' range (highest
    high over lowest low, log) is at most ``max_range`` (1.2) σ sqrt(lookback), a
    consolidation (a random walk's range is about 1.6 σ sqrt(n)); the close is above
    its high (below its low) by at least ``min_sigma`` (1) σ in log terms; and the bar's
    relative volume is at least ``min_ratio`` (1.5). Direction: the side of the break.
    Confidence ``0.5 + 0.1 (distance - min_sigma)``; expected move: the break past the
    range, in %. Known at the bar's end.
    """

    NAME = "breakout"
    CATEGORY = "core"
    Params = BreakoutParams

    def on_bar(self, state: dict[str, Any], ctx: BarContext) -> Hit | None:
        """The class docstring's definition, on one closed bar."""
        p: BreakoutParams = self.params  # type: ignore[assignment]
        rv = ctx.rel_volume
        back = ctx.features.recent(p.lookback)
        sigma = ctx.features.sigma
        if (rv is None or rv < ctx.volume_threshold(p.min_ratio) or sigma is None
                or len(back) < p.lookback):
            return None
        hi, lo = max(b.high for b in back), min(b.low for b in back)
        c = ctx.bar.close
        if lo <= 0 or c <= 0:
            return None
        width = math.log(hi / lo) / (sigma * math.sqrt(p.lookback))
        up = c > hi
        dist = math.log(c / hi if up else lo / c) / sigma
        if width > p.max_range or dist < p.min_sigma:
            return None
        move = 100.0 * math.expm1(dist * sigma) * (1 if up else -1)
        return _hit(ctx, _direction(up), _confidence(dist - p.min_sigma), move,
                    distance_sigma=dist, range_sigma=width, rel_volume=rv)


class VolumeBreakout(Breakout):
    """``volume_breakout``: a :class:`Breakout` on ``rv >= min_ratio`` (2x) volume.

    Same consolidation and break; confidence adds ``0.05 (rv - min_ratio)``.
    """

    NAME = "volume_breakout"
    Params = VolumeBreakoutParams

    def on_bar(self, state: dict[str, Any], ctx: BarContext) -> Hit | None:
        """The class docstring's definition, on one closed bar."""
        hit = super().on_bar(state, ctx)
        if hit is None:
            return None
        min_ratio = ctx.volume_threshold(self.params.min_ratio)  # type: ignore[attr-defined]
        extra = 0.05 * (protect_outliers(ctx.rel_volume or 0.0) - min_ratio)
        return replace(hit, confidence=bounded_confidence(hit.confidence + extra))


def _window_rel_volume(ctx: BarContext, bars: int) -> float | None:
    """Mean relative volume of the last ``bars`` bars, this one included.

    Each bar against the expectation before it
    (:meth:`.features.BarFeatures.past_rel_volumes`): the window's own volume does not
    raise the level it is measured against. None while warming up.
    """
    key = ("window_rel_volume", bars)
    if key not in ctx.memo:
        past = ctx.features.past_rel_volumes(bars - 1)
        ctx.memo[key] = None if past is None or ctx.rel_volume is None else \
            (sum(past) + ctx.rel_volume) / bars
    return ctx.memo[key]


@dataclass(frozen=True)
class MomentumParams(DetectorParams):
    """The run: ``bars`` long, ``min_sigma`` σ sqrt(bars), ``min_agree`` bars, ``min_ratio``.

    ``min_ratio`` is the run's mean relative volume (:func:`_window_rel_volume`).
    """

    bars: int = 10
    min_sigma: float = 3.0
    min_agree: int = 6
    min_ratio: float = 1.1

    def __post_init__(self) -> None:
        check_count(self, "bars", 2, HISTORY)
        check_count(self, "min_agree", 1, self.bars)


class _Momentum(Detector):
    """A run of ``bars`` (10) bars moving ``>= min_sigma`` (3) σ sqrt(bars) one way, on volume.

    Conditions: the close-to-close move over the run (this bar included) is at least
    ``min_sigma`` in σ sqrt(bars); at least ``min_agree`` (6) of the run's bars close the
    same way; and the run's mean relative volume (:func:`_window_rel_volume`) is at least
    ``min_ratio`` (1.1): a trend that draws participation (a push on thinning volume is
    ``volume_price_divergence``). Confidence ``0.5 + 0.1 (move - min_sigma)``. Fires
    once per run: not again until a bar fails the conditions. Known at the bar's end.
    """

    UP = True
    CATEGORY = "core"
    Params = MomentumParams

    def new_state(self) -> dict[str, Any]:
        """``on``: whether the previous bar met the conditions (fire once per episode)."""
        return {"on": False}

    def on_bar(self, state: dict[str, Any], ctx: BarContext) -> Hit | None:
        """The class docstring's definition, on one closed bar."""
        p: MomentumParams = self.params  # type: ignore[assignment]
        z = ctx.move_sigmas(p.bars)
        rv = _window_rel_volume(ctx, p.bars)
        run = [*ctx.features.recent(p.bars), ctx.bar][-(p.bars + 1):]
        agree = sum(1 for a, b in itertools.pairwise(run)
                    if (b.close > a.close) == self.UP and b.close != a.close)
        sign = 1.0 if self.UP else -1.0
        ok = (z is not None and rv is not None and sign * z >= p.min_sigma
              and agree >= p.min_agree and rv >= ctx.volume_threshold(p.min_ratio))
        was = state.get("on", False)
        state["on"] = ok
        if not ok or was:
            return None
        assert z is not None
        move = ctx.change_pct(p.bars) or 0.0
        return _hit(ctx, _direction(self.UP), _confidence(sign * z - p.min_sigma), move,
                    move_sigma=z, mean_rel_volume=rv)


class UpsideMomentum(_Momentum):
    """``upside_momentum``: the up case of :class:`_Momentum` (BULLISH)."""

    NAME = "upside_momentum"
    UP = True


class DownsideMomentum(_Momentum):
    """``downside_momentum``: the down case of :class:`_Momentum` (BEARISH)."""

    NAME = "downside_momentum"
    UP = False


@dataclass(frozen=True)
class ReversalParams(DetectorParams):
    """``leg_bars``/``leg_sigma``: the prior leg; ``turn_bars``/``turn_sigma``: the turn."""

    leg_bars: int = 6
    leg_sigma: float = 2.5
    turn_bars: int = 3
    turn_sigma: float = 2.0

    def __post_init__(self) -> None:
        check_count(self, "turn_bars", 1, HISTORY - 1)
        check_count(self, "leg_bars", 1, HISTORY - self.turn_bars)


class Reversal(Detector):
    """``reversal``: a leg one way, then a turn the other way.

    Conditions at the close of bar ``t``: the ``leg_bars`` (6) bars ending ``turn_bars``
    (3) bars ago moved ``>= leg_sigma`` (2.5) σ sqrt(leg_bars) one way, and the last
    ``turn_bars`` bars (this one included) moved ``>= turn_sigma`` (2) σ sqrt(turn_bars)
    the other way. Direction: the turn's. Confidence ``0.5 + 0.1 (turn - turn_sigma)``.
    """

    NAME = "reversal"
    CATEGORY = "core"
    Params = ReversalParams

    def on_bar(self, state: dict[str, Any], ctx: BarContext) -> Hit | None:
        """The class docstring's definition, on one closed bar."""
        p: ReversalParams = self.params  # type: ignore[assignment]
        sigma = ctx.features.sigma
        back = ctx.features.recent(p.leg_bars + p.turn_bars)
        if sigma is None or len(back) < p.leg_bars + p.turn_bars:
            return None
        leg_start, pivot = back[0].close, back[p.leg_bars].close
        if leg_start <= 0 or pivot <= 0 or ctx.bar.close <= 0:
            return None
        leg = math.log(pivot / leg_start) / (sigma * math.sqrt(p.leg_bars))
        turn = math.log(ctx.bar.close / pivot) / (sigma * math.sqrt(p.turn_bars))
        if abs(leg) < p.leg_sigma or abs(turn) < p.turn_sigma or leg * turn > 0:
            return None
        move = 100.0 * (ctx.bar.close / pivot - 1.0)
        return _hit(ctx, _direction(turn > 0), _confidence(abs(turn) - p.turn_sigma), move,
                    leg_sigma=leg, turn_sigma=turn)


@dataclass(frozen=True)
class DivergenceParams(DetectorParams):
    """The push and its volume.

    ``window`` bars moving ``min_sigma`` σ sqrt(window) to a closing extreme of
    ``lookback`` bars, on a mean relative volume of at most ``max_ratio``.
    """

    lookback: int = 15
    window: int = 10
    min_sigma: float = 2.0
    max_ratio: float = 0.8

    def __post_init__(self) -> None:
        check_count(self, "window", 2, HISTORY)
        check_count(self, "lookback", 1, HISTORY)


class VolumePriceDivergence(Detector):
    """``volume_price_divergence``: price pushes to a new extreme on thin volume.

    Conditions at the close of bar ``t``: the close moved ``>= min_sigma`` (2) σ
    sqrt(window) over the last ``window`` (10) bars; it is the highest (lowest) close of
    the last ``lookback`` (15) bars and this one; and the push's mean relative volume
    (:func:`_window_rel_volume`: each bar against the expectation before it) is at most
    ``max_ratio`` (0.8): the move is not carried by participation. Direction: against
    the push (a high on thin volume is BEARISH). Confidence ``0.5 + 0.5 (max_ratio -
    mean rv)``. Fires once per push: not again until a bar fails the conditions. Known
    at the bar's end.
    """

    NAME = "volume_price_divergence"
    CATEGORY = "core"
    Params = DivergenceParams

    def new_state(self) -> dict[str, Any]:
        """``on``: whether the previous bar met the conditions (fire once per episode)."""
        return {"on": False}

    def on_bar(self, state: dict[str, Any], ctx: BarContext) -> Hit | None:
        """The class docstring's definition, on one closed bar."""
        p: DivergenceParams = self.params  # type: ignore[assignment]
        z = ctx.move_sigmas(p.window)
        rv = _window_rel_volume(ctx, p.window)
        back = ctx.features.recent(p.lookback)
        ok = False
        if z is not None and rv is not None and len(back) == p.lookback:
            c = ctx.bar.close
            closes = [b.close for b in back]
            extreme = c > max(closes) if z > 0 else c < min(closes)
            ok = abs(z) >= p.min_sigma and extreme and rv <= p.max_ratio
        was = state.get("on", False)
        state["on"] = ok
        if not ok or was:
            return None
        assert z is not None and rv is not None
        move = ctx.change_pct(p.window) or 0.0
        return _hit(ctx, _direction(z < 0), _confidence(p.max_ratio - rv, 0.5, 0.5), move,
                    mean_rel_volume=rv, move_sigma=z)


@dataclass(frozen=True)
class AccumulationParams(DetectorParams):
    """``bars`` of the window; ``min_ratio``: their mean rv; ``max_sigma``: their range."""

    bars: int = 10
    min_ratio: float = 2.0
    max_sigma: float = 1.5

    def __post_init__(self) -> None:
        check_count(self, "bars", 1, HISTORY)


class HiddenAccumulation(Detector):
    """``hidden_accumulation``: heavy volume that does not move the price.

    Conditions over the last ``bars`` (10) bars (this one included): mean relative volume
    ``>= min_ratio`` (2x) while the close-to-close range (highest minus lowest close, log)
    stays within ``max_sigma`` (1.5) σ sqrt(bars). Each bar's relative volume is the one
    it had at its own close (against the expectation before it,
    :meth:`.features.BarFeatures.past_rel_volumes`), so the window's own volume does not
    raise the bar it is measured against; the window's bars must all be past the
    warm-up. Direction: BULLISH when the close is in the upper half of that range
    (absorbed selling), BEARISH in the lower half. Fires once per episode. Confidence
    ``0.5 + 0.1 (mean rv - min_ratio)``. Expected move: one window's volatility,
    ``σ sqrt(bars)`` in percent, the move the absorbed volume is taken to release (the
    pattern moves no price itself, so it has no triggering move to repeat).
    """

    NAME = "hidden_accumulation"
    CATEGORY = "core"
    Params = AccumulationParams

    def new_state(self) -> dict[str, Any]:
        """``on``: whether the previous bar met the conditions (fire once per episode)."""
        return {"on": False}

    def on_bar(self, state: dict[str, Any], ctx: BarContext) -> Hit | None:
        """The class docstring's definition, on one closed bar."""
        p: AccumulationParams = self.params  # type: ignore[assignment]
        f = ctx.features
        back = f.recent(p.bars - 1)
        sigma = f.sigma
        ok = False
        mean_rv = _window_rel_volume(ctx, p.bars)
        if sigma is not None and len(back) == p.bars - 1 and mean_rv is not None:
            window = [*back, ctx.bar]
            closes = [b.close for b in window]
            span = math.log(max(closes) / min(closes)) if min(closes) > 0 else math.inf
            ok = (mean_rv >= ctx.volume_threshold(p.min_ratio)
                  and span <= p.max_sigma * sigma * math.sqrt(p.bars))
        was = state.get("on", False)
        state["on"] = ok
        if not ok or was:
            return None
        window = [*back, ctx.bar]
        lo, hi = min(b.close for b in window), max(b.close for b in window)
        up = ctx.bar.close >= (lo + hi) / 2
        move = 100.0 * math.expm1((sigma or 0.0) * math.sqrt(p.bars)) * (1 if up else -1)
        assert mean_rv is not None
        excess = mean_rv - ctx.volume_threshold(p.min_ratio)
        return _hit(ctx, _direction(up), _confidence(excess), move, mean_rel_volume=mean_rv)
