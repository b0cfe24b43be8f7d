"""Adding a state component is one class plus one registry entry.

``Streak`` below stands for the next component (a pattern detector): it is defined here
and registered by a fixture that extends ``state_registry.COMPONENTS``; nothing else
changes, and it round-trips with the state while every other component's bytes stay
exactly what they were.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from state_cases import stock_mid_session

from aion.tables import state_registry
from aion.tables.analytics import Analytics, AnalyticsConfig
from aion.tables.instrument_state import InstrumentState
from aion.tables.state_codec import StateFormatError


@dataclass(slots=True)
class Streak:
    """A toy detector: consecutive higher closes. Version 2 names its fields; 1 did not."""

    ups: int = 0
    last_close: float = 0.0

    NAME: ClassVar[str] = "streak"
    VERSION: ClassVar[int] = 2

    def encode(self) -> dict[str, Any]:
        return {"last_close": self.last_close, "ups": self.ups}

    @classmethod
    def decode(cls, payload: Any, version: int, config: AnalyticsConfig) -> Streak:
        if version == 1:
            ups, last_close = payload
            return cls(ups, last_close)
        return cls(payload["ups"], payload["last_close"])


@pytest.fixture()
def with_streak(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The one registry entry."""
    monkeypatch.setattr(state_registry, "COMPONENTS", (*state_registry.COMPONENTS, Streak))
    yield


def _with(state: InstrumentState, part: Any) -> InstrumentState:
    out = InstrumentState.from_bytes(state.to_bytes())
    assert out.analytics is not None
    out.analytics.put(part)
    return out


def test_a_registered_component_round_trips(with_streak: None) -> None:
    base = stock_mid_session()
    state = _with(base, Streak(3, 1501.55))
    data = state.to_bytes()
    assert b'"streak":[2,{"last_close":1501.55,"ups":3}]' in data
    back = InstrumentState.from_bytes(data)
    assert back == state and back.to_bytes() == data
    assert back.analytics.get(Streak) == Streak(3, 1501.55)
    # Every other component is written exactly as before.
    doc, before = json.loads(data), json.loads(base.to_bytes())
    del doc["an"]["streak"]
    assert doc == before


def test_the_component_reads_its_older_version(with_streak: None) -> None:
    doc = json.loads(_with(stock_mid_session(), Streak()).to_bytes())
    doc["an"]["streak"] = [1, [7, 99.5]]
    back = InstrumentState.from_bytes(json.dumps(doc).encode())
    assert back.analytics.get(Streak) == Streak(7, 99.5)
    doc["an"]["streak"] = [3, {}]
    with pytest.raises(StateFormatError, match=r"'streak': version 3 is unknown to this build "
                                               r"\(known versions: 1, 2\)"):
        InstrumentState.from_bytes(json.dumps(doc).encode())


def test_without_the_entry_it_is_refused_both_ways() -> None:
    state = _with(stock_mid_session(), Streak(1, 2.0))
    with pytest.raises(StateFormatError, match=r"'streak' .*not registered"):
        state.to_bytes()
    doc = json.loads(stock_mid_session().to_bytes())
    doc["an"]["streak"] = [2, {"last_close": 2.0, "ups": 1}]
    with pytest.raises(StateFormatError, match="'streak' \\(version 2\\) is unknown"):
        InstrumentState.from_bytes(json.dumps(doc).encode())


def test_an_analytics_of_only_the_new_component(with_streak: None) -> None:
    state = InstrumentState(5, analytics=Analytics())
    state.analytics.put(Streak(2, 10.0))
    assert InstrumentState.from_bytes(state.to_bytes()) == state
