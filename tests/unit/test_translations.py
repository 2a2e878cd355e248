"""Meeting texts in several languages: the file's form, the domain's rules, what a reader sees."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from iep_followup.domain import ItemInfo, MemberInfo, Relationship, Role, StrengthInfo
from iep_followup.errors import MeetingFileError, ValidationError
from iep_followup.meetingfile import parse_meeting
from iep_followup.translations import MeetingText, Phrasebook, Shown, translation_gaps
from tests.conftest import make_record

MEETING = """
student: {id: S-1, name: Lucía Herrera}
meeting: {date: 2026-11-16, notes: {en: Mother asked for Spanish copies., es: La madre pidió copias en español.}}
team:
  - {name: Dana Whitfield, email: dana@school.example.org, role: case_manager}
  - {name: Rosa Herrera, email: rosa@home.example.com, role: parent, language: es, relationship: mother}
strengths:
  - text: {en: Lucía is polite., es: Lucía es amable.}
    said_by: dana@school.example.org
  - She helps her classmates.
concerns:
  - id: homework
    text: Lucía does not turn in her homework.
    actions:
      - id: homework-check
        title:
          en: Check Lucía's homework each night
          es: Revisar la tarea de Lucía cada noche
        owner: rosa@home.example.com
        due: 2027-01-29
"""


def test_a_text_may_carry_a_version_per_language_beside_plain_strings() -> None:
    record = parse_meeting(MEETING)
    assert record.language == "en"
    [polite, helps] = record.strengths
    assert polite.text == "Lucía is polite."
    assert polite.translations == {"es": "Lucía es amable."}
    assert helps.translations == {}
    [item] = record.items
    assert item.title == "Check Lucía's homework each night"
    assert item.translations == {"es": "Revisar la tarea de Lucía cada noche"}
    assert record.notes_translations == {"es": "La madre pidió copias en español."}
    assert record.members[1].relationship is Relationship.MOTHER


def test_a_meeting_written_in_spanish_has_english_versions() -> None:
    text = MEETING.replace(
        "meeting: {date: 2026-11-16,", "meeting: {date: 2026-11-16, language: es,"
    )
    text = text.replace("  - She helps her classmates.\n", "")
    text = text.replace(
        "text: Lucía does not turn in her homework.", "text: {es: No entrega la tarea.}"
    )
    record = parse_meeting(text)
    assert record.language == "es"
    assert record.strengths[0].text == "Lucía es amable."
    assert record.strengths[0].translations == {"en": "Lucía is polite."}
    assert record.items[0].title == "Revisar la tarea de Lucía cada noche"


@pytest.mark.parametrize(
    ("old", "new", "where", "problem"),
    [
        ("en: Lucía is polite., es:", "es:", "strengths[1].text", "needs its 'en' version"),
        ("es: Lucía es amable.", "fr: Lucía est polie.", "strengths[1].text.fr", "unknown field"),
        ("          es: Revisar", "          es: ''\n          xx: Revisar", "title.xx", "unknown"),
        (
            "relationship: mother",
            "relationship: cousin",
            "team[2].relationship",
            "unknown relationship",
        ),
    ],
)
def test_a_wrong_version_names_the_line_and_the_field(
    old: str, new: str, where: str, problem: str
) -> None:
    with pytest.raises(MeetingFileError) as info:
        parse_meeting(MEETING.replace(old, new, 1), "m.yaml")
    assert where in str(info.value)
    assert problem in str(info.value)


def test_a_version_in_the_meetings_own_language_is_refused_through_the_library() -> None:
    with pytest.raises(ValidationError, match="give versions only for other languages"):
        make_record(strengths=(StrengthInfo("Lucía is polite.", translations={"en": "Polite."}),))
    with pytest.raises(ValidationError, match=r"title\.es"):
        ItemInfo("x", "t", "a@example.com", date(2027, 1, 1), translations={"es": "x" * 301})


def test_relationship_is_optional_and_read_forgivingly() -> None:
    assert MemberInfo("Ana", "a@example.com", Role.GUARDIAN).relationship is None
    grandmother = MemberInfo("Ana", "a@example.com", Role.GUARDIAN, relationship="Grandmother")  # type: ignore[arg-type]
    assert grandmother.relationship is Relationship.GRANDMOTHER


def test_a_reader_gets_their_version_or_the_text_as_written_marked() -> None:
    text = MeetingText("Check homework", "en", {"es": "Revisar la tarea"})
    assert text.for_reader("es") == Shown("Revisar la tarea")
    assert text.for_reader("en") == Shown("Check homework")
    untranslated = MeetingText("Pencil grip", "en")
    assert untranslated.for_reader("es") == Shown("Pencil grip", written_in="en")
    assert untranslated.for_reader("es").is_missing
    # Texts recorded before translations existed are taken as written in English.
    assert Phrasebook().shown("Old text", "es") == Shown("Old text", written_in="en")
    book = Phrasebook({"Check homework": text})
    assert book.shown("Check homework", "es").text == "Revisar la tarea"


def test_each_reader_language_gets_one_gap_listing_its_missing_texts() -> None:
    [gap] = translation_gaps(parse_meeting(MEETING))
    assert gap.language == "es"
    assert gap.readers == ("Rosa Herrera",)
    assert gap.texts == ("She helps her classmates.", "Lucía does not turn in her homework.")
    assert gap.message.startswith(
        'Rosa Herrera reads Spanish: 2 texts have no Spanish version: "She helps'
    )
    english_only = make_record(
        members=tuple(
            m if m.language == "en" else replace(m, language="en") for m in make_record().members
        )
    )
    assert translation_gaps(english_only) == []
