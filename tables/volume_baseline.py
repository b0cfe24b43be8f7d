"""Time-aware volume baseline: expected volume per minute, bucket and VIX regime.

The reference's "Mathematical Volume Engine" turns a symbol's daily average volume into
an expected volume for any intraday bucket, shaped by session multipliers (opening
1.8x, closing 2.0x), scaled across bucket widths (1, 5, 10, 15, 30, 60 minutes) and
adjusted by the INDIA VIX regime (LOW 0.8x, HIGH 1.4x, PANIC 1.8x). Its worked example::

    1-min baseline  = 322M / 5       = 64.4M    (from a 5-minute baseline)
    opening minute  = 64.4M * 1.8    = 115.92M  (~116M)
    10-min bucket   = 64.4M * 10     = 644M     (no session multiplier)
    HIGH VIX        = 644M * 1.4     = 901.6M   (~901M threshold)

Decisions:

* **Session minutes.** Minute ``i`` of the session is ``[09:15 + i, 09:16 + i)`` IST,
  ``i`` in ``0..374`` (375 minutes, 09:15-15:30). Event times map to it with
  ``timeutil.minute_of_day_ist`` minus ``timeutil.SESSION_OPEN_MINUTE``.
* **Session windows** (half-open, IST, defaults in :class:`BaselineParams`):
  ``opening`` 09:15-09:45 x1.8 (the reference's opening frenzy), ``midday`` 12:00-13:30
  x0.8 (the lunchtime lull of NSE's U-shaped intraday volume; our addition), ``closing``
  15:00-15:30 x2.0 (the reference's closing multiplier; NSE's close is the VWAP of this
  last half hour, which draws volume into it). Every other minute has multiplier 1.0.
  Windows may not overlap.
* **Per-minute base.** Two modes, ``normalise``:

  - ``True`` (default): ``base = avg_volume_20d / sum(multipliers)`` (= /411 with the
    defaults), so the expected volume of the whole session equals the daily average.
    Then a day that trades its average volume has a whole-day ratio of exactly 1.0;
    the flat mode would expect ``411/375`` = 1.096 days of volume and bias every ratio
    about 9 % low (14 % without the midday lull).
  - ``False``: ``base = avg_volume_20d / 375``, the reference's flat arithmetic.

  Either way the base is "the 1-minute baseline" of the worked example, and everything
  after it (multipliers per minute, bucket sums, VIX) is identical, so the example is
  reproduced from its inputs by :meth:`VolumeBaseline.minute_base_from_bucket`
  (``322M / 5``) in both modes.
* **Buckets.** The expected volume of a bucket of ``m`` minutes starting at session
  minute ``s`` is ``base * sum(mult[s : s + m])``, clipped to the session (a 60-minute
  bucket at 15:15 has 15 minutes, as ``timeutil.session_bucket_end_ns`` cuts it), so
  buckets are additive: a 10-minute bucket is the sum of its two 5-minute halves.
  Multipliers are stored as integer micro-units (``round(mult * 1e6)``) in a 376-entry
  cumulative table, so any bucket is O(1) and sums of multipliers are exact integers:
  the example's ``64.4M * 10`` is exactly 644M, not 643.9999999M.
* **VIX.** :class:`VixRegime` classifies the INDIA VIX last price:
  ``LOW`` below 12, ``NORMAL`` 12 to below 18, ``HIGH`` 18 to below 25, ``PANIC`` 25 and
  above (multipliers 0.8 / 1.0 / 1.4 / 1.8; NORMAL's 1.0 is implicit in the reference).
  The cut-offs are round numbers around the usual reading of India VIX (roughly: it
  mostly sits in the low-to-high teens, readings under 12 mark unusually calm markets,
  and readings in the mid-20s and above have come with stress episodes such as 2008-09
  and 2020); they are params, to be tuned on our own VIX history. The VIX multiplier scales
  the expected volume into a *threshold*: high volatility requires more volume for the
  same ratio (the reference's "HIGH VIX: higher thresholds = less sensitive"). Until the
  first VIX tick the regime is unknown and the multiplier is 1.0.
* **Ratio.** ``observed / expected`` (VIX-adjusted if a regime is given), capped at
  ``ratio_cap`` (10.0) because a thin baseline makes ratios of hundreds that swamp any
  statistic downstream. A zero, negative, NaN or missing baseline, or a bucket entirely
  outside the session, gives ``ratio=None`` with a reason, never a ZeroDivisionError.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import numpy as np
import numpy.typing as npt

from aion.tables.timeutil import (
    SESSION_CLOSE_MINUTE,
    SESSION_OPEN_MINUTE,
    minute_of_day_ist,
)

if TYPE_CHECKING:
    from aion.tables.analytics import AnalyticsConfig

SESSION_MINUTES = SESSION_CLOSE_MINUTE - SESSION_OPEN_MINUTE
"""Minutes in the normal NSE session (375)."""

MULT_SCALE = 1_000_000
"""Multipliers are stored as integers in units of 1e-6 (see the module docstring)."""

REASON_NO_BASELINE = "no_baseline"
"""The daily average (or per-minute base) is missing, zero, negative or not finite."""
REASON_OUTSIDE_SESSION = "outside_session"
"""The bucket has no minute inside 09:15-15:30, so nothing is expected of it."""
REASON_BAD_OBSERVED = "bad_observed"
"""The observed volume is negative or not finite."""

__all__ = [
    "MULT_SCALE",
    "REASON_BAD_OBSERVED",
    "REASON_NO_BASELINE",
    "REASON_OUTSIDE_SESSION",
    "SESSION_MINUTES",
    "BaselineParams",
    "Regime",
    "RegimeChange",
    "SessionWindow",
    "VixParams",
    "VixRegime",
    "VolumeBaseline",
    "VolumeRatio",
    "hhmm_to_minute",
    "session_minute",
    "volume_ratio",
]


def hhmm_to_minute(text: str | int) -> int:
    """Parse an IST wall time ``"HH:MM"`` into a minute of the day.

    An ``int`` is taken as a minute of the day already. That is also what PyYAML (YAML
    1.1) makes of an *unquoted* ``12:00``: a base-60 integer, 12 * 60 + 0 = 720, which is
    exactly the minute of the day, so quoted and unquoted times in YAML (and ``AION_*``
    environment overrides, parsed as YAML scalars) mean the same.

    Args:
        text: Time such as ``"09:15"`` (``"24:00"`` is not accepted), or a minute of the
            day in ``0..1439``.

    Returns:
        Minutes since midnight (09:15 is 555).

    Raises:
        ValueError: If the value is not a valid ``HH:MM`` or minute of the day.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        if not 0 <= text < 24 * 60:
            raise ValueError(f"expected HH:MM or a minute of the day, got {text!r}")
        return text
    hh, sep, mm = str(text).strip().partition(":")
    if not sep or not hh.isdigit() or not mm.isdigit() or len(mm) != 2:
        raise ValueError(f"expected HH:MM, got {text!r}")
    hour, minute = int(hh), int(mm)
    if hour > 23 or minute > 59:
        raise ValueError(f"expected HH:MM, got {text!r}")
    return hour * 60 + minute


