"""Named, versioned state components: the interface, the canonical JSON and the checks.

An instrument's state is made of *components* (volume, bars, buckets, indicators,
profile, VWAP, VIX regime, ...). Each one serialises itself under its own name with its
own version, so a new component (the pattern detectors next) is one new class plus one
entry in ``state_registry.COMPONENTS`` and touches no other component's code.

A component class provides (:class:`StateComponent`):

* ``NAME``: its key in the serialised state, unique in the registry;
* ``VERSION``: the payload version :meth:`~StateComponent.encode` writes (from 1 up);
* ``encode()``: a JSON-safe payload (dicts with string keys, lists, str, int, bool, None
  and *finite* floats), deterministic for equal components;
* ``decode(payload, version, config)``: the component back from a payload of any version
  ``1..VERSION`` (a component that changes its payload bumps ``VERSION`` and keeps reading
  the older ones). This module refuses any other version before ``decode`` sees it.

In the serialised form a component is ``"NAME": [version, payload]``; a section of the
state is an object of those (see ``instrument_state`` for the envelope around them).
The layout *inside* a payload is the component's own business: most are positional
lists, versioned by ``VERSION``. Field names inside the payloads were measured: they
make the volume, bars and buckets payloads about 3.4 times longer (311 -> 1068 bytes)
and their JSON encoding about twice as slow, on the hot path (the worker writes every
touched state after every bundle); names at the component level already keep one
component's layout from leaking into another's.

Serialisation is canonical: sorted keys, no whitespace, floats as Python's shortest
round-tripping repr (so they restore bit for bit), NaN and infinities refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self

if TYPE_CHECKING:
    from aion.tables.analytics import AnalyticsConfig

Json = Any
"""A JSON-safe value (JSON has no precise recursive type that is worth the noise here)."""


class StateFormatError(ValueError):
    """Serialised state this build cannot read (unknown version or component, bad shape).

    Attributes:
        component: The component concerned (None for the envelope).
        version: The version found (None when not the issue).
        known: The versions (or component names) this build knows.
    """

    def __init__(self, message: str, *, component: str | None = None,
                 version: Any = None, known: tuple[Any, ...] = ()) -> None:
        super().__init__(message)
        self.component = component
        self.version = version
        self.known = known


class StateComponent(Protocol):
    """One named, versioned piece of per-instrument state (see the module docstring)."""

    NAME: ClassVar[str]
    VERSION: ClassVar[int]

    def encode(self) -> Json:
        """The component as a JSON-safe payload of version ``VERSION``.

        Returns:
            The payload; equal components give equal payloads.
        """
        ...

    @classmethod
    def decode(cls, payload: Json, version: int, config: AnalyticsConfig) -> Self:
        """Restore a component from a payload of version ``1..VERSION``.

        Args:
            payload: What :meth:`encode` returned (parsed back from JSON).
            version: The payload's version (checked by the caller to be known).
            config: Parameters the state was built with (for components whose layout
                depends on configuration, e.g. the indicator periods).

        Returns:
            The component.
        """
        ...


ComponentIndex = Mapping[str, type[StateComponent]]
"""Component classes by ``NAME``."""


# Built once, not per call as json.dumps(**options) does. No circular-reference check:
# the documents are trees built afresh for each call, and the check costs a dict insert
# and delete per container (together about a sixth of the encoding time of a state).
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), allow_nan=False,
                            check_circular=False)


def dumps(doc: Json) -> bytes:
    """Canonical JSON bytes: sorted keys, no whitespace, shortest floats, no NaN/inf.

    Args:
        doc: A JSON-safe value (a tree: no container may contain itself).

    Returns:
        UTF-8 bytes, identical for equal values (``json.dumps`` with ``sort_keys=True,
        separators=(",", ":"), allow_nan=False``, byte for byte).

    Raises:
        ValueError: If the value holds a NaN or an infinity.
    """
    return _ENCODER.encode(doc).encode()


@lru_cache(maxsize=8)
def component_index(components: tuple[type[StateComponent], ...]) -> ComponentIndex:
    """Index a registry by name, checking it (cached per registry tuple).

    Args:
        components: The registry (``state_registry.COMPONENTS`` or an extension of it).

    Returns:
        ``{NAME: class}``.

    Raises:
        ValueError: If two components share a name or a version is not a positive int
            (a programming error in the registry, not bad data).
    """
    index: dict[str, type[StateComponent]] = {}
    for cls in components:
        if cls.NAME in index:
            raise ValueError(f"state components {index[cls.NAME].__name__} and "
                             f"{cls.__name__} share the name {cls.NAME!r}")
        if not (isinstance(cls.VERSION, int) and cls.VERSION >= 1):
            raise ValueError(f"state component {cls.NAME!r}: VERSION must be an int >= 1")
        index[cls.NAME] = cls
    return index


def encode_section(parts: Iterable[StateComponent], index: ComponentIndex) -> dict[str, Json]:
    """Serialise components as ``{NAME: [VERSION, payload]}``.

    Args:
        parts: The components (at most one per name).
        index: The registry by name; every part's class must be registered, so that a
            state is never written that this build could not read back.

    Returns:
        The JSON-safe section.

    Raises:
        StateFormatError: If a part's class is not the registered one for its name.
    """
    out: dict[str, Json] = {}
    for part in parts:
        cls = type(part)
        if index.get(cls.NAME) is not cls:
            raise StateFormatError(
                f"state component {cls.NAME!r} ({cls.__name__}) is not registered in "
                f"state_registry.COMPONENTS (known: {', '.join(sorted(index))})",
                component=cls.NAME, known=tuple(sorted(index)))
        out[cls.NAME] = [cls.VERSION, part.encode()]
    return out


def decode_section(section: Json, index: ComponentIndex,
                   config: AnalyticsConfig) -> dict[str, StateComponent]:
    """Restore the components of a section written by :func:`encode_section`.

    Args:
        section: ``{NAME: [version, payload]}`` parsed from JSON.
        index: The registry by name.
        config: Parameters the state was built with.

    Returns:
        The components by name.

    Raises:
        StateFormatError: If the section is not an object of ``[version, payload]``
            pairs, names a component this build does not know, or carries a version
            of a component this build cannot read.
    """
    if not isinstance(section, dict):
        raise StateFormatError("state components must be a JSON object of NAME: "
                               f"[version, payload], not {type(section).__name__}")
    out: dict[str, StateComponent] = {}
    for name, entry in section.items():
        cls = index.get(name)
        if not (isinstance(entry, list) and len(entry) == 2):
            raise StateFormatError(f"state component {name!r}: expected [version, payload]",
                                   component=name)
        version = entry[0]
        if cls is None:
            raise StateFormatError(
                f"state component {name!r} (version {version!r}) is unknown to this build "
                f"(known components: {', '.join(sorted(index))})",
                component=name, version=version, known=tuple(sorted(index)))
        # bool is an int subclass: exclude it so `true` is not read as version 1.
        if type(version) is not int or not 1 <= version <= cls.VERSION:
            known = tuple(range(1, cls.VERSION + 1))
            raise StateFormatError(
                f"state component {name!r}: version {version!r} is unknown to this build "
                f"(known versions: {', '.join(map(str, known))})",
                component=name, version=version, known=known)
        try:
            out[name] = cls.decode(entry[1], version, config)
        except StateFormatError:
            raise
        except (TypeError, ValueError, KeyError, IndexError) as exc:
            # A payload of a known version that does not parse: name where it failed.
            raise StateFormatError(f"state component {name!r} version {version}: bad payload "
                                   f"({type(exc).__name__}: {exc})",
                                   component=name, version=version) from exc
    return out
