"""Properties of the inbound layer: whatever arrives, nothing raises and the types hold.

Inputs are random bytes, real fixtures cut short or corrupted, header soup, NUL bytes,
invalid UTF-8 and nested multiparts.
"""

from __future__ import annotations

import dataclasses
import os
from datetime import date, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iep_followup.domain import ItemStatus
from iep_followup.inbound.classify import Classification, InboundKind, classify
from iep_followup.inbound.grammar import ItemCommands, ParsedReply, parse_commands
from iep_followup.inbound.html import html_to_text
from iep_followup.inbound.message import ParsedMessage, parse_message
from iep_followup.inbound.trim import Trimmed, trim_reply

FIXTURES = sorted((Path(__file__).resolve().parent.parent / "fixtures" / "replies").glob("*.eml"))
FIXTURE_BYTES = [p.read_bytes() for p in FIXTURES]
TODAY = date(2026, 11, 23)
REFS = ("A1", "A2", "A3")

# IEP_HYPOTHESIS_EXAMPLES=5000 makes a deeper local run; the suite keeps each test short.
EXAMPLES = int(os.environ.get("IEP_HYPOTHESIS_EXAMPLES", "150"))
fast = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Characters that break parsers: MIME syntax, quoting, encoded-word markers, controls.
SOUP = st.sampled_from(
    [
        *"\"<>@,:;()\\.[]=?*'% \t-_/+#",
        *("=?utf-8?q?", "=?x?b?", "?=", "\x00", "\r\n", "\r\n "),
        *"aZé€ñ\u200b\ufeff",
        *("A1", "done", "50%", "multipart/mixed", "boundary="),
    ]
)
HEADER_NAMES = st.sampled_from(
    [
        "From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
        "Return-Path", "Delivered-To", "X-Original-To", "Auto-Submitted", "Precedence",
        "Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "MIME-Version",
        "X-IEP-Followup", "X-Autoreply",
    ]
)  # fmt: skip
CONTENT_TYPES = st.sampled_from(
    [
        "text/plain", "text/html", "text/plain; charset=utf-8", "text/plain; format=flowed",
        "text/html; charset=windows-1252", "text/plain; charset=x-bogus", "message/rfc822",
        "message/delivery-status", "text/rfc822-headers", "application/pdf", "image/png",
    ]
)  # fmt: skip
ENCODINGS = st.sampled_from(["7bit", "8bit", "base64", "quoted-printable", "x-uuencode", ""])
BODY = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.lists(SOUP, max_size=40).map(lambda xs: "".join(xs).encode("utf-8", "surrogatepass")),
)


def _value(parts: list[str]) -> str:
    return "".join(parts)


header_soup = st.lists(
    st.tuples(HEADER_NAMES, st.lists(SOUP, max_size=15).map(_value)), max_size=12
).map(lambda pairs: "".join(f"{k}: {v}\r\n" for k, v in pairs).encode("utf-8", "surrogatepass"))


@st.composite
def mime_tree(draw: st.DrawFn, depth: int = 0) -> bytes:
    if depth >= 4 or draw(st.booleans()):
        kind = draw(CONTENT_TYPES)
        encoding = draw(ENCODINGS)
        head = f"Content-Type: {kind}\r\nContent-Transfer-Encoding: {encoding}\r\n"
        if draw(st.booleans()):
            head += "Content-Disposition: attachment; filename=x.txt\r\n"
        return head.encode() + b"\r\n" + draw(BODY)
    subtype = draw(st.sampled_from(["mixed", "alternative", "related", "report", "digest"]))
    boundary = f"b{depth}{draw(st.integers(0, 99))}"
    children = draw(st.lists(mime_tree(depth + 1), max_size=3))
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + c + b"\r\n" for c in children)
    if draw(st.booleans()):
        body += b"--" + boundary.encode() + b"--\r\n"  # sometimes left unterminated
    extra = "; report-type=delivery-status" if subtype == "report" else ""
    return (
        f'Content-Type: multipart/{subtype}; boundary="{boundary}"{extra}\r\n\r\n'.encode() + body
    )


@st.composite
def mutated_fixture(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(FIXTURE_BYTES)))
    data = data[: draw(st.integers(0, len(data)))]
    for _ in range(draw(st.integers(0, 8))):
        if data:
            data[draw(st.integers(0, len(data) - 1))] = draw(
                st.sampled_from([0, 0x0A, 0x0D, 0x3E, 0x80, 0xC3, 0xFF, 0x3D, 0x2D])
            )
    return bytes(data)


messages = st.one_of(
    st.binary(max_size=3000),
    mutated_fixture(),
    st.tuples(header_soup, BODY).map(lambda hb: hb[0] + b"\r\n" + hb[1]),
    st.tuples(header_soup, mime_tree()).map(lambda hb: b"From: a@b.org\r\n" + hb[0] + hb[1]),
)


