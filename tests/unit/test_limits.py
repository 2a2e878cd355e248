"""The domain's one set of limits: what it accepts is exactly what both databases store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlmodel import SQLModel

import iep_followup.store.models  # noqa: F401  (registers the tables)
from iep_followup import domain
from iep_followup.domain import (
    ConcernInfo,
    ItemInfo,
    MemberInfo,
    Role,
    StrengthInfo,
    StudentInfo,
    UpdateInput,
    check_timezone,
)
from iep_followup.errors import ValidationError
from iep_followup.store.types import TextEnum
from tests.conftest import make_record

EMAIL = "a@example.org"
DUE = date(2027, 1, 1)


def _email(length: int) -> str:
    # Labels of at most 63 characters; the whole address exactly `length` long.
    domain_part = ".".join(["d" * 60] * 4)
    return "a" * (length - len(domain_part) - 1) + "@" + domain_part


# field, its limit, and a maker that puts a value of that length in the field
LIMITED: list[tuple[str, int, Callable[[str], object]]] = [
    ("id", domain.MAX_EXTERNAL_ID, lambda v: StudentInfo(v, "Ana")),
    ("name", domain.MAX_NAME, lambda v: StudentInfo("S-1", v)),
    ("school", domain.MAX_SCHOOL, lambda v: StudentInfo("S-1", "Ana", school=v)),
    ("grade", domain.MAX_GRADE, lambda v: StudentInfo("S-1", "Ana", grade=v)),
    ("name", domain.MAX_NAME, lambda v: MemberInfo(v, EMAIL, Role.PARENT)),
    ("text", domain.MAX_TEXT, StrengthInfo),
    ("text", domain.MAX_TEXT, lambda v: ConcernInfo("c", v)),
    ("id", domain.MAX_KEY, lambda v: ConcernInfo(v, "text")),
    ("id", domain.MAX_KEY, lambda v: ItemInfo(v, "title", EMAIL, DUE)),
    ("title", domain.MAX_TITLE, lambda v: ItemInfo("i", v, EMAIL, DUE)),
    ("note", domain.MAX_NOTE, lambda v: UpdateInput(note=v)),
    ("notes", domain.MAX_MEETING_NOTES, lambda v: make_record(notes=v)),
]


@pytest.mark.parametrize(("field", "limit", "make"), LIMITED)
def test_text_at_the_limit_is_kept_and_one_more_character_is_refused(
    field: str, limit: int, make: Callable[[str], object]
) -> None:
    make("é" * limit)
    with pytest.raises(ValidationError, match=f"longer than {limit} characters") as info:
        make("é" * (limit + 1))
    assert info.value.field == field


def test_email_and_time_zone_limits() -> None:
    assert len(MemberInfo("A", _email(254), Role.PARENT).email) == 254
    with pytest.raises(ValidationError, match="longer than 320") as info:
        MemberInfo("A", _email(321), Role.PARENT)
    assert info.value.field == "email"
    with pytest.raises(ValidationError, match="unknown time zone") as tz:
        check_timezone("America/" + "x" * 57)
    assert tz.value.field == "timezone"


@pytest.mark.parametrize(
    "name",
    [
        "x" * 100_000,  # used to be `unexpected OSError: File name too long`
        "America/Chicago/" + "x" * 300,
        "America/Chicago\x00",
        "../../etc/passwd",
        "",
    ],
)
def test_a_time_zone_that_is_no_file_name_is_an_unknown_time_zone(name: str) -> None:
    with pytest.raises(ValidationError, match="unknown time zone") as info:
        MemberInfo("A", EMAIL, Role.PARENT, timezone=name)
    assert len(str(info.value)) < 200 and "\n" not in str(info.value)


@pytest.mark.parametrize(
    "make",
    [
        lambda v: StudentInfo(v, "Ana"),
        lambda v: ItemInfo(v, "t", EMAIL, DUE),
        lambda v: MemberInfo("A", v, Role.PARENT),
        lambda v: MemberInfo("A", EMAIL, v),
        lambda v: MemberInfo("A", EMAIL, Role.PARENT, language=v),
        lambda v: ItemInfo("i", "t", EMAIL, DUE, service_minutes_per_week=v),
    ],
)
def test_errors_quote_a_long_value_cut_short(make: Callable[[str], Any]) -> None:
    with pytest.raises(ValidationError) as info:
        make("x" * 100_000)
    assert len(str(info.value)) < 400 and "100000" in str(info.value)


@pytest.mark.parametrize(
    ("make", "char"),
    [
        (lambda v: StudentInfo("S-1", v), "\x00"),  # PostgreSQL refuses NUL; SQLite kept it
        (lambda v: StudentInfo("S-1", v), "\x1b"),  # a terminal escape in `status` output
        (lambda v: MemberInfo(v, EMAIL, Role.PARENT), "\ud800"),  # no UTF-8 form at all
        (lambda v: ItemInfo("i", v, EMAIL, DUE), "\x85\x9b"),
        (lambda v: UpdateInput(note=v), "\x00"),
        (lambda v: make_record(notes=v), "\x07"),
    ],
)
def test_control_characters_and_lone_surrogates_are_refused(
    make: Callable[[str], object], char: str
) -> None:
    with pytest.raises(ValidationError, match=r"control character \(U\+"):
        make(f"Ana{char}Ruiz")


def test_notes_keep_their_lines_and_one_line_texts_their_visible_characters() -> None:
    note = UpdateInput(note="Line one\n\tLine two\r\nThird ’ \x92").note
    assert note == "Line one\n\tLine two\r\nThird ’ \x92"
    name = MemberInfo("Ana \u200d\U0001f469\u200d\U0001f467 \u200fשלום\u200e", EMAIL, Role.PARENT)
    assert name.name == "Ana \u200d\U0001f469\u200d\U0001f467 \u200fשלום\u200e"


@pytest.mark.parametrize("invisible", ["\u200b", "\u200d", "\u2060", "\ufeff", "\u202e", "\u00ad"])
def test_a_student_id_with_an_invisible_character_is_refused(invisible: str) -> None:
    # It would look like S-1042 and still be another student.
    with pytest.raises(ValidationError, match="invisible character") as info:
        StudentInfo(f"S-10{invisible}42", "Ana")
    assert info.value.field == "id"


def test_the_meeting_tables_take_their_sizes_from_the_domain_limits() -> None:
    """Every bounded column the meeting data reaches has its check in the domain."""
    checked = {
        ("student", "external_id"): domain.MAX_EXTERNAL_ID,
        ("student", "name"): domain.MAX_NAME,
        ("student", "school"): domain.MAX_SCHOOL,
        ("student", "grade"): domain.MAX_GRADE,
        ("person", "name"): domain.MAX_NAME,
        ("person", "email"): domain.MAX_EMAIL,
        ("person", "language"): domain.MAX_LANGUAGE,
        ("person", "timezone"): domain.MAX_TIMEZONE,
        ("meeting", "language"): domain.MAX_LANGUAGE,
        ("person_address", "email"): domain.MAX_EMAIL,
        ("concern", "key"): domain.MAX_KEY,
        ("action_item", "key"): domain.MAX_KEY,
        ("action_item", "title"): domain.MAX_TITLE,
        ("action_item", "accommodation"): domain.MAX_KEY,
    }
    bounded = {
        (table.name, column.name): getattr(column.type, "length", None)
        for table in SQLModel.metadata.tables.values()
        if table.name
        in {"student", "person", "person_address", "membership", "meeting", "strength"}
        | {"concern", "action_item", "item_update"}
        for column in table.columns
        # Enums are stored as their text; the code fixes their values.
        if not isinstance(column.type, TextEnum) and getattr(column.type, "length", None)
    }
    assert bounded == checked
    assert max(len(language) for language in domain.SUPPORTED_LANGUAGES) <= domain.MAX_LANGUAGE
