"""Forgetting a student: everything but the permanent record (name, id, school, grade, meeting
dates) goes, in the caller's transaction. Counts first, so a dry run says the same as the deed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Executable, delete, func, or_, text, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from iep_followup.domain import Role
from iep_followup.inbound.outcome import InboundOutcome
from iep_followup.mail.kinds import MailKind, OutboxStatus
from iep_followup.store.models import (
    ActionItem,
    Concern,
    InboundMessage,
    Meeting,
    Membership,
    OutboxMessage,
    Person,
    PersonAddress,
    RequestItem,
    Strength,
    Student,
    Update,
    UpdateRequest,
)
from iep_followup.store.web import AuditEntry, SignInLink, WebSession

REMOVED = "removed: the student's record was forgotten"


@dataclass(frozen=True)
class Plan:
    """What forgetting one student touches, found before anything changes."""

    student_id: int
    meetings: list[int]
    items: list[int]
    memberships: list[int]  # family members' places, and those of the people below
    people: list[int]  # family and staff on no other team: their rows go
    family: int
    staff: int
    addresses: list[str]  # every address of the people who go
    inbound: list[int]
    outbox: list[int]
    audit: list[int]
    links: int


def plan(session: Session, student_id: int, external_id: str) -> Plan:
    meetings = _ids(
        sa_select(col(Meeting.id)).where(col(Meeting.student_id) == student_id), session
    )
    items = _ids(
        sa_select(col(ActionItem.id)).where(col(ActionItem.student_id) == student_id), session
    )
    team = session.execute(
        sa_select(col(Membership.id), col(Membership.person_id), col(Membership.role)).where(
            col(Membership.student_id) == student_id
        )
    ).all()
    on_team = [p for _m, p, _r in team]
    elsewhere = set(
        _ids(
            sa_select(col(Membership.person_id)).where(
                col(Membership.student_id) != student_id, col(Membership.person_id).in_(on_team)
            ),
            session,
        )
    ) | set(
        _ids(
            sa_select(col(ActionItem.owner_id)).where(
                col(ActionItem.student_id) != student_id, col(ActionItem.owner_id).in_(on_team)
            ),
            session,
        )
    )
    family = {p for _m, p, role in team if Role(role).is_family}
    people = sorted({p for _m, p, _r in team if p not in elsewhere})
    memberships = [m for m, p, _r in team if p in family or p in people]
    addresses = [
        a.lower()
        for a in _strings(sa_select(col(Person.email)).where(col(Person.id).in_(people)), session)
        + _strings(
            sa_select(col(PersonAddress.email)).where(col(PersonAddress.person_id).in_(people)),
            session,
        )
    ]
    asked = sa_select(col(RequestItem.request_id)).where(col(RequestItem.item_id).in_(items))
    inbound = _ids(
        sa_select(col(InboundMessage.id)).where(
            or_(
                col(InboundMessage.request_id).in_(asked),
                col(InboundMessage.person_id).in_(people),
                func.lower(col(InboundMessage.from_address)).in_(addresses),
                col(InboundMessage.id).in_(
                    sa_select(col(Update.inbound_id)).where(col(Update.item_id).in_(items))
                ),
            )
        ),
        session,
    )
    managers = [p for _m, p, role in team if Role(role) is Role.CASE_MANAGER]
    about: list[ColumnElement[bool]] = [
        col(OutboxMessage.request_id).in_(asked),
        col(OutboxMessage.person_id).in_(people),
        func.lower(col(OutboxMessage.to_address)).in_(addresses),
        # A digest names the case manager's students: the forgotten one among them.
        (col(OutboxMessage.kind) == MailKind.DIGEST) & col(OutboxMessage.person_id).in_(managers),
    ]
    about += [col(OutboxMessage.idempotency_key).like(f"summary:{m}:%") for m in meetings]
    about += [col(OutboxMessage.idempotency_key) == f"confirmation:{i}" for i in inbound]
    outbox = _ids(sa_select(col(OutboxMessage.id)).where(or_(*about)), session)
    audit = _ids(
        sa_select(col(AuditEntry.id)).where(
            or_(
                col(AuditEntry.subject) == external_id,
                col(AuditEntry.subject).in_([str(i) for i in inbound]),
                func.lower(col(AuditEntry.subject)).in_(addresses),
                func.lower(col(AuditEntry.actor)).in_(addresses),
                *[col(AuditEntry.detail).contains(a, autoescape=True) for a in addresses],
            )
        ),
        session,
    )
    links = len(
        _ids(sa_select(col(SignInLink.id)).where(col(SignInLink.email).in_(addresses)), session)
    ) + len(
        _ids(sa_select(col(WebSession.id)).where(col(WebSession.email).in_(addresses)), session)
    )
    return Plan(
        student_id,
        meetings,
        items,
        memberships,
        people,
        len(family),
        len([p for p in people if p not in family]),
        addresses,
        inbound,
        outbox,
        audit,
        links,
    )


def counts(session: Session, found: Plan) -> dict[str, int]:
    def count(column: object, where: object) -> int:
        return int(session.execute(sa_select(func.count(column)).where(where)).scalar_one())  # type: ignore[arg-type]

    notes = count(
        col(Meeting.id),
        col(Meeting.id).in_(found.meetings) & (col(Meeting.notes) != ""),
    )
    return {
        "strengths": count(col(Strength.id), col(Strength.meeting_id).in_(found.meetings)),
        "concerns": count(col(Concern.id), col(Concern.meeting_id).in_(found.meetings)),
        "items": len(found.items),
        "updates": count(col(Update.id), col(Update.item_id).in_(found.items)),
        "meeting_notes": notes,
        "replies": len(found.inbound),
        "emails": len(found.outbox),
        "family": found.family,
        "staff": found.staff,
        "memberships": len(found.memberships),
        "audit": len(found.audit),
        "sign_ins": found.links,
    }


def forget(session: Session, found: Plan) -> None:
    """Remove what `plan` found. Rows that others point at are emptied; the rest deleted."""
    if session.get_bind().dialect.name == "sqlite":
        # Overwrite the freed bytes too, instead of leaving them in the file's free pages.
        session.execute(text("PRAGMA secure_delete = ON"))
    _forget_mail(session, found)
    # The desk's audit keeps who did what and when; the detail (a reason, an address) goes.
    session.execute(update(AuditEntry).where(col(AuditEntry.id).in_(found.audit)).values(detail=""))
    session.execute(
        update(AuditEntry)
        .where(func.lower(col(AuditEntry.subject)).in_(found.addresses))
        .values(subject=None)
    )
    session.execute(
        update(AuditEntry)
        .where(func.lower(col(AuditEntry.actor)).in_(found.addresses))
        .values(actor=None)
    )
    session.execute(delete(SignInLink).where(col(SignInLink.email).in_(found.addresses)))
    session.execute(delete(WebSession).where(col(WebSession.email).in_(found.addresses)))
    session.execute(delete(RequestItem).where(col(RequestItem.item_id).in_(found.items)))
    session.execute(delete(Update).where(col(Update.item_id).in_(found.items)))
    session.execute(delete(ActionItem).where(col(ActionItem.id).in_(found.items)))
    session.execute(delete(Concern).where(col(Concern.meeting_id).in_(found.meetings)))
    session.execute(delete(Strength).where(col(Strength.meeting_id).in_(found.meetings)))
    session.execute(
        update(Meeting)
        .where(col(Meeting.id).in_(found.meetings))
        .values(notes="", notes_translations={})
    )
    session.execute(delete(Membership).where(col(Membership.id).in_(found.memberships)))
    _forget_people(session, found.people)


def _forget_people(session: Session, people: list[int]) -> None:
    """Their rows go; their other addresses, address history and digests with them
    (cascades). Their requests go first, by hand: PostgreSQL cannot both null a reply's
    request and its sender through two cascades of one delete."""
    requests = sa_select(col(UpdateRequest.id)).where(col(UpdateRequest.person_id).in_(people))
    for table in (InboundMessage, OutboxMessage):
        session.execute(
            update(table).where(col(table.request_id).in_(requests)).values(request_id=None)
        )
        session.execute(
            update(table).where(col(table.person_id).in_(people)).values(person_id=None)
        )
    # What they wrote or owned on another child's record stays, without them.
    for column in (Update.author_id, Update.owner_id):
        session.execute(update(Update).where(col(column).in_(people)).values({column: None}))
    session.execute(delete(RequestItem).where(col(RequestItem.request_id).in_(requests)))
    session.execute(delete(UpdateRequest).where(col(UpdateRequest.id).in_(requests)))
    session.execute(delete(Person).where(col(Person.id).in_(people)))


def _forget_mail(session: Session, found: Plan) -> None:
    session.execute(
        update(InboundMessage)
        .where(col(InboundMessage.id).in_(found.inbound))
        .values(
            raw=b"",
            kept_text="",
            notes="",
            trimmed_away="",
            subject="",
            from_address=None,
            reason=REMOVED,
        )
    )
    session.execute(
        update(InboundMessage)
        .where(
            col(InboundMessage.id).in_(found.inbound),
            col(InboundMessage.outcome) == InboundOutcome.HELD,
        )
        .values(outcome=InboundOutcome.IGNORED)
    )
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(found.outbox))
        .values(body=b"", subject="", last_error=None)
    )
    # Not sent yet: never sent now, an email with no text.
    session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id).in_(found.outbox),
            col(OutboxMessage.status).in_([OutboxStatus.QUEUED, OutboxStatus.SENDING]),
        )
        .values(status=OutboxStatus.FAILED, last_error=REMOVED, lease_until=None)
    )
    session.execute(
        update(OutboxMessage)
        .where(func.lower(col(OutboxMessage.to_address)).in_(found.addresses))
        .values(to_address="")
    )


def student_row(session: Session, external_id: str) -> int | None:
    return session.execute(
        sa_select(col(Student.id)).where(col(Student.external_id) == external_id)
    ).scalar_one_or_none()


def _ids(query: Executable, session: Session) -> list[int]:
    return [int(v) for v in session.execute(query).scalars() if v is not None]


def _strings(query: Executable, session: Session) -> list[str]:
    return [str(v) for v in session.execute(query).scalars() if v is not None]
