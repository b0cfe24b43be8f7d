"""Injected, labelled market events: the ground truth the pattern detectors are scored on.

Events are planned on stocks, on the index futures, on options and on whole option
chains, then scaled to the *local* volatility of the simulated background (issue 12):
a price event moves ``k * σ_loc * sqrt(minutes)``, ``σ_loc`` being the standard
deviation of the 1-minute returns of the 30 minutes before it (the same unit
:mod:`.calibration` measures in), with ``k`` drawn from 1.5 to 6 so sizes spread across
any detector's threshold. Volatility is not damped inside events. Near-misses (moves of
0.6-1.4 σ on modest volume that look like the start of something) and failed breakouts
(a break of a range that falls back into it) are labelled as what they are, so a
detector firing on them counts as a false positive. Every label carries its size in σ
(``magnitude_sigma``) and in volume (``volume_multiple``, the planned multiple of normal
volume), so recall can be reported by event size.

An event on a future moves its index (the future is priced off it, so options follow);
chain events (``iv_crush``, ``range_bound``) are labelled on the index the chain is on.
Market-structure events (liquidity sweeps, fair value gaps, impulse retracements,
value-area breaks) are planned and shaped in :mod:`.structure`, on their own random stream.
"""

from __future__ import annotations

import enum
import itertools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np

from aion.streams.codec import IST
from aion.streams.simulator.iv_noise import CHAIN_IV_STD, CHAIN_IV_TAU_S
from aion.streams.simulator.universe import Role, Universe

__all__ = [
    "EventEffects",
    "EventPlan",
    "EventType",
    "InjectedEvent",
    "build_effects",
    "events_json_text",
    "load_events_json",
    "plan_events",
]

_SESSION_OPEN = time(9, 15)
_SIGMA_RANGE = (1.5, 6.0)  # event sizes, in σ_loc·sqrt(minutes)
_NEAR_MISS_SIGMA = (0.6, 1.4)


class EventType(enum.StrEnum):
    """Kinds of injected events (the ``event_type`` values of the sidecar)."""

    VOLUME_SPIKE = "volume_spike"
    VOLUME_BREAKOUT = "volume_breakout"
    REVERSAL = "reversal"
    GAP = "gap"
    MOMENTUM = "momentum"
    VOLUME_PRICE_DIVERGENCE = "volume_price_divergence"
    FAILED_BREAKOUT = "failed_breakout"
    NEAR_MISS = "near_miss"
    IV_CRUSH = "iv_crush"
    RANGE_BOUND = "range_bound"
    # Market structure (streams/simulator/structure.py): shaped by pinning, on stocks.
    LIQUIDITY_SWEEP = "liquidity_sweep"
    FAIR_VALUE_GAP = "fair_value_gap"
    IMPULSE_RETRACE = "impulse_retrace"
    VALUE_AREA_BREAK = "value_area_break"


@dataclass(frozen=True, slots=True)
class InjectedEvent:
    """One injected event.

    Attributes:
        symbol: Tradingsymbol of the instrument (the index for chain events).
        token: Its instrument token.
        event_type: What was injected.
        start_s: Start, seconds after 09:15:00 IST.
        end_s: End (exclusive), seconds after 09:15:00 IST.
        direction: ``"up"``, ``"down"`` or None (volume spike, chain events). For a
            reversal the direction after the turn; for a divergence the direction price
            moved while volume fell; for a failed breakout the direction of the break;
            for a liquidity sweep the direction after it (a sweep of highs is
            ``"down"``); for a fair value gap, an impulse retracement and a value-area
            break the direction of the displacement, impulse or break.
        magnitude: Size of the injected log-price move (a reversal's second leg; a
            failed breakout's break; a structure event's main move, see
            :mod:`.structure`); for ``iv_crush`` the log drop of implied
            volatility; for ``range_bound`` the volatility multiplier; 0 for a spike.
        setup_s: Seconds of set-up before ``start_s`` that belong to the event but are
            not part of its labelled window (the quiet range before a breakout).
        magnitude_sigma: The move in ``σ_loc * sqrt(minutes)`` (a gap: in daily σ,
            ``σ_loc * sqrt(375)``; ``iv_crush``: in σ of the chain's IV noise over the
            window; ``range_bound``: volatility inside in σ_loc).
        volume_multiple: Planned multiple of normal volume inside the window.
        mimics: For a near-miss, the event type it resembles; else None.
    """

    symbol: str
    token: int
    event_type: EventType
    start_s: int
    end_s: int
    direction: str | None
    magnitude: float
    setup_s: int = 0
    magnitude_sigma: float = 0.0
    volume_multiple: float = 1.0
    mimics: str | None = None

    def to_json(self, trading_date: date) -> dict[str, object]:
        """Return the sidecar record (ISO 8601 times with the +05:30 offset)."""
        base = datetime.combine(trading_date, _SESSION_OPEN, tzinfo=IST)
        return {
            "symbol": self.symbol,
            "token": self.token,
            "event_type": str(self.event_type),
            "start": (base + timedelta(seconds=self.start_s)).isoformat(),
            "end": (base + timedelta(seconds=self.end_s)).isoformat(),
            "direction": self.direction,
            "magnitude": round(self.magnitude, 6),
            "magnitude_sigma": round(self.magnitude_sigma, 3),
            "volume_multiple": round(self.volume_multiple, 3),
            "mimics": self.mimics,
        }


