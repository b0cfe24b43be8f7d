"""Version-1 (positional) states, as a deployment's changelog holds them, still restore.

The fixture holds ``to_bytes()`` of six recipe states (``state_cases``) written by commit
5231099, the last build of format version 1. The same recipes run on this build must
give exactly the states those bytes restore to.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from state_cases import CASES, FIXTURE

from aion.tables import engine
from aion.tables.analytics import Analytics
from aion.tables.indicators import IndicatorSet
from aion.tables.instrument_state import InstrumentState, apply_ticks
from aion.tables.profile_state import ProfileState
from aion.tables.session_vwap import SessionVwap
from aion.tables.state_codec import StateFormatError
from aion.tables.state_legacy import upgrade_v1
from aion.tables.volume_baseline import VixRegime

V1 = json.loads(FIXTURE.read_text())


def v1_bytes(state: InstrumentState) -> bytes:
    """What the version-1 ``to_bytes`` wrote for a state (checked against the fixture)."""
    doc: dict[str, Any] = {
        "v": 1, "token": state.token,
        "pos": [[p, o, i] for p, (o, i) in sorted(state.positions.items())],
        "vol": state.volume.encode()[:11],  # v1: without the streaks of v2
        "bars": state.bars.encode(), "bk": state.buckets.encode(),
        "n": state.ticks_applied, "late": state.late_ticks, "rej": state.rejects,
    }
    an = state.analytics
    if an is not None:
        ind, ps, vix = an.get(IndicatorSet), an.get(ProfileState), an.get(VixRegime)
        vw = an.get(SessionVwap) or SessionVwap()
        doc["an"] = [None if ind is None else ind.encode(),
                     None if ps is None else ps.encode()[0],
                     None if vix is None else vix.encode(), vw.day, vw.pv, vw.volume, an.bars,
                     -1 if ps is None else ps.dirty_lo, -1 if ps is None else ps.dirty_hi]
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def test_fixture_comes_from_the_last_version_1_build() -> None:
    assert V1["commit"] == "5231099"
    assert set(V1["cases"]) == set(CASES)
    assert all(json.loads(b)["v"] == 1 for b in V1["cases"].values())


@pytest.mark.parametrize("name", sorted(CASES))
def test_v1_payload_upgrades_to_the_same_state(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = V1["cases"][name].encode()
    # The fixture's build had no price band (tables.sanity), and the vix recipe jumps
    # by +85% in one tick: rebuild the recipe under the rules of that build.
    monkeypatch.setattr(engine, "price_band", lambda _kind: 0.0)
    want = CASES[name]()
    got = InstrumentState.from_bytes(data)
    assert got == want
    assert got.to_bytes() == want.to_bytes()
    assert json.loads(got.to_bytes())["v"] == 2
    # The reference v1 writer below reproduces the old build's bytes exactly.
    assert v1_bytes(want) == data


def test_fixture_covers_every_component() -> None:
    seen = set()
    for data in V1["cases"].values():
        doc = upgrade_v1(json.loads(data))
        seen |= set(doc["c"]) | set(doc.get("an", ()))
    assert seen == {"volume", "bars", "buckets", "indicators", "profile", "vwap", "vix"}


def test_closed_bar_count_comes_from_the_indicator_set() -> None:
    for data in V1["cases"].values():
        doc = json.loads(data)
        if "an" in doc:
            assert InstrumentState.from_bytes(data.encode()).analytics.bars == doc["an"][6]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_v1_of_any_tick_state_upgrades_to_it(data: st.DataObject) -> None:
    from test_instrument_state import TOKEN, apply_all, day_sessions

    arr, ev = data.draw(day_sessions())
    state = InstrumentState(TOKEN)
    apply_all(state, arr, ev)
    # Version 1 had no re-anchoring streaks (tables.sanity): they come back as 0.
    want = copy.deepcopy(state)
    want.volume.price_streak, want.volume.price_candidate = 0, 0.0
    want.volume.volume_streak, want.volume.volume_candidate = 0, 0
    assert InstrumentState.from_bytes(v1_bytes(state)) == want


def test_v1_vwap_that_never_saw_a_tick_is_no_component() -> None:
    state = InstrumentState(7, analytics=Analytics())
    back = InstrumentState.from_bytes(v1_bytes(state))
    assert back == state and back.analytics.parts == {}


def _v1_doc() -> dict[str, Any]:
    return json.loads(V1["cases"]["stock_first_minute"])


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["an"].__setitem__(6, 3), "3 closed bars but no indicator set"),
    (lambda d: d["an"].__setitem__(1, None), "dirty profile rows but no profile"),
    (lambda d: d["an"].pop(), "analytics must be a list of 9 values"),
    (lambda d: d.pop("bk"), "format version 1: missing key 'bk'"),
])
def test_v1_documents_an_old_build_could_not_write_are_refused(change: Any, message: str) -> None:
    doc = _v1_doc()
    change(doc)
    with pytest.raises(StateFormatError, match=message):
        InstrumentState.from_bytes(json.dumps(doc).encode())


def test_upgrade_is_document_to_document() -> None:
    doc = _v1_doc()
    before = copy.deepcopy(doc)
    up = upgrade_v1(doc)
    assert doc == before  # the input is left alone
    assert up["c"]["volume"] == [1, doc["vol"]] and up["c"]["buckets"] == [1, doc["bk"]]
    assert up["an"]["profile"] == [1, [doc["an"][1], doc["an"][7], doc["an"][8]]]
    assert up["an"]["vwap"] == [1, doc["an"][3:6]]


def test_applying_ticks_after_the_upgrade_continues_exactly() -> None:
    from test_instrument_state import TOKEN, build, t

    arr, ev = build([t(10, 0), t(10, 0, 30), t(10, 1, 5)], [100.0, 100.5, 101.0],
                    [1000, 1200, 1500])
    ref = InstrumentState(TOKEN)
    apply_ticks(ref, arr[:1], ev[:1], 0, 0, [0])
    restored = InstrumentState.from_bytes(v1_bytes(ref))
    for s in (ref, restored):
        apply_ticks(s, arr[1:], ev[1:], 0, 1, [0, 1])
    assert restored.to_bytes() == ref.to_bytes()
