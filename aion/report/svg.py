"""Small SVG building blocks for the report: elements with escaped attributes, scales, ticks.

Every attribute value and every text node goes through :func:`html.escape` (quotes too),
so a symbol or pattern name can never open a tag or leave an attribute.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape


def _fmt(value: object) -> str:
    """An attribute value: floats to 2 decimals (pixels), others as text."""
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".") if math.isfinite(value) else "0"
    return str(value)


def attrs(**kwargs: object) -> str:
    """Render keyword arguments as escaped attributes (``class_`` -> ``class``, ``_`` -> ``-``).

    Args:
        **kwargs: Attribute values; None is left out.

    Returns:
        `` name="value"`` pairs, each preceded by a space.
    """
    out = []
    for key, value in kwargs.items():
        if value is None:
            continue
        name = key.rstrip("_").replace("_", "-")
        out.append(f' {name}="{escape(_fmt(value), quote=True)}"')
    return "".join(out)


def element(tag: str, body: str = "", **kwargs: object) -> str:
    """An element with escaped attributes around an already-rendered ``body``.

    Args:
        tag: Tag name.
        body: Inner markup (already escaped), empty for a self-closed element.
        **kwargs: Attributes (see :func:`attrs`).

    Returns:
        The markup.
    """
    if body:
        return f"<{tag}{attrs(**kwargs)}>{body}</{tag}>"
    return f"<{tag}{attrs(**kwargs)}/>"


def text(x: float, y: float, content: str, **kwargs: object) -> str:
    """A ``<text>`` element holding ``content`` escaped."""
    return f"<text{attrs(x=x, y=y, **kwargs)}>{escape(content)}</text>"


def tooltip(content: str) -> str:
    """A ``<title>`` child (shown on hover) holding ``content`` escaped."""
    return f"<title>{escape(content)}</title>"


def svg(width: float, height: float, body: str, **kwargs: object) -> str:
    """An inline ``<svg>`` of the given size (HTML5: no namespace declaration needed)."""
    box = f"0 0 {_fmt(width)} {_fmt(height)}"
    return f"<svg{attrs(width=width, height=height, viewBox=box, **kwargs)}>{body}</svg>"


@dataclass(frozen=True, slots=True)
class Scale:
    """A linear map from a data interval onto a pixel interval.

    Attributes:
        lo: Data value mapped to ``a``.
        hi: Data value mapped to ``b`` (when ``hi == lo`` every value maps to the middle).
        a: Pixel of ``lo``.
        b: Pixel of ``hi`` (smaller than ``a`` for an upward y axis).
    """

    lo: float
    hi: float
    a: float
    b: float

    def __call__(self, value: float) -> float:
        """The pixel of ``value``."""
        if self.hi == self.lo:
            return (self.a + self.b) / 2
        return self.a + (value - self.lo) * (self.b - self.a) / (self.hi - self.lo)


def nice_step(span: float, target: int = 5) -> float:
    """A step of 1, 2 or 5 times a power of ten giving about ``target`` ticks over ``span``.

    Args:
        span: Length of the interval (> 0).
        target: Wanted number of ticks.

    Returns:
        The step.
    """
    raw = span / max(target, 1)
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * power >= raw:
            return m * power
    return 10 * power


def ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """Multiples of :func:`nice_step` inside ``[lo, hi]``.

    Args:
        lo: Lower end.
        hi: Upper end.
        target: Wanted number of ticks.

    Returns:
        Tick values ascending ([lo] when the interval is empty).
    """
    if not hi > lo:
        return [lo]
    step = nice_step(hi - lo, target)
    first = math.ceil(lo / step - 1e-9)
    out = []
    k = first
    while k * step <= hi + 1e-9 * step:
        out.append(round(k * step, 10))
        k += 1
    return out