@dataclass(slots=True)
class EventEffects:
    """Per-second effects of the events, keyed by universe position.

    Attributes:
        drift: Extra log return per second, on price series (stocks and indices).
        vol_scale: Multiplier on per-second returns, on price series.
        gap: Extra opening log gap, per stock.
        volume_mult: Multiplier of traded volume, on the labelled instrument.
        iv_shift: Added log implied volatility, per index (its whole chain).
    """

    drift: dict[int, np.ndarray] = field(default_factory=dict)
    vol_scale: dict[int, np.ndarray] = field(default_factory=dict)
    gap: dict[int, float] = field(default_factory=dict)
    volume_mult: dict[int, np.ndarray] = field(default_factory=dict)
    iv_shift: dict[int, np.ndarray] = field(default_factory=dict)

    def _row(self, table: dict[int, np.ndarray], pos: int, n: int, fill: float) -> np.ndarray:
        if pos not in table:
            table[pos] = np.full(n, fill)
        return table[pos]

    def add_drift(self, pos: int, n: int, a: int, b: int, total: float) -> None:
        """Spread a log move ``total`` evenly over seconds ``[a, b)``."""
        if b > a:
            self._row(self.drift, pos, n, 0.0)[a:b] += total / (b - a)

    def scale_vol(self, pos: int, n: int, a: int, b: int, k: float) -> None:
        """Multiply per-second returns in ``[a, b)`` by ``k``."""
        self._row(self.vol_scale, pos, n, 1.0)[a:b] *= k

    def scale_volume(self, pos: int, n: int, a: int, b: int, k: float) -> None:
        """Multiply traded volume in ``[a, b)`` by ``k``."""
        self._row(self.volume_mult, pos, n, 1.0)[a:b] *= k


@dataclass(frozen=True, slots=True)
class EventPlan:
    """An event before it is scaled to the background (see :func:`build_effects`)."""

    kind: EventType
    pos: int  # labelled instrument; for option and chain events, the index
    start_s: int
    end_s: int
    up: bool
    k_sigma: float
    volume_multiple: float
    setup_s: int = 0
    mimics: EventType | None = None
    raw: float = 0.0  # gap (log), iv crush (log drop) or range-bound volatility multiplier
    strike_offset: int = 0  # option events: strikes from the ATM at the start


def _draw_sigma(rng: np.random.Generator, lo: float, hi: float) -> float:
    """Draw an event size in σ, log-uniform: as many events near a threshold as far above."""
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _dur(rng: np.random.Generator, lo: int, hi: int, cap: float) -> int:
    """Draw a duration in [lo, hi] seconds, shrunk to fit ``cap`` seconds."""
    d = int(rng.integers(lo, hi + 1))
    return max(30, min(d, int(cap)))


_STOCK_KINDS = (
    EventType.VOLUME_SPIKE,
    EventType.VOLUME_BREAKOUT,
    EventType.REVERSAL,
    EventType.MOMENTUM,
    EventType.VOLUME_PRICE_DIVERGENCE,
    EventType.FAILED_BREAKOUT,
    EventType.NEAR_MISS,
)
_FUTURE_KINDS = (
    EventType.VOLUME_BREAKOUT,
    EventType.MOMENTUM,
    EventType.REVERSAL,
    EventType.FAILED_BREAKOUT,
    EventType.NEAR_MISS,
    EventType.VOLUME_SPIKE,
)


