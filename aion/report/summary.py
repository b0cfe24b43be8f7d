"""Per-pattern figures of a backtest, for the terminal table and the HTML report.

For each pattern (and :data:`ALL` for every alert together):

* **alerts**: the number of alerts;
* **mean confidence**: the mean of the alerts' confidence;
* **success per window** ``w`` (1, 2, 5, 10, 30, 60 minutes: the windows present in the
  validations, else ``tables.validation.forward.WINDOWS_MIN``): ``successes / outcomes``
  over the pattern's validation windows of length ``w`` whose ``success`` is not None
  (success as ``tables.validation.forward`` defines it: target touched first, or neither
  touched and a positive gross return at the exit; neutral alerts have None and are left
  out). None without outcomes. A window cut at 15:30 or closed by the end of the data
  counts as it was recorded.
* **mean gross / net return at 5 minutes**: the mean ``return_pct`` / ``net_return_pct``
  (percent, after the NSE round-trip charges) of the pattern's 5-minute windows of
  directional alerts (neutral ones report raw long-side figures, which are no one's
  trade); None without any.
* **calibration** (all patterns): 5-minute outcomes of directional alerts as
  ``(confidence, success)`` into :func:`aion.tables.evaluation.calibration.calibrate`
  (confidence deciles against realised success, and the Brier score).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.table import Table

from aion.report.data import ReportData
from aion.tables.evaluation.calibration import Calibration, calibrate
from aion.tables.records import ValidationRecord
from aion.tables.validation.forward import WINDOWS_MIN

ALL = "all"
"""Name of the row that pools every alert."""

RETURN_WINDOW_MIN = 5
"""Window whose returns and success the summary's return columns and calibration read."""


@dataclass(frozen=True, slots=True)
class WindowSuccess:
    """Successes among the decided outcomes of one window.

    Attributes:
        successes: Windows that succeeded.
        outcomes: Windows with a success figure (directional alerts).
    """

    successes: int
    outcomes: int

    @property
    def rate(self) -> float | None:
        """``successes / outcomes`` (None without outcomes)."""
        return self.successes / self.outcomes if self.outcomes else None

    def text(self) -> str:
        """``"55% (11/20)"``, or ``"–"`` without outcomes."""
        if not self.outcomes:
            return "–"
        return f"{100 * self.successes / self.outcomes:.0f}% ({self.successes}/{self.outcomes})"


@dataclass(frozen=True)
class PatternSummary:
    """One pattern's figures (module docstring).

    Attributes:
        pattern: Pattern name, or :data:`ALL`.
        alerts: Alerts.
        mean_confidence: Mean confidence (None without alerts).
        success: Window length (minutes) to its successes, every window of the report.
        mean_return_pct: Mean gross 5-minute return, percent (None without windows).
        mean_net_return_pct: Mean net 5-minute return, percent (None without windows).
    """

    pattern: str
    alerts: int
    mean_confidence: float | None
    success: Mapping[int, WindowSuccess]
    mean_return_pct: float | None
    mean_net_return_pct: float | None


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def report_windows(data: ReportData) -> tuple[int, ...]:
    """The window lengths the report shows: those validated, else the default ones.

    Args:
        data: The report's inputs.

    Returns:
        Minutes, ascending.
    """
    seen = {v.window_min for v in data.windows()}
    return tuple(sorted(seen)) if seen else WINDOWS_MIN


def _summarise(pattern: str, confidences: Sequence[float],
               windows: Sequence[ValidationRecord], lengths: tuple[int, ...]) -> PatternSummary:
    success = {}
    for w in lengths:
        decided = [v.success for v in windows if v.window_min == w and v.success is not None]
        success[w] = WindowSuccess(sum(1 for s in decided if s), len(decided))
    five = [v for v in windows if v.window_min == RETURN_WINDOW_MIN and v.direction != 0]
    return PatternSummary(
        pattern=pattern, alerts=len(confidences), mean_confidence=_mean(confidences),
        success=success,
        mean_return_pct=_mean([v.return_pct for v in five]),
        mean_net_return_pct=_mean([v.net_return_pct for v in five]),
    )


def pattern_summaries(data: ReportData) -> list[PatternSummary]:
    """The figures of every pattern that alerted, then the :data:`ALL` row.

    Args:
        data: The report's inputs.

    Returns:
        One summary per pattern (most alerts first, ties by name), the pooled row last
        (present even without alerts).
    """
    lengths = report_windows(data)
    conf: dict[str, list[float]] = {}
    for a in data.alerts:
        conf.setdefault(a.pattern, []).append(a.confidence)
    wins: dict[str, list[ValidationRecord]] = {}
    for v in data.windows():
        wins.setdefault(v.pattern, []).append(v)
    names = sorted(set(conf) | set(wins), key=lambda p: (-len(conf.get(p, ())), p))
    rows = [_summarise(p, conf.get(p, []), wins.get(p, []), lengths) for p in names]
    rows.append(_summarise(ALL, [a.confidence for a in data.alerts], list(data.windows()),
                           lengths))
    return rows


def calibration_of(data: ReportData) -> Calibration:
    """Confidence deciles against realised 5-minute success, and the Brier score.

    Args:
        data: The report's inputs.

    Returns:
        The calibration of the directional alerts' 5-minute windows.
    """
    return calibrate((v.confidence, bool(v.success)) for v in data.windows()
                     if v.window_min == RETURN_WINDOW_MIN and v.success is not None)


def format_or_dash(value: float | None, fmt: str) -> str:
    """``value`` formatted with ``fmt``, or ``"–"`` for None."""
    return "–" if value is None else format(value, fmt)


def summary_table(rows: Sequence[PatternSummary], title: str = "alerts by pattern") -> Table:
    """The per-pattern figures as a rich table (``aion backtest``'s closing table).

    Success cells show the rate only, to fit a terminal; the ``validated`` column is the
    largest number of outcomes over the windows (the HTML report has each cell's counts).

    Args:
        rows: From :func:`pattern_summaries`.
        title: Table title.

    Returns:
        The table: pattern, alerts, mean confidence, validated, success per window, mean
        gross and net 5-minute return.
    """
    lengths = tuple(rows[0].success) if rows else WINDOWS_MIN
    table = Table(title=title, caption="success: target first, or neither and a gain at the "
                  "window's end (neutral alerts left out); returns: mean of the 5-minute "
                  "windows, percent")
    table.add_column("pattern", style="bold")
    table.add_column("alerts", justify="right")
    table.add_column("conf", justify="right")
    table.add_column("valid.", justify="right")
    for w in lengths:
        table.add_column(f"{w}m", justify="right")
    table.add_column("gross5m", justify="right")
    table.add_column("net5m", justify="right")
    for i, r in enumerate(rows):
        rates = [format_or_dash(None if s.rate is None else 100 * s.rate, ".0f")
                 for s in (r.success[w] for w in lengths)]
        validated = max((s.outcomes for s in r.success.values()), default=0)
        table.add_row(r.pattern, f"{r.alerts:,}", format_or_dash(r.mean_confidence, ".2f"),
                      f"{validated:,}", *rates, format_or_dash(r.mean_return_pct, "+.2f"),
                      format_or_dash(r.mean_net_return_pct, "+.2f"),
                      end_section=i == len(rows) - 2)
    return table
