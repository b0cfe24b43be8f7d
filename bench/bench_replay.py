"""Benchmark: replay pacing against the wall clock, and replay throughput at full speed.

The tests check pacing on a virtual clock (every bundle leaves at its recorded time /
speed); this script measures what the real clock does on this machine, against one
embedded broker (Tansu) or ``AION_KAFKA_BOOTSTRAP``:

* **paced**: the first 20 s of the sample session at 10x. Figure: wall time against the
  recorded span / 10 (ratio 1.00 = on time; above 1 = the producer could not keep up).
* **max speed**: the same packets unpaced. Figures: packets/s, and its ratio to the
  paced rate.

Prints figures only. Run: ``python bench/bench_replay.py [--seconds 20] [--speed 10]``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np


def first_seconds(sample: Path, seconds: float, out: Path) -> tuple[Path, float]:
    """The first ``seconds`` of ``sample`` as a session file, and its recorded span."""
    from aion.streams.session_file import SessionWriter, iter_batches, read_meta

    first: int | None = None
    last = 0
    with SessionWriter(out, read_meta(sample)) as writer:
        for recv, tokens, packets in iter_batches(sample):
            first = int(recv[0]) if first is None else first
            keep = int(np.searchsorted(recv, first + int(seconds * 1e9), side="right"))
            if keep:
                writer.write(recv[:keep], tokens[:keep], packets[:keep])
                last = int(recv[keep - 1])
            if keep < len(recv):
                break
    return out, (last - (first or 0)) / 1e9


async def measure(bootstrap: str, session: Path, partitions: int, speed: float,
                  span_s: float) -> None:
    """Replay paced and unpaced into fresh topics and print the figures."""
    from aion.streams.replay import replay
    from aion.streams.topics import TopicNames, delete_prefixed, ensure_topics

    prefix = f"bench-replay-{uuid.uuid4().hex[:8]}."
    names = TopicNames(prefix)
    await ensure_topics(bootstrap, names, partitions)
    try:
        started = time.monotonic()
        paced = await replay(session, bootstrap, names.ticks_raw, partitions,
                             bundle_packets=500, speed=speed, end_marker=False)
        paced_wall = time.monotonic() - started
        started = time.monotonic()
        fast = await replay(session, bootstrap, names.ticks_raw, partitions,
                            bundle_packets=500, speed=None, end_marker=False)
        fast_wall = time.monotonic() - started
    finally:
        await delete_prefixed(bootstrap, prefix)
    due = span_s / speed
    print(f"{paced.packets:,} packets, recorded span {span_s:.2f} s, {partitions} partitions")
    print(f"paced {speed:g}x : wall {paced_wall:6.2f} s vs due {due:.2f} s "
          f"(ratio {paced_wall / due:.3f}), {paced.bundles} bundles")
    print(f"max speed: wall {fast_wall:6.2f} s, {fast.packets / fast_wall:,.0f} packets/s "
          f"({paced_wall / fast_wall:.1f}x the paced rate), {fast.bundles} bundles")


def main() -> None:
    """Parse options, start or find a broker, and measure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="recorded seconds of the sample to replay (default 20)")
    parser.add_argument("--speed", type=float, default=10.0, help="pacing factor (default 10)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)

    from aion.config import Settings
    from aion.infra import infrastructure
    from aion.streams.sample import sample_session_path

    settings = Settings.load()
    sample = sample_session_path(settings.cache_dir)
    with tempfile.TemporaryDirectory() as tmp:
        session, span = first_seconds(sample, args.seconds, Path(tmp) / "short.parquet")
        with infrastructure(settings, Path(tmp) / "logs") as infra:
            asyncio.run(measure(infra.bootstrap, session, settings.partitions, args.speed,
                                span))


if __name__ == "__main__":
    main()
