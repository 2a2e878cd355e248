"""Shared fixtures: a real SQLite file and a real PostgreSQL database, and factories with overrides."""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from iep_followup.config import Settings
from iep_followup.domain import (
    Cadence,
    ConcernInfo,
    ItemInfo,
    ItemKind,
    MeetingKind,
    MeetingRecord,
    MemberInfo,
    Role,
    StrengthInfo,
    StudentInfo,
)
from iep_followup.meetingfile import load_meeting_file
from iep_followup.store.db import Database
from iep_followup.tracker import Tracker

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "lucia-annual-review.yaml"
UNBALANCED = ROOT / "examples" / "unbalanced-meeting.yaml"  # the balance check's warnings
PG_ADMIN_URL = os.environ.get(
    "IEP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() == "true"


def example_with_tasks(*keys: str, accommodations: bool = True) -> MeetingRecord:
    """The example meeting with these routines made one-time tasks: for tests of task behaviour
    (a percent, "done" closing the item) on items the example keeps as routines. Without
    `accommodations`, each owner's request lists only their own items (one each, mostly)."""
    record = load_meeting_file(EXAMPLE)
    concerns = tuple(
        dataclasses.replace(
            c,
            items=tuple(
                # A task has no sessions: only a service (a routine with minutes) counts them.
                dataclasses.replace(i, kind=ItemKind.TASK, sessions_per_week=None)
                if i.key in keys
                else i
                for i in c.items
            ),
        )
        for c in record.concerns
    )
    assert {i.key for c in concerns for i in c.items} >= set(keys)
    kept = record.accommodations if accommodations else ()
    return dataclasses.replace(record, concerns=concerns, accommodations=kept)


def readme_library_example() -> str:
    """The Python code of the README's "Using the library" section."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Using the library", 1)[1]
    return section.split("```python", 1)[1].split("```", 1)[0]


def require_service(available: bool, reason: str) -> None:
    """Skip locally when a server is missing; in CI a missing server is a failure."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this test must run)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for the session, migrated once, dropped at the end."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"iep_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        require_service(
            False, f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {str(exc.orig).strip()}"
        )
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    database = Database(url)
    database.migrate()
    database.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = [
            row[0]
            for row in conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                )
            )
        ]
        if tables:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same store tests run on a real SQLite file and on a real PostgreSQL database."""
    if request.param == "sqlite":
        sqlite_url = f"sqlite:///{tmp_path / 'iep.db'}"
        database = Database(sqlite_url)
        database.migrate()
        database.dispose()
        return sqlite_url
    pg_url: str = request.getfixturevalue("postgres_url")
    _truncate_postgres(pg_url)
    return pg_url


class Clock:
    """A settable clock for trackers under test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 17, 14, 0, tzinfo=UTC))


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": f"sqlite:///{tmp_path / 'iep.db'}",
            "mail_dir": tmp_path / "mail",
            "secret_key": "test-secret-key-with-enough-length-0123456789",
            "timezone": "America/Chicago",
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)

    return make


@pytest.fixture
def tracker(
    database_url: str, make_settings: Callable[..., Settings], clock: Clock
) -> Iterator[Tracker]:
    with Tracker(make_settings(database_url=database_url), clock=clock) as t:
        yield t


def make_member(name: str, role: Role | str, **overrides: Any) -> MemberInfo:
    email = overrides.pop("email", f"{name.lower().replace(' ', '.')}@school.example.org")
    return MemberInfo(name=name, email=email, role=Role(role), **overrides)


def make_record(**overrides: Any) -> MeetingRecord:
    """Lucía's meeting, small and complete; override any field."""
    members = (
        make_member("Dana Case", Role.CASE_MANAGER),
        make_member("Tom Teacher", Role.CLASSROOM_TEACHER),
        make_member("Karen Sped", Role.SPECIAL_EDUCATION_TEACHER),
        make_member("Megan Ot", Role.OCCUPATIONAL_THERAPIST),
        make_member("Rosa Parent", Role.PARENT, email="rosa@home.example.com", language="es"),
    )
    values: dict[str, Any] = {
        "student": StudentInfo("S-1", "Lucía Herrera", "Lincoln Elementary", "3"),
        "held_on": date(2026, 11, 16),
        "kind": MeetingKind.ANNUAL_REVIEW,
        "members": members,
        "strengths": (StrengthInfo("Lucía is polite.", "tom.teacher@school.example.org"),),
        "concerns": (
            ConcernInfo(
                "homework",
                "Does not turn in homework.",
                None,
                (
                    ItemInfo(
                        "homework-check",
                        "Check homework each night",
                        "rosa@home.example.com",
                        date(2027, 1, 29),
                    ),
                ),
            ),
            ConcernInfo(
                "reading",
                "Reads below grade level.",
                None,
                (
                    ItemInfo(
                        "reading",
                        "Read one-on-one 45 minutes a week",
                        "karen.sped@school.example.org",
                        date(2027, 6, 4),
                        Cadence.WEEKLY,
                        45,
                    ),
                    ItemInfo(
                        "grip",
                        "Pencil grip",
                        "megan.ot@school.example.org",
                        date(2027, 3, 5),
                        Cadence.EVERY_TWO_WEEKS,
                    ),
                ),
            ),
        ),
    }
    values.update(overrides)
    return MeetingRecord(**values)


@pytest.fixture
def smtp_server() -> Iterator[Any]:
    """A real SMTP server on loopback that records what it receives."""
    from tests.smtp_server import SmtpServer

    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def make_tracker(
    database_url: str, make_settings: Callable[..., Settings], clock: Clock
) -> Iterator[Callable[..., Tracker]]:
    """Trackers on the test database with settings overrides; all closed at the end of the test."""
    made: list[Tracker] = []

    def make(**overrides: Any) -> Tracker:
        tracker = Tracker(make_settings(database_url=database_url, **overrides), clock=clock)
        made.append(tracker)
        return tracker

    yield make
    for tracker in made:
        tracker.close()
