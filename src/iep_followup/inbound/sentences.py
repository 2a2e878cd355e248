"""Progress told in a sentence: "we're about halfway", "va al 60%", "still waiting on the workbook".

What the reply grammar falls back to when a line holds no command. Works on text already
folded (lower case, no accents). Gives a reading it is sure of, one that could mean two
things (so the owner is asked), or nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from iep_followup.domain import ItemStatus

# Reads the date at a position of a folded text: the date and where it ends, or None.
DateReader = Callable[[str, int], tuple[date, int] | None]


@dataclass(frozen=True)
class Reading:
    """What a sentence clearly says about an item."""

    status: ItemStatus | None = None
    percent: int | None = None
    due_on: date | None = None


@dataclass(frozen=True)
class Unclear:
    """A sentence that gives a number we cannot be sure is the item's progress."""

    percents: tuple[int, ...]


_W = r"(?![a-z0-9])"
_NEGATION = re.compile(
    r"(?<![a-z])(?:not|no|never|isn'?t|aren'?t|hasn'?t|haven'?t|don'?t|doesn'?t|didn'?t|won'?t"
    r"|can'?t|cannot|nothing|nada|nunca|tampoco|ni)" + _W
)
_CANNOT_BECAUSE = re.compile(r"(?<![a-z])no (?:he|hemos|ha|han) podido" + _W)
_BLOCKED = re.compile(
    r"(?<![a-z])(?:stuck|blocked|held up|waiting (?:on|for)|bloquead[oa]s?|atascad[oa]s?"
    r"|esperando|estamos a la espera)" + _W
)
# "Can't go on until …", "no podemos seguir hasta que …": blocked, with the words as the reason.
_UNTIL = re.compile(
    r"(?<![a-z])(?:(?:can'?t|cannot|can not|won'?t be able to|unable to) (?:go on|continue"
    r"|keep going|move on|move forward|go any further|finish|start)[a-z ]{0,30}? until"
    r"|on hold (?:until|till|for)"
    r"|no (?:podemos|puedo|puede|pueden|se puede) (?:seguir|continuar|avanzar|terminar|empezar)"
    r"[a-z ]{0,30}? hasta"
    r"|(?:estamos|estoy|esta|seguimos) (?:a la espera|en espera))" + _W
)
# Only part of it: "everything is done except the last page", "todo listo menos la firma".
_EXCEPT = re.compile(
    r"(?<![a-z])(?:except|but|apart from|other than|menos|excepto|salvo|pero)" + _W
)
# Done, told in a sentence: "everything is finished", "ya quedó todo".
_DONE = re.compile(
    r"(?<![a-z])(?:(?:everything|all|it)(?:'?s| is| was| has been)? (?:all )?(?:done|finished"
    r"|complete|completed)|(?:we|i|she|he|they) (?:have |has |'ve )?(?:finished|completed)"
    r"(?: it| everything| all of it)?(?! the| one| part| some| half| with)"
    r"|(?:we'?re|we are|i'?m|i am) (?:all )?done(?! with (?:the|one|part|some|half))"
    r"|ya (?:quedo|quedaron|esta|estan|lo terminamos|terminamos|acabamos|lo acabamos|termino"
    r"|terminaron|se termino)(?: (?:todo|listo|lista|listos|terminado|terminada|hecho|hecha))?"
    r"|(?:quedo|esta) (?:todo )?(?:listo|terminado|hecho)|todo (?:listo|hecho|terminado)"
    r"|(?:terminamos|acabamos) (?:todo|con todo))" + _W
)
_STARTED = re.compile(
    r"(?<![a-z])(?:started|begun|began|working on|(?:empez|comenz)(?:amos|ado|ada|o|e)"
    r"|estamos trabajando|trabajando en)" + _W
)
_MOVE = re.compile(
    r"(?<![a-z])(?:(?:move|moved|push|pushed|postpone|postponed|change|reschedule|delay)"
    r"(?:\s+(?:it|this|that|the (?:due )?date))?(?:\s+back)?\s+(?:to|until|till|for)"
    r"|(?:(?:lo|la)\s+)?(?:dejamos|dejo|dejarlo|dejarla|pasamos|paso|pasarlo|pasarla|movemos"
    r"|muevo|moverlo|moverla|cambiamos|cambiarlo|cambiarla|posponemos|pospongo|posponerlo"
    r"|posponerla)(?:\s+(?:lo|la))?\s+(?:para|hasta|al|a))(?:\s+(?:el|la|the))?\s+"
)
_HALF = re.compile(
    r"(?<![a-z])(?:halfway|half way|half done|half of it|about half|around half|nearly half"
    r"|(?:a|por|en|mas o menos|casi|como|cerca de) la mitad)" + _W
)
_NUMBER = re.compile(r"(?<![\d.,])(?P<n>\d{1,3})\s*(?:%|percent|per cent|por ?ciento)")
_OF_NOUN = re.compile(
    r"\s*(?:of|de)\s+(?:(?:the|all|my|our|his|her|their|los|las|el|la|lo|sus?|mis?"
    r"|nuestr[oa]s?)\s+)?(?P<noun>[a-z]+)"
)
_AGREE = re.compile(
    r"\s*(?:agree|agreed|sure|certain|behind|on board|de acuerdo|segur[oa]|convencid[oa])" + _W
)
_AFTER_CUE = re.compile(
    r"\s*(?:there|done|complete|completed|finished|through|of the way|along|in|hecho|hecha"
    r"|listo|lista|terminado|terminada|completo|completado|avanzado|de avance)" + _W
)
_BEFORE_CUE = re.compile(
    r"(?:at|about|around|maybe|probably|almost|nearly|roughly|over|just over|past|we'?re|we are"
    r"|i'?m|it'?s|its|she'?s|he'?s|casi|como|como un|unos|un|al|va por|vamos por|estamos en"
    r"|esta en|van|mas o menos|mas o menos un|alrededor del?|cerca del?|aproximadamente)\s*$"
)
# Agreement before the number: "I agree 100%", "de acuerdo al 100%".
_AGREE_BEFORE = re.compile(
    r"(?:agree|agreed|with you|on board|de acuerdo|estoy de acuerdo)(?: (?:a|al|en un|un))?\s*$"
)
_PEOPLE = frozenset(
    [
        "kids",
        "children",
        "students",
        "class",
        "group",
        "team",
        "parents",
        "teachers",
        "boys",
        "girls",
        "peers",
        "friends",
        "people",
        "ninos",
        "ninas",
        "alumnos",
        "alumnas",
        "estudiantes",
        "clase",
        "grupo",
        "equipo",
        "padres",
        "maestros",
        "companeros",
        "amigos",
        "gente",
    ]
)
_WORK = frozenset(
    [
        "it",
        "way",
        "work",
        "worksheets",
        "worksheet",
        "pages",
        "page",
        "book",
        "books",
        "tasks",
        "task",
        "lessons",
        "lesson",
        "goal",
        "goals",
        "list",
        "steps",
        "exercises",
        "activities",
        "chart",
        "plan",
        "sessions",
        "units",
        "chapters",
        "homework",
        "reading",
        "trabajo",
        "hojas",
        "hoja",
        "paginas",
        "pagina",
        "libro",
        "libros",
        "tareas",
        "tarea",
        "lecciones",
        "leccion",
        "meta",
        "metas",
        "objetivo",
        "objetivos",
        "lista",
        "pasos",
        "ejercicios",
        "actividades",
        "plan",
        "sesiones",
        "unidades",
        "capitulos",
        "lectura",
        "camino",
        "progress",
        "avance",
        "progreso",
    ]
)
_SENTENCE = re.compile(r"[^.!?]+[.!?]*")


