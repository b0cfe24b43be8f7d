"""From closed bars to alerts: run the detectors, guard, cool down, price the risk.

For each closed 1-minute bar of an instrument (pure, event time only):

1. The context is built (:class:`.base.BarContext`) and every enabled pattern that
   applies to the instrument's class looks at the bar; then the bar updates the features.
2. A hit becomes an alert unless the **market-hours guard** drops it (the bar starts
   before 09:15 or ends after 15:30 IST, or its day is not an NSE trading day when the
   calendar covers it) or the pattern's **cooldown** on this instrument has not passed
   since its last alert (``cooldown_s`` in ``config/patterns.yaml``, event time).
   Dropped hits are counted in ``PatternState.suppressed``.
3. The alert is priced by :func:`.risk.risk_metrics`: target from the expected move,
   stop 2N on the other side (N: the 20-bar Wilder ATR of :mod:`.features`), turtle
   quantity. Its id is ``<tradingsymbol>:<pattern>:<bar start ms>``: the same bar and
   pattern always give the same id, so a replayed bundle re-emits the same alert.

The alert's ``timestamp`` is the bar's end: validation enters at the first price after it.

**VIX regime.** Every relative-volume threshold of a detector is multiplied by the regime
multiplier of the bar's day (:mod:`aion.tables.vix_prior`: the previous session's INDIA
VIX close, identical in every partition; 1.0 when unknown), passed in
``BarContext.volume_threshold_multiplier``; each alert records the regime, the multiplier
and its basis (the close's date, or why there is none).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aion.tables.bars import Bar
from aion.tables.expiry import TradingCalendar
from aion.tables.patterns.base import BarContext, Hit, InstrumentKind, LazyValues, Signal
from aion.tables.patterns.features import BarRow
from aion.tables.patterns.registry import PatternSet
from aion.tables.patterns.risk import RiskConfig, risk_metrics
from aion.tables.patterns.state import PatternState
from aion.tables.profile import ProfileLevels
from aion.tables.records.alert import AlertRecord
from aion.tables.timeutil import SESSION_OPEN_MINUTE, ist_day, minute_of_day_ist
from aion.tables.vix_prior import DayRegime, PriorVix, day_regime
from aion.tables.volume_baseline import VolumeBaseline

SESSION_CLOSE_MINUTE = 15 * 60 + 30
"""15:30 IST, minutes after midnight."""

SNAPSHOT_KEYS = ("rsi", "atr", "adx", "vwap", "ema_20", "ema_50", "obv", "cci", "mfi")
"""Indicators copied into an alert's snapshot (when warmed up)."""

_ACTIONS = {Signal.BULLISH: "BUY", Signal.BEARISH: "SELL", Signal.NEUTRAL: "WATCH"}


@dataclass(frozen=True)
class AlertConfig:
    """Everything alerting needs (one object per worker).

    Attributes:
        patterns: The configured patterns (empty: no detection).
        risk: Risk-manager parameters.
        calendar: NSE calendar for the trading-day guard (None: hours only).
    """

    patterns: PatternSet = field(default_factory=PatternSet)
    risk: RiskConfig = field(default_factory=RiskConfig)
    calendar: TradingCalendar | None = None

    @property
    def active(self) -> bool:
        """Whether any pattern is enabled."""
        return self.patterns.any_enabled


@dataclass(frozen=True, slots=True)
class AlertSubject:
    """The instrument being alerted on.

    Attributes:
        token: Instrument token.
        symbol: ``EXCHANGE:TRADINGSYMBOL``.
        tradingsymbol: Without the exchange.
        kind: Its class.
        lot_size: Lot size (0 or 1: whole units).
    """

    token: int
    symbol: str
    tradingsymbol: str
    kind: InstrumentKind
    lot_size: int


def in_market_hours(bar_start_ns: int, calendar: TradingCalendar | None) -> bool:
    """Whether a bar lies inside 09:15-15:30 IST of an NSE trading day.

    Args:
        bar_start_ns: The bar's start, epoch ns.
        calendar: The calendar (None, or a date it does not cover: hours only).

    Returns:
        True inside the session.
    """
    minute = int(minute_of_day_ist(bar_start_ns))
    if minute < SESSION_OPEN_MINUTE or minute + 1 > SESSION_CLOSE_MINUTE:
        return False
    if calendar is None:
        return True
    day = int(ist_day(bar_start_ns))
    return not calendar.covers(day) or calendar.is_trading_day(day)


