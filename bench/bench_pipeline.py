"""Benchmark: pipeline throughput, direct driver vs Faust vs two broker ceilings.

Everything runs in ONE process tree against ONE embedded broker (Tansu) and Redis, on the
bundled sample session (or its first N packets for small bundles). For each bundle size:

* **direct**: :func:`aion.agents.direct.run_direct` (decode + apply, no Kafka).
* **Faust (backtest)**: :func:`aion.agents.backtest.run_faust_backtest`, its
  "ticks agent" stage = ticks / (replay start → lag 0 on every stage). That includes the
  worker joining the group while the replay runs, the Redis mirror in the same worker and
  the 2 s "nothing new arrives" settle of ``wait_caught_up``.
* **like-for-like, pre-filled topic** (same broker, same messages): the bundles are
  replayed once into a fresh tick topic, then read by

  - raw ``AIOKafkaConsumer`` (assign + getmany to the high watermarks),
  - a no-op Faust agent (a separate tiny ``faust.App`` in a subprocess),
  - the real ``aion worker`` (ticks agent + mirror), timed from its first to its last
    bundle through its ``/aion/stats/`` view (polled every 50 ms).

Prints figures only (no asserts). Run: ``python bench/bench_pipeline.py [--quick]``
(``AION_BENCH_QUICK=1`` makes ``--quick`` the default: bundle sizes 100 and 1000 only).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aion.agents.backtest import FaustRun
    from aion.config import Settings
    from aion.infra import Infra

DIRECT_TARGET = 1_000_000  # ticks/s, direct driver (issue target)
FAUST_TARGET = 200_000  # ticks/s per worker with large bundles (issue target)
LARGE_BUNDLE = 1000
ALL_BUNDLES = (1, 10, 100, 1000)
QUICK_BUNDLES = (100, 1000)
# Input packets per bundle size (missing = the whole sample session). The Faust path is
# truncated for every size: the worker is far slower than the broker (see the figures),
# and each bench run must stay under ~3 minutes.
DIRECT_LIMIT = {1: 50_000, 10: 50_000}
FAUST_LIMIT = {1: 2_000, 10: 5_000, 100: 50_000, 1000: 200_000}
NOOP_TIMEOUT_S = 90.0
REAL_TIMEOUT_S = 120.0


@dataclass
class Row:
    """Figures for one bundle size (rates in ticks/s unless named otherwise)."""

    bundle: int
    direct_packets: int = 0
    direct: float = 0.0
    faust_packets: int = 0
    replay: float = 0.0
    faust_stage: float = 0.0
    faust_prefilled: float = 0.0
    raw: float = 0.0
    raw_msgs: float = 0.0
    noop: float = 0.0
    noop_events: float = 0.0


def truncated(src: Path, limit: int | None, workdir: Path) -> Path:
    """The first ``limit`` packets of ``src`` as a session file (with its instruments CSV).

    Args:
        src: Session file.
        limit: Packets to keep (None: ``src`` itself).
        workdir: Where truncated copies go.

    Returns:
        The path to use.
    """
    from aion.streams.session_file import SessionWriter, iter_batches, read_meta

    if limit is None:
        return src
    dst = workdir / f"first-{limit}.parquet"
    if dst.exists():
        return dst
    left = limit
    with SessionWriter(dst, read_meta(src)) as writer:
        for recv, toks, packets in iter_batches(src):
            n = min(left, len(packets))
            writer.write(recv[:n], toks[:n], packets[:n])
            left -= n
            if not left:
                break
    csv = src.with_suffix(".instruments.csv")
    dst.with_suffix(".instruments.csv").write_bytes(csv.read_bytes())
    return dst


def bench_direct(path: Path, bundle: int, partitions: int) -> tuple[int, float]:
    """Run the direct driver; return (packets, ticks/s)."""
    from aion.agents.direct import run_direct
    from aion.streams.instruments import InstrumentMaster

    master = InstrumentMaster.from_csv(path.with_suffix(".instruments.csv"))
    result = run_direct(path, master, partitions=partitions, bundle_packets=bundle)
    return result.packets, result.packets / result.seconds


async def raw_consume(bootstrap: str, topic: str) -> tuple[int, float]:
    """Read ``topic`` to its high watermarks with a bare consumer; return (messages, s)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from aion.streams.topics import high_watermarks

    ends = await high_watermarks(bootstrap, topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in sorted(ends) if ends[p] > 0]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        remaining = set(tps)
        count = 0
        started = time.perf_counter()
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, records in batch.items():
                count += len(records)
                if records and records[-1].offset >= ends[tp.partition] - 1:
                    remaining.discard(tp)
        return count, time.perf_counter() - started
    finally:
        await consumer.stop()


