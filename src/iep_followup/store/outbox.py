"""The transactional outbox: queue rendered mail with its cause, claim it with a lease, record the outcome."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, bindparam, func, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select

from iep_followup.mail.kinds import MailKind, OutboxStatus
from iep_followup.store import people
from iep_followup.store.db import insert_rows, note_outbox_queued
from iep_followup.store.models import OutboxMessage
from iep_followup.views import OutboxMessageView

_OUTBOX = SQLModel.metadata.tables[OutboxMessage.__tablename__]


@dataclass(frozen=True)
class Claimed:
    id: int
    message_id: str
    to_address: str
    body: bytes
    attempts: int


def queue(
    session: Session,
    *,
    kind: MailKind,
    idempotency_key: str,
    to_address: str,
    message_id: str,
    subject: str,
    body: bytes,
    now: datetime,
    person_id: int | None = None,
    request_id: int | None = None,
    not_before: datetime | None = None,
) -> bool:
    """Queue one message unless its idempotency key was queued before. True when queued now."""
    row = OutboxMessage(
        kind=kind,
        idempotency_key=idempotency_key,
        person_id=person_id,
        request_id=request_id,
        to_address=to_address,
        message_id=message_id,
        subject=subject,
        body=body,
        status=OutboxStatus.QUEUED,
        created_at=now,
        next_attempt_at=not_before or now,
    )
    try:
        # A savepoint: a duplicate (another daemon got there first) must not undo the caller's work.
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    note_outbox_queued(session)
    return True


@dataclass(frozen=True)
class NewMessage:
    """A rendered email ready for the outbox (see Mailer.message)."""

    kind: MailKind
    idempotency_key: str
    to_address: str
    message_id: str
    subject: str
    body: bytes
    person_id: int | None
    request_id: int | None
    created_at: datetime
    next_attempt_at: datetime


def queue_many(session: Session, messages: Sequence[NewMessage]) -> set[str]:
    """Queue these in one statement; a key queued before is skipped. Returns the keys queued now."""
    if not messages:
        return set()
    rows = [
        {
            "kind": m.kind,
            "idempotency_key": m.idempotency_key,
            "person_id": m.person_id,
            "request_id": m.request_id,
            "to_address": m.to_address,
            "message_id": m.message_id,
            "subject": m.subject,
            "body": m.body,
            "status": OutboxStatus.QUEUED,
            "attempts": 0,
            "created_at": m.created_at,
            "next_attempt_at": m.next_attempt_at,
        }
        for m in messages
    ]
    inserted = insert_rows(
        session, _OUTBOX, rows, skip_duplicates=True, returning=[_OUTBOX.c.idempotency_key]
    )
    queued = set(inserted.scalars())
    if queued:
        note_outbox_queued(session)
    return queued


def is_queued(session: Session, idempotency_key: str) -> bool:
    return (
        session.exec(
            select(OutboxMessage.id).where(OutboxMessage.idempotency_key == idempotency_key)
        ).first()
        is not None
    )


def claim(session: Session, now: datetime, lease: timedelta, limit: int) -> list[Claimed]:
    """Take up to `limit` due messages for this worker until `now + lease`.

    Rows another worker holds are skipped (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite
    serialises writers). A worker that dies leaves its lease to expire, then the row is
    claimed again and re-sent with the same Message-ID.
    """
    # Two queries, not one with OR: each walks its index in order and stops at `limit`. With
    # OR, SQLite sorted every due row for every batch (quadratic in the outbox's size).
    status = col(OutboxMessage.status)
    ids = _due(
        session, (status == OutboxStatus.SENDING) & (col(OutboxMessage.lease_until) < now), limit
    )
    ids += _due(
        session,
        (status == OutboxStatus.QUEUED) & (col(OutboxMessage.next_attempt_at) <= now),
        limit - len(ids),
    )
    if not ids:
        return []
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(ids))
        .values(status=OutboxStatus.SENDING, lease_until=now + lease)
    )
    rows = session.execute(
        sa_select(
            col(OutboxMessage.id),
            col(OutboxMessage.message_id),
            col(OutboxMessage.to_address),
            col(OutboxMessage.body),
            col(OutboxMessage.attempts),
        )
        .where(col(OutboxMessage.id).in_(ids))
        .order_by(col(OutboxMessage.id))
    ).all()
    return [Claimed(*row) for row in rows]


def _due(session: Session, condition: ColumnElement[bool], limit: int) -> list[int]:
    """Up to `limit` ids of due rows, oldest first, that no other worker holds (SKIP LOCKED)."""
    if limit <= 0:
        return []
    query = (
        select(OutboxMessage.id)
        .where(condition)
        .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [row_id for row_id in session.exec(query).all() if row_id is not None]


# Built once: this runs for every message sent, and building the statement costs as much as
# running it.
_MARK_SENT = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("row_id"))
    .values(
        status=OutboxStatus.SENT,
        sent_at=bindparam("sent_now", type_=_OUTBOX.c.sent_at.type),
        lease_until=None,
        body=b"",
        last_error=None,
    )
)


def mark_sent(connection: Connection, message_id: int, now: datetime) -> None:
    # The body is dropped once the server has it: the recipient has the email, and the
    # database should not keep a second copy of a student's record (or its reply key).
    # A plain Core statement (Database.connection), in its own transaction per message.
    connection.execute(_MARK_SENT, {"row_id": message_id, "sent_now": now})


_MARK_RETRY = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("row_id"))
    .values(
        status=OutboxStatus.QUEUED,
        attempts=_OUTBOX.c.attempts + 1,
        next_attempt_at=bindparam("retry_at", type_=_OUTBOX.c.next_attempt_at.type),
        lease_until=None,
        last_error=bindparam("error"),
    )
)


def mark_retry(session: Session, message_id: int, next_attempt_at: datetime, error: str) -> None:
    mark_retries(session, [(message_id, next_attempt_at)], error)


def mark_retries(session: Session, retries: Sequence[tuple[int, datetime]], error: str) -> None:
    """Put messages back, each with its own next try, in one executemany statement.

    A whole batch goes back at once when the server is unreachable; a write per message
    made a daemon waiting out an outage busy with its own retries.
    """
    if retries:
        session.connection().execute(
            _MARK_RETRY,
            [{"row_id": row_id, "retry_at": at, "error": error} for row_id, at in retries],
        )


def release(session: Session, ids: list[int], now: datetime) -> None:
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(ids), col(OutboxMessage.status) == OutboxStatus.SENDING)
        .values(status=OutboxStatus.QUEUED, lease_until=None, next_attempt_at=now)
    )


def mark_failed(
    session: Session, message_id: int, now: datetime, error: str, *, address_failing: bool
) -> None:
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id)
        .values(
            status=OutboxStatus.FAILED,
            attempts=OutboxMessage.attempts + 1,
            lease_until=None,
            last_error=error,
        )
    )
    if address_failing:
        person_id = session.exec(
            select(OutboxMessage.person_id).where(OutboxMessage.id == message_id)
        ).first()
        if person_id is not None:
            people.mark_failing(session, person_id, reason=error, source="smtp", now=now)


def messages(
    session: Session, *, failed_only: bool = False, limit: int = 200
) -> list[OutboxMessageView]:
    query = select(OutboxMessage).order_by(col(OutboxMessage.id).desc()).limit(limit)
    if failed_only:
        query = query.where(OutboxMessage.status == OutboxStatus.FAILED)
    return [
        OutboxMessageView(
            m.id or 0,
            m.kind,
            m.to_address,
            m.subject,
            m.status,
            m.attempts,
            m.created_at,
            m.next_attempt_at,
            m.sent_at,
            m.last_error,
        )
        for m in session.exec(query).all()
    ]


def counts(session: Session) -> dict[OutboxStatus, int]:
    rows = session.exec(
        select(OutboxMessage.status, func.count()).group_by(col(OutboxMessage.status))
    ).all()
    return {OutboxStatus(status): total for status, total in rows}


@dataclass(frozen=True)
class SentTo:
    """Whom one outbox message went to: what a delivery report about it is checked against."""

    outbox_id: int
    person_id: int | None
    to_address: str


def sent_to(
    session: Session, *, outbox_id: int | None = None, message_id: str | None = None
) -> SentTo | None:
    """The recipient of a message we queued, by its outbox id or by its Message-ID."""
    query = sa_select(_OUTBOX.c.id, _OUTBOX.c.person_id, _OUTBOX.c.to_address)
    if outbox_id is not None:
        query = query.where(_OUTBOX.c.id == outbox_id)
    elif message_id is not None:
        query = query.where(_OUTBOX.c.message_id == f"<{message_id.strip().strip('<>')}>")
    else:
        return None
    row = session.execute(query).first()
    return SentTo(*row) if row is not None else None
