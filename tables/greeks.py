"""Black-Scholes prices, Greeks and implied volatility (pure, numba-compiled).

Model
    Black-Scholes-Merton on the spot ``S`` with continuously compounded risk-free rate
    ``r`` and dividend yield ``q`` (default 0; with ``q = 0`` this is exactly
    ``vollib.black_scholes``). ``t`` is the time to expiry in years in whatever
    convention the caller uses; :mod:`aion.tables.expiry` supplies trading-time years
    (session time / (252 x 375 min)) by default. The same ``t`` discounts and diffuses.

Units (all per one option, in premium currency)
    * ``price``: discounted option value.
    * ``delta``: dV/dS; ``gamma``: d2V/dS2.
    * ``theta``: dV/dt per day, where a day is ``1 / days_per_year`` of the ``t`` unit.
      With trading-time ``t`` and the default ``days_per_year=252`` that is per trading
      day; pass 365 with calendar-time ``t`` for per-calendar-day theta (vollib's
      convention: its theta is the annual theta / 365).
    * ``vega``: change for a 1 vol-point move, i.e. dV/dsigma x 0.01 (as vollib).
    * ``rho``: change for a 1 percentage-point move in ``r`` (0.065 -> 0.075), i.e.
      dV/dr x 0.01 (as vollib).

Implied volatility
    The price is mapped to Jäckel's normalised form (forward ``F``, log-moneyness
    ``x = ln(F/K)``, in-the-money options turned out-of-the-money by put-call parity,
    exactly the input transformation of vollib's "Let's Be Rational"), then
    ``b(x, s) = beta`` is solved for the total volatility ``s = sigma sqrt(t)`` by
    Halley's method with a bisection safeguard on a bracket: on ``1 / ln b`` below the
    inflection point ``s_c = sqrt(2|x|)`` (small premiums, where ``b`` spans hundreds
    of orders of magnitude), on ``b`` above it, and on ``ln(b_max - b)`` in the top
    half of the price range (premiums near the no-arbitrage maximum). It stops at a
    relative step of 1e-14 in ``s`` (typically 3-10 iterations; vollib's answer is
    matched to ~1e-12 in vol); failures never raise but return ``NaN`` with a
    :class:`Reason`.

Reasons (``Reason``, an ``IntEnum``; ``.label`` gives the string)
    ``ok``; ``bad_input`` (non-finite input, spot/strike <= 0, negative premium or
    vol; a ``NaN`` ``t`` too, so callers skip an expired ``TimeToExpiry`` and keep its
    own ``"expired"`` reason rather than pass its ``NaN`` on); ``expired``
    (``t <= 0``); ``zero_premium``; ``below_intrinsic`` (premium below the discounted
    intrinsic ``S e^{-qt} - K e^{-rt}`` for calls, the reverse for puts, by more than
    the no-time-value margin below); ``no_time_value`` (see below);
    ``above_upper_bound`` (premium at or above ``S e^{-qt}`` for a call or ``K e^{-rt}``
    for a put); ``no_convergence``.

    ``no_time_value``: the time value ``premium - intrinsic`` (undiscounted) is, in
    absolute value, at most ``NO_TIME_VALUE_REL x premium`` (1e-9), or, when the
    caller passes the instrument's ``tick_size``, at most half a tick (a discounted
    premium within half a tick of the discounted intrinsic). Such a premium carries no
    volatility information: the time value of an in-the-money option is what is left
    after subtracting ``|F - K|`` from the premium, and that subtraction (and any
    ``S N(d1) - K N(d2)`` pricing formula upstream) leaves rounding noise of a few
    ``eps x max(F, K)`` (eps = 2.2e-16), i.e. ~1e-15 to 1e-12 of the premium for the
    strikes of a chain. Below the threshold the solved vol is whatever that noise
    implies (a true 0.37 came out as 14.2 at ``t`` = 2e-5), so ``NaN`` is returned. 1e-9
    sits three orders of magnitude above the worst noise seen on a 4,000-option test
    grid (9.5e-13 of the premium) and is still far below anything tradable (on a 50,000
    premium it is 5e-5, a thousandth of an NSE tick). The cost: between the noise and
    the threshold the vol was still recoverable (typically to ~1e-7), but only from a
    time value far below any tick. An option so close to the money that
    ``|F - K| < 1e-6 max(F, K)`` is not covered by the relative test, but its time
    value is ~0.4 F sigma sqrt(t), nowhere near the noise. The same margin applies
    below the intrinsic: a premium that undercuts it by rounding only is
    ``no_time_value``, not ``below_intrinsic``. Out of the money the time value is the
    whole premium, so only the tick rule can apply there (a premium under half a tick).

Paths
    Kernels use IEEE float semantics (``error_model="numpy"``: 1/0 is inf, not an
    exception); inputs whose rate x time leaves the float range are ``bad_input``.
    Every formula lives in one ``@njit`` scalar kernel; the scalar API calls it once and
    the vectorised API (:func:`greeks_vec`, :func:`implied_vol_vec`,
    :func:`chain_greeks`) loops it over arrays, so both paths agree bit for bit. The
    normal CDF is ``0.5 erfc(-z / sqrt 2)``, accurate in the tails.

Example:
    >>> g = greeks(100.0, 100.0, 0.25, 0.065, 0.2, True)
    >>> round(g.price, 6), round(g.delta, 6), g.reason.label
    (4.813624, 0.584142, 'ok')
    >>> iv = implied_vol(g.price, 100.0, 100.0, 0.25, 0.065, True)
    >>> round(iv.iv, 12), iv.reason.label
    (0.2, 'ok')
"""

