"""Deterministic instrument states for the state-format tests (a helper, not a test file).

Every case is built only through the engine's public entry points (``apply_ticks``,
``apply_bundle``, ``flush_states``), which did not change with the state format. So the
same recipe run by an older build gives that build's bytes for the same state: that is
how ``tests/fixtures/state/instrument_state_v1.json`` was made (see
:func:`write_fixture`), and how the v1 upgrade test knows what each v1 payload must
restore to.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from aion.streams.batch import ERROR_REASONS, TICK_DTYPE
from aion.tables.analytics import AnalyticsConfig, InstrumentInfo
from aion.tables.engine import END_OF_STREAM_NS, EngineContext, apply_bundle, flush_states
from aion.tables.instrument_state import InstrumentState, apply_ticks
from aion.tables.timeutil import NS_PER_S, ist_wall_ns

STOCK, INDEX, VIX = 341249, 256265, 264969
CONFIG = AnalyticsConfig()
FIXTURE = Path(__file__).parents[1] / "fixtures" / "state" / "instrument_state_v1.json"


def _context() -> EngineContext:
    info = {STOCK: InstrumentInfo(0.05, 3_750_000.0), INDEX: InstrumentInfo(0.0, None),
            VIX: InstrumentInfo(0.0, None, is_vix=True)}
    return EngineContext(CONFIG, info.get, lambda _t: None, {})


def _walk(token: int, n: int, seed: int, start: float, step_s: int, sigma: float,
          grid: float, kind: int = 184) -> tuple[np.ndarray, np.ndarray]:
    """``n`` ticks of ``token`` every ``step_s`` s from 09:15:01, a random walk on a grid."""
    rng = np.random.default_rng(seed)
    arr = np.zeros(n, dtype=TICK_DTYPE)
    times = ist_wall_ns(2025, 11, 18, 9, 15, 1) + np.arange(n, dtype=np.int64) * step_s * NS_PER_S
    arr["token"], arr["kind"] = token, kind
    arr["last_price"] = np.maximum(
        np.round((start + np.cumsum(rng.normal(0, sigma, n))) / grid) * grid, grid)
    arr["volume"] = np.cumsum(rng.integers(0, 400, n)) if kind == 184 else 0
    arr["exchange_ts"] = times // NS_PER_S
    return arr, times + 1_000_000


def _engine(arr: np.ndarray, recv: np.ndarray, bundle: int, *, flush: bool) -> InstrumentState:
    """Run ticks of one token through ``apply_bundle`` in bundles; the final state."""
    states: dict[int, InstrumentState] = {}
    ctx = _context()
    for off, i in enumerate(range(0, len(arr), bundle)):
        out = apply_bundle(states.get, arr[i:i + bundle], recv[i:i + bundle], off % 2, off,
                           known=lambda t: True, error_reasons=ERROR_REASONS, context=ctx)
        states.update(out.touched)
    if flush:
        flush_states(states, END_OF_STREAM_NS, ctx, 0, 10**6)
    (state,) = states.values()
    return state


def ticks_only() -> InstrumentState:
    """No analytics; rejects of every kind, late ticks, an open bar, two partitions."""
    arr, recv = _walk(STOCK, 400, 11, 812.35, 3, 0.3, 0.05)
    arr["last_price"][[5, 77]] = [np.nan, -1.0]
    arr["error"][40] = 3
    arr["volume"][120] = arr["volume"][119] - 5  # a cumulative drop
    late = recv.copy()
    late[200:204] -= 240 * NS_PER_S  # four ticks four minutes late
    state = InstrumentState(STOCK)
    for part, lo in enumerate(range(0, len(arr), 150)):
        sl = slice(lo, lo + 150)
        apply_ticks(state, arr[sl], late[sl] - 1_000_000, part % 2, part,
                    np.arange(len(arr[sl])))
    return state


def stock_first_minute() -> InstrumentState:
    """Analytics before the first closed bar: VWAP and profile, no indicators."""
    arr, recv = _walk(STOCK, 25, 12, 1500.0, 2, 0.4, 0.05)
    return _engine(arr, recv, 7, flush=False)


def stock_mid_session() -> InstrumentState:
    """Indicators, VWAP, a profile with unpublished rows, an open bar and open buckets."""
    arr, recv = _walk(STOCK, 1234, 13, 1500.0, 2, 0.4, 0.05)
    return _engine(arr, recv, 97, flush=False)


def stock_flushed() -> InstrumentState:
    """The mid-session stock after the end-of-stream flush (no open bar, profile published)."""
    arr, recv = _walk(STOCK, 1234, 13, 1500.0, 2, 0.4, 0.05)
    return _engine(arr, recv, 97, flush=True)


def index() -> InstrumentState:
    """An index (tick size 0: no profile), index packets without volume."""
    arr, recv = _walk(INDEX, 600, 14, 25_910.0, 4, 3.0, 0.05, kind=32)
    return _engine(arr, recv, 50, flush=False)


def vix() -> InstrumentState:
    """INDIA VIX crossing regime boundaries, with an out-of-order tick the regime ignores."""
    arr, recv = _walk(VIX, 300, 15, 14.0, 5, 0.6, 0.0025, kind=32)
    arr["last_price"][150:] += 12.0  # into HIGH / PANIC
    recv[201] -= 30 * NS_PER_S  # late for the regime (still a barred tick)
    return _engine(arr, recv, 40, flush=False)


CASES: dict[str, Callable[[], InstrumentState]] = {
    f.__name__: f
    for f in (ticks_only, stock_first_minute, stock_mid_session, stock_flushed, index, vix)
}


def write_fixture(commit: str) -> None:
    """Write every case's ``to_bytes()`` of the running build to :data:`FIXTURE`.

    Run with the *old* build on the path (the v1 fixture came from commit 5231099)::

        git archive 5231099 | tar -x -C /tmp/v1   # then an ``aion`` package tree of it
        PYTHONPATH=/tmp/v1/pkg python tests/tables/state_cases.py 5231099

    Args:
        commit: The commit of the build producing the bytes (recorded in the file).
    """
    cases = {name: make().to_bytes().decode() for name, make in CASES.items()}
    doc = {"commit": commit, "cases": cases}
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    write_fixture(sys.argv[1])
