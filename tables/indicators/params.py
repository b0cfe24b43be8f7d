"""Parameters of the indicator set, with defaults and a strict builder from a plain mapping.

The YAML section ``indicators:`` maps one to one onto :meth:`IndicatorParams.from_mapping`;
a single-period indicator accepts either ``{period: n}`` or just ``n``. Unknown keys,
wrong types and out-of-range values raise :class:`ValueError` (a typo in config must
not silently fall back to a default).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class MacdParams:
    """MACD periods (TA-Lib swaps fast and slow if fast > slow; so do we)."""

    fast: int = 12
    slow: int = 26
    signal: int = 9


@dataclass(frozen=True)
class StochParams:
    """Slow stochastic windows (SMA smoothing, TA-Lib ``STOCH`` matype 0)."""

    fastk: int = 14
    slowk: int = 3
    slowd: int = 3


@dataclass(frozen=True)
class PsarParams:
    """Parabolic SAR acceleration step/start and cap."""

    acceleration: float = 0.02
    maximum: float = 0.2


@dataclass(frozen=True)
class BollingerParams:
    """Bollinger period and standard-deviation multipliers."""

    period: int = 20
    nbdev_up: float = 2.0
    nbdev_dn: float = 2.0


@dataclass(frozen=True)
class KeltnerParams:
    """Keltner middle EMA period, ATR period and ATR multiplier."""

    ema_period: int = 20
    atr_period: int = 10
    multiplier: float = 2.0


@dataclass(frozen=True)
class IndicatorParams:
    """Every parameter of the set; the defaults are the reference's.

    Attributes:
        ema_periods: EMA periods (values ``ema_<n>``); crossover periods are added.
        ema_crossovers: (fast, slow) pairs (values ``ema_cross_<fast>_<slow>``).
        sma_periods: SMA periods (values ``sma_<n>``).
        macd: MACD periods.
        adx: ADX / DI period.
        aroon: Aroon period.
        psar: Parabolic SAR parameters.
        rsi: RSI period.
        stoch: Stochastic windows.
        williams_r: Williams %R window.
        cci: CCI period.
        roc: ROC period.
        bollinger_bands: Bollinger parameters.
        atr: ATR period.
        keltner: Keltner parameters.
        donchian: Donchian window.
        cmf: Chaikin money flow window.
        mfi: Money flow index period.
    """

    ema_periods: tuple[int, ...] = (5, 10, 20, 50, 100, 200)
    ema_crossovers: tuple[tuple[int, int], ...] = ((5, 20), (20, 50))
    sma_periods: tuple[int, ...] = (20,)
    macd: MacdParams = field(default_factory=MacdParams)
    adx: int = 14
    aroon: int = 14
    psar: PsarParams = field(default_factory=PsarParams)
    rsi: int = 14
    stoch: StochParams = field(default_factory=StochParams)
    williams_r: int = 14
    cci: int = 20
    roc: int = 10
    bollinger_bands: BollingerParams = field(default_factory=BollingerParams)
    atr: int = 14
    keltner: KeltnerParams = field(default_factory=KeltnerParams)
    donchian: int = 20
    cmf: int = 20
    mfi: int = 14

    def __post_init__(self) -> None:
        # Canonical form: sorted unique periods, crossover EMAs included, fast < slow.
        pairs = []
        for pair in self.ema_crossovers:
            if len(pair) != 2:
                raise ValueError(f"ema_crossovers: expected (fast, slow) pairs, got {pair!r}")
            a, b = (_period("ema_crossovers", p) for p in pair)
            if a == b:
                raise ValueError(f"ema_crossovers: fast and slow are both {a}")
            pairs.append((min(a, b), max(a, b)))
        emas = {_period("ema_periods", p) for p in self.ema_periods}
        emas.update(p for pair in pairs for p in pair)
        object.__setattr__(self, "ema_periods", tuple(sorted(emas)))
        object.__setattr__(self, "ema_crossovers", tuple(dict.fromkeys(pairs)))
        smas = sorted({_period("sma_periods", p) for p in self.sma_periods})
        object.__setattr__(self, "sma_periods", tuple(smas))
        for name in ("adx", "aroon", "rsi", "williams_r", "cci", "roc", "atr",
                     "donchian", "cmf", "mfi"):
            _period(name, getattr(self, name))
        m = self.macd
        fast, slow = _period("macd.fast", m.fast), _period("macd.slow", m.slow)
        if fast == slow:
            raise ValueError("macd: fast and slow periods must differ")
        object.__setattr__(
            self, "macd",
            MacdParams(min(fast, slow), max(fast, slow), _period("macd.signal", m.signal, 1)),
        )
        s = self.stoch
        _period("stoch.fastk", s.fastk, 1)
        _period("stoch.slowk", s.slowk, 1)
        _period("stoch.slowd", s.slowd, 1)
        _period("bollinger_bands.period", self.bollinger_bands.period)
        _period("keltner.ema_period", self.keltner.ema_period)
        _period("keltner.atr_period", self.keltner.atr_period)
        for label, value in (
            ("psar.acceleration", self.psar.acceleration),
            ("psar.maximum", self.psar.maximum),
        ):
            if not (isinstance(value, int | float) and 0.0 < float(value) <= 1.0):
                raise ValueError(f"{label}: expected a number in (0, 1], got {value!r}")
        for label, value in (
            ("bollinger_bands.nbdev_up", self.bollinger_bands.nbdev_up),
            ("bollinger_bands.nbdev_dn", self.bollinger_bands.nbdev_dn),
            ("keltner.multiplier", self.keltner.multiplier),
        ):
            if not (isinstance(value, int | float) and 0.0 <= float(value) < 1e6):
                raise ValueError(f"{label}: expected a non-negative number, got {value!r}")

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any] | None) -> IndicatorParams:
        """Build params from a plain mapping (the ``indicators:`` YAML section).

        Args:
            mapping: Overrides; missing keys keep their defaults. ``None`` means defaults.

        Returns:
            Validated, canonical params.

        Raises:
            ValueError: On an unknown key, a wrong type or an out-of-range value.
        """
        if mapping is None:
            return cls()
        if not isinstance(mapping, Mapping):
            raise ValueError(f"indicators: expected a mapping, got {type(mapping).__name__}")
        kwargs: dict[str, Any] = {}
        fields = {f.name: f for f in dataclasses.fields(cls)}
        nested = {
            "macd": MacdParams,
            "psar": PsarParams,
            "stoch": StochParams,
            "bollinger_bands": BollingerParams,
            "keltner": KeltnerParams,
        }
        for key, value in mapping.items():
            if key not in fields:
                raise ValueError(f"indicators: unknown key {key!r}")
            if key in nested:
                kwargs[key] = _nested(key, nested[key], value)
            elif key == "ema_crossovers":
                kwargs[key] = tuple(tuple(pair) for pair in _seq(key, value))
            elif key in ("ema_periods", "sma_periods"):
                kwargs[key] = tuple(_seq(key, value))
            elif isinstance(value, Mapping):
                if set(value) != {"period"}:
                    raise ValueError(f"indicators.{key}: expected {{period: n}}, got {value!r}")
                kwargs[key] = value["period"]
            else:
                kwargs[key] = value
        return cls(**kwargs)

    def to_mapping(self) -> dict[str, Any]:
        """The params as a plain mapping that :meth:`from_mapping` reads back.

        Returns:
            A JSON/YAML-friendly dict.
        """
        out = dataclasses.asdict(self)
        out["ema_periods"] = list(self.ema_periods)
        out["sma_periods"] = list(self.sma_periods)
        out["ema_crossovers"] = [list(p) for p in self.ema_crossovers]
        return out


def _period(label: str, value: Any, minimum: int = 2) -> int:
    # bool is an int subclass; a YAML "yes" must not become period 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{label}: expected an integer period, got {value!r}")
    if not minimum <= value <= 100_000:
        raise ValueError(f"{label}: period {value} outside [{minimum}, 100000]")
    return value


def _seq(label: str, value: Any) -> list[Any]:
    if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
        raise ValueError(f"indicators.{label}: expected a list, got {value!r}")
    return list(value)


def _nested(label: str, kind: type, value: Any) -> Any:
    if not isinstance(value, Mapping):
        raise ValueError(f"indicators.{label}: expected a mapping, got {value!r}")
    names = {f.name for f in dataclasses.fields(kind)}
    unknown = set(value) - names
    if unknown:
        raise ValueError(f"indicators.{label}: unknown keys {sorted(unknown)}")
    return kind(**value)
