"""Latent price paths and pricing models of the simulator.

Everything is on a one-second grid counted from 09:15:00 IST. Stocks follow a factor
model (market factor + bank-sector factor + idiosyncratic noise) whose volatility follows
a U-shaped intraday profile; the indices are cap-weighted averages of their
constituents' log returns, so NIFTY moves with its stocks; INDIA VIX moves inversely to
NIFTY; futures sit at carry; options are priced with Black-76 off the forward and a
volatility smile whose level follows VIX.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
from scipy.special import ndtr

from aion.streams.simulator.bursts import VOL_RESPONSE, BurstParams, simulate_bursts
from aion.streams.simulator.events import EventPlan, InjectedEvent, build_effects
from aion.streams.simulator.iv_noise import iv_log_noise
from aion.streams.simulator.minute_tails import minute_scale
from aion.streams.simulator.move_volume import move_volume_multiplier
from aion.streams.simulator.structure import StructurePlan, build_structure_effects
from aion.streams.simulator.transient import transient_deviation
from aion.streams.simulator.universe import Role, Universe
from aion.streams.simulator.volatility import volatility_multipliers
from aion.streams.simulator.volume_level import anchor_volume_level

__all__ = [
    "RISK_FREE_RATE",
    "SESSION_SECONDS",
    "STOCK_VOLUME_POWER",
    "LatentPaths",
    "black76",
    "future_t_years",
    "intraday_profile",
    "option_atm_vol",
    "simulate_latent",
    "smile_vol",
    "t_years_to_expiry",
    "volume_profile",
]

SESSION_SECONDS = 22_500
"""Seconds from 09:15:00 to 15:30:00."""

RISK_FREE_RATE = 0.065
"""Annual continuously compounded rate used for carry and option pricing."""

STOCK_VOLUME_POWER = 1.3
"""A stock's traded volume (count x size) follows the intraday profile to this power."""

_SECONDS_PER_YEAR = 365.0 * 86_400.0
_TRADING_DAYS = 252.0
_MARKET_VOL = 0.11  # annual vol of the market factor
_BANK_VOL = 0.08  # annual vol of the bank-sector factor
_VIX_BETA = -6.0  # d log VIX per unit NIFTY log return: a 1% fall lifts VIX ~6%
_VIX_NOISE_VOL = 0.6  # annual-ised noise of log VIX
_BANKNIFTY_IV_RATIO = 1.2  # BANKNIFTY ATM IV relative to VIX
# Volume follows the volatility regime half as much as volatility: more would swing a
# quarter hour's volume far beyond the real day's time-of-day shares.
_VOLUME_SV_ELASTICITY = 0.5


def volume_profile(n_seconds: int = SESSION_SECONDS) -> np.ndarray:
    """Return the intraday U of derivatives volume per print, mean 1 over the session.

    A symmetric U with a slight lean into the close, fitted to the real NIFTY future's
    volume shares (issue 12: 7.4 % in 09:15-09:30, 2.2 % in 12:15-12:30, 8.0 % in
    15:15-15:30); its packet count is flat, so this is the shape of its volume.

    Args:
        n_seconds: Number of one-second steps from 09:15:00 to return.

    Returns:
        ``float64`` array of length ``n_seconds``.
    """
    y = 2.0 * (np.arange(SESSION_SECONDS) + 0.5) / SESSION_SECONDS - 1.0
    v = 1.0 + 2.7 * y * y + 0.15 * y
    v /= v.mean()
    return v[:n_seconds]


def intraday_profile(n_seconds: int = SESSION_SECONDS) -> np.ndarray:
    """Return the U-shaped intraday activity profile, mean 1 over the full session.

    High at the open (with an extra opening burst decaying over ~10 minutes), lowest
    around midday, rising into the close. Used for both packet rates and variance.

    Args:
        n_seconds: Number of one-second steps from 09:15:00 to return.

    Returns:
        ``float64`` array of length ``n_seconds``.
    """
    x = (np.arange(SESSION_SECONDS) + 0.5) / SESSION_SECONDS
    u = 0.6 + 1.2 * (2.0 * x - 1.0) ** 2 + 0.6 * np.exp(-np.arange(SESSION_SECONDS) / 600.0)
    u /= u.mean()
    return u[:n_seconds]


