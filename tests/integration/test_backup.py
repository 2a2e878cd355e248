"""`backup` while replies are being ingested, `restore` onto an empty database: the same status."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from iep_followup.cli.output import jsonable
from iep_followup.config import Settings
from iep_followup.tracker import Tracker
from tests.conftest import PG_ADMIN_URL, Clock, example_with_tasks
from tests.integration.test_cli import RunCli
from tests.mailclient import reply

MEETING = datetime(2026, 11, 16, 21, 0, tzinfo=UTC)
TWO_WEEKS_ON = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)  # Monday morning: everyone is due
MOST_REPLIES = 2000  # never reached: the replies stop when the backup is done


def _items(tracker: Tracker) -> str:
    """What `status --json` prints."""
    return json.dumps(jsonable(tracker.items()), ensure_ascii=False, indent=2)


def _requests(tracker: Tracker, clock: Clock, mail_dir: Path) -> list[EmailMessage]:
    clock.now = MEETING
    tracker.record_meeting(
        example_with_tasks("reading-one-on-one", "pencil-grip", "homework-check")
    )
    asyncio.run(tracker.deliver())
    clock.now = TWO_WEEKS_ON
    assert tracker.request_updates().asked == 4
    asyncio.run(tracker.deliver())
    found = []
    for path in sorted(mail_dir.glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        if message["X-IEP-Followup"] == "request":
            found.append(message)
    assert len(found) == 4
    return found


@pytest.fixture
def empty_database(database_url: str, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """New, empty databases of the test's backend to restore onto."""
    made: list[str] = []

    def make() -> str:
        name = f"iep_restore_{uuid.uuid4().hex[:10]}"
        if database_url.startswith("sqlite"):
            return f"sqlite:///{tmp_path / f'{name}.db'}"
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        made.append(name)
        return create_engine(PG_ADMIN_URL).url.set(database=name).render_as_string(False)

    yield make
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in made:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_a_backup_taken_during_ingestion_restores_to_the_same_status(
    make_tracker: Callable[..., Tracker],
    make_settings: Callable[..., Settings],
    clock: Clock,
    database_url: str,
    empty_database: Callable[[], str],
    tmp_path: Path,
) -> None:
    tracker = make_tracker()
    requests = _requests(tracker, clock, tmp_path / "mail")
    states = [_items(tracker)]  # the status after each reply: a backup must be one of them
    started, backed_up = threading.Event(), threading.Event()

    def ingest() -> None:
        """Replies, one after another, from before the backup starts until after it ends."""
        for number in range(MOST_REPLIES):
            if backed_up.is_set():
                break
            request = requests[number % len(requests)]
            tracker.ingest(reply(request, f"A1 {5 + number % 90}%"), via="pipe")
            states.append(_items(tracker))
            if number == 2:
                started.set()
        started.set()

    run = RunCli(tmp_path)
    run.env["IEP_FOLLOWUP_DATABASE_URL"] = database_url
    worker = threading.Thread(target=ingest)
    worker.start()
    try:
        assert started.wait(120)
        during = run("backup", str(tmp_path / "during.backup"))
    finally:
        backed_up.set()
        worker.join(120)
    assert len(states) - 1 < MOST_REPLIES  # ingestion went on for the whole backup
    assert "Backed up" in during.stdout
    assert states[-1] != states[0]  # the replies were applied

    restored_url = empty_database()
    restore = RunCli(tmp_path)
    restore.env["IEP_FOLLOWUP_DATABASE_URL"] = restored_url
    assert "Restored" in restore("restore", str(tmp_path / "during.backup")).stdout
    with Tracker(make_settings(database_url=restored_url), clock=clock) as restored:
        restored.database.require_current()
        snapshot = _items(restored)
    assert snapshot in states[1:]  # one consistent moment, after some replies: no half reply

    # Once the replies are in: backed up, restored, and `status --json` is identical.
    run("backup", str(tmp_path / "after.backup"))
    final_url = empty_database()
    restore.env["IEP_FOLLOWUP_DATABASE_URL"] = final_url
    restore("restore", str(tmp_path / "after.backup"))
    original = run("status", "--json").stdout
    assert restore("status", "--json").stdout == original
    assert json.loads(original) == json.loads(states[-1])


def test_restore_refuses_a_database_that_is_not_empty(
    make_tracker: Callable[..., Tracker], database_url: str, tmp_path: Path
) -> None:
    make_tracker().record_meeting(example_with_tasks())
    run = RunCli(tmp_path)
    run.env["IEP_FOLLOWUP_DATABASE_URL"] = database_url
    run("backup", str(tmp_path / "copy.backup"))
    again = run("backup", str(tmp_path / "copy.backup"), check=False)
    assert again.returncode == 1 and "already exists" in again.stderr
    refused = run("restore", str(tmp_path / "copy.backup"), check=False)
    assert refused.returncode == 1
    assert "is not empty" in refused.stderr
