"""The bundled sample session with what the direct driver needs beside it, as benches load it.

The session file and its daily history are generated into the cache on first use
(:mod:`aion.streams.sample`); the instrument master is the session's sidecar CSV.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aion.agents.backtest import instruments_csv_for
from aion.agents.daily_history import build_averages, load_daily_history
from aion.config import Settings
from aion.streams.instruments import InstrumentMaster
from aion.streams.sample import sample_daily_history_path, sample_session_path


@dataclass(frozen=True)
class SampleInputs:
    """The sample session's file, instrument master and 20-day averages.

    Attributes:
        path: The session file.
        master: Its instruments.
        averages: Per-instrument averages from the daily history before it.
    """

    path: Path
    master: InstrumentMaster
    averages: dict[str, dict[str, Any]]


def load_sample_inputs(settings: Settings) -> SampleInputs:
    """Load (generating on first use) the sample session, its master and averages.

    Args:
        settings: Gives the cache directory.

    Returns:
        The inputs.
    """
    path = sample_session_path(settings.cache_dir)
    history = load_daily_history(sample_daily_history_path(settings.cache_dir))
    return SampleInputs(path, InstrumentMaster.from_csv(instruments_csv_for(path)),
                        build_averages(history))
