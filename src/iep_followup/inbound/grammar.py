"""The reply grammar: "A1 done", "A2 50%", "A3 blocked: …", "nueva fecha 15 de enero".

One line at a time, English and Spanish, case- and accent-insensitive. Pure and total:
what cannot be read is kept as a note and flagged, never dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

from babel.dates import get_day_names, get_month_names

from iep_followup.domain import MAX_MINUTES, ItemStatus, MissReason, PeriodOutcome, settle_progress
from iep_followup.inbound.missed import is_makeup, missed_told, says_missed
from iep_followup.inbound.routine_words import DID, minutes_told, period_told
from iep_followup.inbound.sentences import (
    Reading,
    Unclear,
    is_said_of_something_else,
    read_sentence,
)


@dataclass(frozen=True)
class ItemCommands:
    """What one reply said about one item; blocked keeps its reason in `note`.

    `understood`: some of it was read from a sentence, not given as a command, so the
    confirmation says what we understood and the digest marks it.
    """

    status: ItemStatus | None = None
    percent: int | None = None
    due_on: date | None = None
    note: str | None = None
    understood: bool = False
    period: PeriodOutcome | None = None  # a routine's "yes" / "partly" / "no" for this period
    minutes: int | None = None  # service minutes delivered
    missed: MissReason | None = None  # a service's session missed, and why
    missed_sessions: int | None = None
    makeup: bool = False  # the minutes were make-up


@dataclass(frozen=True)
class Question:
    """A line that could mean two things: nothing was applied, the owner is asked.

    `ref` is None when the line named no item and the request listed several; `percents`
    are the numbers it might mean (one: "is it that?", two: "which one?").
    """

    ref: str | None
    line: str
    percents: tuple[int, ...] = ()
    missed_for_task: bool = False  # a missed session's reason, said of a task


@dataclass(frozen=True)
class ParsedReply:
    items: dict[str, ItemCommands] = field(default_factory=dict)  # keyed by the request's refs
    notes: tuple[str, ...] = ()  # general notes, one per paragraph
    not_understood: tuple[str, ...] = ()  # lines kept as notes that looked like commands
    unknown_refs: tuple[str, ...] = ()  # refs the request did not list
    questions: tuple[Question, ...] = ()  # lines kept as notes that could mean two things


def _fold_map(text: str) -> tuple[str, list[int]]:
    """Fold case and accents, remembering where each folded character came from."""
    folded: list[str] = []
    where: list[int] = []
    for i, char in enumerate(text):
        for part in unicodedata.normalize("NFKD", char):
            if not unicodedata.combining(part):
                for c in part.casefold():
                    folded.append(c)
                    where.append(i)
    where.append(len(text))
    return "".join(folded), where


def _names(
    kind: str, widths: tuple[Literal["wide", "abbreviated"], ...] = ("wide", "abbreviated")
) -> dict[str, int]:
    getter = get_month_names if kind == "month" else get_day_names
    found: dict[str, int] = {}
    for locale in ("en", "es"):
        for width in widths:
            for number, name in getter(width, "format", locale).items():
                found[_fold_map(str(name).rstrip("."))[0]] = int(number)
    return found


_MONTHS = {**_names("month"), "sep": 9, "sept": 9, "setiembre": 9}


def _alternation(words: Iterable[str]) -> str:
    return "|".join(sorted(map(re.escape, words), key=len, reverse=True))


_MONTH = rf"(?P<mon>{_alternation(_MONTHS)})(?![a-z])\.?"
_WEEKDAY = rf"(?:(?:{_alternation(_names('day'))})(?![a-z])\.?,?\s+)?"
_ORDINAL = r"(?:st|nd|rd|th|o|º)?"
_DAYS = _names("day", ("wide",))  # Monday is 0; abbreviations alone ("mar", "sun") are words
# A weekday alone: the next such school day after today (a summer break is at most this long).
_WEEKS_TO_LOOK = 16
_WEEKDAY_ALONE = re.compile(
    r"(?:(?:next|this coming|this|coming|el proximo|el siguiente|proximo|este|el)\s+)?"
    rf"(?P<wd>{_alternation(_DAYS)})(?![a-z])(?:\s+(?:proximo|que viene)(?![a-z]))?"
)
_DATES = (
    re.compile(r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?!\d)"),
    re.compile(r"(?P<a>\d{1,2})[/.-](?P<b>\d{1,2})(?:[/.-](?P<y>\d{4}|\d{2}))?(?![\d/.-]\d)"),
    re.compile(rf"{_WEEKDAY}{_MONTH}\s*(?P<d>\d{{1,2}}){_ORDINAL}(?:,?\s*(?P<y>\d{{4}}))?(?!\d)"),
    re.compile(
        rf"{_WEEKDAY}(?P<d>\d{{1,2}}){_ORDINAL}\s*(?:de\s+)?{_MONTH}"
        rf"(?:,?\s*(?:de\s+|del\s+)?(?P<y>\d{{4}}))?(?!\d)"
    ),
)

_DONE = re.compile(
    r"(?:all done|done|finished|completed?|listos?|listas?|hech[oa]s?|terminad[oa]s?|termine"
    r"|terminamos|completad[oa]s?|complet[oa]|finalizad[oa]s?|acabad[oa]s?|acabe|acabamos"
    r"|[✓✔✅☑])(?![a-z0-9])"
)
# Words that may follow a status without making it a sentence: "done yesterday", "listo hoy".
_AFTER_STATUS = re.compile(
    r"(?:on|el|since|desde|yesterday|today|tonight|ayer|hoy|this|last|esta|la semana|already"
    r"|ya|finally|por fin|now|ahora|thanks|gracias)(?![a-z0-9])"
)
_IN_PROGRESS = re.compile(
    r"(?:in[ -]progress|ongoing|working on it|started|en progreso|en proceso|en curso"
    r"|empezad[oa]|comenzad[oa]|iniciad[oa])(?![a-z0-9])"
)
_BLOCKED = re.compile(r"(?:blocked|bloquead[oa]s?|stuck|atascad[oa]s?)(?![a-z0-9])")
# A routine's answer for this period ("did it happen this week?"), read only for routines.
_YES = re.compile(
    r"(?:yes|yep|yeah|si|it happened|happened|it did|we did|se hizo|lo hicimos|lo hice"
    r"|cumplido|cumplida)(?![a-z0-9])"
)
_PARTLY = re.compile(
    r"(?:partly|partially|part of it|some of it|sort of|en parte|parcialmente|a medias"
    r"|mas o menos)(?![a-z0-9])"
)
# "no" only where it ends a clause ("No.", "no: he was sick") or a reason follows ("No we were
# away"): "no problems" is a sentence.
_NO = re.compile(
    r"(?:not this (?:week|time)|(?:it )?did ?n[o']t happen|no se hizo|no paso|esta semana no"
    r"|no|nope)(?:\s*[:,;.!\-–—]|\s+(?=(?:because|porque|por|as|since|ya que|we were|we had"
    r"|he was|she was|they were|he had|she had|estuvimos|estuvo|estaba|estaban|tuvimos|tuvo"
    r"|hubo|fuimos|se enfermo)(?![a-z]))|\s*$)"
)
# An accommodation's third answer: the week gave no occasion to use it. Read only for
# accommodations, before "no" ("no surgió", "no hizo falta" are not a "no").
_NOT_APPLICABLE = re.compile(
    r"(?:n/a|n\.a\.|na|not applicable|(?:it )?did ?n[o'’]t come up|never came up|no need(?:ed)?"
    r"|not needed|no aplica|no surgio|no se presento|no hizo falta|no fue necesari[oa]"
    r"|no se necesito|no hubo (?:ocasion|necesidad))(?![a-z0-9])"
)
_MINUTES = re.compile(
    r"(?P<n>\d{1,4})\s*(?:minutes|minute|mins|min|minutos|minuto)(?![a-z])\.?"
    r"(?:\s+(?:today|tonight|this week|yesterday|hoy|esta semana|ayer)(?![a-z]))?"
)
_PERCENT = re.compile(
    r"(?:(?:about|around|approx\.?|approximately|aprox\.?|aproximadamente|~)\s*)?"
    r"(?P<n>\d{1,4})\s*(?:%|percent(?![a-z])|per cent(?![a-z])|pct(?![a-z])|por ?ciento(?![a-z]))"
    r"(?:\s+(?:done|complete|completed|finished|there|through|of the way|hecho|completado"
    r"|completada|terminado|terminada|listo|lista)(?![a-z]))?"
)
# Keywords that announce a date: a failure to read the date after them is reported.
_NEW_DATE = re.compile(
    r"(?:new (?:due )?date|due date|nueva fecha(?: limite)?|fecha nueva|fecha limite|nuevo plazo"
    r"|(?:moved?|postponed|pushed) to|pospuesto (?:para|a|al)|cambiar? (?:la )?fecha)"
    r"(?![a-z])\s*[:\-–—]?\s*(?:(?:on|to|for|el|al|a|para el|para)\s+)?"
)
# Softer ones: "due to the holidays" is a note, not a bad date.
_DUE = re.compile(r"(?:due(?: on| by)?|para el|vence(?: el)?)(?![a-z])\s*[:\-–—]?\s*")
_FILLER = re.compile(
    r"(?:and|y|is|was|are|it's|its|now|already|ya|ahora|esta|estan|at|al|lo|also|tambien)"
    r"(?![a-z0-9])"
)
_PUNCT = re.compile(r"[\s,;.!?¡¿:()\[\]…\-–—=/+*]+")
_BULLET = re.compile(r"\s*(?:[-*•·‣◦▪+–—]|\d{1,2}[.)]|\(\d{1,2}\)|\[[ x✓✔]?\])\s+")
_KEYWORD = re.compile(
    rf"{_DONE.pattern}|{_IN_PROGRESS.pattern}|{_BLOCKED.pattern}|\d\s*%|{_NEW_DATE.pattern}"
)
_REF_SHAPE = re.compile(r"[#(\[]?(?P<letters>[a-z]{1,3})-?(?P<digits>\d{1,3})(?![a-z0-9%])[)\]]?")
_REF_GLUE = re.compile(r"\s*(?:,|&|/|\+|and|y|e)\s*(?=[#(\[]?[a-z]{1,3}-?\d)")
_REF_END = re.compile(r"\s*(?:[:.)\]=>,-]|—|–)?\s*")
# Where a clause about one item ends and the next ref's begins: "A1 halfway, A2 done".
_CLAUSE_BREAK = re.compile(r"(?:[,;]|\s(?:and|y)(?=\s))\s*")
_JOINED_BY = re.compile(r"\s+(?:and|y)\s*$", re.IGNORECASE)


# Status words that take an object: "started the chart" keeps "started" in the note.
_VERBS = ("started", "working on it", "empezad", "comenzad", "iniciad")


def _is_asked(folded: str, end: int) -> bool:
    return folded[end:].lstrip().startswith("?")


def _says_it_was_done(folded: str, end: int) -> bool:
    rest = folded[end:].lstrip()
    return DID.match(rest) is not None and "?" not in rest


class _BadValueError(Exception):
    """A command whose value cannot be used (150%, a day that does not exist)."""


@dataclass
class _Part:
    """What one line, or one ref's part of it, says."""

    status: ItemStatus | None = None
    percent: int | None = None
    due_on: date | None = None
    note: str | None = None
    period: PeriodOutcome | None = None
    minutes: int | None = None
    missed: MissReason | None = None
    missed_sessions: int | None = None
    makeup: bool = False
    invalid: bool = False  # a bad value or a contradiction: report the line
    understood: bool = False  # read from a sentence, not from a command
    unclear: tuple[int, ...] | None = None  # a sentence that could mean two things
    verb_at: tuple[int, int] | None = None  # "started" with words after it stays in the note
    unapplied: bool = False  # the note holds a command word we could not apply
    next_ref_at: int | None = None  # where the next "A2 …" on the same line starts

    @property
    def has_command(self) -> bool:
        said = (self.status, self.percent, self.due_on, self.period, self.minutes)
        return any(value is not None for value in said)


