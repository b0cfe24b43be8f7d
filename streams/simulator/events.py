"""Injected, labelled market events: the ground truth the pattern detectors are scored on.

Each event is planned on one stock inside the simulated window and turned into
per-second effects on that stock's latent log return (extra drift, volatility scaling,
an opening gap) and on its packet rate and trade size. The effects are strong enough to
be visible in the generated packets: a volume spike multiplies volume ~12x, a breakout
leaves a quiet range and then moves 1.2-2% with ~7x volume, and so on.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np

from aion.streams.codec import IST
from aion.streams.simulator.universe import Role, Universe

__all__ = [
    "EventEffects",
    "EventType",
    "InjectedEvent",
    "build_effects",
    "events_json_text",
    "load_events_json",
    "plan_events",
]

_SESSION_OPEN = time(9, 15)


class EventType(enum.StrEnum):
    """Kinds of injected events (the ``event_type`` values of the sidecar)."""

    VOLUME_SPIKE = "volume_spike"
    VOLUME_BREAKOUT = "volume_breakout"
    REVERSAL = "reversal"
    GAP = "gap"
    MOMENTUM = "momentum"
    VOLUME_PRICE_DIVERGENCE = "volume_price_divergence"


@dataclass(frozen=True, slots=True)
class InjectedEvent:
    """One injected event.

    Attributes:
        symbol: Tradingsymbol of the instrument.
        token: Its instrument token.
        event_type: What was injected.
        start_s: Start, seconds after 09:15:00 IST.
        end_s: End (exclusive), seconds after 09:15:00 IST.
        direction: ``"up"``, ``"down"`` or None (volume spike). For a reversal the
            direction after the turn; for a divergence the direction price moved while
            volume fell.
        magnitude: Size of the injected log-price move (0 for a volume spike).
        setup_s: Seconds of set-up before ``start_s`` that belong to the event but are
            not part of its labelled window (the quiet range before a breakout).
    """

    symbol: str
    token: int
    event_type: EventType
    start_s: int
    end_s: int
    direction: str | None
    magnitude: float
    setup_s: int = 0

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
        }


@dataclass(frozen=True, slots=True)
class EventEffects:
    """Per-second effects of the events on the stocks.

    Attributes:
        drift: ``(n_stocks, n_seconds)`` extra log return per second.
        vol_scale: ``(n_stocks, n_seconds)`` multiplier on per-second returns.
        gap: ``(n_stocks,)`` extra opening log gap.
        rate_mult: ``(n_stocks, n_seconds)`` packet-rate multiplier.
        qty_mult: ``(n_stocks, n_seconds)`` trade-size multiplier.
    """

    drift: np.ndarray
    vol_scale: np.ndarray
    gap: np.ndarray
    rate_mult: np.ndarray
    qty_mult: np.ndarray


def _dur(rng: np.random.Generator, lo: int, hi: int, cap: float) -> int:
    """Draw a duration in [lo, hi] seconds, shrunk to fit ``cap`` seconds."""
    d = int(rng.integers(lo, hi + 1))
    return max(30, min(d, int(cap)))


def plan_events(
    universe: Universe, rng: np.random.Generator, start_s: int, end_s: int
) -> list[InjectedEvent]:
    """Plan the events of a window, deterministically from ``rng``.

    One event per stock at most; the number grows with the window (about one per five
    minutes, at least four). All event types appear once there are six or more events;
    a gap is only planned when the window starts at the open.

    Args:
        universe: The instruments (events go on stocks).
        rng: Random source.
        start_s: Window start, seconds after 09:15:00.
        end_s: Window end, seconds after 09:15:00.

    Returns:
        The events, sorted by start time then symbol.
    """
    width = end_s - start_s
    stocks = [i for i, m in enumerate(universe.members) if m.role == Role.STOCK]
    n_events = int(np.clip(round(width / 300), 4, min(40, len(stocks))))
    kinds = [
        EventType.VOLUME_SPIKE,
        EventType.VOLUME_BREAKOUT,
        EventType.REVERSAL,
        EventType.MOMENTUM,
        EventType.VOLUME_PRICE_DIVERGENCE,
    ]
    order = list(rng.permutation(len(kinds)))
    plan: list[EventType] = []
    if start_s == 0:
        plan.append(EventType.GAP)
    while len(plan) < n_events:
        plan.append(kinds[order[len(plan) % len(kinds)]])
    chosen = rng.choice(stocks, size=n_events, replace=False)
    margin = min(60, width // 10)
    events: list[InjectedEvent] = []
    for kind, idx in zip(plan, chosen, strict=True):
        m = universe.members[int(idx)]
        up = bool(rng.integers(0, 2))
        direction = "up" if up else "down"
        setup = 0
        if kind is EventType.GAP:
            dur = min(300, width)
            begin = 0
            magnitude = float(rng.uniform(0.015, 0.03))
        elif kind is EventType.VOLUME_SPIKE:
            dur = _dur(rng, 60, 180, width * 0.3)
            direction = None
            magnitude = 0.0
        elif kind is EventType.VOLUME_BREAKOUT:
            setup = _dur(rng, 600, 900, width * 0.4)
            dur = _dur(rng, 120, 300, width * 0.3)
            magnitude = float(rng.uniform(0.012, 0.02))
        elif kind is EventType.REVERSAL:
            dur = _dur(rng, 600, 1200, width * 0.6)
            magnitude = float(rng.uniform(0.01, 0.015))
        elif kind is EventType.MOMENTUM:
            dur = _dur(rng, 600, 1200, width * 0.6)
            magnitude = float(rng.uniform(0.015, 0.025))
        else:
            dur = _dur(rng, 600, 1200, width * 0.6)
            magnitude = float(rng.uniform(0.008, 0.012))
        if kind is not EventType.GAP:
            lo = start_s + margin + setup
            hi = max(lo, end_s - margin - dur)
            begin = int(rng.integers(lo, hi + 1))
        events.append(
            InjectedEvent(
                symbol=m.symbol,
                token=m.token,
                event_type=kind,
                start_s=begin,
                end_s=min(begin + dur, end_s),
                direction=direction,
                magnitude=magnitude,
                setup_s=setup,
            )
        )
    events.sort(key=lambda e: (e.start_s, e.symbol))
    return events


def build_effects(universe: Universe, events: list[InjectedEvent], n_seconds: int) -> EventEffects:
    """Turn planned events into per-second effects on the stocks.

    Args:
        universe: The instruments (stocks come first, in universe order).
        events: Events from :func:`plan_events`.
        n_seconds: Length of the per-second grid.

    Returns:
        The effects (identity effects where no event applies).
    """
    stock_pos = {m.token: i for i, m in enumerate(universe.members) if m.role == Role.STOCK}
    ns = len(stock_pos)
    drift = np.zeros((ns, n_seconds))
    vol_scale = np.ones((ns, n_seconds))
    gap = np.zeros(ns)
    rate = np.ones((ns, n_seconds))
    qty = np.ones((ns, n_seconds))
    for ev in events:
        i = stock_pos[ev.token]
        a, b = ev.start_s, ev.end_s
        d = b - a
        sign = 1.0 if ev.direction == "up" else -1.0
        if ev.event_type is EventType.GAP:
            gap[i] = sign * ev.magnitude
            rate[i, a:b] *= 2.0
            qty[i, a:b] *= 2.5
        elif ev.event_type is EventType.VOLUME_SPIKE:
            rate[i, a:b] *= 3.0
            qty[i, a:b] *= 4.0
        elif ev.event_type is EventType.VOLUME_BREAKOUT:
            # A quiet range first (so there is a level to break), then the move on volume.
            vol_scale[i, a - ev.setup_s : a] *= 0.3
            rate[i, a - ev.setup_s : a] *= 0.7
            drift[i, a:b] += sign * ev.magnitude / d
            vol_scale[i, a:b] *= 0.6
            rate[i, a:b] *= 2.5
            qty[i, a:b] *= 3.0
        elif ev.event_type is EventType.REVERSAL:
            half = d // 2
            drift[i, a : a + half] -= sign * ev.magnitude / half
            drift[i, a + half : b] += sign * 1.3 * ev.magnitude / (d - half)
            vol_scale[i, a:b] *= 0.6
            turn = slice(max(a, a + half - 60), min(b, a + half + 60))
            rate[i, turn] *= 2.0
            qty[i, turn] *= 2.5
        elif ev.event_type is EventType.MOMENTUM:
            drift[i, a:b] += sign * ev.magnitude / d
            vol_scale[i, a:b] *= 0.6
            rate[i, a:b] *= 1.5
            qty[i, a:b] *= 1.6
        else:  # volume/price divergence: price trends while volume dries up
            drift[i, a:b] += sign * ev.magnitude / d
            vol_scale[i, a:b] *= 0.5
            rate[i, a:b] *= 0.5
            qty[i, a:b] *= 0.5
    return EventEffects(drift=drift, vol_scale=vol_scale, gap=gap, rate_mult=rate, qty_mult=qty)


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

    Args:
        path: The ``FILE.events.json`` sidecar.

    Returns:
        The event records.
    """
    data: list[dict[str, object]] = json.loads(path.read_text(encoding="utf-8"))
    return data
