"""Calibration statistics of a session: the contract the simulator is compared against.

Issue 12 measured a real NSE day (2022-11-18, NIFTY and BANKNIFTY near-month futures and
ATM options, tick by tick) and three simulated days. This module computes the same
statistics for any session file, so a simulated day can be scored against the real
figures (:mod:`aion.streams.simulator.calibration_targets`). Everything here is pure
computation over a loaded session (:func:`load_session` is the only I/O); nothing prints.

Inputs and grid:

* Instruments: the near-month futures of NIFTY and BANKNIFTY, their nearest-expiry
  options, the two indices (the reference price for "at the money") and, when present,
  the stocks (used only by the background statistics).
* Time: a packet's exchange timestamp (its receive time when it has none), as seconds
  after 09:15:00 IST; minute ``m`` covers ``[60 m, 60 m + 60)``; 375 minutes to 15:30.
* Per instrument and minute: the close (last traded price at the end of the minute,
  carried forward), the volume (sum of positive increments of the cumulative day volume
  between consecutive packets, attributed to the later packet's minute), the packet
  count and the count of volume-bearing packets (cumulative volume above the previous
  packet's).
* ``r[m] = log(close[m] / close[m-1])``: the 1-minute log return.

Definitions (``σ_loc``, baselines and ranges used by several statistics):

* **Local sigma** ``σ_loc[m]``: sample standard deviation (ddof 1) of the 30 1-minute
  returns ending at minute ``m`` (``r[m-29..m]``), at least 20 of them finite; it is known
  at the end of minute ``m`` and so never includes the move it scales.
* **Volume baseline** ``b[m]``: median of the minute volumes over the centred 31-minute
  window around ``m`` (at least 10 minutes). It follows the day's own time-of-day profile
  (the U), and a median ignores a burst of a few minutes. A **volume burst multiple** is
  ``v[m] / b[m]``.
* **Background**: minutes outside every labelled event window of that instrument
  (``FILE.events.json``; a real day has no labels, so all of it is background).
* Per-instrument statistics report one value per instrument (the issue's ranges are
  ranges over instruments, e.g. the two futures).

Statistics (report keys):

* ``move_p999_sigma`` / ``move_max_sigma``: 99.9th percentile / maximum over background
  windows of ``|log close[m+5] - log close[m]| / (σ_loc[m] * sqrt(5))``, every start
  minute ``m``, pooled over futures and stocks (options are left out: their moves are
  leveraged copies of the underlying's). A window touching a label is not background.
* ``burst_p999`` / ``burst_max``: 99.9th percentile / maximum of ``v[m] / b[m]`` over
  background minutes, pooled over futures and stocks.
* ``volume_return_corr``: per future, Spearman rank correlation over background minutes
  of ``v[m] / b[m]`` and ``|r[m]| / a[m]``, where ``a[m]`` is the centred 31-minute
  median of ``|r|``: both series divided by their own time-of-day level, so the shared
  U-shape of volume and volatility does not count as correlation.
* ``kurtosis_futures`` / ``kurtosis_options``: excess (Fisher) kurtosis, biased moment
  estimator, of the 1-minute returns of each future / of each option nearest the money
  at the first minute (CE and PE of both underlyings), over background returns: both
  minutes outside the labels of the chain's index, its future (and the option). The
  real figures come from a day with nothing notable; a labelled 6σ event is a tail the
  day was given on purpose. Otherwise raw returns: the intraday volatility U
  contributes, as it does on a real day. Fewer than ``MIN_KURTOSIS_RETURNS`` background
  returns (a long labelled range-bound day) gives NaN, shown as ``n/a``: a fourth
  moment of a few quiet hours says little (one-day 95 % range 0.2-4.2 at 250 returns).
* ``acf1_futures``: per future, Pearson correlation of ``r[m]`` with ``r[m-1]`` over
  background minutes (as for the kurtosis: outside the labels of the future and its
  index): a labelled trend is serial correlation by design.
* ``size_ratio_futures`` / ``size_median_futures`` / ``size_max_futures``: per future,
  trade size = incremental volume between consecutive volume-bearing packets, in lots
  (lot size from the instrument master); 99th percentile (linear interpolation) over the
  median, the median and the maximum.
* ``futures_vticks_per_min`` / ``futures_vticks_swing``: per future, mean volume-bearing
  packets per minute over the covered minutes, and max/min over the 15-minute windows
  (09:15, 09:30, ...) fully covered by the session of the windows' mean per minute
  ("swinging 3x" is 3, flat is about 1).
* ``atm_ticks_per_min`` / ``atm_ticks_swing``: per underlying, packets per minute of
  one ATM contract (mean of the CE and PE); the ATM strike of minute ``m`` is the listed
  strike nearest the index at the end of minute ``m-1`` (of ``m`` for the first); the
  swing as above.
* ``nifty_share_first`` / ``_mid`` / ``_last``: the NIFTY future's volume in
  09:15-09:30, 12:15-12:30 and 15:15-15:30 as a percentage of its volume over the whole
  session (increments only, so volume traded before the first packet is not counted).
  NaN when the session does not cover the window or the whole day.
* ``option_future_corr`` / ``option_future_slope``: per underlying and option type,
  over minutes ``m``: the option is the one at the ATM strike of minute ``m`` (as above),
  ``Δo = close_opt[m] - close_opt[m-1]`` and ``Δf`` the same for the future, in rupees;
  ``|corr(Δo, Δf)|`` and ``|cov(Δo, Δf) / var(Δf)|`` (a delta-like slope).
* ``strike_follows`` / ``strike_at_prev_atm``: per underlying, 15-minute windows; the
  most-traded strike is the strike with the largest CE + PE volume in the window; the
  window's ATM is the strike nearest the index for the most covered minutes of the
  window (minute closes; a tie goes to the higher strike): where the market sat while the
  window's volume traded, not where it ended up; the
  previous close's ATM is the strike nearest the index's previous close. ``follows``:
  fraction, among windows whose ATM differs from the previous close's ATM, where the
  most-traded strike is the window's ATM (NaN when the market never left the previous
  close's strike: undecided). ``at_prev_atm``: fraction of all windows where the
  most-traded strike is the previous close's ATM.
* Events (from the labels): per event type, count and per event: ``|log close[end] - log
  close[before start]|`` in percent and in ``σ_loc[before start] * sqrt(minutes)``; the
  larger leg in the same units (legs: from before the start to the extreme of the window,
  and from the extreme to the end; a reversal's two legs); minutes; peak ``v / b`` inside
  the window; the volatility ratio ``std(r)`` inside (demeaned, ddof 1, at least 3
  returns) over ``σ_loc`` before the start. An event from the open (a gap) is measured
  from the previous close and has no ``σ_loc`` (no history yet).

Assumptions: a real session has the same packet layout as Kite's full mode (cumulative
day volume, last price, exchange timestamp); the indices are recorded (a session without
them uses the future's price for ATM, off by the carry); windows are IST wall clock.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from aion.streams.batch import decode_packets
from aion.streams.codec import IST
from aion.streams.instruments import Instrument, InstrumentMaster
from aion.streams.session_file import iter_batches, read_meta
from aion.streams.simulator.events import load_events_json
from aion.streams.simulator.generate import sidecar_paths

__all__ = [
    "MINUTES",
    "MIN_KURTOSIS_RETURNS",
    "CalibrationInput",
    "MinutePanel",
    "Stat",
    "background_kurtosis",
    "background_returns",
    "calibration_report",
    "event_stats",
    "excess_kurtosis",
    "lag1_autocorr",
    "load_session",
    "local_sigma",
    "minute_panel",
    "quiet_returns",
    "rolling_median",
]

MINUTES = 375
"""Minutes from 09:15 to 15:30."""

SIGMA_WINDOW = 30
SIGMA_MIN_OBS = 20
BASELINE_WINDOW = 31
BASELINE_MIN_OBS = 10
MOVE_MINUTES = 5
WINDOW_MINUTES = 15
DERIV_NAMES = ("NIFTY", "BANKNIFTY")
_OPEN = time(9, 15)
_SHARE_WINDOWS = {"first": 0, "mid": 180, "last": 360}  # start minute of 09:15, 12:15, 15:15

TICKS_DTYPE = np.dtype(
    [("token", "u4"), ("sec", "i8"), ("last_price", "f8"), ("volume", "i8")]
)
"""One packet as the statistics need it: token, seconds after 09:15:00 IST, last price,
cumulative day volume (0 for indices). Rows in receive order."""


@dataclass(frozen=True, slots=True)
class Event:
    """One labelled event, in seconds after 09:15:00 IST."""

    token: int
    event_type: str
    start_s: int
    end_s: int


@dataclass(frozen=True, slots=True)
class CalibrationInput:
    """A session reduced to what the statistics need.

    Attributes:
        trading_date: The session date.
        instruments: Instruments the ticks refer to (futures, options, indices, stocks).
        ticks: Packets as :data:`TICKS_DTYPE`, in receive order.
        prev_close: Previous close per token (from the packets' ``close``).
        events: Labelled events (empty for a real day).
    """

    trading_date: date
    instruments: tuple[Instrument, ...]
    ticks: np.ndarray
    prev_close: Mapping[int, float] = field(default_factory=dict)
    events: tuple[Event, ...] = ()


@dataclass(frozen=True, slots=True)
class Stat:
    """One statistic of a report.

    Attributes:
        values: One value per instrument (or a single pooled value); NaN when it could
            not be measured.
        names: What each value is about (e.g. the tradingsymbol), same length.
    """

    values: tuple[float, ...]
    names: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """Values as text: one number, or ``lo .. hi`` over instruments (+ n/a count)."""
        finite = [v for v in self.values if math.isfinite(v)]
        if not finite:
            return "n/a"
        lo, hi = min(finite), max(finite)
        text = _fmt(lo) if lo == hi else f"{_fmt(lo)} .. {_fmt(hi)}"
        missing = len(self.values) - len(finite)
        return f"{text} ({missing} n/a)" if missing else text


def _fmt(v: float) -> str:
    return f"{v:.3g}" if abs(v) < 100 else f"{v:,.0f}"


@dataclass(frozen=True, slots=True)
class MinutePanel:
    """Per-instrument minute series (rows in the order of ``tokens``).

    Attributes:
        tokens: Instrument tokens, one row each.
        close: Last traded price at the end of each minute, carried forward (NaN before
            the first trade).
        volume: Volume traded in each minute.
        ticks: Packets per minute.
        vticks: Volume-bearing packets per minute.
        covered: Minutes the session covers (first to last packet minute, any instrument).
    """

    tokens: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    ticks: np.ndarray
    vticks: np.ndarray
    covered: np.ndarray

    def row(self, token: int) -> int:
        """Row of a token.

        Raises:
            KeyError: If the token is not in the panel.
        """
        hit = np.flatnonzero(self.tokens == token)
        if not len(hit):
            raise KeyError(token)
        return int(hit[0])


# --- loading ------------------------------------------------------------------------------


def _session_instruments(master: InstrumentMaster) -> list[Instrument]:
    """Near-month futures, nearest-expiry options, indices and stocks of a master."""
    chosen: list[Instrument] = []
    for name in DERIV_NAMES:
        futs = [i for i in master if i.is_future and i.name == name and i.expiry]
        if futs:
            chosen.append(min(futs, key=lambda i: i.expiry or date.max))
        opts = [i for i in master if i.is_option and i.name == name and i.expiry]
        if opts:
            nearest = min(i.expiry or date.max for i in opts)
            chosen.extend(i for i in opts if i.expiry == nearest)
    chosen.extend(i for i in master if i.is_index or (i.segment == "NSE" and not i.is_fno))
    return chosen


def _event_seconds(text: str, trading_date: date) -> int:
    base = datetime.combine(trading_date, _OPEN, tzinfo=IST)
    return int((datetime.fromisoformat(text) - base).total_seconds())


def load_session(path: Path, master: InstrumentMaster | None = None) -> CalibrationInput:
    """Read a session file and its sidecars into a :class:`CalibrationInput`.

    Args:
        path: The session Parquet file.
        master: Its instrument master (default: the ``FILE.instruments.csv`` sidecar).

    Returns:
        The reduced session; labels from ``FILE.events.json`` when it exists.

    Raises:
        SessionFileError: If the file is not a session file.
        FileNotFoundError: If no master is given and the sidecar is missing.
    """
    path = Path(path)
    meta = read_meta(path)
    instruments_path, events_path = sidecar_paths(path)
    if master is None:
        master = InstrumentMaster.from_csv(instruments_path)
    chosen = _session_instruments(master)
    wanted = np.array(sorted({i.instrument_token for i in chosen}), dtype=np.uint32)
    day_open = int(datetime.combine(meta.trading_date, _OPEN, tzinfo=IST).timestamp())
    parts: list[np.ndarray] = []
    prev_close: dict[int, float] = {}
    for recv, toks, packets in iter_batches(path):
        keep = np.flatnonzero(np.isin(toks, wanted))
        if not len(keep):
            continue
        rows = decode_packets([packets[k] for k in keep])
        good = rows["error"] == 0
        rows = rows[good]
        ts = np.where(rows["exchange_ts"] > 0, rows["exchange_ts"],
                      recv[keep][good] // 1_000_000_000)
        out = np.empty(len(rows), dtype=TICKS_DTYPE)
        out["token"] = rows["token"]
        out["sec"] = ts - day_open
        out["last_price"] = rows["last_price"]
        out["volume"] = rows["volume"]
        parts.append(out)
        idx = rows["close"] > 0
        prev_close.update(zip(rows["token"][idx].tolist(), rows["close"][idx].tolist(),
                              strict=True))
    ticks = np.concatenate(parts) if parts else np.empty(0, dtype=TICKS_DTYPE)
    # A real master lists thousands of instruments; keep those the session recorded.
    present = set(np.unique(ticks["token"]).tolist())
    chosen = [i for i in chosen if i.instrument_token in present]
    events: list[Event] = []
    if events_path.is_file():
        for e in load_events_json(events_path):
            events.append(Event(int(str(e["token"])), str(e["event_type"]),
                                _event_seconds(str(e["start"]), meta.trading_date),
                                _event_seconds(str(e["end"]), meta.trading_date)))
    return CalibrationInput(
        trading_date=meta.trading_date,
        instruments=tuple(chosen),
        ticks=ticks,
        prev_close=prev_close,
        events=tuple(events),
    )


# --- minute grid and building blocks ------------------------------------------------------


def minute_panel(ticks: np.ndarray, tokens: Sequence[int]) -> MinutePanel:
    """Build the per-minute series of some instruments from packets.

    Args:
        ticks: Packets as :data:`TICKS_DTYPE`, in receive order.
        tokens: The instruments wanted (rows of the panel, in this order).

    Returns:
        The panel; packets outside 09:15-15:30 are ignored.
    """
    tok = np.asarray(tokens, dtype=np.uint32)
    n = len(tok)
    close = np.full((n, MINUTES), np.nan)
    volume = np.zeros((n, MINUTES))
    counts = np.zeros((n, MINUTES))
    vcounts = np.zeros((n, MINUTES))
    minute_all = ticks["sec"] // 60
    inside = (minute_all >= 0) & (minute_all < MINUTES)
    covered = np.zeros(MINUTES, dtype=bool)
    if inside.any():
        covered[int(minute_all[inside].min()): int(minute_all[inside].max()) + 1] = True
    # One stable sort by token, then a slice per instrument (receive order kept).
    by_token = ticks[np.argsort(ticks["token"], kind="stable")]
    lo = np.searchsorted(by_token["token"], tok, side="left")
    hi = np.searchsorted(by_token["token"], tok, side="right")
    for r in range(n):
        mine = by_token[lo[r]: hi[r]]
        m = mine["sec"] // 60
        dv = np.diff(mine["volume"], prepend=mine["volume"][:1])  # first packet: no increment
        ok = (m >= 0) & (m < MINUTES)
        m, dv, px = m[ok], dv[ok], mine["last_price"][ok]
        np.add.at(counts[r], m, 1)
        np.add.at(vcounts[r], m, dv > 0)
        np.add.at(volume[r], m, np.maximum(dv, 0))
        traded = px > 0
        last = pd.Series(px[traded]).groupby(m[traded]).last()
        close[r, last.index.to_numpy()] = last.to_numpy()
        close[r] = pd.Series(close[r]).ffill().to_numpy()
    return MinutePanel(tok, close, volume, counts, vcounts, covered)


def log_returns(close: np.ndarray) -> np.ndarray:
    """1-minute log returns ``r[m] = log(close[m] / close[m-1])`` (NaN at minute 0)."""
    logp = np.log(close)
    r = np.full_like(logp, np.nan)
    r[..., 1:] = np.diff(logp, axis=-1)
    return r


def local_sigma(r: np.ndarray) -> np.ndarray:
    """``σ_loc``: rolling std (ddof 1) of the last 30 returns, at least 20 finite."""
    return pd.Series(r).rolling(SIGMA_WINDOW, min_periods=SIGMA_MIN_OBS).std().to_numpy()


def rolling_median(x: np.ndarray) -> np.ndarray:
    """Centred 31-minute median, at least 10 finite values: the time-of-day baseline."""
    return (
        pd.Series(x)
        .rolling(BASELINE_WINDOW, center=True, min_periods=BASELINE_MIN_OBS)
        .median()
        .to_numpy()
    )


MIN_KURTOSIS_RETURNS = 250
"""Fewest background 1-minute returns a kurtosis is reported on (else NaN, ``n/a``)."""


def background_kurtosis(r: np.ndarray, quiet: np.ndarray) -> float:
    """Excess kurtosis of the background returns, NaN if fewer than the minimum."""
    x = quiet_returns(r, quiet)
    x = x[np.isfinite(x)]
    return excess_kurtosis(x) if len(x) >= MIN_KURTOSIS_RETURNS else math.nan


def excess_kurtosis(x: np.ndarray) -> float:
    """Excess (Fisher) kurtosis, biased moment estimator, of the finite values."""
    x = x[np.isfinite(x)]
    if len(x) < 4:
        return math.nan
    d = x - x.mean()
    m2 = float(np.mean(d**2))
    return float(np.mean(d**4)) / m2**2 - 3.0 if m2 > 0 else math.nan


def lag1_autocorr(r: np.ndarray, keep: np.ndarray | None = None) -> float:
    """Pearson correlation of ``r[m]`` with ``r[m-1]`` over pairs where both are finite.

    Args:
        r: Returns.
        keep: Optional mask of usable returns: a pair counts only if both are kept.
    """
    a, b = r[1:], r[:-1]
    ok = np.isfinite(a) & np.isfinite(b)
    if keep is not None:
        ok &= keep[1:] & keep[:-1]
    return _pearson(a[ok], b[ok])


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 3 or a.std() == 0 or b.std() == 0:
        return math.nan
    return float(np.corrcoef(a, b)[0, 1])


def event_mask(events: Sequence[Event], token: int) -> np.ndarray:
    """Minutes of ``token`` touched by a labelled event window (bool, length 375)."""
    mask = np.zeros(MINUTES, dtype=bool)
    for e in events:
        if e.token == token:
            a = max(e.start_s // 60, 0)
            b = min(-(-e.end_s // 60), MINUTES)
            mask[a:b] = True
    return mask


def move_sigmas(close: np.ndarray, background: np.ndarray) -> np.ndarray:
    """``|5-min move| / (σ_loc * sqrt(5))`` of background windows (finite values only).

    Args:
        close: One instrument's minute closes.
        background: Minutes outside labels; a window counts when minutes ``m..m+5`` are.
    """
    logp = np.log(close)
    sig = local_sigma(log_returns(close))
    h = MOVE_MINUTES
    move = logp[h:] - logp[:-h]
    scale = sig[:-h] * math.sqrt(h)
    win_ok = pd.Series(background.astype(float)).rolling(h + 1).min().to_numpy()[h:] == 1
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.abs(move) / scale
    return z[win_ok & np.isfinite(z) & (scale > 0)]


def burst_multiples(volume: np.ndarray, background: np.ndarray,
                    covered: np.ndarray) -> np.ndarray:
    """``v / b`` of the background, covered minutes with a positive baseline."""
    vol = np.where(covered, volume, np.nan)
    base = rolling_median(vol)
    with np.errstate(invalid="ignore", divide="ignore"):
        mult = vol / base
    return mult[background & covered & (base > 0) & np.isfinite(mult)]


def volume_return_corr(close: np.ndarray, volume: np.ndarray, background: np.ndarray,
                       covered: np.ndarray) -> float:
    """Spearman correlation of ``v / b`` and ``|r| / median|r|`` over background minutes."""
    vol = np.where(covered, volume, np.nan)
    ar = np.abs(log_returns(close))
    ar = np.where(covered, ar, np.nan)
    vb, ab = rolling_median(vol), rolling_median(ar)
    with np.errstate(invalid="ignore", divide="ignore"):
        x, y = vol / vb, ar / ab
    ok = background & covered & np.isfinite(x) & np.isfinite(y) & (vb > 0) & (ab > 0)
    if ok.sum() < 10:
        return math.nan
    rho = spearmanr(x[ok], y[ok]).statistic
    return float(rho)


def trade_sizes(ticks: np.ndarray, token: int, lot: int) -> np.ndarray:
    """Incremental volume between consecutive volume-bearing packets, in lots."""
    vol = ticks["volume"][ticks["token"] == token]
    dv = np.diff(vol)
    return dv[dv > 0] / max(lot, 1)


def window_swing(per_minute: np.ndarray, covered: np.ndarray) -> float:
    """Max / min over fully covered 15-minute windows of the window's mean per minute."""
    means = [
        float(per_minute[a: a + WINDOW_MINUTES].mean())
        for a in range(0, MINUTES, WINDOW_MINUTES)
        if covered[a: a + WINDOW_MINUTES].all()
    ]
    if len(means) < 2 or min(means) <= 0:
        return math.nan
    return max(means) / min(means)


def nearest_strike(strikes: np.ndarray, price: np.ndarray) -> np.ndarray:
    """The listed strike nearest each price (NaN where the price is NaN)."""
    price = np.asarray(price, dtype=float)
    idx = np.abs(price[..., None] - strikes[None, :]).argmin(axis=-1)
    return np.where(np.isfinite(price), strikes[idx], np.nan)


# --- the report ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Chain:
    """One underlying's future, index and nearest-expiry options in a panel."""

    name: str
    future: Instrument | None
    index_token: int | None
    strikes: np.ndarray
    calls: dict[float, int]
    puts: dict[float, int]


def _chains(instruments: Sequence[Instrument]) -> list[_Chain]:
    by_symbol = {i.symbol: i for i in instruments}
    out = []
    for name in DERIV_NAMES:
        fut = next((i for i in instruments if i.is_future and i.name == name), None)
        opts = [i for i in instruments if i.is_option and i.name == name]
        if fut is None and not opts:
            continue
        index = by_symbol.get((fut or opts[0]).underlying or "")
        calls = {i.strike: i.instrument_token for i in opts if i.instrument_type == "CE"}
        puts = {i.strike: i.instrument_token for i in opts if i.instrument_type == "PE"}
        strikes = np.array(sorted(set(calls) & set(puts)), dtype=float)
        out.append(_Chain(name, fut, index.instrument_token if index else None, strikes,
                          calls, puts))
    return out


def _reference(panel: MinutePanel, chain: _Chain) -> np.ndarray:
    """The underlying's price per minute: the index, else the future."""
    for tok in (chain.index_token, chain.future.instrument_token if chain.future else None):
        if tok is not None and tok in panel.tokens:
            return panel.close[panel.row(tok)]
    return np.full(MINUTES, np.nan)


def _atm_by_minute(panel: MinutePanel, chain: _Chain) -> np.ndarray:
    """ATM strike of minute ``m``: nearest the reference at the end of ``m-1`` (``m`` at 0)."""
    ref = _reference(panel, chain)
    lagged = np.concatenate([ref[:1], ref[:-1]])
    return nearest_strike(chain.strikes, lagged)


def _book(chain: _Chain, kind: str) -> dict[float, int]:
    return chain.calls if kind == "CE" else chain.puts


def _option_row(panel: MinutePanel, chain: _Chain, strike: float, kind: str) -> int:
    return panel.row(_book(chain, kind)[strike])


def _chain_quiet(session: CalibrationInput, chain: _Chain, *tokens: int) -> np.ndarray:
    """Minutes outside every label on the chain's index, its future and ``tokens``.

    A label on the index (a chain event) or on the future moves every contract of the
    chain, so none of them is background inside it.
    """
    own = [chain.index_token, chain.future.instrument_token if chain.future else None]
    touched = np.zeros(MINUTES, dtype=bool)
    for tok in (*own, *tokens):
        if tok is not None:
            touched |= event_mask(session.events, tok)
    return ~touched


def background_returns(quiet: np.ndarray) -> np.ndarray:
    """Mask of the returns ``r[m]`` (minute ``m-1`` to ``m``) whose two minutes are quiet."""
    keep = quiet.copy()
    keep[1:] &= quiet[:-1]
    return keep


def quiet_returns(r: np.ndarray, quiet: np.ndarray) -> np.ndarray:
    """The returns ``r[m]`` whose two minutes are both quiet (:func:`background_returns`)."""
    return r[background_returns(quiet)]


def calibration_report(session: CalibrationInput) -> dict[str, Stat]:
    """Compute every statistic of the module docstring for one session.

    Args:
        session: The loaded session.

    Returns:
        Statistic key (see :mod:`.calibration_targets`) to :class:`Stat`; event
        statistics under ``event:<type>:<what>``.
    """
    insts = session.instruments
    panel = minute_panel(session.ticks, [i.instrument_token for i in insts])
    chains = _chains(insts)
    futures = [c.future for c in chains if c.future is not None]
    rep: dict[str, Stat] = {}

    def rows_of(group: Sequence[Instrument]) -> list[tuple[Instrument, int]]:
        return [(i, panel.row(i.instrument_token)) for i in group]

    def background(inst: Instrument) -> np.ndarray:
        return ~event_mask(session.events, inst.instrument_token)

    quiet_of = {c.future.instrument_token: _chain_quiet(session, c)
                for c in chains if c.future is not None}

    # Background moves and bursts: futures and stocks, pooled.
    pool = [i for i in insts if i.is_future or (i.segment == "NSE" and not i.is_fno)]
    moves, bursts = [], []
    for inst, r in rows_of(pool):
        bg = background(inst) & panel.covered
        moves.append(move_sigmas(panel.close[r], bg))
        bursts.append(burst_multiples(panel.volume[r], bg, panel.covered))
    mv, bu = np.concatenate(moves or [np.empty(0)]), np.concatenate(bursts or [np.empty(0)])
    rep["move_p999_sigma"] = Stat((_pct(mv, 99.9),))
    rep["move_max_sigma"] = Stat((float(mv.max()) if len(mv) else math.nan,))
    rep["burst_p999"] = Stat((_pct(bu, 99.9),))
    rep["burst_max"] = Stat((float(bu.max()) if len(bu) else math.nan,))

    fut_rows = rows_of(futures)
    names = tuple(i.tradingsymbol for i, _ in fut_rows)
    rets = {i.instrument_token: log_returns(panel.close[r]) for i, r in fut_rows}
    rep["volume_return_corr"] = Stat(tuple(
        volume_return_corr(panel.close[r], panel.volume[r], background(i), panel.covered)
        for i, r in fut_rows), names)
    rep["kurtosis_futures"] = Stat(tuple(
        background_kurtosis(rets[i.instrument_token], quiet_of[i.instrument_token])
        for i, _ in fut_rows), names)
    rep["acf1_futures"] = Stat(tuple(
        lag1_autocorr(rets[tok], background_returns(quiet_of[tok]))
        for tok in (i.instrument_token for i, _ in fut_rows)), names)
    sizes = [trade_sizes(session.ticks, i.instrument_token, i.lot_size) for i, _ in fut_rows]
    rep["size_median_futures"] = Stat(tuple(_pct(s, 50) for s in sizes), names)
    rep["size_ratio_futures"] = Stat(tuple(_pct(s, 99) / _pct(s, 50) for s in sizes), names)
    rep["size_max_futures"] = Stat(tuple(float(s.max()) if len(s) else math.nan
                                         for s in sizes), names)
    cov = panel.covered
    rep["futures_vticks_per_min"] = Stat(tuple(float(panel.vticks[r][cov].mean())
                                               for _, r in fut_rows), names)
    rep["futures_vticks_swing"] = Stat(tuple(window_swing(panel.vticks[r], cov)
                                             for _, r in fut_rows), names)

    nifty = next((f for f in futures if f.name == "NIFTY"), None)
    if nifty is not None:
        vol = panel.volume[panel.row(nifty.instrument_token)]
        total = vol[cov].sum()
        whole_day = bool(cov.all()) and total > 0
        for key, a in _SHARE_WINDOWS.items():
            share = 100.0 * vol[a: a + WINDOW_MINUTES].sum() / total if whole_day else math.nan
            rep[f"nifty_share_{key}"] = Stat((float(share),), (nifty.tradingsymbol,))

    _option_stats(session, panel, chains, rep)
    rep.update(event_stats(session, panel))
    return rep


def _pct(x: np.ndarray, q: float) -> float:
    return float(np.percentile(x, q)) if len(x) else math.nan


def _option_stats(session: CalibrationInput, panel: MinutePanel, chains: Sequence[_Chain],
                  rep: dict[str, Stat]) -> None:
    """ATM tick counts, option kurtosis, option-vs-future co-movement, liquid strike."""
    cov = panel.covered
    tick_mean, tick_swing, kurt, corr, slope, follows, at_prev = ([] for _ in range(7))
    chain_names, opt_names, pair_names = [], [], []
    minutes = np.arange(MINUTES)
    for c in chains:
        if not len(c.strikes):
            continue
        atm = _atm_by_minute(panel, c)
        ok = np.isfinite(atm) & cov
        if not ok.any():
            continue
        per_min = np.full(MINUTES, np.nan)
        for m in minutes[ok]:
            per_min[m] = 0.5 * (panel.ticks[_option_row(panel, c, atm[m], "CE"), m]
                                + panel.ticks[_option_row(panel, c, atm[m], "PE"), m])
        tick_mean.append(float(np.nanmean(per_min)))
        tick_swing.append(window_swing(np.nan_to_num(per_min), cov & ok))
        chain_names.append(c.name)
        first = int(minutes[ok][0])
        for kind in ("CE", "PE"):
            r = _option_row(panel, c, atm[first], kind)
            quiet = _chain_quiet(session, c, _book(c, kind)[atm[first]])
            kurt.append(background_kurtosis(log_returns(panel.close[r]), quiet))
            opt_names.append(f"{c.name} {atm[first]:g} {kind}")
        if c.future is not None:
            fclose = panel.close[panel.row(c.future.instrument_token)]
            for kind in ("CE", "PE"):
                do, df = [], []
                for m in minutes[1:][ok[1:]]:
                    oc = panel.close[_option_row(panel, c, atm[m], kind)]
                    do.append(oc[m] - oc[m - 1])
                    df.append(fclose[m] - fclose[m - 1])
                a, b = np.array(do), np.array(df)
                fin = np.isfinite(a) & np.isfinite(b)
                a, b = a[fin], b[fin]
                corr.append(abs(_pearson(a, b)))
                var = float(b.var())
                slope.append(abs(float(np.mean((a - a.mean()) * (b - b.mean()))) / var)
                             if var > 0 else math.nan)
                pair_names.append(f"{c.name} {kind}")
        f, p = _liquid_strike(session, panel, c)
        follows.append(f)
        at_prev.append(p)
    rep["atm_ticks_per_min"] = Stat(tuple(tick_mean), tuple(chain_names))
    rep["atm_ticks_swing"] = Stat(tuple(tick_swing), tuple(chain_names))
    rep["kurtosis_options"] = Stat(tuple(kurt), tuple(opt_names))
    rep["option_future_corr"] = Stat(tuple(corr), tuple(pair_names))
    rep["option_future_slope"] = Stat(tuple(slope), tuple(pair_names))
    rep["strike_follows"] = Stat(tuple(follows), tuple(chain_names))
    rep["strike_at_prev_atm"] = Stat(tuple(at_prev), tuple(chain_names))


def _liquid_strike(session: CalibrationInput, panel: MinutePanel,
                   c: _Chain) -> tuple[float, float]:
    """(follows, at previous close's ATM) fractions of the 15-minute windows."""
    ref = _reference(panel, c)
    prev = session.prev_close.get(c.index_token) if c.index_token is not None else None
    if prev is None:
        return math.nan, math.nan
    prev_atm = float(nearest_strike(c.strikes, np.array([prev]))[0])
    strike_vol = np.array([
        panel.volume[panel.row(c.calls[k])] + panel.volume[panel.row(c.puts[k])]
        for k in c.strikes
    ])  # (strikes, minutes)
    moved = hit = at_prev = windows = 0
    for a in range(0, MINUTES, WINDOW_MINUTES):
        span = np.arange(a, a + WINDOW_MINUTES)
        span = span[panel.covered[span] & np.isfinite(ref[span])]
        if not len(span):
            continue
        vol = strike_vol[:, span].sum(axis=1)
        if vol.max() <= 0:
            continue
        top = float(c.strikes[int(vol.argmax())])
        sat, n_min = np.unique(nearest_strike(c.strikes, ref[span]), return_counts=True)
        atm = float(sat[len(n_min) - 1 - int(n_min[::-1].argmax())])
        windows += 1
        at_prev += top == prev_atm
        if atm != prev_atm:
            moved += 1
            hit += top == atm
    follows = hit / moved if moved else math.nan
    return follows, (at_prev / windows if windows else math.nan)


def event_stats(session: CalibrationInput, panel: MinutePanel | None = None) -> dict[str, Stat]:
    """Size of each labelled event, grouped by type (see the module docstring).

    Args:
        session: The loaded session (its ``events``).
        panel: A panel holding the events' instruments (built when omitted).

    Returns:
        ``event:<type>:count``, ``:pct``, ``:sigma``, ``:leg_sigma``, ``:minutes``,
        ``:volume_x`` and ``:vol_ratio`` statistics (one value per event, except the
        count).
    """
    if panel is None:
        panel = minute_panel(session.ticks, sorted({e.token for e in session.events}))
    by_type: dict[str, list[tuple[float, ...]]] = {}
    for e in session.events:
        if e.token not in panel.tokens:
            continue
        r = panel.row(e.token)
        close, vol = panel.close[r], np.where(panel.covered, panel.volume[r], np.nan)
        ms, me = max(e.start_s // 60, 0), min(-(-e.end_s // 60), MINUTES)
        # An event from the open (a gap) starts from the previous close.
        before = close[ms - 1] if ms else session.prev_close.get(e.token, math.nan)
        if me <= ms or not before > 0:
            continue
        rets = log_returns(close)
        sig = local_sigma(rets)[ms - 1] if ms else math.nan
        path = np.log(close[ms:me] / before)
        if not np.isfinite(path).all():
            continue
        move = abs(float(path[-1]))
        k = int(np.nanargmax(np.abs(path)))  # the extreme: the end of the first leg
        legs = [abs(float(path[k])) / math.sqrt(k + 1)]
        if k < len(path) - 1:
            legs.append(abs(float(path[-1] - path[k])) / math.sqrt(len(path) - 1 - k))
        leg = max(legs) / sig if sig > 0 else math.nan
        inside = rets[ms + 1: me] if me - ms >= 4 else np.empty(0)
        inside = inside[np.isfinite(inside)]
        vr = float(inside.std(ddof=1) / sig) if len(inside) >= 3 and sig > 0 else math.nan
        base = rolling_median(vol)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = vol[ms:me] / base[ms:me]
        ratio = ratio[np.isfinite(ratio)]
        peak = float(ratio.max()) if len(ratio) else math.nan
        z = move / (sig * math.sqrt(me - ms)) if sig > 0 else math.nan
        by_type.setdefault(e.event_type, []).append((100 * move, z, leg, me - ms, peak, vr))
    out: dict[str, Stat] = {}
    for kind, rows in sorted(by_type.items()):
        cols = list(zip(*rows, strict=True))
        out[f"event:{kind}:count"] = Stat((float(len(rows)),))
        for name, col in zip(("pct", "sigma", "leg_sigma", "minutes", "volume_x",
                              "vol_ratio"), cols, strict=True):
            out[f"event:{kind}:{name}"] = Stat(tuple(float(v) for v in col))
    return out
