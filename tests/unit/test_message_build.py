"""build_message assembles MIME by hand for speed: it must read back exactly as EmailMessage's would."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default

from hypothesis import given, settings
from hypothesis import strategies as st

from iep_followup.mail.kinds import MailKind
from iep_followup.mail.message import (
    Attachment,
    _build_with_email_message,
    build_message,
    clean_header_text,
    mailbox,
)
from iep_followup.mail.render import RenderedEmail

NAMES = st.one_of(
    st.sampled_from(
        [
            "",
            "Rosa Herrera",
            "Smith, Ann",
            'Dana "DJ" Whitfield',
            "Dr. O'Neil",
            "Rosa\r\nBcc: victim@example.com Herrera Núñez",
            "=?utf-8?q?Evil?=",
            "Lucía " * 40,
            "王小明",
        ]
    ),
    st.text(max_size=120),
)
TEXTS = st.one_of(
    st.sampled_from(
        [
            "Hello,\n\nA1. done  \nline=with equals\nFrom here\n.dot\n",
            "-- \nsignature\n--=_looks like a boundary\n",
            "x" * 500 + "\n",
            "trailing spaces   \n\ttab\t\n",
            "á é í ó ú ñ — “quotes” 😀\r\nold\rmac\n",
        ]
    ),
    st.text(max_size=400),
)


def _parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=default)
    assert isinstance(message, EmailMessage)
    return message


def _addresses(message: EmailMessage, header: str) -> list[tuple[str, str]]:
    # Python's reader puts a space between adjacent encoded words in a display name (a long
    # name is several words), whoever wrote them; compare the names without spaces.
    return [("".join(a.display_name.split()), a.addr_spec) for a in message[header].addresses]


def _read(message: EmailMessage) -> dict[str, object]:
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and html is not None
    return {
        "from": _addresses(message, "From"),
        "to": _addresses(message, "To"),
        "reply_to": _addresses(message, "Reply-To"),
        "subject": str(message["Subject"]),
        "message_id": str(message["Message-ID"]),
        "in_reply_to": str(message["In-Reply-To"]),
        "auto": str(message["Auto-Submitted"]),
        "kind": str(message["X-IEP-Followup"]),
        "text": plain.get_content(),
        "html": html.get_content(),
        "attachments": [
            (p.get_content_type(), p.get_filename(), p.get_payload(decode=True))
            for p in message.iter_attachments()
        ],
    }


@settings(max_examples=300, deadline=None)
@given(
    name=NAMES,
    subject=TEXTS,
    text=TEXTS,
    html=TEXTS,
    with_attachment=st.booleans(),
)
def test_hand_built_message_reads_back_like_email_message(
    name: str, subject: str, text: str, html: str, with_attachment: bool
) -> None:
    rendered = RenderedEmail(subject, text, html)
    arguments = {
        "kind": MailKind.REQUEST,
        "sender": mailbox("IEP Follow-up", "iep@district.example.org"),
        "to": mailbox(name, "rosa@home.example.com"),
        "reply_to": mailbox(name, "iep+r1-abc@district.example.org"),
        "message_id": "<iep.r1-abc.1f2e@district.example.org>",
        "date": datetime(2026, 11, 23, 14, tzinfo=UTC),
        "in_reply_to": "<CAB+x=1@mail.example.com>",
        "attachments": (
            (Attachment("due-dates.ics", "text", "calendar", b"BEGIN:VCALENDAR\r\nEND\r\n"),)
            if with_attachment
            else ()
        ),
    }
    raw = build_message(rendered, **arguments)  # type: ignore[arg-type]
    reference = _build_with_email_message(rendered, **arguments)  # type: ignore[arg-type]

    mine, theirs = _read(_parse(raw)), _read(_parse(reference))
    # EmailMessage passes text that looks like an encoded word through, and a reader then
    # decodes it; ours encodes it, so what was written is what is read.
    if "=?" in clean_header_text(name):
        assert mine["to"] == [("".join(name.split()), "rosa@home.example.com")]
        for read in (mine, theirs):
            del read["to"], read["reply_to"]
    # The subject reads back exactly as written (EmailMessage's sometimes drops a space
    # between encoded words, or decodes text that only looks like one).
    assert mine["subject"] == clean_header_text(subject)
    del mine["subject"], theirs["subject"]
    assert mine == theirs
    assert raw.isascii()
    lines = raw.split(b"\r\n")
    assert all(b"\r" not in line and b"\n" not in line for line in lines)
    assert all(len(line) <= 998 for line in lines)
    header_block = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in header_block
    assert not _parse(raw).defects
    assert all(not part.defects for part in _parse(raw).walk())


def test_a_thread_reference_that_is_not_a_message_id_is_left_out() -> None:
    raw = build_message(
        RenderedEmail("Hi", "text\n", "<p>html</p>"),
        kind=MailKind.CONFIRMATION,
        sender=mailbox("IEP", "iep@district.example.org"),
        to=mailbox("Rosa", "rosa@home.example.com"),
        reply_to=None,
        message_id="<iep.1@district.example.org>",
        date=datetime(2026, 11, 23, 14, tzinfo=UTC),
        in_reply_to="<bad id\r\nBcc: x@y.z>",
    )
    assert b"In-Reply-To" not in raw
    assert b"Bcc" not in raw


def _to_luis_and_jose(to: str) -> bytes:
    return build_message(
        RenderedEmail("Lucía: ¿cómo va?", "texto\n", "<p>html</p>"),
        kind=MailKind.REQUEST,
        sender=mailbox("IEP", "iep@district.example.org"),
        to=mailbox("Luis José", to),
        reply_to=mailbox("IEP", "iep+r1-abc@district.example.org"),
        message_id="<iep.1@district.example.org>",
        date=datetime(2026, 11, 23, 14, tzinfo=UTC),
    )


def test_an_idn_domain_is_written_as_a_labels_never_as_an_encoded_word() -> None:
    raw = _to_luis_and_jose("luis@jefférson.example.org")
    assert raw.isascii()
    [to] = _parse(raw)["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Luis José", "luis@xn--jeffrson-e1a.example.org")
    assert b" <luis@xn--jeffrson-e1a.example.org>\r\n" in raw


def test_a_non_ascii_local_part_makes_an_smtputf8_message_with_the_address_as_it_is() -> None:
    raw = _to_luis_and_jose("josé@example.org")
    assert "<josé@example.org>\r\n".encode() in raw  # UTF-8 in the header (RFC 6532)
    message = email.message_from_string(raw.decode("utf-8"), policy=default)
    assert isinstance(message, EmailMessage)
    [to] = message["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Luis José", "josé@example.org")
    assert str(message["Subject"]) == "Lucía: ¿cómo va?"
    plain = message.get_body(("plain",))
    assert plain is not None and plain.get_content().strip() == "texto"
