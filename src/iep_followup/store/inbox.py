"""The inbox log: every inbound message once, its outcome and reason; known addresses; IMAP progress."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from iep_followup.addresses import address_key
from iep_followup.inbound.outcome import InboundOutcome
from iep_followup.store.asking import SentRequest
from iep_followup.store.db import Database, insert_skipping_duplicates
from iep_followup.store.models import (
    ImapState,
    InboundMessage,
    Person,
    PersonAddress,
    UpdateRequest,
    table_of,
)
from iep_followup.views import InboundMessageView

_INBOUND, _PERSON, _REQUEST = table_of(InboundMessage), table_of(Person), table_of(UpdateRequest)
# In the order of SentRequest's and KnownPerson's fields (the last: since when mail fails).
_REQUEST_COLUMNS = tuple(
    _REQUEST.c[name] for name in ("id", "person_id", "cycle_on", "expires_at", "answered_at")
)
_PERSON_COLUMNS = tuple(
    _PERSON.c[name] for name in ("id", "name", "email", "language", "timezone", "mail_failing_at")
)


@dataclass(frozen=True)
class KnownPerson:
    """One of our people, as a received message meets them."""

    id: int
    name: str
    email: str
    language: str
    timezone: str | None
    mail_failing: bool


@dataclass(frozen=True)
class NewInbound:
    """A received message's log row, as first recorded."""

    message_key: str
    received_at: datetime
    via: str
    from_address: str | None
    subject: str
    outcome: InboundOutcome
    reason: str
    request_id: int | None
    person_id: int | None
    raw: bytes
    # What reading it found, when it was read before it was recorded (see Reading).
    kept_text: str = ""
    trimmed_away: str = ""
    notes: str = ""


@dataclass(frozen=True)
class Recorded:
    """A logged message as ingesting it again, or releasing it, needs it."""

    id: int
    outcome: InboundOutcome
    reason: str
    request_id: int | None
    raw: bytes


@dataclass(frozen=True)
class Reading:
    """What reading a reply found: the text kept, the text cut away, notes for the case manager."""

    kept_text: str
    trimmed_away: str
    notes: str | None = None  # None: not parsed, nothing to note


def _known(person: Person | None) -> KnownPerson | None:
    if person is None:
        return None
    assert person.id is not None
    return KnownPerson(
        person.id,
        person.name,
        person.email,
        person.language,
        person.timezone,
        person.mail_failing_at is not None,
    )


def _recorded(row: InboundMessage | None) -> Recorded | None:
    if row is None:
        return None
    assert row.id is not None
    return Recorded(row.id, row.outcome, row.reason, row.request_id, row.raw)


def find(session: Session, message_key: str) -> Recorded | None:
    found = session.connection().execute(_FIND, {"message_key": message_key}).first()
    return None if found is None else Recorded(found[0], found[1], found[2], found[3], found[4])


# Built once, run for every message received (Core: no ORM row to load).
_FIND = sa_select(*(_INBOUND.c[f.name] for f in dataclasses.fields(Recorded))).where(
    _INBOUND.c.message_key == bindparam("message_key")
)


def record(session: Session, new: NewInbound) -> int | None:
    """Insert the log row and return its id; None when this message was recorded before (by a
    concurrent receiver, say). One statement: the unique key is the check."""
    insert = insert_skipping_duplicates(session, _INBOUND).returning(_INBOUND.c.id)
    found: int | None = session.connection().execute(insert, vars(new)).scalar()
    return found


def settle(
    session: Session,
    inbound_id: int,
    *,
    outcome: InboundOutcome,
    reason: str,
    reading: Reading | None = None,
    person_id: int | None = None,
    released_at: datetime | None = None,
) -> None:
    """A logged message's final outcome and reason, with what reading it found; on release, who
    wrote it and when it was released."""
    values: dict[str, object] = {"outcome": outcome, "reason": reason}
    if reading is not None:
        values |= {"kept_text": reading.kept_text, "trimmed_away": reading.trimmed_away}
        if reading.notes is not None:
            values["notes"] = reading.notes
    if released_at is not None:
        values |= {"person_id": person_id, "released_at": released_at}
    session.execute(
        update(InboundMessage).where(col(InboundMessage.id) == inbound_id).values(**values)
    )


def request_and_owner(
    session: Session, request_id: int
) -> tuple[SentRequest, KnownPerson | None] | None:
    """An update request and the person it asked, in one query; None when there is no such request."""
    found = session.connection().execute(_REQUEST_AND_OWNER, {"request_id": request_id}).first()
    if found is None:
        return None
    request = SentRequest(found[0], found[1], found[2], found[3], found[4])
    if found[5] is None:
        return request, None
    return request, KnownPerson(
        found[5], found[6], found[7], found[8], found[9], found[10] is not None
    )


_REQUEST_AND_OWNER = (
    sa_select(*_REQUEST_COLUMNS, *_PERSON_COLUMNS)
    .outerjoin(_PERSON, _PERSON.c.id == _REQUEST.c.person_id)
    .where(_REQUEST.c.id == bindparam("request_id"))
)


def person(session: Session, person_id: int) -> KnownPerson | None:
    return _known(session.get(Person, person_id))


def person_for_address(session: Session, address: str) -> KnownPerson | None:
    """The person an address belongs to: their main address or one recorded as theirs.

    Any spelling of it matches (an IDN domain as A-labels or Unicode, any case): see addresses.py.
    """
    address = address_key(address)
    found = session.exec(select(Person).where(Person.email == address)).first()
    if found is not None:
        return _known(found)
    return _known(
        session.exec(
            select(Person)
            .join(PersonAddress, col(PersonAddress.person_id) == Person.id)
            .where(PersonAddress.email == address)
        ).first()
    )


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


def get(session: Session, inbound_id: int) -> Recorded | None:
    return _recorded(session.get(InboundMessage, inbound_id))


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