from __future__ import annotations

import enum
import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from numba import njit

DEFAULT_DAYS_PER_YEAR = 252.0
"""Theta's day: 1/252 of a trading-time year, i.e. one trading day."""

_INV_SQRT2 = 0.7071067811865475244008443621048490392848359376884740
_INV_SQRT_2PI = 0.3989422804014326779399460599343818684758586311649
_EPS = 2.220446049250313e-16
_MAX_ITER = 100
_S_TOL = 1e-14  # relative convergence tolerance on the total volatility s

NO_TIME_VALUE_REL = 1e-9
"""Time value at most this fraction of the premium is ``no_time_value``.

Rounding leaves a few ``eps x max(F, K)`` of noise in an in-the-money time value
(~1e-15..1e-12 of the premium); 1e-9 is 1000x the worst seen and still a thousandth of
a tick on a 50,000 premium. See the module docstring's Reasons.
"""

# Reason codes as plain ints inside the kernels (numba cannot return enum members).
_OK = 0
_BAD_INPUT = 1
_EXPIRED = 2
_ZERO_PREMIUM = 3
_BELOW_INTRINSIC = 4
_NO_TIME_VALUE = 5
_ABOVE_UPPER_BOUND = 6
_NO_CONVERGENCE = 7


class Reason(enum.IntEnum):
    """Why a result is ``NaN`` (``OK`` when it is not)."""

    OK = _OK
    BAD_INPUT = _BAD_INPUT
    EXPIRED = _EXPIRED
    ZERO_PREMIUM = _ZERO_PREMIUM
    BELOW_INTRINSIC = _BELOW_INTRINSIC
    NO_TIME_VALUE = _NO_TIME_VALUE
    ABOVE_UPPER_BOUND = _ABOVE_UPPER_BOUND
    NO_CONVERGENCE = _NO_CONVERGENCE

    @property
    def label(self) -> str:
        """Lower-case name, e.g. ``"below_intrinsic"`` (for records and Redis)."""
        return self.name.lower()


# Code -> member by tuple index: ``Reason(code)`` costs more than the kernel call.
_REASONS = tuple(sorted(Reason, key=int))


class Greeks(NamedTuple):
    """Price and Greeks of one option (units in the module docstring)."""

    price: float
    delta: float
    gamma: float
    theta: float
    vega: float
    rho: float
    reason: Reason


class ImpliedVol(NamedTuple):
    """Implied volatility (annualised in the ``t`` unit) or ``NaN`` with a reason."""

    iv: float
    reason: Reason


