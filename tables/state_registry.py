"""The registry of state components: every class an instrument's state may hold.

Adding a component is one class (``state_codec.StateComponent``: ``NAME``, ``VERSION``,
``encode``, ``decode``) plus one entry here. ``InstrumentState`` reads this tuple each
time it serialises (so a test may extend it), refuses to write a component that is not
in it and refuses to read a name that is not in it.

Where a component lives: ``volume``, ``bars`` and ``buckets`` are the tick state, typed
fields of ``InstrumentState`` (always present, and packed into the compiled tick loop's
arrays); every other component is an analytic, held by name in ``Analytics.parts``. A
new component (the pattern detectors next) goes into ``Analytics``.
"""

from __future__ import annotations

from aion.tables.bars import BarState
from aion.tables.indicators import IndicatorSet
from aion.tables.patterns.state import PatternState
from aion.tables.profile_state import ProfileState
from aion.tables.session_vwap import SessionVwap
from aion.tables.state_codec import StateComponent
from aion.tables.validation.forward import PendingValidations
from aion.tables.volume import BucketState, VolumeState
from aion.tables.volume_baseline import VixRegime

TICK_COMPONENTS: tuple[type[StateComponent], ...] = (VolumeState, BarState, BucketState)
"""The tick state's components, fields of every ``InstrumentState``."""

COMPONENTS: tuple[type[StateComponent], ...] = (
    *TICK_COMPONENTS,
    IndicatorSet,  # "indicators"
    ProfileState,  # "profile"
    SessionVwap,  # "vwap"
    VixRegime,  # "vix"
    PatternState,  # "patterns"
    PendingValidations,  # "validation"
)
"""Every component class; names must be unique (checked by ``state_codec``)."""
