"""Indicators, volume ratios, profile and option chains on the sample session, end to end.

One Faust run of the bundled sample (real broker, real Redis, a real worker) against the
direct driver: identical instrument states (analytics included), identical option-chain
snapshots and chain state, the same backtest report, and the documented Redis keys in
place.

The run's averages add an INDIA VIX close of the day before (19.0: HIGH, volume
thresholds x1.4) and its pattern registry lets ``volume_spike`` fire on options too, so
the VIX regime and the Greeks of option alerts (priced by the chain) are covered.
"""

from __future__ import annotations

import asyncio
import datetime
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import yaml
from redis_snapshot import redis_diff, redis_snapshot

from aion.agents.backtest import faust_run, instruments_csv_for, read_report_records
from aion.agents.context import VIX_SYMBOL
from aion.agents.daily_history import build_averages, load_daily_history
from aion.agents.direct import DirectResult, run_direct
from aion.agents.outputs import OUTPUTS
from aion.agents.writers.base import TtlPolicy
from aion.config import KeyLayout, Settings, url_for_db
from aion.config.patterns import load_patterns
from aion.infra import Infra, Service
from aion.report import ReportData, render_html
from aion.streams.instruments import InstrumentMaster
from aion.streams.replay import replay
from aion.streams.sample import sample_daily_history_path, sample_session_path
from aion.streams.topics import read_all
from aion.tables.chain import ChainState
from aion.tables.patterns.chain_base import ChainDetector
from aion.tables.patterns.registry import DETECTORS
from aion.tables.profile_state import ProfileState
from aion.tables.records import AlertGreeks, AlertRecord, ValidationRecord, encode

pytestmark = pytest.mark.integration

PARTITIONS = 4
BUNDLE = 2000
CHAIN_CHANGELOG = "{app_id}-chain-state-changelog"
STATE_CHANGELOG = "{app_id}-instrument-state-changelog"


VIX_CLOSE = {"last_close": 19.0, "as_of": "2025-11-17", "avg_volume_20d": None,
             "avg_volume_55d": None, "avg_price_20d": 19.0, "avg_price_55d": 19.0,
             "turtle_ready": False}
"""The INDIA VIX averages entry of the run: the previous session closed at 19 (HIGH)."""


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    # volume_spike on options too: option alerts, whose Greeks the chain prices. The
    # workers are subprocesses: they read the registry file from the environment, and
    # so does the direct driver (its default config is the environment's settings).
    blocks = {k: dict(v) for k, v in load_patterns().items()}
    blocks["volume_spike"]["applies_to"] = [*blocks["volume_spike"]["applies_to"], "option"]
    registry = tmp_path_factory.mktemp("patterns") / "patterns.yaml"
    registry.write_text(yaml.safe_dump({"patterns": blocks}))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AION_PATTERNS__FILE", str(registry))
        # The cache directory is the settings' own: $AION_CACHE_DIR, else ~/.cache/aion.
        yield Settings.load(env={"AION_PARTITIONS": str(PARTITIONS),
                                 "AION_PATTERNS__FILE": str(registry)})


@pytest.fixture(scope="module")
def sample(settings: Settings) -> tuple[Path, dict]:
    path = sample_session_path(settings.cache_dir)
    averages = build_averages(load_daily_history(sample_daily_history_path(settings.cache_dir)))
    averages[VIX_SYMBOL] = VIX_CLOSE
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
            snaps = [OUTPUTS.codec.decode(v) for *_, v in
                     await read_all(boot, OUTPUTS["chain"].topic_name(run.names))]
            records = await read_report_records(boot, run.names)
            report = render_html(ReportData.from_records(records))
            return {"states": states, "chains": chains, "snapshots": snaps, "report": report,
                    "records": records,
                    "bars_topic": OUTPUTS["bars"].topic_name(run.names),
                    "redis": redis_snapshot(redis_url)}

    return asyncio.run(go())


