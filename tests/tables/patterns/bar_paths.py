"""Synthetic 1-minute bar paths for the pattern tests, and independent reference figures.

A path is built from steps ``(return in units of R, relative volume)``: each bar opens at
the previous close and closes ``exp(ret * R)`` away (no wicks), and trades
``rv * BASE_VOLUME * m(t)`` where ``m(t)`` is the volume baseline's time-of-day
multiplier of its minute, so a bar of ``rv`` 1 is exactly as expected. The quiet
background alternates ``+1, -1`` returns, which makes the EWMA of squared returns
exactly ``R**2``: the local sigma of a quiet path is ``R``.

The reference figures (:func:`ref_sigma`, :func:`ref_vol_base`) are written as explicit
weighted sums, not as the recursive updates of ``tables/patterns/features.py``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from aion.config.patterns import load_patterns
from aion.tables.bars import Bar
from aion.tables.patterns.alerts import AlertConfig, AlertSubject, on_bar
from aion.tables.patterns.base import InstrumentKind
from aion.tables.patterns.chain_base import ChainDetector
from aion.tables.patterns.registry import DETECTORS, PatternSet
from aion.tables.patterns.state import PatternState
from aion.tables.records.alert import AlertRecord
from aion.tables.timeutil import SESSION_OPEN_MINUTE, ist_wall_ns, minute_of_day_ist
from aion.tables.volume_baseline import VolumeBaseline

R = 0.001
"""Background 1-minute log return (the local sigma of a quiet path)."""

P0 = 1000.0
"""First price."""

BASE_VOLUME = 1_000_000.0
"""Time-of-day-normalised volume of a bar of relative volume 1."""

NS_PER_MIN = 60_000_000_000
DAY = (2025, 11, 18)
"""A Tuesday, an NSE trading day."""

BASELINE = VolumeBaseline()
TOKEN = 408065
SUBJECT = AlertSubject(TOKEN, "NSE:INFY", "INFY", InstrumentKind.EQUITY, 1)


def quiet(n: int, first: int = 1) -> list[tuple[float, float]]:
    """``n`` quiet steps alternating ``first, -first`` returns at relative volume 1."""
    return [(float(first if i % 2 == 0 else -first), 1.0) for i in range(n)]


def session_start_ns(day: tuple[int, int, int] = DAY) -> int:
    """09:15 IST of a day, epoch ns."""
    return ist_wall_ns(*day, 9, 15)


def multiplier(start_ns: int) -> float:
    """Time-of-day multiplier of a bar's minute (1.0 outside the session)."""
    minute = int(minute_of_day_ist(start_ns)) - SESSION_OPEN_MINUTE
    return BASELINE.multiplier_sum(minute, 1) if 0 <= minute < 375 else 1.0


def bar_at(start_ns: int, open_: float, close: float, rv: float) -> Bar:
    """A wickless bar starting at ``start_ns`` with relative volume ``rv``."""
    volume = round(rv * BASE_VOLUME * multiplier(start_ns))
    return Bar(token=TOKEN, start_ns=start_ns, open=open_, high=max(open_, close),
               low=min(open_, close), close=close, volume=volume, tick_count=1,
               late_ticks=0, vwap=None, first_ts_ns=start_ns, last_ts_ns=start_ns + 1)


def closes_of(steps: Sequence[tuple[float, float]], p0: float = P0) -> list[float]:
    """Closes of a path: the first bar is flat at ``p0``, then ``p0 exp(R cumsum(ret))``."""
    out, s = [p0], 0.0
    for ret, _ in steps[1:]:
        s += ret
        out.append(p0 * math.exp(R * s))
    return out


def path(steps: Sequence[tuple[float, float]], start_ns: int | None = None,
         p0: float = P0) -> list[Bar]:
    """Consecutive 1-minute bars from steps (the first step's return is ignored: flat bar).

    Args:
        steps: ``(return in R, relative volume)`` per bar.
        start_ns: First bar's start (09:15 IST of :data:`DAY` by default).
        p0: First price.

    Returns:
        The bars.
    """
    t0 = session_start_ns() if start_ns is None else start_ns
    closes = closes_of(steps, p0)
    opens = [p0, *closes[:-1]]
    return [bar_at(t0 + i * NS_PER_MIN, o, c, rv)
            for i, (o, c, (_, rv)) in enumerate(zip(opens, closes, steps, strict=True))]


