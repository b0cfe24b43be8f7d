"""Support/resistance levels from confirmed swings, and ATR-based stop-hunt zones.

* **Level** (a liquidity pool): ``min_touches`` or more confirmed swings of one kind
  (:mod:`.swings`) whose levels lie within ``tol`` of each other ("equal highs" or
  "equal lows"): resting stops gather just beyond them. Clustering is single-linkage on
  the sorted levels (a swing joins a cluster when it is within ``tol`` of the cluster's
  nearest member), then a cluster is kept when its span is at most ``tol`` as well, so
  a staircase of swings never chains into one level. A resistance's price is the
  cluster's highest high, a support's its lowest low; its strength is the number of
  swings in it.
* **Stop-hunt zone** of a level: the band just beyond it where the stops sit,
  ``[level, level + depth * N]`` above a resistance and ``[level - depth * N, level]``
  below a support (``N``: the 20-bar Wilder ATR of :mod:`.features`). A bar that trades
  into the zone and closes back on the level's near side has swept the pool.

Pure functions of the swing list; nothing reads a bar after the moment asked about.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aion.tables.patterns.swings import HIGH, Swing


@dataclass(frozen=True, slots=True)
class Level:
    """A liquidity pool.

    Attributes:
        kind: :data:`.swings.HIGH` (resistance) or :data:`.swings.LOW` (support).
        price: Highest high / lowest low of its swings.
        touches: Swings in it.
        swing_ms: Start times of its swings (to retire them once swept).
    """

    kind: int
    price: float
    touches: int
    swing_ms: tuple[int, ...]


def pools(swings: Sequence[Swing], kind: int, tol: float, min_touches: int = 2
          ) -> list[Level]:
    """Clusters of equal highs or lows (module docstring).

    Args:
        swings: Confirmed swings ``[start_ms, kind, level]``.
        kind: Which kind to cluster.
        tol: Largest distance between swings of one level (price units, > 0).
        min_touches: Fewest swings of a level.

    Returns:
        The levels, by price.
    """
    pts = sorted((s[2], int(s[0])) for s in swings if s[1] == kind)
    out: list[Level] = []
    group: list[tuple[float, int]] = []
    for pt in [*pts, None]:
        if pt is not None and group and pt[0] - group[-1][0] <= tol:
            group.append(pt)
            continue
        if len(group) >= min_touches and group[-1][0] - group[0][0] <= tol:
            price = group[-1][0] if kind == HIGH else group[0][0]
            out.append(Level(kind, price, len(group), tuple(ms for _, ms in group)))
        group = [pt] if pt is not None else []
    return out


def stop_hunt_zone(level: Level, atr: float, depth: float) -> tuple[float, float]:
    """The band beyond a level where its stops rest (module docstring).

    Args:
        level: The level.
        atr: N, the 20-bar Wilder ATR.
        depth: Zone depth in N.

    Returns:
        ``(low, high)`` of the band.
    """
    if level.kind == HIGH:
        return level.price, level.price + depth * atr
    return level.price - depth * atr, level.price
