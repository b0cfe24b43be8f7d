"""Indicators, volume ratios, profile and option chains on the sample session, end to end.

One Faust run of the bundled sample (real broker, real Redis, a real worker) against the
direct driver: identical instrument states (analytics included), identical option-chain
snapshots and chain state, and the documented Redis keys in place.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import redis

from aion.agents.backtest import faust_run, instruments_csv_for
from aion.agents.daily_history import build_averages, load_daily_history
from aion.agents.direct import run_direct
from aion.config import KeyLayout, Settings, url_for_db
from aion.infra import Infra, Service
from aion.streams.instruments import InstrumentMaster
from aion.streams.replay import replay
from aion.streams.sample import sample_daily_history_path, sample_session_path
from aion.streams.topics import read_all
from aion.tables.chain import ChainState

pytestmark = pytest.mark.integration

PARTITIONS = 4
BUNDLE = 2000
CHAIN_CHANGELOG = "{app_id}-chain-state-changelog"
STATE_CHANGELOG = "{app_id}-instrument-state-changelog"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings.load(env={"AION_CACHE_DIR": str(Path.home() / ".cache" / "aion"),
                              "AION_PARTITIONS": str(PARTITIONS)})


@pytest.fixture(scope="module")
def sample(settings: Settings) -> tuple[Path, dict]:
    path = sample_session_path(settings.cache_dir)
    averages = build_averages(load_daily_history(sample_daily_history_path(settings.cache_dir)))
    return path, averages


@pytest.fixture(scope="module")
def faust_result(settings: Settings, sample: tuple[Path, dict], kafka_bootstrap: str,
                 redis_url: str) -> dict:
    infra = Infra(Service("kafka", kafka_bootstrap), Service("redis", redis_url))
    path, averages = sample
    client = redis.Redis.from_url(redis_url)
    client.flushall()
    client.close()

    async def go() -> dict:
        # The mirror runs in its own worker (as `aion backtest` does): covers both roles.
        async with faust_run(settings, infra, path, averages=averages,
                             mirror_apart=True) as run:
            await replay(path, kafka_bootstrap, run.names.ticks_raw, PARTITIONS,
                         bundle_packets=BUNDLE)
            await run.wait(timeout_s=600)
            boot = kafka_bootstrap
            states = {int(k): v for _, _, k, v in
                      await read_all(boot, STATE_CHANGELOG.format(app_id=run.app_id))
                      if v is not None and not k.startswith(b"p:")}
            chains = {k.decode(): v for _, _, k, v in
                      await read_all(boot, CHAIN_CHANGELOG.format(app_id=run.app_id))
                      if v is not None}
            snaps = [json.loads(v) for *_, v in await read_all(boot, run.names.chain)]
            return {"states": states, "chains": chains, "snapshots": snaps}

    return asyncio.run(go())


def test_faust_and_direct_agree_on_analytics_and_chains(
        faust_result: dict, sample: tuple[Path, dict]) -> None:
    path, averages = sample
    master = InstrumentMaster.from_csv(instruments_csv_for(path))
    direct = run_direct(path, master, partitions=PARTITIONS, bundle_packets=BUNDLE,
                        averages=averages)
    assert {t: s.to_bytes() for t, s in direct.states.items()} == faust_result["states"]
    assert set(direct.chains) == set(faust_result["chains"]) == {"NSE:NIFTY 50",
                                                                  "NSE:NIFTY BANK"}
    for u, chain in direct.chains.items():
        assert chain.to_bytes() == ChainState.from_bytes(faust_result["chains"][u]).to_bytes()
    by_u: dict[str, list] = {}
    for snap in faust_result["snapshots"]:
        by_u.setdefault(snap["underlying"], []).append(snap)
    for u in direct.chains:
        want = [s for s in direct.chain_snapshots if s["underlying"] == u]
        assert by_u[u] == want
        assert want[-1]["final"] and want[-1]["atm_iv"] is not None
        assert sum(o["delta"] is not None for o in want[-1]["options"]) >= 30


def _db(redis_url: str, db: int) -> redis.Redis:
    return redis.Redis.from_url(url_for_db(redis_url, db), decode_responses=True)


def test_redis_holds_the_documented_keys(faust_result: dict, redis_url: str,
                                         sample: tuple[Path, dict]) -> None:
    layout = KeyLayout.load()
    ind = _db(redis_url, layout.db("indicator"))
    sym = "NSE:RELIANCE"
    for name in ("rsi", "atr", "vwap", "ema_5", "ema_20", "sma_20", "obv", "mfi", "cci"):
        key = layout.key("indicator", symbol=sym, name=name).name
        value = ind.get(key)
        assert value is not None, key
        float(value)
        assert 0 < ind.ttl(key) <= 300
    for name, fields in (("macd", {"macd", "signal", "histogram"}),
                         ("bollinger_bands", {"upper", "middle", "lower"})):
        doc = json.loads(ind.get(layout.key("indicator", symbol=sym, name=name).name))
        assert set(doc) == {"value", "timestamp", "symbol"} and doc["symbol"] == sym
        assert set(doc["value"]) >= fields
    # Greeks of options, as JSON and one key per Greek.
    greek_keys = [k for k in ind.scan_iter("indicators:NFO:*:greeks", count=1000)]
    assert len(greek_keys) >= 60
    doc = json.loads(ind.get(greek_keys[0]))
    assert set(doc["value"]) >= {"delta", "gamma", "theta", "vega", "rho"}
    opt = doc["symbol"]
    for g in ("delta", "gamma", "theta", "vega", "rho"):
        float(ind.get(layout.key("indicator", symbol=opt, name=g).name))
    chain = json.loads(ind.get(layout.key("indicator", symbol="NSE:NIFTY 50",
                                          name="option_chain").name))
    assert chain["value"]["atm_strike"] and chain["value"]["straddle_volume"]
    # Volume averages hash (DB 5) and a volume ratio on the bucket hashes (DB 0).
    avg = ind.hgetall(layout.key("volume_averages", exchange="NSE",
                                 tradingsymbol="RELIANCE").name)
    assert float(avg["avg_volume_20d"]) == pytest.approx(sample[1][sym]["avg_volume_20d"])
    sys0 = _db(redis_url, 0)
    bucket = sys0.hgetall(layout.key("volume_bucket", resolution=5, tradingsymbol="RELIANCE",
                                     hour="09", minute="20").name)
    assert float(bucket["volume_ratio"]) > 0 and float(bucket["expected_volume"]) > 0
    # Volume profile (DB 2).
    ana = _db(redis_url, layout.db("volume_profile_poc"))
    poc = ana.hgetall(layout.key("volume_profile_poc", symbol=sym).name)
    assert set(poc) >= {"poc_price", "poc_volume", "value_area_high", "value_area_low",
                        "profile_strength", "exchange_timestamp"}
    assert float(poc["value_area_low"]) <= float(poc["poc_price"]) <= float(
        poc["value_area_high"])
    assert 0 <= float(poc["profile_strength"]) <= 1
    day = "2025-11-18"
    assert ana.hlen(layout.key("volume_profile_session", symbol=sym, date=day).name) > 0
    assert ana.hlen(layout.key("volume_profile_distribution", symbol=sym, date=day).name) > 0
    assert ana.hlen(layout.key("volume_profile_nodes", symbol=sym).name) > 0
    assert ana.llen(layout.key("volume_profile_historical", symbol=sym).name) > 0
    assert any(True for _ in ana.scan_iter("volume_profile:patterns:*:daily", count=1000))
    for c in (ind, sys0, ana):
        c.close()
