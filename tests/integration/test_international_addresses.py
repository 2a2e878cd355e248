"""Internationalized addresses, delivered to a real aiosmtpd with and without SMTPUTF8 and
answered from either form of the address, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from iep_followup.domain import PeriodOutcome
from iep_followup.errors import DeliveryError
from iep_followup.inbound.outcome import InboundOutcome
from iep_followup.mail.kinds import OutboxStatus
from iep_followup.meetingfile import load_meeting_file
from iep_followup.net.smtp import SmtpTransport, parse_smtp_url
from iep_followup.tracker import Tracker
from tests.conftest import EXAMPLE, Clock
from tests.mailclient import delivery_report, reply
from tests.smtp_server import Received, SmtpServer

MEETING = datetime(2026, 11, 16, 21, 0, tzinfo=UTC)
TWO_WEEKS_ON = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)  # Monday 08:30 in Chicago
# The occupational therapist in the example meeting; she owns one item.
REPLACED = "megan.torres@lincoln.example.org"
IDN = "luis@jefférson.example.org"
IDN_A_LABELS = "luis@xn--jeffrson-e1a.example.org"
NON_ASCII_LOCAL = "josé@example.org"


@pytest.fixture
def server_without_smtputf8() -> Iterator[SmtpServer]:
    server = SmtpServer(smtputf8=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def district(
    make_tracker: Callable[..., Tracker], clock: Clock, tmp_path: Path
) -> Callable[..., Tracker]:
    """A tracker (with these settings) holding the example meeting, just after it ended,
    its occupational therapist renamed and given an address."""

    def make(address: str, name: str, **settings: Any) -> Tracker:
        clock.now = MEETING
        tracker = make_tracker(**settings)
        text = EXAMPLE.read_text(encoding="utf-8").replace(REPLACED, address)
        path = tmp_path / "meeting.yaml"
        path.write_text(text.replace("Megan Torres", name), encoding="utf-8")
        tracker.record_meeting(load_meeting_file(path))
        return tracker

    return make


def _deliver(tracker: Tracker, server: SmtpServer) -> tuple[int, int, int]:
    report = asyncio.run(tracker.deliver(SmtpTransport(parse_smtp_url(server.url))))
    return report.sent, report.retried, report.failed


def _received_by(server: SmtpServer, recipient: str) -> Received:
    [received] = [r for r in server.received if r.rcpt_tos == [recipient]]
    return received


def _to_header(raw: bytes) -> str:
    """The To header as written, unfolded and undecoded."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("utf-8")
    [to] = [h[4:] for h in head.replace("\r\n ", " ").split("\r\n") if h.startswith("To: ")]
    return to


def test_an_idn_domain_goes_out_as_a_labels_and_the_mail_behind_it_too(
    district: Callable[..., Tracker], smtp_server: SmtpServer
) -> None:
    tracker = district(IDN, "Luis Jefferson", smtp_url=smtp_server.url)

    assert _deliver(tracker, smtp_server) == (8, 0, 0)
    luis = _received_by(smtp_server, IDN_A_LABELS)
    assert not luis.smtputf8  # nothing in it needs SMTPUTF8
    assert luis.data.isascii()
    [to] = luis.message["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Luis Jefferson", IDN_A_LABELS)
    assert "=?" not in _to_header(luis.data)
    # Queued ahead of ASCII mail, it no longer holds that mail back: all went in one pass.
    rows = tracker.outbox()
    luis_row = next(m for m in rows if m.to_address == IDN)
    assert any(m.id > luis_row.id for m in rows)
    assert {m.status for m in rows} == {OutboxStatus.SENT}


def test_a_non_ascii_local_part_goes_with_smtputf8_when_the_server_offers_it(
    district: Callable[..., Tracker], smtp_server: SmtpServer
) -> None:
    tracker = district(NON_ASCII_LOCAL, "José Ruiz", smtp_url=smtp_server.url)

    assert _deliver(tracker, smtp_server) == (8, 0, 0)
    jose = _received_by(smtp_server, NON_ASCII_LOCAL)
    assert jose.smtputf8
    [to] = jose.message["To"].addresses
    assert (to.display_name, to.addr_spec) == ("José Ruiz", NON_ASCII_LOCAL)
    # Everyone else's mail stays plain ASCII.
    assert all(not r.smtputf8 and r.data.isascii() for r in smtp_server.received if r is not jose)


def test_without_smtputf8_only_that_message_fails_and_says_why(
    district: Callable[..., Tracker], clock: Clock, server_without_smtputf8: SmtpServer
) -> None:
    server = server_without_smtputf8
    tracker = district(NON_ASCII_LOCAL, "José Ruiz", smtp_url=server.url)

    assert _deliver(tracker, server) == (7, 0, 1)
    assert len(server.received) == 7
    [failed] = tracker.outbox(failed_only=True)
    assert failed.to_address == NON_ASCII_LOCAL
    assert failed.last_error is not None
    assert "non-ASCII characters before the @" in failed.last_error
    assert "does not support SMTPUTF8" in failed.last_error
    # The server never refused the address, so it is not marked failing (which would stop
    # his update requests until someone cleared it by hand).
    assert tracker.failing_addresses() == []
    clock.now += timedelta(hours=1)
    assert _deliver(tracker, server) == (0, 0, 0)  # nothing left behind in "sending"


