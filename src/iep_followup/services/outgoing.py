"""Composing outgoing mail: render in the recipient's language, then build the message once."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from typing import Any, Protocol

from iep_followup.config import Settings
from iep_followup.mail.contexts import with_answer_links, with_unanswered_links
from iep_followup.mail.kinds import MailKind
from iep_followup.mail.message import Attachment, build_message, mailbox, parse_configured_address
from iep_followup.mail.render import Renderer
from iep_followup.store import outbox
from iep_followup.store.db import Session
from iep_followup.tokens import (
    make_answer_token,
    make_bounce_key,
    make_message_id,
    reply_to_address,
)
from iep_followup.views import Contact

# The emails whose items get one-tap answer links when the desk has a public address (a
# confirmation: the items its reply did not answer).
ANSWERABLE = frozenset({MailKind.REQUEST, MailKind.REMINDER, MailKind.CONFIRMATION})


class Addressee(Protocol):
    """Whoever an email is for: a Recipient, a MemberView, ..."""

    @property
    def person_id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def language(self) -> str: ...


@dataclass(frozen=True)
class Composed:
    message_id: str
    subject: str
    body: bytes


class Mailer:
    """Knows our addresses and the templates; turns a context into a ready-to-send message."""

    def __init__(self, settings: Settings, renderer: Renderer | None = None) -> None:
        self.renderer = renderer or Renderer(settings.templates_dir)
        self.sender = parse_configured_address(settings.from_address, "IEP_FOLLOWUP_FROM_ADDRESS")
        self.reply_base = parse_configured_address(
            settings.reply_address, "IEP_FOLLOWUP_REPLY_ADDRESS"
        ).addr_spec
        self.domain = self.reply_base.rpartition("@")[2]
        # Answer links need the desk's address and the signing secret; without them, none.
        self.web_url = settings.web_url
        self._link_secret = settings.secret_key.get_secret_value() if settings.secret_key else ""

    @property
    def own_addresses(self) -> frozenset[str]:
        return frozenset({self.sender.addr_spec.lower(), self.reply_base.lower()})

    def reply_address(self, key: str) -> Address:
        return mailbox(self.sender.display_name, reply_to_address(self.reply_base, key))

    def bounce_address(self, secret: str, outbox_id: int, recipient: str) -> str:
        """One message's envelope sender (VERP): a report that comes back to it proves what failed."""
        return reply_to_address(self.reply_base, make_bounce_key(secret, outbox_id, recipient))

    def reply_address_for_contact(self, contact: Contact | None) -> Address:
        """Replies to a summary reach a person (the case manager), or our inbox for review."""
        if contact is None:
            return mailbox(self.sender.display_name, self.reply_base)
        return mailbox(contact.name, contact.email)

    def compose(
        self,
        kind: MailKind,
        *,
        language: str,
        to_name: str,
        to_address: str,
        context: Mapping[str, Any],
        now: datetime,
        key: str | None = None,
        reply_to: Address | None = None,
        attachments: tuple[Attachment, ...] = (),
        in_reply_to: str | None = None,
    ) -> Composed:
        rendered = self.renderer.render(kind, language, self._with_links(kind, context, key))
        # Generated once and stored with the message: every retry reuses it.
        message_id = make_message_id(key, secrets.token_hex(6), self.domain)
        body = build_message(
            rendered,
            kind=kind,
            sender=self.sender,
            to=mailbox(to_name, to_address),
            reply_to=self.reply_address(key) if key else reply_to,
            message_id=message_id,
            date=now,
            attachments=attachments,
            in_reply_to=in_reply_to,
        )
        return Composed(message_id, rendered.subject, body)

    def _with_links(
        self, kind: MailKind, context: Mapping[str, Any], key: str | None
    ) -> Mapping[str, Any]:
        """A request's or reminder's items with their answer links, signed over its reply key."""
        if kind not in ANSWERABLE or not key or not self.web_url or not self._link_secret:
            return context
        secret = self._link_secret
        links = with_unanswered_links if kind is MailKind.CONFIRMATION else with_answer_links
        return links(context, self.web_url, lambda ref: make_answer_token(secret, key, ref))

    def message(
        self,
        kind: MailKind,
        idempotency_key: str,
        *,
        to: Addressee,
        context: Mapping[str, Any],
        now: datetime,
        key: str | None = None,
        reply_to: Address | None = None,
        attachments: tuple[Attachment, ...] = (),
        in_reply_to: str | None = None,
        request_id: int | None = None,
        not_before: datetime | None = None,
    ) -> outbox.NewMessage:
        """Render for `to`: the outbox row, for outbox.queue_many (many at once)."""
        composed = self.compose(
            kind,
            language=to.language,
            to_name=to.name,
            to_address=to.email,
            context=context,
            now=now,
            key=key,
            reply_to=reply_to,
            attachments=attachments,
            in_reply_to=in_reply_to,
        )
        return outbox.NewMessage(
            kind=kind,
            idempotency_key=idempotency_key,
            to_address=to.email,
            message_id=composed.message_id,
            subject=composed.subject,
            body=composed.body,
            person_id=to.person_id,
            request_id=request_id,
            created_at=now,
            next_attempt_at=not_before or now,
        )

    def queue(
        self,
        session: Session,
        kind: MailKind,
        idempotency_key: str,
        *,
        to: Addressee,
        context: Mapping[str, Any],
        now: datetime,
        key: str | None = None,
        reply_to: Address | None = None,
        attachments: tuple[Attachment, ...] = (),
        in_reply_to: str | None = None,
        request_id: int | None = None,
        not_before: datetime | None = None,
    ) -> bool:
        """Render for `to` and queue it in the caller's transaction; False if this key was queued before."""
        if outbox.is_queued(session, idempotency_key):
            return False
        message = self.message(
            kind,
            idempotency_key,
            to=to,
            context=context,
            now=now,
            key=key,
            reply_to=reply_to,
            attachments=attachments,
            in_reply_to=in_reply_to,
            request_id=request_id,
            not_before=not_before,
        )
        return bool(outbox.queue_many(session, [message]))
