"""The case manager's desk as values: who is reading, a caseload row and its next step, a student's page.

Pure: the store loads, `caseload_row` decides what needs attention first and what to do next.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, tzinfo

from iep_followup.balance import BalanceReport
from iep_followup.digest import Attention, AttentionKind, DigestInputs, needs_attention
from iep_followup.domain import ItemStatus, MeetingRecord, PeriodOutcome, UpdateInput
from iep_followup.errors import ValidationError
from iep_followup.planning import SendPolicy
from iep_followup.translations import TranslationGap
from iep_followup.views import ItemMinutes, ItemView, MemberView, RoutineRecord, StudentStatus

SIGN_IN_MINUTES = 15
SESSION_IDLE_HOURS = 8
FORM_TOKEN_HOURS = 12  # a signed-out visitor's CSRF value (the sign-in page's forms)
# Sign-in requests allowed per address and per client in one SIGN_IN_MINUTES window.
LINKS_PER_ADDRESS = 5
LINKS_PER_CLIENT = 20


@dataclass(frozen=True)
class Reader:
    """A signed-in person: a case manager of some team, or an administrator (sees every student)."""

    email: str
    name: str
    language: str
    is_admin: bool


class NextStep(enum.StrEnum):
    """What a caseload row tells the case manager to do, most urgent first."""

    UNBLOCK = "unblock"
    OVERDUE = "overdue"
    CALL_SILENT = "call_silent"
    FIX_ADDRESS = "fix_address"
    READ_HELD = "read_held"
    NOTHING_OPEN = "nothing_open"
    ON_TRACK = "on_track"


@dataclass(frozen=True)
class CaseloadRow:
    external_id: str
    name: str
    school: str
    grade: str
    open_items: int
    blocked: int
    overdue: int
    silent: tuple[str, ...]  # owners who did not answer their last check-ins
    failing: tuple[str, ...]  # team members whose address the mail server refuses
    held: int
    next_step: NextStep
    who: str | None = None  # the person the next step is about
    title: str | None = None  # the item it is about
    due_on: date | None = None
    short_minutes: int = 0  # services given fewer minutes than promised (the digest's lines)

    @property
    def needs_attention(self) -> bool:
        return self.next_step not in {NextStep.NOTHING_OPEN, NextStep.ON_TRACK} or bool(
            self.short_minutes
        )

    def sort_key(self) -> tuple[int, ...]:
        """Attention first, in the order blocked, overdue, silent, failing, held; then by name."""
        return (
            0 if self.blocked else 1,
            0 if self.overdue else 1,
            0 if self.silent else 1,
            0 if self.failing else 1,
            0 if self.held else 1,
        )


def caseload_row(
    external_id: str,
    name: str,
    school: str,
    grade: str,
    items: tuple[ItemView, ...],
    *,
    today: date,
    silent: tuple[str, ...],
    failing: tuple[str, ...],
    held: int,
    short_minutes: int = 0,
) -> CaseloadRow:
    open_items = [i for i in items if not i.status.is_closed]
    blocked = [i for i in open_items if i.status is ItemStatus.BLOCKED]
    overdue = sorted(
        (i for i in open_items if i.is_overdue(today) and i.status is not ItemStatus.BLOCKED),
        key=lambda i: i.due_on,
    )
    step, who, title, due_on = NextStep.ON_TRACK, None, None, None
    if blocked:
        step, who, title = NextStep.UNBLOCK, blocked[0].owner_name, blocked[0].title
    elif overdue:
        step, who, title = NextStep.OVERDUE, overdue[0].owner_name, overdue[0].title
        due_on = overdue[0].due_on
    elif silent:
        step, who = NextStep.CALL_SILENT, silent[0]
    elif failing:
        step, who = NextStep.FIX_ADDRESS, failing[0]
    elif held:
        step = NextStep.READ_HELD
    elif not open_items:
        step = NextStep.NOTHING_OPEN
    return CaseloadRow(
        external_id,
        name,
        school,
        grade,
        len(open_items),
        len(blocked),
        len(overdue),
        silent,
        failing,
        held,
        step,
        who,
        title,
        due_on,
        short_minutes,
    )


def sort_caseload(rows: list[CaseloadRow]) -> list[CaseloadRow]:
    return sorted(rows, key=lambda r: (*r.sort_key(), r.name.casefold(), r.external_id))


class Need(enum.StrEnum):
    """The caseload's filter: every student, those who need attention, or one kind of it."""

    ALL = "all"
    ATTENTION = "attention"
    BLOCKED = "blocked"
    OVERDUE = "overdue"
    SILENT = "silent"
    FAILING = "failing"
    HELD = "held"


