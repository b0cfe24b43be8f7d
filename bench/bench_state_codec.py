"""Benchmark: ``InstrumentState.to_bytes`` / ``from_bytes`` on realistic states, µs per state.

The worker serialises every state a bundle touched (``to_bytes``) and decodes a state
only when its cached object is stale (``from_bytes``). This runs the bundled sample
session through ``apply_bundle`` exactly as the direct driver does and, every
``EVERY``-th bundle, keeps a deep copy of the states that bundle touched: a mix of
mid-session states (open bars, buckets, indicators, profiles) like the ones the worker
writes. It then times both directions over that set (per chunk of 20 states, the best
of ``REPEAT`` passes, summed: robust against a loaded machine).

Only public API is used, so the same script measures the code before and after a change
of the state format. Run: ``python bench/bench_state_codec.py`` (about a minute).
"""

from __future__ import annotations

import copy
import statistics
import time

from aion.agents.backtest import instruments_csv_for
from aion.agents.context import build_context
from aion.streams.batch import ERROR_REASONS
from aion.streams.bundle import decode_bundle_batch
from aion.streams.instruments import InstrumentMaster
from aion.streams.replay import iter_bundles
from aion.streams.sample import sample_session_path
from aion.tables.analytics import AnalyticsConfig
from aion.tables.engine import apply_bundle
from aion.tables.instrument_state import InstrumentState

PARTITIONS = 4
BUNDLE = 500
EVERY = 7
REPEAT = 15


def collect() -> list[InstrumentState]:
    """Touched states of every ``EVERY``-th bundle of the sample session (deep copies)."""
    path = sample_session_path()
    master = InstrumentMaster.from_csv(instruments_csv_for(path))
    known = {i.instrument_token for i in master}
    context = build_context(master, {}, PARTITIONS, AnalyticsConfig())
    states: dict[int, InstrumentState] = {}
    offsets = dict.fromkeys(range(PARTITIONS), 0)
    kept: list[InstrumentState] = []
    for n, bundle in enumerate(iter_bundles(path, PARTITIONS, BUNDLE)):
        p = bundle.partition
        rows, recv_ns = decode_bundle_batch(bundle.encode())
        out = apply_bundle(states.get, rows, recv_ns, p, offsets[p],
                           known=known.__contains__, error_reasons=ERROR_REASONS,
                           context=context)
        states.update(out.touched)
        offsets[p] += 1
        if n % EVERY == 0:
            kept.extend(copy.deepcopy(list(out.touched.values())))
    return kept


def per_state_us(fn, items: list, chunk: int = 20) -> tuple[float, float]:
    """Time ``fn`` over every item, µs per item: sum of per-chunk minima, and median pass.

    The minimum of each short chunk over ``REPEAT`` passes filters out preemption on a
    loaded machine far better than the best whole pass; the median pass shows the spread.
    """
    chunks = [items[i:i + chunk] for i in range(0, len(items), chunk)]
    best = [float("inf")] * len(chunks)
    passes = []
    for _ in range(REPEAT):
        total = 0.0
        for k, ch in enumerate(chunks):
            t0 = time.perf_counter()
            for it in ch:
                fn(it)
            dt = time.perf_counter() - t0
            best[k] = min(best[k], dt)
            total += dt
        passes.append(total)
    return sum(best) / len(items) * 1e6, statistics.median(passes) / len(items) * 1e6


def main() -> None:
    states = collect()
    blobs = [s.to_bytes() for s in states]
    with_an = sum(s.analytics is not None for s in states)
    with_bar = sum(s.bars.open_bar is not None for s in states)
    size = sum(map(len, blobs)) / len(blobs)
    print(f"{len(states)} states ({with_an} with analytics, {with_bar} with an open bar), "
          f"mean {size:.0f} bytes")
    enc = per_state_us(InstrumentState.to_bytes, states)
    dec = per_state_us(InstrumentState.from_bytes, blobs)
    print(f"to_bytes    {enc[0]:7.2f} µs per state (chunk minima; median pass {enc[1]:7.2f})")
    print(f"from_bytes  {dec[0]:7.2f} µs per state (chunk minima; median pass {dec[1]:7.2f})")


if __name__ == "__main__":
    main()
