"""The backtest report: per-pattern figures, the HTML file's charts, escaping, and the CLI.

The hand-made run: instrument AAA with 8 bars and three alerts (a BULLISH and a BEARISH
``breakout``, a NEUTRAL ``volume_spike``), instrument BBB with 4 bars and one BULLISH
``volume_spike``; windows of 1, 2 and 5 minutes with chosen outcomes. Every expected
figure below is worked out by hand from those outcomes, not read from the code.
"""

from __future__ import annotations

import io
import itertools
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, time
from html.parser import HTMLParser
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aion.cli import main
from aion.report import ALL, ReportData, ReportOptions, pattern_summaries, render_html
from aion.report.charts import success_chart
from aion.report.html import write_report
from aion.report.summary import PatternSummary, WindowSuccess
from aion.tables.records import AlertRecord, BarClosed, Record, ValidationRecord
from aion.tables.timeutil import NS_PER_MS, ist_wall_ns

T0_MS = ist_wall_ns(2025, 11, 18, 9, 15) // NS_PER_MS
MIN_MS = 60_000


# --- a hand-made run ----------------------------------------------------------------------


def bar(token: int, symbol: str, i: int, o: float, h: float, lo: float, c: float) -> BarClosed:
    """Bar ``i`` (minute 09:15 + i) of an instrument."""
    start = T0_MS + i * MIN_MS
    return BarClosed(bar_id=f"{token}:{start}", token=token, symbol=symbol, start_ms=start,
                     end_ms=start + MIN_MS, start="", open=o, high=h, low=lo, close=c,
                     volume=100 + i, tick_count=10, late_ticks=0, vwap=c, first_ts_ms=start,
                     last_ts_ms=start + MIN_MS - 1)


def alert(aid: str, token: int, symbol: str, pattern: str, signal: str, i: int,
          confidence: float, entry: float, target: float, stop: float) -> AlertRecord:
    """An alert on bar ``i`` (known at its end)."""
    start = T0_MS + i * MIN_MS
    return AlertRecord(
        alert_id=aid, token=token, symbol=symbol, pattern=pattern, category="core",
        signal=signal, action={"BULLISH": "BUY", "BEARISH": "SELL"}.get(signal, "WATCH"),
        entry_price=entry, target_price=target, stop_loss=stop, quantity=10, lot_size=1,
        confidence=confidence, expected_move=1.0, rr_ratio=1.5, volume_ratio=2.0,
        timestamp=start + MIN_MS, ts_ns=(start + MIN_MS) * NS_PER_MS,
        bar_start_ns=start * NS_PER_MS)


def window(a: AlertRecord, w: int, success: bool | None, ret: float = 0.0,
           net: float = 0.0) -> ValidationRecord:
    """Window ``w`` of alert ``a``: entry 1 s after the alert at its quoted price + 0.05."""
    entry_ms = a.timestamp + 1000
    direction = {"BULLISH": 1, "BEARISH": -1}.get(a.signal, 0)
    return ValidationRecord(
        alert_id=a.alert_id, token=a.token, symbol=a.symbol, pattern=a.pattern,
        confidence=a.confidence, direction=direction, window_min=w, entry_ms=entry_ms,
        entry_price=a.entry_price + 0.05, end_ms=entry_ms + w * MIN_MS,
        exit_ms=entry_ms + w * MIN_MS, exit_price=a.entry_price, return_pct=ret,
        net_return_pct=net, cost=1.0, mfe_pct=0.1, mae_pct=0.1, first_touch="neither",
        touch_ms=None, success=success, cut_at_close=False, closed_at_session_end=False,
        ts_ns=(entry_ms + w * MIN_MS) * NS_PER_MS)


AAA, BBB = "NSE:AAA", "NSE:BBB"
BARS_A = [bar(1, AAA, i, 100 + i * 0.1, 100.4 + i * 0.1, 99.7 + i * 0.1, 100.2 + i * 0.1)
          for i in range(8)]
BARS_B = [bar(2, BBB, i, 50.0, 50.5, 49.5, 50.2 if i % 2 else 49.8) for i in range(4)]
A1 = alert("AAA:breakout:1", 1, AAA, "breakout", "BULLISH", 2, 0.72, 100.4, 101.5, 99.0)
A2 = alert("AAA:breakout:2", 1, AAA, "breakout", "BEARISH", 5, 0.35, 100.7, 98.0, 101.8)
A3 = alert("AAA:volume_spike:3", 1, AAA, "volume_spike", "NEUTRAL", 5, 0.50, 100.7, 100.7,
           100.7)
