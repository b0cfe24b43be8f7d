"""The mirror's option keys: numbers while there are numbers, the reason when there are none.

Real Redis (the ``redis_url`` fixture: an embedded Valkey unless one is configured). The
test touches only its own keys (symbols under ``NFO:TESTMIRROR``), so it flushes nothing.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import redis

from aion.agents.mirror import RedisMirror
from aion.config import KeyLayout, url_for_db

NAMES = ("iv", "delta", "gamma", "theta", "vega", "rho")
OK_CE = "NFO:TESTMIRROR25N1826000CE"
ITM_CE = "NFO:TESTMIRROR25N1824000CE"
FRESH_PE = "NFO:TESTMIRROR25N1826000PE"
MIN = 60_000_000_000


def option(symbol: str, values: tuple | None, reason: str = "") -> dict:
    nums = values or (None,) * 6
    return {"symbol": symbol, "token": hash(symbol) % 10**6, "type": symbol[-2:],
            "strike": 26000.0, "expiry": "2025-11-18", "price": 12.5, "oi": 0, "volume": 0,
            "event_ns": 0, **dict(zip(NAMES, nums, strict=True)), "reason": reason}


def chain_doc(clock_ns: int, options: list[dict]) -> dict:
    return {"underlying": "NSE:TESTMIRROR", "clock_ns": clock_ns, "final": False,
            "spot": 26010.0, "options_seen": len(options), "options": options}


async def test_chain_greeks_keys_carry_the_reason(redis_url: str) -> None:
    layout = KeyLayout.load()
    client = redis.Redis.from_url(url_for_db(redis_url, layout.db("indicator")),
                                  decode_responses=True)
    keys = [layout.key("indicator", symbol=s, name=n).name
            for s in (OK_CE, ITM_CE, FRESH_PE) for n in (*NAMES, "greeks")]
    client.delete(*keys)
    mirror = RedisMirror(redis_url, layout, SimpleNamespace(mirrored=0, redis_retries=0))
    nums = (0.14, 0.55, 0.0004, -9.5, 6.1, 3.2)
    try:
        # Minute 1: both calls have numbers; the put has not been computed yet.
        await mirror.write([("chain", chain_doc(MIN, [
            option(OK_CE, nums), option(ITM_CE, (0.2, 0.99, 1e-6, -4.0, 0.1, 20.0)),
            option(FRESH_PE, None)]))])
        # Minute 2: the deep-ITM call lost its time value.
        await mirror.write([("chain", chain_doc(2 * MIN, [
            option(OK_CE, nums), option(ITM_CE, None, "no_time_value"),
            option(FRESH_PE, None)]))])

        def get(symbol: str, name: str) -> str | None:
            return client.get(layout.key("indicator", symbol=symbol, name=name).name)

        ok = json.loads(get(OK_CE, "greeks"))
        assert ok["symbol"] == OK_CE and ok["timestamp"] == 2 * MIN // 1_000_000
        assert ok["value"] == dict(zip(NAMES, nums, strict=True)) | {"reason": ""}
        assert [float(get(OK_CE, n)) for n in NAMES] == list(nums)

        itm = json.loads(get(ITM_CE, "greeks"))
        assert itm["value"] == dict.fromkeys(NAMES) | {"reason": "no_time_value"}
        assert itm["timestamp"] == 2 * MIN // 1_000_000
        assert all(get(ITM_CE, n) is None for n in NAMES)  # minute 1's numbers are gone
        ttl = client.ttl(layout.key("indicator", symbol=ITM_CE, name="greeks").name)
        assert 0 < ttl <= 300

        assert all(get(FRESH_PE, n) is None for n in (*NAMES, "greeks"))
    finally:
        client.delete(*keys)
        client.close()
        await mirror.close()
