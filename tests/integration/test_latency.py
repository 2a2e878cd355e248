"""A reply is confirmed in seconds: IMAP IDLE, and new outbox mail waking delivery (SQLite, PostgreSQL).

Every schedule here is far too slow to explain what the tests see: only a wake-up can. The
tests wait on events with generous timeouts; they never time anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import smtplib
import subprocess
import sys
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest

from iep_followup.config import Settings
from iep_followup.daemon import Daemon
from iep_followup.mail.kinds import MailKind
from iep_followup.schedule import JobSpec
from iep_followup.store import outbox
from iep_followup.store.db import Database
from iep_followup.store.listen import listen_for_outbox
from iep_followup.tracker import Tracker
from tests.conftest import Clock, _truncate_postgres
from tests.integration.conftest import MakeDovecot
from tests.integration.dovecot import Dovecot
from tests.integration.test_listening import REPLY_TIME, _reply_to, _requests_sent
from tests.mailclient import reply
from tests.smtp_server import SmtpServer

CLI = Path(sys.executable).with_name("iep-followup")
SLOW = 3600  # seconds between ticks: never reached during a test
WAIT = 60.0  # a generous bound on every wait, not a measurement
NO_IDLE = "imap_capability = IMAP4rev1 LITERAL+ SASL-IR ID ENABLE UIDPLUS MOVE\n"


async def _until(condition: Callable[[], bool], what: str, seconds: float = WAIT) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds}s waiting for {what}")
        await asyncio.sleep(0.05)


def _confirmations(server: SmtpServer) -> list[str]:
    return [r.rcpt_tos[0] for r in server.received if r.message["X-IEP-Followup"] == "confirmation"]


def _job_lines(caplog: pytest.LogCaptureFixture, job: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(f"job {job}:")]


async def _started(
    daemon: Daemon, caplog: pytest.LogCaptureFixture, jobs: dict[str, int]
) -> asyncio.Task[int]:
    """Run the daemon and wait until its catch-up runs (and the first IDLE poll) are over."""
    running = asyncio.create_task(daemon.run())
    for job, count in jobs.items():
        await _until(lambda job=job, count=count: len(_job_lines(caplog, job)) >= count, job)  # type: ignore[misc]
    return running


async def _stopped(daemon: Daemon, running: asyncio.Task[int]) -> None:
    daemon.request_stop()
    assert await asyncio.wait_for(running, WAIT) == 0


async def _reading(
    make_tracker: Callable[..., Tracker],
    clock: Clock,
    smtp_server: SmtpServer,
    dovecot: Dovecot,
    *,
    poll_every: int,
    idle_seconds: float = SLOW,
) -> tuple[Daemon, dict[str, EmailMessage]]:
    """A daemon reading the mailbox, polling every `poll_every` s; delivering only when woken."""
    tracker = make_tracker(smtp_url=smtp_server.url, imap_url=dovecot.url())
    requests = await _requests_sent(tracker, clock, smtp_server)
    jobs = (JobSpec("deliver", every_seconds=SLOW), JobSpec("poll_inbox", every_seconds=poll_every))
    return Daemon(tracker, jobs, idle_seconds=idle_seconds), requests


@pytest.fixture(autouse=True)
def _info_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="iep_followup")


async def test_a_reply_to_the_receiver_is_confirmed_without_waiting_for_the_delivery_tick(
    make_tracker: Callable[..., Tracker],
    clock: Clock,
    smtp_server: SmtpServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tracker = make_tracker(
        smtp_url=smtp_server.url,
        smtp_receiver="127.0.0.1:2525",
        reply_address="iep-replies@district.example.org",
    )
    requests = await _requests_sent(tracker, clock, smtp_server)
    daemon = Daemon(tracker, (JobSpec("deliver", every_seconds=SLOW),), receiver_port=0)
    running = await _started(daemon, caplog, {"deliver": 1})
    try:
        assert daemon.receiver is not None
        host, port = daemon.receiver.host, daemon.receiver.port

        def send() -> None:
            with smtplib.SMTP(host, port, timeout=WAIT) as client:
                client.sendmail(
                    "karen.liu@lincoln.example.org",
                    [_reply_to(requests["karen"])],
                    reply(requests["karen"], "done"),
                )

        await asyncio.to_thread(send)
        await _until(lambda: bool(_confirmations(smtp_server)), "the confirmation")
    finally:
        await _stopped(daemon, running)
    assert _confirmations(smtp_server) == ["karen.liu@lincoln.example.org"]
    assert daemon.deliveries.passes >= 1
    # The one scheduled pass ran before the reply came; the confirmation went in a woken one.
    first, *woken = _job_lines(caplog, "deliver")
    assert first.startswith("job deliver: sent 0,")
    assert any(line.startswith("job deliver: sent 1,") for line in woken)


async def test_a_reply_in_the_mailbox_is_read_on_idle_and_confirmed_without_waiting_for_a_poll(
    make_tracker: Callable[..., Tracker],
    clock: Clock,
    smtp_server: SmtpServer,
    dovecot: Dovecot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    daemon, requests = await _reading(make_tracker, clock, smtp_server, dovecot, poll_every=300)
    # The catch-up poll and the IDLE watcher's first poll; the schedule's next is 300 s away.
    running = await _started(daemon, caplog, {"deliver": 1, "poll_inbox": 2})
    try:
        assert daemon.poller is not None
        poller = daemon.poller
        await _until(lambda: poller.idling, "IDLE")
        polls_before = len(_job_lines(caplog, "poll_inbox"))
        uid = dovecot.append(reply(requests["megan"], "60%", style="outlook"))
        await _until(lambda: bool(_confirmations(smtp_server)), "the confirmation")
        await _until(lambda: poller.idling, "IDLE again")
    finally:
        await _stopped(daemon, running)
    assert _confirmations(smtp_server) == ["megan.torres@lincoln.example.org"]
    polls = _job_lines(caplog, "poll_inbox")[polls_before:]
    assert polls[0].startswith("job poll_inbox: fetched 1, recorded 1, failed 0")
    assert "\\Seen" in dovecot.flags()[uid]  # marked only once recorded


async def test_idle_is_renewed_and_mail_is_still_read(
    make_tracker: Callable[..., Tracker],
    clock: Clock,
    smtp_server: SmtpServer,
    dovecot: Dovecot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    daemon, requests = await _reading(
        make_tracker, clock, smtp_server, dovecot, poll_every=SLOW, idle_seconds=1
    )
    running = await _started(daemon, caplog, {"poll_inbox": 2})
    try:
        # Each renewal ends IDLE (DONE), polls, and starts IDLE again.
        await _until(lambda: len(_job_lines(caplog, "poll_inbox")) >= 4, "two renewals")
        dovecot.append(reply(requests["rosa"], "listo", style="gmail_es"))
        await _until(lambda: bool(_confirmations(smtp_server)), "the confirmation")
    finally:
        await _stopped(daemon, running)
    assert _confirmations(smtp_server) == ["rosa.herrera@example.com"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_scheduled_polls_end_idle_for_a_moment_and_it_resumes(
    make_tracker: Callable[..., Tracker],
    clock: Clock,
    smtp_server: SmtpServer,
    dovecot: Dovecot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    daemon, requests = await _reading(make_tracker, clock, smtp_server, dovecot, poll_every=1)
    running = await _started(daemon, caplog, {"poll_inbox": 2})
    try:
        assert daemon.poller is not None
        poller = daemon.poller
        await _until(lambda: len(_job_lines(caplog, "poll_inbox")) >= 5, "scheduled polls")
        await _until(lambda: poller.idling, "IDLE between them")
        dovecot.append(reply(requests["karen"], "done"))
        await _until(lambda: bool(_confirmations(smtp_server)), "the confirmation")
    finally:
        await _stopped(daemon, running)
    assert _confirmations(smtp_server) == ["karen.liu@lincoln.example.org"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_without_idle_on_offer_the_daemon_polls_on_its_schedule(
    make_tracker: Callable[..., Tracker],
    clock: Clock,
    smtp_server: SmtpServer,
    make_dovecot: MakeDovecot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    dovecot = make_dovecot(extra_config=NO_IDLE)
    daemon, requests = await _reading(make_tracker, clock, smtp_server, dovecot, poll_every=1)
    running = asyncio.create_task(daemon.run())
    try:
        await _until(lambda: "does not offer IDLE" in caplog.text, "the fallback")
        dovecot.append(reply(requests["karen"], "75%"))
        await _until(lambda: bool(_confirmations(smtp_server)), "the confirmation")
        assert daemon.poller is not None and not daemon.poller.idling
    finally:
        await _stopped(daemon, running)
    assert _confirmations(smtp_server) == ["karen.liu@lincoln.example.org"]
    assert "polling on the schedule" in caplog.text


async def test_when_the_server_drops_the_idle_connection_the_daemon_carries_on_and_idles_again(
    make_tracker: Callable[..., Tracker],
    clock: Clock,
    smtp_server: SmtpServer,
    dovecot: Dovecot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    daemon, requests = await _reading(make_tracker, clock, smtp_server, dovecot, poll_every=SLOW)
    running = await _started(daemon, caplog, {"poll_inbox": 2})
    try:
        assert daemon.poller is not None
        poller = daemon.poller
        await _until(lambda: poller.idling, "IDLE")
        await asyncio.to_thread(dovecot.restart)  # every session is killed, as in a crash
        await _until(lambda: "IMAP IDLE stopped" in caplog.text, "the failure to be noticed")
        # After a backoff, it reconnects on its own (the schedule's poll is an hour away).
        await _until(lambda: poller.idling, "IDLE on a new connection")
        dovecot.append(reply(requests["megan"], "A1 done"))
        await _until(lambda: bool(_confirmations(smtp_server)), "the confirmation")
        assert not running.done()
    finally:
        await _stopped(daemon, running)
    assert _confirmations(smtp_server) == ["megan.torres@lincoln.example.org"]


@pytest.mark.postgres
async def test_mail_queued_by_another_process_wakes_delivery_through_postgresql(
    make_settings: Callable[..., Settings],
    clock: Clock,
    smtp_server: SmtpServer,
    postgres_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _truncate_postgres(postgres_url)
    tracker = Tracker(
        make_settings(database_url=postgres_url, smtp_url=smtp_server.url), clock=clock
    )
    requests = await _requests_sent(tracker, clock, smtp_server)
    daemon = Daemon(tracker, (JobSpec("deliver", every_seconds=SLOW),))
    running = await _started(daemon, caplog, {"deliver": 1})
    try:
        # The reply comes in through an MTA pipe: another process queues the confirmation.
        (tmp_path / "reply.eml").write_bytes(reply(requests["rosa"], "listo"))
        done = await asyncio.to_thread(
            subprocess.run,
            [str(CLI), "ingest", str(tmp_path / "reply.eml"), "--now", REPLY_TIME.isoformat()],
            env=_env(tracker, smtp_server),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("applied")
        await _until(lambda: bool(_confirmations(smtp_server)), "the confirmation")
    finally:
        await _stopped(daemon, running)
    assert _confirmations(smtp_server) == ["rosa.herrera@example.com"]
    assert daemon.deliveries.passes >= 1


@pytest.mark.postgres
async def test_notify_is_heard_on_commit_and_never_for_a_rolled_back_queue(
    postgres_url: str,
) -> None:
    _truncate_postgres(postgres_url)
    database = Database(postgres_url)
    heard: list[str] = []
    listening = asyncio.Event()
    listener = asyncio.create_task(
        listen_for_outbox(postgres_url, lambda: heard.append("mail"), on_listening=listening.set)
    )
    try:
        await asyncio.wait_for(listening.wait(), WAIT)

        def queue(key: str, *, fail: bool) -> None:
            with database.transaction() as session:
                outbox.queue(
                    session,
                    kind=MailKind.NOTICE,
                    idempotency_key=key,
                    to_address="someone@example.org",
                    message_id=f"<{key}@test.example.org>",
                    subject="s",
                    body=b"Subject: s\r\n\r\nhello\r\n",
                    now=REPLY_TIME,
                )
                if fail:
                    raise RuntimeError("rolled back")

        with pytest.raises(RuntimeError):
            await asyncio.to_thread(queue, "undone", fail=True)
        await asyncio.to_thread(queue, "kept", fail=False)
        await _until(lambda: bool(heard), "the notification")
        await asyncio.sleep(0.5)  # a second one, for the rolled-back queue, would be here now
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener
        database.dispose()
    assert heard == ["mail"]


def _env(tracker: Tracker, smtp_server: SmtpServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IEP_FOLLOWUP_")}
    settings = tracker.settings
    assert settings.secret_key is not None
    env.update(
        {
            "IEP_FOLLOWUP_DATABASE_URL": settings.database_url,
            "IEP_FOLLOWUP_SECRET_KEY": settings.secret_key.get_secret_value(),
            "IEP_FOLLOWUP_TIMEZONE": settings.timezone,
            "IEP_FOLLOWUP_SMTP_URL": smtp_server.url,
        }
    )
    return env
