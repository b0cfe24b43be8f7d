"""The output registry, and what adding an output takes: a record, a writer, one entry."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
import redis

from aion.agents.faust_emitter import FaustEmitter
from aion.agents.mirror import RedisMirror
from aion.agents.outputs import OUTPUTS, Output, OutputRegistry
from aion.agents.processor import BundleResult
from aion.agents.stats import EngineStats
from aion.agents.writers.base import RedisBatch, RedisWriter
from aion.agents.writers.indicator_keys import put_indicator
from aion.config import KeyLayout, Settings, url_for_db
from aion.streams.topics import TopicNames
from aion.tables.records import Record, RecordFormatError, VwapUpdate, encode


def test_registry_is_consistent() -> None:
    names = TopicNames("bt-x.")
    topics = OUTPUTS.topics(names)
    assert len(set(topics)) == len(topics) and all(t.startswith("bt-x.aion.") for t in topics)
    compacted = {o.topic_name(names) for o in OUTPUTS if o.compacted}
    assert compacted == {names.volume_averages}  # created compacted by ensure_topics
    assert not compacted & set(topics)
    assert set(OUTPUTS.mirror_topics(names)) < set(topics) | compacted
    tags = {o.record.tag() for o in OUTPUTS}
    assert len(tags) == len(OUTPUTS.outputs) and OUTPUTS.codec.tags == tags
    assert all(o.writer.record is o.record for o in OUTPUTS.mirrored())  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="duplicate"):
        OutputRegistry([OUTPUTS["bars"], OUTPUTS["bars"]])


def test_a_record_of_an_unknown_version_is_refused_by_name() -> None:
    data = encode(VwapUpdate(token=1, symbol="NSE:X", ts_ns=1, vwap=1.0))
    with pytest.raises(RecordFormatError, match=r"'vwap/9'.*version '9'"):
        OUTPUTS.codec.decode(data.replace(b'"vwap/1"', b'"vwap/9"'))


# --- adding an output: these three definitions are all it takes -----------------------


class Heartbeat(Record, frozen=True, tag="test_heartbeat/1"):
    """A test-only output: one instrument is alive."""

    token: int
    symbol: str
    ts_ns: int


class HeartbeatWriter(RedisWriter):
    """``indicators:{symbol}:heartbeat``: the last heartbeat's event time."""

    record = Heartbeat

    def write(self, record: Heartbeat, batch: RedisBatch) -> None:
        put_indicator(self.layout, batch, record.symbol, "heartbeat", record.ts_ns,
                      record.ts_ns // 1_000_000)


EXTENDED = OUTPUTS.extended(
    Output("heartbeat", "aion.test.heartbeat", Heartbeat, HeartbeatWriter, batched=True))


def test_new_output_gets_a_topic_a_mirror_agent_and_a_codec(tmp_path) -> None:
    from aion.agents.app import create_app

    names = TopicNames("")
    assert "aion.test.heartbeat" in EXTENDED.topics(names)
    assert "aion.test.heartbeat" in EXTENDED.mirror_topics(names)
    hb = Heartbeat(token=7, symbol="NSE:X", ts_ns=123)
    assert EXTENDED.codec.decode_many(encode(hb)) == [hb]
    settings = Settings.load(env={"AION_WORKER__ROLE": "mirror",
                                  "AION_CACHE_DIR": str(tmp_path)})
    app = create_app(settings, "127.0.0.1:1", "redis://127.0.0.1:1", registry=EXTENDED)
    assert "mirror-heartbeat" in app.agents
    assert "aion.test.heartbeat" in app.agents["mirror-heartbeat"].channel.topics


def test_new_output_is_sent_batched_and_written_to_redis(redis_flushed: str) -> None:
    sent: list[tuple[str, bytes, bytes]] = []

    class Topic:
        def __init__(self, name: str) -> None:
            self.name = name

        async def send(self, key: bytes, value: bytes) -> asyncio.Future:
            sent.append((self.name, key, value))
            fut = asyncio.get_running_loop().create_future()
            fut.set_result(None)
            return fut

    stats = EngineStats()
    emitter = FaustEmitter({o.name: Topic(o.name) for o in EXTENDED}, Topic("chain-in"),
                           EXTENDED, stats)
    beats = [Heartbeat(token=t, symbol=f"NSE:S{t}", ts_ns=10**18 + t) for t in (1, 2)]

    async def go() -> None:
        await emitter.emit(BundleResult(partition=3, offset=9, records=list(beats)))
        mirror = RedisMirror(redis_flushed, KeyLayout.load(),
                             SimpleNamespace(mirrored=0, redis_retries=0), registry=EXTENDED)
        try:
            for _, _, value in sent:
                await mirror.write(EXTENDED.codec.decode_many(value))
        finally:
            await mirror.close()

    asyncio.run(go())
    assert [(n, k) for n, k, _ in sent] == [("heartbeat", b"3")]  # one batch, by partition
    assert stats.emitted == {"heartbeat": 2}
    client = redis.Redis.from_url(url_for_db(redis_flushed, 5), decode_responses=True)
    assert client.get("indicators:NSE:S2:heartbeat") == repr(float(10**18 + 2))
    client.close()