A4 = alert("BBB:volume_spike:4", 2, BBB, "volume_spike", "BULLISH", 1, 0.78, 50.2, 51.0, 49.6)
WINDOWS = [
    window(A1, 1, True), window(A1, 2, True), window(A1, 5, True, 0.4, 0.3),
    window(A2, 1, False), window(A2, 2, True), window(A2, 5, False, -0.2, -0.3),
    window(A3, 1, None), window(A3, 2, None), window(A3, 5, None, 0.1, 0.05),
    window(A4, 1, True), window(A4, 2, False), window(A4, 5, False, -0.5, -0.6),
]
RECORDS: list[Record] = [*BARS_A, *BARS_B, A1, A2, A3, A4, *WINDOWS]

# Success per pattern and window, by hand (neutral A3 has none):
#   breakout:     w1 A1 yes, A2 no -> 1/2; w2 both yes -> 2/2; w5 A1 yes, A2 no -> 1/2
#   volume_spike: only A4: w1 1/1, w2 0/1, w5 0/1
#   all:          w1 A1, A4 of A1, A2, A4 -> 2/3; w2 A1, A2 -> 2/3; w5 A1 -> 1/3
EXPECTED_SUCCESS = {
    "breakout": {1: (1, 2), 2: (2, 2), 5: (1, 2)},
    "volume_spike": {1: (1, 1), 2: (0, 1), 5: (0, 1)},
    ALL: {1: (2, 3), 2: (2, 3), 5: (1, 3)},
}


# --- reading the HTML back ------------------------------------------------------------------


@dataclass
class Node:
    """A start tag, its attributes, the ``<svg>`` it sits in (index) and its text."""

    tag: str
    attrs: dict[str, str]
    svg: int | None
    text: str = ""
    classes: set[str] = field(default_factory=set)


