"""Listening: one path for every inbound message, whether it came by IMAP, SMTP or a pipe.

Recorded once, classified, authenticated, trimmed, parsed and applied — or ignored, held
or rejected with a reason — in one transaction with the confirmation it causes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from iep_followup.addresses import address_key
from iep_followup.domain import ItemKind, UpdateInput
from iep_followup.errors import DatabaseError, IepFollowupError, NotFoundError, ValidationError
from iep_followup.inbound.classify import BounceInfo, Classification, InboundKind, classify
from iep_followup.inbound.grammar import ItemCommands, ParsedReply, parse_commands
from iep_followup.inbound.message import (
    MAX_ADDRESSES,
    MAX_MESSAGE_BYTES,
    ParsedMessage,
    parse_message,
)
from iep_followup.inbound.outcome import InboundOutcome
from iep_followup.inbound.trim import trim_reply
from iep_followup.mail.contexts import confirmation_texts
from iep_followup.mail.kinds import MailKind
from iep_followup.planning import local_now
from iep_followup.services.confirmation import (
    Applied,
    ConfirmedChange,
    asked_about,
    confirmation,
    confirmed,
)
from iep_followup.services.outgoing import Mailer
from iep_followup.store import inbox, outbox, people, replies
from iep_followup.store.asking import SentRequest
from iep_followup.store.db import Database, Session
from iep_followup.store.inbox import KnownPerson, NewInbound, Reading
from iep_followup.store.replies import AskedItem, RefusedUpdate, ReplyUpdate, WorkedOut
from iep_followup.tokens import (
    find_bounce_keys,
    find_keys,
    make_reply_key,
    request_id_of,
    verify_bounce_key,
    verify_reply_key,
)
from iep_followup.views import IngestResult, Recipient

log = logging.getLogger(__name__)

# An address longer than this is no address (RFC 5321 allows 64 + 1 + 255): the sender is unknown.
MAX_ADDRESS_LENGTH = 320
_ADDRESSES_CUT = f"; only the first {MAX_ADDRESSES} addresses of each kind were read"


@dataclass(frozen=True)
class _KeyProblem:
    """Why a reply's key does not let it be applied, and which notice its sender gets."""

    outcome: InboundOutcome
    reason: str
    notice: str | None


@dataclass(frozen=True)
class _Verdict:
    outcome: InboundOutcome
    reason: str
    request: SentRequest | None = None
    owner: KnownPerson | None = None
    notice: str | None = None  # which plain-language notice the sender gets, if any
    sender: KnownPerson | None = None  # who sent it, when the address is one of our people's


@dataclass(frozen=True)
class _Work:
    """A reply's updates, worked out and not yet written, and what its confirmation says."""

    items: list[AskedItem]
    reply: ParsedReply
    worked: WorkedOut
    done: Applied


@dataclass(frozen=True)
class _Settled:
    """What reading a reply came to: its log row's outcome, reason and reading, and its work."""

    outcome: InboundOutcome
    reason: str
    reading: Reading
    work: _Work | None = None  # None: nothing to apply

    @property
    def applied(self) -> int:
        """Item updates recorded."""
        return len(self.work.done.changes) if self.work else 0


