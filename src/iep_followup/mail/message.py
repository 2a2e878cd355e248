"""Turning a rendered email into RFC 5322 bytes, with headers no input can break.

The message is assembled from the standard library's encoders (RFC 2047 encoded words,
quoted-printable, base64, RFC 2231 parameters) rather than through EmailMessage, whose
header objects parse and refold every header and cost more than rendering the email.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8
from email.utils import encode_rfc2231, format_datetime, formataddr, parseaddr

from iep_followup.addresses import ascii_domain, needs_smtputf8
from iep_followup.errors import ConfigError
from iep_followup.mail.kinds import MailKind
from iep_followup.mail.render import RenderedEmail

# Control characters (CR and LF above all) would let a name start a new header.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
# A display name that needs neither quoting nor encoding: atext and spaces (without "=?",
# which a reader would take for the start of an encoded word).
_PLAIN_PHRASE = re.compile(r"[A-Za-z0-9!#$%&'*+/^_`{|}~ -]{0,60}")
_MSG_ID = re.compile(r"<[!-;=?-~]+>")  # printable ASCII, no spaces or angle brackets inside
_TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`{|}~-]+")  # a MIME type or parameter token
_CRLF = "\r\n"


@dataclass(frozen=True)
class Attachment:
    filename: str
    maintype: str
    subtype: str
    content: bytes
    charset: str | None = None  # for text: what the bytes are in, so clients decode them right


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
    """multipart/alternative (text, then HTML), inside multipart/mixed when there are attachments.

    Addresses go with IDNA A-label domains, so the message stays ASCII. A local part that is
    not ASCII has no such form: then the message is an SMTPUTF8 one (RFC 6532, UTF-8 headers,
    every address as it is), which only a server that offers SMTPUTF8 will take.
    """
    smtputf8 = any(needs_smtputf8(a.addr_spec) for a in (sender, to, reply_to) if a is not None)
    if not smtputf8:
        sender, to = _with_ascii_domain(sender), _with_ascii_domain(to)
        reply_to = _with_ascii_domain(reply_to) if reply_to is not None else None
    if smtputf8 or not _MSG_ID.fullmatch(message_id):
        return _build_with_email_message(
            rendered,
            kind=kind,
            sender=sender,
            to=to,
            reply_to=reply_to,
            message_id=message_id,
            date=date,
            attachments=attachments,
            in_reply_to=in_reply_to,
            smtputf8=smtputf8,
        )
    headers = [f"From: {_mailbox_header(sender)}", f"To: {_mailbox_header(to)}"]
    if reply_to is not None:
        headers.append(f"Reply-To: {_mailbox_header(reply_to)}")
    headers += [
        f"Subject: {_text_header(clean_header_text(rendered.subject), 'Subject')}",
        f"Date: {format_datetime(date)}",
        f"Message-ID: {message_id}",
    ]
    # A thread reference that is not a clean msg-id (it came from someone else's mail) is left out.
    if in_reply_to and _MSG_ID.fullmatch(in_reply_to):
        headers += [f"In-Reply-To: {in_reply_to}", f"References: {in_reply_to}"]
    # Tell mail servers and clients this is automated: no out-of-office replies, please.
    headers += [
        "Auto-Submitted: auto-generated",
        "X-Auto-Response-Suppress: All",
        f"X-IEP-Followup: {kind.value}",
        "MIME-Version: 1.0",
    ]
    body = _multipart(
        "alternative",
        [_text_part("plain", rendered.text), _text_part("html", rendered.html)],
    )
    if attachments:
        body = _multipart("mixed", [body, *(_attachment_part(a) for a in attachments)])
    return (_CRLF.join(headers) + _CRLF + body).encode("ascii")


def _with_ascii_domain(address: Address) -> Address:
    # Not left to EmailMessage, which RFC 2047-encodes the domain: no server can deliver to that.
    if address.domain.isascii():
        return address
    return Address(address.display_name, addr_spec=ascii_domain(address.addr_spec))


def _mailbox_header(address: Address) -> str:
    name = address.display_name
    if not name or _PLAIN_PHRASE.fullmatch(name):
        return formataddr((name, address.addr_spec))
    if name.isascii() and len(name) <= 60 and "=?" not in name:
        return formataddr((name, address.addr_spec))  # quoted, e.g. "Smith, Ann"
    # RFC 2047 words, folded, split the way Python's own reader puts a long name back together.
    words = Header(name, "utf-8").encode(linesep=_CRLF)
    return f"{words} <{address.addr_spec}>"


def _text_header(value: str, header_name: str) -> str:
    words = value.split(" ")
    if value.isascii() and "=?" not in value and all(len(w) < 900 for w in words):
        return _fold(words, len(header_name) + 2)
    return _encoded_words(value)


def _encoded_words(text: str) -> str:
    """RFC 2047 base64 words of at most 39 UTF-8 bytes each (64 characters), one per line.

    For unstructured text (the subject): any length, any script; a reader joins adjacent words
    without the line breaks. (email.header.Header does the same, but measures every prefix of
    the text as it goes, which cost more than the rest of the message.)
    """
    chunks: list[str] = []
    chunk: list[str] = []
    size = 0
    for char in text:
        width = len(char.encode("utf-8"))
        if size + width > 39:
            chunks.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(char)
        size += width
    chunks.append("".join(chunk))
    return (_CRLF + " ").join(
        f"=?utf-8?b?{base64.b64encode(c.encode('utf-8')).decode('ascii')}?=" for c in chunks
    )


def _fold(words: list[str], used: int) -> str:
    """Words on lines of at most 78 characters (single spaces, so unfolding restores the text)."""
    lines, line = [], ""
    for word in words:
        if line and used + len(line) + 1 + len(word) > 78:
            lines.append(line)
            line, used = word, 1
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return (_CRLF + " ").join(lines)


def _text_part(subtype: str, text: str) -> str:
    # Line ends as SMTP wants them, whatever the template or a reply's quoted words held.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = (text if text.endswith("\n") else text + "\n").encode("utf-8")
    encoded = binascii.b2a_qp(lines, istext=True).decode("ascii").replace("\n", _CRLF)
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"{_CRLF}'
        f"Content-Transfer-Encoding: quoted-printable{_CRLF}{_CRLF}{encoded}"
    )


def _attachment_part(attachment: Attachment) -> str:
    if not (_TOKEN.fullmatch(attachment.maintype) and _TOKEN.fullmatch(attachment.subtype)):
        raise ValueError(f"not a MIME type: {attachment.maintype}/{attachment.subtype}")
    filename = clean_header_text(attachment.filename)
    if filename.isascii() and '"' not in filename and "\\" not in filename:
        disposition = f'attachment; filename="{filename}"'
    else:
        disposition = f"attachment; filename*={encode_rfc2231(filename, 'utf-8')}"
    encoded = base64.encodebytes(attachment.content).decode("ascii").replace("\n", _CRLF)
    charset = ""
    if attachment.charset is not None:
        if not _TOKEN.fullmatch(attachment.charset):
            raise ValueError(f"not a charset: {attachment.charset}")
        charset = f"; charset={attachment.charset}"
    return (
        f"Content-Type: {attachment.maintype}/{attachment.subtype}{charset}{_CRLF}"
        f"Content-Transfer-Encoding: base64{_CRLF}"
        f"Content-Disposition: {disposition}{_CRLF}{_CRLF}{encoded}"
    )


def _multipart(subtype: str, parts: list[str]) -> str:
    """A multipart entity: its headers, a blank line, the parts between boundaries."""
    # "=_" cannot occur in quoted-printable or base64 output, so no part can contain the boundary.
    boundary = f"=_{secrets.token_hex(12)}"
    # The line end before a boundary belongs to the boundary: every part gets one more.
    inner = "".join(f"--{boundary}{_CRLF}{part}{_CRLF}" for part in parts)
    return (
        f'Content-Type: multipart/{subtype}; boundary="{boundary}"{_CRLF}{_CRLF}'
        f"{inner}--{boundary}--{_CRLF}"
    )


def _build_with_email_message(
    rendered: RenderedEmail,
    *,
    kind: MailKind,
    sender: Address,
    to: Address,
    reply_to: Address | None,
    message_id: str,
    date: datetime,
    attachments: tuple[Attachment, ...],
    in_reply_to: str | None,
    smtputf8: bool = False,
) -> bytes:
    message = EmailMessage(policy=SMTPUTF8 if smtputf8 else SMTP)
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
