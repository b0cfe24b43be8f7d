"""Per-instrument analytics fused into the tick agent: indicators, VWAP, profile, volume ratio.

They share the instrument key with the volume and bar state, so they live in the same
table value and are updated inside the same bundle (DESIGN.md, "Fuse per-instrument
stages into one agent where they share a key"):

* **Indicators** update on every closed 1-minute bar (``tables.indicators``).
* **Session VWAP** accumulates ``price x incremental volume`` of every accepted tick, so
  it is exact per tick; it resets on a new trading date.
* **Volume profile** bins every accepted tick (``tables.profile``) and is published at
  its own cadence (100 ticks or 1 minute of event time). When an enabled pattern of the
  instrument's class reads the profile (``Detector.NEEDS_PROFILE``), the bundle's ticks
  are added up to each closed bar's closing tick and the levels (POC, value area,
  nodes) are read there, once per closed bar, as the session VWAP is for every detector.
* **VIX regime** (INDIA VIX only) follows the VIX last price
  (``volume_baseline.VixRegime``).
* **Volume ratio**: every closed volume bucket is compared with the time-aware baseline
  (``tables.volume_baseline``) of the symbol's ``avg_volume_20d``. The ratio is
  regime-free; the VIX-adjusted threshold is ``expected x regime multiplier`` and is
  computed where the regime is known (the INDIA VIX instrument's analytics publish its
  regime as a ``VixRegimeUpdate`` record, Redis indicator ``vix_regime``): joining it into
  other partitions at processing time would make the result depend on scheduling.
  The detectors of every partition scale their volume thresholds by the regime of the
  previous session's INDIA VIX close instead (``tables.vix_prior``), which every worker
  knows before the open from the daily averages.

Each analytic's state is a named, versioned component (``tables.state_codec``) held in
:class:`Analytics` by name, so a new analytic adds a component without touching the
others or the serialised form of theirs.

Everything is a pure function of the ticks and the instrument's reference data.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import numpy as np

from aion.tables.bars import Bar
from aion.tables.expiry import TradingCalendar
from aion.tables.indicators import IndicatorParams, IndicatorSet
from aion.tables.patterns import alerts as pattern_alerts
from aion.tables.patterns.alerts import AlertConfig, AlertSubject
from aion.tables.patterns.base import InstrumentKind
from aion.tables.patterns.registry import PatternSet
from aion.tables.patterns.risk import RiskConfig
from aion.tables.patterns.state import PatternState
from aion.tables.profile import ProfileLevels, ProfileParams, ProfileSnapshot, VolumeProfile
from aion.tables.profile_state import ProfileState
from aion.tables.records import (
    AlertRecord,
    IndicatorUpdate,
    ProfileUpdate,
    Record,
    ValidationRecord,
    VixRegimeUpdate,
    VolumeRatio,
    VwapUpdate,
)
from aion.tables.session_vwap import SessionVwap
from aion.tables.state_codec import StateComponent
from aion.tables.timeutil import SESSION_OPEN_MINUTE, day_to_iso, ist_day, minute_of_day_ist
from aion.tables.validation import forward
from aion.tables.validation.costs import CostModel, InstrumentClass
from aion.tables.validation.forward import PendingValidations, ValidationConfig, WindowResult
from aion.tables.vix_prior import PriorVix
from aion.tables.volume import BucketRecord
from aion.tables.volume_baseline import BaselineParams, VixRegime, VolumeBaseline


@dataclass(frozen=True, slots=True)
class InstrumentInfo:
    """Reference data the analytics need about one instrument.

    Attributes:
        tick_size: Price step (0 for indices: no profile).
        avg_volume_20d: Daily average volume, None when unknown (no ratio).
        is_vix: Whether this is INDIA VIX (its last price drives the regime).
        symbol: ``EXCHANGE:TRADINGSYMBOL`` (records carry it: Redis keys use it).
        tradingsymbol: The symbol without exchange (the reference's bucket keys).
        kind: Instrument class (which patterns apply; the cost model of validations).
        lot_size: Lot size (F&O quantities are multiples of it; 1 for cash equity).
        prior_vix: The latest INDIA VIX daily close of the averages (the same for every
            instrument): the detectors' VIX regime (:mod:`aion.tables.vix_prior`).
    """

    tick_size: float = 0.0
    avg_volume_20d: float | None = None
    is_vix: bool = False
    symbol: str = ""
    tradingsymbol: str = ""
    kind: InstrumentKind = InstrumentKind.EQUITY
    lot_size: int = 1
    prior_vix: PriorVix | None = None


@dataclass(frozen=True)
class AnalyticsConfig:
    """Parameters of every analytic (from config; one object per worker).

    Attributes:
        indicators: Indicator periods.
        profile: Volume-profile settings.
        baseline: Time-aware volume baseline (precomputed multiplier tables).
        alerts: Pattern detectors, risk and the market-hours guard (none by default).
        validation: Forward-validation windows and the cost model.
    """

    indicators: IndicatorParams = field(default_factory=IndicatorParams)
    profile: ProfileParams = field(default_factory=ProfileParams)
    baseline: VolumeBaseline = field(default_factory=VolumeBaseline)
    alerts: AlertConfig = field(default_factory=AlertConfig)
    validation: ValidationConfig = field(default_factory=ValidationConfig)

    @classmethod
    def from_settings(cls, get: Any, patterns: Mapping[str, Any] | None = None,
                      calendar: TradingCalendar | None = None) -> AnalyticsConfig:
        """Build from a settings getter (``Settings.get``) and the pattern registry file.

        Args:
            get: ``get(dotted_key, default)``.
            patterns: ``config/patterns.yaml``'s ``patterns`` mapping (None: no detectors).
            calendar: NSE calendar for the alerts' trading-day guard.

        Returns:
            The config.
        """
        return cls(
            indicators=IndicatorParams.from_mapping(get("indicators", None)),
            profile=ProfileParams.from_mapping(get("volume_profile", None)),
            baseline=VolumeBaseline(BaselineParams.from_mapping(get("volume_baseline", None))),
            alerts=AlertConfig(
                patterns=PatternSet.from_mapping(patterns) if patterns else PatternSet(),
                risk=RiskConfig.from_mapping(get("risk", None)), calendar=calendar),
            validation=ValidationConfig(costs=CostModel.from_mapping(get("costs", None))),
        )


_DEFAULT: list[AnalyticsConfig] = []


def default_config() -> AnalyticsConfig:
    """The default-parameter config, built once (its baseline tables are precomputed)."""
    if not _DEFAULT:
        _DEFAULT.append(AnalyticsConfig())
    return _DEFAULT[0]


PartT = TypeVar("PartT", bound=StateComponent)


@dataclass(slots=True)
class Analytics:
    """Analytics state of one instrument (part of ``InstrumentState``): components by name.

    Each analytic keeps its state in its own component (``state_codec.StateComponent``),
    held here under the component's ``NAME``: ``indicators`` (``IndicatorSet``, created at
    the first closed bar), ``profile`` (``ProfileState``, instruments with a tick size),
    ``vwap`` (``SessionVwap``, from the first accepted tick) and ``vix`` (``VixRegime``,
    INDIA VIX only). A component is absent until its analytic first has something to
    hold, and a new one (the pattern detectors next) needs no change here: it is stored
    with :meth:`put`, found with :meth:`get` and serialised by its registry entry.

    Attributes:
        parts: The components by name.
    """

    parts: dict[str, StateComponent] = field(default_factory=dict)

    def get(self, kind: type[PartT]) -> PartT | None:
        """The component of a class, if present.

        Args:
            kind: The component class.

        Returns:
            The component, or None.
        """
        # put() files every part under its own class's NAME, so the cast holds.
        return cast("PartT | None", self.parts.get(kind.NAME))

    def setdefault(self, kind: type[PartT], make: Callable[[], PartT]) -> PartT:
        """The component of a class, created with ``make`` and stored if absent.

        Args:
            kind: The component class.
            make: Builds a new one.

        Returns:
            The component.
        """
        part = self.parts.get(kind.NAME)
        if part is None:
            part = self.parts[kind.NAME] = make()
        return cast("PartT", part)

    def put(self, part: PartT) -> PartT:
        """Store a component under its name (replacing any of that name).

        Args:
            part: The component.

        Returns:
            ``part``.
        """
        self.parts[type(part).NAME] = part
        return part

    @property
    def indicators(self) -> IndicatorSet | None:
        """The indicator set (None before the first closed bar)."""
        return self.get(IndicatorSet)

    @property
    def bars(self) -> int:
        """Closed bars fed to the indicators (lifetime): the indicator set's own count.

        Not stored apart: the set counts the bars it applied, and a second counter of
        the same thing could only ever disagree with it.
        """
        ind = self.get(IndicatorSet)
        return 0 if ind is None else ind.bars


def update(
    an: Analytics,
    info: InstrumentInfo,
    token: int,
    config: AnalyticsConfig,
    prices: np.ndarray,
    incs: np.ndarray,
    event_ns: np.ndarray,
    bars: list[Bar],
    buckets: list[BucketRecord],
    *,
    flush: bool = False,
) -> list[Record]:
    """Apply one bundle's accepted ticks and closed bars/buckets of one instrument.

    Args:
        an: The analytics state, updated in place.
        info: The instrument's reference data.
        token: The instrument's token.
        config: Parameters.
        prices: Prices of the accepted ticks, in order.
        incs: Their incremental volumes.
        event_ns: Their event times.
        bars: Bars of this instrument closed by the bundle, in order.
        buckets: Buckets of this instrument closed by the bundle, in order.
        flush: End of stream: publish the profile even if not due.

    Returns:
        What changed, as records in a fixed order: VWAP (after ticks), VIX regime (the
        VIX instrument), indicators (after a closed bar), alerts (closed bars, in bar
        order), forward-validation windows closed by the bundle's ticks (in tick order;
        at ``flush`` also those the session end closes), volume ratios (closed buckets),
        profile (when due).
    """
    out: list[Record] = []
    n = len(prices)
    ps = an.get(ProfileState)
    if n:
        last_ns: int | None = int(event_ns[-1])
    elif bars:
        last_ns = bars[-1].last_ts_ns
    else:
        last_ns = ps.profile.last_ts_ns if ps is not None and not ps.profile.empty else None
    ts_ns = last_ns if last_ns is not None else 0
    symbol = info.symbol
    detect = bool(bars) and config.alerts.active and bool(
        config.alerts.patterns.enabled_for(info.kind))
    # Levels only for instruments with a profile whose class runs a profile detector.
    levels = detect and info.tick_size > 0 and config.alerts.patterns.needs_profile(info.kind)
    bar_vwaps: list[float | None] = []
    bar_levels: list[ProfileLevels | None] = []
    if n:
        days = ist_day(event_ns)
        vwap = an.setdefault(SessionVwap, SessionVwap)
        cuts = _close_cuts(bars, event_ns) if detect else []
        if detect:
            bar_vwaps = _at_cuts(cuts, lambda a, b: vwap.add(prices[a:b], incs[a:b],
                                                             days[a:b]),
                                 lambda: vwap.value, n)
        else:
            vwap.add(prices, incs, days)
        value = vwap.value
        if value is not None:
            out.append(VwapUpdate(token=token, symbol=symbol, ts_ns=ts_ns, vwap=value))
        if info.tick_size > 0:
            ps = an.setdefault(ProfileState, lambda: ProfileState(
                VolumeProfile(info.tick_size, config.profile)))
            if levels:
                prof = ps
                bar_levels = _at_cuts(
                    cuts, lambda a, b: prof.add(prices[a:b], incs[a:b], event_ns[a:b],
                                                days[a:b]),
                    prof.profile.levels, n)
            else:
                ps.add(prices, incs, event_ns, days)
        if info.is_vix:
            out.extend(_vix(an, token, symbol, ts_ns, prices, event_ns, config))
    if bars:
        ind = an.setdefault(IndicatorSet, lambda: IndicatorSet(config.indicators))
        if detect and not n:  # bars closed by the watermark: every tick came before
            sv = an.get(SessionVwap)
            bar_vwaps = [None if sv is None else sv.value] * len(bars)
            if levels and ps is not None:
                bar_levels = [ps.profile.levels()] * len(bars)
        if not bar_levels:
            bar_levels = [None] * len(bars)
        alerts: list[AlertRecord] = []
        for i, bar in enumerate(bars):
            ind.update_bar(bar.open, bar.high, bar.low, bar.close, float(bar.volume))
            if detect:
                alerts.extend(_detect(an, info, token, bar, ind.values, bar_vwaps[i],
                                      bar_levels[i], config))
        out.append(IndicatorUpdate(token=token, symbol=symbol, ts_ns=ts_ns,
                                   bar_start_ns=bars[-1].start_ns, values=ind.values()))
        if alerts:
            out.extend(alerts)
            _open_validations(an, info, alerts, config.validation)
    # One pass over the bundle's ticks for the older validations and the ones just opened
    # (those skip every tick up to their alert's time): the windows come out in tick
    # order, so neither the results nor their order depend on where bundles are cut.
    pv = an.get(PendingValidations)
    if pv is not None and pv.pending and n:
        out.extend(_validate(pv, info, token, prices, event_ns, config.validation))
    if flush:
        pv = an.get(PendingValidations)
        if pv is not None and pv.pending:
            out.extend(_records(info, forward.finish(pv, config.validation), ts_ns))
    for b in buckets:
        minute = int(minute_of_day_ist(b.start_ns)) - SESSION_OPEN_MINUTE
        r = config.baseline.ratio(b.volume, info.avg_volume_20d, minute, b.resolution)
        out.append(VolumeRatio(token=token, symbol=symbol, tradingsymbol=info.tradingsymbol,
                               ts_ns=ts_ns, resolution=b.resolution, start_ns=b.start_ns,
                               volume=b.volume, expected=r.expected or None,
                               volume_ratio=r.ratio, capped=r.capped, reason=r.reason or ""))
    if ps is not None and last_ns is not None and (
            ps.profile.due(last_ns) or (flush and not ps.profile.empty)):
        published = ps.publish(last_ns)
        if published is not None:
            snap, (lo, hi) = published
            # Unformatted: the mirror's writer builds the Redis payloads.
            out.append(profile_record(snap, token, symbol, lo, hi))
    return out


def _close_cuts(bars: list[Bar], event_ns: np.ndarray) -> list[int]:
    """Where each bar's close falls in the bundle's ticks.

    A bar is closed by the first tick at or after its end, so the ticks known at its
    close are those that arrived before that tick (late ones included); what a detector
    sees (session VWAP, profile levels) must not depend on the ticks the bundle holds
    after them.

    Args:
        bars: Bars closed by the bundle, in order.
        event_ns: The bundle's accepted ticks' event times, in arrival order.

    Returns:
        Per bar, the number of leading ticks known at its close (``len(event_ns)`` when
        no tick of the bundle closed it).
    """
    out: list[int] = []
    done, n = 0, len(event_ns)
    for bar in bars:
        after = np.flatnonzero(event_ns[done:] >= bar.end_ns)
        done = done + int(after[0]) if len(after) else n
        out.append(done)
    return out


T = TypeVar("T")


def _at_cuts(cuts: list[int], add: Callable[[int, int], None], read: Callable[[], T],
             n: int) -> list[T]:
    """Feed ticks ``[a, b)`` to an analytic up to each cut, reading it there; then the rest.

    Args:
        cuts: :func:`_close_cuts`.
        add: Adds the ticks ``a..b-1`` (called with ``a < b`` only).
        read: The analytic's value now.
        n: Ticks in the bundle.

    Returns:
        The value at each cut.
    """
    out: list[T] = []
    done = 0
    for cut in cuts:
        if cut > done:
            add(done, cut)
            done = cut
        out.append(read())
    if done < n:
        add(done, n)
    return out


def _detect(an: Analytics, info: InstrumentInfo, token: int, bar: Bar,
            values: Callable[[], dict[str, Any]], vwap: float | None,
            profile: ProfileLevels | None, config: AnalyticsConfig) -> list[AlertRecord]:
    """Run the pattern detectors on one closed bar (:mod:`aion.tables.patterns.alerts`)."""
    ps = an.setdefault(PatternState, PatternState)
    subject = AlertSubject(token, info.symbol, info.tradingsymbol, info.kind, info.lot_size)
    return pattern_alerts.on_bar(ps, subject, bar, values, vwap, config.alerts,
                                 config.baseline, profile, prior_vix=info.prior_vix)


_COST_CLASS = {InstrumentKind.FUTURE: InstrumentClass.FUTURE,
               InstrumentKind.OPTION: InstrumentClass.OPTION}


def _open_validations(an: Analytics, info: InstrumentInfo, alerts: list[AlertRecord],
                      config: ValidationConfig) -> None:
    """Start validating new alerts (appended to the instrument's pending validations).

    :func:`update` then feeds the bundle's ticks to every pending validation in one pass;
    the new ones skip every tick up to their own time.
    """
    pv = an.setdefault(PendingValidations, PendingValidations)
    for a in alerts:
        direction = {"BULLISH": 1, "BEARISH": -1}.get(a.signal, 0)
        forward.open_validation(pv, forward.Alert(
            alert_id=a.alert_id, token=a.token, event_ms=a.timestamp, direction=direction,
            # A target at the entry (no expected move) would be "touched" by the first
            # tick and score every such alert a success: it is no target.
            target=a.target_price if direction and a.target_price != a.entry_price else None,
            stop=a.stop_loss if direction else None,
            quantity=max(a.quantity, a.lot_size, 1),
            instrument_class=_COST_CLASS.get(info.kind, InstrumentClass.EQUITY),
            pattern=a.pattern, confidence=a.confidence), config)


def _validate(pv: PendingValidations, info: InstrumentInfo, token: int, prices: np.ndarray,
              event_ns: np.ndarray, config: ValidationConfig) -> list[Record]:
    """Feed ticks to pending validations; the windows they closed as records."""
    ns = event_ns.tolist()
    closed = forward.update_many(pv, (event_ns // 1_000_000).tolist(), prices.tolist(), config)
    return [rec for i, group in itertools.groupby(closed, key=lambda x: x[0])
            for rec in _records(info, [r for _, r in group], ns[i])]


def _records(info: InstrumentInfo, results: list[WindowResult], ts_ns: int
             ) -> list[ValidationRecord]:
    return forward.records(info.symbol, results, ts_ns)


def _vix(an: Analytics, token: int, symbol: str, ts_ns: int, prices: np.ndarray,
         event_ns: np.ndarray, config: AnalyticsConfig) -> list[Record]:
    """Feed the VIX ticks to the regime; the regime after the bundle, if known."""
    vix = an.setdefault(VixRegime, VixRegime)
    vp = config.baseline.params.vix
    last_change = None
    for p, t in zip(prices.tolist(), event_ns.tolist(), strict=True):
        change = vix.update(p, t, vp)
        if change is not None:
            last_change = change
    if vix.regime is None:
        return []
    return [VixRegimeUpdate(
        token=token, symbol=symbol, ts_ns=ts_ns, regime=vix.regime.value,
        vix=vix.last_vix, multiplier=vix.multiplier(vp),
        previous=None if last_change is None or last_change.previous is None
        else last_change.previous.value,
        changed_ns=None if last_change is None else last_change.event_ns)]


def profile_record(snap: ProfileSnapshot, token: int, symbol: str, dirty_lo: int,
                   dirty_hi: int) -> ProfileUpdate:
    """A published profile snapshot as its record.

    Args:
        snap: The snapshot.
        token: The instrument's token.
        symbol: Its symbol.
        dirty_lo: Lowest row that gained volume since the previous publish (-1: none).
        dirty_hi: Highest such row.

    Returns:
        The record (volumes as a list).
    """
    fields = {f.name: getattr(snap, f.name) for f in dataclasses.fields(snap)}
    fields["volumes"] = snap.volumes.tolist()
    return ProfileUpdate(token=token, symbol=symbol, date=snap_date(snap),
                         dirty_lo=dirty_lo, dirty_hi=dirty_hi, **fields)


def snap_date(snap: Any) -> str | None:
    """ISO trading date of a profile snapshot."""
    return day_to_iso(snap.day) if snap.day >= 0 else None