class Ingestor:
    def __init__(
        self,
        database: Database,
        mailer: Mailer,
        *,
        secret: str,
        clock: Callable[[], datetime],
        default_timezone: str,
        max_bytes: int = MAX_MESSAGE_BYTES,
        is_school_day: Callable[[date], bool] = lambda _day: True,
    ) -> None:
        self.database = database
        self.mailer = mailer
        self.secret = secret
        self.clock = clock
        self.default_timezone = default_timezone
        self.max_bytes = max_bytes
        self.is_school_day = is_school_day

    def ingest(self, raw: bytes, *, via: str, size: int | None = None) -> IngestResult:
        """Record and act on one raw RFC 5322 message. Never raises for what the message contains.

        `size` is the message's real size when `raw` is only its beginning: a message over
        the limit need not be read whole, its header is enough to answer it.

        An error about this one message is recorded against it at once (rejected, with the
        error's type: trying again would meet it again) and the caller goes on to the next.
        Only a database that cannot be reached raises (DatabaseError): then the caller keeps
        the message and tries again later, and nothing is lost.
        """
        try:
            return self._ingest(raw, via=via, size=size)
        except DatabaseError:
            raise
        except Exception as exc:
            # Only the type: an exception's text may quote the message or a SQL statement.
            return self._set_aside(raw, via, size, type(exc).__name__)

    def _set_aside(self, raw: bytes, via: str, size: int | None, error: str) -> IngestResult:
        """Record a message that could not be processed, so it never blocks the ones behind it."""
        parsed = parse_message(raw, max_bytes=self.max_bytes, size=size)
        key = _message_key(parsed, raw)
        reason = f"could not be processed ({error}); kept for an administrator"
        with self.database.transaction() as session:
            seen = inbox.find(session, key)
            if seen is not None:
                return IngestResult(seen.id, seen.outcome, seen.reason, duplicate=True)
            new = _new_inbound(
                parsed,
                raw,
                key,
                via=via,
                now=self.clock(),
                verdict=_Verdict(InboundOutcome.REJECTED, reason),
            )
            inbound_id = inbox.record(session, new)
            if inbound_id is None:
                return IngestResult(
                    None, InboundOutcome.REJECTED, "recorded by another receiver", duplicate=True
                )
        log.warning("inbound message %s via %s set aside: %s", inbound_id, via, new.reason)
        return IngestResult(inbound_id, new.outcome, new.reason)

    def _ingest(self, raw: bytes, *, via: str, size: int | None) -> IngestResult:
        parsed = parse_message(raw, max_bytes=self.max_bytes, size=size)
        key = _message_key(parsed, raw)
        now = self.clock()
        with self.database.transaction() as session:
            seen = inbox.find(session, key)
            if seen is not None:
                return IngestResult(
                    seen.id, seen.outcome, f"duplicate of message {seen.id}", duplicate=True
                )
            verdict = self._judge(session, parsed, now)
            new = _new_inbound(parsed, raw, key, via=via, now=now, verdict=verdict)
            settled = None
            if verdict.outcome is InboundOutcome.APPLIED:
                # Worked out before anything is written, so its log row is written once.
                assert verdict.request is not None and verdict.owner is not None
                settled = self._settle(
                    session, new.outcome, new.reason, parsed, verdict.request, verdict.owner, now
                )
                new = _as_settled(new, settled)
            inbound_id = inbox.record(session, new)
            if inbound_id is None:
                return IngestResult(
                    None, InboundOutcome.IGNORED, "recorded by another receiver", duplicate=True
                )
            result = IngestResult(
                inbound_id, new.outcome, new.reason, applied=settled.applied if settled else 0
            )
            if settled is not None:
                assert verdict.request is not None and verdict.owner is not None
                owner = verdict.owner
                self._write(
                    session,
                    inbound_id,
                    settled,
                    verdict.request,
                    owner,
                    now,
                    parsed,
                    author_id=owner.id,
                    confirm=True,
                )
                if settled.outcome is InboundOutcome.HELD:  # its words could not be told apart
                    self._notify(session, inbound_id, verdict.owner, "unclear", now)
            elif verdict.notice and (known := verdict.sender or verdict.owner) is not None:
                # Only to one of our people, found when the message was judged: no backscatter.
                self._notify(session, inbound_id, known, verdict.notice, now)
        log.info(
            "inbound message %s via %s: %s (%s)",
            inbound_id,
            via,
            result.outcome.value,
            result.reason,
        )
        return result

    def release(self, inbound_id: int) -> IngestResult:
        """Apply a held reply after a person has checked it, as written by its real sender.

        When the sender is not the request's owner (a forwarded key, say), the updates name
        the sender, or no one when the address is not one of our people's, and no
        confirmation goes out: it would show the sender another child's plan.
        """
        now = self.clock()
        with self.database.transaction() as session:
            logged = inbox.get(session, inbound_id)
            if logged is None:
                raise NotFoundError(
                    f"no inbound message {inbound_id}; `iep-followup inbox --held` lists them"
                )
            if logged.outcome is not InboundOutcome.HELD:
                raise ValidationError(
                    f"message {inbound_id} is {logged.outcome.value}, not held; only held replies can be released"
                )
            found = (
                inbox.request_and_owner(session, logged.request_id) if logged.request_id else None
            )
            request, owner = found or (None, None)
            if request is None or owner is None:
                raise ValidationError(
                    f"message {inbound_id} does not answer any update request; record it by hand with `iep-followup update`"
                )
            parsed = parse_message(logged.raw, max_bytes=self.max_bytes)
            sender = self._sender(session, parsed.from_address or "", owner)
            by_owner = _same(sender, owner)
            settled = self._settle(
                session,
                logged.outcome,
                logged.reason,
                parsed,
                request,
                owner,
                now,
            )
            self._write(
                session,
                inbound_id,
                settled,
                request,
                owner,
                now,
                parsed,
                author_id=sender.id if sender else None,
                confirm=by_owner,
            )
            who = (
                sender.email
                if sender
                else f"{parsed.from_address or 'an unknown sender'} (not on any team)"
            )
            told = "; the owner is sent a confirmation" if by_owner else ""
            reason = f"released after review as written by {who}{told} (was held: {settled.reason})"
            inbox.settle(
                session,
                inbound_id,
                outcome=InboundOutcome.APPLIED,
                reason=reason,
                reading=settled.reading,
                person_id=sender.id if sender else None,
                released_at=now,
            )
            return IngestResult(inbound_id, InboundOutcome.APPLIED, reason, applied=settled.applied)

    # --- deciding ---------------------------------------------------------------------

    def _judge(self, session: Session, parsed: ParsedMessage, now: datetime) -> _Verdict:
        if parsed.problem:
            return self._judge_unreadable(session, parsed, now)
        kind = classify(
            parsed,
            own_addresses=self.mailer.own_addresses,
            own_message_id_domain=self.mailer.domain,
        )
        if kind.kind is InboundKind.OWN_MAIL:
            return _Verdict(InboundOutcome.IGNORED, kind.reason)
        if kind.kind is InboundKind.AUTO_REPLY:
            return _Verdict(InboundOutcome.IGNORED, f"auto-reply: {kind.reason}")
        if kind.kind is InboundKind.BOUNCE:
            return _Verdict(InboundOutcome.IGNORED, self._bounce(session, parsed, kind.bounce, now))
        return self._judge_reply(session, parsed, kind, now)

    def _judge_reply(
        self, session: Session, parsed: ParsedMessage, kind: Classification, now: datetime
    ) -> _Verdict:
        """A reply or a forward: applied only when its key is good and its owner sent it."""
        request, owner, key_problem = self._request_for(session, parsed, now)
        sender = self._sender(session, _sender_address(parsed) or "", owner)
        if kind.kind is InboundKind.FORWARD:
            return _Verdict(
                InboundOutcome.HELD, kind.reason, request, notice="forwarded", sender=sender
            )
        if key_problem is not None:
            return _Verdict(
                key_problem.outcome,
                key_problem.reason,
                request,
                notice=key_problem.notice,
                sender=sender,
            )
        assert request is not None
        if owner is None or not _same(sender, owner):
            return _Verdict(
                InboundOutcome.HELD,
                f"sent from {_sender_address(parsed) or 'an unknown address'}, not from the owner of request {request.id}",
                request,
                notice="other_sender",
                sender=sender,
            )
        if (mixed := self._other_author(session, parsed, owner)) is not None:
            # Written for, or answered to, someone else: a person decides (issue 26).
            return _Verdict(
                InboundOutcome.HELD,
                f"{mixed}; held so a person can check who wrote it (request {request.id})",
                request,
                sender=sender,
            )
        return _Verdict(InboundOutcome.APPLIED, f"reply to request {request.id}", request, owner)

    def _other_author(
        self, session: Session, parsed: ParsedMessage, owner: KnownPerson
    ) -> str | None:
        """Why a reply from its owner's address may still not be the owner's alone, or None.

        A From naming two mailboxes, or a Sender or Reply-To that is not one of the owner's
        addresses, means someone else wrote it, sent it or is to get the answers.
        """
        if parsed.from_count > 1:
            return f"its From names {parsed.from_count} mailboxes, not only its owner"
        fields = [("Sender", parsed.sender_address)] if parsed.sender_address else []
        fields += [("Reply-To", address) for address in parsed.reply_to]
        for name, address in fields:
            if len(address) > MAX_ADDRESS_LENGTH:
                return f"its {name} is not an address"
            if not _same(self._sender(session, address, owner), owner):
                return f"its {name} is {address}, not its owner's address"
        return None

    @staticmethod
    def _sender(session: Session, address: str, owner: KnownPerson | None) -> KnownPerson | None:
        """The person an address belongs to (any spelling of it); `owner` itself when it is theirs."""
        address = address_key(address)
        if not address:
            return None
        if owner is not None and owner.email == address:
            return owner  # the usual case: no need to look the address up
        sender = inbox.person_for_address(session, address)
        if owner is not None and sender is not None and sender.id == owner.id:
            return owner
        return sender

    def _judge_unreadable(self, session: Session, parsed: ParsedMessage, now: datetime) -> _Verdict:
        """Rejected, never applied. A reply too big to read, from its request's owner, gets a
        notice asking for it again without the photo; anyone else gets nothing.
        """
        assert parsed.problem is not None
        rejected = _Verdict(InboundOutcome.REJECTED, parsed.problem)
        if parsed.raw_size <= self.max_bytes:
            return rejected  # broken, not too big: nothing the sender can do differently
        kind = classify(
            parsed,
            own_addresses=self.mailer.own_addresses,
            own_message_id_domain=self.mailer.domain,
        )
        if kind.kind is not InboundKind.REPLY:
            return rejected  # no notices to machines
        request, owner, key_problem = self._request_for(session, parsed, now)
        if request is None or key_problem is not None:
            return rejected
        if owner is None or not _same(
            self._sender(session, _sender_address(parsed) or "", owner), owner
        ):
            return rejected
        reason = f"{parsed.problem}; its owner is asked to send it again without attachments"
        return _Verdict(InboundOutcome.REJECTED, reason, request, owner, notice="too_large")

    def _request_for(
        self, session: Session, parsed: ParsedMessage, now: datetime
    ) -> tuple[SentRequest | None, KnownPerson | None, _KeyProblem | None]:
        """The request a reply answers and its owner, from the plus address or, failing that,
        the thread headers."""
        addresses = " ".join((*parsed.to_addresses, *parsed.delivered_to))
        keys = find_keys(addresses) or find_keys(
            " ".join((*parsed.in_reply_to, *parsed.references))
        )
        if not keys:
            return (
                None,
                None,
                _KeyProblem(
                    InboundOutcome.HELD,
                    "no reply key: not an answer to an update request",
                    "no_key",
                ),
            )
        key = keys[0]
        request_id = request_id_of(key)
        found = inbox.request_and_owner(session, request_id) if request_id is not None else None
        if found is None:
            return None, None, _KeyProblem(InboundOutcome.REJECTED, "unknown reply key", None)
        request, owner = found
        if not verify_reply_key(
            self.secret, key, request.id, request.person_id, request.expires_at
        ):
            return (
                None,
                None,
                _KeyProblem(
                    InboundOutcome.REJECTED,
                    "reply key does not match its request (altered or forged)",
                    None,
                ),
            )
        if now > request.expires_at:
            return (
                request,
                owner,
                _KeyProblem(
                    InboundOutcome.HELD,
                    f"reply key expired on {request.expires_at:%Y-%m-%d}",
                    "expired",
                ),
            )
        return request, owner, None

    def _bounce(
        self, session: Session, parsed: ParsedMessage, bounce: BounceInfo | None, now: datetime
    ) -> str:
        """Count a delivery report against its recipient, only when it proves it is about our mail."""
        status = bounce.status if bounce else None
        recipient = (bounce.recipient if bounce else None) or "an unknown address"
        what = " ".join(filter(None, ["bounce", status, "for", recipient]))
        sent = self._bounced(session, parsed, bounce)
        if isinstance(sent, str):
            log.warning("delivery report not trusted: %s", sent)
            return f"{what}: {sent}; changes nobody"
        if sent.person_id is None:
            return f"{what} (not one of our people)"
        reason = " ".join(filter(None, [status, bounce.diagnostic if bounce else None]))
        reason = (reason or "delivery failed")[:500]
        if bounce is not None and bounce.permanent:
            people.mark_failing(session, sent.person_id, reason=reason, source="bounce", now=now)
            return f"{what}: address marked failing"
        people.count_soft_bounce(session, sent.person_id, reason=reason, source="bounce", now=now)
        return f"{what}: counted as a soft bounce"

    def _bounced(
        self, session: Session, parsed: ParsedMessage, bounce: BounceInfo | None
    ) -> outbox.SentTo | str:
        """The message a report is about, or why it does not prove that it answers our mail.

        Proof is our signed bounce address (the envelope sender of every message we send)
        or, for servers that reply to the header From, a Message-ID of ours quoted with the
        very recipient it was sent to. Anyone can write `Final-Recipient: <someone>`.
        """
        keys = find_bounce_keys(" ".join((*parsed.to_addresses, *parsed.delivered_to)))
        if keys:
            key, outbox_id = keys[0]
            sent = outbox.sent_to(session, outbox_id=outbox_id)
            if sent is None or not verify_bounce_key(self.secret, key, outbox_id, sent.to_address):
                return "its bounce address is not one we signed"
            return sent
        if bounce is not None and bounce.original_message_id and bounce.recipient:
            sent = outbox.sent_to(session, message_id=bounce.original_message_id)
            # The report names the recipient as the envelope had it: IDN domains as A-labels.
            if sent is not None and address_key(sent.to_address) == address_key(bounce.recipient):
                return sent
        return "it proves no message of ours (no bounce address of ours, no Message-ID of ours sent to that recipient)"

    # --- acting -----------------------------------------------------------------------

    def _settle(
        self,
        session: Session,
        outcome: InboundOutcome,
        reason: str,
        parsed: ParsedMessage,
        request: SentRequest,
        owner: KnownPerson,
        now: datetime,
    ) -> _Settled:
        """Read a reply and work out what its commands do to its request's items; writes nothing."""
        trimmed = trim_reply(parsed.text)
        reading = Reading(trimmed.kept[:20_000], trimmed.removed[:100_000])
        if not trimmed.kept.strip():
            return _nothing_new(reason, reading, unclear=trimmed.unclear)
        items = replies.asked_items(session, request.id)
        reply = self._read(
            trimmed.kept,
            [(i.ref, i.item_id) for i in items],
            owner,
            now,
            routines=[i.ref for i in items if i.progress.kind is ItemKind.ROUTINE],
            accommodations=[i.ref for i in items if i.progress.kind is ItemKind.ACCOMMODATION],
            services=[
                i.ref
                for i in items
                if i.progress.kind is ItemKind.ROUTINE and i.progress.service_minutes_per_week
            ],
        )
        reading = dataclasses.replace(
            reading, notes="\n".join((*reply.notes, *reply.not_understood))[:20_000]
        )
        work = _work_out(reply, items, now)
        if work.done.closed:
            # Done or dropped: only the case manager reopens it (domain.accepts_update).
            reason += f"; {', '.join(work.done.closed)} closed, not changed"
        elif not work.done.changes and not work.done.problems:
            reason += "; no command recognised, kept as a note"
        return _Settled(outcome, reason, reading, work)

    def _write(
        self,
        session: Session,
        inbound_id: int,
        settled: _Settled,
        request: SentRequest,
        owner: KnownPerson,
        now: datetime,
        parsed: ParsedMessage,
        *,
        author_id: int | None,
        confirm: bool,
    ) -> None:
        """Write a settled reply's updates, by `author_id`; `confirm` tells the owner what was done."""
        if settled.work is None:
            return
        replies.write(
            session,
            settled.work.worked,
            request_id=request.id if request.answered_at is None else None,
            author_id=author_id,
            owner_id=owner.id,
            inbound_id=inbound_id,
            now=now,
        )
        if confirm:
            if owner.mail_failing:
                # The owner's own reply, with its key: the address works.
                people.clear_failing(
                    session,
                    [owner.id],
                    reason="a reply came from this address",
                    source="reply",
                    now=now,
                )
            self._confirm(session, inbound_id, owner, request, settled.work, now, parsed)

    def read_about_one_item(
        self, kept: str, writer: KnownPerson, *, routine: bool
    ) -> ItemCommands | None:
        """A reply's words read as about one item (a held reply applied to an item a case
        manager picks): its commands, its free text as the note; None when it says nothing."""
        ref = "A1"  # any reference: with one item asked about, free text is about that item
        reply = self._read(
            kept, [(ref, 0)], writer, self.clock(), routines=[ref] if routine else []
        )
        return reply.items.get(ref)

    def _read(
        self,
        kept: str,
        refs: Sequence[tuple[str, int]],
        owner: KnownPerson,
        now: datetime,
        *,
        routines: Sequence[str],
        accommodations: Sequence[str] = (),
        services: Sequence[str] = (),
    ) -> ParsedReply:
        """The reply's commands; with one item asked about, free text is about that item."""
        timezone = owner.timezone or self.default_timezone
        reply = parse_commands(
            kept,
            [r for r, _ in refs],
            language=owner.language,
            today=local_now(now, timezone).date(),
            is_school_day=self.is_school_day,
            routines=routines,
            accommodations=accommodations,
            services=services,
        )
        if len(refs) == 1 and not reply.items and reply.notes:
            # Keep it in the item's history.
            reply = dataclasses.replace(
                reply, items={refs[0][0]: ItemCommands(note="\n".join(reply.notes))}, notes=()
            )
        return reply

    def _confirm(
        self,
        session: Session,
        inbound_id: int,
        owner: KnownPerson,
        request: SentRequest,
        work: _Work,
        now: datetime,
        parsed: ParsedMessage,
    ) -> None:
        asked = asked_about(session, work.items, owner.email, work.done)
        context = dataclasses.asdict(confirmation(owner.name, work.reply, work.done, asked))
        # The items' titles in the owner's language.
        book = replies.phrasebook(work.items)
        context.update(
            confirmation_texts(context["changes"], book, owner.language, context["unanswered"])
        )
        key = make_reply_key(self.secret, request.id, owner.id, request.expires_at)
        # Keyed by the inbound row just inserted, so it cannot have been queued before: no
        # need to look first.
        message = self.mailer.message(
            MailKind.CONFIRMATION,
            f"confirmation:{inbound_id}",
            to=_addressee(owner),
            context=context,
            now=now,
            key=key,
            in_reply_to=f"<{parsed.message_id}>" if parsed.message_id else None,
            request_id=request.id,
        )
        outbox.queue_many(session, [message])

    def _notify(
        self, session: Session, inbound_id: int, person: KnownPerson, reason: str, now: datetime
    ) -> None:
        """Tell a known sender, in plain words and without details, what happened to their email.

        No one gets more than one a day.
        """
        timezone = person.timezone or self.default_timezone
        local_day = local_now(now, timezone).date()
        try:
            self.mailer.queue(
                session,
                MailKind.NOTICE,
                f"notice:{person.id}:{local_day.isoformat()}",
                to=_addressee(person),
                context={"recipient": {"name": person.name}, "reason": reason},
                now=now,
                reply_to=self.mailer.reply_address_for_contact(None),
            )
        except (IepFollowupError, ValueError) as exc:
            log.warning("notice for inbound message %s not queued: %s", inbound_id, exc)


