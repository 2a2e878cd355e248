"""What a confirmation tells an owner about their reply: what was recorded, what was not, what next."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from iep_followup.domain import ItemKind
from iep_followup.inbound.grammar import ParsedReply
from iep_followup.store.asking import case_managers
from iep_followup.store.db import Session
from iep_followup.store.replies import AskedItem, RecordedUpdate


@dataclass(frozen=True)
class ConfirmedChange:
    """What the confirmation says was recorded for one item (the history row's words)."""

    ref: str
    title: str
    student: str
    status: str | None
    percent: int | None
    due_on: date | None
    note: str | None
    understood: bool
    period: str | None = None  # a routine's answer for this period: yes, partly, no
    minutes: int | None = None
    cadence: str = "weekly"
    follow_up: str | None = None  # a blocker's: the case manager who will follow it up
    missed: str | None = None  # a service's missed session: why
    missed_minutes: int | None = None
    makeup: bool = False


@dataclass(frozen=True)
class AskedAbout:
    """One item the request asked about: enough to say it got no answer, and to offer its buttons."""

    ref: str
    title: str
    student: str
    routine: bool
    follow_up: str | None = None  # the student's case manager, when it is not the reader
    accommodation: bool = False  # answered yes, no or didn't come up


@dataclass(frozen=True)
class ConfirmedQuestion:
    """A line that could mean two things, and how to answer it."""

    ref: str | None
    line: str
    percents: list[int]
    example: str
    routine: bool = False  # asked as a routine is answered: yes, partly or no
    accommodation: bool = False  # asked as an accommodation is answered: yes, no, didn't come up
    missed_for_task: bool = False  # a missed session's reason said of a task


@dataclass(frozen=True)
class Addressed:
    name: str


@dataclass(frozen=True)
class ConfirmationContext:
    """What a confirmation email shows (the confirmation templates' variables)."""

    recipient: Addressed
    students: list[str]
    changes: list[ConfirmedChange]
    notes: list[str]
    not_understood: list[str]
    unknown_refs: list[str]
    problems: list[str]
    example: str
    questions: list[ConfirmedQuestion]
    # The items this reply gave no answer for, when some of it was kept as a note: the
    # confirmation says so (and offers their one-tap answers when the desk has an address).
    unanswered: list[AskedAbout] = field(default_factory=list)
    example_ref: str = "A1"
    example_routine: bool = False  # the example answers a routine: "A1 yes, 20 min"
    closed: list[str] = field(default_factory=list)  # refs of done or dropped items, not changed


@dataclass(frozen=True)
class Applied:
    """What a reply changed, and which of its refs the rules refused."""

    changes: tuple[ConfirmedChange, ...] = ()
    problems: tuple[str, ...] = ()  # refs whose update the rules refused
    closed: tuple[str, ...] = ()  # refs of items done or dropped: a reply cannot change them


def confirmed(ref: str, recorded: RecordedUpdate) -> ConfirmedChange:
    return ConfirmedChange(
        ref=ref,
        title=recorded.title,
        student=recorded.student_name,
        status=recorded.status.value if recorded.status else None,
        percent=recorded.percent,
        due_on=recorded.due_on,
        note=recorded.note,
        understood=recorded.understood,
        period=recorded.period.value if recorded.period else None,
        minutes=recorded.minutes,
        cadence=recorded.cadence.value,
        missed=recorded.missed.value if recorded.missed else None,
        missed_minutes=recorded.missed_minutes,
        makeup=recorded.makeup,
    )


def asked_about(
    session: Session, items: Sequence[AskedItem], reader_email: str, done: Applied
) -> list[AskedAbout]:
    """The request's items as the confirmation names them; with a blocker reported, each
    student's case manager (read only then: most replies report none)."""
    blocked = any(c.status == "blocked" for c in done.changes)
    managers = case_managers(session, sorted({i.student_id for i in items})) if blocked else {}
    return [
        AskedAbout(
            ref=i.ref,
            title=i.title,
            student=i.student_name,
            routine=i.progress.kind is ItemKind.ROUTINE,
            accommodation=i.progress.kind is ItemKind.ACCOMMODATION,
            follow_up=manager.name
            if (manager := managers.get(i.student_id)) and manager.email != reader_email
            else None,
        )
        for i in items
    ]


def confirmation(
    recipient: str, reply: ParsedReply, done: Applied, asked: Sequence[AskedAbout] = ()
) -> ConfirmationContext:
    """The confirmation's variables: what was recorded, what was not understood, what to do next.

    `asked`: the request's items; those without an answer are named when some of the reply
    was kept as a note, and a blocker names who follows it up.
    """
    by_ref = {a.ref: a for a in asked}
    changes = [
        replace(c, follow_up=by_ref[c.ref].follow_up)
        if c.status == "blocked" and c.ref in by_ref
        else c
        for c in done.changes
    ]
    unanswered = _unanswered(reply, done, asked)
    refs = [c.ref for c in done.changes] or [a.ref for a in asked] or ["A1"]
    # The example answers the first item the email names, in the way that kind is answered.
    first = next((a for a in unanswered), None) or by_ref.get(refs[0])
    example_ref = first.ref if first else refs[0]
    example_routine = first is not None and first.routine
    return ConfirmationContext(
        recipient=Addressed(recipient),
        students=sorted({c.student for c in done.changes}),
        changes=changes,
        notes=list(reply.notes),
        not_understood=list(reply.not_understood),
        unknown_refs=list(reply.unknown_refs),
        problems=list(done.problems),
        example=f"{example_ref} 60%",
        questions=[
            ConfirmedQuestion(
                ref=q.ref,
                line=q.line,
                percents=list(q.percents),
                # Naming the item, or giving the one number, settles it.
                example=f"{q.ref} {q.percents[-1]}%"
                if q.ref and q.percents
                else f"{q.ref or refs[0]} {q.line}",
                routine=q.ref in by_ref and by_ref[q.ref].routine,
                accommodation=q.ref in by_ref and by_ref[q.ref].accommodation,
                missed_for_task=q.missed_for_task,
            )
            for q in reply.questions
        ],
        unanswered=unanswered,
        example_ref=example_ref,
        example_routine=example_routine,
        closed=list(done.closed),
    )


def _unanswered(reply: ParsedReply, done: Applied, asked: Sequence[AskedAbout]) -> list[AskedAbout]:
    """The asked items this reply recorded nothing for, when some of it was kept as a note."""
    kept = reply.notes or reply.not_understood or reply.questions or reply.unknown_refs
    # A closed item is answered by the closed block, not listed as unanswered too.
    answered = {c.ref for c in done.changes if _answers(c)} | set(done.problems) | set(done.closed)
    if not kept and (answered or not asked):
        return []
    return [a for a in asked if a.ref not in answered]


def _answers(change: ConfirmedChange) -> bool:
    """Did the change record more than a note (a status, a number, a date, a week's answer)?"""
    said = (change.status, change.percent, change.due_on, change.period, change.minutes)
    return any(value is not None for value in said)
