"""Per-instrument analytics fused into the tick agent: indicators, VWAP, profile, volume ratio.

They share the instrument key with the volume and bar state, so they live in the same
table value and are updated inside the same bundle (docs/architecture.md, "Throughput":
stages that share the instrument key are fused into the ticks agent):

* **Indicators** update on every closed 1-minute bar (``tables.indicators``).
* **Session VWAP** accumulates ``price x incremental volume`` of every accepted tick, so
  it is exact per tick; it resets on a new trading date.
* **Volume profile** bins every accepted tick (``tables.profile``) and is published at
  its own cadence (100 ticks or 1 minute of event time).
* **Volume ratio**: every closed volume bucket is compared with the time-aware baseline
  (``tables.volume_baseline``) of the symbol's ``avg_volume_20d``. The ratio is
  regime-free; the VIX-adjusted threshold is ``expected x regime multiplier`` and is
  computed where the regime is known (the INDIA VIX instrument's analytics publish its
  regime as a ``VixRegimeUpdate`` record, Redis indicator ``vix_regime``): joining it into
  other partitions at processing time would make the result depend on scheduling.

Everything is a pure function of the ticks and the instrument's reference data.
"""

from __future__ import annotations

import base64
import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from aion.tables.bars import Bar
from aion.tables.indicators import IndicatorParams, IndicatorSet
from aion.tables.profile import ProfileParams, ProfileSnapshot, VolumeProfile, row_index
from aion.tables.records import (
    IndicatorUpdate,
    ProfileUpdate,
    Record,
    VixRegimeUpdate,
    VolumeRatio,
    VwapUpdate,
)
from aion.tables.timeutil import SESSION_OPEN_MINUTE, day_to_iso, ist_day, minute_of_day_ist
from aion.tables.volume import BucketRecord
from aion.tables.volume_baseline import (
    BaselineParams,
    Regime,
    VixRegime,
    VolumeBaseline,
)


@dataclass(frozen=True, slots=True)
class InstrumentInfo:
    """Reference data the analytics need about one instrument.

    Attributes:
        tick_size: Price step (0 for indices: no profile).
        avg_volume_20d: Daily average volume, None when unknown (no ratio).
        is_vix: Whether this is INDIA VIX (its last price drives the regime).
        symbol: ``EXCHANGE:TRADINGSYMBOL`` (records carry it: Redis keys use it).
        tradingsymbol: The symbol without exchange (the reference's bucket keys).
    """

    tick_size: float = 0.0
    avg_volume_20d: float | None = None
    is_vix: bool = False
    symbol: str = ""
    tradingsymbol: str = ""


@dataclass(frozen=True)
class AnalyticsConfig:
    """Parameters of every analytic (from config; one object per worker).

    Attributes:
        indicators: Indicator periods.
        profile: Volume-profile settings.
        baseline: Time-aware volume baseline (precomputed multiplier tables).
    """

    indicators: IndicatorParams = field(default_factory=IndicatorParams)
    profile: ProfileParams = field(default_factory=ProfileParams)
    baseline: VolumeBaseline = field(default_factory=VolumeBaseline)

    @classmethod
    def from_settings(cls, get: Any) -> AnalyticsConfig:
        """Build from a settings getter (``Settings.get``).

        Args:
            get: ``get(dotted_key, default)``.

        Returns:
            The config.
        """
        return cls(
            indicators=IndicatorParams.from_mapping(get("indicators", None)),
            profile=ProfileParams.from_mapping(get("volume_profile", None)),
            baseline=VolumeBaseline(BaselineParams.from_mapping(get("volume_baseline", None))),
        )


_DEFAULT: list[AnalyticsConfig] = []


def default_config() -> AnalyticsConfig:
    """The default-parameter config, built once (its baseline tables are precomputed)."""
    if not _DEFAULT:
        _DEFAULT.append(AnalyticsConfig())
    return _DEFAULT[0]


