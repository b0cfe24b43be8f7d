"""INDIA VIX regime after a bundle of the VIX instrument (``aion.vix.regime``)."""

from __future__ import annotations

from aion.tables.records.base import Record


class VixRegimeUpdate(Record, frozen=True, tag="vix_regime/1"):
    """The VIX regime after a bundle, and whether the bundle changed it.

    Consumers scale volume thresholds by ``multiplier`` (``expected x multiplier``):
    joining the regime into other partitions at processing time would make results
    depend on scheduling. The regime changes are the records with ``changed_ns`` set.

    Attributes:
        token: Token of the VIX instrument.
        symbol: ``EXCHANGE:TRADINGSYMBOL`` of the VIX instrument.
        ts_ns: Event time of the bundle's last VIX tick.
        regime: Current regime (``LOW``, ``NORMAL``, ``HIGH``, ``PANIC``).
        vix: Last VIX value.
        multiplier: The regime's volume multiplier.
        previous: The regime before the bundle's last change (None: none before it).
        changed_ns: Event time of the bundle's last regime change (None: unchanged).
    """

    token: int
    symbol: str
    ts_ns: int
    regime: str
    vix: float
    multiplier: float
    previous: str | None = None
    changed_ns: int | None = None
