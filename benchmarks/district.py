"""A seeded synthetic district, bulk-inserted (SQLAlchemy Core executemany): not part of any timing.

Schools of 200 students. Each student has about eight team members and exactly eight
action items; staff are shared within a school with realistic loads (a case manager
serves about 20 students, a classroom teacher about 25, a therapist about 50); parents
are unique per student and about a third of families prefer Spanish. Every item is
weekly and was last touched eight days before the cycle, so the cycle asks every owner.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, text
from sqlmodel import SQLModel

from benchmarks.harness import REQUESTS_AT
from iep_followup.domain import Cadence, ItemStatus, MeetingKind, Role
from iep_followup.store import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from iep_followup.store.db import create_db_engine

SCHOOL_SIZE = 200
ITEMS_PER_STUDENT = 8
SPANISH_SHARE = 0.3
SECOND_PARENT_SHARE = 0.6

# (role, students per person, share of students whose team has one)
STAFF: tuple[tuple[Role, int, float], ...] = (
    (Role.CLASSROOM_TEACHER, 25, 1.0),
    (Role.SPECIAL_EDUCATION_TEACHER, 25, 1.0),
    (Role.CASE_MANAGER, 20, 1.0),
    (Role.SPEECH_LANGUAGE_PATHOLOGIST, 50, 0.7),
    (Role.OCCUPATIONAL_THERAPIST, 50, 0.5),
    (Role.PHYSICAL_THERAPIST, 50, 0.15),
    (Role.SCHOOL_PSYCHOLOGIST, 100, 1.0),
    (Role.ADMINISTRATOR, 200, 1.0),
)

FIRST = ("Ava", "Liam", "Mia", "Noah", "Zoe", "Eli", "Ruby", "Owen", "Nora", "Jude", "Ivy", "Leo")
LAST = ("Miller", "Okafor", "Nguyen", "Patel", "Walsh", "Kim", "Brooks", "Reyes", "Shah", "Cole")
FIRST_ES = ("Lucía", "Mateo", "Sofía", "Diego", "Valentina", "Santiago", "Camila", "Emilio")
LAST_ES = ("Herrera", "García", "Martínez", "López", "Ramírez", "Torres", "Flores", "Rivera")
STRENGTHS = (
    "{first} is kind to other children and helps them without being asked.",
    "{first} reads aloud with confidence.",
    "{first} loves building things and explains how they work.",
    "{first} keeps trying when a task is hard.",
    "{first} has a great memory for stories.",
    "{first} is polite to adults and to other children.",
)
CONCERNS = (
    "{first} does not turn in homework.",
    "{first} finds long reading passages hard.",
    "{first} gets upset when the class changes activity.",
)
TITLES: dict[Role, str] = {
    Role.PARENT: "Check {first}'s homework each night and sign the planner",
    Role.GUARDIAN: "Read with {first} for 20 minutes at home",
    Role.CLASSROOM_TEACHER: "Give {first} a written list of the day's tasks",
    Role.SPECIAL_EDUCATION_TEACHER: "Read one-on-one with {first} 45 minutes a week",
    Role.CASE_MANAGER: "Send the family a short note on progress each week",
    Role.SPEECH_LANGUAGE_PATHOLOGIST: "Practise {first}'s speech sounds twice a week",
    Role.OCCUPATIONAL_THERAPIST: "Work on {first}'s pencil grip in therapy",
    Role.PHYSICAL_THERAPIST: "Practise stairs and balance with {first}",
    Role.SCHOOL_PSYCHOLOGIST: "Meet {first} each week to practise calming steps",
}
MINUTES = {
    Role.SPECIAL_EDUCATION_TEACHER: 45,
    Role.SPEECH_LANGUAGE_PATHOLOGIST: 60,
    Role.OCCUPATIONAL_THERAPIST: 30,
    Role.PHYSICAL_THERAPIST: 30,
}
# Who gets an item first: the family, then the classroom, then specialists; a second
# round goes to the same order when the team is small.
ITEM_ORDER = (
    Role.PARENT,
    Role.GUARDIAN,
    Role.CLASSROOM_TEACHER,
    Role.SPECIAL_EDUCATION_TEACHER,
    Role.CASE_MANAGER,
    Role.SPEECH_LANGUAGE_PATHOLOGIST,
    Role.OCCUPATIONAL_THERAPIST,
    Role.PHYSICAL_THERAPIST,
    Role.SCHOOL_PSYCHOLOGIST,
)  # the administrator (the district's representative) attends but owns nothing


@dataclass
class _Rows:
    """One school's rows per table, with ids assigned here (no RETURNING round trips)."""

    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, table: str, row: dict[str, Any]) -> None:
        self.tables.setdefault(table, []).append(row)


