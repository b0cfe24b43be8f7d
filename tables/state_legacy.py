"""One-way upgrade of the positional state format (envelope version 1) to named components.

Version 1 (up to commit 5231099) wrote an ``InstrumentState`` as::

    {"v": 1, "token": T, "pos": [[partition, offset, index], ...], "n": ticks_applied,
     "late": late_ticks, "rej": {reason: count},
     "vol": VolumeState fields, "bars": BarState fields, "bk": bucket accumulators,
     "an": [indicators_b64, profile_b64, vix, vwap_day, vwap_pv, vwap_volume,
            closed_bars, dirty_lo, dirty_hi]}          # "an" only with analytics

Version 2 keeps the envelope keys and puts every component under its name (see
``instrument_state``). The volume, bars and buckets lists of version 1 are exactly the
version-1 payloads of those components, so they move over unchanged; the lumped
analytics list is split into its components. A state read this way is written back as
version 2 the next time it changes; nothing ever writes version 1 again.

This is the only place that knows the version-1 layout. It works on the parsed JSON
alone (document in, document out), so it needs none of the component classes and keeps
working when they move on to later payload versions: it emits their version-1 payloads,
which every component keeps reading.
"""

from __future__ import annotations

from typing import Any

from aion.tables.state_codec import StateFormatError

UPGRADED_ENVELOPE = 2
"""The envelope version :func:`upgrade_v1` produces."""


def upgrade_v1(doc: dict[str, Any]) -> dict[str, Any]:
    """Turn a version-1 state document into the equivalent version-2 document.

    Args:
        doc: The parsed version-1 JSON object.

    Returns:
        A version-2 document (component payloads of version 1) for the same state.

    Raises:
        StateFormatError: If the document lacks a version-1 key or its analytics list
            is not one a version-1 build could have written.
    """
    try:
        out: dict[str, Any] = {
            "v": UPGRADED_ENVELOPE,
            "token": doc["token"],
            "pos": doc["pos"],
            "n": doc["n"],
            "late": doc["late"],
            "rej": doc["rej"],
            "c": {"volume": [1, doc["vol"]], "bars": [1, doc["bars"]], "buckets": [1, doc["bk"]]},
        }
    except KeyError as exc:
        raise StateFormatError(f"InstrumentState format version 1: missing key {exc}") from None
    if "an" in doc:
        out["an"] = _analytics_v1(doc["an"])
    return out


def _analytics_v1(an: Any) -> dict[str, Any]:
    """Split the version-1 analytics list into named components.

    Decisions (each component appears only once it holds something, as the engine
    creates them): the closed-bar count is not carried over, since the indicator set
    counts its own bars (``Analytics.bars``); the dirty profile rows go with the
    profile; VWAP accumulators that never saw a tick (day -1) are no component.

    Args:
        an: ``[indicators_b64, profile_b64, vix, vwap_day, vwap_pv, vwap_volume,
            closed_bars, dirty_lo, dirty_hi]``.

    Returns:
        The analytics section of a version-2 document.

    Raises:
        StateFormatError: If the list has the wrong length or holds a combination the
            version-1 code could not produce (bars without indicators, dirty rows
            without a profile).
    """
    if not (isinstance(an, list) and len(an) == 9):
        raise StateFormatError("InstrumentState format version 1: analytics must be a list "
                               "of 9 values")
    ind, prof, vix, vwap_day, vwap_pv, vwap_volume, bars, dirty_lo, dirty_hi = an
    parts: dict[str, Any] = {}
    if ind is not None:
        parts["indicators"] = [1, ind]
    elif bars:
        raise StateFormatError(f"InstrumentState format version 1: {bars} closed bars "
                               "but no indicator set")
    if prof is not None:
        parts["profile"] = [1, [prof, dirty_lo, dirty_hi]]
    elif (dirty_lo, dirty_hi) != (-1, -1):
        raise StateFormatError("InstrumentState format version 1: dirty profile rows "
                               "but no profile")
    if vix is not None:
        parts["vix"] = [1, vix]
    if (vwap_day, vwap_pv, vwap_volume) != (-1, 0.0, 0):
        parts["vwap"] = [1, [vwap_day, vwap_pv, vwap_volume]]
    return parts
