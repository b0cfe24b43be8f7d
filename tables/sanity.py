"""Event-time and value sanity at the edge of the engine: every rule, tolerance and band.

This docstring is the one place these rules are written down; the README's "Bad input"
section summarises it. Every rule rejects the offending packet alone, to the dead-letter
topic with its reason; the instrument's later good packets are applied. The rules are
pure functions of the packet, its receive time and the instrument's state, so the Faust
and the direct driver (and replays of the same events) reject exactly the same packets.

Stateless rules, checked per packet on the whole bundle (``engine.apply_bundle``), in
this order after the decoder's own ``decode_error``:

* ``receive_time_out_of_range``: the receive stamp (our ingest clock, ns since epoch) is
  outside ``[2000-01-01, 2100-01-01)`` UTC (:data:`EVENT_MIN_NS`, :data:`EVENT_MAX_NS`).
  Within that range no event-time arithmetic can overflow int64 (IST shift, bar and
  bucket starts). The receive stamp is otherwise trusted: it is our own clock.
* ``exchange_time_skew``: a full-mode packet's exchange time (it is the event time, see
  ``timeutil.event_time_ns``) differs from its receive time by more than
  :data:`EXCHANGE_SKEW_NS` (10 minutes) either way. This is what stops a packet stamped
  a day ahead from moving the instrument to the next trading date (and with it
  rejecting the rest of the day as ``stale_trading_date``), a 1970 timestamp (a unit bug
  upstream) from making a 1970 bar, and ``0xFFFFFFFF`` (year 2106) from doing either.
  Ten minutes is far above any real feed delay and far below a day.

Per-tick rules (``instrument_state.apply_ticks``, identical in the Python loop and the
compiled kernel), in this order:

* ``decode_error`` (the row's decoder error, when called directly).
* ``bad_price``: the last price is NaN, infinite, ``<= 0`` or above :data:`PRICE_MAX`
  (1 crore rupees; the dearest NSE share trades near 1.5 lakh, and Kite's u32 paise
  field tops out at 42,949,672.95, the value a saturated field decodes to).
* ``event_time_out_of_range``: the event time is outside ``[2000, 2100)`` (as above;
  checked again here so that the state transition is total on any int64 input).
* ``stale_trading_date``: the event's IST date is before the state's trading date.
* ``price_out_of_band``: the price is outside ``[ref / (1 + band), ref * (1 + band)]``
  of ``ref``, the instrument's last accepted price (which carries over from the previous
  day: it is the previous close for the first tick of a day). ``band`` is
  :data:`PRICE_BAND` (25%) for equities, futures and indices: NSE's widest daily price
  band and index circuit breaker is 20% of the previous close (F&O stocks have no fixed
  band but a dynamic 10% band that flexes in steps), so no genuine tick is more than 25%
  from the tick before it. Options have no band (:data:`OPTION_PRICE_BAND` = 0): a
  premium legitimately moves several-fold between two ticks (expiry day, illiquid
  strikes), and NSE's option price ranges are themselves derived and wide; only
  ``bad_price`` applies to them. An instrument's first tick ever has no reference.
* ``non_monotonic_volume``: the cumulative day volume is below the last accepted one.
* ``volume_jump``: the cumulative day volume rose by more than
  ``VOLUME_JUMP_BASE + VOLUME_JUMP_PER_S * seconds since the instrument's last accepted
  tick`` (1,000,000,000 units plus 100,000 per second). A block deal of 10,000 lots of a
  stock future with a 40,000-share lot is 400 million units, so genuine heavy trading
  passes; a saturated ``0xFFFFFFFF`` (4.29 billion) or a flipped high bit does not. The
  first volume of a day joined mid-day is a baseline, not an increment, and is never
  checked; the first volume before 09:16 counts as an increment from 0 and is.

**The first-tick problem (re-anchoring).** A band or volume anchor taken from a bad
tick would lock out every good tick after it (the first tick ever of a wild price, or a
day's first volume that is a bit-flipped giant). So rejections are also evidence: the
state keeps a streak of consecutive ``price_out_of_band`` rejects that agree with each
other (each within the band of the previous one), and likewise of consecutive volume
rejects whose cumulatives are non-decreasing and within :data:`VOLUME_JUMP_BASE` of each
other. The :data:`REANCHOR_TICKS`-th (3rd) such tick is accepted and becomes the new
anchor (for volume: a new baseline, increment 0, as for a day joined mid-day, so
``cumulative - baseline_volume == incremental_total`` still holds). Any accepted tick
clears both streaks. So one bad packet among good ones costs exactly that packet; a bad
anchor costs two good ticks; a genuine gap (split, corporate action) beyond the band
costs two ticks. The streaks are state (``VolumeState`` version 2), so they survive a
restart and stay a function of the events.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from aion.tables.timeutil import KIND_FULL, NS_PER_MIN, NS_PER_S

EVENT_MIN_NS = 946_684_800 * NS_PER_S
"""2000-01-01T00:00:00Z: no earlier receive or event time is accepted."""
EVENT_MAX_NS = 4_102_444_800 * NS_PER_S
"""2100-01-01T00:00:00Z (exclusive): no later receive or event time is accepted."""
EXCHANGE_SKEW_NS = 10 * NS_PER_MIN
"""Largest accepted difference between a full packet's exchange and receive times."""
PRICE_MAX = 10_000_000.0
"""Highest accepted last price in rupees (1 crore)."""
PRICE_BAND = 0.25
"""Largest relative move from the last accepted price (equities, futures, indices)."""
OPTION_PRICE_BAND = 0.0
"""Options: no band (0 disables the rule)."""
VOLUME_JUMP_BASE = 1_000_000_000
"""Largest cumulative-volume rise between two ticks, in units, before elapsed time."""
VOLUME_JUMP_PER_S = 100_000
"""Allowance added per second since the instrument's last accepted tick."""
REANCHOR_TICKS = 3
"""Consecutive mutually consistent rejects after which the last one is the new anchor."""

