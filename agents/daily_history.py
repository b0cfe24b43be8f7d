"""Daily OHLCV history files → per-symbol volume averages (JSON file and Redis hash fields).

This is the I/O side of the reference's pre-market job (``update_all_20day_averages.py``
then ``load_volume_averages_to_redis.py``): read a CSV or Parquet file of daily bars for
many symbols, validate it, compute :mod:`aion.tables.volume_averages` for every symbol,
and write the reference's ``config/volume_averages_20d.json`` shape::

    {"NSE:HDFCBANK": {"avg_volume_20d": ..., "avg_volume_55d": ..., "avg_price_20d": ...,
                      "avg_price_55d": ..., "turtle_ready": ..., "as_of": ..., ...}, ...}

Input format:

* Columns ``date, symbol, open, high, low, close, volume`` (names case-insensitive,
  surrounding spaces ignored; other columns are ignored). Rows may come in any order.
* ``date``: ``YYYY-MM-DD``, optionally followed by a time (``2025-10-23 00:00:00+05:30``
  or ``2025-10-23T00:00:00``, as Kite's historical API and pandas write them); only the
  date part is used. In Parquet a ``date32``/``date64`` column is used as is and a
  timestamp column is read as its IST date (tz-aware) or its wall date (naive).
* ``symbol``: ``NSE:RELIANCE`` or plain ``RELIANCE`` (the default exchange, NSE, is
  prepended), normalised by :func:`aion.streams.symbols.parse_symbol` (upper case,
  stripped), so ``reliance`` and ``NSE:RELIANCE`` are the same symbol.
* Prices finite and > 0, ``high >= low``; volume finite and >= 0.

Every problem raises :class:`DailyHistoryError` (a ``ValueError``) naming the file, the
1-based data row (for CSV also the file line, assuming no quoted newlines), the column
and the offending value. Duplicate ``(date, symbol)`` rows, after symbol normalisation,
name both rows.

Redis: the hash ``volume_averages:{NSE_SYMBOL}`` in the indicators DB, where
``NSE_SYMBOL`` is exchange and tradingsymbol joined by ``_`` (``NSE_HDFCBANK``, see
:func:`redis_symbol`), with the fields of :func:`redis_hash_fields`.

Note on layering: this module imports the pure ``aion.tables.volume_averages`` to
compute; ``tables`` imports nothing from ``streams``, so there is no cycle.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from aion.streams.symbols import SymbolError, parse_symbol
from aion.tables.volume_averages import (
    AveragesParams,
    DailySeries,
    compute_averages,
)

__all__ = [
    "REQUIRED_COLUMNS",
    "AveragesFileError",
    "DailyHistory",
    "DailyHistoryError",
    "ProgressFn",
    "build_averages",
    "load_daily_history",
    "normalise_symbol",
    "read_averages_json",
    "redis_hash_fields",
    "redis_symbol",
    "write_averages_json",
]

REQUIRED_COLUMNS: tuple[str, ...] = ("date", "symbol", "open", "high", "low", "close", "volume")
PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")
NUMERIC_COLUMNS: tuple[str, ...] = (*PRICE_COLUMNS, "volume")

ProgressFn = Callable[[int, int | None], None]
"""Progress callback ``(done, total)``: rows read while loading (total None for CSV, whose
row count is unknown until the end), symbols computed while building averages."""

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_IST_OFFSET_S = 19_800
_CSV_BLOCK_BYTES = 4 << 20
_PARQUET_BATCH_ROWS = 65_536
_BUILD_PROGRESS_EVERY = 256
# Fields every entry of an averages JSON file must carry (the reference's five).
_REQUIRED_ENTRY_FIELDS = (
    "avg_volume_20d",
    "avg_volume_55d",
    "avg_price_20d",
    "avg_price_55d",
    "turtle_ready",
)


class DailyHistoryError(ValueError):
    """A daily history file is unreadable or invalid.

    Attributes:
        path: The file.
        row: 1-based data row (header excluded) of the problem, or None for file-level
            problems (missing columns, unreadable file).
        column: Column involved, or None.
        problem: What is wrong.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        problem: str,
        *,
        row: int | None = None,
        column: str | None = None,
        csv_lines: bool = False,
    ) -> None:
        self.path = str(path)
        self.row = row
        self.column = column
        self.problem = problem
        where = self.path
        if row is not None:
            where += f": row {row}"
            if csv_lines:
                where += f" (line {row + 1})"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {problem}")


