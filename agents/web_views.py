"""The worker's web views, next to Faust's own (``/aion/stats/``, ``/aion/instrument/``).

Every view checks its input and answers 400 (malformed) or 404 (not here), never 500.
"""

from __future__ import annotations

from typing import Any

from aion.agents.stats import EngineStats
from aion.agents.table_store import TableStore, token_key
from aion.streams.bundle import partition_for_token
from aion.tables.instrument_state import InstrumentState, open_bar, session_fields

TOKEN_MAX = 0xFFFFFFFF
"""Kite instrument tokens are u32 (the packet header field)."""


class BadTokenError(ValueError):
    """A path segment that is not an instrument token."""


def parse_token(text: str) -> int:
    """An instrument token from a URL path segment.

    ``str.isdigit`` is not enough: it accepts ``²`` and other Unicode digits that
    ``int`` refuses, and 5,000 digits that no token has.

    Args:
        text: The segment as routed (already percent-decoded).

    Returns:
        The token, 0 to 2**32 - 1.

    Raises:
        BadTokenError: For anything else (signs, spaces, non-ASCII digits, table-internal
            keys such as ``p:0``, values beyond u32).
    """
    if not (0 < len(text) <= len(str(TOKEN_MAX)) and text.isascii() and text.isdigit()):
        raise BadTokenError(f"not an instrument token: {text[:32]!r}")
    token = int(text)
    if token > TOKEN_MAX:
        raise BadTokenError(f"instrument token out of range (0..{TOKEN_MAX}): {text}")
    return token


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
        try:
            number = parse_token(token)
        except BadTokenError as exc:
            return web.json({"error": str(exc)}, status=400)
        # The canonical key ("007" -> "7"): zero-padded spellings find the same state.
        data = store.table.get(token_key(number))
        if data is None:
            return web.json({"error": f"token {number} not held by this worker",
                             "partition": partition_for_token(number, store.partitions)},
                            status=404)
        st = InstrumentState.from_bytes(data, store.config)
        bar = open_bar(st)
        return web.json({"token": st.token, "session": session_fields(st),
                         "open_bar": bar.to_dict() if bar else None,
                         "ticks_applied": st.ticks_applied, "rejects": st.rejects})

    app.page("/aion/instrument/{token}/")(instrument_view)
