"""One-tap answers: the choices an answer link offers for each kind of item, and the update each one means.

Data, not code paths: a new kind of item (a routine: yes / partly / no) is a new entry in
ANSWER_SETS and its words in vocabulary.py. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from iep_followup.domain import ItemKind, ItemStatus, MissReason, PeriodOutcome, UpdateInput
from iep_followup.errors import ValidationError

TASK = ItemKind.TASK.value
ROUTINE = ItemKind.ROUTINE.value
ACCOMMODATION = ItemKind.ACCOMMODATION.value


@dataclass(frozen=True)
class Answer:
    """One button: the `choice` in the link, and what recording it does to the item."""

    choice: str
    status: ItemStatus | None = None
    asks_date: bool = False  # the page asks for a new date, and the update is that date
    period: PeriodOutcome | None = None  # a routine's answer for this period


ANSWER_SETS: dict[str, tuple[Answer, ...]] = {
    TASK: (
        Answer("done", ItemStatus.DONE),
        Answer("in_progress", ItemStatus.IN_PROGRESS),
        Answer("stuck", ItemStatus.BLOCKED),
        Answer("new_date", asks_date=True),
    ),
    # A routine is never done: did it happen this period?
    ROUTINE: (
        Answer("yes", period=PeriodOutcome.HAPPENED),
        Answer("partly", period=PeriodOutcome.PARTLY),
        Answer("no", period=PeriodOutcome.MISSED),
    ),
    # An accommodation: used this week, not used (and why), or it did not come up.
    ACCOMMODATION: (
        Answer("yes", period=PeriodOutcome.HAPPENED),
        Answer("no", period=PeriodOutcome.MISSED),
        Answer("not_applicable", period=PeriodOutcome.NOT_APPLICABLE),
    ),
}


def answers_for(kind: str = TASK) -> tuple[Answer, ...]:
    """The choices for an item of this kind (a kind with none of its own is a task)."""
    return ANSWER_SETS.get(kind, ANSWER_SETS[TASK])


def find_answer(kind: str, choice: str | None) -> Answer | None:
    return next((a for a in answers_for(kind) if a.choice == choice), None)


def update_for(
    answer: Answer,
    *,
    note: str = "",
    new_date: date | None = None,
    minutes: int | None = None,
    missed: MissReason | None = None,
) -> UpdateInput:
    """The update an answer records; a ValidationError when a date is needed and missing.

    Minutes are a routine's, as a reply's "A3 45 min" gives them: the domain's UpdateInput
    checks them with the same rule (domain.check_minutes).
    """
    if answer.asks_date and new_date is None:
        raise ValidationError("choose the new date", field="new_date")
    if minutes is not None and answer.period is None:
        raise ValidationError("only a routine's answer gives minutes", field="minutes")
    if missed is not None and answer.period not in (PeriodOutcome.PARTLY, PeriodOutcome.MISSED):
        raise ValidationError("a missed session goes with partly or no", field="missed")
    return UpdateInput(
        status=answer.status,
        due_on=new_date if answer.asks_date else None,
        note=note.strip() or None,
        period=answer.period,
        minutes=minutes,
        missed=missed,
    )


def period_choice(period: PeriodOutcome | None) -> str | None:
    """The button that records this routine answer (for showing what was saved)."""
    choices = ANSWER_SETS[ROUTINE] + ANSWER_SETS[ACCOMMODATION]
    return next((a.choice for a in choices if a.period is period), None)


def recorded_choice(status: ItemStatus | None, period: PeriodOutcome | None) -> str | None:
    """The button that records this answer, for the saved page: "stuck" for blocked. The page
    shows the button's word beside the status the team sees, so the two read as one thing."""
    if period is not None:
        return period_choice(period)
    return next((a.choice for a in ANSWER_SETS[TASK] if status and a.status is status), None)
