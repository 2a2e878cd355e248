"""Reads and writes for update requests: what planning needs, and what a request email shows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, func, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from iep_followup.domain import FAMILY_ROLES, OPEN_STATUSES, Cadence, ItemKind, Role
from iep_followup.planning import ItemState, OwnerState, RequestState
from iep_followup.store.db import insert_rows
from iep_followup.store.models import (
    ActionItem,
    Concern,
    Meeting,
    Membership,
    Person,
    RequestItem,
    Strength,
    Student,
    Update,
    UpdateRequest,
    table_of,
)
from iep_followup.views import Contact, ItemDetail, LastUpdate, Recipient


def owner_ids(session: Session) -> list[int]:
    """Everyone who owns an open item with a check-in cadence, in id order."""
    return list(
        session.exec(
            select(ActionItem.owner_id)
            .where(
                col(ActionItem.status).in_(list(OPEN_STATUSES)),
                col(ActionItem.cadence) != Cadence.NONE,
            )
            .distinct()
            .order_by(col(ActionItem.owner_id))
        ).all()
    )


def owner_states(
    session: Session, default_timezone: str, person_ids: Sequence[int] | None = None
) -> list[OwnerState]:
    """Owners of open items with a cadence (these owners only, if given), with what planning
    needs. Three queries."""
    last_update = (
        sa_select(func.max(Update.created_at))
        .where(col(Update.item_id) == col(ActionItem.id))
        .scalar_subquery()
    )
    # The latest request naming the item is the one with the highest id; looked up by key so
    # that no plan scans update_request once per item (it fills up during a run, unanalyzed).
    last_asked = (
        sa_select(col(UpdateRequest.created_at))
        .where(
            col(UpdateRequest.id)
            == sa_select(func.max(RequestItem.request_id))
            .where(col(RequestItem.item_id) == col(ActionItem.id))
            .correlate(ActionItem)
            .scalar_subquery()
        )
        .scalar_subquery()
    )
    query = (
        sa_select(
            col(ActionItem.id),
            col(ActionItem.owner_id),
            col(ActionItem.cadence),
            col(ActionItem.due_on),
            col(ActionItem.created_at),
            last_update,
            last_asked,
            col(ActionItem.kind),
            col(Membership.away_until),
        )
        # The owner's place on the item's student's team: away from it, or not.
        .outerjoin(
            Membership,
            (col(Membership.student_id) == ActionItem.student_id)
            & (col(Membership.person_id) == ActionItem.owner_id),
        )
        .where(
            col(ActionItem.status).in_(list(OPEN_STATUSES)), col(ActionItem.cadence) != Cadence.NONE
        )
        .order_by(col(ActionItem.owner_id), col(ActionItem.id))
    )
    if person_ids is not None:
        query = query.where(col(ActionItem.owner_id).in_(person_ids))
    by_owner: dict[int, list[ItemState]] = defaultdict(list)
    for (
        item_id,
        owner_id,
        cadence,
        due_on,
        created_at,
        updated_at,
        asked_at,
        kind,
        away_until,
    ) in session.execute(query):
        contact = max(t for t in (created_at, updated_at, asked_at) if t is not None)
        by_owner[owner_id].append(
            ItemState(item_id, Cadence(cadence), due_on, contact, ItemKind(kind), away_until)
        )
    if not by_owner:
        return []
    owners = list(by_owner)
    people = session.execute(
        sa_select(
            col(Person.id),
            col(Person.timezone),
            col(Person.mail_failing_at),
        )
        .where(col(Person.id).in_(owners))
        .order_by(col(Person.id))
    ).all()
    latest_ids = (
        sa_select(func.max(UpdateRequest.id))
        .where(col(UpdateRequest.person_id).in_(owners))
        .group_by(col(UpdateRequest.person_id))
        .scalar_subquery()
    )
    latest = {
        r.person_id: RequestState(r.id or 0, r.cycle_on, r.created_at, r.answered_at, r.reminded_at)
        for r in session.exec(
            select(UpdateRequest).where(col(UpdateRequest.id).in_(latest_ids))
        ).all()
    }
    return [
        OwnerState(
            person_id=person_id,
            timezone=timezone or default_timezone,
            mail_failing=failing_at is not None,
            items=tuple(by_owner[person_id]),
            last_request=latest.get(person_id),
        )
        for person_id, timezone, failing_at in people
    ]


def recipients(
    session: Session, person_ids: Sequence[int], default_timezone: str
) -> dict[int, Recipient]:
    family = set(
        session.exec(
            select(Membership.person_id).where(
                col(Membership.person_id).in_(person_ids),
                col(Membership.role).in_(sorted(FAMILY_ROLES)),
            )
        ).all()
    )
    people = session.execute(
        sa_select(
            col(Person.id),
            col(Person.name),
            col(Person.email),
            col(Person.language),
            col(Person.timezone),
        ).where(col(Person.id).in_(person_ids))
    ).all()
    return {
        person_id: Recipient(
            person_id, name, email, language, timezone or default_timezone, person_id in family
        )
        for person_id, name, email, language, timezone in people
    }


def item_details(session: Session, item_ids: Sequence[int]) -> dict[int, ItemDetail]:
    """Items with their student and latest update; two queries for any number of items.

    Columns, not entities: a batch of requests shows thousands of items. The student's name
    is looked up by key for each item: joined, PostgreSQL hashed every student of the district
    for each batch of 200 owners.
    """
    student_name = (
        sa_select(col(Student.name))
        .where(col(Student.id) == col(ActionItem.student_id))
        .correlate(ActionItem)
        .scalar_subquery()
    )
    rows = session.execute(
        sa_select(
            col(ActionItem.id),
            col(ActionItem.student_id),
            student_name,
            col(ActionItem.title),
            func.coalesce(col(Concern.text), "").label("concern_text"),
            col(ActionItem.due_on),
            col(ActionItem.status),
            col(ActionItem.percent),
            col(ActionItem.kind),
            col(ActionItem.cadence),
            col(ActionItem.service_minutes_per_week),
        )
        # An accommodation's check-in may answer no concern.
        .outerjoin(Concern, col(Concern.id) == ActionItem.concern_id)
        .where(col(ActionItem.id).in_(item_ids))
    ).all()
    latest_ids = (
        sa_select(func.max(Update.id))
        .where(col(Update.item_id).in_(item_ids))
        .group_by(col(Update.item_id))
    ).scalar_subquery()
    last = {
        item_id: LastUpdate(at, status, percent, note, period, minutes)
        for item_id, at, status, percent, note, period, minutes in session.execute(
            sa_select(
                col(Update.item_id),
                col(Update.created_at),
                col(Update.status),
                col(Update.percent),
                col(Update.note),
                col(Update.period),
                col(Update.minutes),
            ).where(col(Update.id).in_(latest_ids))
        ).all()
    }
    details: dict[int, ItemDetail] = {}
    for row in rows:
        item_id, student_id, name, title, concern, due_on, status, percent = row[:8]
        details[item_id] = ItemDetail(
            item_id,
            student_id,
            name,
            title,
            concern,
            due_on,
            status,
            percent,
            last.get(item_id),
            kind=row.kind,
            cadence=row.cadence,
            minutes_per_week=row.service_minutes_per_week,
        )
    return details


def strengths_by_student(session: Session, student_ids: Sequence[int]) -> dict[int, list[str]]:
    """The strengths named at each student's latest meeting, in the order they were said."""
    latest = (
        sa_select(func.max(Meeting.id))
        .where(col(Meeting.student_id).in_(student_ids))
        .group_by(col(Meeting.student_id))
    ).scalar_subquery()
    rows = session.exec(
        select(Meeting.student_id, Strength.text)
        .join(Strength, col(Strength.meeting_id) == Meeting.id)
        .where(col(Meeting.id).in_(latest))
        .order_by(col(Meeting.student_id), col(Strength.position))
    ).all()
    grouped: dict[int, list[str]] = defaultdict(list)
    for student_id, text in rows:
        grouped[student_id].append(text)
    return grouped


