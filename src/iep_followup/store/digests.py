"""Loading what one case manager's digest needs, in a fixed number of queries whatever the caseload."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, col, select

from iep_followup.desk import HeldTarget, Reader, Use, may_use_held
from iep_followup.digest import DigestInputs, HeldReply, OwnerRequests, StudentInput, UpdateLine
from iep_followup.domain import Role
from iep_followup.inbound.message import MAX_MESSAGE_BYTES, parse_message
from iep_followup.inbound.outcome import InboundOutcome
from iep_followup.inbound.trim import trim_reply
from iep_followup.planning import RequestState
from iep_followup.store import asking, queries, web
from iep_followup.store.db import insert_skipping_duplicates
from iep_followup.store.models import (
    DigestRecord,
    InboundMessage,
    Membership,
    Person,
    RequestItem,
    Student,
    Update,
    UpdateRequest,
)
from iep_followup.views import ItemView, MemberView

HISTORY = 6  # requests per owner kept for streaks and momentum
QUOTED_CHARS = 600  # of a held reply's words in the digest; the rest is a click away


def case_managers(session: Session) -> list[tuple[MemberView, str | None]]:
    """Everyone who is case manager of at least one student, with their own time zone (if set)."""
    rows = session.exec(
        select(Person)
        .where(
            col(Person.id).in_(
                select(Membership.person_id).where(Membership.role == Role.CASE_MANAGER)
            )
        )
        .order_by(col(Person.id))
    ).all()
    return [
        (MemberView(p.id or 0, p.name, p.email, Role.CASE_MANAGER, p.language), p.timezone)
        for p in rows
    ]


def digest_inputs(
    session: Session, case_manager: MemberView, timezone: str, *, period_start: date, since: date
) -> DigestInputs:
    """Everything about this case manager's students from `since` (the previous period's start) on."""
    student_ids = list(
        session.exec(
            select(Membership.student_id).where(
                Membership.person_id == case_manager.person_id, Membership.role == Role.CASE_MANAGER
            )
        ).all()
    )
    students = session.exec(
        select(Student).where(col(Student.id).in_(student_ids)).order_by(col(Student.name))
    ).all()
    strengths = asking.strengths_by_student(session, student_ids)
    members = queries.members_by_student(session, student_ids)
    items = queries.item_views(session, student_ids=student_ids)
    student_by_external = {s.external_id: s.id or 0 for s in students}
    item_student = {i.id: student_by_external[i.student_external_id] for i in items}
    since_utc = datetime.combine(since, time(0), ZoneInfo(timezone))
    # Columns, not entities, throughout: a caseload's history and replies are hundreds of rows,
    # and an InboundMessage entity would carry each reply's whole raw email.
    update_lines = _update_lines(session, list(item_student), since_utc)
    owner_requests, request_ids = _owner_requests(session, list(item_student), timezone)
    member_ids = {m.person_id for team in members.values() for m in team}
    held = _held_replies(session, set(student_ids))
    failing = _failing_addresses(session, member_ids)
    notes = _general_notes(session, request_ids, item_student, since_utc)
    previous = session.exec(
        select(DigestRecord.classroom_share)
        .where(
            DigestRecord.person_id == case_manager.person_id,
            col(DigestRecord.period_start) < period_start,
        )
        .order_by(col(DigestRecord.period_start).desc())
    ).first()
    by_student: dict[str, list[ItemView]] = defaultdict(list)
    for item in items:
        by_student[item.student_external_id].append(item)
    return DigestInputs(
        case_manager=case_manager,
        timezone=timezone,
        students=tuple(
            StudentInput(
                s.id or 0,
                s.external_id,
                s.name,
                tuple(strengths.get(s.id or 0, [])),
                tuple(members.get(s.id or 0, [])),
                tuple(by_student[s.external_id]),
            )
            for s in students
        ),
        updates=update_lines,
        requests=owner_requests,
        held=held,
        failing=failing,
        previous_classroom_share=previous,
        general_notes=notes,
    )


def _update_lines(
    session: Session, item_ids: list[int], since_utc: datetime
) -> tuple[UpdateLine, ...]:
    """The items' history since `since_utc`, oldest first, with each author's name."""
    updates = session.execute(
        sa_select(
            col(Update.created_at),
            col(Update.item_id),
            col(Person.name),
            col(Update.status),
            col(Update.percent),
            col(Update.due_on),
            col(Update.note),
            col(Update.inbound_id),
            col(Update.understood),
            col(Update.period),
            col(Update.minutes),
        )
        .outerjoin(Person, col(Person.id) == Update.author_id)
        .where(col(Update.item_id).in_(item_ids), col(Update.created_at) >= since_utc)
        .order_by(col(Update.created_at), col(Update.id))
    ).all()
    return tuple(
        UpdateLine(
            row.created_at,
            row.item_id,
            row.name,
            row.status,
            row.percent,
            row.due_on,
            row.note,
            from_email=row.inbound_id is not None,
            understood=row.understood,
            period=row.period,
            minutes=row.minutes,
        )
        for row in updates
    )


def _owner_requests(
    session: Session, item_ids: list[int], timezone: str
) -> tuple[tuple[OwnerRequests, ...], list[int]]:
    """Each owner's latest requests about these items, and the ids of every such request."""
    asked = session.execute(
        sa_select(
            col(UpdateRequest.person_id),
            col(UpdateRequest.id),
            col(UpdateRequest.cycle_on),
            col(UpdateRequest.created_at),
            col(UpdateRequest.answered_at),
            col(UpdateRequest.reminded_at),
            col(RequestItem.item_id),
        )
        .join(RequestItem, col(RequestItem.request_id) == UpdateRequest.id)
        .where(col(RequestItem.item_id).in_(item_ids))
        .order_by(col(UpdateRequest.person_id), col(UpdateRequest.id).desc())
    ).all()
    request_ids: dict[int, None] = {}
    by_owner: dict[int, dict[int, RequestState]] = defaultdict(dict)
    for person_id, request_id, cycle_on, created_at, answered_at, reminded_at, _item_id in asked:
        request_ids[request_id] = None
        by_owner[person_id][request_id] = RequestState(
            request_id, cycle_on, created_at, answered_at, reminded_at
        )
    owners = {
        person_id: (name, own_timezone, email)
        for person_id, name, own_timezone, email in session.execute(
            sa_select(
                col(Person.id), col(Person.name), col(Person.timezone), col(Person.email)
            ).where(col(Person.id).in_(list(by_owner)))
        ).all()
    }
    owner_requests = tuple(
        OwnerRequests(
            person_id,
            owners[person_id][0],
            owners[person_id][1] or timezone,
            tuple(sorted(requests.values(), key=lambda r: -r.request_id)[:HISTORY]),
            owners[person_id][2],
        )
        for person_id, requests in sorted(by_owner.items())
    )
    return owner_requests, list(request_ids)


