"""A routine in the emails: the request asks whether it happened (and the minutes), the
confirmation says what was recorded for the period, in English and Spanish."""

from __future__ import annotations

import html as htmllib
import re
from datetime import UTC, date, datetime

import pytest

from iep_followup.domain import Cadence, ItemKind, ItemStatus, PeriodOutcome
from iep_followup.mail.contexts import confirmation_texts, request_context
from iep_followup.mail.kinds import MailKind
from iep_followup.mail.render import RenderedEmail, Renderer
from iep_followup.translations import Phrasebook
from iep_followup.views import Contact, ItemDetail, LastUpdate, Recipient

ROSA = Recipient(8, "Rosa Herrera", "rosa@home.example.com", "es", "America/Chicago", True)
KAREN = Recipient(3, "Karen Liu", "karen@school.example.org", "en", "America/Chicago", False)
READING = ItemDetail(
    1,
    10,
    "Lucía Herrera",
    "Read one-on-one in the resource room",
    "Reads below grade level.",
    date(2027, 6, 4),
    ItemStatus.OPEN,
    0,
    LastUpdate(datetime(2026, 11, 18, 15, tzinfo=UTC), None, None, None, PeriodOutcome.PARTLY, 20),
    kind=ItemKind.ROUTINE,
    cadence=Cadence.WEEKLY,
    minutes_per_week=45,
)


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


def _plain(out: RenderedEmail) -> tuple[str, str]:
    """Both parts as text: the HTML without its tags."""
    return out.text, htmllib.unescape(re.sub(r"<[^>]+>", "", out.html))


def _request(recipient: Recipient) -> dict[str, object]:
    return request_context(
        recipient,
        [("A1", 1)],
        {1: READING},
        {10: ["Lucía is kind."]},
        {10: Contact("Dana Whitfield", "dana@school.example.org")},
        today=date(2026, 11, 23),
        rotation=0,
        reminder=False,
    )


@pytest.mark.parametrize(
    ("recipient", "expected"),
    [
        (
            KAREN,
            (
                "Every week until",
                "Did it happen this week? Answer yes, partly, or no (and why).",
                "the plan says 45 a week), like: A1 yes 45 min",
                "it happened in part, 20 minutes",
            ),
        ),
        (
            ROSA,
            (
                "Cada semana hasta el",
                "¿Se hizo esta semana? Conteste sí, en parte, o no (y por qué).",
                "el plan dice 45 por semana), así: A1 sí 45 min",
                "se hizo en parte, 20 minutos",
            ),
        ),
    ],
)
def test_a_routines_request_asks_whether_it_happened_and_the_minutes(
    renderer: Renderer, recipient: Recipient, expected: tuple[str, ...]
) -> None:
    out = renderer.render(MailKind.REQUEST, recipient.language, _request(recipient))
    for part in _plain(out):
        for words in expected:
            assert words in part
        assert "Due:" not in part and "Vence" not in part


HOMEWORK = ItemDetail(
    2,
    10,
    "Lucía Herrera",
    "Bring the homework folder to the meeting",
    "Homework is often not finished.",
    date(2027, 1, 29),
    ItemStatus.OPEN,
    0,
    None,
)


@pytest.mark.parametrize(
    ("recipient", "routine_example", "task_examples"),
    [
        (KAREN, "A1 yes", ("done", "50%", "blocked: we need the workbook", "new date")),
        (ROSA, "A1 sí", ("listo", "50%", "bloqueado: necesitamos el cuaderno", "nueva fecha")),
    ],
)
def test_how_to_answer_shows_examples_for_the_kinds_of_item_the_reader_has(
    renderer: Renderer, recipient: Recipient, routine_example: str, task_examples: tuple[str, ...]
) -> None:
    routine_only = renderer.render(MailKind.REQUEST, recipient.language, _request(recipient))
    for part in _plain(routine_only):
        assert routine_example in part
        # A routine is answered yes, partly or no: no task's "50%" or "new date" to puzzle over.
        assert not any(example in part for example in task_examples)
    both = request_context(
        recipient,
        [("A1", 1), ("A2", 2)],
        {1: READING, 2: HOMEWORK},
        {10: ["Lucía is kind."]},
        {},
        today=date(2026, 11, 23),
        rotation=0,
        reminder=False,
    )
    for part in _plain(renderer.render(MailKind.REQUEST, recipient.language, both)):
        assert routine_example in part
        assert all(example in part for example in task_examples)


def _confirmation(period: str | None, minutes: int | None, note: str | None) -> dict[str, object]:
    change = {
        "ref": "A1",
        "title": "Read one-on-one in the resource room",
        "student": "Lucía Herrera",
        "status": None,
        "percent": None,
        "due_on": None,
        "note": note,
        "understood": False,
        "period": period,
        "minutes": minutes,
        "cadence": "weekly",
    }
    return {
        "recipient": {"name": "Karen Liu"},
        "students": ["Lucía Herrera"],
        **confirmation_texts([change], Phrasebook(), "en"),
        "notes": [],
        "not_understood": [],
        "unknown_refs": [],
        "problems": [],
        "example": "A1 60%",
        "questions": [],
    }


@pytest.mark.parametrize(
    ("period", "minutes", "note", "english", "spanish"),
    [
        (
            "happened",
            None,
            None,
            "Recorded for this week: it happened",
            "Anotado para esta semana: sí se hizo",
        ),
        (
            "partly",
            20,
            None,
            "Recorded for this week: it happened in part, 20 minutes",
            "Anotado para esta semana: se hizo en parte, 20 minutos",
        ),
        (
            "missed",
            None,
            "he was sick",
            'Recorded for this week: it did not happen: "he was sick"',
            'Anotado para esta semana: no se hizo: "he was sick"',
        ),
        (None, 1, None, "Recorded for this week: 1 minute", "Anotado para esta semana: 1 minuto"),
    ],
)
def test_the_confirmation_says_what_was_recorded_for_the_period(
    renderer: Renderer,
    period: str | None,
    minutes: int | None,
    note: str | None,
    english: str,
    spanish: str,
) -> None:
    context = _confirmation(period, minutes, note)
    for language, words in (("en", english), ("es", spanish)):
        out = renderer.render(MailKind.CONFIRMATION, language, context)
        for part in _plain(out):
            assert words in part
