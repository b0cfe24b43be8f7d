"""Benchmark: our Kite codec vs kiteconnect's parser, µs per packet.

For each packet kind and for a realistic mix, prints:

* single: one packet per call (kiteconnect ``_parse_binary`` on a one-packet message vs
  our ``decode_frame`` on the same message, and our bare ``decode_packet``);
* batch: one call per message of N packets (kiteconnect ``_parse_binary`` vs our
  ``decode_frame`` (objects), ``decode_frame_batch`` (numpy rows) and
  ``decode_bundle_batch`` (the agents' hot path));

and the speed-up ratio kiteconnect / ours. Run: ``python bench/bench_codec.py``.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable

from kiteconnect import KiteTicker

from aion.streams.batch import decode_frame_batch, decode_packets
from aion.streams.bundle import decode_bundle_batch, encode_bundle
from aion.streams.codec import PacketKind, decode_frame, decode_packet, join_frame

KITE = KiteTicker("k", "t")
RNG = random.Random(42)
N_BATCH = 1000
N_SMALL = 16
SEGMENTS = [1, 1, 1, 2, 2, 2, 3, 9]
# A live NSE/NFO session: mostly full-mode watchlist, some quote/LTP, a few indices.
MIX = {PacketKind.FULL: 0.5, PacketKind.QUOTE: 0.25, PacketKind.LTP: 0.15,
       PacketKind.INDEX_QUOTE: 0.05, PacketKind.INDEX_FULL: 0.05}
BUDGET_S = 0.25  # time per measurement


def make_packet(kind: PacketKind) -> bytes:
    """A plausible packet: random fields, sane timestamps, zero depth padding."""
    b = bytearray(RNG.randbytes(kind.value))
    seg = 9 if kind in (PacketKind.INDEX_QUOTE, PacketKind.INDEX_FULL) else RNG.choice(
        SEGMENTS[:-1])
    b[0:4] = ((RNG.randrange(1, 1 << 20) << 8) | seg).to_bytes(4, "big")
    ts = 1_700_000_000 + RNG.randrange(10**7)
    if kind is PacketKind.INDEX_FULL:
        b[28:32] = ts.to_bytes(4, "big")
    if kind is PacketKind.FULL:
        b[44:48] = ts.to_bytes(4, "big")
        b[60:64] = ts.to_bytes(4, "big")
        for level in range(10):
            b[64 + level * 12 + 10 : 64 + level * 12 + 12] = b"\x00\x00"
    return bytes(b)


def per_call_us(fn: Callable[[], object]) -> float:
    """Best-of-repeats wall time of one call, in µs."""
    fn()
    loops = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(loops):
            fn()
        dt = time.perf_counter() - t0
        if dt > BUDGET_S / 5:
            break
        loops *= 2
    best = dt / loops
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(loops):
            fn()
        best = min(best, (time.perf_counter() - t0) / loops)
    return best * 1e6


def bench(name: str, packets: list[bytes]) -> None:
    singles = [join_frame([p]) for p in packets[:200]]
    ns = len(singles)

    def kite_single() -> None:
        for m in singles:
            KITE._parse_binary(m)

    def ours_single_frame() -> None:
        for m in singles:
            decode_frame(m)

    def ours_single_packet() -> None:
        for p in packets[:ns]:
            decode_packet(p)

    k1 = per_call_us(kite_single) / ns
    o1 = per_call_us(ours_single_frame) / ns
    o1p = per_call_us(ours_single_packet) / ns
    print(f"{name:<12} single  kite {k1:7.2f}  ours decode_frame {o1:6.2f} (x{k1 / o1:5.1f})"
          f"  decode_packet {o1p:6.2f} (x{k1 / o1p:5.1f})")

    for n in (N_SMALL, N_BATCH):
        chunk = packets[:n]
        message = join_frame(chunk)
        bundle = encode_bundle(chunk, list(range(n)))
        kb = per_call_us(lambda m=message: KITE._parse_binary(m)) / n
        of = per_call_us(lambda m=message: decode_frame(m)) / n
        ob = per_call_us(lambda m=message: decode_frame_batch(m)) / n
        op = per_call_us(lambda c=chunk: decode_packets(c)) / n
        obu = per_call_us(lambda b=bundle: decode_bundle_batch(b)) / n
        print(f"{'':<12} batch{n:>5}  kite {kb:6.2f}  decode_frame {of:6.2f} (x{kb / of:4.1f})"
              f"  frame_batch {ob:6.3f} (x{kb / ob:5.1f})  decode_packets {op:6.3f}"
              f" (x{kb / op:5.1f})  bundle_batch {obu:6.3f} (x{kb / obu:5.1f})")


def main() -> None:
    t0 = time.perf_counter()
    print(f"µs per packet (best of 4); python {sys.version.split()[0]}; "
          f"ratio = kiteconnect / ours")
    for kind in PacketKind:
        bench(kind.name, [make_packet(kind) for _ in range(N_BATCH)])
    kinds = RNG.choices(list(MIX), weights=list(MIX.values()), k=N_BATCH)
    bench("MIX", [make_packet(k) for k in kinds])
    print(f"total {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
