"""Rendering every email kind: both parts, both languages, reading level, escaping, catalogs."""

from __future__ import annotations

import dataclasses
import email
import re
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.policy import default

import pytest
import textstat
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.pofile import read_po

from iep_followup.domain import Cadence, ItemKind, ItemStatus, Role
from iep_followup.mail.contexts import confirmation_texts, request_context, summary_context
from iep_followup.mail.kinds import MailKind
from iep_followup.mail.message import build_message, mailbox
from iep_followup.mail.render import RenderedEmail, Renderer
from iep_followup.markers import REPLY_MARKERS
from iep_followup.resources import templates_dir
from iep_followup.translations import Phrasebook
from iep_followup.views import Contact, ItemDetail, LastUpdate, Recipient

ROSA = Recipient(8, "Rosa Herrera", "rosa@home.example.com", "es", "America/Chicago", True)
ROSA_EN = Recipient(8, "Rosa Herrera", "rosa@home.example.com", "en", "America/Chicago", True)
KAREN = Recipient(3, "Karen Liu", "karen@school.example.org", "en", "America/Chicago", False)
TODAY = date(2026, 11, 23)
DETAILS = {
    1: ItemDetail(
        1,
        10,
        "Lucía Herrera",
        "Check Lucía's homework each night and sign her planner",
        "Does not turn in homework.",
        date(2027, 1, 29),
        ItemStatus.OPEN,
        0,
        None,
    ),
    2: ItemDetail(
        2,
        10,
        "Lucía Herrera",
        "Read one-on-one in the resource room",
        "Reads below grade level.",
        date(2026, 11, 20),
        ItemStatus.IN_PROGRESS,
        40,
        LastUpdate(
            datetime(2026, 11, 18, 15, tzinfo=UTC), ItemStatus.IN_PROGRESS, 40, "We read two books."
        ),
    ),
    3: ItemDetail(
        3,
        11,
        "Marco Díaz",
        "Practice the S sound",
        "Speech.",
        date(2027, 2, 1),
        ItemStatus.OPEN,
        0,
        None,
    ),
}
STRENGTHS = {10: ["Lucía is kind to her classmates."], 11: ["Marco loves to draw."]}
CONTACTS = {
    10: Contact("Dana Whitfield", "dana@school.example.org"),
    11: Contact("Dana Whitfield", "dana@school.example.org"),
}


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


def _request(
    recipient: Recipient, refs: list[tuple[str, int]], *, reminder: bool = False
) -> dict[str, object]:
    return request_context(
        recipient, refs, DETAILS, STRENGTHS, CONTACTS, today=TODAY, rotation=0, reminder=reminder
    )


def _summary(
    recipient: Recipient,
    role: Role,
    mine: bool = True,
    kind: ItemKind = ItemKind.TASK,
    minutes: int | None = None,
) -> dict[str, object]:
    return summary_context(
        recipient,
        role,
        student_name="Lucía Herrera",
        held_on=date(2026, 11, 16),
        strengths=["Lucía is polite.", "She turns in her classwork every day."],
        team=[
            ("Dana Whitfield", "dana@school.example.org", Role.CASE_MANAGER, []),
            (
                "Megan Torres",
                "megan@school.example.org",
                Role.OCCUPATIONAL_THERAPIST,
                ["Work on pencil grip"],
            ),
            (
                "Rosa Herrera",
                "rosa@home.example.com",
                Role.PARENT,
                ["Check homework each night"] if mine else [],
            ),
        ],
        my_items=[
            (
                "Check homework each night",
                date(2027, 1, 29),
                Cadence.WEEKLY,
                "Homework",
                kind,
                minutes,
            )
        ]
        if mine
        else [],
        contact=Contact("Dana Whitfield", "dana@school.example.org"),
    )


def _confirmation() -> dict[str, object]:
    """A reply read from sentences: one reading applied, one that could mean two things asked."""
    change = {
        "ref": "A1",
        "title": "Check homework each night",
        "student": "Lucía Herrera",
        "status": "in_progress",
        "percent": 50,
        "due_on": None,
        "note": "We're about halfway",
        "understood": True,
    }
    return {
        "recipient": {"name": "Rosa Herrera"},
        "students": ["Lucía Herrera"],
        **confirmation_texts([change], Phrasebook(), "en"),
        "notes": [],
        "not_understood": [],
        "unknown_refs": [],
        "problems": [],
        "example": "A1 60%",
        "questions": [
            {"ref": "A2", "line": "She got 80% on the quiz", "percents": [80], "example": "A2 80%"},
            {"ref": None, "line": "we started", "percents": [], "example": "A1 we started"},
        ],
    }


