"""The detector interface: one small class per pattern, fed closed bars, hits out.

A detector is a class with a ``NAME``, a ``CATEGORY``, the instrument classes it applies
to, a frozen ``Params`` dataclass (built from ``config/patterns.yaml``), an optional small
JSON-able state and one method, :meth:`Detector.on_bar`, called once per closed 1-minute
bar with a :class:`BarContext`. It returns a :class:`Hit` or None. Adding a pattern is a
new class in its family's module plus one entry in :mod:`.registry` and one block in
``config/patterns.yaml``.

**When a hit becomes known.** A bar is closed by the first tick of the next minute, so
everything a detector reads is known at the bar's end (``BarContext.end_ms``), and a hit
is timestamped there. The context holds the bar, the features of the bars *before* it
(:mod:`.features`), the indicator values *including* the bar (they update on its close),
the session VWAP at its close and, for detectors that ask (``NEEDS_PROFILE``), the
session volume profile's levels at its close: nothing later. Entries are then taken at the first
price after that moment (:mod:`aion.tables.validation.forward`).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from aion.tables.patterns.features import BarFeatures, BarRow
from aion.tables.profile import ProfileLevels


class Signal(enum.StrEnum):
    """Direction a hit claims."""

    BULLISH = "BULLISH"
    BEARISH = "BEARISH"
    NEUTRAL = "NEUTRAL"


class InstrumentKind(enum.StrEnum):
    """Instrument classes a pattern may apply to (``config/patterns.yaml``'s ``applies_to``)."""

    EQUITY = "equity"
    INDEX = "index"
    FUTURE = "future"
    OPTION = "option"
    CHAIN = "underlying_chain"


class LazyValues:
    """A zero-argument function's result, computed on the first call and kept.

    Args:
        make: The function (e.g. ``IndicatorSet.values``).
    """

    __slots__ = ("_make", "_value")

    def __init__(self, make: Callable[[], dict[str, Any]]) -> None:
        self._make = make
        self._value: dict[str, Any] | None = None

    def __call__(self) -> dict[str, Any]:
        """The values (computed on the first call)."""
        if self._value is None:
            self._value = self._make()
        return self._value


@dataclass(frozen=True, slots=True)
class BarContext:
    """What a detector sees at one bar's close.

    Attributes:
        bar: The bar that just closed.
        features: Features of the bars before it (not updated with ``bar`` yet).
        rel_volume: The bar's volume over its time-of-day expectation (None: warming up).
        values: Gives the indicator values including this bar (``IndicatorSet.values``),
            computed on first use (see :attr:`indicators`).
        vwap: Session VWAP at the bar's close, None without volume.
        kind: The instrument's class.
        minute: Session minute of the bar (0 = 09:15).
        profile: The session volume profile's levels at the bar's close (the ticks that
            arrived before the tick that closed it), given only to instruments with a
            tick size when an enabled detector has ``NEEDS_PROFILE``; None otherwise.
        volume_threshold_multiplier: The VIX regime's multiplier of every relative-volume
            threshold (:mod:`aion.tables.vix_prior`; 1.0 when no regime is known).
    """

    bar: BarRow
    features: BarFeatures
    rel_volume: float | None
    values: LazyValues
    vwap: float | None
    kind: InstrumentKind
    minute: int
    profile: ProfileLevels | None = None
    volume_threshold_multiplier: float = 1.0
    # Figures several detectors derive from the same bar (window volume, moves in σ),
    # computed once per bar. Keyed by (figure, bars).
    memo: dict[tuple[str, int], Any] = field(default_factory=dict, repr=False,
                                              compare=False)

    @property
    def indicators(self) -> dict[str, Any]:
        """Indicator values including this bar (computed once, on first use)."""
        return self.values()

    def volume_threshold(self, min_ratio: float) -> float:
        """A relative-volume threshold scaled by the VIX regime (``expected x multiplier``).

        Args:
            min_ratio: The configured threshold (NORMAL regime).

        Returns:
            ``min_ratio x volume_threshold_multiplier``: higher in HIGH/PANIC VIX (less
            sensitive), lower in LOW VIX.
        """
        return min_ratio * self.volume_threshold_multiplier

    @property
    def end_ms(self) -> int:
        """When the bar (and any hit on it) is known: its end, epoch ms."""
        return self.bar.start_ms + 60_000

    @property
    def prev(self) -> BarRow | None:
        """The bar before this one."""
        return self.features.last

    def change_pct(self, n: int = 1) -> float | None:
        """Close-to-close change over the last ``n`` bars, in percent (None without history).

        Args:
            n: Bars back (the close ``n`` bars before this one is the base).

        Returns:
            ``100 * (close / close_n_back - 1)`` or None.
        """
        back = self.features.ago(n)
        if back is None or back.close <= 0:
            return None
        return 100.0 * (self.bar.close / back.close - 1.0)

    def move_sigmas(self, n: int = 1) -> float | None:
        """The ``n``-bar log move in local sigmas scaled by sqrt(n) (None while warming up)."""
        key = ("move_sigmas", n)
        if key in self.memo:
            return self.memo[key]
        sigma = self.features.sigma
        back = self.features.ago(n)
        z = None if sigma is None or back is None or back.close <= 0 or self.bar.close <= 0 \
            else math.log(self.bar.close / back.close) / (sigma * math.sqrt(n))
        self.memo[key] = z
        return z


@dataclass(frozen=True, slots=True)
class Hit:
    """A pattern found on a bar.

    Attributes:
        signal: Direction claimed.
        confidence: In [0, 1] (``mathematics.bounded_confidence``).
        expected_move: Expected move in percent (1.5 means 1.5 %); 0 to fall back to
            ``price_change``.
        price_change: The move that triggered it, in percent.
        volume_ratio: The bar's relative volume, capped at 10 (0 when unknown).
        details: Pattern-specific figures (JSON-able).
    """

    signal: Signal
    confidence: float
    expected_move: float = 0.0
    price_change: float = 0.0
    volume_ratio: float = 0.0
    details: dict[str, Any] | None = None


@dataclass(frozen=True)
class DetectorParams:
    """Base of detectors' parameters; subclasses add typed fields with defaults."""

    @classmethod
    def from_mapping(cls, data: dict[str, Any] | None) -> DetectorParams:
        """Build from a YAML mapping, refusing unknown keys.

        Args:
            data: The pattern's ``params`` block (None: defaults).

        Returns:
            The parameters.

        Raises:
            ValueError: On an unknown key, a value of the wrong kind (:func:`_typed`) or
                one the class's ``__post_init__`` refuses.
        """
        data = dict(data or {})
        names = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise ValueError(f"unknown parameter(s) {', '.join(unknown)} for {cls.__name__}")
        defaults = cls()
        values = {k: _typed(cls.__name__, k, getattr(defaults, k), v) for k, v in data.items()}
        return cls(**values)


def _typed(owner: str, name: str, default: Any, value: Any) -> Any:
    """A parameter value as its default's type, refusing values of another kind.

    Args:
        owner: The parameters class (for the message).
        name: The parameter.
        default: Its default (gives the type).
        value: The configured value.

    Returns:
        ``value`` converted: a whole number for an ``int`` (``15.0`` gives 15), a finite
        number for a ``float`` (``2`` gives 2.0), a bool for a ``bool``.

    Raises:
        ValueError: For a bool or string where a number is expected, a fraction where a
            count is, a non-finite number, or any other kind.
    """
    kind = type(default)
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind in (int, float):
        ok = (isinstance(value, int | float) and not isinstance(value, bool)
              and math.isfinite(value) and (kind is float or float(value).is_integer()))
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise ValueError(f"bad parameter for {owner}: {name}={value!r} is not "
                         f"{'a whole number' if kind is int else 'a ' + kind.__name__}")
    return kind(value)


def check_count(owner: object, name: str, lo: int, hi: int) -> None:
    """Refuse a bar-count parameter outside ``[lo, hi]`` (for ``Params.__post_init__``).

    Args:
        owner: The parameters object.
        name: The count's attribute name.
        lo: Smallest allowed value.
        hi: Largest allowed value (what the detector can see).

    Raises:
        ValueError: Naming the parameter and its bounds.
    """
    value = getattr(owner, name)
    if not lo <= value <= hi:
        raise ValueError(f"{type(owner).__name__}: {name}={value!r} must be in [{lo}, {hi}]")


class PatternDetector:
    """What every pattern's detector has, whatever it reads.

    Name, category, the instrument classes it applies to, typed parameters and a
    JSON-able state per instrument (or underlying). The registry (:mod:`.registry`) holds
    these; :class:`Detector` (closed bars) and ``chain_base.ChainDetector`` (chain
    snapshots) each add the one method that feeds them.
    """

    NAME: ClassVar[str] = ""
    CATEGORY: ClassVar[str] = ""
    APPLIES_TO: ClassVar[frozenset[InstrumentKind]] = frozenset()
    Params: ClassVar[type[DetectorParams]] = DetectorParams

    def __init__(self, params: DetectorParams | None = None) -> None:
        self.params = params if params is not None else self.Params()

    def new_state(self) -> dict[str, Any]:
        """A fresh state (JSON-able); stateless detectors keep ``{}``."""
        return {}


class Detector(PatternDetector):
    """Base of every bar pattern detector (see the module docstring).

    Subclasses set the class attributes and implement :meth:`on_bar`; a detector with
    state overrides :meth:`new_state` and keeps its state JSON-able. One that reads
    ``BarContext.profile`` sets ``NEEDS_PROFILE`` (the levels are computed per closed bar
    only when an enabled detector asks for them).
    """

    APPLIES_TO: ClassVar[frozenset[InstrumentKind]] = frozenset(
        {InstrumentKind.EQUITY, InstrumentKind.INDEX, InstrumentKind.FUTURE})
    NEEDS_PROFILE: ClassVar[bool] = False

    def on_bar(self, state: dict[str, Any], ctx: BarContext) -> Hit | None:
        """Look at one closed bar.

        Args:
            state: This detector's state for the instrument (changed in place).
            ctx: The bar and what is known at its close.

        Returns:
            A hit, or None.
        """
        raise NotImplementedError
