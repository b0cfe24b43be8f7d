"""Greeks of option alerts, computed by the option's chain in chain-time order.

An option's alert is made in its own partition's tick analytics, but its Greeks need the
underlying, which only the per-underlying chain (:mod:`aion.tables.chain`) knows
deterministically. So:

* the bundle that produced the alert passes it to the chain in the same
  :class:`~aion.tables.chain.ChainInput` that carries the bundle's quotes
  (``ChainInput.alerts``, an :class:`AlertRef` per option alert: the alert id and the
  option priced at the alert, i.e. its entry price at the alert's event time);
* the chain applies inputs in chain-time order (whatever the partitions' interleaving),
  and right after applying that input's quotes it prices each of its alerts with
  :func:`alert_greeks`: the option at the alert's premium against the chain's underlying
  quote at that point (spot, else the nearest future as Black-76's forward), time to
  expiry at the later of the alert's and the underlying quote's event times: exactly the
  chain's own row computation (``chain._recompute``) on that one option;
* the result is an :class:`~aion.tables.records.AlertGreeks` record (``aion.alerts.greeks``)
  whose writer merges ``iv``, ``delta``, ``gamma``, ``theta``, ``vega`` and ``rho`` into
  ``alert:{alert_id}``. When the Greeks cannot be computed the record says why
  (``no_underlying`` before any spot or future quote, or the chain's reasons such as
  ``no_time_value``).

The chain's own state is not changed: the option's row keeps the Greeks of its last
quote. Alerts at the end of stream travel with the end-of-stream input and are priced
after every other input, before the final snapshot. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aion.tables.records import AlertGreeks

if TYPE_CHECKING:
    from aion.tables.chain import ChainParams, ChainState, Quote
    from aion.tables.expiry import TradingCalendar

REASON_NO_UNDERLYING = "no_underlying"
"""No spot or future quote seen by the chain yet: nothing to price the option against."""


@dataclass(frozen=True, slots=True)
class AlertRef:
    """An option alert handed to its chain.

    Attributes:
        alert_id: The alert's id.
        quote: The option as the alert prices it: ``price`` is the alert's entry price,
            ``event_ns`` its event time; the rest is the option's chain membership.
    """

    alert_id: str
    quote: Quote

    def to_list(self) -> list[Any]:
        """Positional serialisation: ``[alert_id, *quote]``."""
        return [self.alert_id, *self.quote.to_list()]

    @classmethod
    def from_list(cls, v: list[Any]) -> AlertRef:
        """Inverse of :meth:`to_list`."""
        from aion.tables.chain import Quote  # chain imports this module: no cycle at load

        return cls(str(v[0]), Quote.from_list(v[1:]))


def alert_greeks(state: ChainState, ref: AlertRef, params: ChainParams,
                 calendar: TradingCalendar) -> AlertGreeks:
    """Price an option alert against the chain as it stands (see the module docstring).

    Args:
        state: The chain, after the alert's input was applied (not changed).
        ref: The alert.
        params: Chain settings.
        calendar: NSE calendar for the time to expiry.

    Returns:
        The record, Greeks None with a reason when they cannot be computed.
    """
    from aion.tables import chain as ch

    q = ref.quote
    under = ch.underlying_quote(state)
    base: dict[str, Any] = {"alert_id": ref.alert_id, "token": q.token, "symbol": q.symbol,
                            "underlying": state.underlying, "ts_ns": q.event_ns,
                            "option_price": q.price}
    if under is None:
        return AlertGreeks(**base, reason=REASON_NO_UNDERLYING)
    # The chain's row computation on a scratch chain of the underlying and this option.
    scratch = ch.ChainState(state.underlying, quotes={under.token: under, q.token: q})
    ch._recompute(scratch, [q.token], params, calendar)
    row = scratch.greeks.get(q.token, [None] * len(ch.GREEK_FIELDS) + [REASON_NO_UNDERLYING])
    greeks = dict(zip(ch.GREEK_FIELDS, row, strict=False))
    return AlertGreeks(**base, underlying_price=under.price,
                       underlying_source=ch._SOURCE[under.kind],
                       reason=str(row[-1] or ""), **greeks)
