"""Words shown in emails for our enums, and plain explanations of special-education terms.

These are gettext message ids (marked with N_ for extraction): the catalogs in
email_templates/locale translate them. Nothing is translated here.
"""

from __future__ import annotations

from dataclasses import dataclass

from iep_followup.domain import Cadence, ItemStatus, Relationship, Role


def N_(message: str) -> str:  # noqa: N802  (the gettext convention for "mark, don't translate")
    return message


ROLE_LABELS = {
    Role.CASE_MANAGER: N_("case manager"),
    Role.CLASSROOM_TEACHER: N_("classroom teacher"),
    Role.SPECIAL_EDUCATION_TEACHER: N_("special education teacher"),
    Role.SCHOOL_PSYCHOLOGIST: N_("school psychologist"),
    Role.SPEECH_LANGUAGE_PATHOLOGIST: N_("speech therapist"),
    Role.OCCUPATIONAL_THERAPIST: N_("occupational therapist"),
    Role.PHYSICAL_THERAPIST: N_("physical therapist"),
    Role.PARENT: N_("parent"),
    Role.GUARDIAN: N_("guardian"),
    Role.ADVOCATE: N_("advocate"),
    Role.NOTE_TAKER: N_("note taker"),
    Role.ADMINISTRATOR: N_("school leader"),
    Role.STUDENT: N_("student"),
    Role.OTHER: N_("team member"),
}

# A family member named as the team recorded them, in place of "parent" or "guardian".
RELATIONSHIP_LABELS = {
    Relationship.MOTHER: N_("mother"),
    Relationship.FATHER: N_("father"),
    Relationship.STEPMOTHER: N_("stepmother"),
    Relationship.STEPFATHER: N_("stepfather"),
    Relationship.GRANDMOTHER: N_("grandmother"),
    Relationship.GRANDFATHER: N_("grandfather"),
    Relationship.AUNT: N_("aunt"),
    Relationship.UNCLE: N_("uncle"),
    Relationship.SISTER: N_("sister"),
    Relationship.BROTHER: N_("brother"),
    Relationship.FOSTER_PARENT: N_("foster parent"),
    Relationship.GUARDIAN: N_("guardian"),
}

# The mark on a meeting text shown as written, because the reader's language has no version.
WRITTEN_IN_LABELS = {"en": N_("in English"), "es": N_("in Spanish")}

STATUS_LABELS = {
    ItemStatus.OPEN: N_("not started"),
    ItemStatus.IN_PROGRESS: N_("in progress"),
    ItemStatus.BLOCKED: N_("stuck"),
    ItemStatus.DONE: N_("done"),
    ItemStatus.DROPPED: N_("stopped"),
}

CADENCE_LABELS = {
    Cadence.WEEKLY: N_("every week"),
    Cadence.EVERY_TWO_WEEKS: N_("every two weeks"),
    Cadence.MONTHLY: N_("every month"),
    Cadence.NONE: N_("no check-ins"),
}


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
