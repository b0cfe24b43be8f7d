"""Alerts and forward validation on an underlying's option chain (pure, chain time).

``tables.chain.offer`` calls three functions of this module, in chain-time order:

* :func:`on_quotes` after each applied input: the underlying's **session VWAP** (from
  the volume increments of its spot and futures quotes; an index has no volume, so the
  nearest-expiry future's VWAP stands in, see :func:`vwap`) and the **forward
  validation** of earlier chain alerts: the combined premium of each alert's two legs
  (fixed call and put tokens, taken at the alert) after the input is fed to
  ``tables.validation.forward`` as the price, direction -1 (a short premium position
  gains when the premium falls), at the input's chain time. Entry is the first combined
  premium after the alert, never the one it fired on; windows, touches, success, cost
  and the 15:30 cut are forward.py's.
* :func:`on_snapshot` after each minute snapshot: the enabled chain detectors
  (``enabled_for(InstrumentKind.CHAIN)``) look at it; a hit becomes an
  :class:`~aion.tables.records.alert.AlertRecord` unless the market-hours guard
  (:func:`~.alerts.in_market_hours` on the snapshot's minute) or the pattern's cooldown
  on this underlying drops it. Id ``<underlying tradingsymbol>:<pattern>:<minute start
  ms>``; ``timestamp`` the minute's end; entry the legs' combined premium; target and
  stop :meth:`~.chain_base.ChainDetector.levels`; quantity :func:`straddle_quantity`.
* :func:`on_final` at end of stream: open validation windows close on what they saw.

Everything lives in :class:`ChainWatch`, kept inside ``ChainState`` (the chain table), so
pending validations and cooldowns survive a restart.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aion.tables.patterns.alerts import AlertConfig, in_market_hours
from aion.tables.patterns.base import Hit, InstrumentKind
from aion.tables.patterns.chain_base import MS_PER_MIN, ChainContext, ChainDetector, ChainRow
from aion.tables.patterns.risk import RiskConfig, capped_quantity
from aion.tables.records import AlertRecord, ChainSnapshot, Record
from aion.tables.records.chain import OptionRow
from aion.tables.timeutil import NS_PER_MS, SESSION_OPEN_MINUTE, ist_day, minute_of_day_ist
from aion.tables.validation import forward
from aion.tables.validation.costs import InstrumentClass
from aion.tables.validation.forward import PendingValidations, ValidationConfig
from aion.tables.vix_prior import NEUTRAL, DayRegime

HISTORY_ROWS = 120
"""Earlier snapshots kept per underlying (two hours of minutes)."""

N_ROWS = 20
"""Premium changes in the straddle's N (the turtle's 20)."""


@dataclass(frozen=True)
class ChainAlerting:
    """What chain alerting needs (one object per worker).

    Attributes:
        alerts: Patterns (the chain ones run), risk and the calendar of the guard.
        validation: Forward-validation windows and the cost model.
        lot_size: Lot size of an option token (the instrument master's; 1 if unknown).
        regime: The VIX regime of an underlying token on an IST epoch-day (the bar
            detectors' :func:`aion.tables.vix_prior.day_regime`); chain patterns have no
            volume threshold to scale, their alerts record it like every alert.
    """

    alerts: AlertConfig = field(default_factory=AlertConfig)
    validation: ValidationConfig = field(default_factory=ValidationConfig)
    lot_size: Callable[[int], int] = field(default=lambda token: 1)
    regime: Callable[[int, int], DayRegime] = field(default=lambda token, day: NEUTRAL)

    @property
    def active(self) -> bool:
        """Whether any chain pattern is enabled."""
        return bool(self.alerts.patterns.enabled_for(InstrumentKind.CHAIN))


@dataclass(slots=True)
class ChainWatch:
    """Chain alerting state of one underlying (JSON-able through :meth:`encode`).

    Attributes:
        rows: Earlier snapshots of the current IST day, oldest first (at most
            :data:`HISTORY_ROWS`).
        detectors: Each chain detector's state, by pattern name.
        last_alert_ms: Event time of each pattern's last alert (cooldowns).
        vwap: Per spot/future token ``[ist_day, last cumulative volume, sum p*v, sum v,
            last price]``.
        validations: Per leg pair ``"<ce token>:<pe token>"``, the pending validations
            of alerts on it.
        alerts: Alerts emitted (lifetime).
        suppressed: Hits dropped by the guard or a cooldown (lifetime).
    """

    rows: list[ChainRow] = field(default_factory=list)
    detectors: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_alert_ms: dict[str, int] = field(default_factory=dict)
    vwap: dict[int, list[Any]] = field(default_factory=dict)
    validations: dict[str, PendingValidations] = field(default_factory=dict)
    alerts: int = 0
    suppressed: int = 0

    def encode(self) -> dict[str, Any]:
        """JSON-able payload (deterministic order)."""
        return {"rows": [r.to_list() for r in self.rows], "det": self.detectors,
                "last": dict(sorted(self.last_alert_ms.items())),
                "vwap": [[t, *v] for t, v in sorted(self.vwap.items())],
                "val": {k: v.encode() for k, v in sorted(self.validations.items())},
                "n": [self.alerts, self.suppressed]}

    @classmethod
    def decode(cls, d: dict[str, Any]) -> ChainWatch:
        """Inverse of :meth:`encode`."""
        return cls([ChainRow.from_list(r) for r in d["rows"]],
                   {k: dict(v) for k, v in d["det"].items()},
                   {k: int(v) for k, v in d["last"].items()},
                   {int(v[0]): list(v[1:]) for v in d["vwap"]},
                   {k: PendingValidations.decode(v, 1) for k, v in d["val"].items()},
                   int(d["n"][0]), int(d["n"][1]))


def on_quotes(watch: ChainWatch, quotes: Iterable[Any], prices: Callable[[int], float | None],
              clock_ns: int, underlying: str, config: ChainAlerting) -> list[Record]:
    """After one applied input: VWAP accumulators, then the validations it advances.

    Args:
        watch: The underlying's alerting state (changed in place).
        quotes: The input's quotes (``tables.chain.Quote``).
        prices: Last price of a member token after the input (None: unseen).
        clock_ns: The input's chain time (the validations' event time).
        underlying: The underlying's symbol (the records carry it).
        config: Alerting parameters.

    Returns:
        Validation windows the input closed.
    """
    touched: set[int] = set()
    for q in quotes:
        touched.add(q.token)
        if q.kind in ("SPOT", "FUT"):
            _accumulate(watch, q)
    out: list[Record] = []
    t_ms = clock_ns // NS_PER_MS
    for key, pv in sorted(watch.validations.items()):
        ce, pe = (int(t) for t in key.split(":"))
        if ce not in touched and pe not in touched:
            continue
        a, b = prices(ce), prices(pe)
        if a is None or b is None:
            continue
        out.extend(forward.records(underlying,
                                   forward.update(pv, t_ms, a + b, config.validation), clock_ns))
    _drop_done(watch)
    return out


def on_final(watch: ChainWatch, clock_ns: int, underlying: str,
             config: ChainAlerting) -> list[Record]:
    """End of stream: every open window closes on its figures so far."""
    out: list[Record] = []
    for _, pv in sorted(watch.validations.items()):
        out.extend(forward.records(underlying, forward.finish(pv, config.validation), clock_ns))
    _drop_done(watch)
    return out


def _drop_done(watch: ChainWatch) -> None:
    watch.validations = {k: v for k, v in watch.validations.items() if v.pending}


def _accumulate(watch: ChainWatch, q: Any) -> None:
    """Add a spot/future quote's volume increment to its session VWAP."""
    day = int(ist_day(q.event_ns))
    acc = watch.vwap.get(q.token)
    if acc is None or acc[0] != day:
        # The first quote of a day is a baseline: its cumulative volume may hold trades
        # from before the chain saw the instrument.
        acc = watch.vwap[q.token] = [day, q.volume, 0.0, 0, q.price]
        if minute_of_day_ist(q.event_ns) > SESSION_OPEN_MINUTE:
            return
        acc[1] = 0
    inc = q.volume - acc[1]
    if inc > 0 and q.price > 0:
        acc[2] += q.price * inc
        acc[3] += inc
    acc[1] = max(acc[1], q.volume)
    acc[4] = q.price


def vwap(watch: ChainWatch, spot_token: int | None, futures: list[tuple[str, int]],
         day: int) -> tuple[float | None, str, float | None]:
    """The underlying's session VWAP: its own, else the nearest-expiry future's.

    Args:
        watch: The state.
        spot_token: The underlying's token (None: no spot quote seen).
        futures: ``(expiry, token)`` of the futures seen.
        day: The IST day asked about.

    Returns:
        ``(vwap, source, price)``: ``"spot"`` when the spot traded volume today;
        otherwise ``"future"`` from the earliest-expiry future (lowest token on a tie)
        with volume today; ``(None, "none", None)`` when neither has. ``price`` is that
        instrument's last price (a future's VWAP is compared with the future's price:
        both carry the same basis).
    """
    candidates = ([(spot_token, "spot")] if spot_token is not None else []) + \
        [(t, "future") for _, t in sorted(futures)]
    for token, source in candidates:
        acc = watch.vwap.get(token)
        if acc is not None and acc[0] == day and acc[3] > 0:
            return acc[2] / acc[3], source, float(acc[4])
    return None, "none", None


def on_snapshot(watch: ChainWatch, snap: ChainSnapshot, token: int,
                vwap_now: tuple[float | None, str, float | None],
                config: ChainAlerting) -> list[Record]:
    """Run the chain detectors on a minute snapshot; their hits as alerts.

    Args:
        watch: The underlying's alerting state (changed in place).
        snap: The snapshot (not the final one).
        token: The underlying's token (the alerts carry it).
        vwap_now: The underlying's ``(vwap, source, price)`` at the snapshot (:func:`vwap`).
        config: Alerting parameters.

    Returns:
        The alerts, in registry order.
    """
    start_ms = snap.clock_ns // (MS_PER_MIN * NS_PER_MS) * MS_PER_MIN
    day = int(ist_day(snap.clock_ns))
    if watch.rows and int(ist_day(watch.rows[-1].start_ms * NS_PER_MS)) != day:
        watch.rows = []
    minute = int(minute_of_day_ist(snap.clock_ns)) - SESSION_OPEN_MINUTE
    ctx = ChainContext(snapshot=snap, start_ms=start_ms, minute=minute,
                       history=tuple(watch.rows), vwap=vwap_now[0], vwap_source=vwap_now[1],
                       vwap_price=vwap_now[2])
    out: list[Record] = []
    open_now = in_market_hours(start_ms * NS_PER_MS, config.alerts.calendar)
    for spec in config.alerts.patterns.enabled_for(InstrumentKind.CHAIN):
        det = spec.detector
        assert isinstance(det, ChainDetector)
        det_state = watch.detectors.setdefault(spec.name, det.new_state())
        hit = det.on_snapshot(det_state, ctx)
        if hit is None:
            continue
        legs = det.legs(ctx, hit)
        last = watch.last_alert_ms.get(spec.name)
        # No pair to sell, or a pair without premium (bad quotes): nothing to alert.
        if legs is None or legs[0].price + legs[1].price <= 0 or not open_now or \
                (last is not None and ctx.end_ms - last < spec.cooldown_ms):
            watch.suppressed += 1
            continue
        watch.last_alert_ms[spec.name] = ctx.end_ms
        watch.alerts += 1
        alert = _alert(det, hit, ctx, legs, token, config)
        out.append(alert)
        _open(watch, alert, legs, config)
    watch.rows.append(ctx.row)
    del watch.rows[:-HISTORY_ROWS]
    return out


def premium_n(rows: list[ChainRow] | tuple[ChainRow, ...], n: int = N_ROWS) -> float | None:
    """The straddle's N: mean absolute change of the ATM premium over the last ``n`` changes.

    Consecutive rows with the same ATM strike only (a roll of the ATM strike is not a
    move of the premium). None with fewer than ``n`` such changes.
    """
    moves = [abs(b.premium - a.premium) for a, b in itertools.pairwise(rows)
             if a.premium is not None and b.premium is not None
             and a.atm_strike == b.atm_strike]
    if len(moves) < n:
        return None
    return sum(moves[-n:]) / n


def straddle_quantity(premium: float, stop_fraction: float, atr_n: float | None, lot: int,
                      risk: RiskConfig) -> tuple[int, int, int]:
    """Units of a short straddle: the turtle unit, capped by the per-trade risk.

    Args:
        premium: Combined premium collected per unit.
        stop_fraction: Stop distance as a fraction of it.
        atr_n: The premium's N (None: unknown, no turtle bound).
        lot: Lot size.
        risk: Capital, ``risk_per_trade`` and ``max_risk_fraction``.

    Returns:
        ``(quantity, turtle, cap)``: ``cap`` the most lots whose stop loss
        ``premium * stop_fraction`` per unit stays within ``max_risk_fraction`` of capital
        (3 %); ``turtle`` ``risk_per_trade * capital / N`` in whole lots (``cap`` when N is
        unknown); ``quantity = min(turtle, cap)``.
    """
    cap = capped_quantity(premium * stop_fraction, lot, risk.max_risk_amount)
    turtle = cap if atr_n is None else capped_quantity(atr_n, lot, risk.risk_budget)
    return min(turtle, cap), turtle, cap


def _alert(det: ChainDetector, hit: Hit, ctx: ChainContext, legs: tuple[OptionRow, OptionRow],
           token: int, config: ChainAlerting) -> AlertRecord:
    ce, pe = legs
    premium = ce.price + pe.price
    target, stop = det.levels(premium)
    lot = max(int(config.lot_size(ce.token)), 1)
    atr_n = premium_n(ctx.history)
    p = det.params
    qty, turtle, cap = straddle_quantity(premium, getattr(p, "stop_fraction", 1.0), atr_n,
                                         lot, config.alerts.risk)
    snap = ctx.snapshot
    regime = config.regime(token, int(ist_day(ctx.start_ms * NS_PER_MS)))
    indicators = {k: float(v) for k, v in (("vwap", ctx.vwap), ("atm_iv", snap.atm_iv),
                                           ("underlying_price", snap.underlying_price),
                                           ("pcr_oi", snap.pcr_oi), ("skew", snap.skew))
                  if v is not None and math.isfinite(v)}
    details = {k: (round(v, 6) if isinstance(v, float) else v)
               for k, v in (hit.details or {}).items()}
    details.update(ce_symbol=ce.symbol, pe_symbol=pe.symbol, ce_strike=ce.strike,
                   pe_strike=pe.strike, expiry=ce.expiry, ce_token=ce.token,
                   pe_token=pe.token, turtle_quantity=turtle, cap_quantity=cap)
    return AlertRecord(
        alert_id=f"{snap.underlying.split(':', 1)[-1]}:{det.NAME}:{ctx.start_ms}",
        token=token, symbol=snap.underlying, pattern=det.NAME, category=det.CATEGORY,
        signal=hit.signal.value, action=det.ACTION, entry_price=premium,
        target_price=target, stop_loss=stop, quantity=qty, lot_size=lot,
        confidence=hit.confidence, expected_move=100.0 * (premium - target) / premium,
        rr_ratio=(premium - target) / (stop - premium), volume_ratio=0.0,
        timestamp=ctx.end_ms, ts_ns=ctx.end_ms * NS_PER_MS, bar_start_ns=ctx.start_ms * NS_PER_MS,
        atr=atr_n, indicators=indicators, details=details,
        vix_regime=None if regime.regime is None else regime.regime.value,
        vix_multiplier=regime.multiplier, vix_basis=regime.basis)


def _open(watch: ChainWatch, alert: AlertRecord, legs: tuple[OptionRow, OptionRow],
          config: ChainAlerting) -> None:
    """Start validating a short-premium alert on its legs' combined premium."""
    key = f"{legs[0].token}:{legs[1].token}"
    pv = watch.validations.setdefault(key, PendingValidations())
    forward.open_validation(pv, forward.Alert(
        alert_id=alert.alert_id, token=alert.token, event_ms=alert.timestamp, direction=-1,
        target=alert.target_price, stop=alert.stop_loss,
        quantity=max(alert.quantity, alert.lot_size, 1),
        instrument_class=InstrumentClass.OPTION, pattern=alert.pattern,
        confidence=alert.confidence), config.validation)