class CaseloadSort(enum.StrEnum):
    ATTENTION = "attention"  # what needs her first, then by name
    NAME = "name"
    OPEN = "open"  # most open items first


@dataclass(frozen=True)
class CaseloadView:
    """Which rows the caseload shows, and in what order (from the page's query parameters)."""

    need: Need = Need.ALL
    text: str = ""  # in the name, the student id or the school, any case
    sort: CaseloadSort = CaseloadSort.ATTENTION


def _needs(row: CaseloadRow, need: Need) -> bool:
    counts = {
        Need.ALL: 1,
        Need.ATTENTION: int(row.needs_attention),
        Need.BLOCKED: row.blocked,
        Need.OVERDUE: row.overdue,
        Need.SILENT: len(row.silent),
        Need.FAILING: len(row.failing),
        Need.HELD: row.held,
    }
    return counts[need] > 0


def view_caseload(rows: list[CaseloadRow], view: CaseloadView) -> list[CaseloadRow]:
    """The rows `view` asks for, in its order."""
    text = view.text.strip().casefold()
    shown = [
        r
        for r in rows
        if _needs(r, view.need)
        and (not text or any(text in v.casefold() for v in (r.name, r.external_id, r.school)))
    ]
    if view.sort is CaseloadSort.NAME:
        return sorted(shown, key=lambda r: (r.name.casefold(), r.external_id))
    if view.sort is CaseloadSort.OPEN:
        return sorted(shown, key=lambda r: (-r.open_items, r.name.casefold(), r.external_id))
    return sort_caseload(shown)


class ItemChange(enum.StrEnum):
    """What the student page's forms do to an item; each carries a reason that is recorded."""

    REASSIGN = "reassign"
    RESCHEDULE = "reschedule"
    CLOSE = "close"
    DROP = "drop"
    REOPEN = "reopen"  # a closed item: only the case manager opens it again (domain.CLOSED_TO)


@dataclass(frozen=True)
class ItemAction:
    change: ItemChange
    reason: str
    owner_id: int | None = None  # REASSIGN: the team member who takes the item
    due_on: date | None = None  # RESCHEDULE: the new due date


class MemberChange(enum.StrEnum):
    """What the student page's team forms do to a member."""

    CLEAR_FAILING = "clear_failing"  # their address works again (checked with them)
    AWAY = "away"  # away until a date (none: back)


@dataclass(frozen=True)
class MemberAction:
    change: MemberChange
    away_until: date | None = None


@dataclass(frozen=True)
class HistoryEntry:
    """One update of an item, with the words of the reply it came from (if any)."""

    created_at: datetime
    author_name: str | None
    source: str
    status: ItemStatus | None
    percent: int | None
    due_on: date | None
    note: str | None
    reply_text: str | None
    period: PeriodOutcome | None = None  # a routine's answer for the period
    minutes: int | None = None  # service minutes given


@dataclass(frozen=True)
class TeamMember:
    member: MemberView
    failing_reason: str | None
    away_until: date | None


@dataclass(frozen=True)
class StudentPage:
    status: StudentStatus
    team: tuple[TeamMember, ...]
    history: dict[int, tuple[HistoryEntry, ...]]  # item id -> its updates, oldest first
    balance: BalanceReport


@dataclass(frozen=True)
class HeldView:
    """A held reply as the desk shows it: the kept words and the whole original, as text."""

    id: int
    received_at: datetime
    from_address: str | None
    subject: str
    reason: str
    kept_text: str
    original: str
    # Names of the reader's students it is about: its request's (without a key, its sender's).
    students: tuple[str, ...]
    # It answers an update request whose every student is the reader's: it can be applied.
    can_release: bool
    # The items it may be applied to instead: those of the reader's students whose team the
    # sender is on (only when one reply is read whole).
    items: tuple[ItemView, ...] = ()


