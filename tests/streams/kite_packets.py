"""Hypothesis strategies for valid Kite packets, shared by the codec, batch and bundle tests."""

from __future__ import annotations

from hypothesis import strategies as st

from aion.streams.codec import PacketKind

# Every segment kiteconnect knows (0-12) plus unknown ones that must fall back to /100.
SEGMENTS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 77, 200]
KINDS = list(PacketKind)


def make_packet(kind: PacketKind, body: bytes, segment: int) -> bytes:
    """Turn random bytes into a valid packet: set the segment byte, zero depth padding."""
    b = bytearray(body[: kind.value])
    b[3] = segment
    if kind is PacketKind.FULL:
        for level in range(10):
            pad = 64 + level * 12 + 10
            b[pad : pad + 2] = b"\x00\x00"
    return bytes(b)


@st.composite
def packets(draw: st.DrawFn, kind: PacketKind | None = None) -> bytes:
    """A random valid packet of ``kind`` (any kind when None) and any segment."""
    k = kind if kind is not None else draw(st.sampled_from(KINDS))
    body = draw(st.binary(min_size=k.value, max_size=k.value))
    return make_packet(k, body, draw(st.sampled_from(SEGMENTS)))
