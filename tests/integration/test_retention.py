"""Retention: the raw text of emails older than IEP_FOLLOWUP_RETAIN_MAIL_DAYS goes; updates stay."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

from iep_followup.daemon import Daemon
from iep_followup.inbound.outcome import InboundOutcome
from iep_followup.net.smtp import SmtpTransport, parse_smtp_url
from iep_followup.store.retention import MailForgotten
from iep_followup.tracker import Tracker
from tests.conftest import Clock
from tests.integration.test_backup import _items, _requests
from tests.integration.test_cli import RunCli
from tests.mailclient import reply
from tests.smtp_server import SmtpServer

SIGNATURE = "Rosa H. -- sent from the retention-marker-7f3a phone"


def _mail_rows(tracker: Tracker) -> tuple[dict[str, tuple[int, int]], list[tuple[str, int]]]:
    """Inbound: outcome -> (raw bytes, trimmed-away chars); outbox: (kind, body bytes)."""
    with tracker.database.engine.connect() as connection:
        inbound = {
            row[0]: (row[1], row[2])
            for row in connection.execute(
                text("SELECT outcome, length(raw), length(trimmed_away) FROM inbound_message")
            )
        }
        outbox = [
            (row[0], row[1])
            for row in connection.execute(
                text("SELECT kind, length(body) FROM outbox_message ORDER BY id")
            )
        ]
    return inbound, outbox


def test_old_mail_loses_its_raw_text_and_the_updates_stay(
    make_tracker: Callable[..., Tracker], clock: Clock, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    tracker = make_tracker()
    requests = _requests(tracker, clock, tmp_path / "mail")
    replied = clock.now
    applied = tracker.ingest(reply(requests[0], f"A1 40%\n\n-- \n{SIGNATURE}"), via="pipe")
    held = tracker.ingest(reply(requests[1], "A1 done", sender="stranger@example.net"), via="pipe")
    assert held.outcome is InboundOutcome.HELD, held
    assert applied.outcome is InboundOutcome.APPLIED, applied
    # The confirmation is refused for good: a failed email keeps its text until retention.
    smtp_server.handler.refuse[requests[0]["To"].addresses[0].addr_spec.lower()] = (
        "550 5.1.1 no such mailbox"
    )
    asyncio.run(tracker.deliver(SmtpTransport(parse_smtp_url(smtp_server.url))))
    status = _items(tracker)
    inbound, outbox = _mail_rows(tracker)
    assert inbound["applied"][0] > 0 and inbound["applied"][1] > 0  # the signature was cut off
    failed = [size for kind, size in outbox if kind == "confirmation"]
    assert len(failed) == 1 and failed[0] > 0
    assert sum(size > 0 for _kind, size in outbox) == 1  # sent emails keep no body at all

    clock.now = replied + timedelta(days=399)
    assert tracker.forget_old_mail() == MailForgotten(0, 0)

    clock.now = replied + timedelta(days=401)
    gone = tracker.forget_old_mail()
    inbound, outbox = _mail_rows(tracker)
    assert (gone.received, gone.sent) == (1, 1)  # the held reply waits for a person
    assert inbound["applied"] == (0, 0)
    assert inbound["held"][0] > 0
    assert all(size == 0 for _kind, size in outbox)
    assert _items(tracker) == status  # every item and its progress as recorded
    assert tracker.forget_old_mail() == MailForgotten(0, 0)  # nothing left to remove

    path = tracker.database.sqlite_path()
    if path is not None:  # the file itself no longer holds the words (secure_delete)
        tracker.close()
        with sqlite3.connect(path) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert b"retention-marker-7f3a" not in path.read_bytes()


def test_the_daemon_job_and_the_command_do_the_same(
    make_tracker: Callable[..., Tracker], clock: Clock, tmp_path: Path, database_url: str
) -> None:
    tracker = make_tracker(retain_mail_days=30)
    _requests(tracker, clock, tmp_path / "mail")
    clock.now += timedelta(days=31)
    asyncio.run(Daemon(tracker, ()).run_job("retention"))
    assert "retention" in {job.name for job in tracker.ops_metrics().jobs}
    assert tracker.forget_old_mail().sent == 0  # the job removed them all
    run = RunCli(tmp_path)
    run.env["IEP_FOLLOWUP_DATABASE_URL"] = database_url
    run.env["IEP_FOLLOWUP_RETAIN_MAIL_DAYS"] = "30"
    done = run("retention", "--now", clock.now.isoformat()).stdout
    assert done.strip() == (
        "Removed the raw text of 0 received and 0 sent emails older than 30 days."
    )