@dataclass(slots=True)
class Analytics:
    """Analytics state of one instrument (part of ``InstrumentState``).

    Attributes:
        indicators: Indicator set (created at the first closed bar).
        profile: Volume profile (instruments with a tick size).
        vix: VIX regime (INDIA VIX only).
        vwap_day: IST day of the VWAP accumulators.
        vwap_pv: Sum of price x incremental volume this day.
        vwap_volume: Sum of incremental volume this day.
        bars: Closed bars fed to the indicators (lifetime).
        dirty_lo: Lowest profile row that gained volume since the last publish (-1: none).
        dirty_hi: Highest such row.
    """

    indicators: IndicatorSet | None = None
    profile: VolumeProfile | None = None
    vix: VixRegime | None = None
    vwap_day: int = -1
    vwap_pv: float = 0.0
    vwap_volume: int = 0
    bars: int = 0
    dirty_lo: int = -1
    dirty_hi: int = -1

    def to_list(self) -> list[Any]:
        """Positional, JSON-safe serialisation (binary parts base64).

        Returns:
            The list.
        """
        vix = self.vix
        return [
            _b64(self.indicators.to_bytes()) if self.indicators is not None else None,
            _b64(self.profile.to_bytes()) if self.profile is not None else None,
            None if vix is None else [vix.regime.value if vix.regime else None,
                                      vix.last_vix if vix.last_ns >= 0 else None,
                                      vix.last_ns, vix.rejected],
            self.vwap_day, self.vwap_pv, self.vwap_volume, self.bars,
            self.dirty_lo, self.dirty_hi,
        ]

    @classmethod
    def from_list(cls, v: list[Any], config: AnalyticsConfig) -> Analytics:
        """Inverse of :meth:`to_list`.

        Args:
            v: The list.
            config: Parameters the binary parts were built with.

        Returns:
            The state.
        """
        ind = None if v[0] is None else IndicatorSet.from_bytes(
            config.indicators, base64.b64decode(v[0]))
        prof = None if v[1] is None else VolumeProfile.from_bytes(
            base64.b64decode(v[1]), config.profile)
        vix = None
        if v[2] is not None:
            regime, last, last_ns, rejected = v[2]
            vix = VixRegime(Regime(regime) if regime else None,
                            float("nan") if last is None else float(last), int(last_ns),
                            int(rejected))
        return cls(ind, prof, vix, int(v[3]), float(v[4]), int(v[5]), int(v[6]), int(v[7]),
                   int(v[8]))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


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
        VIX instrument), indicators (after a closed bar), volume ratios (closed
        buckets), profile (when due).
    """
    out: list[Record] = []
    n = len(prices)
    prof = an.profile
    if n:
        last_ns: int | None = int(event_ns[-1])
    elif bars:
        last_ns = bars[-1].last_ts_ns
    else:
        last_ns = prof.last_ts_ns if prof is not None and not prof.empty else None
    ts_ns = last_ns if last_ns is not None else 0
    symbol = info.symbol
    if n:
        days = ist_day(event_ns)
        last_day = int(days[-1])
        if last_day != an.vwap_day:
            an.vwap_day, an.vwap_pv, an.vwap_volume = last_day, 0.0, 0
            keep = days == last_day
            p_day, v_day = prices[keep], incs[keep]
        else:
            p_day, v_day = prices, incs
        an.vwap_pv += float(np.dot(p_day, v_day.astype(np.float64)))
        an.vwap_volume += int(v_day.sum())
        if an.vwap_volume > 0:
            out.append(VwapUpdate(token=token, symbol=symbol, ts_ns=ts_ns,
                                  vwap=an.vwap_pv / an.vwap_volume))
        if info.tick_size > 0:
            if an.profile is None:
                an.profile = prof = VolumeProfile(info.tick_size, config.profile)
            an.profile.update_many(prices, incs, event_ns, days)
            traded = prices[incs > 0]
            if len(traded):
                lo = row_index(float(traded.min()), info.tick_size)
                hi = row_index(float(traded.max()), info.tick_size)
                an.dirty_lo = lo if an.dirty_lo < 0 else min(an.dirty_lo, lo)
                an.dirty_hi = max(an.dirty_hi, hi)
        if info.is_vix:
            out.extend(_vix(an, token, symbol, ts_ns, prices, event_ns, config))
    for bar in bars:
        if an.indicators is None:
            an.indicators = IndicatorSet(config.indicators)
        an.indicators.update_bar(bar.open, bar.high, bar.low, bar.close, float(bar.volume))
        an.bars += 1
    if bars and an.indicators is not None:
        out.append(IndicatorUpdate(token=token, symbol=symbol, ts_ns=ts_ns,
                                   bar_start_ns=bars[-1].start_ns,
                                   values=an.indicators.values()))
    for b in buckets:
        minute = int(minute_of_day_ist(b.start_ns)) - SESSION_OPEN_MINUTE
        r = config.baseline.ratio(b.volume, info.avg_volume_20d, minute, b.resolution)
        out.append(VolumeRatio(token=token, symbol=symbol, tradingsymbol=info.tradingsymbol,
                               ts_ns=ts_ns, resolution=b.resolution, start_ns=b.start_ns,
                               volume=b.volume, expected=r.expected or None,
                               volume_ratio=r.ratio, capped=r.capped, reason=r.reason or ""))
    if prof is not None and last_ns is not None and (
            prof.due(last_ns) or (flush and not prof.empty)):
        snap = prof.publish(last_ns)
        if snap is not None:
            # Unformatted: the mirror's writer builds the Redis payloads.
            out.append(profile_record(snap, token, symbol, an.dirty_lo, an.dirty_hi))
            an.dirty_lo = an.dirty_hi = -1
    return out


def _vix(an: Analytics, token: int, symbol: str, ts_ns: int, prices: np.ndarray,
         event_ns: np.ndarray, config: AnalyticsConfig) -> list[Record]:
    """Feed the VIX ticks to the regime; the regime after the bundle, if known."""
    an.vix = an.vix or VixRegime()
    vp = config.baseline.params.vix
    last_change = None
    for p, t in zip(prices.tolist(), event_ns.tolist(), strict=True):
        change = an.vix.update(p, t, vp)
        if change is not None:
            last_change = change
    if an.vix.regime is None:
        return []
    return [VixRegimeUpdate(
        token=token, symbol=symbol, ts_ns=ts_ns, regime=an.vix.regime.value,
        vix=an.vix.last_vix, multiplier=an.vix.multiplier(vp),
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