class ChainGreeks(NamedTuple):
    """Vectorised results, one element per option; ``reason`` holds ``Reason`` codes."""

    iv: npt.NDArray[np.float64]
    price: npt.NDArray[np.float64]
    delta: npt.NDArray[np.float64]
    gamma: npt.NDArray[np.float64]
    theta: npt.NDArray[np.float64]
    vega: npt.NDArray[np.float64]
    rho: npt.NDArray[np.float64]
    reason: npt.NDArray[np.int8]


# --------------------------------------------------------------------------- kernels


@njit(cache=True, nogil=True, error_model="numpy")
def _ncdf(z: float) -> float:
    # erfc keeps full relative precision deep in the lower tail, where 1 - N(.) would not.
    return 0.5 * math.erfc(-z * _INV_SQRT2)


@njit(cache=True, nogil=True, error_model="numpy")
def _npdf(z: float) -> float:
    return _INV_SQRT_2PI * math.exp(-0.5 * z * z)


@njit(cache=True, nogil=True, error_model="numpy")
def _otm_b(x: float, s: float) -> float:
    """Normalised out-of-the-money Black value b(x, s) for x <= 0 (call on F/K <= 1)."""
    if x == 0.0:
        # N(s/2) - N(-s/2) cancels for small s; erf does not.
        return math.erf(0.25 * s * 1.4142135623730951)
    h = x / s
    t = 0.5 * s
    return math.exp(0.5 * x) * _ncdf(h + t) - math.exp(-0.5 * x) * _ncdf(h - t)


@njit(cache=True, nogil=True, error_model="numpy")
def _otm_c(x: float, s: float) -> float:
    """b_max - b(x, s) = e^{x/2} N(-h-t) + e^{-x/2} N(h-t), x <= 0: a sum, no cancellation."""
    h = x / s
    t = 0.5 * s
    return math.exp(0.5 * x) * _ncdf(-h - t) + math.exp(-0.5 * x) * _ncdf(h - t)


@njit(cache=True, nogil=True, error_model="numpy")
def _otm_db(x: float, s: float) -> float:
    """db/ds = phi(h + t) e^{x/2} = exp(-(h^2 + t^2)/2) / sqrt(2 pi) (no overflow)."""
    h = x / s
    t = 0.5 * s
    return _INV_SQRT_2PI * math.exp(-0.5 * (h * h + t * t))