@dataclass
class _Ids:
    next: dict[str, int] = field(default_factory=dict)

    def take(self, table: str) -> int:
        value = self.next.get(table, 1)
        self.next[table] = value + 1
        return value


@dataclass(frozen=True)
class Seeded:
    students: int
    people: int
    memberships: int
    items: int


TABLE_ORDER = ("person", "student", "meeting", "strength", "concern", "membership", "action_item")


def seed(database_url: str, size: int, seed_value: int = 20261117) -> Seeded:
    """Create the district in an empty, migrated database."""
    engine = create_db_engine(database_url)
    rng = random.Random(seed_value)
    ids = _Ids()
    totals = dict.fromkeys(TABLE_ORDER, 0)
    try:
        with engine.begin() as connection:
            for rows in _schools(size, rng, ids):
                _insert(connection, rows, totals)
            if engine.dialect.name == "postgresql":
                _reset_sequences(connection)
    finally:
        engine.dispose()
    analyze(database_url)
    return Seeded(totals["student"], totals["person"], totals["membership"], totals["action_item"])


def analyze(database_url: str) -> None:
    """On PostgreSQL, refresh the planner's statistics as autovacuum would after a bulk write.

    Run (untimed) after seeding and between stages. Where autovacuum is off, as on some test
    machines, the planner would otherwise take tables a stage has just filled for empty: a
    digest's item query took 280 ms instead of 15 after ingestion added 16,000 history rows.
    Only the tables autovacuum would analyze are analyzed (more rows changed since their last
    analysis than 50 + 10% of their rows): a table analyzed while still empty is planned as
    empty, so checking a foreign key into it during the next stage scanned the whole table,
    and the time per request grew with the district (x2.6 from 2,000 to 20,000 students).
    SQLite is left as deployed.
    """
    engine = create_db_engine(database_url)
    try:
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                for (name,) in connection.execute(_DUE_FOR_ANALYZE):
                    connection.execute(text(f'ANALYZE "{name}"'))
    finally:
        engine.dispose()


# autovacuum's rule with PostgreSQL's defaults (autovacuum_analyze_threshold 50,
# autovacuum_analyze_scale_factor 0.1).
_DUE_FOR_ANALYZE = text(
    "SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
    "WHERE s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0)"
)


def _insert(connection: Connection, rows: _Rows, totals: dict[str, int]) -> None:
    for name in TABLE_ORDER:
        batch = rows.tables.get(name, [])
        if batch:
            connection.execute(insert(SQLModel.metadata.tables[name]), batch)
            totals[name] += len(batch)


def _reset_sequences(connection: Connection) -> None:
    for name in TABLE_ORDER:
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {name}))"
            )
        )


