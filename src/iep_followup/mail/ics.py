"""An iCalendar file with the due dates of one person's action items."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from icalendar import Calendar, Event


@dataclass(frozen=True)
class DueDate:
    uid: str  # stable, so importing an updated file moves the event instead of adding one
    title: str
    due_on: date
    description: str = ""


def due_dates_calendar(entries: Iterable[DueDate], *, stamp: datetime, name: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//iep-followup//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    for entry in entries:
        event = Event()
        event.add("uid", entry.uid)
        event.add("dtstamp", stamp)
        event.add("summary", entry.title)
        event.add("dtstart", entry.due_on)
        event.add("dtend", entry.due_on + timedelta(days=1))
        event.add("transp", "TRANSPARENT")
        if entry.description:
            event.add("description", entry.description)
        calendar.add_component(event)
    return bytes(calendar.to_ical())
