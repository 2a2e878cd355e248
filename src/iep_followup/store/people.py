"""Whether a person's address takes mail: marked failing, cleared, and the history of both.

The one place that changes `Person.mail_failing_at`; every change is also an AddressEvent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import exists, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, col

from iep_followup.addresses import AddressEventKind
from iep_followup.mail.kinds import OutboxStatus
from iep_followup.store.models import AddressEvent, OutboxMessage, Person
from iep_followup.views import AddressEventView

_EVENTS = SQLModel.metadata.tables[AddressEvent.__tablename__]


def mark_failing(
    session: Session, person_id: int, *, reason: str, source: str, now: datetime
) -> None:
    session.execute(
        update(Person)
        .where(col(Person.id) == person_id)
        .values(mail_failing_at=now, mail_failure_reason=reason)
    )
    _record(session, [person_id], AddressEventKind.FAILING, source, reason, now)


def count_soft_bounce(
    session: Session, person_id: int, *, reason: str, source: str, now: datetime
) -> None:
    session.execute(
        update(Person)
        .where(col(Person.id) == person_id)
        .values(soft_bounces=Person.soft_bounces + 1)
    )
    _record(session, [person_id], AddressEventKind.SOFT_BOUNCE, source, reason, now)


def clear_failing(
    session: Session, person_ids: Sequence[int], *, reason: str, source: str, now: datetime
) -> list[int]:
    """Clear the mark of those who have one; returns whose mark was cleared."""
    if not person_ids:
        return []
    cleared = list(
        session.execute(
            sa_select(col(Person.id)).where(
                col(Person.id).in_(list(person_ids)), col(Person.mail_failing_at).is_not(None)
            )
        ).scalars()
    )
    if cleared:
        session.execute(
            update(Person)
            .where(col(Person.id).in_(cleared))
            .values(mail_failing_at=None, mail_failure_reason=None)
        )
        _record(session, cleared, AddressEventKind.CLEARED, source, reason, now)
    return cleared


def clear_failing_after_delivery(session: Session, now: datetime) -> list[int]:
    """Clear everyone whose address took a message after it was marked failing."""
    delivered_since = exists().where(
        col(OutboxMessage.person_id) == col(Person.id),
        col(OutboxMessage.status) == OutboxStatus.SENT,
        col(OutboxMessage.sent_at) > col(Person.mail_failing_at),
    )
    person_ids = list(
        session.execute(
            sa_select(col(Person.id)).where(
                col(Person.mail_failing_at).is_not(None), delivered_since
            )
        ).scalars()
    )
    return clear_failing(
        session,
        person_ids,
        reason="the mail server accepted a message for this address",
        source="delivery",
        now=now,
    )


def history(session: Session, person_id: int) -> list[AddressEventView]:
    rows = session.execute(
        sa_select(
            col(AddressEvent.created_at),
            col(AddressEvent.kind),
            col(AddressEvent.source),
            col(AddressEvent.reason),
        )
        .where(col(AddressEvent.person_id) == person_id)
        .order_by(col(AddressEvent.id))
    ).all()
    return [AddressEventView(*row) for row in rows]


def _record(
    session: Session,
    person_ids: Sequence[int],
    kind: AddressEventKind,
    source: str,
    reason: str,
    now: datetime,
) -> None:
    session.connection().execute(
        insert(_EVENTS),
        [
            {
                "person_id": person_id,
                "created_at": now,
                "kind": kind,
                "source": source,
                "reason": reason[:2000],
            }
            for person_id in person_ids
        ],
    )
