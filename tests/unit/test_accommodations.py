"""Accommodations as pure rules: the meeting file's `accommodations:`, their check-ins as items,
the reply words and buttons that answer them, what an accommodation refuses, and the weeks."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from iep_followup.accommodations import UseReport, needs_attention, weeks_of_use
from iep_followup.answers import ACCOMMODATION, answers_for, find_answer, update_for
from iep_followup.domain import (
    AccommodationInfo,
    ItemKind,
    ItemProgress,
    ItemStatus,
    PeriodOutcome,
    UpdateInput,
    accommodation_checks,
    accommodation_item_key,
    transition,
)
from iep_followup.errors import MeetingFileError, ValidationError
from iep_followup.inbound.grammar import parse_commands
from iep_followup.meetingfile import parse_meeting
from iep_followup.meetingform import from_record, to_data
from iep_followup.views import UseWeeks

TEAM = """
student: {id: S-1, name: Ana Ruiz}
meeting: {date: 2026-11-16}
team:
  - {name: Dana Case, email: dana@school.example.org, role: case_manager}
  - {name: Tom Teacher, email: tom@school.example.org, role: classroom_teacher}
  - {name: Kim Art, email: kim@school.example.org, role: other}
concerns:
  - {id: reading, text: Reads below grade level.}
"""


def test_a_meeting_file_gives_each_implementer_a_weekly_check_in() -> None:
    record = parse_meeting(
        TEAM
        + """
accommodations:
  - id: extra-time
    text: {en: Extra time on tests, es: Más tiempo en las pruebas}
    implementers: [tom@school.example.org, KIM@school.example.org]
    concern: reading
  - id: breaks
    text: Short movement breaks
    implementers: [tom@school.example.org]
