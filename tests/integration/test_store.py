"""Recording meetings and updates against a real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

import dataclasses
import traceback
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from iep_followup.balance import WarningKind
from iep_followup.config import Settings
from iep_followup.domain import ConcernInfo, ItemInfo, ItemStatus, Role, UpdateInput, UpdateSource
from iep_followup.errors import NotFoundError, StoreRefusedError, ValidationError
from iep_followup.mail.kinds import OutboxStatus
from iep_followup.meetingfile import load_meeting_file
from iep_followup.store import outbox
from iep_followup.store.db import Database
from iep_followup.store.models import Student
from iep_followup.tracker import Tracker
from tests.conftest import EXAMPLE, UNBALANCED, Clock, make_member, make_record
from tests.faults_support import queue_bulk


def _item(tracker: Tracker, key: str) -> int:
    return next(i.id for i in tracker.items() if i.key == key)


def test_recording_a_meeting_stores_team_strengths_and_items(tracker: Tracker) -> None:
    result = tracker.record_meeting(make_record())
    assert result.created
    status = tracker.student_status("S-1")
    assert status.strengths == ("Lucía is polite.",)
    assert {m.role for m in status.members} >= {Role.CASE_MANAGER, Role.PARENT}
    assert sorted(i.key for i in status.items) == ["grip", "homework-check", "reading"]
    homework = next(i for i in status.items if i.key == "homework-check")
    assert (homework.owner_email, homework.owner_role, homework.status) == (
        "rosa@home.example.com",
        Role.PARENT,
        ItemStatus.OPEN,
    )


def test_recording_the_same_meeting_twice_changes_nothing(tracker: Tracker) -> None:
    tracker.record_meeting(make_record())
    before = tracker.items()
    again = tracker.record_meeting(make_record())
    assert (again.created, again.changes) == (False, ())
    assert tracker.items() == before


def test_a_changed_meeting_updates_without_duplicating(tracker: Tracker, clock: Clock) -> None:
    tracker.record_meeting(make_record())
    base = make_record()
    homework, reading = base.concerns
    grip = reading.items[1]
    changed_reading = dataclasses.replace(
        reading,
        items=(
            dataclasses.replace(reading.items[0], due_on=date(2027, 5, 28)),
            dataclasses.replace(
                grip, owner="karen.sped@school.example.org", title="Pencil grip practice"
            ),
        ),
    )
    new_concern = ConcernInfo(
        "math",
        "Math facts",
        None,
        (ItemInfo("flash", "Flash cards", "tom.teacher@school.example.org", date(2027, 2, 1)),),
    )
    clock.now += timedelta(days=1)
    result = tracker.record_meeting(
        dataclasses.replace(base, concerns=(changed_reading, new_concern))
    )
    assert not result.created
    assert "added item flash" in result.changes and "dropped item homework-check" in result.changes
    items = {i.key: i for i in tracker.items()}
    assert len(items) == 4
    assert items["reading"].due_on == date(2027, 5, 28)
    assert (items["grip"].owner_email, items["grip"].title) == (
        "karen.sped@school.example.org",
        "Pencil grip practice",
    )
    assert items["homework-check"].status is ItemStatus.DROPPED
    history = tracker.history(items["grip"].id)
    assert history[-1].note == "Reassigned from Megan Ot to Karen Sped."
    assert homework.key == "homework"


def test_a_rejected_meeting_writes_nothing(tracker: Tracker) -> None:
    tracker.record_meeting(make_record())
    # An amendment gives Rosa an open item of its own...
    tracker.record_meeting(make_record(held_on=date(2026, 12, 1), kind="amendment"))
    before = tracker.items()
    # ...so a new version of the first meeting cannot take her off the team. Nothing of it is kept,
    # not even the student's new name that came before the failing step.
    without_rosa = make_record(
        members=tuple(m for m in make_record().members if m.role is not Role.PARENT),
        concerns=(make_record().concerns[1],),
        student=dataclasses.replace(make_record().student, name="Renamed"),
    )
    with pytest.raises(ValidationError, match="still owns open items"):
        tracker.record_meeting(without_rosa)
    assert tracker.student_status("S-1").name == "Lucía Herrera"
    assert tracker.items() == before


def test_updates_move_the_item_and_keep_history(tracker: Tracker, clock: Clock) -> None:
    tracker.record_meeting(make_record())
    item_id = _item(tracker, "reading")
    tracker.record_update(item_id, UpdateInput(percent=50), by="karen.sped@school.example.org")
    clock.now += timedelta(hours=1)
    view = tracker.record_update(
        item_id, UpdateInput(percent=100, note="Reads at grade level"), source=UpdateSource.CLI
    )
    assert (view.status, view.percent, view.last_update_note) == (
        ItemStatus.DONE,
        100,
        "Reads at grade level",
    )
    history = tracker.history(item_id)
    assert [(h.status, h.percent, h.source) for h in history] == [
        (ItemStatus.IN_PROGRESS, 50, "api"),
        (ItemStatus.DONE, 100, "cli"),
    ]
    assert history[0].author_name == "Karen Sped"
    assert tracker.open_items("karen.sped@school.example.org") == []


def test_blocked_then_rescheduled_then_closed(tracker: Tracker) -> None:
    tracker.record_meeting(make_record())
    item_id = _item(tracker, "grip")
    assert (
        tracker.record_update(
            item_id, UpdateInput(status=ItemStatus.BLOCKED, note="no slant board")
        ).status
        is ItemStatus.BLOCKED
    )
    assert tracker.reschedule_item(item_id, date(2027, 4, 1)).due_on == date(2027, 4, 1)
    with pytest.raises(ValidationError, match="before the meeting"):
        tracker.reschedule_item(item_id, date(2026, 1, 1))
    assert (
        tracker.close_item(item_id, dropped=True, note="moved to a new plan").status
        is ItemStatus.DROPPED
    )


def test_one_person_across_several_students(tracker: Tracker) -> None:
    tracker.record_meeting(make_record())
    second = make_record(
        student=dataclasses.replace(make_record().student, external_id="S-2", name="Marco")
    )
    tracker.record_meeting(second)
    karen = tracker.open_items("KAREN.SPED@school.example.org")
    assert sorted(i.student_external_id for i in karen) == ["S-1", "S-2"]


def test_step_by_step_recording(tracker: Tracker) -> None:
    meeting_id = tracker.start_meeting(make_record().student, date(2026, 11, 16), "annual review")
    for member in make_record().members:
        tracker.add_member("S-1", member)
    tracker.add_strength(meeting_id, make_record().strengths[0])
    [item] = tracker.add_concern(meeting_id, make_record().concerns[0])
    assert item.owner_role is Role.PARENT
    extra = tracker.add_item(
        meeting_id,
        "homework",
        ItemInfo(
            "folder", "Send the folder home", "tom.teacher@school.example.org", date(2027, 1, 8)
        ),
    )
    assert extra.concern == "Does not turn in homework."
    with pytest.raises(NotFoundError, match="is on any team"):
        tracker.add_item(
            meeting_id, "homework", ItemInfo("x", "x", "nobody@else.example.org", date(2027, 1, 8))
        )
    with pytest.raises(NotFoundError):
        tracker.add_item(
            meeting_id,
            "nope",
            ItemInfo("y", "y", "tom.teacher@school.example.org", date(2027, 1, 8)),
        )
    assert (
        tracker.start_meeting(make_record().student, date(2026, 11, 16), "annual_review")
        == meeting_id
    )


def test_reassigning_to_someone_off_the_team_is_refused(tracker: Tracker) -> None:
    tracker.record_meeting(make_record())
    tracker.record_meeting(
        make_record(
            student=dataclasses.replace(make_record().student, external_id="S-2"),
            members=(*make_record().members, make_member("Other Kid Parent", Role.PARENT)),
        )
    )
    item_id = _item(tracker, "grip")
    with pytest.raises(ValidationError, match="not on this student's team"):
        tracker.reassign_item(item_id, "other.kid.parent@school.example.org")
    assert (
        tracker.reassign_item(item_id, "tom.teacher@school.example.org").owner_role
        is Role.CLASSROOM_TEACHER
    )


def test_balance_from_the_example_files(tracker: Tracker) -> None:
    tracker.record_meeting(load_meeting_file(EXAMPLE))
    [lucia] = tracker.balance()
    assert not lucia.warnings  # every member has a part, no one too much
    tracker.record_meeting(load_meeting_file(UNBALANCED))
    [noah] = tracker.balance("S-2026-0533")
    warned = {(w.kind, w.email.split("@")[0]) for w in noah.warnings}
    assert warned == {
        (WarningKind.NO_RESPONSIBILITY, "dana.whitfield"),
        (WarningKind.NO_RESPONSIBILITY, "paul.brennan"),
        (WarningKind.OVERLOADED, "grace.lind"),
    }
    with pytest.raises(NotFoundError):
        tracker.balance("S-unknown")


def test_unknown_item_is_a_clear_error(tracker: Tracker) -> None:
    with pytest.raises(NotFoundError, match="no action item 999"):
        tracker.record_update(999, UpdateInput(note="x"))


def _assert_short_and_private(error: StoreRefusedError) -> None:
    message = str(error)
    assert "\n" not in message and len(message) < 200
    for private in ("INSERT", "SELECT", "Lucía", "Herrera", "autism"):
        assert private not in message
    # Not even the traceback (-v) shows the values: the engines hide SQL parameters.
    assert "Lucía Herrera" not in "".join(traceback.format_exception(error))


def test_a_write_the_database_refuses_is_one_short_error_without_sql_or_values(
    tracker: Tracker, clock: Clock
) -> None:
    tracker.record_meeting(make_record())
    with (
        pytest.raises(StoreRefusedError, match="conflicts with what was stored") as duplicate,
        tracker.database.transaction() as session,
    ):
        session.add(Student(external_id="S-1", name="Lucía Herrera", created_at=clock.now))
    _assert_short_and_private(duplicate.value)

    # A value past the domain's checks (a bug): PostgreSQL refuses it, SQLite stores any length.
    record = make_record(student=dataclasses.replace(make_record().student, external_id="S-2"))
    object.__setattr__(record.student, "grade", "7th grade, self-contained autism program")
    if tracker.database.dialect == "postgresql":
        with pytest.raises(StoreRefusedError, match="This is a bug") as too_long:
            tracker.record_meeting(record)
        _assert_short_and_private(too_long.value)


def test_migrations_match_the_models(database_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    from iep_followup.store.db import Database

    database = Database(database_url)
    with database.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata
        )
    database.dispose()
    assert diff == []


def test_a_writer_that_does_not_wait_for_the_flush_commits_each_mark_and_resets_its_connection(
    database_url: str,
) -> None:
    queue_bulk(database_url, 2, prefix="writer")
    database = Database(database_url)
    now = datetime.now(UTC) + timedelta(seconds=1)
    try:
        with database.transaction() as session:
            claimed = outbox.claim(session, now, timedelta(minutes=5), 10)
        assert len(claimed) == 2
        with database.writer(wait_for_flush=False) as writer:
            for sent, message in enumerate(claimed, 1):
                with writer.transaction() as connection:
                    outbox.mark_sent(connection, message.id, now)
                # Committed at once: another connection sees it while the writer stays open.
                with database.transaction() as session:
                    assert outbox.counts(session)[OutboxStatus.SENT] == sent
        if database.dialect == "postgresql":
            # Every pooled connection is back to waiting for the flush.
            with database.engine.connect() as one, database.engine.connect() as two:
                settings = {
                    c.exec_driver_sql("SHOW synchronous_commit").scalar() for c in (one, two)
                }
            assert settings == {"on"}
    finally:
        database.dispose()


@pytest.mark.postgres
def test_postgresql_sessions_run_without_jit_and_keep_the_urls_own_options(
    postgres_url: str,
) -> None:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    url = make_url(postgres_url).update_query_dict({"options": "-c statement_timeout=4321"})
    database = Database(url.render_as_string(hide_password=False))
    try:
        # The URL the administrator sees (in `status`, the daemon's log) is the one they gave.
        assert "jit" not in database.engine.url.render_as_string(hide_password=True)
        with database.engine.connect() as conn:
            assert conn.execute(text("SHOW jit")).scalar() == "off"
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "4321ms"
    finally:
        database.dispose()


def test_upgrading_a_sqlite_database_that_rebuilds_a_table_keeps_the_rows_that_refer_to_it(
    tmp_path: Path, make_settings: Callable[..., Settings], clock: Clock
) -> None:
    """A migration that rebuilds `action_item` on SQLite (0014 makes concern_id nullable) drops
    the old table; with foreign keys on, that cascaded to every update and request line."""
    from alembic import command
    from sqlalchemy import text

    from iep_followup.store.db import _alembic_config, _driver

    url = f"sqlite:///{tmp_path / 'old.db'}"
    fresh = Database(url)
    fresh.migrate()
    fresh.dispose()
    with Tracker(make_settings(database_url=url), clock=clock) as tracker:
        tracker.record_meeting(load_meeting_file(EXAMPLE))
        item = tracker.student_status("S-2026-0417").items[0]
        tracker.record_update(
            item.id, UpdateInput(note="before the upgrade"), source=UpdateSource.CLI
        )
    database = Database(url)
    count = (
        "SELECT count(*) FROM item_update u JOIN action_item a ON a.id = u.item_id"
        " WHERE a.concern_id IS NOT NULL"
    )
    try:
        with database.engine.connect() as connection:
            before = connection.execute(text(count)).scalar_one()
        assert before >= 1
        with database.engine.connect() as connection:
            # Back to before 0014 as an older release left it (the downgrade itself rebuilds).
            _driver(connection).execute("PRAGMA foreign_keys=OFF")
            with connection.begin():
                config = _alembic_config(url)
                config.attributes["connection"] = connection
                command.downgrade(config, "0013")
            _driver(connection).execute("PRAGMA foreign_keys=ON")
        assert database.migrate() == ["0014", "0015"]
        with database.engine.connect() as connection:
            assert connection.execute(text(count)).scalar_one() == before
            assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    finally:
        database.dispose()
