"""Reading a child's record, logged: the student page, the printed record, the exports, a held
reply and the access log itself, each recorded in the same transaction that reads it."""

from __future__ import annotations

from datetime import datetime

from iep_followup.desk import HeldView, Reader, StudentPage, StudentRecord, Use, held_shown_for
from iep_followup.privacy import COMMAND_LINE, Access, AccessEntry
from iep_followup.services import authority, desk
from iep_followup.store import access, queries
from iep_followup.store.db import Session
from iep_followup.views import StudentStatus


def actor_of(reader: Reader) -> str:
    """The reader's address; the command line's operator has none."""
    return reader.email or COMMAND_LINE


def student_page(
    session: Session,
    reader: Reader,
    external_id: str,
    *,
    max_share: float,
    client: str,
    now: datetime,
) -> StudentPage:
    page = desk.student_page(session, reader, external_id, max_share=max_share)
    access.record(
        session,
        now,
        Access.VIEWED_STUDENT,
        actor=actor_of(reader),
        client=client,
        student=external_id,
    )
    return page


def student_status(
    session: Session, external_id: str, *, client: str, now: datetime
) -> StudentStatus:
    """The student's status for the command line (whoever runs it holds the database)."""
    found = queries.student_status(session, external_id)
    access.record(
        session, now, Access.VIEWED_STUDENT, actor=COMMAND_LINE, client=client, student=external_id
    )
    return found


def student_record(
    session: Session,
    reader: Reader,
    external_id: str,
    *,
    how: Access,
    max_share: float,
    client: str,
    now: datetime,
) -> StudentRecord:
    """The child's record (printed, CSV, or from the command line: `how`)."""
    found = desk.student_record(session, reader, external_id, max_share=max_share)
    access.record(session, now, how, actor=actor_of(reader), client=client, student=external_id)
    return found


def held_reply(
    session: Session, reader: Reader, inbound_id: int, *, max_bytes: int, client: str, now: datetime
) -> HeldView:
    """A held reply's whole text, recorded against each student it is shown for."""
    view = desk.held_reply(session, reader, inbound_id, max_bytes=max_bytes)
    changed(session, reader, Access.VIEWED_HELD, inbound_id, detail="", client=client, now=now)
    return view


def changed(
    session: Session,
    reader: Reader,
    action: Access,
    inbound_id: int,
    *,
    detail: str,
    client: str,
    now: datetime,
) -> None:
    """Something read or done with a held reply, against the students it is shown for."""
    said = f"held reply {inbound_id}" + (f": {detail}" if detail else "")
    target = authority.held(session, reader, inbound_id, Use.READ)
    shown_for = held_shown_for(reader, authority.managed(session, reader), target)
    access.record_held(
        session,
        now,
        action,
        actor=actor_of(reader),
        client=client,
        students=shown_for,
        detail=said,
    )


def change(
    session: Session, reader: Reader, what: str, external_id: str, *, client: str, now: datetime
) -> None:
    """A desk action on a student's record (`what`: the desk audit's action name)."""
    access.record(
        session,
        now,
        Access.CHANGED,
        actor=actor_of(reader),
        client=client,
        student=external_id,
        detail=what,
    )


def signed_in(session: Session, email: str, *, client: str, now: datetime) -> None:
    access.record(session, now, Access.SIGNED_IN, actor=email, client=client, student=None)


def access_log(
    session: Session, reader: Reader, external_id: str, *, client: str, now: datetime
) -> list[AccessEntry]:
    """Who saw or changed the student's record, newest first: for their case manager or an
    administrator (NotFoundError for anyone else, as for a missing student). Seeing it is an
    access too, recorded after the read."""
    authority.student_id(session, reader, external_id)  # NotFoundError when not hers
    found = access.entries(session, external_id)
    access.record(
        session,
        now,
        Access.VIEWED_ACCESS_LOG,
        actor=actor_of(reader),
        client=client,
        student=external_id,
    )
    return found
