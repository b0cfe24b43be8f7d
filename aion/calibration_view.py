"""The calibration report as a rich table (shared by ``aion stats`` and the bench script)."""

from __future__ import annotations

from collections.abc import Mapping

from rich.table import Table

from aion.streams.simulator.calibration import Stat
from aion.streams.simulator.calibration_targets import TARGETS, Target

__all__ = ["calibration_table"]

_EVENT_PARTS = ("count", "pct", "sigma", "leg_sigma", "minutes", "volume_x", "vol_ratio")
_EVENT_LABELS = {
    "count": "count",
    "pct": "|move| %",
    "sigma": "|move| σ_loc·√min",
    "leg_sigma": "larger leg σ_loc·√min",
    "minutes": "minutes",
    "volume_x": "peak volume x baseline",
    "vol_ratio": "volatility inside / σ_loc",
}


def _cell(stat: Stat | None, ok: bool | None) -> str:
    if stat is None:
        return "n/a"
    if ok is None:
        return stat.text
    return f"[green]{stat.text}[/green]" if ok else f"[red]{stat.text}[/red]"


def calibration_table(columns: Mapping[str, Mapping[str, Stat]], title: str = "") -> Table:
    """Build the table: statistic, one column per report, the real-day figure and band.

    A value is green when every per-instrument value lies in the band, red otherwise
    (statistics without a band are plain). Event statistics follow, without a real
    figure (a real day has no labels).

    Args:
        columns: Column heading (e.g. ``"seed 5"``) to the report of that session.
        title: Table title.

    Returns:
        The rich table.
    """
    table = Table(title=title or None)
    table.add_column("statistic")
    for heading in columns:
        table.add_column(heading, justify="right")
    table.add_column("real (2022-11-18)", justify="right")
    table.add_column("band", justify="right")
    for t in TARGETS:
        cells = []
        for rep in columns.values():
            stat = rep.get(t.key)
            banded = t.low is not None or t.high is not None
            ok = all(t.contains(v) for v in stat.values) if stat and banded else None
            cells.append(_cell(stat, ok))
        table.add_row(t.label, *cells, t.real, _band_cell(t, columns))
    kinds = sorted({k.split(":")[1] for rep in columns.values() for k in rep
                    if k.startswith("event:")})
    for kind in kinds:
        for part in _EVENT_PARTS:
            key = f"event:{kind}:{part}"
            cells = [_cell(rep.get(key), None) for rep in columns.values()]
            table.add_row(f"event {kind}: {_EVENT_LABELS[part]}", *cells, "—", "")
    return table


def _band_cell(t: Target, columns: Mapping[str, Mapping[str, Stat]]) -> str:
    """The band, and for a pooled band the columns' mean coloured by whether it passes."""
    if t.pooled_low is None and t.pooled_high is None:
        return t.band
    values = tuple(v for rep in columns.values() if (st := rep.get(t.key)) for v in st.values)
    if not values:
        return t.band
    colour = "green" if t.pooled_contains(values) else "red"
    return f"{t.band} [{colour}](mean {sum(values) / len(values):.3g})[/{colour}]"
