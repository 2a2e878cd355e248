"""parse_message: headers decoded, the best plain-text body chosen, nothing ever raised."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest

from iep_followup.inbound.html import html_to_text
from iep_followup.inbound.message import ParsedMessage, parse_message


def eml(headers: str, body: str | bytes = "hello\n") -> bytes:
    """A message from header lines and a body, with CRLF line ends as on the wire."""
    head = headers.strip("\n").replace("\n", "\r\n").encode("utf-8", "surrogateescape")
    data = body if isinstance(body, bytes) else body.encode("utf-8")
    return head + b"\r\n\r\n" + data


def multipart(kind: str, *parts: str, extra: str = "") -> bytes:
    body = "".join(f"--BOUNDARY\r\n{part}\r\n" for part in parts) + "--BOUNDARY--\r\n"
    return eml(
        f"From: a@example.org\nMIME-Version: 1.0\n"
        f'Content-Type: multipart/{kind}; boundary="BOUNDARY"{extra}',
        body,
    )


def test_reads_the_headers_the_pipeline_needs() -> None:
    raw = eml(
        """Return-Path: <Rosa@Home.Example.com>
Delivered-To: IEP-Replies+r12-abc@district.example.org
X-Original-To: iep-replies+r12-abc@district.example.org
Envelope-To: other@district.example.org
From: =?utf-8?q?Rosa_Mar=C3=ADa?= <Rosa@Home.Example.COM>
To: "IEP" <IEP-Replies+r12-abc@district.example.org>, b@example.org
Cc: C <c@example.org>
Message-ID: <CAF+abc@mail.example.com>
In-Reply-To: <iep.r12-abc.45@district.example.org>
References: <first@x.org>
 <iep.r12-abc.45@district.example.org>
