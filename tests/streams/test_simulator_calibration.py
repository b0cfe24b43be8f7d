"""Calibration statistics (streams/simulator/calibration.py) on constructed sessions with
known answers (oracles: scipy, pandas, closed forms) and on a small simulated session."""

from __future__ import annotations

import math
from collections import Counter
from datetime import date, time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from aion.streams.batch import decode_packets
from aion.streams.instruments import Instrument
from aion.streams.session_file import iter_batches
from aion.streams.simulator import simulate
from aion.streams.simulator.calibration import (
    MIN_KURTOSIS_RETURNS,
    MINUTES,
    TICKS_DTYPE,
    CalibrationInput,
    Event,
    Stat,
    background_kurtosis,
    background_returns,
    calibration_report,
    event_stats,
    lag1_autocorr,
    load_session,
    minute_panel,
    quiet_returns,
)
from aion.streams.simulator.calibration_targets import TARGETS, target

DAY = date(2022, 11, 18)
EXPIRY = date(2022, 11, 24)
LOT = 50
FUT, INDEX, STOCK = 1_001, 256_265, 3_001
STRIKES = (19_900.0, 20_000.0, 20_100.0)


def _inst(token: int, symbol: str, kind: str, strike: float = 0.0) -> Instrument:
    fno = kind in ("FUT", "CE", "PE")
    return Instrument(
        instrument_token=token, exchange_token=token >> 8, tradingsymbol=symbol,
        name="NIFTY" if fno else symbol, last_price=0.0, expiry=EXPIRY if fno else None,
        strike=strike, tick_size=0.0 if symbol == "NIFTY 50" else 0.05,
        lot_size=LOT if fno else (0 if symbol == "NIFTY 50" else 1),
        instrument_type=kind, segment={"FUT": "NFO-FUT", "CE": "NFO-OPT", "PE": "NFO-OPT"}.get(
            kind, "INDICES" if symbol == "NIFTY 50" else "NSE"),
        exchange="NFO" if fno else "NSE",
    )


def _option_token(strike: float, kind: str) -> int:
    return 2_000 + int(strike) // 100 * 2 + (kind == "PE")


INSTRUMENTS = (
    _inst(FUT, "NIFTY22NOVFUT", "FUT"),
    _inst(INDEX, "NIFTY 50", "EQ"),
    _inst(STOCK, "ABC", "EQ"),
    *(_inst(_option_token(k, c), f"NIFTY22N24{k:.0f}{c}", c, k) for k in STRIKES
      for c in ("CE", "PE")),
)


