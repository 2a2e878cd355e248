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
from datetime import datetime
from typing import Any

from iep_followup.domain import UpdateInput, UpdateSource
from iep_followup.errors import IepFollowupError, NotFoundError, ValidationError
from iep_followup.inbound.classify import InboundKind, classify
from iep_followup.inbound.grammar import ItemCommands, ParsedReply, parse_commands
from iep_followup.inbound.message import ParsedMessage, parse_message
from iep_followup.inbound.trim import trim_reply
from iep_followup.mailkinds import InboundOutcome, MailKind
from iep_followup.planning import local_now
from iep_followup.services.outgoing import Mailer
from iep_followup.store import asking, inbox, outbox, updates
from iep_followup.store.db import Database, Session
from iep_followup.store.models import InboundMessage, Person, Update, UpdateRequest
from iep_followup.tokens import find_keys, make_reply_key, request_id_of, verify_reply_key
from iep_followup.views import Recipient

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 5_000_000


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
    ) -> None:
        self.database = database
        self.mailer = mailer
        self.secret = secret
        self.clock = clock
        self.default_timezone = default_timezone
        self.max_bytes = max_bytes

    def ingest(self, raw: bytes, *, via: str) -> IngestResult:
        """Record and act on one raw RFC 5322 message. Never raises for what the message contains."""
        parsed = parse_message(raw, max_bytes=self.max_bytes)
        key = _message_key(parsed, raw)
        now = self.clock()
        with self.database.transaction() as session:
            seen = inbox.find(session, key)
            if seen is not None:
                return IngestResult(
                    seen.id, seen.outcome, f"duplicate of message {seen.id}", duplicate=True
                )
            verdict = self._judge(session, parsed, now)
            row = InboundMessage(
                message_key=key,
                received_at=now,
                via=via,
                from_address=parsed.from_address,
                subject=parsed.subject[:500],
                outcome=verdict.outcome,
                reason=verdict.reason,
                request_id=verdict.request.id if verdict.request else None,
                person_id=verdict.owner.id if verdict.owner else None,
                # Oversized or broken input is not kept: the log row and its reason are enough.
                raw=raw if parsed.problem is None else b"",
            )
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
                )
            elif verdict.notice and parsed.from_address:
                self._notify(session, row, parsed.from_address, verdict.notice, now)
        log.info("inbound message %s via %s: %s (%s)", row.id, via, row.outcome.value, row.reason)
        return IngestResult(row.id, row.outcome, row.reason, applied=applied)

    def release(self, inbound_id: int) -> IngestResult:
        """Apply a held reply after a person has checked it: it counts as its request's owner's."""
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
            applied = self._apply(
                session, row, parsed, request, owner, now, in_reply_to=parsed.message_id
            )
            row.reason = f"released after review (was held: {row.reason})"
            row.outcome = InboundOutcome.APPLIED
            row.person_id = owner.id
            row.released_at = now
            return IngestResult(row.id, row.outcome, row.reason, applied=applied)

    # --- deciding ---------------------------------------------------------------------

    def _judge(self, session: Session, parsed: ParsedMessage, now: datetime) -> _Verdict:
        if parsed.problem:
            return _Verdict(InboundOutcome.REJECTED, parsed.problem)
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
            return _Verdict(InboundOutcome.IGNORED, self._bounce(session, kind.bounce, now))
        request, key_problem = self._request_for(session, parsed, now)
        if kind.kind is InboundKind.FORWARD:
            return _Verdict(InboundOutcome.HELD, kind.reason, request, notice="forwarded")
        if key_problem is not None:
            outcome, reason, notice = key_problem
            return _Verdict(outcome, reason, request, notice=notice)
        assert request is not None
        owner = session.get(Person, request.person_id)
        address = (parsed.from_address or "").strip().lower()
        if owner is not None and owner.email == address:
            sender_id = owner.id  # the usual case: no need to look the address up
        else:
            sender = inbox.person_for_address(session, address)
            sender_id = sender.id if sender is not None else None
        if owner is None or sender_id is None or sender_id != owner.id:
            return _Verdict(
                InboundOutcome.HELD,
                f"sent from {parsed.from_address or 'an unknown address'}, not from the owner of request {request.id}",
                request,
                notice="other_sender",
            )
        return _Verdict(InboundOutcome.APPLIED, f"reply to request {request.id}", request, owner)

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

    def _bounce(self, session: Session, bounce: Any, now: datetime) -> str:
        if bounce is None:
            return "bounce"
        person = inbox.person_for_address(session, bounce.recipient) if bounce.recipient else None
        if person is None and bounce.original_message_id:
            person = outbox.person_of_message(session, bounce.original_message_id)
        what = (
            f"bounce {bounce.status or ''} for {bounce.recipient or 'an unknown address'}".replace(
                "  ", " "
            )
        )
        if person is None or person.id is None:
            return what + " (not one of our people)"
        reason = " ".join(filter(None, [bounce.status, bounce.diagnostic])) or "delivery failed"
        inbox.note_bounce(
            session, person.id, permanent=bounce.permanent, reason=reason[:500], now=now
        )
        return what + (
            ": address marked failing" if bounce.permanent else ": counted as a soft bounce"
        )

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
    ) -> int:
        assert request.id is not None and owner.id is not None and row.id is not None
        found = asking.request_with_refs(session, request.id)
        refs = found[1] if found else []
        trimmed = trim_reply(parsed.text)
        row.kept_text, row.trimmed_away = trimmed.kept[:20_000], trimmed.removed[:100_000]
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
                    owner.id,
                    change,
                    UpdateSource.EMAIL,
                    now,
                    inbound_id=row.id,
                    answers_requests=False,
                    record=False,
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
        }
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
        self, session: Session, row: InboundMessage, sender: str, reason: str, now: datetime
    ) -> None:
        """Tell a known sender, in plain words and without details, that a person will look at it.

        Unknown senders get nothing (no backscatter), and no one gets more than one a day.
        """
        person = inbox.person_for_address(session, sender)
        if person is None or person.id is None:
            return
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