def _held_replies(session: Session, caseload: set[int]) -> tuple[HeldReply, ...]:
    # The desk's rule (desk.may_use_held): a held reply is this case manager's when one of the
    # students of the request its key points at is hers (without a key, one of its sender's):
    # a teacher on her team brings none of his replies about another caseload's child. Its
    # words are quoted only when she may release it: every student it concerns is hers.
    # Senders on no team are left to `iep-followup inbox` and the desk.
    mine = frozenset(caseload)
    targets = {
        t.inbound_id: t
        for t in web.held_targets(session)
        if may_use_held(_CASE_MANAGER, mine, t, Use.READ)
    }
    if not targets:
        return ()
    # Few rows (replies waiting for a person), so their raw text is read to quote them.
    held_rows = session.execute(
        sa_select(
            col(InboundMessage.id),
            col(InboundMessage.from_address),
            col(InboundMessage.reason),
            col(Person.name),
            col(InboundMessage.kept_text),
            col(InboundMessage.raw),
        )
        .join(Person, col(Person.id) == InboundMessage.person_id)
        .where(col(InboundMessage.id).in_(list(targets)))
        .order_by(col(InboundMessage.id))
    ).all()
    return tuple(
        HeldReply(
            inbound_id,
            from_address,
            reason,
            _about(targets[inbound_id]) & mine,
            sender,
            _words(kept, raw) if _about(targets[inbound_id]) <= mine else "",
        )
        for inbound_id, from_address, reason, sender, kept, raw in held_rows
    )


