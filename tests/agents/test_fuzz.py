"""Fuzz: 100k mutated packets (every mutation class of the issue-11 probe) through the
bundle processor; no exception, and every packet accounted for exactly.

``agents/fuzz.py`` does the accounting (per bundle and in total); this test requires it to
balance, every mutation class and bundle fault to occur, every mutation with a certain
outcome to get its reason, and no ``engine_error`` (an exception the processor caught).
``bench/bench_fuzz.py`` runs the same with 1M packets.
"""

from __future__ import annotations

import pytest

from aion.agents.fuzz import run_fuzz
from aion.streams.mutate import EXPECTED_REASONS, MUTATIONS, STREAM_MUTATIONS
from aion.streams.sample import sample_session_path

PACKETS = 100_000


@pytest.mark.timeout(120)
def test_100k_mutated_packets_no_exception_exact_accounting() -> None:
    rep = run_fuzz(sample_session_path(), PACKETS, seed=11)
    assert rep.mismatches == []
    assert "engine_error" not in rep.reasons
    assert rep.sent == rep.applied + rep.duplicates + rep.dead_lettered + rep.in_bad_bundles
    assert rep.balanced
    gen = rep.generated
    assert rep.sent > gen.packets > PACKETS  # duplicated packets, then redelivered bundles
    assert set(gen.by_mutation) == {*MUTATIONS, *STREAM_MUTATIONS, ""}
    assert gen.corrupt_bundles > 0 and gen.redeliveries > 0
    assert rep.duplicates > 0 and rep.in_bad_bundles > 0
    # Every certain mutation outside a corrupt or redelivered bundle was checked.
    assert rep.checked > 0.9 * sum(gen.by_mutation[m] for m in EXPECTED_REASONS)
    for reason in ("receive_time_out_of_range", "exchange_time_skew", "bad_price",
                   "unknown_token", "decode_error", "bad_bundle", "price_out_of_band"):
        assert rep.reasons[reason] > 0, reason
