"""Replies to real request emails, ingested end to end on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from iep_followup.daemon import Daemon
from iep_followup.domain import ItemStatus
from iep_followup.errors import ValidationError
from iep_followup.mail.transport import SmtpTransport, parse_smtp_url
from iep_followup.mailkinds import InboundOutcome, MailKind
from iep_followup.meetingfile import load_meeting_file
from iep_followup.tracker import Tracker
from tests.conftest import EXAMPLE, Clock
from tests.integration.dovecot import Dovecot
from tests.mailclient import out_of_office, reply
from tests.smtp_server import SmtpServer

MEETING = datetime(2026, 11, 16, 21, 0, tzinfo=UTC)
TWO_WEEKS_ON = datetime(
    2026, 11, 30, 14, 30, tzinfo=UTC
)  # Monday 08:30 in Chicago: everyone is due
REPLY_TIME = TWO_WEEKS_ON + timedelta(hours=3)


def _deliver(tracker: Tracker, server: SmtpServer) -> None:
    asyncio.run(tracker.deliver(SmtpTransport(parse_smtp_url(server.url))))


@pytest.fixture
def asked(
    make_tracker: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer
) -> tuple[Tracker, dict[str, EmailMessage]]:
    """The example meeting, two weeks on: every owner has received their request."""
    clock.now = MEETING
    tracker = make_tracker(smtp_url=smtp_server.url)
    tracker.record_meeting(load_meeting_file(EXAMPLE))
    _deliver(tracker, smtp_server)
    smtp_server.received.clear()
    clock.now = TWO_WEEKS_ON
    assert tracker.request_updates().asked == 4
    _deliver(tracker, smtp_server)
    requests = {r.rcpt_tos[0].split(".")[0]: r.message for r in smtp_server.received}
    smtp_server.received.clear()
    clock.now = REPLY_TIME
    return tracker, requests


def _item(tracker: Tracker, owner_prefix: str) -> tuple[ItemStatus, int]:
    item = next(i for i in tracker.items() if i.owner_email.startswith(owner_prefix))
    return item.status, item.percent


def _confirmations(tracker: Tracker) -> list[str]:
    return [m.to_address for m in tracker.outbox() if m.kind is MailKind.CONFIRMATION]


def test_replies_from_gmail_outlook_and_iphone_are_recorded_and_confirmed(
    asked: tuple[Tracker, dict[str, EmailMessage]], smtp_server: SmtpServer
) -> None:
    tracker, requests = asked
    karen = tracker.ingest(
        reply(requests["karen"], "done! She reads at grade level now."), via="smtp"
    )
    megan = tracker.ingest(
        reply(requests["megan"], "50%\nShe uses the grip in class.", style="outlook"), via="imap"
    )
    rosa = tracker.ingest(
        reply(requests["rosa"], "bloqueado: no tenemos el cuaderno", style="iphone"), via="pipe"
    )
    assert [r.outcome for r in (karen, megan, rosa)] == [InboundOutcome.APPLIED] * 3
    assert _item(tracker, "karen") == (ItemStatus.DONE, 100)
    assert _item(tracker, "megan") == (ItemStatus.IN_PROGRESS, 50)
    assert _item(tracker, "rosa")[0] is ItemStatus.BLOCKED
    rosa_item = next(i for i in tracker.items() if i.owner_email.startswith("rosa"))
    assert rosa_item.last_update_note == "no tenemos el cuaderno"
    assert sorted(_confirmations(tracker)) == [
        "karen.liu@lincoln.example.org",
        "megan.torres@lincoln.example.org",
        "rosa.herrera@example.com",
    ]
    _deliver(tracker, smtp_server)
    mail = {r.rcpt_tos[0].split(".")[0]: r.message for r in smtp_server.received}
    rosa_text = str(mail["rosa"].get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert mail["rosa"]["Subject"] == "Recibimos su noticia sobre Lucía Herrera"
    assert 'bloqueado: "no tenemos el cuaderno"' in rosa_text
    karen_text = str(mail["karen"].get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert "done" in karen_text and "A1." in karen_text
    # The quoted request was trimmed away and kept for audit, not applied as a note.
    [row] = [m for m in tracker.inbox() if m.from_address == "megan.torres@lincoln.example.org"]
    assert row.outcome is InboundOutcome.APPLIED


def test_the_same_message_twice_is_applied_once(
    asked: tuple[Tracker, dict[str, EmailMessage]],
) -> None:
    tracker, requests = asked
    raw = reply(requests["megan"], "30%")
    first, second = tracker.ingest(raw), tracker.ingest(raw)
    assert (first.outcome, first.applied) == (InboundOutcome.APPLIED, 1)
    assert second.duplicate and second.applied == 0
    megan = next(i for i in tracker.items() if i.owner_email.startswith("megan"))
    assert len(tracker.history(megan.id)) == 1
    assert len(tracker.inbox()) == 1
    assert len(_confirmations(tracker)) == 1


def test_a_client_that_drops_the_plus_address_is_matched_by_its_thread(
    asked: tuple[Tracker, dict[str, EmailMessage]],
) -> None:
    tracker, requests = asked
    result = tracker.ingest(reply(requests["karen"], "75%", keep_plus_address=False))
    assert result.outcome is InboundOutcome.APPLIED
    assert _item(tracker, "karen") == (ItemStatus.IN_PROGRESS, 75)


def test_a_reply_from_someone_else_is_held_and_released_as_theirs(
    asked: tuple[Tracker, dict[str, EmailMessage]],
) -> None:
    tracker, requests = asked
    result = tracker.ingest(
        reply(requests["rosa"], "listo", sender="Tom Okafor <tom.okafor@lincoln.example.org>")
    )
    assert result.outcome is InboundOutcome.HELD
    assert "not from the owner" in result.reason
    assert _item(tracker, "rosa") == (ItemStatus.OPEN, 0)
    # Tom is a known person: he is told, once, without details; no confirmation to anyone.
    notices = [m for m in tracker.outbox() if m.kind is MailKind.NOTICE]
    assert [n.to_address for n in notices] == ["tom.okafor@lincoln.example.org"]
    assert _confirmations(tracker) == []
    [held] = tracker.inbox(held_only=True)
    released = tracker.release(held.id)
    assert released.outcome is InboundOutcome.APPLIED and released.applied == 1
    assert _item(tracker, "rosa") == (ItemStatus.DONE, 100)
    # The update is Tom's, as he wrote it; Rosa did not reply, so nobody is told she did.
    item = next(i for i in tracker.items() if i.owner_email.startswith("rosa"))
    assert tracker.history(item.id)[-1].author_name == "Tom Okafor"
    assert _confirmations(tracker) == []
    with pytest.raises(ValidationError, match="not held"):
        tracker.release(held.id)


def test_an_unknown_sender_gets_no_answer(asked: tuple[Tracker, dict[str, EmailMessage]]) -> None:
    tracker, requests = asked
    result = tracker.ingest(reply(requests["rosa"], "A1 done", sender="stranger@evil.example.net"))
    assert result.outcome is InboundOutcome.HELD
    assert tracker.outbox() == [m for m in tracker.outbox() if m.kind is not MailKind.NOTICE]
    assert _item(tracker, "rosa") == (ItemStatus.OPEN, 0)


@pytest.mark.parametrize("change", ["forge", "alter"])
def test_forged_and_altered_keys_are_rejected(
    asked: tuple[Tracker, dict[str, EmailMessage]], change: str
) -> None:
    tracker, requests = asked
    raw = reply(requests["rosa"], "listo")
    original = requests["rosa"]["Reply-To"].addresses[0].addr_spec.split("+")[1].split("@")[0]
    request_part, mac = original.split("-")
    fake = (
        f"{request_part}-{'a' * len(mac)}"
        if change == "forge"
        else f"{request_part}-{mac[:-1]}{'b' if mac[-1] != 'b' else 'c'}"
    )
    result = tracker.ingest(raw.replace(original.encode(), fake.encode()))
    assert result.outcome is InboundOutcome.REJECTED
    assert "altered or forged" in result.reason
    assert _item(tracker, "rosa") == (ItemStatus.OPEN, 0)


def test_an_expired_key_is_held(
    asked: tuple[Tracker, dict[str, EmailMessage]], clock: Clock
) -> None:
    tracker, requests = asked
    clock.now = REPLY_TIME + timedelta(days=61)
    result = tracker.ingest(reply(requests["megan"], "done"))
    assert result.outcome is InboundOutcome.HELD and "expired" in result.reason
    assert _item(tracker, "megan") == (ItemStatus.OPEN, 0)


def test_out_of_office_changes_nothing_and_gets_no_answer(
    asked: tuple[Tracker, dict[str, EmailMessage]],
) -> None:
    tracker, requests = asked
    before = tracker.outbox()
    for spanish, who in ((False, "karen"), (True, "rosa")):
        to = requests[who]["Reply-To"].addresses[0].addr_spec
        result = tracker.ingest(
            out_of_office(to, requests[who]["To"].addresses[0].addr_spec, spanish=spanish)
        )
        assert result.outcome is InboundOutcome.IGNORED and result.reason.startswith("auto-reply")
    assert tracker.outbox() == before
    assert _item(tracker, "karen") == (ItemStatus.OPEN, 0)


def test_a_forwarded_reply_is_held(asked: tuple[Tracker, dict[str, EmailMessage]]) -> None:
    tracker, requests = asked
    result = tracker.ingest(
        reply(requests["karen"], "done", subject="Fwd: Quick check-in about Lucía Herrera")
    )
    assert result.outcome is InboundOutcome.HELD and "forward" in result.reason


def test_a_reply_with_no_command_is_kept_as_a_note(
    asked: tuple[Tracker, dict[str, EmailMessage]],
) -> None:
    tracker, requests = asked
    result = tracker.ingest(reply(requests["rosa"], "Gracias por preguntar. Hablamos el viernes."))
    assert (result.outcome, result.applied) == (InboundOutcome.APPLIED, 1)
    rosa = next(i for i in tracker.items() if i.owner_email.startswith("rosa"))
    assert (rosa.status, rosa.last_update_note) == (
        ItemStatus.OPEN,
        "Gracias por preguntar. Hablamos el viernes.",
    )


def test_a_reply_with_nothing_new_is_recorded_but_changes_nothing(
    asked: tuple[Tracker, dict[str, EmailMessage]],
) -> None:
    tracker, requests = asked
    result = tracker.ingest(reply(requests["karen"], ""))
    assert result.outcome is InboundOutcome.IGNORED and result.applied == 0
    assert "no new text" in result.reason
    assert _confirmations(tracker) == []
    assert _item(tracker, "karen") == (ItemStatus.OPEN, 0)


async def test_replies_in_the_school_mailbox_are_ingested_once_by_the_daemon(
    make_tracker: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer, dovecot: Dovecot
) -> None:
    """IMAP end to end: Dovecot holds the replies; the daemon's poll job records them, then flags them."""
    clock.now = MEETING
    tracker = make_tracker(smtp_url=smtp_server.url, imap_url=dovecot.url())
    tracker.record_meeting(load_meeting_file(EXAMPLE))
    clock.now = TWO_WEEKS_ON
    tracker.request_updates()
    await tracker.deliver(SmtpTransport(parse_smtp_url(smtp_server.url)))
    requests = {
        r.rcpt_tos[0].split(".")[0]: r.message
        for r in smtp_server.received
        if r.message["X-IEP-Followup"] == "request"
    }
    clock.now = REPLY_TIME
    dovecot.append(reply(requests["megan"], "60%", style="outlook"))
    dovecot.append(reply(requests["rosa"], "listo", style="gmail_es"))
    dovecot.append(
        out_of_office(
            requests["karen"]["Reply-To"].addresses[0].addr_spec, "karen.liu@lincoln.example.org"
        )
    )
    daemon = Daemon(tracker, ())
    assert await daemon.poll_once() == "fetched 3, recorded 3, failed 0"
    assert _item(tracker, "megan") == (ItemStatus.IN_PROGRESS, 60)
    assert _item(tracker, "rosa") == (ItemStatus.DONE, 100)
    assert all("\\Seen" in flags for flags in dovecot.flags().values())
    again = Daemon(tracker, ())
    assert (
        await again.poll_once() == "fetched 0, recorded 0, failed 0"
    )  # resumed by UID from the database
    assert sorted(m.outcome.value for m in tracker.inbox()) == ["applied", "applied", "ignored"]


