"""Replies to real request emails, ingested end to end on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import smtplib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from iep_followup.daemon import Daemon
from iep_followup.domain import ItemStatus, MeetingRecord
from iep_followup.errors import ValidationError
from iep_followup.inbound.message import parse_message
from iep_followup.inbound.outcome import InboundOutcome
from iep_followup.mail.kinds import MailKind
from iep_followup.net.smtp import SmtpTransport, parse_smtp_url
from iep_followup.store import inbox
from iep_followup.tracker import Tracker
from tests.conftest import Clock, example_with_tasks
from tests.integration.dovecot import Dovecot
from tests.mailclient import out_of_office, reply
from tests.smtp_server import SmtpServer

MEETING = datetime(2026, 11, 16, 21, 0, tzinfo=UTC)
TWO_WEEKS_ON = datetime(
    2026, 11, 30, 14, 30, tzinfo=UTC
)  # Monday 08:30 in Chicago: everyone is due
REPLY_TIME = TWO_WEEKS_ON + timedelta(hours=3)
PHOTO = 4_000_000  # a phone photo: about 5.4 MB once encoded
TOO_BIG = 22_500_000  # about 30 MB once encoded


def _deliver(tracker: Tracker, server: SmtpServer) -> None:
    asyncio.run(tracker.deliver(SmtpTransport(parse_smtp_url(server.url))))


def _example() -> MeetingRecord:
    """The example meeting with the owners' items here as tasks: these tests are about how
    replies arrive (mail clients, senders, photos), read with a task's "done" and percent, one
    item each (the accommodations' check-ins are left out)."""
    record = example_with_tasks("reading-one-on-one", "pencil-grip", "homework-check")
    return dataclasses.replace(record, accommodations=())


async def _requests_sent(
    tracker: Tracker, clock: Clock, smtp_server: SmtpServer
) -> dict[str, EmailMessage]:
    """The example meeting, two weeks on, from an async test: every owner has their request."""
    clock.now = MEETING
    tracker.record_meeting(_example())
    clock.now = TWO_WEEKS_ON
    tracker.request_updates()
    await tracker.deliver(SmtpTransport(parse_smtp_url(smtp_server.url)))
    requests = {
        r.rcpt_tos[0].split(".")[0]: r.message
        for r in smtp_server.received
        if r.message["X-IEP-Followup"] == "request"
    }
    smtp_server.received.clear()
    clock.now = REPLY_TIME
    return requests


@pytest.fixture
def asked(
    make_tracker: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer
) -> tuple[Tracker, dict[str, EmailMessage]]:
    """The example meeting, two weeks on: every owner has received their request."""
    clock.now = MEETING
    tracker = make_tracker(smtp_url=smtp_server.url)
    tracker.record_meeting(_example())
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
    assert mail["rosa"]["Subject"] == "Recibimos su respuesta sobre Lucía Herrera"
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


def test_a_reply_that_cannot_be_told_from_the_quote_is_held_not_ignored(
    asked: tuple[Tracker, dict[str, EmailMessage]], smtp_server: SmtpServer
) -> None:
    tracker, requests = asked
    # Outlook quotes nothing: with no text above its header block, the owner's words (if
    # any) are somewhere inside the copy of the request.
    result = tracker.ingest(reply(requests["karen"], "", style="outlook"))
    assert result.outcome is InboundOutcome.HELD and result.applied == 0
    assert "could not tell the reply from the quoted text" in result.reason
    assert _item(tracker, "karen") == (ItemStatus.OPEN, 0)
    # Karen is told, in plain words, and how to write next time.
    assert _notices(tracker) == ["karen.liu@lincoln.example.org"]
    _deliver(tracker, smtp_server)
    [notice] = [r.message for r in smtp_server.received]
    for part in _bodies(notice):
        assert "We could not tell your words apart from our email" in part
        assert "write your answer at the top" in part


async def test_replies_in_the_school_mailbox_are_ingested_once_by_the_daemon(
    make_tracker: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer, dovecot: Dovecot
) -> None:
    """IMAP end to end: Dovecot holds the replies; the daemon's poll job records them, then flags them."""
    tracker = make_tracker(smtp_url=smtp_server.url, imap_url=dovecot.url())
    requests = await _requests_sent(tracker, clock, smtp_server)
    dovecot.append(reply(requests["megan"], "60%", style="outlook"))
    dovecot.append(reply(requests["rosa"], "listo", style="gmail_es"))
    dovecot.append(
        out_of_office(
            requests["karen"]["Reply-To"].addresses[0].addr_spec, "karen.liu@lincoln.example.org"
        )
    )
    assert (await tracker.poll_inbox()).summary() == "fetched 3, recorded 3, failed 0"
    assert _item(tracker, "megan") == (ItemStatus.IN_PROGRESS, 60)
    assert _item(tracker, "rosa") == (ItemStatus.DONE, 100)
    assert all("\\Seen" in flags for flags in dovecot.flags().values())
    again = await tracker.poll_inbox()  # a new poller: resumed by UID from the database
    assert (again.fetched, again.recorded, again.failed) == (0, 0, 0)
    assert sorted(m.outcome.value for m in tracker.inbox()) == ["applied", "applied", "ignored"]


async def test_a_poison_message_is_set_aside_and_the_reply_behind_it_is_applied(
    make_tracker: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer, dovecot: Dovecot
) -> None:
    """A From longer than any address used to stop IMAP reading on PostgreSQL, for good."""
    clock.now = MEETING
    tracker = make_tracker(smtp_url=smtp_server.url, imap_url=dovecot.url())
    tracker.record_meeting(_example())
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
    assert (await tracker.poll_inbox()).summary() == "fetched 2, recorded 2, failed 0"
    assert _item(tracker, "megan") == (ItemStatus.IN_PROGRESS, 60)
    poison, good = sorted(tracker.inbox(), key=lambda m: m.id)
    assert (poison.outcome, poison.from_address) == (InboundOutcome.HELD, None)
    assert "an unknown address" in poison.reason
    assert good.outcome is InboundOutcome.APPLIED
    assert (await tracker.poll_inbox()).summary() == "fetched 0, recorded 0, failed 0"


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
    tracker.record_meeting(_example())
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


def _stored_raw(tracker: Tracker, inbound_id: int | None) -> bytes:
    assert inbound_id is not None
    with tracker.database.transaction() as session:
        row = inbox.get(session, inbound_id)
        assert row is not None
        return row.raw


def _notices(tracker: Tracker) -> list[str]:
    return [m.to_address for m in tracker.outbox() if m.kind is MailKind.NOTICE]


def test_a_reply_with_a_phone_photo_is_applied_and_the_photo_is_not_kept(
    asked: tuple[Tracker, dict[str, EmailMessage]],
) -> None:
    tracker, requests = asked
    raw = reply(requests["karen"], "75%", style="iphone", photo_bytes=PHOTO)
    result = tracker.ingest(raw, via="pipe")
    assert (result.outcome, result.applied) == (InboundOutcome.APPLIED, 1)
    assert result.reason.endswith("; attachments not kept")
    assert _item(tracker, "karen") == (ItemStatus.IN_PROGRESS, 75)
    assert _confirmations(tracker) == ["karen.liu@lincoln.example.org"]
    kept = _stored_raw(tracker, result.inbound_id)
    assert len(kept) < 20_000 < PHOTO
    assert b"image/jpeg" not in kept and b"IMG_4032" not in kept
    # What is kept still reads as the same reply.
    assert parse_message(kept).text == parse_message(raw).text
    assert parse_message(kept).to_addresses == parse_message(raw).to_addresses


def test_a_held_reply_with_a_photo_can_still_be_released(
    asked: tuple[Tracker, dict[str, EmailMessage]],
) -> None:
    tracker, requests = asked
    raw = reply(
        requests["rosa"],
        "listo",
        sender="Tom Okafor <tom.okafor@lincoln.example.org>",
        photo_bytes=PHOTO,
    )
    held = tracker.ingest(raw)
    assert held.outcome is InboundOutcome.HELD
    assert len(_stored_raw(tracker, held.inbound_id)) < 20_000
    assert held.inbound_id is not None
    assert tracker.release(held.inbound_id).applied == 1
    assert _item(tracker, "rosa") == (ItemStatus.DONE, 100)


def test_a_reply_too_big_to_read_asks_its_owner_once_to_send_it_again(
    asked: tuple[Tracker, dict[str, EmailMessage]], smtp_server: SmtpServer
) -> None:
    tracker, requests = asked
    # Not the owner (a stranger, a known colleague) or a forged key: rejected, nobody told.
    stranger = reply(
        requests["rosa"],
        "listo",
        sender="nobody@lincoln.example.org",
        message_id="<big-1@mail.example.net>",
        photo_bytes=TOO_BIG,
    )
    colleague = stranger.replace(b"nobody@", b"tom.okafor@").replace(b"<big-1@", b"<big-2@")
    key = requests["rosa"]["Reply-To"].addresses[0].addr_spec.split("+")[1].split("@")[0]
    forged = reply(requests["rosa"], "listo", photo_bytes=TOO_BIG)
    forged = forged.replace(key.encode(), key[:-1].encode() + (b"a" if key[-1] != "a" else b"b"))
    for raw in (stranger, colleague, forged):
        result = tracker.ingest(raw)
        assert result.outcome is InboundOutcome.REJECTED
    assert _notices(tracker) == []

    raw = reply(requests["rosa"], "listo", style="iphone", photo_bytes=TOO_BIG)
    assert len(raw) > 30_000_000
    result = tracker.ingest(raw, via="pipe")
    assert result.outcome is InboundOutcome.REJECTED
    assert result.reason == (
        "message is larger than the 25 MB limit; "
        "its owner is asked to send it again without attachments"
    )
    assert _stored_raw(tracker, result.inbound_id) == b""
    assert _item(tracker, "rosa") == (ItemStatus.OPEN, 0)
    # The same message again, and another one that day: still one notice.
    assert tracker.ingest(raw).duplicate
    tracker.ingest(reply(requests["rosa"], "listo otra vez", photo_bytes=TOO_BIG))
    assert _notices(tracker) == ["rosa.herrera@example.com"]

    _deliver(tracker, smtp_server)
    [sent] = [r.message for r in smtp_server.received]
    assert sent["Subject"] == "Su correo era demasiado grande para leerlo"
    text = str(sent.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    html = str(sent.get_body(("html",)).get_content())  # type: ignore[union-attr]
    for part in (text, html):
        assert "Hola, Rosa:" in part
        assert "Escriba solo sus palabras, sin la foto ni el archivo." in part


def test_the_limit_is_a_setting(
    asked: tuple[Tracker, dict[str, EmailMessage]], make_tracker: Callable[..., Tracker]
) -> None:
    _, requests = asked
    strict = make_tracker(max_reply_bytes=1_000_000)
    result = strict.ingest(reply(requests["karen"], "75%", photo_bytes=PHOTO))
    assert result.outcome is InboundOutcome.REJECTED
    assert result.reason.startswith("message is larger than the 1 MB limit")
    assert _notices(strict) == ["karen.liu@lincoln.example.org"]


async def test_the_daemons_smtp_receiver_takes_a_photo_and_refuses_more_than_the_limit(
    make_tracker: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer
) -> None:
    tracker = make_tracker(
        smtp_url=smtp_server.url,
        smtp_receiver="127.0.0.1:2525",  # the port is replaced by a free one below
        reply_address="iep-replies@district.example.org",
    )
    requests = await _requests_sent(tracker, clock, smtp_server)
    daemon = Daemon(tracker, (), receiver_port=0)
    running = asyncio.create_task(daemon.run())
    photo = reply(requests["karen"], "75%", photo_bytes=PHOTO)
    too_big = reply(requests["rosa"], "listo", photo_bytes=TOO_BIG)

    def send() -> tuple[str, int, int, int]:
        assert daemon.receiver is not None
        with smtplib.SMTP(daemon.receiver.host, daemon.receiver.port, timeout=60) as client:
            client.ehlo()
            advertised = client.esmtp_features["size"]
            client.sendmail("karen.liu@lincoln.example.org", [_reply_to(requests["karen"])], photo)
            # Announced with SIZE: refused before any of it is sent ...
            with pytest.raises(smtplib.SMTPSenderRefused) as announced:
                client.sendmail("rosa.herrera@example.com", [_reply_to(requests["rosa"])], too_big)
            client.rset()
            # ... and without it, read and thrown away, then refused.
            client.docmd("MAIL FROM:<rosa.herrera@example.com>")
            client.rcpt(_reply_to(requests["rosa"]))
            unannounced = client.data(too_big)[0]
            return advertised, announced.value.smtp_code, unannounced, len(too_big)

    try:
        while daemon.receiver is None and not running.done():
            await asyncio.sleep(0.05)
        advertised, announced, unannounced, size = await asyncio.to_thread(send)
    finally:
        daemon.request_stop()
        assert await asyncio.wait_for(running, 30) == 0
    assert (advertised, announced, unannounced) == ("25000000", 552, 552)
    assert size > 25_000_000
    assert _item(tracker, "karen") == (ItemStatus.IN_PROGRESS, 75)
    assert [m.from_address for m in tracker.inbox()] == ["karen.liu@lincoln.example.org"]


async def test_the_daemon_applies_a_photo_reply_and_answers_one_too_big_from_the_mailbox(
    make_tracker: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer, dovecot: Dovecot
) -> None:
    tracker = make_tracker(smtp_url=smtp_server.url, imap_url=dovecot.url())
    requests = await _requests_sent(tracker, clock, smtp_server)
    dovecot.append(reply(requests["karen"], "75%", style="iphone", photo_bytes=PHOTO))
    dovecot.append(reply(requests["rosa"], "listo", photo_bytes=TOO_BIG))
    assert (await tracker.poll_inbox()).summary() == "fetched 2, recorded 2, failed 0"
    assert _item(tracker, "karen") == (ItemStatus.IN_PROGRESS, 75)
    assert _item(tracker, "rosa") == (ItemStatus.OPEN, 0)
    outcomes = {m.from_address: (m.outcome, m.reason) for m in tracker.inbox()}
    assert outcomes["rosa.herrera@example.com"][0] is InboundOutcome.REJECTED
    assert "25 MB limit" in outcomes["rosa.herrera@example.com"][1]
    assert _notices(tracker) == ["rosa.herrera@example.com"]
    assert all("\\Seen" in flags for flags in dovecot.flags().values())


def _reply_to(request: EmailMessage) -> str:
    return str(request["Reply-To"].addresses[0].addr_spec)


def _bodies(message: EmailMessage) -> tuple[str, str]:
    text = str(message.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    html = str(message.get_body(("html",)).get_content())  # type: ignore[union-attr]
    return text, html


def test_a_sentence_reply_is_applied_marked_understood_and_confirmed_in_the_owners_language(
    asked: tuple[Tracker, dict[str, EmailMessage]], smtp_server: SmtpServer
) -> None:
    tracker, requests = asked
    megan = tracker.ingest(reply(requests["megan"], "We're about halfway.\n\nMegan"))
    rosa = tracker.ingest(
        reply(requests["rosa"], "Vamos por la mitad, 50 por ciento", style="iphone")
    )
    assert (megan.outcome, megan.applied) == (InboundOutcome.APPLIED, 1)
    assert (rosa.outcome, rosa.applied) == (InboundOutcome.APPLIED, 1)
    assert _item(tracker, "megan") == (ItemStatus.IN_PROGRESS, 50)
    assert _item(tracker, "rosa") == (ItemStatus.IN_PROGRESS, 50)
    megan_item = next(i for i in tracker.items() if i.owner_email.startswith("megan"))
    [update] = tracker.history(megan_item.id)
    assert (update.understood, update.note) == (True, "We're about halfway")  # no sign-off
    _deliver(tracker, smtp_server)
    mail = {r.rcpt_tos[0].split(".")[0]: r.message for r in smtp_server.received}
    for part in _bodies(mail["megan"]):
        assert "We understood:" in part and "50% done" in part
        assert "If that is wrong, reply with the right number." in part
    for part in _bodies(mail["rosa"]):
        assert "Entendimos:" in part
        assert "Si no es así, responda con el número correcto." in part


def test_a_command_is_applied_without_saying_it_was_understood(
    asked: tuple[Tracker, dict[str, EmailMessage]],
) -> None:
    tracker, requests = asked
    tracker.ingest(reply(requests["megan"], "50%"))
    megan_item = next(i for i in tracker.items() if i.owner_email.startswith("megan"))
    [update] = tracker.history(megan_item.id)
    assert (update.percent, update.understood) == (50, False)


def test_a_sentence_that_could_mean_two_things_changes_nothing_and_asks(
    asked: tuple[Tracker, dict[str, EmailMessage]], smtp_server: SmtpServer
) -> None:
    tracker, requests = asked
    result = tracker.ingest(reply(requests["karen"], "She got 80% on the quiz"))
    assert result.outcome is InboundOutcome.APPLIED
    assert _item(tracker, "karen") == (ItemStatus.OPEN, 0)
    karen_item = next(i for i in tracker.items() if i.owner_email.startswith("karen"))
    assert karen_item.last_update_note == "She got 80% on the quiz"
    _deliver(tracker, smtp_server)
    [sent] = [r.message for r in smtp_server.received]
    for part in _bodies(sent):
        assert "so we changed nothing" in part
        assert "Is A1 now 80% done? If so, reply: A1 80%" in part


async def test_the_heartbeat_counts_every_held_reply_past_the_inbox_listing(
    tracker: Tracker, caplog: pytest.LogCaptureFixture
) -> None:
    """A count, not the length of a listing that stops at 200 rows."""
    for n in range(205):
        message = EmailMessage()
        message["From"] = f"parent{n}@home.example.net"
        message["To"] = "updates@school.example.org"
        message["Subject"] = "Question"
        message["Message-ID"] = f"<question-{n}@home.example.net>"
        message.set_content("Is there a meeting next week?")
        assert tracker.ingest(message.as_bytes()).outcome is InboundOutcome.HELD  # no reply key
    assert len(tracker.inbox(held_only=True)) == 200
    assert tracker.backlog().held == 205
    caplog.set_level(logging.INFO, logger="iep_followup.daemon")
    await Daemon(tracker, ()).run_job("heartbeat")
    assert "held for review: 205" in caplog.text
