"""Removing the raw text of old emails, in place: the rows, and the updates they recorded, stay."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, text, update
from sqlmodel import Session, col

from iep_followup.inbound.outcome import InboundOutcome
from iep_followup.mail.kinds import OutboxStatus
from iep_followup.store.models import InboundMessage, OutboxMessage


@dataclass(frozen=True)
class MailForgotten:
    """How many received and sent emails lost their raw text in one pass."""

    received: int
    sent: int


def forget_mail_before(session: Session, cutoff: datetime) -> MailForgotten:
    """Empty the raw message of every email received, and of every email sent (or given up
    on), before `cutoff`. Kept: who, when, the outcome and its reason, the reply's own words
    as recorded with its updates. A reply still held for a person keeps its text: releasing
    it needs it."""
    if session.get_bind().dialect.name == "sqlite":
        # Overwrite the freed bytes too, instead of leaving them in the file's free pages.
        session.execute(text("PRAGMA secure_delete = ON"))
    received = session.execute(
        update(InboundMessage)
        .where(
            col(InboundMessage.received_at) < cutoff,
            col(InboundMessage.outcome) != InboundOutcome.HELD,
            or_(col(InboundMessage.raw) != b"", col(InboundMessage.trimmed_away) != ""),
        )
        .values(raw=b"", trimmed_away="")
    )
    sent = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.created_at) < cutoff,
            col(OutboxMessage.status).in_([OutboxStatus.SENT, OutboxStatus.FAILED]),
            col(OutboxMessage.body) != b"",
        )
        .values(body=b"")
    )
    return MailForgotten(_count(received), _count(sent))


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
