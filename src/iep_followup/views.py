"""Read models handed to callers: plain data, no database objects.

Frozen, except the reports of a job's run, which the run fills in as it goes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from iep_followup.addresses import AddressEventKind
from iep_followup.domain import (
    Cadence,
    ItemKind,
    ItemStatus,
    MeetingKind,
    MissReason,
    PeriodOutcome,
    Relationship,
    Role,
)
from iep_followup.inbound.outcome import InboundOutcome
from iep_followup.mail.kinds import MailKind, OutboxStatus
from iep_followup.translations import TranslationGap


@dataclass(frozen=True)
class MemberView:
    person_id: int
    name: str
    email: str
    role: Role
    language: str
    relationship: Relationship | None = None  # to the child, for family members


@dataclass(frozen=True)
class ItemView:
    id: int
    key: str
    student_external_id: str
    student_name: str
    concern: str
    title: str
    owner_name: str
    owner_email: str
    owner_role: Role
    due_on: date
    cadence: Cadence
    status: ItemStatus
    percent: int
    service_minutes_per_week: int | None
    last_update_at: datetime | None = None
    last_update_note: str | None = None
    closed_at: datetime | None = None
    kind: ItemKind = ItemKind.TASK
    accommodation: str | None = None  # an accommodation's check-in: the accommodation's id

    def is_overdue(self, today: date) -> bool:
        return not self.status.is_closed and self.due_on < today

    @property
    def is_routine_under_way(self) -> bool:
        """A routine kept period by period: "not started" or a percent would mislead."""
        return self.kind.has_periods and self.status in (
            ItemStatus.OPEN,
            ItemStatus.IN_PROGRESS,
        )


@dataclass(frozen=True)
class UpdateView:
    item_id: int
    created_at: datetime
    author_name: str | None
    source: str
    status: ItemStatus | None
    percent: int | None
    due_on: date | None
    note: str | None
    understood: bool = False  # read from the owner's sentence, not given as a command
    period: PeriodOutcome | None = None  # a routine's answer for the period it falls in
    minutes: int | None = None  # service minutes delivered


@dataclass(frozen=True)
class StudentStatus:
    external_id: str
    name: str
    school: str
    grade: str
    meeting_on: date | None
    meeting_kind: MeetingKind | None
    strengths: tuple[str, ...]
    members: tuple[MemberView, ...]
    items: tuple[ItemView, ...]


@dataclass(frozen=True)
class RecordedMeeting:
    """What recording a meeting changed: counts let a re-import show it was a no-op."""

    meeting_id: int
    student_external_id: str
    created: bool
    changes: tuple[str, ...]
    summaries_queued: int = 0
    summaries_held: bool = False  # waiting for Tracker.release_summaries
    # Per reader language, the texts with no version in it (logged before any summary is queued).
    translation_gaps: tuple[TranslationGap, ...] = ()
    # Per person on another caseload's team too: what the file would have changed, kept.
    kept: tuple[str, ...] = ()


@dataclass(frozen=True)
class Recipient:
    person_id: int
    name: str
    email: str
    language: str
    timezone: str
    is_family: bool  # family (domain.FAMILY_ROLES) on at least one of the teams


@dataclass(frozen=True)
class LastUpdate:
    at: datetime
    status: ItemStatus | None
    percent: int | None
    note: str | None
    period: PeriodOutcome | None = None  # a routine's answer for the period
    minutes: int | None = None


@dataclass(frozen=True)
class ItemDetail:
    item_id: int
    student_id: int
    student_name: str
    title: str
    concern: str
    due_on: date
    status: ItemStatus
    percent: int
    last: LastUpdate | None
    kind: ItemKind = ItemKind.TASK
    cadence: Cadence = Cadence.WEEKLY
    minutes_per_week: int | None = None  # service minutes promised


@dataclass(frozen=True)
class Contact:
    name: str
    email: str


@dataclass(frozen=True)
class AddressEventView:
    """One entry in the history of a person's address: marked failing, bounced, cleared."""

    created_at: datetime
    kind: AddressEventKind
    source: str
    reason: str


@dataclass(frozen=True)
class FailingAddress:
    """Someone whose address the mail server refused, and what it said."""

    name: str
    email: str
    reason: str


# --- mail in and out ------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxMessageView:
    """One queued, sent or failed email."""

    id: int
    kind: MailKind
    to_address: str
    subject: str
    status: OutboxStatus
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class InboundMessageView:
    """One received email and what was done with it."""

    id: int
    received_at: datetime
    via: str
    from_address: str | None
    subject: str
    outcome: InboundOutcome
    reason: str
    request_id: int | None
    released_at: datetime | None


@dataclass(frozen=True)
class Backlog:
    """What waits: outbox messages by status, and replies held for a person to check."""

    outbox: dict[OutboxStatus, int]
    held: int


@dataclass(frozen=True)
class IngestResult:
    """What became of one inbound email."""

    inbound_id: int | None
    outcome: InboundOutcome
    reason: str
    duplicate: bool = False
    applied: int = 0  # item updates recorded


@dataclass(frozen=True)
class InboxPoll:
    """One pass over the IMAP mailbox, or why there was none."""

    fetched: int = 0
    recorded: int = 0
    failed: int = 0
    skipped: str | None = None  # no mailbox configured, another daemon polling

    def summary(self) -> str:
        if self.skipped is not None:
            return self.skipped
        return f"fetched {self.fetched}, recorded {self.recorded}, failed {self.failed}"


# --- what a run of a job did ----------------------------------------------------------


@dataclass(frozen=True)
class PlannedLine:
    """One owner in a requests run: asked, reminded or left to wait, and why."""

    person_id: int
    name: str
    email: str
    action: str  # "ask", "remind" or "wait"
    reason: str
    items: int = 0