class AveragesFileError(ValueError):
    """A volume averages JSON file is unreadable or not of the expected shape."""


DailyHistory = dict[str, DailySeries]
"""Per-symbol histories keyed by ``EXCHANGE:TRADINGSYMBOL``, in sorted key order."""


def normalise_symbol(raw: str, default_exchange: str = "NSE") -> str:
    """Normalise ``RELIANCE`` / ``nse:reliance`` / ``NSE:RELIANCE`` to ``NSE:RELIANCE``.

    Args:
        raw: Symbol with or without exchange prefix.
        default_exchange: Exchange for unprefixed symbols.

    Returns:
        The canonical ``EXCHANGE:TRADINGSYMBOL``.

    Raises:
        SymbolError: If the symbol is malformed.
    """
    text = raw.strip()
    if ":" not in text:
        text = f"{default_exchange}:{text}"
    return parse_symbol(text).symbol


def redis_symbol(symbol: str) -> str:
    """The reference's Redis key form of a symbol: ``NSE:HDFCBANK`` → ``NSE_HDFCBANK``.

    Args:
        symbol: ``EXCHANGE:TRADINGSYMBOL`` (normalised first, so case does not matter).

    Returns:
        Exchange and tradingsymbol joined by ``_`` (spaces inside the tradingsymbol, as
        in ``NSE:NIFTY 50``, are kept: they are part of the Kite name).

    Raises:
        SymbolError: If the symbol is malformed.
    """
    parsed = parse_symbol(symbol)
    return f"{parsed.exchange}_{parsed.tradingsymbol}"


# --------------------------------------------------------------------------- loading


@dataclass(slots=True)
class _Columns:
    """Accumulated, validated column chunks."""

    sym_ids: list[npt.NDArray[np.int64]]
    days: list[npt.NDArray[np.int64]]
    values: dict[str, list[npt.NDArray[np.float64]]]


