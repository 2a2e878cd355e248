"""The whole ingest path, on SQLite and PostgreSQL: any bytes in, one recorded outcome out.

Nothing raises, every message is logged exactly once, and nothing is half-written: a message
that is not applied leaves every item and its history as they were.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from iep_followup.inbound.outcome import InboundOutcome
from iep_followup.mail.kinds import MailKind
from iep_followup.meetingfile import load_meeting_file
from iep_followup.net.smtp import SmtpTransport, parse_smtp_url
from iep_followup.tracker import Tracker
from tests.conftest import EXAMPLE, Clock
from tests.mailclient import delivery_report, reply
from tests.smtp_server import SmtpServer
from tests.unit.test_inbound_properties import SOUP, messages

EXAMPLES = int(os.environ.get("IEP_HYPOTHESIS_EXAMPLES", "60"))


@pytest.fixture
def asked(
    make_tracker: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer
) -> tuple[Tracker, list[EmailMessage]]:
    clock.now = datetime(2026, 11, 16, 21, 0, tzinfo=UTC)
    tracker = make_tracker(smtp_url=smtp_server.url)
    tracker.record_meeting(load_meeting_file(EXAMPLE))
    clock.now = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)
    tracker.request_updates()
    asyncio.run(tracker.deliver(SmtpTransport(parse_smtp_url(smtp_server.url))))
    clock.now += timedelta(hours=3)
    return tracker, [
        r.message for r in smtp_server.received if r.message["X-IEP-Followup"] == "request"
    ]


def _state(tracker: Tracker) -> tuple[object, ...]:
    items = tracker.items()
    return tuple((i.id, i.status, i.percent, i.due_on, len(tracker.history(i.id))) for i in items)


@st.composite
def inbound(draw: st.DrawFn, sent: list[EmailMessage]) -> bytes:
    """Random bytes and header soup, or replies and bounces built from mail we really sent."""
    original = draw(st.sampled_from(sent))
    text = "".join(draw(st.lists(SOUP, max_size=30)))
    sender = draw(st.sampled_from([None, "someone@else.example.org", "x" * 400 + "@a.org"]))
    message_id = f"<p{draw(st.integers(0, 10**9))}@mail.example.com>"  # repeats test dedupe
    choice = draw(st.integers(0, 3))
    if choice == 0:
        return draw(messages)
    if choice == 1:
        return reply(
            original,
            text or "done",
            sender=sender,
            message_id=message_id,
            style=draw(st.sampled_from(["gmail", "outlook"])),
        )
    if choice == 2:
        raw = bytearray(reply(original, text or "50%", message_id=message_id))
        for _ in range(draw(st.integers(1, 6))):
            raw[draw(st.integers(0, len(raw) - 1))] = draw(st.sampled_from([0, 10, 13, 0x80, 0xFF]))
        return bytes(raw)
    return delivery_report(
        draw(
            st.sampled_from(["iep-replies@localhost", "iep-replies+b-1-" + "a" * 20 + "@localhost"])
        ),
        original["To"].addresses[0].addr_spec,
        returned_message_id=draw(st.sampled_from([None, original["Message-ID"]])),
        message_id=message_id,
    )


def test_any_message_is_recorded_once_and_nothing_is_half_written(
    asked: tuple[Tracker, list[EmailMessage]],
) -> None:
    tracker, sent = asked

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(inbound(sent))
    def check(raw: bytes) -> None:
        before_rows = len(tracker.inbox())
        before = _state(tracker)
        before_mail = {m.id: m.kind for m in tracker.outbox()}
        result = tracker.ingest(raw)  # never raises
        event("duplicate" if result.duplicate else result.outcome.value)
        rows = tracker.inbox()
        if result.duplicate:
            assert len(rows) == before_rows
            assert _state(tracker) == before
            return
        assert len(rows) == before_rows + 1
        [row] = [r for r in rows if r.id == result.inbound_id]
        assert (row.outcome, row.reason) == (result.outcome, result.reason)
        new_mail = [
            k for i, k in {m.id: m.kind for m in tracker.outbox()}.items() if i not in before_mail
        ]
        if result.outcome is InboundOutcome.APPLIED:
            assert new_mail == [MailKind.CONFIRMATION]
        else:
            assert _state(tracker) == before
            assert set(new_mail) <= {MailKind.NOTICE}

    check()
