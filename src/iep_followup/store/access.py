"""The access log: one cheap insert per view, export, sign-in or desk action; read per student."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, insert, literal
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from iep_followup.domain import Role
from iep_followup.privacy import Access, AccessEntry
from iep_followup.store.models import (
    AccessLog,
    InboundMessage,
    Membership,
    Person,
    Student,
    table_of,
)
from iep_followup.store.types import UTCDateTime

MAX_DETAIL = 500


def record(
    session: Session,
    now: datetime,
    action: Access,
    *,
    actor: str,
    client: str,
    student: str | None,
    detail: str = "",
) -> None:
    session.execute(
        insert(table_of(AccessLog)).values(
            created_at=now,
            actor=actor,
            client=client[:64],
            action=action.value,
            student=student,
            detail=detail[:MAX_DETAIL],
        )
    )


def record_held(
    session: Session,
    now: datetime,
    action: Access,
    *,
    actor: str,
    client: str,
    inbound_id: int,
    scope: str | None,
    detail: str,
) -> None:
    """One row per student a held reply is shown for (its sender's students that `scope`, a
    case manager's address, sees; any for None), in one INSERT ... SELECT; a reply from
    someone on no team gets one row without a student."""
    table = table_of(AccessLog)
    sender = (
        sa_select(col(InboundMessage.person_id))
        .where(col(InboundMessage.id) == inbound_id)
        .scalar_subquery()
    )
    rows = (
        sa_select(
            literal(now, UTCDateTime()),
            literal(actor),
            literal(client[:64]),
            literal(action.value),
            col(Student.external_id),
            literal(detail[:MAX_DETAIL]),
        )
        .join(Membership, col(Membership.student_id) == Student.id)
        .where(col(Membership.person_id) == sender)
    )
    if scope is not None:
        rows = rows.where(col(Student.id).in_(_caseload_of(scope)))
    names = ["created_at", "actor", "client", "action", "student", "detail"]
    done = session.execute(insert(table).from_select(names, rows))
    if not getattr(done, "rowcount", 0):
        record(session, now, action, actor=actor, client=client, student=None, detail=detail)


def _caseload_of(email: str) -> Select[int]:
    return (
        sa_select(col(Membership.student_id))
        .join(Person, col(Person.id) == Membership.person_id)
        .where(col(Person.email) == email, col(Membership.role) == Role.CASE_MANAGER)
    )


def entries(session: Session, student: str, limit: int = 1000) -> list[AccessEntry]:
    """The student's access log, newest first."""
    rows = session.exec(
        select(AccessLog)
        .where(col(AccessLog.student) == student)
        .order_by(col(AccessLog.created_at).desc(), col(AccessLog.id).desc())
        .limit(limit)
    ).all()
    return [
        AccessEntry(r.created_at, r.actor, r.client, Access(r.action), r.student, r.detail)
        for r in rows
    ]