@dataclass(frozen=True, slots=True)
class LatentPaths:
    """Per-second latent (mid) log prices of the underlyings, and what drives activity.

    Attributes:
        log_mid: ``(n_instruments, n_seconds + 1)`` log mid price of every stock, index
            and future (options rows are zero: they are priced per packet). Column
            ``s`` is the value at ``s`` seconds after 09:15:00.
        prev_close: Previous close of each instrument, rupees; for options the
            model price at yesterday's close, for the rest the universe's value.
        oi_base: Start-of-day open interest per instrument (0 for stocks and indices).
        activity: ``(n_instruments, n_seconds)`` multiplier of traded volume (bursts,
            stochastic volatility and event volume), mean about 1 per instrument.
        iv_log: ``(n_instruments, n_seconds + 1)`` added log implied volatility of
            options (noise and IV crushes; 0 for other rows).
        events: The labelled events, scaled to this background.
    """

    log_mid: np.ndarray
    prev_close: np.ndarray
    oi_base: np.ndarray
    activity: np.ndarray
    iv_log: np.ndarray
    events: tuple[InjectedEvent, ...] = ()


def black76(
    forward: np.ndarray,
    strike: np.ndarray,
    t_years: np.ndarray,
    sigma: np.ndarray,
    is_call: np.ndarray,
    rate: float = RISK_FREE_RATE,
) -> np.ndarray:
    """Black-76 option price on a forward.

    Args:
        forward: Forward price (spot carried to expiry).
        strike: Strike.
        t_years: Time to expiry in years (must be > 0).
        sigma: Annual volatility.
        is_call: True for calls, False for puts.
        rate: Discount rate.

    Returns:
        Option prices, same shape as the broadcast inputs.
    """
    sd = sigma * np.sqrt(t_years)
    d1 = (np.log(forward / strike) + 0.5 * sd * sd) / sd
    d2 = d1 - sd
    disc = np.exp(-rate * t_years)
    call = disc * (forward * ndtr(d1) - strike * ndtr(d2))
    put = disc * (strike * ndtr(-d2) - forward * ndtr(-d1))
    return np.where(is_call, call, put)


def smile_vol(
    atm_vol: np.ndarray, forward: np.ndarray, strike: np.ndarray, t_years: np.ndarray
) -> np.ndarray:
    """Volatility smile: quadratic in standardised log-moneyness with a put skew.

    Args:
        atm_vol: At-the-money volatility.
        forward: Forward price.
        strike: Strike.
        t_years: Time to expiry in years.

    Returns:
        Volatility per option.
    """
    # Standardising by atm_vol*sqrt(T) keeps the smile's shape sensible from a
    # week out down to the last hour of an expiry day.
    x = np.log(strike / forward) / (atm_vol * np.sqrt(t_years))
    return atm_vol * np.clip(1.0 + 0.035 * x * x - 0.045 * x, 0.7, 2.5)


def _sigma_per_second(annual_vol: float | np.ndarray) -> float | np.ndarray:
    """Convert an annual volatility into a per-second volatility over the session."""
    return annual_vol / np.sqrt(_TRADING_DAYS * SESSION_SECONDS)


def _minute_sigma(ret: np.ndarray, s: int) -> float:
    """σ of 1-minute returns over the 30 minutes before second ``s`` (the first 30 at the open).

    The same window :mod:`.calibration` measures ``σ_loc`` over, on the background path.
    """
    lo = s - 1_800 if s >= 1_200 else 0
    hi = lo + 1_800 if s < 1_200 else s
    mins = ret[lo + (hi - lo) % 60: hi].reshape(-1, 60).sum(axis=1)
    return float(mins.std(ddof=1)) if len(mins) > 2 else float(np.sqrt(60 * np.mean(ret**2)))