class _Ticks:
    """Collects packets (token, second, price, cumulative volume) per instrument."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, int, float, int]] = []
        self.cum: Counter[int] = Counter()

    def add(self, token: int, sec: int, price: float, qty: int = 0) -> None:
        self.cum[token] += qty
        self.rows.append((token, sec, price, self.cum[token]))

    def array(self) -> np.ndarray:
        out = np.array(self.rows, dtype=TICKS_DTYPE)
        return out[np.argsort(out["sec"], kind="stable")]


@pytest.fixture(scope="module")
def built() -> dict[str, object]:
    """A whole constructed day with designed statistics (see each test)."""
    rng = np.random.default_rng(12)
    ticks = _Ticks()
    m = np.arange(MINUTES)
    # Future: Student-t(8) returns with AR(1) coefficient -0.3 (fat tails, mean reversion).
    eps = stats.t.rvs(8, size=MINUTES, random_state=rng) * 2e-4
    r = np.zeros(MINUTES)
    for i in range(1, MINUTES):
        r[i] = -0.3 * r[i - 1] + eps[i]
    fut = 20_050.0 * np.exp(np.cumsum(r))
    # Volume-bearing ticks: 30 a minute in the first half, 45 after; three quote-only
    # ticks a minute. The first tick's size grows with |return| (volume follows |r|).
    n_vol = np.where(m < 180, 30, 45)
    sizes: list[int] = []
    fut_volume = np.zeros(MINUTES)
    for i in m:
        big = 1 + round(abs(eps[i]) / 2e-4 * 20) + int(rng.pareto(1.5) * 3)
        for j in range(n_vol[i]):
            lots = big if j == 0 else 1 + int(rng.integers(0, 2))
            sizes.append(lots)
            fut_volume[i] += lots * LOT
            ticks.add(FUT, 60 * i + j, fut[i], lots * LOT)
        for j in range(3):
            ticks.add(FUT, 60 * i + 50 + j, fut[i])
    # Index: 20,000 until 11:15 (minute 120..179 too), 20,100 from minute 180 on.
    ref = np.where(m < 180, 20_000.0, 20_100.0)
    for i in m:
        ticks.add(INDEX, 60 * i, ref[i])
    # Options: the strike that is ATM in minute i (index at i-1) trades 40 (first half)
    # or 60 (second half) one-lot ticks a minute, the others 5. Prices follow the future
    # with delta 0.5 / -0.45 plus noise.
    atm = np.where(m <= 180, 20_000.0, 20_100.0)
    prices: dict[tuple[float, str], np.ndarray] = {}
    for k in STRIKES:
        for c, delta in (("CE", 0.5), ("PE", -0.45)):
            px = np.round(200.0 + delta * (fut - 20_050.0) + rng.normal(0, 2.0, MINUTES), 2)
            prices[(k, c)] = px
            for i in m:
                count = (40 if i <= 180 else 60) if atm[i] == k else 5
                for j in range(count):
                    ticks.add(_option_token(k, c), 60 * i + j * 60 // count, px[i], LOT)
    # A stock: 100 shares a minute, 1,000 at minute 100 (an unlabelled burst); returns
    # alternate +-s, with a 10 s jump at minute 250 (a move) and a labelled event in
    # minutes 300-304: log price +0.02 spread evenly, volume 500 a minute.
    s = 1e-3
    sr = np.where(m % 2 == 0, s, -s)
    sr[0] = 0.0
    sr[250] = 10 * s
    sr[300:305] = 0.004
    stock = 500.0 * np.exp(np.cumsum(sr))
    vol = np.full(MINUTES, 100)
    vol[100] = 1_000
    vol[300:305] = 500
    for i in m:
        ticks.add(STOCK, 60 * i, stock[i], 0)
        ticks.add(STOCK, 60 * i + 30, stock[i], int(vol[i]))
    event = Event(STOCK, "momentum", 300 * 60, 305 * 60)
    session = CalibrationInput(DAY, INSTRUMENTS, ticks.array(), {INDEX: 20_000.0}, (event,))
    return {
        "session": session, "report": calibration_report(session), "r": r, "fut": fut,
        "sizes": np.array(sizes, dtype=float), "fut_volume": fut_volume, "prices": prices,
        "atm": atm, "s": s, "stock": stock,
    }


def test_minute_panel_matches_a_pandas_groupby(built: dict) -> None:
    session: CalibrationInput = built["session"]
    panel = minute_panel(session.ticks, [FUT])
    df = pd.DataFrame(session.ticks[session.ticks["token"] == FUT])
    df["minute"] = df["sec"] // 60
    df["dv"] = df["volume"].diff().fillna(0)
    g = df.groupby("minute")
    np.testing.assert_array_equal(panel.volume[0], g["dv"].sum().to_numpy())
    np.testing.assert_array_equal(panel.ticks[0], g.size().to_numpy())
    np.testing.assert_array_equal(panel.vticks[0], g["dv"].apply(lambda x: (x > 0).sum()))
    np.testing.assert_allclose(panel.close[0], g["last_price"].last().to_numpy())
    assert panel.covered.all()


def test_kurtosis_and_autocorrelation_match_scipy_and_pandas(built: dict) -> None:
    rep = built["report"]
    r = np.diff(np.log(built["fut"]))
    assert rep["kurtosis_futures"].values[0] == pytest.approx(stats.kurtosis(r), rel=1e-9)
    assert rep["acf1_futures"].values[0] == pytest.approx(pd.Series(r).autocorr(1), rel=1e-9)
    # The designed process: an AR(1) coefficient of -0.3, recovered within sampling
    # error of 374 returns; Student-t(8) innovations (excess kurtosis 1.5, about 1.2
    # after the AR filter) show as fat tails, though a 374-return estimate is noisy.
    assert rep["acf1_futures"].values[0] == pytest.approx(-0.3, abs=0.12)
    assert rep["kurtosis_futures"].values[0] > 0.2
    # Options: the contracts nearest the money at the first minute (20,000 CE and PE).
    for value, kind in zip(rep["kurtosis_options"].values, ("CE", "PE"), strict=True):
        px = built["prices"][(20_000.0, kind)]
        assert value == pytest.approx(stats.kurtosis(np.diff(np.log(px))), rel=1e-9)


def test_trade_sizes_in_lots(built: dict) -> None:
    rep, sizes = built["report"], pd.Series(built["sizes"])
    assert rep["size_median_futures"].values[0] == sizes.median()
    assert rep["size_ratio_futures"].values[0] == pytest.approx(
        sizes.quantile(0.99) / sizes.median())
    assert rep["size_max_futures"].values[0] == sizes.max()


def test_tick_rates_and_swings(built: dict) -> None:
    rep = built["report"]
    # The day's first packet has no increment to bear (minute 0: 29 volume-bearing).
    assert rep["futures_vticks_per_min"].values[0] == pytest.approx(
        (180 * 30 + 195 * 45 - 1) / 375)
    assert rep["futures_vticks_swing"].values[0] == pytest.approx(45 / ((29 + 14 * 30) / 15))
    # ATM of minute m comes from the index at m-1: 20,000 up to minute 180, 40 ticks.
    assert rep["atm_ticks_per_min"].values[0] == pytest.approx((181 * 40 + 194 * 60) / 375)
    assert rep["atm_ticks_swing"].values[0] == pytest.approx(60 / 40)


def test_volume_shares(built: dict) -> None:
    rep, v = built["report"], built["fut_volume"]
    total = v.sum() - (built["sizes"][0] * LOT)  # the first packet's size is not an increment
    first = v[:15].sum() - built["sizes"][0] * LOT
    assert rep["nifty_share_first"].values[0] == pytest.approx(100 * first / total)
    assert rep["nifty_share_mid"].values[0] == pytest.approx(100 * v[180:195].sum() / total)
    assert rep["nifty_share_last"].values[0] == pytest.approx(100 * v[360:].sum() / total)


def test_option_versus_future(built: dict) -> None:
    rep, fut, atm, prices = built["report"], built["fut"], built["atm"], built["prices"]
    for i, kind in enumerate(("CE", "PE")):
        do = np.array([prices[(atm[m], kind)][m] - prices[(atm[m], kind)][m - 1]
                       for m in range(1, MINUTES)])
        df = np.diff(fut)
        fit = stats.linregress(df, do)
        assert rep["option_future_corr"].values[i] == pytest.approx(abs(fit.rvalue), rel=1e-9)
        assert rep["option_future_slope"].values[i] == pytest.approx(abs(fit.slope), rel=1e-9)
        assert rep["option_future_slope"].values[i] == pytest.approx(0.5 if kind == "CE" else 0.45,
                                                                     abs=0.05)


def test_most_liquid_strike_follows_the_market(built: dict) -> None:
    rep = built["report"]
    # 25 windows; the index leaves the previous close's ATM (20,000) from window 12 on,
    # and the designed most-traded strike is always the current ATM.
    assert rep["strike_follows"].values[0] == 1.0
    assert rep["strike_at_prev_atm"].values[0] == pytest.approx(12 / 25)


def test_volume_follows_absolute_return(built: dict) -> None:
    rep = built["report"]
    assert rep["volume_return_corr"].values[0] > 0.5
    # Oracle: the definition written out with pandas.
    v = pd.Series(built["fut_volume"])
    v.iloc[0] -= built["sizes"][0] * LOT
    ar = np.log(pd.Series(built["fut"])).diff().abs()
    x = v / v.rolling(31, center=True, min_periods=10).median()
    y = ar / ar.rolling(31, center=True, min_periods=10).median()
    expected = pd.concat([x, y], axis=1).dropna().corr(method="spearman").iloc[0, 1]
    assert rep["volume_return_corr"].values[0] == pytest.approx(expected, rel=1e-9)


def test_background_bursts_moves_and_labels(built: dict) -> None:
    session: CalibrationInput = built["session"]
    rep = built["report"]
    # The stock's unlabelled minute of 1,000 against a median of 100 is the largest burst
    # (the future's bursts are smaller); the labelled 500s do not count.
    assert rep["burst_max"].values[0] == pytest.approx(10.0)
    # Moves: the stock alone. The jump of 10 s over alternating +-s returns:
    # sigma_loc = s * sqrt(30/29) before it, and the window's other returns add at most
    # 2 s. The labelled +2 % (8.8 sigma) is left out; without its label it is the maximum.
    stock = (session.ticks["token"] == STOCK)
    only = [i for i in session.instruments if i.instrument_token == STOCK]
    labelled = calibration_report(CalibrationInput(
        DAY, tuple(only), session.ticks[stock], {}, session.events))
    sig = built["s"] * math.sqrt(30 / 29) * math.sqrt(5)
    assert 8 * built["s"] / sig <= labelled["move_max_sigma"].values[0] <= 12 * built["s"] / sig
    unlabelled = calibration_report(CalibrationInput(DAY, tuple(only), session.ticks[stock]))
    assert unlabelled["move_max_sigma"].values[0] == pytest.approx(0.02 / sig)
    assert unlabelled["burst_max"].values[0] == pytest.approx(10.0)
    assert "event:momentum:count" not in unlabelled


def test_event_statistics(built: dict) -> None:
    rep, s = built["report"], built["s"]
    assert rep["event:momentum:count"].values == (1.0,)
    assert rep["event:momentum:pct"].values[0] == pytest.approx(2.0)
    assert rep["event:momentum:minutes"].values[0] == 5
    # sigma_loc at minute 299: 30 alternating +-s returns, ddof 1.
    expected = 0.02 / (s * math.sqrt(30 / 29) * math.sqrt(5))
    assert rep["event:momentum:sigma"].values[0] == pytest.approx(expected)
    assert rep["event:momentum:volume_x"].values[0] == pytest.approx(5.0)
    # Constant returns inside the event: no volatility at all; one leg, the whole move.
    assert rep["event:momentum:vol_ratio"].values[0] == pytest.approx(0.0, abs=1e-9)
    assert rep["event:momentum:leg_sigma"].values[0] == pytest.approx(expected)


def test_reversal_legs() -> None:
    s = 1e-3
    r = np.where(np.arange(MINUTES) % 2 == 0, s, -s)
    r[0] = 0.0
    r[300:305] = 0.003  # up 1.5 % in 5 minutes, then down 1 % in 5
    r[305:310] = -0.002
    px = 500.0 * np.exp(np.cumsum(r))
    ticks = np.zeros(MINUTES, dtype=TICKS_DTYPE)
    ticks["token"], ticks["sec"], ticks["last_price"] = STOCK, np.arange(MINUTES) * 60, px
    stock = tuple(i for i in INSTRUMENTS if i.instrument_token == STOCK)
    session = CalibrationInput(DAY, stock, ticks, {},
                               (Event(STOCK, "reversal", 300 * 60, 310 * 60),))
    got = event_stats(session)
    sig = s * math.sqrt(30 / 29)
    assert got["event:reversal:pct"].values[0] == pytest.approx(0.5)
    assert got["event:reversal:sigma"].values[0] == pytest.approx(0.005 / (sig * math.sqrt(10)))
    assert got["event:reversal:leg_sigma"].values[0] == pytest.approx(
        0.015 / (sig * math.sqrt(5)))


def test_background_returns_and_autocorrelation_skip_labelled_minutes() -> None:
    rng = np.random.default_rng(9)
    r = rng.standard_normal(375)
    quiet = np.ones(375, dtype=bool)
    quiet[100:130] = False  # a labelled window
    kept = quiet_returns(r, quiet)
    # r[m] spans minutes m-1..m: r[100..130] touch the window (r[130] from minute 129).
    assert np.array_equal(kept, np.delete(r, np.arange(100, 131)))
    # Pairs (r[m-1], r[m]) whose returns are both background: minutes m-2..m quiet
    # (r[0] has no minute before it).
    pairs = [(r[m - 1], r[m]) for m in range(1, 375) if quiet[max(m - 2, 0): m + 1].all()]
    assert len(pairs) == 374 - 32
    x, y = np.array(pairs).T
    assert lag1_autocorr(r, background_returns(quiet)) == pytest.approx(
        float(np.corrcoef(x, y)[0, 1]), rel=1e-12)


def test_kurtosis_needs_enough_background_minutes() -> None:
    rng = np.random.default_rng(4)
    r = rng.standard_t(5, 375)
    quiet = np.ones(375, dtype=bool)
    quiet[50:170] = False  # a long labelled range-bound stretch: 254 returns left
    assert background_kurtosis(r, quiet) == pytest.approx(
        float(stats.kurtosis(quiet_returns(r, quiet), fisher=True, bias=True)), rel=1e-12)
    quiet[50:175] = False  # 249 left: too few for a fourth moment
    assert len(quiet_returns(r, quiet)) < MIN_KURTOSIS_RETURNS
    assert math.isnan(background_kurtosis(r, quiet))
    assert Stat((1.5, math.nan, 0.5)).text == "0.5 .. 1.5 (1 n/a)"


def test_targets_are_unique_and_banded() -> None:
    keys = [t.key for t in TARGETS]
    assert len(keys) == len(set(keys))
    assert target("kurtosis_futures").contains(1.25)
    assert not target("kurtosis_futures").contains(0.2)
    # v1's serial correlation (+0.02) is inside one day's sampling spread, not the mean's.
    assert not target("acf1_futures").pooled_contains((0.02,) * 6)
    assert target("acf1_futures").pooled_contains((-0.28, 0.10, -0.12, -0.1, -0.15, -0.2))
    assert not target("acf1_futures").contains(math.nan)
    for t in TARGETS:
        if t.low is not None and t.high is not None:
            assert t.low < t.high


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("calib") / "day.parquet"
    simulate(date(2025, 11, 18), 3, out, end=time(10, 0))
    return out


def test_simulated_session_is_finite_and_consistent(simulated: Path) -> None:
    session = load_session(simulated)
    rep = calibration_report(session)
    for key in ("move_max_sigma", "burst_max", "volume_return_corr", "kurtosis_futures",
                "kurtosis_options", "acf1_futures", "size_ratio_futures",
                "futures_vticks_per_min", "futures_vticks_swing", "atm_ticks_per_min",
                "option_future_corr", "option_future_slope", "strike_at_prev_atm"):
        assert all(math.isfinite(v) for v in rep[key].values), key
    # A 45-minute window cannot give whole-day volume shares.
    assert math.isnan(rep["nifty_share_first"].values[0])
    # Volume-bearing futures packets per minute, counted independently from the file.
    futures = {i.instrument_token for i in session.instruments if i.is_future}
    last: dict[int, int] = {}
    count = Counter[int]()
    for _, toks, packets in iter_batches(simulated):
        keep = [k for k, t in enumerate(toks.tolist()) if t in futures]
        for row in decode_packets([packets[k] for k in keep]):
            tok, vol = int(row["token"]), int(row["volume"])
            count[tok] += tok in last and vol > last[tok]
            last[tok] = vol
    fut_names = rep["futures_vticks_per_min"].names
    for name, value in zip(fut_names, rep["futures_vticks_per_min"].values, strict=True):
        tok = next(i.instrument_token for i in session.instruments if i.tradingsymbol == name)
        assert value == pytest.approx(count[tok] / 45)
        # The generator's design: a snapshot a second (98.5 %), 60 % carry volume.
        assert value == pytest.approx(0.985 * 0.6 * 60, rel=0.1)
    # Every labelled event inside the window is measured.
    labelled = Counter(e.event_type for e in session.events)
    for kind, n in labelled.items():
        assert rep[f"event:{kind}:count"].values[0] <= n
        assert rep[f"event:{kind}:count"].values[0] >= 1


def test_cli_prints_the_table(simulated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    import aion.cli
    from aion.cli import main

    # One table row per line (the console may exist already, so set its width itself).
    monkeypatch.setattr(aion.cli.console, "width", 250)
    assert main(["stats", str(simulated)]) == 0
    out = capsys.readouterr().out
    for t in TARGETS:
        assert t.real in out
    # A session without its instruments sidecar: one error line, status 2.
    bare = tmp_path / "bare.parquet"
    bare.write_bytes(simulated.read_bytes())
    assert main(["stats", str(bare)]) == 2
    assert "--instruments" in capsys.readouterr().err
