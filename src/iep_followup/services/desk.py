"""What the desk's pages show: a reader's caseload, one student, the held replies they may read."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from iep_followup.balance import check_balance
from iep_followup.desk import (
    CaseloadRow,
    HeldTarget,
    HeldView,
    HistoryEntry,
    Reader,
    StudentPage,
    StudentRecord,
    TeamMember,
    Use,
    caseload_row,
    may_use_held,
    may_use_student,
    sort_caseload,
)
from iep_followup.digest import (
    OwnerRequests,
    Period,
    covered_period,
    covered_weeks,
    is_short_of_minutes,
    silent_streak,
)
from iep_followup.domain import ItemKind
from iep_followup.errors import NotFoundError
from iep_followup.inbound.message import parse_message
from iep_followup.inbound.trim import trim_reply
from iep_followup.planning import SendPolicy, local_now
from iep_followup.services import authority
from iep_followup.services.authority import scope_of
from iep_followup.services.routines import digest_figures
from iep_followup.store import queries, web
from iep_followup.store.db import Session
from iep_followup.views import ItemView

MAX_ORIGINAL_CHARS = 200_000


def caseload(
    session: Session,
    reader: Reader,
    *,
    now: datetime,
    policy: SendPolicy,
    timezone: str,
    period: Period | None = None,
) -> list[CaseloadRow]:
    """One row per student the reader may see, attention first. A fixed number of queries."""
    students = web.visible_students(session, scope_of(reader))
    ids = [s.id for s in students if s.id is not None]
    members = queries.members_by_student(session, ids)
    items: dict[str, list[ItemView]] = defaultdict(list)
    for item in queries.item_views(session, student_ids=ids):
        items[item.student_external_id].append(item)
    names = {m.person_id: m.name for team in members.values() for m in team}
    failing = web.failing_people(session, list(names))
    silent: dict[int, list[str]] = defaultdict(list)
    for person_id, (asked_about, requests) in web.requests_by_owner(session, ids).items():
        owner = OwnerRequests(person_id, names.get(person_id, "?"), timezone, tuple(requests))
        if silent_streak(owner, now, policy):
            for student_id in asked_about:
                silent[student_id].append(owner.name)
    held: dict[int, int] = defaultdict(int)
    for target in authority.readable_held(session, reader):
        for student_id in _about(target):
            held[student_id] += 1
    today = local_now(now, timezone).date()
    short = _short_of_minutes(session, items, now, policy, timezone, period)
    rows = [
        caseload_row(
            s.external_id,
            s.name,
            s.school,
            s.grade,
            tuple(items[s.external_id]),
            today=today,
            silent=tuple(sorted(silent[s.id or 0])),
            failing=tuple(m.name for m in members.get(s.id or 0, []) if m.person_id in failing),
            held=held[s.id or 0],
            short_minutes=short.get(s.external_id, 0),
        )
        for s in students
    ]
    return sort_caseload(rows)


def _short_of_minutes(
    session: Session,
    items: dict[str, list[ItemView]],
    now: datetime,
    policy: SendPolicy,
    timezone: str,
    period: Period | None,
) -> dict[str, int]:
    """Per student, the services the digest would say are short of minutes (a fixed number of
    queries, however many students)."""
    if period is None:
        return {}
    start, end = covered_period(local_now(now, timezone).date(), period)
    views = [i for found in items.values() for i in found]
    _, minutes = digest_figures(
        session,
        views,
        mondays=covered_weeks(start, end),
        end=end,
        timezone=timezone,
        now=now,
        policy=policy,
    )
    student_of = {i.id: i.student_external_id for i in views}
    short: dict[str, int] = defaultdict(int)
    for item in minutes:
        if is_short_of_minutes(item):
            short[student_of[item.item_id]] += 1
    return short


def student_page(
    session: Session, reader: Reader, external_id: str, *, max_share: float
) -> StudentPage:
    student_id = authority.student_id(session, reader, external_id)
    status = queries.student_status(session, external_id)
    person_ids = [m.person_id for m in status.members]
    failing = web.failing_people(session, person_ids)
    away = web.away_until(session, student_id)
    history = {
        item_id: tuple(HistoryEntry(*row) for row in rows)  # type: ignore[arg-type]
        for item_id, rows in web.histories(session, [i.id for i in status.items]).items()
    }
    balance = check_balance(
        status.external_id,
        status.name,
        status.members,
        [(i.owner_email, i.status) for i in status.items if i.kind is not ItemKind.ACCOMMODATION],
        max_share,
    )
    team = tuple(
        TeamMember(m, failing.get(m.person_id), away.get(m.person_id)) for m in status.members
    )
    return StudentPage(status, team, history, balance)


def student_record(
    session: Session, reader: Reader, external_id: str, *, max_share: float
) -> StudentRecord:
    """The student page and every email sent and received about the child, for export."""
    page = student_page(session, reader, external_id, max_share=max_share)
    student = web.visible_student(session, scope_of(reader), external_id)
    assert student is not None and student.id is not None
    return StudentRecord(page, tuple(web.student_mail(session, student.id)))


def held_replies(session: Session, reader: Reader) -> list[HeldView]:
    """The held replies the reader may read (every held reply for an admin).

    A reply is shown for the students of the request its key points at, never for its
    sender's other students: a teacher on her team does not bring his replies about another
    caseload's child. Without a key, for its sender's students. The list carries no text;
    `held_reply` reads one message whole.
    """
    return _held(session, reader, None, max_bytes=0)


def held_reply(session: Session, reader: Reader, inbound_id: int, *, max_bytes: int) -> HeldView:
    """One held reply the reader may see, with the words we would apply and the whole text."""
    found = _held(session, reader, inbound_id, max_bytes=max_bytes)
    if not found:
        raise NotFoundError(f"no held reply {inbound_id}")
    return found[0]


# Whoever runs the command line holds the database: they read any held reply.
OPERATOR = Reader("", "the command line", "en", is_admin=True)


def _about(target: HeldTarget) -> frozenset[int]:
    """The students a held reply is about: its request's, else (no key) its sender's."""
    return target.sender_students if target.request_students is None else target.request_students


def _held(
    session: Session, reader: Reader, inbound_id: int | None, *, max_bytes: int
) -> list[HeldView]:
    mine = authority.managed(session, reader)
    targets = {t.inbound_id: t for t in authority.readable_held(session, reader, inbound_id)}
    names = {s.id: s.name for s in web.visible_students(session, scope_of(reader))}
    views = []
    for row in web.held_rows(session, list(targets), with_raw=inbound_id is not None):
        target = targets[row.id or 0]
        kept, original = row.kept_text, ""
        items: tuple[ItemView, ...] = ()
        if inbound_id is not None:
            original = parse_message(row.raw, max_bytes=max_bytes).text[:MAX_ORIGINAL_CHARS]
            # Held before it was read: show the words that releasing it would apply.
            kept = kept or trim_reply(original).kept
            # To pick from: the reader's students whose team the sender is on.
            pickable = [s for s in target.sender_students if may_use_student(reader, mine, s)]
            items = tuple(queries.item_views(session, student_ids=sorted(pickable)))
        views.append(
            HeldView(
                row.id or 0,
                row.received_at,
                row.from_address,
                row.subject,
                row.reason,
                kept,
                original,
                tuple(sorted(names[s] for s in _about(target) if s in names)),
                target.request_students is not None
                and may_use_held(reader, mine, target, Use.CHANGE),
                items,
            )
        )
    return views