def read_sentence(folded: str, read_date: DateReader) -> Reading | Unclear | None:
    """What the words say about the item's progress, if anything."""
    status: ItemStatus | None = None
    percents: list[int] = []
    unclear = False
    due_on: date | None = None
    for match in _SENTENCE.finditer(folded):
        sentence = match.group()
        is_question = "?" in sentence or sentence.lstrip().startswith("¿")
        # "Can we move it to March 3?" asks for a new date: a question that is a request.
        due_on = due_on or _new_date(sentence, read_date)
        if is_question:
            continue  # "Finished? Not even close." answers nothing about the item
        found = _status(sentence)
        if found is ItemStatus.BLOCKED or status is None:
            status = found or status
        for value, sure in _percents(sentence):
            percents.append(value)
            unclear = unclear or not sure
    distinct = tuple(dict.fromkeys(percents))
    if unclear or len(distinct) > 1:
        return Unclear(distinct)
    if status is None and not distinct and due_on is None:
        return None
    return Reading(status, distinct[0] if distinct else None, due_on)


def is_said_of_something_else(folded: str, end: int) -> bool:
    """A number followed by what it measures or by agreement: "50% of the kids", "100% agree"."""
    return _AGREE.match(folded, end) is not None or _OF_NOUN.match(folded, end) is not None


def _negated(sentence: str, at: int) -> bool:
    """A negation earlier in the same clause: "not stuck", "no está bloqueado"."""
    clause_start = max(sentence.rfind(",", 0, at), sentence.rfind(";", 0, at)) + 1
    return _NEGATION.search(sentence, clause_start, at) is not None


def _status(sentence: str) -> ItemStatus | None:
    if _CANNOT_BECAUSE.search(sentence) or _UNTIL.search(sentence):
        return ItemStatus.BLOCKED
    statuses = (
        (_BLOCKED, ItemStatus.BLOCKED),
        (_DONE, ItemStatus.DONE),
        (_STARTED, ItemStatus.IN_PROGRESS),
    )
    for pattern, status in statuses:
        for match in pattern.finditer(sentence):
            partial = status is ItemStatus.DONE and _EXCEPT.search(sentence, match.end())
            if not (_negated(sentence, match.start()) or partial):
                return status
    return None


def _new_date(sentence: str, read_date: DateReader) -> date | None:
    # Only with a verb that moves it: "tenemos cita para el 3 de marzo" is not a new due date.
    for match in _MOVE.finditer(sentence):
        found = read_date(sentence, match.end())
        if found is not None and not _negated(sentence, match.start()):
            return found[0]
    return None


def _percents(sentence: str) -> list[tuple[int, bool]]:
    """Each progress number in the sentence and whether it surely is progress."""
    found: list[tuple[int, bool]] = []
    mentions = [(m.start(), m.end(), 50, True) for m in _HALF.finditer(sentence)]
    mentions += [(m.start(), m.end(), int(m.group("n")), False) for m in _NUMBER.finditer(sentence)]
    for start, end, value, is_word in sorted(mentions):
        agreed = _AGREE.match(sentence, end) or _AGREE_BEFORE.search(sentence[:start])
        if value > 100 or _negated(sentence, start) or agreed:
            continue  # "100% agree", "I agree 100%", "not halfway"
        if noun := _OF_NOUN.match(sentence, end):
            if noun.group("noun") in _PEOPLE:
                continue  # "50% of the kids can do it now" is about the kids
            found.append((value, noun.group("noun") in _WORK))
            continue
        before = sentence[:start].rstrip()
        sure = (
            is_word
            or not before
            or before.endswith((",", ";", ":", "-"))  # "vamos por la mitad, 50 por ciento"
            or _AFTER_CUE.match(sentence, end) is not None
            or _BEFORE_CUE.search(before) is not None
        )
        found.append((value, sure))
    return found
