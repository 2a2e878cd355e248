"""The desk's meeting form: posted fields to the data meetingfile checks, errors back to fields."""

from __future__ import annotations

from datetime import date

import pytest

from iep_followup.domain import Role
from iep_followup.errors import MeetingFileError
from iep_followup.meetingfile import parse_meeting
from iep_followup.meetingform import (
    MAX_ROWS,
    counts,
    field_for,
    from_record,
    readers_languages,
    to_data,
    with_row_added,
)
from tests.conftest import EXAMPLE

SMALL = {
    "student-id": "S-77",
    "student-name": "Ana Ruiz",
    "meeting-date": "2026-11-16",
    "meeting-kind": "annual_review",
    "meeting-language": "en",
    "members": "3",
    "member-0-name": "Dana Whitfield",
    "member-0-email": "dana@school.example.org",
    "member-0-role": "case_manager",
    "member-0-language": "en",
    # Row 1 left blank (its selects still say something): skipped.
    "member-1-role": "",
    "member-1-language": "en",
    "member-2-name": "Rosa Ruiz",
    "member-2-email": "rosa@home.example.com",
    "member-2-role": "parent",
    "member-2-relationship": "mother",
    "member-2-language": "es",
    "strength-0-text": "Ana reads every day.",
    "strength-0-text-es": "Ana lee todos los días.",
    "strength-0-said_by": "rosa@home.example.com",
    "concern-0-text": "Homework is not turned in.",
    "concern-0-text-es": "No entrega la tarea.",
    "concern-0-item-0-title": "Check the planner each night",
    "concern-0-item-0-title-es": "Revisar la agenda cada noche",
    "concern-0-item-0-owner": "rosa@home.example.com",
    "concern-0-item-0-due": "2027-01-29",
    "concern-0-item-0-check_in": "weekly",
    "concern-0-item-0-kind": "task",
    "concern-0-item-1-check_in": "weekly",  # blank item row: only its selects
    "concern-0-item-1-kind": "task",
}


def _error(fields: dict[str, str]) -> tuple[str | None, str | None]:
    converted = to_data(fields)
    with pytest.raises(MeetingFileError) as caught:
        parse_meeting(converted.yaml_text(), "form")
    return caught.value.field, field_for(caught.value.field, converted)


def test_the_example_meeting_goes_to_the_form_and_back_unchanged() -> None:
    record = parse_meeting(EXAMPLE.read_text(encoding="utf-8"))
    fields = from_record(record)
    assert fields["member-7-language"] == "es"
    assert fields["strength-0-text-es"].startswith("Lucía es amable")
    assert parse_meeting(to_data(fields).yaml_text()) == record


def test_a_small_form_is_a_meeting_with_its_spanish_versions_and_blank_rows_skipped() -> None:
    record = parse_meeting(to_data(SMALL).yaml_text(), "form")
    assert [m.name for m in record.members] == ["Dana Whitfield", "Rosa Ruiz"]
    assert record.members[1].role is Role.PARENT and record.members[1].language == "es"
    assert record.strengths[0].translations == {"es": "Ana lee todos los días."}
    [concern] = record.concerns
    # Ids left blank are made up, in order: a later edit of the form keeps them.
    assert concern.key == "concern-1"
    [item] = concern.items
    assert (item.key, item.due_on, item.translations["es"]) == (
        "concern-1-1",
        date(2027, 1, 29),
        "Revisar la agenda cada noche",
    )


@pytest.mark.parametrize(
    ("change", "path", "field"),
    [
        # A blank member row before it: the error still names the form's row.
        ({"member-2-email": "rosa"}, "team[2].email", "member-2-email"),
        ({"member-2-role": "wizard"}, "team[2].role", "member-2-role"),
        ({"concern-0-item-0-due": "2027-13-01"}, "concerns[1].actions[1].due", None),
        ({"concern-0-item-0-owner": "x@y.org"}, None, "concern-0-item-0-owner"),
        ({"concern-0-text": ""}, "concerns[1].text", "concern-0-text"),
        ({"strength-0-text": ""}, "strengths[1].text", "strength-0-text"),
        ({"meeting-date": ""}, "meeting.date", "meeting-date"),
        ({"student-id": ""}, "student.id", "student-id"),
    ],
)
def test_an_error_names_the_form_field_it_is_about(
    change: dict[str, str], path: str | None, field: str | None
) -> None:
    found_path, found_field = _error({**SMALL, **change})
    if path is not None:
        assert found_path == path
    assert found_field == (field or next(iter(change)))


def test_an_error_in_a_translation_names_its_own_box() -> None:
    fields = {**SMALL, "meeting-language": "es", "strength-0-text-en": "Ana reads."}
    fields["strength-0-text-es"] = ""
    fields["strength-0-text"] = ""
    # Written in Spanish, with only an English version: the Spanish text is what is missing.
    assert _error(fields)[1] == "strength-0-text"
    assert field_for("strengths[1].text.en", to_data(fields)) == "strength-0-text-en"
    assert field_for("strengths[1].text.es", to_data(fields)) == "strength-0-text"
    assert field_for("strengths[9].text", to_data(fields)) is None  # no such row
    assert field_for(None, to_data(fields)) is None


def test_add_another_adds_one_row_where_asked_and_keeps_every_value() -> None:
    fields = {**SMALL, "members": "3"}
    assert with_row_added(fields, "add-member")["members"] == "4"
    assert with_row_added(fields, "add-item-0")["concern-0-items"] == "3"
    assert with_row_added(fields, "add-concern")["concerns"] == "2"
    assert with_row_added(fields, "add-strength")["strengths"] == "3"
    added = with_row_added(fields, "add-member")
    assert {k: v for k, v in added.items() if k in SMALL and k != "members"} == {
        k: v for k, v in SMALL.items() if k != "members"
    }
    assert with_row_added(fields, "add-nothing")["members"] == "3"
    assert "concern-7-items" not in with_row_added(fields, "add-item-7")


def test_row_counts_are_bounded_and_never_below_the_few_a_form_offers() -> None:
    assert counts({})["members"] == 3
    assert counts({"members": "1"})["members"] == 3
    assert counts({"members": "99999999"})["members"] == MAX_ROWS
    assert counts({"members": "-4"})["members"] == 3
    assert counts({"concerns": "2"})["concern-1-items"] == 2


def test_version_boxes_are_for_the_languages_the_team_reads() -> None:
    assert readers_languages(SMALL) == ["es"]
    english_only = {k: v for k, v in SMALL.items() if not k.endswith("-es")}
    english_only["member-2-language"] = "en"
    assert readers_languages(english_only) == []
    # A version already written keeps its box, even when no one reads it any longer.
    assert readers_languages({**SMALL, "member-2-language": "en"}) == ["es"]
