"""Benchmark: the cost of the chain patterns (alerts + forward validation) in the option chain.

Runs the direct driver once on the bundled sample to collect every chain input (in the
order the driver offers them), then replays those inputs through ``tables.chain.offer``
alternately without and with chain alerting (every chain pattern of
``config/patterns.yaml``), keeping each chain's bytes after every input as the chain agent
does, and prints the medians, the chain alerts and windows produced, and the added time as
a share of the direct run.

Run: ``python bench/bench_chain_alerts.py [--rounds 3] [--bundle 1000] [--partitions 4]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from sample_inputs import load_sample_inputs

import aion.agents.direct as direct
from aion.agents.context import analytics_config, build_context, chain_alerting
from aion.config import Settings
from aion.config.nse_calendar import NseCalendar
from aion.tables.chain import ChainInput, ChainParams, ChainState, offer
from aion.tables.expiry import TradingCalendar
from aion.tables.records import AlertRecord, ValidationRecord


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="off/on pairs (default 3)")
    parser.add_argument("--bundle", type=int, default=1000, help="packets per bundle")
    parser.add_argument("--partitions", type=int, default=4, help="tick partitions")
    args = parser.parse_args()
    settings = Settings.load()
    sample = load_sample_inputs(settings)
    path, master, averages = sample.path, sample.master, sample.averages
    items: list[ChainInput] = []

    def spy(state: ChainState, item: ChainInput, *rest: Any) -> Any:
        items.append(item)
        return offer(state, item, *rest)

    direct.offer = spy  # type: ignore[assignment]
    try:
        run = direct.run_direct(path, master, partitions=args.partitions,
                                bundle_packets=args.bundle, averages=averages)
    finally:
        direct.offer = offer  # type: ignore[assignment]
    config = analytics_config(settings.get)
    alerting = chain_alerting(config, build_context(master, averages, args.partitions,
                                                    config).info)
    calendar, params = TradingCalendar(NseCalendar.load()), ChainParams()

    def once(on: bool) -> tuple[float, int, int]:
        chains: dict[str, ChainState] = {}
        alerts = windows = 0
        t0 = time.perf_counter()
        for item in items:
            chain = chains.setdefault(item.underlying, ChainState(item.underlying))
            out = offer(chain, item, params, calendar, alerting if on else None)
            chain.to_bytes()
            alerts += sum(isinstance(r, AlertRecord) for r in out)
            windows += sum(isinstance(r, ValidationRecord) for r in out)
        return time.perf_counter() - t0, alerts, windows

    off_s, on_s = [], []
    counts = (0, 0)
    for _ in range(args.rounds):
        off_s.append(once(False)[0])
        seconds, *c = once(True)
        on_s.append(seconds)
        counts = (c[0], c[1])
    off, on = statistics.median(off_s), statistics.median(on_s)
    print(f"direct run {run.seconds:.1f} s for {run.packets:,} packets; "
          f"{len(items):,} chain inputs")
    print(f"chain off: median {off:.2f} s  {[round(x, 2) for x in off_s]}")
    print(f"chain on : median {on:.2f} s  {[round(x, 2) for x in on_s]}  "
          f"({counts[0]} chain alerts, {counts[1]} validation windows)")
    print(f"added by chain alerting: {on - off:.2f} s = "
          f"{100 * (on - off) / run.seconds:.1f} % of the direct run")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
