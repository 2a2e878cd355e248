"""What a confirmation tells an owner about their reply: what was recorded, what was not, what next."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from iep_followup.inbound.grammar import ParsedReply
from iep_followup.store.replies import RecordedUpdate


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


@dataclass(frozen=True)
class ConfirmedQuestion:
    """A line that could mean two things, and how to answer it."""

    ref: str | None
    line: str
    percents: list[int]
    example: str


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
    )


def confirmation(recipient: str, reply: ParsedReply, done: Applied) -> ConfirmationContext:
    """The confirmation's variables: what was recorded, what was not understood, what to do next."""
    refs = [c.ref for c in done.changes] or ["A1"]
    return ConfirmationContext(
        recipient=Addressed(recipient),
        students=sorted({c.student for c in done.changes}),
        changes=list(done.changes),
        notes=list(reply.notes),
        not_understood=list(reply.not_understood),
        unknown_refs=list(reply.unknown_refs),
        problems=list(done.problems),
        example=f"{refs[0]} 60%",
        questions=[
            ConfirmedQuestion(
                ref=q.ref,
                line=q.line,
                percents=list(q.percents),
                # Naming the item, or giving the one number, settles it.
                example=f"{q.ref} {q.percents[-1]}%"
                if q.ref and q.percents
                else f"{q.ref or refs[0]} {q.line}",
            )
            for q in reply.questions
        ],
        closed=list(done.closed),
    )
