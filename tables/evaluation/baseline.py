"""The random-entry baseline: what a pattern's hit rates would be by chance.

For one pattern on one session, from its ``n`` alerts (the *templates*), draw
``per_alert * n`` random entries with ``numpy.random.default_rng(seed)``. Entry ``j``
takes three independent uniform draws ``i, k, m`` from ``0..n-1``:

* **instrument** of template ``i``, with its target and stop distances as fractions
  of its quoted price (``|target - price| / price``, ``|price - stop| / price``), its
  quantity and cost class: the instruments, their volatility-scaled levels and costs
  are the pattern's own;
* **time of day** of template ``k``: the entry's event time is ``t_k`` itself (same
  session), so the time-of-day distribution is the alerts' exactly;
* **direction** of template ``m``: the direction mix is the alerts'.

Because the three are drawn independently the entry is random with respect to the
pattern's condition (instrument ``i`` at time ``t_k`` is a pattern alert only by
coincidence), while each marginal is the pattern's. The entry's levels are set about its
reference price ``P``, the instrument's last tick at or before ``t_k``:
``target = P * (1 + d * target_frac)``, ``stop = P * (1 - d * stop_frac)``; a neutral
direction has no levels. An entry whose instrument has no tick at or before ``t_k`` is
dropped (``BaselineRun.dropped``).

The entries are then validated by :mod:`aion.tables.validation.forward` itself (entry at
the first tick after ``t_k``, the same windows, success rule and cost model), fed the
instrument's ticks in feed order, so the baseline's figures and the pattern's are the
same measurement of different entries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from aion.tables.validation import forward
from aion.tables.validation.costs import InstrumentClass


@dataclass(frozen=True, slots=True)
class BaselineConfig:
    """Random-entry baseline parameters.

    Attributes:
        per_alert: Random entries per pattern alert (>= 1).
        seed: Random seed.
    """

    per_alert: int = 5
    seed: int = 13

    def __post_init__(self) -> None:
        if self.per_alert < 1:
            raise ValueError(f"per_alert must be >= 1, got {self.per_alert}")


@dataclass(frozen=True, slots=True)
class Template:
    """What the baseline takes from one pattern alert.

    Attributes:
        token: Instrument token.
        event_ms: When the alert was known, epoch ms.
        direction: +1, -1 or 0.
        price: Its quoted price (the bar's close).
        target: Target price (None: none).
        stop: Stop price (None: none).
        quantity: Units for the cost model.
        instrument_class: Cost class.
    """

    token: int
    event_ms: int
    direction: int
    price: float
    target: float | None = None
    stop: float | None = None
    quantity: int = 1
    instrument_class: InstrumentClass = InstrumentClass.EQUITY

    @property
    def target_frac(self) -> float | None:
        """``|target - price| / price``, None without a target."""
        return None if self.target is None else abs(self.target - self.price) / self.price

    @property
    def stop_frac(self) -> float | None:
        """``|price - stop| / price``, None without a stop."""
        return None if self.stop is None else abs(self.price - self.stop) / self.price


@dataclass(frozen=True, slots=True)
class Draw:
    """One random entry before it is priced.

    Attributes:
        instrument: The template lending instrument, levels and costs.
        event_ms: Entry decision time (a template's time).
        direction: A template's direction.
    """

    instrument: Template
    event_ms: int
    direction: int


@dataclass(frozen=True, slots=True)
class TickSeries:
    """One instrument's ticks in feed order.

    Attributes:
        event_ms: Event times, epoch ms (int64).
        price: Last traded prices (float64).
    """

    event_ms: np.ndarray
    price: np.ndarray


@dataclass(slots=True)
class BaselineRun:
    """The baseline's validated windows.

    Attributes:
        results: Closed windows, per entry in the order drawn.
        entries: Entries validated.
        dropped: Entries dropped (no tick at or before their time).
        unentered: Entries with no tick after them before the close.
    """

    results: list[forward.WindowResult] = field(default_factory=list)
    entries: int = 0
    dropped: int = 0
    unentered: int = 0


def draw_entries(templates: Sequence[Template], config: BaselineConfig = BaselineConfig()
                 ) -> list[Draw]:
    """Draw the random entries of one pattern on one session (module docstring).

    Args:
        templates: The pattern's alerts on the session.
        config: Parameters.

    Returns:
        ``per_alert * len(templates)`` draws (none without templates).
    """
    n = len(templates)
    if n == 0:
        return []
    rng = np.random.default_rng(config.seed)
    idx = rng.integers(0, n, size=(config.per_alert * n, 3)).tolist()
    return [Draw(templates[i], templates[k].event_ms, templates[m].direction)
            for i, k, m in idx]


def run_baseline(draws: Sequence[Draw], ticks: Mapping[int, TickSeries],
                 config: forward.ValidationConfig = forward.DEFAULT_CONFIG,
                 label: str = "baseline") -> BaselineRun:
    """Price the draws and validate them on the ticks with the forward machinery.

    Args:
        draws: From :func:`draw_entries`.
        ticks: Ticks per instrument token (at least the draws' instruments).
        config: Forward-validation parameters (windows and costs).
        label: Pattern name carried to the results (and the alert ids' prefix).

    Returns:
        The validated windows.
    """
    out = BaselineRun()
    for j, d in enumerate(draws):
        series = ticks.get(d.instrument.token)
        if series is None or len(series.event_ms) == 0:
            out.dropped += 1
            continue
        times = series.event_ms
        running = np.maximum.accumulate(times)
        # Ticks before `start` are all at or before the entry time: the pending alert
        # would skip them, so the loop starts at the first later one.
        start = int(np.searchsorted(running, d.event_ms, side="right"))
        if start == 0:
            out.dropped += 1
            continue
        ref = float(series.price[start - 1])
        tf, sf = d.instrument.target_frac, d.instrument.stop_frac
        s = d.direction
        alert = forward.Alert(
            alert_id=f"{label}:{j}", token=d.instrument.token, event_ms=d.event_ms,
            direction=s,
            target=None if s == 0 or tf is None else ref * (1 + s * tf),
            stop=None if s == 0 or sf is None else ref * (1 - s * sf),
            quantity=d.instrument.quantity, instrument_class=d.instrument.instrument_class,
            pattern=label)
        state = forward.PendingValidations()
        forward.open_validation(state, alert, config)
        for t, p in zip(times[start:].tolist(), series.price[start:].tolist(), strict=True):
            out.results.extend(forward.update(state, t, p, config))
            if not state.pending:
                break
        out.results.extend(forward.finish(state, config))
        out.unentered += state.unentered
        out.entries += 1
    return out


class Outcome(Protocol):
    """A closed window: a forward ``WindowResult`` or a ``ValidationRecord``."""

    @property
    def window_min(self) -> int: ...  # noqa: D102

    @property
    def success(self) -> bool | None: ...  # noqa: D102


def window_outcomes(results: Iterable[Outcome]) -> dict[int, list[bool]]:
    """Successes per window length (neutral windows, success None, left out).

    Args:
        results: Objects with ``window_min`` and ``success`` (window results or
            validation records).

    Returns:
        ``{window_min: [success, ...]}``.
    """
    out: dict[int, list[bool]] = {}
    for r in results:
        if r.success is not None:
            out.setdefault(int(r.window_min), []).append(bool(r.success))
    return out
