"""Robust parsing and formatting of Kite ``EXCHANGE:TRADINGSYMBOL`` symbols.

A symbol names one instrument: ``NSE:RELIANCE``, ``NSE:NIFTY 50``, ``NFO:NIFTY25NOVFUT``,
``NFO:NIFTY25NOV19500CE`` (monthly option) or ``NFO:NIFTY2511819500CE`` (weekly option).

Decisions (see also ``parse_symbol``):

* Input is normalised: surrounding whitespace is stripped around the exchange and the
  tradingsymbol, and both are upper-cased, because Kite tradingsymbols are always upper case
  and a lower-case symbol from a config file or a CLI is a typo, not a different instrument.
* The exchange decides the kind before any letters are looked at. On NSE/BSE every non-empty
  tradingsymbol is an equity or an index (``NSE:BAJAJ FINANCE`` contains "CE" and is still an
  equity); on NFO/BFO only futures and options are valid.
* CDS, MCX, BCD, NCO and MCXSX are real Kite exchanges but are rejected with reason
  ``"unsupported_exchange"``: their contract naming differs and the engine does not trade them,
  so accepting them as equity-like would hide mistakes.
* F&O tradingsymbols are parsed from the right (suffix, strike, expiry code, underlying) so
  underlyings containing digits, ``&`` or ``-`` (``NIFTYNXT50``, ``M&M``, ``BAJAJ-AUTO``) work.
* Weekly codes whose month is a digit (``NIFTY2511819500CE``) are ambiguous when the underlying
  itself ends in digits: ``NIFTY25`` + ``11819`` + ``500`` is also well formed. So in that form
  the underlying is everything before the trailing digit run, except that an underlying listed
  in ``DIGIT_UNDERLYINGS`` (``NIFTYNXT50``, ``SENSEX50``) may end in digits and then wins.
  Weekly symbols of unlisted digit-ending underlyings are rejected rather than guessed, and
  ``format_option_symbol`` refuses to produce a symbol that would not parse back to what was
  asked for. Monthly codes have letters and are never ambiguous.
* ``ParsedSymbol.underlying`` is the bare underlying name (``"NIFTY"``) for F&O and the
  tradingsymbol itself for equities and indices.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Final

__all__ = [
    "DEFAULT_INDICES",
    "DIGIT_UNDERLYINGS",
    "FNO_EXCHANGES",
    "SPOT_EXCHANGES",
    "UNSUPPORTED_EXCHANGES",
    "InstrumentKind",
    "ParsedSymbol",
    "SymbolError",
    "format_future_symbol",
    "format_option_symbol",
    "is_fno",
    "is_future",
    "is_option",
    "parse_symbol",
]

SPOT_EXCHANGES: Final = frozenset({"NSE", "BSE"})
FNO_EXCHANGES: Final = frozenset({"NFO", "BFO"})
UNSUPPORTED_EXCHANGES: Final = frozenset({"CDS", "MCX", "BCD", "NCO", "MCXSX"})

# Kite index tradingsymbols. Entries may be qualified ("NSE:NIFTY 50") or bare ("NIFTY 50");
# qualified ones only match on that exchange. Any NSE symbol starting with "NIFTY " is also
# treated as an index, because NSE names every NIFTY index that way and no equity does.
DEFAULT_INDICES: Final = frozenset(
    {
        "NSE:NIFTY 50",
        "NSE:NIFTY BANK",
        "NSE:NIFTY FIN SERVICE",
        "NSE:NIFTY MID SELECT",
        "NSE:NIFTY NEXT 50",
        "NSE:INDIA VIX",
        "NSE:NIFTY IT",
        "NSE:NIFTY AUTO",
        "NSE:NIFTY PHARMA",
        "NSE:NIFTY FMCG",
        "NSE:NIFTY METAL",
        "NSE:NIFTY ENERGY",
        "NSE:NIFTY REALTY",
        "NSE:NIFTY 100",
        "NSE:NIFTY 500",
        "NSE:NIFTY MIDCAP 100",
        "BSE:SENSEX",
        "BSE:BANKEX",
        "BSE:SENSEX50",
    }
)

# F&O underlyings that end in digits; they win the weekly-code ambiguity described above.
DIGIT_UNDERLYINGS: Final = frozenset({"NIFTYNXT50", "SENSEX50"})

_MONTHS: Final = (
    "JAN",
    "FEB",
    "MAR",
    "APR",
    "MAY",
    "JUN",
    "JUL",
    "AUG",
    "SEP",
    "OCT",
    "NOV",
    "DEC",
)
_MONTH_NUMBER: Final = {name: number for number, name in enumerate(_MONTHS, start=1)}
# Kite's weekly month code: 1-9 for Jan-Sep, then O/N/D.
_WEEKLY_MONTH_CODE: Final = {**{str(m): m for m in range(1, 10)}, "O": 10, "N": 11, "D": 12}
_WEEKLY_CODE_FOR_MONTH: Final = {month: code for code, month in _WEEKLY_MONTH_CODE.items()}

_UNDERLYING_RE: Final = re.compile(r"[A-Z0-9&_-]*[A-Z][A-Z0-9&_-]*")
_STRIKE: Final = r"(?P<strike>[0-9]+(?:\.[0-9]+)?)"
_FUTURE_RE: Final = re.compile(r"(?P<u>.+)(?P<yy>[0-9]{2})(?P<mon>[A-Z]{3})")
_MONTHLY_OPTION_RE: Final = re.compile(r"(?P<u>.+)(?P<yy>[0-9]{2})(?P<mon>[A-Z]{3})" + _STRIKE)
_WEEKLY_LETTER_RE: Final = re.compile(
    r"(?P<u>.+)(?P<yy>[0-9]{2})(?P<m>[OND])(?P<dd>[0-9]{2})" + _STRIKE
)
# Everything up to the trailing digit run, the run itself, and an optional strike fraction.
_WEEKLY_DIGIT_RE: Final = re.compile(r"(?P<head>.*[^0-9.])?(?P<digits>[0-9]+)(?P<frac>\.[0-9]+)?")


class SymbolError(ValueError):
    """A symbol that cannot be parsed.

    Attributes:
        symbol: The offending input (as given, or its ``repr`` if it was not a string).
        reason: Short machine-readable reason, e.g. ``"bad_exchange"``, ``"no_expiry"``,
            ``"bad_month"``, ``"bad_day"``, ``"bad_strike"``, ``"not_fno_format"``,
            ``"empty"``, ``"unsupported_exchange"``, ``"bad_underlying"``, ``"bad_chars"``.
    """

    def __init__(self, symbol: object, reason: str, detail: str = "") -> None:
        self.symbol = symbol if isinstance(symbol, str) else repr(symbol)
        self.reason = reason
        message = f"invalid symbol {self.symbol!r}: {reason}"
        super().__init__(f"{message} ({detail})" if detail else message)


class InstrumentKind(StrEnum):
    """What a symbol names; values are stable strings safe to serialise."""

    EQUITY = "equity"
    INDEX = "index"
    FUTURE = "future"
    OPTION = "option"


@dataclass(frozen=True, slots=True)
class ParsedSymbol:
    """The fields encoded in one ``EXCHANGE:TRADINGSYMBOL`` symbol.

    Attributes:
        exchange: Normalised exchange, e.g. ``"NFO"``.
        tradingsymbol: Normalised tradingsymbol, e.g. ``"NIFTY25NOV19500CE"``.
        kind: Equity, index, future or option.
        underlying: Underlying name for F&O (``"NIFTY"``); the tradingsymbol itself for
            equities and indices.
        expiry_year: Four-digit expiry year for F&O, else None.
        expiry_month: Expiry month 1-12 for F&O, else None.
        expiry_day: Expiry day for weekly options; None for monthly contracts, whose symbol
            does not carry the day, and for equities and indices.
        strike: Option strike, else None.
        option_type: ``"CE"`` or ``"PE"`` for options, else None.
    """

    exchange: str
    tradingsymbol: str
    kind: InstrumentKind
    underlying: str
    expiry_year: int | None = None
    expiry_month: int | None = None
    expiry_day: int | None = None
    strike: float | None = None
    option_type: str | None = None

    @property
    def symbol(self) -> str:
        """The canonical ``EXCHANGE:TRADINGSYMBOL`` form."""
        return f"{self.exchange}:{self.tradingsymbol}"

    @property
    def is_fno(self) -> bool:
        """Whether this is a future or an option."""
        return self.kind in (InstrumentKind.FUTURE, InstrumentKind.OPTION)

    @property
    def expiry(self) -> date | None:
        """Exact expiry date when the symbol carries the day (weekly options), else None."""
        if self.expiry_year is None or self.expiry_month is None or self.expiry_day is None:
            return None
        return date(self.expiry_year, self.expiry_month, self.expiry_day)


def parse_symbol(
    symbol: str,
    *,
    known_indices: frozenset[str] = DEFAULT_INDICES,
    digit_underlyings: frozenset[str] = DIGIT_UNDERLYINGS,
) -> ParsedSymbol:
    """Parse an ``EXCHANGE:TRADINGSYMBOL`` symbol.

    Args:
        symbol: Symbol such as ``"NSE:RELIANCE"`` or ``"NFO:NIFTY25NOV19500CE"``; case and
            surrounding whitespace are normalised.
        known_indices: Index tradingsymbols, qualified (``"NSE:NIFTY 50"``) or bare.
        digit_underlyings: F&O underlyings ending in digits, preferred when a weekly code is
            ambiguous.

    Returns:
        The parsed fields.

    Raises:
        SymbolError: If the symbol is malformed; ``.reason`` says why.
    """
    if not isinstance(symbol, str):
        raise SymbolError(symbol, "not_a_string")
    if not symbol.strip():
        raise SymbolError(symbol, "empty")
    exchange, sep, tradingsymbol = symbol.partition(":")
    if not sep:
        raise SymbolError(symbol, "bad_exchange", "expected EXCHANGE:TRADINGSYMBOL")
    exchange = exchange.strip().upper()
    tradingsymbol = tradingsymbol.strip().upper()
    if exchange in UNSUPPORTED_EXCHANGES:
        raise SymbolError(symbol, "unsupported_exchange", exchange)
    if exchange not in SPOT_EXCHANGES and exchange not in FNO_EXCHANGES:
        raise SymbolError(symbol, "bad_exchange", exchange or "missing")
    if not tradingsymbol:
        raise SymbolError(symbol, "empty", "no tradingsymbol")
    # A second colon or control characters would make the symbol ambiguous as a key.
    if ":" in tradingsymbol or not tradingsymbol.isprintable():
        raise SymbolError(symbol, "bad_chars")

    if exchange in SPOT_EXCHANGES:
        is_index = (
            f"{exchange}:{tradingsymbol}" in known_indices
            or tradingsymbol in known_indices
            or (exchange == "NSE" and tradingsymbol.startswith("NIFTY "))
        )
        kind = InstrumentKind.INDEX if is_index else InstrumentKind.EQUITY
        return ParsedSymbol(exchange, tradingsymbol, kind, underlying=tradingsymbol)
    return _parse_fno(symbol, exchange, tradingsymbol, digit_underlyings)


def _parse_fno(
    symbol: str, exchange: str, tradingsymbol: str, digit_underlyings: frozenset[str]
) -> ParsedSymbol:
    """Parse an NFO/BFO tradingsymbol from the right.

    Args:
        symbol: Original input, for error messages.
        exchange: Normalised exchange.
        tradingsymbol: Normalised tradingsymbol.
        digit_underlyings: Underlyings preferred for ambiguous weekly codes.

    Returns:
        The parsed future or option.

    Raises:
        SymbolError: If the tradingsymbol is not a well-formed future or option.
    """
    if tradingsymbol.endswith("FUT"):
        match = _FUTURE_RE.fullmatch(tradingsymbol[:-3])
        if match is None:
            raise SymbolError(symbol, "no_expiry")
        year, month = _year(match["yy"]), _month(symbol, match["mon"])
        underlying = _underlying(symbol, match["u"])
        return ParsedSymbol(exchange, tradingsymbol, InstrumentKind.FUTURE, underlying, year, month)

    option_type = tradingsymbol[-2:]
    if option_type not in ("CE", "PE"):
        raise SymbolError(symbol, "not_fno_format", "expected a FUT, CE or PE suffix")
    body = tradingsymbol[:-2]

    def option(u: str, year: int, month: int, day: int | None, strike: str) -> ParsedSymbol:
        return ParsedSymbol(
            exchange,
            tradingsymbol,
            InstrumentKind.OPTION,
            _underlying(symbol, u),
            year,
            month,
            day,
            _strike(symbol, strike),
            option_type,
        )

    if re.search("[0-9]", body) is None:
        # Words like FINANCE or PLACE end in CE/PE too; without digits it is no contract.
        raise SymbolError(symbol, "not_fno_format", "no expiry or strike digits")

    monthly = _MONTHLY_OPTION_RE.fullmatch(body)
    if monthly is not None and monthly["mon"] in _MONTH_NUMBER:
        month = _MONTH_NUMBER[monthly["mon"]]
        return option(monthly["u"], _year(monthly["yy"]), month, None, monthly["strike"])

    if match := _WEEKLY_LETTER_RE.fullmatch(body):
        year, month = _year(match["yy"]), _WEEKLY_MONTH_CODE[match["m"]]
        day = _day(symbol, year, month, match["dd"])
        return option(match["u"], year, month, day, match["strike"])

    match = _WEEKLY_DIGIT_RE.fullmatch(body)
    if match is None:
        raise SymbolError(symbol, "bad_strike", "no strike digits at the end")
    head, digits, frac = match["head"] or "", match["digits"], match["frac"] or ""
    candidates: list[tuple[str, int, int, int, str]] = []
    # Each split puts YY M DD (5 digits) at `split`, leaving at least one strike digit.
    for split in range(len(digits) - 5):
        underlying = head + digits[:split]
        # Only listed underlyings may take digits from the run: guessing would turn an
        # invalid date such as NIFTY25229... (Feb 29, 2025) into a valid-looking NIFTY25.
        if split and underlying not in digit_underlyings:
            continue
        yy, m, dd, strike = (
            digits[split : split + 2],
            digits[split + 2],
            digits[split + 3 : split + 5],
            digits[split + 5 :] + frac,
        )
        if m == "0":
            continue
        year, month = _year(yy), int(m)
        try:
            day = _day(symbol, year, month, dd)
            _strike(symbol, strike)
        except SymbolError:
            continue
        if _UNDERLYING_RE.fullmatch(underlying) is None:
            continue
        candidates.append((underlying, year, month, day, strike))
    if not candidates:
        if monthly is not None:
            # Three letters before the strike that are not a month: a typo'd monthly code
            # (weekly codes have at most one letter, and no weekly split fitted either).
            raise SymbolError(symbol, "bad_month", monthly["mon"])
        raise SymbolError(symbol, "no_expiry", "no valid YYMDD weekly code before the strike")
    # A listed digit underlying beats the plain split (NIFTYNXT50 over NIFTYNXT + 50...).
    return option(*candidates[-1])


def _year(yy: str) -> int:
    """Expand a two-digit expiry year (Kite contracts are all 20YY)."""
    return 2000 + int(yy)


def _month(symbol: str, mon: str) -> int:
    """Month number for a three-letter abbreviation, or raise ``bad_month``."""
    try:
        return _MONTH_NUMBER[mon]
    except KeyError:
        raise SymbolError(symbol, "bad_month", mon) from None


def _day(symbol: str, year: int, month: int, dd: str) -> int:
    """Validate a weekly expiry day against its month, or raise ``bad_day``."""
    try:
        return date(year, month, int(dd)).day
    except ValueError:
        raise SymbolError(symbol, "bad_day", f"{year:04d}-{month:02d}-{dd}") from None


def _strike(symbol: str, text: str) -> float:
    """Parse a strike; it must be positive."""
    # Leading zeros would make two spellings of one contract; float("1"*400) is inf.
    value = float(text)
    if (text[0] == "0" and not text.startswith("0.")) or not 0 < value < math.inf:
        raise SymbolError(symbol, "bad_strike", text)
    return value


def _underlying(symbol: str, text: str) -> str:
    """Validate an F&O underlying: letters, digits, ``&``, ``-``, ``_``, at least one letter."""
    if _UNDERLYING_RE.fullmatch(text) is None:
        raise SymbolError(symbol, "bad_underlying", text)
    return text


def is_option(symbol: object) -> bool:
    """Whether ``symbol`` is a well-formed option symbol; never raises.

    Args:
        symbol: Anything; non-strings and malformed symbols give False.

    Returns:
        True only for a parseable option symbol.
    """
    return _kind_or_none(symbol) is InstrumentKind.OPTION


def is_future(symbol: object) -> bool:
    """Whether ``symbol`` is a well-formed future symbol; never raises.

    Args:
        symbol: Anything; non-strings and malformed symbols give False.

    Returns:
        True only for a parseable future symbol.
    """
    return _kind_or_none(symbol) is InstrumentKind.FUTURE


def is_fno(symbol: object) -> bool:
    """Whether ``symbol`` is a well-formed future or option symbol; never raises.

    Args:
        symbol: Anything; non-strings and malformed symbols give False.

    Returns:
        True only for a parseable future or option symbol.
    """
    return _kind_or_none(symbol) in (InstrumentKind.FUTURE, InstrumentKind.OPTION)


def _kind_or_none(symbol: object) -> InstrumentKind | None:
    """Kind of a symbol, or None when it does not parse."""
    if not isinstance(symbol, str):
        return None
    try:
        return parse_symbol(symbol).kind
    except SymbolError:
        return None


def format_future_symbol(underlying: str, expiry: date) -> str:
    """Build a Kite future tradingsymbol, e.g. ``NIFTY25NOVFUT``.

    Futures only exist in the monthly form, so the expiry day is not encoded.

    Args:
        underlying: Underlying name, e.g. ``"NIFTY"``.
        expiry: Any date in the expiry month.

    Returns:
        The tradingsymbol (without exchange prefix).

    Raises:
        SymbolError: If the underlying is malformed or the year is outside 2000-2099.
    """
    underlying = _underlying(underlying, underlying.upper())
    text = f"{underlying}{_yy(underlying, expiry)}{_MONTHS[expiry.month - 1]}FUT"
    _check_round_trip(text, underlying, expiry, None, None, weekly=False)
    return text


def format_option_symbol(
    underlying: str,
    expiry: date,
    strike: float,
    option_type: str,
    weekly: bool = False,
) -> str:
    """Build a Kite option tradingsymbol.

    Monthly: ``NIFTY25NOV19500CE``; weekly: ``NIFTY2511819500CE`` / ``NIFTY25D0926000PE``.

    Args:
        underlying: Underlying name, e.g. ``"NIFTY"``.
        expiry: Expiry date (only its month is encoded when ``weekly`` is False).
        strike: Positive strike; integral strikes print without a decimal point.
        option_type: ``"CE"`` or ``"PE"`` (case-insensitive).
        weekly: Use the weekly ``YY M DD`` code instead of the monthly ``YY MMM`` one.

    Returns:
        The tradingsymbol (without exchange prefix).

    Raises:
        SymbolError: If an argument is invalid, or the result would parse back differently
            (an underlying ending in digits not listed in ``DIGIT_UNDERLYINGS``).
    """
    underlying, option_type = _underlying(underlying, underlying.upper()), option_type.upper()
    if option_type not in ("CE", "PE"):
        raise SymbolError(option_type, "bad_option_type")
    strike_text = _format_strike(strike)
    yy = _yy(underlying, expiry)
    if weekly:
        code = f"{yy}{_WEEKLY_CODE_FOR_MONTH[expiry.month]}{expiry.day:02d}"
    else:
        code = f"{yy}{_MONTHS[expiry.month - 1]}"
    text = f"{underlying}{code}{strike_text}{option_type}"
    _check_round_trip(text, underlying, expiry, float(strike_text), option_type, weekly=weekly)
    return text


def _yy(underlying: str, expiry: date) -> str:
    """Two-digit year, refusing years the 20YY convention cannot express."""
    if not 2000 <= expiry.year <= 2099:
        raise SymbolError(underlying, "bad_year", str(expiry.year))
    return f"{expiry.year % 100:02d}"


def _format_strike(strike: float) -> str:
    """Shortest plain-decimal text for a strike: 19500.0 -> "19500", 12.5 -> "12.5"."""
    try:
        value = Decimal(repr(float(strike)))
    except (TypeError, ValueError, ArithmeticError):
        raise SymbolError(repr(strike), "bad_strike") from None
    if not value.is_finite() or value <= 0:
        raise SymbolError(repr(strike), "bad_strike")
    text = format(value.normalize(), "f")
    return text


def _check_round_trip(
    text: str,
    underlying: str,
    expiry: date,
    strike: float | None,
    option_type: str | None,
    *,
    weekly: bool,
) -> None:
    """Raise unless ``text`` parses back to exactly the requested fields."""
    try:
        parsed = parse_symbol(f"NFO:{text}")
    except SymbolError as err:
        raise SymbolError(text, "ambiguous", f"would not parse back: {err.reason}") from None
    expected = (
        underlying,
        expiry.year,
        expiry.month,
        expiry.day if weekly else None,
        strike,
        option_type,
    )
    got = (
        parsed.underlying,
        parsed.expiry_year,
        parsed.expiry_month,
        parsed.expiry_day,
        parsed.strike,
        parsed.option_type,
    )
    if got != expected:
        raise SymbolError(text, "ambiguous", f"parses back as {got}, wanted {expected}")
