"""A routine's week and its minutes told in words: "four out of five days", "dos sesiones de 30 minutos".

What the reply grammar reads when a line about a routine holds no "yes" / "partly" / "no"
command, and where it finds minutes anywhere in a line. The phrasings are data, one table per
language; the functions only combine them. Works on folded text (lower case, no accents).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from iep_followup.domain import PeriodOutcome


@dataclass(frozen=True)
class Phrasings:
    """How one language tells a week of a routine and its minutes (folded words).

    A language may leave a field empty: what it has is read, and the rest of it is not.
    """

    numbers: dict[str, int] = field(default_factory=dict)  # small numbers as words: "two"
    every: tuple[str, ...] = ()  # the whole period: "every night", "todos los dias"
    but: tuple[str, ...] = ()  # after `every`, a day left out: "except", "menos"
    most: tuple[str, ...] = ()  # most of it: "most days", "la mayoria de los dias"
    only: tuple[str, ...] = ()  # a small count: "only", "solo"
    times: tuple[str, ...] = ()  # "times", "veces"
    once: dict[str, int] = field(default_factory=dict)  # a count in one word: "once", "twice"
    out_of: tuple[str, ...] = ()  # "four out of five days": "out of", "de"
    days: tuple[str, ...] = ()  # what is counted: "days", "nights", "dias"
    missed: tuple[str, ...] = ()  # it did not happen: "we didn't", "no lo hicimos"
    did: tuple[str, ...] = ()  # a verb that says it was done, after "yes": "we did", "hicimos"
    minutes: tuple[str, ...] = ()  # "minutes", "min", "minutos"
    sessions: tuple[str, ...] = ()  # "two sessions of 25 minutes": "sessions", "sesiones"
    of: tuple[str, ...] = ()  # "of", "de"
    hours: tuple[str, ...] = ()  # "hour", "hora"
    and_a_half: tuple[str, ...] = ()  # "an hour and a half": "and a half", "y media"
    half_hour: tuple[str, ...] = ()  # "half an hour", "media hora"
    on_day: tuple[str, ...] = ()  # "25 on Tuesday": "on", "el"
    weekdays: tuple[str, ...] = ()


ENGLISH = Phrasings(
    numbers={
        "a": 1,
        "an": 1,
        "one": 1,
        "two": 2,
        "three": 3,
        "four": 4,
        "five": 5,
        "six": 6,
        "seven": 7,
        "eight": 8,
        "nine": 9,
        "ten": 10,
        "fifteen": 15,
        "twenty": 20,
        "thirty": 30,
        "forty": 40,
        "forty-five": 45,
        "forty five": 45,
        "sixty": 60,
    },
    every=(
        "every day",
        "every night",
        "every evening",
        "every morning",
        "every school day",
        "every session",
        "each day",
        "each night",
        "all week",
        "all the days",
        "daily",
        "nightly",
    ),
    but=("except", "but", "apart from", "other than", "besides", "minus"),
    most=(
        "most days",
        "most nights",
        "most of the week",
        "most of the time",
        "mostly",
        "more or less",
        "almost every day",
        "almost every night",
        "nearly every day",
        "nearly every night",
        "almost all week",
        "some days",
        "some nights",
        "a few times",
        "a couple of times",
        "on and off",
    ),
    only=("only", "just", "barely"),
    times=("times", "time"),
    once={"once": 1, "twice": 2},
    out_of=("out of", "of"),
    days=("days", "nights", "evenings", "mornings", "sessions", "school days", "times"),
    missed=(
        "we didn't do",
        "we did not do",
        "we didn't get to",
        "we did not get to",
        "we didn't have time",
        "we didn't read",
        "we didn't practice",
        "didn't do it",
        "we couldn't do",
        "we could not do",
        "we skipped it",
        "we skipped",
        "we missed it",
        "we missed this week",
        "no school",
        "no sessions",
        "no session",
        "it didn't happen",
    ),
    did=("we did", "did it", "we read", "we practiced", "we practiced", "we worked", "we went"),
    minutes=("minutes", "minute", "mins", "min"),
    sessions=("sessions", "session", "times", "days", "nights", "visits", "meetings"),
    of=("of", "at", "for"),
    hours=("hours", "hour", "hrs", "hr"),
    and_a_half=("and a half",),
    half_hour=("half an hour", "half hour"),
    on_day=("on", "on a"),
    weekdays=("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
)

SPANISH = Phrasings(
    numbers={
        "un": 1,
        "una": 1,
        "uno": 1,
        "dos": 2,
        "tres": 3,
        "cuatro": 4,
        "cinco": 5,
        "seis": 6,
        "siete": 7,
        "ocho": 8,
        "nueve": 9,
        "diez": 10,
        "quince": 15,
        "veinte": 20,
        "treinta": 30,
        "cuarenta": 40,
        "cuarenta y cinco": 45,
        "sesenta": 60,
    },
    every=(
        "todos los dias",
        "todas las noches",
        "todas las tardes",
        "todas las mananas",
        "todas las sesiones",
        "cada dia",
        "cada noche",
        "toda la semana",
        "diario",
        "a diario",
    ),
    but=("menos", "excepto", "salvo", "fuera de", "pero no"),
    most=(
        "la mayoria de los dias",
        "la mayoria de las noches",
        "la mayor parte de la semana",
        "la mayor parte",
        "casi todos los dias",
        "casi todas las noches",
        "casi toda la semana",
        "casi siempre",
        "mas o menos",
        "algunos dias",
        "algunas noches",
        "unas cuantas veces",
        "a veces",
    ),
    only=("solo", "solamente", "nada mas", "apenas", "unicamente"),
    times=("veces", "vez"),
    once={},
    out_of=("de",),
    days=("dias", "noches", "tardes", "mananas", "sesiones", "veces"),
    missed=(
        "no lo hicimos",
        "no la hicimos",
        "no hicimos",
        "no pudimos",
        "no se pudo",
        "no se hizo",
        "no hubo clases",
        "no hubo clase",
        "no hubo escuela",
        "no hubo sesion",
        "no hubo sesiones",
        "no tuvimos sesion",
        "no tuvimos clases",
        "nos la saltamos",
        "nos lo saltamos",
    ),
    did=("hicimos", "lo hicimos", "la hicimos", "leimos", "practicamos", "trabajamos", "cumplimos"),
    minutes=("minutos", "minuto", "mins", "min"),
    sessions=("sesiones", "sesion", "veces", "dias", "noches", "visitas"),
    of=("de",),
    hours=("horas", "hora", "hrs", "hr"),
    and_a_half=("y media",),
    half_hour=("media hora",),
    on_day=("el",),
    weekdays=("lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo"),
)

# The other languages a reply may be written in: the phrases common enough to read.
PORTUGUESE = Phrasings(
    numbers={"um": 1, "uma": 1, "duas": 2, "dois": 2, "tres": 3, "quatro": 4, "cinco": 5},
    every=("todos os dias", "todas as noites", "todas as tardes", "a semana toda", "toda a semana"),
    but=("menos", "exceto", "tirando"),
    most=("a maioria dos dias", "quase todos os dias", "quase todas as noites", "quase sempre"),
    only=("so", "somente", "apenas"),
    times=("vezes", "vez"),
    out_of=("de",),
    days=("dias", "noites", "sessoes", "vezes"),
    missed=("nao fizemos", "nao conseguimos", "nao houve aula", "nao teve aula"),
    minutes=("minutos", "minuto", "min"),
    sessions=("sessoes", "sessao", "vezes"),
    of=("de",),
    hours=("horas", "hora"),
    and_a_half=("e meia",),
    half_hour=("meia hora",),
    on_day=("na", "no"),
    weekdays=("segunda", "terca", "quarta", "quinta", "sexta", "sabado", "domingo"),
)
FRENCH = Phrasings(
    numbers={"un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5},
    every=("tous les jours", "tous les soirs", "chaque jour", "chaque soir", "toute la semaine"),
    but=("sauf", "a part", "excepte"),
    most=("la plupart des jours", "la plupart du temps", "presque tous les jours", "plus ou moins"),
    only=("seulement", "juste", "que"),
    times=("fois",),
    days=("jours", "soirs", "seances", "fois"),
    missed=("on ne l'a pas fait", "nous ne l'avons pas fait", "pas d'ecole", "pas de seance"),
    minutes=("minutes", "minute", "min"),
    sessions=("seances", "seance", "fois"),
    of=("de",),
    hours=("heures", "heure"),
    and_a_half=("et demie",),
    half_hour=("une demi-heure", "demi-heure"),
    weekdays=("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
)
GERMAN = Phrasings(
    numbers={"ein": 1, "eine": 1, "einer": 1, "zwei": 2, "drei": 3, "vier": 4, "funf": 5},
    every=("jeden tag", "jeden abend", "taglich", "die ganze woche"),
    but=("ausser", "bis auf", "nur nicht"),
    most=(
        "meistens",
        "an den meisten tagen",
        "fast jeden tag",
        "fast taglich",
        "mehr oder weniger",
    ),
    only=("nur", "bloss"),
    times=("mal",),
    once={"einmal": 1, "zweimal": 2},
    out_of=("von",),
    days=("tagen", "tage", "abenden", "sitzungen", "mal"),
    missed=(
        "haben wir nicht gemacht",
        "hat nicht stattgefunden",
        "kein unterricht",
        "keine schule",
    ),
    minutes=("minuten", "minute", "min"),
    sessions=("sitzungen", "einheiten", "mal"),
    of=("von", "a", "zu je", "mit"),
    hours=("stunden", "stunde", "std"),
    and_a_half=("einhalb",),
    half_hour=("eine halbe stunde", "halbe stunde"),
    on_day=("am",),
    weekdays=("montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag"),
)
ITALIAN = Phrasings(
    numbers={"uno": 1, "una": 1, "due": 2, "tre": 3, "quattro": 4, "cinque": 5},
    every=("tutti i giorni", "ogni giorno", "ogni sera", "tutte le sere", "tutta la settimana"),
    but=("tranne", "eccetto", "a parte"),
    most=("la maggior parte dei giorni", "quasi tutti i giorni", "quasi ogni sera", "piu o meno"),
    only=("solo", "soltanto"),
    times=("volte", "volta"),
    days=("giorni", "sere", "sessioni", "volte"),
    missed=("non l'abbiamo fatto", "non abbiamo potuto", "niente scuola", "non c'era scuola"),
    minutes=("minuti", "minuto", "min"),
    sessions=("sessioni", "sessione", "volte"),
    of=("da", "di"),
    hours=("ore", "ora"),
    and_a_half=("e mezza", "e mezzo"),
    half_hour=("mezz'ora", "mezzora"),
    weekdays=("lunedi", "martedi", "mercoledi", "giovedi", "venerdi", "sabato", "domenica"),
)
DUTCH = Phrasings(
    numbers={"een": 1, "twee": 2, "drie": 3, "vier": 4, "vijf": 5},
    every=("elke dag", "iedere dag", "elke avond", "iedere avond", "de hele week"),
    but=("behalve", "uitgezonderd"),
    most=("de meeste dagen", "bijna elke dag", "bijna iedere dag", "meestal", "min of meer"),
    only=("maar", "alleen", "slechts"),
    times=("keer", "maal"),
    out_of=("van de", "van"),
    days=("dagen", "avonden", "sessies", "keer"),
    missed=("niet gedaan", "het lukte niet", "geen school", "geen les"),
    minutes=("minuten", "minuut", "min"),
    sessions=("sessies", "sessie", "keer"),
    of=("van",),
    hours=("uur",),
    half_hour=("een half uur", "half uur"),
    on_day=("op",),
    weekdays=("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
)
POLISH = Phrasings(
    numbers={"jeden": 1, "jedna": 1, "dwa": 2, "dwie": 2, "trzy": 3, "cztery": 4, "piec": 5},
    every=("codziennie", "kazdego dnia", "co wieczor", "kazdego wieczoru", "caly tydzien"),
    but=("oprocz", "poza", "z wyjatkiem"),
    most=("wiekszosc dni", "prawie codziennie", "prawie kazdego dnia", "mniej wiecej"),
    only=("tylko", "jedynie"),
    times=("razy", "raz"),
    out_of=("z",),
    days=("dni", "wieczorow", "sesji", "razy"),
    missed=("nie zrobilismy", "nie udalo sie", "nie bylo szkoly", "nie bylo zajec"),
    minutes=("minut", "minuty", "minuta", "min"),
    sessions=("sesje", "sesji", "razy"),
    of=("po",),
    hours=("godziny", "godzina", "godzin", "godz"),
    weekdays=("poniedzialek", "wtorek", "sroda", "czwartek", "piatek", "sobota", "niedziela"),
)

# Every language's phrasings are read in every reply: people mix them.
LANGUAGES = (ENGLISH, SPANISH, PORTUGUESE, FRENCH, GERMAN, ITALIAN, DUTCH, POLISH)


def _words(pick: Iterable[tuple[str, ...]]) -> str:
    every = {w for words in pick for w in words}
    return "|".join(sorted(map(re.escape, every), key=len, reverse=True))


def _table(field: str) -> str:
    return _words(tuple(getattr(p, field)) for p in LANGUAGES)


_W = r"(?![a-z0-9])"
_NUMBER_WORDS = {w: n for p in LANGUAGES for w, n in p.numbers.items()}
_COUNT = rf"(?:\d{{1,3}}|{_words([tuple(_NUMBER_WORDS)])}){_W}"
_NEG = r"(?<![a-z])(?:not|no|never|nunca)\s+"

_EVERY = re.compile(rf"(?<![a-z])(?P<neg>{_NEG})?(?:{_table('every')}){_W}")
_BUT = re.compile(rf"\s*,?\s*(?:{_table('but')}){_W}")
_MOST = re.compile(rf"(?<![a-z])(?:{_table('most')}){_W}")
# "once" alone is a count only where a clause ends: "once the book comes" is not.
_ONLY_TIMES = re.compile(
    rf"(?<![a-z])(?:(?:{_table('only')})\s+)?(?:(?P<n>{_COUNT})\s+(?:{_table('times')}){_W}"
    rf"|(?P<once>{_words([tuple(w for p in LANGUAGES for w in p.once)])})"
    r"(?=\s*(?:$|[.,;:!)]|this|last|that|a week|in|on)))"
)
_LIMITED = re.compile(rf"(?<![a-z])(?:{_table('only')})\s+")
_OUT_OF = re.compile(
    rf"(?<![a-z0-9])(?P<n>{_COUNT})\s+(?:{_table('out_of')})\s+(?P<m>{_COUNT})"
    rf"(?:\s+(?:{_table('days')}))?{_W}"
)
_MISSED = re.compile(rf"(?<![a-z])(?:{_table('missed')}){_W}")
DID = re.compile(rf"(?:{_table('did')}){_W}")

_UNIT = rf"(?:{_table('minutes')}){_W}\.?"
_SESSIONS = re.compile(
    rf"(?<![a-z0-9])(?P<n>{_COUNT})\s*(?:(?:{_table('sessions')})\s+(?:{_table('of')})|x)\s*"
    rf"(?P<m>{_COUNT})\s*{_UNIT}"
)
_HOURS = re.compile(
    rf"(?<![a-z0-9])(?:(?P<half_hour>{_table('half_hour')})"
    rf"|(?P<n>{_COUNT}|\d{{1,2}}[.,]5)?\s*(?:{_table('hours')}){_W}"
    rf"(?P<half>\s+(?:{_table('and_a_half')}))?)"
    rf"{_W}"
)
_MINUTES = re.compile(rf"(?<![a-z0-9.,])(?P<n>{_COUNT})\s*{_UNIT}")
_ON_DAY = re.compile(
    rf"(?<![a-z0-9.,:/])(?P<n>\d{{1,3}})\s*(?:{_UNIT}\s*)?(?:{_table('on_day')})\s+"
    rf"(?:{_table('weekdays')}){_W}"
)


def _count(text: str) -> int:
    text = text.strip()
    if text.isdigit():
        return int(text)
    return _NUMBER_WORDS[" ".join(text.split())]


# "om 3 uur", "a 3 heures", "at 3 hours": a time of day, not how long.
_AT_CLOCK = re.compile(r"(?:^|\s)(?:om|a|as|at|alle|um|o|vers|rond|gegen)\s*$")


def _hours(match: re.Match[str]) -> int | None:
    if _AT_CLOCK.search(match.string, 0, match.start()):
        return None
    if match.group("half_hour"):
        return 30
    if match.group("n") is None:
        # "hora y media" says how long; "hours" alone ("after school hours") does not.
        return 90 if match.group("half") else None
    told = match.group("n").replace(",", ".")
    hours = float(told) if "." in told else _count(told)
    return round(hours * 60) + (30 if match.group("half") else 0)


# In this order: a span counted once is not counted again by a later reading.
_AMOUNTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (_SESSIONS, "sessions"),
    (_HOURS, "hours"),
    (_MINUTES, "minutes"),
    (_ON_DAY, "on_day"),
)


def minutes_told(folded: str, *, by_day: bool = False) -> int | None:
    """The minutes a line tells, added up: "two sessions of 25 minutes", "an hour and a half",
    "20 min and 25 min". `by_day`: also bare numbers given for days ("25 on Tuesday")."""
    taken: list[tuple[int, int]] = []
    total: int | None = None
    for pattern, kind in _AMOUNTS:
        if kind == "on_day" and not by_day:
            continue
        for match in pattern.finditer(folded):
            if any(match.start() < end and start < match.end() for start, end in taken):
                continue
            value: int | None
            if kind == "sessions":
                value = _count(match.group("n")) * _count(match.group("m"))
            elif kind == "hours":
                value = _hours(match)
            else:
                value = _count(match.group("n"))
            if value is None:
                continue
            taken.append((match.start(), match.end()))
            total = (total or 0) + value
    return total


def _counted(folded: str) -> PeriodOutcome | None:
    """ "four out of five days", "4 de 5 noches": all, some or none of them."""
    if match := _OUT_OF.search(folded):
        done, of = _count(match.group("n")), _count(match.group("m"))
        if 0 < of <= 31 and done <= of:
            return _share(done, of)
    return None


def _most(folded: str) -> PeriodOutcome | None:
    # Before `_every`: "casi todos los dias" is most of them.
    return PeriodOutcome.PARTLY if _MOST.search(folded) else None


def _every(folded: str) -> PeriodOutcome | None:
    if match := _EVERY.search(folded):
        if match.group("neg") or _BUT.match(folded, match.end()):
            return PeriodOutcome.PARTLY  # "not every day", "every night except Sunday"
        return PeriodOutcome.HAPPENED
    return None


def _few_times(folded: str) -> PeriodOutcome | None:
    """ "only once", "solo dos veces"; a count without "only" says nothing of the plan."""
    match = _ONLY_TIMES.search(folded)
    if match and (match.group("once") or _LIMITED.match(folded, match.start())):
        return PeriodOutcome.PARTLY
    return None


def _missed(folded: str) -> PeriodOutcome | None:
    return PeriodOutcome.MISSED if _MISSED.search(folded) else None


# The first that reads the words wins.
_PERIOD_READERS = (_counted, _most, _every, _few_times, _missed)


def period_told(folded: str) -> PeriodOutcome | None:
    """How the period went, told in words ("every night except Sunday" is partly), or None."""
    return next((told for read in _PERIOD_READERS if (told := read(folded))), None)


def _share(done: int, of: int) -> PeriodOutcome:
    if done == of:
        return PeriodOutcome.HAPPENED
    return PeriodOutcome.MISSED if done == 0 else PeriodOutcome.PARTLY
