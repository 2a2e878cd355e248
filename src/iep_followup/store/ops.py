"""What health and metrics read, and the daemon's record of its jobs: counts and times, as values."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from iep_followup.inbound.outcome import InboundOutcome
from iep_followup.mail.kinds import MailKind, OutboxStatus
from iep_followup.operations import JobRunView, OpsMetrics
from iep_followup.store.models import InboundMessage, JobRun, OutboxMessage, table_of
from iep_followup.store.web import AuditEntry


def record_job_run(session: Session, name: str, at: datetime, duration_seconds: float) -> None:
    """The job `name` succeeded at `at`: one row per job; a later success replaces an earlier one."""
    table = table_of(JobRun)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    values = {
        "name": name,
        "last_success_at": at,
        "duration_ms": max(0, round(duration_seconds * 1000)),
    }
    statement = insert.values(**values).on_conflict_do_update(
        index_elements=[table.c.name],
        set_={
            "last_success_at": insert.excluded.last_success_at,
            "duration_ms": insert.excluded.duration_ms,
        },
        where=table.c.last_success_at <= insert.excluded.last_success_at,
    )
    session.execute(statement)


def job_runs(session: Session) -> tuple[JobRunView, ...]:
    rows = session.exec(select(JobRun).order_by(col(JobRun.name))).all()
    return tuple(JobRunView(r.name, r.last_success_at, r.duration_ms / 1000) for r in rows)


def last_success(session: Session, name: str) -> datetime | None:
    row = session.get(JobRun, name)
    return row.last_success_at if row is not None else None


def metrics(session: Session, now: datetime) -> OpsMetrics:
    """Every number of /metrics in one read."""
    by_status = session.exec(
        select(OutboxMessage.status, func.count()).group_by(col(OutboxMessage.status))
    ).all()
    outbox = {status.value: 0 for status in OutboxStatus}
    outbox.update({OutboxStatus(status).value: total for status, total in by_status})
    queued = col(OutboxMessage.status) == OutboxStatus.QUEUED
    deferred = session.exec(
        select(func.count()).where(queued, col(OutboxMessage.attempts) > 0)
    ).one()
    oldest = session.exec(select(func.min(OutboxMessage.created_at)).where(queued)).one()
    by_outcome = session.exec(
        select(InboundMessage.outcome, func.count()).group_by(col(InboundMessage.outcome))
    ).all()
    inbound = {outcome.value: 0 for outcome in InboundOutcome}
    inbound.update({InboundOutcome(outcome).value: total for outcome, total in by_outcome})
    digests = session.exec(
        select(func.count()).where(
            col(OutboxMessage.kind) == MailKind.DIGEST,
            col(OutboxMessage.status).in_([OutboxStatus.QUEUED, OutboxStatus.SENDING]),
        )
    ).one()
    sign_ins = session.exec(select(func.count()).where(col(AuditEntry.action) == "signed_in")).one()
    return OpsMetrics(
        outbox=outbox,
        outbox_deferred=deferred,
        oldest_queued_age_seconds=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        inbound=inbound,
        held_waiting=inbound[InboundOutcome.HELD.value],
        digests_queued=digests,
        sign_ins=sign_ins,
        jobs=job_runs(session),
    )
