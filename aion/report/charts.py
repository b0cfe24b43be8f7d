"""The report's charts as inline SVG: candlesticks with alerts, success by window, calibration.

Each drawn item carries a class (and ``data-*`` attributes with its figures) so the report
can be read back by a parser: ``g.candle`` per bar, ``path.alert-marker`` per alert,
``circle.entry``, ``line.target`` and ``line.stop`` per validated alert,
``rect.success-bar`` per pattern and window, ``circle.calib-point`` per non-empty
confidence decile and ``line.diagonal``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from aion.report.summary import PatternSummary
from aion.report.svg import Scale, element, svg, text, ticks, tooltip
from aion.tables.evaluation.calibration import Calibration
from aion.tables.records import AlertRecord, BarClosed, ValidationRecord
from aion.tables.timeutil import NS_PER_MS, hhmm_ist

UP, DOWN, NEUTRAL, ENTRY, GRID, AXIS = \
    "#1a7f37", "#cf222e", "#6e7781", "#0969da", "#d0d7de", "#57606a"
SIGNAL_COLOUR = {"BULLISH": UP, "BEARISH": DOWN}
WINDOW_COLOURS = ("#cfe2ff", "#9ec5fe", "#6ea8fe", "#3d8bfd", "#0d6efd", "#0a3d91")
MS_PER_MIN = 60_000
_MINUTE_STEPS = (1, 2, 5, 10, 15, 30, 60, 120)


def _hhmm(ms: int) -> str:
    return hhmm_ist(ms * NS_PER_MS)


def _price_axis(y: Scale, left: float, right: float, lo: float, hi: float) -> str:
    parts = []
    for v in ticks(lo, hi, 6):
        parts.append(element("line", x1=left, x2=right, y1=y(v), y2=y(v), stroke=GRID))
        parts.append(text(left - 6, y(v) + 4, f"{v:,.2f}", text_anchor="end", class_="tick"))
    return "".join(parts)


def _time_axis(x: Scale, t0: int, t1: int, bottom: float) -> str:
    minutes = max((t1 - t0) / MS_PER_MIN, 1)
    step = next((s for s in _MINUTE_STEPS if minutes / s <= 12), _MINUTE_STEPS[-1])
    first = -(-t0 // (step * MS_PER_MIN)) * step * MS_PER_MIN
    parts = []
    for t in range(first, t1 + 1, step * MS_PER_MIN):
        parts.append(element("line", x1=x(t), x2=x(t), y1=bottom, y2=bottom + 4, stroke=AXIS))
        parts.append(text(x(t), bottom + 16, _hhmm(t), text_anchor="middle", class_="tick"))
    return "".join(parts)


def _marker_path(cx: float, tip: float, size: float, signal: str) -> str:
    """A triangle pointing up (apex at ``tip``) for BULLISH, down for BEARISH; else a diamond."""
    h = size
    if signal in ("BULLISH", "BEARISH"):
        base = tip + 1.6 * h if signal == "BULLISH" else tip - 1.6 * h
        return f"M{cx:.2f},{tip:.2f} L{cx - h:.2f},{base:.2f} L{cx + h:.2f},{base:.2f} Z"
    return (f"M{cx:.2f},{tip - h:.2f} L{cx + h:.2f},{tip:.2f} L{cx:.2f},{tip + h:.2f} "
            f"L{cx - h:.2f},{tip:.2f} Z")


def alert_tooltip(a: AlertRecord) -> str:
    """One line describing an alert (the marker's hover text)."""
    return (f"{_hhmm(a.timestamp)} {a.pattern} {a.signal} {a.action} conf {a.confidence:.2f} "
            f"entry {a.entry_price:,.2f} target {a.target_price:,.2f} stop {a.stop_loss:,.2f}")


def candlestick_chart(bars: Sequence[BarClosed], alerts: Sequence[AlertRecord],
                      windows: Mapping[str, Sequence[ValidationRecord]],
                      width: int = 1300, height: int = 380) -> str:
    """One instrument's 1-minute candles with its alerts, entries, targets and stops.

    Time runs along x (bar start to bar end, IST), price up y over the bars' range widened
    to hold every drawn level. Per alert: a marker at the bar it fired on (a triangle
    under the low pointing up for BULLISH, over the high pointing down for BEARISH, a
    diamond at the close otherwise; several alerts on one bar are stacked), and when it
    was validated, a circle at its entry (the shortest window's entry time and price) and
    its target and stop as horizontal segments from the alert's time to the end of its
    longest window (cut at the chart's end).

    Args:
        bars: The instrument's bars by start time (at least one).
        alerts: Its alerts.
        windows: Validation windows per alert id, shortest first.
        width: Pixels.
        height: Pixels.

    Returns:
        The ``<svg>`` markup.
    """
    left, right, top, bottom = 78.0, width - 16.0, 14.0, height - 30.0
    t0, t1 = bars[0].start_ms, bars[-1].end_ms
    levels = [b.low for b in bars] + [b.high for b in bars]
    for a in alerts:
        if windows.get(a.alert_id):
            levels += [a.target_price, a.stop_loss, windows[a.alert_id][0].entry_price]
    lo, hi = min(levels), max(levels)
    pad = (hi - lo) * 0.06 or max(abs(hi) * 0.001, 0.01)
    lo, hi = lo - pad, hi + pad
    x = Scale(t0, t1, left, right)
    y = Scale(lo, hi, bottom, top)
    minute_px = (right - left) * MS_PER_MIN / max(t1 - t0, 1)
    body_w = max(1.0, 0.7 * minute_px)
    parts = [_price_axis(y, left, right, lo, hi),
             element("line", x1=left, x2=right, y1=bottom, y2=bottom, stroke=AXIS),
             _time_axis(x, t0, t1, bottom)]
    by_start: dict[int, BarClosed] = {}
    for b in bars:
        by_start[b.start_ms] = b
        cx = x((b.start_ms + b.end_ms) / 2)
        colour = UP if b.close >= b.open else DOWN
        y_top, y_bot = y(max(b.open, b.close)), y(min(b.open, b.close))
        parts.append(element(
            "g",
            tooltip(f"{_hhmm(b.start_ms)} O {b.open:,.2f} H {b.high:,.2f} L {b.low:,.2f} "
                    f"C {b.close:,.2f} V {b.volume:,}")
            + element("line", class_="wick", x1=cx, x2=cx, y1=y(b.high), y2=y(b.low),
                      stroke=colour)
            + element("rect", class_="body", x=cx - body_w / 2, y=y_top, width=body_w,
                      height=max(y_bot - y_top, 1.0), fill=colour),
            class_="candle", data_start_ms=str(b.start_ms)))
    stacked: dict[tuple[int, str], int] = {}
    for a in alerts:
        colour = SIGNAL_COLOUR.get(a.signal, NEUTRAL)
        recs = windows.get(a.alert_id, ())
        if recs:
            end = min(max(v.end_ms for v in recs), t1)
            x_a, x_e = x(min(max(a.timestamp, t0), t1)), x(end)
            for cls, price, stroke in (("target", a.target_price, UP),
                                       ("stop", a.stop_loss, DOWN)):
                parts.append(element(
                    "line", tooltip(f"{a.pattern} {cls} {price:,.2f}"), class_=cls,
                    x1=x_a, x2=x_e, y1=y(price), y2=y(price), stroke=stroke,
                    stroke_width=1.5, stroke_dasharray="6 3",
                    data_alert_id=a.alert_id, data_price=repr(price)))
            first = recs[0]
            parts.append(element(
                "circle", tooltip(f"{a.pattern} entry {first.entry_price:,.2f} at "
                                  f"{_hhmm(first.entry_ms)}"),
                class_="entry", cx=x(min(first.entry_ms, t1)), cy=y(first.entry_price), r=3.5,
                fill="white", stroke=ENTRY, stroke_width=2, data_alert_id=a.alert_id,
                data_price=repr(first.entry_price)))
        start = a.bar_start_ns // NS_PER_MS
        bar = by_start.get(start)
        cx = x((start + bar.end_ms) / 2) if bar else x(min(max(a.timestamp, t0), t1))
        side = "below" if a.signal == "BULLISH" else "above" if a.signal == "BEARISH" else "at"
        k = stacked.get((start, side), 0)
        stacked[(start, side)] = k + 1
        if side == "below":
            tip = y(bar.low if bar else a.entry_price) + 4 + 14 * k
        elif side == "above":
            tip = y(bar.high if bar else a.entry_price) - 4 - 14 * k
        else:
            tip = y(bar.close if bar else a.entry_price) - 14 * k
        parts.append(element(
            "path", tooltip(alert_tooltip(a)), class_=f"alert-marker {a.signal.lower()}",
            d=_marker_path(cx, tip, 6.0, a.signal), fill=colour, stroke="white",
            stroke_width=0.8, data_alert_id=a.alert_id, data_signal=a.signal))
    return svg(width, height, "".join(parts), class_="candles")


def success_chart(rows: Sequence[PatternSummary], height: int = 300,
                  per_panel: int = 8) -> str:
    """Success rate by window, one group of bars per pattern (the pooled row last).

    The groups wrap into stacked panels of ``per_panel`` patterns, so every pattern is
    on screen at a page's width (twenty-odd patterns in one row would scroll sideways).

    Args:
        rows: From :func:`aion.report.summary.pattern_summaries`.
        height: Pixels per panel.
        per_panel: Patterns per panel.

    Returns:
        The ``<svg>`` markup (a window without outcomes draws no bar).
    """
    lengths = tuple(rows[0].success) if rows else ()
    bar_w, gap = 13.0, 22.0
    group = len(lengths) * bar_w + gap
    left = 80.0  # room for the first group's long name, rotated down to the left
    width = max(620.0, left + group * min(len(rows), per_panel) + 20)
    panels = [rows[k:k + per_panel] for k in range(0, len(rows), per_panel)] or [rows]
    parts = []
    for i, w in enumerate(lengths):
        lx = left + i * 70
        parts.append(element("rect", x=lx, y=6, width=10, height=10,
                             fill=WINDOW_COLOURS[i % len(WINDOW_COLOURS)]))
        parts.append(text(lx + 14, 15, f"{w} min", class_="tick"))
    for k, panel in enumerate(panels):
        top = 30.0 + k * height
        bottom = top + height - 140.0
        parts.append(_success_panel(panel, lengths, Scale(0.0, 1.0, bottom, top), left,
                                    width, bar_w, group))
    return svg(width, len(panels) * height, "".join(parts), class_="success")


def _success_panel(rows: Sequence[PatternSummary], lengths: tuple[int, ...], y: Scale,
                   left: float, width: float, bar_w: float, group: float) -> str:
    """One panel of :func:`success_chart`: grid, bars and pattern names."""
    bottom = y(0.0)
    parts = []
    for v in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(element("line", x1=left, x2=width - 10, y1=y(v), y2=y(v),
                             stroke=AXIS if v == 0.5 else GRID,
                             stroke_dasharray="4 3" if v == 0.5 else None))
        parts.append(text(left - 6, y(v) + 4, f"{v:.0%}", text_anchor="end", class_="tick"))
    gap = group - len(lengths) * bar_w
    for g, row in enumerate(rows):
        gx = left + gap / 2 + g * group
        for i, w in enumerate(lengths):
            s = row.success[w]
            if s.rate is None:
                continue
            parts.append(element(
                "rect", tooltip(f"{row.pattern} {w} min: {s.text()}"), class_="success-bar",
                x=gx + i * bar_w, y=y(s.rate), width=bar_w - 2,
                height=max(bottom - y(s.rate), 0.5), fill=WINDOW_COLOURS[i % len(WINDOW_COLOURS)],
                data_pattern=row.pattern, data_window=str(w), data_rate=repr(s.rate),
                data_successes=str(s.successes), data_outcomes=str(s.outcomes)))
        lx = gx + len(lengths) * bar_w / 2
        parts.append(text(lx, bottom + 14, row.pattern, class_="tick", text_anchor="end",
                          transform=f"rotate(-35 {lx:.2f} {bottom + 14:.2f})"))
    return "".join(parts)


def calibration_chart(cal: Calibration, size: int = 420) -> str:
    """Realised 5-minute success against confidence per decile, with the diagonal.

    A point per non-empty decile at (mean confidence, success rate), its area growing
    with the decile's count; a calibrated detector's points lie on the diagonal.

    Args:
        cal: From :func:`aion.report.summary.calibration_of`.
        size: Width and height, pixels.

    Returns:
        The ``<svg>`` markup.
    """
    m = 52.0
    x = Scale(0.0, 1.0, m, size - 16.0)
    y = Scale(0.0, 1.0, size - m, 16.0)
    parts = []
    for v in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0):
        parts.append(element("line", x1=x(0), x2=x(1), y1=y(v), y2=y(v), stroke=GRID))
        parts.append(element("line", x1=x(v), x2=x(v), y1=y(0), y2=y(1), stroke=GRID))
        parts.append(text(x(0) - 6, y(v) + 4, f"{v:.1f}", text_anchor="end", class_="tick"))
        parts.append(text(x(v), y(0) + 16, f"{v:.1f}", text_anchor="middle", class_="tick"))
    parts.append(element("line", class_="diagonal", x1=x(0), y1=y(0), x2=x(1), y2=y(1),
                         stroke=AXIS, stroke_dasharray="5 4"))
    parts.append(text((x(0) + x(1)) / 2, size - 14, "confidence (decile mean)",
                      text_anchor="middle", class_="label"))
    parts.append(text(14, (y(0) + y(1)) / 2, "realised 5-minute success",
                      text_anchor="middle", class_="label",
                      transform=f"rotate(-90 14 {(y(0) + y(1)) / 2:.2f})"))
    for b in cal.buckets:
        if not b.count or b.mean_confidence is None or b.success_rate is None:
            continue
        parts.append(element(
            "circle", tooltip(f"confidence {b.lo:.1f}-{b.hi:.1f}: {b.count} outcomes, mean "
                              f"confidence {b.mean_confidence:.3f}, success "
                              f"{b.success_rate:.1%}"),
            class_="calib-point", cx=x(b.mean_confidence), cy=y(b.success_rate),
            r=min(3.0 + 2.0 * math.sqrt(b.count), 16.0), fill=ENTRY, fill_opacity=0.6,
            stroke=ENTRY, data_lo=repr(b.lo), data_count=str(b.count),
            data_mean_confidence=repr(b.mean_confidence),
            data_success_rate=repr(b.success_rate)))
    return svg(size, size, "".join(parts), class_="calibration")
