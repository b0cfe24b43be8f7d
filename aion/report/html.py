"""The backtest report as one self-contained HTML file.

No scripts, no fonts, no stylesheet or image from the network: the styles are inline and
the charts are inline SVG (:mod:`aion.report.charts`), so the file opens offline and the
same records always give the same bytes (no wall-clock time, no driver name in it: both
drivers give the same report). Every text taken from the data (symbols, pattern names,
ids, the title) is escaped.

Sections: the per-pattern table (:mod:`aion.report.summary`) and success by window per
pattern; the calibration plot with its decile table and the Brier score; per top
instrument (most alerts first) the candlestick chart and its alerts.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

from aion.report.charts import alert_tooltip, calibration_chart, candlestick_chart, success_chart
from aion.report.data import ReportData
from aion.report.summary import (
    RETURN_WINDOW_MIN,
    PatternSummary,
    calibration_of,
    format_or_dash,
    pattern_summaries,
)
from aion.tables.evaluation.calibration import Calibration
from aion.tables.records import AlertRecord
from aion.tables.timeutil import NS_PER_MS, iso_ist

DEFAULT_TOP = 6
"""Instruments charted by default (those with the most alerts)."""

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;
color:#1f2328;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;
border-bottom:1px solid #d0d7de;padding-bottom:4px}h3{font-size:15px;margin:20px 0 6px}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #d0d7de;padding:3px 8px}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.pooled td{font-weight:600;background:#f6f8fa}
.scroll{overflow-x:auto}.note{color:#57606a;font-size:13px}
svg text.tick{font-size:11px;fill:#57606a}svg text.label{font-size:12px;fill:#1f2328}
.bullish{color:#1a7f37}.bearish{color:#cf222e}
"""


@dataclass(frozen=True)
class ReportOptions:
    """What the report shows.

    Attributes:
        title: Heading (e.g. the session file's name).
        top: Instruments charted (most alerts first).
    """

    title: str = "backtest"
    top: int = DEFAULT_TOP


def _td(value: str, num: bool = False, **data: str) -> str:
    extra = "".join(f' data-{k.replace("_", "-")}="{escape(v, quote=True)}"'
                    for k, v in data.items())
    cls = ' class="num"' if num else ""
    return f"<td{cls}{extra}>{escape(value)}</td>"


def pattern_table(rows: Sequence[PatternSummary]) -> str:
    """The per-pattern figures as an HTML table (cells carry ``data-pattern``/``data-window``).

    Args:
        rows: From :func:`aion.report.summary.pattern_summaries`.

    Returns:
        The ``<table>`` markup.
    """
    lengths = tuple(rows[0].success) if rows else ()
    head = ("<tr><th>pattern</th><th>alerts</th><th>mean confidence</th>"
            + "".join(f"<th>{w} min</th>" for w in lengths)
            + f"<th>gross {RETURN_WINDOW_MIN} min %</th><th>net {RETURN_WINDOW_MIN} min %</th>"
              "</tr>")
    body = []
    for i, r in enumerate(rows):
        cells = [_td(r.pattern), _td(f"{r.alerts:,}", True),
                 _td(format_or_dash(r.mean_confidence, ".3f"), True)]
        for w in lengths:
            s = r.success[w]
            cells.append(_td(s.text(), True, pattern=r.pattern, window=str(w),
                             successes=str(s.successes), outcomes=str(s.outcomes)))
        cells += [_td(format_or_dash(r.mean_return_pct, "+.3f"), True),
                  _td(format_or_dash(r.mean_net_return_pct, "+.3f"), True)]
        cls = ' class="pooled"' if i == len(rows) - 1 else ""
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return f'<table class="patterns">{head}{"".join(body)}</table>'


def calibration_table(cal: Calibration) -> str:
    """The confidence deciles as an HTML table (empty deciles included)."""
    rows = "".join(
        f"<tr>{_td(f'{b.lo:.1f}–{b.hi:.1f}')}{_td(str(b.count), True)}"
        f"{_td(format_or_dash(b.mean_confidence, '.3f'), True)}"
        f"{_td('–' if b.success_rate is None else f'{b.success_rate:.1%}', True)}</tr>"
        for b in cal.buckets)
    return ('<table class="calibration"><tr><th>confidence</th><th>outcomes</th>'
            f"<th>mean confidence</th><th>realised success</th></tr>{rows}</table>")