@pytest.fixture(scope="module")
def master(sample: tuple[Path, dict]) -> InstrumentMaster:
    return InstrumentMaster.from_csv(instruments_csv_for(sample[0]))


@pytest.fixture(scope="module")
def direct(sample: tuple[Path, dict], master: InstrumentMaster) -> DirectResult:
    path, averages = sample
    return run_direct(path, master, partitions=PARTITIONS, bundle_packets=BUNDLE,
                      averages=averages)


def test_faust_and_direct_agree_on_analytics_and_chains(
        faust_result: dict, direct: DirectResult) -> None:
    assert {t: s.to_bytes() for t, s in direct.states.items()} == faust_result["states"]
    assert set(direct.chains) == set(faust_result["chains"]) == {"NSE:NIFTY 50",
                                                                  "NSE:NIFTY BANK"}
    for u, chain in direct.chains.items():
        assert chain.to_bytes() == ChainState.from_bytes(faust_result["chains"][u]).to_bytes()
    by_u: dict[str, list] = {}
    for snap in faust_result["snapshots"]:
        by_u.setdefault(snap.underlying, []).append(snap)
    for u in direct.chains:
        want = [s for s in direct.chain_snapshots if s.underlying == u]
        assert by_u[u] == want
        assert want[-1].final and want[-1].atm_iv is not None
        assert sum(o.delta is not None for o in want[-1].options) >= 30


def test_faust_and_direct_give_the_same_alerts_and_validations(
        faust_result: dict, direct: DirectResult) -> None:
    # Tick-path and chain alerts alike; topics are read partition by partition and a
    # restarted worker may re-emit, so compare the sets of encoded records.
    for kind in (AlertRecord, ValidationRecord):
        want = {encode(r) for r in direct.records if isinstance(r, kind)}
        assert {encode(r) for r in faust_result["records"] if isinstance(r, kind)} == want
    chain_names = {d.NAME for d in DETECTORS if issubclass(d, ChainDetector)}
    chain_alerts = [r for r in direct.records
                    if isinstance(r, AlertRecord) and r.pattern in chain_names]
    assert chain_alerts and {a.action for a in chain_alerts} <= {"SELL_STRADDLE",
                                                                  "SELL_STRANGLE"}
    ids = {a.alert_id for a in chain_alerts}
    assert any(v.alert_id in ids and v.direction == -1 for v in direct.records
               if isinstance(v, ValidationRecord))


def test_faust_and_direct_give_the_same_report(faust_result: dict,
                                               direct: DirectResult) -> None:
    # What `aion backtest` writes: from the topics read back, and from the records in memory.
    report = render_html(ReportData.from_records(direct.records))
    assert faust_result["report"] == report
    assert report.count('class="alert-marker') >= 1


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
    docs = [json.loads(ind.get(k)) for k in greek_keys]
    names = ("iv", "delta", "gamma", "theta", "vega", "rho")
    for doc in docs:
        assert set(doc["value"]) == {*names, "reason"}
        opt, reason = doc["symbol"], doc["value"]["reason"]
        for g in names:
            number = ind.get(layout.key("indicator", symbol=opt, name=g).name)
            if reason:  # a reason instead of numbers, and no stale number keys
                assert doc["value"][g] is None and number is None, (opt, g, reason)
            else:
                assert float(number) == doc["value"][g], (opt, g)
    assert sum(not d["value"]["reason"] for d in docs) >= 60
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