async def test_a_poison_message_is_set_aside_and_the_reply_behind_it_is_applied(
    make_tracker: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer, dovecot: Dovecot
) -> None:
    """A From longer than any address used to stop IMAP reading on PostgreSQL, for good."""
    clock.now = MEETING
    tracker = make_tracker(smtp_url=smtp_server.url, imap_url=dovecot.url())
    tracker.record_meeting(load_meeting_file(EXAMPLE))
    clock.now = TWO_WEEKS_ON
    tracker.request_updates()
    await tracker.deliver(SmtpTransport(parse_smtp_url(smtp_server.url)))
    megan = next(
        r.message
        for r in smtp_server.received
        if r.rcpt_tos[0].startswith("megan") and r.message["X-IEP-Followup"] == "request"
    )
    clock.now = REPLY_TIME
    dovecot.append(reply(megan, "A1 done", sender=f"{'m' * 400}@lincoln.example.org"))
    dovecot.append(reply(megan, "60%", style="outlook"))
    assert await Daemon(tracker, ()).poll_once() == "fetched 2, recorded 2, failed 0"
    assert _item(tracker, "megan") == (ItemStatus.IN_PROGRESS, 60)
    poison, good = sorted(tracker.inbox(), key=lambda m: m.id)
    assert (poison.outcome, poison.from_address) == (InboundOutcome.HELD, None)
    assert "an unknown address" in poison.reason
    assert good.outcome is InboundOutcome.APPLIED
    assert await Daemon(tracker, ()).poll_once() == "fetched 0, recorded 0, failed 0"