def case_managers(session: Session, student_ids: Sequence[int]) -> dict[int, Contact]:
    rows = session.exec(
        select(Membership.student_id, Person.name, Person.email)
        .join(Person, col(Person.id) == Membership.person_id)
        .where(col(Membership.student_id).in_(student_ids), Membership.role == Role.CASE_MANAGER)
        .order_by(col(Membership.id))
    ).all()
    found: dict[int, Contact] = {}
    for student_id, name, email in rows:
        found.setdefault(student_id, Contact(name, email))
    return found


@dataclass(frozen=True)
class NewRequest:
    id: int
    person_id: int
    cycle_on: date
    expires_at: datetime
    refs: list[tuple[str, int]]  # ("A1", item id), ... in the order the email shows them


def create_requests(
    session: Session,
    wanted: Sequence[tuple[int, date, Sequence[int]]],
    now: datetime,
    expires_at: datetime,
) -> dict[int, NewRequest]:
    """Insert a request and its A1, A2, ... lines for each (owner, cycle, items), in two statements.

    Owners who already have a request for that cycle (another run got there first) are left
    out of the result.
    """
    if not wanted:
        return {}
    requests = table_of(UpdateRequest)
    rows = [
        {"person_id": p, "cycle_on": c, "created_at": now, "expires_at": expires_at}
        for p, c, _ in wanted
    ]
    inserted = insert_rows(
        session,
        requests,
        rows,
        skip_duplicates=True,
        returning=[requests.c.id, requests.c.person_id],
    )
    ids = {row.person_id: row.id for row in inserted}
    created = {
        person_id: NewRequest(
            ids[person_id],
            person_id,
            cycle_on,
            expires_at,
            [(f"A{n}", item_id) for n, item_id in enumerate(item_ids, 1)],
        )
        for person_id, cycle_on, item_ids in wanted
        if person_id in ids
    }
    lines = [
        {"request_id": new.id, "item_id": item_id, "ref": ref}
        for new in created.values()
        for ref, item_id in new.refs
    ]
    if lines:
        insert_rows(session, table_of(RequestItem), lines)
    return created


