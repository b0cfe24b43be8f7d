"""The ``aion`` command line: help, simulate, user errors, infra cycle, backtest, lookup."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Sequence
from datetime import date, time
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from aion.cli import main
from aion.streams.instruments import InstrumentMaster
from aion.streams.session_file import count_rows
from aion.streams.simulator import simulate

REPO = Path(__file__).resolve().parents[2]

# Every subcommand (and the instruments actions) with a word or two of its purpose that
# its --help must mention.
HELP_PURPOSE: dict[tuple[str, ...], str] = {
    ("infra",): "Tansu",
    ("simulate",): "Simulate an NSE/NFO session",
    ("sample",): "sample session",
    ("replay",): "partition bundles",
    ("worker",): "stream processor",
    ("backtest",): "summary",
    ("evaluate",): "random-entry baseline",
    ("instruments",): "instruments",
    ("instruments", "publish"): "aion.instruments",
    ("instruments", "lookup"): "resolve tokens or symbols",
    ("baselines",): "volume baseline",
    ("baselines", "build"): "avg_volume_20d",
}


def run_cli(argv: Sequence[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run ``aion`` in-process; return (exit status, stdout, stderr)."""
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse: --help, usage errors
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def cli_env(cache_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for a CLI subprocess: private cache dir, no configured broker/Redis."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("AION_KAFKA_BOOTSTRAP", "AION_REDIS_URL", "AION_TOPIC_PREFIX")}
    env.update({"AION_CACHE_DIR": str(cache_dir), "COLUMNS": "200", **extra})
    return env


def run_subprocess(argv: Sequence[str], env: dict[str, str],
                   timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``python -m aion.cli ARGV`` and capture its text output."""
    return subprocess.run(
        [sys.executable, "-m", "aion.cli", *argv], env=env, cwd=REPO, capture_output=True,
        text=True, timeout=timeout, check=False,
    )


def assert_one_error_line(code: int, err: str, *, mentions: str) -> None:
    """Exit 2, exactly one ``error:`` line naming the problem, and no traceback."""
    assert code == 2, err
    assert "Traceback" not in err
    error_lines = [line for line in err.splitlines() if "error:" in line]
    assert len(error_lines) == 1, err
    assert mentions.lower() in error_lines[0].lower(), error_lines[0]


@pytest.fixture()
def no_broker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private cache dir (so no `aion infra up` state is found) and no broker settings."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("AION_CACHE_DIR", str(cache))
    monkeypatch.delenv("AION_KAFKA_BOOTSTRAP", raising=False)
    monkeypatch.delenv("AION_REDIS_URL", raising=False)
    monkeypatch.delenv("AION_TOPIC_PREFIX", raising=False)
    return cache


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A 5-minute simulated session (09:15-09:20) with its sidecars."""
    path = tmp_path_factory.mktemp("session") / "s.parquet"
    simulate(date(2025, 11, 18), 7, path, start=time(9, 15), end=time(9, 20))
    yield path


# --- help ---------------------------------------------------------------------------------


@pytest.mark.parametrize("command", list(HELP_PURPOSE), ids=" ".join)
def test_every_subcommand_has_help(command: tuple[str, ...],
                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli([*command, "--help"], capsys)
    assert code == 0
    assert out.startswith("usage: aion " + " ".join(command))
    flat = " ".join(out.split())  # argparse re-wraps descriptions
    assert HELP_PURPOSE[command].lower() in flat.lower()


def test_top_level_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["--help"], capsys)
    assert code == 0
    for (name, *_rest) in HELP_PURPOSE:
        assert re.search(rf"^\s+{name}\s", out, re.MULTILINE), name


def test_no_arguments_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli([], capsys)
    assert code == 2
    assert out == ""
    assert "usage: aion" in err and "required: COMMAND" in err


# --- simulate -----------------------------------------------------------------------------


def test_simulate_writes_session_and_sidecars_deterministically(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["simulate", "--date", "2025-11-18", "--seed", "7", "--start", "09:15",
            "--end", "09:20"]
    outputs: list[dict[str, bytes]] = []
    for run in ("a", "b"):
        target = tmp_path / run / "x.parquet"
        target.parent.mkdir()
        code, out, err = run_cli([*argv, "-o", str(target)], capsys)
        assert code == 0, err
        files = {p.name: p.read_bytes() for p in sorted(target.parent.iterdir())}
        assert set(files) == {"x.parquet", "x.instruments.csv", "x.events.json"}
        rows = count_rows(target)
        master = InstrumentMaster.from_csv(target.parent / "x.instruments.csv")
        flat = " ".join(out.split())
        assert f"wrote {rows:,} packets for {len(master)} instruments" in flat
        assert "x.instruments.csv" in flat and "x.events.json" in flat
        outputs.append(files)
    assert rows > 1000
    assert outputs[0] == outputs[1]


# --- user errors: one line, exit 2 --------------------------------------------------------


def test_replay_of_a_non_parquet_file(tmp_path: Path, no_broker: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "notes.parquet"
    bogus.write_text("this is not parquet\n" * 10)
    code, _, err = run_cli(["replay", str(bogus)], capsys)
    assert_one_error_line(code, err, mentions="not a Parquet file")


def test_replay_of_a_missing_file(tmp_path: Path, no_broker: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["replay", str(tmp_path / "nope.parquet")], capsys)
    assert_one_error_line(code, err, mentions="no such file")


def test_replay_bad_speed(session: Path, no_broker: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["replay", str(session), "--speed", "fast"], capsys)
    assert_one_error_line(code, err, mentions="bad speed 'fast'")


@pytest.mark.parametrize("size", ["0", "65536"])
def test_replay_bad_bundle_size(size: str, session: Path, no_broker: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["replay", str(session), "--bundle", size], capsys)
    assert_one_error_line(code, err, mentions="bundle")
    assert size in err


def test_replay_without_a_broker(session: Path, no_broker: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["replay", str(session)], capsys)
    assert_one_error_line(code, err, mentions="no broker")
    assert "AION_KAFKA_BOOTSTRAP" in err and "aion infra up" in err
    assert "sent" not in out
    assert not (no_broker / "infra.json").exists()


@pytest.mark.parametrize("bad", ["2025-13-01", "18-11-2025"])
def test_simulate_bad_date(bad: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "y.parquet"
    code, _, err = run_cli(["simulate", "--date", bad, "-o", str(out_file)], capsys)
    assert_one_error_line(code, err, mentions=f"not a date (YYYY-MM-DD): '{bad}'")
    assert not out_file.exists()


def test_user_error_in_a_subprocess_has_no_traceback(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.parquet"
    bogus.write_bytes(b"PAR1 but not really")
    done = run_subprocess(["replay", str(bogus)],
                          cli_env(tmp_path / "cache", AION_KAFKA_BOOTSTRAP="127.0.0.1:1"))
    assert_one_error_line(done.returncode, done.stderr, mentions="not a Parquet file")
    assert done.stdout == ""


# --- infra up | status | down -------------------------------------------------------------


def test_infra_up_status_down_cycle(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = cli_env(cache)

    down = run_subprocess(["infra", "status"], env)
    assert down.returncode == 1
    assert "not running" in down.stdout

    up = run_subprocess(["infra", "up"], env)
    try:
        assert up.returncode == 0, up.stderr
        exports = dict(re.findall(r"^export (AION_\w+)=(\S+)$", up.stdout, re.MULTILINE))
        assert set(exports) == {"AION_KAFKA_BOOTSTRAP", "AION_REDIS_URL"}
        assert exports["AION_KAFKA_BOOTSTRAP"].startswith("127.0.0.1:")
        assert exports["AION_REDIS_URL"].startswith("redis://127.0.0.1:")
        assert (cache / "infra.json").is_file()

        status = run_subprocess(["infra", "status"], env)
        assert status.returncode == 0, status.stderr
        assert exports["AION_KAFKA_BOOTSTRAP"] in status.stdout
        assert status.stdout.count(" up") == 2
        pids = [int(p) for p in re.findall(r"\(pid (\d+)\)", status.stdout)]
        assert len(pids) == 2 and all(_alive(pid) for pid in pids)

        again = run_subprocess(["infra", "up"], env)
        assert_one_error_line(again.returncode, again.stderr, mentions="already running")
    finally:
        stopped = run_subprocess(["infra", "down"], env)
    assert stopped.returncode == 0, stopped.stderr
    assert "stopped" in stopped.stdout and "kafka" in stopped.stdout
    assert not any(_alive(pid) for pid in pids)
    assert not (cache / "infra.json").exists()

    after = run_subprocess(["infra", "status"], env)
    assert after.returncode == 1
    again_down = run_subprocess(["infra", "down"], env)
    assert again_down.returncode == 0 and "nothing was running" in again_down.stdout


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (and is not a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


# --- backtest (direct) and instruments lookup ---------------------------------------------


def test_backtest_direct_counts_every_tick(session: Path, no_broker: Path, redis_flushed: str,
                                           monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("AION_REDIS_URL", redis_flushed)
    code, out, err = run_cli(["backtest", "--driver", "direct", str(session)], capsys)
    assert code == 0, err
    # The direct driver writes the results, without expiry, and says where they are.
    assert f"results in {redis_flushed}" in out
    import redis

    client = redis.Redis.from_url(redis_flushed, decode_responses=True)
    sessions = list(client.scan_iter("session:*"))
    assert sessions and client.ttl(sessions[0]) == -1
    client.close()
    rows = count_rows(session)
    # Instruments that ticked: a short window leaves far out-of-the-money strikes silent.
    instruments = len(pc.unique(pq.read_table(session, columns=["token"])["token"]))
    assert instruments > 0.5 * len(InstrumentMaster.from_csv(
        session.with_suffix(".instruments.csv")))
    assert "direct driver" in out
    assert re.search(rf"ticks\s*│\s*{rows:,}\s", out), out
    assert re.search(rf"instruments\s*│\s*{instruments:,}\s", out), out
    assert re.search(r"dead letters\s*│\s*0\s", out), out


def test_backtest_without_instruments_csv_is_a_user_error(
    tmp_path: Path, session: Path, no_broker: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lonely = tmp_path / "lonely.parquet"
    lonely.write_bytes(session.read_bytes())
    code, _, err = run_cli(["backtest", "--driver", "direct", str(lonely)], capsys)
    assert_one_error_line(code, err, mentions="no instruments CSV")


def test_instruments_lookup_resolves_both_ways(session: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    csv = session.with_suffix(".instruments.csv")
    code, out, err = run_cli(["instruments", "lookup", str(csv), "738561", "NSE:RELIANCE"],
                             capsys)
    assert code == 0, err
    assert out.splitlines() == ["738561 -> NSE:RELIANCE", "NSE:RELIANCE -> 738561"]


def test_instruments_lookup_unknown_item_exits_1(session: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    csv = session.with_suffix(".instruments.csv")
    code, out, err = run_cli(["instruments", "lookup", str(csv), "NSE:RELIANCE", "NSE:NOPE"],
                             capsys)
    assert code == 1
    assert out.splitlines() == ["NSE:RELIANCE -> 738561"]
    assert "unknown" in err and "NOPE" in err


def test_unreachable_broker_is_one_error_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from aion.cli import main

    monkeypatch.setenv("AION_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("AION_KAFKA_BOOTSTRAP", "127.0.0.1:1")
    csv = tmp_path / "i.csv"
    csv.write_text(
        "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,"
        "tick_size,lot_size,instrument_type,segment,exchange\n"
        "738561,2885,RELIANCE,RELIANCE INDUSTRIES,0,,0,0.05,1,EQ,NSE,NSE\n"
    )
    assert main(["instruments", "publish", str(csv)]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1
    assert "Traceback" not in err


# --- baselines ----------------------------------------------------------------------------


def test_baselines_build_writes_json_redis_and_topic(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kafka_bootstrap: str, redis_url: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    import json

    import redis as redis_lib

    from aion.config import KeyLayout, url_for_db
    from aion.streams.simulator.daily import simulate_daily_history, write_daily_csv
    from aion.streams.topics import read_all

    daily = write_daily_csv(simulate_daily_history(date(2025, 11, 18), 5, 60),
                            tmp_path / "daily.csv")
    out_json = tmp_path / "avg.json"
    prefix = f"cli-{os.getpid()}."
    monkeypatch.setenv("AION_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("AION_KAFKA_BOOTSTRAP", kafka_bootstrap)
    monkeypatch.setenv("AION_REDIS_URL", redis_url)
    code, out, err = run_cli(["baselines", "build", str(daily), "-o", str(out_json),
                              "--topic-prefix", prefix], capsys)
    assert code == 0, err
    doc = json.loads(out_json.read_text())
    rows = [r for r in simulate_daily_history(date(2025, 11, 18), 5, 60)
            if r["symbol"] == "NSE:RELIANCE"]
    want20 = sum(r["volume"] for r in rows[-20:]) / 20
    assert doc["NSE:RELIANCE"]["avg_volume_20d"] == pytest.approx(want20)
    assert f"{len(doc):,} symbols" in out
    layout = KeyLayout.load()
    key = layout.key("volume_averages", exchange="NSE", tradingsymbol="RELIANCE")
    client = redis_lib.Redis.from_url(url_for_db(redis_url, key.db), decode_responses=True)
    assert float(client.hget(key.name, "avg_volume_20d")) == pytest.approx(want20)
    client.close()
    records = asyncio.run(read_all(kafka_bootstrap, prefix + "aion.volume.averages"))
    assert {k.decode() for _, _, k, _ in records} == set(doc)
    from aion.agents.outputs import OUTPUTS

    decoded = {r.symbol: r.values for r in (OUTPUTS.codec.decode(v) for *_, v in records)}
    assert decoded == doc


def test_baselines_build_bad_file_is_one_error_line(
        tmp_path: Path, no_broker: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("date,symbol,open,high,low,close\n2025-01-01,X,1,1,1,1\n")
    code, _, err = run_cli(["baselines", "build", str(bad), "--json-only"], capsys)
    assert_one_error_line(code, err, mentions="volume")


def test_backtest_results_outlive_the_command(session: Path, no_broker: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """With nothing configured, the results go to a started `aion infra` Redis that stays."""
    import redis

    from aion import infra
    from aion.config import Settings

    settings = Settings.load()
    try:
        code, out, err = run_cli(["backtest", "--driver", "direct", str(session)], capsys)
        assert code == 0, err
        running = infra.infra_status(settings)
        assert running is not None, "the backtest did not leave its Redis running"
        assert f"results in {running.redis_url}" in out and "aion infra down" in out
        client = redis.Redis.from_url(running.redis_url)
        assert any(True for _ in client.scan_iter("session:*"))
        client.close()
    finally:
        infra.infra_down(settings)
    assert infra.infra_status(settings) is None


def test_backtest_no_keep_starts_nothing(session: Path, no_broker: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from aion import infra
    from aion.config import Settings

    code, out, err = run_cli(["backtest", "--driver", "direct", "--no-keep", str(session)],
                             capsys)
    assert code == 0, err
    assert "not kept" in out and infra.infra_status(Settings.load()) is None


# --- issue 11: every error is one line, nothing half-written ------------------------------


def assert_only_error_line(code: int, err: str, *, mentions: str, status: int = 2) -> None:
    """Exit ``status``, stderr is exactly one ``error:`` line naming the problem."""
    assert code == status, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), lines[0]
    assert mentions.lower() in lines[0].lower(), lines[0]


def listing(directory: Path) -> set[str]:
    """Every name in ``directory``, hidden temporary files included."""
    return {p.name for p in directory.iterdir()}


SIM = ["simulate", "--date", "2025-11-18", "--seed", "1"]


@pytest.mark.parametrize(("start", "end"), [("10:00", "09:30"), ("10:00", "10:00"),
                                            ("02:00", "03:00"), ("15:00", "16:00")])
def test_simulate_bad_window(start: str, end: str, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli([*SIM, "--start", start, "--end", end, "-o",
                            str(tmp_path / "w.parquet")], capsys)
    assert_only_error_line(code, err, mentions=f"window {start}:00-{end}:00 must lie within")
    assert listing(tmp_path) == set()


def test_simulate_into_a_missing_directory(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli([*SIM, "--end", "09:16", "-o", str(tmp_path / "no" / "x.parquet")],
                           capsys)
    assert_only_error_line(code, err, mentions=f"output directory {tmp_path / 'no'} does not")
    assert listing(tmp_path) == set()


@pytest.mark.parametrize("in_the_way", ["x.parquet", "x.events.json", "x.instruments.csv"])
def test_simulate_onto_a_directory(in_the_way: str, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / in_the_way).mkdir()
    code, _, err = run_cli([*SIM, "--end", "09:16", "-o", str(tmp_path / "x.parquet")],
                           capsys)
    assert_only_error_line(code, err, mentions=f"{in_the_way} is a directory")
    assert listing(tmp_path) == {in_the_way}
    assert not any((tmp_path / in_the_way).iterdir())


@pytest.mark.parametrize("fail", [OSError(28, "No space left on device"), KeyboardInterrupt()],
                         ids=["disk-full", "ctrl-c"])
def test_simulate_failing_mid_write_leaves_no_file(
        fail: BaseException, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from aion.streams.session_file import SessionWriter

    real_write = SessionWriter.write
    calls: list[int] = []

    def write_then_fail(self: SessionWriter, *args: object) -> None:
        calls.append(1)
        if len(calls) == 2:  # the first block is on disk (a row group), then the failure
            raise fail
        real_write(self, *args)

    monkeypatch.setattr(SessionWriter, "write", write_then_fail)
    code, _, err = run_cli([*SIM, "--end", "09:30", "-o", str(tmp_path / "x.parquet")], capsys)
    assert len(calls) == 2
    if isinstance(fail, KeyboardInterrupt):
        assert (code, err.strip()) == (130, "interrupted")
    else:
        assert_only_error_line(code, err, mentions="cannot write")
        assert "No space left on device" in err
    assert listing(tmp_path) == set()


@pytest.mark.parametrize(("day", "why"), [("2025-11-22", "Saturday"),
                                          ("2025-10-22", "Diwali Balipratipada")])
def test_simulate_refuses_a_non_trading_day_unless_asked(
        day: str, why: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["simulate", "--date", day, "--end", "09:16", "-o", str(tmp_path / "x.parquet")]
    code, _, err = run_cli(argv, capsys)
    assert_only_error_line(code, err, mentions=f"{day} is not an NSE trading day ({why}); "
                           "pass --allow-non-trading-day")
    assert listing(tmp_path) == set()
    code, _, err = run_cli([*argv, "--allow-non-trading-day"], capsys)
    assert code == 0, err
    assert listing(tmp_path) == {"x.parquet", "x.instruments.csv", "x.events.json"}


@pytest.mark.parametrize("day", ["2014-12-31", "2027-01-04", "2030-11-18"])
def test_simulate_refuses_a_date_outside_the_calendar(
        day: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["simulate", "--date", day, "--allow-non-trading-day",
                            "-o", str(tmp_path / "x.parquet")], capsys)
    assert_only_error_line(code, err, mentions=f"{day} is outside the NSE calendar (2015-2026")
    assert listing(tmp_path) == set()


@pytest.mark.parametrize(("argv", "message"), [
    (["simulate", "--date", "2025-11-18", "--seed", "-1", "-o", "x.parquet"],
     "argument --seed: must be at least 0, got -1"),
    (["backtest", "--partitions", "0"], "argument --partitions: must be at least 1, got 0"),
    (["backtest", "--workers", "0"], "argument --workers: must be at least 1, got 0"),
    (["backtest", "--bundle", "-5"], "argument --bundle: must be at least 1, got -5"),
    (["worker", "--partitions", "two"], "argument --partitions: not an integer: 'two'"),
])
def test_bad_numbers_are_usage_errors(argv: list[str], message: str,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(argv, capsys)
    assert_one_error_line(code, err, mentions=message)


@pytest.fixture()
def corrupt_session(tmp_path: Path, session: Path) -> Path:
    """The session with 2,000 bytes in the middle of its packet column flipped."""
    import pyarrow.parquet as pq

    column = pq.ParquetFile(session).metadata.row_group(0).column(2)
    data = bytearray(session.read_bytes())
    middle = column.data_page_offset + column.total_compressed_size // 2
    data[middle:middle + 2000] = bytes(b ^ 0x5A for b in data[middle:middle + 2000])
    out = tmp_path / "corrupt.parquet"
    out.write_bytes(bytes(data))
    (tmp_path / "corrupt.instruments.csv").write_bytes(
        session.with_suffix(".instruments.csv").read_bytes())
    return out


def test_backtest_of_a_parquet_file_corrupted_mid_file(
        corrupt_session: Path, no_broker: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert count_rows(corrupt_session) == count_rows(corrupt_session)  # the footer is intact
    code, out, err = run_cli(["backtest", "--driver", "direct", "--no-keep",
                              str(corrupt_session)], capsys)
    assert_only_error_line(code, err, mentions=f"{corrupt_session}: corrupt data after row")
    # The reader's own reason follows (which one depends on the bytes the flip hit).
    assert re.search(r"corrupt data after row \d+ \(.+\)$", err.strip()), err
    assert out == ""


@pytest.fixture()
def binary_csv(tmp_path: Path, session: Path) -> Path:
    """A session whose instruments CSV is binary garbage."""
    (tmp_path / "bin.parquet").write_bytes(session.read_bytes())
    csv = tmp_path / "bin.instruments.csv"
    csv.write_bytes(bytes(range(256)) * 8)
    return csv


@pytest.mark.parametrize("command", ["lookup", "backtest"])
def test_binary_instruments_csv(command: str, binary_csv: Path, no_broker: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    argv = (["instruments", "lookup", str(binary_csv), "1"] if command == "lookup" else
            ["backtest", "--driver", "direct", "--no-keep",
             str(binary_csv.with_name("bin.parquet"))])
    code, _, err = run_cli(argv, capsys)
    # Byte 128 is the first that is not UTF-8 (0x80, a continuation byte at a start).
    assert_only_error_line(code, err, mentions=f"{binary_csv}: not_utf8_text (byte 128")


@pytest.mark.parametrize(("name", "value", "message"), [
    ("AION_PARTITIONS", "0", "setting partitions (AION_PARTITIONS) must be a positive "
                             "integer, got 0"),
    ("AION_PARTITIONS", "-3", "(AION_PARTITIONS) must be a positive integer, got -3"),
    ("AION_PARTITIONS", "abc", "(AION_PARTITIONS) must be a positive integer, got 'abc'"),
    ("AION_PARTITIONS", "2.5", "(AION_PARTITIONS) must be a positive integer, got 2.5"),
    ("AION_PARTITIONS", "[1", "AION_PARTITIONS='[1' is not a YAML scalar"),
    ("AION_PRODUCER__REPLAY_BUNDLE_PACKETS", "0",
     "(AION_PRODUCER__REPLAY_BUNDLE_PACKETS) must be a positive integer, got 0"),
    ("AION_MIRROR__TTL", "bogus", "mirror.ttl must be 'layout' or 'none', got 'bogus'"),
    ("AION_CHAIN__RISK_FREE_RATE", "abc", "bad engine setting"),
])
def test_bad_environment_values(name: str, value: str, message: str, session: Path,
                                no_broker: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(name, value)
    code, out, err = run_cli(["backtest", "--driver", "direct", "--no-keep", str(session)],
                             capsys)
    assert_only_error_line(code, err, mentions=message)
    assert out == ""


def test_unexpected_error_is_one_line_with_a_hint(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    import aion.streams.simulator

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(aion.streams.simulator, "simulate", broken)
    argv = [*SIM, "-o", str(tmp_path / "x.parquet")]
    code, _, err = run_cli(argv, capsys)
    assert_only_error_line(code, err, status=1, mentions="unexpected RuntimeError at ")
    assert "boom second line (rerun with --debug or AION_DEBUG=1" in err
    with pytest.raises(RuntimeError, match="boom"):
        main(["--debug", *argv])
    monkeypatch.setenv("AION_DEBUG", "1")
    with pytest.raises(RuntimeError, match="boom"):
        main(argv)


def test_subprocess_errors_have_no_traceback(tmp_path: Path, corrupt_session: Path) -> None:
    env = cli_env(tmp_path / "cache", AION_PARTITIONS="0")
    done = run_subprocess(["backtest", "--driver", "direct", "--no-keep",
                           str(corrupt_session)], env)
    assert_only_error_line(done.returncode, done.stderr, mentions="AION_PARTITIONS")
    del env["AION_PARTITIONS"]
    done = run_subprocess(["backtest", "--driver", "direct", "--no-keep",
                           str(corrupt_session)], env)
    assert_only_error_line(done.returncode, done.stderr, mentions="corrupt data after row")
    done = run_subprocess([*SIM, "--start", "02:00", "--end", "03:00",
                           "-o", str(tmp_path / "x.parquet")], env)
    assert_only_error_line(done.returncode, done.stderr, mentions="window 02:00:00-03:00:00")
    assert done.stdout == ""


def test_backtest_outside_the_calendar_warns_and_says_why_there_are_no_greeks(
        tmp_path: Path, no_broker: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import aion.cli

    monkeypatch.setattr(aion.cli.console, "width", 400)  # one table row per line
    path = tmp_path / "2027.parquet"
    simulate(date(2027, 1, 5), 3, path, start=time(9, 15), end=time(9, 17))
    master = InstrumentMaster.from_csv(path.with_suffix(".instruments.csv"))
    nifty_options = sum(1 for i in master if i.name == "NIFTY" and
                        i.instrument_type in ("CE", "PE"))
    assert nifty_options > 40  # strikes listed to cover +-5 %, a call and a put each
    # The chain counts the options that ticked (far strikes may stay silent two minutes).
    ticked = set(pc.unique(pq.read_table(path, columns=["token"])["token"]).to_pylist())
    n_opts = {name: sum(1 for i in master if i.name == name and i.instrument_token in ticked
                        and i.instrument_type in ("CE", "PE")) for name in ("NIFTY", "BANKNIFTY")}
    assert n_opts["NIFTY"] > 0.8 * nifty_options
    code, out, err = run_cli(["backtest", "--driver", "direct", "--no-keep", str(path)],
                             capsys)
    assert code == 0, err
    assert err.splitlines()[0] == (
        "warning: 2027-01-05 is outside the NSE calendar (2015-2026, config/nse_calendar.yaml):"
        " options get no time to expiry, so no IV or Greeks (reason calendar_range)")
    row = next(line for line in out.splitlines() if "option chains" in line)
    assert (f"NSE:NIFTY 50 0 (without: calendar_range: date outside the NSE calendar "
            f"{n_opts['NIFTY']}), NSE:NIFTY BANK 0 (without: calendar_range: date outside "
            f"the NSE calendar {n_opts['BANKNIFTY']})" in row), row


def test_baselines_output_onto_a_directory(tmp_path: Path, no_broker: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    daily = tmp_path / "daily.csv"
    daily.write_text("date,symbol,open,high,low,close,volume\n2025-01-01,X,1,1,1,1,100\n")
    (tmp_path / "out").mkdir()
    code, _, err = run_cli(["baselines", "build", str(daily), "--json-only",
                            "-o", str(tmp_path / "out")], capsys)
    assert_only_error_line(code, err, mentions=f"output {tmp_path / 'out'} is a directory")
    assert listing(tmp_path) == {"daily.csv", "out"}
    assert listing(tmp_path / "out") == set()


def test_replay_outside_the_calendar_warns_first(tmp_path: Path, no_broker: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "2014.parquet"
    simulate(date(2014, 12, 31), 3, path, start=time(9, 15), end=time(9, 16))
    code, _, err = run_cli(["replay", str(path)], capsys)
    assert code == 2
    warning, error = err.strip().splitlines()
    assert warning.startswith("warning: 2014-12-31 is outside the NSE calendar (2015-2026")
    assert error.startswith("error: no broker")
