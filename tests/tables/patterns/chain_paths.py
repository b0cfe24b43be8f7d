"""Synthetic chain snapshots and histories for the chain-pattern tests.

A snapshot holds one expiry with strikes ``ATM +- 4 * STEP``; every option carries the
IV, theta, OI and volume given. Quiet histories alternate the underlying between ``P0``
and ``P0 e^R``, so consecutive log changes are ``+-R``.
"""

from __future__ import annotations

import math
from typing import Any

from aion.config.patterns import load_patterns
from aion.tables.patterns.chain_base import ChainContext, ChainRow
from aion.tables.records.chain import ChainSnapshot, OptionRow
from aion.tables.timeutil import NS_PER_MS, SESSION_OPEN_MINUTE, ist_wall_ns, minute_of_day_ist

U = "NSE:NIFTY 50"
EXPIRY = "2025-11-25"
STEP = 50.0
ATM = 20000.0
P0 = 20000.0
R = 0.001
MIN = 60_000


def ms(hh: int, mm: int, day: int = 18) -> int:
    """Epoch ms of an IST wall time on 2025-11-``day`` (a Tuesday for 18)."""
    return ist_wall_ns(2025, 11, day, hh, mm) // NS_PER_MS


def make_snapshot(start_ms: int, price: float, *, ce: float = 80.0, pe: float = 80.0,
                  iv: float = 0.15, theta: float = -2.0, oi: dict[float, int] | None = None,
                  atm_volume: int = 1000, atm: float = ATM) -> ChainSnapshot:
    """A snapshot of the minute starting at ``start_ms`` (chain time 30 s into it)."""
    rows = []
    for i in range(-4, 5):
        k = atm + i * STEP
        for kind, prem in (("CE", ce if i == 0 else max(ce - 20 * i, 1.0)),
                           ("PE", pe if i == 0 else max(pe + 20 * i, 1.0))):
            rows.append(OptionRow(
                symbol=f"NFO:NIFTY25N25{int(k)}{kind}", token=int(k) * 10 + (kind == "PE"),
                type=kind, strike=k, expiry=EXPIRY, price=prem,
                oi=(oi or {}).get(k, 100), volume=atm_volume // 2 if i == 0 else 10,
                event_ns=start_ms * NS_PER_MS, iv=iv, delta=0.5, gamma=0.001, theta=theta,
                vega=10.0, rho=1.0))
    vol = {str(int(k)): sum(o.volume for o in rows if o.strike == k)
           for k in sorted({o.strike for o in rows})}
    return ChainSnapshot(
        underlying=U, clock_ns=(start_ms + 30_000) * NS_PER_MS, final=False, spot=price,
        options_seen=len(rows), pcr_oi=1.0, expiry=EXPIRY, atm_strike=atm,
        atm_straddle_premium=ce + pe, straddle_volume=vol, atm_iv=iv, skew=0.0,
        options=tuple(rows), underlying_source="spot", underlying_symbol=U,
        underlying_price=price)


def quiet_history(end_ms: int, n: int, *, iv: float = 0.15, premium: float = 160.0,
                  level: float = P0, atm_volume: int = 1000) -> list[ChainRow]:
    """``n`` rows one minute apart ending the minute before ``end_ms``, alternating price."""
    return [ChainRow(end_ms - (n - i) * MIN, level * (math.exp(R) if i % 2 else 1.0), ATM,
                     iv, premium, atm_volume) for i in range(n)]


def context(snap: ChainSnapshot, history: list[ChainRow], vwap: float | None = None,
            source: str = "spot", vwap_price: float | None = None) -> ChainContext:
    """The context of a snapshot after ``history``."""
    start = snap.clock_ns // (MIN * NS_PER_MS) * MIN
    return ChainContext(snapshot=snap, start_ms=start,
                        minute=int(minute_of_day_ist(snap.clock_ns)) - SESSION_OPEN_MINUTE,
                        history=tuple(history), vwap=vwap,
                        vwap_source=source if vwap is not None else "none",
                        vwap_price=vwap_price if vwap_price is not None else
                        (snap.underlying_price if vwap is not None else None))


def registry_blocks(enabled: set[str] | None = None) -> dict[str, Any]:
    """``config/patterns.yaml``'s blocks, with only ``enabled`` (names) switched on."""
    blocks = {k: dict(v) for k, v in load_patterns().items()}
    if enabled is not None:
        for name, block in blocks.items():
            block["enabled"] = name in enabled
    return blocks