def _amount_at(folded: str, pos: int, part: _Part) -> int | None:
    """A percent or a number of minutes at `pos`, applied to `part`; where it ends, or None."""
    if (match := _PERCENT.match(folded, pos)) and not is_said_of_something_else(
        folded, match.end()
    ):
        value = int(match.group("n"))
        if value > 100:
            raise _BadValueError
        part.percent = value
        return match.end()
    if (match := _MINUTES.match(folded, pos)) and not is_said_of_something_else(
        folded, match.end()
    ):
        value = (part.minutes or 0) + int(match.group("n"))
        if value > MAX_MINUTES:
            raise _BadValueError
        part.minutes = value
        return match.end()
    return None


def parse_commands(
    text: str,
    refs: Sequence[str],
    *,
    language: str,
    today: date,
    is_school_day: Callable[[date], bool] = lambda _day: True,
    routines: Collection[str] = (),
    accommodations: Collection[str] = (),
    services: Collection[str] = (),
) -> ParsedReply:
    """Read a trimmed reply against the refs its request listed. Never raises.

    `is_school_day` makes a weekday named alone ("para el viernes") the next such school day.
    `routines`: the refs that are routines, whose lines may answer "yes", "partly" or "no".
    """
    reader = _Reader(refs, language, today, is_school_day)
    reader.accommodations = {_ref_key(r) for r in accommodations}
    reader.services = {_ref_key(r) for r in services}
    # An accommodation is answered as a routine is (yes, no), or "didn't come up".
    reader.routines = {_ref_key(r) for r in routines} | reader.accommodations
    for line in _without_sign_off(str(text).splitlines()):
        try:
            reader.read(line)
        except Exception:  # a bug here must not lose the owner's words
            reader.keep_unread(line)
    return reader.result()


