"""The reply grammar, English and Spanish: one table of lines and what they mean."""

from __future__ import annotations

from datetime import date

import pytest

from iep_followup.domain import ItemStatus, PeriodOutcome
from iep_followup.inbound.grammar import ItemCommands, ParsedReply, Question, parse_commands
from iep_followup.schoolcal import SchoolCalendar

TODAY = date(2026, 11, 23)
REFS = ("A1", "A2", "A3")
DONE = ItemCommands(ItemStatus.DONE, 100)


def read(text: str, refs: tuple[str, ...] = REFS, language: str = "en") -> ParsedReply:
    return parse_commands(text, refs, language=language, today=TODAY)


@pytest.mark.parametrize(
    ("line", "language", "expected"),
    [
        ("A1 done", "en", DONE),
        ("a1 DONE.", "en", DONE),
        ("A1: Done!", "en", DONE),
        ("A1 - finished", "en", DONE),
        ("a1) completed", "en", DONE),
        ("A1 is complete", "en", DONE),
        ("- A1 done", "en", DONE),
        ("* A1 done", "en", DONE),
        ("• A1 done", "en", DONE),
        ("1. A1 done", "en", DONE),
        ("  A1    done  ", "en", DONE),
        ("[x] A1 done", "en", DONE),
        ("A1 listo", "es", DONE),
        ("A1 LISTA", "es", DONE),
        ("A1 hecho", "es", DONE),
        ("A1 terminado", "es", DONE),
        ("A1 terminada", "es", DONE),
        ("A1 completado", "es", DONE),
        ("A1 está listo!", "es", DONE),
        ("A1 ya terminé", "es", DONE),
        ("A1 100%", "en", DONE),
        ("A1 100% done", "en", DONE),
        ("A2 50%", "en", ItemCommands(percent=50)),
        ("A2 50 %", "en", ItemCommands(percent=50)),
        ("A2 50 percent", "en", ItemCommands(percent=50)),
        ("A2 at 50% done", "en", ItemCommands(percent=50)),
        ("A2 about 60%", "en", ItemCommands(percent=60)),
        ("A2 50 por ciento", "es", ItemCommands(percent=50)),
        ("A2 al 0%", "es", ItemCommands(percent=0)),
        (
            "A3 blocked: waiting for the workbook",
            "en",
            ItemCommands(ItemStatus.BLOCKED, note="waiting for the workbook"),
        ),
        (
            "A3 blocked - waiting for the workbook",
            "en",
            ItemCommands(ItemStatus.BLOCKED, note="waiting for the workbook"),
        ),
        ("A3 blocked", "en", ItemCommands(ItemStatus.BLOCKED)),
        (
            "A3 bloqueado: esperando el cuaderno",
            "es",
            ItemCommands(ItemStatus.BLOCKED, note="esperando el cuaderno"),
        ),
        ("A3 BLOQUEADA", "es", ItemCommands(ItemStatus.BLOCKED)),
        ("A2 in progress", "en", ItemCommands(ItemStatus.IN_PROGRESS)),
        ("A2 en progreso", "es", ItemCommands(ItemStatus.IN_PROGRESS)),
        ("A2 en proceso", "es", ItemCommands(ItemStatus.IN_PROGRESS)),
        ("A2 in progress, 30%", "en", ItemCommands(ItemStatus.IN_PROGRESS, 30)),
        ("A1 new date 2027-01-15", "en", ItemCommands(due_on=date(2027, 1, 15))),
        ("A1 new date: 2027/1/5", "en", ItemCommands(due_on=date(2027, 1, 5))),
        ("A1 due Jan 15", "en", ItemCommands(due_on=date(2027, 1, 15))),
        ("A1 due January 15th, 2028", "en", ItemCommands(due_on=date(2028, 1, 15))),
        ("A1 due 1/15", "en", ItemCommands(due_on=date(2027, 1, 15))),
        ("A1 due 12/18", "en", ItemCommands(due_on=date(2026, 12, 18))),
        ("A1 new date 11/23", "en", ItemCommands(due_on=date(2026, 11, 23))),
        ("A1 new date 11/22", "en", ItemCommands(due_on=date(2027, 11, 22))),
        ("A1 new date 3/4/27", "en", ItemCommands(due_on=date(2027, 3, 4))),
        ("A1 nueva fecha 3/4/27", "es", ItemCommands(due_on=date(2027, 4, 3))),
        ("A1 nueva fecha 15/01/2027", "es", ItemCommands(due_on=date(2027, 1, 15))),
        ("A1 nueva fecha 15 de enero", "es", ItemCommands(due_on=date(2027, 1, 15))),
        ("A1 nueva fecha: 5 de febrero de 2027", "es", ItemCommands(due_on=date(2027, 2, 5))),
        ("A1 nueva fecha viernes 15 de enero", "es", ItemCommands(due_on=date(2027, 1, 15))),
        ("A1 nueva fecha 15 sept", "es", ItemCommands(due_on=date(2027, 9, 15))),
        ("A1 new date 15/01/2027", "en", ItemCommands(due_on=date(2027, 1, 15))),
        ("A1 nueva fecha 1/15/2027", "es", ItemCommands(due_on=date(2027, 1, 15))),
        ("A1 new date Friday, Jan 8", "en", ItemCommands(due_on=date(2027, 1, 8))),
        ("A1 new date feb 29", "en", ItemCommands(due_on=date(2028, 2, 29))),
        (
            "A2 50% new date 2027-02-01",
            "en",
            ItemCommands(percent=50, due_on=date(2027, 2, 1)),
        ),
        (
            "A2 - 75%, new date 12/18/2026",
            "en",
            ItemCommands(percent=75, due_on=date(2026, 12, 18)),
        ),
        ("A1 done, she loved it", "en", ItemCommands(ItemStatus.DONE, 100, note="she loved it")),
        ("A1 listo ✅", "es", DONE),
        ("A1 ✔", "en", DONE),
        ("A1 done yesterday", "en", ItemCommands(ItemStatus.DONE, 100, note="yesterday")),
        ("A1 completed on 11/20", "en", ItemCommands(ItemStatus.DONE, 100, note="on 11/20")),
        ("A1 terminado ayer", "es", ItemCommands(ItemStatus.DONE, 100, note="ayer")),
        (
            "A2 in progress since Monday",
            "en",
            ItemCommands(ItemStatus.IN_PROGRESS, note="since Monday"),
        ),
        ("A1 we read every night", "en", ItemCommands(note="we read every night")),
        ("A2 50% she likes the books", "en", ItemCommands(percent=50, note="she likes the books")),
    ],
)
def test_line_means(line: str, language: str, expected: ItemCommands) -> None:
    reply = read(line, language=language)
    ref = next(r for r in REFS if r.lower() in line.lower())
    assert reply.items == {ref: expected}
    assert reply.not_understood == ()
    assert reply.notes == ()