class _Loader:
    """Turns record batches into validated numpy columns, tracking row numbers."""

    def __init__(self, path: Path, default_exchange: str, csv_lines: bool) -> None:
        self.path = path
        self.default_exchange = default_exchange
        self.csv_lines = csv_lines
        self.symbols: list[str] = []
        self._symbol_ids: dict[str, int] = {}
        self._raw_ids: dict[str, int] = {}
        self.rows = 0
        self.cols = _Columns([], [], {name: [] for name in NUMERIC_COLUMNS})

    def error(self, problem: str, row: int | None = None, column: str | None = None) -> Exception:
        return DailyHistoryError(
            self.path, problem, row=row, column=column, csv_lines=self.csv_lines
        )

    def add(self, batch: pa.RecordBatch, names: Mapping[str, str]) -> None:
        """Validate one batch; ``names`` maps required column → actual column name."""
        n = batch.num_rows
        first = self.rows + 1  # 1-based row number of the batch's first row
        columns = {req: batch.column(batch.schema.get_field_index(names[req])) for req in names}
        for req, col in columns.items():
            if pa.types.is_dictionary(col.type):
                # pandas "category" columns arrive dictionary-encoded from Parquet.
                columns[req] = col.dictionary_decode()
        for req, col in columns.items():
            if col.null_count:
                i = _first_true(np.asarray(col.is_null().to_numpy(zero_copy_only=False)))
                raise self.error("missing value", first + i, req)
        self.cols.sym_ids.append(self._symbol_ids_of(columns["symbol"], first))
        self.cols.days.append(self._days_of(columns["date"], first))
        values = {req: self._numbers_of(columns[req], req, first) for req in NUMERIC_COLUMNS}
        for req in PRICE_COLUMNS:
            bad = ~(values[req] > 0)
            if bad.any():
                i = _first_true(bad)
                raise self.error(
                    f"price must be positive, got {float(values[req][i])!r}", first + i, req
                )
        bad = values["volume"] < 0
        if bad.any():
            i = _first_true(bad)
            raise self.error(f"negative volume {float(values['volume'][i])!r}", first + i, "volume")
        bad = values["high"] < values["low"]
        if bad.any():
            i = _first_true(bad)
            raise self.error(
                f"high {float(values['high'][i])!r} is below low {float(values['low'][i])!r}",
                first + i,
                "high",
            )
        for req in NUMERIC_COLUMNS:
            self.cols.values[req].append(values[req])
        self.rows += n

    def _symbol_ids_of(self, col: pa.Array, first: int) -> npt.NDArray[np.int64]:
        # Normalise each distinct spelling once, not each row: a file has few symbols.
        encoded = pc.dictionary_encode(col.cast(pa.string()))
        mapping = np.empty(len(encoded.dictionary), dtype=np.int64)
        indices = encoded.indices.to_numpy(zero_copy_only=False)
        for k, raw in enumerate(encoded.dictionary.to_pylist()):
            sid = self._raw_ids.get(raw)
            if sid is None:
                try:
                    symbol = normalise_symbol(raw, self.default_exchange)
                except SymbolError as exc:
                    raise self.error(
                        f"bad symbol {raw!r} ({exc.reason})",
                        first + _first_true(indices == k),
                        "symbol",
                    ) from None
                sid = self._symbol_ids.setdefault(symbol, len(self._symbol_ids))
                if sid == len(self.symbols):
                    self.symbols.append(symbol)
                self._raw_ids[raw] = sid
            mapping[k] = sid
        return mapping[indices]

    def _days_of(self, col: pa.Array, first: int) -> npt.NDArray[np.int64]:
        typ = col.type
        if pa.types.is_date32(typ):
            return col.cast(pa.int32()).to_numpy(zero_copy_only=False).astype(np.int64)
        if pa.types.is_date64(typ):
            return (
                col.cast(pa.date32())
                .cast(pa.int32())
                .to_numpy(zero_copy_only=False)
                .astype(np.int64)
            )
        if pa.types.is_timestamp(typ):
            secs = col.cast(pa.timestamp("s", tz=typ.tz)).cast(pa.int64())
            s = secs.to_numpy(zero_copy_only=False).astype(np.int64)
            if typ.tz is not None:
                # Aware instants: the trading date is their IST calendar date.
                s = s + _IST_OFFSET_S
            return s // 86_400
        if pa.types.is_string(typ) or pa.types.is_large_string(typ):
            return self._parse_date_strings(col.cast(pa.string()), first)
        raise self.error(f"unsupported date column type {typ}", None, "date")

    def _parse_date_strings(self, col: pa.Array, first: int) -> npt.NDArray[np.int64]:
        stripped = pc.utf8_trim_whitespace(col)
        head = pc.utf8_slice_codeunits(stripped, 0, 10)
        parsed = pc.strptime(head, format="%Y-%m-%d", unit="s", error_is_null=True)
        length = pc.utf8_length(stripped).to_numpy(zero_copy_only=False)
        sep = pc.utf8_slice_codeunits(stripped, 10, 11).to_numpy(zero_copy_only=False)
        # Only a date, or a date followed by a time: "2025-10-23x" is not a date.
        ok_tail = (length == 10) | np.isin(sep, ["T", " "])
        ok = ~np.asarray(parsed.is_null().to_numpy(zero_copy_only=False)) & ok_tail
        if not ok.all():
            i = _first_true(~ok)
            raise self.error(
                f"unparsable date {col[i].as_py()!r} (expected YYYY-MM-DD)", first + i, "date"
            )
        secs = parsed.cast(pa.int64()).to_numpy(zero_copy_only=False).astype(np.int64)
        return secs // 86_400

    def _numbers_of(self, col: pa.Array, req: str, first: int) -> npt.NDArray[np.float64]:
        typ = col.type
        if pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ):
            arr = col.cast(pa.float64()).to_numpy(zero_copy_only=False)
        elif pa.types.is_string(typ) or pa.types.is_large_string(typ):
            try:
                arr = pc.cast(pc.utf8_trim_whitespace(col), pa.float64()).to_numpy(
                    zero_copy_only=False
                )
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                # Error path only: find the row pyarrow would not tell us precisely.
                for i, value in enumerate(col.to_pylist()):
                    try:
                        float(value.strip())
                    except ValueError:
                        raise self.error(f"not a number: {value!r}", first + i, req) from None
                raise self.error("not a number", None, req) from None
        else:
            raise self.error(f"unsupported column type {typ}", None, req)
        arr = np.asarray(arr, dtype=np.float64)
        bad = ~np.isfinite(arr)
        if bad.any():
            i = _first_true(bad)
            raise self.error(f"not a finite number: {float(arr[i])!r}", first + i, req)
        return arr

    def finish(self) -> DailyHistory:
        """Sort, reject duplicates and split into per-symbol series."""
        if self.rows == 0:
            return {}
        sym = np.concatenate(self.cols.sym_ids)
        days = np.concatenate(self.cols.days)
        values = {k: np.concatenate(v) for k, v in self.cols.values.items()}
        # Stable lexsort by (symbol, day): equal keys keep file order for the message.
        order = np.lexsort((days, sym))
        s_sorted, d_sorted = sym[order], days[order]
        dup = (s_sorted[1:] == s_sorted[:-1]) & (d_sorted[1:] == d_sorted[:-1])
        if dup.any():
            j = _first_true(dup)
            a, b = int(order[j]) + 1, int(order[j + 1]) + 1
            day_iso = date.fromordinal(_EPOCH_ORDINAL + int(d_sorted[j])).isoformat()
            raise self.error(
                f"duplicate (date, symbol) ({day_iso}, {self.symbols[int(s_sorted[j])]}): "
                f"rows {a} and {b}",
                b,
            )
        cuts = np.flatnonzero(np.diff(s_sorted)) + 1
        starts = np.concatenate(([0], cuts))
        ends = np.concatenate((cuts, [len(order)]))
        out: list[tuple[str, DailySeries]] = []
        for lo, hi in zip(starts.tolist(), ends.tolist(), strict=True):
            idx = order[lo:hi]
            symbol = self.symbols[int(s_sorted[lo])]
            out.append(
                (
                    symbol,
                    DailySeries(
                        symbol=symbol,
                        days=d_sorted[lo:hi].copy(),
                        open=values["open"][idx],
                        high=values["high"][idx],
                        low=values["low"][idx],
                        close=values["close"][idx],
                        volume=values["volume"][idx],
                    ),
                )
            )
        out.sort(key=lambda kv: kv[0])
        return dict(out)