@pytest.mark.parametrize(
    ("address", "header_address"),
    [(IDN, IDN_A_LABELS), (NON_ASCII_LOCAL, NON_ASCII_LOCAL)],
    ids=["idn-domain", "non-ascii-local-part"],
)
def test_the_eml_file_carries_a_deliverable_address(
    district: Callable[..., Tracker],
    tmp_path: Path,
    address: str,
    header_address: str,
) -> None:
    tracker = district(address, "Luis Jefferson", mail_dir=tmp_path / "mail")

    assert asyncio.run(tracker.deliver()).sent == 8
    headers = {path: _to_header(path.read_bytes()) for path in (tmp_path / "mail").glob("*.eml")}
    [to] = [h for h in headers.values() if "Luis" in h]
    # An address cannot be an RFC 2047 encoded word: it is written as mail servers take it.
    assert "=?" not in to
    assert to == f"Luis Jefferson <{header_address}>"


async def test_an_address_that_cannot_be_encoded_fails_that_message_and_not_the_next(
    smtp_server: SmtpServer,
) -> None:
    # Text no stored address can hold (a lone surrogate, as a broken decoder leaves): the
    # client only finds out halfway through the SMTP transaction, after MAIL FROM.
    broken = "jos\udce9@example.org"
    async with SmtpTransport(parse_smtp_url(smtp_server.url)) as transport:
        with pytest.raises(DeliveryError) as info:
            await transport.send(
                "iep@district.example.org", broken, b"Subject: 1\r\n\r\nx\r\n", "<1@d>"
            )
        assert info.value.permanent and not info.value.address_failing
        assert "cannot send to" in str(info.value)
        await transport.send(
            "iep@district.example.org", "rosa@example.com", b"Subject: 2\r\n\r\nx\r\n", "<2@d>"
        )
    assert [r.rcpt_tos for r in smtp_server.received] == [["rosa@example.com"]]


@pytest.fixture
def asked_luis(
    district: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer
) -> tuple[Tracker, EmailMessage]:
    """Luis (IDN domain) owns an item and has received his request."""
    tracker = district(IDN, "Luis Jefferson", smtp_url=smtp_server.url)
    _deliver(tracker, smtp_server)
    smtp_server.received.clear()
    clock.now = TWO_WEEKS_ON
    assert tracker.request_updates().asked == 4
    _deliver(tracker, smtp_server)
    request = _received_by(smtp_server, IDN_A_LABELS).message
    clock.now = TWO_WEEKS_ON + timedelta(hours=3)
    return tracker, request


def test_replies_from_either_form_of_the_address_are_the_same_person(
    asked_luis: tuple[Tracker, EmailMessage],
) -> None:
    tracker, request = asked_luis

    def grip() -> list[tuple[PeriodOutcome | None, int | None]]:
        """His item (pencil grip, a routine): each answer recorded for the period, in order."""
        item = next(i for i in tracker.items() if i.owner_email == IDN)
        return [(u.period, u.minutes) for u in tracker.history(item.id) if u.period]

    # His mail client answers from the address the request went to: the A-label form.
    a_labels = tracker.ingest(reply(request, "partly, 20 min"))
    assert a_labels.outcome is InboundOutcome.APPLIED, a_labels.reason
    assert grip() == [(PeriodOutcome.PARTLY, 20)]
    # Another client (or device) writes his address in Unicode, and in capitals.
    unicode_form = tracker.ingest(
        reply(request, "yes, 30 min", sender="Luis Jefferson <Luis@JEFFÉRSON.example.org>")
    )
    assert unicode_form.outcome is InboundOutcome.APPLIED, unicode_form.reason
    assert grip() == [(PeriodOutcome.PARTLY, 20), (PeriodOutcome.HAPPENED, 30)]
    assert tracker.inbox(held_only=True) == []


def test_a_bounce_naming_the_a_label_form_counts_against_the_person(
    district: Callable[..., Tracker], smtp_server: SmtpServer
) -> None:
    tracker = district(IDN, "Luis Jefferson", smtp_url=smtp_server.url)
    _deliver(tracker, smtp_server)
    message_id = _received_by(smtp_server, IDN_A_LABELS).message["Message-ID"]
    # A server that bounces to the header From names the recipient as our envelope had it.
    bounce = delivery_report("iep-followup@localhost", IDN_A_LABELS, returned_message_id=message_id)
    result = tracker.ingest(bounce)
    assert result.reason.endswith("address marked failing"), result.reason
    assert [f.email for f in tracker.failing_addresses()] == [IDN]
