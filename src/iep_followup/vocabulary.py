"""The one set of words for statuses and roles, shown by the CLI, the emails and the desk.

They are English and double as gettext message ids (marked with N_ so `make i18n` extracts
them): the emails and the desk translate them through the catalogs; the CLI prints them.
"""

from __future__ import annotations

from iep_followup.domain import (
    Cadence,
    ItemStatus,
    MissReason,
    PeriodOutcome,
    Relationship,
    Role,
    UpdateSource,
)


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

# "blocked" as owners write it in a reply ("blocked: ..."); "not started" rather than "open".
STATUS_LABELS = {
    ItemStatus.OPEN: N_("not started"),
    ItemStatus.IN_PROGRESS: N_("in progress"),
    ItemStatus.BLOCKED: N_("blocked"),
    ItemStatus.DONE: N_("done"),
    ItemStatus.DROPPED: N_("stopped"),
}

# How an update reached us, as an item's history shows it.
SOURCE_LABELS = {
    UpdateSource.EMAIL: N_("by email"),
    UpdateSource.CLI: N_("from the command line"),
    UpdateSource.API: N_("from a program"),
    UpdateSource.IMPORT: N_("from the meeting file"),
    UpdateSource.WEB: N_("at the desk"),
    UpdateSource.WEB_LINK: N_("by an answer button"),
}

# The buttons of a one-tap answer link, by choice (answers.ANSWER_SETS), in the owner's own words
# ("Stuck"); the status a button records keeps its word above ("blocked").
ANSWER_LABELS = {
    "done": N_("Done"),
    "in_progress": N_("In progress"),
    "stuck": N_("Stuck"),
    "new_date": N_("Change the date"),
    # A routine's answers
    "yes": N_("Yes, it happened"),
    "partly": N_("Partly"),
    "no": N_("No"),
    # An accommodation's third answer: the week gave no occasion to use it
    "not_applicable": N_("It didn't come up"),
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

CADENCE_LABELS = {
    Cadence.WEEKLY: N_("every week"),
    Cadence.EVERY_TWO_WEEKS: N_("every two weeks"),
    Cadence.MONTHLY: N_("every month"),
    Cadence.NONE: N_("no check-ins"),
}


# A routine's answer for its period, as the confirmation, the desk and the CLI say it.
PERIOD_LABELS = {
    PeriodOutcome.HAPPENED: N_("it happened"),
    PeriodOutcome.PARTLY: N_("it happened in part"),
    PeriodOutcome.MISSED: N_("it did not happen"),
    PeriodOutcome.NOT_APPLICABLE: N_("it did not come up"),
}

# Why a service's session was missed, as the confirmation and the answer page say it.
MISS_LABELS = {
    MissReason.STUDENT_ABSENT: N_("the student was absent"),
    MissReason.PROVIDER_ABSENT: N_("the provider was absent"),
    MissReason.SCHOOL_CLOSED: N_("school was closed or had an event"),
    MissReason.OTHER: N_("another reason"),
}

# Words that name the same things and must not appear beside the ones above (checked by tests).
SYNONYMS_NOT_USED = ("stuck", "speech-language pathologist", "speech language pathologist")


def role_label(role: Role) -> str:
    return ROLE_LABELS[role]


def status_label(status: ItemStatus) -> str:
    return STATUS_LABELS[status]


def period_label(period: PeriodOutcome) -> str:
    return PERIOD_LABELS[period]
