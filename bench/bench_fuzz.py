"""Benchmark: 1M mutated packets through the bundle processor, with exact accounting.

The 1M-packet version of ``tests/agents/test_fuzz.py``: the bundled sample session
(cycled a week later per pass when shorter), 30% of packets mutated by every mutation
class of the issue-11 probe (``streams/mutate.py``), bundles of 200 over 4 partitions,
some bundles corrupt or redelivered. Figures: packets/s (generation included), dead
letters by reason, and the accounting check (``agents/fuzz.py``).

Prints figures only. Run: ``python bench/bench_fuzz.py [--packets 1000000] [--seed 11]``.
"""

from __future__ import annotations

import argparse
import logging


def main() -> None:
    """Run the fuzz and print its figures."""
    from aion.agents.fuzz import run_fuzz
    from aion.streams.sample import sample_session_path

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=1_000_000, help="clean packets")
    parser.add_argument("--seed", type=int, default=11, help="mutation seed")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rep = run_fuzz(sample_session_path(), args.packets, seed=args.seed)
    gen = rep.generated
    mutated = sum(n for label, n in gen.by_mutation.items() if label)
    print(f"packets sent      {rep.sent:>12,}  ({mutated:,} mutated, "
          f"{gen.corrupt_bundles} corrupt bundles, {gen.redeliveries} redelivered)")
    print(f"wall time         {rep.seconds:>12.1f} s  ({rep.sent / rep.seconds:,.0f} packets/s)")
    print(f"applied           {rep.applied:>12,}")
    print(f"duplicates        {rep.duplicates:>12,}")
    print(f"dead-lettered     {rep.dead_lettered:>12,}")
    print(f"in bad bundles    {rep.in_bad_bundles:>12,}")
    for reason, n in sorted(rep.reasons.items(), key=lambda kv: -kv[1]):
        print(f"  {reason:<28} {n:>10,}")
    print(f"certain outcomes checked {rep.checked:,}, mismatches {len(rep.mismatches)}")
    print(f"accounting: {'exact' if rep.balanced else 'BROKEN'} "
          f"(sent = applied + duplicates + dead-lettered + in bad bundles)")
    print(f"engine errors (exceptions caught): {rep.reasons.get('engine_error', 0)}")


if __name__ == "__main__":
    main()
