"""Replies as real mail clients write them, built from the request email a test received."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8
from email.utils import format_datetime, make_msgid


def _quoted(original: EmailMessage) -> str:
    body = original.get_body(("plain",))
    assert body is not None
    text = str(body.get_content())
    return "\n".join("> " + line if line else ">" for line in text.splitlines())


def reply(
    original: EmailMessage,
    text: str,
    *,
    sender: str | None = None,
    style: str = "gmail",
    subject: str | None = None,
    keep_plus_address: bool = True,
    message_id: str | None = None,
    photo_bytes: int = 0,
) -> bytes:
    """A reply to `original` from its recipient (or `sender`), quoting it the way `style` does.

    `photo_bytes`: attach a phone photo that big (random bytes behind a JPEG header).
    """
    to = original["To"].addresses[0]
    reply_to = original["Reply-To"].addresses[0].addr_spec
    if not keep_plus_address:  # some clients drop the +key part; the thread headers still carry it
        local, _, domain = reply_to.partition("@")
        reply_to = local.split("+")[0] + "@" + domain
    when = "Mon, Nov 23, 2026 at 8:30 AM"
    quote = {
        "gmail": f"On {when} IEP Follow-up <\n{original['From'].addresses[0].addr_spec}> wrote:\n\n{_quoted(original)}",
        "gmail_es": f"El lun, 23 nov 2026 a las 8:30, IEP Follow-up (<{original['From'].addresses[0].addr_spec}>)\nescribió:\n\n{_quoted(original)}",
        "outlook": "________________________________\nFrom: IEP Follow-up <iep-followup@localhost>\nSent: Monday, November 23, 2026 8:30 AM\n"
        f"To: {to.display_name} <{to.addr_spec}>\nSubject: {original['Subject']}\n\n"
        + str(original.get_body(("plain",)).get_content()),  # type: ignore[union-attr]
        "iphone": f"Enviado desde mi iPhone\n\n> El 23 nov 2026, a las 8:30, IEP Follow-up <iep-followup@localhost> escribió:\n>\n{_quoted(original)}",
    }[style]
    sender = sender or f"{to.display_name} <{to.addr_spec}>"
    # A client writes a non-ASCII address as it is, in an SMTPUTF8 message (UTF-8 headers).
    message = EmailMessage(policy=SMTP if sender.isascii() else SMTPUTF8)
    message["From"] = sender
    message["To"] = reply_to
    message["Subject"] = subject or ("RE: " if style == "outlook" else "Re: ") + str(
        original["Subject"]
    )
    message["Date"] = format_datetime(datetime(2026, 11, 24, 15, 0, tzinfo=UTC))
    message["Message-ID"] = message_id or make_msgid(domain="mail.example.com")
    message["In-Reply-To"] = original["Message-ID"]
    message["References"] = original["Message-ID"]
    message.set_content(f"{text}\n\n{quote}\n")
    if photo_bytes:
        photo = b"\xff\xd8\xff\xe1" + random.Random(photo_bytes).randbytes(photo_bytes - 4)
        message.add_attachment(photo, maintype="image", subtype="jpeg", filename="IMG_4032.JPG")
    return message.as_bytes()


def out_of_office(to_reply: str, sender: str, *, spanish: bool = False) -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = to_reply
    message["Subject"] = (
        "Respuesta automática: ¿Cómo va todo?" if spanish else "Automatic reply: Quick check-in"
    )
    message["Auto-Submitted"] = "auto-replied"
    message["Message-ID"] = make_msgid(domain="mail.example.com")
    message.set_content("I am out of the office until Monday. A1 done")
    return message.as_bytes()


def delivery_report(
    to: str,
    failed_recipient: str,
    *,
    status: str = "5.1.1",
    returned_message_id: str | None = None,
    sender: str = "Mail Delivery System <MAILER-DAEMON@mx.example.net>",
    message_id: str | None = None,
) -> bytes:
    """A delivery status notification (RFC 3464) as Postfix writes one, sent to `to`."""
    action = "delayed" if status.startswith("4") else "failed"
    returned = (
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: IEP Follow-up <iep-followup@localhost>\r\nTo: {failed_recipient}\r\n"
        f"Message-ID: {returned_message_id}\r\nSubject: Quick check-in\r\n\r\n"
        if returned_message_id
        else ""
    )
    text = (
        f"From: {sender}\r\nTo: {to}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: {message_id or make_msgid(domain='mx.example.net')}\r\nAuto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type="delivery-status"; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\n"
        "Your message could not be delivered to one or more recipients.\r\n\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n\r\n"
        f"Final-Recipient: rfc822; {failed_recipient}\r\nAction: {action}\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; 550 {status} <{failed_recipient}>: Recipient address rejected\r\n\r\n"
        f"{returned}--B--\r\n"
    )
    return text.encode()
