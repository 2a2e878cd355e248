"""Read models handed to callers: plain frozen data, no database objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from iep_followup.addresses import AddressEventKind
from iep_followup.domain import Cadence, ItemStatus, MeetingKind, Relationship, Role
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

    def is_overdue(self, today: date) -> bool:
        return not self.status.is_closed and self.due_on < today


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
