"""The pattern registry: config/patterns.yaml against registry.DETECTORS, and its refusals."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from aion.config.patterns import PATTERNS_FILE, load_patterns
from aion.tables.patterns.base import InstrumentKind
from aion.tables.patterns.registry import DETECTORS, PatternSet

BLOCKS = load_patterns()


def blocks() -> dict[str, Any]:
    return copy.deepcopy(BLOCKS)


def test_the_file_loads_into_a_pattern_set() -> None:
    ps = PatternSet.from_mapping(BLOCKS)
    assert [s.name for s in ps.specs] == [d.NAME for d in DETECTORS]
    for spec in ps.specs:
        block = BLOCKS[spec.name]
        assert spec.category == block["category"]
        assert spec.enabled is block["enabled"]
        assert spec.cooldown_ms == block["cooldown_s"] * 1000
        assert spec.applies_to == {InstrumentKind(a) for a in block["applies_to"]}
        assert spec.summary == block["summary"]
        for k, v in block["params"].items():
            assert getattr(spec.detector.params, k) == v


def test_every_detector_has_a_block_and_every_block_a_detector() -> None:
    names = [d.NAME for d in DETECTORS]
    assert len(set(names)) == len(names)
    assert set(BLOCKS) == set(names)
    for d in DETECTORS:
        block = BLOCKS[d.NAME]
        assert block["category"] == d.CATEGORY
        assert block["summary"].strip()
        # Every documented parameter is in the file (the file is the configuration).
        assert set(block["params"]) == {f for f in d.Params.__dataclass_fields__}
    assert PATTERNS_FILE.name == "patterns.yaml"


def test_the_core_family_is_the_references_eight() -> None:
    core = {d.NAME for d in DETECTORS if d.CATEGORY == "core"}
    assert core == {"volume_spike", "volume_breakout", "volume_price_divergence",
                    "upside_momentum", "downside_momentum", "breakout", "reversal",
                    "hidden_accumulation"}


def test_unknown_pattern_name_is_refused() -> None:
    b = blocks()
    b["volume_sneeze"] = copy.deepcopy(b["volume_spike"])
    with pytest.raises(ValueError, match="volume_sneeze"):
        PatternSet.from_mapping(b)


def test_missing_block_is_refused() -> None:
    b = blocks()
    del b["reversal"]
    with pytest.raises(ValueError, match="reversal"):
        PatternSet.from_mapping(b)


def test_unknown_parameter_is_refused_naming_it_and_the_pattern() -> None:
    b = blocks()
    b["breakout"]["params"]["min_sigmas"] = 1.0
    with pytest.raises(ValueError, match=r"breakout.*min_sigmas"):
        PatternSet.from_mapping(b)


def test_parameter_of_the_wrong_kind_is_refused() -> None:
    b = blocks()
    b["breakout"]["params"]["min_sigma"] = "one"
    with pytest.raises(ValueError, match="breakout"):
        PatternSet.from_mapping(b)


def test_bad_applies_to_value_is_refused() -> None:
    b = blocks()
    b["volume_spike"]["applies_to"] = ["equity", "crypto"]
    with pytest.raises(ValueError, match=r"volume_spike.*crypto"):
        PatternSet.from_mapping(b)


def test_category_mismatch_is_refused() -> None:
    b = blocks()
    b["reversal"]["category"] = "ict"
    with pytest.raises(ValueError, match=r"reversal.*ict"):
        PatternSet.from_mapping(b)


def test_negative_cooldown_is_refused() -> None:
    b = blocks()
    b["hidden_accumulation"]["cooldown_s"] = -1
    with pytest.raises(ValueError, match=r"hidden_accumulation.*cooldown"):
        PatternSet.from_mapping(b)


def test_enabled_for_filters_by_switch_and_instrument_class() -> None:
    b = blocks()
    b["breakout"]["enabled"] = False
    ps = PatternSet.from_mapping(b)
    eq = {s.name for s in ps.enabled_for(InstrumentKind.EQUITY)}
    idx = {s.name for s in ps.enabled_for(InstrumentKind.INDEX)}
    assert "breakout" not in eq
    assert eq == {n for n, blk in BLOCKS.items() if "equity" in blk["applies_to"]} - {"breakout"}
    # Indices have no volume: the volume patterns do not apply to them in the file.
    assert "volume_spike" not in idx and "upside_momentum" in idx
    assert ps.enabled_for(InstrumentKind.OPTION) == ()


@pytest.mark.parametrize(("pattern", "key", "value"), [
    ("breakout", "lookback", 20.5),      # a bar count that is not whole
    ("breakout", "lookback", True),      # a bool is not a count
    ("breakout", "min_sigma", "1.0"),    # a string is not a number
    ("breakout", "min_sigma", float("nan")),
])
def test_parameter_values_of_the_wrong_kind_are_refused(pattern: str, key: str,
                                                        value: Any) -> None:
    b = blocks()
    b[pattern]["params"][key] = value
    with pytest.raises(ValueError, match=rf"{pattern}.*{key}"):
        PatternSet.from_mapping(b)


def test_whole_numbers_are_accepted_for_real_parameters() -> None:
    b = blocks()
    b["breakout"]["params"]["min_sigma"] = 2
    b["breakout"]["params"]["lookback"] = 15.0
    spec = next(s for s in PatternSet.from_mapping(b).specs if s.name == "breakout")
    assert spec.detector.params.min_sigma == 2.0
    assert spec.detector.params.lookback == 15 and isinstance(spec.detector.params.lookback,
                                                              int)


@pytest.mark.parametrize(("pattern", "key", "value"), [
    ("breakout", "lookback", 0),          # no range to break: max() of nothing
    ("breakout", "lookback", 31),         # more bars than the features hold: never fires
    ("upside_momentum", "min_agree", 11),  # more agreeing bars than the run has
    ("volume_price_divergence", "window", 31),
    ("reversal", "leg_bars", 28),         # leg + turn longer than the history
    ("hidden_accumulation", "bars", 0),
])
def test_bar_counts_outside_what_the_detector_can_see_are_refused(
        pattern: str, key: str, value: int) -> None:
    b = blocks()
    b[pattern]["params"][key] = value
    with pytest.raises(ValueError, match=rf"{pattern}.*{key}"):
        PatternSet.from_mapping(b)


@pytest.mark.parametrize(("key", "value"), [("enabled", "yes"), ("cooldown_s", "soon"),
                                            ("applies_to", "equity")])
def test_block_fields_of_the_wrong_kind_are_refused(key: str, value: Any) -> None:
    b = blocks()
    b["reversal"][key] = value
    with pytest.raises(ValueError, match=rf"reversal.*{key}"):
        PatternSet.from_mapping(b)