def _local_sigma(ret: np.ndarray) -> np.ndarray:
    """Local per-second volatility: the 5-minute RMS of the returns around each second."""
    return np.sqrt(np.convolve(ret**2, np.full(301, 1 / 301), mode="same"))


def simulate_latent(
    universe: Universe,
    rng: np.random.Generator,
    plans: list[EventPlan],
    structure: Sequence[StructurePlan] = (),
) -> LatentPaths:
    """Simulate the full session's per-second latent paths with their events.

    The whole session is always simulated so that a window's state (open, high, low,
    volume) is that of the day it belongs to. The background comes first: a factor
    model whose factors and idiosyncratic parts have stochastic volatility
    (:mod:`.volatility`) and self-exciting bursts with jumps (:mod:`.bursts`), and
    indices with a transient deviation (:mod:`.transient`). Events are then scaled to
    that background's local volatility (:func:`.events.build_effects`) and added.

    Args:
        universe: The instruments.
        rng: Random source (consumed in a fixed order).
        plans: Planned events (:func:`.events.plan_events`).
        structure: Planned market-structure events (:func:`.structure.plan_structure`),
            shaped after the others (a value-area break reads the path they made).

    Returns:
        The latent paths.
    """
    members = universe.members
    n = len(members)
    n_sec = SESSION_SECONDS
    roles = universe.roles
    stocks = np.flatnonzero(roles == Role.STOCK)
    ns = len(stocks)
    u = intraday_profile(n_sec)
    su = np.sqrt(u)

    # Stock parameters: betas and idiosyncratic vols drawn once per session.
    beta = rng.uniform(0.75, 1.25, ns)
    idio = rng.uniform(0.16, 0.30, ns)
    is_bank = np.array([members[i].bank for i in stocks])
    weights = np.array([members[i].weight for i in stocks])
    prev = np.array([members[i].prev_close for i in range(n)], dtype=np.float64)

    # Background activity of the series: 0 market, 1 bank sector, 2.. each stock.
    sv, sv_log = volatility_multipliers(rng, ns + 2, n_sec)
    bursts = simulate_bursts(rng, ns + 2, n_sec, BurstParams())
    nervous = minute_scale(rng, ns + 2, n_sec)
    price_vol = sv * nervous * np.sqrt(1.0 + VOL_RESPONSE * bursts.excitation)
    # A nervous minute trades more (volume follows |return|), by the square root of its
    # sigma multiple: in full, it stacked on a burst past the real day's largest bursts.
    volume = (np.exp(_VOLUME_SV_ELASTICITY * sv_log) * np.sqrt(nervous)
              * (1.0 + bursts.excitation))
    volume /= volume.mean(axis=1, keepdims=True)
    base = np.concatenate([[_MARKET_VOL, _BANK_VOL], idio])
    sig = _sigma_per_second(base)[:, None] * su[None, :] * price_vol  # per-second σ
    z = rng.standard_normal((ns + 2, n_sec))
    shocks = sig * (z + bursts.jumps * np.sqrt(60.0))
    market, bank, eps = shocks[0], shocks[1], shocks[2:]
    r = beta[:, None] * market[None, :] + eps
    r[is_bank] += bank[None, :]

    # Opening gaps: a market-wide part plus a stock-specific part.
    gap_mkt = rng.normal(0.0, 0.003)
    open_log = np.log(prev[stocks]) + beta * gap_mkt + rng.normal(0.0, 0.004, ns)

    idx_of = {m.symbol: i for i, m in enumerate(members) if m.role == Role.INDEX}
    nifty, banknifty, vix = idx_of["NIFTY 50"], idx_of["NIFTY BANK"], idx_of["INDIA VIX"]
    w = weights / weights.sum()
    wb = np.where(is_bank, weights, 0.0)
    wb /= wb.sum()
    # The banks we carry are ~80% of NIFTY BANK; the rest is its own noise.
    bank_rest0 = rng.normal(0.0, 0.002)
    bank_rest = rng.standard_normal(n_sec) * _sigma_per_second(0.2) * su

    def index_returns(rs: np.ndarray) -> dict[int, np.ndarray]:
        return {nifty: w @ rs, banknifty: 0.8 * (wb @ rs) + 0.2 * bank_rest}

    pre = index_returns(r)
    stock_row = {int(p): k for k, p in enumerate(stocks)}
    deviation: dict[int, np.ndarray] = {}
    move_volume: dict[int, np.ndarray] = {}
    for pos in (nifty, banknifty):
        local = _local_sigma(pre[pos])
        deviation[pos] = transient_deviation(rng, local)
        # Volume answers the price traders see, deviation included.
        seen = pre[pos] + np.diff(deviation[pos], prepend=0.0)
        move_volume[pos] = move_volume_multiplier(seen, local)

    def background(pos: int) -> np.ndarray:
        if pos in deviation:
            return pre[pos] + np.diff(deviation[pos], prepend=0.0)
        return r[stock_row[pos]]

    def sigma_1min(pos: int, s: int) -> float:
        return _minute_sigma(background(pos), s)

    open_idx = {nifty: w @ (open_log - np.log(prev[stocks])), banknifty: 0.8 * (
        wb @ (open_log - np.log(prev[stocks]))) + 0.2 * bank_rest0}

    def level(pos: int, s: int) -> float:
        return float(prev[pos] * np.exp(open_idx[pos] + background(pos)[:s].sum()))

    effects, events = build_effects(universe, plans, n_sec, sigma_1min, level)
    if structure:
        events += build_structure_effects(universe, structure, effects, n_sec, sigma_1min,
                                          background, u**STOCK_VOLUME_POWER)
        events.sort(key=lambda e: (e.start_s, e.symbol))

    for pos, k in stock_row.items():
        if pos in effects.vol_scale:
            r[k] *= effects.vol_scale[pos]
        if pos in effects.drift:
            r[k] += effects.drift[pos]
        open_log[k] += effects.gap.get(pos, 0.0)
    log_mid = np.zeros((n, n_sec + 1), dtype=np.float64)
    log_mid[stocks, 0] = open_log
    log_mid[stocks, 1:] = open_log[:, None] + np.cumsum(r, axis=1)

    open_idx = {nifty: w @ (open_log - np.log(prev[stocks])), banknifty: 0.8 * (
        wb @ (open_log - np.log(prev[stocks]))) + 0.2 * bank_rest0}
    for pos, ret in index_returns(r).items():
        scale = effects.vol_scale.get(pos, 1.0)
        ret = ret * scale + effects.drift.get(pos, 0.0)
        path = np.concatenate([[0.0], np.cumsum(ret)]) + open_idx[pos]
        dev = deviation[pos] * scale
        log_mid[pos] = np.log(prev[pos]) + path + np.concatenate([[0.0], dev])
    nifty_ret = log_mid[nifty] - np.log(prev[nifty])
    vix_noise = np.concatenate(
        [
            [rng.normal(0.0, 0.02)],
            np.cumsum(rng.standard_normal(n_sec) * _sigma_per_second(_VIX_NOISE_VOL)),
        ]
    )
    log_mid[vix] = np.log(prev[vix]) + _VIX_BETA * nifty_ret + vix_noise

    # Futures at carry off their index; time to expiry shrinks through the day.
    t_sec = np.arange(n_sec + 1, dtype=np.float64)
    prev_close = prev.copy()
    oi_base = np.zeros(n, dtype=np.int64)
    activity = np.ones((n, n_sec))
    und_activity = {
        nifty: anchor_volume_level(volume[0] * move_volume[nifty]),
        banknifty: anchor_volume_level(np.sqrt(volume[0] * volume[1]) * move_volume[banknifty]),
    }
    for i, m in enumerate(members):
        if m.role == Role.FUTURE:
            t_years = future_t_years(universe, m.instrument.expiry, t_sec)
            log_mid[i] = log_mid[m.underlying] + RISK_FREE_RATE * t_years
            lot = m.instrument.lot_size
            oi_base[i] = lot * int(rng.integers(120_000, 200_000) / (1 + 4 * m.rank))
        if m.role in (Role.FUTURE, Role.OPTION):
            activity[i] = und_activity[m.underlying]
        elif m.role == Role.STOCK:
            k = stock_row[i]
            own = move_volume_multiplier(r[k], _local_sigma(r[k]))
            activity[i] = volume[2 + k] ** 0.7 * volume[0] ** 0.3 * own
        if i in effects.volume_mult:
            activity[i] *= effects.volume_mult[i]
    # Options: yesterday's close is the model price at yesterday's close.
    opts = np.flatnonzero(roles == Role.OPTION)
    iv_log = np.zeros((n, n_sec + 1))
    if len(opts):
        und = np.array([members[i].underlying for i in opts])
        strike = np.array([members[i].instrument.strike for i in opts])
        is_call = np.array([members[i].instrument.instrument_type == "CE" for i in opts])
        t_prev = np.array([future_t_years(universe, members[i].instrument.expiry,
                                          np.zeros(1))[0] for i in opts]) + 1.0 / 365.0
        atm = prev[vix] / 100.0 * np.where(und == banknifty, _BANKNIFTY_IV_RATIO, 1.0)
        fwd = prev[und] * np.exp(RISK_FREE_RATE * t_prev)
        sig_o = smile_vol(atm, fwd, strike, t_prev)
        px = black76(fwd, strike, t_prev, sig_o, is_call)
        prev_close[opts] = np.maximum(np.round(px * 20.0) / 20.0, 0.05)
        for j, i in enumerate(opts):
            lot = members[i].instrument.lot_size
            scale = 1.0 if und[j] == nifty else 0.25
            oi_base[i] = lot * int(
                scale * rng.integers(40_000, 90_000) * np.exp(-members[i].rank / 6.0)
            )
        chain_of = (und == banknifty).astype(np.int64)
        iv_log[opts] = iv_log_noise(rng, chain_of, n_sec + 1)
        for pos, shift in effects.iv_shift.items():
            iv_log[opts[und == pos], 1:] += shift[None, :]
    return LatentPaths(
        log_mid=log_mid,
        prev_close=prev_close,
        oi_base=oi_base,
        activity=activity,
        iv_log=iv_log,
        events=tuple(events),
    )


