"""Bundle-level application: one decoded bundle in, touched states and outputs out.

Both drivers call :func:`apply_bundle` (and :func:`flush_states` for the end-of-stream
marker) through the same ``agents.processor.BundleProcessor``: the Faust agent (state
from a changelog-backed table) and the direct in-process driver (state in a dict). That
is what makes their results identical. Pure: the caller supplies state lookup and the
known-token test.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from aion.tables import analytics as an_mod
from aion.tables.alert_greeks import AlertRef
from aion.tables.analytics import Analytics, AnalyticsConfig, InstrumentInfo
from aion.tables.bars import Bar
from aion.tables.chain import CLOCK_END, KIND_CE, KIND_PE, ChainInput, Quote
from aion.tables.instrument_state import (
    ApplyResult,
    InstrumentState,
    advance_watermark,
    apply_ticks,
    session_snapshot,
)
from aion.tables.records import AlertRecord, Record
from aion.tables.sanity import BUNDLE_TIME_REASONS, bundle_time_rejects, price_band
from aion.tables.timeutil import event_time_ns
from aion.tables.volume import BucketRecord

REJECT_UNKNOWN_TOKEN = "unknown_token"


@dataclass(frozen=True, slots=True)
class Reject:
    """A packet refused by the engine, bound for the dead-letter topic.

    Attributes:
        index: Index of the packet in its bundle.
        token: Instrument token (0 when the packet was too short to carry one).
        reason: Short machine-readable reason.
    """

    index: int
    token: int
    reason: str


@dataclass(slots=True)
class BundleOutcome:
    """What one bundle did.

    Attributes:
        touched: States changed by the bundle, by token (write each key once).
        bars: Bars closed, in order.
        buckets: Volume buckets closed, in order.
        rejects: Packets for the dead-letter topic.
        applied: Ticks accepted.
        duplicates: Ticks skipped as already applied (redelivery after a crash).
        records: Every output record of the bundle in a fixed order (per instrument in
            token order: its bars, buckets, analytics; then the session snapshots of
            the touched instruments). Dead letters are built by the caller, which holds
            the raw packets.
        chain: Inputs for the option chains this partition feeds.
    """

    touched: dict[int, InstrumentState] = field(default_factory=dict)
    bars: list[Bar] = field(default_factory=list)
    buckets: list[BucketRecord] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    applied: int = 0
    duplicates: int = 0
    records: list[Record] = field(default_factory=list)
    chain: list[ChainInput] = field(default_factory=list)


@dataclass(frozen=True)
class EngineContext:
    """Reference data and parameters for the analytics and the chain feed.

    Attributes:
        config: Analytics parameters.
        info: Token -> reference data (None: no analytics for it).
        chain_member: Token -> ``(underlying, kind, strike, expiry, symbol)`` for
            option-chain members (spot, futures, options), else None.
        chain_sources: Underlying -> source partitions that feed its chain.
    """

    config: AnalyticsConfig
    info: Callable[[int], InstrumentInfo | None]
    chain_member: Callable[[int], tuple[str, str, float, str, str] | None]
    chain_sources: Mapping[str, tuple[int, ...]]

    def fed_by(self, partition: int) -> list[str]:
        """Underlyings whose chains this partition feeds, sorted."""
        return sorted(u for u, src in self.chain_sources.items() if partition in src)


def apply_bundle(
    lookup: Callable[[int], InstrumentState | None],
    ticks: np.ndarray,
    recv_ns: np.ndarray,
    partition: int,
    offset: int,
    *,
    known: Callable[[int], bool],
    error_reasons: Mapping[int, str],
    context: EngineContext | None = None,
) -> BundleOutcome:
    """Apply a decoded bundle to the per-instrument states.

    Args:
        lookup: Current state of a token, or None for a token never seen.
        ticks: Decoded rows (``TICK_DTYPE``) in bundle order.
        recv_ns: Receive time of each row (ns since epoch).
        partition: Source partition.
        offset: Source offset of the bundle.
        known: Whether a token is in the instrument master.
        error_reasons: Text for each decoder error code.
        context: Analytics and chain context; None runs volume and bars only.

    Returns:
        Touched states and the outputs to publish.
    """
    out = BundleOutcome()
    n = len(ticks)
    if n == 0:
        return out
    event_ns = event_time_ns(ticks["kind"], ticks["exchange_ts"], recv_ns)
    errors = ticks["error"]
    bad = np.flatnonzero(errors != 0)
    for i in bad:
        code = int(errors[i])
        out.rejects.append(Reject(int(i), int(ticks["token"][i]),
                                  f"decode_error:{error_reasons.get(code, code)}"))
    # The stateless time rules (tables.sanity) on decoded rows.
    timing = np.where(errors == 0, bundle_time_rejects(ticks["kind"], ticks["exchange_ts"],
                                                       recv_ns), 0)
    for i in np.flatnonzero(timing):
        out.rejects.append(Reject(int(i), int(ticks["token"][i]),
                                  BUNDLE_TIME_REASONS[timing[i]]))
    good = np.flatnonzero((errors == 0) & (timing == 0))
    if len(good) == 0:
        return out
    tokens = ticks["token"][good]
    order = np.argsort(tokens, kind="stable")
    sorted_tokens = tokens[order]
    cuts = np.flatnonzero(np.diff(sorted_tokens)) + 1
    for group in np.split(good[order], cuts):
        token = int(ticks["token"][group[0]])
        if not known(token):
            out.rejects.extend(Reject(int(i), token, REJECT_UNKNOWN_TOKEN) for i in group)
            continue
        state = lookup(token) or InstrumentState(token=token)
        rows = ticks[group]
        member = context.chain_member(token) if context is not None else None
        band = price_band(member[1] if member is not None else None)
        res = apply_ticks(state, rows, event_ns[group], partition, offset, group,
                          price_band=band)
        out.rejects.extend(Reject(int(i), token, reason) for i, reason in res.rejects)
        out.bars.extend(res.closed_bars)
        out.buckets.extend(res.closed_buckets)
        info = context.info(token) if context is not None else None
        _bar_records(out, info, res.closed_bars, res.closed_buckets)
        out.applied += res.applied
        out.duplicates += res.skipped_duplicates
        if res.applied or res.rejects:
            out.touched[token] = state
        if context is not None and res.applied:
            _analytics(out, context, state, res, rows, event_ns[group])
    out.rejects.sort(key=lambda r: r.index)
    _session_records(out, context)
    if context is not None:
        # Only sane receive times move the chain's clock (a bad one would run it to 2**63).
        sane = recv_ns[timing != 1]
        clock = int(sane.max()) if len(sane) else -1
        out.chain = _chain_inputs(out, context, partition, offset, clock)
    return out


def _analytics(out: BundleOutcome, ctx: EngineContext, state: InstrumentState,
               res: ApplyResult, rows: np.ndarray, ev: np.ndarray) -> None:
    """Run the instrument's analytics over what the bundle applied."""
    info = ctx.info(state.token)
    if info is None:
        return
    if state.analytics is None:
        state.analytics = Analytics()
    if res.tick_incs is not None:
        ok = res.tick_incs >= 0
        prices, incs, times = rows["last_price"][ok], res.tick_incs[ok], ev[ok]
    else:
        prices = np.empty(0)
        incs = np.empty(0, dtype=np.int64)
        times = np.empty(0, dtype=np.int64)
    records = an_mod.update(state.analytics, info, state.token, ctx.config,
                            prices.astype(np.float64), incs, times, res.closed_bars,
                            res.closed_buckets)
    out.records.extend(records)
    _option_alerts(out, ctx, state.token, records)
    member = ctx.chain_member(state.token)
    if member is not None and res.tick_incs is not None and ok.any():
        last = int(np.flatnonzero(ok)[-1])
        underlying, kind, strike, expiry, symbol = member
        out.chain.append(ChainInput(underlying, -1, -1, -1, (), (Quote(
            state.token, symbol, kind, strike, expiry, int(ev[last]),
            float(rows["last_price"][last]), int(rows["oi"][last]),
            int(state.volume.cumulative)),)))


