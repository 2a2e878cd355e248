from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from iep_followup.domain import Cadence, ItemKind, Role
from iep_followup.errors import MeetingFileError
from iep_followup.meetingfile import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_VALUES,
    load_meeting_file,
    parse_meeting,
)
from tests.conftest import EXAMPLE

# The example as it was before texts had versions per language: every text a plain string,
# which stays valid; the edits below find their fields by those strings.
PLAIN = EXAMPLE.parent.parent / "tests" / "fixtures" / "meetings" / "plain-strings.yaml"
TEXT = PLAIN.read_text(encoding="utf-8")


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


# YAML 1.1 reads each of these as something else: octal, hex, sexagesimal (1:30 is 90),
# booleans, floats, infinity, a date, a binary number.
AMBIGUOUS = ["0012345", "0x1F", "1:30", "no", "yes", "on", "off", "1e3", ".inf", "0b101"]


def _with(old: str, new: str) -> str:
    assert TEXT.count(old) == 1, old
    return TEXT.replace(old, new)


@pytest.mark.parametrize("written", [*AMBIGUOUS, "2026-01-01", "+12", "1_000", "007"])
def test_a_student_id_is_read_as_the_characters_written(written: str) -> None:
    record = parse_meeting(_with("id: S-2026-0417 ", f"id: {written} "))
    assert record.student.external_id == written


@pytest.mark.parametrize("written", [*AMBIGUOUS, "2026-01-01", "null value", "True"])
def test_free_text_is_read_as_the_characters_written(written: str) -> None:
    record = parse_meeting(
        _with("  name: Lucía Herrera\n", f"  name: {written}\n")
        .replace("  grade: 3\n", f"  grade: {written}\n")
        .replace("title: Work on pencil grip in occupational therapy", f"title: {written}")
        .replace("text: Her handwriting is hard to read.", f"text: {written}")
        .replace(
            "  - text: She turns in her classwork every day.\n"
            "    said_by: tom.okafor@lincoln.example.org\n",
            f"  - {written}\n",
        )
    )
    grip = next(i for i in record.items if i.key == "pencil-grip")
    concern = next(c for c in record.concerns if c.key == "handwriting")
    assert (record.student.name, record.student.grade, grip.title, concern.text) == (written,) * 4
    assert record.strengths[1].text == written


@pytest.mark.parametrize("written", ["0012345", "0x1f", "no", "on", "1e3", ".inf", "2026-01-01"])
def test_concern_and_action_ids_are_read_as_written(written: str) -> None:
    record = parse_meeting(
        _with("id: pencil-grip", f"id: {written}").replace("id: handwriting", f"id: x{written}")
    )
    assert written in {i.key for i in record.items}
    assert f"x{written}" in {c.key for c in record.concerns}


def test_grade_07_stays_07_and_minutes_030_are_thirty() -> None:
    record = parse_meeting(
        _with("  grade: 3\n", "  grade: 07\n").replace(
            "minutes_per_week: 30", "minutes_per_week: 030"
        )
    )
    assert record.student.grade == "07"
    assert next(i for i in record.items if i.key == "pencil-grip").service_minutes_per_week == 30


@pytest.mark.parametrize(
    ("old", "new", "field", "problem"),
    [
        # `no` is Norwegian, not "false, so English".
        ("language: es ", "language: no ", "team[8].language", "language 'no' is not supported"),
        ("language: es ", "language: off ", "team[8].language", "language 'off' is not"),
        ("role: parent", "role: yes", "team[8].role", "unknown role 'yes'"),
        ("check_in: weekly\n        minutes", "check_in: no\n        minutes", "", "cadence 'no'"),
        ("minutes_per_week: 30", "minutes_per_week: 0x1E", "minutes_per_week", "'0x1E' is not a"),
        ("minutes_per_week: 30", "minutes_per_week: 1e3", "minutes_per_week", "'1e3' is not a"),
        ("minutes_per_week: 30", "minutes_per_week: .inf", "minutes_per_week", "'.inf' is not a"),
        ("minutes_per_week: 30", "minutes_per_week: 1:30", "minutes_per_week", "'1:30' is not a"),
        ("due: 2027-03-05", "due: 2027-03-05 10:00", "due", "is not a date"),
        ("due: 2027-03-05", "due: 20270305", "due", "is not a date"),
        ("date: 2026-11-16", "date: 1:30", "meeting.date", "'1:30' is not a date"),
        ("email: rosa.herrera@example.com", "email: no", "team[8].email", "'no' is not a valid"),
    ],
)
def test_a_value_yaml_would_have_changed_is_refused_where_it_cannot_be_read(
    old: str, new: str, field: str, problem: str
) -> None:
    error = _error(_with(old, new))
    assert error.field is not None and error.field.endswith(field)
    assert problem in error.problem
    # The whole value: `check_in: no` must not find another item's `check_in: none`.
    value = new.splitlines()[0].strip()
    lines = enumerate(_with(old, new).splitlines(), 1)
    assert error.line == next(
        n for n, line in lines if line.strip() == value or line.strip().startswith(value + " ")
    )