def future_t_years(universe: Universe, expiry: date, t_sec: np.ndarray) -> np.ndarray:
    """Time to expiry (15:30 IST on the expiry date) in years.

    Args:
        universe: Supplies the trading date.
        expiry: Expiry date of the contract.
        t_sec: Seconds after 09:15:00 on the trading date.

    Returns:
        Years to expiry (see :func:`t_years_to_expiry`).
    """
    return t_years_to_expiry(np.int64((expiry - universe.trading_date).days), t_sec)


def t_years_to_expiry(expiry_days: np.ndarray | np.int64, t_sec: np.ndarray) -> np.ndarray:
    """Time to expiry in years from calendar days to expiry and seconds after 09:15.

    Args:
        expiry_days: Calendar days from the trading date to the expiry date.
        t_sec: Seconds after 09:15:00 on the trading date.

    Returns:
        Years to 15:30 IST on the expiry date, floored at five minutes so prices
        stay finite at the closing bell of an expiry day.
    """
    remaining = expiry_days * 86_400.0 + (SESSION_SECONDS - t_sec)
    return np.maximum(remaining, 300.0) / _SECONDS_PER_YEAR


def option_atm_vol(vix_level: np.ndarray, is_banknifty: np.ndarray) -> np.ndarray:
    """ATM implied volatility from the VIX level (VIX is in percent).

    Args:
        vix_level: INDIA VIX value(s).
        is_banknifty: Whether each option is on BANKNIFTY.

    Returns:
        Annual ATM volatility.
    """
    return vix_level / 100.0 * np.where(is_banknifty, _BANKNIFTY_IV_RATIO, 1.0)
