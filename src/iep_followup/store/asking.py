"""Reads and writes for update requests: what planning needs, and what a request email shows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from iep_followup.domain import OPEN_STATUSES, Cadence, Role
from iep_followup.planning import ItemState, OwnerState, RequestState
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
)
from iep_followup.views import Contact, ItemDetail, LastUpdate, Recipient


def owner_states(session: Session, default_timezone: str) -> list[OwnerState]:
    """Every owner of an open item with a cadence, with what planning needs. Three queries."""
    last_update = (
        sa_select(func.max(Update.created_at))
        .where(col(Update.item_id) == col(ActionItem.id))
        .scalar_subquery()
    )
    last_asked = (
        sa_select(func.max(UpdateRequest.created_at))
        .join(RequestItem, col(RequestItem.request_id) == col(UpdateRequest.id))
        .where(col(RequestItem.item_id) == col(ActionItem.id))
        .scalar_subquery()
    )
    items = session.execute(
        sa_select(
            col(ActionItem.id),
            col(ActionItem.owner_id),
            col(ActionItem.cadence),
            col(ActionItem.due_on),
            col(ActionItem.created_at),
            last_update,
            last_asked,
        )
        .where(
            col(ActionItem.status).in_(list(OPEN_STATUSES)), col(ActionItem.cadence) != Cadence.NONE
        )
        .order_by(col(ActionItem.owner_id), col(ActionItem.id))
    ).all()
    by_owner: dict[int, list[ItemState]] = defaultdict(list)
    for item_id, owner_id, cadence, due_on, created_at, updated_at, asked_at in items:
        contact = max(t for t in (created_at, updated_at, asked_at) if t is not None)
        by_owner[owner_id].append(ItemState(item_id, Cadence(cadence), due_on, contact))
    if not by_owner:
        return []
    people = session.exec(select(Person).where(col(Person.id).in_(list(by_owner)))).all()
    latest_ids = (
        sa_select(func.max(UpdateRequest.id))
        .group_by(col(UpdateRequest.person_id))
        .scalar_subquery()
    )
    latest = {
        r.person_id: RequestState(r.id or 0, r.cycle_on, r.created_at, r.answered_at, r.reminded_at)
        for r in session.exec(
            select(UpdateRequest).where(
                col(UpdateRequest.id).in_(latest_ids),
                col(UpdateRequest.person_id).in_(list(by_owner)),
            )
        ).all()
    }
    return [
        OwnerState(
            person_id=p.id or 0,
            timezone=p.timezone or default_timezone,
            away_until=p.away_until,
            mail_failing=p.mail_failing_at is not None,
            items=tuple(by_owner[p.id or 0]),
            last_request=latest.get(p.id or 0),
        )
        for p in sorted(people, key=lambda p: p.id or 0)
    ]


def recipients(
    session: Session, person_ids: Sequence[int], default_timezone: str
) -> dict[int, Recipient]:
    family_roles = [Role.PARENT, Role.GUARDIAN, Role.STUDENT]
    family = set(
        session.exec(
            select(Membership.person_id).where(
                col(Membership.person_id).in_(person_ids), col(Membership.role).in_(family_roles)
            )
        ).all()
    )
    return {
        p.id or 0: Recipient(
            p.id or 0, p.name, p.email, p.language, p.timezone or default_timezone, p.id in family
        )
        for p in session.exec(select(Person).where(col(Person.id).in_(person_ids))).all()
    }


def item_details(session: Session, item_ids: Sequence[int]) -> dict[int, ItemDetail]:
    """Items with their student and latest update; two queries for any number of items."""
    rows = session.exec(
        select(ActionItem, Student.name, Concern.text)
        .join(Student, col(Student.id) == ActionItem.student_id)
        .join(Concern, col(Concern.id) == ActionItem.concern_id)
        .where(col(ActionItem.id).in_(item_ids))
    ).all()
    latest_ids = (
        sa_select(func.max(Update.id))
        .where(col(Update.item_id).in_(item_ids))
        .group_by(col(Update.item_id))
    ).scalar_subquery()
    last = {
        u.item_id: LastUpdate(u.created_at, u.status, u.percent, u.note)
        for u in session.exec(select(Update).where(col(Update.id).in_(latest_ids))).all()
    }
    return {
        item.id or 0: ItemDetail(
            item.id or 0,
            item.student_id,
            student_name,
            item.title,
            concern,
            item.due_on,
            item.status,
            item.percent,
            last.get(item.id or 0),
        )
        for item, student_name, concern in rows
    }


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


def create_request(
    session: Session,
    person_id: int,
    cycle_on: date,
    item_ids: Sequence[int],
    now: datetime,
    expires_at: datetime,
) -> tuple[UpdateRequest, list[tuple[str, int]]] | None:
    """Insert the request and its A1, A2, ... lines; None when this owner already has one for the cycle."""
    request = UpdateRequest(
        person_id=person_id, cycle_on=cycle_on, created_at=now, expires_at=expires_at
    )
    try:
        with session.begin_nested():
            session.add(request)
            session.flush()
    except IntegrityError:
        return None
    assert request.id is not None
    refs = [(f"A{n}", item_id) for n, item_id in enumerate(item_ids, 1)]
    session.add_all(
        RequestItem(request_id=request.id, item_id=item_id, ref=ref) for ref, item_id in refs
    )
    return request, refs


def request_with_refs(
    session: Session, request_id: int
) -> tuple[UpdateRequest, list[tuple[str, int]]] | None:
    request = session.get(UpdateRequest, request_id)
    if request is None:
        return None
    refs = session.exec(
        select(RequestItem.ref, RequestItem.item_id)
        .where(RequestItem.request_id == request_id)
        .order_by(col(RequestItem.id))
    ).all()
    return request, [(ref, item_id) for ref, item_id in refs]
