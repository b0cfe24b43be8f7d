"""The worker's web views, next to Faust's own (``/aion/stats/``, ``/aion/instrument/``)."""

from __future__ import annotations

from typing import Any

from aion.agents.stats import EngineStats
from aion.agents.table_store import TableStore
from aion.streams.bundle import partition_for_token
from aion.tables.instrument_state import InstrumentState, open_bar, session_fields


def register_stats_view(app: Any, stats: EngineStats) -> None:
    """``/aion/stats/``: this worker's counters."""

    async def stats_view(web: Any, request: Any) -> Any:
        """Counters of this worker: bundles, ticks, duplicates, dead letters, mirror."""
        return web.json(stats.as_dict())

    app.page("/aion/stats/")(stats_view)


def register_instrument_view(app: Any, store: TableStore) -> None:
    """``/aion/instrument/{token}/``: one instrument's state held by this worker."""

    async def instrument_view(web: Any, request: Any, token: str) -> Any:
        """The state of one instrument held by this worker (its partition's owner)."""
        data = store.table.get(token.encode()) if token.isdigit() else None
        if data is None:
            return web.json({"error": f"token {token} not held by this worker",
                             "partition": partition_for_token(int(token), store.partitions)
                             if token.isdigit() else None}, status=404)
        st = InstrumentState.from_bytes(data, store.config)
        bar = open_bar(st)
        return web.json({"token": st.token, "session": session_fields(st),
                         "open_bar": bar.to_dict() if bar else None,
                         "ticks_applied": st.ticks_applied, "rejects": st.rejects})

    app.page("/aion/instrument/{token}/")(instrument_view)