def test_a_whole_reply_in_english() -> None:
    reply = read("Hi Dana,\n\nA1 done\nA2 50%\nA3 blocked: waiting for the workbook\n\nThanks!")
    assert reply.items == {
        "A1": DONE,
        "A2": ItemCommands(percent=50),
        "A3": ItemCommands(ItemStatus.BLOCKED, note="waiting for the workbook"),
    }
    assert reply.notes == ("Hi Dana,", "Thanks!")


def test_refs_are_keyed_as_the_request_wrote_them() -> None:
    assert set(read("a1 done\nb2 50%", refs=("A1", "b2")).items) == {"A1", "b2"}


def test_several_refs_on_one_line() -> None:
    assert read("A1 done, A2 50%").items == {"A1": DONE, "A2": ItemCommands(percent=50)}
    both = read("A1 y A3 listos", language="es")
    assert both.items == {"A1": DONE, "A3": DONE}


def test_later_lines_add_to_the_same_item() -> None:
    reply = read("A3 blocked: no workbook\nA3 the teacher will send it Monday")
    assert reply.items["A3"] == ItemCommands(
        ItemStatus.BLOCKED, note="no workbook\nthe teacher will send it Monday"
    )


def test_a_later_status_replaces_done_and_its_hundred_percent() -> None:
    assert read("A1 done\nA1 in progress").items["A1"] == ItemCommands(ItemStatus.IN_PROGRESS)


def test_the_ref_is_optional_when_the_request_had_one_item() -> None:
    reply = read("Done! She uses the grip every day.", refs=("A1",))
    assert reply.items == {
        "A1": ItemCommands(ItemStatus.DONE, 100, note="She uses the grip every day")
    }
    assert read("50%", refs=("A1",)).items == {"A1": ItemCommands(percent=50)}


