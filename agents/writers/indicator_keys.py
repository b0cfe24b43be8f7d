"""``indicators:{symbol}:{name}``: the reference's indicator strings (DB 5)."""

from __future__ import annotations

import json
from typing import Any

from aion.agents.writers.base import RedisBatch
from aion.config import KeyLayout


def put_indicator(layout: KeyLayout, batch: RedisBatch, symbol: str, name: str, value: Any,
                  ts_ms: int) -> None:
    """``indicators:{symbol}:{name}``: a number as text, a mapping as the JSON envelope.

    Args:
        layout: The key layout.
        batch: Where the command goes.
        symbol: ``EXCHANGE:TRADINGSYMBOL``.
        name: Indicator name.
        value: A number, or a mapping written as ``{"value", "timestamp", "symbol"}``.
        ts_ms: The envelope's timestamp (event time, epoch ms).
    """
    key = layout.key("indicator", symbol=symbol, name=name)
    if isinstance(value, dict):
        text = json.dumps({"value": value, "timestamp": ts_ms, "symbol": symbol},
                          sort_keys=True)
    else:
        text = repr(float(value))
    batch.set(key, text)
