"""``aion backtest``: replay a session through the real topology and report.

Faust driver: embedded (or configured) broker and Redis, a private topic prefix, engine
worker subprocesses plus one Redis-mirror worker, a max-speed replay, then wait until
consumer lag is 0 on every stage (the engine's: ticks, chain inputs, the chain's group-by
topic; then the mirror group's: every mirrored output topic), print a summary and delete
the run's topics.
Direct driver: the same bundle processor and writers in-process, no Kafka
(``agents/direct.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka.errors import KafkaError

from aion import processes
from aion.agents.mirror import forget_offsets
from aion.agents.outputs import OUTPUTS
from aion.agents.worker import end_offsets
from aion.config import Settings, url_for_db
from aion.infra import Infra, free_port
from aion.report.data import REPORT_OUTPUTS
from aion.streams.instruments import InstrumentMaster
from aion.streams.replay import make_producer, replay
from aion.streams.session_file import count_rows
from aion.streams.topics import (
    TopicNames,
    delete_prefixed,
    ensure_topics,
    read_all,
)
from aion.tables.records import (
    ChainSnapshot,
    IndicatorUpdate,
    ProfileUpdate,
    Record,
    VolumeRatio,
)

log = logging.getLogger(__name__)

STATE_CHANGELOG = "{app_id}-instrument-state-changelog"


class BacktestError(RuntimeError):
    """The backtest could not complete (worker died, never caught up ...)."""


def instruments_csv_for(session: Path) -> Path:
    """The instruments CSV that travels with a session file (``FILE.instruments.csv``).

    Args:
        session: Session Parquet path.

    Returns:
        The sidecar path.

    Raises:
        BacktestError: When it does not exist.
    """
    for candidate in (session.with_suffix(".instruments.csv"),
                      Path(str(session) + ".instruments.csv")):
        if candidate.is_file():
            return candidate
    raise BacktestError(f"no instruments CSV next to {session} (expected "
                        f"{session.with_suffix('.instruments.csv').name})")


@dataclass
class StageRate:
    """Throughput of one stage."""

    name: str
    items: int
    seconds: float

    @property
    def rate(self) -> float:
        """Items per second."""
        return self.items / self.seconds if self.seconds > 0 else 0.0


@dataclass
class BacktestSummary:
    """What a backtest did."""

    driver: str
    ticks: int = 0
    instruments: int = 0
    bars: int = 0
    buckets: int = 0
    deadletters: int = 0
    deadletter_reasons: dict[str, int] = field(default_factory=dict)
    wall_seconds: float = 0.0
    stages: list[StageRate] = field(default_factory=list)
    redis_keys: dict[int, int] = field(default_factory=dict)
    topic_prefix: str = ""
    coverage: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, int] = field(default_factory=dict)
    """Records emitted per output (the registry's names)."""
    redis_url: str = ""
    """Where the results are (empty: nowhere that outlives the command)."""
    report_records: list[Record] = field(default_factory=list)
    """The run's bars, alerts and validation windows (``aion.report``'s inputs)."""


def analytics_coverage(records: Iterable[Record]) -> dict[str, Any]:
    """What the analytics produced, for the summary.

    Args:
        records: Output records in emission order (any kinds; the analytics ones count).

    Returns:
        ``instruments`` (with any indicator), ``indicators`` (name -> instruments whose
        last update has a value), ``profiles`` (instruments with a published profile),
        ``volume_ratios`` (bucket ratios computed), ``chains`` (underlying -> options
        with Greeks in its last snapshot), ``no_greeks`` (underlying -> reason -> options
        without Greeks in that snapshot; ``no_underlying_price`` when none was computed)
        and ``chain_snapshots``.
    """
    last_ind: dict[int, dict[str, Any]] = {}
    profiles: set[int] = set()
    ratios = 0
    chains: dict[str, int] = {}
    no_greeks: dict[str, dict[str, int]] = {}
    n_snap = 0
    for rec in records:
        if isinstance(rec, IndicatorUpdate):
            last_ind[rec.token] = rec.values
        elif isinstance(rec, ProfileUpdate):
            profiles.add(rec.token)
        elif isinstance(rec, VolumeRatio):
            ratios += rec.volume_ratio is not None
        elif isinstance(rec, ChainSnapshot):
            n_snap += 1
            chains[rec.underlying] = sum(1 for o in rec.options if o.delta is not None)
            # Why the others have none; no reason at all means no underlying price yet.
            why = Counter(o.reason or "no_underlying_price"
                          for o in rec.options if o.delta is None)
            no_greeks[rec.underlying] = dict(sorted(why.items()))
    names: dict[str, int] = {}
    for values in last_ind.values():
        for name, value in values.items():
            if value is not None:
                names[name] = names.get(name, 0) + 1
    return {"instruments": len(last_ind), "indicators": dict(sorted(names.items())),
            "profiles": len(profiles), "volume_ratios": ratios, "chains": chains,
            "no_greeks": no_greeks, "chain_snapshots": n_snap}


async def read_report_records(bootstrap: str, names: TopicNames) -> list[Record]:
    """A run's bars, alerts and validation windows, read back from its topics.

    These are the records the direct driver keeps in memory, in another order (topics are
    read partition by partition) and possibly repeated (a restarted worker re-emits);
    ``aion.report.ReportData`` dedupes and sorts them, so both drivers give one report.

    Args:
        bootstrap: Broker address.
        names: The run's topic names.

    Returns:
        The records of the report's outputs (``aion.report.REPORT_OUTPUTS``).
    """
    out: list[Record] = []
    for name in REPORT_OUTPUTS:
        for *_, value in await read_all(bootstrap, OUTPUTS[name].topic_name(names)):
            out.extend(OUTPUTS.codec.decode_many(value))
    return out


async def publish_instruments(bootstrap: str, topic: str, master: InstrumentMaster) -> int:
    """Produce the instrument master to its compacted topic (key = token).

    Args:
        bootstrap: Broker address.
        topic: The ``aion.instruments`` topic.
        master: Instruments.

    Returns:
        Records sent.
    """
    producer = make_producer(bootstrap)
    await producer.start()
    try:
        futures = [await producer.send(topic, key=k.encode(), value=json.dumps(v).encode())
                   for k, v in master.to_records()]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return len(futures)


def start_worker(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start ``aion worker`` as an owned child process with ``env`` added to ours.

    Owned (``aion/processes.py``): it is stopped whenever this process exits, and dies
    with it if this process is killed outright.

    Args:
        env: Extra environment (AION_* settings).
        log_path: Where its output goes.

    Returns:
        The process.
    """
    return processes.spawn([sys.executable, "-m", "aion.cli", "worker"], log_path,
                           env={**os.environ, **env})


def stop_worker(proc: subprocess.Popen[bytes], grace: float = processes.GRACE_S) -> None:
    """Stop a worker gracefully (SIGTERM), killing it if it does not exit within ``grace``."""
    processes.stop(proc, grace)


def worker_stats(port: int) -> dict[str, Any] | None:
    """Read a worker's ``/aion/stats/`` web view (None when it does not answer)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/aion/stats/", timeout=2) as resp:
            return json.loads(resp.read())
    except (OSError, ValueError):
        return None


async def wait_caught_up(
    bootstrap: str,
    group: str,
    topics: list[str],
    *,
    procs: list[subprocess.Popen[bytes]],
    timeout_s: float,
    on_progress: Callable[[dict[str, int]], None] | None = None,
    settle_s: float = 2.0,
) -> None:
    """Wait until the group's lag is 0 on every topic and nothing new arrives.

    Lag 0 alone is not enough: Faust commits a bundle's offset once the agent has handled
    it, while what it produced may still sit in the producer buffer. So the end offsets
    of every stage must also stay unchanged for ``settle_s``.

    Args:
        bootstrap: Broker address.
        group: Consumer group: the Faust app id, or ``{app_id}-mirror`` for mirror workers.
        topics: Stages to watch.
        procs: Workers; one dying is an error.
        timeout_s: Give up after this long.
        on_progress: Called with the lag per topic on every poll.
        settle_s: How long lag 0 and unchanged end offsets must hold.

    Raises:
        BacktestError: Worker died or timeout.
    """
    from aion.agents.worker import group_lag

    deadline = time.monotonic() + timeout_s
    quiet_since: float | None = None
    last_ends: dict[str, int] = {}
    while True:
        for proc in procs:
            if proc.poll() is not None:
                raise BacktestError(f"worker exited with code {proc.returncode}")
        try:
            lags = await group_lag(bootstrap, group, topics)
            ends = {t: await end_offsets(bootstrap, t) for t in topics}
        except KafkaError as exc:  # group not formed yet, coordinator moving: ask again
            log.debug("lag query failed: %r", exc)
            lags, ends = {}, {}
        if on_progress:
            on_progress(lags)
        done = len(lags) == len(topics) and all(v == 0 for v in lags.values())
        if done and ends == last_ends:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= settle_s:
                return
        else:
            quiet_since = None
        last_ends = ends
        if time.monotonic() > deadline:
            raise BacktestError(f"workers did not catch up within {timeout_s:.0f}s: lag {lags}")
        await asyncio.sleep(0.3)


def redis_key_counts(url: str, dbs: tuple[int, ...] = (0, 1, 2, 5)) -> dict[int, int]:
    """Number of keys per database."""
    import redis

    counts = {}
    for db in dbs:
        client = redis.Redis.from_url(url_for_db(url, db))
        try:
            counts[db] = int(client.dbsize())
        finally:
            client.close()
    return counts


@dataclass
class FaustRun:
    """Handles of a running Faust backtest (used by tests that kill and restart workers)."""

    settings: Settings
    infra: Infra
    names: TopicNames
    app_id: str
    log_dir: Path
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    web_ports: list[int] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)

    def worker_env(self, web_port: int, role: str = "all") -> dict[str, str]:
        """Environment for a worker of this run."""
        return {
            **self.infra.env(),
            "AION_TOPIC_PREFIX": self.names.prefix,
            "AION_PARTITIONS": str(self.settings.partitions),
            "AION_WEB__PORT": str(web_port),
            # A backtest's workers answer on loopback only, whatever the environment says.
            "AION_WEB__BIND": "127.0.0.1",
            "AION_WEB__HOST": "127.0.0.1",
            "AION_CACHE_DIR": str(self.settings.cache_dir),
            "AION_WORKER__ROLE": role,
            "AION_MIRROR__TTL": str(self.settings.get("mirror.ttl", "layout")),
        }

    def add_worker(self, role: str = "all",
                   extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Start one more worker (``all``, ``engine`` or ``mirror``), ``extra_env`` added."""
        port = free_port()
        proc = start_worker({**self.worker_env(port, role), **(extra_env or {})},
                            self.log_dir / f"worker-{role}-{port}.log")
        self.workers.append(proc)
        self.web_ports.append(port)
        self.roles.append(role)
        return proc

    @property
    def engine_topics(self) -> list[str]:
        """Topics the engine (tick and chain agents) consumes."""
        return [self.names.ticks_raw, self.names.chain_inputs, self.names.chain_repartition]

    @property
    def mirror_topics(self) -> list[str]:
        """Topics the Redis mirror consumes (every output with a writer)."""
        return OUTPUTS.mirror_topics(self.names)

    @property
    def stage_topics(self) -> list[str]:
        """Every topic the app consumes (lag 0 on all = everything processed)."""
        return self.engine_topics + self.mirror_topics

    async def wait(self, timeout_s: float = 600.0,
                   on_progress: Callable[[dict[str, int]], None] | None = None) -> None:
        """Wait until every stage has lag 0 (engine first when the mirror runs apart)."""
        if "mirror" not in self.roles:
            await wait_caught_up(self.infra.bootstrap, self.app_id, self.stage_topics,
                                 procs=self.workers, timeout_s=timeout_s,
                                 on_progress=on_progress)
            return
        await wait_caught_up(self.infra.bootstrap, self.app_id, self.engine_topics,
                             procs=self.workers, timeout_s=timeout_s, on_progress=on_progress)
        await wait_caught_up(self.infra.bootstrap, f"{self.app_id}-mirror",
                             self.mirror_topics, procs=self.workers, timeout_s=timeout_s)

    def kill_worker(self, index: int = 0) -> None:
        """``kill -9`` a worker (crash test) and forget it.

        Args:
            index: Position in :attr:`workers`.
        """
        proc = self.workers.pop(index)
        self.web_ports.pop(index)
        self.roles.pop(index)
        processes.kill(proc)

    def stop(self) -> None:
        """Stop every worker."""
        for proc in self.workers:
            stop_worker(proc)


@contextlib.asynccontextmanager
async def faust_run(settings: Settings, infra: Infra, session: Path, *, workers: int = 1,
                    prefix: str | None = None, cleanup: bool = True,
                    averages: dict[str, dict[str, Any]] | None = None,
                    mirror_apart: bool = False):
    """Set up a private-prefix topology with ``workers`` workers; tear it down after.

    Args:
        settings: Resolved settings.
        infra: Broker and Redis.
        session: Session file (its instruments CSV is published first).
        workers: Worker processes to start.
        prefix: Topic prefix (default: a fresh ``bt-<id>.``).
        cleanup: Delete the run's topics at the end.
        averages: Volume averages to publish before the workers start, so every worker
            loads them (and the mirror writes their hashes).
        mirror_apart: Run the Redis mirror in its own worker process (``workers`` then
            counts engine workers); otherwise every worker runs everything.

    Yields:
        The run's handles.
    """
    prefix = prefix or f"bt-{uuid.uuid4().hex[:8]}."
    settings = settings.with_overrides(topic_prefix=prefix)
    names = TopicNames(prefix)
    app_id = names.app_id(settings.get("app_id", "aion"))
    master = InstrumentMaster.from_csv(instruments_csv_for(session))
    await ensure_topics(infra.bootstrap, names, settings.partitions,
                        outputs=OUTPUTS.topics(names))
    await publish_instruments(infra.bootstrap, names.instruments, master)
    if averages:
        from aion.agents.baselines import publish_averages

        # The mirror writes their Redis hashes from the topic, like every output.
        await publish_averages(infra.bootstrap, names.volume_averages, averages)
    run = FaustRun(settings, infra, names, app_id, settings.cache_dir / "runs" / prefix.rstrip("."))
    try:
        for _ in range(workers):
            run.add_worker("engine" if mirror_apart else "all")
        if mirror_apart:
            run.add_worker("mirror")
        yield run
    finally:
        run.stop()
        if cleanup:
            with contextlib.suppress(Exception):
                await delete_prefixed(infra.bootstrap, prefix)
            # The mirror's offset marks of the deleted topics would otherwise stay forever.
            with contextlib.suppress(Exception):
                forget_offsets(infra.redis_url, prefix)


@contextlib.asynccontextmanager
async def _quiet_when_cancelled() -> AsyncIterator[None]:
    """On interruption, silence aiokafka before the run is torn down.

    Ctrl-C or SIGTERM cancels the run while its clients still talk to a broker that is
    being stopped; their connection errors (logged with tracebacks) are expected then.
    """
    try:
        yield
    except (asyncio.CancelledError, KeyboardInterrupt):
        logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
        raise


async def run_faust_backtest(
    settings: Settings,
    infra: Infra,
    session: Path,
    *,
    bundle_packets: int,
    workers: int = 1,
    progress: Any = None,
    averages: dict[str, dict[str, Any]] | None = None,
) -> BacktestSummary:
    """Replay ``session`` through the Faust topology and wait until all is processed.

    Args:
        settings: Resolved settings.
        infra: Broker and Redis.
        session: Session Parquet file.
        bundle_packets: Packets per bundle for the replay.
        workers: Worker processes.
        progress: Optional rich Progress for replay and drain bars.
        averages: Volume averages by symbol (volume ratios), published first.

    Returns:
        The summary.
    """
    started = time.monotonic()
    total = count_rows(session)
    summary = BacktestSummary(driver="faust")
    async with faust_run(settings, infra, session, workers=workers,
                         averages=averages, mirror_apart=True) as run, _quiet_when_cancelled():
        summary.topic_prefix = run.names.prefix
        replay_task = progress.add_task("replay", total=total) if progress else None
        stats = await replay(
            session, infra.bootstrap, run.names.ticks_raw, settings.partitions,
            bundle_packets=bundle_packets,
            progress=(lambda n: progress.advance(replay_task, n)) if progress else None,
        )
        summary.stages.append(StageRate("replay → aion.ticks.raw", stats.packets, stats.seconds))
        drain_task = progress.add_task("processing (bundles left)", total=stats.bundles) \
            if progress else None
        t_drain = time.monotonic()

        def show(lags: dict[str, int]) -> None:
            if progress:
                left = lags.get(run.names.ticks_raw, stats.bundles)
                progress.update(drain_task, completed=max(stats.bundles - left, 0))

        await run.wait(on_progress=show)
        processing = time.monotonic() - t_drain + stats.seconds
        summary.ticks = stats.packets
        summary.stages.append(StageRate("ticks agent (replay start → lag 0)", stats.packets,
                                        processing))
        for port in run.web_ports:
            ws = worker_stats(port) or {}
            for reason, n in (ws.get("deadletters") or {}).items():
                summary.deadletter_reasons[reason] = summary.deadletter_reasons.get(reason, 0) + n
        for port in run.web_ports:
            for name, n in ((worker_stats(port) or {}).get("emitted") or {}).items():
                summary.outputs[name] = summary.outputs.get(name, 0) + n
        summary.bars = await end_offsets(infra.bootstrap, OUTPUTS["bars"].topic_name(run.names))
        summary.buckets = await end_offsets(infra.bootstrap,
                                            OUTPUTS["buckets"].topic_name(run.names))
        summary.deadletters = await end_offsets(infra.bootstrap,
                                                OUTPUTS["deadletter"].topic_name(run.names))
        changelog = await read_all(infra.bootstrap, STATE_CHANGELOG.format(app_id=run.app_id))
        summary.instruments = len({key for _, _, key, _ in changelog
                                   if key is not None and key[:1].isdigit()})
        summary.redis_keys = redis_key_counts(infra.redis_url)
        records: list[Record] = []
        for name in ("indicators", "profile", "volume_ratios", "chain"):
            for *_, value in await read_all(infra.bootstrap,
                                            OUTPUTS[name].topic_name(run.names)):
                records.extend(OUTPUTS.codec.decode_many(value))
        summary.coverage = analytics_coverage(records)
        # Read back before the run's topics are deleted.
        summary.report_records = await read_report_records(infra.bootstrap, run.names)
    summary.wall_seconds = time.monotonic() - started
    return summary