def _option_alerts(out: BundleOutcome, ctx: EngineContext, token: int,
                   records: list[Record]) -> None:
    """Hand an option's alerts to its chain, which prices their Greeks (``alert_greeks``)."""
    member = ctx.chain_member(token)
    if member is None or member[1] not in (KIND_CE, KIND_PE):
        return
    underlying, kind, strike, expiry, symbol = member
    refs = tuple(AlertRef(r.alert_id, Quote(token, symbol, kind, strike, expiry, r.ts_ns,
                                            r.entry_price, 0, 0))
                 for r in records if isinstance(r, AlertRecord))
    if refs:
        out.chain.append(ChainInput(underlying, -1, -1, -1, (), alerts=refs))


def _bar_records(out: BundleOutcome, info: InstrumentInfo | None, bars: list[Bar],
                 buckets: list[BucketRecord]) -> None:
    """Closed bars and buckets as records (symbols None when the context lacks them)."""
    symbol = info.symbol if info is not None and info.symbol else None
    tsym = info.tradingsymbol if info is not None and info.tradingsymbol else None
    out.records.extend(b.to_record(symbol) for b in bars)
    out.records.extend(b.to_record(symbol, tsym) for b in buckets)


def _session_records(out: BundleOutcome, context: EngineContext | None) -> None:
    """A session snapshot of every touched instrument the context names."""
    if context is None:
        return
    for token, state in out.touched.items():
        info = context.info(token)
        if info is not None and info.symbol:
            out.records.append(session_snapshot(state, info.symbol, info.tradingsymbol))


