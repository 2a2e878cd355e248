"""Summaries, update requests and reminders, delivered to a real SMTP server, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from iep_followup.domain import Role, UpdateInput
from iep_followup.mail.kinds import OutboxStatus
from iep_followup.markers import REPLY_MARKERS
from iep_followup.meetingfile import load_meeting_file
from iep_followup.net.smtp import SmtpTransport, parse_smtp_url
from iep_followup.services.delivery import RetryPolicy
from iep_followup.tokens import find_keys, request_id_of, verify_reply_key
from iep_followup.tracker import Tracker
from iep_followup.views import FailingAddress
from tests.conftest import EXAMPLE, UNBALANCED, Clock, make_member
from tests.emailtext import html_of, text_of
from tests.smtp_server import SmtpServer

MEETING_AFTERNOON = datetime(2026, 11, 16, 21, 0, tzinfo=UTC)  # Monday 15:00 in Chicago
NEXT_MONDAY_MORNING = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)  # 08:30 in Chicago
SECRET = "test-secret-key-with-enough-length-0123456789"


@pytest.fixture
def district(
    make_tracker: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer
) -> Tracker:
    clock.now = MEETING_AFTERNOON
    tracker = make_tracker(smtp_url=smtp_server.url)
    tracker.record_meeting(load_meeting_file(EXAMPLE))
    return tracker


def _deliver(
    tracker: Tracker, server: SmtpServer, policy: RetryPolicy | None = None
) -> tuple[int, int, int]:
    report = asyncio.run(tracker.deliver(SmtpTransport(parse_smtp_url(server.url)), policy=policy))
    return report.sent, report.retried, report.failed


def _by_recipient(server: SmtpServer) -> dict[str, EmailMessage]:
    return {r.rcpt_tos[0]: r.message for r in server.received}


def test_every_member_gets_one_summary_with_strengths_first(
    district: Tracker, smtp_server: SmtpServer
) -> None:
    assert _deliver(district, smtp_server) == (8, 0, 0)
    mail = _by_recipient(smtp_server)
    assert len(mail) == 8
    rosa = mail["rosa.herrera@example.com"]
    assert rosa["Subject"] == "El plan para Lucía Herrera: quién hace qué"
    text = text_of(rosa)
    assert text.index("Lucía es amable con los adultos") < text.index("Su parte del plan:")
    assert "Revisar la tarea de Lucía cada noche" in html_of(rosa)
    [calendar] = [p for p in rosa.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert b"DTSTART;VALUE=DATE:20270129" in calendar.get_payload(decode=True)
    jamie = mail["jamie.cole@lincoln.example.org"]
    assert "Take notes at the January meeting" in text_of(jamie)
    # Replies to a summary go to the case manager, a person.
    assert jamie["Reply-To"].addresses[0].addr_spec == "dana.whitfield@lincoln.example.org"
    # Importing again queues nothing new.
    district.record_meeting(load_meeting_file(EXAMPLE))
    assert _deliver(district, smtp_server) == (0, 0, 0)
    # A member left without a part is told so, with no calendar file.
    smtp_server.received.clear()
    district.record_meeting(load_meeting_file(UNBALANCED))
    assert _deliver(district, smtp_server) == (4, 0, 0)
    paul = _by_recipient(smtp_server)["paul.brennan@example.com"]
    assert "You do not have a part of the plan yet" in text_of(paul)
    assert not list(paul.iter_attachments())


def test_summaries_wait_for_the_morning(
    make_tracker: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer
) -> None:
    clock.now = datetime(2026, 11, 17, 3, 0, tzinfo=UTC)  # 21:00 in Chicago
    tracker = make_tracker(smtp_url=smtp_server.url)
    tracker.record_meeting(load_meeting_file(EXAMPLE))
    assert _deliver(tracker, smtp_server) == (0, 0, 0)
    clock.now = datetime(2026, 11, 17, 13, 0, tzinfo=UTC)  # 07:00
    assert _deliver(tracker, smtp_server)[0] == 8


def test_requests_carry_a_working_reply_key_and_run_once(
    district: Tracker, clock: Clock, smtp_server: SmtpServer
) -> None:
    _deliver(district, smtp_server)
    smtp_server.received.clear()
    clock.now = NEXT_MONDAY_MORNING
    run = district.request_updates()
    # The occupational therapist checks in every two weeks; Tom is asked about his
    # accommodations every week.
    assert (run.asked, run.reminded) == (3, 0)
    assert _deliver(district, smtp_server) == (3, 0, 0)
    assert district.request_updates().asked == 0
    assert _deliver(district, smtp_server) == (0, 0, 0)

    mail = _by_recipient(smtp_server)
    assert set(mail) == {
        "rosa.herrera@example.com",
        "karen.liu@lincoln.example.org",
        "tom.okafor@lincoln.example.org",
    }
    for address, message in mail.items():
        assert message.get_content_type() == "multipart/alternative"
        [reply_to] = message["Reply-To"].addresses
        [key] = find_keys(reply_to.addr_spec)
        assert reply_to.addr_spec == f"iep-replies+{key}@localhost"
        assert find_keys(message["Message-ID"]) == [key]
        request_id = request_id_of(key)
        assert request_id is not None
        with district.database.transaction() as session:
            from iep_followup.store.models import Person, UpdateRequest

            request = session.get(UpdateRequest, request_id)
            assert request is not None
            person = session.get(Person, request.person_id)
            assert person is not None and person.email == address
            assert verify_reply_key(SECRET, key, request_id, request.person_id, request.expires_at)
            assert request.expires_at - request.created_at == timedelta(days=60)
    rosa = mail["rosa.herrera@example.com"]
    assert rosa["Subject"] == "¿Cómo va todo con Lucía Herrera?"
    # Her one item is a routine, so "How to answer" shows a routine's answers, not a task's.
    assert REPLY_MARKERS["es"] in text_of(rosa) and "A1 sí" in text_of(rosa)
    assert "A1 listo" not in text_of(rosa) and "50%" not in text_of(rosa)
    # Her item is a routine: it runs until a date and asks whether it happened this week.
    assert "A1" in html_of(rosa) and "Cada semana hasta el 29 de enero de 2027" in html_of(rosa)
    assert "¿Se hizo esta semana?" in text_of(rosa)
    assert "Last update: none yet" in text_of(mail["karen.liu@lincoln.example.org"])


def test_one_email_for_an_owner_with_items_on_several_students(
    district: Tracker, clock: Clock, smtp_server: SmtpServer
) -> None:
    record = load_meeting_file(EXAMPLE)
    other = dataclasses.replace(
        record,
        student=dataclasses.replace(record.student, external_id="S-2", name="Marco Díaz"),
        members=(
            *[m for m in record.members if m.role is not Role.PARENT],
            make_member("Ana Díaz", Role.PARENT, email="ana@home.example.com"),
        ),
        concerns=(
            dataclasses.replace(
                record.concerns[2],
                items=(dataclasses.replace(record.concerns[2].items[0], key="marco-reading"),),
            ),
        ),
        strengths=(),
    )
    district.record_meeting(other)
    _deliver(district, smtp_server)
    smtp_server.received.clear()
    clock.now = NEXT_MONDAY_MORNING
    district.request_updates()
    _deliver(district, smtp_server)
    karen = [r for r in smtp_server.received if r.rcpt_tos == ["karen.liu@lincoln.example.org"]]
    assert len(karen) == 1
    text = text_of(karen[0].message)
    assert karen[0].message["Subject"] == "Quick check-in about 2 students"
    assert "== Lucía Herrera ==" in text and "== Marco Díaz ==" in text
    assert "A1." in text and "A2." in text


@pytest.mark.parametrize(
    ("now", "why"),
    [
        (datetime(2026, 11, 24, 5, 0, tzinfo=UTC), "quiet hours"),  # Monday 23:00 in Chicago
        (datetime(2026, 11, 28, 15, 0, tzinfo=UTC), "weekend"),
        (
            datetime(2026, 11, 26, 15, 0, tzinfo=UTC),
            "school holiday",
        ),  # Thanksgiving, from the calendar file
    ],
)
def test_nothing_is_sent_at_night_on_weekends_or_holidays(
    make_tracker: Callable[..., Tracker], clock: Clock, tmp_path: Path, now: datetime, why: str
) -> None:
    calendar = tmp_path / "calendar.txt"
    calendar.write_text("2026-11-26..2026-11-27 Thanksgiving break\n", encoding="utf-8")
    clock.now = MEETING_AFTERNOON
    tracker = make_tracker(school_calendar=calendar)
    tracker.record_meeting(load_meeting_file(EXAMPLE))
    clock.now = now
    run = tracker.request_updates()
    assert (run.asked, run.reminded) == (0, 0)
    assert all(why in line.reason for line in run.lines)


def test_away_until_postpones(district: Tracker, clock: Clock) -> None:
    record = load_meeting_file(EXAMPLE)
    members = tuple(
        dataclasses.replace(m, away_until=date(2026, 11, 30)) if m.role is Role.PARENT else m
        for m in record.members
    )
    district.record_meeting(dataclasses.replace(record, members=members))
    clock.now = NEXT_MONDAY_MORNING
    lines = {line.email: line for line in district.request_updates().lines}
    assert lines["rosa.herrera@example.com"].reason == "away until 2026-11-30"
    assert lines["karen.liu@lincoln.example.org"].action == "ask"


def test_one_reminder_then_silence(
    district: Tracker, clock: Clock, smtp_server: SmtpServer
) -> None:
    clock.now = NEXT_MONDAY_MORNING
    district.request_updates()
    _deliver(district, smtp_server)
    smtp_server.received.clear()
    karen = next(i for i in district.items() if i.owner_email.startswith("karen"))
    clock.now = NEXT_MONDAY_MORNING + timedelta(days=1)
    district.record_update(karen.id, UpdateInput(percent=30), by="karen.liu@lincoln.example.org")
    clock.now = NEXT_MONDAY_MORNING + timedelta(days=2)  # Wednesday: too soon
    assert district.request_updates().reminded == 0
    clock.now = NEXT_MONDAY_MORNING + timedelta(days=3)  # Thursday: three school days
    run = district.request_updates()
    assert run.reminded == 2  # Karen answered (her update counts); Rosa and Tom did not
    _deliver(district, smtp_server)
    [reminder] = [r for r in smtp_server.received if r.rcpt_tos == ["rosa.herrera@example.com"]]
    assert len(smtp_server.received) == 2
    assert reminder.message["Subject"].startswith("Recordatorio:")
    assert find_keys(reminder.message["Reply-To"].addresses[0].addr_spec)  # the same key works
    smtp_server.received.clear()
    clock.now = NEXT_MONDAY_MORNING + timedelta(days=4)
    assert district.request_updates().reminded == 0  # one reminder, never a second


def test_temporary_failure_is_retried_then_delivered(
    district: Tracker, clock: Clock, smtp_server: SmtpServer
) -> None:
    smtp_server.handler.defer_next = 3
    policy = RetryPolicy(base_delay=timedelta(minutes=1))
    assert _deliver(district, smtp_server, policy) == (5, 3, 0)
    assert _deliver(district, smtp_server, policy) == (0, 0, 0)  # not due yet: backoff is honoured
    clock.now += timedelta(minutes=5)
    assert _deliver(district, smtp_server, policy) == (3, 0, 0)
    ids = [r.message["Message-ID"] for r in smtp_server.received]
    assert len(ids) == len(set(ids)) == 8


def test_permanent_failure_marks_the_message_and_the_address(
    district: Tracker, smtp_server: SmtpServer
) -> None:
    smtp_server.handler.refuse["jamie.cole@lincoln.example.org"] = "550 5.1.1 No such user here"
    assert _deliver(district, smtp_server) == (7, 0, 1)
    [failed] = district.outbox(failed_only=True)
    assert (failed.to_address, failed.status) == (
        "jamie.cole@lincoln.example.org",
        OutboxStatus.FAILED,
    )
    assert failed.last_error == "550 5.1.1 No such user here"
    assert district.failing_addresses() == [
        FailingAddress(
            "Jamie Cole", "jamie.cole@lincoln.example.org", "550 5.1.1 No such user here"
        )
    ]


def test_server_down_then_back(district: Tracker, clock: Clock, smtp_server: SmtpServer) -> None:
    smtp_server.stop()
    sent, retried, failed = _deliver(district, smtp_server)
    assert (sent, failed) == (0, 0) and retried == 8
    smtp_server.start()
    assert _deliver(district, smtp_server) == (0, 0, 0)  # still backing off
    clock.now += timedelta(hours=1)
    assert _deliver(district, smtp_server) == (8, 0, 0)


def test_gives_up_after_the_last_attempt(
    district: Tracker, clock: Clock, smtp_server: SmtpServer
) -> None:
    smtp_server.handler.defer_every = 1
    policy = RetryPolicy(
        max_attempts=2, base_delay=timedelta(seconds=1), max_delay=timedelta(seconds=1)
    )
    _deliver(district, smtp_server, policy)
    clock.now += timedelta(minutes=1)
    assert _deliver(district, smtp_server, policy) == (0, 0, 8)
    assert all(
        m.last_error and m.last_error.startswith("gave up after 2 attempts: 451")
        for m in district.outbox(failed_only=True)
    )
    assert district.failing_addresses() == []  # a busy server says nothing about the address


def test_a_crashed_deliverer_leaves_its_lease_to_expire(
    district: Tracker, clock: Clock, smtp_server: SmtpServer
) -> None:
    from iep_followup.store import outbox

    with district.database.transaction() as session:
        claimed = outbox.claim(session, clock(), timedelta(minutes=5), 3)
    assert len(claimed) == 3
    assert (
        _deliver(district, smtp_server)[0] == 5
    )  # the three claimed ones are someone else's for now
    clock.now += timedelta(minutes=6)
    assert _deliver(district, smtp_server)[0] == 3


def test_a_name_cannot_inject_headers(
    make_tracker: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer
) -> None:
    record = load_meeting_file(EXAMPLE)
    evil = "Rosa\r\nBcc: everyone@example.net"
    members = tuple(
        dataclasses.replace(m, name="Rosa") if m.role is Role.PARENT else m for m in record.members
    )
    record = dataclasses.replace(record, members=members)
    object.__setattr__(
        record.members[-1], "name", evil
    )  # past the domain's own cleaning, as a hostile import could
    clock.now = MEETING_AFTERNOON
    tracker = make_tracker()
    tracker.record_meeting(record)
    asyncio.run(tracker.deliver(SmtpTransport(parse_smtp_url(smtp_server.url))))
    assert all(r.rcpt_tos != ["everyone@example.net"] for r in smtp_server.received)
    rosa = next(r for r in smtp_server.received if r.rcpt_tos == ["rosa.herrera@example.com"])
    headers = rosa.data.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in headers
    assert rosa.message["To"].addresses[0].display_name == "Rosa Bcc: everyone@example.net"


def test_file_transport_is_the_embedded_default(
    make_tracker: Callable[..., Tracker], clock: Clock, tmp_path: Path
) -> None:
    clock.now = MEETING_AFTERNOON
    tracker = make_tracker(mail_dir=tmp_path / "mail")
    tracker.record_meeting(load_meeting_file(EXAMPLE))
    report = asyncio.run(tracker.deliver())
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert report.sent == len(files) == 8
    assert not list((tmp_path / "mail").glob(".*"))  # no partial files left behind


def test_a_long_outage_fails_no_message(
    district: Tracker, clock: Clock, smtp_server: SmtpServer
) -> None:
    smtp_server.stop()
    policy = RetryPolicy(max_attempts=2)
    for _ in range(5):  # five passes, each after the longest wait: more than max_attempts
        assert _deliver(district, smtp_server, policy) == (0, 8, 0)
        clock.now += timedelta(hours=2)
    smtp_server.start()
    assert _deliver(district, smtp_server, policy) == (8, 0, 0)


def test_one_owner_whose_request_cannot_be_written_costs_only_that_request(
    make_tracker: Callable[..., Tracker], clock: Clock, tmp_path: Path
) -> None:
    # A district's own request template with a bug that only one owner's email reaches.
    (tmp_path / "templates" / "request").mkdir(parents=True)
    (tmp_path / "templates" / "request" / "subject.txt").write_text(
        '{% if recipient.name == "Tom Okafor" %}{{ 1 // 0 }}{% endif %}Quick check-in',
        encoding="utf-8",
    )
    clock.now = MEETING_AFTERNOON
    tracker = make_tracker(templates_dir=tmp_path / "templates")
    tracker.record_meeting(load_meeting_file(EXAMPLE))
    clock.now = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)
    run = tracker.request_updates()
    assert (run.asked, run.failed) == (3, 1)
    asked = {m.to_address for m in tracker.outbox() if m.kind.value == "request"}
    assert "tom.okafor@lincoln.example.org" not in asked and len(asked) == 3
    # Tom's request was taken back with his email: fixing the template asks him on the next run.
    assert tracker.request_updates().failed == 1


class _BreaksFor(SmtpTransport):
    """The real SMTP transport, with a fault that one recipient's messages meet (a driver bug, say)."""

    def __init__(self, url: str, recipient: str) -> None:
        super().__init__(parse_smtp_url(url))
        self.recipient = recipient

    async def send(self, sender: str, recipient: str, message: bytes, message_id: str) -> None:
        if recipient == self.recipient:
            raise UnicodeEncodeError("ascii", recipient, 0, 1, "made up")
        await super().send(sender, recipient, message, message_id)


def test_a_message_that_cannot_be_sent_is_retried_then_failed_and_never_blocks_the_rest(
    district: Tracker, smtp_server: SmtpServer, clock: Clock
) -> None:
    tom = "tom.okafor@lincoln.example.org"
    policy = RetryPolicy(base_delay=timedelta(0), max_attempts=3)
    for attempt in range(3):
        report = asyncio.run(district.deliver(_BreaksFor(smtp_server.url, tom), policy=policy))
        assert report.sent == (7 if attempt == 0 else 0)
        clock.now += timedelta(seconds=1)
    assert len(smtp_server.received) == 7
    [failed] = district.outbox(failed_only=True)
    assert failed.to_address == tom and failed.attempts == 3
    assert failed.last_error == "gave up after 3 attempts: could not be sent (UnicodeEncodeError)"
    assert [m.status for m in district.outbox() if m.status is OutboxStatus.SENDING] == []
