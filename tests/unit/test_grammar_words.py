"""Answers in ordinary words, English and Spanish, as families and therapists write them.

Each table has its negative twins: lines that look alike and must record nothing.
"""

from __future__ import annotations

from datetime import date

import pytest

from iep_followup.domain import ItemStatus, PeriodOutcome
from iep_followup.inbound.grammar import ItemCommands, ParsedReply, parse_commands
from iep_followup.inbound.routine_words import minutes_told, period_told

TODAY = date(2026, 11, 23)  # a Monday
HAPPENED, PARTLY, MISSED = PeriodOutcome.HAPPENED, PeriodOutcome.PARTLY, PeriodOutcome.MISSED


def routine(text: str, language: str, refs: tuple[str, ...] = ("A1",)) -> ParsedReply:
    return parse_commands(text, refs, language=language, today=TODAY, routines=refs)


def task(text: str, language: str, refs: tuple[str, ...] = ("A1",)) -> ParsedReply:
    return parse_commands(text, refs, language=language, today=TODAY)


def words(line: str, **values: object) -> ItemCommands:
    """Read from a sentence: marked understood, the owner's words kept as the note."""
    return ItemCommands(note=line.rstrip("."), understood=True, **values)  # type: ignore[arg-type]


# --- a routine's week in words ------------------------------------------------------------

WEEK_IN_WORDS = [
    # English
    ("four out of five days", "en", words("four out of five days", period=PARTLY)),
    ("5 out of 5 nights", "en", words("5 out of 5 nights", period=HAPPENED)),
    ("every night except Sunday", "en", words("every night except Sunday", period=PARTLY)),
    ("all week but Tuesday", "en", words("all week but Tuesday", period=PARTLY)),
    ("We read every night.", "en", words("We read every night", period=HAPPENED)),
    ("not every day", "en", words("not every day", period=PARTLY)),
    ("only once", "en", words("only once", period=PARTLY)),
    ("just twice this week", "en", words("just twice this week", period=PARTLY)),
    ("only 2 times", "en", words("only 2 times", period=PARTLY)),
    ("mostly", "en", words("mostly", period=PARTLY)),
    ("More or less.", "en", words("More or less", period=PARTLY)),
    ("most nights", "en", words("most nights", period=PARTLY)),
    ("almost every day", "en", words("almost every day", period=PARTLY)),
    ("Yes", "en", ItemCommands(period=HAPPENED)),
    ("yes, we read every night", "en", ItemCommands(period=HAPPENED, note="we read every night")),
    (
        "Yes we did it every night",
        "en",
        ItemCommands(period=HAPPENED, note="we did it every night"),
    ),
    ("No, we were traveling", "en", ItemCommands(period=MISSED, note="we were traveling")),
    ("No he was sick all week", "en", ItemCommands(period=MISSED, note="he was sick all week")),
    (
        "No - there was a substitute",
        "en",
        ItemCommands(period=MISSED, note="there was a substitute"),
    ),
    (
        "We didn't do it, no school on Thursday and Friday",
        "en",
        words("We didn't do it, no school on Thursday and Friday", period=MISSED),
    ),
    # Spanish
    ("cuatro de cinco días", "es", words("cuatro de cinco días", period=PARTLY)),
    ("4 de 5 noches", "es", words("4 de 5 noches", period=PARTLY)),
    (
        "todos los días menos el domingo",
        "es",
        words("todos los días menos el domingo", period=PARTLY),
    ),
    (
        "toda la semana excepto el martes",
        "es",
        words("toda la semana excepto el martes", period=PARTLY),
    ),
    ("solo dos veces", "es", words("solo dos veces", period=PARTLY)),
    ("sólo una vez", "es", words("sólo una vez", period=PARTLY)),
    ("casi todos los días", "es", words("casi todos los días", period=PARTLY)),
    ("la mayoría de los días", "es", words("la mayoría de los días", period=PARTLY)),
    ("más o menos", "es", ItemCommands(period=PARTLY)),
    ("Sí", "es", ItemCommands(period=HAPPENED)),
    ("Si, todo bien", "es", ItemCommands(period=HAPPENED, note="todo bien")),
    (
        "Sí, casi todos los días",
        "es",
        ItemCommands(period=PARTLY, note="casi todos los días", understood=True),
    ),
    (
        "Yes, except on Friday. Most nights",
        "en",
        ItemCommands(period=PARTLY, note="except on Friday. Most nights", understood=True),
    ),
    (
        "Sí hicimos la lectura todos los días",
        "es",
        ItemCommands(period=HAPPENED, note="hicimos la lectura todos los días"),
    ),
    ("No, estuvimos de viaje", "es", ItemCommands(period=MISSED, note="estuvimos de viaje")),
    ("No estuvo enferma", "es", ItemCommands(period=MISSED, note="estuvo enferma")),
    ("no, no hubo clases", "es", ItemCommands(period=MISSED, note="no hubo clases")),
    (
        "No lo hicimos porque estuvimos de viaje",
        "es",
        words("No lo hicimos porque estuvimos de viaje", period=MISSED),
    ),
]