def _check_message(msg: ParsedMessage, raw: bytes) -> None:
    assert isinstance(msg, ParsedMessage)
    assert msg.raw_size == len(raw)
    for field in dataclasses.fields(msg):
        value = getattr(msg, field.name)
        values = value if isinstance(value, tuple) else (value,)
        for item in values:
            if isinstance(item, str):
                item.encode("utf-8")  # storable: no lone surrogates
                assert "\x00" not in item
    assert all(isinstance(a, str) and "@" in a for a in msg.to_addresses + msg.delivered_to)
    assert msg.date is None or (isinstance(msg.date, datetime) and msg.date.tzinfo is not None)
    assert isinstance(msg.subject, str) and isinstance(msg.text, str)


def _check_reply(reply: ParsedReply, refs: tuple[str, ...]) -> None:
    assert isinstance(reply, ParsedReply)
    assert set(reply.items) <= set(refs)
    for commands in reply.items.values():
        assert isinstance(commands, ItemCommands)
        assert commands.status is None or isinstance(commands.status, ItemStatus)
        assert commands.percent is None or 0 <= commands.percent <= 100
        assert commands.due_on is None or isinstance(commands.due_on, date)
        if commands.status is ItemStatus.DONE:
            assert commands.percent == 100
        assert any(
            v is not None
            for v in (commands.status, commands.percent, commands.due_on, commands.note)
        )
    assert all(isinstance(n, str) and n.strip() for n in reply.notes)


@fast
@given(messages)
def test_the_whole_pipeline_never_raises(raw: bytes) -> None:
    msg = parse_message(raw)
    _check_message(msg, raw)
    verdict = classify(
        msg, own_addresses=("iep-replies@district.example.org",), own_message_id_domain="d.org"
    )
    assert isinstance(verdict, Classification) and isinstance(verdict.kind, InboundKind)
    assert verdict.reason
    assert (verdict.bounce is not None) == (verdict.kind is InboundKind.BOUNCE)
    trimmed = trim_reply(msg.text)
    assert isinstance(trimmed, Trimmed)
    _check_reply(parse_commands(trimmed.kept, REFS, language="es", today=TODAY), REFS)


@fast
@given(st.binary(max_size=500), st.integers(1, 400))
def test_a_size_limit_is_reported_not_raised(raw: bytes, limit: int) -> None:
    msg = parse_message(raw, max_bytes=limit)
    _check_message(msg, raw)
    assert (msg.problem is not None and "larger" in msg.problem) == (len(raw) > limit)


@fast
@given(messages)
def test_the_kept_copy_without_attachments_reads_as_the_same_reply(raw: bytes) -> None:
    msg = parse_message(raw)
    if msg.text_only is None:
        return
    again = parse_message(msg.text_only)
    assert again.text_only is None  # nothing left to drop
    assert (again.text, again.from_address, again.to_addresses, again.message_id) == (
        msg.text,
        msg.from_address,
        msg.to_addresses,
        msg.message_id,
    )


INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\x00"))
SPACES = dict.fromkeys(map(ord, "\xa0\u202f\u2007\t"), " ")


@fast
@given(
    st.lists(
        st.one_of(
            st.text(max_size=80),
            st.sampled_from(["> quoted", "-- ", "Sent from my iPhone", "On 1/2/26 X wrote:"]),
            st.sampled_from(["—— Write your reply above this line ——", "From: x", "To: y"]),
        ),
        max_size=30,
    ).map("\n".join)
)
def test_trimming_keeps_input_lines_in_order_and_no_quotes(text: str) -> None:
    trimmed = trim_reply(text)
    assert isinstance(trimmed, Trimmed)
    source = text.replace("\r\n", "\n").replace("\r", "\n").translate(INVISIBLE)
    lines = iter(line.translate(SPACES).strip() for line in source.split("\n"))
    for kept in trimmed.kept.split("\n"):
        assert kept == "" or any(kept == line for line in lines)  # a subsequence of the input
        assert not kept.startswith(">")


# What an owner types: no quoting, dashes or colons, so it can never look like a quote header.
OWNER_LINE = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,%!?áéíñóúçãłőü",
    min_size=1,
    max_size=60,
).filter(lambda line: any(c.isalnum() for c in line))
ATTRIBUTIONS = [
    "On Mon, Nov 23, 2026 at 8:01 AM IEP Follow-up <a@b.org> wrote:",
    "El lun, 23 nov 2026 a las 8:01, IEP Follow-up (<\na@b.org>) escribió:",
    "Am 23.11.26 um 08:01 schrieb IEP Follow-up:",
    "W dniu 23.11.2026 o 08:01, IEP Follow-up <a@b.org> napisał(a):",
    "-----Original Message-----\nFrom: IEP\nSent: Monday\nTo: Rosa\nSubject: Hi",
    "Von: IEP\nGesendet: Montag\nAn: Rosa\nBetreff: Hallo",
    "---------- Forwarded message ---------\nFrom: IEP <a@b.org>\nDate: Mon\nTo: Rosa",
    "",
]
QUOTE = "> Hello Rosa,\n>\n> A1 — Homework\n> —— Write your reply above this line ——\n>     A1 done"
HEADER_LABELS = ["From: x", "To: y", "Subject: z", "Von: x", "An: y", "Betreff: z"]
FOOTERS = ["", "Sent from my iPhone", "Von meinem iPhone gesendet", "Thanks,\nRosa", "-- \nRosa"]


