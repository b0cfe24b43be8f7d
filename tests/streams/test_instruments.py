"""Tests for aion.streams.instruments: loading, validation, lookups and republishing."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest

from aion.streams.instruments import (
    CSV_FIELDS,
    UNDERLYING_SYMBOLS,
    Instrument,
    InstrumentFileError,
    InstrumentMaster,
    UnknownInstrument,
    underlying_symbol,
)
from aion.streams.symbols import InstrumentKind, parse_symbol

HEADER = ",".join(CSV_FIELDS)


def tok(exchange_token: int, segment_code: int) -> str:
    """Kite's token encoding, spelled out so the fixture rows are checkable."""
    return f"{exchange_token << 8 | segment_code},{exchange_token}"


ROWS = [
    f"{tok(1001, 9)},NIFTY 50,NIFTY 50,0.0,,0.0,0.0,0,EQ,INDICES,NSE",
    f"{tok(1016, 9)},NIFTY BANK,NIFTY BANK,0.0,,0.0,0.0,0,EQ,INDICES,NSE",
    f'{tok(2885, 1)},RELIANCE,"RELIANCE INDUSTRIES",0.0,,0.0,0.1,1,EQ,NSE,NSE',
    f'{tok(317, 1)},BAJAJ FINANCE,"BAJAJ FINANCE, LTD",0.0,,0.0,0.05,1,EQ,NSE,NSE',
    f'{tok(2031, 1)},M&M,"MAHINDRA & MAHINDRA",0.0,,0.0,0.1,1,EQ,NSE,NSE',
    f"{tok(52001, 2)},NIFTY25NOVFUT,NIFTY,0.0,2025-11-25,0.0,0.1,75,FUT,NFO-FUT,NFO",
    f"{tok(52002, 2)},NIFTY25NOV19500CE,NIFTY,0.0,2025-11-25,19500.0,0.05,75,CE,NFO-OPT,NFO",
    f"{tok(52003, 2)},NIFTY25NOV19500PE,NIFTY,0.0,2025-11-25,19500.0,0.05,75,PE,NFO-OPT,NFO",
    f"{tok(52004, 2)},NIFTY2511819000PE,NIFTY,0.0,2025-01-18,19000.0,0.05,75,PE,NFO-OPT,NFO",
    f"{tok(52005, 2)},BANKNIFTY25NOV52000CE,BANKNIFTY,0.0,2025-11-25,52000.0,0.05,35,CE,"
    "NFO-OPT,NFO",
    f"{tok(52006, 2)},RELIANCE25NOV1500CE,RELIANCE,0.0,2025-11-25,1500.0,0.05,500,CE,NFO-OPT,NFO",
    f"{tok(52007, 2)},M&M25NOVFUT,M&M,0.0,2025-11-25,0.0,0.1,200,FUT,NFO-FUT,NFO",
]
CSV_TEXT = HEADER + "\n" + "\n".join(ROWS) + "\n"


@pytest.fixture
def master() -> InstrumentMaster:
    return InstrumentMaster.from_csv(io.StringIO(CSV_TEXT))


def test_load_types_and_properties(master: InstrumentMaster) -> None:
    assert len(master) == len(ROWS)
    nifty = master.by_symbol("NSE:NIFTY 50")
    assert nifty.is_index and not nifty.is_option and not nifty.is_future
    assert nifty.instrument_token == 256265  # Kite's real NIFTY 50 token
    assert nifty.underlying is None
    bajaj = master.by_symbol("NSE:BAJAJ FINANCE")
    assert bajaj.name == "BAJAJ FINANCE, LTD"
    assert not bajaj.is_option and not bajaj.is_index
    ce = master.by_symbol("NFO:NIFTY25NOV19500CE")
    assert ce.expiry == date(2025, 11, 25)
    assert ce.strike == 19500.0 and ce.tick_size == 0.05 and ce.lot_size == 75
    assert ce.is_option and ce.is_fno and not ce.is_future
    assert ce.underlying == "NSE:NIFTY 50"
    fut = master.by_symbol("NFO:NIFTY25NOVFUT")
    assert fut.is_future and fut.underlying == "NSE:NIFTY 50"
    assert master.by_symbol("NFO:BANKNIFTY25NOV52000CE").underlying == "NSE:NIFTY BANK"
    assert master.by_symbol("NFO:RELIANCE25NOV1500CE").underlying == "NSE:RELIANCE"
    assert master.by_symbol("NFO:M&M25NOVFUT").underlying == "NSE:M&M"