def noop_worker_main(args: argparse.Namespace) -> None:
    """Subprocess: a Faust app whose agent does nothing per event; report when N seen."""
    import faust

    app = faust.App(
        args.app_id,
        broker=f"kafka://{args.bootstrap}",
        store="memory://",
        topic_partitions=args.partitions,
        broker_rebalance_timeout=3.0,
        broker_session_timeout=10.0,
        broker_heartbeat_interval=1.0,
        web_enabled=False,
        datadir=args.datadir,
        key_serializer="raw",
        value_serializer="raw",
    )
    topic = app.topic(args.topic, partitions=args.partitions, key_type=bytes,
                      value_type=bytes, key_serializer="raw", value_serializer="raw")
    out = Path(args.out)
    seen = 0
    first = 0.0

    @app.agent(topic)
    async def noop(stream: faust.StreamT) -> None:
        nonlocal seen, first
        async for _event in stream.events():
            if not seen:
                first = time.perf_counter()
            seen += 1
            if seen == args.expect:
                tmp = out.with_suffix(".tmp")
                tmp.write_text(json.dumps({"events": seen,
                                           "seconds": time.perf_counter() - first}))
                tmp.replace(out)

    for name in ("aiokafka", "faust", "mode"):
        logging.getLogger(name).setLevel(logging.WARNING)
    faust.Worker(app, loglevel="warn", quiet=True).execute_from_commandline()


