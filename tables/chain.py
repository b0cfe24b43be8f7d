"""Option chain per underlying: spot, ATM, straddle, IV, skew, PCR and every option's Greeks.

The chain of an underlying is fed from several source partitions: its spot index or
stock and its contracts hash to different partitions of ``aion.ticks.raw``. Records of
different partitions reach the chain in an order that depends on scheduling, so the chain
does not apply them in arrival order. It applies them in **chain-time order**:

* every :class:`ChainInput` carries ``clock_ns``, the latest receive time in its source
  bundle (a partition's clock is kept at the largest seen, so it never moves back), and
  the list of source partitions that feed this underlying (from the instrument master);
* the chain's watermark is the smallest latest clock over those partitions; records
  strictly below it are applied sorted by ``(clock_ns, partition, offset)``, later ones
  wait (no partition can still send anything below it);
* an end-of-stream input lifts its partition's clock to infinity.

Because the order of application is a function of the records alone, the Faust path and
the direct driver give identical chains and snapshots, whatever the interleaving. Each
option's Greeks are recomputed whenever its premium or the spot changes, at the event
time of that change. A snapshot is emitted when chain time crosses a minute boundary and
at end of stream.

Underlying price: the spot (index or stock) quote when the chain has seen one; otherwise
(a session without spot ticks) its nearest-expiry future, marked in the snapshot as
``underlying_source="future"`` with that future's symbol. A future's price already holds
the carry to its expiry, so it is used as the forward ``F`` of Black-76: Black-Scholes
with ``S = F`` and dividend yield ``q = r`` (so ``S e^{-qT} = F e^{-rT}``), which makes
price, IV, delta (dV/dF), gamma, theta and vega exactly Black-76's (``vollib.black``);
rho is Black-76's ``-T V`` (per 1 point of ``r``, with the future held fixed). The
option's own expiry is used for ``T`` even when the future expires later (monthly future,
weekly option): the small carry mismatch is accepted.

Idempotence: a record at or below the last offset received from its partition is a
redelivery and is ignored (the Faust group-by can forward an event twice after a crash).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from aion.tables.alert_greeks import AlertRef, alert_greeks
from aion.tables.expiry import CalendarRangeError, TradingCalendar
from aion.tables.greeks import DEFAULT_DAYS_PER_YEAR as DAYS_PER_YEAR
from aion.tables.greeks import Reason, chain_greeks
from aion.tables.patterns import chain_alerts
from aion.tables.patterns.chain_alerts import ChainAlerting, ChainWatch
from aion.tables.records import ChainSnapshot, OptionRow, Record
from aion.tables.timeutil import NS_PER_MIN, ist_day

FORMAT_VERSION = 2
"""2 added the alerting state (``"w"``); version 1 payloads are read with a fresh one."""
CLOCK_END = 2**62
"""Clock of an end-of-stream input: above every real time."""

KIND_SPOT = "SPOT"
KIND_FUT = "FUT"
KIND_CE = "CE"
KIND_PE = "PE"
_SOURCE = {KIND_SPOT: "spot", KIND_FUT: "future"}
"""``ChainSnapshot.underlying_source`` of the quote kinds that can price a chain."""


@dataclass(frozen=True, slots=True)
class Quote:
    """The latest state of one chain member after a source bundle.

    Attributes:
        token: Instrument token.
        symbol: ``EXCHANGE:TRADINGSYMBOL``.
        kind: ``SPOT``, ``FUT``, ``CE`` or ``PE``.
        strike: Strike (0 for spot/futures).
        expiry: Expiry date ``YYYY-MM-DD`` ("" for spot).
        event_ns: Event time of the member's last accepted tick.
        price: Last traded price.
        oi: Open interest (0 when the packet has none).
        volume: Cumulative day volume.
    """

    token: int
    symbol: str
    kind: str
    strike: float
    expiry: str
    event_ns: int
    price: float
    oi: int
    volume: int

    def to_list(self) -> list[Any]:
        """Positional serialisation (field order is the format)."""
        return [self.token, self.symbol, self.kind, self.strike, self.expiry,
                self.event_ns, self.price, self.oi, self.volume]

    @classmethod
    def from_list(cls, v: list[Any]) -> Quote:
        """Inverse of :meth:`to_list`."""
        return cls(int(v[0]), v[1], v[2], float(v[3]), v[4], int(v[5]), float(v[6]),
                   int(v[7]), int(v[8]))


@dataclass(frozen=True, slots=True)
class ChainInput:
    """What one source bundle contributes to one underlying's chain.

    Attributes:
        underlying: Underlying symbol (``NSE:NIFTY 50``).
        partition: Source partition of the bundle.
        offset: Source offset of the bundle.
        clock_ns: Latest receive time in the bundle (``CLOCK_END`` at end of stream).
        sources: Every source partition that feeds this underlying.
        quotes: Members touched by the bundle, their latest state.
        alerts: The bundle's option alerts on this chain, priced by the chain
            (:mod:`aion.tables.alert_greeks`).
    """

    underlying: str
    partition: int
    offset: int
    clock_ns: int
    sources: tuple[int, ...]
    quotes: tuple[Quote, ...] = ()
    alerts: tuple[AlertRef, ...] = ()

    def to_json(self) -> bytes:
        """Wire form for the chain-input topic (``alerts`` only when there are some)."""
        doc: dict[str, Any] = {
            "underlying": self.underlying, "partition": self.partition,
            "offset": self.offset, "clock_ns": self.clock_ns, "sources": list(self.sources),
            "quotes": [q.to_list() for q in self.quotes],
        }
        if self.alerts:
            doc["alerts"] = [a.to_list() for a in self.alerts]
        return json.dumps(doc, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes) -> ChainInput:
        """Inverse of :meth:`to_json`.

        Raises:
            ValueError: If the bytes are not a chain input.
        """
        try:
            d = json.loads(data)
            return cls(d["underlying"], int(d["partition"]), int(d["offset"]),
                       int(d["clock_ns"]), tuple(int(s) for s in d["sources"]),
                       tuple(Quote.from_list(q) for q in d["quotes"]),
                       tuple(AlertRef.from_list(a) for a in d.get("alerts", ())))
        except (KeyError, TypeError, IndexError, ValueError, json.JSONDecodeError) as exc:
            raise ValueError(f"not a chain input: {exc}") from exc


@dataclass(frozen=True, slots=True)
class ChainParams:
    """Chain settings (``chain:`` in config).

    Attributes:
        risk_free_rate: Annual continuously compounded rate for Black-Scholes.
        skew_steps: Strikes away from ATM for the skew (put IV minus call IV).
        option_tick_size: Price tick of the options (NSE: 0.05). A premium within half
            a tick of the discounted intrinsic has no IV or Greeks (reason
            ``no_time_value``); 0 turns the tick rule off.
    """

    risk_free_rate: float = 0.065
    skew_steps: int = 2
    option_tick_size: float = 0.05

    @classmethod
    def from_mapping(cls, m: dict[str, Any] | None) -> ChainParams:
        """Build from a config mapping; unknown keys are an error.

        Args:
            m: Mapping with any of the attribute names.

        Returns:
            The params.

        Raises:
            ValueError: On an unknown key.
        """
        m = dict(m or {})
        unknown = set(m) - {"risk_free_rate", "skew_steps", "option_tick_size"}
        if unknown:
            raise ValueError(f"unknown chain settings: {sorted(unknown)}")
        d = cls()  # the defaults (with slots=True, cls.<name> is a descriptor, not one)
        return cls(float(m.get("risk_free_rate", d.risk_free_rate)),
                   int(m.get("skew_steps", d.skew_steps)),
                   float(m.get("option_tick_size", d.option_tick_size)))


GREEK_FIELDS = ("iv", "delta", "gamma", "theta", "vega", "rho")


@dataclass(slots=True)
class ChainState:
    """One underlying's chain (a Faust table value, keyed by underlying).

    Attributes:
        underlying: Underlying symbol.
        sources: Source partitions that feed it.
        received: Last offset received per source partition (dedup).
        clocks: Latest clock per source partition.
        pending: Inputs received but above the watermark, not yet applied.
        quotes: Latest quote per member token.
        greeks: Per option token: iv, delta, gamma, theta, vega, rho and a reason ("" if ok).
        clock_ns: Chain time: clock of the last applied input.
        updates: Greeks recomputations (lifetime).
        watch: Chain alerting state (``tables.patterns.chain_alerts``).
    """

    underlying: str
    sources: set[int] = field(default_factory=set)
    received: dict[int, int] = field(default_factory=dict)
    clocks: dict[int, int] = field(default_factory=dict)
    pending: list[ChainInput] = field(default_factory=list)
    quotes: dict[int, Quote] = field(default_factory=dict)
    greeks: dict[int, list[Any]] = field(default_factory=dict)
    clock_ns: int = -1
    updates: int = 0
    watch: ChainWatch = field(default_factory=ChainWatch)

    def to_bytes(self) -> bytes:
        """Deterministic JSON for the table changelog."""
        doc = {
            "v": FORMAT_VERSION, "u": self.underlying, "src": sorted(self.sources),
            "rcv": sorted(self.received.items()), "clk": sorted(self.clocks.items()),
            "pend": [json.loads(p.to_json()) for p in self.pending],
            "q": [q.to_list() for _, q in sorted(self.quotes.items())],
            "g": [[t, *g] for t, g in sorted(self.greeks.items())],
            "c": self.clock_ns, "n": self.updates, "w": self.watch.encode(),
        }
        return json.dumps(doc, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> ChainState:
        """Inverse of :meth:`to_bytes`.

        Raises:
            ValueError: If the bytes are not a chain state of format version 1 or 2.
        """
        d = json.loads(data)
        if not isinstance(d, dict) or d.get("v") not in (1, FORMAT_VERSION):
            raise ValueError("not a ChainState of format version 1 or 2")
        return cls(
            underlying=d["u"], sources=set(d["src"]),
            received={int(p): int(o) for p, o in d["rcv"]},
            clocks={int(p): int(c) for p, c in d["clk"]},
            pending=[ChainInput.from_json(json.dumps(p).encode()) for p in d["pend"]],
            quotes={int(q[0]): Quote.from_list(q) for q in d["q"]},
            greeks={int(g[0]): list(g[1:]) for g in d["g"]},
            clock_ns=int(d["c"]), updates=int(d["n"]),
            watch=ChainWatch.decode(d["w"]) if "w" in d else ChainWatch(),
        )

    @property
    def watermark(self) -> int:
        """Smallest latest clock over the source partitions (-1 while one is silent)."""
        if not self.sources or any(s not in self.clocks for s in self.sources):
            return -1
        return min(self.clocks[s] for s in self.sources)


def offer(
    state: ChainState,
    item: ChainInput,
    params: ChainParams,
    calendar: TradingCalendar,
    alerting: ChainAlerting | None = None,
) -> list[Record]:
    """Receive one input; apply everything the watermark now allows.

    Args:
        state: The chain, updated in place.
        item: The input (from any source partition, in any order across partitions).
        params: Chain settings.
        calendar: NSE calendar for time to expiry.
        alerting: Chain patterns and forward validation (None or none enabled: off).

    Returns:
        Snapshots emitted (minute boundaries crossed, and the final one at end of
        stream), the Greeks of the inputs' option alerts (right after their input) and,
        with alerting, each snapshot's alerts after it and the validation windows each
        applied input closed, in chain-time order. Empty for a redelivered input.
    """
    if item.offset <= state.received.get(item.partition, -1):
        return []
    state.received[item.partition] = item.offset
    state.sources.update(item.sources)
    state.clocks[item.partition] = max(state.clocks.get(item.partition, -1), item.clock_ns)
    state.pending.append(item)
    w = state.watermark
    # Strictly below: a later input of the slowest partition may still carry clock == w.
    due = [p for p in state.pending if p.clock_ns < w or w == CLOCK_END]
    if not due:
        return []
    ready = sorted(due, key=lambda p: (p.clock_ns, p.partition, p.offset))
    state.pending = [p for p in state.pending if not (p.clock_ns < w or w == CLOCK_END)]
    watch = alerting if alerting is not None and alerting.active else None
    out: list[Record] = []
    for p in ready:
        if p.clock_ns == CLOCK_END:
            out.extend(alert_greeks(state, a, params, calendar) for a in p.alerts)
            continue
        if state.clock_ns >= 0 and p.clock_ns // NS_PER_MIN > state.clock_ns // NS_PER_MIN:
            # Chain time crossed a minute: the snapshot holds everything before it.
            snap = snapshot(state, params)
            out.append(snap)
            if watch is not None:
                out.extend(_chain_alerts(state, snap, watch))
        _apply(state, p.quotes, params, calendar)
        state.clock_ns = p.clock_ns
        if watch is not None:
            out.extend(chain_alerts.on_quotes(state.watch, p.quotes, _price(state),
                                              p.clock_ns, state.underlying, watch))
        out.extend(alert_greeks(state, a, params, calendar) for a in p.alerts)
    if w == CLOCK_END and state.clock_ns >= 0:
        out.append(snapshot(state, params, final=True))
        if watch is not None:
            out.extend(chain_alerts.on_final(state.watch, state.clock_ns, state.underlying,
                                             watch))
    return out


def _price(state: ChainState) -> Any:
    """Last price of a member token (None: unseen)."""
    def price(token: int) -> float | None:
        q = state.quotes.get(token)
        return None if q is None else q.price
    return price


def _chain_alerts(state: ChainState, snap: ChainSnapshot,
                  alerting: ChainAlerting) -> list[Record]:
    """The chain patterns on a minute snapshot (``tables.patterns.chain_alerts``)."""
    spot = spot_quote(state)
    under = underlying_quote(state)
    futures = [(q.expiry, q.token) for q in state.quotes.values() if q.kind == KIND_FUT]
    day = int(ist_day(snap.clock_ns))
    return chain_alerts.on_snapshot(
        state.watch, snap, under.token if under is not None else 0,
        chain_alerts.vwap(state.watch, spot.token if spot else None, futures, day), alerting)


def _apply(state: ChainState, quotes: Iterable[Quote], params: ChainParams,
           calendar: TradingCalendar) -> None:
    """Take a bundle's quotes and recompute the Greeks they affect."""
    before = underlying_quote(state)
    changed: list[int] = []
    for q in quotes:
        old = state.quotes.get(q.token)
        state.quotes[q.token] = q
        if q.kind in (KIND_CE, KIND_PE) and (old is None or old.price != q.price):
            changed.append(q.token)
    after = underlying_quote(state)
    # A new underlying (spot seen, or another future taking over) or a move of it
    # reprices every option.
    if after is not None and _mark(after) != _mark(before):
        changed = [t for t, q in state.quotes.items() if q.kind in (KIND_CE, KIND_PE)]
    if changed:
        _recompute(state, sorted(changed), params, calendar)