def test_underlying_mapping() -> None:
    assert UNDERLYING_SYMBOLS["FINNIFTY"] == "NSE:NIFTY FIN SERVICE"
    assert underlying_symbol("FINNIFTY", "NFO") == "NSE:NIFTY FIN SERVICE"
    assert underlying_symbol("TCS", "NFO") == "NSE:TCS"
    assert underlying_symbol("TCS", "BFO") == "BSE:TCS"


def test_symbol_token_resolution_both_ways(master: InstrumentMaster) -> None:
    for instrument in master:
        assert master.token_for(instrument.symbol) == instrument.instrument_token
        assert master.symbol_for(instrument.instrument_token) == instrument.symbol
        assert master.by_token(instrument.instrument_token) is instrument
        assert master.get(instrument.instrument_token) is instrument
        assert instrument.instrument_token in master and instrument.symbol in master
    # Lookups normalise case and surrounding whitespace like parse_symbol.
    assert master.token_for(" nse : bajaj finance ") == master.token_for("NSE:BAJAJ FINANCE")


def test_unknown_lookups(master: InstrumentMaster) -> None:
    assert master.get(1) is None
    with pytest.raises(UnknownInstrument, match="unknown instrument token 1"):
        master.by_token(1)
    with pytest.raises(KeyError):
        master.symbol_for(1)
    with pytest.raises(UnknownInstrument, match="NSE:NOPE"):
        master.token_for("NSE:NOPE")
    assert "NSE:NOPE" not in master and 1 not in master
    assert str(UnknownInstrument(5)) == "unknown instrument token 5: not in the instrument master"


def test_every_symbol_parses_to_matching_kind(master: InstrumentMaster) -> None:
    for instrument in master:
        parsed = parse_symbol(instrument.symbol)
        if instrument.is_index:
            expected = InstrumentKind.INDEX
        elif instrument.instrument_type == "EQ":
            expected = InstrumentKind.EQUITY
        elif instrument.is_future:
            expected = InstrumentKind.FUTURE
        else:
            expected = InstrumentKind.OPTION
        assert parsed.kind is expected, instrument.symbol
        if instrument.is_fno:
            assert parsed.underlying == instrument.name
            assert instrument.expiry is not None
            assert (parsed.expiry_year, parsed.expiry_month) == (
                instrument.expiry.year,
                instrument.expiry.month,
            )
        if instrument.is_option:
            assert parsed.strike == instrument.strike
            assert parsed.option_type == instrument.instrument_type


def test_options_and_futures_of(master: InstrumentMaster) -> None:
    options = master.options_of("NSE:NIFTY 50")
    assert [o.tradingsymbol for o in options] == [
        "NIFTY2511819000PE",
        "NIFTY25NOV19500CE",
        "NIFTY25NOV19500PE",
    ]
    assert master.options_of("NIFTY") == options
    assert [o.tradingsymbol for o in master.options_of("NSE:RELIANCE")] == ["RELIANCE25NOV1500CE"]
    assert master.options_of("NSE:TCS") == []
    assert [f.tradingsymbol for f in master.futures_of("NSE:NIFTY 50")] == ["NIFTY25NOVFUT"]