_CLOSING = re.compile(
    r"(?:thanks|thank you|thx|many thanks|best|best wishes|regards|best regards|kind regards"
    r"|warm regards|cheers|love|gracias|muchas gracias|saludos|un saludo|atentamente"
    r"|cordialmente|un abrazo|abrazos)(?![a-z])\s*[,!.]?\s*"
)


def _is_not_an_answer(folded: str) -> bool:
    """A question, or thanks: "Did he read every night?", "Thanks for the 20 minutes a day"."""
    return "?" in folded or _CLOSING.match(folded.lstrip(" -*•")) is not None


def _without_sign_off(lines: list[str]) -> list[str]:
    """The reply without a closing name at its end ("Sarah", "Thanks, Some One", "Gracias,\nLuis")."""
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    if end and _is_name_line(lines[end - 1]):
        end -= 1
        if end and _CLOSING.fullmatch(_fold_map(lines[end - 1].strip())[0]):
            end -= 1
    return lines[:end]


def _is_name_line(line: str) -> bool:
    folded, where = _fold_map(line.strip())
    if _KEYWORD.search(folded) or read_sentence(folded, lambda _text, _pos: None):
        return False
    if any(p.match(folded) for p in (_YES, _PARTLY, _NO)):
        return False  # "Yes." or "No." alone is a routine's answer, not a name
    closing = _CLOSING.match(folded)
    words = line.strip()[where[closing.end()] if closing else 0 :].rstrip(" .,!").split()
    return 0 < len(words) <= 3 and all(
        w[0].isupper() and all(c.isalpha() or c in "'’.-" for c in w) for w in words
    )