REJECT_RECV_RANGE = "receive_time_out_of_range"
REJECT_EXCHANGE_SKEW = "exchange_time_skew"
REJECT_EVENT_RANGE = "event_time_out_of_range"
REJECT_PRICE_BAND = "price_out_of_band"
REJECT_VOLUME_JUMP = "volume_jump"

OPTION_KINDS = ("CE", "PE")
"""Instrument types that get :data:`OPTION_PRICE_BAND`."""


def price_band(instrument_type: str | None) -> float:
    """The price band of an instrument type.

    Args:
        instrument_type: Kite's instrument type (``EQ``, ``FUT``, ``CE``, ``PE``...),
            None when unknown.

    Returns:
        :data:`OPTION_PRICE_BAND` for options, else :data:`PRICE_BAND`.
    """
    return OPTION_PRICE_BAND if instrument_type in OPTION_KINDS else PRICE_BAND


def out_of_band(price: float, ref: float, band: float) -> bool:
    """Whether ``price`` is outside the band around ``ref`` (the kernel repeats this).

    Args:
        price: The tick's price (finite, positive).
        ref: The reference price (0 means none: never out of band).
        band: Relative band (0 means none).

    Returns:
        True when the band applies and the price is outside it.
    """
    if band <= 0.0 or ref <= 0.0:
        return False
    width = 1.0 + band
    return price > ref * width or price * width < ref


def next_streak(streak: int, consistent: bool) -> int:
    """A re-anchoring streak after one more reject (the kernel repeats this).

    Args:
        streak: Consecutive agreeing rejects so far (0: none).
        consistent: Whether this reject agrees with the streak's last one.

    Returns:
        The new streak: one longer, or 1 (this reject starts a new streak).
    """
    return streak + 1 if streak > 0 and consistent else 1


def volume_jump_limit(elapsed_s: int) -> int:
    """Largest accepted cumulative-volume rise after ``elapsed_s`` seconds.

    Args:
        elapsed_s: Seconds since the instrument's last accepted tick (clamped at 0).

    Returns:
        The limit in units.
    """
    return VOLUME_JUMP_BASE + VOLUME_JUMP_PER_S * max(elapsed_s, 0)


def bundle_time_rejects(
    kind: npt.NDArray[np.uint16],
    exchange_ts: npt.NDArray[np.uint32],
    recv_ns: npt.NDArray[np.int64],
) -> npt.NDArray[np.int8]:
    """The stateless time rules over a bundle's packets.

    Args:
        kind: Packet lengths (Kite mode).
        exchange_ts: Exchange times in epoch seconds (0 when absent).
        recv_ns: Receive times in epoch ns.

    Returns:
        Per packet: 0 ok, 1 :data:`REJECT_RECV_RANGE`, 2 :data:`REJECT_EXCHANGE_SKEW`.
    """
    recv = np.asarray(recv_ns, dtype=np.int64)
    ok_recv = (recv >= EVENT_MIN_NS) & (recv < EVENT_MAX_NS)
    ex = np.asarray(exchange_ts, dtype=np.int64) * NS_PER_S  # < 4.3e18: no overflow
    # Only in-range receive times are subtracted, so the difference cannot overflow.
    skew = np.abs(ex - np.where(ok_recv, recv, ex))
    timed = (np.asarray(kind) == KIND_FULL) & (ex > 0)
    out = np.zeros(len(recv), dtype=np.int8)
    out[timed & (skew > EXCHANGE_SKEW_NS)] = 2
    out[~ok_recv] = 1
    return out


BUNDLE_TIME_REASONS = ("", REJECT_RECV_RANGE, REJECT_EXCHANGE_SKEW)
"""Reason of each :func:`bundle_time_rejects` code."""
