"""End-to-end: real broker, real Redis, real Faust workers.

One uninterrupted run is the reference; the direct driver, a second run, a run whose
worker is killed with SIGKILL twice while it has work outstanding, and a two-worker run
must all end with the same state, bars and Redis contents (lists and TTLs included).

``AION_TEST_SEED`` replays the kill test's crash points; the seed in use is printed first.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import string
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import date
from datetime import time as dtime
from pathlib import Path
from typing import Any

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
from aion.config import KeyLayout, Settings, url_for_db
from aion.infra import Infra, Service
from aion.streams.instruments import InstrumentMaster
from aion.streams.replay import replay
from aion.streams.session_file import count_rows
from aion.streams.simulator import simulate
from aion.streams.topics import read_all
from aion.tables.instrument_state import InstrumentState

pytestmark = pytest.mark.integration

PARTITIONS = 4
BUNDLE = 200
DBS = (0, 1, 2, 5)
KILL_REPLAY_SPEED = 10.0
"""The crash run replays at 10x the recorded clock (about a minute for the 10-minute
session) so that both kills land while ticks are still arriving."""
KILL_COMMIT_INTERVAL_S = "3"
"""A longer commit interval in the crash run: at a kill, bundles the worker applied but
did not commit are certain to be redelivered to its successor."""
DEADLINE_S = 180.0


@dataclass
class RunResult:
    """What one Faust run left behind."""

    states: dict[int, bytes]
    bars: dict[str, list[dict]]
    """Every message of the bars topic, grouped by ``bar_id`` in topic order."""
    redis: dict[int, dict[str, object]]
    stats: list[dict]
    """``/aion/stats/`` of the workers alive at the end (restarted ones included)."""

    @property
    def bundles_per_worker(self) -> list[int]:
        return [s.get("bundles", 0) for s in self.stats]

    def unique_bars(self) -> dict[str, dict]:
        """``bar_id -> bar`` after checking that every copy of a bar is identical."""
        out = {}
        for bar_id, copies in self.bars.items():
            assert all(c == copies[0] for c in copies), f"{bar_id} emitted differently"
            out[bar_id] = copies[0]
        return out


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


def _kind_matchers(layout: KeyLayout) -> list[tuple[str, int, re.Pattern[str]]]:
    """``(kind, db, regex)`` per key pattern of the layout (placeholders match anything)."""
    out = []
    for kind, spec in layout.specs.items():
        rx = "".join(re.escape(lit) + (".+" if name else "")
                     for lit, name, _, _ in string.Formatter().parse(spec.pattern))
        out.append((kind, spec.db, re.compile(rx)))
    return out


def redis_snapshot(url: str) -> dict[int, dict[str, object]]:
    """Every key of the mirrored databases: type, full contents and TTL.

    Lists are read whole (the ``volume_profile:historical`` dedupe shows there). A TTL is
    recorded as the layout's TTL for the key's kind when the live TTL is consistent with
    it (``-1`` for no expiry; ``0 < ttl <= layout ttl`` otherwise, since it counts down),
    and as the raw live value when it is not, so a wrong TTL shows up as a difference.
    """
    layout = KeyLayout.load()
    matchers = _kind_matchers(layout)
    out: dict[int, dict[str, object]] = {}
    for db in DBS:
        client = redis.Redis.from_url(url_for_db(url, db), decode_responses=True)
        data: dict[str, object] = {}
        for key in client.scan_iter(count=1000):
            if key.startswith("aion:mirror:"):
                continue  # the mirror's own bookkeeping: offsets differ after duplicates
            kind = client.type(key)
            if kind == "hash":
                value: object = client.hgetall(key)
            elif kind == "zset":
                value = client.zrange(key, 0, -1, withscores=True)
            elif kind == "string":
                value = client.get(key)
            elif kind == "list":
                value = client.lrange(key, 0, -1)
            else:
                raise AssertionError(f"db{db} {key}: unexpected Redis type {kind}")
            kinds = [k for k, kdb, rx in matchers if kdb == db and rx.fullmatch(key)]
            assert len(kinds) == 1, f"db{db} {key}: matches layout kinds {kinds}"
            want = layout.specs[kinds[0]].ttl
            live = client.ttl(key)
            ok = live == -1 if want is None else 0 < live <= want
            data[key] = (kind, value, want if ok else f"ttl {live}")
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
    bars: dict[str, list[dict]] = {}
    for _, _, _, value in await read_all(boot, run.names.bars_1m):
        doc = json.loads(value)
        bars.setdefault(doc["bar_id"], []).append(doc)
    stats = [worker_stats(p) or {} for p in run.web_ports]
    for s in stats:
        print("worker stats", s)
    return RunResult(states, bars, redis_snapshot(run.infra.redis_url), stats)


async def _lag(infra: Infra, run: FaustRun) -> int | None:
    try:
        return (await group_lag(infra.bootstrap, run.app_id,
                                [run.names.ticks_raw])).get(run.names.ticks_raw)
    except Exception:  # group coordinator not ready yet
        return None


async def _until(what: str, check: Callable[[], Awaitable[Any]],
                 deadline_s: float = DEADLINE_S) -> Any:
    """Poll the async ``check`` until it returns a truthy value; fail after the deadline."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {deadline_s:.0f} s waiting for {what}")