def _nothing_new(reason: str, reading: Reading, *, unclear: bool) -> _Settled:
    if unclear:
        # Text we cannot place (say, inside an unquoted original): a person must read it.
        return _Settled(
            InboundOutcome.HELD,
            f"{reason}; could not tell the reply from the quoted text",
            reading,
        )
    # Sent by mistake, or a client that put the text where we cannot see it: nothing to confirm.
    return _Settled(
        InboundOutcome.IGNORED, f"{reason}; no new text, only the quoted request", reading
    )


def _as_settled(new: NewInbound, settled: _Settled) -> NewInbound:
    """The log row with what reading the reply came to, so it is written once."""
    return dataclasses.replace(
        new,
        outcome=settled.outcome,
        reason=settled.reason,
        kept_text=settled.reading.kept_text,
        trimmed_away=settled.reading.trimmed_away,
        notes=settled.reading.notes or "",
    )


def _work_out(reply: ParsedReply, items: Sequence[AskedItem], now: datetime) -> _Work:
    """Each item's update from the reply's commands; what the history says, which refs the rules refused."""
    by_ref = {i.ref: i.item_id for i in items}
    asked = [
        (ref.upper(), commands) for ref, commands in reply.items.items() if ref.upper() in by_ref
    ]
    worked = replies.work_out(
        items,
        [
            ReplyUpdate(by_ref[ref], update_of(commands), commands.understood)
            for ref, commands in asked
        ],
        now,
    )
    changes: list[ConfirmedChange] = []
    problems: list[str] = []
    closed: list[str] = []
    for (ref, _), outcome in zip(asked, worked.outcomes, strict=True):
        if isinstance(outcome, RefusedUpdate):
            (closed if outcome.closed else problems).append(ref)
        elif outcome is not None:
            changes.append(confirmed(ref, outcome))
    done = Applied(tuple(changes), tuple(problems), closed=tuple(dict.fromkeys(closed)))
    return _Work(list(items), reply, worked, done)


