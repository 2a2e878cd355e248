"""An item's history: append an update (status, percent, date, note) or a new owner, and move the item."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import ColumnElement, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from iep_followup.domain import (
    ItemProgress,
    UpdateInput,
    UpdateSource,
    moved,
)
from iep_followup.errors import NotFoundError, ValidationError
from iep_followup.store import queries
from iep_followup.store.models import (
    ActionItem,
    Meeting,
    Membership,
    Person,
    RequestItem,
    Update,
    UpdateRequest,
    table_of,
)

_REQUEST, _REQUEST_ITEM = table_of(UpdateRequest), table_of(RequestItem)


def apply_update(
    session: Session,
    item: ActionItem,
    author_id: int | None,
    update: UpdateInput,
    source: UpdateSource,
    now: datetime,
    inbound_id: int | None = None,
    understood: bool = False,
) -> Update:
    """Append one history entry and move the item to its new state, in the caller's transaction.

    A ValidationError is raised before anything changes, so a caller need not wrap each call
    in a savepoint. `understood`: the words were read as commands (a held reply applied at the
    desk). (A reply's updates take store/replies.py: the same rules, fewer statements.)
    """
    after, update = moved(
        item_progress(item),
        update,
        now=now,
        meeting_date=_meeting_date(session, item),
        source=source,
    )
    for name, value in dataclasses.asdict(after).items():
        setattr(item, name, value)
    row = Update(
        item_id=item.id or 0,
        author_id=author_id,
        created_at=now,
        status=update.status,
        percent=update.percent,
        due_on=update.due_on,
        note=update.note,
        source=source,
        inbound_id=inbound_id,
        period=update.period,
        minutes=update.minutes,
        understood=understood,
        missed_reason=update.missed,
        missed_minutes=update.missed_minutes,
        makeup=update.makeup,
    )
    session.add(row)
    if author_id is not None and author_id == item.owner_id and item.id is not None:
        mark_answered(session, [item.id], author_id, now)
    return row


def item_progress(item: ActionItem) -> ItemProgress:
    """The item's progress as a value, for domain.transition."""
    names = (f.name for f in dataclasses.fields(ItemProgress))
    return ItemProgress(**{name: getattr(item, name) for name in names})


def mark_answered(
    session: Session,
    item_ids: Sequence[int],
    owner_id: int,
    now: datetime,
    *,
    request_id: int | None = None,
) -> None:
    """The owner said something about these items: any open request of theirs that asked is
    answered; and `request_id`, the owner's request a reply answered, even when nothing changed.
    One statement, or none when there is nothing to mark."""
    answered: list[ColumnElement[bool]] = []
    if item_ids:
        asked = sa_select(_REQUEST_ITEM.c.request_id).where(_REQUEST_ITEM.c.item_id.in_(item_ids))
        answered.append(_REQUEST.c.id.in_(asked))
    if request_id is not None:
        answered.append(_REQUEST.c.id == request_id)
    if not answered:
        return
    # Core, not the ORM: a request already loaded in this session keeps its old answered_at
    # in memory until the commit expires it.
    session.execute(
        update(_REQUEST)
        .where(or_(*answered), _REQUEST.c.person_id == owner_id, _REQUEST.c.answered_at.is_(None))
        .values(answered_at=now)
    )


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