@dataclass
class Crash:
    """One ``kill -9``: the committed lag just before it and the successor's rejoin delay."""

    lag_at_kill: int
    rejoin_s: float


async def one_run(settings: Settings, infra: Infra, session: Path, *, workers: int = 1,
                  kills: int = 0, seed: int = 0) -> tuple[RunResult, list[Crash]]:
    """Replay the session through a fresh topology; optionally SIGKILL the worker.

    With ``kills``, the replay is paced and runs in the background: the worker is killed
    at seeded points of the replay's progress, each time only once the committed lag is
    above zero (work outstanding), and its successor counts as rejoined once it handled a
    bundle of the tick topic.
    """
    flush_redis(infra.redis_url)
    crashes: list[Crash] = []
    async with faust_run(settings, infra, session, workers=workers) as run:
        if not kills:
            await replay(session, infra.bootstrap, run.names.ticks_raw, PARTITIONS,
                         bundle_packets=BUNDLE)
        else:
            total = count_rows(session)
            sent = 0

            def progress(n: int) -> None:
                nonlocal sent
                sent += n

            producing = asyncio.create_task(replay(
                session, infra.bootstrap, run.names.ticks_raw, PARTITIONS,
                bundle_packets=BUNDLE, speed=KILL_REPLAY_SPEED, progress=progress))
            rng = random.Random(seed)
            # One crash point in each half of the replay's first three quarters.
            points = [rng.uniform(0.1, 0.35), rng.uniform(0.5, 0.75)][:kills]
            for fraction in points:
                async def reached(f: float = fraction) -> bool:
                    return sent >= f * total

                await _until(f"{fraction:.0%} of the replay", reached)

                async def outstanding() -> int | None:
                    lag = await _lag(infra, run)
                    return lag if lag else None

                lag = await _until("committed lag > 0 before the kill", outstanding)
                run.kill_worker(0)
                restarted = time.monotonic()
                port = len(run.web_ports)
                run.add_worker()

                async def rejoined(i: int = port) -> bool:
                    s = worker_stats(run.web_ports[i]) or {}
                    return s.get("bundles", 0) + s.get("skipped_bundles", 0) > 0

                await _until("the restarted worker to handle a bundle", rejoined)
                crashes.append(Crash(lag, time.monotonic() - restarted))
            assert not producing.done(), "the replay ended before the last kill"
            await producing
        await run.wait(timeout_s=300)
        result = await collect(run)
    return result, crashes


@pytest.fixture(scope="module")
def reference(settings: Settings, infra: Infra, session: Path) -> RunResult:
    result, _ = asyncio.run(one_run(settings, infra, session))
    return result


def test_reference_run_is_complete(reference: RunResult, session: Path) -> None:
    master = InstrumentMaster.from_csv(instruments_csv_for(session))
    assert len(reference.states) == len(master)
    assert reference.bars, "no bars closed"
    # Exactly-once in an uninterrupted run: no bar emitted twice.
    twice = [b for b, copies in reference.bars.items() if len(copies) != 1]
    assert not twice, twice[:5]
    bars = reference.unique_bars()
    assert reference.redis[0], "session/bucket keys missing in DB 0"
    sessions = [k for k in reference.redis[0] if k.startswith("session:")]
    assert len(sessions) == len(master)
    assert any(k.startswith("volume:volume:bucket5:") for k in reference.redis[0])
    assert len(reference.redis[1]) == len({b["symbol"] for b in bars.values()})
    # The snapshot reads lists whole: the profile history is there and has no duplicates.
    lists = [v for db in reference.redis.values() for v in db.values() if v[0] == "list"]
    assert lists, "no list keys (volume_profile:historical) in the snapshot"
    for _, entries, _ in lists:
        assert len(entries) == len(set(entries))


