"""The desk stage: one case manager's caseload of STUDENTS students, rendered by the real app.

Untimed: the district's seeding (district.seed), every case manager's students given to the
first one, every owner asked, and three replies in four ingested, so that items have history
and the caseload has something to show. Timed: GET of the caseload page and of each
student's page through the ASGI app in this process (Starlette's TestClient: no socket, no
server), signed in as that case manager, after WARMUP untimed requests. Each GET's wall time
decides the target; its CPU time (this process's, every thread) and the machine's load
average are printed beside it, because other work on a shared machine stretches wall time.
"""

from __future__ import annotations

import os
import re
import statistics
import time
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlmodel import SQLModel
from starlette.testclient import TestClient

from benchmarks import district
from benchmarks.harness import (
    DIGESTS_AT,
    REPLIES_AT,
    REQUESTS_AT,
    BenchConfig,
    QueryCounter,
    make_tracker,
    read_records,
)
from benchmarks.mailbags import spool_replies
from iep_followup.domain import Role
from iep_followup.store.db import create_db_engine
from iep_followup.web import create_app

STUDENTS = 50
TARGET_MS = 100.0
REQUESTS = 100  # timed GETs per page
WARMUP = 5
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_STUDENT_LINK = re.compile(r'href="(/students/[^"?#]+)"')


@dataclass(frozen=True)
class PageTiming:
    page: str
    requests: int
    p50_ms: float
    p95_ms: float
    worst_ms: float
    cpu_p50_ms: float
    statements: int  # the most one GET sent

    @property
    def verdict(self) -> str:
        return "met" if self.p95_ms < TARGET_MS else "missed"


def prepare(config: BenchConfig) -> str:
    """One case manager for every student; asked and (mostly) answered. Her address."""
    engine = create_db_engine(config.database_url)
    membership = SQLModel.metadata.tables["membership"]
    person = SQLModel.metadata.tables["person"]
    try:
        with engine.begin() as connection:
            first = connection.execute(
                select(func.min(membership.c.person_id)).where(
                    membership.c.role == Role.CASE_MANAGER
                )
            ).scalar_one()
            connection.execute(
                update(membership)
                .where(membership.c.role == Role.CASE_MANAGER)
                .values(person_id=first)
            )
            email = str(
                connection.execute(select(person.c.email).where(person.c.id == first)).scalar_one()
            )
    finally:
        engine.dispose()
    with make_tracker(config, REQUESTS_AT) as tracker:
        tracker.request_updates()
    spool_replies(config)
    with make_tracker(config, REPLIES_AT) as tracker:
        for number, raw in enumerate(read_records(config.spool("replies"))):
            if number % 4:
                tracker.ingest(raw, via="smtp")
    district.analyze(config.database_url)
    return email


def measure(config: BenchConfig, email: str) -> list[PageTiming]:
    """The caseload page, then the student pages in turn, REQUESTS GETs each."""
    with make_tracker(config, DIGESTS_AT) as tracker:
        queries = QueryCounter(tracker.database.engine)
        with TestClient(create_app(tracker), base_url=tracker.desk_base_url()) as client:
            link = tracker.sign_in_link(email)
            form = client.get(link)
            csrf = _CSRF.search(form.text)
            assert csrf, "the sign-in page has no form"
            caseload = client.post(link, data={"csrf": csrf[1]})
            students = list(dict.fromkeys(_STUDENT_LINK.findall(caseload.text)))
            if len(students) != STUDENTS:
                raise RuntimeError(f"the caseload shows {len(students)} students, not {STUDENTS}")
            return [
                _time(client, queries, "caseload (/)", ["/"]),
                _time(client, queries, "student (/students/<id>)", students),
            ]


def _time(client: TestClient, queries: QueryCounter, name: str, paths: list[str]) -> PageTiming:
    for number in range(WARMUP):
        client.get(paths[number % len(paths)])
    seconds: list[float] = []
    cpu: list[float] = []
    statements = 0
    for number in range(REQUESTS):
        before = queries.count
        cpu_started = time.process_time()
        started = time.perf_counter()
        response = client.get(paths[number % len(paths)])
        seconds.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
        if response.status_code != 200:
            raise RuntimeError(f"{name}: HTTP {response.status_code}")
        statements = max(statements, queries.count - before)
    seconds.sort()
    return PageTiming(
        name,
        len(seconds),
        statistics.median(seconds) * 1000,
        statistics.quantiles(seconds, n=20)[18] * 1000,
        seconds[-1] * 1000,
        statistics.median(cpu) * 1000,
        statements,
    )


def table(backend: str, results: list[PageTiming]) -> str:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    lines = [
        f"desk, {backend}: one case manager, {STUDENTS} students; {REQUESTS} GETs per page "
        f"(after {WARMUP} untimed) through the ASGI app in process, signed in; "
        f"load average at the end {load} on {os.cpu_count()} CPUs",
        f"| page | requests | p50 | p95 | max | CPU p50 | SQL statements per GET "
        f"| target p95 < {TARGET_MS:.0f} ms |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    lines += [
        f"| {r.page} | {r.requests} | {r.p50_ms:.1f} ms | {r.p95_ms:.1f} ms | {r.worst_ms:.1f} ms "
        f"| {r.cpu_p50_ms:.1f} ms | {r.statements} | {r.verdict} |"
        for r in results
    ]
    return "\n".join(lines)
