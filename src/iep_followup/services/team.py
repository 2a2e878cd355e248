"""The people on a team: who carries what, and the addresses they write from."""

from __future__ import annotations

from datetime import datetime

from iep_followup.balance import BalanceReport, check_balance
from iep_followup.domain import normalize_email
from iep_followup.errors import ValidationError
from iep_followup.store import inbox, people, queries
from iep_followup.store.db import Database
from iep_followup.views import AddressEventView


def balance(database: Database, student: str | None, max_share: float) -> list[BalanceReport]:
    """Per student (one, or all): each member's open items and share, with warnings."""
    with database.transaction() as session:
        students = queries.students(session, student)
        ids = [s.id for s in students]
        members = queries.members_by_student(session, ids)
        items = queries.item_owners_by_student(session, ids)
    return [
        check_balance(s.external_id, s.name, members.get(s.id, []), items.get(s.id, []), max_share)
        for s in students
    ]


def add_address(database: Database, person_email: str, other_address: str) -> None:
    """Record another address as a person's own: replies from it are applied as theirs."""
    address = normalize_email(other_address)
    with database.transaction() as session:
        person_id = queries.person_id(session, person_email)
        if inbox.person_for_address(session, address) is not None:
            raise ValidationError(f"{address} already belongs to someone", field="email")
        inbox.add_address(session, person_id, address)


def clear_failing(
    database: Database, email: str, *, by: str | None, source: str, now: datetime
) -> bool:
    """Say a person's address works again; False if it was not failing."""
    with database.transaction() as session:
        person_id = queries.person_id(session, email)
        who = f" by {normalize_email(by, 'by')}" if by else ""
        return bool(
            people.clear_failing(
                session, [person_id], reason=f"cleared by hand{who}", source=source, now=now
            )
        )


def address_history(database: Database, email: str) -> list[AddressEventView]:
    with database.transaction() as session:
        return people.history(session, queries.person_id(session, email))
