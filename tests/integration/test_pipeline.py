"""End-to-end: real broker, real Redis, real Faust workers.

One uninterrupted run is the reference; the direct driver, a second run, a run whose
worker is killed with SIGKILL twice, and a two-worker run must all end with the same
state, bars and Redis contents.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from datetime import time as dtime
from pathlib import Path

import pytest
import redis

from aion.agents.backtest import (
    STATE_CHANGELOG,
    FaustRun,
    faust_run,
    instruments_csv_for,
    worker_stats,
)
from aion.agents.direct import run_direct
from aion.agents.worker import group_lag
from aion.config import Settings, url_for_db
from aion.infra import Infra, Service
from aion.streams.instruments import InstrumentMaster
from aion.streams.replay import replay
from aion.streams.simulator import simulate
from aion.streams.topics import read_all
from aion.tables.instrument_state import InstrumentState

pytestmark = pytest.mark.integration

PARTITIONS = 4
BUNDLE = 200
DBS = (0, 1, 2, 5)


@dataclass
class RunResult:
    """What one Faust run left behind."""

    states: dict[int, bytes]
    bars: dict[str, dict]
    bar_messages: int
    redis: dict[int, dict[str, object]]
    bundles_per_worker: list[int]


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("session") / "s.parquet"
    simulate(date(2025, 11, 18), 3, out, start=dtime(9, 15), end=dtime(9, 25))
    return out


@pytest.fixture(scope="module")
def infra(kafka_bootstrap: str, redis_url: str) -> Infra:
    return Infra(Service("kafka", kafka_bootstrap), Service("redis", redis_url))


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    cache = tmp_path_factory.mktemp("cache")
    return Settings.load(env={"AION_CACHE_DIR": str(cache), "AION_PARTITIONS": str(PARTITIONS)})


def redis_snapshot(url: str) -> dict[int, dict[str, object]]:
    """Every key and value in the mirrored databases (TTL aside)."""
    out: dict[int, dict[str, object]] = {}
    for db in DBS:
        client = redis.Redis.from_url(url_for_db(url, db), decode_responses=True)
        data: dict[str, object] = {}
        for key in client.scan_iter(count=1000):
            if key.startswith("aion:mirror:"):
                continue  # the mirror's own bookkeeping: offsets differ after duplicates
            kind = client.type(key)
            if kind == "hash":
                data[key] = client.hgetall(key)
            elif kind == "zset":
                data[key] = client.zrange(key, 0, -1, withscores=True)
            elif kind == "string":
                data[key] = client.get(key)
            else:
                data[key] = kind
        out[db] = data
        client.close()
    return out


def redis_diff(a: dict[int, dict[str, object]], b: dict[int, dict[str, object]]) -> list[str]:
    """Human-readable differences between two snapshots (first few)."""
    out = []
    for db in DBS:
        for key in sorted(set(a[db]) | set(b[db])):
            if a[db].get(key) != b[db].get(key):
                out.append(f"db{db} {key}: {a[db].get(key)!r} != {b[db].get(key)!r}")
    return out[:5]


def flush_redis(url: str) -> None:
    client = redis.Redis.from_url(url)
    client.flushall()
    client.close()


async def collect(run: FaustRun) -> RunResult:
    boot = run.infra.bootstrap
    changelog = await read_all(boot, STATE_CHANGELOG.format(app_id=run.app_id))
    states: dict[int, bytes] = {}
    for _, _, key, value in changelog:
        if value is not None and not key.startswith(b"p:"):  # skip partition marks
            states[int(key)] = value
    bar_records = await read_all(boot, run.names.bars_1m)
    bars = {}
    for _, _, _, value in bar_records:
        doc = json.loads(value)
        bars[doc["bar_id"]] = doc
    per_worker = [(worker_stats(p) or {}).get("bundles", 0) for p in run.web_ports]
    for port in run.web_ports:
        print("worker stats", worker_stats(port))
    return RunResult(states, bars, len(bar_records), redis_snapshot(run.infra.redis_url),
                     per_worker)


async def one_run(settings: Settings, infra: Infra, session: Path, *, workers: int = 1,
                  kills: int = 0, seed: int = 0) -> tuple[RunResult, list[float]]:
    """Replay the session through a fresh topology; optionally SIGKILL the worker."""
    flush_redis(infra.redis_url)
    rejoin_delays: list[float] = []
    async with faust_run(settings, infra, session, workers=workers) as run:
        stats = await replay(session, infra.bootstrap, run.names.ticks_raw, PARTITIONS,
                             bundle_packets=BUNDLE)
        rng = random.Random(seed)
        kill_at = sorted(rng.uniform(0.15, 0.85) for _ in range(kills))
        for fraction in kill_at:
            # Wait until that fraction of the bundles is committed, then crash the worker.
            while True:
                try:
                    lag = (await group_lag(infra.bootstrap, run.app_id,
                                           [run.names.ticks_raw])).get(run.names.ticks_raw)
                except Exception:  # group coordinator not ready yet
                    lag = None
                if lag is not None and lag <= stats.bundles * (1 - fraction) + PARTITIONS:
                    break
                await asyncio.sleep(0.05)
            run.kill_worker(0)
            restarted = time.monotonic()
            run.add_worker()
            before = lag
            while True:  # measure the rejoin delay: until progress resumes
                await asyncio.sleep(0.2)
                try:
                    now = (await group_lag(infra.bootstrap, run.app_id,
                                           [run.names.ticks_raw])).get(run.names.ticks_raw)
                except Exception:
                    continue
                if now is not None and (now < before or now == 0):
                    rejoin_delays.append(time.monotonic() - restarted)
                    break
        await run.wait(timeout_s=300)
        result = await collect(run)
    return result, rejoin_delays


@pytest.fixture(scope="module")
def reference(settings: Settings, infra: Infra, session: Path) -> RunResult:
    result, _ = asyncio.run(one_run(settings, infra, session))
    return result


def test_reference_run_is_complete(reference: RunResult, session: Path) -> None:
    master = InstrumentMaster.from_csv(instruments_csv_for(session))
    assert len(reference.states) == len(master)
    assert reference.bars, "no bars closed"
    # Exactly-once in an uninterrupted run: no bar emitted twice.
    assert reference.bar_messages == len(reference.bars)
    assert reference.redis[0], "session/bucket keys missing in DB 0"
    sessions = [k for k in reference.redis[0] if k.startswith("session:")]
    assert len(sessions) == len(master)
    assert any(k.startswith("volume:volume:bucket5:") for k in reference.redis[0])
    assert len(reference.redis[1]) == len({b["symbol"] for b in reference.bars.values()})


def test_faust_path_equals_direct_driver(reference: RunResult, session: Path) -> None:
    master = InstrumentMaster.from_csv(instruments_csv_for(session))
    direct = run_direct(session, master, partitions=PARTITIONS, bundle_packets=BUNDLE)
    assert {t: s.to_bytes() for t, s in direct.states.items()} == reference.states
    direct_bars = {b.bar_id: b.to_dict() for b in direct.bars}
    assert set(direct_bars) == set(reference.bars)
    for bar_id, doc in direct_bars.items():
        faust_doc = dict(reference.bars[bar_id])
        faust_doc.pop("symbol")
        assert faust_doc == doc


def test_second_replay_is_identical(reference: RunResult, settings: Settings, infra: Infra,
                                    session: Path) -> None:
    again, _ = asyncio.run(one_run(settings, infra, session))
    assert again.states == reference.states
    assert again.bars == reference.bars
    assert again.redis == reference.redis, redis_diff(again.redis, reference.redis)


def test_kill_9_twice_then_restart_ends_equal(reference: RunResult, settings: Settings,
                                              infra: Infra, session: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    seed = int(os.environ.get("AION_TEST_SEED", random.randrange(1 << 30)))
    crashed, delays = asyncio.run(one_run(settings, infra, session, kills=2, seed=seed))
    with capsys.disabled():
        print(f"\nkill -9 test seed={seed} rejoin delays={[round(d, 1) for d in delays]}s")
    assert len(delays) == 2
    # Tables equal: the position guard made redelivered ticks no-ops.
    assert {t: InstrumentState.from_bytes(b).to_bytes() for t, b in crashed.states.items()} \
        == reference.states
    # Bars topic after dedupe by bar id; Redis byte for byte.
    assert crashed.bars == reference.bars
    assert crashed.redis == reference.redis, redis_diff(crashed.redis, reference.redis)


def test_two_workers_split_partitions_and_agree(reference: RunResult, settings: Settings,
                                                infra: Infra, session: Path) -> None:
    pair, _ = asyncio.run(one_run(settings, infra, session, workers=2))
    assert len(pair.bundles_per_worker) == 2
    assert all(n > 0 for n in pair.bundles_per_worker), pair.bundles_per_worker
    assert pair.states == reference.states
    assert pair.bars == reference.bars
    assert pair.redis == reference.redis, redis_diff(pair.redis, reference.redis)


@pytest.fixture(autouse=True)
def _no_leftover_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Workers get their settings from the run's env, never from the test runner's.
    monkeypatch.delenv("AION_TOPIC_PREFIX", raising=False)
    yield


def test_redis_outage_delays_the_mirror_and_loses_nothing(
    reference: RunResult, settings: Settings, infra: Infra, session: Path
) -> None:
    import signal

    from aion import infra as infra_mod

    own = infra_mod.start_redis()
    outage = Infra(infra.kafka, own)
    assert own.pid is not None

    async def run() -> tuple[RunResult, int]:
        async with faust_run(settings, outage, session) as run:
            await replay(session, infra.bootstrap, run.names.ticks_raw, PARTITIONS,
                         bundle_packets=BUNDLE)
            while not any((worker_stats(p) or {}).get("mirrored") for p in run.web_ports):
                await asyncio.sleep(0.1)  # the mirror is writing: now pull the plug
            # Redis stops answering (longer than the mirror's 5 s socket timeout) ...
            os.kill(own.pid, signal.SIGSTOP)
            await asyncio.sleep(8.0)
            os.kill(own.pid, signal.SIGCONT)  # ... and comes back with its data.
            await run.wait(timeout_s=300)
            retries = sum((worker_stats(p) or {}).get("redis_retries", 0)
                          for p in run.web_ports)
            return await collect(run), retries

    try:
        result, retries = asyncio.run(run())
    finally:
        infra_mod.stop(own)
    assert retries > 0, "the mirror never noticed the outage"
    assert result.states == reference.states
    assert result.bars == reference.bars
    assert result.redis == reference.redis, redis_diff(result.redis, reference.redis)
