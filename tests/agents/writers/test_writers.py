"""Every Redis writer against a real Valkey: exact keys, values, types and TTLs.

Expected keys are spelled out here (the reference's schema), never built with the
layout, and TTLs are the numbers of ``config/redis_keys.yaml``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace

import msgspec
import pytest
import redis

from aion.agents.mirror import RedisMirror
from aion.agents.outputs import OUTPUTS
from aion.agents.writers.base import TtlPolicy
from aion.config import KeyLayout, url_for_db
from aion.tables.records import (
    AlertGreeks,
    AlertRecord,
    BarClosed,
    BucketClosed,
    ChainSnapshot,
    IndicatorUpdate,
    OptionRow,
    ProfileUpdate,
    Record,
    SessionSnapshot,
    ValidationRecord,
    VixRegimeUpdate,
    VolumeAverages,
    VolumeRatio,
    VwapUpdate,
)

T0 = 1_763_437_500_000_000_000  # 2025-11-18 09:15:00 IST, epoch ns
MS = T0 // 1_000_000


@pytest.fixture()
def dbs(redis_flushed: str) -> Iterator[dict[int, redis.Redis]]:
    clients = {db: redis.Redis.from_url(url_for_db(redis_flushed, db), decode_responses=True)
               for db in (0, 1, 2, 3, 5)}
    yield clients
    for c in clients.values():
        c.close()


async def write(url: str, *records: Record, ttl: TtlPolicy = TtlPolicy.LAYOUT) -> None:
    mirror = RedisMirror(url, KeyLayout.load(), SimpleNamespace(mirrored=0, redis_retries=0),
                         ttl)
    try:
        await mirror.write(list(records))
    finally:
        await mirror.close()


def ttl_is(client: redis.Redis, key: str, ttl: int | None) -> bool:
    live = client.ttl(key)
    return live == -1 if ttl is None else ttl - 5 < live <= ttl


def bar(symbol: str | None = "NSE:RELIANCE", close: float = 1500.8) -> BarClosed:
    return BarClosed(bar_id="738561:1763437500000", token=738561, symbol=symbol,
                     start_ms=MS, end_ms=MS + 60_000, start="2025-11-18T09:15:00+05:30",
                     open=1500.05, high=1501.4, low=1499.9, close=close, volume=12345,
                     tick_count=88, late_ticks=0, vwap=1500.61, first_ts_ms=MS + 123,
                     last_ts_ms=MS + 59_876)


def test_every_mirrored_output_has_a_writer_test() -> None:
    tested = {BarClosed, BucketClosed, SessionSnapshot, IndicatorUpdate, VwapUpdate,
              VolumeRatio, VixRegimeUpdate, ProfileUpdate, ChainSnapshot, VolumeAverages,
              AlertRecord, AlertGreeks, ValidationRecord}
    assert {o.record for o in OUTPUTS.mirrored()} == tested


async def test_bar_is_a_sorted_set_member_replaced_by_its_start(redis_flushed, dbs) -> None:
    await write(redis_flushed, bar(close=1500.8), bar(close=1500.9), bar(symbol=None))
    key = "ohlc_updates:NSE:RELIANCE"
    assert dbs[1].type(key) == "zset" and ttl_is(dbs[1], key, 86400)
    members = dbs[1].zrange(key, 0, -1, withscores=True)
    assert len(members) == 1 and members[0][1] == MS  # the re-emitted bar replaced itself
    doc = json.loads(members[0][0])
    assert doc["close"] == 1500.9 and doc["symbol"] == "NSE:RELIANCE" and "t" not in doc
    assert list(doc) == sorted(doc)
    assert dbs[1].dbsize() == 1  # the bar without a symbol wrote nothing


async def test_bucket_hash(redis_flushed, dbs) -> None:
    rec = BucketClosed(bucket_id="738561:5:1763437500000", token=738561,
                       symbol="NSE:RELIANCE", tradingsymbol="RELIANCE", resolution=5,
                       trading_date="2025-11-18", bucket_time="09:15", start_ms=MS,
                       bucket_incremental_volume=900, incremental_volume=900, volume=900,
                       count=12, first_timestamp="2025-11-18T09:15:01+05:30",
                       last_timestamp="2025-11-18T09:19:58+05:30",
                       first_timestamp_ms=MS + 1000, last_timestamp_ms=MS + 298_000,
                       last_price=1500.05)
    await write(redis_flushed, rec)
    key = "volume:volume:bucket5:RELIANCE:buckets:09:15"
    assert dbs[0].type(key) == "hash" and ttl_is(dbs[0], key, 57600)
    assert dbs[0].hgetall(key) == {
        "bucket_incremental_volume": "900", "incremental_volume": "900", "volume": "900",
        "count": "12", "first_timestamp": "2025-11-18T09:15:01+05:30",
        "last_timestamp": "2025-11-18T09:19:58+05:30", "last_price": "1500.05",
        "bucket_id": "738561:5:1763437500000", "start_ms": str(MS)}


async def test_session_hash_and_ttl_policy_none(redis_flushed, dbs) -> None:
    rec = SessionSnapshot(token=738561, symbol="NSE:RELIANCE", tradingsymbol="RELIANCE",
                          trading_date="2025-11-18", zerodha_cumulative_volume=123456,
                          bucket_incremental_volume=25, baseline_volume=0, last_price=1500.5,
                          high_price=1502.0, low_price=1498.25, update_count=77,
                          last_update=1763437800)
    early = SessionSnapshot(**{**{f: getattr(rec, f) for f in rec.__struct_fields__},
                               "trading_date": None, "tradingsymbol": "TCS"})
    await write(redis_flushed, rec, early, ttl=TtlPolicy.NONE)
    key = "session:RELIANCE:2025-11-18"
    assert dbs[0].type(key) == "hash" and ttl_is(dbs[0], key, None)
    assert dbs[0].hgetall(key) == {
        "zerodha_cumulative_volume": "123456", "bucket_incremental_volume": "25",
        "last_price": "1500.5", "high_price": "1502.0", "low_price": "1498.25",
        "update_count": "77", "last_update": "1763437800", "baseline_volume": "0"}
    assert dbs[0].dbsize() == 1  # no session key before a trading date


async def test_indicators_vwap_and_ratio(redis_flushed, dbs) -> None:
    await write(redis_flushed,
                IndicatorUpdate(token=1, symbol="NSE:RELIANCE", ts_ns=T0, bar_start_ns=T0,
                                values={"rsi": 55.5, "ema_200": None,
                                        "macd": {"macd": 1.0, "signal": 0.5,
                                                 "histogram": 0.5}}),
                VwapUpdate(token=1, symbol="NSE:RELIANCE", ts_ns=T0, vwap=1500.25),
                VolumeRatio(token=1, symbol="NSE:RELIANCE", tradingsymbol="RELIANCE",
                            ts_ns=T0, resolution=1, start_ns=T0, volume=500, expected=250.0,
                            volume_ratio=2.0, capped=False, reason=""))
    ind = dbs[5]
    assert ind.get("indicators:NSE:RELIANCE:rsi") == "55.5"
    assert ttl_is(ind, "indicators:NSE:RELIANCE:rsi", 300)
    assert ind.get("indicators:NSE:RELIANCE:ema_200") is None  # still warming up
    assert json.loads(ind.get("indicators:NSE:RELIANCE:macd")) == {
        "value": {"macd": 1.0, "signal": 0.5, "histogram": 0.5}, "timestamp": MS,
        "symbol": "NSE:RELIANCE"}
    assert ind.get("indicators:NSE:RELIANCE:vwap") == "1500.25"
    assert ind.get("indicators:NSE:RELIANCE:volume_ratio") == "2.0"
    key = "volume:volume:bucket1:RELIANCE:buckets:09:15"
    assert dbs[0].hgetall(key) == {"expected_volume": "250.0", "volume_ratio": "2.0",
                                   "volume_ratio_reason": ""}
    assert ttl_is(dbs[0], key, 57600)


async def test_volume_averages_hash_is_replaced_whole(redis_flushed, dbs) -> None:
    old = VolumeAverages(symbol="NSE:RELIANCE", values={"avg_volume_20d": 1.0, "stale": 5})
    new = VolumeAverages(symbol="NSE:RELIANCE",
                         values={"avg_volume_20d": 3750000.5, "avg_volume_55d": None,
                                 "turtle_ready": True, "days": 60})
    await write(redis_flushed, old, new)
    key = "volume_averages:NSE_RELIANCE"
    assert dbs[5].type(key) == "hash" and ttl_is(dbs[5], key, None)
    assert dbs[5].hgetall(key) == {"avg_volume_20d": "3750000.5", "avg_volume_55d": "",
                                   "turtle_ready": "true", "days": "60"}


async def test_vix_regime(redis_flushed, dbs) -> None:
    await write(redis_flushed, VixRegimeUpdate(
        token=264969, symbol="NSE:INDIA VIX", ts_ns=T0, regime="HIGH", vix=19.5,
        multiplier=1.4, previous="NORMAL", changed_ns=T0 - 1))
    doc = json.loads(dbs[5].get("indicators:NSE:INDIA VIX:vix_regime"))
    assert doc == {"value": {"regime": "HIGH", "vix": 19.5, "multiplier": 1.4,
                             "previous": "NORMAL", "changed_ns": T0 - 1},
                   "timestamp": MS, "symbol": "NSE:INDIA VIX"}


def profile(volumes: list[int], dirty: tuple[int, int], ticks: int) -> ProfileUpdate:
    low = 30000  # row x 0.05 = 1500.00
    poc = low + volumes.index(max(volumes))
    return ProfileUpdate(
        token=738561, symbol="NSE:RELIANCE", date="2025-11-18", dirty_lo=dirty[0],
        dirty_hi=dirty[1], day=20410, tick_size=0.05, decimals=2, tick_units=5, low=low,
        high=low + len(volumes) - 1, volumes=volumes, total_volume=sum(volumes),
        traded_rows=sum(1 for v in volumes if v), poc=poc, poc_volume=max(volumes),
        va_low=low, va_high=low + len(volumes) - 1, va_volume=sum(volumes), strength=0.25,
        hvn=(poc,), lvn=(), support=(), resistance=(), last_price=1500.05,
        last_ts_ns=T0 + ticks, ticks=ticks,
        events=({"type": "poc_shift", "timestamp_ms": MS + 60_000},))


async def test_profile_keys(redis_flushed, dbs) -> None:
    first = profile([10, 40, 5], (30000, 30002), 3)
    # Second publish: only row 30001 changed; the history entry differs (new time).
    second = profile([10, 60, 5], (30001, 30001), 4)
    await write(redis_flushed, first, second, second)
    ana = dbs[2]
    poc = ana.hgetall("volume_profile:poc:NSE:RELIANCE")
    assert poc["poc_price"] == "1500.05" and poc["poc_volume"] == "60"
    assert ttl_is(ana, "volume_profile:poc:NSE:RELIANCE", 86400)
    dist = "volume_profile:distribution:NSE:RELIANCE:2025-11-18"
    assert ana.hgetall(dist) == {"1500.00": "10", "1500.05": "60", "1500.10": "5"}
    assert ana.type("volume_profile:session:NSE:RELIANCE:2025-11-18") == "hash"
    assert ana.type("volume_profile:nodes:NSE:RELIANCE") == "hash"
    hist = "volume_profile:historical:NSE:RELIANCE"
    assert ana.type(hist) == "list" and ttl_is(ana, hist, 86400)
    entries = [json.loads(e) for e in ana.lrange(hist, 0, -1)]
    assert [e["poc_volume"] for e in entries] == [60, 40]  # newest first; no duplicate
    pat = "volume_profile:patterns:NSE:RELIANCE:daily"
    assert ana.zrange(pat, 0, -1, withscores=True) == [
        (json.dumps({"timestamp_ms": MS + 60_000, "type": "poc_shift"},
                    separators=(",", ":")), (MS + 60_000) / 1000)]
    assert dbs[5].get("indicators:NSE:RELIANCE:poc_price") == "1500.05"


NAMES = ("iv", "delta", "gamma", "theta", "vega", "rho")
OK_CE = "NFO:TESTMIRROR25N1826000CE"
ITM_CE = "NFO:TESTMIRROR25N1824000CE"
FRESH_PE = "NFO:TESTMIRROR25N1826000PE"
MIN = 60_000_000_000


def option(symbol: str, values: tuple | None, reason: str = "") -> OptionRow:
    nums = values or (None,) * 6
    return OptionRow(symbol=symbol, token=hash(symbol) % 10**6, type=symbol[-2:],
                     strike=26000.0, expiry="2025-11-18", price=12.5, oi=0, volume=0,
                     event_ns=0, **dict(zip(NAMES, nums, strict=True)), reason=reason)


def chain(clock_ns: int, options: list[OptionRow]) -> ChainSnapshot:
    return ChainSnapshot(underlying="NSE:TESTMIRROR", clock_ns=clock_ns, final=False,
                         spot=26010.0, options_seen=len(options), pcr_oi=None,
                         expiry="2025-11-18", atm_strike=26000.0, atm_straddle_premium=None,
                         straddle_volume={"26000": 0}, atm_iv=None, skew=None,
                         options=tuple(options))


async def test_chain_greeks_keys_carry_the_reason(redis_flushed, dbs) -> None:
    """Numbers while there are numbers, the reason (and no stale numbers) when there are none."""
    nums = (0.14, 0.55, 0.0004, -9.5, 6.1, 3.2)
    await write(redis_flushed, chain(MIN, [
        option(OK_CE, nums), option(ITM_CE, (0.2, 0.99, 1e-6, -4.0, 0.1, 20.0)),
        option(FRESH_PE, None)]))
    # Minute 2: the deep-ITM call lost its time value.
    await write(redis_flushed, chain(2 * MIN, [
        option(OK_CE, nums), option(ITM_CE, None, "no_time_value"),
        option(FRESH_PE, None)]))
    ind = dbs[5]

    def get(symbol: str, name: str) -> str | None:
        return ind.get(f"indicators:{symbol}:{name}")

    ok = json.loads(get(OK_CE, "greeks"))
    assert ok["symbol"] == OK_CE and ok["timestamp"] == 2 * MIN // 1_000_000
    assert ok["value"] == dict(zip(NAMES, nums, strict=True)) | {"reason": ""}
    assert [float(get(OK_CE, n)) for n in NAMES] == list(nums)
    itm = json.loads(get(ITM_CE, "greeks"))
    assert itm["value"] == dict.fromkeys(NAMES) | {"reason": "no_time_value"}
    assert all(get(ITM_CE, n) is None for n in NAMES)  # minute 1's numbers are gone
    assert ttl_is(ind, f"indicators:{ITM_CE}:greeks", 300)
    assert all(get(FRESH_PE, n) is None for n in (*NAMES, "greeks"))
    summary = json.loads(get("NSE:TESTMIRROR", "option_chain"))
    assert summary["value"]["atm_strike"] == 26000.0 and "options" not in summary["value"]
    assert "t" not in summary["value"]


def alert(bar_ms: int = MS) -> AlertRecord:
    return AlertRecord(
        alert_id=f"RELIANCE:volume_spike:{bar_ms}", token=738561, symbol="NSE:RELIANCE",
        pattern="volume_spike", category="core", signal="BULLISH", action="BUY",
        entry_price=1500.0, target_price=1522.5, stop_loss=1480.0, quantity=250, lot_size=1,
        confidence=0.85, expected_move=1.5, rr_ratio=1.125, volume_ratio=4.5,
        timestamp=bar_ms + 60_000, ts_ns=(bar_ms + 60_000) * 1_000_000,
        bar_start_ns=bar_ms * 1_000_000, atr=10.0, indicators={"rsi": 61.5},
        details={"rel_volume": 4.5})


async def test_alert_hash_stream_and_pattern_hit(redis_flushed, dbs) -> None:
    await write(redis_flushed, alert())
    key = f"alert:RELIANCE:volume_spike:{MS}"
    h = dbs[0].hgetall(key)
    assert h["symbol"] == "NSE:RELIANCE" and h["pattern"] == "volume_spike"
    assert (h["signal"], h["action"]) == ("BULLISH", "BUY")
    assert float(h["entry_price"]) == 1500.0 and float(h["stop_loss"]) == 1480.0
    assert float(h["target_price"]) == 1522.5 and int(h["quantity"]) == 250
    assert int(h["timestamp"]) == MS + 60_000 and float(h["confidence"]) == 0.85
    assert json.loads(h["indicators"]) == {"rsi": 61.5}
    assert ttl_is(dbs[0], key, 86400)
    entries = dbs[1].xrange("alerts:stream")
    assert len(entries) == 1 and entries[0][1]["alert_id"] == h["alert_id"]
    assert dbs[1].ttl("alerts:stream") == -1
    hit = json.loads(dbs[1].hget("patterns:NSE:RELIANCE", "volume_spike"))
    assert hit["alert_id"] == h["alert_id"] and hit["signal"] == "BULLISH"
    assert ttl_is(dbs[1], "patterns:NSE:RELIANCE", 86400)


async def test_alert_hash_holds_the_vix_regime_used(redis_flushed, dbs) -> None:
    a = alert()
    await write(redis_flushed, a, msgspec.structs.replace(
        a, alert_id="RELIANCE:volume_spike:1", vix_regime="HIGH", vix_multiplier=1.4,
        vix_basis="2025-11-17"))
    h = dbs[0].hgetall(f"alert:RELIANCE:volume_spike:{MS}")
    assert (h["vix_regime"], h["vix_multiplier"], h["vix_basis"]) == ("", "1.0",
                                                                      "no_prior_vix")
    h = dbs[0].hgetall("alert:RELIANCE:volume_spike:1")
    assert (h["vix_regime"], h["vix_multiplier"], h["vix_basis"]) == ("HIGH", "1.4",
                                                                      "2025-11-17")


OPT_ALERT = "NIFTY25N2526000CE:volume_spike:1763437800000"


def option_greeks(**kw: object) -> AlertGreeks:
    base = {"alert_id": OPT_ALERT, "token": 100, "symbol": "NFO:NIFTY25N2526000CE",
            "underlying": "NSE:NIFTY 50", "ts_ns": T0 + 300 * 10**9, "option_price": 120.5}
    return AlertGreeks(**(base | kw))


@pytest.mark.parametrize("greeks_first", [False, True])
async def test_alert_greeks_merge_into_the_alert_hash(redis_flushed, dbs,
                                                      greeks_first: bool) -> None:
    a = msgspec.structs.replace(alert(), alert_id=OPT_ALERT, symbol="NFO:NIFTY25N2526000CE")
    g = option_greeks(underlying_price=26010.0, underlying_source="spot", iv=0.15,
                      delta=0.52, gamma=0.0004, theta=-12.5, vega=14.2, rho=2.9)
    await write(redis_flushed, *((g, a) if greeks_first else (a, g)))
    h = dbs[0].hgetall(f"alert:{OPT_ALERT}")
    # The alert's fields and the Greeks, whichever mirror agent wrote first.
    assert h["pattern"] == "volume_spike" and float(h["entry_price"]) == 1500.0
    assert {k: float(h[k]) for k in ("iv", "delta", "gamma", "theta", "vega", "rho",
                                     "underlying_price")} == {
        "iv": 0.15, "delta": 0.52, "gamma": 0.0004, "theta": -12.5, "vega": 14.2, "rho": 2.9,
        "underlying_price": 26010.0}
    assert (h["underlying_source"], h["greeks_reason"]) == ("spot", "")
    assert ttl_is(dbs[0], f"alert:{OPT_ALERT}", 86400)


async def test_alert_greeks_not_computable_say_why(redis_flushed, dbs) -> None:
    await write(redis_flushed, option_greeks(reason="no_underlying"))
    h = dbs[0].hgetall(f"alert:{OPT_ALERT}")
    assert h["greeks_reason"] == "no_underlying"
    assert all(h[k] == "" for k in ("iv", "delta", "gamma", "theta", "vega", "rho"))


def window(minutes: int, success: bool | None, ret: float, end_ms: int,
           confidence: float = 0.85) -> ValidationRecord:
    return ValidationRecord(
        alert_id=f"RELIANCE:volume_spike:{MS}", token=738561, symbol="NSE:RELIANCE",
        pattern="volume_spike", confidence=confidence, direction=1, window_min=minutes,
        entry_ms=MS + 60_100, entry_price=1500.0, end_ms=end_ms, exit_ms=end_ms,
        exit_price=1500.0 * (1 + ret / 100), return_pct=ret, net_return_pct=ret - 0.05,
        cost=37.5, mfe_pct=max(ret, 0.0), mae_pct=0.1, first_touch="neither", touch_ms=None,
        success=success, cut_at_close=False, closed_at_session_end=False,
        ts_ns=end_ms * 1_000_000)


async def test_validation_keys_and_counters(redis_flushed, dbs) -> None:
    # Written in reverse time order: the sets hold them by end time all the same.
    w5 = window(5, True, 0.4, MS + 360_100)
    w1 = window(1, False, -0.2, MS + 120_100)
    await write(redis_flushed, w5, w1)
    per_alert = dbs[0].hgetall(f"forward_validation:alert:RELIANCE:volume_spike:{MS}")
    assert set(per_alert) == {"1m", "5m"}
    assert json.loads(per_alert["5m"])["return_pct"] == 0.4
    for db, key in ((0, "forward_validation:results"), (1, "validation_results:recent")):
        members = dbs[db].zrange(key, 0, -1, withscores=True)
        assert [json.loads(m)["window_min"] for m, _ in members] == [1, 5]
        assert [score for _, score in members] == [MS + 120_100, MS + 360_100]
    perf = dbs[3].hgetall("pattern_performance")
    assert perf["volume_spike:5m:count"] == "1" and perf["volume_spike:5m:success"] == "1"
    assert perf["volume_spike:1m:success"] == "0"
    assert perf["volume_spike:5m:return_sum_upct"] == "400000"  # 0.4 % in micro-percent
    assert perf["volume_spike:1m:net_return_sum_upct"] == "-250000"
    # Calibration counters on the 5-minute window only, by confidence decile (0.85 -> 8).
    assert dbs[3].hgetall("signal_quality") == {"volume_spike:c8:count": "1",
                                                "volume_spike:c8:success": "1"}