def path_from_closes(closes: Sequence[float], rvs: Sequence[float],
                     start_ns: int | None = None) -> list[Bar]:
    """Consecutive wickless bars from explicit closes (each opens at the previous close)."""
    t0 = session_start_ns() if start_ns is None else start_ns
    opens = [closes[0], *closes[:-1]]
    return [bar_at(t0 + i * NS_PER_MIN, o, c, rv)
            for i, (o, c, rv) in enumerate(zip(opens, closes, rvs, strict=True))]


def ref_sigma(closes: Sequence[float]) -> float | None:
    """Reference local sigma after ``closes``: the EWMA (span 30) of squared log returns.

    Written as the explicit sum ``(1-a)^(n-1) r_1^2 + sum_k a (1-a)^(n-k) r_k^2`` (the first
    squared return seeds it); None before 10 returns.
    """
    r = [math.log(b / a) for a, b in itertools.pairwise(closes)]
    n = len(r)
    if n < 10:
        return None
    a = 2.0 / 31.0
    var = (1 - a) ** (n - 1) * r[0] ** 2 + sum(
        a * (1 - a) ** (n - 1 - k) * r[k] ** 2 for k in range(1, n))
    return math.sqrt(var) if var > 0 else None


def ref_vol_base(norm_volumes: Sequence[float]) -> float:
    """Reference EWMA (span 20) of normalised volumes, seeded with the first, as a sum."""
    n = len(norm_volumes)
    a = 2.0 / 21.0
    return (1 - a) ** (n - 1) * norm_volumes[0] + sum(
        a * (1 - a) ** (n - 1 - k) * norm_volumes[k] for k in range(1, n))


def only(name: str, cooldown_s: float = 0.0) -> PatternSet:
    """The configured pattern set with only ``name`` enabled (cooldown overridden)."""
    blocks = {k: dict(v) for k, v in load_patterns().items()}
    for k, block in blocks.items():
        block["enabled"] = k == name
    blocks[name]["cooldown_s"] = cooldown_s
    return PatternSet.from_mapping(blocks)


def feed(bars: Sequence[Bar], config: AlertConfig, state: PatternState | None = None
         ) -> list[tuple[int, AlertRecord]]:
    """Feed bars through ``alerts.on_bar``; the alerts with the index of their bar."""
    st = PatternState() if state is None else state
    out: list[tuple[int, AlertRecord]] = []
    for i, bar in enumerate(bars):
        out.extend((i, a) for a in on_bar(st, SUBJECT, bar, dict, None, config, BASELINE))
    return out


def alerts_of(name: str, bars: Sequence[Bar], cooldown_s: float = 0.0
              ) -> list[tuple[int, AlertRecord]]:
    """Alerts of one pattern alone on a path (cooldown 0 by default: every hit)."""
    return feed(bars, AlertConfig(patterns=only(name, cooldown_s)))


def all_enabled(cooldown_s: float | None = 0.0) -> AlertConfig:
    """Every bar pattern enabled for equities (cooldown overridden unless None).

    Chain patterns keep their ``underlying_chain``: they read chain snapshots, not bars.
    """
    blocks = {k: dict(v) for k, v in load_patterns().items()}
    chain = {d.NAME for d in DETECTORS if issubclass(d, ChainDetector)}
    for name, block in blocks.items():
        block["enabled"] = True
        if name not in chain:
            block["applies_to"] = ["equity"]
        if cooldown_s is not None:
            block["cooldown_s"] = cooldown_s
    return AlertConfig(patterns=PatternSet.from_mapping(blocks))


def wild_steps(seed: int, n: int) -> list[tuple[float, float]]:
    """Random returns (up to +/-6 R) and volumes (0.1x to 12x): every detector has a chance."""
    rng = np.random.default_rng(seed)
    rets = rng.choice([-6, -3, -1.5, -1, -0.5, 0.5, 1, 1.5, 3, 6], size=n)
    vols = rng.choice([0.1, 0.5, 1.0, 1.0, 2.0, 3.0, 5.0, 12.0], size=n)
    return [(float(r), float(v)) for r, v in zip(rets, vols, strict=True)]
