"""The engine's reference-data context (instrument info, chain membership) from the master.

Both drivers build the :class:`~aion.tables.engine.EngineContext` here, from the same
instrument master and volume averages, so their analytics and chain inputs agree.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from aion.streams.bundle import partition_for_token
from aion.streams.instruments import Instrument
from aion.tables.analytics import AnalyticsConfig, InstrumentInfo
from aion.tables.chain import KIND_CE, KIND_FUT, KIND_PE, KIND_SPOT
from aion.tables.engine import EngineContext
from aion.tables.patterns.base import InstrumentKind
from aion.tables.patterns.chain_alerts import ChainAlerting
from aion.tables.vix_prior import DayRegime, PriorVix, day_regime

log = logging.getLogger(__name__)

VIX_SYMBOL = "NSE:INDIA VIX"


def analytics_config(get: Any) -> AnalyticsConfig:
    """The engine's analytics config from settings, with the pattern registry and calendar.

    ``patterns.enabled`` (``AION_PATTERNS__ENABLED``) switches detection off;
    ``patterns.file`` points at another registry than ``config/patterns.yaml``.

    Args:
        get: ``Settings.get``.

    Returns:
        The config.
    """
    from pathlib import Path

    from aion.config.nse_calendar import NseCalendar
    from aion.config.patterns import load_patterns
    from aion.tables.expiry import TradingCalendar

    blocks = None
    if get("patterns.enabled", True):
        path = get("patterns.file", None)
        blocks = load_patterns(Path(path) if path else None)
    return AnalyticsConfig.from_settings(get, blocks, TradingCalendar(NseCalendar.load()))


def chain_alerting(config: AnalyticsConfig,
                   info: Callable[[int], InstrumentInfo | None]) -> ChainAlerting:
    """The chain patterns' settings: the analytics' patterns, risk, calendar and validation.

    Args:
        config: The analytics config.
        info: Instrument info by token (the options' lot sizes); both drivers pass the
            same master's.

    Returns:
        The chain alerting settings.
    """
    def lot_size(token: int) -> int:
        i = info(token)
        return i.lot_size if i is not None else 1

    def regime(token: int, day: int) -> DayRegime:
        i = info(token)
        return day_regime(i.prior_vix if i is not None else None, day,
                          config.baseline.params.vix)

    return ChainAlerting(config.alerts, config.validation, lot_size, regime)


def instrument_kind(inst: Instrument) -> InstrumentKind:
    """The pattern registry's class of an instrument (which detectors apply to it)."""
    if inst.is_option:
        return InstrumentKind.OPTION
    if inst.is_future:
        return InstrumentKind.FUTURE
    return InstrumentKind.INDEX if inst.is_index else InstrumentKind.EQUITY


def build_context(
    instruments: Iterable[Instrument],
    averages: Mapping[str, Mapping[str, Any]],
    partitions: int,
    config: AnalyticsConfig,
) -> EngineContext:
    """Build the engine context for one instrument master and averages set.

    A chain exists for every underlying with at least one option in the master; its
    members are the options, the futures and the underlying itself, and its source
    partitions are the partitions of those members' tokens.

    Args:
        instruments: The instrument master.
        averages: ``{symbol: averages entry}`` (``avg_volume_20d`` is used; the
            ``NSE:INDIA VIX`` entry's ``last_close``/``as_of`` give the detectors' VIX
            regime, :mod:`aion.tables.vix_prior`).
        partitions: Partition count of the tick topic.
        config: Analytics parameters.

    Returns:
        The context.
    """
    insts = list(instruments)
    by_symbol = {i.symbol: i for i in insts}
    # One VIX close for every instrument: each partition's detectors use the same regime.
    prior_vix = PriorVix.from_averages(averages.get(VIX_SYMBOL),
                                       config.baseline.params.vix)
    if VIX_SYMBOL in averages and prior_vix is None:
        log.warning("unusable %s averages entry %r: no VIX regime for the detectors",
                    VIX_SYMBOL, averages.get(VIX_SYMBOL))
    info: dict[int, InstrumentInfo] = {}
    for inst in insts:
        entry = averages.get(inst.symbol) or {}
        avg = entry.get("avg_volume_20d")
        info[inst.instrument_token] = InstrumentInfo(
            tick_size=float(inst.tick_size),
            avg_volume_20d=float(avg) if isinstance(avg, int | float) else None,
            is_vix=inst.symbol == VIX_SYMBOL,
            symbol=inst.symbol,
            tradingsymbol=inst.tradingsymbol,
            kind=instrument_kind(inst),
            lot_size=max(int(inst.lot_size), 1),
            prior_vix=prior_vix,
        )
    underlyings = sorted({i.underlying for i in insts if i.is_option and i.underlying})
    members: dict[int, tuple[str, str, float, str, str]] = {}
    sources: dict[str, set[int]] = {}
    for inst in insts:
        u = inst.underlying
        if u in underlyings and inst.instrument_type in (KIND_CE, KIND_PE, KIND_FUT):
            expiry = inst.expiry.isoformat() if inst.expiry else ""
            members[inst.instrument_token] = (u, inst.instrument_type, float(inst.strike),
                                              expiry, inst.symbol)
    for u in underlyings:
        spot = by_symbol.get(u)
        if spot is not None:
            members[spot.instrument_token] = (u, KIND_SPOT, 0.0, "", spot.symbol)
    for token, (u, *_rest) in members.items():
        sources.setdefault(u, set()).add(partition_for_token(token, partitions))
    return EngineContext(
        config=config,
        info=info.get,
        chain_member=members.get,
        chain_sources={u: tuple(sorted(s)) for u, s in sorted(sources.items())},
    )
