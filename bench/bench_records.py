"""Benchmark: record encodings, µs per record, against the ``json`` module baseline.

For a closed bar and an indicator update (the two most frequent records) and a profile
snapshot (the largest), measures in one run:

* ``json`` module: ``json.dumps`` of the equivalent dict (what the engine used before
  typed records) and ``json.loads``;
* msgspec JSON (the chosen encoding: tagged, readable) and msgspec msgpack (for scale).

Prints µs per record and the ratio json / msgspec-JSON. Run: ``python bench/bench_records.py``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import msgspec

from aion.tables.records import BarClosed, IndicatorUpdate, ProfileUpdate, Record, RecordCodec

BUDGET_S = 0.3


def per_call(fn: Callable[[], object]) -> float:
    """µs per call of ``fn``, over about ``BUDGET_S`` seconds."""
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < BUDGET_S:
        for _ in range(100):
            fn()
        n += 100
    return (time.perf_counter() - start) / n * 1e6


def samples() -> dict[str, Record]:
    """Realistic records (values of the sample session's magnitude)."""
    bar = BarClosed(bar_id="738561:1763437500000", token=738561, symbol="NSE:RELIANCE",
                    start_ms=1763437500000, end_ms=1763437560000,
                    start="2025-11-18T09:15:00+05:30", open=1500.05, high=1501.4, low=1499.9,
                    close=1500.8, volume=12345, tick_count=88, late_ticks=0,
                    vwap=1500.6123456789, first_ts_ms=1763437500123, last_ts_ms=1763437559876)
    values = {f"ema_{p}": 1500.0 + p / 7 for p in (5, 10, 20, 50, 100, 200)}
    values |= {"rsi": 55.123456, "atr": 1.2345, "macd": {"macd": 0.1, "signal": 0.05,
                                                         "histogram": 0.05}}
    ind = IndicatorUpdate(token=738561, symbol="NSE:RELIANCE", ts_ns=1763437559876000000,
                          bar_start_ns=1763437500000000000, values=values)
    vols = [(i * 7919) % 5000 for i in range(400)]
    prof = ProfileUpdate(token=738561, symbol="NSE:RELIANCE", date="2025-11-18", dirty_lo=30010,
                         dirty_hi=30020, day=20410, tick_size=0.05, decimals=2, tick_units=5,
                         low=30000, high=30399, volumes=vols, total_volume=sum(vols),
                         traded_rows=399, poc=30100, poc_volume=max(vols), va_low=30050,
                         va_high=30300, va_volume=sum(vols) * 7 // 10, strength=0.4,
                         hvn=(30100, 30200), lvn=(30150,), support=(30100,),
                         resistance=(30200,), last_price=1508.0, last_ts_ns=1, ticks=5000)
    return {"bar": bar, "indicators": ind, "profile (400 rows)": prof}


def main() -> None:
    """Measure and print."""
    enc_j, enc_m = msgspec.json.Encoder(), msgspec.msgpack.Encoder()
    print(f"{'record':<20}{'op':<8}{'json':>9}{'msgspec':>9}{'msgpack':>9}{'json/msgspec':>14}")
    for name, rec in samples().items():
        doc = msgspec.structs.asdict(rec)
        codec = RecordCodec([type(rec)])
        dec_m = msgspec.msgpack.Decoder(type(rec))
        j, m, p = json.dumps(doc).encode(), enc_j.encode(rec), enc_m.encode(rec)
        enc = (per_call(lambda d=doc: json.dumps(d, separators=(",", ":")).encode()),
               per_call(lambda r=rec: enc_j.encode(r)), per_call(lambda r=rec: enc_m.encode(r)))
        dec = (per_call(lambda b=j: json.loads(b)), per_call(lambda b=m, c=codec: c.decode(b)),
               per_call(lambda b=p, d=dec_m: d.decode(b)))
        for op, (a, b, c) in (("encode", enc), ("decode", dec)):
            print(f"{name:<20}{op:<8}{a:>9.2f}{b:>9.2f}{c:>9.2f}{a / b:>13.1f}x")
        print(f"{'':<20}{'bytes':<8}{len(j):>9}{len(m):>9}{len(p):>9}")


if __name__ == "__main__":
    main()