@pytest.mark.parametrize(("line", "language", "expected"), WEEK_IN_WORDS)
def test_a_routines_week_told_in_words(line: str, language: str, expected: ItemCommands) -> None:
    reply = routine(line, language)
    assert reply.items == {"A1": expected}
    assert (reply.notes, reply.not_understood, reply.questions) == ((), (), ())


# --- minutes as people add them up --------------------------------------------------------

MINUTES_IN_WORDS = [
    ("25 on Tuesday and 15 on Friday", "en", words("25 on Tuesday and 15 on Friday", minutes=40)),
    ("two sessions of 25 minutes", "en", words("two sessions of 25 minutes", minutes=50)),
    ("2 x 20 min", "en", words("2 x 20 min", minutes=40)),
    ("an hour and a half", "en", words("an hour and a half", minutes=90)),
    ("half an hour", "en", words("half an hour", minutes=30)),
    ("1.5 hours", "en", words("1.5 hours", minutes=90)),
    ("We did about 30 min of reading", "en", words("We did about 30 min of reading", minutes=30)),
    ("Monday 20 min, Wednesday 25 min", "en", words("Monday 20 min, Wednesday 25 min", minutes=45)),
    ("dos sesiones de 30 minutos", "es", words("dos sesiones de 30 minutos", minutes=60)),
    ("Hicimos 30 minutos de lectura", "es", words("Hicimos 30 minutos de lectura", minutes=30)),
    ("una hora y media", "es", words("una hora y media", minutes=90)),
    ("media hora", "es", words("media hora", minutes=30)),
    ("20 el martes y 25 el jueves", "es", words("20 el martes y 25 el jueves", minutes=45)),
]


@pytest.mark.parametrize(("line", "language", "expected"), MINUTES_IN_WORDS)
def test_minutes_told_in_words_say_the_week_happened(
    line: str, language: str, expected: ItemCommands
) -> None:
    reply = routine(line, language)
    assert reply.items == {"A1": ItemCommands(**{**expected.__dict__, "period": HAPPENED})}
    assert (reply.notes, reply.not_understood, reply.questions) == ((), (), ())


@pytest.mark.parametrize(
    ("line", "language", "period", "minutes"),
    [
        ("Partly, two sessions of 20 minutes", "en", PARTLY, 40),
        ("yes, 20 min on Monday and 25 on Wednesday", "en", HAPPENED, 45),
        ("most days, 15 minutes each time", "en", PARTLY, 15),
        ("en parte, dos sesiones de 20 minutos", "es", PARTLY, 40),
        ("sí, una hora y media en total", "es", HAPPENED, 90),
    ],
)
def test_an_answer_and_its_minutes_in_one_line(
    line: str, language: str, period: PeriodOutcome, minutes: int
) -> None:
    commands = routine(line, language).items["A1"]
    assert (commands.period, commands.minutes) == (period, minutes)


