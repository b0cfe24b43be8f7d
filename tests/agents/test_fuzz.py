"""Fuzz: 100k mutated packets (every mutation class of the issue-11 probe) through the
bundle processor; no exception, and every packet accounted for exactly.

Accounting, per bundle: a corrupt bundle is one ``bad_bundle`` dead letter for all its
packets; otherwise ``applied + duplicates + dead letters == packets``. Over the run the
totals add up to the packets sent (redeliveries included). Each mutation whose outcome is
certain (``streams.mutate.EXPECTED_REASONS``) is dead-lettered with that reason, and no
bundle fails with an ``engine_error`` (which would be an exception caught by the
processor). ``bench/bench_fuzz.py`` runs the same with 1M packets.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from aion.agents.context import build_context
from aion.agents.processor import BundleProcessor, DictStore
from aion.streams.instruments import InstrumentMaster
from aion.streams.mutate import (
    EXPECTED_REASONS,
    MUTATIONS,
    STREAM_MUTATIONS,
    FuzzCounts,
    fuzz_bundles,
)
from aion.streams.replay import END_MARKER
from aion.streams.sample import sample_session_path
from aion.tables.analytics import AnalyticsConfig
from aion.tables.records import DeadLetter

PARTITIONS = 4
PACKETS = 100_000


def fuzz(path: Path, n: int, seed: int) -> tuple[Counter[str], dict[str, int], FuzzCounts]:
    """Run ``n`` fuzzed packets through a processor and check every bundle's accounting.

    Returns:
        Dead letters by reason group, totals, and what the generator produced.
    """
    master = InstrumentMaster.from_csv(path.with_suffix(".instruments.csv"))
    ctx = build_context(master, {}, PARTITIONS, AnalyticsConfig())
    known = {i.instrument_token for i in master}
    store = DictStore({}, PARTITIONS, ctx.config)
    proc = BundleProcessor(store, lambda: ctx, known.__contains__, PARTITIONS)
    reasons: Counter[str] = Counter()
    totals = dict.fromkeys(("sent", "applied", "duplicates", "dead_lettered",
                            "in_bad_bundles", "checked"), 0)
    counts = FuzzCounts()
    last = dict.fromkeys(range(PARTITIONS), -1)
    for b in fuzz_bundles(path, n, seed=seed, partitions=PARTITIONS, bundle_packets=200,
                          counts=counts):
        result = proc.process(b.partition, b.offset, b.data)
        store.put(result.touched)
        last[b.partition] = max(last[b.partition], b.offset)
        letters = [r for r in result.records if isinstance(r, DeadLetter)]
        reasons.update(d.reason_group for d in letters)
        totals["sent"] += len(b.labels)
        if b.corrupt:
            assert result.outcome is None and len(letters) == 1
            assert letters[0].reason.startswith("bad_bundle:")
            totals["in_bad_bundles"] += len(b.labels)
            continue
        out = result.outcome
        assert out is not None, result.error
        assert out.applied + out.duplicates + len(letters) == len(b.labels) == result.packets
        totals["applied"] += out.applied
        totals["duplicates"] += out.duplicates
        totals["dead_lettered"] += len(letters)
        if b.redelivery:
            continue
        by_index = {d.index: d.reason_group for d in letters}
        for i, label in enumerate(b.labels):
            if label in EXPECTED_REASONS:
                assert by_index.get(i) == EXPECTED_REASONS[label], (label, b.partition,
                                                                    b.offset, i)
                totals["checked"] += 1
    for p in range(PARTITIONS):  # end of stream: close every bar
        store.put(proc.process(p, last[p] + 1, END_MARKER).touched)
    return reasons, totals, counts


@pytest.mark.timeout(120)
def test_100k_mutated_packets_no_exception_exact_accounting() -> None:
    reasons, totals, counts = fuzz(sample_session_path(), PACKETS, seed=11)
    assert "engine_error" not in reasons
    # Every packet sent is applied, a duplicate, or dead-lettered (alone or in its bundle).
    assert totals["sent"] == (totals["applied"] + totals["duplicates"]
                              + totals["dead_lettered"] + totals["in_bad_bundles"])
    assert totals["sent"] >= PACKETS
    # Every mutation class was exercised, and the certain ones were all checked.
    assert set(counts.by_mutation) >= {*MUTATIONS, "reorder", ""}
    assert "duplicate" in STREAM_MUTATIONS and counts.packets > PACKETS  # duplicates added
    assert counts.corrupt_bundles > 0 and counts.redeliveries > 0
    assert totals["checked"] > 0.9 * sum(counts.by_mutation[m] for m in EXPECTED_REASONS)
    for reason in ("receive_time_out_of_range", "exchange_time_skew", "bad_price",
                   "unknown_token", "decode_error", "bad_bundle", "price_out_of_band"):
        assert reasons[reason] > 0, reason
