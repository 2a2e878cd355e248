"""An iCalendar file with the due dates of one person's action items, in their language.

iCalendar text is UTF-8 (RFC 5545); the attachment says so too (Attachment.charset).
"""

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
    language: str | None = None  # of title and description (RFC 5545 LANGUAGE)


def due_dates_calendar(entries: Iterable[DueDate], *, stamp: datetime, name: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//iep-followup//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    for entry in entries:
        event = Event()
        event.add("uid", entry.uid)
        event.add("dtstamp", stamp)
        text_language = {"LANGUAGE": entry.language} if entry.language else {}
        event.add("summary", entry.title, parameters=text_language)
        event.add("dtstart", entry.due_on)
        event.add("dtend", entry.due_on + timedelta(days=1))
        event.add("transp", "TRANSPARENT")
        if entry.description:
            event.add("description", entry.description, parameters=text_language)
        calendar.add_component(event)
    return bytes(calendar.to_ical())
