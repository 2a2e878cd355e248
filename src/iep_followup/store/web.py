"""The desk's own tables and reads: sign-in links, sessions, the audit log, and who may see which student."""

# No `from __future__ import annotations` here: SQLModel reads the annotations at class creation.

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Index, String, Text, func, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.orm import defer
from sqlmodel import Field, Session, SQLModel, col, select

from iep_followup.desk import HeldTarget, MailLine
from iep_followup.domain import MAX_EMAIL, Role
from iep_followup.inbound.outcome import InboundOutcome
from iep_followup.planning import RequestState
from iep_followup.store.models import (
    ActionItem,
    InboundMessage,
    Meeting,
    Membership,
    OutboxMessage,
    Person,
    RequestItem,
    Student,
    Update,
    UpdateRequest,
)
from iep_followup.store.types import UTCDateTime


class SignInLink(SQLModel, table=True):
    """A one-time sign-in link: only the hash of its token is kept."""

    __tablename__ = "web_sign_in_link"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    email: str = Field(sa_column=Column(String(MAX_EMAIL), nullable=False, index=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class WebSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random id; the table holds its hash."""

    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    id_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    email: str = Field(sa_column=Column(String(MAX_EMAIL), nullable=False, index=True))
    csrf_token: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_seen_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    ended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class AuditEntry(SQLModel, table=True):
    """Who did what in the desk, and when: every sign-in request, sign-in and change. Append-only."""

    __tablename__ = "web_audit"
    __table_args__ = (Index("ix_web_audit_action_at", "action", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    actor: str | None = Field(default=None, sa_column=Column(String(MAX_EMAIL), nullable=True))
    client: str = Field(sa_column=Column(String(64), nullable=False))
    action: str = Field(sa_column=Column(String(32), nullable=False))
    subject: str | None = Field(default=None, sa_column=Column(String(MAX_EMAIL), nullable=True))
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


@dataclass(frozen=True)
class SessionView:
    email: str
    csrf_token: str
    last_seen_at: datetime


@dataclass(frozen=True)
class AuditView:
    created_at: datetime
    actor: str | None
    client: str
    action: str
    subject: str | None
    detail: str


# --- audit --------------------------------------------------------------------------


def audit(
    session: Session,
    now: datetime,
    action: str,
    *,
    actor: str | None,
    client: str,
    subject: str | None = None,
    detail: str = "",
) -> None:
    session.add(
        AuditEntry(
            created_at=now,
            actor=actor,
            client=client[:64],
            action=action,
            subject=subject,
            detail=detail,
        )
    )


def count_audit(
    session: Session,
    action: str,
    since: datetime,
    *,
    subject: str | None = None,
    client: str | None = None,
) -> int:
    query = sa_select(func.count(col(AuditEntry.id))).where(
        col(AuditEntry.action) == action, col(AuditEntry.created_at) >= since
    )
    if subject is not None:
        query = query.where(col(AuditEntry.subject) == subject)
    if client is not None:
        query = query.where(col(AuditEntry.client) == client[:64])
    return int(session.execute(query).scalar_one())


def audit_entries(session: Session, limit: int = 200) -> list[AuditView]:
    rows = session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)).all()
    return [AuditView(a.created_at, a.actor, a.client, a.action, a.subject, a.detail) for a in rows]


# --- sign-in links and sessions -------------------------------------------------------


def add_link(
    session: Session, token_hash: str, email: str, now: datetime, expires_at: datetime
) -> int:
    link = SignInLink(token_hash=token_hash, email=email, created_at=now, expires_at=expires_at)
    session.add(link)
    session.flush()
    assert link.id is not None
    return link.id


def use_link(session: Session, token_hash: str, now: datetime) -> str | None:
    """Mark the link used and return its address; None when unknown, used or expired.

    One conditional UPDATE: two clicks at once cannot both succeed.
    """
    link = session.exec(select(SignInLink).where(SignInLink.token_hash == token_hash)).first()
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    claimed = session.execute(
        update(SignInLink)
        .where(col(SignInLink.id) == link.id, col(SignInLink.used_at).is_(None))
        .values(used_at=now)
    )
    return link.email if claimed.rowcount == 1 else None  # type: ignore[attr-defined]


def link_state(session: Session, token_hash: str, now: datetime) -> str:
    """'ok', 'used', 'expired' or 'unknown': what the confirm page says, without using it."""
    link = session.exec(select(SignInLink).where(SignInLink.token_hash == token_hash)).first()
    if link is None:
        return "unknown"
    if link.used_at is not None:
        return "used"
    return "expired" if link.expires_at <= now else "ok"


def add_session(session: Session, id_hash: str, email: str, csrf_token: str, now: datetime) -> None:
    session.add(
        WebSession(
            id_hash=id_hash, email=email, csrf_token=csrf_token, created_at=now, last_seen_at=now
        )
    )


def find_session(session: Session, id_hash: str) -> WebSession | None:
    return session.exec(select(WebSession).where(WebSession.id_hash == id_hash)).first()


def end_sessions(
    session: Session, now: datetime, *, id_hash: str | None = None, email: str | None = None
) -> int:
    query = update(WebSession).where(col(WebSession.ended_at).is_(None)).values(ended_at=now)
    if id_hash is not None:
        query = query.where(col(WebSession.id_hash) == id_hash)
    if email is not None:
        query = query.where(col(WebSession.email) == email)
    return int(session.execute(query).rowcount)  # type: ignore[attr-defined]


# --- who may see what -------------------------------------------------------------------


def is_case_manager(session: Session, email: str) -> bool:
    return (
        session.exec(
            select(Membership.id)
            .join(Person, col(Person.id) == Membership.person_id)
            .where(Person.email == email, Membership.role == Role.CASE_MANAGER)
            .limit(1)
        ).first()
        is not None
    )


def person_name_language(session: Session, email: str) -> tuple[int, str, str] | None:
    person = session.exec(select(Person).where(Person.email == email)).first()
    return (
        None if person is None or person.id is None else (person.id, person.name, person.language)
    )


def visible_students(session: Session, email: str | None) -> list[Student]:
    """The students on whose team `email` is case manager; every student for None (an admin)."""
    query = select(Student).order_by(col(Student.name), col(Student.external_id))
    if email is not None:
        query = query.where(col(Student.id).in_(_caseload_of(email)))
    return list(session.exec(query).all())


def _caseload_of(email: str) -> Any:
    """The ids of the students on whose team `email` is case manager (a subquery)."""
    return (
        select(Membership.student_id)
        .join(Person, col(Person.id) == Membership.person_id)
        .where(Person.email == email, Membership.role == Role.CASE_MANAGER)
    )


def caseload_ids(session: Session, email: str) -> frozenset[int]:
    """The ids of the students on whose team `email` is case manager."""
    return frozenset(session.execute(_caseload_of(email)).scalars())


def held_targets(session: Session, inbound_id: int | None = None) -> list[HeldTarget]:
    """Every held reply (or this one) with the students it concerns. At most three queries."""
    query = sa_select(
        col(InboundMessage.id), col(InboundMessage.person_id), col(InboundMessage.request_id)
    ).where(col(InboundMessage.outcome) == InboundOutcome.HELD)
    if inbound_id is not None:
        query = query.where(col(InboundMessage.id) == inbound_id)
    rows = session.execute(query).all()
    request_ids = {r for _, _, r in rows if r is not None}
    senders = {p for _, p, _ in rows if p is not None}
    asked: dict[int, set[int]] = defaultdict(set)
    teams: dict[int, set[int]] = defaultdict(set)
    if request_ids:
        for request_id, student_id in session.execute(
            sa_select(col(RequestItem.request_id), col(ActionItem.student_id))
            .join(ActionItem, col(ActionItem.id) == RequestItem.item_id)
            .where(col(RequestItem.request_id).in_(request_ids))
        ).all():
            asked[request_id].add(student_id)
    if senders:
        for person_id, student_id in session.execute(
            sa_select(col(Membership.person_id), col(Membership.student_id)).where(
                col(Membership.person_id).in_(senders)
            )
        ).all():
            teams[person_id].add(student_id)
    return [
        HeldTarget(
            held_id,
            None if request_id is None else frozenset(asked[request_id]),
            frozenset(teams.get(person_id or 0, ())),
        )
        for held_id, person_id, request_id in rows
    ]


def failing_people(session: Session, person_ids: Sequence[int]) -> dict[int, str]:
    """person id -> why their address is failing, for those of `person_ids` whose address fails."""
    rows = session.execute(
        sa_select(col(Person.id), col(Person.mail_failure_reason)).where(
            col(Person.id).in_(list(person_ids)), col(Person.mail_failing_at).is_not(None)
        )
    ).all()
    return {person_id: reason or "" for person_id, reason in rows}


def away_until(session: Session, student_id: int) -> dict[int, date]:
    """person id -> the day they are away from this student's team until, for those away."""
    rows = session.execute(
        sa_select(col(Membership.person_id), col(Membership.away_until)).where(
            col(Membership.student_id) == student_id, col(Membership.away_until).is_not(None)
        )
    ).all()
    return dict(rows)


def requests_by_owner(
    session: Session, student_ids: Sequence[int], history: int = 6
) -> dict[int, tuple[set[int], list[RequestState]]]:
    """owner id -> (students asked about, their requests newest first), for these students' items."""
    rows = session.execute(
        sa_select(
            col(UpdateRequest.person_id),
            col(UpdateRequest.id),
            col(UpdateRequest.cycle_on),
            col(UpdateRequest.created_at),
            col(UpdateRequest.answered_at),
            col(UpdateRequest.reminded_at),
            col(ActionItem.student_id),
        )
        .join(RequestItem, col(RequestItem.request_id) == UpdateRequest.id)
        .join(ActionItem, col(ActionItem.id) == RequestItem.item_id)
        .where(col(ActionItem.student_id).in_(list(student_ids)))
        .order_by(col(UpdateRequest.person_id), col(UpdateRequest.id).desc())
    ).all()
    students: dict[int, set[int]] = defaultdict(set)
    states: dict[int, dict[int, RequestState]] = defaultdict(dict)
    for person_id, request_id, cycle_on, created_at, answered_at, reminded_at, student_id in rows:
        students[person_id].add(student_id)
        states[person_id][request_id] = RequestState(
            request_id, cycle_on, created_at, answered_at, reminded_at
        )
    return {
        person_id: (
            students[person_id],
            sorted(by_id.values(), key=lambda r: -r.request_id)[:history],
        )
        for person_id, by_id in states.items()
    }


def held_sender(session: Session, inbound_id: int) -> int | None:
    """The person who sent this held reply, when the address is one of our people's."""
    row = session.get(InboundMessage, inbound_id)
    return None if row is None or row.outcome is not InboundOutcome.HELD else row.person_id


def dismiss_held(session: Session, inbound_id: int, why: str, now: datetime) -> bool:
    """A held reply a person read and decided not to apply: ignored, with who and why."""
    row = session.get(InboundMessage, inbound_id)
    if row is None or row.outcome is not InboundOutcome.HELD:
        return False
    row.reason = f"{why} (was held: {row.reason})"
    row.outcome = InboundOutcome.IGNORED
    row.released_at = now
    return True


def histories(session: Session, item_ids: Sequence[int]) -> dict[int, list[tuple[object, ...]]]:
    """item id -> its updates, oldest first, as (at, author, source, status, percent, due on,
    note, the kept words of the reply it came from, a routine's period, minutes)."""
    rows = session.execute(
        sa_select(
            col(Update.item_id),
            col(Update.created_at),
            col(Person.name),
            col(Update.source),
            col(Update.status),
            col(Update.percent),
            col(Update.due_on),
            col(Update.note),
            col(InboundMessage.kept_text),
            col(Update.period),
            col(Update.minutes),
        )
        .outerjoin(Person, col(Person.id) == Update.author_id)
        .outerjoin(InboundMessage, col(InboundMessage.id) == Update.inbound_id)
        .where(col(Update.item_id).in_(list(item_ids)))
        .order_by(col(Update.id))
    ).all()
    grouped: dict[int, list[tuple[object, ...]]] = defaultdict(list)
    for item_id, *rest in rows:
        grouped[item_id].append(tuple(rest))
    return grouped


def held_rows(
    session: Session, inbound_ids: Sequence[int], *, with_raw: bool
) -> list[InboundMessage]:
    """The log rows of these messages; the raw email (up to the size limit) only when asked."""
    query = (
        select(InboundMessage)
        .where(col(InboundMessage.id).in_(list(inbound_ids)))
        .order_by(col(InboundMessage.received_at), col(InboundMessage.id))
    )
    if not with_raw:
        query = query.options(defer(InboundMessage.raw))  # type: ignore[arg-type]
    return list(session.exec(query).all())


def visible_student(session: Session, email: str | None, external_id: str) -> Student | None:
    """The student when `email` is case manager on their team (any student for None)."""
    query = select(Student).where(Student.external_id == external_id)
    if email is not None:
        query = query.where(col(Student.id).in_(_caseload_of(email)))
    return session.exec(query).first()


# --- the student page's changes ----------------------------------------------------------


def team_member(session: Session, student_id: int, person_id: int) -> Person | None:
    """The person when they are on this student's team."""
    return session.exec(
        select(Person)
        .join(Membership, col(Membership.person_id) == Person.id)
        .where(Membership.student_id == student_id, Person.id == person_id)
    ).first()


def visible_item(session: Session, email: str | None, item_id: int) -> ActionItem | None:
    """The item when `email` is case manager on its student's team (any item for None)."""
    query = select(ActionItem).where(ActionItem.id == item_id)
    if email is not None:
        query = query.where(col(ActionItem.student_id).in_(_caseload_of(email)))
    return session.exec(query).first()


def student_item(session: Session, student_id: int, item_id: int) -> ActionItem | None:
    """The item when it is one of this student's."""
    return session.exec(
        select(ActionItem).where(ActionItem.id == item_id, ActionItem.student_id == student_id)
    ).first()


def set_away_until(session: Session, student_id: int, person_id: int, until: date | None) -> None:
    """Away from this student's team only: their other teams still ask them."""
    session.execute(
        update(Membership)
        .where(col(Membership.student_id) == student_id, col(Membership.person_id) == person_id)
        .values(away_until=until)
    )


# --- a child's record: the emails about them -------------------------------------------


def student_mail(session: Session, student_id: int) -> list[MailLine]:
    """The meeting summaries, update requests, reminders and confirmations sent about the
    student's items, and the replies team members sent to them, oldest first. Three queries."""
    asked = (
        sa_select(col(RequestItem.request_id))
        .join(ActionItem, col(ActionItem.id) == RequestItem.item_id)
        .where(col(ActionItem.student_id) == student_id)
    )
    meetings = session.execute(
        sa_select(col(Meeting.id)).where(col(Meeting.student_id) == student_id)
    ).scalars()
    about = [col(OutboxMessage.request_id).in_(asked)] + [
        col(OutboxMessage.idempotency_key).like(f"summary:{meeting_id}:%")
        for meeting_id in meetings
    ]
    sent = session.execute(
        sa_select(
            func.coalesce(col(OutboxMessage.sent_at), col(OutboxMessage.created_at)),
            col(OutboxMessage.kind),
            col(OutboxMessage.to_address),
            col(OutboxMessage.subject),
            col(OutboxMessage.status),
        ).where(or_(*about))
    ).all()
    received = session.execute(
        sa_select(
            col(InboundMessage.received_at),
            col(InboundMessage.outcome),
            col(InboundMessage.from_address),
            col(InboundMessage.subject),
        ).where(
            col(InboundMessage.request_id).in_(asked),
            # From someone on the team: a forwarded key must not put a stranger in the record.
            col(InboundMessage.person_id).in_(
                sa_select(col(Membership.person_id)).where(col(Membership.student_id) == student_id)
            ),
        )
    ).all()
    lines = [
        MailLine(at, "sent", str(kind), to, subject, str(status))
        for at, kind, to, subject, status in sent
    ] + [
        MailLine(at, "received", "reply", sender or "", subject, str(outcome))
        for at, outcome, sender, subject in received
    ]
    return sorted(lines, key=lambda line: line.at)
