"""Accommodations, used or not, end to end on SQLite and PostgreSQL: the example meeting's
accommodations are asked about in each implementer's regular check-in (no extra email), the
replies record each week (yes, no and why, didn't come up; English and Spanish words), a bad
answer gets the one question that settles it and records no answer, and the case manager's
digest shows each implementer's weeks and "not used two weeks running"."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from iep_followup.domain import ItemKind, ItemStatus, PeriodOutcome
from iep_followup.meetingfile import load_meeting_file
from iep_followup.net.smtp import SmtpTransport, parse_smtp_url
from iep_followup.tracker import Tracker
from tests.conftest import EXAMPLE, Clock
from tests.mailclient import reply
from tests.smtp_server import SmtpServer

MEETING = datetime(2026, 11, 16, 21, 0, tzinfo=UTC)  # Monday 15:00 in Chicago
ASKED = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)  # Monday 08:30: everyone is due
REPLIED = datetime(2026, 12, 3, 20, 0, tzinfo=UTC)  # Thursday afternoon
TOM = "tom.okafor@lincoln.example.org"
KAREN = "karen.liu@lincoln.example.org"
EXTRA_TIME = "Give Lucía extra time (time and a half) on tests and written work"
READ_ALOUD = "Read test questions aloud to Lucía when she asks"


def _deliver(tracker: Tracker, server: SmtpServer) -> list[EmailMessage]:
    asyncio.run(tracker.deliver(SmtpTransport(parse_smtp_url(server.url))))
    sent = [r.message for r in server.received]
    server.received.clear()
    return sent


def _to(messages: list[EmailMessage], address: str) -> list[EmailMessage]:
    return [m for m in messages if address in str(m["To"])]


def _part(message: EmailMessage, kind: str) -> str:
    part = message.get_body((kind,))
    assert part is not None
    return str(part.get_content())


def _ref(request: EmailMessage, title: str) -> str:
    found = re.search(rf"(A\d+)\. {re.escape(title)}", _part(request, "plain"))
    assert found, f"the request does not list {title!r}"
    return found.group(1)


def _check_in(tracker: Tracker, email: str, accommodation: str) -> int:
    [item] = [
        i
        for i in tracker.items(owner=email)
        if i.kind is ItemKind.ACCOMMODATION and i.accommodation == accommodation
    ]
    return item.id


def _asked(
    tracker: Tracker, clock: Clock, server: SmtpServer, at: datetime
) -> dict[str, EmailMessage]:
    clock.now = at
    tracker.request_updates()
    sent = _deliver(tracker, server)
    found = {}
    for email in (TOM, KAREN):
        [request] = _to(sent, email)  # one email each: accommodations ride with their items
        found[email] = request
    return found


def _recorded(tracker: Tracker) -> Tracker:
    tracker.record_meeting(load_meeting_file(EXAMPLE))
    return tracker


def test_each_implementer_is_asked_with_their_items_and_each_answer_records_the_week(
    make_tracker: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer
) -> None:
    clock.now = MEETING
    tracker = _recorded(make_tracker(smtp_url=smtp_server.url))
    _deliver(tracker, smtp_server)  # the summaries
    asked = _asked(tracker, clock, smtp_server, ASKED)
    tom = asked[TOM]
    for part in (_part(tom, "plain"), _part(tom, "html")):
        assert EXTRA_TIME in part and READ_ALOUD in part
        assert "Was it used this week? Answer yes, no (and why), or didn't come up." in part
        assert "didn't come up" in part  # the "How to answer" example
    extra, aloud = _ref(tom, EXTRA_TIME), _ref(tom, READ_ALOUD)

    clock.now = REPLIED
    words = f"{extra} no: substitute this week\n{aloud} didn't come up"
    assert tracker.ingest(reply(tom, words)).applied == 2
    [confirmation] = _to(_deliver(tracker, smtp_server), TOM)
    for part in (_part(confirmation, "plain"), _part(confirmation, "html")):
        assert 'Recorded for this week: it did not happen: "substitute this week"' in part
        assert "Recorded for this week: it did not come up" in part

    [entry] = tracker.history(_check_in(tracker, TOM, "extended-time"))
    assert (entry.period, entry.note) == (PeriodOutcome.MISSED, "substitute this week")
    [entry] = tracker.history(_check_in(tracker, TOM, "read-aloud"))
    assert entry.period is PeriodOutcome.NOT_APPLICABLE

    # Karen answers in Spanish words; an answer never closes the check-in.
    karen = asked[KAREN]
    k_extra, k_aloud = _ref(karen, EXTRA_TIME), _ref(karen, READ_ALOUD)
    tracker.ingest(reply(karen, f"{k_extra} sí\n{k_aloud} no surgió", style="gmail_es"))
    assert [e.period for e in tracker.history(_check_in(tracker, KAREN, "extended-time"))] == [
        PeriodOutcome.HAPPENED
    ]
    assert [e.period for e in tracker.history(_check_in(tracker, KAREN, "read-aloud"))] == [
        PeriodOutcome.NOT_APPLICABLE
    ]
    checks = [i for i in tracker.items(owner=KAREN) if i.kind is ItemKind.ACCOMMODATION]
    assert len(checks) == 2 and all(i.status is ItemStatus.OPEN for i in checks)


def test_a_bad_answer_gets_its_question_and_records_no_answer(
    make_tracker: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer
) -> None:
    clock.now = MEETING
    tracker = _recorded(make_tracker(smtp_url=smtp_server.url))
    _deliver(tracker, smtp_server)
    tom = _asked(tracker, clock, smtp_server, ASKED)[TOM]
    extra, aloud = _ref(tom, EXTRA_TIME), _ref(tom, READ_ALOUD)
    clock.now = REPLIED
    tracker.ingest(reply(tom, f"{extra} maybe\n{aloud} partly"))
    [confirmation] = _to(_deliver(tracker, smtp_server), TOM)
    for part in (_part(confirmation, "plain"), _part(confirmation, "html")):
        for ref in (extra, aloud):
            assert (
                f"Was {ref} used this week? Reply yes, no or didn't come up, like: {ref} yes"
                in part
            )
    for key in ("extended-time", "read-aloud"):
        assert all(e.period is None for e in tracker.history(_check_in(tracker, TOM, key)))


def test_the_digest_shows_each_implementers_weeks_and_two_weeks_not_used(
    make_tracker: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    clock.now = MEETING
    tracker = _recorded(make_tracker(smtp_url=smtp_server.url))
    _deliver(tracker, smtp_server)
    for week in range(2):
        asked = _asked(tracker, clock, smtp_server, ASKED + timedelta(weeks=week))
        tom, karen = asked[TOM], asked[KAREN]
        clock.now = REPLIED + timedelta(weeks=week)
        tracker.ingest(reply(tom, f"{_ref(tom, EXTRA_TIME)} no: substitute this week"))
        tracker.ingest(reply(karen, f"{_ref(karen, EXTRA_TIME)} yes"))
        _deliver(tracker, smtp_server)

    clock.now = datetime(2026, 12, 14, 13, 0, tzinfo=UTC)  # Monday: the second week is over
    run = tracker.digests(preview_dir=tmp_path)
    text = next(p for p in run.previews if "dana" in p.name and p.suffix == ".txt")
    digest = " ".join(text.read_text("utf-8").split())
    assert f'Lucía Herrera: Tom Okafor did not use "{EXTRA_TIME}" 2 weeks running.' in digest
    assert "Ask Tom Okafor what would help them use it." in digest
    assert "Accommodations, used or not:" in digest
    assert (
        "Tom Okafor: used 0, not used 2, did not come up 0, no answer 2 (of the last 4 weeks)."
        " Why not: substitute this week; substitute this week" in digest
    )
    assert "Karen Liu: used 2, not used 0" in digest
    html = next(p for p in run.previews if "dana" in p.name and p.suffix == ".html")
    assert "2 weeks running" in html.read_text("utf-8")
    assert date(2026, 12, 14).weekday() == 0


def test_the_implementation_record_counts_what_the_replies_said(
    make_tracker: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer
) -> None:
    clock.now = MEETING
    tracker = _recorded(make_tracker(smtp_url=smtp_server.url))
    _deliver(tracker, smtp_server)
    asked = _asked(tracker, clock, smtp_server, ASKED)
    tom, karen = asked[TOM], asked[KAREN]
    clock.now = REPLIED
    tracker.ingest(reply(tom, f"{_ref(tom, EXTRA_TIME)} no: substitute this week"))
    reading = _ref(karen, "Read one-on-one with Lucía in the resource room")
    words = f"{_ref(karen, EXTRA_TIME)} yes\n{_ref(karen, READ_ALOUD)} n/a\n{reading} yes 40 min"
    tracker.ingest(reply(karen, words))

    clock.now = datetime(2026, 12, 8, 15, 0, tzinfo=UTC)
    found = tracker.implementation_record(
        "S-2026-0417", since=date(2026, 11, 30), until=date(2026, 12, 6)
    ).as_json()
    assert (found["student"], found["since"], found["until"]) == (
        "S-2026-0417",
        "2026-11-30",
        "2026-12-06",
    )
    weeks = {
        (a["id"], a["implementer"]): (a["weeks"], a["not_used_reasons"])
        for a in found["accommodations"]
    }
    none = {"used": 0, "not_used": 0, "not_applicable": 0, "no_answer": 0}
    assert weeks == {
        ("extended-time", TOM): ({**none, "not_used": 1}, ["substitute this week"]),
        ("extended-time", KAREN): ({**none, "used": 1}, []),
        ("read-aloud", TOM): ({**none, "no_answer": 1}, []),
        ("read-aloud", KAREN): ({**none, "not_applicable": 1}, []),
    }
    services = {s["item"]: s for s in found["services"]}
    assert services["reading-one-on-one"] == {
        "item": "reading-one-on-one",
        "title": "Read one-on-one with Lucía in the resource room",
        "owner": KAREN,
        "promised_minutes": 45,
        "delivered_minutes": 40,
        "missed_minutes": {
            "student_absent": 0,
            "provider_absent": 0,
            "school_closed": 0,
            "other": 0,
        },
        "owed_minutes": 0,
    }
    assert set(services) == {"reading-one-on-one", "pencil-grip", "letter-sounds"}
