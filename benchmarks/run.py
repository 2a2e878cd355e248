"""Run the district benchmark: `python -m benchmarks.run --sizes 2000,20000 --backends sqlite,postgresql`.

For each backend and size: a fresh database (a SQLite file in a temporary folder, or a
throwaway PostgreSQL database, dropped afterwards), a seeded district, then the four stages
of one weekly cycle and their baselines, each in its own process, against an SMTP sink in
another process. Seeding and preparation are not timed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from benchmarks import baselines, desk, district, latency, mailbags, phases, stages, workers
from benchmarks.harness import BenchConfig, in_child
from benchmarks.report import RunResult, growth, machine, table, targets
from benchmarks.sink import Sink
from iep_followup.store.db import Database

PG_ADMIN_URL = os.environ.get(
    "IEP_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def database(backend: str, workdir: Path) -> Iterator[str]:
    """A fresh, migrated database for one run; a PostgreSQL one is dropped at the end."""
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'district.db'}"
        _migrate(url)
        yield url
        return
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"iep_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = admin.url.set(database=name).render_as_string(hide_password=False)
        _migrate(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def small_district(backend: str, stage: str, students: int) -> Iterator[tuple[BenchConfig, Sink]]:
    """A stage's own seeded district and SMTP sink, in a temporary folder removed afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix=f"iep-bench-{backend}-{stage}-"))
    try:
        with database(backend, workdir) as url, Sink() as sink:
            in_child(district.seed, url, students)
            yield BenchConfig(backend, students, url, workdir, sink.port), sink
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run_latency(backend: str) -> str:
    """The latency stage on its own small district: a table of p50/p95/max per path."""
    with small_district(backend, "latency", latency.STUDENTS) as (config, sink):
        in_child(latency.prepare, config)
        return latency.table(backend, latency.measure(config, sink))


def run_desk(backend: str) -> str:
    """The desk stage: one case manager's 50-student caseload, p50/p95 per page."""
    with small_district(backend, "desk", desk.STUDENTS) as (config, _sink):
        email = in_child(desk.prepare, config)
        return desk.table(backend, in_child(desk.measure, config, email))


def _migrate(url: str) -> None:
    db = Database(url)
    db.migrate()
    db.dispose()


def run_one(
    backend: str,
    size: int,
    profile_dir: Path | None,
    keep: bool,
    only: str | None = None,
    baselines_too: bool = True,
) -> RunResult:
    workdir = Path(tempfile.mkdtemp(prefix=f"iep-bench-{backend}-{size}-"))
    try:
        with database(backend, workdir) as url, Sink() as sink:
            config = BenchConfig(backend, size, url, workdir, sink.port, profile_dir)
            seeded = in_child(district.seed, url, size)
            run = RunResult(
                backend,
                size,
                f"{seeded.people:,} people, {seeded.memberships:,} memberships, {seeded.items:,} items",
            )
            if only == "ingest":
                _ingest_only(config, sink, run)
            else:
                _cycle(config, sink, run, baselines_too)
            return run
    finally:
        if keep:
            print(f"kept {workdir}", flush=True)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _cycle(config: BenchConfig, sink: Sink, run: RunResult, baselines_too: bool = True) -> None:
    """The four stages; with `baselines_too`, each baseline and (on PostgreSQL) the workers."""
    run.stages["requests"] = in_child(stages.request_updates, config)
    if baselines_too:
        run.baselines["requests"] = in_child(baselines.render_requests, config)

    in_child(mailbags.spool_outbox, config)
    in_child(mailbags.spool_replies, config)
    # Several delivery workers over one outbox: PostgreSQL only, and not in a --no-baselines run.
    with_workers = config.backend == "postgresql" and baselines_too
    if with_workers:
        workers.snapshot_outbox(config)
    sink.reset()
    district.analyze(config.database_url)
    run.stages["deliver"] = in_child(stages.deliver, config)
    received = sink.reset()
    run.checks.append(
        f"sink received {received.messages} of {run.stages['deliver'].count} messages over "
        f"{received.connections} connection(s), {received.duplicates} duplicate Message-IDs"
    )
    if baselines_too:
        run.baselines["deliver"] = in_child(
            baselines.send_outbox, config, max(received.connections, 1)
        )
    sink.reset()
    if with_workers:
        for count in (1, 2, 4):
            run.together.append(workers.deliver_together(config, sink, count))
        workers.drop_snapshot(config)

    district.analyze(config.database_url)
    run.stages["ingest"] = in_child(stages.ingest, config)
    if baselines_too:
        run.baselines["ingest"] = in_child(baselines.parse_replies, config)
    district.analyze(config.database_url)
    run.stages["digests"] = in_child(stages.digests, config)
    if baselines_too:
        run.baselines["digests"] = in_child(baselines.read_and_render_digests, config)


def _ingest_only(config: BenchConfig, _sink: Sink, run: RunResult) -> None:
    """--only ingest: the requests its replies answer (queued, untimed), then ingest and its baseline."""
    in_child(stages.request_updates, config)
    in_child(mailbags.spool_replies, config)
    district.analyze(config.database_url)
    run.stages["ingest"] = in_child(stages.ingest, config)
    run.baselines["ingest"] = in_child(baselines.parse_replies, config)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--sizes", default="2000,20000,50000", help="students, comma-separated")
    parser.add_argument("--backends", default="sqlite,postgresql", help="sqlite and/or postgresql")
    parser.add_argument(
        "--profile", type=Path, help="write a cProfile of each stage to this folder"
    )
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file and spools")
    parser.add_argument(
        "--stages",
        default="cycle,latency,desk",
        help="cycle (the weekly cycle at each size), latency (reply to confirmation, "
        "once per backend; needs Dovecot) and/or desk (a 50-student caseload's pages, once "
        "per backend)",
    )
    parser.add_argument(
        "--only", choices=["ingest"], help="of the cycle, time only this stage and its baseline"
    )
    parser.add_argument(
        "--no-baselines",
        action="store_true",
        help="time only the library's stages (no baselines, no worker runs): enough for "
        "growth and peak memory at a large size, in about half the time",
    )
    args = parser.parse_args(argv)
    chosen = {s.strip() for s in args.stages.split(",") if s.strip()}
    if not chosen or chosen - {"cycle", "latency", "desk"}:
        parser.error("--stages takes cycle, latency and/or desk")
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s]
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    for backend in backends:
        if backend not in ("sqlite", "postgresql"):
            parser.error(f"unknown backend {backend!r}: use sqlite and/or postgresql")

    print(machine(), flush=True)
    runs: list[RunResult] = []
    for backend in backends:
        if "latency" in chosen:
            print(run_latency(backend), "", sep="\n", flush=True)
        if "desk" in chosen:
            print(run_desk(backend), "", sep="\n", flush=True)
        for size in sizes if "cycle" in chosen else ():
            runs.append(
                run_one(backend, size, args.profile, args.keep, args.only, not args.no_baselines)
            )
            print(table(runs[-1]), "", sep="\n", flush=True)
            if args.profile is not None:
                print(phases.report(args.profile, backend, size), "", sep="\n", flush=True)
    for summary in (growth(runs), targets(runs)):
        if summary:
            print(summary, "", sep="\n", flush=True)


if __name__ == "__main__":
    main()
