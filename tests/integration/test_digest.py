"""The case manager's digest after a real cycle of requests and replies; privacy; bounded queries."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from iep_followup.digest import Period
from iep_followup.domain import (
    Cadence,
    ConcernInfo,
    ItemInfo,
    ItemKind,
    MeetingRecord,
    MemberInfo,
    Role,
    StrengthInfo,
    StudentInfo,
)
from iep_followup.inbound.outcome import InboundOutcome
from iep_followup.mail.kinds import MailKind
from iep_followup.meetingfile import load_meeting_file
from iep_followup.net.smtp import SmtpTransport, parse_smtp_url
from iep_followup.services.digests import digest_inputs
from iep_followup.store import digests
from iep_followup.tracker import Tracker
from tests.conftest import EXAMPLE, Clock, example_with_tasks, make_member
from tests.mailclient import reply
from tests.smtp_server import SmtpServer

MEETING = datetime(2026, 11, 16, 21, 0, tzinfo=UTC)
TWO_WEEKS_ON = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)
FRIDAY = datetime(2026, 12, 4, 20, 0, tzinfo=UTC)  # 14:00 in Chicago


def marco(**overrides: Any) -> MeetingRecord:
    """A second student with another case manager; Karen (special education) serves both."""
    lucia = load_meeting_file(EXAMPLE)
    karen = next(m for m in lucia.members if m.role is Role.SPECIAL_EDUCATION_TEACHER)
    values: dict[str, Any] = {
        "student": StudentInfo("S-2026-0999", "Marco Díaz", "Lincoln Elementary", "3"),
        "held_on": date(2026, 11, 16),
        "kind": "annual_review",
        "members": (
            MemberInfo("Maria Lopez", "maria.lopez@lincoln.example.org", Role.CASE_MANAGER),
            karen,
            MemberInfo("Ana Díaz", "ana.diaz@example.com", Role.PARENT, language="es"),
            MemberInfo("Sam Reed", "sam.reed@lincoln.example.org", Role.CLASSROOM_TEACHER),
        ),
        "strengths": (StrengthInfo("Marco loves to draw."),),
        "concerns": (
            ConcernInfo(
                "reading",
                "Marco reads below grade level.",
                None,
                (
                    ItemInfo(
                        "marco-reading", "Read with Marco each week", karen.email, date(2027, 3, 1)
                    ),
                    ItemInfo(
                        "marco-books",
                        "Read a picture book together each night",
                        "ana.diaz@example.com",
                        date(2027, 2, 1),
                    ),
                    ItemInfo(
                        "marco-words",
                        "Practice sight words in class",
                        "sam.reed@lincoln.example.org",
                        date(2027, 2, 1),
                    ),
                ),
            ),
        ),
    }
    values.update(overrides)
    return MeetingRecord(**values)


def _deliver(tracker: Tracker, server: SmtpServer) -> None:
    asyncio.run(tracker.deliver(SmtpTransport(parse_smtp_url(server.url))))


@pytest.fixture
def cycle(make_tracker: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer) -> Tracker:
    """Two students, requests sent, replies in: done, a percentage, blocked, a wrong sender; one silent owner."""
    clock.now = MEETING
    tracker = make_tracker(smtp_url=smtp_server.url)
    tracker.record_meeting(load_meeting_file(EXAMPLE))
    tracker.record_meeting(marco())
    _deliver(tracker, smtp_server)
    clock.now = TWO_WEEKS_ON
    tracker.request_updates()
    _deliver(tracker, smtp_server)
    requests = {
        r.rcpt_tos[0]: r.message
        for r in smtp_server.received
        if r.message["X-IEP-Followup"] == MailKind.REQUEST.value
    }
    clock.now = TWO_WEEKS_ON + timedelta(hours=4)
    karen = requests["karen.liu@lincoln.example.org"]
    results = [
        tracker.ingest(reply(karen, "A1 done\nA2 50%\nThanks for asking!")),
        tracker.ingest(reply(requests["megan.torres@lincoln.example.org"], "50%", style="outlook")),
        tracker.ingest(
            reply(
                requests["rosa.herrera@example.com"],
                "bloqueado: no tenemos el cuaderno",
                style="iphone",
            )
        ),
        tracker.ingest(
            reply(
                requests["ana.diaz@example.com"],
                "listo",
                sender="Tía Carmen <carmen@home.example.com>",
            )
        ),
        # Marco's teacher answers Lucía's mother's request by mistake: held, and he is told (without details).
        tracker.ingest(
            reply(
                requests["rosa.herrera@example.com"], "done", sender="sam.reed@lincoln.example.org"
            )
        ),
    ]
    assert [r.outcome for r in results] == [InboundOutcome.APPLIED] * 3 + [InboundOutcome.HELD] * 2
    # Sam never answers: a reminder three school days later, then silence.
    clock.now = TWO_WEEKS_ON + timedelta(days=3)
    # Sam, Tom, and Ana (her reply came from someone else).
    assert tracker.request_updates().reminded == 3
    _deliver(tracker, smtp_server)
    clock.now = FRIDAY + timedelta(days=3)  # the next Monday: the reminder's grace period is over
    return tracker


def test_preview_writes_a_digest_a_person_can_read_at_a_glance(
    cycle: Tracker, clock: Clock, tmp_path: Path
) -> None:
    clock.now = FRIDAY + timedelta(days=10)  # Monday Dec 14: the two weeks from Nov 30 are over
    run = cycle.digests(period=Period.TWO_WEEKS, preview_dir=tmp_path / "out")
    html_files = sorted(p for p in run.previews if p.suffix == ".html")
    assert len(html_files) == 2  # one per case manager
    assert cycle.outbox(failed_only=False) and not [
        m for m in cycle.outbox() if m.kind is MailKind.DIGEST
    ]
    dana = next(p for p in html_files if "dana" in p.name).read_text(encoding="utf-8")
    text = next(p for p in run.previews if "dana" in p.name and p.suffix == ".txt").read_text(
        encoding="utf-8"
    )
    # Needs attention comes first, then the student, then the load, then momentum.
    positions = [
        text.index(h)
        for h in (
            "Needs your attention",
            "== Lucía Herrera ==",
            "How the load is spread",
            "Momentum",
        )
    ]
    assert positions == sorted(positions)
    assert "from November 30, 2026 to December 13, 2026" in text  # past days only
    assert "is blocked" in text and "no tenemos el cuaderno" in text
    assert "The team said:" in text
    # Megan's "50%" on a routine is its answer for the period, quoted as such.
    assert (
        "Work on pencil grip with Lucía: Recorded for these two weeks: it happened in part" in text
    )
    # A routine says how it is going, not a percent; a shortfall in minutes needs attention.
    assert "| happened in 1 of the last 4 weeks |" in text  # Karen's "A1 done"
    # Karen answered the check-in of Nov 30 with no minutes: that week counts, as 0. Nobody has
    # asked about the week of Dec 7 yet, nor ever asked Priya: no report yet, nobody's shortfall.
    assert (
        "Lucía Herrera: Karen Liu reported 0 of the 45 minutes promised for"
        ' "Read one-on-one with Lucía in the resource room" from Nov 30 to Dec 6.'
    ) in text
    assert "45 minutes promised, week of Dec 7: no report yet (not asked yet)" in text
    assert "Priya Nair reported" not in text
    assert "20 minutes promised, week of Nov 30: no report yet (not asked yet)" in text
    assert "Service minutes, week of Dec 7: 95 promised, no report yet." in text
    assert "Rosa Herrera (parent)" in text
    assert "has no part in the plan" not in text  # everyone on Lucía's team has one
    assert "<table" in dana and "Needs your attention" in dana
    maria = next(p for p in run.previews if "maria" in p.name and p.suffix == ".txt").read_text(
        encoding="utf-8"
    )
    assert "Marco Díaz: Sam Reed has not answered the last check-in about" in maria
    # Who has no part is one line of the team section, and never the reader herself.
    assert "Maria Lopez (case manager)" not in maria.split("== Team ==")[-1].split("==")[0]
    assert "no part in the plan yet" not in maria.split("== Team ==")[0]
    assert "Offer them one small part" not in maria
    # The held reply, in the digest of the case manager of the student its key is about: who
    # wrote, about which student, what they wrote, and how to read it.
    assert 'Lucía Herrera: Sam Reed wrote, and we did not apply it on our own: "done"' in text
    [sam] = [m for m in cycle.inbox(held_only=True) if (m.from_address or "").startswith("sam")]
    assert f"run iep-followup inbox show {sam.id}" in text
    assert "Sam Reed wrote" not in maria
    assert "request " not in maria + text  # no internal ids in sentences
    assert "Lucía" not in maria and "Marco" not in text


def test_digest_is_queued_once_per_case_manager_per_period(
    cycle: Tracker, clock: Clock, smtp_server: SmtpServer
) -> None:
    smtp_server.received.clear()
    run = cycle.digests()
    assert (run.queued, run.already) == (2, 0)
    again = cycle.digests()
    assert (again.queued, again.already) == (0, 2)
    _deliver(cycle, smtp_server)
    digests_sent = [r for r in smtp_server.received if r.message["X-IEP-Followup"] == "digest"]
    assert sorted(r.rcpt_tos[0] for r in digests_sent) == [
        "dana.whitfield@lincoln.example.org",
        "maria.lopez@lincoln.example.org",
    ]
    for received in digests_sent:
        assert received.message.get_content_type() == "multipart/alternative"
    # Next week: a new period, and the classroom teachers' share is compared with this one.
    clock.now += timedelta(days=7)
    assert cycle.digests().queued == 2


def test_all_quiet_sends_a_short_digest_or_none(
    make_tracker: Callable[..., Tracker], clock: Clock, tmp_path: Path
) -> None:
    maria = MemberInfo("Maria Lopez", "maria.lopez@lincoln.example.org", Role.CASE_MANAGER)
    plan = ConcernInfo(
        "c",
        "c",
        None,
        (ItemInfo("i", "Review the plan", maria.email, date(2027, 6, 1), Cadence.NONE),),
    )
    quiet_team = marco(concerns=(plan,), members=(maria,))
    clock.now = MEETING
    tracker = make_tracker()
    tracker.record_meeting(quiet_team)
    clock.now = FRIDAY
    [_html, text] = tracker.digests(preview_dir=tmp_path).previews
    assert "All quiet" in text.read_text(encoding="utf-8")
    skipping = make_tracker(digest_skip_quiet=True)
    run = skipping.digests()
    assert (run.queued, run.quiet_skipped) == (0, 1)


def test_no_email_names_a_student_to_someone_outside_their_team(
    cycle: Tracker, smtp_server: SmtpServer
) -> None:
    cycle.digests()
    _deliver(cycle, smtp_server)
    teams = {
        "Lucía": {m.email for m in load_meeting_file(EXAMPLE).members},
        "Marco": {m.email for m in marco().members},
    }
    kinds = set()
    for received in smtp_server.received:
        message: EmailMessage = received.message
        kinds.add(message["X-IEP-Followup"])
        recipient = received.rcpt_tos[0]
        parts = [str(message["Subject"])] + [
            str(p.get_content())
            for p in message.walk()
            if p.get_content_type() in ("text/plain", "text/html")
        ]
        for name, team in teams.items():
            if recipient not in team:
                assert all(name not in part for part in parts), (
                    f"{name} named in {message['X-IEP-Followup']} to {recipient}"
                )
    assert kinds >= {"summary", "request", "reminder", "confirmation", "notice", "digest"}


def test_building_a_digest_takes_the_same_queries_for_one_student_or_many(
    make_tracker: Callable[..., Tracker], clock: Clock
) -> None:
    clock.now = MEETING
    tracker = make_tracker()
    # Karen's reading is a routine with minutes: its figures are counted in the queries too.
    [reading] = marco().concerns
    base = marco(
        concerns=(
            dataclasses.replace(
                reading,
                items=(
                    dataclasses.replace(
                        reading.items[0], kind=ItemKind.ROUTINE, service_minutes_per_week=30
                    ),
                    *reading.items[1:],
                ),
            ),
        )
    )
    tracker.record_meeting(base)
    small = _count_queries(tracker, "maria.lopez@lincoln.example.org")
    for n in range(6):
        members = (
            *base.members[:2],
            make_member(f"Parent {n}", Role.PARENT, email=f"parent{n}@home.example.com"),
            *base.members[3:],
        )
        concerns = tuple(
            dataclasses.replace(
                c,
                items=tuple(
                    dataclasses.replace(
                        i,
                        key=f"{i.key}-{n}",
                        owner=i.owner if "ana" not in i.owner else f"parent{n}@home.example.com",
                    )
                    for i in c.items
                ),
            )
            for c in base.concerns
        )
        tracker.record_meeting(
            dataclasses.replace(
                base,
                student=StudentInfo(f"S-{n}", f"Student {n}"),
                members=members,
                concerns=concerns,
            )
        )
    large = _count_queries(tracker, "maria.lopez@lincoln.example.org")
    assert large == small <= 18  # 15 for the store's rows, 3 for routines and minutes


def _count_queries(tracker: Tracker, email: str) -> int:
    count = 0

    def on_execute(*_args: object) -> None:
        nonlocal count
        count += 1

    with tracker.database.transaction() as session:
        [(manager, _tz)] = [m for m in digests.case_managers(session) if m[0].email == email]
        event.listen(tracker.database.engine, "before_cursor_execute", on_execute)
        try:
            # The service's inputs: the store's, and the routines' and minutes' figures.
            inputs = digest_inputs(
                session,
                manager,
                "America/Chicago",
                date(2026, 11, 30),
                date(2026, 12, 7),
                date(2026, 11, 23),
                now=tracker.now(),
                policy=tracker.policy,
            )
        finally:
            event.remove(tracker.database.engine, "before_cursor_execute", on_execute)
    assert inputs.students
    return count


def test_a_held_reply_shows_only_in_the_digest_of_its_requests_case_manager(
    cycle: Tracker, tmp_path: Path
) -> None:
    """Sam (Marco's teacher) answered with Lucía's mother's key: it is about Lucía's items, so
    it is Lucía's case manager's to judge (the desk's one rule), not Marco's: a teacher on
    Maria's team brings her none of his replies about another caseload's child. Tía Carmen
    is on no team: no digest shows her reply (the desk and `inbox` do)."""
    cycle.digests(preview_dir=tmp_path)
    [dana] = tmp_path.glob("digest-dana-whitfield-*.txt")
    [maria] = tmp_path.glob("digest-maria-lopez-*.txt")
    dana_text, maria_text = dana.read_text("utf-8"), maria.read_text("utf-8")
    assert "Sam Reed wrote" not in maria_text  # he is on Marco's team; the reply is not Maria's
    assert "Lucía Herrera: Sam Reed wrote, and we did not apply it on our own" in dana_text
    assert "carmen" not in dana_text + maria_text
    [sam] = [m for m in cycle.inbox(held_only=True) if m.from_address.startswith("sam")]  # type: ignore[union-attr]

    # `iep-followup inbox show ID`, the digest's next step without the desk, prints this.
    shown = cycle.held_text(sam.id)
    assert (shown.kept_text.strip(), shown.students, shown.can_release) == (
        "done",
        ("Lucía Herrera",),
        True,
    )
    assert "done" in shown.original and "Lucía" in shown.original  # the quoted request, whole
    released = cycle.release(sam.id)
    assert released.applied == 1
    rosa_item = next(i for i in cycle.items() if i.owner_email == "rosa.herrera@example.com")
    assert cycle.history(rosa_item.id)[-1].author_name == "Sam Reed"


def test_one_case_manager_whose_digest_breaks_costs_only_that_digest(
    make_tracker: Callable[..., Tracker], clock: Clock, tmp_path: Path
) -> None:
    (tmp_path / "templates" / "digest").mkdir(parents=True)
    (tmp_path / "templates" / "digest" / "subject.txt").write_text(
        '{% if "Maria" in recipient.name %}{{ 1 // 0 }}{% endif %}Digest', encoding="utf-8"
    )
    clock.now = MEETING
    tracker = make_tracker(templates_dir=tmp_path / "templates")
    tracker.record_meeting(load_meeting_file(EXAMPLE))
    tracker.record_meeting(marco())
    clock.now = FRIDAY
    run = tracker.digests()
    assert (run.queued, run.failed) == (1, 1)
    [digest] = [m for m in tracker.outbox() if m.kind is MailKind.DIGEST]
    assert digest.to_address == "dana.whitfield@lincoln.example.org"


def test_a_reading_from_a_sentence_is_marked_and_the_table_agrees_with_the_quote(
    make_tracker: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    clock.now = MEETING
    tracker = make_tracker(smtp_url=smtp_server.url)
    # A percent read from a sentence is a task's reading (on a routine it answers the period).
    tracker.record_meeting(example_with_tasks("pencil-grip"))
    _deliver(tracker, smtp_server)
    clock.now = TWO_WEEKS_ON
    tracker.request_updates()
    _deliver(tracker, smtp_server)
    [megan] = [
        r.message
        for r in smtp_server.received
        if r.rcpt_tos[0] == "megan.torres@lincoln.example.org"
        and r.message["X-IEP-Followup"] == MailKind.REQUEST.value
    ]
    clock.now = TWO_WEEKS_ON + timedelta(hours=4)
    assert tracker.ingest(reply(megan, "Maybe 75% there")).applied == 1
    clock.now = TWO_WEEKS_ON + timedelta(days=14)  # the two weeks are over
    run = tracker.digests(period=Period.TWO_WEEKS, preview_dir=tmp_path / "out")
    text = next(p for p in run.previews if "dana" in p.name and p.suffix == ".txt")
    html = next(p for p in run.previews if "dana" in p.name and p.suffix == ".html")
    for body in (text.read_text(encoding="utf-8"), html.read_text(encoding="utf-8")):
        assert "75% done (understood from their words)" in body
        assert '"Maybe 75% there"' in body or "&#34;Maybe 75% there&#34;" in body
    row = next(
        line for line in text.read_text(encoding="utf-8").splitlines() if "Megan Torres (" in line
    )
    assert "in progress, 75%" in row
