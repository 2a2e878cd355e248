"""Address and decoded fields are cut, and MIME fields too long refused, before they are
parsed, so no header can stall ingestion.

The standard library's address parser takes time that grows with the square of a field
(issue 26: 80,000 addresses in a To: took 80 s). These tests count the work instead of timing
it: what reaches the parser is bounded, whatever the field's size.
"""

from __future__ import annotations

import pytest

from iep_followup.inbound import message
from iep_followup.inbound.message import (
    MAX_ADDRESS_CHARS,
    MAX_ADDRESSES,
    MAX_DECODED_CHARS,
    MAX_MIME_FIELD_CHARS,
    first_addresses,
    parse_message,
)

CROWD = 80_000
KEY_ADDRESS = "iep-replies+r12-abcdefghijklmnopqrstuvwxyz@district.example.org"


@pytest.fixture
def parsed_text(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text handed to the address parser, in order (the parser still runs)."""
    seen: list[str] = []
    parse = message._addresses

    def counting(value: str) -> list[tuple[str, str]]:
        seen.append(value)
        return parse(value)

    monkeypatch.setattr(message, "_addresses", counting)
    return seen


def _mail(headers: str) -> bytes:
    return f"{headers}Subject: hi\r\nMessage-ID: <m@x.org>\r\n\r\nA1 done\r\n".encode()


def _crowd(n: int = CROWD, sep: str = ",\r\n ") -> str:
    return sep.join(f"parent{i}@lists.example.net" for i in range(n))


def test_a_to_of_80000_addresses_is_cut_to_the_first_ones_before_it_is_parsed(
    parsed_text: list[str],
) -> None:
    parsed = parse_message(_mail(f"From: a@b.org\r\nTo: {KEY_ADDRESS}, {_crowd()}\r\n"))
    assert parsed.problem is None
    assert len(parsed.to_addresses) == MAX_ADDRESSES
    assert parsed.to_addresses[:2] == (KEY_ADDRESS, "parent0@lists.example.net")
    assert parsed.addresses_cut
    # One call for From, one for To: the crowd never reached the parser.
    assert len(parsed_text) == 2
    assert sum(len(text) for text in parsed_text) <= 2 * MAX_ADDRESS_CHARS


def test_80000_to_fields_are_read_only_up_to_the_cap(parsed_text: list[str]) -> None:
    fields = "".join(f"To: parent{i}@lists.example.net\r\n" for i in range(CROWD))
    parsed = parse_message(_mail(f"From: a@b.org\r\n{fields}"))
    assert len(parsed.to_addresses) == MAX_ADDRESSES
    assert parsed.addresses_cut
    assert len(parsed_text) == 1 + MAX_ADDRESSES  # From, then one call per field read


def test_a_from_of_many_mailboxes_is_counted_up_to_the_cap(parsed_text: list[str]) -> None:
    parsed = parse_message(_mail(f"From: Ann <ann@b.org>, {_crowd()}\r\nTo: x@y.org\r\n"))
    assert (parsed.from_address, parsed.from_count) == ("ann@b.org", MAX_ADDRESSES)
    assert sum(len(text) for text in parsed_text) <= 2 * MAX_ADDRESS_CHARS


def test_an_address_field_without_commas_is_cut_at_the_character_limit(
    parsed_text: list[str],
) -> None:
    parsed = parse_message(_mail(f"From: a@b.org\r\nTo: {'x' * 2_000_000}@y.org\r\n"))
    assert parsed.to_addresses == ()
    assert parsed.addresses_cut
    assert max(len(text) for text in parsed_text) <= MAX_ADDRESS_CHARS


def test_a_subject_of_encoded_words_is_cut_before_it_is_decoded() -> None:
    subject = " ".join("=?utf-8?q?caf=C3=A9?=" for _ in range(CROWD))
    parsed = parse_message(_mail(f"From: a@b.org\r\nTo: x@y.org\r\nSubject: {subject}\r\n"))
    assert parsed.subject.startswith("cafécafé")
    assert len(parsed.subject) <= MAX_DECODED_CHARS


def test_a_reply_with_a_few_recipients_is_read_whole() -> None:
    parsed = parse_message(
        _mail(
            'From: "Liu, Karen" <Karen@x.org>\r\nSender: karen@x.org\r\n'
            'Reply-To: Karen <karen@x.org>\r\nTo: r@y.org, "Doe, Jane (home)" <j@y.org>\r\n'
            "Cc: (the team, all) team@y.org\r\n"
        )
    )
    assert (parsed.from_address, parsed.from_name, parsed.from_count) == (
        "karen@x.org",
        "Liu, Karen",
        1,
    )
    assert (parsed.sender_address, parsed.reply_to) == ("karen@x.org", ("karen@x.org",))
    assert parsed.to_addresses == ("r@y.org", "j@y.org", "team@y.org")
    assert not parsed.addresses_cut


@pytest.mark.parametrize(
    ("value", "count", "expected"),
    [
        ("a@x, b@x, c@x", 2, ("a@x, b@x", True)),
        ("a@x, b@x", 2, ("a@x, b@x", False)),
        ("a@x, b@x, ", 2, ("a@x, b@x", False)),  # a trailing comma leaves nothing out
        ('"Doe, Jane" <j@x>, b@x', 1, ('"Doe, Jane" <j@x>', True)),
        ('"say \\"hi, there\\"" <j@x>, b@x', 1, ('"say \\"hi, there\\"" <j@x>', True)),
        ("(a, b) j@x, b@x", 1, ("(a, b) j@x", True)),
        ('"never closed, a@x, b@x', 1, ('"never closed, a@x, b@x', False)),
    ],
)
def test_first_addresses_cuts_only_between_addresses(
    value: str, count: int, expected: tuple[str, bool]
) -> None:
    assert first_addresses(value, count) == expected


def test_first_addresses_keeps_only_whole_addresses_at_the_character_limit() -> None:
    value = _crowd(5_000, ", ")
    head, cut = first_addresses(value, 10_000)
    assert cut and len(head) <= MAX_ADDRESS_CHARS
    assert head.endswith(".example.net")  # the last address read is whole
    assert value.startswith(head + ",")


def _params(n: int = CROWD) -> str:
    return ";\r\n ".join(f"p{i}=v" for i in range(n))


@pytest.mark.parametrize(
    "mail",
    [
        # The stdlib reads a multipart's boundary from this field while it parses.
        f"Content-Type: multipart/mixed; boundary=b;\r\n {_params()}\r\n\r\n--b--\r\n",
        # ... and the charset of a part.
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
        f"Content-Type: text/plain; {_params()}\r\n\r\nA1 done\r\n--b--\r\n",
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: image/jpeg\r\n"
        f"Content-Disposition: attachment; {_params()}\r\n\r\nxx\r\n--b--\r\n",
    ],
)
def test_a_mime_field_too_long_to_parse_is_refused_before_the_message_is_parsed(
    mail: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed_bytes: list[int] = []
    parse = message._parse

    def counting(data: bytes) -> object:
        parsed_bytes.append(len(data))
        return parse(data)

    monkeypatch.setattr(message, "_parse", counting)
    raw = f"From: Ann <ann@b.org>\r\nTo: x@y.org\r\nMessage-ID: <m@x.org>\r\n{mail}".encode()
    parsed = parse_message(raw)
    assert parsed.problem == "a Content-Type or Content-Disposition field is too long to read"
    assert (parsed.from_address, parsed.message_id) == ("ann@b.org", "m@x.org")
    # Only the header block, without the long field, was given to the parser.
    assert parsed_bytes and max(parsed_bytes) < 1_000
    assert len(raw) > MAX_MIME_FIELD_CHARS * 100


def test_an_ordinary_mime_field_is_read_as_before() -> None:
    name = "Informe de progreso del primer trimestre, Lucía Herrera, 2026.pdf" * 3
    raw = (
        "From: a@b.org\r\nTo: x@y.org\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        "--b\r\nContent-Type: text/plain; charset=utf-8; format=flowed\r\n\r\nA1 done\r\n"
        f'--b\r\nContent-Type: application/pdf; name="{name}"\r\n'
        f'Content-Disposition: attachment; filename="{name}"\r\n\r\nxx\r\n--b--\r\n'
    ).encode()
    parsed = parse_message(raw)
    assert (parsed.problem, parsed.text) == (None, "A1 done")