def test_faust_path_equals_direct_driver(reference: RunResult, session: Path) -> None:
    master = InstrumentMaster.from_csv(instruments_csv_for(session))
    direct = run_direct(session, master, partitions=PARTITIONS, bundle_packets=BUNDLE)
    assert {t: s.to_bytes() for t, s in direct.states.items()} == reference.states
    direct_bars = {b.bar_id: b.to_dict() for b in direct.bars}
    faust_bars = reference.unique_bars()
    assert set(direct_bars) == set(faust_bars)
    for bar_id, doc in direct_bars.items():
        faust_doc = dict(faust_bars[bar_id])
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
                                              capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    seed = int(os.environ.get("AION_TEST_SEED") or random.randrange(1 << 30))
    with capsys.disabled():
        print(f"\nkill -9 test: AION_TEST_SEED={seed} replays these crash points")
    monkeypatch.setenv("AION_WORKER__COMMIT_INTERVAL_S", KILL_COMMIT_INTERVAL_S)
    crashed, crashes = asyncio.run(one_run(settings, infra, session, kills=2, seed=seed))
    with capsys.disabled():
        print(f"kill -9 test seed={seed}: lag at kill {[c.lag_at_kill for c in crashes]}, "
              f"rejoin {[round(c.rejoin_s, 1) for c in crashes]} s")
    assert len(crashes) == 2, f"seed {seed}"
    assert all(c.lag_at_kill > 0 for c in crashes), f"seed {seed}"
    # The last successor took over uncommitted bundles and skipped what its predecessor
    # had applied (whole bundles by the applied mark, or ticks by the position guard).
    (last,) = crashed.stats
    redelivered = last.get("skipped_bundles", 0) + last.get("duplicates", 0)
    assert redelivered > 0, f"seed {seed}: no redelivery seen after the kill: {last}"
    # Tables equal: the position guard made redelivered ticks no-ops.
    assert {t: InstrumentState.from_bytes(b).to_bytes() for t, b in crashed.states.items()} \
        == reference.states, f"seed {seed}"
    # Every emitted copy of every bar equals the uninterrupted run's bar.
    want = reference.unique_bars()
    assert set(crashed.bars) == set(want), f"seed {seed}"
    for bar_id, copies in crashed.bars.items():
        for doc in copies:
            assert doc == want[bar_id], f"seed {seed}: {bar_id} re-emitted differently"
    # Redis byte for byte, lists and TTLs included.
    assert crashed.redis == reference.redis, (seed, redis_diff(crashed.redis, reference.redis))


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

    def total(run: FaustRun, name: str) -> int:
        return sum((worker_stats(p) or {}).get(name, 0) for p in run.web_ports)

    async def run() -> tuple[RunResult, int]:
        async with faust_run(settings, outage, session) as run:
            producing = asyncio.create_task(replay(
                session, infra.bootstrap, run.names.ticks_raw, PARTITIONS,
                bundle_packets=BUNDLE))

            async def mirroring() -> bool:
                return total(run, "mirrored") > 0

            async def retrying() -> bool:
                return total(run, "redis_retries") > 0

            await _until("the mirror's first write", mirroring)
            # Redis stops answering (the mirror's socket timeout is 5 s) until the mirror
            # has noticed and is retrying, then comes back with its data.
            os.kill(own.pid, signal.SIGSTOP)
            try:
                await _until("the mirror to retry during the outage", retrying, 60.0)
            finally:
                os.kill(own.pid, signal.SIGCONT)
            await producing
            await run.wait(timeout_s=300)
            return await collect(run), total(run, "redis_retries")

    try:
        result, retries = asyncio.run(run())
    finally:
        infra_mod.stop(own)
    assert retries > 0, "the mirror never noticed the outage"
    assert result.states == reference.states
    assert result.bars == reference.bars
    assert result.redis == reference.redis, redis_diff(result.redis, reference.redis)
