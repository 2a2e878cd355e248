"""Several delivery workers on one PostgreSQL outbox: each a process running Tracker.deliver.

The outbox is put back to "queued" (bodies restored from an untimed copy) before each run,
so one, two and four workers deliver exactly the same messages to the same sink.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from dataclasses import dataclass
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

from sqlalchemy import text

from benchmarks.harness import REQUESTS_AT, BenchConfig, make_tracker, peak_rss_mb
from benchmarks.sink import Sink
from iep_followup.net.smtp import SmtpTransport, parse_smtp_url
from iep_followup.store.db import create_db_engine

COPY = "bench_outbox_copy"


@dataclass(frozen=True)
class TogetherResult:
    workers: int
    sent: tuple[int, ...]  # per worker
    seconds: float  # from the common start to the last worker's end
    at_sink: int
    duplicates: int
    peak_rss_mb: float  # the largest worker's

    @property
    def per_second(self) -> float:
        return sum(self.sent) / self.seconds if self.seconds > 0 else 0.0


def snapshot_outbox(config: BenchConfig) -> None:
    engine = create_db_engine(config.database_url)
    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE IF EXISTS {COPY}"))
        connection.execute(
            text(
                f"CREATE TABLE {COPY} AS SELECT id, body FROM outbox_message WHERE status = 'queued'"
            )
        )
    engine.dispose()


def restore_outbox(config: BenchConfig) -> None:
    engine = create_db_engine(config.database_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                f"UPDATE outbox_message o SET status = 'queued', body = c.body, sent_at = NULL, "
                f"lease_until = NULL, attempts = 0, last_error = NULL, next_attempt_at = o.created_at "
                f"FROM {COPY} c WHERE o.id = c.id"
            )
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE outbox_message"))
    engine.dispose()


def drop_snapshot(config: BenchConfig) -> None:
    engine = create_db_engine(config.database_url)
    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE IF EXISTS {COPY}"))
    engine.dispose()


def _worker(config: BenchConfig, start: Barrier, results: Queue[tuple[int, float, float]]) -> None:
    tracker = make_tracker(config, REQUESTS_AT)
    transport = SmtpTransport(parse_smtp_url(config.smtp_url))
    tracker.mailer  # noqa: B018  (set up before the clock starts, like a running daemon)
    start.wait()
    report = asyncio.run(tracker.deliver(transport))
    results.put((report.sent, time.monotonic(), peak_rss_mb()))
    tracker.close()


def deliver_together(config: BenchConfig, sink: Sink, workers: int) -> TogetherResult:
    """Restore the outbox, then let `workers` processes deliver it at once."""
    restore_outbox(config)
    sink.reset()
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(workers + 1)
    results: Queue[tuple[int, float, float]] = context.Queue()
    processes = [
        context.Process(target=_worker, args=(config, start, results), name=f"deliver-{n}")
        for n in range(workers)
    ]
    for process in processes:
        process.start()
    start.wait()
    began = time.monotonic()
    finished = [results.get() for _ in processes]
    for process in processes:
        process.join()
    stats = sink.reset()
    return TogetherResult(
        workers=workers,
        sent=tuple(sent for sent, _, _ in finished),
        seconds=max(end for _, end, _ in finished) - began,
        at_sink=stats.messages,
        duplicates=stats.duplicates,
        peak_rss_mb=max(rss for _, _, rss in finished),
    )
