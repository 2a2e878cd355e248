"""Reads for status and balance. Each function runs a fixed number of queries, whatever the size."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from iep_followup.addresses import address_key
from iep_followup.domain import ItemKind, ItemStatus, Relationship, Role
from iep_followup.errors import NotFoundError
from iep_followup.store.models import (
    ActionItem,
    Concern,
    Meeting,
    Membership,
    Person,
    Strength,
    Student,
    Update,
)
from iep_followup.views import (
    FailingAddress,
    ItemView,
    MemberView,
    StudentStatus,
    UpdateView,
)


def _items_query() -> Select[*tuple[Any, ...]]:
    """One row per item, in ItemView's field order, with its latest update.

    Columns rather than entities, and the latest update found per item through the index
    (not by grouping the whole history): a digest reads 160 items, whatever the district holds.
    """
    latest = (
        sa_select(func.max(Update.id))
        .where(col(Update.item_id) == col(ActionItem.id))
        .correlate(ActionItem)
        .scalar_subquery()
    )
    last = aliased(Update)
    return (
        sa_select(
            col(ActionItem.id),
            col(ActionItem.key),
            col(Student.external_id),
            col(Student.name),
            func.coalesce(col(Concern.text), "").label("concern_text"),
            col(ActionItem.title),
            col(Person.name),
            col(Person.email),
            col(Membership.role),
            col(ActionItem.due_on),
            col(ActionItem.cadence),
            col(ActionItem.status),
            col(ActionItem.percent),
            col(ActionItem.service_minutes_per_week),
            col(last.created_at),
            col(last.note),
            col(ActionItem.closed_at),
            col(ActionItem.kind),
            col(ActionItem.accommodation),
        )
        .join(Student, col(Student.id) == ActionItem.student_id)
        # An accommodation's check-in may answer no concern.
        .outerjoin(Concern, col(Concern.id) == ActionItem.concern_id)
        .join(Person, col(Person.id) == ActionItem.owner_id)
        .join(
            Membership,
            (col(Membership.student_id) == ActionItem.student_id)
            & (col(Membership.person_id) == ActionItem.owner_id),
        )
        .outerjoin(last, col(last.id) == latest)
        .order_by(col(Student.external_id), col(ActionItem.due_on), col(ActionItem.id))
    )


def _item_view(row: Sequence[Any]) -> ItemView:
    return ItemView(*row)


def get_student(session: Session, external_id: str) -> Student:
    student = session.exec(select(Student).where(Student.external_id == external_id)).first()
    if student is None:
        raise NotFoundError(f"no student with id {external_id!r}; `iep-followup status` lists them")
    return student


def get_person(session: Session, email: str) -> Person:
    person = session.exec(select(Person).where(Person.email == address_key(email))).first()
    if person is None:
        raise NotFoundError(f"nobody with email {email!r} is on any team")
    return person


def student_id(session: Session, external_id: str) -> int:
    found = get_student(session, external_id).id
    assert found is not None
    return found


def person_id(session: Session, email: str) -> int:
    found = get_person(session, email).id
    assert found is not None
    return found


def get_item(session: Session, item_id: int) -> ActionItem:
    item = session.get(ActionItem, item_id)
    if item is None:
        raise NotFoundError(f"no action item {item_id}; `iep-followup status` lists them")
    return item


def item_views(
    session: Session,
    *,
    student_id: int | None = None,
    owner_id: int | None = None,
    open_only: bool = False,
    student_ids: Sequence[int] | None = None,
) -> list[ItemView]:
    query = _items_query()
    if student_ids is not None:
        query = query.where(col(ActionItem.student_id).in_(student_ids))
    if student_id is not None:
        query = query.where(col(ActionItem.student_id) == student_id)
    if owner_id is not None:
        query = query.where(col(ActionItem.owner_id) == owner_id)
    if open_only:
        query = query.where(col(ActionItem.status).not_in([ItemStatus.DONE, ItemStatus.DROPPED]))
    return [_item_view(row) for row in session.execute(query).all()]


def item_view(session: Session, item_id: int) -> ItemView:
    row = session.execute(_items_query().where(col(ActionItem.id) == item_id)).first()
    if row is None:
        raise NotFoundError(f"no action item {item_id}; `iep-followup status` lists them")
    return _item_view(row)


def members_by_student(
    session: Session, student_ids: Sequence[int] | None = None
) -> dict[int, list[MemberView]]:
    query = (
        select(Membership.student_id, Person, Membership.role, Membership.relationship)
        .join(Person, col(Person.id) == Membership.person_id)
        .order_by(col(Membership.student_id), col(Membership.id))
    )
    if student_ids is not None:
        query = query.where(col(Membership.student_id).in_(student_ids))
    grouped: dict[int, list[MemberView]] = defaultdict(list)
    for student_id, person, role, relationship in session.exec(query).all():
        assert person.id is not None
        grouped[student_id].append(
            MemberView(
                person.id,
                person.name,
                person.email,
                Role(role),
                person.language,
                Relationship(relationship) if relationship else None,
            )
        )
    return grouped


def student_name(session: Session, student_id: int) -> str:
    student = session.get(Student, student_id)
    if student is None:
        raise NotFoundError(f"no student {student_id}")
    return student.name


@dataclass(frozen=True)
class StudentRef:
    id: int
    external_id: str
    name: str


def students(session: Session, external_id: str | None = None) -> list[StudentRef]:
    query = sa_select(col(Student.id), col(Student.external_id), col(Student.name)).order_by(
        col(Student.external_id)
    )
    if external_id is not None:
        query = query.where(col(Student.external_id) == external_id)
    found = [StudentRef(*row) for row in session.execute(query).all()]
    if external_id is not None and not found:
        raise NotFoundError(f"no student with id {external_id!r}; `iep-followup status` lists them")
    return found


def item_owners_by_student(
    session: Session, student_ids: Sequence[int]
) -> dict[int, list[tuple[str, ItemStatus]]]:
    query = (
        select(ActionItem.student_id, Person.email, ActionItem.status)
        .join(Person, col(Person.id) == ActionItem.owner_id)
        .where(
            col(ActionItem.student_id).in_(student_ids),
            # The balance is about the plan's items; every teacher applies the accommodations.
            col(ActionItem.kind) != ItemKind.ACCOMMODATION,
        )
    )
    grouped: dict[int, list[tuple[str, ItemStatus]]] = defaultdict(list)
    for student_id, email, status in session.exec(query).all():
        grouped[student_id].append((email, ItemStatus(status)))
    return grouped


def student_status(session: Session, external_id: str) -> StudentStatus:
    student = get_student(session, external_id)
    assert student.id is not None
    meeting = session.exec(
        select(Meeting)
        .where(Meeting.student_id == student.id)
        .order_by(col(Meeting.held_on).desc(), col(Meeting.id).desc())
    ).first()
    strengths: tuple[str, ...] = ()
    if meeting is not None:
        strengths = tuple(
            session.exec(
                select(Strength.text)
                .where(Strength.meeting_id == meeting.id)
                .order_by(col(Strength.position))
            ).all()
        )
    return StudentStatus(
        external_id=student.external_id,
        name=student.name,
        school=student.school,
        grade=student.grade,
        meeting_on=meeting.held_on if meeting else None,
        meeting_kind=meeting.kind if meeting else None,
        strengths=strengths,
        members=tuple(members_by_student(session, [student.id]).get(student.id, [])),
        items=tuple(item_views(session, student_id=student.id)),
    )


def item_history(session: Session, item_id: int) -> list[UpdateView]:
    get_item(session, item_id)
    rows = session.exec(
        select(Update, Person.name)
        .outerjoin(Person, col(Person.id) == Update.author_id)
        .where(Update.item_id == item_id)
        .order_by(col(Update.id))
    ).all()
    return [
        UpdateView(
            u.item_id,
            u.created_at,
            name,
            u.source.value,
            u.status,
            u.percent,
            u.due_on,
            u.note,
            u.understood,
            u.period,
            u.minutes,
        )
        for u, name in rows
    ]


def failing_addresses(session: Session) -> list[FailingAddress]:
    rows = session.exec(
        select(Person).where(col(Person.mail_failing_at).is_not(None)).order_by(col(Person.name))
    ).all()
    return [FailingAddress(p.name, p.email, p.mail_failure_reason or "") for p in rows]
