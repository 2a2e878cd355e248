"""A reply to an item that is done or dropped changes nothing and says so kindly (issue 26);
the case manager can still reopen it. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest

from iep_followup.domain import ItemStatus, UpdateInput, UpdateSource
from iep_followup.inbound.outcome import InboundOutcome
from iep_followup.mail.kinds import MailKind
from iep_followup.net.smtp import SmtpTransport, parse_smtp_url
from iep_followup.tracker import Tracker
from iep_followup.views import ItemView
from tests.conftest import Clock, example_with_tasks
from tests.mailclient import reply
from tests.smtp_server import SmtpServer

MEETING = datetime(2026, 11, 16, 21, 0, tzinfo=UTC)
TWO_WEEKS_ON = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)  # Monday 08:30 in Chicago
REPLY_TIME = TWO_WEEKS_ON + timedelta(hours=3)
CASE_MANAGER = "dana.whitfield@lincoln.example.org"


def _deliver(tracker: Tracker, server: SmtpServer) -> None:
    asyncio.run(tracker.deliver(SmtpTransport(parse_smtp_url(server.url))))


@pytest.fixture
def asked(
    make_tracker: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer
) -> tuple[Tracker, dict[str, EmailMessage]]:
    """The example meeting two weeks on: every owner has their request, by first name."""
    clock.now = MEETING
    tracker = make_tracker(smtp_url=smtp_server.url)
    tracker.record_meeting(
        example_with_tasks(
            "reading-one-on-one", "pencil-grip", "homework-check", accommodations=False
        )
    )
    clock.now = TWO_WEEKS_ON
    tracker.request_updates()
    _deliver(tracker, smtp_server)
    requests = {
        r.rcpt_tos[0].split(".")[0]: r.message
        for r in smtp_server.received
        if r.message["X-IEP-Followup"] == "request"
    }
    smtp_server.received.clear()
    clock.now = REPLY_TIME
    return tracker, requests


def _item(tracker: Tracker, owner_prefix: str) -> ItemView:
    return next(i for i in tracker.items() if i.owner_email.startswith(owner_prefix))


def _confirmation(tracker: Tracker, server: SmtpServer, to_prefix: str) -> tuple[str, str]:
    _deliver(tracker, server)
    [sent] = [
        r.message
        for r in server.received
        if r.rcpt_tos[0].startswith(to_prefix) and r.message["X-IEP-Followup"] == "confirmation"
    ]
    text = str(sent.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    html = str(sent.get_body(("html",)).get_content())  # type: ignore[union-attr]
    return text, html


def test_a_reply_to_a_dropped_item_changes_nothing_and_says_it_is_closed(
    asked: tuple[Tracker, dict[str, EmailMessage]], smtp_server: SmtpServer
) -> None:
    tracker, requests = asked
    karen = _item(tracker, "karen")
    tracker.close_item(karen.id, dropped=True, note="Not needed now.", by=CASE_MANAGER)
    before = tracker.history(karen.id)

    result = tracker.ingest(reply(requests["karen"], "in progress, 50%"))
    assert (result.outcome, result.applied) == (InboundOutcome.APPLIED, 0)
    assert result.reason.endswith("; A1 closed, not changed")
    after = _item(tracker, "karen")
    assert (after.status, after.percent) == (ItemStatus.DROPPED, 0)
    assert tracker.history(karen.id) == before
    for part in _confirmation(tracker, smtp_server, "karen"):
        assert "A1 is closed (done or stopped), so we did not change it." in part
        assert "If an item needs more work, your case manager can open it again." in part
        assert "Here is what we wrote down" not in part


def test_a_reply_to_a_done_item_is_answered_in_the_owners_language(
    asked: tuple[Tracker, dict[str, EmailMessage]], smtp_server: SmtpServer
) -> None:
    tracker, requests = asked
    rosa = _item(tracker, "rosa")
    tracker.record_update(rosa.id, UpdateInput(status=ItemStatus.DONE), source=UpdateSource.WEB)
    result = tracker.ingest(reply(requests["rosa"], "bloqueado: no hay cuadernos"))
    assert result.reason.endswith("; A1 closed, not changed")
    assert _item(tracker, "rosa").status is ItemStatus.DONE
    for part in _confirmation(tracker, smtp_server, "rosa"):
        assert "A1 está cerrado (terminado o detenido), así que no lo cambiamos." in part
        assert "su coordinador(a) del caso puede abrirla de nuevo" in part


def test_a_note_alone_on_a_closed_item_is_kept_in_its_history(
    asked: tuple[Tracker, dict[str, EmailMessage]],
) -> None:
    tracker, requests = asked
    megan = _item(tracker, "megan")
    tracker.close_item(megan.id, note="Goal met.", by=CASE_MANAGER)
    result = tracker.ingest(reply(requests["megan"], "She still loves the new grips, thank you"))
    assert result.outcome is InboundOutcome.APPLIED
    assert "closed, not changed" not in result.reason
    last = tracker.history(megan.id)[-1]
    assert (last.source, last.status, last.note) == (
        "email",
        None,
        "She still loves the new grips, thank you",
    )
    assert _item(tracker, "megan").status is ItemStatus.DONE


def test_the_case_manager_reopens_a_closed_item_and_replies_apply_again(
    asked: tuple[Tracker, dict[str, EmailMessage]],
) -> None:
    tracker, requests = asked
    karen = _item(tracker, "karen")
    tracker.close_item(karen.id, dropped=True, by=CASE_MANAGER)
    assert tracker.ingest(reply(requests["karen"], "75%")).applied == 0
    reopened = tracker.record_update(
        karen.id,
        UpdateInput(status=ItemStatus.IN_PROGRESS, note="Back on."),
        by=CASE_MANAGER,
        source=UpdateSource.WEB,
    )
    assert reopened.status is ItemStatus.IN_PROGRESS
    again = tracker.ingest(reply(requests["karen"], "80%"))
    assert (again.outcome, again.applied) == (InboundOutcome.APPLIED, 1)
    assert (_item(tracker, "karen").status, _item(tracker, "karen").percent) == (
        ItemStatus.IN_PROGRESS,
        80,
    )
    kinds = [m.kind for m in tracker.outbox() if m.to_address.startswith("karen")]
    assert kinds.count(MailKind.CONFIRMATION) == 2
