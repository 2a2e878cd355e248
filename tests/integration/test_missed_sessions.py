"""Services delivered, and why not, end to end on SQLite and PostgreSQL: a missed session is
reported with its reason by reply (English and Spanish) or on the answer page, the minutes a
provider-side miss loses are owed as make-up, make-up given pays them back, the digest says
when too much is owed, and a reason given for a task is asked about and records nothing."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from iep_followup.meetingfile import load_meeting_file
from iep_followup.net.smtp import SmtpTransport, parse_smtp_url
from iep_followup.tracker import Tracker
from tests.conftest import EXAMPLE, Clock
from tests.mailclient import reply
from tests.smtp_server import SmtpServer

MEETING = datetime(2026, 11, 16, 21, 0, tzinfo=UTC)  # Monday 15:00 in Chicago
ASKED = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)  # Monday 08:30: everyone is due
REPLIED = datetime(2026, 12, 3, 20, 0, tzinfo=UTC)  # Thursday afternoon
KAREN = "karen.liu@lincoln.example.org"
ALAN = "alan.brooks@lincoln.example.org"
READING = "Read one-on-one with Lucía in the resource room"  # 45 minutes in 3 sessions a week


def _deliver(tracker: Tracker, server: SmtpServer) -> list[EmailMessage]:
    asyncio.run(tracker.deliver(SmtpTransport(parse_smtp_url(server.url))))
    sent = [r.message for r in server.received]
    server.received.clear()
    return sent


def _one(messages: list[EmailMessage], address: str) -> EmailMessage:
    [message] = [m for m in messages if address in str(m["To"])]
    return message


def _text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return " ".join(str(part.get_content()).split())


def _ref(request: EmailMessage, title: str) -> str:
    found = re.search(rf"(A\d+)\. {re.escape(title)}", _text(request))
    assert found
    return found.group(1)


def _reading(tracker: Tracker, since: date, until: date) -> dict[str, Any]:
    record = tracker.implementation_record("S-2026-0417", since=since, until=until).as_json()
    [found] = [s for s in record["services"] if s["item"] == "reading-one-on-one"]
    return dict(found)


def test_missed_sessions_with_their_reasons_owe_make_up_and_the_digest_says_so(
    make_tracker: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    clock.now = MEETING
    tracker = make_tracker(smtp_url=smtp_server.url)
    tracker.record_meeting(load_meeting_file(EXAMPLE))
    _deliver(tracker, smtp_server)

    # Week 1: one session missed because Lucía was absent: not owed.
    clock.now = ASKED
    tracker.request_updates()
    karen = _one(_deliver(tracker, smtp_server), KAREN)
    ref = _ref(karen, READING)
    clock.now = REPLIED
    tracker.ingest(reply(karen, f"{ref} 30 min, missed Thursday: student absent"))
    confirmation = _text(_one(_deliver(tracker, smtp_server), KAREN))
    assert (
        "Recorded for this week: it happened in part, 30 minutes; a session was missed because"
        " the student was absent (15 minutes)" in confirmation
    )

    # Week 2: the school closed for three sessions (Spanish words): owed.
    clock.now = ASKED + timedelta(weeks=1)
    tracker.request_updates()
    karen = _one(_deliver(tracker, smtp_server), KAREN)
    clock.now = REPLIED + timedelta(weeks=1)
    tracker.ingest(reply(karen, f"{_ref(karen, READING)} no hubo clases, perdimos tres sesiones"))
    _deliver(tracker, smtp_server)
    week2 = _reading(tracker, date(2026, 11, 30), date(2026, 12, 13))
    assert week2["delivered_minutes"] == 30
    assert week2["missed_minutes"] == {
        "student_absent": 15,
        "provider_absent": 0,
        "school_closed": 45,
        "other": 0,
    }
    assert week2["owed_minutes"] == 45

    # The digest of week 2: 45 owed is not more than a week's 45 minutes; one more session
    # missed by the provider is.
    clock.now = ASKED + timedelta(weeks=2)
    tracker.request_updates()
    karen = _one(_deliver(tracker, smtp_server), KAREN)
    clock.now = REPLIED + timedelta(weeks=2)
    tracker.ingest(reply(karen, f"{_ref(karen, READING)} 30 min. I was out sick on Friday"))
    _deliver(tracker, smtp_server)
    clock.now = datetime(2026, 12, 21, 13, 0, tzinfo=UTC)  # Monday: the third week is over
    run = tracker.digests(preview_dir=tmp_path)
    digest = next(p for p in run.previews if "dana" in p.name and p.suffix == ".txt")
    words = " ".join(digest.read_text("utf-8").split())
    assert f'60 make-up minutes are owed for "{READING}" (Karen Liu)' in words
    assert "Agree with Karen Liu when the missed minutes will be made up." in words
    # A district that is told only past 90 owed minutes (IEP_FOLLOWUP_MAKEUP_ALERT_MINUTES)
    # hears nothing of these 60.
    lenient = make_tracker(smtp_url=smtp_server.url, makeup_alert_minutes=90)
    later = lenient.digests(preview_dir=tmp_path / "lenient")
    digest = next(p for p in later.previews if "dana" in p.name and p.suffix == ".txt")
    assert "make-up minutes are owed" not in " ".join(digest.read_text("utf-8").split())

    # Make-up given pays it back.
    clock.now = ASKED + timedelta(weeks=3)
    tracker.request_updates()
    karen = _one(_deliver(tracker, smtp_server), KAREN)
    clock.now = REPLIED + timedelta(weeks=3)
    tracker.ingest(reply(karen, f"{_ref(karen, READING)} 20 min make-up"))
    confirmation = _text(_one(_deliver(tracker, smtp_server), KAREN))
    assert "20 minutes of make-up" in confirmation
    assert _reading(tracker, date(2026, 11, 30), date(2026, 12, 27))["owed_minutes"] == 40


def test_a_missed_session_said_of_a_task_is_asked_about_and_records_nothing(
    make_tracker: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer
) -> None:
    clock.now = MEETING
    tracker = make_tracker(smtp_url=smtp_server.url)
    tracker.record_meeting(load_meeting_file(EXAMPLE))
    _deliver(tracker, smtp_server)
    clock.now = datetime(2026, 12, 14, 14, 30, tzinfo=UTC)  # Alan's monthly check-in
    tracker.request_updates()
    alan = _one(_deliver(tracker, smtp_server), ALAN)
    clock.now += timedelta(hours=6)
    tracker.ingest(reply(alan, "missed Thursday: student absent"))
    confirmation = _text(_one(_deliver(tracker, smtp_server), ALAN))
    assert "A1 is a task, so it has no sessions to miss." in confirmation
    [task] = tracker.items(owner=ALAN)
    assert [(e.status, e.percent) for e in tracker.history(task.id)] in ([], [(None, None)])