def test_a_message_that_breaks_processing_is_rejected_once_with_nothing_half_written(
    make_tracker: Callable[..., Tracker],
    clock: Clock,
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> None:
    # A district's own confirmation template with a bug that only some replies reach.
    templates = tmp_path / "templates" / "confirmation"
    templates.mkdir(parents=True)
    (templates / "subject.txt").write_text(
        '{% for c in changes %}{% if c.note and "POISON" in c.note %}{{ 1 // 0 }}'
        "{% endif %}{% endfor %}We got your update",
        encoding="utf-8",
    )
    clock.now = MEETING
    tracker = make_tracker(smtp_url=smtp_server.url, templates_dir=templates.parent)
    tracker.record_meeting(load_meeting_file(EXAMPLE))
    clock.now = TWO_WEEKS_ON
    tracker.request_updates()
    _deliver(tracker, smtp_server)
    requests = {r.rcpt_tos[0].split(".")[0]: r.message for r in smtp_server.received}
    clock.now = REPLY_TIME
    poison = reply(requests["megan"], "60% POISON")
    result = tracker.ingest(poison)
    assert result.outcome is InboundOutcome.REJECTED
    assert result.reason == "could not be processed (ZeroDivisionError); kept for an administrator"
    assert _item(tracker, "megan") == (ItemStatus.OPEN, 0)  # the update was rolled back whole
    assert _confirmations(tracker) == []
    assert tracker.ingest(poison).duplicate
    # The next reply is not held up by it.
    assert tracker.ingest(reply(requests["rosa"], "listo")).outcome is InboundOutcome.APPLIED
    assert _confirmations(tracker) == ["rosa.herrera@example.com"]
