"""The ``patterns`` state component: an instrument's bar features, detector states, cooldowns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from aion.tables.patterns.features import BarFeatures

if TYPE_CHECKING:
    from aion.tables.analytics import AnalyticsConfig


@dataclass(slots=True)
class PatternState:
    """Pattern-detection state of one instrument (state component ``patterns``, v1).

    Attributes:
        features: Bar features (:mod:`.features`).
        detectors: Each detector's own JSON-able state, by pattern name.
        last_alert_ms: Event time of each pattern's last alert (cooldowns).
        alerts: Alerts emitted (lifetime).
        suppressed: Hits dropped by a cooldown or the market-hours guard (lifetime).
    """

    features: BarFeatures = field(default_factory=BarFeatures)
    detectors: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_alert_ms: dict[str, int] = field(default_factory=dict)
    alerts: int = 0
    suppressed: int = 0

    NAME: ClassVar[str] = "patterns"
    VERSION: ClassVar[int] = 1

    def encode(self) -> dict[str, Any]:
        """The component payload (JSON-able)."""
        return {"features": self.features.encode(), "detectors": self.detectors,
                "last_alert_ms": self.last_alert_ms, "alerts": self.alerts,
                "suppressed": self.suppressed}

    @classmethod
    def decode(cls, payload: Any, version: int,
               config: AnalyticsConfig | None = None) -> PatternState:
        """Inverse of :meth:`encode`.

        Args:
            payload: An :meth:`encode` payload.
            version: Its version (1).
            config: Unused.

        Returns:
            The state.
        """
        return cls(BarFeatures.decode(payload["features"]),
                   {k: dict(v) for k, v in payload["detectors"].items()},
                   {k: int(v) for k, v in payload["last_alert_ms"].items()},
                   int(payload["alerts"]), int(payload["suppressed"]))
