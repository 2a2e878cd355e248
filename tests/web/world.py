"""A small district for the desk's tests: two caseloads, an administrator, a held reply."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage

from iep_followup.domain import MeetingKind, MeetingRecord, Role, StudentInfo
from iep_followup.net.smtp import SmtpTransport, parse_smtp_url
from iep_followup.tracker import Tracker
from tests.conftest import Clock, example_with_tasks, make_member, make_record
from tests.mailclient import reply
from tests.smtp_server import SmtpServer

MEETING = datetime(2026, 11, 16, 21, 0, tzinfo=UTC)
TWO_WEEKS_ON = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)  # Monday 08:30 in Chicago
REPLY_TIME = TWO_WEEKS_ON + timedelta(hours=3)

CASE_MANAGER_A = "dana.whitfield@lincoln.example.org"  # Lucía's (the example meeting)
CASE_MANAGER_B = "bea.case@school.example.org"  # Sam's
ADMIN = "admin@district.example.org"
STUDENT_A = "S-2026-0417"
STUDENT_B = "S-9"
LINK = re.compile(r"https?://\S+/signin/[A-Za-z0-9_-]+")


@dataclass
class World:
    tracker: Tracker
    held_id: int  # a reply to Rosa's request from Tom (Lucía's teacher): held
    # The update requests as delivered, by recipient.
    requests: dict[str, EmailMessage] = field(default_factory=dict)


def build_world(tracker: Tracker, clock: Clock, smtp: SmtpServer) -> World:
    """Lucía (case manager A) and Sam (case manager B); Tom's reply for Rosa is held."""
    clock.now = MEETING
    # Tom's and Rosa's items as tasks, for the task answers (done, stuck, a new date); the
    # other owners' items stay the example's routines (yes, partly, no).
    tracker.record_meeting(example_with_tasks("homework-check", "homework-folder"))
    tracker.record_meeting(beas_student(STUDENT_B, "Sam Ortiz"))
    deliver(tracker, smtp)
    smtp.received.clear()
    clock.now = TWO_WEEKS_ON
    tracker.request_updates()
    deliver(tracker, smtp)
    requests = {r.rcpt_tos[0]: r.message for r in smtp.received}
    smtp.received.clear()
    clock.now = REPLY_TIME
    held = tracker.ingest(
        reply(
            requests["rosa.herrera@example.com"],
            "listo",
            sender="Tom Okafor <tom.okafor@lincoln.example.org>",
        )
    )
    assert held.inbound_id is not None and held.outcome.value == "held"
    return World(tracker, held.inbound_id, requests)


def beas_student(external_id: str, name: str) -> MeetingRecord:
    """A meeting for a student on case manager B's caseload (Sam's team)."""
    return make_record(
        student=StudentInfo(external_id, name, "Lincoln Elementary", "4"),
        held_on=date(2026, 11, 16),
        kind=MeetingKind.ANNUAL_REVIEW,
        members=(
            make_member("Bea Case", Role.CASE_MANAGER, email=CASE_MANAGER_B),
            make_member("Tom Teacher", Role.CLASSROOM_TEACHER),
            make_member("Karen Sped", Role.SPECIAL_EDUCATION_TEACHER),
            make_member("Megan Ot", Role.OCCUPATIONAL_THERAPIST),
            make_member("Rosa Parent", Role.PARENT, email="rosa@home.example.com", language="es"),
        ),
    )


def deliver(tracker: Tracker, smtp: SmtpServer) -> None:
    asyncio.run(tracker.deliver(SmtpTransport(parse_smtp_url(smtp.url))))


def sign_in_links(smtp: SmtpServer, to: str) -> list[str]:
    found = []
    for received in smtp.received:
        if received.rcpt_tos == [to] and received.message["X-IEP-Followup"] == "sign_in":
            body = received.message.get_body(("plain",))
            assert isinstance(body, EmailMessage)
            found += LINK.findall(str(body.get_content()))
    return found
