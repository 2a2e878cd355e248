"""The database tables (SQLModel). Every datetime column is aware UTC; dates are dates."""

# No `from __future__ import annotations` here: SQLModel reads the annotations at class creation.

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlmodel import Field, SQLModel

from iep_followup.addresses import AddressEventKind
from iep_followup.domain import (
    MAX_EMAIL,
    MAX_EXTERNAL_ID,
    MAX_GRADE,
    MAX_KEY,
    MAX_LANGUAGE,
    MAX_NAME,
    MAX_SCHOOL,
    MAX_TIMEZONE,
    MAX_TITLE,
    Cadence,
    ItemKind,
    ItemStatus,
    MeetingKind,
    MissReason,
    PeriodOutcome,
    Relationship,
    Role,
    UpdateSource,
)
from iep_followup.inbound.outcome import InboundOutcome
from iep_followup.mail.kinds import MailKind, OutboxStatus
from iep_followup.store.types import TextEnum, UTCDateTime


def table_of(model: type[SQLModel]) -> Table:
    """A model's table, for Core statements that skip the ORM's per-row work."""
    return SQLModel.metadata.tables[str(model.__tablename__)]


def _utc(*, nullable: bool = False, index: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable, index=index)


def _translations() -> Column[dict[str, str]]:
    """A free text's versions in other languages than the meeting's: {"es": "..."}."""
    return Column(JSON, nullable=False, server_default=text("'{}'"))


def _fk(
    target: str, *, nullable: bool = False, index: bool = True, ondelete: str = "CASCADE"
) -> Column[int]:
    return Column(Integer, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index)


class Student(SQLModel, table=True):
    __tablename__ = "student"

    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(sa_column=Column(String(MAX_EXTERNAL_ID), nullable=False, unique=True))
    name: str = Field(max_length=MAX_NAME)
    school: str = Field(default="", max_length=MAX_SCHOOL)
    grade: str = Field(default="", max_length=MAX_GRADE)
    created_at: datetime = Field(sa_column=_utc())


class Person(SQLModel, table=True):
    __tablename__ = "person"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=MAX_NAME)
    # Stored lowercased: addresses compare case-insensitively.
    email: str = Field(sa_column=Column(String(MAX_EMAIL), nullable=False, unique=True))
    language: str = Field(default="en", max_length=MAX_LANGUAGE)
    timezone: str | None = Field(default=None, max_length=MAX_TIMEZONE)
    created_at: datetime = Field(sa_column=_utc())
    # Set when the mail server refused the address for good (5xx or a hard bounce).
    mail_failing_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    mail_failure_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    soft_bounces: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class Membership(SQLModel, table=True):
    __tablename__ = "membership"
    __table_args__ = (
        UniqueConstraint("student_id", "person_id", name="uq_membership_student_person"),
    )

    id: int | None = Field(default=None, primary_key=True)
    student_id: int = Field(sa_column=_fk("student.id"))
    person_id: int = Field(sa_column=_fk("person.id"))
    role: Role = Field(sa_column=Column(TextEnum(Role), nullable=False))
    # To the child, as the team recorded it (mother, grandmother, ...); family members only.
    relationship: Relationship | None = Field(
        default=None, sa_column=Column(TextEnum(Relationship), nullable=True)
    )
    # Not asked about this student's items until then; their other teams are not affected.
    away_until: date | None = None


