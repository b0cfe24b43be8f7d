"""The Faust table as the bundle processor's state store, and the per-partition marks.

Keys of the ``instrument-state`` table: a token as text (its state), or ``p:{N}``: the
"applied up to offset" mark of source partition N, written after the states of every
bundle (docs/architecture.md, "Exactly the events, once").
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping

from aion.streams.bundle import partition_for_token
from aion.tables.analytics import AnalyticsConfig
from aion.tables.instrument_state import InstrumentState

STATE_TABLE = "instrument-state"
MARK_PREFIX = b"p:"


def token_key(token: int) -> bytes:
    """Table/topic key of an instrument token."""
    return str(token).encode()


def mark_key(partition: int) -> bytes:
    """Table key of a source partition's "applied up to offset" mark."""
    return MARK_PREFIX + str(partition).encode()


class TableStore:
    """States in a (changelog-backed) table of ``bytes -> bytes``.

    Decoded states of the keys this worker last wrote are reused while the table still
    holds exactly those bytes (popped on use, so a failed bundle never leaves a
    half-applied object behind; any other value, e.g. after recovery, is decoded).

    Args:
        table: The Faust table (any mutable mapping of bytes).
        partitions: Partition count of the tick topic.
        config: Analytics parameters the states were built with.
    """

    def __init__(self, table: MutableMapping[bytes, bytes], partitions: int,
                 config: AnalyticsConfig) -> None:
        self.table = table
        self.partitions = partitions
        self.config = config
        self._decoded: dict[int, tuple[bytes, InstrumentState]] = {}

    def get(self, token: int) -> InstrumentState | None:
        """The state of ``token`` (None if never seen)."""
        data = self.table.get(token_key(token))
        hit = self._decoded.pop(token, None)
        if data is None:
            return None
        if hit is not None and hit[0] is data:
            return hit[1]
        return InstrumentState.from_bytes(data, self.config)

    def of_partition(self, partition: int) -> dict[int, InstrumentState]:
        """Every state held for ``partition`` (end of stream)."""
        mine = {}
        for key, value in list(self.table.items()):
            if key.startswith(MARK_PREFIX):
                continue
            token = int(key)
            if partition_for_token(token, self.partitions) == partition:
                mine[token] = InstrumentState.from_bytes(value, self.config)
        return mine

    def begin(self) -> None:
        """Nothing to prepare: see :meth:`rollback`."""

    def rollback(self) -> bool:
        """Nothing to undo (a failed bundle's states are never written).

        Its objects were popped by :meth:`get` (or decoded afresh by
        :meth:`of_partition`), so the table still holds every state as it was.

        Returns:
            True.
        """
        return True

    def put(self, touched: Mapping[int, InstrumentState]) -> None:
        """Write each touched state once (inside the event: its changelog partition)."""
        for token, st in touched.items():
            data = st.to_bytes()
            self.table[token_key(token)] = data
            self._decoded[token] = (data, st)

    def applied_up_to(self, partition: int) -> int:
        """The partition's mark: the last offset whose bundle was applied (-1: none)."""
        mark = self.table.get(mark_key(partition))
        return int(mark) if mark is not None else -1

    def mark(self, partition: int, offset: int) -> None:
        """Record that ``partition`` is applied up to ``offset`` (after the states)."""
        self.table[mark_key(partition)] = str(offset).encode()