def _chain_inputs(out: BundleOutcome, ctx: EngineContext, partition: int, offset: int,
                  clock: int) -> list[ChainInput]:
    """One input per underlying this partition feeds (quotes gathered by ``_analytics``).

    Every fed underlying gets an input, even without quotes: it moves the partition's
    clock, which is what lets the chain apply other partitions' inputs.
    """
    quotes: dict[str, list[Quote]] = {}
    alerts = _alerts_by_underlying(out)
    for item in out.chain:
        quotes.setdefault(item.underlying, []).extend(item.quotes)
    return [ChainInput(u, partition, offset, clock, ctx.chain_sources[u],
                       tuple(sorted(quotes.get(u, ()), key=lambda q: q.token)),
                       alerts.get(u, ()))
            for u in ctx.fed_by(partition)]


def _alerts_by_underlying(out: BundleOutcome) -> dict[str, tuple[AlertRef, ...]]:
    """The option alerts gathered in ``out.chain``, per underlying, in alert order."""
    alerts: dict[str, list[AlertRef]] = {}
    for item in out.chain:
        alerts.setdefault(item.underlying, []).extend(item.alerts)
    return {u: tuple(a) for u, a in alerts.items()}


def flush_states(
    states: Mapping[int, InstrumentState],
    t_ns: int,
    context: EngineContext | None = None,
    partition: int = 0,
    offset: int = -1,
) -> BundleOutcome:
    """End of stream: close every open bar and bucket at watermark ``t_ns``.

    Args:
        states: The states to flush (those of one partition).
        t_ns: Watermark; ``2**62`` closes everything.
        context: Analytics and chain context (None: bars and buckets only).
        partition: The partition being flushed (for its end-of-stream chain inputs).
        offset: Offset of the end-of-stream marker.

    Returns:
        Touched states, closed bars/buckets, the last analytics and, with a context,
        an end-of-stream chain input for every underlying the partition feeds.
    """
    out = BundleOutcome()
    for token in sorted(states):
        state = states[token]
        res = advance_watermark(state, t_ns)
        info = context.info(token) if context is not None else None
        if res.closed_bars or res.closed_buckets:
            out.touched[token] = state
            out.bars.extend(res.closed_bars)
            out.buckets.extend(res.closed_buckets)
            _bar_records(out, info, res.closed_bars, res.closed_buckets)
        if context is not None and state.analytics is not None and info is not None:
            records = an_mod.update(state.analytics, info, token, context.config,
                                    np.empty(0), np.empty(0, dtype=np.int64),
                                    np.empty(0, dtype=np.int64), res.closed_bars,
                                    res.closed_buckets, flush=True)
            if records:
                out.touched[token] = state
                out.records.extend(records)
                _option_alerts(out, context, token, records)
    _session_records(out, context)
    if context is not None:
        alerts = _alerts_by_underlying(out)
        out.chain = [ChainInput(u, partition, offset, CLOCK_END, context.chain_sources[u],
                                alerts=alerts.get(u, ()))
                     for u in context.fed_by(partition)]
    return out


END_OF_STREAM_NS = 2**62
"""Watermark of the end-of-stream marker: closes every open bar and bucket."""
