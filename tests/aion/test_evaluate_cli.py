"""``aion evaluate``: the tables and the JSON on a short simulated window, recorded sessions,
and one-line errors for bad input."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import date, time
from pathlib import Path

import pytest

from aion.cli import main
from aion.streams.simulator import simulate
from aion.tables.patterns.chain_base import ChainDetector
from aion.tables.patterns.registry import DETECTORS
from aion.tables.validation.forward import WINDOWS_MIN

DAY = "2022-11-18"
CHAIN = {d.NAME for d in DETECTORS if issubclass(d, ChainDetector)}


def run_cli(argv: Sequence[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run ``aion`` in-process; return (exit status, stdout, stderr)."""
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse usage errors
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, dict]:
    """One seed, 09:15-10:15, through the CLI (stdout captured by hand: module scope)."""
    import contextlib
    import io

    out_json = tmp_path_factory.mktemp("eval") / "eval.json"
    buf = io.StringIO()
    # The CLI's console writes to whatever sys.stdout is when it prints.
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(io.StringIO()):
        code = main(["evaluate", "--date", DAY, "--seeds", "5", "--start", "09:15",
                     "--end", "10:15", "--json", str(out_json)])
    return code, buf.getvalue(), json.loads(out_json.read_text())


def test_table_has_every_part(evaluated: tuple[int, str, dict]) -> None:
    code, out, doc = evaluated
    assert code == 0
    assert "detectors against the simulator's labels" in out
    assert "forward-validation hit rate per window" in out
    assert "calibration: confidence decile" in out and "Brier" in out
    for w in WINDOWS_MIN:
        assert re.search(rf"\b{w}m\b", out)
    rows = {line.split("│")[1].strip() for line in out.splitlines() if line.startswith("│")}
    for name, entry in doc["patterns"].items():
        if entry["alerts"]:
            assert name in rows  # every pattern that alerted has its rows, names whole
    alerted = sum(1 for e in doc["patterns"].values() if e["alerts"])
    assert len(re.findall(r"│ baseline\s+│", out)) == alerted


def test_json_structure(evaluated: tuple[int, str, dict]) -> None:
    _, _, doc = evaluated
    assert doc["labelled"] is True and doc["labels"] > 0
    assert doc["windows_min"] == list(WINDOWS_MIN)
    pats = doc["patterns"]
    assert {"breakout", "volume_spike", "upside_momentum", "reversal"} <= set(pats)
    assert sum(e["alerts"] for e in pats.values()) > 0
    for name, e in pats.items():
        assert {"labelled", "alerts", "precision", "recall", "hit_rate",
                "baseline_hit_rate"} <= set(e), name
        assert set(e["hit_rate"]) == {str(w) for w in WINDOWS_MIN}
        if name == "hidden_accumulation":
            assert e["labelled"] is None and e["precision"] is None and e["recall"] is None
            continue
        if e["alerts"] and e["precision"] is not None:
            assert 0.0 <= e["precision"] <= 1.0
            assert e["matched_alerts"] == round(e["precision"] * e["alerts"])
        if e["labelled"]:
            assert e["found_labels"] == round(e["recall"] * e["labelled"])
            assert sum(b["labelled"] for b in e["recall_by_size"]) == e["labelled"]
        for w, fig in e["hit_rate"].items():
            if fig["n"]:
                lo, hi = fig["ci95"]
                assert lo <= fig["hit_rate"] <= hi, (name, w)
        if e["alerts"] and name not in CHAIN:
            # Five baseline entries per alert; a few may be dropped (no tick before).
            assert 0 < e["baseline_entries"] <= 5 * e["alerts"]
        elif name in CHAIN:  # premium alerts: the underlying's ticks are no baseline
            assert e["baseline_entries"] == 0
    cal = doc["calibration"]
    assert len(cal["buckets"]) == 10 and sum(b["n"] for b in cal["buckets"]) == cal["n"]
    assert cal["brier"] is None or 0.0 <= cal["brier"] <= 1.0


