"""Terminal tables of `aion evaluate`: scores, hit rates beside the baseline, calibration."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from aion.agents.evaluate import EvaluationReport, WindowFigures

PIPE_WIDTH = 150
"""Width of the tables when the output is not a terminal."""


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def _ratio(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def _cell(f: WindowFigures | None) -> str:
    """``64 [50-79]``: hit rate and its 95 % bootstrap interval, in percent."""
    if f is None or f.hit_rate is None:
        return "-"
    lo, hi = f.ci if f.ci else (f.hit_rate, f.hit_rate)
    return f"{100 * f.hit_rate:.0f} [{100 * lo:.0f}-{100 * hi:.0f}]"


def _n(figures: dict[int, WindowFigures]) -> int:
    """Outcomes of the shortest window (the most that close)."""
    return next(iter(figures.values())).n if figures else 0


def print_report(report: EvaluationReport, console: Console) -> None:
    """Print the evaluation: one table of scores, one of hit rates, one of calibration.

    On a terminal the tables fit its width; in a pipe or file they are printed
    :data:`PIPE_WIDTH` wide rather than squeezed to 80 columns.

    Args:
        report: The evaluation.
        console: Where to print.
    """
    if not console.is_terminal:
        console = Console(file=console.file, width=PIPE_WIDTH, soft_wrap=True)
    names = [n for n, r in report.patterns.items() if r.alerts or (
        r.score is not None and r.score.labelled)]
    if report.labelled:
        t = Table(title=f"detectors against the simulator's labels ({report.labels} labels, "
                        f"{len(report.sessions)} sessions)")
        for col in ("pattern", "labelled", "alerts", "precision", "recall",
                    "found <2σ", "2-3σ", "3-4.5σ", ">=4.5σ", "on negatives"):
            t.add_column(col, justify="left" if col == "pattern" else "right",
                         no_wrap=col == "pattern")
        for name in names:
            r = report.patterns[name]
            s = r.score
            if s is None or not s.has_labels:
                t.add_row(name, "no labels", str(r.alerts), "-", "-", "-", "-", "-", "-", "-")
                continue
            sizes = [f"{f}/{n}" if n else "-" for _, _, n, f in s.recall_by_size]
            t.add_row(name, str(s.labelled), str(s.alerts), _ratio(s.precision),
                      _ratio(s.recall), *sizes, str(s.on_negative))
        console.print(t)
    t = Table(title="forward-validation hit rate per window, % [95% bootstrap interval]: "
                    "the alerts, then the random-entry baseline")
    t.add_column("pattern", no_wrap=True)
    t.add_column("", no_wrap=True)
    t.add_column("n", justify="right")
    for w in report.windows:
        t.add_column(f"{w}m", justify="right")
    for name in names:
        r = report.patterns[name]
        if not r.alerts:  # nothing to validate (a labelled pattern not built yet, say)
            continue
        t.add_row(name, f"alerts, conf {_ratio(r.mean_confidence)}", str(_n(r.windows)),
                  *(_cell(r.windows.get(w)) for w in report.windows))
        t.add_row("", "baseline", str(_n(r.baseline)),
                  *(_cell(r.baseline.get(w)) for w in report.windows), end_section=True)
    console.print(t)
    c = report.calibration
    t = Table(title=f"calibration: confidence decile vs success on the 5m window "
                    f"(all patterns; Brier {_ratio(c.brier)}, n {c.count})")
    for col in ("confidence", "alerts", "mean confidence", "success"):
        t.add_column(col, justify="right")
    for b in c.buckets:
        if b.count:
            t.add_row(f"{b.lo:.1f}-{b.hi:.1f}", str(b.count), _ratio(b.mean_confidence),
                      _pct(b.success_rate))
    console.print(t)
    briers = []
    for name in names:
        cal = report.patterns[name].calibration
        if cal is not None and cal.brier is not None:
            briers.append(f"{name} {cal.brier:.2f}")
    if briers:
        console.print(f"Brier score by pattern (5m): {', '.join(briers)}")
