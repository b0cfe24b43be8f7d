"""Calibration report of the simulator: seeds of 2022-11-18 beside the real day (default 5, 6, 7).

Issue 12 measured a real NSE day (2022-11-18) and three simulated days of that date
(seeds 5-7); this script regenerates the simulated days with today's generator and prints
the statistics of :mod:`aion.streams.simulator.calibration` beside the real figures and
the calibration bands (green: inside the band, red: outside).

Usage: ``python bench/bench_calibration.py [--keep DIR] [--seeds 5 6 7]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time as clock
from datetime import date
from pathlib import Path

from rich.console import Console

from aion.calibration_view import calibration_table
from aion.streams.simulator import GENERATOR_VERSION, simulate
from aion.streams.simulator.calibration import Stat, calibration_report, load_session

DAY = date(2022, 11, 18)
SEEDS = (5, 6, 7)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, default=None,
                        help="directory to write (and reuse) the simulated sessions in")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS),
                        help="seeds to simulate (default: %(default)s)")
    args = parser.parse_args()
    console = Console(width=160)
    with tempfile.TemporaryDirectory() as tmp:
        where = args.keep or Path(tmp)
        where.mkdir(parents=True, exist_ok=True)
        reports: dict[str, dict[str, Stat]] = {}
        for seed in args.seeds:
            path = where / f"calib-{DAY}-s{seed}.parquet"
            t0 = clock.perf_counter()
            if not path.exists():
                simulate(DAY, seed, path)
            t1 = clock.perf_counter()
            reports[f"seed {seed}"] = calibration_report(load_session(path))
            t2 = clock.perf_counter()
            console.print(f"seed {seed}: simulated in {t1 - t0:.1f} s, "
                          f"statistics in {t2 - t1:.1f} s")
        console.print(calibration_table(
            reports, title=f"simulator v{GENERATOR_VERSION}, {DAY}, whole session"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