def test_recorded_sessions_have_no_labels(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "rec.parquet"
    simulate(date(2022, 11, 18), 6, path, start=time(9, 15), end=time(9, 45))
    (tmp_path / "rec.events.json").unlink()  # a recorded day has no labels
    out_json = tmp_path / "rec.json"
    code, out, err = run_cli(["evaluate", "--sessions", str(path), "--json", str(out_json)],
                             capsys)
    assert code == 0, err
    assert "detectors against the simulator's labels" not in out
    assert "forward-validation hit rate per window" in out
    doc = json.loads(out_json.read_text())
    assert doc["labelled"] is False and doc["sessions"] == [str(path)]
    for e in doc["patterns"].values():
        assert e["labelled"] is None and e["precision"] is None and e["recall"] is None


@pytest.mark.parametrize(("argv", "message"), [
    (["--date", DAY], "--date needs --seeds"),
    (["--seeds", "1"], "pass either --date"),
    (["--date", "2022-11-19", "--seeds", "1"], "not an NSE trading day"),
    (["--date", DAY, "--seeds", "1", "--start", "10:00", "--end", "09:30"],
     "must lie within 09:15-15:30"),
    (["--date", DAY, "--seeds", "1", "--json", "/nonexistent-dir/x.json"], "no such directory"),
])
def test_bad_input_is_one_line(argv: list[str], message: str,
                               capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["evaluate", *argv], capsys)
    assert code == 2
    assert message in err and err.count("\n") == 1 and err.startswith("error:")


@pytest.mark.parametrize(("argv", "message"), [
    (["--date", DAY, "--seeds", "1,x"], "non-negative integers"),
    (["--date", DAY, "--seeds", "1,1"], "repeated"),
    (["--sessions", "/nonexistent.parquet"], "no such file"),
])
def test_bad_arguments_are_usage_errors(argv: list[str], message: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["evaluate", *argv], capsys)
    assert code == 2 and message in err


def test_sessions_without_instruments_csv(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    bare = tmp_path / "bare.parquet"
    bare.write_bytes(b"not really")
    code, _, err = run_cli(["evaluate", "--sessions", str(bare)], capsys)
    assert code == 2 and "no instruments CSV" in err


def test_labelled_patterns_are_listed_and_scored_even_without_alerts(
        evaluated: tuple[int, str, dict]) -> None:
    from aion.tables.evaluation.labels import PATTERN_LABELS

    _, _, doc = evaluated
    pats = doc["patterns"]
    for name in (n for n, rules in PATTERN_LABELS.items() if rules):
        assert name in pats, name
        e = pats[name]
        assert e["labelled"] is not None, name
        if not e["alerts"]:  # listed all the same: no precision, recall 0 (or none)
            assert e["precision"] is None, name
            assert e["recall"] == (0.0 if e["labelled"] else None), name
    # The one-hour window holds an IV crush and structure events on stocks.
    assert pats["iv_crush"]["labelled"] >= 1
    assert sum(pats[n]["labelled"] for n in ("ict_liquidity_grab", "ict_fair_value_gap",
                                             "ict_optimal_trade_entry")) >= 1


def test_chain_alert_named_by_its_underlying_is_scored_on_the_index() -> None:
    from aion.agents.evaluate import alert_token
    from aion.streams.simulator.universe import build_universe
    from aion.tables.records import AlertRecord

    master = build_universe(date(2022, 11, 18)).master()
    nifty = master.token_for("NSE:NIFTY 50")

    def chain_alert(token: int, symbol: str) -> AlertRecord:
        return AlertRecord(
            alert_id="a", token=token, symbol=symbol, pattern="iv_crush",
            category="straddle", signal="NEUTRAL", action="SELL_STRADDLE", entry_price=0.0,
            target_price=0.0, stop_loss=0.0, quantity=0, lot_size=50, confidence=0.5,
            expected_move=0.0, rr_ratio=0.0, volume_ratio=1.0, timestamp=0, ts_ns=0,
            bar_start_ns=0)

    assert alert_token(chain_alert(nifty, "NSE:NIFTY 50"), master) == nifty
    assert alert_token(chain_alert(0, "NSE:NIFTY 50"), master) == nifty
    assert alert_token(chain_alert(0, "NIFTY 50"), master) == nifty  # exchange implied
    assert alert_token(chain_alert(0, "NSE:NO SUCH"), master) == 0  # left as it is