@njit(cache=True, nogil=True, error_model="numpy")
def _solve_s(beta: float, x: float) -> tuple[float, int]:
    """Total volatility s with b(x, s) = beta, for x <= 0 and 0 < beta < e^{x/2}.

    Three objectives, after Jäckel's regions: ``1/ln b - 1/ln beta`` below the
    inflection point s_c (b is tiny and spans many decades there), ``b - beta`` above it, and
    ``ln c - ln(b_max - beta)`` with ``c = b_max - b`` once beta is in the top half of
    its range (b flattens towards b_max; c is computed without cancellation). On each,
    Halley steps from the start below converge monotonically after at most one
    overshoot; the bracket [lo, hi] turns any stray step into bisection.
    """
    b_max = math.exp(0.5 * x)
    s_c = math.sqrt(-2.0 * x)
    if s_c > 0.0 and beta <= _otm_b(x, s_c):
        mode = 0
        log_beta = math.log(beta)  # < 0: beta <= b(s_c) < 1 here
        target = 1.0 / log_beta
        # Leading-order inversion of ln b ~ -x^2 / (2 s^2); never past s_c.
        s = min(s_c, -x / math.sqrt(-2.0 * log_beta))
    elif beta < 0.5 * b_max:
        mode = 1
        target = beta
        # At the money b ~ s / sqrt(2 pi) for small s.
        s = s_c if s_c > 0.0 else beta * 2.5066282746310002
    else:
        mode = 2
        target = math.log(b_max - beta)
        s = max(s_c, 1.0)
    lo = 0.0
    hi = math.inf
    for _ in range(_MAX_ITER):
        h = x / s
        db = _otm_db(x, s)
        d2b_over_db = h * h / s - 0.25 * s
        if mode == 2:
            c = _otm_c(x, s)
            if c <= 0.0:  # underflow: s is far too large
                hi = s
                s = 0.5 * (lo + hi)
                continue
            f = math.log(c) - target
            f1 = -db / c
            f2 = -db * d2b_over_db / c - f1 * f1
            rising = False  # c = b_max - b falls as s grows
        else:
            b = _otm_b(x, s)
            if mode == 0:
                if b <= 0.0:  # underflow: s is far too small
                    lo = s
                    s = 2.0 * s if hi == math.inf else 0.5 * (lo + hi)
                    continue
                # Jäckel's lower-region objective 1/ln b: close to -2 s^2 / x^2, so
                # Halley steps on it go much further than on ln b from a poor start.
                lb = math.log(b)
                l1 = db / b
                l2 = db * d2b_over_db / b - l1 * l1
                f = 1.0 / lb - target
                f1 = -l1 / (lb * lb)
                f2 = -l2 / (lb * lb) + 2.0 * l1 * l1 / (lb * lb * lb)
                rising = False  # ln b < 0 rises with s, so 1/ln b falls
            else:
                f = b - target
                f1 = db
                f2 = db * d2b_over_db
                rising = True
        if f == 0.0:
            return s, _OK
        if (f < 0.0) == rising:
            lo = s
        else:
            hi = s
        step = -f / f1
        # Halley's correction; dropped when it would more than double or flip the step.
        denom = 1.0 - 0.5 * step * f2 / f1
        if denom > 0.5:
            step /= denom
        s_new = s + step
        if not (lo < s_new < hi) or not math.isfinite(s_new):
            s_new = 2.0 * s if hi == math.inf else 0.5 * (lo + hi)
        # 1e-14 relative, not a few ulps: the objectives carry ~1e-14 of rounding noise
        # near the root and the iterates would dance on it.
        if abs(s_new - s) <= _S_TOL * s_new or hi - lo <= _S_TOL * lo:
            return s_new, _OK
        s = s_new
    return math.nan, _NO_CONVERGENCE


@njit(cache=True, nogil=True, error_model="numpy")
def _iv_kernel(
    price: float,
    spot: float,
    strike: float,
    t: float,
    r: float,
    q: float,
    is_call: bool,
    tick_size: float,
) -> tuple[float, int]:
    if not (
        math.isfinite(price)
        and math.isfinite(spot)
        and math.isfinite(strike)
        and math.isfinite(r)
        and math.isfinite(q)
        and math.isfinite(tick_size)
        and not math.isnan(t)
    ):
        return math.nan, _BAD_INPUT
    if spot <= 0.0 or strike <= 0.0 or price < 0.0 or tick_size < 0.0:
        return math.nan, _BAD_INPUT
    if t <= 0.0:
        return math.nan, _EXPIRED
    if price == 0.0:
        return math.nan, _ZERO_PREMIUM
    if math.isinf(t):
        return math.nan, _BAD_INPUT
    # Same transformation as vollib: undiscounted price and forward, then LBR's
    # intrinsic / maximum checks and the ITM -> OTM map (so both solve the same beta).
    deflater = math.exp(-r * t)
    undiscounted = price / deflater
    forward = spot * math.exp(-q * t) / deflater
    if not (deflater > 0.0 and 0.0 < forward < math.inf and undiscounted < math.inf):
        return math.nan, _BAD_INPUT  # rates x time beyond float range
    if is_call:
        intrinsic = max(forward - strike, 0.0)
        max_price = forward
        theta_sign = 1.0
    else:
        intrinsic = max(strike - forward, 0.0)
        max_price = strike
        theta_sign = -1.0
    # No time value: within rounding noise of the intrinsic (relative to the premium)
    # or within half a tick of it (tick_size 0: unknown, no tick rule). Either side.
    time_value = abs(undiscounted - intrinsic)
    half_tick = 0.5 * tick_size / deflater  # undiscounted, like the premium
    if time_value <= NO_TIME_VALUE_REL * undiscounted or time_value <= half_tick:
        return math.nan, _NO_TIME_VALUE
    if undiscounted < intrinsic:
        return math.nan, _BELOW_INTRINSIC
    if undiscounted >= max_price:
        return math.nan, _ABOVE_UPPER_BOUND
    x = math.log(forward / strike)
    if theta_sign * x > 0.0:
        undiscounted = undiscounted - intrinsic
    if undiscounted <= 0.0:
        return math.nan, _NO_TIME_VALUE
    beta = undiscounted / (math.sqrt(forward) * math.sqrt(strike))
    if not beta > 0.0:
        # Time value below the smallest float relative to the prices: no vol to find.
        return math.nan, _NO_TIME_VALUE
    xm = -abs(x)
    if beta >= math.exp(0.5 * xm):
        return math.nan, _ABOVE_UPPER_BOUND
    s, code = _solve_s(beta, xm)
    if code != _OK:
        return math.nan, code
    if not s > 0.0:
        return math.nan, _NO_TIME_VALUE  # the root underflowed (subnormal beta)
    return s / math.sqrt(t), _OK


