"""Forgetting a student: a dry run says what would go, per kind; the deed removes it in one
transaction and records who did it, when and from where (a row that itself survives)."""

from __future__ import annotations

from datetime import datetime

from iep_followup.desk import Reader
from iep_followup.errors import NotFoundError, ValidationError
from iep_followup.privacy import Access, ForgetReport
from iep_followup.services.authority import not_found
from iep_followup.store import access, forget
from iep_followup.store.db import Session


def forget_student(
    session: Session, external_id: str, *, apply: bool, actor: str, client: str, now: datetime
) -> ForgetReport:
    student_id = forget.student_row(session, external_id)
    if student_id is None:
        raise not_found(external_id)
    plan = forget.plan(session, student_id, external_id)
    counts = forget.counts(session, plan)
    if apply:
        forget.forget(session, plan)
        said = ", ".join(f"{kind} {n}" for kind, n in counts.items() if n)
        access.record(
            session,
            now,
            Access.FORGOTTEN,
            actor=actor,
            client=client,
            student=external_id,
            detail=said,
        )
    return ForgetReport(external_id, counts, done=apply)


def desk_forget_student(
    session: Session,
    reader: Reader,
    external_id: str,
    typed: str,
    *,
    apply: bool,
    client: str,
    now: datetime,
) -> ForgetReport:
    """An administrator's forgetting, confirmed by typing the student's id (anyone else: not
    found, as for a missing student)."""
    if not reader.is_admin:
        raise NotFoundError(f"no student with id {external_id!r}")
    if apply and typed.strip() != external_id:
        raise ValidationError("type the student's id exactly to confirm", field="confirm")
    return forget_student(
        session, external_id, apply=apply, actor=reader.email, client=client, now=now
    )