"""
    )
    extra, breaks = record.accommodations
    assert extra == AccommodationInfo(
        "extra-time",
        "Extra time on tests",
        ("tom@school.example.org", "kim@school.example.org"),
        "reading",
        {"es": "Más tiempo en las pruebas"},
    )
    assert breaks.concern is None
    checks = accommodation_checks(record)
    assert [(concern, i.owner, i.accommodation) for concern, i in checks] == [
        ("reading", "tom@school.example.org", "extra-time"),
        ("reading", "kim@school.example.org", "extra-time"),
        (None, "tom@school.example.org", "breaks"),
    ]
    first = checks[0][1]
    assert first.kind is ItemKind.ACCOMMODATION and first.due_on == date(2027, 11, 16)
    assert first.key == accommodation_item_key("extra-time", "TOM@school.example.org")
    assert len({i.key for _, i in checks}) == 3  # stable, and one per implementer
    assert record.items == ()  # not the plan's action items: the balance leaves them out


@pytest.mark.parametrize(
    ("accommodations", "where", "problem"),
    [
        (
            "[{id: a, text: T, implementers: [nobody@school.example.org]}]",
            "accommodations[1].implementers[1]",
            "is not on the student's team",
        ),
        ("[{id: a, text: T, implementers: []}]", "accommodations[1]", "at least one implementer"),
        (
            "[{id: a, text: T, implementers: [tom@school.example.org], concern: math}]",
            "accommodations[1].concern",
            "not one of the meeting's concerns",
        ),
        (
            "[{id: a, text: T, implementers: [tom@school.example.org]},"
            " {id: a, text: U, implementers: [tom@school.example.org]}]",
            "accommodations[2].id",
            "is used twice",
        ),
        (
            "[{id: a, text: T, implementers: [tom@school.example.org], owner: x}]",
            "accommodations[1]",
            "owner",
        ),
    ],
)
def test_a_wrong_accommodation_is_named_with_its_place(
    accommodations: str, where: str, problem: str
) -> None:
    with pytest.raises(MeetingFileError) as caught:
        parse_meeting(TEAM + "accommodations: " + accommodations + "\n")
    assert where in str(caught.value) and problem in str(caught.value)


def test_an_action_cannot_be_an_accommodation() -> None:
    text = TEAM.replace(
        "  - {id: reading, text: Reads below grade level.}",
        "  - {id: reading, text: Reads., actions: [{id: x, title: X, kind: accommodation,"
        " owner: tom@school.example.org, due: 2027-01-01}]}",
    )
    with pytest.raises(MeetingFileError, match="list accommodations under `accommodations:`"):
        parse_meeting(text)


@pytest.mark.parametrize(
    ("line", "period", "note"),
    [
        ("A3 yes", PeriodOutcome.HAPPENED, None),
        ("A3 sí", PeriodOutcome.HAPPENED, None),
        ("A3 done", None, None),  # "done" is yes: the domain records it as this week's
        ("A3 no: substitute this week", PeriodOutcome.MISSED, "substitute this week"),
        ("A3 no, hubo un sustituto", PeriodOutcome.MISSED, "hubo un sustituto"),
        ("A3 n/a", PeriodOutcome.NOT_APPLICABLE, None),
        ("A3 didn't come up", PeriodOutcome.NOT_APPLICABLE, None),
        (
            "A3 didn’t come up, no tests this week",
            PeriodOutcome.NOT_APPLICABLE,
            "no tests this week",
        ),
        ("A3 no surgió", PeriodOutcome.NOT_APPLICABLE, None),
        ("A3 no hizo falta esta semana", PeriodOutcome.NOT_APPLICABLE, "esta semana"),
        ("A3 no aplica", PeriodOutcome.NOT_APPLICABLE, None),
    ],
)
def test_reply_words_answer_an_accommodation(
    line: str, period: PeriodOutcome | None, note: str | None
) -> None:
    reply = parse_commands(
        line, ["A1", "A3"], language="en", today=date(2026, 12, 3), accommodations=["A3"]
    )
    said = reply.items["A3"]
    assert (said.period, said.note) == (period, note)
    assert reply.questions == () and reply.not_understood == ()


@pytest.mark.parametrize("line", ["A3 maybe", "A3 partly", "A3 20 min", "A3 50%"])
def test_other_answers_ask_the_question_and_answer_nothing(line: str) -> None:
    reply = parse_commands(
        line, ["A1", "A3"], language="en", today=date(2026, 12, 3), accommodations=["A3"]
    )
    said = reply.items.get("A3")
    assert said is None or (said.period, said.minutes, said.percent, said.status) == (
        None,
        None,
        None,
        None,
    )
    assert [q.ref for q in reply.questions] == ["A3"]


def test_didnt_come_up_is_not_an_answer_for_a_routine() -> None:
    reply = parse_commands(
        "A1 n/a", ["A1"], language="en", today=date(2026, 12, 3), routines=["A1"]
    )
    assert reply.items["A1"].period is None


def test_the_buttons_are_yes_no_and_didnt_come_up() -> None:
    assert [a.choice for a in answers_for(ACCOMMODATION)] == ["yes", "no", "not_applicable"]
    answer = find_answer(ACCOMMODATION, "not_applicable")
    assert answer is not None
    assert update_for(answer).period is PeriodOutcome.NOT_APPLICABLE
    assert find_answer(ACCOMMODATION, "partly") is None


_NOW = datetime(2026, 12, 3, 20, 0, tzinfo=UTC)
STATE = ItemProgress(ItemStatus.OPEN, 0, date(2027, 11, 16), kind=ItemKind.ACCOMMODATION)


@pytest.mark.parametrize(
    "change",
    [
        UpdateInput(period=PeriodOutcome.PARTLY),
        UpdateInput(percent=50),
        UpdateInput(period=PeriodOutcome.HAPPENED, minutes=20),
    ],
)
def test_an_accommodation_refuses_what_is_not_yes_no_or_didnt_come_up(
    change: UpdateInput,
) -> None:
    with pytest.raises(ValidationError, match="accommodation"):
        transition(STATE, change, now=_NOW, meeting_date=date(2026, 11, 16))


def test_done_is_this_weeks_yes_and_never_closes_it() -> None:
    after = transition(
        STATE, UpdateInput(status=ItemStatus.DONE), now=_NOW, meeting_date=date(2026, 11, 16)
    )
    assert after.status is ItemStatus.OPEN


def test_a_routine_refuses_didnt_come_up() -> None:
    routine = ItemProgress(ItemStatus.OPEN, 0, date(2027, 1, 1), kind=ItemKind.ROUTINE)
    with pytest.raises(ValidationError, match="routine"):
        transition(
            routine,
            UpdateInput(period=PeriodOutcome.NOT_APPLICABLE),
            now=_NOW,
            meeting_date=date(2026, 11, 16),
        )


def _r(day: int, period: PeriodOutcome, note: str | None = None) -> UseReport:
    return UseReport(date(2026, 11, day) if day > 15 else date(2026, 12, day), period, note)


@pytest.mark.parametrize(
    ("reports", "today", "expected"),
    [
        # Nothing said: the weeks that are over have no answer; this week is not over.
        ((), date(2026, 12, 3), UseWeeks(no_answer=2)),
        (
            (
                _r(17, PeriodOutcome.HAPPENED),
                _r(24, PeriodOutcome.MISSED, "substitute"),
                _r(2, PeriodOutcome.MISSED, "field trip"),
            ),
            date(2026, 12, 3),
            UseWeeks(1, 2, 0, 0, ("substitute", "field trip"), 2),
        ),
        # A week's last answer counts; "didn't come up" ends a run of "no".
        (
            (
                _r(17, PeriodOutcome.MISSED),
                _r(18, PeriodOutcome.HAPPENED),
                _r(24, PeriodOutcome.MISSED),
                _r(1, PeriodOutcome.NOT_APPLICABLE),
            ),
            date(2026, 12, 14),
            UseWeeks(1, 1, 1, 1, (), 0),
        ),
    ],
)
def test_weeks_of_use(reports: tuple[UseReport, ...], today: date, expected: UseWeeks) -> None:
    found = weeks_of_use(
        reports, starts_on=date(2026, 11, 16), since=date(2026, 11, 1), until=today, today=today
    )
    assert found == expected
    assert needs_attention(found) is (expected.not_used_running >= 2)


def test_the_desk_form_carries_the_accommodations_through_unchanged() -> None:
    record = parse_meeting(
        TEAM
        + """
accommodations:
  - id: extra-time
    text: {en: Extra time on tests, es: Más tiempo en las pruebas}
    implementers: [tom@school.example.org, kim@school.example.org]
    concern: reading
"""
    )
    fields = from_record(record)
    again = parse_meeting(to_data(fields).yaml_text())
    assert again.accommodations == record.accommodations