def test_confirmation_says_what_was_understood_and_asks_what_was_not_clear(
    renderer: Renderer,
) -> None:
    english = renderer.render(MailKind.CONFIRMATION, "en", _confirmation())
    spanish = renderer.render(MailKind.CONFIRMATION, "es", _confirmation())
    for part in (english.text, english.html):
        assert "We understood:" in part
        assert "If that is wrong, reply with the right number." in part
        assert "Is A2 now 80% done? If so, reply: A2 80%" in part
        assert "Which item is this about?" in part
    for part in (spanish.text, spanish.html):
        assert "Entendimos:" in part
        assert "¿A2 va ahora al 80" in part
        assert "¿De qué tarea habla?" in part


def _readable_text(text: str) -> str:
    """Each line is a sentence to a reader (list items have no full stop); addresses are not words."""
    lines = [re.sub(r"\S+@\S+", "", line).strip(" -=—") for line in text.splitlines()]
    return " ".join(
        line if line.endswith((".", "?", "!", ":")) else line + "." for line in lines if line
    )


def test_request_text_and_html_list_items_with_references(renderer: Renderer) -> None:
    out = renderer.render(MailKind.REQUEST, "en", _request(KAREN, [("A1", 2), ("A2", 3)]))
    assert out.subject == "Quick check-in about 2 students"
    for part in (out.text, out.html):
        assert "Read one-on-one in the resource room" in part and "Practice the S sound" in part
        assert "A1" in part and "A2" in part
        assert "November 20, 2026" in part
        assert "this date has passed" in part  # A1 is overdue
        assert "We read two books." in part
    # The strength comes before the items, for each student.
    assert (
        out.text.index("Lucía is kind")
        < out.text.index("A1.")
        < out.text.index("Marco loves to draw")
        < out.text.index("A2.")
    )


def test_reply_instructions_sit_below_the_marker(renderer: Renderer) -> None:
    out = renderer.render(
        MailKind.REQUEST, "en", _request(KAREN, [("A1", 1), ("A2", 2), ("A3", 3)])
    )
    marker = out.text.index(REPLY_MARKERS["en"])
    assert out.text.index("A1 done") > marker
    assert out.text.index("A3 blocked: we need the workbook") > marker
    assert out.text.index("Please answer by replying") < marker
    html_marker = out.html.index(REPLY_MARKERS["en"])
    assert out.html.index("A1 done") > html_marker


def test_spanish_request_for_the_spanish_speaking_parent(renderer: Renderer) -> None:
    out = renderer.render(MailKind.REQUEST, "es", _request(ROSA, [("A1", 1)]))
    assert out.subject == "¿Cómo va todo con Lucía Herrera?"
    for part in (out.text, out.html):
        assert "Hola, Rosa:" in part  # by first name, as a family liaison writes
        assert "29 de enero de 2027" in part
        assert REPLY_MARKERS["es"] in part
        assert "A1 listo" in part
        assert "no necesita escribir A1" in part
        assert "coordinador(a) del caso" in part  # the contact line and the glossary


def test_reminder_is_gentle_and_different(renderer: Renderer) -> None:
    out = renderer.render(MailKind.REMINDER, "en", _request(ROSA_EN, [("A1", 1)], reminder=True))
    assert out.subject.startswith("Reminder:")
    assert "We wrote to you a few days ago" in out.text


def test_html_escapes_what_people_typed(renderer: Renderer) -> None:
    details = dict(DETAILS)
    details[1] = ItemDetail(
        1,
        10,
        "Lucía <b>",
        "<script>alert(1)</script>",
        "c",
        date(2027, 1, 1),
        ItemStatus.OPEN,
        0,
        LastUpdate(datetime(2026, 11, 18, tzinfo=UTC), None, None, 'a "note" <img src=x>'),
    )
    karen = dataclasses.replace(KAREN, name="<Karen> Liu")
    strengths = {10: ["Lucía <em>reads</em> aloud."]}
    context = request_context(
        karen, [("A1", 1)], details, strengths, CONTACTS, today=TODAY, rotation=0, reminder=False
    )
    out = renderer.render(MailKind.REQUEST, "en", context)
    assert "<script>" not in out.html and "&lt;script&gt;" in out.html
    assert "<img src=x>" not in out.html
    # Values passed into translated sentences are escaped too.
    assert "<Karen>" not in out.html and "&lt;Karen&gt;" in out.html
    assert "<em>reads</em>" not in out.html
    assert "<script>alert(1)</script>" in out.text  # plain text stays as typed