@njit(cache=True, nogil=True, error_model="numpy")
def _greeks_kernel(
    spot: float,
    strike: float,
    t: float,
    r: float,
    q: float,
    sigma: float,
    is_call: bool,
    days_per_year: float,
) -> tuple[float, float, float, float, float, float, int]:
    nan = math.nan
    if not (
        math.isfinite(spot)
        and math.isfinite(strike)
        and math.isfinite(r)
        and math.isfinite(q)
        and math.isfinite(sigma)
        and math.isfinite(days_per_year)
        and not math.isnan(t)
    ):
        return nan, nan, nan, nan, nan, nan, _BAD_INPUT
    if spot <= 0.0 or strike <= 0.0 or sigma <= 0.0 or days_per_year <= 0.0:
        return nan, nan, nan, nan, nan, nan, _BAD_INPUT
    if t <= 0.0:
        return nan, nan, nan, nan, nan, nan, _EXPIRED
    if math.isinf(t):
        return nan, nan, nan, nan, nan, nan, _BAD_INPUT
    sqrt_t = math.sqrt(t)
    s = sigma * sqrt_t
    dfr = math.exp(-r * t)
    dfq = math.exp(-q * t)
    forward = spot * dfq / dfr
    if not (dfr > 0.0 and 0.0 < forward < math.inf):
        return nan, nan, nan, nan, nan, nan, _BAD_INPUT  # rates x time beyond float range
    x = math.log(forward / strike)
    d1 = x / s + 0.5 * s
    d2 = d1 - s
    pdf1 = _npdf(d1)
    # Price as intrinsic + normalised OTM value (LBR's form): accurate even when the
    # time value is many orders of magnitude below the spot.
    otm = math.sqrt(forward) * math.sqrt(strike) * _otm_b(-abs(x), s)
    if is_call:
        undiscounted = max(forward - strike, 0.0) + otm
        nd1 = _ncdf(d1)
        nd2 = _ncdf(d2)
        delta = dfq * nd1
        theta = -spot * dfq * pdf1 * sigma / (2.0 * sqrt_t) - r * strike * dfr * nd2
        theta += q * spot * dfq * nd1
        rho = strike * t * dfr * nd2
    else:
        undiscounted = max(strike - forward, 0.0) + otm
        nmd1 = _ncdf(-d1)
        nmd2 = _ncdf(-d2)
        delta = -dfq * nmd1
        theta = -spot * dfq * pdf1 * sigma / (2.0 * sqrt_t) + r * strike * dfr * nmd2
        theta -= q * spot * dfq * nmd1
        rho = -strike * t * dfr * nmd2
    gamma = dfq * pdf1 / (spot * s)
    vega = spot * dfq * pdf1 * sqrt_t
    return (
        dfr * undiscounted,
        delta,
        gamma,
        theta / days_per_year,
        0.01 * vega,
        0.01 * rho,
        _OK,
    )


