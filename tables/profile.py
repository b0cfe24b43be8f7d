"""Per-instrument, per-session volume profile (reference VolumeProfileManager), incremental.

The caller feeds each accepted tick's price and *incremental* volume (computed upstream by
``volume.volume_step``) with its event time and IST trading date. The state keeps a
histogram of volume per price row and the Point of Control; everything else (value area,
nodes, strength, events) is computed on demand when the profile is evaluated, which the
caller does when :meth:`VolumeProfile.due` says so (every 100 ticks or 1 minute of event
time).

Definitions (all in integer row units, so the results are exact and reproducible):

* **Row**: one price level at the instrument's tick size. A price maps to the row index
  ``round(price / tick_size)`` (nearest, ties to even): rounding rather than truncating
  is what makes ``100.05 / 0.05 = 2000.9999999999998`` land on row 2001. The profile's
  **range** is every row from the lowest to the highest row that holds volume, zero rows
  (price levels jumped over) included, as on a price ladder.
* **Zero-volume ticks** (LTP packets, ticks with no new volume) move the last price and
  count towards the publish cadence, but add no row and do not widen the range.
* **POC**: the row with the most volume. Among equal rows: the one nearest the middle of
  the range ``(low + high) / 2``; if two are equally near, the lower price. (The CBOT
  Market Profile convention.) Rows only ever grow, so the set of rows tied at the
  maximum is kept incrementally: a row that exceeds the maximum becomes the only
  candidate, a row that reaches it joins the candidates. O(1) amortised per tick.
* **Value area** (``value_area_pct`` of the session volume, 70 %): start at the POC and
  repeatedly compare the next two rows above with the next two rows below (CBOT rule),
  adding the pair with more volume, until the area holds at least
  ``ceil(value_area_pct * total)`` (exact rational arithmetic on the configured decimal).
  Near an edge a side's "pair" is the one row left; a side with no rows left loses to
  the other. Equal pairs on both sides are both added (no directional bias). A pair is
  added whole, so the area may hold a little more than the target, as in the textbook.
* **Nodes**: with ``mean = total / rows in range`` and radius ``r = node_radius``,
  a row is a *high-volume node* (HVN) if its volume is ``>= hvn_factor * mean`` and it is
  the peak of the ``2r + 1`` rows around it (strictly above the rows on its left, at least
  the rows on its right, so a flat top counts once, at its lowest row). A *low-volume
  node* (LVN) is a row strictly inside the range with volume ``<= lvn_factor * mean`` that
  is the trough of its neighbourhood by the mirrored rule (a gap of zero rows reports its
  lowest row). **Support** levels are HVNs below the last price, **resistance** levels
  HVNs above it, each nearest first and capped at ``max_levels``. The reported HVN/LVN
  lists keep the ``max_nodes`` nearest the last price, sorted by price.
* **Strength** in [0, 1]: the normalised Gini coefficient of the row volumes over the
  ``n`` rows of the range, ``sum_ij |v_i - v_j| / (2 (n - 1) total)`` (1.0 for a
  one-row profile). It is the standard concentration index (the area between the Lorenz
  curve and the diagonal): 0 when every row of the range holds the same volume, 1 when
  all volume sits on one price. A random-walk session reads about 0.4, a tight bell over
  a wide range about 0.85. Zero rows inside the range (price jumped over) count as rows
  that hold nothing, which raises the concentration, as they should.
* **Events** (compared with the profile as last published, never within the first
  publish of a session): ``poc_shift`` when the POC moved by ``>= poc_shift_ticks`` rows
  or by ``>= poc_shift_ratio`` of its previous price (either, each disabled by 0);
  ``value_area_expansion`` / ``value_area_contraction`` when the value-area width in rows
  grew to ``>= (1 + va_change_ratio)`` or shrank to ``<= (1 - va_change_ratio)`` times
  its previous width.
* **Cadence**: :meth:`VolumeProfile.due` is true once a tick arrived since the last
  publish and either ``publish_every_ticks`` ticks arrived or ``publish_interval_s`` of
  event time passed since the last publish; before the session's first publish it is
  true as soon as a tick arrived, so a new session shows up at once.
* **Session**: the trading date is the caller's IST epoch-day (``timeutil.ist_day``). A
  tick of a later date resets the profile; a tick of an earlier date is rejected.

Nothing here does I/O or reads a clock; ``cache=True`` only stores numba's compiled code.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from fractions import Fraction
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit

from aion.tables.timeutil import NS_PER_S, day_to_iso, iso_ist

FORMAT_MAGIC = b"VPF1"
"""Leading bytes of :meth:`VolumeProfile.to_bytes` (format version 1)."""

SMALL_BATCH = 64
"""Batches up to this many ticks go through the scalar path (numpy set-up costs more)."""

POC_SHIFT = "poc_shift"
VA_EXPANSION = "value_area_expansion"
VA_CONTRACTION = "value_area_contraction"


@lru_cache(maxsize=256)
def _ratio(x: float) -> Fraction:
    """The decimal a float was written as, exactly (0.7 -> 7/10, not 0.6999...).

    Args:
        x: A non-negative float from configuration.

    Returns:
        The exact fraction of its shortest decimal representation.
    """
    return Fraction(repr(float(x)))


@dataclass(frozen=True, slots=True)
class ProfileParams:
    """Configuration of the volume profile (YAML section ``volume_profile``).

    Attributes:
        value_area_pct: Share of the session volume the value area holds (0 < x <= 1).
        publish_every_ticks: Publish after this many ticks since the last publish.
        publish_interval_s: ... or after this much event time since the last publish.
        node_radius: Rows on each side a node must dominate (HVN) or undercut (LVN).
        hvn_factor: An HVN holds at least this multiple of the mean row volume.
        lvn_factor: An LVN holds at most this multiple of the mean row volume.
        max_levels: Support and resistance levels reported on each side.
        max_nodes: HVNs and LVNs reported (each), nearest the last price.
        poc_shift_ticks: A POC move of at least this many rows is an event (0: off).
        poc_shift_ratio: A POC move of at least this fraction of its price is an event
            (0: off).
        va_change_ratio: Relative change of the value-area width that is an event (0: off).
        max_rows: Widest range kept; a volume tick that would widen the range beyond it
            is rejected (a bad print far away must not allocate gigabytes).
    """

    value_area_pct: float = 0.70
    publish_every_ticks: int = 100
    publish_interval_s: float = 60.0
    node_radius: int = 3
    hvn_factor: float = 1.5
    lvn_factor: float = 0.5
    max_levels: int = 5
    max_nodes: int = 10
    poc_shift_ticks: int = 0
    poc_shift_ratio: float = 0.001
    va_change_ratio: float = 0.20
    max_rows: int = 1_000_000

    def __post_init__(self) -> None:
        if not 0.0 < self.value_area_pct <= 1.0:
            raise ValueError(f"value_area_pct must be in (0, 1], got {self.value_area_pct}")
        if self.publish_every_ticks < 1 or self.publish_interval_s <= 0:
            raise ValueError("publish_every_ticks and publish_interval_s must be positive")
        if self.node_radius < 1 or self.max_rows < 1:
            raise ValueError("node_radius and max_rows must be at least 1")
        if min(self.hvn_factor, self.lvn_factor, self.poc_shift_ratio,
               self.va_change_ratio, self.poc_shift_ticks, self.max_levels,
               self.max_nodes) < 0:
            raise ValueError("factors, ratios and counts must not be negative")

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any] | None) -> ProfileParams:
        """Build from a YAML ``volume_profile`` mapping; missing keys keep defaults.

        Args:
            section: The mapping (or None for all defaults).

        Returns:
            The parameters.

        Raises:
            ValueError: On an unknown key or an out-of-range value.
        """
        section = dict(section or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(section) - known)
        if unknown:
            raise ValueError(f"unknown volume_profile keys: {unknown}")
        return cls(**section)

    @property
    def publish_interval_ns(self) -> int:
        """The publish interval in nanoseconds."""
        return round(self.publish_interval_s * NS_PER_S)


@lru_cache(maxsize=256)
def tick_decimals(tick_size: float) -> int:
    """Decimals needed to print prices on a tick grid (0.05 -> 2, 0.0025 -> 4, 1 -> 0).

    Args:
        tick_size: The positive tick size.

    Returns:
        The smallest number of decimals (at most 10) that writes the tick exactly.
    """
    for d in range(11):
        scaled = tick_size * 10**d
        if abs(scaled - round(scaled)) < 1e-6:
            return d
    return 10


def row_index(price: float, tick_size: float) -> int:
    """Row of a price: the nearest multiple of the tick (ties to even).

    Args:
        price: A finite price.
        tick_size: The tick size.

    Returns:
        ``round(price / tick_size)`` as a Python int.
    """
    return round(price / tick_size)


@njit(cache=True, nogil=True)
def _value_area(v: npt.NDArray[np.int64], p: int, target: int) -> tuple[int, int, int]:
    """CBOT two-row value area over a dense row array (see the module docstring).

    Args:
        v: Volumes of the range's rows, lowest price first.
        p: Index of the POC in ``v``.
        target: Volume the area must reach (``ceil(pct * total)``).

    Returns:
        ``(low, high, volume)``: inclusive bounds in ``v`` and the volume inside them.
    """
    n = v.shape[0]
    a = p
    b = p
    acc = v[p]
    while acc < target:
        has_up = b + 1 < n
        has_dn = a > 0
        if not has_up and not has_dn:
            break
        up = 0
        nu = 0
        if has_up:
            up = v[b + 1]
            nu = 1
            if b + 2 < n:
                up += v[b + 2]
                nu = 2
        dn = 0
        nd = 0
        if has_dn:
            dn = v[a - 1]
            nd = 1
            if a >= 2:
                dn += v[a - 2]
                nd = 2
        if has_up and (not has_dn or up > dn):
            b += nu
            acc += up
        elif has_dn and (not has_up or dn > up):
            a -= nd
            acc += dn
        else:  # equal pairs on both sides: take both, favouring neither direction
            b += nu
            a -= nd
            acc += up + dn
    return a, b, acc


@njit(cache=True, nogil=True)
def _peaks(v: npt.NDArray[np.int64], radius: int, sign: int) -> npt.NDArray[np.int64]:
    """Rows that are the peak (sign 1) or trough (sign -1) of their neighbourhood.

    A row qualifies when it is strictly beyond every row within ``radius`` on its left
    and at least level with every row within ``radius`` on its right (rows outside the
    range do not count), so a flat top or bottom reports its lowest row only.

    Args:
        v: Row volumes, lowest price first.
        radius: Neighbourhood half-width in rows.
        sign: 1 for maxima, -1 for minima.

    Returns:
        Indices into ``v``, ascending.
    """
    n = v.shape[0]
    out = np.empty(n, dtype=np.int64)
    k = 0
    for i in range(n):
        x = sign * v[i]
        ok = True
        for j in range(max(0, i - radius), i):
            if sign * v[j] >= x:
                ok = False
                break
        if ok:
            for j in range(i + 1, min(n, i + radius + 1)):
                if sign * v[j] > x:
                    ok = False
                    break
        if ok:
            out[k] = i
            k += 1
    return out[:k]


def _price_str(row: int, decimals: int, tick_units: int) -> str:
    """A row's price printed with ``decimals`` decimals (``ProfileSnapshot.price_str``).

    Args:
        row: Absolute row index.
        decimals: Decimals of the tick grid.
        tick_units: The tick in units of ``10 ** -decimals``.

    Returns:
        The price string.
    """
    # Integer arithmetic: exact, and cheaper than formatting a float product.
    units = row * tick_units
    if decimals == 0:
        return str(units)
    sign = "-" if units < 0 else ""
    q, r = divmod(abs(units), 10**decimals)
    return f"{sign}{q}.{r:0{decimals}d}"


@dataclass(frozen=True, slots=True)
class ProfileLevels:
    """The levels pattern detectors read from a profile at one moment (a bar's close).

    The cheap part of :meth:`VolumeProfile.evaluate` (no strength, events or copies),
    with prices as floats on the tick grid (:meth:`ProfileSnapshot.price`).

    Attributes:
        day: IST epoch-day of the session.
        tick_size: The instrument's tick size.
        poc: Point of Control price.
        vah: Value-area high price.
        val: Value-area low price.
        hvn: Every high-volume-node price, ascending (the POC's row is usually one).
        lvn: Every low-volume-node price, ascending.
        total_volume: Session volume the profile holds.
    """

    day: int
    tick_size: float
    poc: float
    vah: float
    val: float
    hvn: tuple[float, ...]
    lvn: tuple[float, ...]
    total_volume: int


@dataclass(frozen=True, slots=True)
class ProfileSnapshot:
    """The profile as evaluated at one moment (read-only; prices via the tick size).

    Row indices are absolute (``price = index * tick_size``). ``volumes`` covers the
    range ``low .. high``.

    Attributes:
        day: IST epoch-day of the session.
        tick_size: The instrument's tick size.
        decimals: Decimals of a price on the tick grid.
        tick_units: The tick in units of ``10 ** -decimals`` (0.05 -> 5).
        low: Lowest row with volume.
        high: Highest row with volume.
        volumes: Volume per row of the range (a copy).
        total_volume: Session volume.
        traded_rows: Rows holding volume.
        poc: POC row.
        poc_volume: Volume on the POC row.
        va_low: Lowest row of the value area.
        va_high: Highest row of the value area.
        va_volume: Volume inside the value area.
        strength: Volume concentration in [0, 1].
        hvn: High-volume-node rows (ascending price).
        lvn: Low-volume-node rows (ascending price).
        support: HVN rows below the last price, nearest first.
        resistance: HVN rows above the last price, nearest first.
        last_price: Price of the last applied tick.
        last_ts_ns: Event time of the last applied tick, epoch ns.
        ticks: Ticks applied this session.
        events: Event records (JSON-able dicts) relative to the last publish.
    """

    day: int
    tick_size: float
    decimals: int
    tick_units: int
    low: int
    high: int
    volumes: npt.NDArray[np.int64] = field(repr=False)
    total_volume: int
    traded_rows: int
    poc: int
    poc_volume: int
    va_low: int
    va_high: int
    va_volume: int
    strength: float
    hvn: tuple[int, ...]
    lvn: tuple[int, ...]
    support: tuple[int, ...]
    resistance: tuple[int, ...]
    last_price: float
    last_ts_ns: int
    ticks: int
    events: tuple[dict[str, Any], ...] = ()

    @property
    def rows(self) -> int:
        """Rows in the range, zero rows included."""
        return self.high - self.low + 1

    def price_str(self, row: int) -> str:
        """A row's price printed on the tick grid, e.g. ``"19500.05"``.

        Args:
            row: Absolute row index.

        Returns:
            The price string with exactly the tick's decimals.
        """
        return _price_str(row, self.decimals, self.tick_units)

    def price(self, row: int) -> float:
        """A row's price as the float nearest its decimal (``2001 * 0.05 -> 100.05``).

        Args:
            row: Absolute row index.

        Returns:
            The price.
        """
        return float(self.price_str(row))


class VolumeProfile:
    """Incremental volume profile of one instrument for one trading session.

    Volumes live in a dense ``int64`` array over the row range with headroom on both
    sides (amortised O(1) growth), so a tick is an index computation and one add, a
    batch is a ``np.add.at``, and serialisation is one slice.
    """

    __slots__ = (
        "_arr",
        "_base",
        "_prev",
        "_pub_ns",
        "_pub_ticks",
        "day",
        "hi",
        "last_price",
        "last_ts_ns",
        "lo",
        "params",
        "poc_volume",
        "rejected",
        "tick_size",
        "ticks",
        "ties",
        "total",
    )

    def __init__(self, tick_size: float, params: ProfileParams | None = None) -> None:
        """Create an empty profile.

        Args:
            tick_size: The instrument's tick size (> 0; indices, whose master tick size
                is 0, carry no volume and need no profile).
            params: Configuration (defaults if None).

        Raises:
            ValueError: If the tick size is not a positive finite number.
        """
        if not (tick_size > 0.0 and math.isfinite(tick_size)):
            raise ValueError(f"tick_size must be positive, got {tick_size!r}")
        self.tick_size = float(tick_size)
        self.params = params or ProfileParams()
        self.day = -1
        self.rejected = 0
        self._reset(-1)

    # ------------------------------------------------------------------ state
    def _reset(self, day: int) -> None:
        """Start an empty session for ``day`` (the rejected counter is lifetime)."""
        self.day = day
        self._arr = np.zeros(0, dtype=np.int64)
        self._base = 0
        self.lo = 0
        self.hi = -1  # lo > hi: no row holds volume
        self.total = 0
        self.poc_volume = 0
        self.ties: list[int] = []
        self.ticks = 0
        self.last_price = 0.0
        self.last_ts_ns = 0
        self._pub_ns = -1  # never published this session
        self._pub_ticks = 0
        self._prev: tuple[int, int, int] | None = None  # (poc, va_low, va_high) published

    @property
    def empty(self) -> bool:
        """Whether no row holds volume."""
        return self.hi < self.lo

    def _fits(self, lo: int, hi: int) -> bool:
        """Whether widening the range to ``[lo, hi]`` respects ``max_rows``."""
        if not self.empty:
            lo = min(lo, self.lo)
            hi = max(hi, self.hi)
        return hi - lo + 1 <= self.params.max_rows

    def _cover(self, lo: int, hi: int) -> None:
        """Make the array cover rows ``[lo, hi]``, with headroom so growth is amortised."""
        arr = self._arr
        if arr.shape[0] and self._base <= lo and hi < self._base + arr.shape[0]:
            return
        if not self.empty:
            lo = min(lo, self.lo)
            hi = max(hi, self.hi)
        # Headroom of half the range (at least 64 rows) on each side: doubling keeps
        # the copy cost per tick constant however the price wanders.
        pad = max(64, (hi - lo + 1) // 2)
        base = lo - pad
        new = np.zeros(hi - lo + 1 + 2 * pad, dtype=np.int64)
        if not self.empty:
            s = self.lo - self._base
            new[self.lo - base : self.hi - base + 1] = arr[s : s + self.hi - self.lo + 1]
        self._arr = new
        self._base = base

    # ------------------------------------------------------------------ updates
    def update(self, price: float, volume: int, t_ns: int, day: int) -> bool:
        """Apply one tick.

        Args:
            price: Traded (last) price.
            volume: Incremental volume of the tick (>= 0, from ``volume.volume_step``).
            t_ns: Event time, epoch nanoseconds.
            day: IST epoch-day of the event time (``timeutil.ist_day``).

        Returns:
            True if applied; False if rejected (earlier trading date, price not positive
            and finite, negative volume, or a range wider than ``max_rows``), in which
            case only the ``rejected`` counter changed.
        """
        # Validate before any reset: a bad tick of a new date must not wipe the session.
        if not (0.0 < price < math.inf) or volume < 0 or day < self.day:
            self.rejected += 1
            return False
        if day != self.day:
            self._reset(day)
        if volume:
            i = round(price / self.tick_size)
            lo, hi = self.lo, self.hi
            if i < lo or i > hi:  # widens the range (always true for the first row)
                if hi < lo:
                    lo = hi = i
                else:
                    lo, hi = min(lo, i), max(hi, i)
                    if hi - lo >= self.params.max_rows:
                        self.rejected += 1
                        return False
                j = i - self._base
                if j < 0 or j >= self._arr.shape[0]:
                    self._cover(lo, hi)
                self.lo, self.hi = lo, hi
            arr = self._arr
            j = i - self._base
            v = int(arr[j]) + volume
            arr[j] = v
            self.total += volume
            # A row only grows: it either overtakes the maximum or joins the tie.
            pv = self.poc_volume
            if v > pv:
                self.poc_volume = v
                self.ties = [i]
            elif v == pv:
                self.ties.append(i)
        self.ticks += 1
        self.last_price = price
        self.last_ts_ns = t_ns
        return True

    def update_many(
        self,
        prices: npt.ArrayLike,
        volumes: npt.ArrayLike,
        t_ns: npt.ArrayLike,
        days: npt.ArrayLike,
    ) -> int:
        """Apply ticks in order; same state as calling :meth:`update` on each.

        Args:
            prices: Prices, one per tick.
            volumes: Incremental volumes (integers).
            t_ns: Event times, epoch ns.
            days: IST epoch-days.

        Returns:
            The number of ticks applied (the rest were rejected).
        """
        p = np.asarray(prices, dtype=np.float64)
        vol = np.asarray(volumes, dtype=np.int64)
        ts = np.asarray(t_ns, dtype=np.int64)
        dd = np.asarray(days, dtype=np.int64)
        n = p.shape[0]
        if n == 0:
            return 0
        d0 = int(dd[0])
        if n <= SMALL_BATCH or d0 < self.day or not (dd == d0).all():
            return self._update_loop(p, vol, ts, dd)
        ok = (p > 0.0) & (p < np.inf) & (vol >= 0)
        if not ok.any():
            self.rejected += n
            return 0
        if d0 != self.day:
            self._reset(d0)
        m = ok & (vol > 0)
        if m.any():
            idx = np.rint(p[m] / self.tick_size).astype(np.int64)
            lo, hi = int(idx.min()), int(idx.max())
            if not self._fits(lo, hi):
                # Which tick breaks the limit depends on order: do it tick by tick.
                return self._update_loop(p, vol, ts, dd)
            self._cover(lo, hi)
            rows, inv = np.unique(idx, return_inverse=True)
            sums = np.zeros(rows.shape[0], dtype=np.int64)
            np.add.at(sums, inv, vol[m])
            j = rows - self._base
            self._arr[j] += sums
            self.total += int(sums.sum())
            if self.empty:
                self.lo, self.hi = lo, hi
            else:
                self.lo, self.hi = min(self.lo, lo), max(self.hi, hi)
            new = self._arr[j]
            top = int(new.max())
            # Touched rows all grew, so none of them was already tied at the maximum.
            if top > self.poc_volume:
                self.poc_volume = top
                self.ties = rows[new == top].tolist()
            elif top == self.poc_volume:
                self.ties.extend(rows[new == top].tolist())
        applied = int(ok.sum())
        self.rejected += n - applied
        if applied:
            last = int(np.flatnonzero(ok)[-1])
            self.ticks += applied
            self.last_price = float(p[last])
            self.last_ts_ns = int(ts[last])
        return applied

    def _update_loop(
        self,
        p: npt.NDArray[np.float64],
        vol: npt.NDArray[np.int64],
        ts: npt.NDArray[np.int64],
        dd: npt.NDArray[np.int64],
    ) -> int:
        """Scalar path of :meth:`update_many` (lists: cheaper than numpy scalars)."""
        applied = 0
        for price, v, t, d in zip(p.tolist(), vol.tolist(), ts.tolist(), dd.tolist(),
                                  strict=True):
            applied += self.update(price, v, t, d)
        return applied

    # ------------------------------------------------------------------ reads
    def poc_index(self) -> int | None:
        """The POC row, from the incrementally kept candidates (tie rule applied).

        Returns:
            The absolute POC row, or None for an empty profile.
        """
        if self.empty:
            return None
        ties = self.ties
        if len(ties) == 1:
            return ties[0]
        mid2 = self.lo + self.hi  # twice the range's middle: integer comparison
        return min(ties, key=lambda i: (abs(2 * i - mid2), i))

    def volumes(self) -> npt.NDArray[np.int64]:
        """Volume per row of the range, lowest price first (a read-only view).

        Returns:
            An ``int64`` array of ``hi - lo + 1`` rows (empty for an empty profile).
        """
        view = self._rows()
        view.flags.writeable = False
        return view

    def _rows(self) -> npt.NDArray[np.int64]:
        """The range's volumes as a writable view, for the compiled kernels.

        Numba dispatches read-only arrays on a slow path (tens of microseconds a call).
        """
        s = self.lo - self._base
        return self._arr[s : s + max(0, self.hi - self.lo + 1)]

    def due(self, t_ns: int) -> bool:
        """Whether the profile should be published now.

        Args:
            t_ns: Current event time, epoch ns.

        Returns:
            True if a tick arrived since the last publish and either this session was
            never published, ``publish_every_ticks`` ticks arrived, or
            ``publish_interval_s`` of event time passed since the last publish.
        """
        since = self.ticks - self._pub_ticks
        if since <= 0:
            return False
        if self._pub_ns < 0:
            return True
        return (since >= self.params.publish_every_ticks
                or t_ns - self._pub_ns >= self.params.publish_interval_ns)

    def mark_published(self, t_ns: int, snapshot: ProfileSnapshot | None = None) -> None:
        """Record a publish: restarts the cadence and sets the events' baseline.

        Args:
            t_ns: Event time of the publish, epoch ns.
            snapshot: The published evaluation (evaluated now if None).
        """
        if snapshot is None:
            snapshot = self.evaluate(t_ns)
        self._pub_ns = t_ns
        self._pub_ticks = self.ticks
        if snapshot is not None:
            self._prev = (snapshot.poc, snapshot.va_low, snapshot.va_high)

    def publish(self, t_ns: int) -> ProfileSnapshot | None:
        """Evaluate, then mark published (the usual call when :meth:`due` is true).

        Args:
            t_ns: Event time, epoch ns.

        Returns:
            The snapshot with its events, or None for an empty profile.
        """
        snap = self.evaluate(t_ns)
        self.mark_published(t_ns, snap)
        return snap

    def evaluate(self, t_ns: int | None = None) -> ProfileSnapshot | None:
        """Compute POC, value area, nodes, strength and events; the state is unchanged.

        O(rows in range).

        Args:
            t_ns: Event time stamped on events (the last tick's time if None).

        Returns:
            The snapshot, or None when no row holds volume.
        """
        poc = self.poc_index()
        if poc is None:
            return None
        prm = self.params
        lo, hi = self.lo, self.hi
        v = self.volumes().copy()
        total = self.total
        va_low, va_high, va_vol, hvn_all, lvn_all = self._areas(v, poc)

        # Compare rows, not floats: 2 * 100.05 / 0.05 is 4001.9999999999995, but the
        # last price's row is exactly 2001 (an HVN at the last price is neither side).
        last = round(self.last_price / self.tick_size)
        below = sorted((r for r in hvn_all if r < last), reverse=True)
        above = sorted(r for r in hvn_all if r > last)
        support = tuple(below[: prm.max_levels])
        resistance = tuple(above[: prm.max_levels])

        def nearest(rows: list[int]) -> tuple[int, ...]:
            keep = sorted(rows, key=lambda r: (abs(r - last), r))[: prm.max_nodes]
            return tuple(sorted(keep))

        decimals = tick_decimals(self.tick_size)
        snap = ProfileSnapshot(
            day=self.day,
            tick_size=self.tick_size,
            decimals=decimals,
            tick_units=round(self.tick_size * 10**decimals),
            low=lo,
            high=hi,
            volumes=v,
            total_volume=total,
            traded_rows=int(np.count_nonzero(v)),
            poc=poc,
            poc_volume=self.poc_volume,
            va_low=va_low,
            va_high=va_high,
            va_volume=int(va_vol),
            strength=_strength(v, total),
            hvn=nearest(hvn_all),
            lvn=nearest(lvn_all),
            support=support,
            resistance=resistance,
            last_price=self.last_price,
            last_ts_ns=self.last_ts_ns,
            ticks=self.ticks,
        )
        events = self._events(snap, self.last_ts_ns if t_ns is None else t_ns)
        if events:
            snap = _with_events(snap, events)
        return snap

    def _areas(self, v: npt.NDArray[np.int64], poc: int
               ) -> tuple[int, int, int, list[int], list[int]]:
        """Value area and nodes of the range's volumes ``v`` (see the module docstring).

        Args:
            v: Volumes of the range's rows (``volumes()``).
            poc: The POC row.

        Returns:
            ``(va_low, va_high, va_volume, hvn rows, lvn rows)``, rows absolute and
            ascending.
        """
        prm = self.params
        lo, n, total = self.lo, v.shape[0], self.total
        pct = _ratio(prm.value_area_pct)
        target = -(-pct.numerator * total // pct.denominator)  # exact ceil
        a, b, va_vol = _value_area(v, poc - lo, target)
        # Nodes: integer thresholds from exact fractions (v >= x <=> v >= ceil(x)).
        hk, lk = _ratio(prm.hvn_factor), _ratio(prm.lvn_factor)
        hvn_min = -(-hk.numerator * total // (hk.denominator * n))
        lvn_max = lk.numerator * total // (lk.denominator * n)
        peaks = _peaks(v, prm.node_radius, 1)
        hvn_all = (peaks[v[peaks] >= hvn_min] + lo).tolist()
        troughs = _peaks(v, prm.node_radius, -1)
        troughs = troughs[(troughs > 0) & (troughs < n - 1)]
        lvn_all = (troughs[v[troughs] <= lvn_max] + lo).tolist()
        return lo + int(a), lo + int(b), int(va_vol), hvn_all, lvn_all

    def levels(self) -> ProfileLevels | None:
        """POC, value area and nodes now, for the pattern detectors; state unchanged.

        The same figures :meth:`evaluate` reports, without the strength, events and
        copies it also computes. O(rows in range).

        Returns:
            The levels, or None when no row holds volume.
        """
        poc = self.poc_index()
        if poc is None:
            return None
        va_low, va_high, _, hvn, lvn = self._areas(self._rows(), poc)
        d = tick_decimals(self.tick_size)
        units, scale = round(self.tick_size * 10**d), 10**d

        def price(row: int) -> float:
            # int / int is correctly rounded: the float of the price's decimal, as
            # ProfileSnapshot.price gives it, without formatting a string.
            return row * units / scale

        def prices(rows: list[int]) -> tuple[float, ...]:
            # The same correctly rounded quotient, vectorised (rows and units are exact
            # in float64, and IEEE division rounds correctly).
            return tuple((np.asarray(rows, dtype=np.int64) * units / scale).tolist())

        return ProfileLevels(
            day=self.day, tick_size=self.tick_size, poc=price(poc), vah=price(va_high),
            val=price(va_low), hvn=prices(hvn), lvn=prices(lvn), total_volume=self.total)

    def _events(self, snap: ProfileSnapshot, t_ns: int) -> tuple[dict[str, Any], ...]:
        """POC-shift and value-area events of ``snap`` against the last publish."""
        if self._prev is None:
            return ()
        prm = self.params
        p0, lo0, hi0 = self._prev
        base = {
            "timestamp": iso_ist(t_ns),
            "timestamp_ms": t_ns // 1_000_000,
            "session_date": _day_iso(snap.day),
        }
        out: list[dict[str, Any]] = []
        moved = abs(snap.poc - p0)
        if moved:
            by_ticks = prm.poc_shift_ticks > 0 and moved >= prm.poc_shift_ticks
            r = _ratio(prm.poc_shift_ratio)
            # moved * tick >= ratio * p0 * tick, in exact integers.
            by_ratio = r > 0 and moved * r.denominator >= r.numerator * abs(p0)
            if by_ticks or by_ratio:
                out.append({
                    "pattern": POC_SHIFT,
                    **base,
                    "direction": "up" if snap.poc > p0 else "down",
                    "from_price": snap.price(p0),
                    "to_price": snap.price(snap.poc),
                    "shift_ticks": moved,
                    "shift_pct": round(100.0 * moved / abs(p0), 6) if p0 else 0.0,
                    "poc_volume": snap.poc_volume,
                })
        w0 = hi0 - lo0 + 1
        w1 = snap.va_high - snap.va_low + 1
        c = _ratio(prm.va_change_ratio)
        if c > 0 and w1 != w0:
            kind = None
            if w1 * c.denominator >= w0 * (c.denominator + c.numerator):
                kind = VA_EXPANSION
            elif w1 * c.denominator <= w0 * (c.denominator - c.numerator):
                kind = VA_CONTRACTION
            if kind is not None:
                out.append({
                    "pattern": kind,
                    **base,
                    "from_width_ticks": w0,
                    "to_width_ticks": w1,
                    "change_pct": round(100.0 * (w1 - w0) / w0, 6),
                    "from_value_area_low": snap.price(lo0),
                    "from_value_area_high": snap.price(hi0),
                    "value_area_low": snap.price(snap.va_low),
                    "value_area_high": snap.price(snap.va_high),
                })
        return tuple(out)

    # ------------------------------------------------------------------ serialisation
    _HEAD = struct.Struct("<4sdqqqdqqqqqqqBqqBB")

    def to_bytes(self) -> bytes:
        """Compact, deterministic serialisation for the table changelog.

        A fixed little-endian header, then the range's volumes either dense (one
        unsigned integer per row) or sparse (row offsets as ``uint32`` plus volumes),
        whichever is smaller, with the narrowest of 2/4/8-byte volumes that fits.
        Derived fields (total, POC candidates) are recomputed by :meth:`from_bytes`;
        the parameters are configuration and are not stored.

        Returns:
            The bytes.
        """
        v = self.volumes()
        nz = np.flatnonzero(v)
        top = int(v.max()) if v.shape[0] else 0
        width = 2 if top < 1 << 16 else 4 if top < 1 << 32 else 8
        dtype = np.dtype(f"<u{width}")
        dense = v.shape[0] * width
        sparse = nz.shape[0] * (4 + width)
        mode = 1 if sparse < dense else 0
        prev = self._prev or (0, 0, 0)
        head = self._HEAD.pack(
            FORMAT_MAGIC, self.tick_size, self.day, self.ticks, self.rejected,
            self.last_price, self.last_ts_ns, self._pub_ns, self._pub_ticks,
            prev[0], prev[1], prev[2], self.lo, self._prev is not None,
            self.hi, nz.shape[0] if mode else v.shape[0], mode, width,
        )
        if mode:
            body = nz.astype("<u4").tobytes() + v[nz].astype(dtype).tobytes()
        else:
            body = v.astype(dtype).tobytes()
        return head + body

    @classmethod
    def from_bytes(cls, data: bytes, params: ProfileParams | None = None) -> VolumeProfile:
        """Restore a profile written by :meth:`to_bytes`.

        Args:
            data: The serialised profile.
            params: Configuration to run with (defaults if None).

        Returns:
            The profile; ``to_bytes`` of it gives ``data`` back.

        Raises:
            ValueError: If ``data`` is not a format-1 profile.
        """
        head = cls._HEAD
        if len(data) < head.size or data[:4] != FORMAT_MAGIC:
            raise ValueError("not a VolumeProfile of format version 1")
        (_, tick, day, ticks, rejected, last_price, last_ts, pub_ns, pub_ticks,
         p0, lo0, hi0, lo, has_prev, hi, count, mode, width) = head.unpack_from(data)
        self = cls(tick, params)
        self._reset(day)
        self.rejected, self.ticks = rejected, ticks
        self.last_price, self.last_ts_ns = last_price, last_ts
        self._pub_ns, self._pub_ticks = pub_ns, pub_ticks
        self._prev = (p0, lo0, hi0) if has_prev else None
        if hi < lo:
            return self
        dtype = np.dtype(f"<u{width}")
        off = head.size
        n = hi - lo + 1
        v = np.zeros(n, dtype=np.int64)
        if mode:
            rows = np.frombuffer(data, "<u4", count, off).astype(np.int64)
            v[rows] = np.frombuffer(data, dtype, count, off + 4 * count)
        else:
            v[:] = np.frombuffer(data, dtype, count, off)
        self._cover(lo, hi)
        self._arr[lo - self._base : hi - self._base + 1] = v
        self.lo, self.hi = lo, hi
        self.total = int(v.sum())
        self.poc_volume = int(v.max())
        self.ties = (np.flatnonzero(v == self.poc_volume) + lo).tolist()
        return self


def _strength(v: npt.NDArray[np.int64], total: int) -> float:
    """Normalised Gini coefficient of the row volumes (see the module docstring).

    Uses the sorted form ``(2 * sum(i * v_(i)) - (n + 1) * total) / ((n - 1) * total)``
    with ranks ``i = 1..n``, in exact integers up to the final division.

    Args:
        v: Volumes of the range's rows.
        total: Their sum (> 0).

    Returns:
        The strength in [0, 1].
    """
    n = v.shape[0]
    if n <= 1:
        return 1.0
    ranks = np.arange(1, n + 1, dtype=np.int64)
    weighted = int(np.dot(ranks, np.sort(v)))
    return (2 * weighted - (n + 1) * total) / ((n - 1) * total)


def _with_events(snap: ProfileSnapshot, events: tuple[dict[str, Any], ...]) -> ProfileSnapshot:
    """A copy of ``snap`` carrying ``events``."""
    values = {f.name: getattr(snap, f.name) for f in fields(snap)}
    values["events"] = events
    return ProfileSnapshot(**values)


def _day_iso(day: int) -> str | None:
    """ISO date of an IST epoch-day (None before any tick)."""
    return None if day < 0 else day_to_iso(day)
