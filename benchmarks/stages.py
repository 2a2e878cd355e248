"""The four stages of one weekly cycle, each through the library's real entry points (Tracker).

Each function runs in a fresh process (harness.in_child) and times only the Tracker call.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from benchmarks.harness import (
    DIGESTS_AT,
    REPLIES_AT,
    REQUESTS_AT,
    BenchConfig,
    Measured,
    QueryCounter,
    make_tracker,
    peak_rss_mb,
    profiled,
    read_records,
)
from iep_followup.net.smtp import SmtpTransport, parse_smtp_url


def request_updates(config: BenchConfig) -> Measured:
    """Stage 1: plan, render and queue every due update request."""
    with make_tracker(config, REQUESTS_AT) as tracker:
        queries = QueryCounter(tracker.database.engine)
        with profiled(config, "requests"):
            started = time.perf_counter()
            run = tracker.request_updates()
            seconds = time.perf_counter() - started
    note = f"{run.waiting} waiting, {run.failed} failed" if run.waiting or run.failed else ""
    return Measured("requests", run.asked, seconds, peak_rss_mb(), queries.count, note)


def deliver(config: BenchConfig, name: str = "deliver") -> Measured:
    """Stage 2: send the whole outbox to the sink over SMTP."""
    with make_tracker(config, REQUESTS_AT) as tracker:
        queries = QueryCounter(tracker.database.engine)
        transport = SmtpTransport(parse_smtp_url(config.smtp_url))
        with profiled(config, name):
            started = time.perf_counter()
            report = asyncio.run(tracker.deliver(transport))
            seconds = time.perf_counter() - started
    note = (
        f"{report.retried} retried, {report.failed} failed"
        if report.retried or report.failed
        else ""
    )
    return Measured(name, report.sent, seconds, peak_rss_mb(), queries.count, note)


def ingest(config: BenchConfig) -> Measured:
    """Stage 3: one reply per request, each through Tracker.ingest (record, authenticate, trim, parse, apply, confirm)."""
    outcomes: Counter[str] = Counter()
    updates = 0
    count = 0
    seconds = 0.0
    with make_tracker(config, REPLIES_AT) as tracker:
        queries = QueryCounter(tracker.database.engine)
        with profiled(config, "ingest"):
            for raw in read_records(config.spool("replies")):
                started = time.perf_counter()
                result = tracker.ingest(raw, via="smtp")
                seconds += time.perf_counter() - started
                outcomes[result.outcome.value] += 1
                updates += result.applied
                count += 1
    note = ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items()))
    return Measured(
        "ingest", count, seconds, peak_rss_mb(), queries.count, f"{note}; {updates} item updates"
    )


def digests(config: BenchConfig) -> Measured:
    """Stage 4: compile, render and queue every case manager's digest."""
    with make_tracker(config, DIGESTS_AT) as tracker:
        queries = QueryCounter(tracker.database.engine)
        with profiled(config, "digests"):
            started = time.perf_counter()
            run = tracker.digests()
            seconds = time.perf_counter() - started
    note = f"{run.failed} failed" if run.failed else ""
    return Measured("digests", run.queued, seconds, peak_rss_mb(), queries.count, note)
