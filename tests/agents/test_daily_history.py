"""Daily history loading/validation, averages JSON and Redis hash fields."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aion.agents.daily_history import (
    AveragesFileError,
    DailyHistoryError,
    build_averages,
    load_daily_history,
    normalise_symbol,
    read_averages_json,
    redis_hash_fields,
    redis_symbol,
    write_averages_json,
)

HEADER = "date,symbol,open,high,low,close,volume\n"


def random_frame(seed: int = 1, symbols=("RELIANCE", "NSE:HDFCBANK", "NSE:NIFTY 50")):
    rng = np.random.default_rng(seed)
    frames = []
    dates = pd.bdate_range("2025-01-01", periods=90)
    for k, sym in enumerate(symbols):
        n = [90, 30, 1][k % 3]
        close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
        frames.append(
            pd.DataFrame(
                {
                    "date": dates[-n:].strftime("%Y-%m-%d"),
                    "symbol": sym,
                    "open": close,
                    "high": close * 1.01,
                    "low": close * 0.99,
                    "close": close,
                    "volume": rng.integers(0, 10_000_000, n),
                }
            )
        )
    df = pd.concat(frames, ignore_index=True)
    # Files need not be sorted.
    return df.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def pandas_averages(df: pd.DataFrame) -> dict:
    df = df.copy()
    df["symbol"] = [s if ":" in s else f"NSE:{s}" for s in df["symbol"]]
    out = {}
    for sym, g in df.sort_values("date").groupby("symbol"):
        out[sym] = {
            "avg_volume_20d": g["volume"].tail(20).mean(),
            "avg_volume_55d": g["volume"].tail(55).mean(),
            "avg_price_20d": g["close"].tail(20).mean(),
            "avg_price_55d": g["close"].tail(55).mean(),
            "as_of": g["date"].iloc[-1],
            "days_available": len(g),
        }
    return out


def check_against_pandas(averages: dict, df: pd.DataFrame) -> None:
    want = pandas_averages(df)
    assert list(averages) == sorted(want)
    for sym, w in want.items():
        got = averages[sym]
        for key in ("avg_volume_20d", "avg_volume_55d", "avg_price_20d", "avg_price_55d"):
            assert got[key] == pytest.approx(w[key], rel=1e-12), (sym, key)
        assert got["as_of"] == w["as_of"]
        assert got["days_available"] == w["days_available"]


@pytest.mark.parametrize("fmt", ["csv", "csv.gz", "parquet"])
def test_round_trip_csv_and_parquet(tmp_path, fmt):
    df = random_frame()
    path = tmp_path / f"hist.{fmt}"
    if fmt == "parquet":
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False)
    seen = []
    history = load_daily_history(path, progress=lambda done, total: seen.append((done, total)))
    assert list(history) == ["NSE:HDFCBANK", "NSE:NIFTY 50", "NSE:RELIANCE"]
    assert seen[-1][0] == len(df)
    assert seen[-1][1] == (len(df) if fmt == "parquet" else None)
    for s in history.values():
        assert np.all(np.diff(s.days) > 0)

    built = []
    averages = build_averages(history, progress=lambda d, t: built.append((d, t)))
    assert built[-1] == (3, 3)
    check_against_pandas(averages, df)

    out = tmp_path / "volume_averages_20d.json"
    write_averages_json(averages, out)
    text = out.read_text()
    assert read_averages_json(out) == averages
    # Deterministic: same input, byte-identical file, keys sorted.
    write_averages_json(build_averages(load_daily_history(path)), tmp_path / "again.json")
    assert (tmp_path / "again.json").read_text() == text
    data = json.loads(text)
    assert list(data) == sorted(data)
    assert list(data["NSE:RELIANCE"]) == sorted(data["NSE:RELIANCE"])
    assert data["NSE:RELIANCE"]["days_55d"] == 55
    assert data["NSE:RELIANCE"]["turtle_ready"] in (True, False)


def test_csv_and_parquet_give_the_same_history(tmp_path):
    df = random_frame(seed=3)
    df.to_csv(tmp_path / "h.csv", index=False)
    df.to_parquet(tmp_path / "h.parquet", index=False)
    a = build_averages(load_daily_history(tmp_path / "h.csv"))
    b = build_averages(load_daily_history(tmp_path / "h.parquet"))
    assert a == b


def test_parquet_native_types(tmp_path):
    # date32 dates, timestamp-with-tz dates, int volume, dictionary symbols.
    table = pa.table(
        {
            "Date": pa.array(
                [pd.Timestamp("2025-03-03 00:00", tz="Asia/Kolkata")] * 1
                + [pd.Timestamp("2025-03-04 00:00", tz="Asia/Kolkata")],
                type=pa.timestamp("ns", tz="Asia/Kolkata"),
            ),
            "SYMBOL": pa.array(["infy", "infy"]).dictionary_encode(),
            "Open": [1.0, 1.0],
            "High": [2.0, 2.0],
            "Low": [1.0, 1.0],
            "Close": [1.5, 1.5],
            "Volume": pa.array([10, 30], type=pa.int64()),
        }
    )
    pq.write_table(table, tmp_path / "t.pq")
    h = load_daily_history(tmp_path / "t.pq")
    a = build_averages(h)["NSE:INFY"]
    # Midnight IST is the previous day in UTC: the IST date must be used.
    assert a["as_of"] == "2025-03-04" and a["avg_volume_20d"] == 20.0

    t2 = table.set_column(0, "Date", pa.array([20150, 20151], type=pa.date32()))
    pq.write_table(t2, tmp_path / "t2.parquet")
    assert build_averages(load_daily_history(tmp_path / "t2.parquet"))["NSE:INFY"]["as_of"] == (
        "2025-03-04"
    )


def test_dates_with_times_and_symbol_spellings(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text(
        " Date ,Symbol,Open,High,Low,Close,Volume,Extra\n"
        "2025-10-01 00:00:00+05:30,reliance,1,2,1,1.5,100,x\n"
        "2025-10-02T00:00:00,NSE:RELIANCE,1,2,1,1.5,300,\n"
        "2025-10-02,BSE:RELIANCE,1,2,1,1.5,7,\n"
    )
    h = load_daily_history(p)
    assert list(h) == ["BSE:RELIANCE", "NSE:RELIANCE"]
    assert build_averages(h)["NSE:RELIANCE"]["avg_volume_20d"] == 200.0


def test_as_of_filter(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text(
        HEADER
        + "2025-10-01,A,1,2,1,1,10\n2025-10-02,A,1,2,1,1,20\n2025-10-03,A,1,2,1,1,90\n"
        + "2025-10-03,B,1,2,1,1,5\n"
    )
    h = load_daily_history(p)
    a = build_averages(h, as_of="2025-10-02")
    assert list(a) == ["NSE:A"] and a["NSE:A"]["avg_volume_20d"] == 15.0
    assert build_averages(h, as_of=date(2025, 10, 2)) == a
    with pytest.raises(ValueError, match="as_of must be a date YYYY-MM-DD, got '2025-10'"):
        build_averages(h, as_of="2025-10")


# ---------------------------------------------------------------- bad input


def write(tmp_path, body: str, header: str = HEADER):
    p = tmp_path / "bad.csv"
    p.write_text(header + body)
    return p


@pytest.mark.parametrize(
    ("body", "fragments"),
    [
        (
            "2025-10-01,A,1,2,1,1,10\n2025-13-01,A,1,2,1,1,10\n",
            ["row 2 (line 3)", "'date'", "unparsable date '2025-13-01'"],
        ),
        (
            "2025-10-01,A,1,2,1,1,10\n01/10/2025,A,1,2,1,1,10\n",
            ["row 2", "unparsable date '01/10/2025'"],
        ),
        (
            "2025-10-01,A,1,2,1,1,10\n2025-10-02,A,1,2,1,1,-5\n",
            ["row 2 (line 3)", "'volume'", "negative volume -5.0"],
        ),
        ("2025-10-01,A,1,2,1,abc,10\n", ["row 1 (line 2)", "'close'", "not a number: 'abc'"]),
        ("2025-10-01,A,1,2,1,,10\n", ["row 1", "'close'", "missing value"]),
        ("2025-10-01,A,1,2,1,0,10\n", ["row 1", "'close'", "price must be positive"]),
        ("2025-10-01,A,1,2,1,inf,10\n", ["row 1", "'close'", "not a finite number"]),
        ("2025-10-01,A,1,1,2,1,10\n", ["row 1", "'high'", "high 1.0 is below low 2.0"]),
        (
            "2025-10-01,MCX:GOLD,1,2,1,1,10\n",
            ["row 1", "'symbol'", "bad symbol 'MCX:GOLD'", "unsupported_exchange"],
        ),
        (
            "2025-10-01,A,1,2,1,1,10\n2025-10-02,A,1,2,1,1,10\n2025-10-01,nse:a,1,2,1,1,10\n",
            ["duplicate (date, symbol) (2025-10-01, NSE:A): rows 1 and 3"],
        ),
        ("2025-10-01,A,1,2,1,1\n", ["cannot read", "Expected 7 columns"]),
    ],
)
def test_bad_rows_name_file_row_and_problem(tmp_path, body, fragments):
    p = write(tmp_path, body)
    with pytest.raises(DailyHistoryError) as info:
        load_daily_history(p)
    msg = str(info.value)
    assert str(p) in msg
    for fragment in fragments:
        assert fragment in msg, msg
    assert isinstance(info.value, ValueError)


def test_missing_columns(tmp_path):
    p = write(tmp_path, "2025-10-01,A,1,2,1,1\n", header="date,symbol,open,high,low,close\n")
    with pytest.raises(DailyHistoryError, match=r"missing column\(s\) \['volume'\]") as info:
        load_daily_history(p)
    assert info.value.row is None and str(p) in str(info.value)


def test_parquet_errors_name_rows(tmp_path):
    df = pd.DataFrame(
        {
            "date": ["2025-10-01", "2025-10-02"],
            "symbol": ["A", "A"],
            "open": [1.0, 1.0],
            "high": [2.0, 2.0],
            "low": [1.0, 1.0],
            "close": [1.0, 1.0],
            "volume": [10, -1],
        }
    )
    df.to_parquet(tmp_path / "b.parquet", index=False)
    with pytest.raises(DailyHistoryError, match=r"row 2, column 'volume': negative volume") as info:
        load_daily_history(tmp_path / "b.parquet")
    assert "line" not in str(info.value)
    assert info.value.row == 2 and info.value.column == "volume"


def test_missing_file(tmp_path):
    with pytest.raises(DailyHistoryError, match="no such file"):
        load_daily_history(tmp_path / "nope.csv")


def test_empty_file_with_header(tmp_path):
    assert load_daily_history(write(tmp_path, "")) == {}


# ---------------------------------------------------------------- JSON / Redis


def test_read_averages_json_errors(tmp_path):
    p = tmp_path / "a.json"
    p.write_text("[1, 2]")
    with pytest.raises(AveragesFileError, match="object keyed by symbol"):
        read_averages_json(p)
    p.write_text('{"NSE:A": {"avg_volume_20d": 1}}')
    with pytest.raises(AveragesFileError, match="lacks field"):
        read_averages_json(p)
    p.write_text("{not json")
    with pytest.raises(AveragesFileError, match="not valid JSON"):
        read_averages_json(p)
    entry = {
        "avg_volume_20d": 1.0,
        "avg_volume_55d": 1.0,
        "avg_price_20d": 1.0,
        "avg_price_55d": 1.0,
        "turtle_ready": False,
    }
    # Reference-style files keyed by plain tradingsymbols are normalised.
    p.write_text(json.dumps({"HDFCBANK": entry}))
    assert read_averages_json(p) == {"NSE:HDFCBANK": entry}
    p.write_text(json.dumps({"HDFCBANK": entry, "NSE:HDFCBANK": entry}))
    with pytest.raises(AveragesFileError, match="appears twice"):
        read_averages_json(p)


def test_write_rejects_nan(tmp_path):
    with pytest.raises(ValueError):
        write_averages_json({"NSE:A": {"x": float("nan")}}, tmp_path / "a.json")
    assert not (tmp_path / "a.json").exists()
    assert list(tmp_path.iterdir()) == []  # temp file cleaned up


def test_redis_fields_and_key_symbol():
    assert redis_symbol("NSE:HDFCBANK") == "NSE_HDFCBANK"
    assert redis_symbol("nse:hdfcbank") == "NSE_HDFCBANK"
    assert redis_symbol("NSE:NIFTY 50") == "NSE_NIFTY 50"
    assert normalise_symbol("hdfcbank") == "NSE:HDFCBANK"
    assert normalise_symbol("hdfcbank", "BSE") == "BSE:HDFCBANK"
    fields = redis_hash_fields(
        {
            "avg_volume_20d": 1234567.5,
            "avg_volume_55d": None,
            "turtle_ready": True,
            "turtle_side": None,
            "days_20d": 20,
            "as_of": "2025-10-23",
            "avg_price_20d": 0.1 + 0.2,
        }
    )
    assert fields == {
        "as_of": "2025-10-23",
        "avg_price_20d": "0.30000000000000004",
        "avg_volume_20d": "1234567.5",
        "avg_volume_55d": "",
        "days_20d": "20",
        "turtle_ready": "true",
        "turtle_side": "",
    }
    assert float(fields["avg_price_20d"]) == 0.1 + 0.2
