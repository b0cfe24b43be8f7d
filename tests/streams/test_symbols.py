"""Tests for aion.streams.symbols: parsing, formatting and their round trip."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aion.streams.symbols import (
    DIGIT_UNDERLYINGS,
    InstrumentKind,
    ParsedSymbol,
    SymbolError,
    format_future_symbol,
    format_option_symbol,
    is_fno,
    is_future,
    is_option,
    parse_symbol,
)

EQ, IDX, FUT, OPT = (
    InstrumentKind.EQUITY,
    InstrumentKind.INDEX,
    InstrumentKind.FUTURE,
    InstrumentKind.OPTION,
)

# symbol, kind, underlying, (year, month, day), strike, option_type
VALID = [
    ("NSE:RELIANCE", EQ, "RELIANCE", (None, None, None), None, None),
    ("NSE:ADANI ENTERPRISES", EQ, "ADANI ENTERPRISES", (None, None, None), None, None),
    ("NSE:BAJAJ FINANCE", EQ, "BAJAJ FINANCE", (None, None, None), None, None),
    ("NSE:M&M", EQ, "M&M", (None, None, None), None, None),
    ("BSE:RELIANCE", EQ, "RELIANCE", (None, None, None), None, None),
    # Looks like an option, but NSE never lists options.
    ("NSE:NIFTY25NOV19500CE", EQ, "NIFTY25NOV19500CE", (None, None, None), None, None),
    ("NSE:NIFTY 50", IDX, "NIFTY 50", (None, None, None), None, None),
    ("NSE:NIFTY BANK", IDX, "NIFTY BANK", (None, None, None), None, None),
    ("NSE:INDIA VIX", IDX, "INDIA VIX", (None, None, None), None, None),
    ("NSE:NIFTY PSU BANK", IDX, "NIFTY PSU BANK", (None, None, None), None, None),
    ("BSE:SENSEX", IDX, "SENSEX", (None, None, None), None, None),
    ("NFO:NIFTY25NOV19500CE", OPT, "NIFTY", (2025, 11, None), 19500.0, "CE"),
    ("NFO:BANKNIFTY25DEC52000PE", OPT, "BANKNIFTY", (2025, 12, None), 52000.0, "PE"),
    ("NFO:NIFTY25NOVFUT", FUT, "NIFTY", (2025, 11, None), None, None),
    ("NFO:NIFTY2511819500CE", OPT, "NIFTY", (2025, 1, 18), 19500.0, "CE"),
    ("NFO:NIFTY25D0926000PE", OPT, "NIFTY", (2025, 12, 9), 26000.0, "PE"),
    ("NFO:NIFTY25O0725000CE", OPT, "NIFTY", (2025, 10, 7), 25000.0, "CE"),
    ("NFO:NIFTY25N1124000PE", OPT, "NIFTY", (2025, 11, 11), 24000.0, "PE"),
    ("NFO:IDEA25NOV12.5CE", OPT, "IDEA", (2025, 11, None), 12.5, "CE"),
    ("NFO:IDEA2511812.5PE", OPT, "IDEA", (2025, 1, 18), 12.5, "PE"),
    ("NFO:M&M25NOV3000CE", OPT, "M&M", (2025, 11, None), 3000.0, "CE"),
    ("NFO:M&M25NOVFUT", FUT, "M&M", (2025, 11, None), None, None),
    ("NFO:BAJAJ-AUTO25NOV9000PE", OPT, "BAJAJ-AUTO", (2025, 11, None), 9000.0, "PE"),
    ("NFO:NIFTYNXT5025NOVFUT", FUT, "NIFTYNXT50", (2025, 11, None), None, None),
    ("NFO:NIFTYNXT5025NOV70000CE", OPT, "NIFTYNXT50", (2025, 11, None), 70000.0, "CE"),
    ("NFO:NIFTYNXT502511870000CE", OPT, "NIFTYNXT50", (2025, 1, 18), 70000.0, "CE"),
    ("NFO:360ONE25NOV1100CE", OPT, "360ONE", (2025, 11, None), 1100.0, "CE"),
    ("BFO:SENSEX2511880000CE", OPT, "SENSEX", (2025, 1, 18), 80000.0, "CE"),
    ("BFO:SENSEX25NOVFUT", FUT, "SENSEX", (2025, 11, None), None, None),
    # Every month abbreviation, and a leap day in the weekly form.
    *[
        (f"NFO:NIFTY25{mon}FUT", FUT, "NIFTY", (2025, n, None), None, None)
        for n, mon in enumerate(
            ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
            start=1,
        )
    ],
    ("NFO:NIFTY2422920000CE", OPT, "NIFTY", (2024, 2, 29), 20000.0, "CE"),
]


@pytest.mark.parametrize(("symbol", "kind", "underlying", "expiry", "strike", "opt"), VALID)
def test_parse_valid(
    symbol: str,
    kind: InstrumentKind,
    underlying: str,
    expiry: tuple[int | None, int | None, int | None],
    strike: float | None,
    opt: str | None,
) -> None:
    parsed = parse_symbol(symbol)
    assert parsed.kind is kind
    assert parsed.underlying == underlying
    assert (parsed.expiry_year, parsed.expiry_month, parsed.expiry_day) == expiry
    assert parsed.strike == strike
    assert parsed.option_type == opt
    assert parsed.symbol == symbol
    assert is_option(symbol) is (kind is OPT)
    assert is_future(symbol) is (kind is FUT)
    assert is_fno(symbol) is (kind in (FUT, OPT))


INVALID = [
    ("", "empty"),
    ("   ", "empty"),
    ("NSE:", "empty"),
    ("NSE:  ", "empty"),
    ("RELIANCE", "bad_exchange"),
    (":RELIANCE", "bad_exchange"),
    ("XYZ:RELIANCE", "bad_exchange"),
    ("MCX:GOLD25NOVFUT", "unsupported_exchange"),
    ("CDS:USDINR25NOVFUT", "unsupported_exchange"),
    ("NSE:A:B", "bad_chars"),
    ("NSE:REL\nIANCE", "bad_chars"),
    ("NFO:RELIANCE", "not_fno_format"),
    ("NFO:BAJAJFINANCE", "not_fno_format"),
    ("NFO:NIFTY 50", "not_fno_format"),
    ("NFO:NIFTYFUT", "no_expiry"),
    ("NFO:NIFTY25FUT", "no_expiry"),
    ("NFO:NIFTY19500CE", "no_expiry"),
    ("NFO:NIFTY25XYZFUT", "bad_month"),
    ("NFO:NIFTY25NOB19500CE", "bad_month"),
    ("NFO:NIFTY25N3119500CE", "bad_day"),
    ("NFO:NIFTY25D0026000PE", "bad_day"),
    ("NFO:NIFTY2522919500CE", "no_expiry"),  # 2025-02-29 does not exist
    ("NFO:NIFTY25NOV0CE", "bad_strike"),
    ("NFO:NIFTY25NOV019500CE", "bad_strike"),
    ("NFO:NIFTY25NOVCE", "bad_strike"),
    ("NFO:NIFTY25NOV19500.CE", "bad_strike"),
    ("NFO:25NOVFUT", "no_expiry"),
    ("NFO:2511819500CE", "no_expiry"),
    ("NFO:NIF TY25NOVFUT", "bad_underlying"),
    ("NFO:" + "1" * 400 + "CE", "no_expiry"),
]


@pytest.mark.parametrize(("symbol", "reason"), INVALID)
def test_parse_invalid(symbol: str, reason: str) -> None:
    with pytest.raises(SymbolError) as info:
        parse_symbol(symbol)
    assert info.value.reason == reason
    assert isinstance(info.value, ValueError)
    assert not is_option(symbol)
    assert not is_future(symbol)
    assert not is_fno(symbol)


@pytest.mark.parametrize("bad", [None, 42, b"NFO:NIFTY25NOVFUT", ["NSE:RELIANCE"]])
def test_non_strings(bad: object) -> None:
    with pytest.raises(SymbolError) as info:
        parse_symbol(bad)  # type: ignore[arg-type]
    assert info.value.reason == "not_a_string"
    assert not is_option(bad)
    assert not is_future(bad)
    assert not is_fno(bad)


def test_lowercase_and_whitespace_are_normalised() -> None:
    parsed = parse_symbol("  nfo : nifty25nov19500ce ")
    assert parsed.symbol == "NFO:NIFTY25NOV19500CE"
    assert parsed.kind is OPT
    assert parse_symbol("nse:nifty 50").kind is IDX


def test_known_indices_can_be_overridden() -> None:
    assert parse_symbol("NSE:MY INDEX").kind is EQ
    assert parse_symbol("NSE:MY INDEX", known_indices=frozenset({"NSE:MY INDEX"})).kind is IDX
    assert parse_symbol("BSE:MY INDEX", known_indices=frozenset({"MY INDEX"})).kind is IDX
    # A qualified entry only matches its own exchange.
    assert parse_symbol("BSE:NIFTY BANK").kind is EQ


def test_weekly_digit_ambiguity_prefers_known_digit_underlyings() -> None:
    # NIFTYNXT50 + 25118 + 70000 vs NIFTYNXT5 + 02511 + 870000: the listed name wins.
    assert parse_symbol("NFO:NIFTYNXT502511870000CE").underlying == "NIFTYNXT50"
    # Unlisted, it is rejected rather than guessed (NIFTYNXT + 50251... is no valid date).
    with pytest.raises(SymbolError):
        parse_symbol("NFO:NIFTYNXT502511870000CE", digit_underlyings=frozenset())
    assert parse_symbol("NFO:ABC252511819500CE", digit_underlyings=frozenset({"ABC25"})).strike == (
        19500.0
    )
    assert "NIFTYNXT50" in DIGIT_UNDERLYINGS


def test_parsed_symbol_helpers() -> None:
    weekly = parse_symbol("NFO:NIFTY2511819500CE")
    assert weekly.expiry == date(2025, 1, 18)
    assert weekly.is_fno
    assert parse_symbol("NFO:NIFTY25NOV19500CE").expiry is None
    assert not parse_symbol("NSE:RELIANCE").is_fno
    assert isinstance(weekly, ParsedSymbol)
    assert InstrumentKind.OPTION == "option"


@pytest.mark.parametrize(
    ("args", "weekly", "expected"),
    [
        (("NIFTY", date(2025, 11, 27), 19500, "CE"), False, "NIFTY25NOV19500CE"),
        (("NIFTY", date(2025, 1, 18), 19500.0, "CE"), True, "NIFTY2511819500CE"),
        (("NIFTY", date(2025, 12, 9), 26000, "pe"), True, "NIFTY25D0926000PE"),
        (("nifty", date(2025, 10, 7), 25000, "CE"), True, "NIFTY25O0725000CE"),
        (("IDEA", date(2025, 11, 27), 12.5, "CE"), False, "IDEA25NOV12.5CE"),
        (("M&M", date(2025, 11, 27), 3000, "PE"), False, "M&M25NOV3000PE"),
        (("NIFTYNXT50", date(2025, 1, 18), 70000, "CE"), True, "NIFTYNXT502511870000CE"),
    ],
)
def test_format_option_symbol(
    args: tuple[str, date, float, str], weekly: bool, expected: str
) -> None:
    assert format_option_symbol(*args, weekly=weekly) == expected


def test_format_future_symbol() -> None:
    assert format_future_symbol("NIFTY", date(2025, 11, 27)) == "NIFTY25NOVFUT"
    assert format_future_symbol("BAJAJ-AUTO", date(2026, 1, 29)) == "BAJAJ-AUTO26JANFUT"


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        (lambda: format_option_symbol("NIFTY", date(2025, 11, 27), 0, "CE"), "bad_strike"),
        (lambda: format_option_symbol("NIFTY", date(2025, 11, 27), -5, "CE"), "bad_strike"),
        (
            lambda: format_option_symbol("NIFTY", date(2025, 11, 27), float("nan"), "CE"),
            "bad_strike",
        ),
        (lambda: format_option_symbol("NIFTY", date(2025, 11, 27), 100, "XX"), "bad_option_type"),
        (lambda: format_option_symbol("NIFTY", date(1999, 11, 27), 100, "CE"), "bad_year"),
        (lambda: format_option_symbol("NIF TY", date(2025, 11, 27), 100, "CE"), "bad_underlying"),
        (lambda: format_future_symbol("25", date(2025, 11, 27)), "bad_underlying"),
        # ABC25 is not a listed digit underlying, so its weekly symbol could not be parsed.
        (
            lambda: format_option_symbol("ABC25", date(2025, 1, 18), 19500, "CE", weekly=True),
            "ambiguous",
        ),
    ],
)
def test_format_rejects(call: Callable[[], str], reason: str) -> None:
    with pytest.raises(SymbolError) as info:
        call()
    assert info.value.reason == reason


_underlyings = st.one_of(
    st.sampled_from(["NIFTY", "BANKNIFTY", "M&M", "BAJAJ-AUTO", "360ONE", *DIGIT_UNDERLYINGS]),
    st.from_regex(r"[A-Z][A-Z&-]{0,11}", fullmatch=True),
)
_expiries = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
# Strikes on a 0.05 grid, as on NSE.
_strikes = st.integers(min_value=1, max_value=2_000_000).map(lambda n: n / 20)


@given(_underlyings, _expiries, _strikes, st.sampled_from(["CE", "PE"]), st.booleans())
def test_option_round_trip(
    underlying: str, expiry: date, strike: float, option_type: str, weekly: bool
) -> None:
    text = format_option_symbol(underlying, expiry, strike, option_type, weekly=weekly)
    parsed = parse_symbol(f"NFO:{text}")
    assert parsed.kind is OPT
    assert parsed.tradingsymbol == text
    assert parsed.underlying == underlying
    assert (parsed.expiry_year, parsed.expiry_month) == (expiry.year, expiry.month)
    assert parsed.expiry_day == (expiry.day if weekly else None)
    assert parsed.strike == strike
    assert parsed.option_type == option_type


@given(_underlyings, _expiries)
def test_future_round_trip(underlying: str, expiry: date) -> None:
    text = format_future_symbol(underlying, expiry)
    parsed = parse_symbol(f"BFO:{text}")
    assert parsed.kind is FUT
    assert (parsed.underlying, parsed.expiry_year, parsed.expiry_month) == (
        underlying,
        expiry.year,
        expiry.month,
    )
    assert parsed.expiry_day is None


_symbolish = st.one_of(
    st.text(),
    st.builds(
        lambda ex, body: f"{ex}:{body}",
        st.sampled_from(["NSE", "NFO", "BSE", "BFO", "MCX", "nfo", "", "X"]),
        st.one_of(st.text(), st.from_regex(r"[A-Z0-9&. -]{0,24}(CE|PE|FUT)?", fullmatch=True)),
    ),
)


@given(_symbolish)
def test_parse_only_raises_symbol_error(text: str) -> None:
    try:
        parsed = parse_symbol(text)
    except SymbolError as err:
        assert err.reason
        assert not is_fno(text)
        return
    # Whatever parses is stable: the canonical form parses to the same thing.
    assert parse_symbol(parsed.symbol) == parsed
    assert is_fno(text) is parsed.is_fno