@dataclass
class RequestRun:
    """What a requests run queued (filled in as the run goes, batch by batch)."""

    asked: int = 0
    reminded: int = 0
    waiting: int = 0
    failed: int = 0
    lines: list[PlannedLine] = field(default_factory=list)

    def add(self, other: RequestRun) -> None:
        self.asked += other.asked
        self.reminded += other.reminded
        self.waiting += other.waiting
        self.failed += other.failed
        self.lines.extend(other.lines)


@dataclass
class DeliveryReport:
    """What a delivery pass did (filled in as it goes)."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    error: str | None = None  # why the pass stopped early (server unreachable)


@dataclass
class DigestRun:
    """What a digests run queued or wrote (filled in as it goes)."""

    queued: int = 0
    already: int = 0  # this period's digest was queued before
    quiet_skipped: int = 0
    failed: int = 0
    previews: list[Path] = field(default_factory=list)


class WeekReport(enum.StrEnum):
    """What is known of a week's service minutes. Only a reported week, or one its owner was
    asked about and stayed silent on past the reminder, counts as minutes given (a shortfall);
    the other two say "no report yet", never "0 minutes"."""

    REPORTED = "reported"  # minutes given, or asked and answered (what was not told was not given)
    SILENT = "silent"  # asked, reminded, no answer: counts as nothing given
    NOT_ASKED = "not_asked"  # nobody has asked its owner about this week yet
    NO_ANSWER_YET = "no_answer_yet"  # asked; the reminder and its grace period are not over

    @property
    def counts(self) -> bool:
        return self in (WeekReport.REPORTED, WeekReport.SILENT)


@dataclass(frozen=True)
class MinutesWeek:
    """Service minutes in one week (Monday to Sunday): delivered as reported, promised by the plan."""

    week_of: date  # the Monday
    delivered: int
    promised: int
    report: WeekReport = WeekReport.REPORTED

    @property
    def shortfall(self) -> int:
        """Minutes promised and not given; 0 while the week has no report yet."""
        return max(self.promised - self.delivered, 0) if self.report.counts else 0


@dataclass(frozen=True)
class ItemMinutes:
    """One item's service minutes, week by week."""

    item_id: int
    key: str
    title: str
    owner_name: str
    owner_email: str
    promised_per_week: int
    weeks: tuple[MinutesWeek, ...]
    # In these weeks: minutes missed by reason, and make-up minutes still owed.
    missed: tuple[tuple[MissReason, int], ...] = ()
    owed: int = 0


@dataclass(frozen=True)
class ServiceMinutes:
    """A student's service minutes from `since` to `until`: per item, and per week for the student."""

    student_external_id: str
    student_name: str
    since: date
    until: date
    items: tuple[ItemMinutes, ...]
    weeks: tuple[MinutesWeek, ...]  # all items together


@dataclass(frozen=True)
class RoutineRecord:
    """How a routine is going: of the last `periods` periods, how many it happened in."""

    item_id: int
    kept: int
    periods: int
    cadence: Cadence


@dataclass(frozen=True)
class UseWeeks:
    """One implementer's weeks with one accommodation: used, not used (and why), did not come
    up, or no answer (a week that is over with nothing said)."""

    used: int = 0
    not_used: int = 0
    not_applicable: int = 0
    no_answer: int = 0
    reasons: tuple[str, ...] = ()  # why it was not used, as the implementer said it
    not_used_running: int = 0  # answered weeks in a row, up to the last, it was not used


@dataclass(frozen=True)
class AccommodationUse:
    """One accommodation as one implementer applies it, and their weeks with it."""

    item_id: int
    key: str  # the accommodation's id in the meeting file
    text: str
    implementer_name: str
    implementer_email: str
    weeks: UseWeeks
    student_external_id: str = ""
    student_name: str = ""


@dataclass(frozen=True)
class ServiceDelivered:
    """A service's minutes over a record's weeks: promised and delivered."""

    item: str  # the item's id in the meeting file
    title: str
    owner: str  # email
    promised_minutes: int
    delivered_minutes: int
    missed_minutes: tuple[tuple[MissReason, int], ...] = ()
    owed_minutes: int = 0


@dataclass(frozen=True)
class ImplementationRecord:
    """The plan carried out, from `since` to `until`: each accommodation as each implementer
    applied it, and each service's minutes delivered against promised."""

    student: str  # the district's id
    student_name: str
    since: date
    until: date
    accommodations: tuple[AccommodationUse, ...]
    services: tuple[ServiceDelivered, ...]

    def as_json(self) -> dict[str, Any]:
        """The record as `iep-followup record --json` prints it."""
        return {
            "student": self.student,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "accommodations": [
                {
                    "id": a.key,
                    "text": a.text,
                    "implementer": a.implementer_email,
                    "weeks": {
                        "used": a.weeks.used,
                        "not_used": a.weeks.not_used,
                        "not_applicable": a.weeks.not_applicable,
                        "no_answer": a.weeks.no_answer,
                    },
                    "not_used_reasons": list(a.weeks.reasons),
                }
                for a in self.accommodations
            ],
            "services": [
                {
                    "item": s.item,
                    "title": s.title,
                    "owner": s.owner,
                    "promised_minutes": s.promised_minutes,
                    "delivered_minutes": s.delivered_minutes,
                    "missed_minutes": {
                        reason.value: minutes
                        for reason, minutes in (
                            s.missed_minutes or tuple((r, 0) for r in MissReason)
                        )
                    },
                    "owed_minutes": s.owed_minutes,
                }
                for s in self.services
            ],
        }