def test_minutes_are_read_for_a_task_too_but_do_not_answer_a_period() -> None:
    assert task("We worked 30 minutes on it", "en").items["A1"].minutes == 30
    assert task("We worked 30 minutes on it", "en").items["A1"].period is None


@pytest.mark.parametrize(
    ("folded", "minutes"),
    [
        ("after school hours", None),
        ("she is 12 on tuesday", None),  # a bare number for a day is read only for a routine
        ("room 25", None),
        ("cuarenta y cinco minutos", 45),
        ("forty-five minutes", 45),
    ],
)
def test_minutes_told(folded: str, minutes: int | None) -> None:
    assert minutes_told(folded) == minutes


# --- a routine: what is not an answer -----------------------------------------------------

NOT_AN_ANSWER = [
    ("Did he read every night?", "en"),
    ("Should we do it every day or only on school days?", "en"),
    ("Got it, thanks", "en"),
    ("Thanks for all you do every day", "en"),
    ("Once the new book comes we will start", "en"),
    ("No problems this week", "en"),
    ("Yes we met on Monday about it", "en"),
    ("I agree 100%", "en"),
    ("We didn't get the new book yet", "en"),
    ("We missed you at the meeting", "en"),
    ("¿Lo hacemos todos los días?", "es"),
    ("Gracias, recibido", "es"),
    ("de acuerdo al cien por ciento", "es"),
    ("si no puedo, le aviso", "es"),
]


@pytest.mark.parametrize(("line", "language"), NOT_AN_ANSWER)
def test_the_routines_negative_twins_record_nothing(line: str, language: str) -> None:
    reply = routine(line, language, refs=("A1", "A2"))
    changed = [c for c in reply.items.values() if c.period or c.minutes or c.status or c.percent]
    assert changed == []
    assert reply.questions == ()


@pytest.mark.parametrize(
    ("folded", "period"),
    [
        ("five of five days", HAPPENED),
        ("0 out of 5 days", MISSED),
        ("six out of five days", None),  # more than it could be: not read
        ("one of the kids", None),
    ],
)
def test_a_count_of_days(folded: str, period: PeriodOutcome | None) -> None:
    assert period_told(folded) == period


# --- tasks in sentences --------------------------------------------------------------------

TASK_SENTENCES = [
    (
        "everything is finished",
        "en",
        words("everything is finished", status=ItemStatus.DONE, percent=100),
    ),
    (
        "We finished it yesterday",
        "en",
        words("We finished it yesterday", status=ItemStatus.DONE, percent=100),
    ),
    ("ya quedó todo", "es", words("ya quedó todo", status=ItemStatus.DONE, percent=100)),
    (
        "todo listo, gracias",
        "es",
        words("todo listo, gracias", status=ItemStatus.DONE, percent=100),
    ),
    (
        "We can't go on until the workbook arrives",
        "en",
        words("We can't go on until the workbook arrives", status=ItemStatus.BLOCKED),
    ),
    (
        "waiting for the OT evaluation",
        "en",
        words("waiting for the OT evaluation", status=ItemStatus.BLOCKED),
    ),
    (
        "no podemos seguir hasta que llegue el libro",
        "es",
        words("no podemos seguir hasta que llegue el libro", status=ItemStatus.BLOCKED),
    ),
    (
        "estamos esperando la evaluación",
        "es",
        words("estamos esperando la evaluación", status=ItemStatus.BLOCKED),
    ),
    ("la pasamos al 12/05", "es", words("la pasamos al 12/05", due_on=date(2027, 5, 12))),
    ("move it to 5/12", "en", words("move it to 5/12", due_on=date(2027, 5, 12))),
    ("como un 30%", "es", words("como un 30%", percent=30)),
    ("más o menos la mitad", "es", words("más o menos la mitad", percent=50)),
    ("about 30% done", "en", ItemCommands(percent=30)),
]


@pytest.mark.parametrize(("line", "language", "expected"), TASK_SENTENCES)
def test_a_task_told_in_a_sentence(line: str, language: str, expected: ItemCommands) -> None:
    reply = task(line, language)
    assert reply.items == {"A1": expected}
    assert (reply.notes, reply.not_understood, reply.questions) == ((), (), ())