def test_alerts_carry_the_vix_regime_and_option_alerts_their_greeks(
        faust_result: dict, direct: DirectResult, master: InstrumentMaster,
        redis_url: str) -> None:
    alerts = [r for r in direct.records if isinstance(r, AlertRecord)]
    greeks = {r.alert_id: r for r in direct.records if isinstance(r, AlertGreeks)}
    assert alerts and {(a.vix_regime, a.vix_multiplier, a.vix_basis) for a in alerts} == {
        ("HIGH", 1.4, "2025-11-17")}
    options = [a for a in alerts if master.by_token(a.token).is_option]
    assert len(options) >= 5
    # Every option alert, and only those, is priced once by its chain.
    assert sorted(greeks) == sorted(a.alert_id for a in options)
    sys0 = _db(redis_url, 0)
    layout = KeyLayout.load()
    priced = 0
    for a in options:
        g = greeks[a.alert_id]
        assert (g.token, g.ts_ns, g.option_price) == (a.token, a.ts_ns, a.entry_price)
        got = sys0.hgetall(layout.key("alert", alert_id=a.alert_id).name)
        assert got["vix_regime"] == "HIGH" and got["pattern"] == a.pattern
        assert got["greeks_reason"] == g.reason
        for name in ("iv", "delta", "gamma", "theta", "vega", "rho"):
            value = getattr(g, name)
            assert got[name] == ("" if value is None else repr(value)), (a.alert_id, name)
        priced += g.iv is not None
    assert priced >= 5
    sys0.close()


# ---------------------------------------------------------------- independent expectations
# Redis checked against the direct driver's final state, read field by field here, never
# through the mirror's formatting code: a wrong field, a lost bar or a stale POC in the
# mirror cannot agree with it by construction.

DAY = "2025-11-18"
"""The sample session's trading date."""


def _iso_day(epoch_day: int) -> str:
    return (datetime.date(1970, 1, 1) + datetime.timedelta(days=epoch_day)).isoformat()


def _ttl_ok(client: redis.Redis, key: str, ttl: int | None) -> None:
    live = client.ttl(key)
    if ttl is None:
        assert live == -1, f"{key}: TTL {live}, expected none"
    else:
        # Counted down since written, and the run took well under ten minutes.
        assert ttl - 600 < live <= ttl, f"{key}: TTL {live}, expected {ttl}"


def test_session_hashes_equal_the_direct_state(faust_result: dict, direct: DirectResult,
                                               master: InstrumentMaster,
                                               redis_url: str) -> None:
    sys0 = _db(redis_url, 0)
    checked = 0
    for token, state in direct.states.items():
        v = state.volume
        if v.day < 0:
            continue
        inst = master.by_token(token)
        key = f"session:{inst.tradingsymbol}:{_iso_day(v.day)}"
        got = sys0.hgetall(key)
        assert got, key
        assert int(got["zerodha_cumulative_volume"]) == v.cumulative, key
        assert int(got["bucket_incremental_volume"]) == v.last_incremental, key
        assert float(got["last_price"]) == v.last_price, key
        assert float(got["high_price"]) == v.high_price, key
        assert float(got["low_price"]) == v.low_price, key
        assert int(got["update_count"]) == v.update_count, key
        assert int(got["baseline_volume"]) == v.baseline_volume, key
        _ttl_ok(sys0, key, 86400)
        checked += 1
    assert checked == len(master)
    sys0.close()


def test_bars_in_redis_equal_the_direct_bars(faust_result: dict, direct: DirectResult,
                                             master: InstrumentMaster, redis_url: str) -> None:
    rt = _db(redis_url, 1)
    want: dict[str, dict[int, dict]] = {}
    for bar in direct.bars:
        symbol = master.by_token(bar.token).symbol
        want.setdefault(symbol, {})[bar.start_ns // 1_000_000] = {
            "bar_id": bar.bar_id, "token": bar.token, "open": bar.open, "high": bar.high,
            "low": bar.low, "close": bar.close, "volume": bar.volume,
            "tick_count": bar.tick_count, "symbol": symbol}
    assert sum(len(b) for b in want.values()) > 1000
    keys = set(rt.scan_iter("ohlc_updates:*", count=1000))
    assert keys == {f"ohlc_updates:{s}" for s in want}
    for symbol, by_start in want.items():
        key = f"ohlc_updates:{symbol}"
        members = rt.zrange(key, 0, -1, withscores=True)
        assert [int(score) for _, score in members] == sorted(by_start), key
        for member, score in members:
            doc = json.loads(member)
            expected = by_start[int(score)]
            assert {k: doc[k] for k in expected} == expected, key
            assert doc["start_ms"] == int(score)
        _ttl_ok(rt, key, 86400)
    rt.close()


