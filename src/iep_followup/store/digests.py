"""Loading what one case manager's digest needs, in a fixed number of queries whatever the caseload."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from iep_followup.digest import DigestInputs, HeldReply, OwnerRequests, StudentInput, UpdateLine
from iep_followup.domain import Role
from iep_followup.mailkinds import InboundOutcome
from iep_followup.planning import RequestState
from iep_followup.store import asking, queries
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

    updates = session.exec(
        select(Update, Person.name)
        .outerjoin(Person, col(Person.id) == Update.author_id)
        .where(col(Update.item_id).in_(list(item_student)), col(Update.created_at) >= since_utc)
        .order_by(col(Update.created_at), col(Update.id))
    ).all()
    update_lines = tuple(
        UpdateLine(
            u.created_at,
            u.item_id,
            name,
            u.status,
            u.percent,
            u.due_on,
            u.note,
            u.inbound_id is not None,
        )
        for u, name in updates
    )

    asked = session.exec(
        select(UpdateRequest, RequestItem.item_id)
        .join(RequestItem, col(RequestItem.request_id) == UpdateRequest.id)
        .where(col(RequestItem.item_id).in_(list(item_student)))
        .order_by(col(UpdateRequest.person_id), col(UpdateRequest.id).desc())
    ).all()
    request_students: dict[int, set[int]] = defaultdict(set)
    by_owner: dict[int, dict[int, UpdateRequest]] = defaultdict(dict)
    for request, item_id in asked:
        assert request.id is not None
        request_students[request.id].add(item_student[item_id])
        by_owner[request.person_id][request.id] = request
    owners = {
        p.id: p
        for p in session.exec(select(Person).where(col(Person.id).in_(list(by_owner)))).all()
    }
    owner_requests = tuple(
        OwnerRequests(
            person_id,
            owners[person_id].name,
            owners[person_id].timezone or timezone,
            tuple(
                RequestState(r.id or 0, r.cycle_on, r.created_at, r.answered_at, r.reminded_at)
                for r in sorted(requests.values(), key=lambda r: -(r.id or 0))[:HISTORY]
            ),
        )
        for person_id, requests in sorted(by_owner.items())
    )

    member_emails = {m.email for team in members.values() for m in team}
    member_ids = {m.person_id for team in members.values() for m in team}
    held_rows = session.exec(
        select(InboundMessage).where(
            InboundMessage.outcome == InboundOutcome.HELD,
            col(InboundMessage.request_id).in_(list(request_students))
            | col(InboundMessage.from_address).in_(member_emails),
        )
    ).all()
    held = tuple(
        HeldReply(
            m.id or 0,
            m.from_address,
            m.reason,
            frozenset(request_students.get(m.request_id or -1, set())),
        )
        for m in held_rows
    )
    failing = tuple(
        (p.name, p.email, p.mail_failure_reason or "")
        for p in session.exec(
            select(Person).where(
                col(Person.id).in_(list(member_ids)), col(Person.mail_failing_at).is_not(None)
            )
        ).all()
    )
    replies = session.exec(
        select(InboundMessage, Person.name)
        .join(Person, col(Person.id) == InboundMessage.person_id)
        .where(
            InboundMessage.outcome == InboundOutcome.APPLIED,
            col(InboundMessage.request_id).in_(list(request_students)),
            col(InboundMessage.received_at) >= since_utc,
        )
    ).all()
    # A reply's general notes are quoted only when everything its request asked about is one
    # student on this caseload: a therapist's reply about other children never leaks here.
    request_items: dict[int, set[int]] = defaultdict(set)
    for request_id, item_id in session.exec(
        select(RequestItem.request_id, RequestItem.item_id).where(
            col(RequestItem.request_id).in_([m.request_id for m, _ in replies])
        )
    ).all():
        request_items[request_id].add(item_id)
    notes = []
    for message, name in replies:
        asked_items = request_items.get(message.request_id or -1, set())
        about = {item_student.get(i) for i in asked_items}
        if message.notes.strip() and len(about) == 1 and None not in about:
            notes.append((next(iter(about)) or 0, name, message.notes.strip()))
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
        general_notes=tuple(notes),
    )


def record_digest(
    session: Session, person_id: int, period_start: date, classroom_share: float, now: datetime
) -> bool:
    """Remember what this digest showed; False if this period's digest was recorded before."""
    try:
        with session.begin_nested():
            session.add(
                DigestRecord(
                    person_id=person_id,
                    period_start=period_start,
                    classroom_share=classroom_share,
                    created_at=now,
                )
            )
    except IntegrityError:
        return False
    return True