class Meeting(SQLModel, table=True):
    __tablename__ = "meeting"
    __table_args__ = (
        UniqueConstraint("student_id", "held_on", "kind", name="uq_meeting_student_date_kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    student_id: int = Field(sa_column=_fk("student.id"))
    held_on: date
    kind: MeetingKind = Field(sa_column=Column(TextEnum(MeetingKind), nullable=False))
    notes: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(sa_column=_utc())
    updated_at: datetime = Field(sa_column=_utc())
    # The language its texts are written in; each text's `translations` hold the others.
    language: str = Field(
        default="en", sa_column=Column(String(MAX_LANGUAGE), nullable=False, server_default="en")
    )
    notes_translations: dict[str, str] = Field(default_factory=dict, sa_column=_translations())
    # Imported with --hold-summaries: no summary goes out until the case manager releases them.
    summaries_held: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class Strength(SQLModel, table=True):
    __tablename__ = "strength"

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(sa_column=_fk("meeting.id"))
    position: int
    text: str = Field(sa_column=Column(Text, nullable=False))
    said_by_id: int | None = Field(
        default=None, sa_column=_fk("person.id", nullable=True, ondelete="SET NULL")
    )
    translations: dict[str, str] = Field(default_factory=dict, sa_column=_translations())


class Concern(SQLModel, table=True):
    __tablename__ = "concern"
    __table_args__ = (UniqueConstraint("meeting_id", "key", name="uq_concern_meeting_key"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(sa_column=_fk("meeting.id"))
    key: str = Field(max_length=MAX_KEY)
    position: int
    text: str = Field(sa_column=Column(Text, nullable=False))
    raised_by_id: int | None = Field(
        default=None, sa_column=_fk("person.id", nullable=True, ondelete="SET NULL")
    )
    translations: dict[str, str] = Field(default_factory=dict, sa_column=_translations())


class ActionItem(SQLModel, table=True):
    __tablename__ = "action_item"
    __table_args__ = (
        UniqueConstraint("meeting_id", "key", name="uq_item_meeting_key"),
        # Planning scans open items by owner; the digest by student.
        Index("ix_item_owner_status", "owner_id", "status"),
        Index("ix_item_student_status", "student_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(sa_column=_fk("meeting.id", index=False))
    # None for an accommodation's check-in that answers no concern in particular.
    concern_id: int | None = Field(default=None, sa_column=_fk("concern.id", nullable=True))
    student_id: int = Field(sa_column=_fk("student.id", index=False))
    owner_id: int = Field(sa_column=_fk("person.id", index=False, ondelete="RESTRICT"))
    key: str = Field(max_length=MAX_KEY)
    title: str = Field(max_length=MAX_TITLE)
    due_on: date
    cadence: Cadence = Field(sa_column=Column(TextEnum(Cadence), nullable=False))
    status: ItemStatus = Field(sa_column=Column(TextEnum(ItemStatus), nullable=False))
    percent: int = 0
    service_minutes_per_week: int | None = None
    created_at: datetime = Field(sa_column=_utc())
    closed_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    translations: dict[str, str] = Field(default_factory=dict, sa_column=_translations())  # title
    # A routine's due date is the day it ends; its check-ins record periods (item_update.period).
    kind: ItemKind = Field(
        default=ItemKind.TASK,
        sa_column=Column(TextEnum(ItemKind), nullable=False, server_default=ItemKind.TASK.value),
    )
    # An accommodation's check-in (kind accommodation): the accommodation's id in the meeting.
    accommodation: str | None = Field(
        default=None, sa_column=Column(String(MAX_KEY), nullable=True)
    )
    # A service's sessions a week: a missed one is their share of the minutes.
    sessions_per_week: int | None = None


class Update(SQLModel, table=True):
    """One entry in an item's history. Append-only: rows are never edited."""

    __tablename__ = "item_update"

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(sa_column=_fk("action_item.id"))
    author_id: int | None = Field(
        default=None, sa_column=_fk("person.id", nullable=True, index=False, ondelete="SET NULL")
    )
    created_at: datetime = Field(sa_column=_utc(index=True))
    status: ItemStatus | None = Field(
        default=None, sa_column=Column(TextEnum(ItemStatus), nullable=True)
    )
    percent: int | None = None
    due_on: date | None = None
    owner_id: int | None = Field(
        default=None, sa_column=_fk("person.id", nullable=True, index=False, ondelete="SET NULL")
    )
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    source: UpdateSource = Field(sa_column=Column(TextEnum(UpdateSource), nullable=False))
    inbound_id: int | None = Field(
        default=None,
        sa_column=_fk("inbound_message.id", nullable=True, index=False, ondelete="SET NULL"),
    )
    # Read from the owner's sentence ("we're about halfway"), not given as a command.
    understood: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # A routine's answer for the period this update falls in, and service minutes delivered.
    period: PeriodOutcome | None = Field(
        default=None, sa_column=Column(TextEnum(PeriodOutcome), nullable=True)
    )
    minutes: int | None = None
    # A service's missed session: why, how many minutes were lost, and whether `minutes` were
    # given as make-up (a provider-side reason's lost minutes are owed: MissReason.is_owed).
    missed_reason: MissReason | None = Field(
        default=None, sa_column=Column(TextEnum(MissReason), nullable=True)
    )
    missed_minutes: int | None = None
    makeup: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class UpdateRequest(SQLModel, table=True):
    """One email to one owner for one cycle (their local date), listing their items as A1, A2, ..."""

    __tablename__ = "update_request"
    __table_args__ = (UniqueConstraint("person_id", "cycle_on", name="uq_request_person_cycle"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(sa_column=_fk("person.id", index=False))
    cycle_on: date
    created_at: datetime = Field(sa_column=_utc())
    expires_at: datetime = Field(sa_column=_utc())
    reminded_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    answered_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


class RequestItem(SQLModel, table=True):
    __tablename__ = "request_item"
    __table_args__ = (
        UniqueConstraint("request_id", "ref", name="uq_request_item_ref"),
        UniqueConstraint("request_id", "item_id", name="uq_request_item_item"),
        # When an item was last asked about: max(request_id) for one item, read off the index.
        Index("ix_request_item_item_request", "item_id", "request_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(sa_column=_fk("update_request.id", index=False))
    item_id: int = Field(sa_column=_fk("action_item.id", index=False))
    ref: str = Field(max_length=8)  # "A1", what the owner's reply names


class OutboxMessage(SQLModel, table=True):
    """A rendered email waiting to be sent. Written in the same transaction as what caused it."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: MailKind = Field(sa_column=Column(TextEnum(MailKind), nullable=False))
    # owner + cycle for requests, member + meeting for summaries, ...: a rerun cannot queue twice.
    idempotency_key: str = Field(sa_column=Column(String(200), nullable=False, unique=True))
    person_id: int | None = Field(
        default=None, sa_column=_fk("person.id", nullable=True, index=True, ondelete="SET NULL")
    )
    request_id: int | None = Field(
        default=None, sa_column=_fk("update_request.id", nullable=True, ondelete="SET NULL")
    )
    to_address: str = Field(max_length=MAX_EMAIL)
    message_id: str = Field(sa_column=Column(String(300), nullable=False, unique=True))
    subject: str = Field(max_length=500)
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    status: OutboxStatus = Field(sa_column=Column(TextEnum(OutboxStatus), nullable=False))
    attempts: int = 0
    created_at: datetime = Field(sa_column=_utc())
    next_attempt_at: datetime = Field(sa_column=_utc())
    lease_until: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class PersonAddress(SQLModel, table=True):
    """Another address known to belong to a person: replies from it count as theirs."""

    __tablename__ = "person_address"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(sa_column=_fk("person.id"))
    email: str = Field(sa_column=Column(String(MAX_EMAIL), nullable=False, unique=True))


class InboundMessage(SQLModel, table=True):
    """Every message that reached us, once, with what we did with it and why."""

    __tablename__ = "inbound_message"
    __table_args__ = (Index("ix_inbound_outcome", "outcome", "received_at"),)

    id: int | None = Field(default=None, primary_key=True)
    # The Message-ID, or a hash of the raw bytes when there is none: receiving it twice is a no-op.
    message_key: str = Field(sa_column=Column(String(300), nullable=False, unique=True))
    received_at: datetime = Field(sa_column=_utc())
    via: str = Field(max_length=16)  # imap, smtp, pipe
    from_address: str | None = Field(default=None, max_length=320)
    subject: str = Field(default="", max_length=500)
    outcome: InboundOutcome = Field(sa_column=Column(TextEnum(InboundOutcome), nullable=False))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    request_id: int | None = Field(
        default=None, sa_column=_fk("update_request.id", nullable=True, ondelete="SET NULL")
    )
    person_id: int | None = Field(
        default=None, sa_column=_fk("person.id", nullable=True, ondelete="SET NULL")
    )
    raw: bytes = Field(
        sa_column=Column(LargeBinary, nullable=False)
    )  # kept so a held reply can be released
    kept_text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # What the reply said that was about no single item: shown to the case manager.
    notes: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    trimmed_away: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    released_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


class ImapState(SQLModel, table=True):
    """Where IMAP polling stopped, per mailbox: resume by UID, start over when UIDVALIDITY changes."""

    __tablename__ = "imap_state"

    mailbox: str = Field(primary_key=True, max_length=300)
    uidvalidity: int = Field(sa_type=BigInteger)
    last_uid: int = Field(sa_type=BigInteger)


class DigestRecord(SQLModel, table=True):
    """What a sent digest showed, so the next one can say what changed since."""

    __tablename__ = "digest_record"
    __table_args__ = (
        UniqueConstraint("person_id", "period_start", name="uq_digest_person_period"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(sa_column=_fk("person.id", index=False))
    period_start: date
    classroom_share: float
    created_at: datetime = Field(sa_column=_utc())


class AddressEvent(SQLModel, table=True):
    """One change to whether a person's address takes mail, and what showed it. Append-only."""

    __tablename__ = "address_event"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(sa_column=_fk("person.id"))
    created_at: datetime = Field(sa_column=_utc())
    kind: AddressEventKind = Field(sa_column=Column(TextEnum(AddressEventKind), nullable=False))
    source: str = Field(max_length=16)  # bounce, smtp, reply, delivery, cli, api
    reason: str = Field(sa_column=Column(Text, nullable=False))


class JobRun(SQLModel, table=True):
    """Each daemon job's last success (any daemon on this database): health and metrics read it."""

    __tablename__ = "job_run"

    name: str = Field(primary_key=True, max_length=64)
    last_success_at: datetime = Field(sa_column=_utc())
    duration_ms: int = 0


class AccessLog(SQLModel, table=True):
    """Who saw or did what with a child's record, when, from where. Append-only; holds no
    record text, so it survives forgetting the student (as does the row saying so)."""

    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_student_at", "student", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(sa_column=_utc())
    actor: str = Field(sa_column=Column(String(MAX_EMAIL), nullable=False))
    client: str = Field(sa_column=Column(String(64), nullable=False))
    action: str = Field(sa_column=Column(String(32), nullable=False))
    # The student's id as the district knows it (not a foreign key: the log outlives rows).
    student: str | None = Field(
        default=None, sa_column=Column(String(MAX_EXTERNAL_ID), nullable=True)
    )
    detail: str = Field(default="", sa_column=Column(String(500), nullable=False, default=""))
