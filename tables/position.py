"""Source positions and the idempotency guard (docs/architecture.md, "Exactly the events, once").

A raw packet's source position is ``(partition, offset, index in bundle)``. Within one
partition positions are totally ordered by ``(offset, index)``; across partitions they
are not comparable in any meaningful way (``SourcePosition`` still sorts, by partition
first, so that collections of positions serialise deterministically).

Faust delivers at least once: after a crash it re-delivers from the last committed
offset, while the changelog-restored state may already contain some of those events.
Each state therefore remembers, per partition, the last ``(offset, index)`` it applied,
and skips anything at or below it.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

LastApplied = Mapping[int, tuple[int, int]]
"""Per partition, the last applied ``(offset, index_in_bundle)``."""


@dataclass(frozen=True, order=True, slots=True)
class SourcePosition:
    """Where a packet came from: partition, offset of its bundle, index in the bundle.

    Attributes:
        partition: Partition of ``aion.ticks.raw``.
        offset: Offset of the bundle message in that partition.
        index: Position of the packet inside the bundle (0-based).
    """

    partition: int
    offset: int
    index: int


def is_new(last: LastApplied, pos: SourcePosition) -> bool:
    """Whether a position is after the last one applied in its partition.

    Args:
        last: Per-partition last applied ``(offset, index)``.
        pos: The candidate position.

    Returns:
        True if nothing at or after ``pos`` has been applied in its partition.
    """
    prev = last.get(pos.partition)
    return prev is None or (pos.offset, pos.index) > prev


def new_mask(
    last: LastApplied, partition: int, offset: int, indices: npt.ArrayLike | int
) -> npt.NDArray[np.bool_]:
    """Vectorised :func:`is_new` for the packets of one bundle.

    Args:
        last: Per-partition last applied ``(offset, index)``.
        partition: Partition of the bundle.
        offset: Offset of the bundle.
        indices: Index in bundle of each packet, or an int ``n`` meaning ``0..n-1``.

    Returns:
        A boolean array, True where the packet has not been applied yet.
    """
    idx = np.arange(indices) if isinstance(indices, int) else np.asarray(indices)
    prev = last.get(partition)
    if prev is None or offset > prev[0]:
        return np.ones(idx.shape, dtype=bool)
    if offset < prev[0]:
        return np.zeros(idx.shape, dtype=bool)
    return idx > prev[1]


def first_new(last: LastApplied, partition: int, offset: int, indices: Sequence[int]) -> int:
    """Position of the first not-yet-applied packet among increasing bundle indices.

    With strictly increasing ``indices`` at one offset the new packets are a suffix, so
    the guard reduces to a binary search (cheaper than a mask for live, tiny slices).

    Args:
        last: Per-partition last applied ``(offset, index)``.
        partition: Partition of the bundle.
        offset: Offset of the bundle.
        indices: Strictly increasing indices in bundle.

    Returns:
        How many leading packets were already applied (``len(indices)`` if all were).
    """
    prev = last.get(partition)
    if prev is None or offset > prev[0]:
        return 0
    if offset < prev[0]:
        return len(indices)
    return bisect.bisect_right(indices, prev[1])


def advance(last: dict[int, tuple[int, int]], pos: SourcePosition) -> None:
    """Record ``pos`` as applied, never moving a partition's position backwards.

    Args:
        last: Per-partition last applied ``(offset, index)``, updated in place.
        pos: The position just applied.
    """
    prev = last.get(pos.partition)
    key = (pos.offset, pos.index)
    if prev is None or key > prev:
        last[pos.partition] = key
