"""The chain agent: option chains per underlying, in chain time.

``group_by`` repartitions the chain inputs through an internal topic so one worker owns
each underlying and its ``chain-state`` table entry; the chain applies inputs in
chain-time order (``tables.chain``), so its snapshots do not depend on how the source
partitions interleave.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import MutableMapping
from typing import Any

from aion.agents.stats import EngineStats
from aion.tables.chain import ChainInput, ChainParams, ChainState, offer
from aion.tables.expiry import TradingCalendar
from aion.tables.records import ChainSnapshot, DeadLetter, encode

CHAIN_TABLE = "chain-state"


class ChainHandler:
    """Applies chain inputs to the chain table and sends the snapshots.

    Args:
        table: ``underlying -> ChainState bytes`` (changelog-backed).
        chain_topic: Where snapshots go (keyed by underlying).
        dead_topic: Where undecodable inputs go.
        params: Chain settings.
        calendar: NSE trading calendar.
        stats: Counters.
        greeks_topic: Where the Greeks of option alerts go (keyed by underlying; None:
            the chain topic).
    """

    def __init__(self, table: MutableMapping[bytes, bytes], chain_topic: Any, dead_topic: Any,
                 params: ChainParams, calendar: TradingCalendar, stats: EngineStats,
                 greeks_topic: Any = None) -> None:
        self.table = table
        self.chain_topic = chain_topic
        self.greeks_topic = chain_topic if greeks_topic is None else greeks_topic
        self.dead_topic = dead_topic
        self.params = params
        self.calendar = calendar
        self.stats = stats
        # Decoded chains this worker last wrote, reused while the table holds those bytes.
        self._decoded: dict[bytes, tuple[bytes, ChainState]] = {}

    def _chain(self, key: bytes, underlying: str) -> ChainState:
        raw = self.table.get(key)
        hit = self._decoded.pop(key, None)
        if raw is None:
            return ChainState(underlying)
        if hit is not None and hit[0] is raw:
            return hit[1]
        return ChainState.from_bytes(raw)

    async def handle(self, value: bytes) -> None:
        """Offer one input to its chain; send the snapshots, then keep the chain."""
        try:
            item = ChainInput.from_json(value)
        except ValueError as exc:
            dead = DeadLetter(reason=f"bad_chain_input:{exc}")
            self.stats.deadletters[dead.reason_group] += 1
            await (await self.dead_topic.send(key=dead.key(), value=encode(dead)))
            return
        key = item.underlying.encode()
        chain = self._chain(key, item.underlying)
        out = offer(chain, item, self.params, self.calendar)
        futs = [await (self.chain_topic if isinstance(r, ChainSnapshot) else self.greeks_topic
                       ).send(key=key, value=encode(r)) for r in out]
        if futs:
            await asyncio.gather(*futs)
        self.stats.chain_snapshots += sum(isinstance(r, ChainSnapshot) for r in out)
        data = chain.to_bytes()
        self.table[key] = data
        self._decoded[key] = (data, chain)


def underlying_key(value: bytes) -> bytes:
    """The group-by key of a chain input: its underlying."""
    return json.loads(value)["underlying"].encode()


def register_chain_agent(app: Any, topic: Any, name: str, handler: ChainHandler) -> None:
    """Declare the chain agent on ``app``.

    Args:
        app: The Faust app.
        topic: The chain-input topic.
        name: Agent name (carries the run prefix: Faust names the group-by topic after it).
        handler: What each input goes through.
    """

    async def chain(stream: Any) -> None:
        """Option chain per underlying: re-key inputs by underlying, apply in chain time."""
        async for value in stream.group_by(underlying_key, name="chain-by-underlying"):
            await handler.handle(value)

    app.agent(topic, name=name)(chain)
