"""Rules for what a person types, each kept once in the domain: whole numbers and ids in range,
one-line fields without line breaks or bidi formatting, student ids the desk can link to."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from iep_followup.domain import (
    MAX_ROW_ID,
    ItemInfo,
    MemberInfo,
    Role,
    StrengthInfo,
    StudentInfo,
    parse_row_id,
    parse_whole_number,
)
from iep_followup.errors import MeetingFileError, ValidationError
from iep_followup.meetingfile import parse_meeting
from tests.unit.test_meetingfile import PLAIN


@pytest.mark.parametrize(
    ("text", "number"), [("1", 1), (" 42 ", 42), ("007", 7), (str(MAX_ROW_ID), MAX_ROW_ID)]
)
def test_a_row_id_in_range_is_read(text: str, number: int) -> None:
    assert parse_row_id(text, "item") == number


@pytest.mark.parametrize(
    "text",
    [
        "",
        "0",
        "-1",
        "+1",
        "1.0",
        "1e3",
        "١٢",  # Arabic-Indic digits: isdigit() says yes, a database id says no
        "²",
        str(MAX_ROW_ID + 1),
        "99999999999999999999999",
        "9" * 5000,  # past int()'s own limit: refused before it is converted
    ],
)
def test_anything_else_is_the_fields_error(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_row_id(text, "item_id")
    assert caught.value.field == "item_id"
    assert str(caught.value).startswith("item id must be a whole number from 1 to ")
    assert len(str(caught.value)) < 200


def test_a_whole_number_has_the_range_it_is_given() -> None:
    assert parse_whole_number("0", "minutes") == 0
    with pytest.raises(ValidationError, match="from 0 to 10, not '11'"):
        parse_whole_number("11", "minutes", most=10)


# Names and the other one-line fields: no line breaks or bidi formatting (U+202E reverses what
# follows it on every page and email), the field named; right-to-left marks stay.
@pytest.mark.parametrize(
    "char", ["\n", "\r\n", "\t", "\u2028", "\x85", "\u202e", "\u202a", "\u2066", "\u2069"]
)
@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda v: StudentInfo("S-1", v), "name"),
        (lambda v: StudentInfo("S-1", "Ana", school=v), "school"),
        (lambda v: StudentInfo("S-1", "Ana", grade=v), "grade"),
        (lambda v: MemberInfo(v, "ana@example.org", Role.PARENT), "name"),
        (lambda v: StudentInfo(v, "Ana"), "id"),
    ],
)
def test_a_one_line_field_refuses_line_breaks_and_bidi_formatting(
    make: Callable[[str], object], field: str, char: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        make(f"Ana{char}Ruiz")
    assert caught.value.field == field
    assert f"{field} contains" in str(caught.value) and "remove it" in str(caught.value)


@pytest.mark.parametrize("char", ["\u202d", "\u202e"])
def test_titles_and_texts_refuse_bidi_overrides_too(char: str) -> None:
    with pytest.raises(ValidationError, match="title contains a bidi override character"):
        ItemInfo("i", f"Check {char}the planner", "ana@example.org", date(2027, 1, 1))
    with pytest.raises(ValidationError, match="text contains a bidi override character"):
        StrengthInfo(f"Reads {char}well")


@pytest.mark.parametrize("char", ["\u202b", "\u2067"])
def test_a_text_may_quote_a_right_to_left_phrase_in_an_embedding_or_an_isolate(char: str) -> None:
    quoted = f"Reads {char}نص عربي\u202c well" if char == "\u202b" else f"Reads {char}نص\u2069 well"
    assert StrengthInfo(quoted).text == quoted


def test_a_trailing_line_break_is_trimmed_and_right_to_left_marks_stay() -> None:
    assert StudentInfo("S-1\n", "Ana Ruiz\n").name == "Ana Ruiz"
    name = "\u200fשלום\u200e Cohen"
    assert MemberInfo(name, "ana@example.org", Role.PARENT).name == name


@pytest.mark.parametrize("written", ["S/1", "../admin", "S..1", "..", ".", "S\\1", "a/b/.."])
def test_a_student_id_that_would_change_the_desks_links_is_refused(written: str) -> None:
    with pytest.raises(ValidationError, match="cannot hold '/'") as caught:
        StudentInfo(written, "Ana")
    assert caught.value.field == "id"


@pytest.mark.parametrize("written", ["S-2026-0417", "S.1", "A 12", "007", "Ñ-1"])
def test_ordinary_student_ids_are_kept(written: str) -> None:
    assert StudentInfo(written, "Ana").external_id == written


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("id: S-2026-0417 ", "id: S/2026/0417 ", "student.id"),
        ("id: S-2026-0417 ", "id: ../0417 ", "student.id"),
        ("  name: Lucía Herrera\n", '  name: "Lucía\\nHerrera"\n', "student.name"),
        ("  name: Lucía Herrera\n", "  name: Lucía \u202eHerrera\n", "student.name"),
        (
            "  school: Lincoln Elementary\n",
            '  school: "Lincoln\\u2029Elementary"\n',
            "student.school",
        ),
        ("  - name: Rosa Herrera\n", '  - name: "Rosa\\rHerrera"\n', "team[8].name"),
        ("  - name: Rosa Herrera\n", "  - name: Rosa \u2066Herrera\n", "team[8].name"),
    ],
)
def test_a_meeting_file_names_the_field_and_its_line(old: str, new: str, field: str) -> None:
    text = PLAIN.read_text(encoding="utf-8")
    assert old in text
    with pytest.raises(MeetingFileError) as caught:
        parse_meeting(text.replace(old, new, 1), "m.yaml")
    assert caught.value.field == field
    assert caught.value.line == next(
        n for n, line in enumerate(text.splitlines(), 1) if old.strip("\n") in line
    )