def _alerts_table(alerts: Sequence[AlertRecord], data: ReportData) -> str:
    rows = []
    for a in alerts:
        five = next((v for v in data.validations.get(a.alert_id, ())
                     if v.window_min == RETURN_WINDOW_MIN), None)
        outcome = ("–" if five is None or five.success is None
                   else f"{'success' if five.success else 'failure'} "
                        f"({five.first_touch}, {five.return_pct:+.3f} %)")
        rows.append(
            f'<tr title="{escape(alert_tooltip(a), quote=True)}">'
            f"{_td(iso_ist(a.timestamp * NS_PER_MS)[11:19])}{_td(a.pattern)}"
            f'<td class="{escape(a.signal.lower(), quote=True)}">{escape(a.signal)}</td>'
            f"{_td(a.action)}{_td(f'{a.confidence:.2f}', True)}"
            f"{_td(f'{a.entry_price:,.2f}', True)}{_td(f'{a.target_price:,.2f}', True)}"
            f"{_td(f'{a.stop_loss:,.2f}', True)}{_td(f'{a.quantity:,}', True)}"
            f"{_td(outcome)}</tr>")
    return ('<table class="alerts"><tr><th>time (IST)</th><th>pattern</th><th>signal</th>'
            "<th>action</th><th>confidence</th><th>entry</th><th>target</th><th>stop</th>"
            f"<th>quantity</th><th>{RETURN_WINDOW_MIN}-minute outcome</th></tr>"
            f"{''.join(rows)}</table>")


_ON_PRICE = frozenset({"BUY", "SELL", "WATCH"})
"""Alert actions whose levels are prices of the alerted instrument itself."""


def _instrument_section(token: int, data: ReportData) -> str:
    alerts = [a for a in data.alerts if a.token == token]
    symbol = alerts[0].symbol
    bars = data.bars.get(token, ())
    head = (f'<h3 data-token="{token}">{escape(symbol)} — {len(alerts)} alert'
            f"{'s' if len(alerts) != 1 else ''}, {len(bars)} bars</h3>")
    if not bars:
        return head + '<p class="note">no closed bars of this instrument in the run</p>'
    # Option-premium alerts (SELL_STRADDLE, ...) of a chain carry the underlying's token
    # but premium levels: listed in the table, not drawn on the underlying's candles.
    chart = candlestick_chart(bars, [a for a in alerts if a.action in _ON_PRICE],
                              data.validations)
    return (f'<section class="instrument">{head}<div class="scroll">{chart}</div>'
            f"{_alerts_table(alerts, data)}</section>")


def render_html(data: ReportData, options: ReportOptions | None = None) -> str:
    """The report of a run as an HTML document.

    Args:
        data: The run's bars, alerts and validation windows.
        options: Title and number of instruments charted.

    Returns:
        The document.
    """
    options = options or ReportOptions()
    rows = pattern_summaries(data)
    cal = calibration_of(data)
    brier = "–" if cal.brier is None else f"{cal.brier:.4f}"
    top = data.top_instruments(options.top)
    n_windows = sum(1 for _ in data.windows())
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>AION backtest report: {escape(options.title)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>AION backtest report: {escape(options.title)}</h1>",
        f'<p class="note">{len(data.alerts):,} alerts on {len({a.token for a in data.alerts}):,}'
        f" instruments, {n_windows:,} validation windows, "
        f"{sum(len(b) for b in data.bars.values()):,} one-minute bars. Success: the target "
        "touched before the stop within the window, or neither touched and a gain at the "
        "window's end; neutral alerts have none. Entry is the first price after the alert."
        "</p>",
        '<section id="patterns"><h2>Alerts by pattern</h2>',
        pattern_table(rows),
        "<h3>Success by window</h3>",
        f'<div class="scroll">{success_chart(rows)}</div></section>',
        '<section id="calibration"><h2>Calibration</h2>',
        f'<p>Brier score <strong id="brier">{brier}</strong> over {cal.count:,} '
        f"{RETURN_WINDOW_MIN}-minute outcomes (0 is perfect; a constant 0.5 scores 0.25).</p>",
        calibration_chart(cal),
        calibration_table(cal),
        "</section>",
        f'<section id="instruments"><h2>Top instruments by alerts ({len(top)})</h2>',
        '<p class="note">Triangles: alerts (up, green: bullish, under the bar; down, red: '
        "bearish, over the bar; grey diamond: neutral). Circle: entry (first price after "
        "the alert). Dashed green/red: target/stop until the end of the longest "
        "validation window.</p>",
        *(_instrument_section(t, data) for t in top),
        "" if top else '<p class="note">no alerts in this run</p>',
        "</section></body></html>",
    ]
    return "\n".join(parts) + "\n"


def write_report(path: Path, data: ReportData, options: ReportOptions | None = None) -> Path:
    """Write the HTML report, atomically (a temporary file renamed into place).

    Args:
        path: Target file (its directory must exist).
        data: The run's bars, alerts and validation windows.
        options: Title and number of instruments charted.

    Returns:
        ``path``.

    Raises:
        OSError: The directory is missing or not writable, or ``path`` is a directory.
    """
    document = render_html(data, options)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(document)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
