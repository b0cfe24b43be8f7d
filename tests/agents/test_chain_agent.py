"""The chain handler sends what ``offer`` returns to each record's output, in order."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from aion.agents.chain_agent import ChainHandler
from aion.agents.outputs import OUTPUTS
from aion.agents.stats import EngineStats
from aion.tables.chain import ChainState, offer
from aion.tables.records import AlertRecord, ChainSnapshot, ValidationRecord

sys.path.insert(0, str(Path(__file__).parents[1] / "tables" / "patterns"))
from test_chain_alerts import CAL, PARAMS, U, alerting, streams


class FakeTopic:
    """Collects ``(key, value)``; ``send`` returns an awaitable ack, as Faust's does."""

    def __init__(self) -> None:
        self.sent: list[tuple[bytes, bytes]] = []

    async def send(self, *, key: bytes, value: bytes) -> Any:
        self.sent.append((key, value))
        fut = asyncio.get_running_loop().create_future()
        fut.set_result(None)
        return fut


def test_chain_handler_routes_snapshots_alerts_and_validations() -> None:
    p0, p1 = streams()
    config = alerting()
    topics = {name: FakeTopic() for name in ("chain", "deadletter", "alerts", "validations")}
    table: dict[bytes, bytes] = {}
    stats = EngineStats()
    handler = ChainHandler(table, topics["chain"], topics["deadletter"], PARAMS, CAL, stats,
                           config, topics)

    async def go() -> None:
        for item in p0 + p1:
            await handler.handle(item.to_json())

    asyncio.run(go())
    st, want = ChainState(U), []
    for item in p0 + p1:
        want.extend(offer(st, item, PARAMS, CAL, config))

    def got(name: str) -> list[Any]:
        return [r for _, v in topics[name].sent for r in OUTPUTS.codec.decode_many(v)]

    assert got("chain") == [r for r in want if isinstance(r, ChainSnapshot)]
    alerts = [r for r in want if isinstance(r, AlertRecord)]
    assert alerts and got("alerts") == alerts
    assert [k for k, _ in topics["alerts"].sent] == [a.key() for a in alerts]
    vals = [r for r in want if isinstance(r, ValidationRecord)]
    assert vals and got("validations") == vals
    assert stats.emitted["alerts"] == len(alerts) and stats.emitted["validations"] == len(vals)
    assert ChainState.from_bytes(table[U.encode()]).to_bytes() == st.to_bytes()
    assert not topics["deadletter"].sent
