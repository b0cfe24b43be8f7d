"""Event-time arithmetic for the NSE session, on epoch integers.

Everything here is pure integer arithmetic on epoch nanoseconds. IST is a fixed
UTC+05:30 offset with no daylight saving, so an IST calendar day is
``(ns + IST_OFFSET_NS) // NS_PER_DAY`` and the time of day is the remainder: no
``zoneinfo``, no clock. Functions taking ``ns`` accept a Python ``int`` or a numpy
``int64`` array and return the same kind (numpy floor division and modulo follow
Python's sign rules, so times before 1970 or before midnight stay correct).

Buckets of N minutes are aligned to the session open, 09:15 IST, not to the hour:

* 1m:  09:15, 09:16, ...
* 5m:  09:15, 09:20, 09:25, ...
* 10m: 09:15, 09:25, 09:35, ...
* 15m: 09:15, 09:30, ...
* 30m: 09:15, 09:45, ...
* 60m: 09:15, 10:15, ..., 15:15 (the last one is cut short by the 15:30 close).

That is how Kite's own intraday candles are aligned, so our bars line up with theirs.
"""

from __future__ import annotations

import datetime as _dt
from typing import TypeVar

import numpy as np
import numpy.typing as npt

NS_PER_S = 1_000_000_000
NS_PER_MS = 1_000_000
NS_PER_MIN = 60 * NS_PER_S
NS_PER_DAY = 86_400 * NS_PER_S

IST_OFFSET_S = 5 * 3600 + 30 * 60
"""IST minus UTC in seconds (+05:30, no DST)."""
IST_OFFSET_NS = IST_OFFSET_S * NS_PER_S
IST = _dt.timezone(_dt.timedelta(seconds=IST_OFFSET_S), "IST")

SESSION_OPEN_MINUTE = 9 * 60 + 15
"""Minute of the IST day at which the normal session opens (09:15)."""
SESSION_CLOSE_MINUTE = 15 * 60 + 30
"""Minute of the IST day at which the normal session closes (15:30), exclusive."""
SESSION_OPEN_NS = SESSION_OPEN_MINUTE * NS_PER_MIN
SESSION_CLOSE_NS = SESSION_CLOSE_MINUTE * NS_PER_MIN

BUCKET_RESOLUTIONS: tuple[int, ...] = (1, 5, 10, 15, 30, 60)
"""Volume bucket widths in minutes, as in the reference's bucket resolution list."""

# Kite packet lengths (the ``kind`` field): only full mode carries the exchange time.
KIND_LTP = 8
KIND_INDEX_QUOTE = 28
KIND_INDEX_FULL = 32
KIND_QUOTE = 44
KIND_FULL = 184

_EPOCH_ORDINAL = _dt.date(1970, 1, 1).toordinal()

IntLike = TypeVar("IntLike", int, npt.NDArray[np.int64])


def event_time_ns(
    kind: npt.ArrayLike, exchange_ts: npt.ArrayLike, recv_ns: npt.ArrayLike
) -> npt.NDArray[np.int64]:
    """Event time of each packet in epoch nanoseconds.

    A full-mode packet (184 bytes) with a non-zero exchange timestamp is timed by the
    exchange; every other packet (LTP, quote, index, or full without a timestamp) by
    its ingest receive stamp (docs/architecture.md, "Time").

    Args:
        kind: Packet lengths (Kite mode), one per packet.
        exchange_ts: Exchange timestamps in epoch seconds, 0 where absent.
        recv_ns: Receive (ingest) times in epoch nanoseconds.

    Returns:
        An ``int64`` array of event times in epoch nanoseconds.
    """
    kind_a = np.asarray(kind)
    ex = np.asarray(exchange_ts, dtype=np.int64)
    recv = np.asarray(recv_ns, dtype=np.int64)
    use_exchange = (kind_a == KIND_FULL) & (ex > 0)
    # Integer multiply, not *1e9: a float64 product would lose nanosecond exactness.
    return np.where(use_exchange, ex * NS_PER_S, recv).astype(np.int64, copy=False)


def ist_day(ns: IntLike) -> IntLike:
    """IST calendar day as days since 1970-01-01 (an integer date ordinal).

    Args:
        ns: Epoch nanoseconds (int or int64 array).

    Returns:
        The IST epoch-day number, same kind as ``ns``.
    """
    return (ns + IST_OFFSET_NS) // NS_PER_DAY