@pytest.mark.parametrize("empty", ["~", "null", "Null", "NULL", ""])
@pytest.mark.parametrize(
    ("old", "field"),
    [
        ("id: S-2026-0417 ", "student.id"),
        ("name: Lucía Herrera", "student.name"),
        ("email: rosa.herrera@example.com", "team[8].email"),
        ("title: Work on pencil grip in occupational therapy", "concerns[2].actions[1].title"),
        ("date: 2026-11-16", "meeting.date"),
    ],
)
def test_no_value_where_a_text_is_required_is_a_clear_error(
    old: str, field: str, empty: str
) -> None:
    name = old.split(":", maxsplit=1)[0]
    error = _error(_with(old, f"{name}: {empty}"))
    assert (error.field, error.problem) == (
        field,
        "this field has no value (~, null and nothing all mean none)",
    )


def test_a_strength_with_no_value_is_refused_not_stored_as_none() -> None:
    text = _with(
        "  - text: She turns in her classwork every day.\n"
        "    said_by: tom.okafor@lincoln.example.org\n",
        "  - ~\n",
    )
    error = _error(text)
    assert (error.field, error.problem) == ("strengths[2].text", "text must not be empty")


def test_quoted_values_and_a_quoted_date_are_read_as_written() -> None:
    record = parse_meeting(
        _with("id: S-2026-0417 ", "id: '0012345' ").replace("due: 2027-03-05", 'due: "2027-03-05"')
    )
    assert record.student.external_id == "0012345"
    assert date(2027, 3, 5) in {i.due_on for i in record.items}


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text(TEXT + "#" * MAX_FILE_BYTES, encoding="utf-8")
    with pytest.raises(MeetingFileError) as info:
        load_meeting_file(big)
    assert str(info.value).startswith(f"{big}: the file is larger than 1 MB, the limit")
    assert _error(TEXT + "#" * MAX_FILE_BYTES).problem == info.value.problem


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("[" * 50_000, 1),  # used to be `unexpected RecursionError`
        ("student: " + "{a: " * 30 + "b" + "}" * 30, 1),
        ("a:\n" + "".join(" " * depth + "b:\n" for depth in range(1, 40)), 20),
    ],
)
def test_deep_nesting_is_refused_at_its_line(text: str, line: int) -> None:
    error = _error(text)
    assert (error.line, error.problem) == (
        line,
        f"nested more than {MAX_DEPTH} levels deep; is it a meeting file?",
    )


def test_a_file_of_too_many_values_is_refused() -> None:
    error = _error("team: [" + "a, " * (MAX_VALUES + 10) + "]\n")
    assert error.problem == "more than 20,000 values; is it a meeting file?"


def test_a_time_zone_longer_than_a_file_name_is_an_unknown_time_zone() -> None:
    text = TEXT.replace("    language: es ", f"    timezone: {'x' * 100_000}\n    language: es ")
    error = _error(text)
    assert error.field == "team[8].timezone"
    assert error.problem.startswith("unknown time zone 'xxx")
    assert len(str(error)) < 200


@pytest.mark.parametrize(
    ("data", "problem", "line"),
    [
        (
            TEXT.replace("Lucía Herrera", "Lucía\x00").encode(),
            "special characters",
            _line_of("Lucía Herrera"),
        ),
        (TEXT.encode("latin-1"), "is not UTF-8 text; save it as UTF-8", 1),  # "Lucía" on line 1
        (b"\xef\xbb\xbf" + TEXT.encode(), None, None),  # a byte-order mark is fine
    ],
)
def test_unreadable_characters_are_one_line_at_their_line(
    tmp_path: Path, data: bytes, problem: str | None, line: int | None
) -> None:
    path = tmp_path / "m.yaml"
    path.write_bytes(data)
    if problem is None:
        assert load_meeting_file(path).student.name == "Lucía Herrera"
        return
    with pytest.raises(MeetingFileError) as info:
        load_meeting_file(path)
    assert problem in info.value.problem and info.value.line == line
    assert "\n" not in str(info.value)


def test_a_folder_is_not_a_meeting_file(tmp_path: Path) -> None:
    with pytest.raises(MeetingFileError) as info:
        load_meeting_file(tmp_path)
    assert str(info.value) == f"{tmp_path}: is a folder, not a file"


def test_an_action_is_a_task_unless_the_file_says_routine() -> None:
    record = parse_meeting(
        _with("      - id: homework-check\n", "      - id: homework-check\n        kind: Routine\n")
    )
    kinds = {item.key: item.kind for item in record.items}
    assert kinds["homework-check"] is ItemKind.ROUTINE
    assert {kinds[k] for k in kinds if k != "homework-check"} == {ItemKind.TASK}


def test_an_unknown_kind_names_line_and_field() -> None:
    text = _with(
        "      - id: homework-check\n", "      - id: homework-check\n        kind: habit\n"
    )
    error = _error(text)
    assert (error.line, error.field) == (
        _line_of("kind: habit", text),
        "concerns[1].actions[1].kind",
    )
    assert "use one of: task, routine" in error.problem
