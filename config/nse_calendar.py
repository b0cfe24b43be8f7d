"""The NSE trading calendar, loaded from ``config/nse_calendar.yaml``.

The YAML holds weekday holidays, special sessions (budget-day weekend sessions,
disaster-recovery drills, Muhurat trading) and the regular session times for the years it
covers. :class:`NseCalendar` is the validated, immutable result; the pure calendar
arithmetic built on it lives in ``aion.tables.expiry``.

Example:
    >>> cal = NseCalendar.load()
    >>> import datetime as dt
    >>> dt.date(2025, 10, 22) in cal.holidays
    True
    >>> cal.first_year <= 2025 <= cal.last_year
    True
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from aion.config.settings import CONFIG_DIR, ConfigError

CALENDAR_FILE = CONFIG_DIR / "nse_calendar.yaml"

_WEEKDAYS = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")

SESSION_KINDS = ("full", "special", "muhurat")
"""Kinds of special session: ``full`` makes the date a trading day; the others only add
live minutes (see the YAML header)."""


@dataclass(frozen=True, slots=True)
class SpecialSession:
    """Live trading on a date that is otherwise closed.

    Attributes:
        date: The IST calendar date.
        kind: ``"full"`` (regular hours; the date counts as a trading day), ``"special"``
            (partial live session, e.g. a DR drill) or ``"muhurat"`` (Diwali session).
        name: Human description.
        sessions: ``(open, close)`` pairs in minutes since IST midnight, sorted and
            non-overlapping; ``close`` is exclusive.
    """

    date: _dt.date
    kind: str
    name: str
    sessions: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class NseCalendar:
    """The validated NSE calendar for ``first_year`` .. ``last_year`` inclusive.

    Attributes:
        first_year: First calendar year covered.
        last_year: Last calendar year covered.
        session_open_minute: Regular session open, minutes since IST midnight (555).
        session_close_minute: Regular session close, minutes since IST midnight (930).
        weekend: Weekday numbers (Monday = 0) on which the market is normally shut.
        holidays: Weekday closures mapped to their names (read-only mapping).
        special_sessions: Special sessions by date (read-only mapping).
    """

    first_year: int
    last_year: int
    session_open_minute: int
    session_close_minute: int
    weekend: frozenset[int]
    holidays: Mapping[_dt.date, str]
    special_sessions: Mapping[_dt.date, SpecialSession]

    @classmethod
    def load(cls, path: Path | None = None) -> NseCalendar:
        """Load and validate the calendar file (cached per path).

        Args:
            path: YAML file; defaults to ``config/nse_calendar.yaml``.

        Returns:
            The calendar.

        Raises:
            ConfigError: If the file is malformed or breaks a rule in its header.
        """
        return _load(Path(path) if path is not None else CALENDAR_FILE)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str = "<mapping>") -> NseCalendar:
        """Validate an already-parsed calendar tree (tests build variants this way).

        Args:
            data: The YAML tree.
            source: Name used in error messages.

        Returns:
            The calendar.

        Raises:
            ConfigError: If the tree is malformed.
        """
        return _parse(data, source)

    @property
    def first_date(self) -> _dt.date:
        """First covered date (1 January of ``first_year``)."""
        return _dt.date(self.first_year, 1, 1)

    @property
    def last_date(self) -> _dt.date:
        """Last covered date (31 December of ``last_year``)."""
        return _dt.date(self.last_year, 12, 31)

    def covers(self, day: _dt.date) -> bool:
        """Whether ``day`` lies inside the covered years.

        Args:
            day: A calendar date.

        Returns:
            True if ``first_year <= day.year <= last_year``.
        """
        return self.first_year <= day.year <= self.last_year


@lru_cache(maxsize=4)
def _load(path: Path) -> NseCalendar:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read calendar: {exc}") from exc
    return _parse(data, str(path))


def _minute(value: Any, where: str) -> int:
    # Only quoted "HH:MM" strings: YAML 1.1 reads an unquoted 09:15 as the integer 555.
    if not isinstance(value, str) or not (m := _HHMM.match(value)):
        raise ConfigError(f"{where}: time must be a quoted 'HH:MM' string, got {value!r}")
    return int(m.group(1)) * 60 + int(m.group(2))


def _date(value: Any, where: str) -> _dt.date:
    # PyYAML turns an unquoted ISO date into datetime.date; accept a quoted one too.
    if isinstance(value, _dt.datetime):
        raise ConfigError(f"{where}: expected a date, got a timestamp {value!r}")
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str):
        try:
            return _dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ConfigError(f"{where}: expected an ISO date YYYY-MM-DD, got {value!r}")


def _parse(data: Any, source: str) -> NseCalendar:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: top level must be a mapping")
    try:
        years = data["covered_years"]
        first, last = int(years["first"]), int(years["last"])
        session = data["session"]
        open_min = _minute(session["open"], f"{source}: session.open")
        close_min = _minute(session["close"], f"{source}: session.close")
        weekend_names = data.get("weekend", ["saturday", "sunday"])
        holidays_tree = data.get("holidays") or {}
        specials_tree = data.get("special_sessions") or []
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: missing or malformed key: {exc}") from exc
    if first > last:
        raise ConfigError(f"{source}: covered_years.first {first} > last {last}")
    if open_min >= close_min:
        raise ConfigError(f"{source}: session opens at or after it closes")
    try:
        weekend = frozenset(_WEEKDAYS[str(w).lower()] for w in weekend_names)
    except KeyError as exc:
        raise ConfigError(f"{source}: unknown weekday {exc}") from None

    def in_range(day: _dt.date, where: str) -> None:
        if not first <= day.year <= last:
            raise ConfigError(f"{where}: {day} is outside covered_years {first}..{last}")

    holidays: dict[_dt.date, str] = {}
    if not isinstance(holidays_tree, Mapping):
        raise ConfigError(f"{source}: holidays must map year -> list")
    for year, entries in holidays_tree.items():
        for i, entry in enumerate(entries or []):
            where = f"{source}: holidays.{year}[{i}]"
            if not isinstance(entry, Mapping) or "date" not in entry:
                raise ConfigError(f"{where}: expected {{date, name}}")
            day = _date(entry["date"], where)
            if day.year != int(year):
                raise ConfigError(f"{where}: {day} listed under year {year}")
            in_range(day, where)
            if day.weekday() in weekend:
                raise ConfigError(f"{where}: {day} is a weekend day; list weekday closures only")
            if day in holidays:
                raise ConfigError(f"{where}: {day} listed twice")
            holidays[day] = str(entry.get("name", ""))

    specials: dict[_dt.date, SpecialSession] = {}
    for i, entry in enumerate(specials_tree):
        where = f"{source}: special_sessions[{i}]"
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where}: expected a mapping")
        try:
            day = _date(entry["date"], where)
            kind = str(entry["kind"])
            raw_sessions = entry["sessions"]
        except KeyError as exc:
            raise ConfigError(f"{where}: missing {exc}") from None
        in_range(day, where)
        if kind not in SESSION_KINDS:
            raise ConfigError(f"{where}: kind must be one of {SESSION_KINDS}, got {kind!r}")
        if day in specials:
            raise ConfigError(f"{where}: {day} listed twice")
        if day.weekday() not in weekend and day not in holidays:
            # A special session on a normal trading day would silently shorten or
            # duplicate it; NSE only adds sessions on closed dates.
            raise ConfigError(f"{where}: {day} is a regular trading day")
        sessions: list[tuple[int, int]] = []
        for j, pair in enumerate(raw_sessions or []):
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                raise ConfigError(f"{where}.sessions[{j}]: expected [open, close]")
            a = _minute(pair[0], f"{where}.sessions[{j}]")
            b = _minute(pair[1], f"{where}.sessions[{j}]")
            if a >= b or (sessions and a < sessions[-1][1]):
                raise ConfigError(f"{where}.sessions[{j}]: empty, unsorted or overlapping")
            sessions.append((a, b))
        if not sessions:
            raise ConfigError(f"{where}: no sessions")
        if kind == "full" and sessions != [(open_min, close_min)]:
            raise ConfigError(f"{where}: a full session must use the regular session times")
        specials[day] = SpecialSession(day, kind, str(entry.get("name", "")), tuple(sessions))

    return NseCalendar(
        first_year=first,
        last_year=last,
        session_open_minute=open_min,
        session_close_minute=close_min,
        weekend=weekend,
        holidays=MappingProxyType(dict(sorted(holidays.items()))),
        special_sessions=MappingProxyType(dict(sorted(specials.items()))),
    )
