"""Recorded-session files: raw Kite packets with receive times, in Parquet.

A session file is the on-disk form of what lands on ``aion.ticks.raw``: one row per raw
Kite packet, unmodified, in receive order. It is plain Parquet so pandas, DuckDB or any
other Parquet reader can open it without our code.

Columns:

* ``recv_ns`` (int64): receive time, nanoseconds since the Unix epoch (UTC).
* ``token`` (uint32): the packet's instrument token (its first four bytes), kept as a
  column so readers can filter without decoding.
* ``packet`` (binary): one raw Kite packet (8, 28, 32, 44 or 184 bytes), unmodified.

File key-value metadata (all values strings):

* ``aion.format_version``: ``"1"``.
* ``aion.trading_date``: ``YYYY-MM-DD``.
* ``aion.source``: ``"simulator"``, ``"kite-live"``, ...
* ``aion.instrument_master_digest``: digest of the instrument master the tokens refer to.
* ``aion.seed`` (optional): the simulator seed.
* any other ``aion.*`` key (e.g. ``aion.generator_version``) is kept in
  :attr:`SessionMeta.extra`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Self

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = [
    "FORMAT_VERSION",
    "SCHEMA",
    "SessionFileError",
    "SessionMeta",
    "SessionWriter",
    "count_rows",
    "iter_batches",
    "read_meta",
]

log = logging.getLogger(__name__)

FORMAT_VERSION = "1"
"""The only format version this module reads and writes."""

SCHEMA = pa.schema(
    [
        pa.field("recv_ns", pa.int64(), nullable=False),
        pa.field("token", pa.uint32(), nullable=False),
        pa.field("packet", pa.binary(), nullable=False),
    ]
)
"""Arrow schema of a session file (without the file metadata)."""

DEFAULT_ROW_GROUP_ROWS = 65_536

_PREFIX = "aion."
_K_VERSION = "aion.format_version"
_K_DATE = "aion.trading_date"
_K_SOURCE = "aion.source"
_K_DIGEST = "aion.instrument_master_digest"
_K_SEED = "aion.seed"
_REQUIRED_KEYS = (_K_VERSION, _K_DATE, _K_SOURCE, _K_DIGEST)


class SessionFileError(Exception):
    """A file is not a readable session file (not Parquet, wrong schema or metadata)."""


@dataclass(frozen=True, slots=True)
class SessionMeta:
    """File-level metadata of a session file.

    Attributes:
        trading_date: The NSE trading date the packets belong to.
        source: Where the packets came from (``"simulator"``, ``"kite-live"``, ...).
        instrument_master_digest: Digest of the instrument master the tokens refer to.
        seed: Simulator seed, if the session was simulated.
        extra: Any other ``aion.*`` metadata, keyed by the full key name.
        format_version: Session-file format version; always :data:`FORMAT_VERSION`
            for files this module accepts.
    """

    trading_date: date
    source: str
    instrument_master_digest: str
    seed: int | None = None
    extra: Mapping[str, str] = field(default_factory=dict)
    format_version: str = FORMAT_VERSION

    def to_kv(self) -> dict[bytes, bytes]:
        """Return the Parquet key-value metadata for this meta.

        Returns:
            Byte keys and values, as pyarrow's schema metadata expects.

        Raises:
            ValueError: If an ``extra`` key does not start with ``aion.`` or shadows
                one of the standard keys.
        """
        kv: dict[str, str] = {
            _K_VERSION: self.format_version,
            _K_DATE: self.trading_date.isoformat(),
            _K_SOURCE: self.source,
            _K_DIGEST: self.instrument_master_digest,
        }
        if self.seed is not None:
            kv[_K_SEED] = str(self.seed)
        for key, value in sorted(self.extra.items()):
            if not key.startswith(_PREFIX) or key in kv or key == _K_SEED:
                raise ValueError(f"bad extra metadata key {key!r}")
            kv[key] = str(value)
        return {k.encode(): v.encode() for k, v in kv.items()}

    @classmethod
    def from_kv(cls, kv: Mapping[bytes, bytes] | None, where: str) -> SessionMeta:
        """Parse Parquet key-value metadata.

        Args:
            kv: The schema metadata of the file (may be ``None``).
            where: File name, for error messages.

        Returns:
            The parsed metadata.

        Raises:
            SessionFileError: If a required key is missing or malformed, or the
                format version is not :data:`FORMAT_VERSION`.
        """
        text = {
            k.decode("utf-8", "replace"): v.decode("utf-8", "replace")
            for k, v in (kv or {}).items()
        }
        missing = [k for k in _REQUIRED_KEYS if k not in text]
        if missing:
            raise SessionFileError(f"{where}: missing metadata {', '.join(missing)}")
        version = text[_K_VERSION]
        if version != FORMAT_VERSION:
            raise SessionFileError(
                f"{where}: unknown aion.format_version {version!r}"
                f" (this build reads {FORMAT_VERSION!r})"
            )
        try:
            trading_date = date.fromisoformat(text[_K_DATE])
        except ValueError as exc:
            raise SessionFileError(f"{where}: bad aion.trading_date {text[_K_DATE]!r}") from exc
        seed: int | None = None
        if _K_SEED in text:
            try:
                seed = int(text[_K_SEED])
            except ValueError as exc:
                raise SessionFileError(f"{where}: bad aion.seed {text[_K_SEED]!r}") from exc
        known = {*_REQUIRED_KEYS, _K_SEED}
        extra = {k: v for k, v in sorted(text.items()) if k.startswith(_PREFIX) and k not in known}
        return cls(
            trading_date=trading_date,
            source=text[_K_SOURCE],
            instrument_master_digest=text[_K_DIGEST],
            seed=seed,
            extra=extra,
            format_version=version,
        )


def _as_binary_array(packets: Sequence[bytes] | pa.Array) -> pa.Array:
    """Return ``packets`` as an Arrow binary array without copying Arrow input."""
    if isinstance(packets, pa.ChunkedArray):
        packets = packets.combine_chunks()
    if isinstance(packets, pa.Array):
        if packets.type == pa.large_binary():
            return packets.cast(pa.binary())
        if packets.type != pa.binary():
            raise TypeError(f"packets must be binary, got {packets.type}")
        return packets
    return pa.array(packets, type=pa.binary())


def temp_path(path: Path) -> Path:
    """A hidden temporary name next to ``path``: same directory, so the rename is atomic.

    Args:
        path: The final file name.

    Returns:
        ``.NAME.PID.tmp`` in the same directory.
    """
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


class SessionWriter:
    """Write a session file in chunks.

    Rows are buffered into row groups of ``row_group_rows`` and compressed with zstd.
    The file is written under a temporary name next to ``path`` and renamed into place
    on a clean :meth:`close`, so a crash never leaves a truncated file under the final
    name; on an exception inside the ``with`` block the temporary file is removed.

    Example:
        >>> with SessionWriter(path, meta) as w:          # doctest: +SKIP
        ...     w.write(recv_ns, tokens, packets)
    """

    def __init__(
        self,
        path: Path | str,
        meta: SessionMeta,
        *,
        row_group_rows: int = DEFAULT_ROW_GROUP_ROWS,
        compression: str = "zstd",
    ) -> None:
        """Open ``path`` for writing.

        Args:
            path: Final file name.
            meta: File metadata.
            row_group_rows: Rows per Parquet row group.
            compression: Parquet compression codec.

        Raises:
            ValueError: If ``row_group_rows`` is not positive.
        """
        if row_group_rows <= 0:
            raise ValueError("row_group_rows must be positive")
        self.path = Path(path)
        self.meta = meta
        self._rows_per_group = row_group_rows
        self._tmp = temp_path(self.path)
        self._schema = SCHEMA.with_metadata(meta.to_kv())
        self._writer: pq.ParquetWriter | None = pq.ParquetWriter(
            self._tmp, self._schema, compression=compression, write_statistics=["recv_ns", "token"]
        )
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._last_recv_ns: int | None = None
        self.rows_written = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def write(
        self,
        recv_ns: np.ndarray | Sequence[int],
        tokens: np.ndarray | Sequence[int],
        packets: Sequence[bytes] | pa.Array,
    ) -> None:
        """Append rows.

        Args:
            recv_ns: Receive times, ns since the epoch; non-decreasing across all
                calls (the file is in receive order).
            tokens: Instrument token of each packet.
            packets: Raw packets (``bytes`` each) or an Arrow binary array of them.

        Raises:
            ValueError: On length mismatch, decreasing receive times, or a closed writer.
        """
        if self._writer is None:
            raise ValueError("writer is closed")
        recv = np.ascontiguousarray(recv_ns, dtype=np.int64)
        toks = np.ascontiguousarray(tokens, dtype=np.uint32)
        pkts = _as_binary_array(packets)
        n = len(recv)
        if len(toks) != n or len(pkts) != n:
            raise ValueError(
                f"length mismatch: {n} recv_ns, {len(toks)} tokens, {len(pkts)} packets"
            )
        if n == 0:
            return
        # Readers and replays rely on receive order; catching a violation here is far
        # cheaper than discovering it as a non-monotonic volume downstream.
        if np.any(recv[1:] < recv[:-1]) or (
            self._last_recv_ns is not None and int(recv[0]) < self._last_recv_ns
        ):
            raise ValueError("recv_ns must be non-decreasing across the file")
        if pkts.null_count:
            raise ValueError("packets must not be null")
        self._last_recv_ns = int(recv[-1])
        batch = pa.RecordBatch.from_arrays(
            [pa.array(recv, type=pa.int64()), pa.array(toks, type=pa.uint32()), pkts],
            schema=SCHEMA,
        )
        self._pending.append(batch)
        self._pending_rows += n
        while self._pending_rows >= self._rows_per_group:
            self._flush(self._rows_per_group)

    def _flush(self, rows: int) -> None:
        """Write the first ``rows`` buffered rows as one row group."""
        assert self._writer is not None
        table = pa.Table.from_batches(self._pending, schema=SCHEMA)
        head, tail = table.slice(0, rows), table.slice(rows)
        self._writer.write_table(
            head.replace_schema_metadata(self._schema.metadata), row_group_size=rows
        )
        self.rows_written += head.num_rows
        self._pending = tail.combine_chunks().to_batches() if tail.num_rows else []
        self._pending_rows = tail.num_rows

    def close(self) -> None:
        """Flush, finish the file and rename it into place. Idempotent."""
        if self._writer is None:
            return
        if self._pending_rows:
            self._flush(self._pending_rows)
        self._writer.close()
        self._writer = None
        try:
            os.replace(self._tmp, self.path)
        except OSError:
            # e.g. the target is a directory: leave nothing half-done behind.
            self._tmp.unlink(missing_ok=True)
            raise
        log.debug("wrote %d rows to %s", self.rows_written, self.path)

    def abort(self) -> None:
        """Discard everything written so far and remove the temporary file."""
        if self._writer is not None:
            try:
                self._writer.close()
            finally:
                self._writer = None
                self._tmp.unlink(missing_ok=True)


def _open(path: Path | str) -> tuple[pq.ParquetFile, SessionMeta]:
    """Open ``path`` and validate its schema and metadata."""
    where = str(path)
    try:
        pf = pq.ParquetFile(path)
    except FileNotFoundError:
        raise
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        raise SessionFileError(f"{where}: not a Parquet file ({exc})") from exc
    schema = pf.schema_arrow
    for want in SCHEMA:
        idx = schema.get_field_index(want.name)
        if idx < 0:
            raise SessionFileError(f"{where}: missing column {want.name!r}")
        got = schema.field(idx).type
        if got != want.type:
            raise SessionFileError(f"{where}: column {want.name!r} is {got}, expected {want.type}")
    meta = SessionMeta.from_kv(schema.metadata, where)
    return pf, meta


def read_meta(path: Path | str) -> SessionMeta:
    """Read and validate a session file's metadata.

    Args:
        path: The session file.

    Returns:
        Its metadata.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        SessionFileError: If it is not Parquet, lacks a column, has a column of the
            wrong type, lacks required metadata or has an unknown format version.
    """
    return _open(path)[1]


def count_rows(path: Path | str) -> int:
    """Return the number of packets in a session file (from the footer, no scan).

    Args:
        path: The session file.

    Returns:
        Row count.

    Raises:
        SessionFileError: As :func:`read_meta`.
    """
    pf, _ = _open(path)
    return int(pf.metadata.num_rows)


def iter_batches(
    path: Path | str, batch_rows: int = 65_536
) -> Iterator[tuple[np.ndarray, np.ndarray, list[bytes]]]:
    """Yield a session file's rows in file (receive) order.

    Args:
        path: The session file.
        batch_rows: Maximum rows per yielded batch.

    Yields:
        ``(recv_ns, tokens, packets)``: an ``int64`` array, a ``uint32`` array and a
        list of raw packets, all of the same length.

    Raises:
        SessionFileError: As :func:`read_meta`, or when a page cannot be decoded
            (the file is damaged past its footer).
    """
    pf, _ = _open(path)
    batches = pf.iter_batches(batch_size=batch_rows, columns=[f.name for f in SCHEMA])
    done = 0
    while True:
        # A file damaged after its footer opens fine and fails only when its pages are
        # decompressed: name the file and where, instead of a bare codec error.
        try:
            batch = next(batches, None)
        except (pa.ArrowException, OSError) as exc:
            raise SessionFileError(f"{path}: corrupt data after row {done:,} ({exc})") from exc
        if batch is None:
            return
        done += batch.num_rows
        recv = batch.column(0).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        toks = batch.column(1).to_numpy(zero_copy_only=False).astype(np.uint32, copy=False)
        yield recv, toks, batch.column(2).to_pylist()