def test_free_text_on_a_one_item_request_is_a_general_note() -> None:
    reply = read("Thanks for checking in", refs=("A1",))
    assert reply.items == {}
    assert reply.notes == ("Thanks for checking in",)


def test_a_command_without_a_ref_is_kept_and_flagged_when_there_are_several_items() -> None:
    reply = read("done")
    assert reply.items == {}
    assert reply.notes == ("done",)
    assert reply.not_understood == ("done",)


def test_an_unlisted_ref_is_a_flagged_general_note() -> None:
    reply = read("A7 done\nA1 done")
    assert reply.items == {"A1": DONE}
    assert reply.notes == ("A7 done",)
    assert reply.unknown_refs == ("A7",)


@pytest.mark.parametrize(
    ("line", "note"),
    [
        ("A2 150%", "150%"),
        ("A1 new date next month", "new date next month"),
        ("A1 new date 2027-02-30", "new date 2027-02-30"),
        ("A1 nueva fecha 13/13/2027", "nueva fecha 13/13/2027"),
        ("A1 not done yet", "not done yet"),
        ("A1 no está listo", "no está listo"),
        ("A1 almost done", "almost done"),
        ("A1 done with the first book", "done with the first book"),
        ("A1 done 50%", "done 50%"),
    ],
)
def test_what_cannot_be_applied_is_kept_as_a_note_and_flagged(line: str, note: str) -> None:
    reply = read(line, language="es" if "nueva" in line else "en")
    ref = line.split(maxsplit=1)[0]
    assert reply.items == {ref: ItemCommands(note=note)}
    assert reply.not_understood == (line,)


def test_a_valid_command_before_a_bad_one_still_counts() -> None:
    reply = read("A2 50% new date someday")
    assert reply.items == {"A2": ItemCommands(percent=50, note="new date someday")}
    assert reply.not_understood == ("A2 50% new date someday",)


def test_a_ref_alone_is_flagged() -> None:
    reply = read("A1")
    assert reply.items == {}
    assert reply.not_understood == ("A1",)


def test_free_text_mentioning_a_command_word_is_a_plain_note() -> None:
    reply = read("We finished the first book and started the second.")
    assert reply.items == {}
    assert reply.notes == ("We finished the first book and started the second.",)
    assert reply.not_understood == ()


def test_general_note_paragraphs_are_kept_together() -> None:
    reply = read("First line\nsecond line\n\nNew paragraph")
    assert reply.notes == ("First line\nsecond line", "New paragraph")


def test_empty_and_blank_replies_give_nothing() -> None:
    assert read("") == ParsedReply()
    assert read("\n \n\t\n") == ParsedReply()


def test_no_refs_means_everything_is_a_note() -> None:
    reply = read("A1 done", refs=())
    assert reply.items == {}
    assert reply.notes == ("A1 done",)


def test_numbers_that_look_like_refs_do_not_swallow_notes() -> None:
    reply = read("B12 vitamins help her focus")
    assert reply.notes == ("B12 vitamins help her focus",)
    assert reply.unknown_refs == ()


# --- progress told in a sentence (issue 12) -------------------------------------------

ONE = ("A1",)
NEXT_FRIDAY = date(2026, 11, 27)  # TODAY is a Monday