def ist_day_start_ns(day: int) -> int:
    """Epoch nanoseconds of 00:00 IST on an IST epoch-day.

    Args:
        day: IST epoch-day number (see :func:`ist_day`).

    Returns:
        Epoch nanoseconds of that day's IST midnight.
    """
    return day * NS_PER_DAY - IST_OFFSET_NS


def day_to_iso(day: int) -> str:
    """Format an IST epoch-day as ``YYYY-MM-DD``.

    Args:
        day: IST epoch-day number.

    Returns:
        The ISO date string, as used in Redis keys such as ``session:SYM:2025-10-23``.
    """
    return _dt.date.fromordinal(_EPOCH_ORDINAL + int(day)).isoformat()


def ist_date(ns: int) -> str:
    """IST calendar date of an instant as ``YYYY-MM-DD``.

    Args:
        ns: Epoch nanoseconds.

    Returns:
        The ISO date string of the IST day containing ``ns``.
    """
    return day_to_iso(ist_day(int(ns)))


def ns_of_day_ist(ns: IntLike) -> IntLike:
    """Nanoseconds since IST midnight.

    Args:
        ns: Epoch nanoseconds (int or int64 array).

    Returns:
        Nanoseconds into the IST day, in ``[0, NS_PER_DAY)``.
    """
    return (ns + IST_OFFSET_NS) % NS_PER_DAY


def minute_of_day_ist(ns: IntLike) -> IntLike:
    """Minute of the IST day (0..1439).

    Args:
        ns: Epoch nanoseconds (int or int64 array).

    Returns:
        Minutes since IST midnight; 09:15 is 555, 15:30 is 930.
    """
    return ((ns + IST_OFFSET_NS) % NS_PER_DAY) // NS_PER_MIN


def bucket_start_ns(ns: IntLike, minutes: int) -> IntLike:
    """Start of the N-minute bucket containing ``ns``, aligned to 09:15 IST.

    Buckets tile each IST day from 09:15 in steps of ``minutes`` (see the module
    docstring). Times before 09:15 fall in buckets counted backwards from 09:15, so the
    function is total; callers that clamp pre-open ticks into the first session bucket
    do that themselves.

    Args:
        ns: Epoch nanoseconds (int or int64 array).
        minutes: Bucket width in minutes (positive).

    Returns:
        Epoch nanoseconds of the bucket start, same kind as ``ns``.

    Raises:
        ValueError: If ``minutes`` is not positive.
    """
    if minutes <= 0:
        raise ValueError(f"bucket width must be positive, got {minutes}")
    width = minutes * NS_PER_MIN
    since_open = (ns + IST_OFFSET_NS) % NS_PER_DAY - SESSION_OPEN_NS
    # Floor modulo: non-negative even for pre-open times, so the start is never after ns.
    return ns - since_open % width


def session_bucket_end_ns(start_ns: int, minutes: int) -> int:
    """End of a session bucket: its nominal end, cut at that day's 15:30 close.

    Args:
        start_ns: Bucket start in epoch nanoseconds.
        minutes: Bucket width in minutes.

    Returns:
        ``min(start + minutes, 15:30 IST of the start's day)`` in epoch nanoseconds.
    """
    close = ist_day_start_ns(ist_day(start_ns)) + SESSION_CLOSE_NS
    return min(start_ns + minutes * NS_PER_MIN, close)


def ist_wall_ns(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> int:
    """Epoch nanoseconds of an IST wall-clock time (for calendars, configs and tests).

    Args:
        year: Year.
        month: Month (1-12).
        day: Day of month.
        hour: Hour (IST).
        minute: Minute.
        second: Second.

    Returns:
        Epoch nanoseconds.
    """
    days = _dt.date(year, month, day).toordinal() - _EPOCH_ORDINAL
    return ist_day_start_ns(days) + ((hour * 60 + minute) * 60 + second) * NS_PER_S


def iso_ist(ns: int) -> str:
    """Format an instant as ISO-8601 in IST with seconds, e.g. ``2025-10-23T12:54:02+05:30``.

    Args:
        ns: Epoch nanoseconds.

    Returns:
        The ISO string (sub-second part dropped, as in the reference's bucket hashes).
    """
    secs = int(ns) // NS_PER_S
    return _dt.datetime.fromtimestamp(secs, IST).isoformat()


def hhmm_ist(ns: int) -> str:
    """Format the IST time of day as ``HH:MM`` (the reference's bucket key suffix).

    Args:
        ns: Epoch nanoseconds.

    Returns:
        ``HH:MM`` of the IST wall time.
    """
    m = int(minute_of_day_ist(int(ns)))
    return f"{m // 60:02d}:{m % 60:02d}"