def _schools(size: int, rng: random.Random, ids: _Ids) -> Iterator[_Rows]:
    for first in range(0, size, SCHOOL_SIZE):
        yield _school(first // SCHOOL_SIZE, min(SCHOOL_SIZE, size - first), rng, ids)


def _school(school: int, count: int, rng: random.Random, ids: _Ids) -> _Rows:
    rows = _Rows()
    created = REQUESTS_AT - timedelta(days=8)  # a week and a day ago: due for a weekly check-in
    teams: list[dict[Role, int]] = [{} for _ in range(count)]
    for role, load, share in STAFF:
        chosen = rng.sample(range(count), round(count * share))
        staff = [
            _person(rows, ids, role, f"{rng.choice(FIRST)} {rng.choice(LAST)}", "en", school)
            for _ in range(math.ceil(len(chosen) / load))
        ]
        for position, student in enumerate(chosen):
            teams[student][role] = staff[position // load]
    for number, team in enumerate(teams):
        spanish = rng.random() < SPANISH_SHARE
        first = rng.choice(FIRST_ES if spanish else FIRST)
        family = rng.choice(LAST_ES if spanish else LAST)
        language = "es" if spanish else "en"
        team[Role.PARENT] = _person(
            rows,
            ids,
            Role.PARENT,
            f"{rng.choice(FIRST_ES if spanish else FIRST)} {family}",
            language,
            school,
        )
        if rng.random() < SECOND_PARENT_SHARE:
            team[Role.GUARDIAN] = _person(
                rows,
                ids,
                Role.GUARDIAN,
                f"{rng.choice(FIRST_ES if spanish else FIRST)} {family}",
                language,
                school,
            )
        _student(rows, ids, rng, school, number, f"{first} {family}", team, created)
    return rows


def _person(rows: _Rows, ids: _Ids, role: Role, name: str, language: str, school: int) -> int:
    person_id = ids.take("person")
    domain = "families.example.org" if role.is_family else "district.example.org"
    rows.add(
        "person",
        {
            "id": person_id,
            "name": name,
            "email": f"{role.value.replace('_', '.')}.{person_id}@s{school}.{domain}",
            "language": language,
            "timezone": None,
            "created_at": REQUESTS_AT - timedelta(days=60),
            "soft_bounces": 0,
        },
    )
    return person_id


def _student(
    rows: _Rows,
    ids: _Ids,
    rng: random.Random,
    school: int,
    number: int,
    name: str,
    team: dict[Role, int],
    created: datetime,
) -> None:
    student_id = ids.take("student")
    first = name.split(maxsplit=1)[0]
    today: date = REQUESTS_AT.date()
    rows.add(
        "student",
        {
            "id": student_id,
            "external_id": f"S-{school:04d}-{number:03d}",
            "name": name,
            "school": f"School {school}",
            "grade": str(1 + number % 8),
            "created_at": created,
        },
    )
    meeting_id = ids.take("meeting")
    rows.add(
        "meeting",
        {
            "id": meeting_id,
            "student_id": student_id,
            "held_on": today - timedelta(days=30),
            "kind": MeetingKind.ANNUAL_REVIEW,
            "notes": "",
            "created_at": created,
            "updated_at": created,
        },
    )
    for position, strength in enumerate(rng.sample(STRENGTHS, 2)):
        rows.add(
            "strength",
            {
                "id": ids.take("strength"),
                "meeting_id": meeting_id,
                "position": position,
                "text": strength.format(first=first),
                "said_by_id": team[Role.CLASSROOM_TEACHER],
            },
        )
    concern_ids = []
    for position, concern in enumerate(CONCERNS):
        concern_ids.append(ids.take("concern"))
        rows.add(
            "concern",
            {
                "id": concern_ids[-1],
                "meeting_id": meeting_id,
                "key": f"concern-{position + 1}",
                "position": position,
                "text": concern.format(first=first),
                "raised_by_id": team[Role.PARENT],
            },
        )
    for role, person_id in team.items():
        rows.add(
            "membership",
            {
                "id": ids.take("membership"),
                "student_id": student_id,
                "person_id": person_id,
                "role": role,
            },
        )
    owners = [role for role in ITEM_ORDER if role in team]
    for number_in_plan in range(ITEMS_PER_STUDENT):
        role = owners[number_in_plan % len(owners)]
        roll = rng.random()
        status = (
            ItemStatus.OPEN
            if roll < 0.85
            else ItemStatus.IN_PROGRESS
            if roll < 0.97
            else ItemStatus.BLOCKED
        )
        overdue = rng.random() < 0.1
        rows.add(
            "action_item",
            {
                "id": ids.take("action_item"),
                "meeting_id": meeting_id,
                "concern_id": concern_ids[number_in_plan % len(concern_ids)],
                "student_id": student_id,
                "owner_id": team[role],
                "key": f"item-{number_in_plan + 1}",
                "title": TITLES[role].format(first=first)
                + ("" if number_in_plan < len(owners) else " (second part)"),
                "due_on": today
                + timedelta(days=-rng.randint(1, 20) if overdue else rng.randint(14, 150)),
                "cadence": Cadence.WEEKLY,
                "status": status,
                "percent": 25 if status is ItemStatus.IN_PROGRESS else 0,
                "service_minutes_per_week": MINUTES.get(role),
                "created_at": created,
                "closed_at": None,
            },
        )