def understood(line: str, **values: object) -> ItemCommands:
    """A reading from a sentence: applied, marked understood, the owner's words kept as the note."""
    return ItemCommands(note=line.rstrip("."), understood=True, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("line", "language", "expected"),
    [
        ("we're about halfway", "en", understood("we're about halfway", percent=50)),
        ("halfway", "en", understood("halfway", percent=50)),
        ("about half", "en", understood("about half", percent=50)),
        ("a la mitad", "es", understood("a la mitad", percent=50)),
        ("vamos por la mitad", "es", understood("vamos por la mitad", percent=50)),
        ("75% there", "en", ItemCommands(percent=75)),
        ("Maybe 75% there", "en", understood("Maybe 75% there", percent=75)),
        ("va al 60%", "es", understood("va al 60%", percent=60)),
        (
            "about 75% of the worksheets",
            "en",
            understood("about 75% of the worksheets", percent=75),
        ),
        (
            "Vamos por la mitad, 50 por ciento",
            "es",
            understood("Vamos por la mitad, 50 por ciento", percent=50),
        ),
        ("started", "en", ItemCommands(ItemStatus.IN_PROGRESS)),
        ("working on it", "en", ItemCommands(ItemStatus.IN_PROGRESS)),
        ("empezamos", "es", understood("empezamos", status=ItemStatus.IN_PROGRESS)),
        ("ya empezó", "es", understood("ya empezó", status=ItemStatus.IN_PROGRESS)),
        (
            "Started on the chart today",
            "en",
            ItemCommands(ItemStatus.IN_PROGRESS, note="Started on the chart today"),
        ),
        (
            "We started the new chart today.",
            "en",
            understood("We started the new chart today", status=ItemStatus.IN_PROGRESS),
        ),
        ("stuck", "en", ItemCommands(ItemStatus.BLOCKED)),
        (
            "Still stuck on the reading goal",
            "en",
            understood("Still stuck on the reading goal", status=ItemStatus.BLOCKED),
        ),
        (
            "waiting on the workbook",
            "en",
            understood("waiting on the workbook", status=ItemStatus.BLOCKED),
        ),
        (
            "waiting for the OT to call back",
            "en",
            understood("waiting for the OT to call back", status=ItemStatus.BLOCKED),
        ),
        (
            "esperando el cuaderno",
            "es",
            understood("esperando el cuaderno", status=ItemStatus.BLOCKED),
        ),
        (
            "no he podido porque no llegó el libro",
            "es",
            understood("no he podido porque no llegó el libro", status=ItemStatus.BLOCKED),
        ),
        ("move it to March 3", "en", understood("move it to March 3", due_on=date(2027, 3, 3))),
        (
            "Can we move it to March 3?",
            "en",
            understood("Can we move it to March 3?", due_on=date(2027, 3, 3)),
        ),
        ("push it to next Friday", "en", understood("push it to next Friday", due_on=NEXT_FRIDAY)),
        (
            "lo dejamos para el 15 de marzo",
            "es",
            understood("lo dejamos para el 15 de marzo", due_on=date(2027, 3, 15)),
        ),
        ("para el viernes", "es", ItemCommands(due_on=NEXT_FRIDAY)),
    ],
)
def test_a_sentence_on_a_one_item_request_is_understood(
    line: str, language: str, expected: ItemCommands
) -> None:
    reply = read(line, refs=ONE, language=language)
    assert reply.items == {"A1": expected}
    assert (reply.notes, reply.not_understood, reply.questions) == ((), (), ())


@pytest.mark.parametrize(
    ("line", "language"),
    [
        ("50% of the kids in the group can do it now", "en"),
        ("la mitad de los niños ya lo hace", "es"),
        ("100% agree with this plan", "en"),
        ("estoy 100% de acuerdo", "es"),
        ("Finished? Not even close.", "en"),
        ("¿Listo?", "es"),
        ("Blocked? No, we're fine.", "en"),
        ("not done yet", "en"),
        ("not stuck anymore", "en"),
        ("we haven't started", "en"),
        ("aún no", "es"),
        ("todavía no está terminado", "es"),
        ("no está bloqueado", "es"),
        ("Thanks for checking in", "en"),
    ],
)
def test_the_negative_twins_are_notes_and_change_nothing(line: str, language: str) -> None:
    reply = read(line, refs=ONE, language=language)
    assert reply.items == {}
    assert reply.notes == (line,)
    assert (reply.not_understood, reply.questions) == ((), ())


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("A2 va al 60%", {"A2": understood("va al 60%", percent=60)}),
        (
            "A3 Still stuck on the reading goal",
            {"A3": understood("Still stuck on the reading goal", status=ItemStatus.BLOCKED)},
        ),
        (
            "A1 can we move it to March 3?",
            {"A1": understood("can we move it to March 3?", due_on=date(2027, 3, 3))},
        ),
        (
            "A1 done, A2 still waiting on the workbook",
            {
                "A1": DONE,
                "A2": understood("still waiting on the workbook", status=ItemStatus.BLOCKED),
            },
        ),
    ],
)
def test_a_sentence_after_a_ref_is_understood(line: str, expected: dict[str, ItemCommands]) -> None:
    reply = read(line, language="es" if " va " in line else "en")
    assert reply.items == expected
    assert (reply.notes, reply.not_understood, reply.questions) == ((), (), ())


