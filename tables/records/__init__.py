"""Typed, versioned records: everything the engine emits (see :mod:`.base`).

One module per record kind; the output registry (``aion.agents.outputs``) says which
topic carries each and which Redis writer mirrors it.
"""

from aion.tables.records.alert import AlertRecord
from aion.tables.records.alert_greeks import AlertGreeks
from aion.tables.records.bar import BarClosed
from aion.tables.records.base import (
    Record,
    RecordCodec,
    RecordFormatError,
    encode,
    encode_many,
)
from aion.tables.records.bucket import BucketClosed
from aion.tables.records.chain import ChainSnapshot, OptionRow
from aion.tables.records.deadletter import DeadLetter
from aion.tables.records.indicators import IndicatorUpdate
from aion.tables.records.profile import ProfileUpdate
from aion.tables.records.session import SessionSnapshot
from aion.tables.records.validation import ValidationRecord
from aion.tables.records.vix import VixRegimeUpdate
from aion.tables.records.volume_averages import VolumeAverages
from aion.tables.records.volume_ratio import VolumeRatio
from aion.tables.records.vwap import VwapUpdate

__all__ = [
    "AlertGreeks",
    "AlertRecord",
    "BarClosed",
    "BucketClosed",
    "ChainSnapshot",
    "DeadLetter",
    "IndicatorUpdate",
    "OptionRow",
    "ProfileUpdate",
    "Record",
    "RecordCodec",
    "RecordFormatError",
    "SessionSnapshot",
    "ValidationRecord",
    "VixRegimeUpdate",
    "VolumeAverages",
    "VolumeRatio",
    "VwapUpdate",
    "encode",
    "encode_many",
]
