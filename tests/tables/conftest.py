"""Helpers for the pure-domain tests: a local tick dtype and tick builders.

``TICK_DTYPE_FOR_TESTS`` is ``aion.streams.batch.TICK_DTYPE`` (tests may import streams;
``tables/`` itself may not). Helpers are handed to
tests through the session-scoped ``tk`` fixture so hypothesis tests can use them too.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from aion.streams.batch import TICK_DTYPE
from aion.tables.timeutil import ist_wall_ns

# The decoder's own dtype: the pure tables consume exactly what the batch decoder emits.
TICK_DTYPE_FOR_TESTS = TICK_DTYPE

TOKEN = 341249
ist_ns = ist_wall_ns


def make_ticks(rows: Sequence[dict[str, Any]], token: int = TOKEN) -> np.ndarray:
    """Structured tick array; each row a dict of fields (kind defaults to full, 184)."""
    arr = np.zeros(len(rows), dtype=TICK_DTYPE_FOR_TESTS)
    arr["token"] = token
    arr["kind"] = 184
    for i, row in enumerate(rows):
        for k, v in row.items():
            arr[i][k] = v
    return arr


def ticks_from(
    times_ns: Sequence[int],
    prices: Sequence[float],
    cumvols: Sequence[int],
    kinds: Sequence[int] | None = None,
    token: int = TOKEN,
) -> tuple[np.ndarray, np.ndarray]:
    """Tick array + event times from parallel sequences (vectorised builder)."""
    n = len(times_ns)
    arr = np.zeros(n, dtype=TICK_DTYPE_FOR_TESTS)
    arr["token"] = token
    arr["kind"] = 184 if kinds is None else np.asarray(kinds)
    arr["last_price"] = np.asarray(prices, dtype=np.float64)
    arr["volume"] = np.asarray(cumvols, dtype=np.int64)
    ev = np.asarray(times_ns, dtype=np.int64)
    arr["exchange_ts"] = ev // 1_000_000_000
    return arr, ev


@pytest.fixture(scope="session")
def tk() -> SimpleNamespace:
    """Tick-building helpers (session scoped, so usable from hypothesis tests)."""
    return SimpleNamespace(
        dtype=TICK_DTYPE_FOR_TESTS,
        token=TOKEN,
        ist_ns=ist_ns,
        make=make_ticks,
        build=ticks_from,
    )