@njit(cache=True, nogil=True, error_model="numpy")
def _greeks_loop(
    spot: npt.NDArray[np.float64],
    strike: npt.NDArray[np.float64],
    t: npt.NDArray[np.float64],
    r: npt.NDArray[np.float64],
    q: npt.NDArray[np.float64],
    sigma: npt.NDArray[np.float64],
    is_call: npt.NDArray[np.bool_],
    days_per_year: float,
    out: npt.NDArray[np.float64],
    reason: npt.NDArray[np.int8],
) -> None:
    for i in range(spot.shape[0]):
        p, de, ga, th, ve, rh, code = _greeks_kernel(
            spot[i], strike[i], t[i], r[i], q[i], sigma[i], is_call[i], days_per_year
        )
        out[0, i] = sigma[i] if code == _OK else math.nan
        out[1, i] = p
        out[2, i] = de
        out[3, i] = ga
        out[4, i] = th
        out[5, i] = ve
        out[6, i] = rh
        reason[i] = code


@njit(cache=True, nogil=True, error_model="numpy")
def _iv_loop(
    premium: npt.NDArray[np.float64],
    spot: npt.NDArray[np.float64],
    strike: npt.NDArray[np.float64],
    t: npt.NDArray[np.float64],
    r: npt.NDArray[np.float64],
    q: npt.NDArray[np.float64],
    is_call: npt.NDArray[np.bool_],
    tick_size: float,
    out: npt.NDArray[np.float64],
    reason: npt.NDArray[np.int8],
) -> None:
    for i in range(spot.shape[0]):
        iv, code = _iv_kernel(
            premium[i], spot[i], strike[i], t[i], r[i], q[i], is_call[i], tick_size
        )
        out[i] = iv
        reason[i] = code


@njit(cache=True, nogil=True, error_model="numpy")
def _chain_loop(
    premium: npt.NDArray[np.float64],
    spot: npt.NDArray[np.float64],
    strike: npt.NDArray[np.float64],
    t: npt.NDArray[np.float64],
    r: npt.NDArray[np.float64],
    q: npt.NDArray[np.float64],
    is_call: npt.NDArray[np.bool_],
    days_per_year: float,
    tick_size: float,
    out: npt.NDArray[np.float64],
    reason: npt.NDArray[np.int8],
) -> None:
    for i in range(spot.shape[0]):
        iv, code = _iv_kernel(
            premium[i], spot[i], strike[i], t[i], r[i], q[i], is_call[i], tick_size
        )
        if code == _OK:
            p, de, ga, th, ve, rh, code = _greeks_kernel(
                spot[i], strike[i], t[i], r[i], q[i], iv, is_call[i], days_per_year
            )
        else:
            p = de = ga = th = ve = rh = math.nan
        out[0, i] = iv
        out[1, i] = p
        out[2, i] = de
        out[3, i] = ga
        out[4, i] = th
        out[5, i] = ve
        out[6, i] = rh
        reason[i] = code


# --------------------------------------------------------------------------- scalar API


def bs_price(
    spot: float,
    strike: float,
    t: float,
    r: float,
    sigma: float,
    is_call: bool,
    q: float = 0.0,
) -> float:
    """Black-Scholes(-Merton) price of a European option.

    Args:
        spot: Underlying price ``S`` (> 0).
        strike: Strike ``K`` (> 0).
        t: Time to expiry in years (> 0).
        r: Risk-free rate, continuously compounded, per year.
        sigma: Volatility per year (> 0).
        is_call: True for a call (CE), False for a put (PE).
        q: Dividend yield, continuously compounded (default 0).

    Returns:
        The discounted price, or ``NaN`` for invalid or expired input (see
        :func:`greeks` for the reason).
    """
    return _greeks_kernel(
        float(spot), float(strike), float(t), float(r), float(q), float(sigma),
        bool(is_call), DEFAULT_DAYS_PER_YEAR,
    )[0]