def on_bar(state: PatternState, subject: AlertSubject, bar: Bar,
           indicators: Callable[[], dict[str, Any]], vwap: float | None, config: AlertConfig,
           baseline: VolumeBaseline, profile: ProfileLevels | None = None, *,
           prior_vix: PriorVix | None = None
           ) -> list[AlertRecord]:
    """Run the detectors on one closed bar and turn their hits into alerts.

    Args:
        state: The instrument's pattern state (updated in place).
        subject: The instrument.
        bar: The closed bar.
        indicators: Gives the indicator values including the bar (called only when a
            detector or an alert needs them: most bars need neither).
        vwap: Session VWAP at its close.
        config: Alerting parameters.
        baseline: The volume baseline (time-of-day multipliers, VIX multipliers).
        profile: Volume-profile levels at its close (None: not needed or no profile).
        prior_vix: The latest INDIA VIX daily close (None: no regime, thresholds as
            configured).

    Returns:
        The alerts, in registry order.
    """
    minute = int(minute_of_day_ist(bar.start_ns)) - SESSION_OPEN_MINUTE
    mult = baseline.multiplier_sum(minute, 1) if 0 <= minute < 375 else 1.0
    row = BarRow(bar.start_ns // 1_000_000, bar.open, bar.high, bar.low, bar.close,
                 float(bar.volume), mult)
    f = state.features
    day = int(ist_day(bar.start_ns))
    regime = day_regime(prior_vix, day, baseline.params.vix)
    ctx = BarContext(bar=row, features=f, rel_volume=f.rel_volume(row.volume, mult),
                     values=LazyValues(indicators), vwap=vwap, kind=subject.kind,
                     minute=minute, profile=profile,
                     volume_threshold_multiplier=regime.multiplier)
    out: list[AlertRecord] = []
    open_now = in_market_hours(bar.start_ns, config.calendar)
    detectors = state.detectors
    for spec in config.patterns.enabled_for(subject.kind):
        name = spec.name
        det_state = detectors.get(name)
        if det_state is None:  # first bar: a fresh state (not one built per bar and dropped)
            det_state = detectors[name] = spec.detector.new_state()
        hit = spec.detector.on_bar(det_state, ctx)
        if hit is None:
            continue
        last = state.last_alert_ms.get(name)
        if not open_now or (last is not None and ctx.end_ms - last < spec.cooldown_ms):
            state.suppressed += 1
            continue
        state.last_alert_ms[name] = ctx.end_ms
        state.alerts += 1
        out.append(_alert(subject, name, spec.category, hit, ctx, bar, f.atr,
                          config.risk, regime))
    f.update(row, day)
    return out


def _alert(subject: AlertSubject, pattern: str, category: str, hit: Hit, ctx: BarContext,
           bar: Bar, atr: float | None, risk: RiskConfig, regime: DayRegime
           ) -> AlertRecord:
    """Price a hit and build its alert."""
    m = risk_metrics(hit.signal.value, bar.close, hit.expected_move, hit.price_change, atr,
                     subject.lot_size, 1.0, risk)
    snapshot = {k: float(v) for k, v in ctx.indicators.items()
                if k in SNAPSHOT_KEYS and isinstance(v, int | float) and math.isfinite(v)}
    details = {k: (round(v, 6) if isinstance(v, float) else v)
               for k, v in (hit.details or {}).items()}
    return AlertRecord(
        alert_id=f"{subject.tradingsymbol}:{pattern}:{ctx.bar.start_ms}",
        token=subject.token, symbol=subject.symbol, pattern=pattern, category=category,
        signal=hit.signal.value, action=_ACTIONS[hit.signal], entry_price=bar.close,
        target_price=m.target_price, stop_loss=m.stop_loss, quantity=m.quantity,
        lot_size=m.lot_size, confidence=hit.confidence,
        expected_move=m.expected_move_percent, rr_ratio=m.rr_ratio,
        volume_ratio=hit.volume_ratio, timestamp=ctx.end_ms, ts_ns=ctx.end_ms * 1_000_000,
        bar_start_ns=bar.start_ns, atr=atr, indicators=snapshot, details=details,
        vix_regime=None if regime.regime is None else regime.regime.value,
        vix_multiplier=regime.multiplier, vix_basis=regime.basis)