def _first_true(mask: npt.NDArray[np.bool_]) -> int:
    return int(np.argmax(mask))


def _column_map(path: Path, found: list[str], csv_lines: bool) -> dict[str, str]:
    by_key: dict[str, str] = {}
    for name in found:
        by_key.setdefault(name.strip().lower(), name)
    missing = [c for c in REQUIRED_COLUMNS if c not in by_key]
    if missing:
        raise DailyHistoryError(
            path,
            f"missing column(s) {missing}; found {found}; required {list(REQUIRED_COLUMNS)}",
            csv_lines=csv_lines,
        )
    return {c: by_key[c] for c in REQUIRED_COLUMNS}


def _csv_header(path: Path) -> list[str]:
    # Read just the first line (through pyarrow so .csv.gz etc. decompress too).
    with pa.input_stream(str(path), compression="detect") as stream:
        head = stream.read(1 << 16).decode("utf-8-sig", errors="replace")
    line = head.splitlines()[0] if head else ""
    return next(csv.reader(io.StringIO(line)), [])


def _is_parquet(path: Path) -> bool:
    if path.suffix.lower() in (".parquet", ".pq"):
        return True
    # Otherwise sniff: every Parquet file starts with the magic bytes "PAR1".
    with path.open("rb") as fh:
        return fh.read(4) == b"PAR1"


