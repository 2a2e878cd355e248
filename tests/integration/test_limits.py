"""Both databases hold the same data: texts at the limits and any Unicode read back as written."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import col, select

from iep_followup import domain
from iep_followup.meetingfile import load_meeting_file
from iep_followup.store.models import ActionItem, Concern, Meeting, Person, Strength, Student
from iep_followup.tracker import Tracker

EDGE_CASES = Path(__file__).parent.parent / "fixtures" / "meetings" / "edge-cases.yaml"


def test_the_edge_case_file_is_at_the_limits_it_claims() -> None:
    record = load_meeting_file(EDGE_CASES)
    concern = record.concerns[0]
    assert [
        len(record.student.external_id),
        len(record.student.name),
        len(record.student.school),
        len(record.student.grade),
        len(record.members[1].name),
        len(record.strengths[0].text),
        len(concern.key),
        len(concern.text),
        len(concern.items[0].key),
        len(concern.items[0].title),
    ] == [
        domain.MAX_EXTERNAL_ID,
        domain.MAX_NAME,
        domain.MAX_SCHOOL,
        domain.MAX_GRADE,
        domain.MAX_NAME,
        domain.MAX_TEXT,
        domain.MAX_KEY,
        domain.MAX_TEXT,
        domain.MAX_KEY,
        domain.MAX_TITLE,
    ]
    texts = "".join(
        [
            record.student.name,
            record.student.school,
            record.student.grade,
            record.notes,
            *(m.name for m in record.members),
            *(s.text for s in record.strengths),
            *(c.text for c in record.concerns),
            *(i.title for i in record.items),
        ]
    )
    for invisible in ("\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202b", "\u0301"):
        assert invisible in texts, f"U+{ord(invisible):04X}"


def test_the_edge_case_meeting_reads_back_exactly_as_written(tracker: Tracker) -> None:
    record = load_meeting_file(EDGE_CASES)
    assert tracker.record_meeting(record).created
    student = record.student

    status = tracker.student_status(student.external_id)
    assert (status.external_id, status.name, status.school, status.grade) == (
        student.external_id,
        student.name,
        student.school,
        student.grade,
    )
    assert status.strengths == tuple(s.text for s in record.strengths)
    assert {(m.name, m.email, m.language) for m in status.members} == {
        (m.name, m.email, m.language) for m in record.members
    }
    assert {(i.key, i.title, i.concern, i.service_minutes_per_week) for i in status.items} == {
        (i.key, i.title, c.text, i.service_minutes_per_week)
        for c in record.concerns
        for i in c.items
    }

    with tracker.database.transaction() as session:
        stored = session.exec(select(Student.external_id, Student.grade)).one()
        notes = session.exec(select(Meeting.notes)).one()
        people = session.exec(
            select(Person.email, Person.name, Person.timezone).order_by(col(Person.email))
        ).all()
        strengths = session.exec(select(Strength.text).order_by(col(Strength.position))).all()
        concerns = session.exec(select(Concern.key, Concern.text)).all()
        items = session.exec(
            select(ActionItem.key, ActionItem.title).order_by(col(ActionItem.key))
        ).all()
    assert tuple(stored) == (student.external_id, student.grade)
    assert notes == record.notes
    assert [tuple(p) for p in people] == sorted(
        (m.email, m.name, m.timezone) for m in record.members
    )
    assert list(strengths) == [s.text for s in record.strengths]
    assert [tuple(c) for c in concerns] == [(c.key, c.text) for c in record.concerns]
    assert [tuple(i) for i in items] == sorted((i.key, i.title) for i in record.items)
    # As written, not as YAML 1.1 would have read it (0012345 is not 5349, no is not False).
    assert ("0012345", "no") in [tuple(i) for i in items]
    # What was stored compares equal to what the file says: importing it again changes nothing.
    assert tracker.record_meeting(record).changes == ()
