"""Words shown in emails for our enums, and plain explanations of special-education terms.

Statuses, roles, relationships, cadences, a routine's period answers and the answer buttons
have one set of words for every front end, in `vocabulary.py`.

These are gettext message ids (marked with N_ for extraction): the catalogs in
email_templates/locale translate them. Nothing is translated here.
"""

from __future__ import annotations

from dataclasses import dataclass

from iep_followup.vocabulary import (
    ANSWER_LABELS,
    CADENCE_LABELS,
    MISS_LABELS,
    N_,
    PERIOD_LABELS,
    RELATIONSHIP_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
)

__all__ = [
    "ANSWER_LABELS",
    "CADENCE_LABELS",
    "GLOSSARY",
    "MISS_LABELS",
    "PERIOD_LABELS",
    "RELATIONSHIP_LABELS",
    "ROLE_LABELS",
    "STATUS_LABELS",
    "terms_in",
]


# The mark on a meeting text shown as written, because the reader's language has no version.
WRITTEN_IN_LABELS = {"en": N_("in English"), "es": N_("in Spanish")}


@dataclass(frozen=True)
class Term:
    """A term families may not know, the words that reveal it, and one plain sentence about it."""

    triggers: tuple[str, ...]  # lowercase fragments of English text or role values
    explanation: str


GLOSSARY = (
    Term(
        ("iep", "individualized education"),
        N_("The IEP is the written plan the school team made to help your child learn."),
    ),
    Term(
        ("case_manager", "case manager"),
        N_(
            "The case manager is the person at school who keeps the plan on track. You can ask them anything."
        ),
    ),
    Term(
        ("special_education", "special education", "special-education"),
        N_("Special education is teaching made to fit the way your child learns."),
    ),
    Term(
        ("occupational_therapist", "occupational therap"),
        N_("An occupational therapist helps children with hand skills, like holding a pencil."),
    ),
    Term(
        ("speech_language", "speech-language", "speech therap"),
        N_("A speech therapist helps children with talking, listening and words."),
    ),
    Term(
        ("physical_therapist", "physical therap"),
        N_("A physical therapist helps children move, walk and keep their balance."),
    ),
    Term(
        ("school_psychologist", "school psychologist"),
        N_("A school psychologist helps children with learning, feelings and behavior."),
    ),
    Term(
        ("resource room",),
        N_("The resource room is a small classroom where your child gets extra help."),
    ),
    Term(
        ("accommodation",),
        N_(
            "An accommodation is a change in how your child learns or takes tests, like extra time."
        ),
    ),
    Term(("modification",), N_("A modification is a change in what your child is asked to learn.")),
    Term(
        ("least restrictive environment",),
        N_(
            "Least restrictive environment means your child learns with other children as much as they can."
        ),
    ),
    Term(
        ("related services",),
        N_(
            "Related services are extra help, like speech or occupational therapy, that helps your child learn."
        ),
    ),
)


def terms_in(*texts: str) -> list[str]:
    """The explanations (message ids) for every glossary term found in the given texts."""
    haystack = " ".join(texts).lower()
    return [
        term.explanation
        for term in GLOSSARY
        if any(trigger in haystack for trigger in term.triggers)
    ]