def test_a_new_date_with_a_spanish_month_name() -> None:
    reply = task("cambiar la fecha al 3 de mayo", "es")
    assert reply.items["A1"].due_on == date(2027, 5, 3)


TASK_TWINS = [
    ("not done yet", "en"),
    ("Is everything finished on your side?", "en"),
    ("I agree 100%", "en"),
    ("100% agree with the plan", "en"),
    ("50% of the class can do it", "en"),
    ("Got it, thanks", "en"),
    ("We are not waiting for anything", "en"),
    ("She finished the first worksheet", "en"),
    ("Everything is done except the last page", "en"),
    ("todo listo menos la firma", "es"),
    ("todavía no está terminado", "es"),
    ("¿Ya quedó todo?", "es"),
    ("de acuerdo al cien por ciento", "es"),
    ("estoy de acuerdo al 100%", "es"),
    ("la mitad de los niños ya lo hace", "es"),
    ("Gracias, recibido", "es"),
]


@pytest.mark.parametrize(("line", "language"), TASK_TWINS)
def test_the_tasks_negative_twins_record_nothing(line: str, language: str) -> None:
    reply = task(line, language)
    assert reply.items == {}
    assert reply.notes == (line,)
    assert (reply.not_understood, reply.questions) == ((), ())


# --- several refs on one line --------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "A1 halfway, A2 done",
            {"A1": words("halfway", percent=50), "A2": ItemCommands(ItemStatus.DONE, 100)},
        ),
        (
            "A1 vamos por la mitad y A2 listo",
            {
                "A1": words("vamos por la mitad", percent=50),
                "A2": ItemCommands(ItemStatus.DONE, 100),
            },
        ),
        (
            "A1 waiting on the workbook; A2 75%",
            {
                "A1": words("waiting on the workbook", status=ItemStatus.BLOCKED),
                "A2": ItemCommands(percent=75),
            },
        ),
    ],
)
def test_a_sentence_then_another_ref_on_the_same_line(
    line: str, expected: dict[str, ItemCommands]
) -> None:
    reply = task(line, "es" if " y " in line else "en", refs=("A1", "A2"))
    assert reply.items == expected
    assert reply.not_understood == ()


def test_a_ref_inside_a_sentence_does_not_split_it() -> None:
    reply = task("A1 waiting on A2 to finish", "en", refs=("A1", "A2"))
    assert set(reply.items) == {"A1"}


# --- the other six languages: the common phrasings of a week and its minutes ---------------


@pytest.mark.parametrize(
    ("folded", "period", "minutes"),
    [
        ("quase todos os dias, duas sessoes de 25 minutos", PARTLY, 50),
        ("todos os dias menos domingo", PARTLY, None),
        ("uma hora e meia", None, 90),
        ("tous les soirs sauf dimanche", PARTLY, None),
        ("deux seances de 20 minutes", None, 40),
        ("une heure et demie", None, 90),
        ("nur zweimal, 30 minuten", PARTLY, 30),
        ("jeden tag, 2 sitzungen a 25 minuten", HAPPENED, 50),
        ("an vier von funf tagen", PARTLY, None),
        ("quasi tutti i giorni", PARTLY, None),
        ("due sessioni da 30 minuti", None, 60),
        ("the new date is due on friday", None, None),
        ("de meeste dagen, een half uur", PARTLY, 30),
        ("elke dag behalve woensdag", PARTLY, None),
        ("prawie codziennie", PARTLY, None),
        ("4 z 5 dni, 2 sesje po 20 minut", PARTLY, 40),
    ],
)
def test_the_other_languages_common_phrasings(
    folded: str, period: PeriodOutcome | None, minutes: int | None
) -> None:
    assert (period_told(folded), minutes_told(folded)) == (period, minutes)


@pytest.mark.parametrize(
    "folded", ["we deden het om 3 uur", "a 3 heures", "um 4 uhr", "at 5 hours"]
)
def test_a_time_of_day_is_not_minutes(folded: str) -> None:
    assert minutes_told(folded) is None
