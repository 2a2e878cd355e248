"""Sort inbound mail before anything reads it as an update.

Auto-replies, bounces, our own mail and forwards are recognised here; only a REPLY
goes on to trimming and the grammar. Pure: headers and parts in, a verdict out.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Collection
from dataclasses import dataclass

from iep_followup.inbound.message import ParsedMessage
from iep_followup.inbound.trim import fold


class InboundKind(enum.StrEnum):
    REPLY = "reply"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    OWN_MAIL = "own_mail"
    FORWARD = "forward"


@dataclass(frozen=True)
class BounceInfo:
    """What a delivery report says about the failed recipient."""

    recipient: str | None
    status: str | None  # enhanced status code, like "5.1.1"
    permanent: bool  # 5.x.x: the address is failing; 4.x.x: try again later
    diagnostic: str | None
    original_message_id: str | None = None  # the returned message's Message-ID


@dataclass(frozen=True)
class Classification:
    kind: InboundKind
    reason: str
    bounce: BounceInfo | None = None

    @property
    def is_reply(self) -> bool:
        return self.kind is InboundKind.REPLY

    @property
    def original_message_id(self) -> str | None:
        return self.bounce.original_message_id if self.bounce else None


_MAIL_SERVERS = ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon")
_PRECEDENCE = {"bulk", "junk", "list", "auto_reply", "auto-reply"}
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_REPLY_PREFIX = r"(?:(?:re|aw|sv|res|antw|vs|ref)\s*(?:\[\d+\]|\(\d+\))?\s*:\s*)*"
_FORWARD = re.compile(
    rf"\s*{_REPLY_PREFIX}(?:fwd?|rv|reenviado|reenv|forward(?:ed)?)\s*(?:\[\d+\])?\s*:"
)
# Subjects that only an auto-responder writes, anywhere in the subject.
_AUTO_ANYWHERE = re.compile(
    r"\b(?:automatic reply|auto[- ]?reply|auto[- ]?response|autoresponder|out of (?:the )?office"
    r"|respuesta automatica|fuera de (?:la )?oficina)\b"
)
# Words a person might use in a subject too; only an auto-responder starts with them.
_AUTO_START = re.compile(
    rf"\s*{_REPLY_PREFIX}(?:(?:ausente|on vacation|de vacaciones|away from (?:my|the) \w+)\b"
    r"|(?:not read|no leido|read|leido)\s*:)"
)
_BOUNCE_SUBJECT = re.compile(
    r"\b(?:undeliverable|undelivered|delivery status notification|mail delivery failed"
    r"|delivery failure|failure notice|returned mail|no se puede entregar|no entregado"
    r"|error de entrega|devuelto)\b"
)


def classify(
    msg: ParsedMessage,
    *,
    own_addresses: Collection[str] = (),
    own_message_id_domain: str | None = None,
    own_message_id_prefix: str = "iep.",
) -> Classification:
    """Decide what an inbound message is. Checks run from the most to the least certain.

    `own_message_id_domain` and `own_message_id_prefix` describe our Message-IDs
    (`<iep.…@domain>`); both must match, because colleagues' mail clients may use the
    district's domain in their own Message-IDs.
    """
    own = _own_mail(msg, own_addresses, own_message_id_domain, own_message_id_prefix)
    if own is not None:
        return Classification(InboundKind.OWN_MAIL, own)
    bounce = _bounce(msg)
    if bounce is not None:
        return bounce
    auto = _auto_reply(msg)
    if auto is not None:
        return Classification(InboundKind.AUTO_REPLY, auto)
    if _FORWARD.match(fold(msg.subject)):
        return Classification(InboundKind.FORWARD, f"forwarded message ({msg.subject[:80]!r})")
    return Classification(InboundKind.REPLY, "a person's reply")


def _base_address(address: str) -> str:
    local, _, domain = address.strip().lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}" if local else address.strip().lower()


def _own_mail(
    msg: ParsedMessage, own_addresses: Collection[str], domain: str | None, prefix: str
) -> str | None:
    if msg.x_iep_followup is not None:
        return "carries our X-IEP-Followup header"
    own = {_base_address(a) for a in own_addresses}
    if msg.from_address and _base_address(msg.from_address) in own:
        return f"sent from our own address {msg.from_address}"
    if domain and msg.message_id:
        local, _, right = msg.message_id.lower().rpartition("@")
        if right == domain.strip().lower() and local.startswith(prefix.lower()):
            return f"has one of our own Message-IDs ({msg.message_id})"
    return None


def _from_mail_server(msg: ParsedMessage) -> bool:
    local = (msg.from_address or "").partition("@")[0]
    name = fold(msg.from_name or "")
    return local in _MAIL_SERVERS or "mail delivery" in name


def _bounce(msg: ParsedMessage) -> Classification | None:
    report = msg.content_type == "multipart/report"
    if report and msg.report_type == "disposition-notification":
        return Classification(InboundKind.AUTO_REPLY, "read receipt (disposition notification)")
    status_report = report and msg.report_type == "delivery-status"
    if msg.delivery_status is not None and (
        status_report or _from_mail_server(msg) or msg.return_path == ""
    ):
        return _from_delivery_status(msg, msg.delivery_status)
    if status_report:
        return _plain_bounce(msg, "delivery report without a readable status part")
    if _from_mail_server(msg) and _BOUNCE_SUBJECT.search(fold(msg.subject)):
        return _plain_bounce(msg, "delivery failure from a mail server (no delivery report)")
    return None


def _from_delivery_status(msg: ParsedMessage, text: str) -> Classification:
    recipients = [b for b in _fields(text) if {"final-recipient", "original-recipient"} & b.keys()]
    if not recipients:
        return _plain_bounce(msg, "delivery report without a recipient")
    actions = [b.get("action", "").lower() for b in recipients]
    if all(a in ("delivered", "relayed", "expanded") for a in actions):
        return Classification(InboundKind.AUTO_REPLY, f"delivery report: {actions[0]}")
    failed = [b for b in recipients if b.get("action", "").lower() == "failed"]
    chosen = (failed or recipients)[0]
    action = chosen.get("action", "").lower()
    diagnostic = chosen.get("diagnostic-code", "").partition(";")
    diagnostic_text = " ".join((diagnostic[2] or diagnostic[0]).split())[:500] or None
    code = _STATUS.search(chosen.get("status", "")) or _STATUS.search(diagnostic_text or "")
    status = code.group(0) if code else None
    permanent = action != "delayed" and (status.startswith("5") if status else action == "failed")
    recipient_field = chosen.get("final-recipient") or chosen.get("original-recipient") or ""
    recipient = recipient_field.partition(";")[2] or recipient_field
    info = BounceInfo(
        recipient=recipient.strip().strip("<>").lower() or None,
        status=status,
        permanent=permanent,
        diagnostic=diagnostic_text,
        original_message_id=msg.original_message_id,
    )
    kind = "hard" if permanent else "soft"
    return Classification(
        InboundKind.BOUNCE, f"{kind} bounce {status or action or 'unknown'}".strip(), info
    )


def _plain_bounce(msg: ParsedMessage, reason: str) -> Classification:
    code = _STATUS.search(msg.text[:20_000])
    status = code.group(0) if code else None
    info = BounceInfo(
        recipient=None,
        status=status,
        permanent=bool(status and status.startswith("5")),
        diagnostic=None,
        original_message_id=msg.original_message_id,
    )
    return Classification(InboundKind.BOUNCE, reason, info)


def _fields(text: str) -> list[dict[str, str]]:
    """The field blocks of a message/delivery-status part (RFC 3464), names lowercased."""
    blocks: list[dict[str, str]] = []
    for block in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n")):
        fields: dict[str, str] = {}
        name: str | None = None
        for line in block.split("\n"):
            if line[:1] in (" ", "\t") and name is not None:
                fields[name] = f"{fields[name]} {line.strip()}"
                continue
            key, colon, value = line.partition(":")
            if colon and key.strip():
                name = key.strip().lower()
                fields.setdefault(name, value.strip())
        if fields:
            blocks.append(fields)
    return blocks


def _auto_reply(msg: ParsedMessage) -> str | None:
    return _auto_reply_headers(msg) or _auto_reply_traits(msg)


def _auto_reply_headers(msg: ParsedMessage) -> str | None:
    """The headers by which a program says it wrote the message."""
    auto_submitted = (msg.auto_submitted or "").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"
    if msg.x_autoreply is not None and msg.x_autoreply.strip().lower() not in ("no", "false"):
        return "X-Autoreply header"
    if msg.x_autorespond is not None:
        return "X-Autorespond header"
    precedence = (msg.precedence or "").strip().lower()
    if precedence in _PRECEDENCE:
        return f"Precedence: {precedence}"
    return None


def _auto_reply_traits(msg: ParsedMessage) -> str | None:
    """An out-of-office subject, or no address to reply to."""
    subject = fold(msg.subject)
    if _AUTO_ANYWHERE.search(subject) or _AUTO_START.match(subject):
        return f"auto-reply subject ({msg.subject[:80]!r})"
    if msg.return_path == "":
        return "empty Return-Path (<>): sent by a program"
    return None