@pytest.mark.parametrize(
    "line",
    [
        "A1 Finished? Not even close.",
        "A3 blocked? No, we're fine.",
        "A1 100% agree with this plan",
        "A2 50% of the kids can do it now",
    ],
)
def test_a_ref_with_words_that_are_not_a_command_is_a_flagged_note(line: str) -> None:
    reply = read(line)
    ref, words = line.split(maxsplit=1)
    assert reply.items == {ref: ItemCommands(note=words.rstrip("."))}
    assert reply.not_understood == (line,)


@pytest.mark.parametrize(
    ("line", "percents"),
    [
        ("She got 80% on the quiz", (80,)),  # her score, or the item's progress?
        ("halfway, maybe 60%", (50, 60)),  # which of the two?
        ("60% of the vocabulary", (60,)),  # of the item's work, or of something else?
    ],
)
def test_a_reading_that_could_mean_two_things_is_asked_not_applied(
    line: str, percents: tuple[int, ...]
) -> None:
    reply = read(line, refs=ONE)
    assert reply.items == {"A1": ItemCommands(note=line)}
    assert reply.questions == (Question("A1", line, percents),)
    assert reply.not_understood == ()


def test_a_sentence_without_a_ref_on_a_several_item_request_asks_which_item() -> None:
    reply = read("we're about halfway")
    assert reply.items == {}
    assert reply.notes == ("we're about halfway",)
    assert reply.questions == (Question(None, "we're about halfway", (50,)),)


@pytest.mark.parametrize(
    ("text", "notes"),
    [
        ("We read every night.\n\nSarah", ("We read every night.",)),
        ("We read every night.\nThanks, Some One", ("We read every night.",)),
        ("Todo bien.\nGracias,\nLuis", ("Todo bien.",)),
        ("Luis", ()),
        ("Thanks!", ("Thanks!",)),
    ],
)
def test_a_sign_off_is_never_a_note(text: str, notes: tuple[str, ...]) -> None:
    assert read(text).notes == notes


def test_a_sign_off_under_a_command_is_dropped() -> None:
    reply = read("A1 50%\n\nSarah")
    assert reply.items == {"A1": ItemCommands(percent=50)}
    assert reply.notes == ()


def test_a_date_in_a_sentence_without_a_verb_that_moves_it_is_a_note() -> None:
    reply = read("Tenemos cita para el 3 de marzo", refs=ONE, language="es")
    assert reply.items == {}
    assert reply.notes == ("Tenemos cita para el 3 de marzo",)


@pytest.mark.parametrize(
    ("text", "language", "closed", "expected"),
    [
        # Friday 27 November is the day after Thanksgiving: the next school Friday is 4 December.
        ("push it to next Friday", "en", {date(2026, 11, 27)}, date(2026, 12, 4)),
        ("para el viernes", "es", {date(2026, 11, 27), date(2026, 12, 4)}, date(2026, 12, 11)),
        ("push it to next Friday", "en", set(), NEXT_FRIDAY),
        ("A1 new date Saturday", "en", set(), date(2026, 11, 28)),  # said, so kept
    ],
)
def test_a_weekday_named_alone_is_the_next_such_school_day(
    text: str, language: str, closed: set[date], expected: date
) -> None:
    reply = parse_commands(
        text,
        ["A1"],
        language=language,
        today=TODAY,
        is_school_day=SchoolCalendar(frozenset(closed)).is_school_day,
    )
    assert reply.items["A1"].due_on == expected


# --- routines: "did it happen this period?" and service minutes ----------------------------

HAPPENED, PARTLY, MISSED = PeriodOutcome.HAPPENED, PeriodOutcome.PARTLY, PeriodOutcome.MISSED


def read_routines(
    text: str, refs: tuple[str, ...] = REFS, language: str = "en", routines: tuple[str, ...] = REFS
) -> ParsedReply:
    return parse_commands(text, refs, language=language, today=TODAY, routines=routines)


