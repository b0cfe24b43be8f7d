"""Benchmark the simulator: a 30-minute whole-universe window, packets/s and MB/s."""

from __future__ import annotations

import sys
import tempfile
import time as clock
from datetime import date, time
from pathlib import Path

from aion.streams.simulator import simulate


def main() -> int:
    day = date(2025, 11, 18)
    with tempfile.TemporaryDirectory() as tmp:
        for label, start, end in (
            ("open 09:15-09:45", time(9, 15), time(9, 45)),
            ("midday 12:00-12:30", time(12, 0), time(12, 30)),
        ):
            out = Path(tmp) / "bench.parquet"
            t0 = clock.perf_counter()
            result = simulate(day, 42, out, start=start, end=end)
            dt = clock.perf_counter() - t0
            size = out.stat().st_size
            raw = 184 * result.packets  # upper bound of the raw packet bytes
            print(
                f"{label}: {result.packets:,} packets in {dt:.2f} s = "
                f"{result.packets / dt:,.0f} packets/s; file {size / 1e6:.1f} MB "
                f"({size / dt / 1e6:.1f} MB/s written, ~{raw / dt / 1e6:.1f} MB/s of packets)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
