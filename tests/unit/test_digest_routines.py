"""A digest's routines and service minutes: how each routine is going (never a percent), the
minutes per week per student, and a shortfall that needs the case manager, in English and Spanish."""

from __future__ import annotations

import dataclasses
import html as htmllib
import re
from datetime import UTC, date, datetime

import pytest

from iep_followup.digest import (
    AttentionKind,
    Digest,
    DigestInputs,
    Period,
    StudentInput,
    compile_digest,
    covered_weeks,
)
from iep_followup.domain import Cadence, ItemKind, ItemStatus, Role
from iep_followup.mail.contexts import digest_context
from iep_followup.mail.kinds import MailKind
from iep_followup.mail.render import Renderer
from iep_followup.planning import SendPolicy
from iep_followup.views import ItemMinutes, ItemView, MemberView, MinutesWeek, RoutineRecord

NOW = datetime(2026, 12, 14, 13, 0, tzinfo=UTC)  # Monday 07:00 in Chicago: Dec 7-13 is over
WEEK = date(2026, 12, 7)
DANA = MemberView(1, "Dana Whitfield", "dana@s.org", Role.CASE_MANAGER, "en")
KAREN = MemberView(3, "Karen Liu", "karen@s.org", Role.SPECIAL_EDUCATION_TEACHER, "en")
MEGAN = MemberView(4, "Megan Torres", "megan@s.org", Role.OCCUPATIONAL_THERAPIST, "en")


def _item(item_id: int, title: str, owner: MemberView, **kw: object) -> ItemView:
    values: dict[str, object] = {
        "id": item_id,
        "key": f"i{item_id}",
        "student_external_id": "S-1",
        "student_name": "Lucía",
        "concern": "c",
        "title": title,
        "owner_name": owner.name,
        "owner_email": owner.email,
        "owner_role": owner.role,
        "due_on": date(2027, 6, 4),
        "cadence": Cadence.WEEKLY,
        "status": ItemStatus.IN_PROGRESS,
        "percent": 50,
        "service_minutes_per_week": None,
        "kind": ItemKind.ROUTINE,
    }
    values.update(kw)
    return ItemView(**values)  # type: ignore[arg-type]


READING = _item(1, "Read one-on-one", KAREN, service_minutes_per_week=45)
GRIP = _item(2, "Pencil grip", MEGAN, cadence=Cadence.EVERY_TWO_WEEKS, service_minutes_per_week=30)
TEST = _item(3, "Test her reading", KAREN, kind=ItemKind.TASK, percent=40)


def _digest(
    language: str = "en",
    *,
    reading: int = 20,
    grip: int = 30,
    failing: tuple[tuple[str, str, str], ...] = (),
) -> Digest:
    manager = MemberView(1, DANA.name, DANA.email, DANA.role, language)
    inputs = DigestInputs(
        case_manager=manager,
        timezone="America/Chicago",
        students=(
            StudentInput(10, "S-1", "Lucía", (), (manager, KAREN, MEGAN), (READING, GRIP, TEST)),
        ),
        updates=(),
        requests=(),
        held=(),
        failing=failing,
        previous_classroom_share=None,
        routines={
            1: RoutineRecord(1, 5, 6, Cadence.WEEKLY),
            2: RoutineRecord(2, 2, 3, Cadence.EVERY_TWO_WEEKS),
        },
        minutes=(
            ItemMinutes(
                1,
                "i1",
                READING.title,
                KAREN.name,
                KAREN.email,
                45,
                (MinutesWeek(WEEK, reading, 45),),
            ),
            ItemMinutes(
                2, "i2", GRIP.title, MEGAN.name, MEGAN.email, 30, (MinutesWeek(WEEK, grip, 30),)
            ),
        ),
    )
    return compile_digest(inputs, now=NOW, period=Period.WEEK, policy=SendPolicy(), max_share=0.9)


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


def _both_parts(renderer: Renderer, digest: Digest) -> list[str]:
    out = renderer.render(MailKind.DIGEST, digest.case_manager.language, digest_context(digest))
    html = htmllib.unescape(re.sub(r"<[^>]+>", "", out.html))
    return [" ".join(out.text.split()), " ".join(html.split())]


def test_a_digest_reports_each_week_that_ended_in_its_period_once() -> None:
    assert covered_weeks(date(2026, 12, 7), date(2026, 12, 14)) == [WEEK]
    assert covered_weeks(date(2026, 11, 30), date(2026, 12, 14)) == [date(2026, 11, 30), WEEK]
    # A month: a week whose Sunday falls in it counts; one that ends in the next month waits.
    november = covered_weeks(date(2026, 11, 1), date(2026, 12, 1))
    december = covered_weeks(date(2026, 12, 1), date(2027, 1, 1))
    assert november[0] == date(2026, 10, 26) and november[-1] == date(2026, 11, 23)
    assert december[0] == date(2026, 11, 30) and december[-1] == date(2026, 12, 21)
    assert covered_weeks(date(2027, 1, 1), date(2027, 2, 1))[0] == date(2026, 12, 28)


