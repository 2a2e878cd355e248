"""Turning a rendered email into RFC 5322 bytes, with headers no input can break."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr

from iep_followup.errors import ConfigError
from iep_followup.mail.render import RenderedEmail
from iep_followup.mailkinds import MailKind

# Control characters (CR and LF above all) would let a name start a new header.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


@dataclass(frozen=True)
class Attachment:
    filename: str
    maintype: str
    subtype: str
    content: bytes


def clean_header_text(value: str) -> str:
    """One line of text, safe to put in any header."""
    return " ".join(_CONTROL.sub(" ", value).split())


def mailbox(name: str, address: str) -> Address:
    local, _, domain = address.rpartition("@")
    if not local or not domain or _CONTROL.search(address) or " " in address:
        raise ValueError(f"not a usable email address: {address!r}")
    return Address(display_name=clean_header_text(name), username=local, domain=domain)


def parse_configured_address(value: str, setting: str) -> Address:
    """A From/Reply setting such as 'IEP Follow-up <iep@district.org>'."""
    name, address = parseaddr(value)
    try:
        return mailbox(name, address)
    except ValueError:
        raise ConfigError(f"{setting}: {value!r} is not an email address") from None


def build_message(
    rendered: RenderedEmail,
    *,
    kind: MailKind,
    sender: Address,
    to: Address,
    reply_to: Address | None,
    message_id: str,
    date: datetime,
    attachments: tuple[Attachment, ...] = (),
    in_reply_to: str | None = None,
) -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = to
    if reply_to is not None:
        message["Reply-To"] = reply_to
    message["Subject"] = clean_header_text(rendered.subject)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    # Tell mail servers and clients this is automated: no out-of-office replies, please.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message["X-IEP-Followup"] = kind.value
    message.set_content(rendered.text, cte="quoted-printable")
    message.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
    for attachment in attachments:
        message.add_attachment(
            attachment.content,
            maintype=attachment.maintype,
            subtype=attachment.subtype,
            filename=attachment.filename,
        )
    return message.as_bytes()
