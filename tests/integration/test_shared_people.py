"""People are shared, authority is not (issue 26, finding 2), on SQLite and PostgreSQL.

A meeting recorded for one caseload adds an existing person to a new team but never rewrites
them where they sit on another caseload's team; an away date set from one student applies to
that student's check-ins only.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, create_engine, event, text

from iep_followup.config import Settings
from iep_followup.desk import MemberAction, MemberChange, Reader
from iep_followup.domain import MeetingKind, MeetingRecord, Role, StudentInfo
from iep_followup.store.db import Database
from iep_followup.tracker import Tracker
from tests.conftest import Clock, _truncate_postgres, make_member, make_record

MEETING = datetime(2026, 11, 16, 21, 0, tzinfo=UTC)  # Monday 15:00 in Chicago
NEXT_MONDAY = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)  # 08:30 in Chicago
KEISHA = "keisha.case@school.example.org"
DANA = "dana.case@school.example.org"
GUARDIAN = "rosa@home.example.com"  # owns Mateo's homework item (make_record's parent)
TEACHER = "karen.sped@school.example.org"  # owns Mateo's reading item


def mateos_meeting() -> MeetingRecord:
    """Mateo, on Keisha's caseload: make_record's team and items, Keisha as case manager."""
    record = make_record(student=StudentInfo("S-MATEO", "Mateo Díaz", "Lincoln Elementary", "3"))
    members = tuple(
        make_member("Keisha Case", Role.CASE_MANAGER, email=KEISHA)
        if m.role is Role.CASE_MANAGER
        else m
        for m in record.members
    )
    return dataclasses.replace(record, members=members)


def danas_new_student(**guardian: Any) -> MeetingRecord:
    """A new student on Dana's caseload whose file lists Mateo's guardian and teacher."""
    return make_record(
        student=StudentInfo("S-NEW", "Nora Quinn", "Lincoln Elementary", "2"),
        kind=MeetingKind.INITIAL,
        members=(
            make_member("Dana Case", Role.CASE_MANAGER, email=DANA),
            make_member("Tom Teacher", Role.CLASSROOM_TEACHER),
            make_member("Karen Sped", Role.SPECIAL_EDUCATION_TEACHER, away_until=date(2099, 1, 1)),
            make_member("Megan Ot", Role.OCCUPATIONAL_THERAPIST),
            dataclasses.replace(
                make_member("Rosa Parent", Role.PARENT, email=GUARDIAN, language="es"), **guardian
            ),
        ),
    )


def _member(tracker: Tracker, student: str, email: str) -> tuple[str, str]:
    found = next(m for m in tracker.student_status(student).members if m.email == email)
    return found.name, found.language


def _asked(tracker: Tracker) -> dict[str, int]:
    """Per owner, how many items a requests run would ask about now."""
    run = tracker.request_updates(dry_run=True)
    return {line.email: line.items for line in run.lines if line.action == "ask"}


def test_a_new_students_meeting_keeps_another_caseloads_guardian_as_she_is(
    make_tracker: Callable[..., Tracker], clock: Clock
) -> None:
    clock.now = MEETING
    tracker = make_tracker()
    tracker.record_meeting(mateos_meeting())
    before = _member(tracker, "S-MATEO", GUARDIAN)
    result = tracker.record_meeting(
        danas_new_student(name="Someone Else", language="en", away_until=date(2099, 1, 1))
    )
    # She joins the new team; on Keisha's pages she is who she was.
    assert _member(tracker, "S-MATEO", GUARDIAN) == before == ("Rosa Parent", "es")
    assert _member(tracker, "S-NEW", GUARDIAN) == before
    assert [k for k in result.kept if GUARDIAN in k] == [
        f"kept {GUARDIAN}'s name, language as they are: they are on another caseload's team"
        " too (an administrator may change them)"
    ]
    assert not any("changed" in c and GUARDIAN in c for c in result.changes)
    # Away from Nora's team only: Mateo's check-ins still ask her (and the teacher).
    clock.now = NEXT_MONDAY
    asked = _asked(tracker)
    assert asked[GUARDIAN] == 1  # Mateo's homework item; Nora's is silenced until 2099
    assert asked[TEACHER] == 1  # Mateo's reading item; Nora's is silenced until 2099
    # An administrator may change them.
    clock.now = MEETING
    again = tracker.record_meeting(
        danas_new_student(name="Rosa Parent-Díaz", language="es"), as_admin=True
    )
    assert again.kept == ()
    assert _member(tracker, "S-MATEO", GUARDIAN) == ("Rosa Parent-Díaz", "es")


def test_a_meeting_on_her_own_caseload_still_updates_her_people(
    make_tracker: Callable[..., Tracker], clock: Clock
) -> None:
    clock.now = MEETING
    tracker = make_tracker()
    tracker.record_meeting(danas_new_student())
    second = dataclasses.replace(
        danas_new_student(name="Rosa María Parent"),
        student=StudentInfo("S-NEW-2", "Otto Quinn", "Lincoln Elementary", "4"),
    )
    result = tracker.record_meeting(second)
    assert result.kept == ()
    assert _member(tracker, "S-NEW", GUARDIAN) == ("Rosa María Parent", "es")


def test_away_set_on_the_desk_from_one_student_silences_that_students_items_only(
    make_tracker: Callable[..., Tracker], clock: Clock
) -> None:
    clock.now = MEETING
    tracker = make_tracker(admins="admin@district.example.org")
    tracker.record_meeting(mateos_meeting())
    tracker.record_meeting(danas_new_student())
    clock.now = NEXT_MONDAY
    assert _asked(tracker)[GUARDIAN] == 2
    guardian = next(m for m in tracker.student_status("S-NEW").members if m.email == GUARDIAN)
    dana = Reader(DANA, "Dana Case", "en", is_admin=False)
    away = MemberAction(MemberChange.AWAY, date(2099, 1, 1))
    tracker.desk_change_member(dana, "S-NEW", guardian.person_id, away, client="test")
    assert _asked(tracker)[GUARDIAN] == 1  # Mateo's item still asked about
    assert tracker.desk_student(dana, "S-NEW", client="test").team[-1].away_until == date(
        2099, 1, 1
    )
    keisha = Reader(KEISHA, "Keisha Case", "en", is_admin=False)
    assert all(
        m.away_until is None for m in tracker.desk_student(keisha, "S-MATEO", client="test").team
    )
    # The desk's form reads the date back from that team only.
    assert {m.email: m.away_until for m in tracker.desk_latest_meeting(dana, "S-NEW").members}[
        GUARDIAN
    ] == date(2099, 1, 1)


def test_the_migration_copies_a_persons_away_date_to_each_of_their_teams(
    database_url: str,
) -> None:
    from alembic import command

    from iep_followup.store.db import _alembic_config

    database = Database(database_url)
    try:
        with database.engine.begin() as connection:
            config = _alembic_config(database_url)
            config.attributes["connection"] = connection
            command.downgrade(config, "0011")
            connection.execute(
                text(
                    "INSERT INTO person (id, name, email, language, away_until, created_at,"
                    " soft_bounces) VALUES (901, 'Ana', 'ana@example.org', 'en', '2027-01-05',"
                    " :now, 0), (902, 'Bo', 'bo@example.org', 'en', NULL, :now, 0)"
                ),
                {"now": MEETING},
            )
            connection.execute(
                text(
                    "INSERT INTO student (id, external_id, name, school, grade, created_at)"
                    " VALUES (901, 'S-A', 'A', '', '', :now), (902, 'S-B', 'B', '', '', :now)"
                ),
                {"now": MEETING},
            )
            connection.execute(
                text(
                    "INSERT INTO membership (student_id, person_id, role) VALUES"
                    " (901, 901, 'parent'), (902, 901, 'parent'), (902, 902, 'parent')"
                )
            )
        database.migrate()
        with database.engine.connect() as connection:
            rows = connection.execute(
                text("SELECT student_id, person_id, away_until FROM membership ORDER BY 1, 2")
            ).all()
        assert [(s, p, str(a) if a else None) for s, p, a in rows] == [
            (901, 901, "2027-01-05"),
            (902, 901, "2027-01-05"),
            (902, 902, None),
        ]
    finally:
        database.dispose()


def test_two_imports_adding_the_same_new_person_at_once_both_succeed_on_postgresql(
    postgres_url: str, make_settings: Callable[..., Settings], clock: Clock
) -> None:
    """Import A has added the new people and is about to commit; import B, started then, finds
    no one yet and adds them too: its insert waits for A's commit, then finds them."""
    _truncate_postgres(postgres_url)
    clock.now = MEETING
    first, second = (
        Tracker(make_settings(database_url=postgres_url), clock=clock) for _ in range(2)
    )
    watcher = create_engine(postgres_url)
    a_added, failures = threading.Event(), []
    inserted = threading.Event()

    def saw_insert(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO PERSON"):
            inserted.set()

    def before_commit(conn: object) -> None:
        if inserted.is_set() and not a_added.is_set():
            a_added.set()
            _wait_for_a_lock_wait(watcher)  # B is stuck on A's uncommitted person

    def run(tracker: Tracker, record: MeetingRecord) -> None:
        try:
            tracker.record_meeting(record)
        except Exception as exc:
            failures.append(exc)

    event.listen(first.database.engine, "after_cursor_execute", saw_insert)
    event.listen(first.database.engine, "commit", before_commit)
    try:
        a = threading.Thread(target=run, args=(first, danas_new_student()))
        a.start()
        assert a_added.wait(30)
        other = dataclasses.replace(
            danas_new_student(), student=StudentInfo("S-NEW-2", "Otto Quinn", "Lincoln", "4")
        )
        b = threading.Thread(target=run, args=(second, other))
        b.start()
        a.join(60)
        b.join(60)
    finally:
        event.remove(first.database.engine, "after_cursor_execute", saw_insert)
        event.remove(first.database.engine, "commit", before_commit)
        watcher.dispose()
    assert failures == []
    for student in ("S-NEW", "S-NEW-2"):
        assert _member(first, student, GUARDIAN) == ("Rosa Parent", "es")
    with first.database.engine.connect() as connection:
        count = connection.execute(
            text("SELECT count(*) FROM person WHERE email = :e"), {"e": GUARDIAN}
        ).scalar_one()
    assert count == 1
    first.close()
    second.close()


def _wait_for_a_lock_wait(watcher: Engine) -> None:
    """Until another session of this database waits on a lock (at most ten seconds)."""
    deadline = time.monotonic() + 10
    with watcher.connect() as connection:
        while time.monotonic() < deadline:
            waiting = connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
            connection.rollback()
            if waiting:
                return
            time.sleep(0.02)
    raise AssertionError("the second import never waited on the first")
