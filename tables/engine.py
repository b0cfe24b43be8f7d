"""Bundle-level application: one decoded bundle in, touched states and outputs out.

Both drivers call :func:`apply_bundle`: the Faust agent (state from a changelog-backed
table) and the direct in-process driver (state in a dict). That is what makes their
results identical. Pure: the caller supplies state lookup and the known-token test.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from aion.tables.bars import Bar
from aion.tables.instrument_state import (
    InstrumentState,
    advance_watermark,
    apply_ticks,
)
from aion.tables.timeutil import event_time_ns
from aion.tables.volume import BucketRecord

REJECT_UNKNOWN_TOKEN = "unknown_token"


@dataclass(frozen=True, slots=True)
class Reject:
    """A packet refused by the engine, bound for the dead-letter topic.

    Attributes:
        index: Index of the packet in its bundle.
        token: Instrument token (0 when the packet was too short to carry one).
        reason: Short machine-readable reason.
    """

    index: int
    token: int
    reason: str


@dataclass(slots=True)
class BundleOutcome:
    """What one bundle did.

    Attributes:
        touched: States changed by the bundle, by token (write each key once).
        bars: Bars closed, in order.
        buckets: Volume buckets closed, in order.
        rejects: Packets for the dead-letter topic.
        applied: Ticks accepted.
        duplicates: Ticks skipped as already applied (redelivery after a crash).
    """

    touched: dict[int, InstrumentState] = field(default_factory=dict)
    bars: list[Bar] = field(default_factory=list)
    buckets: list[BucketRecord] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    applied: int = 0
    duplicates: int = 0


def apply_bundle(
    lookup: Callable[[int], InstrumentState | None],
    ticks: np.ndarray,
    recv_ns: np.ndarray,
    partition: int,
    offset: int,
    *,
    known: Callable[[int], bool],
    error_reasons: Mapping[int, str],
) -> BundleOutcome:
    """Apply a decoded bundle to the per-instrument states.

    Args:
        lookup: Current state of a token, or None for a token never seen.
        ticks: Decoded rows (``TICK_DTYPE``) in bundle order.
        recv_ns: Receive time of each row (ns since epoch).
        partition: Source partition.
        offset: Source offset of the bundle.
        known: Whether a token is in the instrument master.
        error_reasons: Text for each decoder error code.

    Returns:
        Touched states and the outputs to publish.
    """
    out = BundleOutcome()
    n = len(ticks)
    if n == 0:
        return out
    event_ns = event_time_ns(ticks["kind"], ticks["exchange_ts"], recv_ns)
    errors = ticks["error"]
    bad = np.flatnonzero(errors != 0)
    for i in bad:
        code = int(errors[i])
        out.rejects.append(Reject(int(i), int(ticks["token"][i]),
                                  f"decode_error:{error_reasons.get(code, code)}"))
    good = np.flatnonzero(errors == 0)
    if len(good) == 0:
        return out
    tokens = ticks["token"][good]
    order = np.argsort(tokens, kind="stable")
    sorted_tokens = tokens[order]
    cuts = np.flatnonzero(np.diff(sorted_tokens)) + 1
    for group in np.split(good[order], cuts):
        token = int(ticks["token"][group[0]])
        if not known(token):
            out.rejects.extend(Reject(int(i), token, REJECT_UNKNOWN_TOKEN) for i in group)
            continue
        state = lookup(token) or InstrumentState(token=token)
        res = apply_ticks(state, ticks[group], event_ns[group], partition, offset, group)
        out.rejects.extend(Reject(int(i), token, reason) for i, reason in res.rejects)
        out.bars.extend(res.closed_bars)
        out.buckets.extend(res.closed_buckets)
        out.applied += res.applied
        out.duplicates += res.skipped_duplicates
        if res.applied or res.rejects:
            out.touched[token] = state
    out.rejects.sort(key=lambda r: r.index)
    return out


def flush_states(states: Mapping[int, InstrumentState], t_ns: int) -> BundleOutcome:
    """End of stream: close every open bar and bucket at watermark ``t_ns``.

    Args:
        states: The states to flush (those of one partition).
        t_ns: Watermark; ``2**62`` closes everything.

    Returns:
        Touched states and closed bars/buckets.
    """
    out = BundleOutcome()
    for token in sorted(states):
        state = states[token]
        res = advance_watermark(state, t_ns)
        if res.closed_bars or res.closed_buckets:
            out.touched[token] = state
            out.bars.extend(res.closed_bars)
            out.buckets.extend(res.closed_buckets)
    return out


END_OF_STREAM_NS = 2**62
"""Watermark of the end-of-stream marker: closes every open bar and bucket."""
