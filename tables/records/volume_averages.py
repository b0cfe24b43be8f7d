"""Daily volume averages of one symbol (compacted ``aion.volume.averages``, by symbol)."""

from __future__ import annotations

from aion.tables.records.base import Record

AverageValue = float | int | bool | str | None


class VolumeAverages(Record, frozen=True, tag="volume_averages/1"):
    """One symbol's entry of ``aion baselines build`` (20/55-day averages, Turtle flags).

    Attributes:
        symbol: ``EXCHANGE:TRADINGSYMBOL``.
        values: The entry's fields (``avg_volume_20d``, ``avg_volume_55d``,
            ``turtle_ready`` ...), as ``agents.daily_history.build_averages`` makes them.
    """

    keyed_by = "symbol"

    symbol: str
    values: dict[str, AverageValue]