def test_a_shortfall_needs_attention_and_a_kept_promise_does_not() -> None:
    digest = _digest(reading=20, grip=30)
    [short] = [a for a in digest.attention if a.kind is AttentionKind.MINUTES]
    assert (short.student, short.who, short.title) == ("Lucía", "Karen Liu", "Read one-on-one")
    assert (short.count, short.total) == (20, 45)
    assert (short.since, short.until) == (WEEK, date(2026, 12, 13))
    assert _digest(reading=45, grip=40).attention == ()
    [section] = digest.students
    assert section.minutes_total == (MinutesWeek(WEEK, 50, 75),)


@pytest.mark.parametrize(
    ("language", "lines"),
    [
        (
            "en",
            [
                "Read one-on-one",
                "happened in 5 of the last 6 weeks | 20 of 45 minutes, week of Dec 7",
                "happened in 2 of the last 3 two-week periods | 30 of 30 minutes, week of Dec 7",
                "in progress, 40%",
                "Service minutes, week of Dec 7: 50 of 75 promised.",
                'Lucía: Karen Liu reported 20 of the 45 minutes promised for "Read one-on-one"'
                " from Dec 7 to Dec 13.",
                "Ask Karen Liu how the missing minutes will be made up.",
            ],
        ),
        (
            "es",
            [
                "se hizo en 5 de las últimas 6 semanas | 20 de 45 minutos, semana del 7 dic",
                "se hizo en 2 de los últimos 3 periodos de dos semanas",
                "Minutos de servicio, semana del 7 dic: 50 de 75 prometidos.",
                "Lucía: Karen Liu informó 20 de los 45 minutos prometidos para «Read one-on-one"
                " (en inglés)» del 7 dic al 13 dic.",
                "Pregunte a Karen Liu cómo se van a recuperar los minutos que faltan.",
            ],
        ),
    ],
)
def test_the_digest_says_how_routines_go_and_the_minutes_in_words(
    renderer: Renderer, language: str, lines: list[str]
) -> None:
    text, html = _both_parts(renderer, _digest(language))
    for line in lines:
        assert line in text
        assert line.replace(" | ", " · ") in html
        # A routine keeps no percent; the status line would have shown "in progress, 50%".
        assert "50%" not in text and "50\xa0%" not in text and "50%" not in html


@pytest.mark.parametrize(
    ("record", "en", "es"),
    [
        (
            RoutineRecord(1, 0, 0, Cadence.WEEKLY),
            "just started: no period is over yet",
            "recién empezada",
        ),
        (
            RoutineRecord(1, 1, 1, Cadence.WEEKLY),
            "happened in 1 of 1 week so far",
            "se hizo en 1 de 1 semana hasta ahora",
        ),
        (
            RoutineRecord(1, 4, 6, Cadence.MONTHLY),
            "happened in 4 of the last 6 months",
            "se hizo en 4 de los últimos 6 meses",
        ),
        (
            RoutineRecord(1, 0, 1, Cadence.EVERY_TWO_WEEKS),
            "happened in 0 of 1 two-week period so far",
            "se hizo en 0 de 1 periodo de dos semanas hasta ahora",
        ),
    ],
)
def test_a_routines_line_names_its_periods_by_its_cadence(
    renderer: Renderer, record: RoutineRecord, en: str, es: str
) -> None:
    for language, expected in (("en", en), ("es", es)):
        digest = _digest(language)
        [section] = digest.students
        only = dataclasses.replace(section, routines={1: record}, minutes=(), minutes_total=())
        digest = dataclasses.replace(digest, students=(only,))
        assert all(expected in part for part in _both_parts(renderer, digest)), language


@pytest.mark.parametrize(
    ("language", "page", "address"),
    [
        ("en", "The student's page: ", "correct it on the student's page: "),
        ("es", "La página del estudiante: ", "corríjala en la página del estudiante: "),
    ],
)
def test_with_the_desk_a_line_links_to_the_students_page_not_a_command(
    renderer: Renderer, language: str, page: str, address: str
) -> None:
    digest = _digest(language, failing=(("Karen Liu", KAREN.email, "550 no such user"),))
    desk = "https://desk.example.org/"
    linked = renderer.render(MailKind.DIGEST, language, digest_context(digest, web_url=desk))
    student = "https://desk.example.org/students/S-1"
    assert page + student in linked.text  # the minutes shortfall
    assert address + student in linked.text  # the failing address
    assert "clear-failing" not in linked.text
    assert f'href="{student}"' in linked.html
    plain = renderer.render(MailKind.DIGEST, language, digest_context(digest))
    assert "desk.example.org" not in plain.text and page not in plain.text
    assert f"iep-followup person clear-failing {KAREN.email}" in plain.text