def load_daily_history(
    path: str | os.PathLike[str],
    *,
    default_exchange: str = "NSE",
    progress: ProgressFn | None = None,
) -> DailyHistory:
    """Read and validate a daily OHLCV file (CSV, optionally compressed, or Parquet).

    Args:
        path: ``.parquet``/``.pq`` files (or any file starting with Parquet's ``PAR1``
            magic) are read as Parquet, anything else as CSV (``.csv.gz``/``.csv.bz2``
            are decompressed).
        default_exchange: Exchange prepended to unprefixed symbols.
        progress: Called with ``(rows_read, total_rows)`` after each block; ``total_rows``
            is known for Parquet and None for CSV.

    Returns:
        Per-symbol series sorted by date, keyed (in sorted order) by normalised symbol.

    Raises:
        DailyHistoryError: On any read or validation problem (see the module docstring).
    """
    p = Path(path)
    if not p.is_file():
        raise DailyHistoryError(p, "no such file")
    parquet = _is_parquet(p)
    loader = _Loader(p, default_exchange, csv_lines=not parquet)
    try:
        if parquet:
            pf = pq.ParquetFile(p)
            names = _column_map(p, pf.schema_arrow.names, csv_lines=False)
            total = pf.metadata.num_rows
            for batch in pf.iter_batches(
                batch_size=_PARQUET_BATCH_ROWS, columns=list(names.values())
            ):
                loader.add(batch, names)
                if progress is not None:
                    progress(loader.rows, total)
        else:
            header = _csv_header(p)
            names = _column_map(p, header, csv_lines=True)
            # Everything as strings: we parse ourselves so errors can name the row.
            convert = pacsv.ConvertOptions(
                include_columns=list(names.values()),
                column_types={actual: pa.string() for actual in names.values()},
                strings_can_be_null=True,
            )
            reader = pacsv.open_csv(
                str(p),
                read_options=pacsv.ReadOptions(block_size=_CSV_BLOCK_BYTES),
                convert_options=convert,
            )
            for batch in reader:
                loader.add(batch, names)
                if progress is not None:
                    progress(loader.rows, None)
    except DailyHistoryError:
        raise
    except (pa.ArrowException, OSError) as exc:
        # Malformed CSV (wrong field count, bad quoting) or unreadable Parquet: pyarrow's
        # message already says where; keep it, with our file name in front.
        raise DailyHistoryError(p, f"cannot read: {exc}", csv_lines=not parquet) from exc
    return loader.finish()


# --------------------------------------------------------------------------- averages


def _as_of_day(as_of: date | str | None) -> int | None:
    if as_of is None:
        return None
    if isinstance(as_of, str):
        try:
            as_of = date.fromisoformat(as_of.strip())
        except ValueError:
            raise ValueError(f"as_of must be a date YYYY-MM-DD, got {as_of!r}") from None
    return as_of.toordinal() - _EPOCH_ORDINAL