def update_of(commands: ItemCommands) -> UpdateInput:
    """What a reply's words about one item record."""
    return UpdateInput(
        status=commands.status,
        percent=commands.percent,
        due_on=commands.due_on,
        note=commands.note,
        period=commands.period,
        minutes=commands.minutes,
        missed=commands.missed,
        missed_sessions=commands.missed_sessions,
        makeup=commands.makeup,
    )


def _same(one: KnownPerson | None, other: KnownPerson | None) -> bool:
    return one is not None and other is not None and one.id == other.id


def _addressee(person: KnownPerson) -> Recipient:
    return Recipient(
        person.id, person.name, person.email, person.language, person.timezone or "", False
    )


def _new_inbound(
    parsed: ParsedMessage, raw: bytes, key: str, *, via: str, now: datetime, verdict: _Verdict
) -> NewInbound:
    author = verdict.owner or verdict.sender
    return NewInbound(
        message_key=key,
        received_at=now,
        via=via,
        from_address=_sender_address(parsed),
        subject=parsed.subject[:500],
        outcome=verdict.outcome,
        reason=verdict.reason
        + ("; attachments not kept" if parsed.text_only is not None else "")
        + (_ADDRESSES_CUT if parsed.addresses_cut else ""),
        request_id=verdict.request.id if verdict.request else None,
        # Who sent it: the owner of an applied reply, the sender of a held one.
        person_id=author.id if author else None,
        # Oversized or broken input is not kept: the log row and its reason are enough.
        # Nor are attachments: photos of a child stay out of our database.
        raw=b"" if parsed.problem is not None else (parsed.text_only or raw),
    )


def _sender_address(parsed: ParsedMessage) -> str | None:
    address = parsed.from_address
    return address if address and len(address) <= MAX_ADDRESS_LENGTH else None


def _message_key(parsed: ParsedMessage, raw: bytes) -> str:
    if parsed.message_id:
        return "mid:" + parsed.message_id.strip().lower()[:290]
    return "sha256:" + hashlib.sha256(_as_written(raw)).hexdigest()


# What the sender's mail client wrote. Relays put their own fields (Received, Delivered-To,
# Return-Path, spam scores) in front, so a copy that came another way must hash the same.
_AUTHOR_FIELDS = frozenset(
    (b"from", b"sender", b"to", b"cc", b"subject", b"date", b"in-reply-to", b"references")
)


def _as_written(raw: bytes) -> bytes:
    head, _, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    fields = re.split(rb"\n(?![ \t])", head)
    kept = sorted(f for f in fields if f.split(b":", 1)[0].strip().lower() in _AUTHOR_FIELDS)
    return b"\n".join(kept) + b"\n\n" + body