@pytest.mark.parametrize(
    ("text", "refs", "language", "expected"),
    [
        ("A1 yes", REFS, "en", ItemCommands(period=HAPPENED)),
        ("A1 Yes!", REFS, "en", ItemCommands(period=HAPPENED)),
        ("A1 it happened", REFS, "en", ItemCommands(period=HAPPENED)),
        ("A1 sí", REFS, "es", ItemCommands(period=HAPPENED)),
        ("A1 SI, se hizo", REFS, "es", ItemCommands(period=HAPPENED)),
        ("A1 done", REFS, "en", DONE),  # the domain makes it this period's "yes"
        ("A1 listo", REFS, "es", DONE),
        ("A1 partly", REFS, "en", ItemCommands(period=PARTLY)),
        ("A1 en parte", REFS, "es", ItemCommands(period=PARTLY)),
        ("A1 a medias", REFS, "es", ItemCommands(period=PARTLY)),
        ("A1 no", REFS, "en", ItemCommands(period=MISSED)),
        ("A1 no: he was sick", REFS, "en", ItemCommands(period=MISSED, note="he was sick")),
        ("A1 No, estuvo enfermo", REFS, "es", ItemCommands(period=MISSED, note="estuvo enfermo")),
        # the examples the request's "How to answer" gives for a routine
        (
            "A1 no: we were away this week",
            REFS,
            "en",
            ItemCommands(period=MISSED, note="we were away this week"),
        ),
        (
            "A1 no: estuvimos fuera esta semana",
            REFS,
            "es",
            ItemCommands(period=MISSED, note="estuvimos fuera esta semana"),
        ),
        (
            "A1 not this week - the folder was lost",
            REFS,
            "en",
            ItemCommands(period=MISSED, note="the folder was lost"),
        ),
        ("A1 no se hizo.", REFS, "es", ItemCommands(period=MISSED)),
        ("Yes", ("A1",), "en", ItemCommands(period=HAPPENED)),
        ("Sí", ("A1",), "es", ItemCommands(period=HAPPENED)),
        ("No.", ("A1",), "en", ItemCommands(period=MISSED)),
        # minutes, with or without an answer for the period: alone, they say it happened
        ("A3 45 min", REFS, "en", ItemCommands(period=HAPPENED, minutes=45)),
        ("A3 45 minutes", REFS, "en", ItemCommands(period=HAPPENED, minutes=45)),
        ("A3 45 minutos", REFS, "es", ItemCommands(period=HAPPENED, minutes=45)),
        ("A3 45min.", REFS, "en", ItemCommands(period=HAPPENED, minutes=45)),
        ("30 minutes today", ("A3",), "en", ItemCommands(period=HAPPENED, minutes=30)),
        ("30 minutos hoy", ("A3",), "es", ItemCommands(period=HAPPENED, minutes=30)),
        ("A3 yes, 45 min", REFS, "en", ItemCommands(period=HAPPENED, minutes=45)),
        ("A3 en parte, 20 minutos", REFS, "es", ItemCommands(period=PARTLY, minutes=20)),
        ("A3 20 min and 25 min", REFS, "en", ItemCommands(period=HAPPENED, minutes=45)),
    ],
)
def test_a_routine_answer_for_the_period(
    text: str, refs: tuple[str, ...], language: str, expected: ItemCommands
) -> None:
    reply = read_routines(text, refs, language, routines=refs)
    assert reply.items == {refs[-1] if len(refs) == 1 else text.split(maxsplit=1)[0]: expected}
    assert reply.not_understood == ()


@pytest.mark.parametrize(
    "text",
    ["No problems this week, all good", "Yes we met on Monday about it", "si no puedo, le aviso"],
)
def test_yes_and_no_inside_a_sentence_are_words_not_answers(text: str) -> None:
    reply = read_routines(text, ("A1",), routines=("A1",))
    assert all(c.period is None for c in reply.items.values())


def test_yes_and_no_are_answers_only_for_routines() -> None:
    reply = read_routines("A1 yes\nA2 no", routines=("A2",))
    assert reply.items["A1"] == ItemCommands(note="yes")
    assert reply.items["A2"] == ItemCommands(period=MISSED)


def test_more_minutes_than_a_week_holds_are_reported() -> None:
    reply = read_routines("A3 5000 min")
    assert reply.not_understood == ("A3 5000 min",)
    assert reply.items["A3"].minutes is None


def test_a_lone_yes_before_a_sign_off_is_the_answer() -> None:
    reply = read_routines("Yes\n\nThanks,\nRosa", ("A1",), routines=("A1",))
    assert reply.items == {"A1": ItemCommands(period=HAPPENED)}
