"""The component codec: canonical JSON, the registry index and the refusals."""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from state_strategies import CONFIG

from aion.tables import state_registry
from aion.tables.state_codec import (
    StateFormatError,
    component_index,
    decode_section,
    dumps,
    encode_section,
)
from aion.tables.volume import VolumeState

INDEX = component_index(state_registry.COMPONENTS)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_dumps_is_canonical_json(value: Any) -> None:
    want = json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()
    assert dumps(value) == want
    assert dumps(json.loads(want)) == want


@settings(max_examples=500, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_round_trip_bit_for_bit(x: float) -> None:
    back = json.loads(dumps([x]))[0]
    assert struct.pack("<d", back) == struct.pack("<d", x)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_are_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="JSON compliant"):
        dumps({"x": [1.0, bad]})


def test_registry_names_are_unique_and_versions_positive() -> None:
    assert list(INDEX) == [c.NAME for c in state_registry.COMPONENTS]
    assert set(state_registry.TICK_COMPONENTS) <= set(state_registry.COMPONENTS)
    assert all(isinstance(c.VERSION, int) and c.VERSION >= 1 for c in state_registry.COMPONENTS)


@dataclass
class _Twin:
    NAME: ClassVar[str] = "volume"
    VERSION: ClassVar[int] = 1

    def encode(self) -> Any:
        return None

    @classmethod
    def decode(cls, payload: Any, version: int, config: Any) -> _Twin:
        return cls()


def test_duplicate_names_in_a_registry_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="share the name 'volume'"):
        component_index((VolumeState, _Twin))


def test_bad_version_constant_is_a_programming_error() -> None:
    class Zero(_Twin):
        NAME = "zero"
        VERSION = 0

    with pytest.raises(ValueError, match="'zero': VERSION must be an int >= 1"):
        component_index((Zero,))


def test_section_round_trip_is_name_version_payload() -> None:
    vs = VolumeState(day=20410, observed=True, cumulative=5, last_price=0.1 + 0.2)
    section = encode_section([vs], INDEX)
    assert section == {"volume": [VolumeState.VERSION, vs.encode()]}
    assert decode_section(json.loads(dumps(section)), INDEX, CONFIG) == {"volume": vs}


def test_unknown_component_is_refused_by_name() -> None:
    with pytest.raises(StateFormatError) as err:
        decode_section({"detectors": [3, {}]}, INDEX, CONFIG)
    msg = str(err.value)
    assert "'detectors'" in msg and "version 3" in msg and "unknown to this build" in msg
    assert ("known components: bars, buckets, indicators, patterns, profile, validation, vix, "
            "volume, vwap") in msg
    assert (err.value.component, err.value.version) == ("detectors", 3)
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize("cls", state_registry.COMPONENTS, ids=lambda c: c.NAME)
@pytest.mark.parametrize("delta", [1, 40])
def test_unknown_component_version_is_refused_naming_known_versions(cls: Any, delta: int) -> None:
    version = cls.VERSION + delta
    with pytest.raises(StateFormatError) as err:
        decode_section({cls.NAME: [version, None]}, INDEX, CONFIG)
    known = ", ".join(str(v) for v in range(1, cls.VERSION + 1))
    assert str(err.value) == (f"state component {cls.NAME!r}: version {version} is unknown "
                              f"to this build (known versions: {known})")
    assert err.value.known == tuple(range(1, cls.VERSION + 1))


@pytest.mark.parametrize("version", [0, -1, "1", 1.0, True, None])
def test_versions_that_are_not_positive_ints_are_refused(version: Any) -> None:
    with pytest.raises(StateFormatError, match=r"'volume': version .* is unknown"):
        decode_section({"volume": [version, VolumeState().encode()]}, INDEX, CONFIG)


@pytest.mark.parametrize("section", [[], "volume", {"volume": [1]}, {"volume": {"v": 1}}])
def test_malformed_sections_are_refused(section: Any) -> None:
    with pytest.raises(StateFormatError, match="state component"):
        decode_section(section, INDEX, CONFIG)


def test_a_bad_payload_of_a_known_version_names_the_component() -> None:
    with pytest.raises(StateFormatError, match="'buckets' version 1: bad payload") as err:
        decode_section({"buckets": [1, [[1, 2, 3]]]}, INDEX, CONFIG)
    assert err.value.component == "buckets"
    with pytest.raises(StateFormatError, match=r"'indicators' version 1: bad payload.*params"):
        decode_section({"indicators": [1, "QUlYUwEAAAAAAAAAAA=="]}, INDEX, CONFIG)


def test_unregistered_component_is_refused_on_write() -> None:
    class Stray(_Twin):
        NAME = "stray"

    with pytest.raises(StateFormatError, match=r"'stray' .* is not registered"):
        encode_section([Stray()], INDEX)
    # Same name as a registered one, other class: also refused.
    with pytest.raises(StateFormatError, match="'volume' \\(_Twin\\) is not registered"):
        encode_section([_Twin()], INDEX)