def test_profile_poc_and_distribution_equal_the_direct_state(
        faust_result: dict, direct: DirectResult, master: InstrumentMaster,
        redis_url: str) -> None:
    ana = _db(redis_url, 2)
    checked = 0
    for token, state in direct.states.items():
        part = state.analytics.get(ProfileState) if state.analytics else None
        prof = part.profile if part is not None else None
        if prof is None or prof.empty:
            continue
        symbol = master.by_token(token).symbol
        vols = prof.volumes()
        rows = range(prof.lo, prof.hi + 1)
        tick = prof.tick_size
        want = {round(r * tick, 6): int(x) for r, x in zip(rows, vols, strict=True) if x}
        key = f"volume_profile:distribution:{symbol}:{_iso_day(prof.day)}"
        got = {round(float(p), 6): int(x) for p, x in ana.hgetall(key).items()}
        assert got == want, key
        _ttl_ok(ana, key, 86400)
        poc_row = prof.poc_index()
        key = f"volume_profile:poc:{symbol}"
        poc = ana.hgetall(key)
        assert float(poc["poc_price"]) == pytest.approx(poc_row * tick, abs=1e-9), key
        assert int(poc["poc_volume"]) == int(vols[poc_row - prof.lo]) == max(want.values())
        _ttl_ok(ana, key, 86400)
        checked += 1
    assert checked >= 100, checked
    ana.close()


# One literal per key kind of config/redis_keys.yaml, spelled out from the reference's
# schema: (placeholders, key, db, type, ttl). A kind added to the YAML must be added here.
LITERALS: dict[str, tuple[dict[str, object], str, int, str, int | None]] = {
    "session": ({"tradingsymbol": "RELIANCE", "date": DAY},
                "session:RELIANCE:2025-11-18", 0, "hash", 86400),
    "volume_bucket": ({"resolution": 5, "tradingsymbol": "RELIANCE", "hour": "09",
                       "minute": "20"},
                      "volume:volume:bucket5:RELIANCE:buckets:09:20", 0, "hash", 57600),
    "ohlc_bar": ({"symbol": "NSE:RELIANCE"}, "ohlc_updates:NSE:RELIANCE", 1, "zset", 86400),
    "indicator": ({"symbol": "NSE:RELIANCE", "name": "rsi"},
                  "indicators:NSE:RELIANCE:rsi", 5, "string", 300),
    "volume_averages": ({"exchange": "NSE", "tradingsymbol": "RELIANCE"},
                        "volume_averages:NSE_RELIANCE", 5, "hash", None),
    "volume_profile_poc": ({"symbol": "NSE:RELIANCE"},
                           "volume_profile:poc:NSE:RELIANCE", 2, "hash", 86400),
    "volume_profile_session": ({"symbol": "NSE:RELIANCE", "date": DAY},
                               "volume_profile:session:NSE:RELIANCE:2025-11-18", 2, "hash",
                               86400),
    "volume_profile_distribution": ({"symbol": "NSE:RELIANCE", "date": DAY},
                                    "volume_profile:distribution:NSE:RELIANCE:2025-11-18", 2,
                                    "hash", 86400),
    "volume_profile_nodes": ({"symbol": "NSE:RELIANCE"},
                             "volume_profile:nodes:NSE:RELIANCE", 2, "hash", 86400),
    "volume_profile_patterns": ({"symbol": "NSE:RELIANCE"},
                                "volume_profile:patterns:NSE:RELIANCE:daily", 2, "zset", 86400),
    "volume_profile_historical": ({"symbol": "NSE:RELIANCE"},
                                  "volume_profile:historical:NSE:RELIANCE", 2, "list", 86400),
    "alert": ({"alert_id": "a1"}, "alert:a1", 0, "hash", 86400),
    "alerts_stream": ({}, "alerts:stream", 1, "stream", None),
    "patterns": ({"symbol": "NSE:RELIANCE"}, "patterns:NSE:RELIANCE", 1, "hash", 86400),
    "forward_validation_alert": ({"alert_id": "a1"}, "forward_validation:alert:a1", 0, "hash",
                                 604800),
    "forward_validation_results": ({}, "forward_validation:results", 0, "zset", None),
    "validation_results_recent": ({}, "validation_results:recent", 1, "zset", None),
    "pattern_performance": ({}, "pattern_performance", 3, "hash", None),
    "signal_quality": ({}, "signal_quality", 3, "hash", None),
    "mirror_offsets": ({"topic": "aion.bars.1m"}, "aion:mirror:offsets:aion.bars.1m", 0, "hash",
                       None),
}
NOT_WRITTEN_YET: set[str] = set()
"""Kinds no writer writes yet: checked as literals, and absent."""
PER_ID = {"alert": "alert:*", "forward_validation_alert": "forward_validation:alert:*",
          "patterns": "patterns:*"}
