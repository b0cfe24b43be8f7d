"""Kite instrument master: load, validate, look up and republish ``GET /instruments`` dumps.

The master maps instrument tokens (what the ticker sends) to symbols (what the rest of the
engine speaks) and back. Kite's CSV header is fixed (``CSV_FIELDS``); every row is validated
and a bad row either aborts the load (``strict=True``, the default) or is kept in
``InstrumentMaster.rejected`` with its line and reason, so nothing is ever silently dropped.

Decisions:

* ``instrument_token`` must equal ``exchange_token << 8 | segment code`` (Kite's encoding). The
  segment code is checked only for segments in ``SEGMENT_CODES``; an unknown segment keeps the
  row, since Kite adds segments and the token/exchange_token check still holds.
* ``instrument_type`` must be EQ, FUT, CE or PE; anything else is a rejected row.
* ``Instrument.underlying`` resolves an F&O ``name`` (``"NIFTY"``) to the symbol of its
  underlying (``"NSE:NIFTY 50"``) through the single ``UNDERLYING_SYMBOLS`` dict; any other
  name maps to the cash segment of the same exchange family (NFO -> NSE, BFO -> BSE).
* ``to_records``/``from_records`` follow compacted-topic semantics: later records for a key win
  and a ``None`` value (tombstone) removes the instrument.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Final, TextIO

__all__ = [
    "CSV_FIELDS",
    "INSTRUMENT_TYPES",
    "SEGMENT_CODES",
    "UNDERLYING_SYMBOLS",
    "Instrument",
    "InstrumentFileError",
    "InstrumentMaster",
    "RejectedRow",
    "UnknownInstrument",
    "underlying_symbol",
]

CSV_FIELDS: Final = (
    "instrument_token",
    "exchange_token",
    "tradingsymbol",
    "name",
    "last_price",
    "expiry",
    "strike",
    "tick_size",
    "lot_size",
    "instrument_type",
    "segment",
    "exchange",
)

INSTRUMENT_TYPES: Final = frozenset({"EQ", "FUT", "CE", "PE"})

# Low byte of instrument_token per segment family (kiteconnect's ticker EXCHANGE_MAP); the
# family is the segment column up to the first "-" (NFO-OPT -> NFO).
SEGMENT_CODES: Final = {
    "NSE": 1,
    "NFO": 2,
    "CDS": 3,
    "BSE": 4,
    "BFO": 5,
    "BCD": 6,
    "MCX": 7,
    "MCXSX": 8,
    "INDICES": 9,
    "NCO": 12,
}

# F&O underlying name -> symbol of the instrument it derives from. Index derivatives use short
# names that differ from the index tradingsymbol; everything else is the same-name equity.
UNDERLYING_SYMBOLS: Final = {
    "NIFTY": "NSE:NIFTY 50",
    "BANKNIFTY": "NSE:NIFTY BANK",
    "FINNIFTY": "NSE:NIFTY FIN SERVICE",
    "MIDCPNIFTY": "NSE:NIFTY MID SELECT",
    "NIFTYNXT50": "NSE:NIFTY NEXT 50",
    "SENSEX": "BSE:SENSEX",
    "BANKEX": "BSE:BANKEX",
    "SENSEX50": "BSE:SENSEX50",
}

# Exchange whose cash instrument underlies an F&O exchange's contracts.
_CASH_EXCHANGE: Final = {"NFO": "NSE", "BFO": "BSE"}

_DIGEST_VERSION: Final = "aion.instruments.v1"

RecordValue = str | int | float | None
Record = tuple[str, dict[str, RecordValue] | None]


class InstrumentFileError(ValueError):
    """An instrument file or record set that cannot be loaded.

    Attributes:
        source: File name (or ``"<stream>"``/``"<records>"``) the error came from.
        line: 1-based line of the offending row (record index for records), or None.
        reason: Short machine-readable reason, e.g. ``"duplicate_token"``.
    """

    def __init__(self, source: str, line: int | None, reason: str, detail: str = "") -> None:
        self.source = source
        self.line = line
        self.reason = reason
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {reason}" + (f" ({detail})" if detail else ""))


class UnknownInstrument(KeyError):  # noqa: N818 - name fixed by the engine-wide API
    """A token or symbol that is not in the instrument master."""

    def __init__(self, key: int | str) -> None:
        self.key = key
        kind = "token" if isinstance(key, int) else "symbol"
        super().__init__(f"unknown instrument {kind} {key!r}: not in the instrument master")

    def __str__(self) -> str:
        # KeyError.__str__ would repr() the message and wrap it in quotes.
        return str(self.args[0])


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A row skipped by a non-strict load.

    Attributes:
        line: 1-based line in the file (record index for records).
        reason: Short machine-readable reason.
        detail: Human-readable detail.
        raw: The row's fields as read.
    """

    line: int
    reason: str
    detail: str
    raw: tuple[str, ...]


