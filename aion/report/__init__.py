"""The backtest report: per-pattern figures (terminal and HTML) and a self-contained HTML file.

:class:`ReportData` collects a run's bars, alerts and validation windows (either driver's);
:func:`pattern_summaries` and :func:`summary_table` give the per-pattern figures;
:func:`write_report` writes the HTML file with its inline SVG charts.
"""

from aion.report.data import REPORT_OUTPUTS, REPORT_RECORD_TYPES, ReportData
from aion.report.html import DEFAULT_TOP, ReportOptions, render_html, write_report
from aion.report.summary import (
    ALL,
    PatternSummary,
    WindowSuccess,
    calibration_of,
    pattern_summaries,
    summary_table,
)

__all__ = [
    "ALL",
    "DEFAULT_TOP",
    "REPORT_OUTPUTS",
    "REPORT_RECORD_TYPES",
    "PatternSummary",
    "ReportData",
    "ReportOptions",
    "WindowSuccess",
    "calibration_of",
    "pattern_summaries",
    "render_html",
    "summary_table",
    "write_report",
]