def _mark(q: Quote | None) -> tuple[int, float, int] | None:
    """What of the underlying's quote the Greeks depend on: which one, price, time."""
    return None if q is None else (q.token, q.price, q.event_ns)


def spot_quote(state: ChainState) -> Quote | None:
    """The underlying's own quote (index or stock), if seen."""
    for q in state.quotes.values():
        if q.kind == KIND_SPOT:
            return q
    return None


def underlying_quote(state: ChainState) -> Quote | None:
    """The quote that prices the chain: the spot, else the nearest-expiry future.

    Args:
        state: The chain.

    Returns:
        The spot quote when seen; otherwise the future with the earliest expiry (lowest
        token on a tie); None when neither has been seen.
    """
    spot = spot_quote(state)
    if spot is not None:
        return spot
    futures = [q for q in state.quotes.values() if q.kind == KIND_FUT]
    return min(futures, key=lambda q: (q.expiry, q.token)) if futures else None


def _recompute(state: ChainState, tokens: list[int], params: ChainParams,
               calendar: TradingCalendar) -> None:
    """Greeks of ``tokens`` at the later of their own and the underlying's event time."""
    under = underlying_quote(state)
    if under is None:
        return
    forward = under.kind == KIND_FUT
    opts = [state.quotes[t] for t in tokens]
    t_years = np.empty(len(opts))
    t_reason: list[str] = []
    for i, o in enumerate(opts):
        try:
            tte = calendar.time_to_expiry(max(o.event_ns, under.event_ns),
                                          _dt.date.fromisoformat(o.expiry))
            t_years[i], why = tte.years, tte.reason or ""
        except (CalendarRangeError, ValueError):
            t_years[i], why = math.nan, "calendar_range"
        t_reason.append(why)
    res = chain_greeks(
        np.array([o.price for o in opts]),
        under.price,
        np.array([o.strike for o in opts]),
        np.nan_to_num(t_years, nan=0.0),
        params.risk_free_rate,
        np.array([o.kind == KIND_CE for o in opts]),
        params.risk_free_rate if forward else 0.0,  # q = r: Black-76 on the future
        DAYS_PER_YEAR,
        tick_size=params.option_tick_size,
    )
    rho = res.rho
    if forward:
        # Black-76 rho, -T V per 1 point (vollib.black): the future is held fixed, so
        # only the discounting moves; V is the quoted premium (the IV reprices it).
        rho = np.where(np.isnan(res.iv), np.nan,
                       -0.01 * t_years * np.array([o.price for o in opts]))
    cols = [res.iv, res.delta, res.gamma, res.theta, res.vega, rho]
    for i, tok in enumerate(tokens):
        why = t_reason[i] or (Reason(int(res.reason[i])).label if res.reason[i] else "")
        if t_reason[i]:
            state.greeks[tok] = [None] * len(GREEK_FIELDS) + [why]
        else:
            state.greeks[tok] = [_num(c[i]) for c in cols] + [why]
    state.updates += len(tokens)


