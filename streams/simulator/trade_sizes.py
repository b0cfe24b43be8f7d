"""Heavy-tailed trade sizes: a lognormal body with rare Pareto block trades.

On a real day a futures snapshot's volume (the trades of one second) has a 99th
percentile 22-24x its median, and one second can hold thousands of lots (issue 12).
Sizes are drawn as multiples of the instrument's mean size, normalised to mean 1 so
the day's volume stays what the liquidity model says.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "BLOCK_ALPHA",
    "BLOCK_MAX",
    "BLOCK_MIN",
    "BLOCK_PROB",
    "BLOCK_SCALE_CAP",
    "BODY_SIGMA",
    "scaled_sizes",
    "size_multiples",
]

BODY_SIGMA = 1.15
"""Log-standard deviation of the lognormal body (p99/median of the body ~14x)."""

BLOCK_PROB = 0.002
"""Share of prints that are block trades."""

BLOCK_MIN = 12.0
"""Smallest block, in mean sizes."""

BLOCK_ALPHA = 1.6
"""Pareto tail index of block sizes (a few hundred-lot blocks a day, now and then more)."""

BLOCK_MAX = 200.0
"""Largest block, in mean sizes (real: 2,192 lots in one NIFTY futures second)."""

BLOCK_SCALE_CAP = 1.5
"""Cap on the size multiplier (time of day x activity) a block trade is scaled by. A
block is an institution's order, not a busier minute's print: scaled by a burst's 10x
it made 4,000-lot seconds (real max 2,192) and carried a quarter hour's volume share.
At 3x, seed 7's opening minutes still drew 700-1,350-lot blocks on the open's already
scaled size (opening share 12.9 %, band 5-10); 1.5x lets a block follow the open's U
a little but not the burst multiplier stacked on it."""

# Mean of the Pareto(BLOCK_ALPHA, BLOCK_MIN) law truncated at BLOCK_MAX (clipped draws).
_C = BLOCK_MAX / BLOCK_MIN
_TAIL = _C ** (1.0 - BLOCK_ALPHA)
_BLOCK_MEAN = BLOCK_MIN * (BLOCK_ALPHA * (1.0 - _TAIL) / (BLOCK_ALPHA - 1.0) + _TAIL)
_NORM = (1.0 - BLOCK_PROB) + BLOCK_PROB * _BLOCK_MEAN


def size_multiples(rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw ``n`` trade sizes as multiples of the mean size (mean 1).

    Args:
        rng: Random source (three draws of ``n``, in a fixed order).
        n: Number of sizes.

    Returns:
        ``float64`` multiples of the mean size.
    """
    body, block, is_block = _draw(rng, n)
    return np.where(is_block, block, body) / _NORM


def scaled_sizes(rng: np.random.Generator, scale: np.ndarray) -> np.ndarray:
    """Draw trade sizes as multiples of the mean size, each scaled by its multiplier.

    The body scales with ``scale`` (time of day, activity); blocks with at most
    ``BLOCK_SCALE_CAP`` of it.

    Args:
        rng: Random source (the draws of :func:`size_multiples`).
        scale: Per-print size multiplier.

    Returns:
        ``float64`` sizes in mean sizes.
    """
    body, block, is_block = _draw(rng, len(scale))
    out = np.where(is_block, block * np.minimum(scale, BLOCK_SCALE_CAP), body * scale)
    sizes: np.ndarray = out / _NORM
    return sizes


def _draw(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    body = rng.lognormal(-0.5 * BODY_SIGMA**2, BODY_SIGMA, n)
    block = np.minimum((rng.pareto(BLOCK_ALPHA, n) + 1.0) * BLOCK_MIN, BLOCK_MAX)
    is_block = rng.random(n) < BLOCK_PROB
    return body, block, is_block

