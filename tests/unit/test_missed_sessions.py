"""Missed sessions as pure rules: the words that tell one and its reason, the minutes it loses,
what is owed as make-up, and the items that take none."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from iep_followup.domain import (
    ItemKind,
    ItemProgress,
    ItemStatus,
    MissReason,
    PeriodOutcome,
    UpdateInput,
    missed_minutes,
    moved,
)
from iep_followup.errors import MeetingFileError, ValidationError
from iep_followup.inbound.grammar import parse_commands
from iep_followup.meetingfile import parse_meeting
from iep_followup.routines import Report, missed_and_owed

NOW = datetime(2026, 12, 3, 20, 0, tzinfo=UTC)
MET = date(2026, 11, 16)


@pytest.mark.parametrize(
    ("line", "period", "minutes", "missed", "sessions", "makeup"),
    [
        ("A2 30 min, missed Thursday: student absent", "partly", 30, "student_absent", 1, False),
        ("A2 0, I was out sick", "missed", None, "provider_absent", 1, False),
        ("A2 no hubo clases", "missed", None, "school_closed", 1, False),
        ("A2 no, she was sick", "missed", None, "student_absent", 1, False),
        ("A2 faltó el martes, 30 min", "partly", 30, "student_absent", 1, False),
        ("A2 missed two sessions: assembly", "missed", None, "school_closed", 2, False),
        ("A2 missed Monday", "missed", None, "other", 1, False),
        ("A2 20 min make-up", "happened", 20, None, None, True),
        ("A2 yes 45 min", "happened", 45, None, None, False),
    ],
)
def test_a_service_reply_tells_a_missed_session_and_why(
    line: str,
    period: str,
    minutes: int | None,
    missed: str | None,
    sessions: int | None,
    makeup: bool,
) -> None:
    reply = parse_commands(
        line, ["A1", "A2"], language="en", today=date(2026, 12, 3), routines=["A2"], services=["A2"]
    )
    said = reply.items["A2"]
    assert (said.period, said.minutes, said.missed, said.missed_sessions, said.makeup) == (
        PeriodOutcome(period),
        minutes,
        None if missed is None else MissReason(missed),
        sessions,
        makeup,
    )


def test_a_missed_session_said_of_a_task_is_a_question() -> None:
    reply = parse_commands(
        "A1 missed Thursday: student absent", ["A1", "A2"], language="en", today=date(2026, 12, 3)
    )
    assert reply.items["A1"].missed is None
    [question] = reply.questions
    assert (question.ref, question.missed_for_task) == ("A1", True)


def test_a_routine_without_minutes_reads_no_missed_session() -> None:
    reply = parse_commands(
        "A1 no, she was sick", ["A1"], language="en", today=date(2026, 12, 3), routines=["A1"]
    )
    assert (reply.items["A1"].period, reply.items["A1"].missed) == (PeriodOutcome.MISSED, None)


@pytest.mark.parametrize(
    ("per_week", "sessions_per_week", "sessions", "given", "lost"),
    [(45, 3, 1, 30, 15), (45, 3, 2, None, 30), (45, 3, 9, None, 45), (60, None, 1, 20, 40)],
)
def test_the_minutes_a_missed_session_loses(
    per_week: int, sessions_per_week: int | None, sessions: int, given: int | None, lost: int
) -> None:
    assert missed_minutes(per_week, sessions_per_week, sessions, given) == lost


def test_only_the_schools_side_is_owed_and_make_up_pays_it_back() -> None:
    mondays = [date(2026, 11, 30), date(2026, 12, 7)]
    reports = [
        Report(date(2026, 11, 23), None, None, MissReason.PROVIDER_ABSENT, 15),  # before
        Report(date(2026, 12, 1), PeriodOutcome.PARTLY, 30, MissReason.STUDENT_ABSENT, 15),
        Report(date(2026, 12, 2), PeriodOutcome.MISSED, None, MissReason.SCHOOL_CLOSED, 45),
        Report(date(2026, 12, 8), PeriodOutcome.HAPPENED, 20, makeup=True),
        Report(date(2026, 12, 15), None, None, MissReason.PROVIDER_ABSENT, 15),  # after
    ]
    missed, owed = missed_and_owed(reports, mondays)
    assert missed == {
        MissReason.STUDENT_ABSENT: 15,
        MissReason.PROVIDER_ABSENT: 0,
        MissReason.SCHOOL_CLOSED: 45,
        MissReason.OTHER: 0,
    }
    assert owed == 15 + 45 - 20  # owed up to the last week: the week before counts too
    assert missed_and_owed([Report(date(2026, 12, 8), None, 90, makeup=True)], mondays)[1] == 0


SERVICE = ItemProgress(
    ItemStatus.OPEN,
    0,
    date(2027, 6, 4),
    kind=ItemKind.ROUTINE,
    service_minutes_per_week=45,
    sessions_per_week=3,
)


def test_moved_works_out_the_lost_minutes_from_the_plan() -> None:
    change = UpdateInput(
        period=PeriodOutcome.MISSED, missed=MissReason.PROVIDER_ABSENT, missed_sessions=2
    )
    _, said = moved(SERVICE, change, now=NOW, meeting_date=MET)
    assert (said.missed, said.missed_minutes) == (MissReason.PROVIDER_ABSENT, 30)


@pytest.mark.parametrize(
    "state",
    [
        ItemProgress(ItemStatus.OPEN, 0, date(2027, 6, 4)),
        ItemProgress(ItemStatus.OPEN, 0, date(2027, 6, 4), kind=ItemKind.ACCOMMODATION),
        ItemProgress(ItemStatus.OPEN, 0, date(2027, 6, 4), kind=ItemKind.ROUTINE),
    ],
)
def test_a_missed_session_is_refused_for_what_is_not_a_service(state: ItemProgress) -> None:
    change = UpdateInput(period=PeriodOutcome.MISSED, missed=MissReason.STUDENT_ABSENT)
    if state.kind is ItemKind.TASK:
        change = UpdateInput(note="x", missed=MissReason.STUDENT_ABSENT)
    with pytest.raises(ValidationError, match="a missed session is for a service"):
        moved(state, change, now=NOW, meeting_date=MET)


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ("kind: routine, minutes_per_week: 45, sessions_per_week: 3", None),
        ("kind: routine, sessions_per_week: 3", "sessions_per_week is for a routine with"),
        ("minutes_per_week: 45, sessions_per_week: 3", "sessions_per_week is for a routine with"),
        ("kind: routine, minutes_per_week: 45, sessions_per_week: 20", "from 1 to 14"),
    ],
)
def test_sessions_per_week_in_a_meeting_file(fields: str, problem: str | None) -> None:
    text = f"""
student: {{id: S-1, name: Ana Ruiz}}
meeting: {{date: 2026-11-16}}
team:
  - {{name: Dana Case, email: dana@school.example.org, role: case_manager}}
concerns:
  - id: reading
    text: Reads below grade level.
    actions:
      - {{id: r, title: Read, owner: dana@school.example.org, due: 2027-06-04, {fields}}}
"""
    if problem is None:
        [item] = parse_meeting(text).items
        assert item.sessions_per_week == 3
    else:
        with pytest.raises(MeetingFileError, match=problem):
            parse_meeting(text)
