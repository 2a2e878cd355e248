"""Routines and service minutes end to end, through real replies in English and Spanish: the
request asks whether it happened, the reply records the period (never closing the routine),
the confirmation says so, planning keeps asking, and the minutes add up. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from iep_followup.domain import ItemKind, ItemStatus, MeetingRecord, PeriodOutcome
from iep_followup.meetingfile import load_meeting_file
from iep_followup.net.smtp import SmtpTransport, parse_smtp_url
from iep_followup.tracker import Tracker
from iep_followup.views import MinutesWeek, WeekReport
from tests.conftest import EXAMPLE, Clock
from tests.mailclient import reply
from tests.smtp_server import SmtpServer

MEETING = datetime(2026, 11, 16, 21, 0, tzinfo=UTC)  # Monday 15:00 in Chicago
ASKED = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)  # Monday 08:30: everyone is due
REPLIED = datetime(2026, 12, 3, 20, 0, tzinfo=UTC)  # Thursday afternoon
DIGEST_DAY = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)  # Monday 07:00: the week is over
ROSA = "rosa.herrera@example.com"
KAREN = "karen.liu@lincoln.example.org"


# The duties in the example that the team means to be kept every week or fortnight.
ROUTINES = {
    "homework-check",
    "homework-folder",
    "pencil-grip",
    "reading-one-on-one",
    "letter-sounds",
}


def _lucia() -> MeetingRecord:
    """The example meeting, its ongoing duties recorded as routines."""
    record = load_meeting_file(EXAMPLE)
    concerns = tuple(
        dataclasses.replace(
            c,
            items=tuple(
                dataclasses.replace(i, kind=ItemKind.ROUTINE) if i.key in ROUTINES else i
                for i in c.items
            ),
        )
        for c in record.concerns
    )
    # Karen's and Tom's accommodations have their own tests (test_accommodations.py).
    return dataclasses.replace(record, concerns=concerns, accommodations=())


def _deliver(tracker: Tracker, server: SmtpServer) -> list[EmailMessage]:
    asyncio.run(tracker.deliver(SmtpTransport(parse_smtp_url(server.url))))
    sent = [r.message for r in server.received]
    server.received.clear()
    return sent


def _to(messages: list[EmailMessage], address: str) -> EmailMessage:
    [message] = [m for m in messages if address in str(m["To"])]
    return message


def _text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def _html(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def _asked(tracker: Tracker, clock: Clock, server: SmtpServer, at: datetime) -> list[EmailMessage]:
    clock.now = at
    tracker.request_updates()
    return _deliver(tracker, server)


def test_routines_record_each_week_in_both_languages_and_keep_being_asked(
    make_tracker: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    clock.now = MEETING
    tracker = make_tracker(smtp_url=smtp_server.url)
    tracker.record_meeting(_lucia())
    _deliver(tracker, smtp_server)  # the summaries
    asked = _asked(tracker, clock, smtp_server, ASKED)
    karen, rosa = _to(asked, KAREN), _to(asked, ROSA)
    for part in (_text(karen), _html(karen)):
        assert "Did it happen this week? Answer yes, partly, or no (and why)." in part
        assert "the plan says 45 a week" in part
    for part in (_text(rosa), _html(rosa)):
        assert "¿Se hizo esta semana? Conteste sí, en parte, o no (y por qué)." in part
        assert "Cada semana hasta el" in part

    clock.now = REPLIED
    assert tracker.ingest(reply(karen, "Partly, 20 min. Lucía was out on Tuesday.")).applied == 1
    assert tracker.ingest(reply(rosa, "Listo", style="gmail_es")).applied == 1
    confirmations = _deliver(tracker, smtp_server)
    for part in (_text(_to(confirmations, KAREN)), _html(_to(confirmations, KAREN))):
        assert "Recorded for this week: it happened in part, 20 minutes" in part
    for part in (_text(_to(confirmations, ROSA)), _html(_to(confirmations, ROSA))):
        assert "Anotado para esta semana: sí se hizo" in part

    # "Listo" recorded this week; the routine stays open until its end date.
    [homework] = tracker.items(owner=ROSA)
    assert homework.kind is ItemKind.ROUTINE and homework.status is ItemStatus.OPEN
    [entry] = tracker.history(homework.id)
    assert (entry.period, entry.status, entry.percent) == (PeriodOutcome.HAPPENED, None, None)
    [reading] = tracker.items(owner=KAREN)
    [entry] = tracker.history(reading.id)
    assert (entry.period, entry.minutes) == (PeriodOutcome.PARTLY, 20)
    assert entry.note == "Lucía was out on Tuesday"

    # The case manager's digest of that week, written once it is over, quotes what was recorded.
    clock.now = DIGEST_DAY
    run = tracker.digests(preview_dir=tmp_path)
    digest = next(p for p in run.previews if "dana" in p.name and p.suffix == ".txt")
    assert "Recorded for this week: it happened in part, 20 minutes" in digest.read_text("utf-8")

    # A week after her answer she is asked again; her "no" records that week, with why.
    again = _asked(tracker, clock, smtp_server, REPLIED + timedelta(days=7, hours=-6))
    rosa = _to(again, ROSA)
    clock.now = REPLIED + timedelta(days=7)
    tracker.ingest(reply(rosa, "No, estuvo enferma toda la semana", style="gmail_es"))
    confirmation = _to(_deliver(tracker, smtp_server), ROSA)
    assert 'Anotado para esta semana: no se hizo: "estuvo enferma toda la semana"' in _text(
        confirmation
    )
    periods = [e.period for e in tracker.history(homework.id)]
    assert periods == [PeriodOutcome.HAPPENED, PeriodOutcome.MISSED]
    assert tracker.items(owner=ROSA)[0].status is ItemStatus.OPEN

    minutes = tracker.service_minutes(
        "S-2026-0417", since=date(2026, 11, 30), until=date(2026, 12, 13)
    )
    by_key = {i.key: i for i in minutes.items}
    assert set(by_key) == {"reading-one-on-one", "pencil-grip", "letter-sounds"}
    # Karen was asked again on Dec 7 and has not answered yet: that week has no report yet.
    assert by_key["reading-one-on-one"].weeks == (
        MinutesWeek(date(2026, 11, 30), 20, 45),
        MinutesWeek(date(2026, 12, 7), 0, 45, WeekReport.NO_ANSWER_YET),
    )
    # The student's weeks together: not known while one service's week has no report yet.
    assert minutes.weeks == (
        MinutesWeek(date(2026, 11, 30), 20, 95, WeekReport.NO_ANSWER_YET),
        MinutesWeek(date(2026, 12, 7), 0, 95, WeekReport.NOT_ASKED),
    )


def test_a_routine_with_a_ref_takes_minutes_and_an_answer_in_spanish(
    make_tracker: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer
) -> None:
    clock.now = MEETING
    tracker = make_tracker(smtp_url=smtp_server.url)
    tracker.record_meeting(_lucia())
    _deliver(tracker, smtp_server)
    karen = _to(_asked(tracker, clock, smtp_server, ASKED), KAREN)
    clock.now = REPLIED
    tracker.ingest(reply(karen, "A1 sí, 45 minutos"))
    [reading] = tracker.items(owner=KAREN)
    [entry] = tracker.history(reading.id)
    assert (entry.period, entry.minutes) == (PeriodOutcome.HAPPENED, 45)
    week = tracker.service_minutes("S-2026-0417", since=date(2026, 11, 30), until=date(2026, 12, 6))
    [reading_week] = next(i for i in week.items if i.key == "reading-one-on-one").weeks
    assert reading_week == MinutesWeek(date(2026, 11, 30), 45, 45)
    assert reading_week.shortfall == 0
