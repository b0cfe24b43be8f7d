"""The record contract: every output the engine emits is a typed, versioned record.

A record is a frozen ``msgspec.Struct`` whose tag ``"<kind>/<version>"`` travels in the
field ``"t"`` of its JSON form, e.g. ``{"t":"bar/1","bar_id":...}``. The tag is the
schema version: a reader decodes exactly the tags it knows and refuses any other with a
:class:`RecordFormatError` naming it. Evolution rules:

* adding a field with a default keeps the version (old payloads decode with the
  default, old readers ignore the new field);
* renaming, removing or retyping a field is a new version: a new class with the new tag,
  the old class kept (and registered) until no topic holds it.

JSON through msgspec was chosen over the ``json`` module (13-14x faster to encode and
3-7x to decode, measured with ``bench/bench_records.py``) and over msgpack (another
1.3-1.9x faster to encode and a quarter to a third smaller, but unreadable with console
tools and by the reference's consumers: speed is not where the engine's time goes now).

Example:
    >>> from aion.tables.records.vwap import VwapUpdate
    >>> data = encode(VwapUpdate(token=1, symbol="NSE:X", ts_ns=5, vwap=10.5))
    >>> data
    b'{"t":"vwap/1","token":1,"symbol":"NSE:X","ts_ns":5,"vwap":10.5}'
    >>> RecordCodec([VwapUpdate]).decode(data)
    VwapUpdate(token=1, symbol='NSE:X', ts_ns=5, vwap=10.5)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, Union

import msgspec


class RecordFormatError(ValueError):
    """A payload that is not a record of a known kind and version."""


class Record(msgspec.Struct, frozen=True, kw_only=True, tag_field="t"):
    """Base of every record. Subclasses set ``tag="<kind>/<version>"`` in the class line."""

    keyed_by: ClassVar[str] = "token"
    """The field whose value keys the record's topic message (when not batched)."""

    @classmethod
    def tag(cls) -> str:
        """The class's ``"<kind>/<version>"`` tag."""
        return str(cls.__struct_config__.tag)

    @classmethod
    def kind(cls) -> str:
        """The kind part of the tag (``"bar"`` of ``"bar/1"``)."""
        return cls.tag().rpartition("/")[0]

    @classmethod
    def version(cls) -> int:
        """The version part of the tag (``1`` of ``"bar/1"``)."""
        return int(cls.tag().rpartition("/")[2])

    def key(self) -> bytes:
        """The message key of this record on its topic (``keyed_by`` as text)."""
        return str(getattr(self, self.keyed_by)).encode()


_ENCODER = msgspec.json.Encoder()


def encode(record: Record) -> bytes:
    """One record as tagged JSON bytes.

    Args:
        record: Any record.

    Returns:
        UTF-8 JSON with the tag in ``"t"``.
    """
    return _ENCODER.encode(record)


def encode_many(records: Sequence[Record]) -> bytes:
    """Several records as one JSON array (one message for a batched output).

    Args:
        records: Records, in order.

    Returns:
        UTF-8 JSON array of tagged objects.
    """
    return _ENCODER.encode(records)


class RecordCodec:
    """Decodes the record types it was built with, refusing every other tag.

    Args:
        types: Record classes (each with a distinct tag).

    Raises:
        ValueError: If two classes share a tag.
    """

    def __init__(self, types: Iterable[type[Record]]) -> None:
        self.types = tuple(types)
        tags = [t.tag() for t in self.types]
        if len(set(tags)) != len(tags):
            raise ValueError(f"duplicate record tags: {sorted(tags)}")
        self.tags = frozenset(tags)
        union: Any = Union[self.types] if len(self.types) > 1 else self.types[0]  # noqa: UP007
        self._one = msgspec.json.Decoder(union)
        self._many = msgspec.json.Decoder(list[union])

    def decode(self, data: bytes) -> Record:
        """One record from :func:`encode` bytes.

        Args:
            data: The message value.

        Returns:
            The record.

        Raises:
            RecordFormatError: For an unknown kind/version or a malformed payload.
        """
        try:
            return self._one.decode(data)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise self._error(data, exc) from None

    def decode_many(self, data: bytes) -> list[Record]:
        """A record or a JSON array of records (batched outputs), as a list.

        Args:
            data: The message value.

        Returns:
            The records, in order.

        Raises:
            RecordFormatError: For an unknown kind/version or a malformed payload.
        """
        try:
            if data[:1] == b"[":
                return self._many.decode(data)
            return [self._one.decode(data)]
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise self._error(data, exc) from None

    def _error(self, data: bytes, exc: Exception) -> RecordFormatError:
        try:
            doc = msgspec.json.decode(data)
        except msgspec.DecodeError:
            return RecordFormatError(f"not a JSON record: {exc}")
        first = doc[0] if isinstance(doc, list) and doc else doc
        tag = first.get("t") if isinstance(first, dict) else None
        if tag not in self.tags:
            kind, _, version = str(tag).rpartition("/")
            return RecordFormatError(
                f"unknown record kind/version {tag!r} (kind {kind!r}, version {version!r});"
                f" this reader knows {sorted(self.tags)}")
        return RecordFormatError(f"malformed {tag} record: {exc}")
