"""What the desk's pages show: a reader's caseload, one student, the held replies they may read."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from iep_followup.balance import check_balance
from iep_followup.desk import (
    CaseloadRow,
    HeldView,
    HistoryEntry,
    Reader,
    StudentPage,
    StudentRecord,
    TeamMember,
    caseload_row,
    sort_caseload,
)
from iep_followup.digest import OwnerRequests, silent_streak
from iep_followup.domain import ItemKind
from iep_followup.errors import NotFoundError
from iep_followup.inbound.message import parse_message
from iep_followup.inbound.trim import trim_reply
from iep_followup.planning import SendPolicy, local_now
from iep_followup.store import queries, web
from iep_followup.store.db import Session
from iep_followup.views import ItemView

MAX_ORIGINAL_CHARS = 200_000


def scope_of(reader: Reader) -> str | None:
    """The case manager whose students the reader sees; None for an administrator (all)."""
    return None if reader.is_admin else reader.email


def not_found(external_id: str) -> NotFoundError:
    # The same words for a student on another caseload as for one that does not exist.
    return NotFoundError(f"no student with id {external_id!r}")


def caseload(
    session: Session, reader: Reader, *, now: datetime, policy: SendPolicy, timezone: str
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
    on_teams: dict[int, set[int]] = defaultdict(set)
    for student_id, team in members.items():
        for member in team:
            on_teams[member.person_id].add(student_id)
    for _inbound_id, sender in web.held_senders(session, list(names)):
        for student_id in on_teams.get(sender or 0, ()):
            held[student_id] += 1
    today = local_now(now, timezone).date()
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
        )
        for s in students
    ]
    return sort_caseload(rows)


def student_page(
    session: Session, reader: Reader, external_id: str, *, max_share: float
) -> StudentPage:
    if web.visible_student(session, scope_of(reader), external_id) is None:
        raise not_found(external_id)
    status = queries.student_status(session, external_id)
    person_ids = [m.person_id for m in status.members]
    failing = web.failing_people(session, person_ids)
    away: dict[int, Any] = web.away_until(session, person_ids)
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
        TeamMember(m, failing.get(m.person_id), _as_date(away.get(m.person_id)))
        for m in status.members
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


def _as_date(value: object) -> date | None:
    return value if isinstance(value, date) else None


def held_replies(session: Session, reader: Reader) -> list[HeldView]:
    """Held replies from people on the reader's students' teams (every held reply for an admin).

    As in the digest, a reply is shown for its sender's students, never for the student its
    key points at: a forwarded key must not carry a stranger's words into a child's record.
    The list carries no text; `held_reply` reads one message whole.
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


def _held(
    session: Session, reader: Reader, inbound_id: int | None, *, max_bytes: int
) -> list[HeldView]:
    students = web.visible_students(session, scope_of(reader))
    names = {s.id: s.name for s in students}
    on_teams = web.team_person_ids(session, [s.id for s in students if s.id is not None])
    senders = web.held_senders(session, None if reader.is_admin else list(on_teams))
    wanted = [i for i, _ in senders if inbound_id is None or i == inbound_id]
    views = []
    for row in web.held_rows(session, wanted, with_raw=inbound_id is not None):
        kept, original = row.kept_text, ""
        items: tuple[ItemView, ...] = ()
        senders_students = on_teams.get(row.person_id or 0, set())
        if inbound_id is not None:
            original = parse_message(row.raw, max_bytes=max_bytes).text[:MAX_ORIGINAL_CHARS]
            # Held before it was read: show the words that releasing it would apply.
            kept = kept or trim_reply(original).kept
            items = tuple(queries.item_views(session, student_ids=sorted(senders_students)))
        views.append(
            HeldView(
                row.id or 0,
                row.received_at,
                row.from_address,
                row.subject,
                row.reason,
                kept,
                original,
                tuple(sorted(names[s] for s in senders_students if s in names)),
                row.request_id is not None,
                items,
            )
        )
    return views
