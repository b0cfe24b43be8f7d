"""The engine context built from an instrument master."""

from __future__ import annotations

from datetime import date

from aion.agents.context import build_context
from aion.streams.instruments import Instrument
from aion.tables.analytics import AnalyticsConfig
from aion.tables.sanity import OPTION_PRICE_BAND, PRICE_BAND


def _inst(token: int, symbol: str, name: str, kind: str, exchange: str) -> Instrument:
    fno = exchange == "NFO"
    return Instrument(token, token >> 8, symbol, name, 0.0, date(2025, 11, 25) if fno else None,
                      25_000.0 if kind in ("CE", "PE") else 0.0, 0.05, 75 if fno else 1, kind,
                      "NFO-OPT" if kind in ("CE", "PE") else exchange, exchange)


def test_every_instrument_carries_the_band_of_its_type() -> None:
    """Options get no band, everything else the equity/futures/index band."""
    master = [
        _inst(738561, "RELIANCE", "RELIANCE", "EQ", "NSE"),
        _inst(13238786, "NIFTY25NOVFUT", "NIFTY", "FUT", "NFO"),
        _inst(13239042, "NIFTY25NOV25000CE", "NIFTY", "CE", "NFO"),
        _inst(13239298, "NIFTY25NOV25000PE", "NIFTY", "PE", "NFO"),
    ]
    ctx = build_context(master, {}, 2, AnalyticsConfig())
    bands = {i.tradingsymbol: ctx.info(i.instrument_token).price_band for i in master}
    assert bands == {"RELIANCE": PRICE_BAND, "NIFTY25NOVFUT": PRICE_BAND,
                     "NIFTY25NOV25000CE": OPTION_PRICE_BAND,
                     "NIFTY25NOV25000PE": OPTION_PRICE_BAND}
