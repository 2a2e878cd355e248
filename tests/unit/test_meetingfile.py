from __future__ import annotations

from pathlib import Path

import pytest

from iep_followup.domain import Cadence, Role
from iep_followup.errors import MeetingFileError
from iep_followup.meetingfile import load_meeting_file, parse_meeting
from tests.conftest import EXAMPLE

TEXT = EXAMPLE.read_text(encoding="utf-8")


def _line_of(needle: str, text: str = TEXT) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def _error(text: str) -> MeetingFileError:
    with pytest.raises(MeetingFileError) as info:
        parse_meeting(text, "m.yaml")
    return info.value


def test_example_file_describes_lucias_meeting() -> None:
    record = load_meeting_file(EXAMPLE)
    assert record.student.grade == "3"
    roles = {m.role for m in record.members}
    assert {
        Role.CASE_MANAGER,
        Role.CLASSROOM_TEACHER,
        Role.PARENT,
        Role.NOTE_TAKER,
        Role.OCCUPATIONAL_THERAPIST,
    } <= roles
    mother = next(m for m in record.members if m.role is Role.PARENT)
    assert mother.language == "es"
    reading = next(i for i in record.items if i.key == "reading-one-on-one")
    assert (reading.service_minutes_per_week, reading.cadence) == (45, Cadence.WEEKLY)
    assert record.strengths[0].text.startswith("Lucía is polite")


def test_bad_yaml_names_the_line() -> None:
    error = _error("student:\n  id: [1, 2\nmeeting: x\n")
    assert error.line is not None and error.line >= 2
    assert "not valid YAML" in str(error)


def test_unknown_role_names_line_and_field() -> None:
    text = TEXT.replace("role: note_taker", "role: secretary")
    error = _error(text)
    assert (error.line, error.field) == (_line_of("role: secretary", text), "team[7].role")
    assert str(error).startswith(f"m.yaml:{error.line}: team[7].role: unknown role 'secretary'")


def test_unknown_owner_names_line_and_field() -> None:
    text = TEXT.replace("owner: megan.torres@", "owner: meg.torres@")
    error = _error(text)
    assert error.line == _line_of("owner: meg.torres@", text)
    assert error.field == "concerns[2].actions[1].owner"
    assert "not on the student's team" in error.problem


@pytest.mark.parametrize("bad", ["2027-13-05", "March 5", "soon"])
def test_bad_date_names_line_and_field(bad: str) -> None:
    text = TEXT.replace("due: 2027-03-05", f"due: {bad}")
    error = _error(text)
    assert error.line == _line_of(f"due: {bad}", text)
    assert error.field == "concerns[2].actions[1].due"


def test_misspelled_field_is_not_silently_ignored() -> None:
    text = TEXT.replace(
        "check_in: every_two_weeks\n        minutes_per_week",
        "checkin: every_two_weeks\n        minutes_per_week",
    )
    error = _error(text)
    assert (error.line, error.field) == (
        _line_of("checkin:", text),
        "concerns[2].actions[1].checkin",
    )
    assert "unknown field" in error.problem


def test_field_given_twice_is_refused() -> None:
    text = TEXT.replace("  grade: 3\n", "  grade: 3\n  grade: 4\n")
    assert _error(text).problem == "this field appears twice"


def test_missing_section_and_field() -> None:
    assert _error("student: {id: x, name: y}\nmeeting: {date: 2026-01-01}\n").field == "team"
    text = TEXT.replace("        title: Work on pencil grip in occupational therapy\n", "")
    error = _error(text)
    assert (error.field, error.problem) == (
        "concerns[2].actions[1].title",
        "this field is required",
    )


def test_empty_and_missing_files(tmp_path: Path) -> None:
    assert _error("").problem == "the file is empty"
    with pytest.raises(MeetingFileError, match="no such file"):
        load_meeting_file(tmp_path / "nope.yaml")