def greeks(
    spot: float,
    strike: float,
    t: float,
    r: float,
    sigma: float,
    is_call: bool,
    q: float = 0.0,
    days_per_year: float = DEFAULT_DAYS_PER_YEAR,
) -> Greeks:
    """Price and Greeks of one option at volatility ``sigma``.

    Args:
        spot: Underlying price ``S`` (> 0).
        strike: Strike ``K`` (> 0).
        t: Time to expiry in years (> 0).
        r: Risk-free rate, continuously compounded, per year.
        sigma: Volatility per year (> 0).
        is_call: True for a call (CE), False for a put (PE).
        q: Dividend yield, continuously compounded (default 0).
        days_per_year: Days per year of ``t`` for theta (252: per trading day).

    Returns:
        :class:`Greeks`; all ``NaN`` with ``BAD_INPUT`` or ``EXPIRED`` when invalid.
    """
    *values, code = _greeks_kernel(
        float(spot), float(strike), float(t), float(r), float(q), float(sigma),
        bool(is_call), float(days_per_year),
    )
    return Greeks(*values, _REASONS[code])


def implied_vol(
    premium: float,
    spot: float,
    strike: float,
    t: float,
    r: float,
    is_call: bool,
    q: float = 0.0,
    tick_size: float = 0.0,
) -> ImpliedVol:
    """Black-Scholes implied volatility of one option premium. Never raises.

    Args:
        premium: Observed option price (discounted, as traded).
        spot: Underlying price ``S`` (> 0).
        strike: Strike ``K`` (> 0).
        t: Time to expiry in years (> 0).
        r: Risk-free rate, continuously compounded, per year.
        is_call: True for a call (CE), False for a put (PE).
        q: Dividend yield, continuously compounded (default 0).
        tick_size: The option's price tick (>= 0; 0 = unknown). A premium within half
            a tick of the discounted intrinsic is ``NO_TIME_VALUE``.

    Returns:
        :class:`ImpliedVol` with the volatility per year, or ``NaN`` and a reason
        (``NO_TIME_VALUE`` also for a time value within ``NO_TIME_VALUE_REL`` of the
        premium: see the module docstring).
    """
    iv, code = _iv_kernel(
        float(premium), float(spot), float(strike), float(t), float(r), float(q),
        bool(is_call), float(tick_size),
    )
    return ImpliedVol(iv, _REASONS[code])


# --------------------------------------------------------------------------- vector API


def _prepare(
    *arrays: npt.ArrayLike, is_call: npt.ArrayLike
) -> tuple[tuple[int, ...], list[npt.NDArray[np.float64]], npt.NDArray[np.bool_]]:
    """Broadcast the inputs together and flatten them to contiguous 1-D arrays."""
    # Hand-rolled instead of np.broadcast_arrays: on a 42-strike chain the generic
    # broadcasting machinery cost several times the kernels themselves.
    parts = [np.asarray(a, dtype=np.float64) for a in arrays]
    flags = np.asarray(is_call, dtype=np.bool_)
    shapes = {p.shape for p in parts if p.ndim}
    if flags.ndim:
        shapes.add(flags.shape)
    shape = shapes.pop() if len(shapes) == 1 else np.broadcast_shapes(*shapes, ())
    size = math.prod(shape)

    def flat(a: np.ndarray, dtype: type) -> np.ndarray:
        if a.shape == shape:
            return np.ascontiguousarray(a).reshape(size)
        if a.ndim == 0:
            return np.full(size, a, dtype=dtype)
        return np.ascontiguousarray(np.broadcast_to(a, shape)).reshape(size)

    return shape, [flat(p, np.float64) for p in parts], flat(flags, np.bool_)


def _pack(
    shape: tuple[int, ...], out: npt.NDArray[np.float64], reason: npt.NDArray[np.int8]
) -> ChainGreeks:
    if len(shape) == 1:  # the common chain case: rows of ``out`` are already the answer
        return ChainGreeks(out[0], out[1], out[2], out[3], out[4], out[5], out[6], reason)
    rows = [out[k].reshape(shape) for k in range(7)]
    return ChainGreeks(*rows, reason.reshape(shape))


