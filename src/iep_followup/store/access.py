"""The access log: one cheap insert per view, export, sign-in or desk action; read per student."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, literal
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from iep_followup.privacy import Access, AccessEntry
from iep_followup.store.models import (
    AccessLog,
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
    students: frozenset[int],
    detail: str,
) -> None:
    """One row per student a held reply is shown for, in one INSERT ... SELECT; a reply shown
    for no student (from someone on no team, to an administrator) gets one row without one."""
    if not students:
        record(session, now, action, actor=actor, client=client, student=None, detail=detail)
        return
    rows = sa_select(
        literal(now, UTCDateTime()),
        literal(actor),
        literal(client[:64]),
        literal(action.value),
        col(Student.external_id),
        literal(detail[:MAX_DETAIL]),
    ).where(col(Student.id).in_(sorted(students)))
    names = ["created_at", "actor", "client", "action", "student", "detail"]
    session.execute(insert(table_of(AccessLog)).from_select(names, rows))


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
