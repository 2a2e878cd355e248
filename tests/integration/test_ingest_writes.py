"""A reply is worked out first and then written: each table once, in a handful of statements."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import event

from iep_followup.domain import ItemStatus
from iep_followup.inbound.outcome import InboundOutcome
from iep_followup.net.smtp import SmtpTransport, parse_smtp_url
from iep_followup.tracker import Tracker
from tests.conftest import Clock, example_with_tasks
from tests.mailclient import reply
from tests.smtp_server import SmtpServer

MEETING = datetime(2026, 11, 16, 21, 0, tzinfo=UTC)
TWO_WEEKS_ON = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)  # every owner is due
_WRITE = re.compile(r'^\s*(INSERT INTO|UPDATE|DELETE FROM)\s+"?(\w+)', re.IGNORECASE)


@pytest.fixture
def asked(
    make_tracker: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer
) -> tuple[Tracker, EmailMessage]:
    """The example meeting, two weeks on: Megan has her update request (one item, a task here:
    "50%" moves it, where on the example's routine it would be the period's "partly")."""
    tracker = make_tracker(smtp_url=smtp_server.url)
    clock.now = MEETING
    tracker.record_meeting(example_with_tasks("pencil-grip"))
    clock.now = TWO_WEEKS_ON
    tracker.request_updates()
    asyncio.run(tracker.deliver(SmtpTransport(parse_smtp_url(smtp_server.url))))
    [request] = [
        r.message
        for r in smtp_server.received
        if r.rcpt_tos[0].startswith("megan.") and r.message["X-IEP-Followup"] == "request"
    ]
    return tracker, request


def _statements(tracker: Tracker, raw: bytes) -> tuple[InboundOutcome, int, list[str]]:
    seen: list[str] = []

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(tracker.database.engine, "before_cursor_execute", on_execute)
    try:
        result = tracker.ingest(raw, via="smtp")
    finally:
        event.remove(tracker.database.engine, "before_cursor_execute", on_execute)
    return result.outcome, result.applied, seen


def test_a_reply_writes_each_table_once(asked: tuple[Tracker, EmailMessage]) -> None:
    tracker, request = asked

    outcome, applied, seen = _statements(tracker, reply(request, "50%\nShe uses the grip."))

    assert (outcome, applied) == (InboundOutcome.APPLIED, 1)
    writes = Counter(
        (m[1].upper(), m[2].lower()) for s in seen if (m := _WRITE.match(s)) is not None
    )
    # Not inserted and then updated: the log row is written once, with its outcome.
    assert writes == {
        ("INSERT INTO", "inbound_message"): 1,
        ("UPDATE", "action_item"): 1,
        ("INSERT INTO", "item_update"): 1,
        ("UPDATE", "update_request"): 1,
        ("INSERT INTO", "outbox_message"): 1,
    }
    assert not [s for s in seen if "SAVEPOINT" in s.upper()]
    # Reads: is it a duplicate; its request with its owner; the request's items.
    reads = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 3, reads
    megan = next(i for i in tracker.items() if i.owner_email.startswith("megan"))
    assert (megan.status, megan.percent) == (ItemStatus.IN_PROGRESS, 50)
    [row] = tracker.inbox()
    assert row.outcome is InboundOutcome.APPLIED


def test_a_reply_that_changes_nothing_writes_no_item(asked: tuple[Tracker, EmailMessage]) -> None:
    tracker, request = asked

    outcome, applied, seen = _statements(tracker, reply(request, "Thanks, talk soon."))

    assert (outcome, applied) == (InboundOutcome.APPLIED, 1)  # kept as the item's note
    tables = {m[2].lower() for s in seen if (m := _WRITE.match(s)) is not None}
    # A note moves no item: its history and the request answered, not its state.
    assert "action_item" not in tables
    assert {"inbound_message", "item_update", "update_request", "outbox_message"} <= tables
