from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aion.streams.session_file import (
    SCHEMA,
    SessionFileError,
    SessionMeta,
    SessionWriter,
    count_rows,
    iter_batches,
    read_meta,
)

META = SessionMeta(
    trading_date=date(2025, 11, 18),
    source="simulator",
    instrument_master_digest="abc123",
    seed=7,
    extra={"aion.generator_version": "1"},
)


def _rows(n: int) -> tuple[np.ndarray, np.ndarray, list[bytes]]:
    rng = np.random.default_rng(0)
    recv = np.cumsum(rng.integers(0, 1000, n)).astype(np.int64) + 1_763_437_500_000_000_000
    tokens = rng.choice(np.array([738561, 256265, 408065], dtype=np.uint32), n)
    packets = [
        int(t).to_bytes(4, "big") + bytes(rng.integers(0, 256, 180, dtype=np.uint8)) for t in tokens
    ]
    return recv, tokens, packets


def _write(
    path: Path, n: int, chunk: int = 1000, **kw: int
) -> tuple[np.ndarray, np.ndarray, list[bytes]]:
    recv, tokens, packets = _rows(n)
    with SessionWriter(path, META, **kw) as w:
        for i in range(0, n, chunk):
            w.write(recv[i : i + chunk], tokens[i : i + chunk], packets[i : i + chunk])
    return recv, tokens, packets


def test_round_trip_and_metadata(tmp_path: Path) -> None:
    path = tmp_path / "s.parquet"
    recv, tokens, packets = _write(path, 5000, chunk=777, row_group_rows=2048)
    assert read_meta(path) == META
    assert count_rows(path) == 5000
    assert pq.ParquetFile(path).metadata.num_row_groups == 3
    assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "ZSTD"
    got_r, got_t, got_p = [], [], []
    for r, t, p in iter_batches(path, batch_rows=999):
        assert r.dtype == np.int64 and t.dtype == np.uint32 and isinstance(p, list)
        assert len(r) <= 999
        got_r.append(r)
        got_t.append(t)
        got_p += p
    assert np.array_equal(np.concatenate(got_r), recv)
    assert np.array_equal(np.concatenate(got_t), tokens)
    assert got_p == packets


def test_arrow_binary_input_and_no_seed(tmp_path: Path) -> None:
    path = tmp_path / "s.parquet"
    recv, tokens, packets = _rows(10)
    meta = SessionMeta(date(2025, 1, 2), "kite-live", "d")
    with SessionWriter(path, meta) as w:
        w.write(recv, tokens, pa.array(packets, type=pa.binary()))
    assert read_meta(path) == meta
    assert read_meta(path).seed is None


def test_readable_by_pandas_and_duckdb(tmp_path: Path) -> None:
    path = tmp_path / "s.parquet"
    _recv, tokens, packets = _write(path, 3000)
    df = pd.read_parquet(path)
    assert list(df.columns) == ["recv_ns", "token", "packet"]
    assert df["recv_ns"].dtype == np.int64 and df["token"].dtype == np.uint32
    assert df["packet"].iloc[5] == packets[5]
    assert duckdb.sql(f"select count(*) from '{path}'").fetchall() == [(3000,)]
    got = duckdb.sql(
        f"select token, count(*) from '{path}' group by token order by token"
    ).fetchall()
    want = sorted(zip(*np.unique(tokens, return_counts=True), strict=True))
    assert [(int(a), int(b)) for a, b in got] == [(int(a), int(b)) for a, b in want]
    kv = duckdb.sql(f"select key, value from parquet_kv_metadata('{path}')").fetchall()
    assert (b"aion.format_version", b"1") in kv


def test_writer_rejects_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "s.parquet"
    with SessionWriter(path, META) as w:
        with pytest.raises(ValueError, match="length mismatch"):
            w.write(np.array([1, 2]), np.array([1]), [b"x", b"y"])
        with pytest.raises(ValueError, match="non-decreasing"):
            w.write(np.array([2, 1]), np.array([1, 1]), [b"x", b"y"])
        w.write(np.array([5]), np.array([1]), [b"x"])
        with pytest.raises(ValueError, match="non-decreasing"):
            w.write(np.array([4]), np.array([1]), [b"x"])
    assert count_rows(path) == 1


def test_aborted_write_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "s.parquet"
    with pytest.raises(RuntimeError), SessionWriter(path, META) as w:
        w.write(np.array([1]), np.array([1]), [b"x"])
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_not_parquet(tmp_path: Path) -> None:
    path = tmp_path / "junk.parquet"
    path.write_bytes(b"this is not parquet at all")
    with pytest.raises(SessionFileError, match="not a Parquet file"):
        read_meta(path)
    with pytest.raises(SessionFileError):
        list(iter_batches(path))


def _raw(path: Path, table: pa.Table, meta: dict[bytes, bytes] | None) -> Path:
    pq.write_table(table.replace_schema_metadata(meta), path)
    return path


def test_missing_column_wrong_type_bad_meta(tmp_path: Path) -> None:
    kv = META.to_kv()
    t = pa.table({"recv_ns": pa.array([1], pa.int64()), "token": pa.array([1], pa.uint32())})
    with pytest.raises(SessionFileError, match="missing column 'packet'"):
        read_meta(_raw(tmp_path / "a.parquet", t, kv))
    t = pa.table(
        {
            "recv_ns": pa.array([1], pa.int64()),
            "token": pa.array([1], pa.int64()),
            "packet": pa.array([b"x"], pa.binary()),
        }
    )
    with pytest.raises(SessionFileError, match="column 'token' is int64"):
        read_meta(_raw(tmp_path / "b.parquet", t, kv))
    good = pa.Table.from_pylist([{"recv_ns": 1, "token": 1, "packet": b"x"}], schema=SCHEMA)
    with pytest.raises(SessionFileError, match="missing metadata"):
        read_meta(_raw(tmp_path / "c.parquet", good, None))
    bad = dict(kv)
    bad[b"aion.format_version"] = b"2"
    with pytest.raises(SessionFileError, match=r"unknown aion\.format_version '2'"):
        count_rows(_raw(tmp_path / "d.parquet", good, bad))
    bad = dict(kv)
    bad[b"aion.trading_date"] = b"18/11/2025"
    with pytest.raises(SessionFileError, match="trading_date"):
        read_meta(_raw(tmp_path / "e.parquet", good, bad))


def test_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_meta(tmp_path / "nope.parquet")
