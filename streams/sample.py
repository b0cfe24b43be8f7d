"""The bundled sample session: a small simulated session generated on first use.

The sample is 2025-11-18 09:15-10:00 IST, seed 42, whole universe. It is not shipped as
a file: it is generated (a few seconds) into a cache directory the first time it is
asked for, and regenerated whenever the cached file's session-file format version or
simulator generator version differs from this build's.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from datetime import date, time
from pathlib import Path

from aion.streams.session_file import FORMAT_VERSION, SessionFileError, read_meta
from aion.streams.simulator import GENERATOR_VERSION, sidecar_paths, simulate

__all__ = [
    "SAMPLE_DATE",
    "SAMPLE_END",
    "SAMPLE_SEED",
    "SAMPLE_START",
    "sample_daily_history_path",
    "sample_session_path",
]

log = logging.getLogger(__name__)

SAMPLE_DATE = date(2025, 11, 18)
SAMPLE_SEED = 42
SAMPLE_START = time(9, 15)
SAMPLE_END = time(10, 0)


def _default_cache_dir() -> Path:
    """``$AION_CACHE_DIR`` if set, else ``~/.cache/aion``."""
    env = os.environ.get("AION_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "aion"


def _is_current(path: Path) -> bool:
    """Whether a cached sample exists, with both sidecars, from this build's versions."""
    if not path.exists() or not all(p.exists() for p in sidecar_paths(path)):
        return False
    try:
        meta = read_meta(path)
    except SessionFileError as exc:
        log.warning("cached sample %s is unreadable (%s); regenerating", path, exc)
        return False
    return (
        meta.format_version == FORMAT_VERSION
        and meta.extra.get("aion.generator_version") == GENERATOR_VERSION
        and meta.seed == SAMPLE_SEED
        and meta.trading_date == SAMPLE_DATE
    )


def sample_session_path(cache_dir: Path | None = None) -> Path:
    """Return the path of the sample session, generating it if needed.

    Generation happens in a temporary directory inside ``cache_dir`` and the files are
    renamed into place (sidecars first, the session file last), so concurrent callers
    and interrupted runs never see a partial sample.

    Args:
        cache_dir: Where to keep it; default ``$AION_CACHE_DIR`` or ``~/.cache/aion``.

    Returns:
        Path of the session Parquet file (sidecars next to it, see
        :func:`aion.streams.simulator.sidecar_paths`).
    """
    cache = Path(cache_dir) if cache_dir is not None else _default_cache_dir()
    name = f"sample-{SAMPLE_DATE.isoformat()}-s{SAMPLE_SEED}.parquet"
    path = cache / name
    if _is_current(path):
        return path
    cache.mkdir(parents=True, exist_ok=True)
    log.info("generating sample session into %s", path)
    tmp_dir = Path(tempfile.mkdtemp(prefix=".sample-", dir=cache))
    try:
        result = simulate(
            SAMPLE_DATE, SAMPLE_SEED, tmp_dir / name, start=SAMPLE_START, end=SAMPLE_END
        )
        for src, dst in zip(
            (*sidecar_paths(result.path), result.path), (*sidecar_paths(path), path), strict=True
        ):
            os.replace(src, dst)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return path


SAMPLE_HISTORY_DAYS = 60


def sample_daily_history_path(cache_dir: Path | None = None) -> Path:
    """Return the daily OHLCV history that precedes the sample, generating it if needed.

    60 simulated trading days before :data:`SAMPLE_DATE` for every traded instrument of
    the sample universe (CSV, ``aion baselines build`` input).

    Args:
        cache_dir: As for :func:`sample_session_path`.

    Returns:
        Path of the CSV file.
    """
    from aion.streams.simulator.daily import simulate_daily_history, write_daily_csv

    cache = Path(cache_dir) if cache_dir is not None else _default_cache_dir()
    path = cache / (f"sample-{SAMPLE_DATE.isoformat()}-s{SAMPLE_SEED}"
                    f".daily-{SAMPLE_HISTORY_DAYS}d-v{GENERATOR_VERSION}.csv")
    if path.exists():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".daily-", suffix=".csv", dir=cache)
    os.close(fd)
    try:
        write_daily_csv(simulate_daily_history(SAMPLE_DATE, SAMPLE_SEED, SAMPLE_HISTORY_DAYS),
                        Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