class Use(enum.Enum):
    """What a reader wants to do with a student's record or a held reply."""

    READ = "read"
    CHANGE = "change"


@dataclass(frozen=True)
class HeldTarget:
    """Whom a held reply concerns: the students of the request its key points at (None when it
    carries no key) and the students on whose teams its sender is."""

    inbound_id: int
    request_students: frozenset[int] | None
    sender_students: frozenset[int]


# The one authorization rule of the desk. A case manager's power ends at her caseload: what
# she may read or change is decided by the students concerned, never by who else sits on a
# team (people are shared across caseloads; authority is not). An administrator may do all.


def may_use_student(reader: Reader, managed: frozenset[int], student_id: int) -> bool:
    """A student's record, or anything of theirs (an item, a team membership): hers to read
    and change when she manages the student's team."""
    return reader.is_admin or student_id in managed


def may_use_held(reader: Reader, managed: frozenset[int], held: HeldTarget, use: Use) -> bool:
    """A held reply is decided by the request its key points at: readable when one of its
    students is hers, changeable (released as written, dismissed) only when all of them are.
    Without a key it can change no item by itself: readable (and dismissable) by the case
    managers of its sender's students; applying it to an item checks that item's student.
    """
    if reader.is_admin:
        return True
    if held.request_students is None:
        return bool(held.sender_students & managed)
    if use is Use.READ:
        return bool(held.request_students & managed)
    return bool(held.request_students) and held.request_students <= managed


def held_shown_for(reader: Reader, managed: frozenset[int], held: HeldTarget) -> frozenset[int]:
    """The students a held reply is shown for to this reader: those it concerns (its request's,
    else its sender's) that are hers; all of them for an administrator."""
    about = held.sender_students if held.request_students is None else held.request_students
    return about if reader.is_admin else about & managed


@dataclass(frozen=True)
class MeetingPreview:
    """A meeting file read and checked, shown before it is recorded."""

    record: MeetingRecord
    balance: BalanceReport  # as it will stand for the items the file lists
    amends: bool  # the student is already recorded: this brings their record up to date
    gaps: tuple[TranslationGap, ...] = ()  # per reader language, the texts with no version
    emails: tuple[SummaryPreview, ...] = ()  # each member's summary email, as it will read
    # Members also on another caseload's team whose name, language or time zone the file
    # would change: kept as they are (an administrator may change them).
    kept: tuple[str, ...] = ()


@dataclass(frozen=True)
class SummaryPreview:
    """One team member's summary email, rendered in their language before anything is saved."""

    name: str
    email: str
    language: str
    subject: str
    text: str


@dataclass(frozen=True)
class MailLine:
    """One email sent or received about a student (its words stay in the outbox and the inbox)."""

    at: datetime
    direction: str  # "sent" (queued, sent or failed) or "received"
    kind: str  # the mail kind (summary, request, ...) or, received, how it was read
    address: str  # to whom, or from whom
    subject: str
    state: str  # the outbox status, or the inbound outcome


@dataclass(frozen=True)
class StudentRecord:
    """A child's record for export: the student page, and every email sent and received about them."""

    page: StudentPage
    mail: tuple[MailLine, ...]


RECORD_COLUMNS = (
    "student_id",
    "student",
    "item_id",
    "concern",
    "item",
    "entry",  # "item" (as it stands now), "update" (its history, oldest first), or an email:
    # "sent" or "received" (item columns empty; by: the address, source: the kind, note: subject)
    "at",
    "by",
    "source",
    "owner",
    "status",
    "percent",
    "due_on",
    "note",
    "reply_words",
)


# A spreadsheet runs a cell that starts with one of these as a formula: keep it text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """A CSV cell a spreadsheet shows as text, never runs."""
    return f"'{value}" if value.startswith(FORMULA_START) else value


