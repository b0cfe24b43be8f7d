"""A backtest removes what belongs to its run (topics, the mirror's offset marks) and
keeps its results, on a real broker and a real Redis."""

from __future__ import annotations

import asyncio
from datetime import date, time
from pathlib import Path

import pytest
import redis
from aiokafka.admin import AIOKafkaAdminClient

from aion.agents.backtest import run_faust_backtest
from aion.config import KeyLayout, Settings, url_for_db
from aion.infra import Infra, Service
from aion.streams.simulator import simulate

pytestmark = pytest.mark.integration


async def topics_with(bootstrap: str, prefix: str) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return [t for t in await admin.list_topics() if t.startswith(prefix)]
    finally:
        await admin.close()


def keys(url: str, db: int, pattern: str) -> list[bytes]:
    client = redis.Redis.from_url(url_for_db(url, db))
    try:
        return list(client.scan_iter(match=pattern))
    finally:
        client.close()


def test_backtest_removes_its_offset_marks_and_keeps_results(
        kafka_bootstrap: str, redis_flushed: str, tmp_path: Path) -> None:
    session = tmp_path / "s.parquet"
    simulate(date(2025, 11, 18), 3, session, start=time(9, 15), end=time(9, 17))
    settings = Settings.load(env={"AION_CACHE_DIR": str(tmp_path / "cache"),
                                  "AION_PARTITIONS": "2"})
    infra = Infra(Service("kafka", kafka_bootstrap), Service("redis", redis_flushed))
    summary = asyncio.run(run_faust_backtest(settings, infra, session, bundle_packets=200))
    layout = KeyLayout.load()
    marks = layout.key("mirror_offsets", topic="*")
    assert summary.topic_prefix.startswith("bt-")
    # The mirror marked every topic it wrote (before this change they all stayed); none
    # outlives the run.
    assert keys(redis_flushed, marks.db, marks.name) == []
    assert asyncio.run(topics_with(kafka_bootstrap, summary.topic_prefix)) == []
    # The results stay: session hashes and 1-minute bars.
    for kind in ("session", "ohlc_bar"):
        key = layout.key(kind, **dict.fromkeys(layout.specs[kind].fields, "*"))
        assert keys(redis_flushed, key.db, key.name), kind