_CASE_MANAGER = Reader("", "", "en", is_admin=False)  # the rule as for any case manager


def _about(target: HeldTarget) -> frozenset[int]:
    return target.sender_students if target.request_students is None else target.request_students


def _words(kept: str, raw: bytes) -> str:
    """What the sender wrote, without the quoted request: the kept text, or trimmed from the raw."""
    words = kept.strip() or trim_reply(parse_message(raw, max_bytes=MAX_MESSAGE_BYTES).text).kept
    words = " ".join(words.split())
    return words if len(words) <= QUOTED_CHARS else words[: QUOTED_CHARS - 1] + "…"


def _failing_addresses(session: Session, member_ids: set[int]) -> tuple[tuple[str, str, str], ...]:
    """(name, email, reason) of the team members whose mail is failing."""
    return tuple(
        (p.name, p.email, p.mail_failure_reason or "")
        for p in session.exec(
            select(Person).where(
                col(Person.id).in_(list(member_ids)), col(Person.mail_failing_at).is_not(None)
            )
        ).all()
    )


def _general_notes(
    session: Session, request_ids: list[int], item_student: dict[int, int], since_utc: datetime
) -> tuple[tuple[int, str, str], ...]:
    """(student id, author, text) of the applied replies' general notes since `since_utc`."""
    # Found through the caseload's requests only, then filtered here: given the outcome and
    # date too, SQLite walks every applied reply in the district since `since` instead.
    replies = [
        (request_id, reply_notes, name)
        for request_id, reply_notes, name, outcome, received_at in session.execute(
            sa_select(
                col(InboundMessage.request_id),
                col(InboundMessage.notes),
                col(Person.name),
                col(InboundMessage.outcome),
                col(InboundMessage.received_at),
            )
            .join(Person, col(Person.id) == InboundMessage.person_id)
            .where(col(InboundMessage.request_id).in_(request_ids))
        ).all()
        if outcome is InboundOutcome.APPLIED and received_at >= since_utc
    ]
    # A reply's general notes are quoted only when everything its request asked about is one
    # student on this caseload: a therapist's reply about other children never leaks here.
    request_items: dict[int, set[int]] = defaultdict(set)
    for request_id, item_id in session.exec(
        select(RequestItem.request_id, RequestItem.item_id).where(
            col(RequestItem.request_id).in_([request_id for request_id, _, _ in replies])
        )
    ).all():
        request_items[request_id].add(item_id)
    notes = []
    for request_id, reply_notes, name in replies:
        asked_items = request_items.get(request_id or -1, set())
        about = {item_student.get(i) for i in asked_items}
        if reply_notes.strip() and len(about) == 1 and None not in about:
            notes.append((next(iter(about)) or 0, name, reply_notes.strip()))
    return tuple(notes)


def record_digest(
    session: Session, person_id: int, period_start: date, classroom_share: float, now: datetime
) -> bool:
    """Remember what this digest showed; False if this period's digest was recorded before.

    One INSERT ... ON CONFLICT DO NOTHING: a savepoint around an ORM insert took three.
    """
    insert = insert_skipping_duplicates(session, _DIGEST_RECORD).returning(_DIGEST_RECORD.c.id)
    row = {
        "person_id": person_id,
        "period_start": period_start,
        "classroom_share": classroom_share,
        "created_at": now,
    }
    return session.execute(insert, row).first() is not None


_DIGEST_RECORD = SQLModel.metadata.tables[DigestRecord.__tablename__]