def _fmt_minute(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def session_minute(ns: int) -> int:
    """Session minute index of an event time: 0 at 09:15 IST, 374 at 15:29.

    Args:
        ns: Epoch nanoseconds.

    Returns:
        ``minute_of_day_ist(ns) - 555``; negative before the open, >= 375 after the close
        (callers decide; :meth:`VolumeBaseline.expected` clips to the session).
    """
    return int(minute_of_day_ist(int(ns))) - SESSION_OPEN_MINUTE


@dataclass(frozen=True, slots=True)
class SessionWindow:
    """A part of the session whose minutes carry a volume multiplier.

    Attributes:
        name: Identifier (``"opening"``, ``"closing"``, ...), the key in YAML.
        start: First IST minute of the day in the window (inclusive).
        end: IST minute of the day where the window ends (exclusive).
        multiplier: Volume multiplier of each minute in the window (> 0).
    """

    name: str
    start: int
    end: int
    multiplier: float

    def __post_init__(self) -> None:
        if not SESSION_OPEN_MINUTE <= self.start < self.end <= SESSION_CLOSE_MINUTE:
            raise ValueError(
                f"session window {self.name!r} {_fmt_minute(self.start)}-"
                f"{_fmt_minute(self.end)} must be non-empty and inside 09:15-15:30"
            )
        if not (math.isfinite(self.multiplier) and self.multiplier > 0):
            raise ValueError(
                f"session window {self.name!r} multiplier must be a positive number, "
                f"got {self.multiplier!r}"
            )

    @classmethod
    def from_mapping(cls, name: str, data: Mapping[str, Any]) -> SessionWindow:
        """Build a window from ``{start: "HH:MM", end: "HH:MM", multiplier: x}``.

        Args:
            name: Window name.
            data: The mapping.

        Returns:
            The window.

        Raises:
            ValueError: On missing/unknown keys or invalid values.
        """
        keys = {"start", "end", "multiplier"}
        if set(data) != keys:
            raise ValueError(
                f"session window {name!r} needs exactly the keys {sorted(keys)}, got {sorted(data)}"
            )
        return cls(
            name,
            hhmm_to_minute(data["start"]),
            hhmm_to_minute(data["end"]),
            float(data["multiplier"]),
        )

    def to_mapping(self) -> dict[str, Any]:
        """The YAML form (inverse of :meth:`from_mapping`)."""
        return {
            "start": _fmt_minute(self.start),
            "end": _fmt_minute(self.end),
            "multiplier": self.multiplier,
        }


class Regime(StrEnum):
    """INDIA VIX regime; values are stable strings safe to serialise."""

    LOW = "LOW"
    NORMAL = "NORMAL"
    HIGH = "HIGH"
    PANIC = "PANIC"


_REGIME_ORDER: tuple[Regime, ...] = (Regime.LOW, Regime.NORMAL, Regime.HIGH, Regime.PANIC)
_REGIME_RANK = {r: i for i, r in enumerate(_REGIME_ORDER)}


@dataclass(frozen=True, slots=True)
class VixParams:
    """INDIA VIX regime thresholds and multipliers.

    Attributes:
        low_below: VIX strictly below this is LOW.
        normal_below: VIX in ``[low_below, normal_below)`` is NORMAL.
        high_below: VIX in ``[normal_below, high_below)`` is HIGH; at or above, PANIC.
        multipliers: Threshold multiplier per regime.
        hysteresis: VIX points a value must move past a boundary before the regime
            changes (0 = switch exactly at the boundary). Damps flapping when VIX hovers
            on a cut-off.
    """

    low_below: float = 12.0
    normal_below: float = 18.0
    high_below: float = 25.0
    multipliers: Mapping[Regime, float] = field(
        default_factory=lambda: {
            Regime.LOW: 0.8,
            Regime.NORMAL: 1.0,
            Regime.HIGH: 1.4,
            Regime.PANIC: 1.8,
        }
    )
    hysteresis: float = 0.0

    def __post_init__(self) -> None:
        if not 0 < self.low_below < self.normal_below < self.high_below:
            raise ValueError(
                "VIX thresholds must satisfy 0 < low_below < normal_below < high_below, got "
                f"{self.low_below}, {self.normal_below}, {self.high_below}"
            )
        missing = [r.value for r in _REGIME_ORDER if r not in self.multipliers]
        if missing:
            raise ValueError(f"VIX multipliers missing for {missing}")
        for r, m in self.multipliers.items():
            if not (math.isfinite(m) and m > 0):
                raise ValueError(f"VIX multiplier for {r} must be positive, got {m!r}")
        if not (math.isfinite(self.hysteresis) and self.hysteresis >= 0):
            raise ValueError(f"VIX hysteresis must be >= 0, got {self.hysteresis!r}")

    def classify(self, vix: float) -> Regime:
        """Regime of a VIX value with no history (no hysteresis).

        Args:
            vix: INDIA VIX level.

        Returns:
            LOW, NORMAL, HIGH or PANIC; boundaries belong to the higher regime.
        """
        if vix < self.low_below:
            return Regime.LOW
        if vix < self.normal_below:
            return Regime.NORMAL
        if vix < self.high_below:
            return Regime.HIGH
        return Regime.PANIC

    def multiplier(self, regime: Regime | None) -> float:
        """Multiplier of a regime; 1.0 when the regime is unknown (no VIX yet)."""
        return 1.0 if regime is None else float(self.multipliers[regime])

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> VixParams:
        """Build from ``{low_below, normal_below, high_below, hysteresis, multipliers}``.

        Args:
            data: Mapping; missing keys keep defaults. ``multipliers`` may name only
                some regimes (case-insensitive); the rest keep defaults.

        Returns:
            The params.

        Raises:
            ValueError: On unknown keys or regimes, or invalid values.
        """
        data = dict(data or {})
        known = {"low_below", "normal_below", "high_below", "hysteresis", "multipliers"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown vix setting(s) {unknown}; known: {sorted(known)}")
        default = cls()
        mults = dict(default.multipliers)
        for key, value in dict(data.get("multipliers") or {}).items():
            try:
                regime = Regime(str(key).upper())
            except ValueError:
                raise ValueError(
                    f"unknown VIX regime {key!r}; known: {[r.value for r in _REGIME_ORDER]}"
                ) from None
            mults[regime] = float(value)
        return cls(
            low_below=float(data.get("low_below", default.low_below)),
            normal_below=float(data.get("normal_below", default.normal_below)),
            high_below=float(data.get("high_below", default.high_below)),
            multipliers=mults,
            hysteresis=float(data.get("hysteresis", default.hysteresis)),
        )


def _default_sessions() -> tuple[SessionWindow, ...]:
    return (
        SessionWindow("opening", 9 * 60 + 15, 9 * 60 + 45, 1.8),
        SessionWindow("midday", 12 * 60, 13 * 60 + 30, 0.8),
        SessionWindow("closing", 15 * 60, 15 * 60 + 30, 2.0),
    )


@dataclass(frozen=True, slots=True)
class BaselineParams:
    """Tunables of the time-aware baseline (the ``volume_baseline:`` YAML section).

    Attributes:
        sessions: Multiplier windows, non-overlapping (minutes outside all windows: 1.0).
        normalise: True: the per-minute base is ``avg_daily / sum(multipliers)`` so the
            session's expected total is the daily average; False: ``avg_daily / 375``.
        ratio_cap: Upper bound of a volume ratio (outlier cap).
        vix: VIX regime thresholds and multipliers.
    """

    sessions: tuple[SessionWindow, ...] = field(default_factory=_default_sessions)
    normalise: bool = True
    ratio_cap: float = 10.0
    vix: VixParams = field(default_factory=VixParams)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.ratio_cap) and self.ratio_cap > 0):
            raise ValueError(f"ratio_cap must be a positive number, got {self.ratio_cap!r}")
        names = [s.name for s in self.sessions]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate session window names in {names}")
        ordered = sorted(self.sessions, key=lambda s: s.start)
        for a, b in itertools.pairwise(ordered):
            if b.start < a.end:
                raise ValueError(
                    f"session windows {a.name!r} ({_fmt_minute(a.start)}-{_fmt_minute(a.end)})"
                    f" and {b.name!r} ({_fmt_minute(b.start)}-{_fmt_minute(b.end)}) overlap"
                )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> BaselineParams:
        """Build params from a plain mapping, e.g. the ``volume_baseline:`` YAML section.

        ``sessions`` is a mapping ``name -> {start, end, multiplier}`` merged *by name*
        into the defaults: a listed name replaces that window, a new name adds one, and
        ``name: null`` removes a default window. So an override of one window (or one
        field of it, e.g. ``{sessions: {opening: {multiplier: 1.6}}}``) keeps the rest.

        Args:
            data: Keys ``sessions``, ``normalise``, ``ratio_cap``, ``vix``; missing keys
                keep defaults; None means all defaults.

        Returns:
            The params.

        Raises:
            ValueError: On unknown keys or invalid values, with the offending name.
        """
        data = dict(data or {})
        known = {"sessions", "normalise", "ratio_cap", "vix"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"unknown volume_baseline setting(s) {unknown}; known: {sorted(known)}"
            )
        default = cls()
        windows: dict[str, SessionWindow] = {s.name: s for s in default.sessions}
        for name, spec in dict(data.get("sessions") or {}).items():
            name = str(name)
            if spec is None:
                windows.pop(name, None)
                continue
            if not isinstance(spec, Mapping):
                raise ValueError(f"session window {name!r} must be a mapping, got {spec!r}")
            base = windows[name].to_mapping() if name in windows else {}
            windows[name] = SessionWindow.from_mapping(name, {**base, **spec})
        normalise = data.get("normalise", default.normalise)
        if not isinstance(normalise, bool):
            raise ValueError(f"normalise must be true or false, got {normalise!r}")
        return cls(
            sessions=tuple(sorted(windows.values(), key=lambda s: s.start)),
            normalise=normalise,
            ratio_cap=float(data.get("ratio_cap", default.ratio_cap)),
            vix=VixParams.from_mapping(data.get("vix")),
        )


