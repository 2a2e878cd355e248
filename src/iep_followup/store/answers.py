"""One-tap answers' reads and writes: the item a link names, and its update with source web_link.

Values in and out, like the rest of the store; the rules (which token, whose item, how often)
are the service's (services/answers.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from iep_followup.domain import ItemKind, ItemStatus, PeriodOutcome, UpdateInput, UpdateSource
from iep_followup.store import texts, updates
from iep_followup.store.models import (
    ActionItem,
    Person,
    RequestItem,
    Student,
    Update,
    UpdateRequest,
)


@dataclass(frozen=True)
class AnswerTarget:
    """One item of one request, as an answer link names it, with what its page shows."""

    request_id: int
    ref: str  # as the email shows it: A1
    person_id: int  # the request's owner
    expires_at: datetime
    item_id: int
    item_owner_id: int  # who holds the item now: another owner means it was reassigned
    owner_email: str
    owner_language: str
    student_name: str
    title: str  # in the owner's language when the meeting gave one
    due_on: date
    kind: ItemKind = ItemKind.TASK
    minutes_per_week: int | None = None  # service minutes promised: the page asks how many
    status: ItemStatus = ItemStatus.OPEN  # done or dropped: the link cannot change it


@dataclass(frozen=True)
class RecordedAnswer:
    """What the history row of an answer says, including what the rules derived."""

    status: ItemStatus | None
    due_on: date | None
    note: str | None
    period: PeriodOutcome | None = None  # a routine's answer for this period
    minutes: int | None = None  # service minutes given


def target(session: Session, request_id: int, ref: str) -> AnswerTarget | None:
    """The request's item with this reference (A1, A2, ...); None when either does not exist."""
    request = session.get(UpdateRequest, request_id)
    if request is None:
        return None
    found = session.exec(
        select(ActionItem, Student.name)
        .join(RequestItem, col(RequestItem.item_id) == ActionItem.id)
        .join(Student, col(Student.id) == ActionItem.student_id)
        .where(RequestItem.request_id == request_id, RequestItem.ref == ref)
    ).first()
    owner = session.get(Person, request.person_id)
    if found is None or owner is None:
        return None
    item, student_name = found
    title = texts.request_phrasebook(session, request_id).shown(item.title, owner.language)
    return AnswerTarget(
        request_id,
        ref,
        request.person_id,
        request.expires_at,
        item.id or 0,
        item.owner_id,
        owner.email,
        owner.language,
        student_name,
        title.text,
        item.due_on,
        item.kind,
        item.service_minutes_per_week,
        item.status,
    )


def record(
    session: Session,
    item_id: int,
    change: UpdateInput,
    *,
    owner_id: int,
    inbound_id: int,
    now: datetime,
) -> RecordedAnswer:
    """Apply the answer through the same function and domain transition as a reply's updates.

    Any open request of the owner's that asked about the item is answered. A refused change
    raises ValidationError before anything changes.
    """
    item = session.get(ActionItem, item_id)
    assert item is not None
    row = updates.apply_update(
        session, item, owner_id, change, UpdateSource.WEB_LINK, now, inbound_id=inbound_id
    )
    session.flush()
    return _recorded(row)


def recorded(session: Session, inbound_id: int, item_id: int) -> RecordedAnswer | None:
    """The update an earlier answer (its inbox row) recorded on this item, if any."""
    row = session.exec(
        select(Update).where(Update.inbound_id == inbound_id, Update.item_id == item_id)
    ).first()
    return None if row is None else _recorded(row)


def _recorded(row: Update) -> RecordedAnswer:
    return RecordedAnswer(row.status, row.due_on, row.note, row.period, row.minutes)
