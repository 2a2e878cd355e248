"""The school calendar: which days are school days. Parsing is pure; reading the file is the caller's."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from icalendar import Calendar

from iep_followup.errors import ConfigError

_RANGE = re.compile(
    r"^\s*(\d{4}-\d{2}-\d{2})\s*(?:(?:\.\.|to|–|-{1,2})\s*(\d{4}-\d{2}-\d{2}))?\s*(.*)$"
)


@dataclass(frozen=True)
class SchoolCalendar:
    """Weekdays are school days unless listed as a holiday or inside a break."""

    closed: frozenset[date] = field(default_factory=frozenset)

    def is_school_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.closed

    def school_days_between(self, start: date, end: date) -> int:
        """School days after `start`, up to and including `end`."""
        return sum(
            1
            for n in range(1, (end - start).days + 1)
            if self.is_school_day(start + timedelta(days=n))
        )


def parse_calendar(text: str, source: str = "calendar") -> SchoolCalendar:
    """An .ics file (all-day events are closures) or a plain list, one date or range per line:

    2026-11-26 Thanksgiving
    2026-12-21..2027-01-01 Winter break
    """
    if "BEGIN:VCALENDAR" in text[:2000].upper():
        return _parse_ics(text, source)
    closed: set[date] = set()
    for number, line in enumerate(text.splitlines(), 1):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        match = _RANGE.match(content)
        try:
            if not match:
                raise ValueError(content)
            first = date.fromisoformat(match.group(1))
            last = date.fromisoformat(match.group(2)) if match.group(2) else first
        except ValueError:
            raise ConfigError(
                f"{source}:{number}: {content!r} is not a date or a range like 2026-12-21..2027-01-01"
            ) from None
        if last < first:
            raise ConfigError(f"{source}:{number}: the range ends before it starts")
        closed.update(_days(first, last))
    return SchoolCalendar(frozenset(closed))


def _parse_ics(text: str, source: str) -> SchoolCalendar:
    try:
        calendar = Calendar.from_ical(text)
    except ValueError as exc:
        raise ConfigError(f"{source}: not a valid iCalendar file ({exc})") from None
    closed: set[date] = set()
    for event in calendar.walk("VEVENT"):
        start = event.get("DTSTART")
        if start is None:
            continue
        first = _as_date(start.dt)
        end = event.get("DTEND")
        # DTEND of an all-day event is exclusive.
        last = _as_date(end.dt) - timedelta(days=1) if end is not None else first
        closed.update(_days(first, max(first, last)))
    return SchoolCalendar(frozenset(closed))


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _days(first: date, last: date) -> Iterable[date]:
    return (first + timedelta(days=n) for n in range((last - first).days + 1))