def test_csv_round_trip_stream_and_path(master: InstrumentMaster, tmp_path: Path) -> None:
    out = io.StringIO()
    master.to_csv(out)
    assert out.getvalue().splitlines()[0] == HEADER
    again = InstrumentMaster.from_csv(io.StringIO(out.getvalue()))
    assert list(again) == list(master)
    assert out.getvalue() == master.to_csv_text()

    path = tmp_path / "instruments.csv"
    master.to_csv(path)
    from_path = InstrumentMaster.from_csv(path)
    assert list(from_path) == list(master)
    assert InstrumentMaster.from_csv(str(path)).digest() == master.digest()
    # Names with commas survive quoting.
    assert from_path.by_symbol("NSE:BAJAJ FINANCE").name == "BAJAJ FINANCE, LTD"


def test_digest_is_order_independent_and_content_sensitive(master: InstrumentMaster) -> None:
    shuffled = HEADER + "\n" + "\n".join(reversed(ROWS)) + "\n"
    assert InstrumentMaster.from_csv(io.StringIO(shuffled)).digest() == master.digest()
    assert len(master.digest()) == 64
    changed = CSV_TEXT.replace("RELIANCE INDUSTRIES", "RELIANCE INDUSTRIES LTD")
    assert InstrumentMaster.from_csv(io.StringIO(changed)).digest() != master.digest()
    fewer = HEADER + "\n" + "\n".join(ROWS[:-1]) + "\n"
    assert InstrumentMaster.from_csv(io.StringIO(fewer)).digest() != master.digest()


def test_records_round_trip(master: InstrumentMaster) -> None:
    records = master.to_records()
    assert len(records) == len(master)
    for key, value in records:
        assert value is not None
        assert key == str(value["instrument_token"])
        assert set(value) == set(CSV_FIELDS)
    # Values survive a JSON hop, as they would through a topic.
    wire = [(k, json.loads(json.dumps(v))) for k, v in records]
    again = InstrumentMaster.from_records(wire)
    assert list(again) == list(master)
    assert again.digest() == master.digest()
    index = next(v for _, v in records if v and v["tradingsymbol"] == "NIFTY 50")
    assert index["expiry"] is None
    fut = next(v for _, v in records if v and v["tradingsymbol"] == "NIFTY25NOVFUT")
    assert fut["expiry"] == "2025-11-25" and fut["lot_size"] == 75


def test_records_compaction_semantics(master: InstrumentMaster) -> None:
    records = master.to_records()
    reliance_key = str(master.token_for("NSE:RELIANCE"))
    nifty_key = str(master.token_for("NSE:NIFTY 50"))
    updated = dict(next(v for k, v in records if k == reliance_key) or {})
    updated["lot_size"] = 2
    again = InstrumentMaster.from_records([*records, (reliance_key, updated), (nifty_key, None)])
    assert len(again) == len(master) - 1
    assert again.by_symbol("NSE:RELIANCE").lot_size == 2
    assert "NSE:NIFTY 50" not in again


def test_records_reject_key_mismatch(master: InstrumentMaster) -> None:
    _, value = master.to_records()[0]
    with pytest.raises(InstrumentFileError, match="key_mismatch"):
        InstrumentMaster.from_records([("999", value)])
    lenient = InstrumentMaster.from_records([("999", value), ("1", "junk")], strict=False)  # type: ignore[list-item]
    assert len(lenient) == 0
    assert [r.reason for r in lenient.rejected] == ["key_mismatch", "bad_record"]


