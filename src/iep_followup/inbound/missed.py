"""A service's missed session and why, told in words: "missed Thursday: student absent",
"I was out sick", "no hubo clases"; and make-up minutes ("20 min make-up").

What the reply grammar reads on a line about a service (a routine with minutes). The phrasings
are data, English and Spanish together (folded: lower case, no accents); the functions only
combine them. Which reasons are owed as make-up is the domain's rule (`MissReason.is_owed`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from iep_followup.domain import MissReason

# Each reason's words, in the order they are tried: the school's closure before a person's
# absence ("no school, I was out" is the school's), the provider's "I" before the student's.
_REASONS: tuple[tuple[MissReason, tuple[str, ...]], ...] = (
    (
        MissReason.SCHOOL_CLOSED,
        (
            r"school (?:was )?closed",
            r"no school",
            r"school event",
            r"snow day",
            r"holiday",
            r"assembly",
            r"field trip",
            r"testing day",
            r"no hubo clases?",
            r"no hubo escuela",
            r"escuela cerrada",
            r"se cerro la escuela",
            r"dia festivo",
            r"feriado",
            r"excursion",
            r"evento (?:de la )?escolar",
            r"evento de la escuela",
        ),
    ),
    (
        MissReason.PROVIDER_ABSENT,
        (
            r"provider (?:was )?(?:absent|out|sick)",
            r"i was (?:out|sick|absent|away|off)",
            r"i was out sick",
            r"i(?:'|’)?m (?:out|sick)",
            r"i had (?:a )?(?:training|meeting|iep meeting)",
            r"i (?:had to )?cancel(?:l?ed)?",
            r"therapist (?:was )?(?:absent|out|sick)",
            r"estuve (?:enferm[oa]|ausente|fuera)",
            r"(?:yo )?falte",
            r"no pude ir",
            r"tuve (?:una )?(?:capacitacion|reunion)",
        ),
    ),
    (
        MissReason.STUDENT_ABSENT,
        (
            r"student (?:was )?(?:absent|out|sick)",
            r"(?:he|she|they) (?:was|were) (?:absent|out|sick|home)",
            r"(?:he|she) (?:was )?out sick",
            r"(?:he|she) missed school",
            r"absent",
            r"(?:el alumno|la alumna|el estudiante|la estudiante|el nino|la nina) falto",
            r"falto",
            r"estuvo (?:enferm[oa]|ausente)",
            r"no vino",
            r"ausente",
        ),
    ),
)
_MISSED = re.compile(
    r"(?:missed|no session|cancel(?:l?ed)?|did ?n[o'’]t (?:meet|see (?:him|her|them))"
    r"|no (?:tuvimos|hubo) (?:la )?sesion|se cancelo|se perdio|perdimos|perdio)(?![a-z])"
)
_MAKEUP = re.compile(r"(?:make[ -]?up|made up|recuperaci[oó]n|de reposicion|para reponer)(?![a-z])")
# "missed two sessions", "missed 2", "perdimos dos sesiones"
_SESSIONS = re.compile(
    r"(?:missed|perdimos|se perdieron)\s+(?P<n>\d|one|two|three|four|five|una|dos|tres|cuatro|cinco)"
    r"\s+(?:sessions?|sesiones?)(?![a-z])"
)
_COUNT = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "una": 1,
    "dos": 2,
    "tres": 3,
    "cuatro": 4,
    "cinco": 5,
}
_REASON_PATTERNS = tuple(
    (reason, re.compile(r"(?<![a-z])(?:" + "|".join(words) + r")(?![a-z])"))
    for reason, words in _REASONS
)


@dataclass(frozen=True)
class Missed:
    """A missed session told in words: why, and how many sessions (1 unless said)."""

    reason: MissReason
    sessions: int = 1


def missed_told(folded: str) -> Missed | None:
    """The missed session a line tells of, or None when it tells of none.

    A reason alone is enough ("I was out sick", "no hubo clases"); "missed" with no reason
    we know is `other`.
    """
    sessions = 1
    if match := _SESSIONS.search(folded):
        count = match.group("n")
        sessions = int(count) if count.isdigit() else _COUNT[count]
    for reason, pattern in _REASON_PATTERNS:
        if pattern.search(folded):
            return Missed(reason, sessions)
    if _MISSED.search(folded):
        return Missed(MissReason.OTHER, sessions)
    return None


def is_makeup(folded: str) -> bool:
    """Minutes given as make-up for missed ones: "20 min make-up", "20 minutos de recuperación"."""
    return _MAKEUP.search(folded) is not None


def says_missed(folded: str) -> bool:
    """The words say a session was missed ("missed Thursday", "no session", "se canceló")."""
    return _MISSED.search(folded) is not None
