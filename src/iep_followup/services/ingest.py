"""Listening: one path for every inbound message, whether it came by IMAP, SMTP or a pipe.

Recorded once, classified, authenticated, trimmed, parsed and applied — or ignored, held
or rejected with a reason — in one transaction with the confirmation it causes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from iep_followup.addresses import address_key
from iep_followup.domain import UpdateInput, UpdateSource
from iep_followup.errors import DatabaseError, IepFollowupError, NotFoundError, ValidationError
from iep_followup.inbound.classify import BounceInfo, InboundKind, classify
from iep_followup.inbound.grammar import ItemCommands, ParsedReply, parse_commands
from iep_followup.inbound.message import MAX_MESSAGE_BYTES, ParsedMessage, parse_message
from iep_followup.inbound.outcome import InboundOutcome
from iep_followup.inbound.trim import trim_reply
from iep_followup.mail.contexts import confirmation_texts
from iep_followup.mail.kinds import MailKind
from iep_followup.planning import local_now
from iep_followup.services.outgoing import Mailer
from iep_followup.store import asking, inbox, outbox, people, texts, updates
from iep_followup.store.db import Database, Session
from iep_followup.store.models import InboundMessage, Person, Update, UpdateRequest
from iep_followup.tokens import (
    find_bounce_keys,
    find_keys,
    make_reply_key,
    request_id_of,
    verify_bounce_key,
    verify_reply_key,
)
from iep_followup.views import Recipient

log = logging.getLogger(__name__)

# An address longer than this is no address (RFC 5321 allows 64 + 1 + 255): the sender is unknown.
MAX_ADDRESS_LENGTH = 320


@dataclass(frozen=True)
class IngestResult:
    inbound_id: int | None
    outcome: InboundOutcome
    reason: str
    duplicate: bool = False
    applied: int = 0  # item updates recorded


@dataclass
class _Verdict:
    outcome: InboundOutcome
    reason: str
    request: UpdateRequest | None = None
    owner: Person | None = None
    notice: str | None = None  # which plain-language notice the sender gets, if any
    sender: Person | None = None  # who sent it, when the address is one of our people's


@dataclass
class _Applied:
    changes: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


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
            row = _inbound_row(
                parsed,
                raw,
                key,
                via=via,
                now=self.clock(),
                verdict=_Verdict(InboundOutcome.REJECTED, reason),
            )
            if inbox.record(session, row) is None:
                return IngestResult(
                    None, InboundOutcome.REJECTED, "recorded by another receiver", duplicate=True
                )
        log.warning("inbound message %s via %s set aside: %s", row.id, via, reason)
        return IngestResult(row.id, row.outcome, row.reason)

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
            row = _inbound_row(parsed, raw, key, via=via, now=now, verdict=verdict)
            if inbox.record(session, row) is None:
                return IngestResult(
                    None, InboundOutcome.IGNORED, "recorded by another receiver", duplicate=True
                )
            applied = 0
            if verdict.outcome is InboundOutcome.APPLIED:
                assert verdict.request is not None and verdict.owner is not None
                applied = self._apply(
                    session,
                    row,
                    parsed,
                    verdict.request,
                    verdict.owner,
                    now,
                    in_reply_to=parsed.message_id,
                    author_id=verdict.owner.id,
                    confirm=True,
                )
                if row.outcome is InboundOutcome.HELD:  # its words could not be told apart
                    self._notify(session, row, verdict.owner, "unclear", now)
            elif verdict.notice and (known := verdict.sender or verdict.owner) is not None:
                # Only to one of our people, found when the message was judged: no backscatter.
                self._notify(session, row, known, verdict.notice, now)
        log.info("inbound message %s via %s: %s (%s)", row.id, via, row.outcome.value, row.reason)
        return IngestResult(row.id, row.outcome, row.reason, applied=applied)

    def release(self, inbound_id: int) -> IngestResult:
        """Apply a held reply after a person has checked it, as written by its real sender.

        When the sender is not the request's owner (a forwarded key, say), the updates name
        the sender, or no one when the address is not one of our people's, and no
        confirmation goes out: it would show the sender another child's plan.
        """
        now = self.clock()
        with self.database.transaction() as session:
            row = inbox.get(session, inbound_id)
            if row is None:
                raise NotFoundError(
                    f"no inbound message {inbound_id}; `iep-followup inbox --held` lists them"
                )
            if row.outcome is not InboundOutcome.HELD:
                raise ValidationError(
                    f"message {inbound_id} is {row.outcome.value}, not held; only held replies can be released"
                )
            request = session.get(UpdateRequest, row.request_id) if row.request_id else None
            owner = session.get(Person, request.person_id) if request else None
            if request is None or owner is None:
                raise ValidationError(
                    f"message {inbound_id} does not answer any update request; record it by hand with `iep-followup update`"
                )
            parsed = parse_message(row.raw, max_bytes=self.max_bytes)
            sender = self._sender(session, parsed.from_address or "", owner)
            applied = self._apply(
                session,
                row,
                parsed,
                request,
                owner,
                now,
                in_reply_to=parsed.message_id,
                author_id=sender.id if sender else None,
                confirm=sender is owner,
            )
            who = (
                sender.email
                if sender
                else f"{parsed.from_address or 'an unknown sender'} (not on any team)"
            )
            told = "; the owner is sent a confirmation" if sender is owner else ""
            row.reason = f"released after review as written by {who}{told} (was held: {row.reason})"
            row.outcome = InboundOutcome.APPLIED
            row.person_id = sender.id if sender else None
            row.released_at = now
            return IngestResult(row.id, row.outcome, row.reason, applied=applied)

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
        request, key_problem = self._request_for(session, parsed, now)
        owner = session.get(Person, request.person_id) if request is not None else None
        sender = self._sender(session, _sender_address(parsed) or "", owner)
        if kind.kind is InboundKind.FORWARD:
            return _Verdict(
                InboundOutcome.HELD, kind.reason, request, notice="forwarded", sender=sender
            )
        if key_problem is not None:
            outcome, reason, notice = key_problem
            return _Verdict(outcome, reason, request, notice=notice, sender=sender)
        assert request is not None
        if owner is None or sender is not owner:
            return _Verdict(
                InboundOutcome.HELD,
                f"sent from {_sender_address(parsed) or 'an unknown address'}, not from the owner of request {request.id}",
                request,
                notice="other_sender",
                sender=sender,
            )
        return _Verdict(InboundOutcome.APPLIED, f"reply to request {request.id}", request, owner)

    @staticmethod
    def _sender(session: Session, address: str, owner: Person | None) -> Person | None:
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
        request, key_problem = self._request_for(session, parsed, now)
        if request is None or key_problem is not None:
            return rejected
        owner = session.get(Person, request.person_id)
        if (
            owner is None
            or self._sender(session, _sender_address(parsed) or "", owner) is not owner
        ):
            return rejected
        reason = f"{parsed.problem}; its owner is asked to send it again without attachments"
        return _Verdict(InboundOutcome.REJECTED, reason, request, owner, notice="too_large")

    def _request_for(
        self, session: Session, parsed: ParsedMessage, now: datetime
    ) -> tuple[UpdateRequest | None, tuple[InboundOutcome, str, str | None] | None]:
        """The request a reply answers, from the plus address or, failing that, the thread headers."""
        addresses = " ".join((*parsed.to_addresses, *parsed.delivered_to))
        keys = find_keys(addresses) or find_keys(
            " ".join((*parsed.in_reply_to, *parsed.references))
        )
        if not keys:
            return None, (
                InboundOutcome.HELD,
                "no reply key: not an answer to an update request",
                "no_key",
            )
        key = keys[0]
        request_id = request_id_of(key)
        request = session.get(UpdateRequest, request_id) if request_id is not None else None
        if request is None or request.id is None:
            return None, (InboundOutcome.REJECTED, "unknown reply key", None)
        if not verify_reply_key(
            self.secret, key, request.id, request.person_id, request.expires_at
        ):
            return None, (
                InboundOutcome.REJECTED,
                "reply key does not match its request (altered or forged)",
                None,
            )
        if now > request.expires_at:
            return request, (
                InboundOutcome.HELD,
                f"reply key expired on {request.expires_at:%Y-%m-%d}",
                "expired",
            )
        return request, None

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

    def _apply(
        self,
        session: Session,
        row: InboundMessage,
        parsed: ParsedMessage,
        request: UpdateRequest,
        owner: Person,
        now: datetime,
        *,
        in_reply_to: str | None,
        author_id: int | None,
        confirm: bool,
    ) -> int:
        """Apply a reply's commands to its request's items; `confirm` tells the owner what was done."""
        assert request.id is not None and owner.id is not None and row.id is not None
        found = asking.request_with_refs(session, request.id)
        refs = found[1] if found else []
        trimmed = trim_reply(parsed.text)
        row.kept_text, row.trimmed_away = trimmed.kept[:20_000], trimmed.removed[:100_000]
        if not trimmed.kept.strip() and trimmed.unclear:
            # Text we cannot place (say, inside an unquoted original): a person must read it.
            row.outcome, row.reason = (
                InboundOutcome.HELD,
                f"{row.reason}; could not tell the reply from the quoted text",
            )
            return 0
        if not trimmed.kept.strip():
            # Sent by mistake, or a client that put the text where we cannot see it: nothing to confirm.
            row.outcome, row.reason = (
                InboundOutcome.IGNORED,
                f"{row.reason}; no new text, only the quoted request",
            )
            return 0
        timezone = owner.timezone or self.default_timezone
        reply = parse_commands(
            trimmed.kept,
            [r for r, _ in refs],
            language=owner.language,
            today=local_now(now, timezone).date(),
            is_school_day=self.is_school_day,
        )
        by_ref = dict(refs)
        if len(refs) == 1 and not reply.items and reply.notes:
            # With one item asked about, free text is about that item: keep it in its history.
            reply = dataclasses.replace(
                reply, items={refs[0][0]: ItemCommands(note="\n".join(reply.notes))}, notes=()
            )
        row.notes = "\n".join((*reply.notes, *reply.not_understood))[:20_000]
        items = updates.items_with_students(session, list(by_ref.values()))
        done = _Applied()
        history: list[Update] = []
        for ref, commands in reply.items.items():
            item_and_student = items.get(by_ref.get(ref.upper(), -1))
            if item_and_student is None:
                continue
            item, student_name = item_and_student
            try:
                change = UpdateInput(
                    status=commands.status,
                    percent=commands.percent,
                    due_on=commands.due_on,
                    note=commands.note,
                )
                # No savepoint needed: a refused update raises before it changes anything.
                update = updates.apply_update(
                    session,
                    item,
                    author_id,
                    change,
                    UpdateSource.EMAIL,
                    now,
                    inbound_id=row.id,
                    answers_requests=False,
                    record=False,
                    understood=commands.understood,
                )
            except ValidationError:
                done.problems.append(ref.upper())
                continue
            history.append(update)
            # What the history row says, including what the rules derived (100% -> done).
            done.changes.append(
                {
                    "ref": ref.upper(),
                    "title": item.title,
                    "student": student_name,
                    "status": update.status.value if update.status else None,
                    "percent": update.percent,
                    "due_on": update.due_on,
                    "note": update.note,
                    "understood": update.understood,
                }
            )
        if not done.changes and not done.problems:
            row.reason += "; no command recognised, kept as a note"
        updates.record_history(session, history)
        changed = [by_ref[c["ref"]] for c in done.changes]
        if changed:
            # One statement for the whole reply: other open requests that asked about these items.
            updates.mark_answered(session, changed, owner.id, now)
        request.answered_at = request.answered_at or now
        if confirm:
            if owner.mail_failing_at is not None:
                # The owner's own reply, with its key: the address works.
                people.clear_failing(
                    session,
                    [owner.id],
                    reason="a reply came from this address",
                    source="reply",
                    now=now,
                )
            self._confirm(session, row, owner, request, reply, done, now, in_reply_to)
        return len(done.changes)

    def _confirm(
        self,
        session: Session,
        row: InboundMessage,
        owner: Person,
        request: UpdateRequest,
        reply: ParsedReply,
        done: _Applied,
        now: datetime,
        in_reply_to: str | None,
    ) -> None:
        assert owner.id is not None and request.id is not None
        refs = [c["ref"] for c in done.changes] or ["A1"]
        context = {
            "recipient": {"name": owner.name},
            "students": sorted({c["student"] for c in done.changes}),
            "changes": done.changes,
            "notes": list(reply.notes),
            "not_understood": list(reply.not_understood),
            "unknown_refs": list(reply.unknown_refs),
            "problems": done.problems,
            "example": f"{refs[0]} 60%",
            "questions": [
                {
                    "ref": q.ref,
                    "line": q.line,
                    "percents": list(q.percents),
                    # Naming the item, or giving the one number, settles it.
                    "example": f"{q.ref} {q.percents[-1]}%"
                    if q.ref and q.percents
                    else f"{q.ref or refs[0]} {q.line}",
                }
                for q in reply.questions
            ],
        }
        # The items' titles in the owner's language.
        book = texts.request_phrasebook(session, request.id)
        context.update(confirmation_texts(done.changes, book, owner.language))
        key = make_reply_key(self.secret, request.id, owner.id, request.expires_at)
        # Keyed by the inbound row just inserted, so it cannot have been queued before: no
        # need to look first.
        message = self.mailer.message(
            MailKind.CONFIRMATION,
            f"confirmation:{row.id}",
            to=_addressee(owner),
            context=context,
            now=now,
            key=key,
            in_reply_to=f"<{in_reply_to}>" if in_reply_to else None,
            request_id=request.id,
        )
        outbox.queue_many(session, [message])

    def _notify(
        self, session: Session, row: InboundMessage, person: Person, reason: str, now: datetime
    ) -> None:
        """Tell a known sender, in plain words and without details, what happened to their email.

        No one gets more than one a day.
        """
        assert person.id is not None
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
            log.warning("notice for inbound message %s not queued: %s", row.id, exc)


def _addressee(person: Person) -> Recipient:
    assert person.id is not None
    return Recipient(
        person.id, person.name, person.email, person.language, person.timezone or "", False
    )


def _inbound_row(
    parsed: ParsedMessage, raw: bytes, key: str, *, via: str, now: datetime, verdict: _Verdict
) -> InboundMessage:
    author = verdict.owner or verdict.sender
    return InboundMessage(
        message_key=key,
        received_at=now,
        via=via,
        from_address=_sender_address(parsed),
        subject=parsed.subject[:500],
        outcome=verdict.outcome,
        reason=verdict.reason + ("; attachments not kept" if parsed.text_only is not None else ""),
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
