"""Benchmark: our Black-Scholes Greeks and implied vol vs vollib, µs per option.

Measures, in one run and on the same options:

* price + all five Greeks: vollib scalar (six calls: ``black_scholes`` and
  ``analytical.{delta,gamma,theta,vega,rho}``), ours scalar (:func:`greeks`), ours
  vectorised (:func:`greeks_vec`) over a 42-strike chain and over 10k options;
* implied volatility: vollib scalar (``implied_volatility``, Let's Be Rational in
  pure Python), ours scalar (:func:`implied_vol`), ours vectorised
  (:func:`implied_vol_vec`) over the chain and over 10k options, and
  :func:`chain_greeks` (IV + Greeks at it) over the chain;

then prints the ratio vollib / ours. The first call of each numba kernel (compile or
cache load) is timed separately and excluded. Run: ``python bench/bench_greeks.py``
(about 10-20 s).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from vollib.black_scholes import black_scholes as vl_price
from vollib.black_scholes.greeks import analytical as vl
from vollib.black_scholes.implied_volatility import implied_volatility as vl_iv

from aion.tables.greeks import (
    chain_greeks,
    greeks,
    greeks_vec,
    implied_vol,
    implied_vol_vec,
)

R = 0.065
BUDGET_S = 0.5  # wall time per measurement
RNG = np.random.default_rng(42)


def best_us_per_option(fn: Callable[[], object], n_options: int, repeats: int = 5) -> float:
    """Best-of-repeats µs per option of ``fn`` (which handles ``n_options`` options)."""
    fn()
    loops = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(loops):
            fn()
        dt = time.perf_counter() - t0
        if dt > BUDGET_S / repeats or loops > 1 << 20:
            break
        loops *= 2
    best = dt
    for _ in range(repeats - 1):
        t0 = time.perf_counter()
        for _ in range(loops):
            fn()
        best = min(best, time.perf_counter() - t0)
    return best / loops / n_options * 1e6


def make_chain() -> dict[str, np.ndarray]:
    """A NIFTY-like weekly chain: 42 strikes around 24,150, 3 trading days, smile."""
    spot = 24_150.0
    strikes = np.arange(23_100.0, 25_200.0, 50.0)
    calls = np.tile([True, False], 21)
    t = 3.0 / 252
    vol = 0.12 + 0.5 * (strikes / spot - 1.0) ** 2
    price = greeks_vec(spot, strikes, t, R, vol, calls).price
    n = strikes.size
    return {"spot": np.full(n, spot), "strike": strikes, "t": np.full(n, t),
            "sigma": vol, "is_call": calls, "price": price}


def make_book(n: int) -> dict[str, np.ndarray]:
    """10k options across underlyings, moneyness 0.8-1.2, 1 day to 3 months."""
    spot = np.exp(RNG.uniform(np.log(100.0), np.log(50_000.0), n))
    strike = spot * RNG.uniform(0.8, 1.2, n)
    t = RNG.uniform(1.0, 63.0, n) / 252
    sigma = RNG.uniform(0.08, 0.6, n)
    calls = RNG.random(n) < 0.5
    price = greeks_vec(spot, strike, t, R, sigma, calls).price
    return {"spot": spot, "strike": strike, "t": t, "sigma": sigma, "is_call": calls,
            "price": price}


def scalar_loop(
    book: dict[str, np.ndarray], k: int, fn: Callable[..., object]
) -> Callable[[], None]:
    rows = [(float(book["price"][i]), float(book["spot"][i]), float(book["strike"][i]),
             float(book["t"][i]), float(book["sigma"][i]), bool(book["is_call"][i]))
            for i in range(k)]

    def run() -> None:
        for row in rows:
            fn(*row)

    return run


def main() -> None:
    t0 = time.perf_counter()
    warm = make_chain()
    greeks(24_000.0, 24_000.0, 0.01, R, 0.15, True)
    implied_vol(100.0, 24_000.0, 24_000.0, 0.01, R, True)
    chain_greeks(warm["price"], warm["spot"], warm["strike"], warm["t"], R, warm["is_call"])
    implied_vol_vec(warm["price"], warm["spot"], warm["strike"], warm["t"], R, warm["is_call"])
    print(f"numba compile / cache load (first calls): {time.perf_counter() - t0:.2f} s\n")

    chain = make_chain()
    book = make_book(10_000)
    k = 300  # scalar loops: a slice of the book is enough for a stable mean

    def vl_all(p: float, s: float, kk: float, t: float, v: float, c: bool) -> None:
        f = "c" if c else "p"
        vl_price(f, s, kk, t, R, v)
        vl.delta(f, s, kk, t, R, v)
        vl.gamma(f, s, kk, t, R, v)
        vl.theta(f, s, kk, t, R, v)
        vl.vega(f, s, kk, t, R, v)
        vl.rho(f, s, kk, t, R, v)

    def vl_implied(p: float, s: float, kk: float, t: float, v: float, c: bool) -> None:
        vl_iv(p, s, kk, t, R, "c" if c else "p")

    def ours_greeks(p: float, s: float, kk: float, t: float, v: float, c: bool) -> None:
        greeks(s, kk, t, R, v, c)

    def ours_iv(p: float, s: float, kk: float, t: float, v: float, c: bool) -> None:
        implied_vol(p, s, kk, t, R, c)

    def vec_greeks(b: dict[str, np.ndarray]) -> Callable[[], object]:
        return lambda: greeks_vec(b["spot"], b["strike"], b["t"], R, b["sigma"], b["is_call"])

    def vec_iv(b: dict[str, np.ndarray]) -> Callable[[], object]:
        return lambda: implied_vol_vec(b["price"], b["spot"], b["strike"], b["t"], R,
                                       b["is_call"])

    def chain_all(b: dict[str, np.ndarray]) -> Callable[[], object]:
        return lambda: chain_greeks(b["price"], b["spot"], b["strike"], b["t"], R,
                                    b["is_call"])

    n_chain, n_book = chain["strike"].size, book["strike"].size
    per = best_us_per_option
    rows: list[tuple[str, str, float]] = [
        ("price+5 Greeks", "vollib scalar", per(scalar_loop(book, k, vl_all), k, 3)),
        ("price+5 Greeks", "ours scalar", per(scalar_loop(book, k, ours_greeks), k)),
        ("price+5 Greeks", f"ours vec, chain of {n_chain}",
         best_us_per_option(vec_greeks(chain), n_chain)),
        ("price+5 Greeks", f"ours vec, {n_book} options",
         best_us_per_option(vec_greeks(book), n_book)),
        ("implied vol", "vollib scalar", per(scalar_loop(book, k, vl_implied), k, 3)),
        ("implied vol", "ours scalar", per(scalar_loop(book, k, ours_iv), k)),
        ("implied vol", f"ours vec, chain of {n_chain}", per(vec_iv(chain), n_chain)),
        ("implied vol", f"ours vec, {n_book} options", per(vec_iv(book), n_book)),
        ("IV + Greeks", f"ours chain_greeks, chain of {n_chain}",
         best_us_per_option(chain_all(chain), n_chain)),
        ("IV + Greeks", f"ours chain_greeks, {n_book} options",
         best_us_per_option(chain_all(book), n_book)),
    ]
    base = {"price+5 Greeks": rows[0][2], "implied vol": rows[4][2],
            "IV + Greeks": rows[0][2] + rows[4][2]}
    print(f"{'what':<16}{'path':<36}{'µs/option':>12}{'vollib/ours':>16}")
    for what, path, us in rows:
        print(f"{what:<16}{path:<36}{us:>12.3f}{base[what] / us:>15.1f}x")
    print(f"\n(IV + Greeks baseline: vollib IV + price+5 Greeks = {base['IV + Greeks']:.1f} µs)")
    print(f"total bench time: {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