def _num(x: Any) -> float | None:
    """A finite float, or None (JSON has no NaN)."""
    x = float(x)
    return x if math.isfinite(x) else None


def snapshot(state: ChainState, params: ChainParams, *, final: bool = False) -> ChainSnapshot:
    """The chain view: spot, ATM, straddle, IV, skew, PCR and every option.

    ATM is the strike nearest the underlying price (the spot, else the nearest-expiry
    future, see :func:`underlying_quote`). ATM, straddle, IV and skew use the nearest
    expiry (the earliest expiry among the options seen). ``straddle_volume`` is the
    combined CE + PE day volume per strike of that expiry (the reference's straddle
    volume tracking); PCR is total put OI over total call OI across all expiries.

    Args:
        state: The chain.
        params: Chain settings (``skew_steps``).
        final: Whether this is the end-of-stream snapshot.

    Returns:
        The snapshot record.
    """
    under = underlying_quote(state)
    options = sorted((q for q in state.quotes.values() if q.kind in (KIND_CE, KIND_PE)),
                     key=lambda q: (q.expiry, q.strike, q.kind))
    ce_oi = sum(q.oi for q in options if q.kind == KIND_CE)
    pe_oi = sum(q.oi for q in options if q.kind == KIND_PE)
    near = options[0].expiry if options else None
    chain = [q for q in options if q.expiry == near]
    strikes = sorted({q.strike for q in chain})
    by = {(q.strike, q.kind): q for q in chain}
    atm = min(strikes, key=lambda k: (abs(k - under.price), k)) if strikes and under else None
    ce, pe = by.get((atm, KIND_CE)), by.get((atm, KIND_PE))
    ivs = [state.greeks[q.token][0] for q in (ce, pe)
           if q is not None and q.token in state.greeks and state.greeks[q.token][0] is not None]
    skew = None
    if atm is not None:
        i = strikes.index(atm)
        lo, hi = i - params.skew_steps, i + params.skew_steps
        if lo >= 0 and hi < len(strikes):
            put, call = by.get((strikes[lo], KIND_PE)), by.get((strikes[hi], KIND_CE))
            piv = state.greeks.get(put.token, [None])[0] if put else None
            civ = state.greeks.get(call.token, [None])[0] if call else None
            if piv is not None and civ is not None:
                skew = piv - civ
    rows = tuple(
        OptionRow(symbol=q.symbol, token=q.token, type=q.kind, strike=q.strike,
                  expiry=q.expiry, price=q.price, oi=q.oi, volume=q.volume,
                  event_ns=q.event_ns,
                  **dict(zip((*GREEK_FIELDS, "reason"),
                             state.greeks.get(q.token, [None] * 6 + [""]), strict=True)))
        for q in options
    )
    return ChainSnapshot(
        underlying=state.underlying, clock_ns=state.clock_ns, final=final,
        spot=under.price if under and under.kind == KIND_SPOT else None,
        underlying_source=_SOURCE[under.kind] if under else "none",
        underlying_symbol=under.symbol if under else None,
        underlying_price=under.price if under else None, options_seen=len(options),
        pcr_oi=pe_oi / ce_oi if ce_oi > 0 else None, expiry=near, atm_strike=atm,
        atm_straddle_premium=ce.price + pe.price if ce and pe else None,
        straddle_volume={
            _fmt(k): sum(by[(k, t)].volume for t in (KIND_CE, KIND_PE) if (k, t) in by)
            for k in strikes},
        atm_iv=sum(ivs) / len(ivs) if ivs else None, skew=skew, options=rows)


def _fmt(strike: float) -> str:
    """Strike as a JSON key: no trailing ``.0`` for whole strikes."""
    return str(int(strike)) if strike == int(strike) else repr(strike)
