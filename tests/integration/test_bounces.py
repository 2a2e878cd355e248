"""Bounces count only when they prove they answer our mail; a failing address can be cleared."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from iep_followup.addresses import AddressEventKind
from iep_followup.inbound.outcome import InboundOutcome
from iep_followup.mail.kinds import MailKind
from iep_followup.meetingfile import load_meeting_file
from iep_followup.net.smtp import SmtpTransport, parse_smtp_url
from iep_followup.tracker import Tracker
from tests.conftest import EXAMPLE, Clock
from tests.mailclient import delivery_report, reply
from tests.smtp_server import Received, SmtpServer

MEETING = datetime(2026, 11, 16, 21, 0, tzinfo=UTC)
TWO_WEEKS_ON = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)  # a Monday morning: everyone is due
TOM = "tom.okafor@lincoln.example.org"


def _deliver(tracker: Tracker, server: SmtpServer) -> list[Received]:
    server.received.clear()
    asyncio.run(tracker.deliver(SmtpTransport(parse_smtp_url(server.url))))
    return list(server.received)


def _sent_to(received: list[Received], address: str) -> Received:
    return next(r for r in received if r.rcpt_tos == [address])


@pytest.fixture
def summaries_sent(
    make_tracker: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer
) -> tuple[Tracker, list[Received]]:
    """The example meeting recorded and its summaries delivered to a real SMTP server."""
    clock.now = MEETING
    tracker = make_tracker(smtp_url=smtp_server.url)
    tracker.record_meeting(load_meeting_file(EXAMPLE))
    received = _deliver(tracker, smtp_server)
    clock.now = MEETING + timedelta(hours=1)
    return tracker, received


def _is_asked(tracker: Tracker, clock: Clock, email: str) -> bool:
    clock.now = TWO_WEEKS_ON
    lines = tracker.request_updates(dry_run=True).lines
    return next(line for line in lines if line.email == email).action == "ask"


def test_every_message_goes_out_with_its_own_signed_bounce_address(
    summaries_sent: tuple[Tracker, list[Received]],
) -> None:
    _, received = summaries_sent
    senders = [r.mail_from for r in received]
    assert len(received) == 8 and len(set(senders)) == 8
    assert all(s.startswith("iep-replies+b-") and s.endswith("@localhost") for s in senders)


def test_a_forged_bounce_to_the_reply_address_changes_nobody(
    summaries_sent: tuple[Tracker, list[Received]], clock: Clock
) -> None:
    tracker, _ = summaries_sent
    result = tracker.ingest(delivery_report("iep-replies@localhost", TOM))
    assert result.outcome is InboundOutcome.IGNORED
    assert "changes nobody" in result.reason
    assert tracker.failing_addresses() == []
    assert tracker.address_history(TOM) == []
    assert _is_asked(tracker, clock, TOM)


def test_a_forged_bounce_with_a_made_up_bounce_address_changes_nobody(
    summaries_sent: tuple[Tracker, list[Received]],
) -> None:
    tracker, received = summaries_sent
    real = _sent_to(received, TOM).mail_from
    local, _, domain = real.partition("@")
    outbox_id = local.split("+b-")[1].split("-")[0]
    for forged in (
        f"iep-replies+b-{outbox_id}-{'a' * 20}@{domain}",  # a guessed signature
        real.replace(f"-{outbox_id}-", f"-{int(outbox_id) + 1}-"),  # another message's id
    ):
        result = tracker.ingest(delivery_report(forged, TOM))
        assert "not one we signed" in result.reason
    assert tracker.failing_addresses() == []


def test_a_bounce_quoting_someone_elses_message_changes_nobody(
    summaries_sent: tuple[Tracker, list[Received]],
) -> None:
    tracker, received = summaries_sent
    # Rosa received her summary, so she knows its Message-ID; it was not sent to Tom.
    rosa_message_id = _sent_to(received, "rosa.herrera@example.com").message["Message-ID"]
    result = tracker.ingest(
        delivery_report("iep-replies@localhost", TOM, returned_message_id=rosa_message_id)
    )
    assert "changes nobody" in result.reason
    assert tracker.failing_addresses() == []


def test_a_bounce_to_the_signed_address_marks_the_recipient_failing_until_they_reply(
    summaries_sent: tuple[Tracker, list[Received]], clock: Clock, smtp_server: SmtpServer
) -> None:
    tracker, received = summaries_sent
    result = tracker.ingest(delivery_report(_sent_to(received, TOM).mail_from, TOM))
    assert result.outcome is InboundOutcome.IGNORED
    assert result.reason.endswith("address marked failing")
    assert [f.email for f in tracker.failing_addresses()] == [TOM]
    assert not _is_asked(tracker, clock, TOM)

    # Re-importing the meeting does not hide the problem.
    tracker.record_meeting(load_meeting_file(EXAMPLE))
    assert [f.email for f in tracker.failing_addresses()] == [TOM]

    # Tom's own reply to an earlier request, with its key, shows the address works.
    tracker.clear_failing(TOM)
    assert _is_asked(tracker, clock, TOM)
    assert tracker.request_updates().asked == 4
    request = _sent_to(_deliver(tracker, smtp_server), TOM).message
    tracker.ingest(delivery_report(_sent_to(received, TOM).mail_from, TOM))
    assert tracker.failing_addresses() != []
    clock.now = TWO_WEEKS_ON + timedelta(hours=2)
    assert tracker.ingest(reply(request, "A1 50%")).outcome is InboundOutcome.APPLIED
    assert tracker.failing_addresses() == []
    kinds = [(e.kind, e.source) for e in tracker.address_history(TOM)]
    assert kinds == [
        (AddressEventKind.FAILING, "bounce"),
        (AddressEventKind.CLEARED, "api"),
        (AddressEventKind.FAILING, "bounce"),
        (AddressEventKind.CLEARED, "reply"),
    ]


def test_a_bounce_to_the_from_address_counts_when_it_quotes_our_message_to_that_recipient(
    summaries_sent: tuple[Tracker, list[Received]],
) -> None:
    tracker, received = summaries_sent
    message_id = _sent_to(received, TOM).message["Message-ID"]
    result = tracker.ingest(
        delivery_report("iep-followup@localhost", TOM.upper(), returned_message_id=message_id)
    )
    assert result.reason.endswith("address marked failing")
    assert [f.email for f in tracker.failing_addresses()] == [TOM]


def test_a_soft_bounce_is_counted_not_failed(
    summaries_sent: tuple[Tracker, list[Received]],
) -> None:
    tracker, received = summaries_sent
    result = tracker.ingest(delivery_report(_sent_to(received, TOM).mail_from, TOM, status="4.2.2"))
    assert result.reason.endswith("counted as a soft bounce")
    assert tracker.failing_addresses() == []
    assert [e.kind for e in tracker.address_history(TOM)] == [AddressEventKind.SOFT_BOUNCE]


def test_a_later_delivery_clears_a_failing_address(
    summaries_sent: tuple[Tracker, list[Received]], clock: Clock, smtp_server: SmtpServer
) -> None:
    tracker, received = summaries_sent
    dana = "dana.whitfield@lincoln.example.org"
    tracker.ingest(delivery_report(_sent_to(received, dana).mail_from, dana))
    assert [f.email for f in tracker.failing_addresses()] == [dana]
    # Dana's digest (she is the case manager) is accepted by the server: her address works.
    clock.now = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
    assert tracker.digests().queued == 1
    digest = _sent_to(_deliver(tracker, smtp_server), dana)
    assert digest.message["Subject"]
    assert tracker.failing_addresses() == []
    assert [(e.kind, e.source) for e in tracker.address_history(dana)][-1] == (
        AddressEventKind.CLEARED,
        "delivery",
    )
    assert next(m.kind for m in tracker.outbox() if m.to_address == dana) is MailKind.DIGEST