class Doc(HTMLParser):
    """Every element of a document, in order, with the chart it belongs to."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.nodes: list[Node] = []
        self.svgs: list[Node] = []
        self._open: list[Node] = []
        self._svg: int | None = None
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "svg":
            self._svg = len(self.svgs)
        node = Node(tag, values, self._svg, classes=set(values.get("class", "").split()))
        if tag == "svg":
            self.svgs.append(node)
        self.nodes.append(node)
        self._open.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self._open.pop()

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            node = self._open.pop()
            if node.tag == tag:
                break
        if tag == "svg":
            self._svg = None

    def handle_data(self, data: str) -> None:
        for node in self._open:
            node.text += data

    def find(self, cls: str, svg: int | None = None, tag: str | None = None) -> list[Node]:
        """Elements with class ``cls`` (in chart ``svg`` if given)."""
        return [n for n in self.nodes if cls in n.classes and (svg is None or n.svg == svg)
                and (tag is None or n.tag == tag)]

    def charts(self, cls: str) -> list[int]:
        """Indexes of the ``<svg>`` charts of class ``cls``."""
        return [i for i, s in enumerate(self.svgs) if cls in s.classes]


@pytest.fixture(scope="module")
def doc() -> Doc:
    return Doc(render_html(ReportData.from_records(RECORDS), ReportOptions(title="hand")))


# --- per-pattern figures ------------------------------------------------------------------


def test_pattern_summaries_match_the_hand_computed_figures() -> None:
    rows = {r.pattern: r for r in pattern_summaries(ReportData.from_records(RECORDS))}
    assert list(rows) == ["breakout", "volume_spike", ALL]  # 2 alerts each: by name; pool last
    for pattern, by_window in EXPECTED_SUCCESS.items():
        got = {w: (s.successes, s.outcomes) for w, s in rows[pattern].success.items()}
        assert got == by_window, pattern
    assert (rows["breakout"].alerts, rows["volume_spike"].alerts, rows[ALL].alerts) == (2, 2, 4)
    assert math.isclose(rows["breakout"].mean_confidence, (0.72 + 0.35) / 2)
    assert math.isclose(rows["volume_spike"].mean_confidence, (0.50 + 0.78) / 2)
    # 5-minute returns of directional alerts only (A3's +0.1 is left out).
    assert math.isclose(rows["breakout"].mean_return_pct, (0.4 - 0.2) / 2)
    assert math.isclose(rows["breakout"].mean_net_return_pct, (0.3 - 0.3) / 2, abs_tol=1e-12)
    assert math.isclose(rows["volume_spike"].mean_return_pct, -0.5)
    assert math.isclose(rows[ALL].mean_return_pct, (0.4 - 0.2 - 0.5) / 3)
    assert math.isclose(rows[ALL].mean_net_return_pct, (0.3 - 0.3 - 0.6) / 3)


def test_terminal_table_rows() -> None:
    from rich.console import Console

    from aion.report import summary_table

    console = Console(width=200, record=True, file=io.StringIO())
    console.print(summary_table(pattern_summaries(ReportData.from_records(RECORDS))))
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]]
            for line in console.export_text().splitlines() if line.startswith("│")}
    # alerts, mean confidence, validated, 1m, 2m, 5m, gross and net 5-minute return
    # (0.72 + 0.35) / 2 = 0.535 sits on a rounding tie: formatted as Python does.
    mean_breakout = f"{(0.72 + 0.35) / 2:.2f}"
    assert rows["breakout"] == ["2", mean_breakout, "2", "50", "100", "50", "+0.10", "+0.00"]
    assert rows["volume_spike"] == ["2", "0.64", "1", "100", "0", "0", "-0.50", "-0.60"]
    assert rows[ALL] == ["4", "0.59", "3", "67", "67", "33", "-0.10", "-0.20"]


def test_html_pattern_table_and_success_bars_hold_the_hand_figures(doc: Doc) -> None:
    for pattern, by_window in EXPECTED_SUCCESS.items():
        for w, (ok, n) in by_window.items():
            cells = [c for c in doc.nodes if c.tag == "td"
                     and c.attrs.get("data-pattern") == pattern
                     and c.attrs.get("data-window") == str(w)]
            assert len(cells) == 1
            assert (cells[0].attrs["data-successes"], cells[0].attrs["data-outcomes"]) == \
                (str(ok), str(n))
            assert cells[0].text == f"{round(100 * ok / n)}% ({ok}/{n})"
            bars = [b for b in doc.find("success-bar")
                    if b.attrs["data-pattern"] == pattern and b.attrs["data-window"] == str(w)]
            assert len(bars) == 1 and math.isclose(float(bars[0].attrs["data-rate"]), ok / n)
    # A 0 % bar is still drawn (volume_spike at 2 and 5 minutes), a taller rate is taller.
    heights = {(b.attrs["data-pattern"], b.attrs["data-window"]): float(b.attrs["height"])
               for b in doc.find("success-bar")}
    assert heights[("breakout", "2")] > heights[("breakout", "1")] > heights[("breakout", "5")] \
        - 1e-9 and heights[("volume_spike", "2")] < 1


def test_calibration_points_and_brier_score(doc: Doc) -> None:
    # 5-minute outcomes (confidence, success): A1 (0.72, 1), A2 (0.35, 0), A4 (0.78, 0).
    # Deciles: [0.3, 0.4): A2 alone; [0.7, 0.8): A1 and A4, mean 0.75, success 1/2.
    points = {round(float(p.attrs["data-lo"]), 1): p for p in doc.find("calib-point")}
    assert set(points) == {0.3, 0.7}
    p3, p7 = points[0.3], points[0.7]
    assert (p3.attrs["data-count"], p7.attrs["data-count"]) == ("1", "2")
    assert math.isclose(float(p3.attrs["data-mean-confidence"]), 0.35)
    assert math.isclose(float(p3.attrs["data-success-rate"]), 0.0)
    assert math.isclose(float(p7.attrs["data-mean-confidence"]), 0.75)
    assert math.isclose(float(p7.attrs["data-success-rate"]), 0.5)
    # Brier: ((0.72 - 1)^2 + 0.35^2 + 0.78^2) / 3 = (0.0784 + 0.1225 + 0.6084) / 3 = 0.26977
    brier = next(n for n in doc.nodes if n.attrs.get("id") == "brier")
    assert brier.text == "0.2698"
    # Plot geometry: the diagonal runs bottom-left to top-right; the point with success 0
    # sits on the x axis (the diagonal's lower end), the one at 0.5 above it.
    (diag,) = doc.find("diagonal")
    assert float(diag.attrs["y1"]) > float(diag.attrs["y2"])
    assert float(diag.attrs["x1"]) < float(diag.attrs["x2"])
    assert math.isclose(float(p3.attrs["cy"]), float(diag.attrs["y1"]), abs_tol=0.01)
    assert float(p7.attrs["cy"]) < float(p3.attrs["cy"])


def test_candles_markers_entries_targets_and_stops(doc: Doc) -> None:
    charts = doc.charts("candles")
    assert len(charts) == 2  # two instruments alerted; AAA (3 alerts) first
    a, b = charts
    assert len(doc.find("candle", a)) == len(BARS_A) == 8
    assert len(doc.find("candle", b)) == len(BARS_B) == 4
    markers_a = {m.attrs["data-alert-id"] for m in doc.find("alert-marker", a)}
    markers_b = {m.attrs["data-alert-id"] for m in doc.find("alert-marker", b)}
    assert len(doc.find("alert-marker", a)) == 3 and markers_a == {A1.alert_id, A2.alert_id,
                                                                     A3.alert_id}
    assert len(doc.find("alert-marker", b)) == 1 and markers_b == {A4.alert_id}
    # Every validated alert has one entry, one target and one stop at its own prices.
    for chart, alerts in ((a, (A1, A2, A3)), (b, (A4,))):
        for kind, price_of in (("target", lambda x: x.target_price),
                               ("stop", lambda x: x.stop_loss),
                               ("entry", lambda x: x.entry_price + 0.05)):
            got = {n.attrs["data-alert-id"]: float(n.attrs["data-price"])
                   for n in doc.find(kind, chart)}
            assert got == pytest.approx({x.alert_id: price_of(x) for x in alerts}), kind
    # Sides: a BULLISH target is drawn above its stop, a BEARISH one below.
    y = {(n.attrs["data-alert-id"], kind): float(n.attrs["y1"])
         for kind in ("target", "stop") for n in doc.find(kind, a, "line")}
    assert y[(A1.alert_id, "target")] < y[(A1.alert_id, "stop")]
    assert y[(A2.alert_id, "target")] > y[(A2.alert_id, "stop")]


def test_candle_geometry_and_marker_placement(doc: Doc) -> None:
    a = doc.charts("candles")[0]
    candles = doc.find("candle", a)
    wicks = doc.find("wick", a)
    bodies = doc.find("body", a)
    assert [int(c.attrs["data-start-ms"]) for c in candles] == [b.start_ms for b in BARS_A]
    # AAA rises one tick a minute: every wick top is higher on screen (smaller y) than
    # the last, and the bars are evenly spaced along x.
    tops = [float(w.attrs["y1"]) for w in wicks]
    assert tops == sorted(tops, reverse=True) and len(set(tops)) == len(tops)
    xs = [float(w.attrs["x1"]) for w in wicks]
    steps = [q - p for p, q in itertools.pairwise(xs)]
    assert max(steps) - min(steps) < 0.03  # pixels are written to 2 decimals
    # Close above open: green bodies whose top is the close.
    assert {b.attrs["fill"] for b in bodies} == {"#1a7f37"}
    # The BULLISH marker sits under its bar's low (larger y), the BEARISH one over its
    # high, each on its own bar's x.
    marker = {m.attrs["data-alert-id"]: m for m in doc.find("alert-marker", a)}

    def apex(m: Node) -> tuple[float, float]:
        x, y = m.attrs["d"].split()[0][1:].split(",")
        return float(x), float(y)

    x1, y1 = apex(marker[A1.alert_id])
    assert math.isclose(x1, xs[2], abs_tol=0.02) and y1 > float(wicks[2].attrs["y2"])
    x2, y2 = apex(marker[A2.alert_id])
    assert math.isclose(x2, xs[5], abs_tol=0.02) and y2 < float(wicks[5].attrs["y1"])
    assert "bullish" in marker[A1.alert_id].classes and "bearish" in marker[A2.alert_id].classes


def test_top_n_charts_only_the_instruments_with_most_alerts() -> None:
    one = Doc(render_html(ReportData.from_records(RECORDS), ReportOptions(top=1)))
    (chart,) = one.charts("candles")
    assert {m.attrs["data-alert-id"] for m in one.find("alert-marker", chart)} == \
        {A1.alert_id, A2.alert_id, A3.alert_id}
    none = Doc(render_html(ReportData.from_records(RECORDS), ReportOptions(top=0)))
    assert none.charts("candles") == [] and len(none.find("calib-point")) == 2


def test_report_is_self_contained() -> None:
    html = render_html(ReportData.from_records(RECORDS))
    lowered = html.lower()
    for needle in ("<script", "http:", "https:", "<link", "@import", "url(", "<img", "<iframe"):
        assert needle not in lowered, needle


def test_an_empty_run_still_gives_a_report() -> None:
    empty = Doc(render_html(ReportData.from_records([]), ReportOptions(title="empty")))
    assert empty.charts("candles") == [] and empty.find("calib-point") == []
    assert next(n for n in empty.nodes if n.attrs.get("id") == "brier").text == "–"
    assert any("no alerts" in n.text for n in empty.nodes if n.tag == "p")


HOSTILE = 'NSE:<script>alert("x")</script>&amp;\'"<b>'


def test_hostile_names_are_escaped() -> None:
    bars = [bar(9, HOSTILE, i, 10.0, 10.5, 9.5, 10.2) for i in range(3)]
    bad = alert(f"{HOSTILE}:p:1", 9, HOSTILE, "<i>pat</i>", "BULLISH", 1, 0.6, 10.2, 10.6, 9.9)
    records = [*bars, bad, window(bad, 5, True, 0.1, 0.0)]
    html = render_html(ReportData.from_records(records), ReportOptions(title=HOSTILE))
    parsed = Doc(html)
    tags = {n.tag for n in parsed.nodes}
    assert "script" not in tags and "b" not in tags and "i" not in tags
    # The names come back unchanged as text and attribute values.
    assert any(n.tag == "h1" and HOSTILE in n.text for n in parsed.nodes)
    assert any(n.tag == "h3" and HOSTILE in n.text for n in parsed.nodes)
    (marker,) = parsed.find("alert-marker")
    assert marker.attrs["data-alert-id"] == bad.alert_id
    assert {c.attrs["data-pattern"] for c in parsed.find("success-bar")} == {"<i>pat</i>", ALL}


@settings(max_examples=30, deadline=None)
@given(st.permutations(RECORDS), st.lists(st.sampled_from(RECORDS), max_size=8))
def test_record_order_and_repeats_do_not_change_the_report(order: list[Record],
                                                          repeats: list[Record]) -> None:
    # The Faust driver reads topics partition by partition and may see a re-emitted
    # bundle's records twice; the direct driver has them once in emission order.
    assert render_html(ReportData.from_records([*order, *repeats])) == \
        render_html(ReportData.from_records(RECORDS))


def test_write_report_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "r.html"
    target.write_text("old")
    assert write_report(target, ReportData.from_records(RECORDS)) == target
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]
    with pytest.raises(OSError):
        write_report(tmp_path / "missing" / "r.html", ReportData.from_records(RECORDS))


# --- the command line -------------------------------------------------------------------


@pytest.fixture()
def no_broker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private cache dir and no broker/Redis settings (the direct driver needs none)."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("AION_CACHE_DIR", str(cache))
    for name in ("AION_KAFKA_BOOTSTRAP", "AION_REDIS_URL", "AION_TOPIC_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    return cache


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A 25-minute simulated session: long enough for the detectors to warm up and fire."""
    from aion.streams.simulator import simulate

    path = tmp_path_factory.mktemp("session") / "s.parquet"
    simulate(date(2025, 11, 18), 3, path, start=time(9, 15), end=time(9, 40))
    yield path


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def test_backtest_writes_the_report_where_asked_and_prints_its_path(
    session: Path, no_broker: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out" / "run.html"
    target.parent.mkdir()
    code, out, err = run_cli(["backtest", "--driver", "direct", "--no-keep", str(session),
                              "--report", str(target)], capsys)
    assert code == 0, err
    assert f"report: {target}" in out
    assert "alerts by pattern" in out
    assert re.search(rf"│ {ALL}\s+│\s+\d+", out), out
    assert not session.with_suffix(".report.html").exists()  # not the default place
    parsed = Doc(target.read_text(encoding="utf-8"))
    charts = parsed.charts("candles")
    assert 1 <= len(charts) <= 6
    markers = parsed.find("alert-marker")
    assert markers and all(m.svg in charts for m in markers)
    # The pooled row's alert count is the number of alerts the run reported.
    pooled = next(i for i, r in enumerate(parsed.nodes) if r.tag == "tr"
                  and "pooled" in r.classes)
    cells = [n.text for n in parsed.nodes[pooled:] if n.tag == "td"]
    assert cells[0] == ALL and int(cells[1].replace(",", "")) >= len(markers)
    for chart in charts:  # each charted instrument has one candle per minute it traded
        assert 1 <= len(parsed.find("candle", chart)) <= 25


def test_default_report_path_is_beside_the_session(tmp_path: Path) -> None:
    from aion.cli import _report_path

    session = tmp_path / "day.parquet"
    assert _report_path(None, session) == tmp_path / "day.report.html"
    assert _report_path(tmp_path / "x.html", session) == tmp_path / "x.html"


@pytest.mark.parametrize(("where", "mentions"), [("dir", "is a directory"),
                                                 ("missing/r.html", "no such directory")])
def test_report_path_errors_are_one_line(where: str, mentions: str, session: Path,
                                         no_broker: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "dir").mkdir()
    code, out, err = run_cli(["backtest", "--driver", "direct", "--no-keep", str(session),
                              "--report", str(tmp_path / where)], capsys)
    assert code == 2 and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and mentions in lines[0], err
    assert "ticks" not in out  # refused before the run


def test_premium_alerts_are_listed_but_not_drawn_on_the_underlying() -> None:
    bars = [bar(9, "NSE:NIFTY 50", i, 25900.0, 25910.0, 25890.0, 25905.0) for i in range(5)]
    straddle = msgspec.structs.replace(
        alert("NIFTY 50:kow_signal_straddle:x", 9, "NSE:NIFTY 50", "kow_signal_straddle",
              "NEUTRAL", 1, 0.7, 160.0, 80.0, 320.0), action="SELL_STRADDLE")
    plain = alert("n1", 9, "NSE:NIFTY 50", "breakout", "BULLISH", 2, 0.6, 25905.0,
                  25950.0, 25880.0)
    html = render_html(ReportData.from_records(
        [*bars, straddle, plain, window(straddle, 1, True), window(plain, 1, True)]))
    assert html.count('class="alert-marker') == 1 and 'data-alert-id="n1"' in html
    table = html[html.index('data-token="9"'):]
    # Listed in the instrument's table with its premium levels.
    assert "kow_signal_straddle" in table and "160.00" in table and "320.00" in table


def test_success_chart_wraps_every_pattern_into_view() -> None:
    """23 rows (the 22 patterns and the pool) wrap into panels of 8 within the chart's box."""
    rows = [PatternSummary(f"p{k:02d}", 1, 0.5, {1: WindowSuccess(k % 3 + 1, 4),
                                                 5: WindowSuccess(1, 2)}, 0.0, 0.0)
            for k in range(23)]
    chart = Doc(success_chart(rows))
    box = chart.svgs[0].attrs
    width, height = float(box["width"]), float(box["height"])
    bars = chart.find("success-bar")
    assert {b.attrs["data-pattern"] for b in bars} == {r.pattern for r in rows}
    for b in bars:
        x, y = float(b.attrs["x"]), float(b.attrs["y"])
        assert x >= 0 and x + float(b.attrs["width"]) <= width
        assert y >= 0 and y + float(b.attrs["height"]) <= height
    # Three panels (8 + 8 + 7 patterns), each bar standing on its panel's baseline.
    baselines = sorted({round(float(b.attrs["y"]) + float(b.attrs["height"]), 6)
                        for b in bars})
    assert len(baselines) == 3
    per_panel = [{b.attrs["data-pattern"] for b in bars
                  if round(float(b.attrs["y"]) + float(b.attrs["height"]), 6) == base}
                 for base in baselines]
    assert [len(p) for p in per_panel] == [8, 8, 7]
    assert width < 1000  # a page's width: no sideways scrolling for twenty-odd patterns
