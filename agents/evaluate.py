"""``aion evaluate``: run every detector over sessions and score them.

Two sources of sessions:

* **simulated** (:func:`simulate_sessions`): one session per seed of a date, written to a
  directory with its sidecars; the ``.events.json`` labels are the ground truth;
* **recorded** (``--sessions FILE ...``): session files with their instruments CSV and no
  labels; only forward-validation figures and the baseline are reported.

Each session runs through the direct driver (:func:`~aion.agents.direct.run_direct`) with
the analytics config the settings give a worker (pattern registry included) and no volume
averages (the detectors read relative volume from the session's own bars). Its
:class:`~aion.tables.records.AlertRecord` and
:class:`~aion.tables.records.ValidationRecord` outputs are collected and scored by the
pure :mod:`aion.tables.evaluation` modules: precision and recall against the labels, hit
rates per window with bootstrap intervals, the random-entry baseline on the same ticks,
and calibration on the 5-minute window.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aion.streams.instruments import Instrument, InstrumentMaster
from aion.tables.analytics import AnalyticsConfig
from aion.tables.evaluation import baseline as bl
from aion.tables.evaluation.calibration import DEFAULT_WINDOW_MIN, Calibration, calibrate
from aion.tables.evaluation.hit_rates import bootstrap_ci, hit_rate
from aion.tables.evaluation.labels import (
    PATTERN_LABELS,
    Label,
    PatternScore,
    ScoredAlert,
    label_direction,
    score_pattern,
)
from aion.tables.patterns.base import InstrumentKind
from aion.tables.records import AlertRecord, ValidationRecord
from aion.tables.validation.costs import InstrumentClass
from aion.tables.validation.forward import WINDOWS_MIN, ValidationConfig, WindowResult

Progress = Callable[[str, int, int | None], None]
"""``progress(stage, done, total)``: stage text, units done, units in all (None: unknown)."""


@dataclass(frozen=True, slots=True)
class WindowFigures:
    """Hit rate of one window.

    Attributes:
        n: Outcomes (directional alerts whose window closed).
        hit_rate: Successes / n (None: no outcomes).
        ci: Bootstrap 95 % interval (None: no outcomes).
    """

    n: int
    hit_rate: float | None
    ci: tuple[float, float] | None

    def to_json(self) -> dict[str, Any]:
        """As JSON."""
        return {"n": self.n, "hit_rate": self.hit_rate,
                "ci95": list(self.ci) if self.ci else None}


@dataclass
class PatternReport:
    """Everything reported for one pattern.

    Attributes:
        name: Pattern name.
        alerts: Alerts over all sessions.
        score: Precision and recall (None: sessions without labels).
        windows: Hit rate per window of the pattern's alerts.
        baseline: The same for the random-entry baseline.
        baseline_entries: Baseline entries validated.
        calibration: Confidence deciles against success on the 5-minute window.
        mean_confidence: Mean confidence of the alerts (None: no alerts).
    """

    name: str
    alerts: int = 0
    score: PatternScore | None = None
    windows: dict[int, WindowFigures] = field(default_factory=dict)
    baseline: dict[int, WindowFigures] = field(default_factory=dict)
    baseline_entries: int = 0
    calibration: Calibration | None = None
    mean_confidence: float | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` entry of the pattern."""
        s = self.score
        out: dict[str, Any] = {
            "labelled": s.labelled if s is not None and s.has_labels else None,
            "alerts": self.alerts,
            "precision": s.precision if s is not None else None,
            "recall": s.recall if s is not None else None,
        }
        if s is not None:
            out["matched_alerts"] = s.matched_alerts
            out["found_labels"] = s.found_labels
            out["alerts_on_negatives"] = s.on_negative
            out["recall_by_size"] = [
                {"sigma_from": lo, "sigma_to": None if hi == float("inf") else hi,
                 "labelled": n, "found": f, "recall": f / n if n else None}
                for lo, hi, n, f in s.recall_by_size]
        out["mean_confidence"] = self.mean_confidence
        out["hit_rate"] = {str(w): f.to_json() for w, f in self.windows.items()}
        out["baseline_entries"] = self.baseline_entries
        out["baseline_hit_rate"] = {str(w): f.to_json() for w, f in self.baseline.items()}
        if self.calibration is not None:
            out["calibration"] = _calibration_json(self.calibration)
        return out