@fast
@given(
    st.lists(OWNER_LINE, min_size=1, max_size=6),
    st.sampled_from(ATTRIBUTIONS),
    st.sampled_from(["top", "bottom", "inline"]),
    st.sampled_from(FOOTERS),
)
def test_trimming_never_empties_a_reply_with_unquoted_text(
    owner: list[str], attribution: str, layout: str, footer: str
) -> None:
    quote = f"{attribution}\n\n{QUOTE}".strip()
    if layout == "top":
        text = "\n".join(owner) + f"\n\n{footer}\n\n{quote}"
    elif layout == "bottom":
        text = f"{quote}\n\n" + "\n".join(owner) + f"\n\n{footer}"
    else:
        text = f"{quote}\n" + "\n> more quoted\n".join(owner) + "\n> the end"
    trimmed = trim_reply(text)
    assert trimmed.kept
    kept = trimmed.kept.split("\n")
    written = iter(line.strip() for line in owner)
    assert all(line == "" or line in written for line in kept)  # only the owner's lines


@fast
@given(
    st.lists(
        st.one_of(
            OWNER_LINE,
            st.sampled_from(["> quoted", "", "-- ", "Sent from my iPhone", "On 1/2/26 X wrote:"]),
            st.sampled_from(HEADER_LABELS),
            st.sampled_from(["-----Original Message-----", "Thanks,", "Rosa"]),
        ),
        max_size=30,
    )
)
def test_trimming_keeps_text_or_says_it_could_not_tell(lines: list[str]) -> None:
    trimmed = trim_reply("\n".join(lines))
    has_text = any(line not in ("", "-- ", "> quoted") for line in lines)
    assert trimmed.kept or trimmed.unclear or not has_text or _only_structure(lines)


def _only_structure(lines: list[str]) -> bool:
    """Every line is a quote, a footer, a header label, or sits under a "-- " signature."""
    structure = {
        "",
        "> quoted",
        "Sent from my iPhone",
        "On 1/2/26 X wrote:",
        "-----Original Message-----",
        *HEADER_LABELS,
    }
    below_dashes = lines[lines.index("-- ") :] if "-- " in lines else []
    return all(line in structure or line in below_dashes for line in lines)


@fast
@given(
    st.lists(
        st.one_of(st.text(max_size=60), st.lists(SOUP, max_size=20).map(_value)), max_size=20
    ).map("\n".join),
    st.lists(st.sampled_from(["A1", "A2", "a3", "B1", "1", "", "A-4"]), max_size=4).map(tuple),
    st.sampled_from(["en", "es", "fr", ""]),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
)
def test_parsing_any_text_never_raises(
    text: str, refs: tuple[str, ...], language: str, today: date
) -> None:
    _check_reply(parse_commands(text, refs, language=language, today=today), refs)


@fast
@given(
    st.sampled_from(REFS),
    st.integers(0, 100),
    st.sampled_from(
        ["{ref} {n}%", "- {ref}: {n} %", "{ref} al {n} por ciento", "{ref} {n} percent"]
    ),
)
def test_any_percentage_reads_back(ref: str, n: int, form: str) -> None:
    reply = parse_commands(form.format(ref=ref, n=n), REFS, language="en", today=TODAY)
    expected = ItemCommands(ItemStatus.DONE, 100) if n == 100 else ItemCommands(percent=n)
    assert reply.items == {ref: expected}


@fast
@given(
    st.dates(min_value=TODAY, max_value=TODAY + timedelta(days=3000)),
    st.sampled_from(["en", "es"]),
    st.sampled_from(["iso", "numeric", "name"]),
)
def test_any_future_date_reads_back(day: date, language: str, form: str) -> None:
    if form == "iso":
        text = day.isoformat()
    elif form == "numeric":
        first, second = (day.day, day.month) if language == "es" else (day.month, day.day)
        text = f"{first}/{second}/{day.year}"
    else:
        months = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto"]
        months += ["septiembre", "octubre", "noviembre", "diciembre"]
        text = f"{day.day} de {months[day.month - 1]} de {day.year}"
    keyword = "nueva fecha" if language == "es" else "new date"
    reply = parse_commands(f"A2 {keyword} {text}", REFS, language=language, today=TODAY)
    assert reply.items == {"A2": ItemCommands(due_on=day)}


@fast
@given(st.text(max_size=3000))
def test_any_html_converts_without_raising(html: str) -> None:
    assert isinstance(html_to_text(html), str)
