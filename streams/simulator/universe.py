"""The simulated instrument universe and its NSE calendar rules.

The universe is the reference system's: the NIFTY 50 constituents (late-2025 list),
the NIFTY 50 / NIFTY BANK / INDIA VIX indices, the current-month NIFTY and BANKNIFTY
futures, and the nearest weekly NIFTY and BANKNIFTY options, CE and PE, listed wide enough
to cover ±5 % of the previous close (at least ATM ±10 strikes).

Everything here is a pure function of the trading date (and the static tables below),
so the same date always yields the same instruments and tokens.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from aion.streams.instruments import Instrument, InstrumentMaster
from aion.streams.symbols import format_future_symbol, format_option_symbol

__all__ = [
    "BANKNIFTY_LAST_WEEKLY",
    "NSE_HOLIDAYS",
    "STRIKE_COVER",
    "STRIKE_STEPS",
    "Role",
    "SimInstrument",
    "Universe",
    "build_universe",
    "is_trading_day",
    "monthly_expiry",
    "option_expiry_for",
    "previous_trading_day",
    "strikes_each_side",
    "weekly_expiry",
]

TICK_PAISE = 5
"""Tick size of every simulated instrument, in paise (0.05 rupees)."""

SEGMENT_NSE = 1
SEGMENT_NFO = 2
SEGMENT_INDICES = 9

# NSE trading holidays (weekdays only) for 2025-2026, enough to place expiries. The
# project-wide calendar lives in aion.config; this copy keeps the simulator standalone
# and its output stable even if that calendar is later corrected.
NSE_HOLIDAYS: frozenset[date] = frozenset(
    date.fromisoformat(d)
    for d in (
        "2025-02-26", "2025-03-14", "2025-03-31", "2025-04-10", "2025-04-14",
        "2025-04-18", "2025-05-01", "2025-08-15", "2025-08-27", "2025-10-02",
        "2025-10-21", "2025-10-22", "2025-11-05", "2025-12-25",
        "2026-01-26", "2026-03-03", "2026-03-26", "2026-03-31", "2026-04-03",
        "2026-04-14", "2026-05-01", "2026-05-28", "2026-06-26", "2026-09-14",
        "2026-10-02", "2026-10-20", "2026-11-10", "2026-11-24", "2026-12-25",
    )
)  # fmt: skip

_TUESDAY = 1


def is_trading_day(d: date) -> bool:
    """Return whether ``d`` is an NSE trading day (weekday, not a listed holiday)."""
    return d.weekday() < 5 and d not in NSE_HOLIDAYS


def previous_trading_day(d: date) -> date:
    """Return ``d`` if it is a trading day, else the closest trading day before it."""
    while not is_trading_day(d):
        d -= timedelta(days=1)
    return d


def _last_tuesday(year: int, month: int) -> date:
    """Return the last Tuesday of a month."""
    nxt = date(year + month // 12, month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - _TUESDAY) % 7)


def monthly_expiry(trading_date: date) -> date:
    """Return the current-month F&O expiry for a trading date.

    NSE index derivatives expire on the last Tuesday of the month (moved to the
    previous trading day when that Tuesday is a holiday); after this month's expiry
    the current month is the next one.

    Args:
        trading_date: The session date.

    Returns:
        The expiry date of the current-month contract.
    """
    year, month = trading_date.year, trading_date.month
    expiry = previous_trading_day(_last_tuesday(year, month))
    if expiry < trading_date:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        expiry = previous_trading_day(_last_tuesday(year, month))
    return expiry


def weekly_expiry(trading_date: date) -> date:
    """Return the nearest weekly expiry on or after a trading date.

    Weekly expiries fall on Tuesdays, moved to the previous trading day for holidays.

    Args:
        trading_date: The session date.

    Returns:
        The nearest expiry date that is not before ``trading_date``.
    """
    tuesday = trading_date + timedelta(days=(_TUESDAY - trading_date.weekday()) % 7)
    expiry = previous_trading_day(tuesday)
    if expiry < trading_date:
        expiry = previous_trading_day(tuesday + timedelta(days=7))
    return expiry


def option_expiry_for(name: str, trading_date: date) -> date:
    """Return the nearest listed option expiry of an underlying on a trading date.

    NIFTY: the nearest weekly. BANKNIFTY: the nearest weekly up to its last weekly
    expiry (:data:`BANKNIFTY_LAST_WEEKLY`), the current month's expiry after it.

    Args:
        name: ``"NIFTY"`` or ``"BANKNIFTY"``.
        trading_date: The session date.

    Returns:
        The expiry date.
    """
    if name == "BANKNIFTY" and trading_date > BANKNIFTY_LAST_WEEKLY:
        return monthly_expiry(trading_date)
    return weekly_expiry(trading_date)


class Role(enum.IntEnum):
    """What an instrument is, for the price model."""

    STOCK = 0
    INDEX = 1
    FUTURE = 2
    OPTION = 3


@dataclass(frozen=True, slots=True)
class _Stock:
    symbol: str
    name: str
    token: int  # real Kite token where known, else (exchange_token << 8) | 1
    price: float  # previous close, rupees (late-2025 levels)
    weight: float  # approximate NIFTY 50 weight, percent
    bank: bool  # member of NIFTY BANK


# NIFTY 50 after the September 2025 rebalance (INDIGO and MAXHEALTH in; Tata Motors
# trades as TMPV after its October 2025 demerger). Weights are approximate free-float
# weights; they only need to make the index behave like a cap-weighted average.
_STOCKS: tuple[_Stock, ...] = (
    _Stock("HDFCBANK", "HDFC BANK", 341249, 990.0, 13.0, True),
    _Stock("ICICIBANK", "ICICI BANK", 1270529, 1380.0, 8.8, True),
    _Stock("RELIANCE", "RELIANCE INDUSTRIES", 738561, 1520.0, 8.5, False),
    _Stock("INFY", "INFOSYS", 408065, 1500.0, 4.9, False),
    _Stock("BHARTIARTL", "BHARTI AIRTEL", 2714625, 2100.0, 4.6, False),
    _Stock("LT", "LARSEN & TOUBRO", 2939649, 4000.0, 4.0, False),
    _Stock("ITC", "ITC", 424961, 405.0, 3.4, False),
    _Stock("TCS", "TATA CONSULTANCY SERV", 2953217, 3100.0, 2.9, False),
    _Stock("AXISBANK", "AXIS BANK", 1510401, 1220.0, 3.0, True),
    _Stock("SBIN", "STATE BANK OF INDIA", 779521, 950.0, 3.2, True),
    _Stock("KOTAKBANK", "KOTAK MAHINDRA BANK", 492033, 2100.0, 2.7, True),
    _Stock("M&M", "MAHINDRA & MAHINDRA", 519937, 3700.0, 2.6, False),
    _Stock("BAJFINANCE", "BAJAJ FINANCE", 81153, 1000.0, 2.2, False),
    _Stock("HINDUNILVR", "HINDUSTAN UNILEVER", 356865, 2450.0, 1.9, False),
    _Stock("SUNPHARMA", "SUN PHARMACEUTICAL IND", 857857, 1750.0, 1.6, False),
    _Stock("HCLTECH", "HCL TECHNOLOGIES", 1850625, 1600.0, 1.5, False),
    _Stock("MARUTI", "MARUTI SUZUKI INDIA", 2815745, 15800.0, 1.7, False),
    _Stock("NTPC", "NTPC", 2977281, 330.0, 1.4, False),
    _Stock("ETERNAL", "ETERNAL", 1304833, 300.0, 1.6, False),
    _Stock("TITAN", "TITAN COMPANY", 897537, 3800.0, 1.3, False),
    _Stock("ULTRACEMCO", "ULTRATECH CEMENT", 2952193, 11800.0, 1.2, False),
    _Stock("TATASTEEL", "TATA STEEL", 895745, 170.0, 1.2, False),
    _Stock("POWERGRID", "POWER GRID CORP", 3834113, 275.0, 1.1, False),
    _Stock("BEL", "BHARAT ELECTRONICS", 98049, 415.0, 1.2, False),
    _Stock("TMPV", "TATA MOTORS PASS VEH", 884737, 400.0, 0.9, False),
    _Stock("ASIANPAINT", "ASIAN PAINTS", 60417, 2850.0, 0.9, False),
    _Stock("BAJAJFINSV", "BAJAJ FINSERV", 4268801, 2050.0, 1.0, False),
    _Stock("JSWSTEEL", "JSW STEEL", 3001089, 1150.0, 0.9, False),
    _Stock("ADANIPORTS", "ADANI PORTS & SEZ", 3861249, 1500.0, 0.9, False),
    _Stock("ONGC", "OIL & NATURAL GAS CORP", 633601, 250.0, 0.8, False),
    _Stock("TECHM", "TECH MAHINDRA", 3465729, 1450.0, 0.8, False),
    _Stock("COALINDIA", "COAL INDIA", 5215745, 380.0, 0.8, False),
    _Stock("HINDALCO", "HINDALCO INDUSTRIES", 348929, 800.0, 0.9, False),
    _Stock("BAJAJ-AUTO", "BAJAJ AUTO", 4267265, 8900.0, 0.8, False),
    _Stock("GRASIM", "GRASIM INDUSTRIES", 315393, 2750.0, 0.8, False),
    _Stock("TRENT", "TRENT", 502785, 4300.0, 0.8, False),
    _Stock("SHRIRAMFIN", "SHRIRAM FINANCE", 1102337, 780.0, 0.9, False),
    _Stock("JIOFIN", "JIO FINANCIAL SERVICES", 4644609, 310.0, 0.8, False),
    _Stock("INDIGO", "INTERGLOBE AVIATION", 2865921, 5800.0, 1.0, False),
    _Stock("WIPRO", "WIPRO", 969473, 245.0, 0.6, False),
    _Stock("NESTLEIND", "NESTLE INDIA", 4598529, 1270.0, 0.6, False),
    _Stock("CIPLA", "CIPLA", 177665, 1520.0, 0.7, False),
    _Stock("EICHERMOT", "EICHER MOTORS", 232961, 6900.0, 0.7, False),
    _Stock("SBILIFE", "SBI LIFE INSURANCE CO", 5582849, 1980.0, 0.7, False),
    _Stock("HDFCLIFE", "HDFC LIFE INS CO", 119553, 760.0, 0.7, False),
    _Stock("DRREDDY", "DR. REDDY S LABORATORIES", 225537, 1250.0, 0.6, False),
    _Stock("TATACONSUM", "TATA CONSUMER PRODUCT", 878593, 1160.0, 0.6, False),
    _Stock("APOLLOHOSP", "APOLLO HOSPITALS ENTER", 40193, 7600.0, 0.6, False),
    _Stock("ADANIENT", "ADANI ENTERPRISES", 6401, 2450.0, 0.5, False),
    _Stock("MAXHEALTH", "MAX HEALTHCARE INS", 5728513, 1150.0, 0.6, False),
)

# (tradingsymbol, token, previous close) of the three indices (segment 9).
_INDICES: tuple[tuple[str, int, float], ...] = (
    ("NIFTY 50", 256265, 25910.0),
    ("NIFTY BANK", 260105, 58520.0),
    ("INDIA VIX", 264969, 12.15),
)

# Derivatives on the two indices: (underlying name, index symbol, strike step, lot).
_DERIV_UNDERLYINGS: tuple[tuple[str, str, int, int], ...] = (
    ("NIFTY", "NIFTY 50", 50, 75),
    ("BANKNIFTY", "NIFTY BANK", 100, 35),
)
STRIKE_STEPS: dict[str, int] = {name: step for name, _, step, _ in _DERIV_UNDERLYINGS}
"""Strike step of each derivatives underlying (``NIFTY``, ``BANKNIFTY``)."""

BANKNIFTY_LAST_WEEKLY = date(2024, 11, 13)
"""Last BANKNIFTY weekly expiry: NSE discontinued the weeklies after it (circular of
2024-10-10, SEBI's one-weekly-index-per-exchange rule from 2024-11-20); from then on
BANKNIFTY options are monthly only."""

_MIN_STRIKES_EACH_SIDE = 10
STRIKE_COVER = 0.05
"""Strikes are listed to cover at least +-5 % of the previous close (NSE lists many
strikes): a strong trend day cannot carry the underlying past the edge of the chain,
which would turn the edge strike into "the ATM"."""
_NFO_EXCHANGE_TOKEN_BASE = 40_000  # simulated NFO exchange tokens start here


def strikes_each_side(prev_close: float, step: int) -> int:
    """Number of strikes listed on each side of the ATM strike.

    Args:
        prev_close: Previous close of the underlying index.
        step: Strike step.

    Returns:
        At least ``_MIN_STRIKES_EACH_SIDE``, enough to cover ``STRIKE_COVER`` (one
        more than the cover needs: the ATM strike is up to half a step off the close).
    """
    return max(_MIN_STRIKES_EACH_SIDE, math.ceil(STRIKE_COVER * prev_close / step) + 1)


@dataclass(frozen=True, slots=True)
class SimInstrument:
    """An instrument plus the parameters the price model needs.

    Attributes:
        instrument: The Kite-format instrument record.
        role: Stock, index, future or option.
        prev_close: Previous session close in rupees (Kite's ``close`` field).
        weight: NIFTY 50 weight (stocks; 0 otherwise).
        bank: Whether a stock is in NIFTY BANK.
        underlying: For derivatives, the position of the underlying index in the
            universe; -1 otherwise.
        rank: Liquidity rank among instruments of the same role (0 = most liquid).
    """

    instrument: Instrument
    role: Role
    prev_close: float
    weight: float = 0.0
    bank: bool = False
    underlying: int = -1
    rank: int = 0

    @property
    def token(self) -> int:
        """Kite instrument token."""
        return self.instrument.instrument_token

    @property
    def symbol(self) -> str:
        """Kite tradingsymbol."""
        return self.instrument.tradingsymbol


@dataclass(frozen=True, slots=True)
class Universe:
    """The simulated instruments of one trading date, in a fixed order.

    Order: stocks (by index weight), then the three indices, then futures, then
    options (NIFTY then BANKNIFTY, by strike, CE before PE).

    Attributes:
        trading_date: The session date.
        members: The instruments.
        future_expiry: Expiry of the current-month futures.
        option_expiry: Expiry of the NIFTY weekly options (BANKNIFTY's may differ:
            :func:`option_expiry_for`; each option's own ``expiry`` is authoritative).
    """

    trading_date: date
    members: tuple[SimInstrument, ...]
    future_expiry: date
    option_expiry: date

    def __len__(self) -> int:
        return len(self.members)

    @property
    def tokens(self) -> np.ndarray:
        """Instrument tokens as ``uint32``, in universe order."""
        return np.array([m.token for m in self.members], dtype=np.uint32)

    @property
    def roles(self) -> np.ndarray:
        """Role codes as ``int8``, in universe order."""
        return np.array([int(m.role) for m in self.members], dtype=np.int8)

    def index_of(self, symbol: str) -> int:
        """Return the position of a tradingsymbol in the universe.

        Raises:
            KeyError: If the symbol is not in the universe.
        """
        for i, m in enumerate(self.members):
            if m.symbol == symbol:
                return i
        raise KeyError(symbol)

    def master(self) -> InstrumentMaster:
        """Return the universe as an :class:`InstrumentMaster`."""
        return InstrumentMaster([m.instrument for m in self.members])


def _round_tick(price: float) -> float:
    """Round rupees to the 0.05 tick."""
    return round(round(price * 100 / TICK_PAISE) * TICK_PAISE / 100, 2)


def build_universe(trading_date: date) -> Universe:
    """Build the simulated universe for a trading date.

    Args:
        trading_date: The session date (should be an NSE trading day).

    Returns:
        The universe; tokens and symbols depend only on the date.
    """
    members: list[SimInstrument] = []
    for rank, s in enumerate(_STOCKS):
        inst = Instrument(
            instrument_token=s.token,
            exchange_token=s.token >> 8,
            tradingsymbol=s.symbol,
            name=s.name,
            last_price=0.0,
            expiry=None,
            strike=0.0,
            tick_size=TICK_PAISE / 100,
            lot_size=1,
            instrument_type="EQ",
            segment="NSE",
            exchange="NSE",
        )
        members.append(
            SimInstrument(inst, Role.STOCK, s.price, weight=s.weight, bank=s.bank, rank=rank)
        )
    index_pos: dict[str, int] = {}
    for rank, (symbol, token, close) in enumerate(_INDICES):
        inst = Instrument(
            instrument_token=token,
            exchange_token=token >> 8,
            tradingsymbol=symbol,
            name=symbol,
            last_price=0.0,
            expiry=None,
            strike=0.0,
            tick_size=0.0,
            lot_size=0,
            instrument_type="EQ",
            segment="INDICES",
            exchange="NSE",
        )
        index_pos[symbol] = len(members)
        members.append(SimInstrument(inst, Role.INDEX, close, rank=rank))

    fut_expiry = monthly_expiry(trading_date)
    opt_expiry = option_expiry_for("NIFTY", trading_date)
    exchange_token = _NFO_EXCHANGE_TOKEN_BASE
    for rank, (name, index_symbol, _step, lot) in enumerate(_DERIV_UNDERLYINGS):
        exchange_token += 1
        u = index_pos[index_symbol]
        inst = Instrument(
            instrument_token=(exchange_token << 8) | SEGMENT_NFO,
            exchange_token=exchange_token,
            tradingsymbol=format_future_symbol(name, fut_expiry),
            name=name,
            last_price=0.0,
            expiry=fut_expiry,
            strike=0.0,
            tick_size=TICK_PAISE / 100,
            lot_size=lot,
            instrument_type="FUT",
            segment="NFO-FUT",
            exchange="NFO",
        )
        # Previous close of the future: yesterday's spot close carried to expiry.
        days = (fut_expiry - trading_date).days + 1
        prev = _round_tick(members[u].prev_close * float(np.exp(0.065 * days / 365.0)))
        members.append(SimInstrument(inst, Role.FUTURE, prev, underlying=u, rank=rank))

    for name, index_symbol, step, lot in _DERIV_UNDERLYINGS:
        u = index_pos[index_symbol]
        expiry = option_expiry_for(name, trading_date)
        # An expiry is "monthly" (and gets the monthly symbol format) when it is the last
        # expiry of its month.
        weekly = expiry != previous_trading_day(_last_tuesday(expiry.year, expiry.month))
        atm = round(members[u].prev_close / step) * step
        each = strikes_each_side(members[u].prev_close, step)
        for k in range(-each, each + 1):
            strike = atm + k * step
            for opt_type in ("CE", "PE"):
                exchange_token += 1
                inst = Instrument(
                    instrument_token=(exchange_token << 8) | SEGMENT_NFO,
                    exchange_token=exchange_token,
                    tradingsymbol=format_option_symbol(name, expiry, strike, opt_type, weekly),
                    name=name,
                    last_price=0.0,
                    expiry=expiry,
                    strike=float(strike),
                    tick_size=TICK_PAISE / 100,
                    lot_size=lot,
                    instrument_type=opt_type,
                    segment="NFO-OPT",
                    exchange="NFO",
                )
                # prev_close of options is filled in by the price model (it needs the
                # volatility surface); rank = distance from ATM in strikes.
                members.append(SimInstrument(inst, Role.OPTION, 0.0, underlying=u, rank=abs(k)))
    return Universe(trading_date, tuple(members), fut_expiry, opt_expiry)