def stop_proc(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """SIGTERM a child we started, SIGKILL it if it lingers."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def noop_faust(bootstrap: str, topic: str, partitions: int, expect: int, prefix: str,
                     workdir: Path) -> tuple[int, float]:
    """Run the no-op Faust app in a subprocess over ``topic``; return (events, seconds)."""
    tag = uuid.uuid4().hex[:6]
    out = workdir / f"noop-{tag}.json"
    log_path = workdir / f"noop-{tag}.log"
    argv = [sys.executable, str(Path(__file__).resolve()), "--noop-worker",
            "--bootstrap", bootstrap, "--topic", topic, "--partitions", str(partitions),
            "--expect", str(expect), "--out", str(out), "--app-id", f"{prefix}noop-{tag}",
            "--datadir", str(workdir / f"noop-{tag}-data")]
    with log_path.open("wb") as log_out:
        proc = subprocess.Popen(argv, stdout=log_out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + NOOP_TIMEOUT_S
        while not out.exists():
            if proc.poll() is not None:
                raise RuntimeError(f"no-op worker exited {proc.returncode}; see {log_path}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"no-op worker did not see {expect} events; see {log_path}")
            await asyncio.sleep(0.1)
        data = json.loads(out.read_text())
        return int(data["events"]), float(data["seconds"])
    finally:
        stop_proc(proc)


async def real_worker_first_to_last(run: FaustRun, expect: int) -> float:
    """Start one ``aion worker`` on a pre-filled topic; seconds from first to last bundle."""
    from aion.agents.backtest import worker_stats

    proc = run.add_worker()
    port = run.web_ports[-1]
    deadline = time.monotonic() + REAL_TIMEOUT_S
    first: float | None = None
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"aion worker exited {proc.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError("aion worker did not finish the pre-filled topic in time")
        stats = await asyncio.to_thread(worker_stats, port)
        done = int(stats["bundles"]) if stats else 0
        now = time.perf_counter()
        if done and first is None:
            first = now
        if done >= expect and first is not None:
            return now - first
        await asyncio.sleep(0.05)


async def bench_faust(settings: Settings, infra: Infra, session: Path, bundle: int,
                      row: Row, workdir: Path) -> None:
    """Fill one topic, read it three ways, then run the real backtest; fill ``row``."""
    from aion.agents.backtest import faust_run, run_faust_backtest
    from aion.streams.replay import replay

    parts = settings.partitions
    bootstrap = infra.bootstrap
    async with faust_run(settings, infra, session, workers=0) as run:
        topic = run.names.ticks_raw
        stats = await replay(session, bootstrap, topic, parts, bundle_packets=bundle)
        events = stats.bundles + parts  # + one end-of-stream marker per partition
        row.faust_packets = stats.packets
        row.replay = stats.packets / stats.seconds
        msgs, secs = await raw_consume(bootstrap, topic)
        row.raw, row.raw_msgs = stats.packets / secs, msgs / secs
        n, secs = await noop_faust(bootstrap, topic, parts, events, run.names.prefix, workdir)
        row.noop, row.noop_events = stats.packets / secs, n / secs
        secs = await real_worker_first_to_last(run, events)
        row.faust_prefilled = stats.packets / secs
        print(f"  B={bundle}: {stats.packets:,} packets in {events:,} messages; replay "
              f"{row.replay:,.0f} ticks/s; raw consume {msgs:,} msgs {row.raw_msgs:,.0f}/s; "
              f"no-op Faust {n:,} events {row.noop_events:,.0f}/s; aion worker (pre-filled) "
              f"{events / secs:,.0f} bundles/s", flush=True)
    summary = await run_faust_backtest(settings, infra, session, bundle_packets=bundle)
    stage = next(s for s in summary.stages if s.name.startswith("ticks agent"))
    row.faust_stage = stage.rate
    print(f"  B={bundle}: run_faust_backtest stage '{stage.name}': {stage.items:,} ticks in "
          f"{stage.seconds:.2f}s = {stage.rate:,.0f} ticks/s (wall {summary.wall_seconds:.1f}s, "
          f"bars {summary.bars:,}, redis keys {summary.redis_keys})", flush=True)


def fmt(v: float) -> str:
    """A rate, or '-' when not measured."""
    return f"{v:,.0f}" if v else "-"


def ratio(a: float, b: float) -> str:
    """a/b as a short string."""
    return f"{a / b:.2f}" if a and b else "-"


def print_tables(rows: list[Row]) -> None:
    """The summary tables and the targets."""
    print("\nticks/s by bundle size (ratios use the Faust column of the same table)")
    head = (f"{'B':>5} {'direct':>11} {'Faust bt':>10} {'raw cons':>11} {'no-op F':>10} "
            f"{'F/no-op':>8} {'F/raw':>7}  input (direct / Faust)")
    print(head)
    for r in rows:
        print(f"{r.bundle:>5} {fmt(r.direct):>11} {fmt(r.faust_stage):>10} {fmt(r.raw):>11} "
              f"{fmt(r.noop):>10} {ratio(r.faust_stage, r.noop):>8} "
              f"{ratio(r.faust_stage, r.raw):>7}  {r.direct_packets:,} / {r.faust_packets:,}")
    print("\nlike-for-like: same pre-filled topic, first → last message")
    print(f"{'B':>5} {'aion wkr':>10} {'raw cons':>11} {'no-op F':>10} {'F/no-op':>8} "
          f"{'F/raw':>7} {'raw msg/s':>10} {'no-op ev/s':>10}")
    for r in rows:
        print(f"{r.bundle:>5} {fmt(r.faust_prefilled):>10} {fmt(r.raw):>11} {fmt(r.noop):>10} "
              f"{ratio(r.faust_prefilled, r.noop):>8} {ratio(r.faust_prefilled, r.raw):>7} "
              f"{fmt(r.raw_msgs):>10} {fmt(r.noop_events):>10}")
    print("\nFaust bt = run_faust_backtest 'ticks agent' stage: replay start → lag 0, so it "
          "includes worker join, Redis mirror and the 2 s settle.\naion wkr = the same worker "
          "timed from first to last bundle on a pre-filled topic (mirror still in-process).")
    print("\ntargets:")
    for r in rows:
        if r.direct:
            ok = "met" if r.direct >= DIRECT_TARGET else "NOT met"
            print(f"  direct >= {DIRECT_TARGET:,} ticks/s at B={r.bundle}: {fmt(r.direct)} → {ok}")
    large = [r for r in rows if r.bundle >= LARGE_BUNDLE]
    for r in large:
        for label, v in (("backtest stage", r.faust_stage), ("pre-filled", r.faust_prefilled)):
            ok = "met" if v >= FAUST_TARGET else "NOT met"
            print(f"  Faust >= {FAUST_TARGET:,} ticks/s/worker at B={r.bundle} ({label}): "
                  f"{fmt(v)} → {ok}")


async def bench_all_faust(settings: Settings, infra: Infra, sample: Path,
                          bundles: tuple[int, ...], rows: dict[int, Row], workdir: Path) -> None:
    """The Faust and ceiling measurements, all on one broker."""
    print(f"broker {infra.bootstrap}, redis {infra.redis_url}", flush=True)
    for b in bundles:
        session = truncated(sample, FAUST_LIMIT.get(b), workdir)
        await bench_faust(settings, infra, session, b, rows[b], workdir)


def main() -> None:
    """Parse options and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action=argparse.BooleanOptionalAction,
                        default=os.environ.get("AION_BENCH_QUICK") == "1",
                        help="only bundle sizes 100 and 1000 (default on if AION_BENCH_QUICK=1)")
    parser.add_argument("--noop-worker", action="store_true", help=argparse.SUPPRESS)
    for name in ("--bootstrap", "--topic", "--out", "--app-id", "--datadir"):
        parser.add_argument(name, help=argparse.SUPPRESS)
    parser.add_argument("--partitions", type=int, default=4, help=argparse.SUPPRESS)
    parser.add_argument("--expect", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.noop_worker:
        sys.argv = [sys.argv[0], "worker"]  # what faust.Worker's command line parser expects
        noop_worker_main(args)
        return
    # SIGTERM (e.g. `timeout`) unwinds like Ctrl-C, so workers, broker and Redis stop.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)

    from aion.config import Settings
    from aion.infra import infrastructure
    from aion.streams.sample import sample_session_path
    from aion.streams.session_file import count_rows

    settings = Settings.load()
    sample = sample_session_path(settings.cache_dir)
    bundles = QUICK_BUNDLES if args.quick else ALL_BUNDLES
    parts = settings.partitions
    print(f"sample {sample.name}: {count_rows(sample):,} packets, {parts} partitions, "
          f"bundle sizes {bundles}{' (--quick)' if args.quick else ''}")
    print(f"input = first N packets of the session: direct {DIRECT_LIMIT}, Faust {FAUST_LIMIT}"
          " (sizes not listed: whole session)", flush=True)
    rows = {b: Row(b) for b in bundles}
    with tempfile.TemporaryDirectory(prefix="aion-bench-") as tmp:
        workdir = Path(tmp)
        for b in bundles:
            path = truncated(sample, DIRECT_LIMIT.get(b), workdir)
            rows[b].direct_packets, rows[b].direct = bench_direct(path, b, parts)
            print(f"  direct B={b}: {rows[b].direct_packets:,} packets, "
                  f"{rows[b].direct:,.0f} ticks/s", flush=True)
        # Outside the event loop: starting the embedded broker runs its own asyncio probe.
        with infrastructure(settings, log_dir=workdir / "infra") as infra:
            asyncio.run(bench_all_faust(settings, infra, sample, bundles, rows, workdir))
    print_tables([rows[b] for b in bundles])


if __name__ == "__main__":
    main()