@dataclass
class EvaluationReport:
    """The evaluation of a set of sessions.

    Attributes:
        sessions: Session files evaluated.
        labelled: Whether the sessions had labels (simulated).
        patterns: Per pattern, in registry order.
        calibration: Over every pattern's alerts.
        windows: Window lengths, minutes.
        labels: Labels over all sessions.
    """

    sessions: list[Path]
    labelled: bool
    patterns: dict[str, PatternReport]
    calibration: Calibration
    windows: tuple[int, ...] = WINDOWS_MIN
    labels: int = 0

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` document."""
        return {
            "sessions": [str(p) for p in self.sessions],
            "labelled": self.labelled,
            "labels": self.labels,
            "windows_min": list(self.windows),
            "calibration_window_min": DEFAULT_WINDOW_MIN,
            "patterns": {name: r.to_json() for name, r in self.patterns.items()},
            "calibration": _calibration_json(self.calibration),
        }


def _calibration_json(c: Calibration) -> dict[str, Any]:
    return {"brier": c.brier, "n": c.count,
            "buckets": [{"from": b.lo, "to": b.hi, "n": b.count,
                         "mean_confidence": b.mean_confidence,
                         "success_rate": b.success_rate} for b in c.buckets]}


def simulate_sessions(day: _dt.date, seeds: Sequence[int], directory: Path, *,
                      start: _dt.time = _dt.time(9, 15), end: _dt.time = _dt.time(15, 30),
                      progress: Progress | None = None) -> list[Path]:
    """Simulate one session per seed into ``directory`` (with their sidecars).

    Args:
        day: Trading date.
        seeds: Seeds.
        directory: An existing directory.
        start: Window start (IST).
        end: Window end (IST).
        progress: Progress callback.

    Returns:
        The session files, in the seeds' order.
    """
    from aion.streams.simulator import simulate

    paths = []
    for seed in seeds:
        stage = f"simulating seed {seed}"

        def update(done: int, total: int, stage: str = stage) -> None:
            if progress:
                progress(stage, done, total)

        paths.append(simulate(day, seed, directory / f"{day}-seed{seed}.parquet",
                              start=start, end=end, progress=update).path)
    return paths


def events_path_for(session: Path) -> Path:
    """The ``FILE.events.json`` sidecar of a session file."""
    from aion.streams.simulator.generate import sidecar_paths

    return sidecar_paths(session)[1]


def _ms(iso: object) -> int:
    return int(_dt.datetime.fromisoformat(str(iso)).timestamp() * 1000)


def labels_from_events(records: Sequence[dict[str, object]], master: InstrumentMaster
                       ) -> list[Label]:
    """Labels from the simulator's sidecar records.

    A label on a future also covers its underlying index (``tables.evaluation.labels``).

    Args:
        records: ``load_events_json`` output.
        master: The session's instrument master.

    Returns:
        The labels.
    """
    out = []
    for r in records:
        token = int(str(r["token"]))
        tokens = {token}
        inst = master.get(token)
        if inst is not None and inst.is_future and inst.underlying:
            with contextlib.suppress(Exception):  # an underlying not in the master
                tokens.add(master.token_for(inst.underlying))
        sigma = r.get("magnitude_sigma")
        out.append(Label(
            event_type=str(r["event_type"]), tokens=frozenset(tokens),
            start_ms=_ms(r["start"]), end_ms=_ms(r["end"]),
            direction=label_direction(r.get("direction")),
            magnitude_sigma=float(sigma) if isinstance(sigma, int | float) else 0.0,
            symbol=str(r.get("symbol", ""))))
    return out


def _direction(signal: str) -> int:
    return {"BULLISH": 1, "BEARISH": -1}.get(signal, 0)


def _cost_class(inst: Instrument | None) -> InstrumentClass:
    if inst is not None and inst.is_option:
        return InstrumentClass.OPTION
    if inst is not None and inst.is_future:
        return InstrumentClass.FUTURE
    return InstrumentClass.EQUITY


def read_ticks(path: Path, tokens: set[int]) -> dict[int, bl.TickSeries]:
    """Event time and last price of the given instruments' ticks, in file (feed) order.

    Event time as the engine takes it (``tables.timeutil.event_time_ns``); rows that do
    not decode, or with a non-positive or non-finite price, are left out.

    Args:
        path: Session file.
        tokens: Instruments wanted.

    Returns:
        Ticks per token (tokens without ticks absent).
    """
    from aion.streams.batch import decode_packets
    from aion.streams.session_file import iter_batches
    from aion.tables.timeutil import NS_PER_MS, event_time_ns

    want = np.fromiter(tokens, dtype=np.uint32, count=len(tokens))
    times: dict[int, list[np.ndarray]] = {}
    prices: dict[int, list[np.ndarray]] = {}
    for recv, toks, packets in iter_batches(path):
        keep = np.flatnonzero(np.isin(toks, want))
        if len(keep) == 0:
            continue
        rows = decode_packets([packets[i] for i in keep.tolist()])
        ev = event_time_ns(rows["kind"], rows["exchange_ts"], recv[keep]) // NS_PER_MS
        px = rows["last_price"]
        ok = (rows["error"] == 0) & np.isfinite(px) & (px > 0)
        tk = rows["token"]
        for t in np.unique(tk[ok]).tolist():
            sel = ok & (tk == t)
            times.setdefault(int(t), []).append(ev[sel].astype(np.int64))
            prices.setdefault(int(t), []).append(px[sel].astype(np.float64))
    return {t: bl.TickSeries(np.concatenate(times[t]), np.concatenate(prices[t]))
            for t in times}


@dataclass
class _SessionRun:
    alerts: list[AlertRecord]
    validations: list[ValidationRecord]
    labels: list[Label]
    baseline: dict[str, list[WindowResult]]  # per pattern
    baseline_entries: dict[str, int]
    scored: list[ScoredAlert]


def _run_session(path: Path, events: Path | None, *, config: AnalyticsConfig,
                 partitions: int, bundle_packets: int, baseline: bl.BaselineConfig,
                 progress: Progress | None) -> _SessionRun:
    from aion.agents.backtest import instruments_csv_for
    from aion.agents.direct import run_direct
    from aion.streams.session_file import count_rows
    from aion.streams.simulator.events import load_events_json

    master = InstrumentMaster.from_csv(instruments_csv_for(path))
    total = count_rows(path)
    done = 0
    stage = f"detectors {path.name}"

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(stage, done, total)

    result = run_direct(path, master, partitions=partitions, bundle_packets=bundle_packets,
                        progress=advance, config=config)
    alerts = [r for r in result.records if isinstance(r, AlertRecord)]
    validations = [r for r in result.records if isinstance(r, ValidationRecord)]
    labels = labels_from_events(load_events_json(events), master) if events else []
    by_pattern: dict[str, list[bl.Template]] = {}
    # Chain alerts trade an option pair's premium, not their token's price: a random entry
    # on the underlying's ticks is no baseline for them, so they have none.
    chain = {s.name for s in config.alerts.patterns.enabled_for(InstrumentKind.CHAIN)}
    for a in alerts:
        if a.pattern in chain:
            continue
        inst = master.get(a.token)
        d = _direction(a.signal)
        by_pattern.setdefault(a.pattern, []).append(bl.Template(
            token=a.token, event_ms=a.timestamp, direction=d, price=a.entry_price,
            target=a.target_price if d and a.entry_price > 0 else None,
            stop=a.stop_loss if d and a.entry_price > 0 else None,
            quantity=max(a.quantity, a.lot_size, 1), instrument_class=_cost_class(inst)))
    if progress:
        progress(f"baseline {path.name}", 0, None)
    ticks = read_ticks(path, {t.token for ts in by_pattern.values() for t in ts})
    vconfig: ValidationConfig = config.validation
    runs: dict[str, list[WindowResult]] = {}
    entries: dict[str, int] = {}
    for pattern, templates in by_pattern.items():
        draws = bl.draw_entries(templates, baseline)
        run = bl.run_baseline(draws, ticks, vconfig, label=f"baseline:{pattern}")
        runs[pattern] = run.results
        entries[pattern] = run.entries
    scored = [ScoredAlert(a.alert_id, a.pattern, alert_token(a, master), a.timestamp,
                          _direction(a.signal), a.confidence) for a in alerts]
    return _SessionRun(alerts, validations, labels, runs, entries, scored)


def alert_token(alert: AlertRecord, master: InstrumentMaster) -> int:
    """The instrument token an alert is scored on.

    Its own token, or its symbol's when the master does not know the token (a chain
    alert may name its underlying only by symbol).

    Args:
        alert: The alert.
        master: The session's instrument master.

    Returns:
        A token of the master when one is found, else the alert's own token.
    """
    if master.get(alert.token) is not None or not alert.symbol:
        return alert.token
    for symbol in (alert.symbol, f"NSE:{alert.symbol}"):
        with contextlib.suppress(Exception):  # not a symbol of this master
            return master.token_for(symbol)
    return alert.token


def evaluate_sessions(paths: Sequence[Path], *, labelled: bool, config: AnalyticsConfig,
                      partitions: int, bundle_packets: int,
                      baseline: bl.BaselineConfig | None = None,
                      progress: Progress | None = None) -> EvaluationReport:
    """Run the detectors over sessions and score them.

    Args:
        paths: Session files (each with its instruments CSV; with ``labelled`` also its
            ``.events.json``).
        labelled: Score precision and recall against the sessions' labels.
        config: Analytics config (the pattern registry in it decides what runs).
        partitions: Partitions of the direct driver.
        bundle_packets: Packets per bundle.
        baseline: Random-entry baseline parameters (defaults if None).
        progress: Progress callback.

    Returns:
        The report.
    """
    baseline = baseline or bl.BaselineConfig()
    alerts: list[AlertRecord] = []
    validations: list[ValidationRecord] = []
    labels: list[Label] = []
    scored: list[ScoredAlert] = []
    base: dict[str, list[WindowResult]] = {}
    entries: dict[str, int] = {}
    for path in paths:
        run = _run_session(path, events_path_for(path) if labelled else None,
                           config=config, partitions=partitions,
                           bundle_packets=bundle_packets, baseline=baseline,
                           progress=progress)
        alerts += run.alerts
        validations += run.validations
        labels += run.labels
        scored += run.scored
        for p, rs in run.baseline.items():
            base.setdefault(p, []).extend(rs)
            entries[p] = entries.get(p, 0) + run.baseline_entries[p]
    windows = config.validation.windows_min
    names = [s.name for s in config.alerts.patterns.specs if s.enabled]
    names += sorted({a.pattern for a in alerts} - set(names))
    if labelled:  # labelled patterns not in the registry yet: labelled n, alerts 0
        known = {s.name for s in config.alerts.patterns.specs}
        names += sorted(p for p, rules in PATTERN_LABELS.items()
                        if rules and p not in known and p not in names)
    reports: dict[str, PatternReport] = {}
    for name in names:
        mine = [a for a in alerts if a.pattern == name]
        vals = [v for v in validations if v.pattern == name]
        report = PatternReport(name=name, alerts=len(mine))
        if labelled:
            report.score = score_pattern(name, scored, labels)
        report.windows = _figures(bl.window_outcomes(vals), windows)
        report.baseline = _figures(bl.window_outcomes(base.get(name, [])), windows)
        report.baseline_entries = entries.get(name, 0)
        report.calibration = calibrate(_calibration_pairs(vals))
        if mine:
            report.mean_confidence = sum(a.confidence for a in mine) / len(mine)
        reports[name] = report
    return EvaluationReport(
        sessions=list(paths), labelled=labelled, patterns=reports,
        calibration=calibrate(_calibration_pairs(validations)), windows=windows,
        labels=len(labels))


def _figures(outcomes: dict[int, list[bool]], windows: Sequence[int]
             ) -> dict[int, WindowFigures]:
    return {w: WindowFigures(len(outcomes.get(w, [])), hit_rate(outcomes.get(w, [])),
                             bootstrap_ci(outcomes.get(w, []))) for w in windows}


def _calibration_pairs(validations: Sequence[ValidationRecord]) -> list[tuple[float, bool]]:
    return [(v.confidence, bool(v.success)) for v in validations
            if v.window_min == DEFAULT_WINDOW_MIN and v.success is not None]


__all__ = ["EvaluationReport", "PatternReport", "WindowFigures", "alert_token",
           "evaluate_sessions", "labels_from_events", "read_ticks", "simulate_sessions"]