def discard_requests(session: Session, request_ids: Sequence[int]) -> None:
    """Undo create_requests for owners whose email could not be written (a bad template or address)."""
    if request_ids:
        session.execute(delete(RequestItem).where(col(RequestItem.request_id).in_(request_ids)))
        session.execute(delete(UpdateRequest).where(col(UpdateRequest.id).in_(request_ids)))


@dataclass(frozen=True)
class SentRequest:
    """An update request as it was sent: whose, for which cycle, until when its key works."""

    id: int
    person_id: int
    cycle_on: date
    expires_at: datetime
    answered_at: datetime | None


def sent_request(session: Session, request_id: int) -> SentRequest | None:
    request = session.get(UpdateRequest, request_id)
    if request is None:
        return None
    assert request.id is not None
    return SentRequest(
        request.id, request.person_id, request.cycle_on, request.expires_at, request.answered_at
    )


def mark_answered(session: Session, request_id: int, now: datetime) -> None:
    session.execute(
        update(UpdateRequest)
        .where(col(UpdateRequest.id) == request_id, col(UpdateRequest.answered_at).is_(None))
        .values(answered_at=now)
    )


def mark_reminded(session: Session, request_ids: Sequence[int], now: datetime) -> None:
    if request_ids:
        session.execute(
            update(UpdateRequest)
            .where(col(UpdateRequest.id).in_(request_ids))
            .values(reminded_at=now)
        )


def requests_with_refs(
    session: Session, request_ids: Sequence[int]
) -> dict[int, tuple[SentRequest, list[tuple[str, int]]]]:
    """Requests and their lines ("A1", item id), ... in the order their emails showed them.

    Two queries for any number of requests; ids not found are left out.
    """
    if not request_ids:
        return {}
    refs: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for request_id, ref, item_id in session.execute(
        sa_select(col(RequestItem.request_id), col(RequestItem.ref), col(RequestItem.item_id))
        .where(col(RequestItem.request_id).in_(request_ids))
        .order_by(col(RequestItem.id))
    ):
        refs[request_id].append((ref, item_id))
    rows = session.execute(
        sa_select(
            col(UpdateRequest.id),
            col(UpdateRequest.person_id),
            col(UpdateRequest.cycle_on),
            col(UpdateRequest.expires_at),
            col(UpdateRequest.answered_at),
        ).where(col(UpdateRequest.id).in_(request_ids))
    )
    return {row[0]: (SentRequest(*row), refs[row[0]]) for row in rows}


def request_refs(session: Session, request_id: int) -> list[tuple[str, int]]:
    """A request's lines: ("A1", item id), ... in the order its email showed them."""
    refs = session.exec(
        select(RequestItem.ref, RequestItem.item_id)
        .where(RequestItem.request_id == request_id)
        .order_by(col(RequestItem.id))
    ).all()
    return [(ref, item_id) for ref, item_id in refs]
