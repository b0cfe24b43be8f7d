"""Fuzzed packets through the bundle processor, with exact accounting.

Drives ``streams.mutate.fuzz_bundles`` through a :class:`~aion.agents.processor.BundleProcessor`
over a :class:`~aion.agents.processor.DictStore` (the direct driver's setup) and accounts
for every packet: a corrupt bundle is one ``bad_bundle`` dead letter for all its packets;
otherwise ``applied + duplicates + dead letters == packets`` must hold per bundle. Each
mutation whose outcome is certain (``streams.mutate.EXPECTED_REASONS``) must be
dead-lettered with that reason. Used by ``tests/agents/test_fuzz.py`` (100k packets) and
``bench/bench_fuzz.py`` (1M).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from aion.agents.context import build_context
from aion.agents.processor import BundleProcessor, DictStore
from aion.streams.instruments import InstrumentMaster
from aion.streams.mutate import EXPECTED_REASONS, FuzzCounts, fuzz_bundles
from aion.streams.replay import END_MARKER
from aion.tables.analytics import AnalyticsConfig
from aion.tables.records import DeadLetter


@dataclass
class FuzzReport:
    """What a fuzz run did.

    Attributes:
        generated: What the generator produced (packets by mutation, bundle faults).
        sent: Packets delivered (redeliveries included).
        applied: Packets applied.
        duplicates: Packets skipped as already applied (redeliveries).
        dead_lettered: Packets dead-lettered one by one.
        in_bad_bundles: Packets inside corrupt bundles (one dead letter each bundle).
        reasons: Dead letters by reason group.
        checked: Packets whose certain reason was checked.
        mismatches: ``(mutation, partition, offset, index, reason or None)`` of packets
            whose reason was not the certain one, or whose bundle broke the accounting.
        seconds: Wall time of the processing (generation included).
    """

    generated: FuzzCounts = field(default_factory=FuzzCounts)
    sent: int = 0
    applied: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    in_bad_bundles: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    checked: int = 0
    mismatches: list[tuple[str, int, int, int, str | None]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def balanced(self) -> bool:
        """Whether every packet sent is applied, a duplicate, or dead-lettered."""
        return self.sent == (self.applied + self.duplicates + self.dead_lettered
                             + self.in_bad_bundles) and not self.mismatches


def run_fuzz(session: Path, packets: int, *, seed: int, partitions: int = 4,
             bundle_packets: int = 200) -> FuzzReport:
    """Fuzz ``packets`` packets of a session through a processor (see the module docstring).

    Args:
        session: Session file with its ``.instruments.csv``.
        packets: Clean packets to mutate (duplication adds some).
        seed: Random seed of the mutations.
        partitions: Partition count.
        bundle_packets: Packets per bundle.

    Returns:
        The report. Exceptions are not caught here: the processor catches engine
        faults itself (as ``engine_error`` dead letters, in ``reasons``).
    """
    master = InstrumentMaster.from_csv(session.with_suffix(".instruments.csv"))
    ctx = build_context(master, {}, partitions, AnalyticsConfig())
    known = {i.instrument_token for i in master}
    store = DictStore({}, partitions, ctx.config)
    proc = BundleProcessor(store, lambda: ctx, known.__contains__, partitions)
    rep = FuzzReport()
    last = dict.fromkeys(range(partitions), -1)
    start = time.perf_counter()
    for b in fuzz_bundles(session, packets, seed=seed, partitions=partitions,
                          bundle_packets=bundle_packets, counts=rep.generated):
        result = proc.process(b.partition, b.offset, b.data)
        store.put(result.touched)
        last[b.partition] = max(last[b.partition], b.offset)
        letters = [r for r in result.records if isinstance(r, DeadLetter)]
        rep.reasons.update(d.reason_group for d in letters)
        rep.sent += len(b.labels)
        out = result.outcome
        if b.corrupt and out is None and len(letters) == 1:
            rep.in_bad_bundles += len(b.labels)
            continue
        if out is None or out.applied + out.duplicates + len(letters) != len(b.labels):
            rep.mismatches.append(("bundle", b.partition, b.offset, -1, result.error))
            continue
        rep.applied += out.applied
        rep.duplicates += out.duplicates
        rep.dead_lettered += len(letters)
        if b.redelivery:
            continue
        by_index = {d.index: d.reason_group for d in letters}
        for i, label in enumerate(b.labels):
            want = EXPECTED_REASONS.get(label)
            if want is not None:
                rep.checked += 1
                if by_index.get(i) != want:
                    rep.mismatches.append((label, b.partition, b.offset, i, by_index.get(i)))
    for p in range(partitions):  # end of stream: close every bar
        store.put(proc.process(p, last[p] + 1, END_MARKER).touched)
    rep.seconds = time.perf_counter() - start
    return rep
