"""An item's history: append an update (status, percent, date, note) or a new owner, and move the item."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import insert, update
from sqlmodel import Session, SQLModel, col, select

from iep_followup.domain import (
    Cadence,
    ItemKind,
    ItemProgress,
    ItemStatus,
    PeriodOutcome,
    UpdateInput,
    UpdateSource,
    recorded_change,
    transition,
)
from iep_followup.errors import NotFoundError, ValidationError
from iep_followup.store import queries
from iep_followup.store.models import (
    ActionItem,
    Meeting,
    Membership,
    Person,
    RequestItem,
    Student,
    Update,
    UpdateRequest,
)


def apply_update(
    session: Session,
    item: ActionItem,
    author_id: int | None,
    update: UpdateInput,
    source: UpdateSource,
    now: datetime,
    inbound_id: int | None = None,
    *,
    answers_requests: bool = True,
    record: bool = True,
    understood: bool = False,
) -> Update:
    """Append one history entry and move the item to its new state, in the caller's transaction.

    A ValidationError is raised before anything changes, so a caller need not wrap each call
    in a savepoint. A caller applying several updates at once may leave marking requests
    answered (`answers_requests=False`: `mark_answered`) and writing the history rows
    (`record=False`: `record_history`) to one statement each. `understood`: the update was
    read from the owner's sentence rather than given as a command.
    """
    before = item_progress(item)
    after = transition(before, update, now=now, meeting_date=_meeting_date(session, item))
    for name, value in dataclasses.asdict(after).items():
        setattr(item, name, value)
    # What the report means for this kind of item: a routine's "done" is this period's "yes".
    update = recorded_change(before.kind, update)
    # The history row holds what changed, including what the rules derived
    # (100% closes the item, so the row says "done" as well).
    row = Update(
        item_id=item.id or 0,
        author_id=author_id,
        created_at=now,
        status=after.status if after.status is not before.status else update.status,
        percent=after.percent if after.percent != before.percent else update.percent,
        due_on=update.due_on,
        note=update.note,
        source=source,
        inbound_id=inbound_id,
        understood=understood,
        period=update.period,
        minutes=update.minutes,
    )
    if record:
        session.add(row)
    if (
        answers_requests
        and author_id is not None
        and author_id == item.owner_id
        and item.id is not None
    ):
        mark_answered(session, [item.id], author_id, now)
    return row


def item_progress(item: ActionItem) -> ItemProgress:
    """The item's progress as a value, for domain.transition."""
    names = (f.name for f in dataclasses.fields(ItemProgress))
    return ItemProgress(**{name: getattr(item, name) for name in names})


def record_history(session: Session, rows: Sequence[Update]) -> None:
    """Insert history rows made by apply_update(record=False), in one statement."""
    if rows:
        table = SQLModel.metadata.tables[str(Update.__tablename__)]
        columns = [c.name for c in table.columns if c.name != "id"]
        session.execute(insert(table), [{c: getattr(row, c) for c in columns} for row in rows])


def mark_answered(session: Session, item_ids: Sequence[int], owner_id: int, now: datetime) -> None:
    """The owner said something about these items: any open request of theirs that asked is answered."""
    asked = select(RequestItem.request_id).where(col(RequestItem.item_id).in_(item_ids))
    session.execute(
        update(UpdateRequest)
        .where(
            col(UpdateRequest.id).in_(asked),
            col(UpdateRequest.person_id) == owner_id,
            col(UpdateRequest.answered_at).is_(None),
        )
        .values(answered_at=now)
        # Not fetched back: a request already loaded in this session keeps its old answered_at
        # in memory until the commit expires it (ingest sets its own request's by hand).
        .execution_options(synchronize_session=False)
    )


def items_with_students(
    session: Session, item_ids: Sequence[int]
) -> dict[int, tuple[ActionItem, str]]:
    """The items and their student's name, in one query (the caller keeps the items: the session
    holds only weak references)."""
    found = session.exec(
        select(ActionItem, Student.name)
        .join(Student, col(Student.id) == ActionItem.student_id)
        .where(col(ActionItem.id).in_(item_ids))
    ).all()
    return {item.id or 0: (item, name) for item, name in found}