def test_html_has_no_external_resources_or_scripts(renderer: Renderer) -> None:
    for out in (
        renderer.render(MailKind.REQUEST, "en", _request(KAREN, [("A1", 1)])),
        renderer.render(MailKind.SUMMARY, "es", _summary(ROSA, Role.PARENT)),
    ):
        assert not re.search(r"<(script|link|img|style)\b", out.html, re.IGNORECASE)
        assert "http" not in out.html


@pytest.mark.parametrize(
    ("recipient", "language", "task", "routine"),
    [
        (ROSA_EN, "en", "Due: January 29, 2027.", "Until January 29, 2027. We will check in"),
        (ROSA, "es", "Fecha límite: 29 de enero de 2027.", "Hasta el 29 de enero de 2027. Le"),
    ],
)
def test_a_routines_date_in_the_summary_is_when_it_ends_not_a_deadline(
    renderer: Renderer, recipient: Recipient, language: str, task: str, routine: str
) -> None:
    as_task = renderer.render(MailKind.SUMMARY, language, _summary(recipient, Role.PARENT))
    as_routine = renderer.render(
        MailKind.SUMMARY, language, _summary(recipient, Role.PARENT, kind=ItemKind.ROUTINE)
    )
    for part in (as_task.text, as_task.html):
        assert task in part
    for part in (as_routine.text, as_routine.html):
        assert routine in part and task not in part


@pytest.mark.parametrize(
    ("recipient", "language", "said"),
    [(ROSA_EN, "en", "60 minutes a week."), (ROSA, "es", "60 minutos por semana.")],
)
def test_a_summary_states_a_services_promised_minutes(
    renderer: Renderer, recipient: Recipient, language: str, said: str
) -> None:
    out = renderer.render(
        MailKind.SUMMARY,
        language,
        _summary(recipient, Role.PARENT, kind=ItemKind.ROUTINE, minutes=60),
    )
    for part in (out.text, out.html):
        assert said in part
    plain = renderer.render(MailKind.SUMMARY, language, _summary(recipient, Role.PARENT))
    assert "60" not in plain.text


def test_summary_opens_with_strengths_and_shows_who_does_what(renderer: Renderer) -> None:
    out = renderer.render(MailKind.SUMMARY, "en", _summary(ROSA_EN, Role.PARENT))
    assert out.subject == "The plan for Lucía Herrera: who does what"
    text = out.text
    assert (
        text.index("Lucía is polite.")
        < text.index("Your part of the plan:")
        < text.index("Who does what:")
    )
    assert "We will check in every week" in text
    assert "Megan Torres (occupational therapist): Work on pencil grip" in text
    # Who has no part yet is the staff's business, never shown to a family.
    assert "Dana Whitfield" not in text.split("Who does what:")[1].split("Questions?")[0]
    assert "no part yet" not in text
    assert "An occupational therapist helps children with hand skills" in text
    staff = renderer.render(
        MailKind.SUMMARY, "en", _summary(KAREN, Role.SPECIAL_EDUCATION_TEACHER, mine=False)
    )
    assert "You do not have a part of the plan yet" in staff.text
    assert "Dana Whitfield (case manager): no part yet" in staff.text
    assert "Words you may see" not in staff.text  # staff know the words