def underlying_symbol(name: str, exchange: str) -> str:
    """Symbol of the instrument an F&O contract derives from.

    Args:
        name: The contract's ``name`` column, e.g. ``"NIFTY"`` or ``"RELIANCE"``.
        exchange: The contract's exchange, e.g. ``"NFO"``.

    Returns:
        ``UNDERLYING_SYMBOLS[name]`` when listed, else the same name on the cash exchange.
    """
    if name in UNDERLYING_SYMBOLS:
        return UNDERLYING_SYMBOLS[name]
    return f"{_CASH_EXCHANGE.get(exchange, 'NSE')}:{name}"


@dataclass(frozen=True, slots=True)
class Instrument:
    """One row of Kite's instrument master.

    Attributes:
        instrument_token: Token used by the ticker (``exchange_token << 8 | segment``).
        exchange_token: Exchange's own token.
        tradingsymbol: E.g. ``"RELIANCE"``, ``"NIFTY 50"``, ``"NIFTY25NOV19500CE"``.
        name: Company/index name for cash rows, underlying name for F&O rows.
        last_price: Price in the dump (usually 0.0).
        expiry: Expiry date for F&O, else None.
        strike: Strike for options, 0.0 otherwise.
        tick_size: Minimum price step (0.0 for indices).
        lot_size: Contract lot size (0 for indices).
        instrument_type: ``"EQ"``, ``"FUT"``, ``"CE"`` or ``"PE"`` (indices are ``"EQ"``).
        segment: E.g. ``"NSE"``, ``"NFO-OPT"``, ``"INDICES"``.
        exchange: E.g. ``"NSE"``, ``"NFO"``.
    """

    instrument_token: int
    exchange_token: int
    tradingsymbol: str
    name: str
    last_price: float
    expiry: date | None
    strike: float
    tick_size: float
    lot_size: int
    instrument_type: str
    segment: str
    exchange: str

    @property
    def symbol(self) -> str:
        """``EXCHANGE:TRADINGSYMBOL``, e.g. ``"NSE:NIFTY 50"`` or ``"NFO:NIFTY25NOV19500CE"``."""
        return f"{self.exchange}:{self.tradingsymbol}"

    @property
    def is_option(self) -> bool:
        """Whether this is a CE or PE contract."""
        return self.instrument_type in ("CE", "PE")

    @property
    def is_future(self) -> bool:
        """Whether this is a futures contract."""
        return self.instrument_type == "FUT"

    @property
    def is_fno(self) -> bool:
        """Whether this is a future or an option."""
        return self.is_option or self.is_future

    @property
    def is_index(self) -> bool:
        """Whether this is an index (Kite lists them as EQ in segment INDICES)."""
        return self.segment == "INDICES"

    @property
    def underlying(self) -> str | None:
        """Symbol of the underlying for F&O (``"NSE:NIFTY 50"`` for NIFTY), else None."""
        if not self.is_fno:
            return None
        return underlying_symbol(self.name, self.exchange)

    def to_fields(self) -> dict[str, str]:
        """The row as CSV strings, in Kite's format.

        Returns:
            Field name -> text, keyed by ``CSV_FIELDS``.
        """
        return {
            "instrument_token": str(self.instrument_token),
            "exchange_token": str(self.exchange_token),
            "tradingsymbol": self.tradingsymbol,
            "name": self.name,
            "last_price": repr(self.last_price),
            "expiry": self.expiry.isoformat() if self.expiry else "",
            "strike": repr(self.strike),
            "tick_size": repr(self.tick_size),
            "lot_size": str(self.lot_size),
            "instrument_type": self.instrument_type,
            "segment": self.segment,
            "exchange": self.exchange,
        }

    def to_record_value(self) -> dict[str, RecordValue]:
        """The row as a JSON-safe dict (numbers as numbers, expiry ISO text or None).

        Returns:
            Field name -> value, keyed by ``CSV_FIELDS``.
        """
        return {
            "instrument_token": self.instrument_token,
            "exchange_token": self.exchange_token,
            "tradingsymbol": self.tradingsymbol,
            "name": self.name,
            "last_price": self.last_price,
            "expiry": self.expiry.isoformat() if self.expiry else None,
            "strike": self.strike,
            "tick_size": self.tick_size,
            "lot_size": self.lot_size,
            "instrument_type": self.instrument_type,
            "segment": self.segment,
            "exchange": self.exchange,
        }