def _price_plan(
    rng: np.random.Generator, kind: EventType, pos: int, lo: int, hi: int
) -> EventPlan:
    """Plan one price/volume event on ``pos`` inside ``[lo, hi)`` seconds."""
    width = hi - lo
    up = bool(rng.integers(0, 2))
    k = _draw_sigma(rng, *_SIGMA_RANGE)
    setup = 0
    mimics = None
    if kind is EventType.NEAR_MISS:
        mimics = [EventType.VOLUME_BREAKOUT, EventType.MOMENTUM, EventType.VOLUME_SPIKE][
            int(rng.integers(0, 3))
        ]
        k = 0.0 if mimics is EventType.VOLUME_SPIKE else float(rng.uniform(*_NEAR_MISS_SIGMA))
        dur = _dur(rng, 120, 600, width * 0.3)
        vmult = float(rng.uniform(1.3, 2.2))
    elif kind is EventType.VOLUME_SPIKE:
        dur, vmult, k = _dur(rng, 60, 180, width * 0.3), float(rng.uniform(2.5, 12.0)), 0.0
    elif kind in (EventType.VOLUME_BREAKOUT, EventType.FAILED_BREAKOUT):
        setup = _dur(rng, 600, 900, width * 0.4)
        dur = _dur(rng, 120, 300, width * 0.3)
        if kind is EventType.FAILED_BREAKOUT:
            dur = _dur(rng, 300, 600, width * 0.3)
            k = _draw_sigma(rng, 1.5, 4.0)
        vmult = float(rng.uniform(2.0, 8.0))
    elif kind is EventType.REVERSAL:
        dur, vmult = _dur(rng, 600, 1200, width * 0.6), float(rng.uniform(1.5, 5.0))
    elif kind is EventType.MOMENTUM:
        dur, vmult = _dur(rng, 600, 1200, width * 0.6), float(rng.uniform(1.2, 2.5))
    else:  # divergence: price trends while volume dries up
        dur, vmult = _dur(rng, 600, 1200, width * 0.6), float(rng.uniform(0.4, 0.7))
    margin = min(60, width // 10)
    a = lo + margin + setup
    begin = int(rng.integers(a, max(a, hi - margin - dur) + 1))
    return EventPlan(kind, pos, begin, min(begin + dur, hi), up, k, vmult, setup, mimics)


def plan_events(
    universe: Universe, rng: np.random.Generator, start_s: int, end_s: int
) -> list[EventPlan]:
    """Plan the events of a window, deterministically from ``rng``.

    Stocks: about one event per 400 s (at least four, one per stock at most), every
    stock kind once there are seven or more, a gap when the window starts at the open.
    Futures: one per three hours per future (at least one), in disjoint slots. Options:
    one volume spike per two hours (at least one) on a contract near the money. Chains:
    an IV crush per window, and on windows of two hours or more a range-bound stretch
    on the other index.

    Args:
        universe: The instruments.
        rng: Random source.
        start_s: Window start, seconds after 09:15:00.
        end_s: Window end, seconds after 09:15:00.

    Returns:
        Plans, to be scaled by :func:`build_effects`.
    """
    width = end_s - start_s
    members = universe.members
    stocks = [i for i, m in enumerate(members) if m.role == Role.STOCK]
    futures = [i for i, m in enumerate(members) if m.role == Role.FUTURE]
    indices = [members[f].underlying for f in futures]
    n_stock = int(np.clip(round(width / 400), 4, len(stocks)))
    order = list(rng.permutation(len(_STOCK_KINDS)))
    kinds: list[EventType] = [EventType.GAP] if start_s == 0 else []
    while len(kinds) < n_stock:
        kinds.append(_STOCK_KINDS[order[len(kinds) % len(_STOCK_KINDS)]])
    chosen = rng.choice(stocks, size=n_stock, replace=False)
    plans: list[EventPlan] = []
    for kind, pos in zip(kinds, chosen, strict=True):
        if kind is EventType.GAP:
            up = bool(rng.integers(0, 2))
            raw = float(rng.uniform(0.012, 0.03))
            plans.append(EventPlan(kind, int(pos), 0, min(300, width), up, 0.0,
                               float(rng.uniform(1.5, 4.0)), raw=raw))
        else:
            plans.append(_price_plan(rng, kind, int(pos), start_s, end_s))
    n_fut = int(np.clip(width // 10800, 1, 2))
    # Futures events keep off the first and last quarter hour when the window allows:
    # those are where the day's volume shares are measured, on a real day without labels.
    f_lo, f_hi = (start_s + 900, end_s - 900) if width >= 7200 else (start_s, end_s)
    for f in futures:
        edges = np.linspace(f_lo, f_hi, n_fut + 1).astype(int)
        for a, b in itertools.pairwise(edges):
            kind = _FUTURE_KINDS[int(rng.integers(0, len(_FUTURE_KINDS)))]
            plans.append(_price_plan(rng, kind, f, int(a), int(b)))
    for j in range(int(np.clip(width // 7200, 1, 3))):
        spike = _price_plan(rng, EventType.VOLUME_SPIKE, indices[j % len(indices)],
                            start_s, end_s)
        plans.append(replace(spike, strike_offset=int(rng.integers(-2, 3))))
    first = int(rng.integers(0, len(indices)))
    dur = _dur(rng, 300, 900, width * 0.3)
    begin = int(rng.integers(start_s + min(60, width // 10), max(start_s, end_s - dur) + 1))
    raw = float(rng.uniform(0.08, 0.25))
    plans.append(EventPlan(EventType.IV_CRUSH, indices[first], begin, min(begin + dur, end_s),
                       False, 0.0, 1.0, raw=raw))
    if width >= 7200:
        dur = _dur(rng, 3600, 9000, width * 0.5)
        begin = int(rng.integers(start_s, end_s - dur + 1))
        ratio = float(rng.uniform(0.35, 0.6))
        plans.append(EventPlan(EventType.RANGE_BOUND, indices[1 - first], begin, begin + dur,
                           False, ratio, float(rng.uniform(0.6, 0.8)), raw=ratio))
    return plans


def build_effects(
    universe: Universe,
    plans: list[EventPlan],
    n_seconds: int,
    sigma_1min: Callable[[int, int], float],
    level: Callable[[int, int], float],
) -> tuple[EventEffects, list[InjectedEvent]]:
    """Scale planned events to the background and turn them into per-second effects.

    Args:
        universe: The instruments.
        plans: From :func:`plan_events`.
        n_seconds: Length of the per-second grid.
        sigma_1min: ``(price series position, second) -> σ_loc`` of the background before
            that second.
        level: ``(index position, second) -> index level`` of the background (to find
            the strike at the money for option events).

    Returns:
        The effects and the labelled events, sorted by start time then symbol.
    """
    members = universe.members
    fx = EventEffects()
    n = n_seconds
    events: list[InjectedEvent] = []
    for pl in plans:
        m = members[pl.pos]
        series = m.underlying if m.role == Role.FUTURE else pl.pos  # where price moves
        a, b = pl.start_s, pl.end_s
        d = b - a
        sign = 1.0 if pl.up else -1.0
        direction: str | None = "up" if pl.up else "down"
        label_pos, mag, k = pl.pos, 0.0, pl.k_sigma
        sig = sigma_1min(series, a)
        move = k * sig * math.sqrt(d / 60.0)
        kind = pl.kind
        if kind is EventType.GAP:
            fx.gap[pl.pos] = sign * pl.raw
            mag, k = pl.raw, pl.raw / (sigma_1min(series, 1800) * math.sqrt(375.0))
            fx.scale_volume(label_pos, n, a, b, pl.volume_multiple)
        elif kind is EventType.VOLUME_SPIKE or (
            kind is EventType.NEAR_MISS and pl.mimics is EventType.VOLUME_SPIKE
        ):
            direction = None
            if m.role == Role.INDEX:  # an option's spike: the contract near the money now
                label_pos = _option_near(universe, pl.pos, level(pl.pos, a), pl.strike_offset)
            fx.scale_volume(label_pos, n, a, b, pl.volume_multiple)
        elif kind in (EventType.VOLUME_BREAKOUT, EventType.MOMENTUM, EventType.NEAR_MISS):
            if kind is EventType.VOLUME_BREAKOUT:
                # A quiet range first, so there is a level to break (set-up, not labelled).
                fx.scale_vol(series, n, a - pl.setup_s, a, 0.4)
            fx.add_drift(series, n, a, b, sign * move)
            fx.scale_volume(label_pos, n, a, b, pl.volume_multiple)
            mag = move
        elif kind is EventType.FAILED_BREAKOUT:
            fx.scale_vol(series, n, a - pl.setup_s, a, 0.4)
            brk = max(30, d // 3)
            # The break: k σ over its own minutes; then back to where it started.
            move = k * sig * math.sqrt(brk / 60.0)
            fx.add_drift(series, n, a, a + brk, sign * move)
            fx.add_drift(series, n, a + brk, b, -sign * move * 0.9)
            fx.scale_volume(label_pos, n, a, a + brk, pl.volume_multiple)
            mag = move
        elif kind is EventType.REVERSAL:
            half = d // 2
            leg = k * sig * math.sqrt(half / 60.0)
            fx.add_drift(series, n, a, a + half, -sign * leg)
            fx.add_drift(series, n, a + half, b, sign * 1.3 * leg)
            turn = (max(a, a + half - 60), min(b, a + half + 60))
            fx.scale_volume(label_pos, n, *turn, pl.volume_multiple)
            mag = 1.3 * leg
        elif kind is EventType.VOLUME_PRICE_DIVERGENCE:
            fx.add_drift(series, n, a, b, sign * move)
            fx.scale_volume(label_pos, n, a, b, pl.volume_multiple)
            mag = move
        elif kind is EventType.IV_CRUSH:
            direction = "down"
            shift = fx._row(fx.iv_shift, pl.pos, n, 0.0)
            shift[a:b] -= pl.raw * np.linspace(0.0, 1.0, d, endpoint=False)
            shift[b:] -= pl.raw
            noise = CHAIN_IV_STD * math.sqrt(2.0 * (1.0 - math.exp(-d / CHAIN_IV_TAU_S)))
            mag, k = pl.raw, pl.raw / noise
        else:  # range-bound: the index (and so its future and chain) goes quiet
            direction = None
            fx.scale_vol(pl.pos, n, a, b, pl.raw)
            for f, fm in enumerate(members):
                if fm.role == Role.FUTURE and fm.underlying == pl.pos:
                    fx.scale_volume(f, n, a, b, pl.volume_multiple)
            mag, k = pl.raw, pl.raw
        lm = members[label_pos]
        events.append(
            InjectedEvent(
                symbol=lm.symbol,
                token=lm.token,
                event_type=kind,
                start_s=a,
                end_s=b,
                direction=direction,
                magnitude=float(mag),
                setup_s=pl.setup_s,
                magnitude_sigma=float(k),
                volume_multiple=pl.volume_multiple,
                mimics=str(pl.mimics) if pl.mimics is not None else None,
            )
        )
    events.sort(key=lambda e: (e.start_s, e.symbol))
    return fx, events


def _option_near(universe: Universe, index_pos: int, spot: float, offset: int) -> int:
    """Position of the call ``offset`` strikes from the strike nearest ``spot``."""
    opts = [
        (i, m) for i, m in enumerate(universe.members)
        if m.role == Role.OPTION and m.underlying == index_pos
        and m.instrument.instrument_type == "CE"
    ]
    strikes = np.array([m.instrument.strike for _, m in opts])
    order = np.argsort(strikes)
    nearest = int(np.argmin(np.abs(strikes[order] - spot)))
    pick = int(np.clip(nearest + offset, 0, len(order) - 1))
    return opts[int(order[pick])][0]


def events_json_text(trading_date: date, events: list[InjectedEvent]) -> str:
    """Return the ground-truth sidecar's text (stable formatting: byte-reproducible).

    Args:
        trading_date: Session date (for the timestamps).
        events: The events.

    Returns:
        A JSON list of event records, one per event.
    """
    records = [e.to_json(trading_date) for e in events]
    return json.dumps(records, indent=2, sort_keys=True) + "\n"


def load_events_json(path: Path) -> list[dict[str, object]]:
    """Read a ground-truth sidecar written by the simulator.

    Files from generator version 1 lack ``magnitude``, ``magnitude_sigma``,
    ``volume_multiple`` and ``mimics``; readers should use ``.get``.

    Args:
        path: The ``FILE.events.json`` sidecar.

    Returns:
        The event records.
    """
    data: list[dict[str, object]] = json.loads(path.read_text(encoding="utf-8"))
    return data