def _add_note(part: _Part, folded: str, where: list[int], line: str, note_from: int) -> None:
    """The words from `note_from` to the end of the part's clause become its note."""
    if part.next_ref_at is not None:
        # Words before the next ref's clause ("A1 halfway, A2 done"), without the "and".
        rest = _clip(_JOINED_BY.sub("", line[where[note_from] : where[part.next_ref_at]]))
        if note_from < part.next_ref_at and any(c.isalnum() for c in rest):
            part.note = f"{part.note} {rest}" if part.note else rest
        return
    if part.verb_at and note_from == part.verb_at[1]:
        note_from = part.verb_at[0] if folded[note_from:].strip(" .!,") else note_from
    rest = _clip(line[where[note_from] :])
    if any(c.isalnum() for c in rest):
        part.note = f"{part.note} {rest}" if part.note else rest
        part.unapplied = not part.has_command and bool(_KEYWORD.search(folded, note_from))


def _clip(text: str) -> str:
    """A note without the punctuation that joined it to the command before it."""
    return text.lstrip(" ,;.:!?-–—").rstrip(" ,;.:-–—")


def _ref_key(text: str) -> str:
    return re.sub(r"[\s\-#()\[\]]", "", _fold_map(str(text))[0])


class _Reader:
    def __init__(
        self,
        refs: Sequence[str],
        language: str,
        today: date,
        is_school_day: Callable[[date], bool],
    ) -> None:
        self.refs = {_ref_key(r): str(r) for r in refs if _ref_key(r)}
        shapes = (_REF_SHAPE.fullmatch(k) for k in self.refs)
        self.prefixes = {m.group("letters") for m in shapes if m}
        self.day_first = str(language).lower().startswith("es")
        self.today = today
        self.is_school_day = is_school_day
        self.items: dict[str, ItemCommands] = {}
        self.notes: list[str] = []
        self.not_understood: list[str] = []
        self.unknown: list[str] = []
        self.questions: list[Question] = []
        self.paragraph: list[str] = []
        self.routines: set[str] = set()
        self.period_ok = False  # the line is about routines only
        self.accommodations: set[str] = set()
        self.accommodation_ok = False  # the line is about accommodations only
        self.services: set[str] = set()  # routines with minutes: a session may be missed
        self.service_ok = False  # the line is about services only
        self.task_only = False  # the line is about tasks only

    def result(self) -> ParsedReply:
        self._end_paragraph()
        return ParsedReply(
            items=dict(self.items),
            notes=tuple(self.notes),
            not_understood=tuple(dict.fromkeys(self.not_understood)),
            unknown_refs=tuple(dict.fromkeys(self.unknown)),
            questions=tuple(self.questions),
        )

    def read(self, raw: str) -> None:
        line = " ".join(raw.split())
        if not line:
            self._end_paragraph()
            return
        folded, where = _fold_map(line)
        bullet = _BULLET.match(folded)
        pos = bullet.end() if bullet else 0
        refs, pos, unknown = self._refs_at(folded, where, line, pos)
        if unknown:
            # Kept whole, as its own note, so the confirmation can quote it back.
            self.unknown.extend(unknown)
            self._end_paragraph()
            self._general(line)
            self._end_paragraph()
        elif refs:
            self._end_paragraph()
            self._read_with_refs(refs, folded, where, line, pos)
        else:
            self._read_without_ref(folded, where, line, pos)

    def keep_unread(self, raw: str) -> None:
        line = " ".join(str(raw).split())
        if line:
            self.not_understood.append(line)
            self._general(line)

    def _read_with_refs(
        self, refs: list[str], folded: str, where: list[int], line: str, pos: int
    ) -> None:
        while True:
            self.period_ok = all(_ref_key(ref) in self.routines for ref in refs)
            self.accommodation_ok = all(_ref_key(ref) in self.accommodations for ref in refs)
            self.service_ok = all(_ref_key(ref) in self.services for ref in refs)
            self.task_only = not any(_ref_key(ref) in self.routines for ref in refs)
            part = self._commands(folded, where, line, pos)
            self._understand(part, folded, pos)
            self._read_routine_words(part, folded, pos)
            self._check_accommodation(part, refs, line)
            self._read_missed(part, refs, folded, pos, line)
            if part.invalid or part.unapplied or not (part.has_command or part.note):
                self.not_understood.append(line)
            for ref in refs:
                self._apply(ref, part, line)
            if part.next_ref_at is None:
                return
            refs, pos, _ = self._refs_at(folded, where, line, part.next_ref_at)

    def _read_without_ref(self, folded: str, where: list[int], line: str, pos: int) -> None:
        self.period_ok = len(self.refs) == 1 and set(self.refs) <= self.routines
        self.accommodation_ok = len(self.refs) == 1 and set(self.refs) <= self.accommodations
        self.service_ok = len(self.refs) == 1 and set(self.refs) <= self.services
        self.task_only = len(self.refs) == 1 and not set(self.refs) & self.routines
        part = self._commands(folded, where, line, pos)
        self._understand(part, folded, pos)
        self._read_routine_words(part, folded, pos)
        self._check_accommodation(part, list(self.refs.values()), line, ask_unanswered=False)
        self._read_missed(part, list(self.refs.values()), folded, pos, line)
        if not (part.has_command or part.invalid or part.unclear is not None):
            self._general(line)
            return
        if len(self.refs) == 1:
            self.not_understood.extend([line] if part.invalid else [])
            self._end_paragraph()
            self._apply(next(iter(self.refs.values())), part, line)
        elif part.understood or part.unclear is not None:
            # Words about some item, but which? Ask rather than flag.
            percents = part.unclear or ((part.percent,) if part.percent is not None else ())
            self.questions.append(Question(None, line, percents))
            self._general(line)
        else:
            self.not_understood.append(line)
            self._general(line)  # a command, but for which item?

    def _understand(self, part: _Part, folded: str, pos: int) -> None:
        """A part with words but no command: what those words say, if it is clear."""
        if part.has_command or part.invalid or not part.note:
            return
        end = part.next_ref_at if part.next_ref_at is not None else len(folded)
        reading = read_sentence(folded[pos:end], self._read_date)
        if isinstance(reading, Reading):
            part.status, part.percent, part.due_on = reading.status, reading.percent, reading.due_on
            part.understood, part.unapplied = True, False
        elif isinstance(reading, Unclear):
            part.unclear, part.unapplied = reading.percents, False

    def _read_routine_words(self, part: _Part, folded: str, pos: int) -> None:
        """Minutes told anywhere in the words, and a routine's week told in words.

        Minutes given for a routine say it happened, unless the words say how it went.
        """
        if part.invalid or part.unclear is not None:
            return
        end = part.next_ref_at if part.next_ref_at is not None else len(folded)
        words = folded[pos:end]
        if part.note and not _is_not_an_answer(words):
            found = minutes_told(words, by_day=self.period_ok)
            # More than the commands read: "20 min on Monday and 25 on Wednesday".
            if found and found > (part.minutes or 0):
                if found > MAX_MINUTES:
                    part.invalid = True
                    return
                part.minutes, part.understood, part.unapplied = found, True, False
            told = period_told(words) if self.period_ok and part.status is None else None
            if told is not None and part.period is None:
                part.period, part.understood, part.unapplied = told, True, False
            elif told is PeriodOutcome.PARTLY and part.period is PeriodOutcome.HAPPENED:
                # "Sí, casi todos los días": yes, but not every day.
                part.period, part.understood = told, True
        if self.period_ok and part.minutes and part.period is None and part.status is None:
            part.period = PeriodOutcome.HAPPENED

    def _read_missed(self, part: _Part, refs: list[str], folded: str, pos: int, line: str) -> None:
        """A service's missed session and why ("missed Thursday: student absent", "I was out
        sick", "no hubo clases"), and make-up minutes. Said of a task, it is asked about."""
        if part.invalid or part.unclear is not None:
            return
        end = part.next_ref_at if part.next_ref_at is not None else len(folded)
        words = folded[pos:end]
        if self.task_only and says_missed(words) and missed_told(words) is not None:
            self.questions.extend(Question(ref, line, missed_for_task=True) for ref in refs)
            return
        if not self.service_ok:
            return
        if part.minutes and is_makeup(words):
            part.makeup = True
            return
        found = missed_told(words)
        if found is None:
            return
        part.missed, part.missed_sessions = found.reason, found.sessions
        part.period = PeriodOutcome.PARTLY if part.minutes else PeriodOutcome.MISSED
        part.unapplied = False

    def _check_accommodation(
        self, part: _Part, refs: list[str], line: str, *, ask_unanswered: bool = True
    ) -> None:
        """An accommodation takes yes, no or didn't come up: anything else asks that question.

        "A3 partly", "A3 20 min" or "A3 maybe" records no answer (the words stay a note).
        """
        if not self.accommodation_ok or part.unclear is not None:
            return
        between = part.period is PeriodOutcome.PARTLY or part.percent not in (None, 0, 100)
        if between or part.minutes is not None:
            part.period = part.minutes = part.percent = None
            part.status = None if part.status is ItemStatus.DONE else part.status
            part.invalid, part.understood = True, False
            part.note = part.note or _clip(line) or None
        if part.invalid or (ask_unanswered and not part.has_command):
            self.questions.extend(Question(ref, line) for ref in refs)

    def _refs_at(
        self, folded: str, where: list[int], line: str, pos: int
    ) -> tuple[list[str], int, list[str]]:
        """Known refs at `pos` ("A1", "A1 y A2", "a1)"), the position after them, unknown refs."""
        known: list[str] = []
        unknown: list[str] = []
        end = pos
        while match := _REF_SHAPE.match(folded, pos):
            key = match.group("letters") + match.group("digits")
            if key in self.refs:
                known.append(self.refs[key])
            elif match.group("letters") in self.prefixes:
                unknown.append(line[where[match.start()] : where[match.end()]].strip("#()[]"))
            else:
                break
            end = match.end()
            glue = _REF_GLUE.match(folded, end)
            if glue is None:
                break
            pos = glue.end()
        if not (known or unknown):
            return [], pos, []
        tail = _REF_END.match(folded, end)
        return known, tail.end() if tail else end, unknown

    def _commands(self, folded: str, where: list[int], line: str, pos: int) -> _Part:
        """Commands from `pos` on; free text after them becomes the note."""
        part = _Part()
        start = note_from = pos
        while True:
            gap = _PUNCT.match(folded, pos)
            pos = gap.end() if gap else pos
            if pos >= len(folded):
                break
            if part.has_command and self._refs_at(folded, where, line, pos)[0]:
                part.next_ref_at = pos
                break
            try:
                step = self._command_at(folded, where, line, pos, part)
            except _BadValueError:
                part.invalid = True
                note_from = pos
                break
            if step is not None:
                pos = note_from = step
                continue
            filler = _FILLER.match(folded, pos)
            if filler is None:
                part.next_ref_at = self._next_clause(folded, where, line, pos)
                break
            pos = filler.end()
        _add_note(part, folded, where, line, note_from)
        if part.status is ItemStatus.DONE and part.percent not in (None, 100):
            # "done 50%" contradicts itself: keep the words, apply nothing.
            end = where[part.next_ref_at] if part.next_ref_at is not None else len(line)
            part.status, part.percent, part.due_on, part.invalid = None, None, None, True
            part.note = _clip(line[where[start] : end]) or None
        return part

    def _next_clause(self, folded: str, where: list[int], line: str, pos: int) -> int | None:
        """Where another ref's clause starts after words that were not a command, or None."""
        for match in _CLAUSE_BREAK.finditer(folded, pos):
            if self._refs_at(folded, where, line, match.end())[0]:
                return match.end()
        return None

    def _command_at(
        self, folded: str, where: list[int], line: str, pos: int, part: _Part
    ) -> int | None:
        """Apply the command at `pos` to `part` and return where it ends, or None."""
        end = _amount_at(folded, pos, part)
        if end is None and self.period_ok:
            end = self._period_at(folded, where, line, pos, part)
        if end is not None:
            return end
        if (match := _BLOCKED.match(folded, pos)) and not _is_asked(folded, match.end()):
            part.status = ItemStatus.BLOCKED
            # Everything after "blocked" is the reason.
            part.note = _clip(line[where[match.end()] :]) or None
            return len(folded)
        for pattern, status in ((_DONE, ItemStatus.DONE), (_IN_PROGRESS, ItemStatus.IN_PROGRESS)):
            if (match := pattern.match(folded, pos)) and self._ends_clause(folded, match.end()):
                part.status = status
                if match.group().startswith(_VERBS):
                    part.verb_at = (match.start(), match.end())
                return match.end()
        if match := _NEW_DATE.match(folded, pos):
            found = self._date_at(folded, match.end())
            if found is None:
                raise _BadValueError
            part.due_on = found[0]
            return found[1]
        if match := _DUE.match(folded, pos):
            found = self._date_at(folded, match.end())
            if found is not None:
                part.due_on = found[0]
                return found[1]
        return None

    def _period_at(
        self, folded: str, where: list[int], line: str, pos: int, part: _Part
    ) -> int | None:
        """A routine's answer for this period at `pos`; "no" takes the rest of the line as why."""
        if self.accommodation_ok and (match := _NOT_APPLICABLE.match(folded, pos)):
            part.period = PeriodOutcome.NOT_APPLICABLE
            part.note = _clip(line[where[match.end()] :].lstrip(" :,;.-–—")) or None
            return len(folded)
        if (match := _NO.match(folded, pos)) and not _is_asked(folded, match.end()):
            part.period = PeriodOutcome.MISSED
            part.note = _clip(line[where[match.end()] :]) or None
            return len(folded)
        for pattern, period in ((_YES, PeriodOutcome.HAPPENED), (_PARTLY, PeriodOutcome.PARTLY)):
            if (match := pattern.match(folded, pos)) and (
                self._ends_clause(folded, match.end())
                # "Sí hicimos la lectura", "Yes we read every night": the sentence says so.
                or (period is PeriodOutcome.HAPPENED and _says_it_was_done(folded, match.end()))
            ):
                part.period = period
                return match.end()
        return None

    def _ends_clause(self, folded: str, end: int) -> bool:
        """'done.' or 'done 50%' is a command; 'done with the first book' is a sentence."""
        rest = folded[end:].lstrip()
        if _is_asked(folded, end):
            return False  # "Finished? Not even close."
        if not rest or not rest[0].isalnum():
            return True
        here = len(folded) - len(rest)
        patterns = (
            _AFTER_STATUS,
            _MINUTES,
            _PERCENT,
            _DONE,
            _IN_PROGRESS,
            _BLOCKED,
            _NEW_DATE,
            _DUE,
            _REF_SHAPE,
        )
        return any(p.match(folded, here) for p in patterns)

    def _date_at(self, folded: str, pos: int) -> tuple[date, int] | None:
        """The date at `pos` and where it ends; _BadValueError when it names no real day."""
        for pattern in _DATES:
            match = pattern.match(folded, pos)
            if match is None:
                continue
            groups = match.groupdict()
            if groups.get("mon") is not None:
                month, day = _MONTHS[groups["mon"]], int(groups["d"])
            elif groups.get("a") is not None:
                first, second = int(groups["a"]), int(groups["b"])
                day, month = (first, second) if self.day_first else (second, first)
                if month > 12 >= day:
                    day, month = month, day  # "15/01" in English has only one reading
            else:
                month, day = int(groups["m"]), int(groups["d"])
            return self._resolve(day, month, groups.get("y")), match.end()
        if match := _WEEKDAY_ALONE.match(folded, pos):
            ahead = (_DAYS[match.group("wd")] - self.today.weekday() - 1) % 7 + 1
            weekday = self.today + timedelta(days=ahead)
            # A holiday Friday means the Friday after it; a Saturday is just a Saturday.
            for _ in range(_WEEKS_TO_LOOK if weekday.weekday() < 5 else 0):
                if self.is_school_day(weekday):
                    break
                weekday += timedelta(weeks=1)
            return weekday, match.end()
        return None

    def _read_date(self, folded: str, pos: int) -> tuple[date, int] | None:
        try:
            return self._date_at(folded, pos)
        except _BadValueError:
            return None

    def _resolve(self, day: int, month: int, year: str | None) -> date:
        if year is None:
            # No year: the next such day on or after today (29 Feb waits for a leap year).
            for candidate in range(self.today.year, self.today.year + 9):
                try:
                    found = date(candidate, month, day)
                except ValueError:
                    continue
                if found >= self.today:
                    return found
            raise _BadValueError
        try:
            return date(int(year) + 2000 if len(year) == 2 else int(year), month, day)
        except ValueError:
            raise _BadValueError from None

    def _apply(self, ref: str, part: _Part, line: str) -> None:
        if part.unclear is not None:
            self.questions.append(Question(ref, line, part.unclear))
        if not (part.has_command or part.note):
            return
        current = self.items.get(ref, ItemCommands())
        status, percent = current.status, current.percent
        if part.status is not None:
            if part.percent is None and part.status is not ItemStatus.DONE and percent == 100:
                percent = None  # that 100 came from an earlier "done" this line replaces
            status = part.status
        if part.percent is not None:
            percent = part.percent
        status, percent = settle_progress(status, percent)
        note = current.note
        if part.note:
            note = f"{note}\n{part.note}" if note else part.note
        minutes = current.minutes
        if part.minutes is not None:
            minutes = (minutes or 0) + part.minutes
        self.items[ref] = ItemCommands(
            status,
            percent,
            part.due_on or current.due_on,
            note,
            understood=current.understood or part.understood,
            period=part.period or current.period,
            minutes=minutes,
            missed=part.missed or current.missed,
            missed_sessions=part.missed_sessions or current.missed_sessions,
            makeup=part.makeup or current.makeup,
        )

    def _general(self, line: str) -> None:
        self.paragraph.append(line)

    def _end_paragraph(self) -> None:
        if self.paragraph:
            self.notes.append("\n".join(self.paragraph))
        self.paragraph = []