"""Kinds whose key names an alert or a symbol with hits: any such key is checked."""


def test_every_layout_kind_renders_its_literal() -> None:
    layout = KeyLayout.load()
    assert set(layout.specs) == set(LITERALS)
    for kind, (values, name, db, kind_type, ttl) in LITERALS.items():
        key = layout.key(kind, **values)
        assert (key.name, key.db, key.type, key.ttl) == (name, db, kind_type, ttl), kind


def test_every_written_kind_is_live_with_its_type_and_ttl(faust_result: dict,
                                                          redis_url: str) -> None:
    """Each kind, at the literal's key; the run's mirror offsets are gone with its topics."""
    for kind, (_, name, db, kind_type, ttl) in LITERALS.items():
        client = _db(redis_url, db)
        if kind == "mirror_offsets":  # bookkeeping: removed with the run's topics
            name = f"aion:mirror:offsets:{faust_result['bars_topic']}"
            assert not client.exists(name), f"{name} outlived its run"
            continue
        if kind in NOT_WRITTEN_YET:
            assert not any(True for _ in client.scan_iter(name.split(":")[0] + ":*")), kind
            continue
        if kind in PER_ID:
            name = next(client.scan_iter(PER_ID[kind], count=1000), name)
        if kind == "volume_profile_patterns" and not client.exists(name):
            # Profile events are data-dependent: take any symbol's daily key.
            name = next(client.scan_iter("volume_profile:patterns:*:daily", count=1000))
        assert client.type(name) == kind_type, f"{kind}: {name} is {client.type(name)}"
        _ttl_ok(client, name, ttl)
        client.close()


# ---------------------------------------------------------------- both drivers, one Redis
# Last in the module: it flushes Redis.


def test_direct_driver_writes_the_same_redis_as_faust(
        faust_result: dict, sample: tuple[Path, dict], master: InstrumentMaster,
        redis_url: str) -> None:
    """Key by key, value by value, TTL by TTL (the mirror's offsets aside)."""
    path, averages = sample
    client = redis.Redis.from_url(redis_url)
    client.flushall()
    client.close()
    # The averages hashes too: the Faust run's mirror wrote them from the compacted
    # topic, the direct driver writes them from the same records.
    run_direct(path, master, partitions=PARTITIONS, bundle_packets=BUNDLE, averages=averages,
               redis_url=redis_url, ttl=TtlPolicy.LAYOUT)
    direct = redis_snapshot(redis_url)
    faust = faust_result["redis"]
    assert sum(len(v) for v in faust.values()) > 5000
    assert direct == faust, redis_diff(direct, faust)