class VolumeRatio(NamedTuple):
    """Outcome of a volume-ratio computation (a NamedTuple: cheap on the hot path).

    Attributes:
        ratio: ``observed / expected`` capped at ``ratio_cap``, or None (see ``reason``).
        observed: Observed bucket incremental volume.
        expected: Expected volume the ratio divides by (0.0 when unknown).
        capped: Whether the raw ratio exceeded the cap.
        reason: Why ``ratio`` is None (``"no_baseline"``, ``"outside_session"``,
            ``"bad_observed"``), else None.
    """

    ratio: float | None
    observed: float
    expected: float
    capped: bool = False
    reason: str | None = None


def volume_ratio(
    observed: float, expected: float | None, cap: float = 10.0, *, reason: str | None = None
) -> VolumeRatio:
    """Ratio of observed to expected volume, capped, total over bad inputs.

    Args:
        observed: Observed bucket incremental volume.
        expected: Expected (or VIX-adjusted threshold) volume; None/0/NaN = unknown.
        cap: Outlier cap of the ratio.
        reason: Reason to report if ``expected`` is unusable (defaults to
            ``"no_baseline"``).

    Returns:
        The :class:`VolumeRatio`.
    """
    try:
        obs = float(observed)
    except (TypeError, ValueError):
        obs = math.nan
    exp = math.nan if expected is None else float(expected)
    usable = math.isfinite(exp) and exp > 0
    if not (math.isfinite(obs) and obs >= 0):
        return VolumeRatio(None, obs, exp if usable else 0.0, reason=REASON_BAD_OBSERVED)
    if not usable:
        return VolumeRatio(None, obs, 0.0, reason=reason or REASON_NO_BASELINE)
    raw = obs / exp
    if raw > cap:
        return VolumeRatio(cap, obs, exp, capped=True)
    return VolumeRatio(raw, obs, exp)


