"""The pattern registry: every detector class, and the configured set a worker runs.

Adding a pattern is its class (in its family's module) plus one entry in
:data:`DETECTORS` and one block in ``config/patterns.yaml``. :meth:`PatternSet.from_mapping`
refuses a configured name without a class, a class without configuration, unknown
parameters and unknown instrument classes, so the file and the code cannot drift apart.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aion.tables.patterns.base import InstrumentKind, PatternDetector
from aion.tables.patterns.chain_base import ChainDetector
from aion.tables.patterns.core import (
    Breakout,
    DownsideMomentum,
    HiddenAccumulation,
    Reversal,
    UpsideMomentum,
    VolumeBreakout,
    VolumePriceDivergence,
    VolumeSpike,
)
from aion.tables.patterns.ict import (
    IctFairValueGap,
    IctKillzone,
    IctLiquidityGrab,
    IctMomentum,
    IctOptimalTradeEntry,
    IctPremiumDiscount,
)
from aion.tables.patterns.kow import KowSignalStraddle
from aion.tables.patterns.straddle import (
    IvCrush,
    MarketMakerTrap,
    PremiumCollection,
    RangeBoundStrangle,
)
from aion.tables.patterns.volume_profile import VpBreakout, VpNodeTest, VpPocRejection

DETECTORS: tuple[type[PatternDetector], ...] = (
    VolumeSpike,
    VolumeBreakout,
    VolumePriceDivergence,
    UpsideMomentum,
    DownsideMomentum,
    Breakout,
    Reversal,
    HiddenAccumulation,
    IctMomentum,
    IctLiquidityGrab,
    IctFairValueGap,
    IctOptimalTradeEntry,
    IctPremiumDiscount,
    IctKillzone,
    IvCrush,
    RangeBoundStrangle,
    MarketMakerTrap,
    PremiumCollection,
    KowSignalStraddle,
    VpBreakout,
    VpPocRejection,
    VpNodeTest,
)
"""Every detector class (names unique): bar detectors and chain detectors."""

_BY_NAME = {d.NAME: d for d in DETECTORS}


@dataclass(frozen=True)
class PatternSpec:
    """One configured pattern.

    Attributes:
        detector: The detector, built with its parameters.
        enabled: Whether it runs.
        cooldown_ms: Minimum event time between two alerts of it on one instrument.
        applies_to: Instrument classes it runs on.
        summary: One-line definition.
    """

    detector: PatternDetector
    enabled: bool
    cooldown_ms: int
    applies_to: frozenset[InstrumentKind]
    summary: str

    @property
    def name(self) -> str:
        """The pattern's name."""
        return self.detector.NAME

    @property
    def category(self) -> str:
        """The pattern's category."""
        return self.detector.CATEGORY


@dataclass(frozen=True)
class PatternSet:
    """The configured patterns, in registry order.

    Attributes:
        specs: Every configured pattern (enabled or not).
    """

    specs: tuple[PatternSpec, ...] = ()
    _by_kind: dict[InstrumentKind, tuple[PatternSpec, ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict)
    _profile_kinds: set[InstrumentKind] = field(
        init=False, repr=False, compare=False, default_factory=set)

    def __post_init__(self) -> None:
        # Asked once per closed bar: answered from a table built once.
        for kind in InstrumentKind:
            self._by_kind[kind] = tuple(s for s in self.specs
                                        if s.enabled and kind in s.applies_to)
            # Chain detectors read snapshots, never a bar profile.
            if any(getattr(s.detector, "NEEDS_PROFILE", False) for s in self._by_kind[kind]):
                self._profile_kinds.add(kind)

    @property
    def any_enabled(self) -> bool:
        """Whether any pattern is enabled."""
        return any(self._by_kind.values())

    def enabled_for(self, kind: InstrumentKind) -> tuple[PatternSpec, ...]:
        """Enabled patterns that apply to an instrument class."""
        return self._by_kind[kind]

    def needs_profile(self, kind: InstrumentKind) -> bool:
        """Whether an enabled pattern of an instrument class reads the volume profile."""
        return kind in self._profile_kinds

    @classmethod
    def from_mapping(cls, blocks: Mapping[str, Any]) -> PatternSet:
        """Build from ``config/patterns.yaml``'s ``patterns`` mapping.

        Args:
            blocks: Pattern name to ``{category, enabled, cooldown_s, applies_to,
                summary, params}``.

        Returns:
            The set.

        Raises:
            ValueError: On a name without a class, a class without a block, a category
                that is not the class's, an unknown instrument class or parameter, or a
                field or parameter of the wrong kind or out of range.
        """
        unknown = sorted(set(blocks) - set(_BY_NAME))
        if unknown:
            raise ValueError(f"patterns without a detector class: {', '.join(unknown)}")
        missing = [d.NAME for d in DETECTORS if d.NAME not in blocks]
        if missing:
            raise ValueError(f"detectors missing from the pattern registry: {', '.join(missing)}")
        specs = []
        for kind in DETECTORS:
            block = dict(blocks[kind.NAME] or {})
            where = f"pattern {kind.NAME}"
            if block.get("category", kind.CATEGORY) != kind.CATEGORY:
                raise ValueError(f"{where}: category {block['category']!r} is not "
                                 f"{kind.CATEGORY!r}")
            listed = block.get("applies_to", [k.value for k in kind.APPLIES_TO])
            if not isinstance(listed, list | tuple):
                raise ValueError(f"{where}: applies_to must be a list, got {listed!r}")
            try:
                applies = frozenset(InstrumentKind(a) for a in listed)
            except ValueError as exc:
                raise ValueError(f"{where}: applies_to: {exc}") from None
            # A chain detector reads chain snapshots, a bar detector bars: never mixed.
            if issubclass(kind, ChainDetector) != (applies == {InstrumentKind.CHAIN}) \
                    and applies:
                raise ValueError(f"{where}: applies_to {sorted(applies)} does not fit a "
                                 f"{'chain' if issubclass(kind, ChainDetector) else 'bar'} "
                                 f"detector")
            enabled = block.get("enabled", True)
            if not isinstance(enabled, bool):
                raise ValueError(f"{where}: enabled must be true or false, got {enabled!r}")
            cooldown = block.get("cooldown_s", 900)
            if isinstance(cooldown, bool) or not isinstance(cooldown, int | float) \
                    or not math.isfinite(cooldown):
                raise ValueError(f"{where}: cooldown_s must be a number, got {cooldown!r}")
            if cooldown < 0:
                raise ValueError(f"{where}: cooldown_s must be >= 0")
            try:
                params = kind.Params.from_mapping(block.get("params"))
            except ValueError as exc:
                raise ValueError(f"{where}: {exc}") from None
            specs.append(PatternSpec(kind(params), enabled, int(cooldown * 1000), applies,
                                     str(block.get("summary", ""))))
        return cls(tuple(specs))
