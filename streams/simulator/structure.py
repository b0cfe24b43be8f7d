"""Market-structure events, labelled by the mechanism injected (issue 13).

Liquidity sweeps, fair value gaps, impulse retracements and value-area breaks.

**Pinning.** Each event fixes a stock's log price at a few *knots* (offsets from its
price when the event starts, in ``u`` = σ_loc, the 1-minute σ of the 30 minutes before,
the unit of :mod:`.events`); between knots the background's own per-second noise stays,
the drift of a segment being what takes the background's net move over it to the planned
one. The bars keep the day's texture and the mechanism is where it was planned. Where a
level must be clean (a pool's equal highs, a gap's first bar, an impulse's extremes, a
retest, a balance range) the noise is damped to :data:`QUIET` of itself, as a breakout's
quiet set-up is. Knots sit on minute boundaries (except a sweep's peak), so 1-minute
bars close on them.

**Placement.** On stocks, at times at least :data:`GAP_S` from the stock's other events
(so no two mechanisms overlap), drawn from their own random stream: the other events'
draws do not move. Per window of ``W`` seconds, ``clip(W // 5400, 1, 4)`` of each kind
(four of each on a whole day); a kind whose shape does not fit the window is skipped.

**Mechanisms** (minutes from the label's start; values along the label's direction ``d``):

* ``liquidity_sweep`` (``d`` = the direction *after* the sweep; a sweep of highs is
  ``down``): a pool first: two equal extremes ``H`` (3-4.5 u) against ``d`` three to
  four minutes apart, pulled back between (damped); then a push through them to ``H + X``
  (``X`` 1.2-2.5 u) that peaks 20-40 s into a minute and closes that minute back inside
  the pool (``H - 0.8``) on 2.5-6x volume; then a continuation ``d`` of ``k`` u·sqrt(min)
  over 6-12 minutes. ``magnitude_sigma`` = ``k``; ``magnitude`` its log size.
* ``fair_value_gap``: a flat, damped bar (bar 1), then a displacement of ``k`` u·sqrt(min)
  (``k`` 4-7) in one or two minutes on 3-8x volume, then a damped bar that holds (bar 3):
  bar 1's high stays below bar 3's low (up; mirrored down). Price runs on 1-2 u, then
  retraces (damped, 0.7x volume) into the middle of the gap, holds a minute there and
  continues ``d`` past the displacement's extreme. ``magnitude_sigma`` = ``k``.
* ``impulse_retrace``: two flat damped minutes (the impulse's origin), an impulse of
  ``k`` u·sqrt(M) (``k`` 3.5-6, ``M`` 6-10 min, 1.5-3x volume, its last two minutes
  damped), a damped retracement to a depth ``f`` of 0.65-0.74 of it (0.7x volume), then a
  continuation past the impulse's extreme. ``magnitude_sigma`` = ``k``.
* ``value_area_break``: the day's volume profile so far is built from the stock's path
  (volume weights: the intraday profile to the power the stocks' volume follows); price
  travels (5-8 minutes; not at all when it is there already) to the nearest point of
  the middle third of the value area, balances there 30-50 minutes (damped, 0.8x volume,
  swinging within 30-50 % of its distance to the nearer value-area edge), then
  breaks beyond the value-area edge (VAH up, VAL down; 70 % of the volume, recomputed
  with the balance) by ``k`` u·sqrt(M) (``k`` 1.5-4, ``M`` 3-6 min) on 2-5x volume and
  holds beyond it 10-20 minutes (damped). ``magnitude_sigma`` = ``k``.

The labelled window is the whole mechanism, so calibration's background statistics
(minutes outside labelled windows) never see it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from aion.streams.simulator.events import EventEffects, EventPlan, EventType, InjectedEvent
from aion.streams.simulator.universe import Role, Universe

__all__ = [
    "GAP_S",
    "QUIET",
    "STRUCTURE_KINDS",
    "StructurePlan",
    "build_structure_effects",
    "plan_structure",
    "value_area",
]

STRUCTURE_KINDS: tuple[EventType, ...] = (
    EventType.LIQUIDITY_SWEEP,
    EventType.FAIR_VALUE_GAP,
    EventType.IMPULSE_RETRACE,
    EventType.VALUE_AREA_BREAK,
)
"""The kinds this module injects."""

QUIET = 0.45
"""Noise multiplier where a level must be clean."""

GAP_S = 600
"""Seconds kept between a structure event and any other event of the same stock."""

VALUE_AREA_SHARE = 0.70
_OPEN_MARGIN_S = 900  # keep off the opening quarter hour (its bursts blur the shapes)
_CLOSE_MARGIN_S = 600
_VA_MIN_START_S = 3600  # a value area needs an hour of the day behind it
_TRIES = 60


@dataclass(frozen=True, slots=True)
class StructurePlan:
    """A structure event before it is scaled to the background.

    Attributes:
        kind: One of :data:`STRUCTURE_KINDS`.
        pos: The stock (universe position).
        start_s: Start, seconds after 09:15:00 (a minute boundary).
        duration_s: Planned length (the value-area break's travel leg may shorten it).
        up: Direction of the label.
        draws: Kind-specific shape draws (see :func:`_draw_shape`).
    """

    kind: EventType
    pos: int
    start_s: int
    duration_s: int
    up: bool
    draws: tuple[float, ...]


def _draw_shape(rng: np.random.Generator, kind: EventType) -> tuple[tuple[float, ...], int]:
    """Draw a kind's shape parameters and its length in seconds."""
    u = rng.uniform
    i = rng.integers
    if kind is EventType.LIQUIDITY_SWEEP:
        t1, g1, g2 = int(i(3, 6)), int(i(3, 5)), int(i(3, 5))
        cont = int(i(6, 13))
        draws = (t1, g1, g2, cont, u(3.0, 4.5), u(1.2, 2.5), u(1.0, 2.0), u(20, 41),
                 u(1.5, 4.0), u(2.5, 6.0))
        return draws, 60 * (t1 + g1 + g2 + 3 + 1 + cont)
    if kind is EventType.FAIR_VALUE_GAP:
        lead, disp, run, retr, cont = (int(i(2, 4)), int(i(1, 3)), int(i(2, 5)),
                                       int(i(4, 9)), int(i(5, 11)))
        draws = (lead, disp, run, retr, cont, u(4.0, 7.0), u(1.0, 2.0), u(1.5, 3.5),
                 u(3.0, 8.0))
        return draws, 60 * (lead + disp + 1 + run + retr + 1 + cont)
    if kind is EventType.IMPULSE_RETRACE:
        imp = int(i(6, 11))
        retr, cont = int(i(math.ceil(0.6 * imp), imp + 1)), int(i(5, 11))
        draws = (imp, retr, cont, u(3.5, 6.0), u(0.65, 0.74), u(0.8, 1.2), u(1.5, 3.0))
        return draws, 60 * (2 + imp + retr + cont)
    travel, bal, brk, hold = int(i(5, 9)), int(i(30, 51)), int(i(3, 7)), int(i(10, 21))
    draws = (travel, bal, brk, hold, u(0.3, 0.5), u(1.5, 4.0), u(0.6, 1.0), u(2.0, 5.0))
    return draws, 60 * (travel + bal + brk + hold)


def plan_structure(
    universe: Universe,
    rng: np.random.Generator,
    start_s: int,
    end_s: int,
    taken: Sequence[EventPlan],
) -> list[StructurePlan]:
    """Plan the structure events of a window (module docstring, "Placement").

    Args:
        universe: The instruments.
        rng: This module's own random stream.
        start_s: Window start, seconds after 09:15:00.
        end_s: Window end, seconds after 09:15:00.
        taken: The window's other events (their stocks' busy times are avoided).

    Returns:
        Plans, to be scaled by :func:`build_structure_effects`.
    """
    stocks = [i for i, m in enumerate(universe.members) if m.role == Role.STOCK]
    busy: dict[int, list[tuple[int, int]]] = {}
    for p in taken:
        busy.setdefault(p.pos, []).append((p.start_s - p.setup_s, p.end_s))
    width = end_s - start_s
    per_kind = int(np.clip(width // 5400, 1, 4))
    lo = start_s + (_OPEN_MARGIN_S if start_s < _OPEN_MARGIN_S else 0)
    hi = end_s - _CLOSE_MARGIN_S
    plans: list[StructurePlan] = []
    for kind in STRUCTURE_KINDS:
        for _ in range(per_kind):
            draws, dur = _draw_shape(rng, kind)
            up = bool(rng.integers(0, 2))
            first = max(lo, _VA_MIN_START_S) if kind is EventType.VALUE_AREA_BREAK else lo
            first = -(-first // 60) * 60
            if hi - dur <= first:
                continue
            for _try in range(_TRIES):
                pos = int(stocks[int(rng.integers(0, len(stocks)))])
                a = int(rng.integers(first // 60, (hi - dur) // 60 + 1)) * 60
                spans = busy.setdefault(pos, [])
                if all(a + dur + GAP_S <= s or e + GAP_S <= a for s, e in spans):
                    spans.append((a, a + dur))
                    plans.append(StructurePlan(kind, pos, a, dur, up, draws))
                    break
    return plans


def value_area(x: np.ndarray, w: np.ndarray, bin_width: float,
               share: float = VALUE_AREA_SHARE) -> tuple[float, float, float]:
    """POC and value area of a weighted price path (the usual expansion rule).

    Prices are binned ``bin_width`` wide; from the bin with the most volume (the POC) the
    area grows one bin at a time towards the neighbour with more volume (above on a tie)
    until it holds ``share`` of the total.

    Args:
        x: Prices (any unit; log prices here).
        w: Volume at each price sample.
        bin_width: Bin width, in the unit of ``x``.
        share: Share of the volume the area holds.

    Returns:
        ``(poc, val, vah)``: the POC bin's centre, the area's lower and upper edges.
    """
    base = math.floor(float(x.min()) / bin_width)
    idx = np.floor(x / bin_width).astype(np.int64) - base
    vol = np.bincount(idx, weights=w)
    lo = hi = int(np.argmax(vol))
    total, held = float(vol.sum()), float(vol[lo])
    while held < share * total and (lo > 0 or hi < len(vol) - 1):
        up = vol[hi + 1] if hi < len(vol) - 1 else -1.0
        down = vol[lo - 1] if lo > 0 else -1.0
        if up >= down:
            hi += 1
            held += float(up)
        else:
            lo -= 1
            held += float(down)
    poc = (base + int(np.argmax(vol)) + 0.5) * bin_width
    return poc, (base + lo) * bin_width, (base + hi + 1) * bin_width


def _pin(fx: EventEffects, pos: int, n: int, bg: np.ndarray,
         knots: Sequence[tuple[int, float]]) -> None:
    """Make the path pass through ``knots`` (second, log offset from the first knot)."""
    drift = fx._row(fx.drift, pos, n, 0.0)
    scale = fx.vol_scale.get(pos)
    for (s0, v0), (s1, v1) in itertools.pairwise(knots):
        own = bg[s0:s1] * (scale[s0:s1] if scale is not None else 1.0)
        drift[s0:s1] += ((v1 - v0) - float(own.sum()) - float(drift[s0:s1].sum())) / (s1 - s0)


def _path(fx: EventEffects, pos: int, bg: np.ndarray) -> np.ndarray:
    """The stock's log path relative to the open with the effects so far (length n + 1)."""
    r = bg * fx.vol_scale.get(pos, 1.0) + fx.drift.get(pos, 0.0)
    return np.concatenate([[0.0], np.cumsum(r)])


@dataclass(slots=True)
class _Shape:
    """Knots (second offsets, values in u along the direction), damped and volume spans."""

    knots: list[tuple[int, float]]
    quiet: list[tuple[int, int]]
    volume: list[tuple[int, int, float]]
    magnitude_u: float
    k_sigma: float
    volume_multiple: float


def _sweep(d: tuple[float, ...]) -> _Shape:
    """A liquidity sweep, in the "pool side positive" orientation (flipped by the caller)."""
    t1, g1, g2, cont = (int(v) for v in d[:4])
    height, over, pull, peak_s, k, vm = d[4:]
    m1, m2, m3 = t1, t1 + g1, t1 + g1 + g2
    push = m3 + 3  # pull back after the second high, then push from just inside
    back = push + 1
    leg = k * math.sqrt(cont)
    knots = [(0, 0.0), (60 * m1, height), (60 * m2, height - pull), (60 * m3, height),
             (60 * (m3 + 2), height - pull), (60 * push, height - 0.5),
             (60 * push + int(peak_s), height + over), (60 * back, height - 0.8),
             (60 * (back + cont), height - 0.8 - leg)]
    return _Shape(knots, [(0, 60 * push)],
                  [(60 * push, 60 * (push + 2), vm), (60 * back, 60 * (back + cont), 1.3)],
                  leg, k, vm)


def _gap(d: tuple[float, ...]) -> _Shape:
    """A fair value gap: flat bar, displacement, holding bar, run, retest, continuation."""
    lead, disp, run, retr, cont = (int(v) for v in d[:5])
    k, away, k_cont, vm = d[5:]
    size = k * math.sqrt(disp)
    t3 = lead + disp  # bar 3 starts
    # The 3-bar gap spans bar 1's high (~0) to bar 3's low; with a two-minute push the
    # first gap ends at the first minute's close (size / disp).
    mid = 0.5 * size / disp
    t_run, t_ret = t3 + 1 + run, t3 + 1 + run + retr
    top = size + away
    knots = [(0, 0.0), (60 * (lead - 1), 0.0), (60 * lead, 0.0), (60 * t3, size),
             (60 * (t3 + 1), size + 0.3), (60 * t_run, top), (60 * t_ret, mid),
             (60 * (t_ret + 1), mid + 0.2), (60 * (t_ret + 1 + cont),
                                              top + k_cont * math.sqrt(cont))]
    return _Shape(knots, [(60 * (lead - 1), 60 * lead), (60 * t3, 60 * (t3 + 1)),
                          (60 * t_run, 60 * (t_ret + 1))],
                  [(60 * lead, 60 * t3, vm), (60 * t_run, 60 * t_ret, 0.7),
                   (60 * (t_ret + 1), 60 * (t_ret + 1 + cont), 1.5)], size, k, vm)


def _impulse(d: tuple[float, ...]) -> _Shape:
    """An impulse, its 0.65-0.74 retracement and the continuation."""
    imp, retr, cont = (int(v) for v in d[:3])
    k, depth, beyond, vm = d[3:]
    size = k * math.sqrt(imp)
    t_top, t_low = 2 + imp, 2 + imp + retr
    low = size * (1.0 - depth)
    knots = [(0, 0.0), (120, 0.0), (60 * t_top, size), (60 * t_low, low),
             (60 * (t_low + cont), low + beyond * size)]
    return _Shape(knots, [(0, 120), (60 * (t_top - 2), 60 * t_low)],
                  [(120, 60 * t_top, vm), (60 * t_top, 60 * t_low, 0.7),
                   (60 * t_low, 60 * (t_low + cont), 1.3)], size, k, vm)


def build_structure_effects(
    universe: Universe,
    plans: Sequence[StructurePlan],
    fx: EventEffects,
    n_seconds: int,
    sigma_1min: Callable[[int, int], float],
    background: Callable[[int], np.ndarray],
    volume_weight: np.ndarray,
) -> list[InjectedEvent]:
    """Scale structure plans to the background and add them to ``fx``.

    Call after :func:`.events.build_effects` (a value-area break reads the path with the
    other events in it).

    Args:
        universe: The instruments.
        plans: From :func:`plan_structure`.
        fx: The effects so far; updated in place.
        n_seconds: Length of the per-second grid.
        sigma_1min: ``(position, second) -> σ_loc`` of the background before that second.
        background: ``position -> per-second background log returns`` of a stock.
        volume_weight: Expected volume per second (shape of the day), for value areas.

    Returns:
        The labelled events.
    """
    events: list[InjectedEvent] = []
    for pl in plans:
        a, pos = pl.start_s, pl.pos
        bg = background(pos)
        unit = sigma_1min(pos, a)
        sign = 1.0 if pl.up else -1.0
        if pl.kind is EventType.VALUE_AREA_BREAK:
            shape = _value_area_shape(pl, fx, n_seconds, bg, unit, volume_weight)
        else:
            shape = {EventType.LIQUIDITY_SWEEP: _sweep, EventType.FAIR_VALUE_GAP: _gap,
                     EventType.IMPULSE_RETRACE: _impulse}[pl.kind](pl.draws)
            if pl.kind is EventType.LIQUIDITY_SWEEP:
                sign = -sign  # the pool is on the side opposite to the label's direction
            for q0, q1 in shape.quiet:
                fx.scale_vol(pos, n_seconds, a + q0, a + q1, QUIET)
        _pin(fx, pos, n_seconds, bg, [(a + s, sign * v * unit) for s, v in shape.knots])
        for v0, v1, k in shape.volume:
            fx.scale_volume(pos, n_seconds, a + v0, a + v1, k)
        m = universe.members[pos]
        events.append(InjectedEvent(
            symbol=m.symbol, token=m.token, event_type=pl.kind, start_s=a,
            end_s=a + shape.knots[-1][0], direction="up" if pl.up else "down",
            magnitude=float(shape.magnitude_u * unit), magnitude_sigma=float(shape.k_sigma),
            volume_multiple=float(shape.volume_multiple)))
    return events


def _value_area_shape(pl: StructurePlan, fx: EventEffects, n: int, bg: np.ndarray,
                      unit: float, weight: np.ndarray) -> _Shape:
    """A value-area break on the stock's own profile (module docstring); damps in ``fx``."""
    travel, bal, brk, hold = (int(v) for v in pl.draws[:4])
    swing, k, keep, vm = pl.draws[4:]
    a, pos = pl.start_s, pl.pos
    b_bal = a + 60 * (travel + bal)
    fx.scale_vol(pos, n, a + 60 * travel, b_bal, QUIET)
    fx.scale_vol(pos, n, b_bal + 60 * brk, b_bal + 60 * (brk + hold), QUIET)
    x = _path(fx, pos, bg)
    width = 0.5 * unit
    _, val, vah = value_area(x[:a], weight[:a], width)
    # Balance in the middle third of the value area, as near the price as that allows:
    # a long way to a far POC would be a trend of its own.
    third = (vah - val) / 3.0
    mid = min(max(float(x[a]), val + third), vah - third)
    room = max(min(vah - mid, mid - val), width)
    amp = min(swing * room, 2.5 * unit) / unit
    centre = (mid - x[a]) / unit
    knots = [(0, 0.0), (60 * travel, centre)]
    for j, t in enumerate(range(travel + 5, travel + bal, 5)):
        knots.append((60 * t, centre + (amp if j % 2 == 0 else -amp)))
    knots.append((60 * (travel + bal), centre))
    _pin(fx, pos, n, bg, [(a + s, v * unit) for s, v in knots])
    x = _path(fx, pos, bg)
    _, val, vah = value_area(x[:b_bal], weight[:b_bal], width)
    sign = 1.0 if pl.up else -1.0
    edge = ((vah if pl.up else val) - x[a]) / unit  # raw offset, not along the direction
    out = k * math.sqrt(brk)
    t_brk = travel + bal + brk
    knots += [(60 * t_brk, edge + sign * out),
              (60 * (t_brk + hold), edge + sign * keep * out)]
    # Raw offsets: the caller multiplies by the direction's sign, so undo it here. The
    # travel and balance knots are pinned already (pinning them again adds nothing).
    knots = [(s, sign * v) for s, v in knots]
    return _Shape(knots, [],
                  [(60 * travel, 60 * (travel + bal), 0.8), (60 * (travel + bal),
                                                             60 * t_brk, vm),
                   (60 * t_brk, 60 * (t_brk + hold), 1.3)], out, k, vm)
