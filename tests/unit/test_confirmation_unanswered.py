"""A confirmation says plainly what a reply did not answer, offers those items' buttons, gives
examples that fit the items, and names who follows up a blocker."""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from typing import Any

import pytest
import textstat

from iep_followup.inbound.grammar import parse_commands
from iep_followup.mail.contexts import confirmation_texts, with_unanswered_links
from iep_followup.mail.kinds import MailKind
from iep_followup.mail.render import Renderer
from iep_followup.services.confirmation import (
    Applied,
    AskedAbout,
    ConfirmedChange,
    confirmation,
)
from iep_followup.translations import Phrasebook

TODAY = date(2026, 11, 23)
READING = AskedAbout("A1", "Read together each night", "Lucía Herrera", routine=True)
FOLDER = AskedAbout(
    "A2", "Bring the homework folder", "Lucía Herrera", routine=False, follow_up="Dana Whitfield"
)


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


def _context(
    text: str,
    asked: list[AskedAbout],
    changes: tuple[ConfirmedChange, ...] = (),
    *,
    links: bool = False,
) -> dict[str, Any]:
    reply = parse_commands(
        text,
        [a.ref for a in asked],
        language="en",
        today=TODAY,
        routines=[a.ref for a in asked if a.routine],
    )
    context = dataclasses.asdict(confirmation("Rosa Herrera", reply, Applied(changes), asked))
    context.update(
        confirmation_texts(context["changes"], Phrasebook(), "en", context["unanswered"])
    )
    if links:
        context = with_unanswered_links(
            context, "https://desk.example.org", lambda ref: f"t9-{ref.lower()}"
        )
    return context


def _change(ref: str, **values: Any) -> ConfirmedChange:
    fields: dict[str, Any] = {
        "title": "Bring the homework folder",
        "student": "Lucía Herrera",
        "status": None,
        "percent": None,
        "due_on": None,
        "note": None,
        "understood": False,
    }
    return ConfirmedChange(ref=ref, **{**fields, **values})


def test_a_question_is_confirmed_as_not_answered_with_a_routine_example(
    renderer: Renderer,
) -> None:
    # What the one item's reply leaves: its words, kept as the item's note, and no answer.
    note = _change("A1", title=READING.title, note="Do we read in English or Spanish?")
    context = _context("Do we read in English or Spanish?", [READING], (note,))
    english = renderer.render(MailKind.CONFIRMATION, "en", context)
    spanish = renderer.render(MailKind.CONFIRMATION, "es", context)
    for part in (english.text, english.html):
        assert "We kept your message for the team, but we did not record how A1 went." in part
        assert "like: A1 yes, 20 min" in part
        assert "60%" not in part  # a routine has no percent
    for part in (spanish.text, spanish.html):
        assert "Guardamos su mensaje para el equipo, pero no anotamos cómo va A1." in part
        assert "A1 sí, 20 min" in part
        assert "60%" not in part


def test_the_items_not_answered_get_their_buttons_when_the_desk_has_an_address(
    renderer: Renderer,
) -> None:
    context = _context("Thanks, got it", [READING, FOLDER], links=True)
    out = renderer.render(MailKind.CONFIRMATION, "en", context)
    for part in (out.text, out.html):
        assert "we did not record how these went:" in part
        assert "Read together each night" in part and "Bring the homework folder" in part
    assert "Answer A1 with one tap: https://desk.example.org/answer/t9-a1" in out.text
    assert 'href="https://desk.example.org/answer/t9-a1?choice=yes"' in out.html
    assert 'href="https://desk.example.org/answer/t9-a2?choice=done"' in out.html
    assert "?choice=done" not in out.html.split("t9-a2")[0]  # A1 is a routine: yes/partly/no


def test_without_the_desk_there_are_no_buttons(renderer: Renderer) -> None:
    out = renderer.render(MailKind.CONFIRMATION, "en", _context("Thanks, got it", [READING]))
    assert "/answer/" not in out.text + out.html
    assert "did not record how A1 went" in out.text


def test_a_reply_that_answered_everything_has_no_such_line(renderer: Renderer) -> None:
    done = _change("A2", status="done", percent=100)
    out = renderer.render(MailKind.CONFIRMATION, "en", _context("A2 done", [FOLDER], (done,)))
    assert "did not record" not in out.text + out.html
    assert "like: A2 60%" in out.text  # a task's example may be a percent


def test_a_blocker_names_the_case_manager_who_follows_it_up(renderer: Renderer) -> None:
    blocked = _change("A2", status="blocked", note="waiting for the workbook")
    context = _context("A2 blocked: waiting for the workbook", [READING, FOLDER], (blocked,))
    english = renderer.render(MailKind.CONFIRMATION, "en", context)
    spanish = renderer.render(MailKind.CONFIRMATION, "es", context)
    for part in (english.text, english.html):
        assert "Dana, the case manager, will follow up on this." in part
    for part in (spanish.text, spanish.html):
        assert "Dana, coordinador(a) del caso, se va a ocupar de esto." in part


def test_a_case_manager_is_not_told_she_will_follow_up_her_own_blocker(
    renderer: Renderer,
) -> None:
    hers = dataclasses.replace(FOLDER, follow_up=None)
    blocked = _change("A2", status="blocked", note="no room free")
    out = renderer.render(
        MailKind.CONFIRMATION, "en", _context("A2 blocked: no room free", [hers], (blocked,))
    )
    assert "will follow up" not in out.text


def _readable(text: str) -> str:
    lines = [re.sub(r"\S+@\S+|https?://\S+", "", line).strip(" -=—") for line in text.splitlines()]
    return " ".join(
        line if line.endswith((".", "?", "!", ":")) else line + "." for line in lines if line
    )


def test_the_new_lines_read_at_or_below_sixth_grade(renderer: Renderer) -> None:
    blocked = _change("A2", status="blocked", note="waiting for the workbook")
    context = _context("A2 blocked\nDo we read in English?", [READING, FOLDER], (blocked,))
    out = renderer.render(MailKind.CONFIRMATION, "en", context)
    assert "did not record how A1 went" in out.text
    grade = textstat.flesch_kincaid_grade(_readable(out.text))
    assert grade <= 6.0, f"reads at grade {grade}:\n{out.text}"


def test_a_routines_question_is_asked_as_a_routine_is_answered(renderer: Renderer) -> None:
    line = "She got 80% on the reading quiz"
    note = _change("A1", title=READING.title, note=line)
    context = _context(line, [READING], (note,))
    assert [q["routine"] for q in context["questions"]] == [True]
    english = renderer.render(MailKind.CONFIRMATION, "en", context)
    spanish = renderer.render(MailKind.CONFIRMATION, "es", context)
    for part in (english.text, english.html):
        assert "Did A1 happen? Reply yes, partly or no, like: A1 yes, 20 min" in part
        assert "80% done" not in part
    for part in (spanish.text, spanish.html):
        assert "¿Se hizo A1? Responda sí, en parte o no, por ejemplo: A1 sí, 20 min" in part
