"""The library's front door: record what a meeting decided, keep items current, read status and balance."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import cached_property, partial
from pathlib import Path
from typing import Any

from iep_followup import tokens
from iep_followup.balance import BalanceReport
from iep_followup.config import Settings, admin_addresses, load_settings, require_secret
from iep_followup.desk import (
    FORM_TOKEN_HOURS,
    CaseloadRow,
    CaseloadView,
    HeldView,
    ItemAction,
    MeetingPreview,
    MemberAction,
    OwnerReport,
    Reader,
    StudentAttention,
    StudentPage,
    StudentRecord,
    Use,
    view_caseload,
)
from iep_followup.digest import Period
from iep_followup.domain import (
    MAX_MEETING_NOTES,
    ConcernInfo,
    ItemInfo,
    MeetingKind,
    MeetingRecord,
    MemberInfo,
    StrengthInfo,
    StudentInfo,
    UpdateInput,
    UpdateSource,
    check_language,
    check_note,
    parse_enum,
    require_aware,
)
from iep_followup.errors import DatabaseError
from iep_followup.meetingfile import parse_meeting
from iep_followup.net.imap import ImapPoller
from iep_followup.net.smtp import FileTransport, SmtpTransport, Transport, parse_smtp_url
from iep_followup.operations import OpsMetrics, Readiness
from iep_followup.planning import SendPolicy, local_now
from iep_followup.privacy import COMMAND_LINE, Access, AccessEntry, ForgetReport
from iep_followup.services import access as access_service
from iep_followup.services import (
    answers,
    authority,
    desk,
    desk_actions,
    desk_attention,
    desk_meetings,
    held_items,
    mailbox,
    meetings,
    record,
    routines,
    signin,
    team,
    updates,
)
from iep_followup.services import backup as backup_service
from iep_followup.services import ops as ops_service
from iep_followup.services import privacy as privacy_service
from iep_followup.services.delivery import RetryPolicy, deliver
from iep_followup.services.digests import run_digests
from iep_followup.services.ingest import Ingestor
from iep_followup.services.outgoing import Mailer
from iep_followup.services.requests import run_requests
from iep_followup.services.retention import forget_old_mail
from iep_followup.services.setup import send_policy
from iep_followup.services.summaries import release_summaries, student_translation_gaps
from iep_followup.store import inbox, listen, outbox, queries, records
from iep_followup.store import ops as ops_store
from iep_followup.store import web as web_store
from iep_followup.store.db import Database
from iep_followup.store.retention import MailForgotten
from iep_followup.translations import TranslationGap
from iep_followup.views import (
    AddressEventView,
    Backlog,
    DeliveryReport,
    DigestRun,
    FailingAddress,
    ImplementationRecord,
    InboundMessageView,
    InboxPoll,
    IngestResult,
    ItemView,
    OutboxMessageView,
    RecordedMeeting,
    RequestRun,
    ServiceMinutes,
    StudentStatus,
    UpdateView,
)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class Tracker:
    """Typed facade over the store. Every method is one transaction.

    >>> tracker = Tracker.from_settings()          # reads IEP_FOLLOWUP_* and .env
    >>> tracker.record_meeting(record)             # a MeetingRecord, e.g. from load_meeting_file()
    >>> tracker.balance("S-1042")
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        clock: Clock = system_clock,
        database: Database | None = None,
    ) -> None:
        self.settings = settings or load_settings()
        self.database = database or Database(self.settings.database_url)
        self._clock = clock

    @classmethod
    def from_settings(cls, **overrides: Any) -> Tracker:
        """Settings from the environment and `.env`, with keyword overrides (database_url=...)."""
        return cls(load_settings(**overrides))

    def now(self) -> datetime:
        return require_aware(self._clock()).astimezone(UTC)

    def close(self) -> None:
        self.database.dispose()

    def __enter__(self) -> Tracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- set-up -------------------------------------------------------------------

    def init_database(self) -> list[str]:
        """Create or upgrade the schema. Safe to run any number of times."""
        return self.database.migrate()

    # --- recording a meeting ------------------------------------------------------

    def record_meeting(
        self, record: MeetingRecord, *, hold_summaries: bool = False, as_admin: bool = False
    ) -> RecordedMeeting:
        """Record (or bring up to date) everything one meeting decided, all or nothing.

        In the same transaction, every team member's summary email is queued (once per
        member and meeting: a re-import queues one only for someone new on the team).
        The result lists, per reader language, the texts with no version in it (like the
        balance report's warnings; `translation_gaps(record)` tells the same before recording).
        With `hold_summaries` (kept through re-imports) nothing is queued until
        `release_summaries`, so the versions can be added first.

        People are shared, authority is not: it is recorded for the meeting's case manager,
        and someone who also sits on another caseload's team keeps their name, language and
        time zone (the result's `kept` says so), unless `as_admin`.
        """
        return meetings.record_meeting(
            self.database,
            self.mailer,
            record,
            now=self.now(),
            policy=self.policy,
            default_timezone=self.settings.timezone,
            hold_summaries=hold_summaries,
            authority=meetings.authority_of(record, as_admin=as_admin),
        )

    def release_summaries(self, student_external_id: str) -> int:
        """Queue the summaries held at import for this student; returns how many were queued."""
        with self.database.transaction() as session:
            student = queries.get_student(session, student_external_id)
            assert student.id is not None
            return release_summaries(
                session, self.mailer, student.id, self.now(), self.policy, self.settings.timezone
            )

    def translation_gaps(self, student_external_id: str) -> list[TranslationGap]:
        """Per reader language, the student's meeting texts that have no version in it yet."""
        with self.database.transaction() as session:
            student = queries.get_student(session, student_external_id)
            assert student.id is not None
            return student_translation_gaps(session, student.id)

    def start_meeting(
        self,
        student: StudentInfo,
        held_on: date,
        kind: MeetingKind | str,
        notes: str = "",
        *,
        language: str = "en",
    ) -> int:
        """Step by step: create the student (if new) and the meeting; returns the meeting id.

        `language` is the one its texts are written in (their `translations` add others).
        """
        kind = parse_enum(MeetingKind, kind, "kind")
        check_note(notes, "notes", max_length=MAX_MEETING_NOTES)
        language = check_language(language)
        with self.database.transaction() as session:
            meeting = records.start_meeting(
                session, student, held_on, kind, notes, self.now(), language
            )
            assert meeting.id is not None
            return meeting.id

    def add_member(self, student_external_id: str, member: MemberInfo) -> None:
        with self.database.transaction() as session:
            student_id = queries.student_id(session, student_external_id)
            records.upsert_member(session, student_id, member, self.now(), [])

    def add_strength(self, meeting_id: int, strength: StrengthInfo) -> None:
        with self.database.transaction() as session:
            records.add_strength(session, meeting_id, strength)

    def add_concern(self, meeting_id: int, concern: ConcernInfo) -> list[ItemView]:
        """Add a concern with its action items (their owners must already be on the team)."""
        with self.database.transaction() as session:
            ids = records.add_concern(session, meeting_id, concern, self.now())
            return [queries.item_view(session, item_id) for item_id in ids]

    def add_item(self, meeting_id: int, concern_key: str, item: ItemInfo) -> ItemView:
        with self.database.transaction() as session:
            item_id = records.add_item(session, meeting_id, concern_key, item, self.now())
            return queries.item_view(session, item_id)

    # --- asking and delivering ----------------------------------------------------------

    @cached_property
    def mailer(self) -> Mailer:
        return Mailer(self.settings)

    @cached_property
    def policy(self) -> SendPolicy:
        """When people may be emailed: quiet hours, weekends, the school calendar."""
        return send_policy(self.settings)

    def request_updates(self, *, dry_run: bool = False) -> RequestRun:
        """Queue every update request and reminder that is due now (dry run: only say who and why)."""
        return run_requests(
            self.database,
            self.mailer,
            secret="" if dry_run else require_secret(self.settings),
            now=self.now(),
            policy=self.policy,
            default_timezone=self.settings.timezone,
            key_ttl=timedelta(days=self.settings.reply_key_days),
            dry_run=dry_run,
        )

    def preflight(self) -> None:
        """Refuse to start a daemon on a missing secret or an unsafe or broken setting (one clear error)."""
        require_secret(self.settings)
        if self.settings.smtp_url is not None:
            parse_smtp_url(self.settings.smtp_url.get_secret_value())
        self.policy  # noqa: B018  (reads the school calendar)
        self.mailer  # noqa: B018  (checks the addresses and the templates folder)

    def transport(self) -> Transport:
        """SMTP when IEP_FOLLOWUP_SMTP_URL is set, otherwise .eml files in IEP_FOLLOWUP_MAIL_DIR."""
        if self.settings.smtp_url is not None:
            return SmtpTransport(parse_smtp_url(self.settings.smtp_url.get_secret_value()))
        return FileTransport(self.settings.mail_dir)

    async def deliver(
        self,
        transport: Transport | None = None,
        *,
        policy: RetryPolicy | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> DeliveryReport:
        """Send what the outbox holds and is due (until `should_stop` says so, between messages)."""
        secret = require_secret(self.settings)
        return await deliver(
            self.database,
            transport or self.transport(),
            envelope_sender=partial(self.mailer.bounce_address, secret),
            clock=self.now,
            policy=policy or self.retry_policy,
            should_stop=should_stop,
        )

    @cached_property
    def retry_policy(self) -> RetryPolicy:
        """Delivery's first retry delay and lease, from IEP_FOLLOWUP_RETRY_DELAY_SECONDS and _DELIVERY_LEASE_SECONDS."""
        return RetryPolicy(
            base_delay=timedelta(seconds=self.settings.retry_delay_seconds),
            lease=timedelta(seconds=self.settings.delivery_lease_seconds),
        )

    def outbox(self, *, failed_only: bool = False) -> list[OutboxMessageView]:
        with self.database.transaction() as session:
            return outbox.messages(session, failed_only=failed_only)

    def failing_addresses(self) -> list[FailingAddress]:
        """Everyone whose address the mail server refused, and why."""
        with self.database.transaction() as session:
            return queries.failing_addresses(session)

    def digests(
        self, *, period: Period | None = None, preview_dir: Path | None = None
    ) -> DigestRun:
        """Queue each case manager's digest for the last period that is over (once), or write previews."""
        return run_digests(
            self.database,
            self.mailer,
            now=self.now(),
            period=period or Period(self.settings.digest_period),
            policy=self.policy,
            default_timezone=self.settings.timezone,
            max_share=self.settings.max_share,
            makeup_alert_minutes=self.settings.makeup_alert_minutes,
            skip_quiet=self.settings.digest_skip_quiet,
            preview_dir=preview_dir,
            web_url=self.settings.web_url,
        )

    # --- listening ----------------------------------------------------------------------

    @cached_property
    def ingestor(self) -> Ingestor:
        return Ingestor(
            self.database,
            self.mailer,
            secret=require_secret(self.settings),
            clock=self.now,
            default_timezone=self.settings.timezone,
            max_bytes=self.settings.max_reply_bytes,
            is_school_day=self.policy.calendar.is_school_day,
        )

    def ingest(self, raw: bytes, *, via: str = "api", size: int | None = None) -> IngestResult:
        """Record and act on one inbound email (raw RFC 5322 bytes). Receiving it twice applies it once.

        Give `size` when `raw` is only the beginning of a message too big to read whole.
        """
        return self.ingestor.ingest(raw, via=via, size=size)

    async def handle_inbound(self, raw: bytes, via: str, *, size: int | None = None) -> bool:
        """For the IMAP poller and the SMTP receiver: True once the outcome is committed."""
        try:
            await asyncio.to_thread(self.ingestor.ingest, raw, via=via, size=size)
        except DatabaseError as exc:
            log.warning("inbound message not recorded, will be retried: %s", exc)
            return False
        return True

    def imap_poller(self) -> ImapPoller | None:
        """A poller for IEP_FOLLOWUP_IMAP_URL (None when unset); keep it to reuse its connection."""
        return mailbox.new_poller(self.settings, self.database)

    async def poll_inbox(self, poller: ImapPoller | None = None) -> InboxPoll:
        """Read new replies from the IMAP mailbox once; without `poller`, one is opened and closed."""
        own = poller is None
        poller = poller or self.imap_poller()
        if poller is None:
            return InboxPoll(skipped=mailbox.NOT_CONFIGURED)
        try:
            return await mailbox.poll_inbox(
                self.database,
                poller,
                lambda raw: self.handle_inbound(raw, "imap"),
                lambda header, size: self.handle_inbound(header, "imap", size=size),
            )
        finally:
            if own:
                await poller.close()

    async def check_mailbox(self) -> str:
        """Log in to the IMAP mailbox and open it, touching no message."""
        return await mailbox.check_login(self.settings, self.database)

    def release(self, inbound_id: int) -> IngestResult:
        """Apply a held reply after a person has checked it."""
        return self.ingestor.release(inbound_id)

    def held_text(self, inbound_id: int) -> HeldView:
        """A held reply for the command line: the words we kept and the whole original, as
        text. Recorded in the access log ("cli")."""
        with self.database.transaction() as session:
            return access_service.held_reply(
                session,
                desk.OPERATOR,
                inbound_id,
                max_bytes=self.settings.max_reply_bytes,
                client=COMMAND_LINE,
                now=self.now(),
            )

    def inbox(self, *, held_only: bool = False) -> list[InboundMessageView]:
        with self.database.transaction() as session:
            return inbox.messages(session, held_only=held_only)

    async def listen_for_outbox(
        self, on_mail: Callable[[], None], *, on_listening: Callable[[], None] = lambda: None
    ) -> None:
        """PostgreSQL: call `on_mail` whenever any process commits new outbox mail, until cancelled.

        Raises DatabaseError when the connection is lost; the caller waits and listens again.
        """
        await listen.listen_for_outbox(self.database.url, on_mail, on_listening=on_listening)

    def backlog(self) -> Backlog:
        """What waits: outbox messages by status, and how many replies are held for review."""
        with self.database.transaction() as session:
            return Backlog(outbox.counts(session), inbox.count_held(session))

    # --- operations ---------------------------------------------------------------------

    def readiness(self, *, heartbeat_every: int | None = None) -> Readiness:
        """/readyz: the database answers and is current; with `heartbeat_every` (seconds, a
        daemon is expected), its last heartbeat is younger than twice that. Never raises."""
        return ops_service.readiness(self.database, self.now(), heartbeat_every)

    def record_job_run(self, name: str, duration_seconds: float) -> None:
        """The daemon's job `name` succeeded now, taking `duration_seconds`."""
        with self.database.transaction() as session:
            ops_store.record_job_run(session, name, self.now(), duration_seconds)

    def backup(self, dest: Path) -> backup_service.CopyOutcome:
        """Copy the whole database to `dest`: SQLite's online backup (consistent while a daemon
        writes), or pg_dump's custom format (or, without pg_dump here, the command to run)."""
        return backup_service.backup(self.database, dest)

    def restore(self, source: Path) -> backup_service.CopyOutcome:
        """Copy a backup onto this database, which must be empty (a new file or database)."""
        return backup_service.restore(self.database, source)

    def forget_old_mail(self) -> MailForgotten:
        """Remove the raw text of emails sent and received more than IEP_FOLLOWUP_RETAIN_MAIL_DAYS
        ago; the updates they recorded stay. Safe to run any number of times."""
        return forget_old_mail(self.database, self.now(), self.settings.retain_mail_days)

    def ops_metrics(self) -> OpsMetrics:
        """The numbers /metrics shows, read now from the database (so every replica agrees)."""
        with self.database.transaction() as session:
            return ops_store.metrics(session, self.now())

    def add_address(self, person_email: str, other_address: str) -> None:
        """Record another address as a person's own: replies from it are applied as theirs."""
        team.add_address(self.database, person_email, other_address)

    def clear_failing(self, email: str, *, by: str | None = None, source: str = "api") -> bool:
        """Say a person's address works again (checked with them); False if it was not failing.

        The person is asked for updates again from the next run, and the history records it.
        """
        return team.clear_failing(self.database, email, by=by, source=source, now=self.now())

    def address_history(self, email: str) -> list[AddressEventView]:
        """When a person's address was marked failing, bounced softly, or cleared, and why."""
        return team.address_history(self.database, email)

    # --- keeping items current ----------------------------------------------------

    def record_update(
        self,
        item_id: int,
        update: UpdateInput,
        *,
        by: str | None = None,
        source: UpdateSource = UpdateSource.API,
    ) -> ItemView:
        """Append an update to an item's history and move the item along."""
        return updates.record_update(
            self.database, item_id, update, by=by, source=source, now=self.now()
        )

    def reassign_item(
        self,
        item_id: int,
        owner_email: str,
        *,
        by: str | None = None,
        source: UpdateSource = UpdateSource.API,
    ) -> ItemView:
        return updates.reassign_item(
            self.database, item_id, owner_email, by=by, source=source, now=self.now()
        )

    def reschedule_item(
        self, item_id: int, due_on: date, *, by: str | None = None, note: str | None = None
    ) -> ItemView:
        return updates.reschedule_item(
            self.database, item_id, due_on, by=by, note=note, now=self.now()
        )

    def close_item(
        self, item_id: int, *, dropped: bool = False, note: str | None = None, by: str | None = None
    ) -> ItemView:
        return updates.close_item(
            self.database, item_id, dropped=dropped, by=by, note=note, now=self.now()
        )

    # --- reading ------------------------------------------------------------------

    def student_status(self, external_id: str, *, client: str | None = None) -> StudentStatus:
        """The student, their team, strengths and items. With `client` (the command line's
        `status --student` passes "cli"), the view is recorded in the access log."""
        with self.database.transaction() as session:
            if client is None:
                return queries.student_status(session, external_id)
            return access_service.student_status(
                session, external_id, client=client, now=self.now()
            )

    def items(
        self, *, student: str | None = None, owner: str | None = None, open_only: bool = False
    ) -> list[ItemView]:
        """Items filtered by student id and/or owner email."""
        with self.database.transaction() as session:
            student_id = queries.student_id(session, student) if student else None
            owner_id = queries.person_id(session, owner) if owner else None
            return queries.item_views(
                session, student_id=student_id, owner_id=owner_id, open_only=open_only
            )

    def open_items(self, email: str) -> list[ItemView]:
        """One person's open items across all their students."""
        return self.items(owner=email, open_only=True)

    def history(self, item_id: int) -> list[UpdateView]:
        with self.database.transaction() as session:
            return queries.item_history(session, item_id)

    def service_minutes(
        self, student_external_id: str, *, since: date | None = None, until: date | None = None
    ) -> ServiceMinutes:
        """Service minutes delivered against promised, per week, per item and for the student.

        From `since` to `until` (dates in the district's time zone; by default the six weeks up
        to today). The weeks run Monday to Sunday; a week counts for an item from the week it
        was recorded until its end date.
        """
        with self.database.transaction() as session:
            return routines.service_minutes(
                session,
                student_external_id,
                since=since,
                until=until,
                now=self.now(),
                timezone=self.settings.timezone,
                policy=self.policy,
            )

    def implementation_record(
        self, student_external_id: str, *, since: date | None = None, until: date | None = None
    ) -> ImplementationRecord:
        """The plan carried out: each accommodation's weeks per implementer (used, not used and
        why, didn't come up, no answer) and each service's minutes delivered against promised.

        From `since` (by default the day of the student's latest meeting) to `until` (today),
        dates in the district's time zone.
        """
        with self.database.transaction() as session:
            return record.implementation_record(
                session,
                student_external_id,
                since=since,
                until=until,
                now=self.now(),
                timezone=self.settings.timezone,
                policy=self.policy,
            )

    def balance(self, student: str | None = None) -> list[BalanceReport]:
        """Per student: each member's open items and share, with warnings."""
        return team.balance(self.database, student, self.settings.max_share)

    # --- the case manager's desk (web/) ------------------------------------------------
    # Kept together at the end of the class: the desk's use cases live in services/desk.py,
    # services/signin.py and store/web.py.

    def desk_base_url(self) -> str:
        """Where the desk is reached: IEP_FOLLOWUP_WEB_URL, or http:// and WEB_LISTEN."""
        return self.settings.web_url or f"http://{self.settings.web_listen}"

    def desk_form_token(self) -> str:
        """A new pre-sign-in CSRF value for the desk's cookie and forms, signed and dated."""
        return tokens.make_form_token(self._form_key, secrets.token_urlsafe(18), self.now())

    def desk_form_token_is_ours(self, token: str) -> bool:
        """Whether a pre-sign-in CSRF value is one this desk issued, in the last 12 hours."""
        return tokens.verify_form_token(
            self._form_key, token, self.now(), timedelta(hours=FORM_TOKEN_HOURS)
        )

    @cached_property
    def _form_key(self) -> str:
        # The signing secret when there is one (every desk process agrees); else one key per
        # process, and a form from before a restart is asked for again.
        configured = self.settings.secret_key.get_secret_value() if self.settings.secret_key else ""
        return "desk-form:" + (configured or secrets.token_urlsafe(32))

    def desk_reader(self, email: str) -> Reader | None:
        """Who `email` is at the desk, or None when they may not sign in."""
        with self.database.transaction() as session:
            return signin.reader_for(
                session, signin.normalize(email), admin_addresses(self.settings)
            )

    def request_sign_in(self, email: str, *, client: str) -> bool:
        """Email a one-time sign-in link when `email` may use the desk (True when queued).

        Callers must answer the same either way. Raises TooManyRequestsError past the
        per-client limit; past the per-address limit nothing is sent.
        """
        address = self.record_sign_in_request(email, client=client)
        return self.send_sign_in_link(address)

    def record_sign_in_request(self, email: str, *, client: str) -> str:
        """The part of `request_sign_in` a caller waits for, the same work for any address:
        check it is an address (ValidationError) and the per-client limit
        (TooManyRequestsError), and audit it. Returns the address for `send_sign_in_link`."""
        address = signin.normalize(email)
        with self.database.transaction() as session:
            signin.record_request(session, address, client=client, now=self.now())
        return address

    def send_sign_in_link(self, address: str) -> bool:
        """The rest, after the caller has answered: queue a link when `address` (from
        `record_sign_in_request`) may sign in and is under its limit; True when queued."""
        with self.database.transaction() as session:
            return signin.send_link(
                session,
                self.mailer,
                address,
                admins=admin_addresses(self.settings),
                base_url=self.desk_base_url(),
                now=self.now(),
            )

    def sign_in_link(self, email: str) -> str:
        """A sign-in link printed rather than emailed (the first administrator, scripts, tests)."""
        with self.database.transaction() as session:
            token = signin.print_link(
                session, signin.normalize(email), admin_addresses(self.settings), self.now()
            )
        return f"{self.desk_base_url()}/signin/{token}"

    def sign_in_link_state(self, token: str) -> str:
        """'ok', 'used', 'expired' or 'unknown', without using the link."""
        with self.database.transaction() as session:
            return web_store.link_state(session, signin.hash_secret(token), self.now())

    def sign_in(self, token: str, *, client: str) -> tuple[str, Reader] | None:
        """Use a sign-in link (once): the new session's id and who signed in, or None."""
        with self.database.transaction() as session:
            return signin.sign_in(
                session, token, client=client, admins=admin_addresses(self.settings), now=self.now()
            )

    def desk_session(self, session_id: str) -> tuple[Reader, str] | None:
        """The reader and CSRF token of a live session (None once idle 8 hours or ended)."""
        with self.database.transaction() as session:
            return signin.current(
                session, session_id, admins=admin_addresses(self.settings), now=self.now()
            )

    def sign_out(self, session_id: str, reader: Reader, *, everywhere: bool, client: str) -> int:
        """End this session, or every session of the reader; returns how many ended."""
        with self.database.transaction() as session:
            return signin.sign_out(
                session, session_id, reader, everywhere=everywhere, client=client, now=self.now()
            )

    def caseload(self, reader: Reader, view: CaseloadView | None = None) -> list[CaseloadRow]:
        """The reader's students, attention first; `view` filters and orders them."""
        with self.database.transaction() as session:
            rows = desk.caseload(
                session,
                reader,
                now=self.now(),
                policy=self.policy,
                timezone=self.settings.timezone,
                period=Period(self.settings.digest_period),
            )
        return view_caseload(rows, view or CaseloadView())

    def desk_student(self, reader: Reader, external_id: str, *, client: str) -> StudentPage:
        """A student's page; NotFoundError, as for a missing one, when not in the reader's
        caseload. The view is recorded in the access log, from `client`."""
        with self.database.transaction() as session:
            return access_service.student_page(
                session,
                reader,
                external_id,
                max_share=self.settings.max_share,
                client=client,
                now=self.now(),
            )

    def desk_attention(self, reader: Reader, external_id: str) -> StudentAttention:
        """What the student's case manager's digest says about this student (its attention
        lines, service minutes and routines), for the student page; NotFoundError as above."""
        with self.database.transaction() as session:
            return desk_attention.attention_for(
                session,
                reader,
                external_id,
                now=self.now(),
                policy=self.policy,
                timezone=self.settings.timezone,
                period=Period(self.settings.digest_period),
                max_share=self.settings.max_share,
            )

    def held_replies(self, reader: Reader) -> list[HeldView]:
        with self.database.transaction() as session:
            return desk.held_replies(session, reader)

    def held_reply(self, reader: Reader, inbound_id: int, *, client: str) -> HeldView:
        """A held reply the reader may see, whole; recorded in the access log, from `client`."""
        with self.database.transaction() as session:
            return access_service.held_reply(
                session,
                reader,
                inbound_id,
                max_bytes=self.settings.max_reply_bytes,
                client=client,
                now=self.now(),
            )

    def release_held(self, reader: Reader, inbound_id: int, *, client: str) -> IngestResult:
        """Apply a held reply as written by its sender, when every student of the request its
        key points at is the reader's (NotFoundError when she may not read it, ValidationError
        when she may only read it); audited."""
        with self.database.transaction() as session:
            authority.held(session, reader, inbound_id, Use.CHANGE)
            access_service.changed(
                session,
                reader,
                Access.CHANGED,
                inbound_id,
                detail="released",
                client=client,
                now=self.now(),
            )
        result = self.release(inbound_id)
        with self.database.transaction() as session:
            web_store.audit(
                session,
                self.now(),
                "released",
                actor=reader.email,
                client=client,
                subject=str(inbound_id),
                detail=f"{result.applied} update(s) recorded",
            )
        return result

    def apply_held_to_item(
        self, reader: Reader, inbound_id: int, item_id: int, *, client: str
    ) -> None:
        """Apply a held reply to an item the reader picks, as written by its sender; audited.

        The item must be one of the reader's students' (ValidationError otherwise, as when the
        sender is not on that student's team: the update must name who wrote it). Nothing is
        recorded when it is refused.
        """
        with self.database.transaction() as session:
            held_items.apply_to_item(
                session,
                reader,
                inbound_id,
                item_id,
                read=self.ingestor.read_about_one_item,
                client=client,
                now=self.now(),
                max_bytes=self.settings.max_reply_bytes,
            )

    def dismiss_held(self, reader: Reader, inbound_id: int, *, reason: str, client: str) -> None:
        """Set a held reply aside without applying it; who and why are recorded."""
        with self.database.transaction() as session:
            desk_actions.dismiss_held(
                session,
                reader,
                inbound_id,
                reason=reason,
                client=client,
                now=self.now(),
            )

    def desk_audit(self, limit: int = 200) -> list[web_store.AuditView]:
        """The newest entries of the desk's audit log: sign-ins and every change."""
        with self.database.transaction() as session:
            return web_store.audit_entries(session, limit)

    def desk_change_item(
        self, reader: Reader, external_id: str, item_id: int, action: ItemAction, *, client: str
    ) -> None:
        """Reassign, reschedule, close or drop one of a visible student's items, with a reason.

        NotFoundError when the student is not the reader's (as for a missing one) or the item
        is not the student's; the change and who made it are in the item history and the audit.
        """
        with self.database.transaction() as session:
            desk_actions.change_item(
                session, reader, external_id, item_id, action, client=client, now=self.now()
            )

    def desk_record_for_owner(
        self, reader: Reader, external_id: str, item_id: int, report: OwnerReport, *, client: str
    ) -> None:
        """Record what an item's owner told the case manager (a routine's period and minutes, a
        task's progress or done, a new date, a note, a blocker cleared) as the owner's update,
        channel the desk; the case manager who entered it is in the audit. NotFoundError as above."""
        with self.database.transaction() as session:
            desk_actions.record_for_owner(
                session, reader, external_id, item_id, report, client=client, now=self.now()
            )

    def desk_change_member(
        self, reader: Reader, external_id: str, person_id: int, action: MemberAction, *, client: str
    ) -> None:
        """Clear a team member's failing address or set their away-until date; audited."""
        with self.database.transaction() as session:
            now = self.now()
            desk_actions.change_member(
                session,
                reader,
                external_id,
                person_id,
                action,
                client=client,
                today=local_now(now, self.settings.timezone).date(),
                now=now,
            )

    def desk_preview_meeting(
        self, reader: Reader, text: str, *, source: str = "meeting.yaml"
    ) -> MeetingPreview:
        """Read a meeting file (MeetingFileError with the line) and check the reader may record
        it (NotYourMeetingError); the preview shows the team, items and balance. Saves nothing."""
        record = parse_meeting(text, source)
        with self.database.transaction() as session:
            return desk_meetings.preview(
                session,
                reader,
                record,
                max_share=self.settings.max_share,
                renderer=self.mailer.renderer,
                default_timezone=self.settings.timezone,
            )

    def desk_latest_meeting(self, reader: Reader, external_id: str) -> MeetingRecord:
        """A visible student's latest meeting, to amend it through the desk's form; NotFoundError,
        as for a missing one, when not in the reader's caseload."""
        with self.database.transaction() as session:
            return desk_meetings.latest_meeting(session, reader, external_id)

    def desk_record_meeting(
        self, reader: Reader, text: str, *, client: str, source: str = "meeting.yaml"
    ) -> RecordedMeeting:
        """Record a meeting file as `iep-followup import` does (summaries queued), when the
        reader may; audited."""
        record = parse_meeting(text, source)
        with self.database.transaction() as session:
            desk_meetings.may_record(session, reader, record)
        recorded = self.record_meeting(record, as_admin=reader.is_admin)
        with self.database.transaction() as session:
            web_store.audit(
                session,
                self.now(),
                "meeting_recorded",
                actor=reader.email,
                client=client,
                subject=recorded.student_external_id,
                detail=f"{'new' if recorded.created else 'amended'}: {len(recorded.changes)} "
                f"change(s), {recorded.summaries_queued} summary email(s) queued",
            )
            access_service.change(
                session,
                reader,
                "meeting_recorded",
                recorded.student_external_id,
                client=client,
                now=self.now(),
            )
        return recorded

    def desk_record(
        self, reader: Reader, external_id: str, *, client: str, csv: bool = False
    ) -> StudentRecord:
        """A child's record for export: items, their history, and every email about the child;
        NotFoundError, as for a missing one, when not in the reader's caseload. Recorded in the
        access log as printed, or as exported to CSV (`csv`), from `client`."""
        with self.database.transaction() as session:
            return access_service.student_record(
                session,
                reader,
                external_id,
                how=Access.EXPORTED_CSV if csv else Access.VIEWED_RECORD,
                max_share=self.settings.max_share,
                client=client,
                now=self.now(),
            )

    # --- privacy: the access log, exports from the command line, forgetting a student -------

    def export_record(self, external_id: str) -> StudentRecord:
        """The child's record for the command line (`iep-followup export`), recorded in the
        access log as exported by "cli"."""
        with self.database.transaction() as session:
            return access_service.student_record(
                session,
                desk.OPERATOR,
                external_id,
                how=Access.EXPORTED_CLI,
                max_share=self.settings.max_share,
                client=COMMAND_LINE,
                now=self.now(),
            )

    def access_log(
        self, external_id: str, *, reader: Reader | None = None, client: str = COMMAND_LINE
    ) -> list[AccessEntry]:
        """Who saw, exported or changed the student's record, when and from where, newest
        first. Without `reader`, the command line's (any student). Reading it is recorded."""
        with self.database.transaction() as session:
            return access_service.access_log(
                session, reader or desk.OPERATOR, external_id, client=client, now=self.now()
            )

    def forget_student(
        self, external_id: str, *, apply: bool = False, actor: str = COMMAND_LINE
    ) -> ForgetReport:
        """Remove everything about a student but the permanent record (name, id, school,
        grade, meeting dates), in one transaction, and record it. Without `apply`, only count
        what would go."""
        with self.database.transaction() as session:
            return privacy_service.forget_student(
                session, external_id, apply=apply, actor=actor, client=COMMAND_LINE, now=self.now()
            )

    def desk_forget_student(
        self, reader: Reader, external_id: str, typed: str, *, apply: bool, client: str
    ) -> ForgetReport:
        """An administrator forgets a student from the desk, confirming by typing the id
        (ValidationError otherwise); anyone else: NotFoundError."""
        with self.database.transaction() as session:
            return privacy_service.desk_forget_student(
                session, reader, external_id, typed, apply=apply, client=client, now=self.now()
            )

    def answer_page(self, token: str) -> answers.AnswerPage:
        """What a one-tap answer link shows (the child's first name, the item), or why it does
        not work. Reads only: mail scanners open every link."""
        with self.database.transaction() as session:
            return answers.answer_page(session, require_secret(self.settings), token, self.now())

    def record_answer(
        self,
        token: str,
        choice: str,
        *,
        note: str = "",
        new_date: date | None = None,
        minutes: int | None = None,
        nonce: str,
        client: str,
        missed: str | None = None,
    ) -> answers.AnswerOutcome:
        """Record an answer given through a link's page, as a reply would be; once per `nonce`.

        `minutes`: a routine's service minutes, as a reply's "A3 45 min" gives them. Raises
        ValidationError, recording nothing, for a choice, date or minutes the item refuses.
        """
        with self.database.transaction() as session:
            return answers.record_answer(
                session,
                require_secret(self.settings),
                token,
                choice=choice,
                note=note,
                new_date=new_date,
                nonce=nonce,
                client=client,
                now=self.now(),
                minutes=minutes,
                missed=missed,
            )