BAD_ROWS = [
    ("abc,1,X,X,0.0,,0.0,0.05,1,EQ,NSE,NSE", "bad_instrument_token"),
    (f"{tok(7, 1)[:-1]}8,X,X,0.0,,0.0,0.05,1,EQ,NSE,NSE", "token_mismatch"),
    (f"{tok(7, 2)},X,X,0.0,,0.0,0.05,1,EQ,NSE,NSE", "segment_mismatch"),
    (f"{tok(2885, 1)},RELIANCE2,X,0.0,,0.0,0.05,1,EQ,NSE,NSE", "duplicate_token"),
    (f"{tok(7, 1)},RELIANCE,X,0.0,,0.0,0.05,1,EQ,NSE,NSE", "duplicate_symbol"),
    (f"{tok(7, 2)},X25NOVFUT,X,0.0,2025-13-01,0.0,0.05,1,FUT,NFO-FUT,NFO", "bad_expiry"),
    (f"{tok(7, 2)},X25NOVFUT,X,0.0,25/11/2025,0.0,0.05,1,FUT,NFO-FUT,NFO", "bad_expiry"),
    (f"{tok(7, 2)},X25NOVFUT,X,0.0,,0.0,0.05,1,FUT,NFO-FUT,NFO", "no_expiry"),
    (f"{tok(7, 1)},X,X,0.0,,0.0,0.05,1,XX,NSE,NSE", "bad_instrument_type"),
    (f"{tok(7, 1)},X,X,0.0,,0.0,abc,1,EQ,NSE,NSE", "bad_tick_size"),
    (f"{tok(7, 1)},X,X,0.0,,0.0,0.05,1.5,EQ,NSE,NSE", "bad_lot_size"),
    (f"{tok(7, 1)},X,X,nan,,0.0,0.05,1,EQ,NSE,NSE", "bad_last_price"),
    (f"{tok(7, 1)},,X,0.0,,0.0,0.05,1,EQ,NSE,NSE", "empty_tradingsymbol"),
    (f"{tok(7, 1)},X,X,0.0,,0.0,0.05,1,EQ,NSE", "bad_field_count"),
]


@pytest.mark.parametrize(("row", "reason"), BAD_ROWS)
def test_bad_row_strict_names_line_and_reason(row: str, reason: str) -> None:
    text = CSV_TEXT + row + "\n"
    bad_line = len(ROWS) + 2  # header is line 1
    with pytest.raises(InstrumentFileError) as info:
        InstrumentMaster.from_csv(io.StringIO(text))
    assert info.value.reason == reason
    assert info.value.line == bad_line
    assert f":{bad_line}: {reason}" in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(("row", "reason"), BAD_ROWS)
def test_bad_row_lenient_is_reported_not_dropped(row: str, reason: str) -> None:
    lenient = InstrumentMaster.from_csv(io.StringIO(CSV_TEXT + row + "\n"), strict=False)
    assert len(lenient) == len(ROWS)
    assert [(r.line, r.reason) for r in lenient.rejected] == [(len(ROWS) + 2, reason)]
    assert lenient.rejected[0].raw == tuple(next(csv.reader([row])))


def test_line_numbers_count_quoted_newlines() -> None:
    multiline = f'{tok(9, 1)},ODD,"TWO\nLINES",0.0,,0.0,0.05,1,EQ,NSE,NSE'
    bad = f"{tok(10, 1)},BAD,X,0.0,,0.0,0.05,1,ZZ,NSE,NSE"
    text = f"{HEADER}\n{multiline}\n\n{bad}\n"
    lenient = InstrumentMaster.from_csv(io.StringIO(text), strict=False)
    assert lenient.by_symbol("NSE:ODD").name == "TWO\nLINES"
    assert [(r.line, r.reason) for r in lenient.rejected] == [(5, "bad_instrument_type")]


def test_file_error_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "inst.csv"
    path.write_text(CSV_TEXT + "x\n", encoding="utf-8")
    with pytest.raises(InstrumentFileError, match=r"inst\.csv:14: bad_field_count"):
        InstrumentMaster.from_csv(path)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty_file"),
        ("a,b,c\n", "bad_header"),
        (HEADER.replace("name", "nm") + "\n", "bad_header"),
    ],
)
def test_bad_header_always_raises(text: str, reason: str) -> None:
    with pytest.raises(InstrumentFileError) as info:
        InstrumentMaster.from_csv(io.StringIO(text), strict=False)
    assert info.value.reason == reason


def test_constructor_rejects_duplicates(master: InstrumentMaster) -> None:
    first = next(iter(master))
    with pytest.raises(InstrumentFileError, match="duplicate_token"):
        InstrumentMaster([first, first])
    assert isinstance(first, Instrument)
    assert len(InstrumentMaster(master)) == len(master)
