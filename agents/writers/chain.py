"""The option chain summary and every option's IV and Greeks (DB 5 indicator keys)."""

from __future__ import annotations

import msgspec

from aion.agents.writers.base import RedisBatch, RedisWriter
from aion.agents.writers.indicator_keys import put_indicator
from aion.tables.records import ChainSnapshot

GREEKS = ("iv", "delta", "gamma", "theta", "vega", "rho")


class ChainWriter(RedisWriter):
    """``option_chain`` of the underlying; per option ``greeks`` and one key per number.

    ``greeks`` always carries iv, the five Greeks and ``reason`` ("" when they are
    numbers; e.g. "no_time_value" when they are null). A number's own key exists only
    while it is a number: a null deletes it, so no stale value outlives the reason.
    Options not computed yet (no spot seen: no numbers, no reason) are skipped.
    """

    record = ChainSnapshot

    def write(self, record: ChainSnapshot, batch: RedisBatch) -> None:
        """Add the chain's keys."""
        ts_ms = record.clock_ns // 1_000_000
        summary = msgspec.structs.asdict(record)
        del summary["options"]
        put_indicator(self.layout, batch, record.underlying, "option_chain", summary, ts_ms)
        for opt in record.options:
            values = {g: getattr(opt, g) for g in GREEKS}
            if not opt.reason and all(v is None for v in values.values()):
                continue
            put_indicator(self.layout, batch, opt.symbol, "greeks",
                          values | {"reason": opt.reason}, ts_ms)
            nulls = [self.layout.key("indicator", symbol=opt.symbol, name=g)
                     for g, v in values.items() if v is None]
            batch.delete(*nulls)
            for g, v in values.items():
                if v is not None:
                    put_indicator(self.layout, batch, opt.symbol, g, v, ts_ms)
