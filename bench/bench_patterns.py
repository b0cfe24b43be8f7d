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

``--concurrent`` instead runs the two configurations at the same time, one process each
(the machine has two cores), each doing its warm-up and then its rounds, and compares the
summed ticks per CPU second: both sides see the same machine at the same moment, which
cancels the drift of a shared VM's speed (about +-10 % between runs here) that
sequential rounds only average out.

Run: ``python bench/bench_patterns.py [--rounds 5] [--bundle 1000] [--partitions 4]
[--concurrent]``.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from rich.console import Console
from rich.table import Table
from sample_inputs import load_sample_inputs

from aion.agents.context import analytics_config
from aion.agents.direct import run_direct
from aion.config import Settings
from aion.tables.analytics import AnalyticsConfig
from aion.tables.records import AlertRecord, ValidationRecord


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="off/on pairs (default 5)")
    parser.add_argument("--bundle", type=int, default=1000, help="packets per bundle")
    parser.add_argument("--partitions", type=int, default=4, help="tick partitions")
    parser.add_argument("--concurrent", action="store_true",
                        help="run off and on at the same time, one process each")
    args = parser.parse_args()
    console = Console()
    settings = Settings.load()
    if args.concurrent:
        return concurrent(console, settings, args.rounds, args.bundle, args.partitions)
    sample = load_sample_inputs(settings)
    path, master, averages = sample.path, sample.master, sample.averages
    configs = _configs(settings)
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


def _configs(settings: Settings) -> dict[str, AnalyticsConfig]:
    """Detection off and every pattern on, from the same settings."""
    return {
        "off": analytics_config(settings.with_overrides(patterns={"enabled": False}).get),
        "on": analytics_config(settings.get),
    }


def _rounds(name: str, rounds: int, bundle: int, partitions: int, done: Any, other: Any
            ) -> list[tuple[int, float, int, int]]:
    """One configuration's warm-up and timed runs, in a worker process.

    Once its own runs are timed it sets ``done`` and keeps running untimed ones until
    ``other`` is set, so the other side's last runs share the machine too.

    Returns:
        Per timed run: packets, CPU seconds, alerts, validation windows.
    """
    settings = Settings.load()
    sample = load_sample_inputs(settings)
    config = _configs(settings)[name]
    out = []
    r = 0
    while r <= rounds or not other.is_set():  # run 0 is the warm-up (numba compiles)
        if r == rounds + 1:
            done.set()
        gc.collect()
        cpu = time.process_time()
        res = run_direct(sample.path, sample.master, partitions=partitions,
                         bundle_packets=bundle, averages=sample.averages, config=config)
        seconds = time.process_time() - cpu
        if 0 < r <= rounds:
            out.append((res.packets, seconds,
                        sum(1 for x in res.records if isinstance(x, AlertRecord)),
                        sum(1 for x in res.records if isinstance(x, ValidationRecord))))
        del res
        r += 1
    done.set()
    return out


def concurrent(console: Console, settings: Settings, rounds: int, bundle: int,
               partitions: int) -> int:
    """``--concurrent``: both configurations at once, one process each (module docstring).

    Returns:
        The exit status.
    """
    load_sample_inputs(settings)  # generate the sample once, before the workers read it
    ctx = multiprocessing.get_context("spawn")
    with console.status(f"off and on side by side, {rounds} runs each after a warm-up"), \
            ctx.Manager() as manager, ProcessPoolExecutor(2, mp_context=ctx) as pool:
        done = {"off": manager.Event(), "on": manager.Event()}
        futures = {name: pool.submit(_rounds, name, rounds, bundle, partitions, done[name],
                                     done["on" if name == "off" else "off"])
                   for name in ("off", "on")}
        runs = {name: f.result() for name, f in futures.items()}
    table = Table(title="direct driver on the sample, off and on at the same time")
    for col in ("run", "off ticks/CPU s", "on ticks/CPU s", "alerts", "validation windows"):
        table.add_column(col, justify="right")
    for i, (off, on) in enumerate(zip(runs["off"], runs["on"], strict=True), 1):
        table.add_row(str(i), f"{off[0] / off[1]:,.0f}", f"{on[0] / on[1]:,.0f}",
                      f"{on[2]:,}", f"{on[3]:,}")
    console.print(table)
    rate = {name: sum(r[0] for r in rs) / sum(r[1] for r in rs) for name, rs in runs.items()}
    ratio = rate["on"] / rate["off"]
    console.print(f"ticks per CPU second over all runs: off {rate['off']:,.0f}, on "
                  f"{rate['on']:,.0f}; on/off = {ratio:.3f} (drop {100 * (1 - ratio):.1f} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