def build_averages(
    history: Mapping[str, DailySeries],
    params: AveragesParams | None = None,
    *,
    as_of: date | str | None = None,
    progress: ProgressFn | None = None,
) -> dict[str, dict[str, Any]]:
    """Compute the averages entry of every symbol.

    Args:
        history: Output of :func:`load_daily_history` (or any symbol → series mapping).
        params: Averages tunables; defaults if None.
        as_of: Only use sessions on or before this date (``YYYY-MM-DD`` or a date);
            symbols with no such session are left out. None uses all history.
        progress: Called with ``(symbols_done, symbols_total)`` every 256 symbols and at
            the end.

    Returns:
        ``{symbol: entry}`` in sorted symbol order, entries as
        :meth:`aion.tables.volume_averages.VolumeAverages.to_dict`.

    Raises:
        ValueError: If ``as_of`` is not a valid date, or a series is invalid (not
            possible for the output of :func:`load_daily_history`, which validates).
    """
    params = params or AveragesParams()
    day = _as_of_day(as_of)
    symbols = sorted(history)
    total = len(symbols)
    out: dict[str, dict[str, Any]] = {}
    for k, symbol in enumerate(symbols, start=1):
        result = compute_averages(history[symbol], params, as_of_day=day)
        if result is not None:
            out[symbol] = result.to_dict()
        if progress is not None and (k % _BUILD_PROGRESS_EVERY == 0 or k == total):
            progress(k, total)
    return out


def write_averages_json(
    averages: Mapping[str, Mapping[str, Any]], path: str | os.PathLike[str]
) -> None:
    """Write averages as deterministic JSON (sorted keys), atomically.

    Args:
        averages: ``{symbol: entry}``.
        path: Destination; written via a temporary file in the same directory and
            renamed, so a reader never sees a half-written file.

    Raises:
        ValueError: If a value is NaN or infinite (JSON has no such numbers).
    """
    p = Path(path)
    text = json.dumps(averages, sort_keys=True, indent=2, allow_nan=False) + "\n"
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_averages_json(path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Read an averages JSON file written by :func:`write_averages_json` (or the reference).

    Symbols are normalised (``HDFCBANK`` → ``NSE:HDFCBANK``) so files from other tools
    read the same.

    Args:
        path: The JSON file.

    Returns:
        ``{symbol: entry}`` in sorted symbol order.

    Raises:
        AveragesFileError: If the file is missing, not JSON, not an object of objects, a
            symbol is malformed, or an entry lacks one of the reference's five fields.
    """
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AveragesFileError(f"{p}: cannot read: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise AveragesFileError(f"{p}: not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise AveragesFileError(f"{p}: top level must be an object keyed by symbol")
    out: dict[str, dict[str, Any]] = {}
    for raw, entry in data.items():
        try:
            symbol = normalise_symbol(raw)
        except SymbolError as exc:
            raise AveragesFileError(f"{p}: bad symbol key {raw!r} ({exc.reason})") from None
        if not isinstance(entry, dict):
            raise AveragesFileError(f"{p}: entry {raw!r} must be an object")
        missing = [f for f in _REQUIRED_ENTRY_FIELDS if f not in entry]
        if missing:
            raise AveragesFileError(f"{p}: entry {raw!r} lacks field(s) {missing}")
        if symbol in out:
            raise AveragesFileError(f"{p}: symbol {symbol} appears twice (as {raw!r})")
        out[symbol] = entry
    return dict(sorted(out.items()))


def _redis_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        # repr is the shortest string that round-trips; integral floats stay "1.0".
        return repr(value)
    return str(value)


def redis_hash_fields(entry: Mapping[str, Any]) -> dict[str, str]:
    """Fields of the Redis hash ``volume_averages:{NSE_SYMBOL}`` for one entry.

    Every entry field is written, always the same set, so a plain ``HSET`` replaces the
    previous day's hash completely: numbers as their shortest round-trip text
    (``repr``), booleans as ``"true"``/``"false"`` (the JSON spelling), None (an
    average below ``min_days``, no Turtle side) as ``""``.

    Args:
        entry: One value of :func:`build_averages` / :func:`read_averages_json`.

    Returns:
        ``{field: text}`` in sorted field order.
    """
    return {k: _redis_value(entry[k]) for k in sorted(entry)}
