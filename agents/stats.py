"""Per-worker counters (the ``/aion/stats/`` web view)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class EngineStats:
    """Per-worker counters, shown by the ``/aion/stats/`` web view."""

    bundles: int = 0
    skipped_bundles: int = 0
    failed_bundles: int = 0
    """Bundles whose application raised: rolled back and dead-lettered whole."""
    backfilled_bundles: int = 0
    packets: int = 0
    applied: int = 0
    duplicates: int = 0
    bars: int = 0
    buckets: int = 0
    deadletters: Counter[str] = field(default_factory=Counter)
    mirrored: int = 0
    mirror_backfilled: int = 0
    redis_retries: int = 0
    chain_inputs: int = 0
    chain_snapshots: int = 0
    emitted: Counter[str] = field(default_factory=Counter)
    """Records sent, by output name (the registry's names)."""

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe view."""
        return {
            "bundles": self.bundles, "skipped_bundles": self.skipped_bundles,
            "failed_bundles": self.failed_bundles,
            "backfilled_bundles": self.backfilled_bundles,
            "packets": self.packets, "applied": self.applied,
            "duplicates": self.duplicates, "bars": self.bars, "buckets": self.buckets,
            "deadletters": dict(self.deadletters),
            "deadletters_total": sum(self.deadletters.values()),
            "mirrored": self.mirrored, "mirror_backfilled": self.mirror_backfilled,
            "redis_retries": self.redis_retries,
            "chain_inputs": self.chain_inputs, "chain_snapshots": self.chain_snapshots,
            "emitted": dict(self.emitted),
        }