def record_rows(record: StudentRecord, zone: tzinfo) -> list[tuple[str, ...]]:
    """A child's record as rows (RECORD_COLUMNS): each item as it stands, then its history;
    then every email about the child, oldest first.

    Times are local to `zone`, written as ISO 8601 with their offset.
    """
    page = record.page
    status = page.status
    rows: list[tuple[str, ...]] = []
    for item in status.items:
        head = (status.external_id, status.name, str(item.id), item.concern, item.title)
        rows.append(
            (
                *head,
                "item",
                item.last_update_at.astimezone(zone).isoformat() if item.last_update_at else "",
                "",
                "",
                item.owner_name,
                item.status.value,
                str(item.percent),
                item.due_on.isoformat(),
                item.last_update_note or "",
                "",
            )
        )
        rows.extend((*head, *_update_row(entry, zone)) for entry in page.history.get(item.id, ()))
    rows.extend(
        (
            status.external_id,
            status.name,
            "",
            "",
            "",
            mail.direction,
            mail.at.astimezone(zone).isoformat(),
            mail.address,
            mail.kind,
            "",
            mail.state,
            "",
            "",
            mail.subject,
            "",
        )
        for mail in record.mail
    )
    return rows


def _update_row(entry: HistoryEntry, zone: tzinfo) -> tuple[str, ...]:
    return (
        "update",
        entry.created_at.astimezone(zone).isoformat(),
        entry.author_name or "",
        entry.source,
        "",
        entry.status.value if entry.status else "",
        "" if entry.percent is None else str(entry.percent),
        entry.due_on.isoformat() if entry.due_on else "",
        entry.note or "",
        entry.reply_text or "",
    )


@dataclass(frozen=True)
class StudentAttention:
    """What the case manager's digest says about one student, for the student page: built by
    the digest's own functions (`digest.needs_attention`) over the period the digest covers."""

    lines: tuple[Attention, ...]
    minutes: tuple[ItemMinutes, ...]  # each service item's weeks in the period
    routines: Mapping[int, RoutineRecord]  # by item id: how each open routine is going
    since: date
    until: date  # the period's last day


def student_attention(
    inputs: DigestInputs,
    external_id: str,
    *,
    now: datetime,
    policy: SendPolicy,
    max_share: float,
    since: date,
    until: date,
) -> StudentAttention:
    """The digest's lines about this one student, from its case manager's digest inputs."""
    students = tuple(s for s in inputs.students if s.external_id == external_id)
    ids = {s.student_id for s in students}
    items = {i.id for s in students for i in s.items}
    emails = {m.email for s in students for m in s.members}
    one = replace(
        inputs,
        students=students,
        held=tuple(h for h in inputs.held if h.student_ids & ids),
        failing=tuple(f for f in inputs.failing if f[1] in emails),
    )
    lines = needs_attention(one, now=now, policy=policy, max_share=max_share)
    return StudentAttention(
        tuple(a for a in lines if a.kind is AttentionKind.HELD or external_id in a.student_ids),
        tuple(m for m in inputs.minutes if m.item_id in items),
        {k: v for k, v in inputs.routines.items() if k in items},
        since,
        until,
    )


@dataclass(frozen=True)
class OwnerReport:
    """What an owner told the case manager (by phone, in the hallway), recorded at the desk on
    their behalf: a routine's period and minutes, a task's progress or done, a new date, a note,
    or a blocker cleared with what was done about it."""

    period: PeriodOutcome | None = None
    minutes: int | None = None
    percent: int | None = None
    done: bool = False
    due_on: date | None = None
    note: str = ""
    unblock: bool = False


def owner_update(report: OwnerReport) -> UpdateInput:
    """The update the report makes, through the same rules as a reply (`UpdateInput`, then the
    domain's transition). Clearing a blocker needs what was done, and puts the item back under way."""
    note = " ".join(report.note.split()) or None
    if report.unblock:
        if note is None:
            raise ValidationError("write what was done about the blocker", field="note")
        return UpdateInput(status=ItemStatus.IN_PROGRESS, note=note)
    return UpdateInput(
        status=ItemStatus.DONE if report.done else None,
        percent=report.percent,
        due_on=report.due_on,
        note=note,
        period=report.period,
        minutes=report.minutes,
    )