@pytest.mark.parametrize(
    ("kind", "context"),
    [
        (MailKind.REQUEST, lambda: _request(ROSA_EN, [("A1", 1)])),
        (MailKind.REQUEST, lambda: _request(ROSA_EN, [("A1", 1), ("A2", 2)])),
        (MailKind.REMINDER, lambda: _request(ROSA_EN, [("A1", 1)], reminder=True)),
        (MailKind.SUMMARY, lambda: _summary(ROSA_EN, Role.PARENT)),
        (MailKind.SUMMARY, lambda: _summary(ROSA_EN, Role.PARENT, mine=False)),
        (MailKind.NOTICE, lambda: _notice("too_large")),
        (MailKind.NOTICE, lambda: _notice("other_sender")),
        (MailKind.NOTICE, lambda: _notice("unclear")),
        (MailKind.CONFIRMATION, _confirmation),
    ],
)
def test_parent_emails_read_at_or_below_sixth_grade(
    renderer: Renderer, kind: MailKind, context: object
) -> None:
    out = renderer.render(kind, "en", context())  # type: ignore[operator]
    grade = textstat.flesch_kincaid_grade(_readable_text(out.text))
    assert grade <= 6.0, f"{kind.value} reads at grade {grade}:\n{out.text}"


def _notice(reason: str) -> dict[str, object]:
    return {"recipient": {"name": "Rosa Herrera"}, "reason": reason}


def test_a_reply_too_big_to_read_is_answered_with_how_to_send_it_again(
    renderer: Renderer,
) -> None:
    out = renderer.render(MailKind.NOTICE, "en", _notice("too_large"))
    assert out.subject == "Your email was too big for us to read"
    for part in (out.text, out.html):
        assert "It may have a photo or a file with it." in part
        assert "Write just your words, and leave out the photo or file." in part
        assert "case manager will read it" not in part  # it is not kept: nobody will
    spanish = renderer.render(MailKind.NOTICE, "es", _notice("too_large"))
    assert spanish.subject == "Su correo era demasiado grande para leerlo"
    for part in (spanish.text, spanish.html):
        assert "Escriba solo sus palabras, sin la foto ni el archivo." in part


def test_message_is_multipart_with_safe_headers() -> None:
    rendered = RenderedEmail("Hello", "text part\n", "<p>html part</p>")
    raw = build_message(
        rendered,
        kind=MailKind.REQUEST,
        sender=mailbox("IEP Follow-up", "iep@district.example.org"),
        to=mailbox("Rosa\r\nBcc: victim@example.com Herrera Núñez", "rosa@home.example.com"),
        reply_to=mailbox("IEP", "iep+r1-abc@district.example.org"),
        message_id="<iep.r1-abc.1@district.example.org>",
        date=datetime(2026, 11, 23, 14, tzinfo=UTC),
    )
    message = email.message_from_bytes(raw, policy=default)
    assert isinstance(message, EmailMessage)
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["Bcc"] is None
    assert b"\nBcc:" not in raw
    [to] = message["To"].addresses
    assert (to.display_name, to.addr_spec) == (
        "Rosa Bcc: victim@example.com Herrera Núñez",
        "rosa@home.example.com",
    )
    assert b"=?utf-8?" in raw  # the non-ASCII name is encoded, not raw
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Auto-Response-Suppress"] == "All"
    with pytest.raises(ValueError, match="not a usable email address"):
        mailbox("x", "rosa@home.example.com\r\nBcc: a@b.c")


def test_every_message_has_a_spanish_translation() -> None:
    root = templates_dir()
    wanted: set[str] = set()
    method_map = [("**.txt", "jinja2"), ("**.html", "jinja2")]
    options = {
        "**.txt": {"trim_blocks": "true", "lstrip_blocks": "true"},
        "**.html": {"trim_blocks": "true", "lstrip_blocks": "true"},
    }
    for _file, _line, message, _comments, _context in extract_from_dir(
        root, method_map, options_map=options
    ):
        wanted.add(message if isinstance(message, str) else message[0])
    labels = root.parent / "src" / "iep_followup" / "mail"
    if not labels.is_dir():
        labels = root.parent / "mail"
    for _file, _line, message, _comments, _context in extract_from_dir(
        labels, [("**.py", "python")], keywords={"N_": None}
    ):
        wanted.add(message if isinstance(message, str) else message[0])
    # The words every front end shares (statuses, roles, answer buttons) live beside mail/.
    for _line, message, _comments, _context in extract_from_file(
        "python", labels.parent / "vocabulary.py", keywords={"N_": None}
    ):
        wanted.add(message if isinstance(message, str) else message[0])
    with (root / "locale" / "es" / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalog = read_po(source)
    translated = {
        m.id[0] if isinstance(m.id, tuple) else m.id
        for m in catalog
        if m.id and not m.fuzzy and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    assert len(wanted) > 60
    assert wanted - translated == set()