class VolumeBaseline:
    """Precomputed expected-volume profile for one :class:`BaselineParams`.

    Build once per params (config load); every method is O(1) and pure.

    Attributes:
        params: The params.
        minute_units: Per-session-minute multipliers in micro-units (length 375).
        cum_units: Cumulative multipliers in micro-units, ``cum_units[i]`` = sum of the
            first ``i`` minutes (length 376, ``cum_units[0] == 0``).
        total_units: ``cum_units[375]``, the whole session.
    """

    __slots__ = ("_cum_np", "_cum_py", "cum_units", "minute_units", "params", "total_units")

    def __init__(self, params: BaselineParams | None = None) -> None:
        self.params = params or BaselineParams()
        units = np.full(SESSION_MINUTES, MULT_SCALE, dtype=np.int64)
        for window in self.params.sessions:
            lo = window.start - SESSION_OPEN_MINUTE
            hi = window.end - SESSION_OPEN_MINUTE
            units[lo:hi] = round(window.multiplier * MULT_SCALE)
        cum = np.zeros(SESSION_MINUTES + 1, dtype=np.int64)
        np.cumsum(units, out=cum[1:])
        self.minute_units = units
        self.cum_units = cum
        self._cum_np = cum
        # A tuple of Python ints: indexing it is several times cheaper than numpy scalars.
        self._cum_py: tuple[int, ...] = tuple(int(x) for x in cum)
        self.total_units = self._cum_py[-1]

    # -- base -------------------------------------------------------------------------

    def minute_base(self, avg_daily_volume: float | None) -> float | None:
        """Per-minute base ("1-min baseline") from a daily average volume.

        Args:
            avg_daily_volume: ``avg_volume_20d`` of the symbol.

        Returns:
            ``avg / sum(multipliers)`` (normalised) or ``avg / 375`` (flat); None when the
            average is missing, not finite or not positive.
        """
        if avg_daily_volume is None or not math.isfinite(avg_daily_volume):
            return None
        if avg_daily_volume <= 0:
            return None
        if self.params.normalise:
            return avg_daily_volume * MULT_SCALE / self.total_units
        return avg_daily_volume / SESSION_MINUTES

    @staticmethod
    def minute_base_from_bucket(bucket_baseline: float, minutes: int) -> float:
        """Per-minute base from a flat N-minute baseline (the reference's ``322M / 5``).

        Args:
            bucket_baseline: Expected volume of an N-minute bucket without multipliers.
            minutes: N (positive).

        Returns:
            ``bucket_baseline / minutes``.

        Raises:
            ValueError: If ``minutes`` is not positive.
        """
        if minutes <= 0:
            raise ValueError(f"bucket width must be positive, got {minutes}")
        return bucket_baseline / minutes

    # -- expected volume --------------------------------------------------------------

    def multiplier_sum(self, start: int, minutes: int) -> float:
        """Sum of minute multipliers over ``[start, start + minutes)`` clipped to the session.

        Args:
            start: Session minute index (0 = 09:15; may be outside ``0..374``).
            minutes: Bucket width in minutes (>= 0).

        Returns:
            The multiplier sum (10.0 for ten neutral minutes, 1.8 for 09:15 alone).
        """
        return self.units(start, minutes) / MULT_SCALE

    def units(self, start: int, minutes: int) -> int:
        """Like :meth:`multiplier_sum` in exact integer micro-units."""
        cum = self._cum_py
        lo = 0 if start < 0 else (SESSION_MINUTES if start > SESSION_MINUTES else start)
        end = start + minutes
        hi = 0 if end < 0 else (SESSION_MINUTES if end > SESSION_MINUTES else end)
        return cum[hi] - cum[lo] if hi > lo else 0

    def expected(
        self, minute_base: float | None, start: int, minutes: int, regime: Regime | None = None
    ) -> float | None:
        """Expected volume of a bucket, optionally scaled by a VIX regime (a threshold).

        Args:
            minute_base: Per-minute base (:meth:`minute_base`); None/<=0 = unknown.
            start: Session minute index of the bucket start (0 = 09:15).
            minutes: Bucket width (1, 5, 10, 15, 30, 60 or any positive width).
            regime: VIX regime to scale by; None = no VIX adjustment (1.0).

        Returns:
            ``base * sum(multipliers) * vix``, 0.0 for a bucket wholly outside the
            session, None when the base is unknown.
        """
        if minute_base is None or not math.isfinite(minute_base) or minute_base <= 0:
            return None
        value = minute_base * (self.units(start, minutes) / MULT_SCALE)
        if regime is not None:
            value *= self.params.vix.multiplier(regime)
        return value

    def expected_at(
        self,
        avg_daily_volume: float | None,
        bucket_start_ns: int,
        minutes: int,
        regime: Regime | None = None,
    ) -> float | None:
        """Expected volume of the bucket starting at an event time.

        Args:
            avg_daily_volume: The symbol's ``avg_volume_20d``.
            bucket_start_ns: Bucket start in epoch ns (``timeutil.bucket_start_ns``).
            minutes: Bucket width in minutes.
            regime: VIX regime, or None for no VIX adjustment.

        Returns:
            As :meth:`expected`.
        """
        return self.expected(
            self.minute_base(avg_daily_volume), session_minute(bucket_start_ns), minutes, regime
        )

    def expected_many(
        self, minute_base: npt.ArrayLike, starts: npt.ArrayLike, minutes: int
    ) -> npt.NDArray[np.float64]:
        """Vectorised :meth:`expected` without VIX: NaN where the base is unknown.

        Args:
            minute_base: Per-minute bases (scalar or array).
            starts: Session minute indices of bucket starts.
            minutes: Bucket width.

        Returns:
            Expected volumes, float64.
        """
        s = np.asarray(starts, dtype=np.int64)
        lo = np.clip(s, 0, SESSION_MINUTES)
        hi = np.clip(s + minutes, 0, SESSION_MINUTES)
        units = np.where(hi > lo, self._cum_np[hi] - self._cum_np[lo], 0)
        base = np.asarray(minute_base, dtype=np.float64)
        base = np.where(np.isfinite(base) & (base > 0), base, np.nan)
        return base * (units / MULT_SCALE)

    # -- ratio ------------------------------------------------------------------------

    def ratio(
        self,
        observed: float,
        avg_daily_volume: float | None,
        start: int,
        minutes: int,
        regime: Regime | None = None,
    ) -> VolumeRatio:
        """Volume ratio of a bucket: observed / expected (VIX-adjusted), capped.

        Args:
            observed: The bucket's incremental volume so far.
            avg_daily_volume: The symbol's ``avg_volume_20d``.
            start: Session minute index of the bucket start.
            minutes: Bucket width.
            regime: VIX regime, or None for no VIX adjustment.

        Returns:
            The :class:`VolumeRatio` (``ratio`` None with a reason when undefined).
        """
        base = self.minute_base(avg_daily_volume)
        if base is None:
            return volume_ratio(observed, None, self.params.ratio_cap)
        expected = self.expected(base, start, minutes, regime)
        return volume_ratio(
            observed, expected, self.params.ratio_cap, reason=REASON_OUTSIDE_SESSION
        )

    def with_params(self, **changes: Any) -> VolumeBaseline:
        """A new baseline with some params replaced (convenience for tests/backtests)."""
        return VolumeBaseline(replace(self.params, **changes))


