"""A rejected packet or bundle (``aion.deadletter``)."""

from __future__ import annotations

from aion.tables.records.base import Record


class DeadLetter(Record, frozen=True, tag="deadletter/1"):
    """Input the engine refused, with why and where it came from.

    Attributes:
        reason: ``reason`` or ``reason:detail`` (the counters group by the part before
            the colon).
        token: Instrument token (None for a whole bad bundle or chain input).
        partition: Source partition.
        offset: Source offset.
        index: Index of the packet in its bundle (None for a whole bundle).
        recv_ns: Receive time of the packet (None when unknown).
        packet_b64: The refused bytes, base64 (None when not kept).
    """

    keyed_by = "token"

    reason: str
    token: int | None = None
    partition: int | None = None
    offset: int | None = None
    index: int | None = None
    recv_ns: int | None = None
    packet_b64: str | None = None

    def key(self) -> bytes:
        """The token as text, or ``bundle`` for a whole bad bundle or chain input."""
        return b"bundle" if self.token is None else str(self.token).encode()

    @property
    def reason_group(self) -> str:
        """The reason without its detail (what the counters count)."""
        return self.reason.split(":")[0]