class _RowError(Exception):
    """Internal: one row failed validation."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


def _text(fields: Mapping[str, RecordValue], key: str) -> str:
    """Field as stripped text; None counts as empty."""
    value = fields.get(key)
    return "" if value is None else str(value).strip()


def _int(fields: Mapping[str, RecordValue], key: str) -> int:
    """Parse a non-negative integer field."""
    value = fields.get(key)
    if isinstance(value, bool):  # bool is an int subclass but never a valid token or lot
        raise _RowError(f"bad_{key}", repr(value))
    if isinstance(value, int):
        number = value
    else:
        text = _text(fields, key)
        if not text.isascii() or not text.isdigit():
            raise _RowError(f"bad_{key}", repr(text))
        number = int(text)
    if number < 0:
        raise _RowError(f"bad_{key}", repr(value))
    return number


def _float(fields: Mapping[str, RecordValue], key: str) -> float:
    """Parse a finite, non-negative float field; empty means 0.0 as in Kite's dumps."""
    value = fields.get(key)
    if isinstance(value, bool):
        raise _RowError(f"bad_{key}", repr(value))
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = _text(fields, key)
        if not text:
            return 0.0
        try:
            number = float(text)
        except ValueError:
            raise _RowError(f"bad_{key}", repr(text)) from None
    if not math.isfinite(number) or number < 0:
        raise _RowError(f"bad_{key}", repr(value))
    return number


def _expiry(fields: Mapping[str, RecordValue]) -> date | None:
    """Parse the ``YYYY-MM-DD`` expiry; empty means none."""
    text = _text(fields, "expiry")
    if not text:
        return None
    try:
        if len(text) != 10:  # fromisoformat also takes "20251125" and datetimes
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise _RowError("bad_expiry", repr(text)) from None


def _instrument(fields: Mapping[str, RecordValue]) -> Instrument:
    """Validate one row's fields into an Instrument.

    Args:
        fields: Field name -> value (CSV text or JSON-safe values).

    Returns:
        The instrument.

    Raises:
        _RowError: If the row is invalid.
    """
    token = _int(fields, "instrument_token")
    exchange_token = _int(fields, "exchange_token")
    if token >> 8 != exchange_token:
        raise _RowError(
            "token_mismatch", f"instrument_token {token} >> 8 != exchange_token {exchange_token}"
        )
    segment = _text(fields, "segment")
    family = segment.split("-", 1)[0]
    if family in SEGMENT_CODES and token & 0xFF != SEGMENT_CODES[family]:
        raise _RowError(
            "segment_mismatch",
            f"token low byte {token & 0xFF} != {SEGMENT_CODES[family]} for segment {segment}",
        )
    tradingsymbol = _text(fields, "tradingsymbol")
    exchange = _text(fields, "exchange")
    if not tradingsymbol:
        raise _RowError("empty_tradingsymbol")
    if not exchange:
        raise _RowError("empty_exchange")
    instrument_type = _text(fields, "instrument_type")
    if instrument_type not in INSTRUMENT_TYPES:
        raise _RowError("bad_instrument_type", repr(instrument_type))
    expiry = _expiry(fields)
    if instrument_type != "EQ" and expiry is None:
        raise _RowError("no_expiry", f"{instrument_type} row without expiry")
    return Instrument(
        instrument_token=token,
        exchange_token=exchange_token,
        tradingsymbol=tradingsymbol,
        name=_text(fields, "name"),
        last_price=_float(fields, "last_price"),
        expiry=expiry,
        strike=_float(fields, "strike"),
        tick_size=_float(fields, "tick_size"),
        lot_size=_int(fields, "lot_size"),
        instrument_type=instrument_type,
        segment=segment,
        exchange=exchange,
    )