def greeks_vec(
    spot: npt.ArrayLike,
    strike: npt.ArrayLike,
    t: npt.ArrayLike,
    r: npt.ArrayLike,
    sigma: npt.ArrayLike,
    is_call: npt.ArrayLike,
    q: npt.ArrayLike = 0.0,
    days_per_year: float = DEFAULT_DAYS_PER_YEAR,
) -> ChainGreeks:
    """Vectorised :func:`greeks`: every argument broadcasts (e.g. one spot, many strikes).

    Args:
        spot: Underlying price(s).
        strike: Strike(s).
        t: Time(s) to expiry in years.
        r: Risk-free rate(s).
        sigma: Volatility(ies); echoed in ``iv`` where valid.
        is_call: Call flag(s).
        q: Dividend yield(s).
        days_per_year: Days per year of ``t`` for theta.

    Returns:
        :class:`ChainGreeks` of the broadcast shape, identical element by element to
        the scalar :func:`greeks`.
    """
    shape, (s, k, tt, rr, qq, sg), c = _prepare(spot, strike, t, r, q, sigma, is_call=is_call)
    out = np.empty((7, s.shape[0]), dtype=np.float64)
    reason = np.empty(s.shape[0], dtype=np.int8)
    _greeks_loop(s, k, tt, rr, qq, sg, c, float(days_per_year), out, reason)
    return _pack(shape, out, reason)


def implied_vol_vec(
    premium: npt.ArrayLike,
    spot: npt.ArrayLike,
    strike: npt.ArrayLike,
    t: npt.ArrayLike,
    r: npt.ArrayLike,
    is_call: npt.ArrayLike,
    q: npt.ArrayLike = 0.0,
    tick_size: float = 0.0,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int8]]:
    """Vectorised :func:`implied_vol` (arguments broadcast).

    Args:
        premium: Option price(s).
        spot: Underlying price(s).
        strike: Strike(s).
        t: Time(s) to expiry in years.
        r: Risk-free rate(s).
        is_call: Call flag(s).
        q: Dividend yield(s).
        tick_size: Price tick of every option (0 = unknown), as in :func:`implied_vol`.

    Returns:
        ``(iv, reason)`` arrays of the broadcast shape; ``reason`` holds ``Reason`` codes.
    """
    shape, (p, s, k, tt, rr, qq), c = _prepare(premium, spot, strike, t, r, q, is_call=is_call)
    iv = np.empty(s.shape[0], dtype=np.float64)
    reason = np.empty(s.shape[0], dtype=np.int8)
    _iv_loop(p, s, k, tt, rr, qq, c, float(tick_size), iv, reason)
    return iv.reshape(shape), reason.reshape(shape)


def chain_greeks(
    premium: npt.ArrayLike,
    spot: npt.ArrayLike,
    strike: npt.ArrayLike,
    t: npt.ArrayLike,
    r: npt.ArrayLike,
    is_call: npt.ArrayLike,
    q: npt.ArrayLike = 0.0,
    days_per_year: float = DEFAULT_DAYS_PER_YEAR,
    tick_size: float = 0.0,
) -> ChainGreeks:
    """Implied volatility and the Greeks at it, for a chain (arguments broadcast).

    Typical use: one ``spot`` and ``t`` for an underlying's expiry, arrays of strikes,
    premiums and call flags. Where the IV fails, every output is ``NaN`` and ``reason``
    says why.

    Args:
        premium: Option price(s).
        spot: Underlying price(s).
        strike: Strike(s).
        t: Time(s) to expiry in years.
        r: Risk-free rate(s).
        is_call: Call flag(s).
        q: Dividend yield(s).
        days_per_year: Days per year of ``t`` for theta.
        tick_size: Price tick of every option (0 = unknown), as in :func:`implied_vol`.

    Returns:
        :class:`ChainGreeks` of the broadcast shape.
    """
    shape, (p, s, k, tt, rr, qq), c = _prepare(premium, spot, strike, t, r, q, is_call=is_call)
    out = np.empty((7, s.shape[0]), dtype=np.float64)
    reason = np.empty(s.shape[0], dtype=np.int8)
    _chain_loop(p, s, k, tt, rr, qq, c, float(days_per_year), float(tick_size), out, reason)
    return _pack(shape, out, reason)
