"""Deterministic market simulator: a whole-universe NSE/NFO session as raw Kite packets.

``simulate(trading_date, seed, out_path)`` writes a recorded-session Parquet file (see
:mod:`aion.streams.session_file`) plus two sidecars: the Kite-format instruments CSV and
the ground truth of the injected events.
"""

from aion.streams.simulator.events import EventType, InjectedEvent, load_events_json
from aion.streams.simulator.generate import (
    GENERATOR_VERSION,
    SimulationError,
    SimulationResult,
    sidecar_paths,
    simulate,
)
from aion.streams.simulator.packets import encode_full_packets, encode_index_packets
from aion.streams.simulator.universe import Universe, build_universe

__all__ = [
    "GENERATOR_VERSION",
    "EventType",
    "InjectedEvent",
    "SimulationError",
    "SimulationResult",
    "Universe",
    "build_universe",
    "encode_full_packets",
    "encode_index_packets",
    "load_events_json",
    "sidecar_paths",
    "simulate",
]