def reassign(
    session: Session,
    item: ActionItem,
    owner: Person,
    author_id: int | None,
    source: UpdateSource,
    now: datetime,
) -> Update:
    assert owner.id is not None
    member = session.exec(
        select(Membership).where(
            Membership.student_id == item.student_id, Membership.person_id == owner.id
        )
    ).first()
    if member is None:
        raise ValidationError(
            f"{owner.email} is not on this student's team; add them first", field="owner"
        )
    previous = session.get(Person, item.owner_id)
    item.owner_id = owner.id
    row = Update(
        item_id=item.id or 0,
        author_id=author_id,
        created_at=now,
        owner_id=owner.id,
        source=source,
        note=f"Reassigned from {previous.name if previous else 'nobody'} to {owner.name}.",
    )
    session.add(row)
    return row


def _meeting_date(session: Session, item: ActionItem) -> date:
    meeting = session.get(Meeting, item.meeting_id)
    if meeting is None:
        raise NotFoundError(f"meeting {item.meeting_id} is missing")
    return meeting.held_on


def update_item(
    session: Session,
    item_id: int,
    change: UpdateInput,
    *,
    by: str | None,
    source: UpdateSource,
    now: datetime,
) -> None:
    """apply_update for an item named by id, written by the person with the address `by` (or no one)."""
    item = queries.get_item(session, item_id)
    author = queries.get_person(session, by) if by else None
    apply_update(session, item, author.id if author else None, change, source, now)
    session.flush()


def reassign_item(
    session: Session,
    item_id: int,
    owner_email: str,
    *,
    by: str | None,
    source: UpdateSource,
    now: datetime,
) -> None:
    """reassign for an item named by id, to the team member with the address `owner_email`."""
    item = queries.get_item(session, item_id)
    owner = queries.get_person(session, owner_email)
    author = queries.get_person(session, by) if by else None
    reassign(session, item, owner, author.id if author else None, source, now)
    session.flush()


@dataclass(frozen=True)
class ReplyUpdate:
    """One item's update read from a reply."""

    item_id: int
    change: UpdateInput
    understood: bool = False


@dataclass(frozen=True)
class RecordedUpdate:
    """What one history row says, including what the rules derived (100% -> done)."""

    item_id: int
    title: str
    student_name: str
    status: ItemStatus | None
    percent: int | None
    due_on: date | None
    note: str | None
    understood: bool
    period: PeriodOutcome | None = None  # a routine's answer for this period
    minutes: int | None = None
    cadence: Cadence = Cadence.WEEKLY


@dataclass(frozen=True)
class RefusedUpdate:
    item_id: int
    reason: str


def routine_items(session: Session, item_ids: Sequence[int]) -> set[int]:
    """Which of these items are routines (their check-ins record a period, never close them)."""
    if not item_ids:
        return set()
    found = session.exec(
        select(ActionItem.id).where(
            col(ActionItem.id).in_(item_ids), col(ActionItem.kind) == ItemKind.ROUTINE
        )
    )
    return {item_id for item_id in found if item_id is not None}


def apply_reply_updates(
    session: Session,
    wanted: Sequence[ReplyUpdate],
    *,
    author_id: int | None,
    owner_id: int,
    inbound_id: int,
    now: datetime,
) -> list[RecordedUpdate | RefusedUpdate | None]:
    """Apply a reply's updates, in order; each one's outcome (None: no such item any more).

    The history in one statement, and one more for every open request of the owner's that
    asked about an item that changed.
    """
    items = items_with_students(session, [w.item_id for w in wanted])
    outcomes: list[RecordedUpdate | RefusedUpdate | None] = []
    history: list[Update] = []
    for want in wanted:
        found = items.get(want.item_id)
        if found is None:
            outcomes.append(None)
            continue
        item, student_name = found
        try:
            # No savepoint needed: a refused update raises before it changes anything.
            row = apply_update(
                session,
                item,
                author_id,
                want.change,
                UpdateSource.EMAIL,
                now,
                inbound_id=inbound_id,
                answers_requests=False,
                record=False,
                understood=want.understood,
            )
        except ValidationError as exc:
            outcomes.append(RefusedUpdate(want.item_id, str(exc)))
            continue
        history.append(row)
        outcomes.append(
            RecordedUpdate(
                want.item_id,
                item.title,
                student_name,
                row.status,
                row.percent,
                row.due_on,
                row.note,
                row.understood,
                row.period,
                row.minutes,
                item.cadence,
            )
        )
    record_history(session, history)
    changed = [o.item_id for o in outcomes if isinstance(o, RecordedUpdate)]
    if changed:
        mark_answered(session, changed, owner_id, now)
    return outcomes
