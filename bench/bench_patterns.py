"""Benchmark: the cost of pattern detection, alerts and forward validation in the engine.

Runs the direct driver (decode + apply, no Kafka, no Redis) on the bundled sample session
with its daily history: one untimed warm-up run (numba compiles its kernels on first use),
then rounds of two runs, detection off (``patterns.enabled: false``) and every pattern of
``config/patterns.yaml`` enabled, the order alternating from round to round so a drift of
the machine's speed does not favour one side. Prints ticks/s of each run, the alerts and
validation windows produced, and the ratio of the medians (issue 13's budget: a drop of
at most 15 %), both for wall-clock time and per CPU second of the process
(``time.process_time``, which a busy machine disturbs far less), and the median of the
rounds' own on/off ratios.

Run: ``python bench/bench_patterns.py [--rounds 5] [--bundle 1000] [--partitions 4]``.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time

from rich.console import Console
from rich.table import Table
from sample_inputs import load_sample_inputs

from aion.agents.context import analytics_config
from aion.agents.direct import run_direct
from aion.config import Settings
from aion.tables.records import AlertRecord, ValidationRecord


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="off/on pairs (default 5)")
    parser.add_argument("--bundle", type=int, default=1000, help="packets per bundle")
    parser.add_argument("--partitions", type=int, default=4, help="tick partitions")
    args = parser.parse_args()
    console = Console()
    settings = Settings.load()
    sample = load_sample_inputs(settings)
    path, master, averages = sample.path, sample.master, sample.averages
    configs = {
        "off": analytics_config(settings.with_overrides(patterns={"enabled": False}).get),
        "on": analytics_config(settings.get),
    }
    # One untimed run first: numba compiles the kernels on first use, which would land in
    # whichever configuration ran first.
    with console.status("warm-up run (numba compiles the kernels)"):
        run_direct(path, master, partitions=args.partitions, bundle_packets=args.bundle,
                   averages=averages, config=configs["on"])
    rates: dict[str, list[float]] = {"off": [], "on": []}
    cpu_rates: dict[str, list[float]] = {"off": [], "on": []}
    table = Table(title=f"direct driver on the sample ({path.name})")
    for col in ("round", "patterns", "ticks", "ticks/s", "ticks/CPU s", "alerts",
                "validation windows"):
        table.add_column(col, justify="right")
    for r in range(1, args.rounds + 1):
        order = list(configs.items())
        for name, config in order if r % 2 else order[::-1]:
            gc.collect()  # the previous run's records are garbage now: not this run's cost
            cpu = time.process_time()
            res = run_direct(path, master, partitions=args.partitions,
                             bundle_packets=args.bundle, averages=averages, config=config)
            cpu_rate = res.packets / (time.process_time() - cpu)
            rate = res.packets / res.seconds
            rates[name].append(rate)
            cpu_rates[name].append(cpu_rate)
            alerts = sum(1 for x in res.records if isinstance(x, AlertRecord))
            windows = sum(1 for x in res.records if isinstance(x, ValidationRecord))
            table.add_row(str(r), name, f"{res.packets:,}", f"{rate:,.0f}", f"{cpu_rate:,.0f}",
                          f"{alerts:,}", f"{windows:,}")
            console.print(f"round {r} patterns {name}: {rate:,.0f} ticks/s")
    console.print(table)
    off, on = statistics.median(rates["off"]), statistics.median(rates["on"])
    console.print(f"median ticks/s: off {off:,.0f}, on {on:,.0f}; on/off = {on / off:.3f} "
                  f"(drop {100 * (1 - on / off):.1f} %)")
    off, on = statistics.median(cpu_rates["off"]), statistics.median(cpu_rates["on"])
    console.print(f"median ticks per CPU second: off {off:,.0f}, on {on:,.0f}; on/off = "
                  f"{on / off:.3f} (drop {100 * (1 - on / off):.1f} %)")
    paired = statistics.median(b / a for a, b in zip(cpu_rates["off"], cpu_rates["on"],
                                                     strict=True))
    console.print(f"median of the rounds' on/off (per CPU second): {paired:.3f} "
                  f"(drop {100 * (1 - paired):.1f} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