@dataclass(frozen=True, slots=True)
class RegimeChange:
    """Event: the VIX regime changed.

    Attributes:
        previous: Regime before (None on the first classification).
        current: Regime now.
        vix: The VIX value that caused the change.
        event_ns: Event time of that VIX tick (epoch ns).
        multiplier: Threshold multiplier of ``current``.
    """

    previous: Regime | None
    current: Regime
    vix: float
    event_ns: int
    multiplier: float


@dataclass(slots=True)
class VixRegime:
    """Current INDIA VIX regime, updated from VIX ticks in event-time order.

    Attributes:
        regime: Current regime, None before the first valid tick.
        last_vix: Last accepted VIX value (NaN before any).
        last_ns: Event time of the last accepted tick (-1 before any).
        rejected: Ticks ignored (non-finite or non-positive value, or older than the
            last accepted one).
    """

    regime: Regime | None = None
    last_vix: float = float("nan")
    last_ns: int = -1
    rejected: int = 0

    NAME: ClassVar[str] = "vix"
    VERSION: ClassVar[int] = 1

    def encode(self) -> list[Any]:
        """The state component payload (``state_codec``), version 1.

        Returns:
            ``[regime, last_vix, last_ns, rejected]``; regime and last VIX None before
            the first accepted tick (JSON has no NaN).
        """
        return [self.regime.value if self.regime else None,
                self.last_vix if self.last_ns >= 0 else None, self.last_ns, self.rejected]

    @classmethod
    def decode(cls, payload: Any, version: int, config: AnalyticsConfig) -> VixRegime:
        """Inverse of :meth:`encode`.

        Args:
            payload: An :meth:`encode` payload.
            version: Its version (1, the only one so far).
            config: Unused (the layout does not depend on configuration).

        Returns:
            The regime state.
        """
        regime, last, last_ns, rejected = payload
        out = cls(Regime(regime) if regime else None, last_ns=int(last_ns),
                  rejected=int(rejected))
        # Absent: keep the class default, the very NaN object a fresh state holds, so a
        # restored state compares equal to it (NaN == NaN only by identity).
        if last is not None:
            out.last_vix = float(last)
        return out

    def multiplier(self, params: VixParams) -> float:
        """Threshold multiplier of the current regime (1.0 while unknown)."""
        return params.multiplier(self.regime)

    def update(self, vix: float, event_ns: int, params: VixParams) -> RegimeChange | None:
        """Apply one VIX tick.

        An out-of-order tick (event time before the last accepted one) is ignored:
        applying it would let a late packet flip the regime back. With
        ``params.hysteresis = h`` the regime moves up only when ``vix - h`` classifies
        higher (``vix >= boundary + h``), and down only when ``vix + h`` classifies
        lower (``vix < boundary - h``).

        Args:
            vix: INDIA VIX last price.
            event_ns: Event time of the tick (epoch ns).
            params: Thresholds and multipliers.

        Returns:
            A :class:`RegimeChange` when the regime changed (including the first
            classification), else None.
        """
        if not (math.isfinite(vix) and vix > 0) or event_ns < self.last_ns:
            self.rejected += 1
            return None
        self.last_vix = float(vix)
        self.last_ns = int(event_ns)
        previous = self.regime
        if previous is None:
            new = params.classify(vix)
        else:
            h = params.hysteresis
            up = params.classify(vix - h)
            down = params.classify(vix + h)
            if _REGIME_RANK[up] > _REGIME_RANK[previous]:
                new = up
            elif _REGIME_RANK[down] < _REGIME_RANK[previous]:
                new = down
            else:
                new = previous
        if new is previous:
            return None
        self.regime = new
        return RegimeChange(previous, new, float(vix), int(event_ns), params.multiplier(new))
