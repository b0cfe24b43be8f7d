"""A session recorded without index ticks: the direct driver prices its chains off futures."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import numpy as np

from aion.agents.direct import run_direct
from aion.streams.instruments import InstrumentMaster
from aion.streams.session_file import SessionWriter, iter_batches, read_meta
from aion.streams.simulator import simulate


def test_session_without_index_ticks_uses_the_nearest_future(tmp_path: Path) -> None:
    full = tmp_path / "full.parquet"
    simulate(date(2025, 11, 18), 5, full, start=time(9, 15), end=time(9, 18))
    master = InstrumentMaster.from_csv(tmp_path / "full.instruments.csv")
    indices = {i.instrument_token for i in master if i.segment == "INDICES"}
    futures = {i.name: i for i in sorted(master, key=lambda i: (i.expiry or date.max))
               if i.instrument_type == "FUT"}
    assert len(indices) == 3 and set(futures) == {"NIFTY", "BANKNIFTY"}
    # The same session with every index packet removed.
    no_index = tmp_path / "no_index.parquet"
    dropped = 0
    with SessionWriter(no_index, read_meta(full)) as writer:
        for recv, tokens, packets in iter_batches(full):
            keep = ~np.isin(tokens, list(indices))
            dropped += int((~keep).sum())
            kept = [p for p, k in zip(packets, keep, strict=True) if k]
            writer.write(recv[keep], tokens[keep], kept)
    assert dropped > 0

    result = run_direct(no_index, master, partitions=2, bundle_packets=500)
    finals = {s.underlying: s for s in result.chain_snapshots if s.final}
    assert set(finals) == {"NSE:NIFTY 50", "NSE:NIFTY BANK"}
    for underlying, name in (("NSE:NIFTY 50", "NIFTY"), ("NSE:NIFTY BANK", "BANKNIFTY")):
        snap, fut = finals[underlying], futures[name]
        assert snap.spot is None
        assert (snap.underlying_source, snap.underlying_symbol) == ("future", fut.symbol)
        # The future's last traded price: the close of its last 1-minute bar.
        price = max((b for b in result.bars if b.token == fut.instrument_token),
                    key=lambda b: b.start_ns).close
        assert snap.underlying_price == price
        strikes = {o.strike for o in snap.options if o.expiry == snap.expiry}
        assert snap.atm_strike == min(strikes, key=lambda k: (abs(k - price), k))
        assert sum(o.delta is not None for o in snap.options) > len(snap.options) // 2

    # With the index ticks the same chains are priced off the spot.
    with_spot = run_direct(full, master, partitions=2, bundle_packets=500)
    assert {s.underlying_source for s in with_spot.chain_snapshots if s.final} == {"spot"}