class InstrumentMaster:
    """An indexed, validated set of instruments.

    Args:
        instruments: Instruments to index, in the order to keep.
        rejected: Rows a non-strict load skipped, kept for reporting.

    Raises:
        InstrumentFileError: If two instruments share a token or a symbol.
    """

    def __init__(
        self, instruments: Iterable[Instrument], *, rejected: Iterable[RejectedRow] = ()
    ) -> None:
        self._by_token: dict[int, Instrument] = {}
        self._by_symbol: dict[str, Instrument] = {}
        for index, instrument in enumerate(instruments):
            reason = self._conflict(instrument)
            if reason:
                raise InstrumentFileError("<instruments>", index, reason, instrument.symbol)
            self._add(instrument)
        self.rejected: list[RejectedRow] = list(rejected)

    def _conflict(self, instrument: Instrument) -> str | None:
        """Reason the instrument cannot be added, or None."""
        if instrument.instrument_token in self._by_token:
            return "duplicate_token"
        if instrument.symbol in self._by_symbol:
            return "duplicate_symbol"
        return None

    def _add(self, instrument: Instrument) -> None:
        """Index one instrument (no checks)."""
        self._by_token[instrument.instrument_token] = instrument
        self._by_symbol[instrument.symbol] = instrument

    @classmethod
    def from_csv(
        cls, source: str | os.PathLike[str] | TextIO, *, strict: bool = True
    ) -> InstrumentMaster:
        """Load a Kite ``/instruments`` CSV.

        Args:
            source: A file path, or a text stream positioned at the header.
            strict: Raise on the first bad row; if False, skip bad rows into ``.rejected``.

        Returns:
            The loaded master.

        Raises:
            InstrumentFileError: If the file is not UTF-8 text or the header is wrong
                (always), or a row is bad and ``strict`` is True; the message names the
                file, line and reason.
        """
        name = str(source) if isinstance(source, str | os.PathLike) else getattr(
            source, "name", "<stream>")
        try:
            if isinstance(source, str | os.PathLike):
                with Path(source).open(newline="", encoding="utf-8") as stream:
                    return cls._read(stream, name, strict=strict)
            return cls._read(source, name, strict=strict)
        except UnicodeDecodeError as exc:
            raise InstrumentFileError(name, None, "not_utf8_text",
                                      f"byte {exc.start}: not a Kite instruments CSV") from exc

    @classmethod
    def _read(cls, stream: TextIO, source: str, *, strict: bool) -> InstrumentMaster:
        """Parse CSV rows from an open stream (see ``from_csv``)."""
        reader = csv.reader(stream)
        header = next(reader, None)
        if header is None:
            raise InstrumentFileError(source, None, "empty_file")
        if tuple(h.strip() for h in header) != CSV_FIELDS:
            raise InstrumentFileError(
                source, reader.line_num, "bad_header", f"expected {','.join(CSV_FIELDS)}"
            )
        master = cls(())
        line = reader.line_num
        while True:
            try:
                row = next(reader, None)
            except csv.Error as exc:
                # The csv module cannot resync after a malformed quote; stop either way.
                raise InstrumentFileError(source, reader.line_num, "bad_csv", str(exc)) from exc
            if row is None:
                break
            # line_num is the row's last physical line; a quoted newline spans several.
            line, end = line + 1, reader.line_num
            if not row:
                line = end
                continue  # blank line, e.g. a trailing newline
            try:
                if len(row) != len(CSV_FIELDS):
                    raise _RowError("bad_field_count", f"{len(row)} fields")
                instrument = _instrument(dict(zip(CSV_FIELDS, row, strict=True)))
                conflict = master._conflict(instrument)
                if conflict:
                    raise _RowError(conflict, instrument.symbol)
            except _RowError as err:
                if strict:
                    raise InstrumentFileError(source, line, err.reason, err.detail) from None
                master.rejected.append(RejectedRow(line, err.reason, err.detail, tuple(row)))
            else:
                master._add(instrument)
            line = end
        return master

    def to_csv(self, dest: str | os.PathLike[str] | TextIO) -> None:
        """Write the instruments as a Kite-format CSV (rejected rows are not written).

        Args:
            dest: A file path (overwritten) or a writable text stream.
        """
        if isinstance(dest, str | os.PathLike):
            with Path(dest).open("w", newline="", encoding="utf-8") as stream:
                self._write(stream)
        else:
            self._write(dest)

    def _write(self, stream: TextIO) -> None:
        """Write header and rows to an open stream."""
        writer = csv.DictWriter(stream, fieldnames=CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        for instrument in self:
            writer.writerow(instrument.to_fields())

    def to_records(self) -> list[Record]:
        """Records for a compacted topic: key ``str(token)``, value a JSON-safe dict.

        Returns:
            ``(key, value)`` pairs in master order.
        """
        return [(str(i.instrument_token), i.to_record_value()) for i in self]

    @classmethod
    def from_records(cls, records: Iterable[Record], *, strict: bool = True) -> InstrumentMaster:
        """Rebuild a master from compacted-topic records.

        Later records for the same key replace earlier ones and a ``None`` value deletes
        the key, as when reading a compacted topic from the start.

        Args:
            records: ``(key, value)`` pairs as produced by ``to_records``.
            strict: Raise on a bad record; if False, skip it into ``.rejected``.

        Returns:
            The rebuilt master.

        Raises:
            InstrumentFileError: If a record is bad (key not its token, invalid fields, or a
                symbol shared by two tokens) and ``strict`` is True.
        """
        latest: dict[str, tuple[int, dict[str, RecordValue] | None]] = {}
        for index, (key, value) in enumerate(records):
            latest.pop(key, None)  # re-insert so order follows the latest write
            latest[key] = (index, value)
        master = cls(())
        for key, (index, value) in latest.items():
            if value is None:
                continue
            try:
                if not isinstance(value, Mapping):
                    raise _RowError("bad_record", f"value is {type(value).__name__}")
                instrument = _instrument(value)
                if key != str(instrument.instrument_token):
                    raise _RowError("key_mismatch", f"key {key!r}")
                conflict = master._conflict(instrument)
                if conflict:
                    raise _RowError(conflict, instrument.symbol)
            except _RowError as err:
                if strict:
                    raise InstrumentFileError("<records>", index, err.reason, err.detail) from None
                raw = (
                    tuple(_text(value, f) for f in CSV_FIELDS) if isinstance(value, Mapping) else ()
                )
                master.rejected.append(RejectedRow(index, err.reason, err.detail, raw))
            else:
                master._add(instrument)
        return master

    def __len__(self) -> int:
        return len(self._by_token)

    def __iter__(self) -> Iterator[Instrument]:
        return iter(self._by_token.values())

    def __contains__(self, key: object) -> bool:
        """Whether a token (int) or symbol (str) is known."""
        if isinstance(key, int):
            return key in self._by_token
        return isinstance(key, str) and self._lookup_symbol(key) is not None

    def get(self, token: int) -> Instrument | None:
        """Instrument for a token, or None.

        Args:
            token: Instrument token.

        Returns:
            The instrument, or None if unknown.
        """
        return self._by_token.get(token)

    def by_token(self, token: int) -> Instrument:
        """Instrument for a token.

        Args:
            token: Instrument token.

        Returns:
            The instrument.

        Raises:
            UnknownInstrument: If the token is not in the master.
        """
        instrument = self._by_token.get(token)
        if instrument is None:
            raise UnknownInstrument(token)
        return instrument

    def _lookup_symbol(self, symbol: str) -> Instrument | None:
        """Exact lookup, then with case and outer whitespace normalised as parse_symbol does."""
        found = self._by_symbol.get(symbol)
        if found is None:
            exchange, _, tradingsymbol = symbol.partition(":")
            normalised = f"{exchange.strip().upper()}:{tradingsymbol.strip().upper()}"
            found = self._by_symbol.get(normalised)
        return found

    def by_symbol(self, symbol: str) -> Instrument:
        """Instrument for an ``EXCHANGE:TRADINGSYMBOL`` symbol.

        Args:
            symbol: E.g. ``"NSE:RELIANCE"``; case and outer whitespace are normalised.

        Returns:
            The instrument.

        Raises:
            UnknownInstrument: If the symbol is not in the master.
        """
        instrument = self._lookup_symbol(symbol)
        if instrument is None:
            raise UnknownInstrument(symbol)
        return instrument

    def token_for(self, symbol: str) -> int:
        """Instrument token for a symbol.

        Args:
            symbol: E.g. ``"NFO:NIFTY25NOV19500CE"``.

        Returns:
            The token.

        Raises:
            UnknownInstrument: If the symbol is not in the master.
        """
        return self.by_symbol(symbol).instrument_token

    def symbol_for(self, token: int) -> str:
        """Symbol for an instrument token.

        Args:
            token: Instrument token.

        Returns:
            ``EXCHANGE:TRADINGSYMBOL``.

        Raises:
            UnknownInstrument: If the token is not in the master.
        """
        return self.by_token(token).symbol

    def options_of(self, underlying_symbol: str) -> list[Instrument]:
        """Option contracts on an underlying.

        Args:
            underlying_symbol: The underlying's symbol (``"NSE:NIFTY 50"``, ``"NSE:RELIANCE"``)
                or its F&O name (``"NIFTY"``).

        Returns:
            Options sorted by expiry, strike, then CE before PE.
        """
        wanted = underlying_symbol.strip().upper()
        found = [
            i for i in self if i.is_option and (i.underlying == wanted or i.name.upper() == wanted)
        ]
        return sorted(found, key=lambda i: (i.expiry or date.min, i.strike, i.instrument_type))

    def futures_of(self, underlying_symbol: str) -> list[Instrument]:
        """Futures contracts on an underlying, sorted by expiry.

        Args:
            underlying_symbol: The underlying's symbol or its F&O name, as in ``options_of``.

        Returns:
            Futures sorted by expiry.
        """
        wanted = underlying_symbol.strip().upper()
        found = [
            i for i in self if i.is_future and (i.underlying == wanted or i.name.upper() == wanted)
        ]
        return sorted(found, key=lambda i: i.expiry or date.min)

    def digest(self) -> str:
        """SHA-256 over a canonical serialisation, independent of row order.

        Rows are serialised as their CSV text fields, sorted by token, so two masters with the
        same instruments hash equal however the dump was ordered. Rejected rows are excluded.

        Returns:
            Lower-case hex digest.
        """
        rows = [
            [i.to_fields()[f] for f in CSV_FIELDS]
            for i in sorted(self, key=lambda i: i.instrument_token)
        ]
        payload = json.dumps(
            {"version": _DIGEST_VERSION, "fields": CSV_FIELDS, "rows": rows},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def to_csv_text(self) -> str:
        """The CSV as a string (convenience for tests and small masters).

        Returns:
            Header plus one line per instrument.
        """
        buffer = io.StringIO()
        self._write(buffer)
        return buffer.getvalue()
