"""``IndicatorSet``: every indicator of one instrument, as one flat state vector.

The Python face of the set. Its whole state is one ``float64`` numpy vector (layout
from :mod:`~aion.tables.indicators.layout`, ring buffers included, fixed size: no
history grows), updated in place by the compiled kernels of
:mod:`~aion.tables.indicators.kernel`. Same params and same inputs in the same order
give the same vector, byte for byte; :meth:`IndicatorSet.to_bytes` is that vector
plus a short header, so a Faust table can store it and a restored set continues
exactly where the old one stopped.

Bar indicators update on each *closed* bar (:meth:`IndicatorSet.update_bar`) and run
over the continuous bar series (a new day does not restart them, as TA-Lib over a
concatenated series). The session VWAP updates on each tick
(:meth:`IndicatorSet.update_tick`) and restarts on :meth:`IndicatorSet.reset_session`,
which the caller invokes on a new trading date (no clock here). The engine does not use
this tick path: ``tables.analytics`` keeps the session VWAP itself and publishes it as a
``VwapUpdate`` record, so the engine's ``values()`` never holds ``vwap``.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import numpy.typing as npt

from aion.tables.indicators import (
    ad,
    adx,
    aroon,
    atr,
    bbands,
    cci,
    cmf,
    crossover,
    donchian,
    ema,
    keltner,
    macd,
    mfi,
    obv,
    roc,
    rsi,
    sar,
    sma,
    stoch,
    vwap,
    willr,
)
from aion.tables.indicators import kernel as k
from aion.tables.indicators.layout import H_BARS, H_TICKS, Layout, build
from aion.tables.indicators.params import IndicatorParams

if TYPE_CHECKING:
    from aion.tables.analytics import AnalyticsConfig

Value = float | dict[str, float]

MAGIC = b"AIXS"
STATE_VERSION = 1
_HEADER = struct.Struct("<4sB8s")

_REJECT_REASON = {
    k.REJECT_NON_FINITE: "non-finite input",
    k.REJECT_RANGE: "low above high",
    k.REJECT_VOLUME: "negative volume",
}


def _fingerprint(layout: Layout) -> bytes:
    # Identifies the layout (offsets + periods + real params): a state is only
    # meaningful under the params that produced it.
    h = hashlib.blake2b(digest_size=8)
    h.update(bytes([STATE_VERSION]))
    h.update(layout.lay.tobytes())
    h.update(layout.fp.tobytes())
    return h.digest()


_Plan = list[tuple[str, tuple[str, ...] | None, tuple[int, ...], int]]


def _read_plan(p: IndicatorParams, lo: Layout) -> tuple[_Plan, npt.NDArray[np.intp]]:
    """What :meth:`IndicatorSet.values` reads: (name, sub-keys, positions, lookback).

    Positions index a gathered vector whose element 0 is the bar count and whose last
    two are the session volume and the VWAP.
    """
    off = lo.off
    slots: list[int] = [H_BARS]
    plan: _Plan = []

    def add(name: str, warm: int, at: int | dict[str, int]) -> None:
        keys = None if isinstance(at, int) else tuple(at)
        where = [at] if isinstance(at, int) else list(at.values())
        plan.append((name, keys, tuple(range(len(slots), len(slots) + len(where))), warm))
        slots.extend(where)

    for per, o in lo.ema:
        add(f"ema_{per}", ema.lookback(per), o + ema.VALUE)
    for per, o in lo.sma:
        add(f"sma_{per}", sma.lookback(per), o + sma.OUT)
    for f, sl, o in lo.cross:
        add(f"ema_cross_{f}_{sl}", ema.lookback(sl),
            {"cross": o + crossover.CROSS, "relation": o + crossover.RELATION})
    m, o = p.macd, off["macd"]
    add("macd", macd.lookback(m.fast, m.slow, m.signal),
        {"macd": o + macd.MACD, "signal": o + macd.SIGNAL, "histogram": o + macd.HIST})
    o = off["adx"]
    add("adx", adx.lookback_adx(p.adx), o + adx.ADX)
    add("plus_di", adx.lookback_di(p.adx), o + adx.PLUS_DI)
    add("minus_di", adx.lookback_di(p.adx), o + adx.MINUS_DI)
    o = off["aroon"]
    add("aroon", aroon.lookback(p.aroon),
        {"up": o + aroon.UP, "down": o + aroon.DOWN, "oscillator": o + aroon.OSC})
    add("psar", sar.lookback(), off["psar"] + sar.OUT)
    add("rsi", rsi.lookback(p.rsi), off["rsi"] + rsi.OUT)
    st, o = p.stoch, off["stoch"]
    add("stoch", stoch.lookback(st.fastk, st.slowk, st.slowd),
        {"slowk": o + stoch.SLOWK + sma.OUT, "slowd": o + stoch.slowd_off(st.slowk) + sma.OUT})
    add("williams_r", willr.lookback(p.williams_r), off["williams_r"] + willr.OUT)
    add("cci", cci.lookback(p.cci), off["cci"] + cci.OUT)
    add("roc", roc.lookback(p.roc), off["roc"] + roc.OUT)
    bp, o = p.bollinger_bands.period, off["bollinger_bands"]
    up = o + bbands.upper_off(bp)
    add("bollinger_bands", bbands.lookback(bp),
        {"upper": up, "middle": o + bbands.MIDDLE, "lower": up + 1})
    add("atr", atr.lookback(p.atr), off["atr"] + atr.VALUE)
    kp, o = p.keltner, off["keltner"]
    add("keltner", keltner.lookback(kp.ema_period, kp.atr_period),
        {"upper": o + keltner.UPPER, "middle": o + keltner.MIDDLE, "lower": o + keltner.LOWER})
    o = off["donchian"]
    add("donchian", donchian.lookback(p.donchian),
        {"upper": o + donchian.UPPER, "middle": o + donchian.MIDDLE,
         "lower": o + donchian.LOWER})
    add("obv", obv.lookback(), off["obv"] + obv.VALUE)
    add("ad", ad.lookback(), off["ad"] + ad.VALUE)
    add("cmf", cmf.lookback(p.cmf), off["cmf"] + cmf.OUT)
    add("mfi", mfi.lookback(p.mfi), off["mfi"] + mfi.OUT)
    slots += [off["vwap"] + vwap.VOLUME, off["vwap"] + vwap.VALUE]
    return plan, np.asarray(slots, dtype=np.intp)


@lru_cache(maxsize=16)
def _static(
    params: IndicatorParams,
) -> tuple[Layout, _Plan, npt.NDArray[np.intp], bytes]:
    """What every set of the same params shares: layout, read plan and state header.

    Built once per params rather than per set: building them is most of the cost of a
    new set, and the worker makes one per instrument state it decodes. Nothing writes
    to them after they are built, so sets can share them.

    Args:
        params: The indicator params.

    Returns:
        The layout, the read plan of :meth:`IndicatorSet.values` (plan and gather
        indices) and the :meth:`IndicatorSet.to_bytes` header (its fingerprint hashed
        once here, not per serialisation).
    """
    layout = build(params)
    plan, plan_idx = _read_plan(params, layout)
    plan_idx.setflags(write=False)
    return layout, plan, plan_idx, _HEADER.pack(MAGIC, STATE_VERSION, _fingerprint(layout))


class IndicatorSet:
    """All indicators of one instrument, updated bar by bar (and tick by tick for VWAP).

    Args:
        params: Indicator parameters; defaults when omitted.
    """

    __slots__ = ("_fp", "_head", "_lay", "_plan", "_plan_idx", "layout", "params", "state")

    def __init__(self, params: IndicatorParams | None = None) -> None:
        self.params = params if params is not None else IndicatorParams()
        self.layout, self._plan, self._plan_idx, self._head = _static(self.params)
        self._lay = self.layout.lay
        self._fp = self.layout.fp
        self.state: npt.NDArray[np.float64] = np.zeros(self.layout.size, dtype=np.float64)

    # ------------------------------------------------------------------ updates
    def update_bar(self, o: float, h: float, l: float, c: float, v: float) -> None:  # noqa: E741
        """Apply one closed 1-minute bar.

        Args:
            o: Open.
            h: High.
            l: Low.
            c: Close.
            v: Volume traded in the bar.

        Raises:
            ValueError: On a non-finite value, ``l > h`` or a negative volume; the
                state is then unchanged.
        """
        code = k.update_bar(
            self.state, self._lay, self._fp, float(o), float(h), float(l), float(c), float(v)
        )
        if code:
            raise ValueError(f"bar rejected: {_REJECT_REASON[code]} ({o}, {h}, {l}, {c}, {v})")

    def update_bars(
        self,
        o: Sequence[float] | npt.NDArray[np.float64],
        h: Sequence[float] | npt.NDArray[np.float64],
        l: Sequence[float] | npt.NDArray[np.float64],  # noqa: E741
        c: Sequence[float] | npt.NDArray[np.float64],
        v: Sequence[float] | npt.NDArray[np.float64],
    ) -> None:
        """Apply a run of closed bars in order; same result as one :meth:`update_bar` each.

        Args:
            o: Opens.
            h: Highs.
            l: Lows.
            c: Closes.
            v: Volumes.

        Raises:
            ValueError: If the arrays differ in length, or at the first rejected bar
                (the bars before it stay applied).
        """
        arrs = [np.ascontiguousarray(a, dtype=np.float64) for a in (o, h, l, c, v)]
        n = len(arrs[3])
        if any(len(a) != n for a in arrs):
            raise ValueError("update_bars: arrays of different lengths")
        done = k.update_bars(self.state, self._lay, self._fp, *arrs)
        if done != n:
            bar = tuple(float(a[done]) for a in arrs)
            code = k.check_bar(*bar)
            raise ValueError(f"bar {done} rejected: {_REJECT_REASON[code]} {bar}")

    def update_tick(self, price: float, volume_increment: float) -> None:
        """Apply one tick to the tick-driven indicators (session VWAP).

        Args:
            price: Last traded price.
            volume_increment: Volume traded since the previous tick (0 for a quote
                without trade: it does not move the VWAP).

        Raises:
            ValueError: On a non-finite value or a negative increment.
        """
        code = k.update_tick(self.state, self._lay, float(price), float(volume_increment))
        if code:
            raise ValueError(f"tick rejected: {_REJECT_REASON[code]} ({price}, {volume_increment})")

    def reset_session(self) -> None:
        """Start a new trading session: the session VWAP restarts; bar indicators go on."""
        vwap.reset(self.state, self.layout.off["vwap"])

    # ------------------------------------------------------------------ reading
    @property
    def bars(self) -> int:
        """Number of bars applied so far."""
        return int(self.state[H_BARS])

    @property
    def ticks(self) -> int:
        """Number of ticks applied so far."""
        return int(self.state[H_TICKS])

    def values(self) -> dict[str, Value]:
        """The warmed-up values, named as the Redis schema names them.

        Returns:
            Only indicators past their warm-up: ``ema_<n>``, ``sma_<n>``,
            ``ema_cross_<f>_<s>`` ({cross, relation}), ``macd`` ({macd, signal,
            histogram}), ``adx``, ``plus_di``, ``minus_di``, ``aroon`` ({up, down,
            oscillator}), ``psar``, ``rsi``, ``stoch`` ({slowk, slowd}), ``williams_r``,
            ``cci``, ``roc``, ``bollinger_bands`` ({upper, middle, lower}), ``atr``,
            ``keltner`` and ``donchian`` ({upper, middle, lower}), ``obv``, ``ad``,
            ``cmf``, ``mfi``, ``vwap``. Every value is a finite float.
        """
        # One gather of the output slots (slot 0 = bars applied), then pure-list work.
        g = self.state.take(self._plan_idx).tolist()
        n = g[0]
        out: dict[str, Value] = {}
        for name, keys, pos, warm in self._plan:
            if n <= warm:
                continue
            if keys is None:
                out[name] = g[pos[0]]
            else:
                out[name] = {key: g[i] for key, i in zip(keys, pos, strict=True)}
        if g[-2] > 0.0:  # session volume
            out["vwap"] = g[-1]
        return out

    # ------------------------------------------------------------------ persistence
    def to_bytes(self) -> bytes:
        """Serialize: magic, version byte, layout fingerprint, then the float64 vector.

        Returns:
            ``13 + 8 * len(state)`` bytes (little-endian floats).
        """
        return self._head + self.state.astype("<f8", copy=False).tobytes()

    @classmethod
    def from_bytes(cls, params: IndicatorParams | None, data: bytes) -> IndicatorSet:
        """Restore a set serialized by :meth:`to_bytes` under the same params.

        Args:
            params: The params the state was produced with (defaults when ``None``).
            data: Output of :meth:`to_bytes`.

        Returns:
            A set whose next updates give exactly what the original's would.

        Raises:
            ValueError: On a bad magic, version, layout fingerprint (other params) or
                length.
        """
        out = cls(params)
        if len(data) < _HEADER.size:
            raise ValueError("indicator state: truncated header")
        magic, version, _ = _HEADER.unpack_from(data)
        if magic != MAGIC:
            raise ValueError("indicator state: bad magic")
        if version != STATE_VERSION:
            raise ValueError(f"indicator state: version {version}, expected {STATE_VERSION}")
        if data[: _HEADER.size] != out._head:
            raise ValueError("indicator state: produced under different params")
        body = data[_HEADER.size :]
        if len(body) != 8 * out.layout.size:
            raise ValueError("indicator state: wrong length")
        out.state = np.frombuffer(body, dtype="<f8").astype(np.float64)
        return out

    # ------------------------------------------------------------------ state component
    NAME: ClassVar[str] = "indicators"
    VERSION: ClassVar[int] = 1

    def encode(self) -> str:
        """The state component payload (``tables.state_codec``), version 1.

        Returns:
            :meth:`to_bytes` in base64 (its own header carries the vector's version
            and the params' fingerprint).
        """
        return base64.b64encode(self.to_bytes()).decode()

    @classmethod
    def decode(cls, payload: Any, version: int, config: AnalyticsConfig) -> IndicatorSet:
        """Inverse of :meth:`encode`.

        Args:
            payload: An :meth:`encode` payload.
            version: Its version (1, the only one so far).
            config: Parameters the state was built with (its indicator periods).

        Returns:
            The set.

        Raises:
            ValueError: See :meth:`from_bytes`.
        """
        return cls.from_bytes(config.indicators, base64.b64decode(payload))

    def copy(self) -> IndicatorSet:
        """An independent copy.

        Returns:
            A set with the same params and a copied state.
        """
        out = IndicatorSet(self.params)
        out.state = self.state.copy()
        return out

    def __eq__(self, other: object) -> bool:
        # Byte equality, not float equality: same bits, same future.
        if not isinstance(other, IndicatorSet):
            return NotImplemented
        return self.params == other.params and self.state.tobytes() == other.state.tobytes()

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"IndicatorSet(bars={self.bars}, ticks={self.ticks}, slots={self.layout.size})"
