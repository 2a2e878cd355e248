"""The inbox log: every inbound message once, its outcome and reason; known addresses; IMAP progress."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from iep_followup.addresses import address_key
from iep_followup.inbound.outcome import InboundOutcome
from iep_followup.store.db import Database
from iep_followup.store.models import ImapState, InboundMessage, Person, PersonAddress
from iep_followup.views import InboundMessageView


def find(session: Session, message_key: str) -> InboundMessage | None:
    return session.exec(
        select(InboundMessage).where(InboundMessage.message_key == message_key)
    ).first()


def record(session: Session, row: InboundMessage) -> InboundMessage | None:
    """Insert the log row; None when this message was recorded before (by a concurrent receiver, say)."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return None
    return row


def person_for_address(session: Session, address: str) -> Person | None:
    """The person an address belongs to: their main address or one recorded as theirs.

    Any spelling of it matches (an IDN domain as A-labels or Unicode, any case): see addresses.py.
    """
    address = address_key(address)
    person = session.exec(select(Person).where(Person.email == address)).first()
    if person is not None:
        return person
    return session.exec(
        select(Person)
        .join(PersonAddress, col(PersonAddress.person_id) == Person.id)
        .where(PersonAddress.email == address)
    ).first()


def add_address(session: Session, person_id: int, address: str) -> None:
    session.add(PersonAddress(person_id=person_id, email=address_key(address)))


def messages(
    session: Session, *, held_only: bool = False, limit: int = 200
) -> list[InboundMessageView]:
    query = select(InboundMessage).order_by(col(InboundMessage.id).desc()).limit(limit)
    if held_only:
        query = query.where(InboundMessage.outcome == InboundOutcome.HELD)
    return [
        InboundMessageView(
            m.id or 0,
            m.received_at,
            m.via,
            m.from_address,
            m.subject,
            m.outcome,
            m.reason,
            m.request_id,
            m.released_at,
        )
        for m in session.exec(query).all()
    ]


def count_held(session: Session) -> int:
    return session.exec(
        select(func.count()).where(InboundMessage.outcome == InboundOutcome.HELD)
    ).one()


def get(session: Session, inbound_id: int) -> InboundMessage | None:
    return session.get(InboundMessage, inbound_id)


class DbImapState:
    """IMAP progress kept in the database, so any daemon (and any restart) resumes where polling stopped."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def load(self, mailbox: str) -> tuple[int, int] | None:
        with self.database.transaction() as session:
            row = session.get(ImapState, mailbox)
            return None if row is None else (row.uidvalidity, row.last_uid)

    def save(self, mailbox: str, uidvalidity: int, last_uid: int) -> None:
        with self.database.transaction() as session:
            row = session.get(ImapState, mailbox)
            if row is None:
                session.add(ImapState(mailbox=mailbox, uidvalidity=uidvalidity, last_uid=last_uid))
            else:
                row.uidvalidity, row.last_uid = uidvalidity, last_uid