Subject: =?utf-8?q?Re:_Actualizaci=C3=B3n_r=C3=A1pida?=
Date: Mon, 23 Nov 2026 09:12:00 -0600
Auto-Submitted: no
Precedence: bulk
X-Autoreply: yes
X-Autorespond: something
X-IEP-Followup: request"""
    )
    msg = parse_message(raw)
    assert msg.problem is None
    assert msg.message_id == "CAF+abc@mail.example.com"
    assert msg.from_address == "rosa@home.example.com"
    assert msg.from_name == "Rosa María"
    assert msg.to_addresses == (
        "iep-replies+r12-abc@district.example.org",
        "b@example.org",
        "c@example.org",
    )
    assert msg.delivered_to == (
        "iep-replies+r12-abc@district.example.org",
        "other@district.example.org",
    )
    assert msg.in_reply_to == ("iep.r12-abc.45@district.example.org",)
    assert msg.references == ("first@x.org", "iep.r12-abc.45@district.example.org")
    assert msg.subject == "Re: Actualización rápida"
    assert msg.date == datetime(2026, 11, 23, 9, 12, tzinfo=timezone(timedelta(hours=-6)))
    assert msg.return_path == "rosa@home.example.com"
    assert (msg.auto_submitted, msg.precedence) == ("no", "bulk")
    assert (msg.x_autoreply, msg.x_autorespond, msg.x_iep_followup) == (
        "yes",
        "something",
        "request",
    )
    assert msg.content_type == "text/plain"
    assert msg.text == "hello"
    assert msg.raw_size == len(raw)


def test_missing_headers_give_empty_values() -> None:
    msg = parse_message(b"\r\nonly a body\r\n")
    assert msg == ParsedMessage(raw_size=msg.raw_size, text="only a body")


def test_null_return_path_is_an_empty_string() -> None:
    assert parse_message(eml("Return-Path: <>")).return_path == ""
    assert parse_message(eml("Return-Path: < >")).return_path == ""


def test_ids_without_brackets_are_still_read() -> None:
    msg = parse_message(eml("Message-ID: abc@x.org\nIn-Reply-To: one@x.org two@x.org"))
    assert msg.message_id == "abc@x.org"
    assert msg.in_reply_to == ("one@x.org", "two@x.org")


def test_dates_are_aware_or_none() -> None:
    assert parse_message(eml("Date: Mon, 23 Nov 2026 09:12:00 -0000")).date == datetime(
        2026, 11, 23, 9, 12, tzinfo=UTC
    )
    assert parse_message(eml("Date: yesterday, around noon")).date is None
    assert parse_message(eml("Date: Mon, 99 Nov 2026 99:99:99 +9999")).date is None


@pytest.mark.parametrize(
    "header",
    [
        "Cc: \t:\t>]\udcff\t)*",
        "To: =?utf-8?q??=[@.<,=<",
        "From: ?=\\;=>=..\\?=,<",
        "From: '\té\udcff?= :;(@',",
        "To: *:;é",
        "Message-ID: <(\\\t'\"",
        "From:  .é@*;",
        "Cc: (,:\t[é)=?utf-8?q?@[ ",
        "Content-Type: ')):)=?utf-8?q?;\udcff*",
        "Content-Disposition: *;<@;é*",
        "Subject: =?x-unknown?q?abc?=",
    ],
)
def test_headers_that_crash_the_default_policy_fall_back_to_raw_values(header: str) -> None:
    msg = parse_message(eml(f"{header}\nFrom: ok@example.org\nSubject: still read"))
    assert isinstance(msg, ParsedMessage)
    if not header.startswith(("From", "Subject")):
        assert msg.from_address == "ok@example.org"
        assert msg.subject == "still read"
    for value in (msg.subject, msg.from_name or "", *msg.to_addresses, msg.text):
        value.encode("utf-8")  # no surrogates leak out


def test_raw_eight_bit_headers_are_decoded_with_fallbacks() -> None:
    raw = b"From: Luc\xeda <l@example.org>\r\nSubject: Re: Actualizaci\xf3n\r\n\r\nx"
    msg = parse_message(raw)
    assert msg.subject == "Re: Actualización"
    assert msg.from_address == "l@example.org"
    utf8 = parse_message("Subject: Re: Acción\r\n\r\nx".encode())
    assert utf8.subject == "Re: Acción"


def test_plain_text_is_preferred_over_html() -> None:
    msg = parse_message(
        multipart(
            "alternative",
            "Content-Type: text/plain; charset=utf-8\r\n\r\nA1 done",
            "Content-Type: text/html; charset=utf-8\r\n\r\n<p>A1 html</p>",
        )
    )
    assert (msg.text, msg.text_from_html, msg.content_type) == (
        "A1 done",
        False,
        "multipart/alternative",
    )


def test_an_empty_plain_part_falls_back_to_html() -> None:
    msg = parse_message(
        multipart(
            "alternative",
            "Content-Type: text/plain\r\n\r\n  \r\n",
            "Content-Type: text/html\r\n\r\n<div>A1 done</div><div>A2 50%</div>",
        )
    )
    assert (msg.text, msg.text_from_html) == ("A1 done\nA2 50%", True)


def test_attachments_and_attached_messages_are_not_the_body() -> None:
    msg = parse_message(
        multipart(
            "mixed",
            "Content-Type: text/plain\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\nA9",
            "Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nA8 done",
            "Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=",
            "Content-Type: text/plain\r\n\r\nA1 done",
        )
    )
    assert msg.text == "A1 done"
    assert msg.original_message_id is None  # only reports carry a returned message


@pytest.mark.parametrize(
    ("charset", "data", "text"),
    [
        ("utf-8", "Lucía “ya” – …".encode("windows-1252"), "Lucía “ya” – …"),
        ("us-ascii", "Lucía".encode(), "Lucía"),
        ("iso-8859-1", "“hecho”".encode("windows-1252"), "“hecho”"),
        ("x-unknown-charset", "Lucía".encode(), "Lucía"),
        ("base64", "Lucía".encode(), "Lucía"),
        ("utf-8", b"\x81\x8d\x8f", "\x81\x8d\x8f"),
        ("utf-16", b"\xff\xfeA\x00", "A"),
    ],
)
def test_charsets_fall_back_without_raising(charset: str, data: bytes, text: str) -> None:
    raw = eml(f"Content-Type: text/plain; charset={charset}\nContent-Transfer-Encoding: 8bit", data)
    assert parse_message(raw).text == text


def test_transfer_encodings_are_decoded_and_broken_base64_survives() -> None:
    qp = eml("Content-Transfer-Encoding: quoted-printable", "A1 hecho =E2=9C=94=\r\n ok")
    assert parse_message(qp).text == "A1 hecho ✔ ok"
    broken = eml("Content-Transfer-Encoding: base64", "QTEgZG9uZQ=!!*")
    assert isinstance(parse_message(broken).text, str)


def test_format_flowed_paragraphs_are_joined() -> None:
    flowed = eml(
        "Content-Type: text/plain; charset=utf-8; format=flowed",
        "A3 blocked: waiting for the \r\nworkbook\r\n\r\n> On Mon, X \r\n> wrote:\r\n> hi\r\n-- \r\nR",
    )
    assert parse_message(flowed).text == (
        "A3 blocked: waiting for the workbook\n\n> On Mon, X wrote:\n> hi\n-- \nR"
    )
    delsp = eml("Content-Type: text/plain; format=flowed; delsp=yes", "wait \r\ning\r\n")
    assert parse_message(delsp).text == "waiting"


def test_nul_and_control_characters_are_dropped() -> None:
    msg = parse_message(eml("Subject: a\x00b", b"A1\x00 done\x07\r\n"))
    assert msg.text == "A1 done"
    assert msg.subject == "ab"


def test_oversized_messages_keep_their_headers_and_say_why() -> None:
    raw = eml("From: big@example.org\nSubject: photos", b"x" * 26_000_000)
    msg = parse_message(raw)
    assert msg.problem == "message is larger than the 25 MB limit"
    assert (msg.from_address, msg.subject, msg.text) == ("big@example.org", "photos", "")
    assert msg.raw_size == len(raw)
    assert parse_message(eml("From: a@b.org", "x" * 200), max_bytes=100).problem == (
        "message is larger than the 0.0001 MB limit"
    )


def test_a_header_alone_is_enough_to_answer_a_message_over_the_limit() -> None:
    header = eml("From: big@example.org\nTo: iep+r1-abc@district.example.org", b"")
    msg = parse_message(header, size=30_000_000)
    assert msg.problem == "message is larger than the 25 MB limit"
    assert (msg.raw_size, msg.from_address) == (30_000_000, "big@example.org")
    assert msg.to_addresses == ("iep+r1-abc@district.example.org",)
    assert parse_message(header, size=len(header)).problem is None


PHOTO = "Content-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n\r\n" + "/9j/" * 5000


def test_the_kept_copy_has_the_text_and_headers_but_no_attachments() -> None:
    raw = multipart(
        "mixed",
        'Content-Type: multipart/alternative; boundary="ALT"\r\n\r\n'
        "--ALT\r\nContent-Type: text/plain\r\n\r\n75%\r\n"
        "--ALT\r\nContent-Type: text/html\r\n\r\n<p>75%</p>\r\n--ALT--",
        PHOTO,
        "Content-Type: application/pdf\r\nContent-Disposition: attachment\r\n\r\n%PDF-1.7",
        "Content-Type: text/plain\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\nA9",
        "Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n"
        'Content-Type: multipart/mixed; boundary="IN"\r\n\r\n'
        f"--IN\r\nContent-Type: text/plain\r\n\r\nA8 done\r\n--IN\r\n{PHOTO}\r\n--IN--",
        extra="\nTo: iep+r1-abc@district.example.org\nMessage-ID: <m1@example.org>",
    )
    msg = parse_message(raw)
    assert msg.text == "75%" and msg.text_only is not None
    kept = msg.text_only
    assert len(kept) < 2_000 < len(raw)
    for gone in (b"/9j/", b"image/jpeg", b"%PDF", b"A9"):
        assert gone not in kept
    assert raw.partition(b"\r\n\r\n")[0] in kept  # the headers, as they came
    again = parse_message(kept)
    assert again == dataclasses.replace(msg, raw_size=len(kept), text_only=None)
    assert b"<p>75%</p>" in kept and b"A8 done" in kept
    assert again.text_only is None  # nothing left to drop


@pytest.mark.parametrize(
    "raw",
    [
        eml("From: a@example.org", "A1 done"),
        multipart(
            "alternative",
            "Content-Type: text/plain\r\n\r\nA1",
            "Content-Type: text/html\r\n\r\n<b>A1</b>",
        ),
    ],
)
def test_a_message_without_attachments_is_kept_as_it_came(raw: bytes) -> None:
    assert parse_message(raw).text_only is None


def test_a_message_that_is_only_a_photo_is_kept_as_its_header() -> None:
    raw = eml("From: a@example.org\nContent-Type: image/jpeg", "/9j/" * 5000)
    kept = parse_message(raw).text_only
    assert kept is not None and b"/9j/" not in kept and b"From: a@example.org" in kept


def test_deeply_nested_multiparts_are_refused_politely() -> None:
    depth = 3_000
    opening = "".join(
        f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(depth)
    )
    closing = "".join(f"--b{i}--\r\n" for i in reversed(range(depth)))
    raw = f"From: deep@example.org\r\n{opening}Content-Type: text/plain\r\n\r\nhi\r\n{closing}"
    msg = parse_message(raw.encode())
    assert msg.problem is not None and "nested" in msg.problem
    assert msg.from_address == "deep@example.org"


def test_moderately_nested_parts_beyond_our_depth_are_skipped() -> None:
    depth = 40
    opening = "".join(
        f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(depth)
    )
    closing = "".join(f"--b{i}--\r\n" for i in reversed(range(depth)))
    msg = parse_message(f"{opening}Content-Type: text/plain\r\n\r\nhi\r\n{closing}".encode())
    assert msg.text == ""
    assert msg.problem is not None and "nested" in msg.problem


@pytest.mark.parametrize(
    "raw", [b"", b"\x00\x00\x00", b"\xff\xfe\xfd", b"::::\r\n\r\n", b"From:\r\n", b"\r\n" * 50]
)
def test_garbage_gives_a_message_not_an_exception(raw: bytes) -> None:
    msg = parse_message(raw)
    assert isinstance(msg, ParsedMessage)
    assert msg.raw_size == len(raw)


def test_delivery_report_parts_are_kept_for_classification() -> None:
    msg = parse_message(
        multipart(
            "report",
            "Content-Type: text/plain\r\n\r\nYour message could not be delivered.",
            "Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
            "Final-Recipient: rfc822; a@b.org\r\nAction: failed\r\nStatus: 5.1.1\r\n",
            "Content-Type: text/rfc822-headers\r\n\r\nMessage-ID: <iep.r1-x.1@d.org>\r\nSubject: s",
            extra="; report-type=delivery-status",
        )
    )
    assert msg.content_type == "multipart/report"
    assert msg.report_type == "delivery-status"
    assert msg.text == "Your message could not be delivered."
    assert msg.delivery_status is not None
    assert "Final-Recipient: rfc822; a@b.org" in msg.delivery_status
    assert msg.original_message_id == "iep.r1-x.1@d.org"


@pytest.mark.parametrize(
    "quote",
    [
        '<div class="gmail_quote"><div class="gmail_attr">On Mon X wrote:</div>'
        "<blockquote>old A1 done</blockquote></div>",
        '<div class="gmail_quote_container"><blockquote class="gmail_quote">old</blockquote></div>',
        '<blockquote type="cite"><div>On Nov 23 X wrote:</div>old</blockquote>',
        '<div class="moz-cite-prefix">On 11/23 X wrote:</div><blockquote type="cite">old</blockquote>',
        '<div class="yahoo_quoted" id="yahoo_quoted_123">old</div>',
        '<div class="protonmail_quote">old</div>',
        '<div id="appendonsend"></div><hr><div id="divRplyFwdMsg"><b>From:</b> X</div><div>old</div>',
        '<hr tabindex="-1"><div id="x_divRplyFwdMsg"><b>From:</b> X</div><p>old</p>',
        '<div><div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0in 0in 0in">'
        "<p><b>From:</b> X<br><b>Sent:</b> Monday</p></div></div><p>old</p>",
        '<div style="border-top:solid #B5C4DF 1.0pt"><p><b>De:</b> X</p></div><p>old</p>',
    ],
)
def test_html_quotes_are_removed_before_conversion(quote: str) -> None:
    html = f"<html><body><div>A1 done</div><div>A2 50%</div>{quote}</body></html>"
    text = html_to_text(html)
    assert "A1 done" in text and "A2 50%" in text
    assert "old" not in text and "wrote" not in text and "From:" not in text


def test_text_after_an_inline_html_quote_is_kept() -> None:
    text = html_to_text(
        '<p>Hi</p><blockquote type="cite">A1 — homework</blockquote>A1 done<p>x</p>'
    )
    assert text.split() == ["Hi", "A1", "done", "x"]


def test_a_border_top_that_is_not_a_reply_header_is_kept() -> None:
    html = '<div>A1 done</div><div style="border-top:1px solid #ccc">Rosa, room 12</div>'
    assert "Rosa, room 12" in html_to_text(html)


def test_html_without_styles_scripts_or_hidden_text() -> None:
    html = (
        "<html><head><title>t</title><style>p{color:red}</style><script>alert(1)</script></head>"
        '<body><span style="display:none">preview text</span><p>A1&nbsp;done &amp; more</p></body>'
    )
    assert html_to_text(html).strip() == "A1 done & more"


@pytest.mark.parametrize(
    "html", ["", "   ", "<", "<?xml version='1.0' encoding='utf-8'?>", "\x00<p>x", "<" * 10_000]
)
def test_odd_html_never_raises(html: str) -> None:
    assert isinstance(html_to_text(html), str)


def test_very_deep_html_falls_back_to_plain_text() -> None:
    html = "<div>" * 5_000 + "A1 done" + "</div>" * 5_000
    assert "A1 done" in html_to_text(html)
