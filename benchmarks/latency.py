"""The latency stage: how long after a reply arrives its confirmation is accepted by the SMTP sink.

A running daemon (its own process, the shipped cadences: delivery every 30 s, IMAP polled every
90 s) gets REPLIES replies spread over SPREAD seconds, once through its embedded SMTP receiver
and once through a Dovecot mailbox it reads with IDLE. A reply's clock starts just before it
is handed over (SMTP DATA, or IMAP APPEND) and stops when the sink accepts the email whose
In-Reply-To names it; both are time.monotonic(), one clock for every process on Linux.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import multiprocessing
import smtplib
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.harness import (
    REPLIES_AT,
    REQUESTS_AT,
    BenchConfig,
    make_tracker,
    read_records,
)
from benchmarks.mailbags import spool_replies
from benchmarks.sink import Sink
from iep_followup.daemon import Daemon
from iep_followup.net.smtp import SmtpTransport, parse_smtp_url
from iep_followup.schedule import JobSpec

REPLIES = 200
SPREAD = 60.0  # seconds over which they arrive
STUDENTS = 300  # about 530 owners to ask: enough for two sets of replies
TARGET_P95 = 5.0
SETTLE = 120.0  # how long to wait for the last confirmations
# The shipped schedule's cadences (jobs/schedule.toml): only a wake-up beats them.
JOBS = (JobSpec("deliver", every_seconds=30), JobSpec("poll_inbox", every_seconds=90))


@dataclass(frozen=True)
class PathLatency:
    path: str
    sent: int
    confirmed: int
    p50: float
    p95: float
    worst: float

    @property
    def verdict(self) -> str:
        if self.confirmed < self.sent:
            return "missed (not all confirmed)"
        return "met" if self.p95 <= TARGET_P95 else "missed"


def prepare(config: BenchConfig) -> int:
    """Untimed: ask every owner, spool one reply per request, deliver the requests."""
    with make_tracker(config, REQUESTS_AT) as tracker:
        tracker.request_updates()
        spool_replies(config)
        asyncio.run(tracker.deliver(SmtpTransport(parse_smtp_url(config.smtp_url))))
    return sum(1 for _ in read_records(config.spool("replies")))


def run_daemon(config: BenchConfig, receiver: str, imap_url: str) -> int:
    """The daemon, in its own process until SIGTERM."""
    tracker = make_tracker(config, REPLIES_AT, smtp_receiver=receiver, imap_url=imap_url)
    return asyncio.run(Daemon(tracker, JOBS).run())


def measure(config: BenchConfig, sink: Sink) -> list[PathLatency]:
    """Both paths against one daemon: the receiver first, then the mailbox."""
    from tests.integration.dovecot import Dovecot, free_port

    replies = list(read_records(config.spool("replies")))
    if len(replies) < 2 * REPLIES:
        raise RuntimeError(f"need {2 * REPLIES} replies, the district gave {len(replies)}")
    receiver_port = free_port()
    dovecot = Dovecot(Path(tempfile.mkdtemp(prefix="iep-bench-dovecot-", dir=config.workdir)))
    dovecot.start()
    context = multiprocessing.get_context("spawn")
    daemon = context.Process(
        target=run_daemon,
        args=(config, f"127.0.0.1:{receiver_port}", dovecot.url()),
        name="iep-followup-daemon",
    )
    daemon.start()
    try:
        _wait_for_port(receiver_port)
        time.sleep(3)  # the catch-up jobs, and IDLE in place
        results = [
            _path(
                "receiver (SMTP)", replies[:REPLIES], lambda raw: _smtp(receiver_port, raw), sink
            ),
            _path("IMAP (Dovecot, IDLE)", replies[REPLIES : 2 * REPLIES], dovecot.append, sink),
        ]
    finally:
        daemon.terminate()  # SIGTERM: the daemon stops cleanly
        daemon.join(60)
        dovecot.cleanup()
    return results


def _path(
    name: str, replies: list[bytes], hand_over: Callable[[bytes], object], sink: Sink
) -> PathLatency:
    started: dict[str, float] = {}
    begin = time.monotonic()
    for number, raw in enumerate(replies):
        time.sleep(max(0.0, begin + number * SPREAD / len(replies) - time.monotonic()))
        started[_message_id(raw)] = time.monotonic()
        hand_over(raw)
    deadline = time.monotonic() + SETTLE
    while True:
        answered = sink.answered()
        if all(key in answered for key in started) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    seconds = sorted(answered[key] - at for key, at in started.items() if key in answered)
    if not seconds:
        return PathLatency(name, len(started), 0, float("nan"), float("nan"), float("nan"))
    p95 = statistics.quantiles(seconds, n=20)[18] if len(seconds) > 1 else seconds[0]
    return PathLatency(
        name, len(started), len(seconds), statistics.median(seconds), p95, seconds[-1]
    )


def _smtp(port: int, raw: bytes) -> None:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
        client.sendmail(str(message["From"].addresses[0].addr_spec), [str(message["To"])], raw)


def _message_id(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    return str(message["Message-ID"]).strip()


def _wait_for_port(port: int, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
            client.noop()
            return
        time.sleep(0.2)
    raise RuntimeError(f"the daemon's SMTP receiver did not answer on port {port}")


def table(backend: str, results: list[PathLatency]) -> str:
    lines = [
        f"latency, {backend}: {REPLIES} replies over {SPREAD:.0f} s per path, reply handed over -> "
        "confirmation accepted by the sink (daemon: delivery every 30 s, IMAP poll every 90 s)",
        "| path | confirmed | p50 | p95 | max | target p95 <= 5 s |",
        "|---|---:|---:|---:|---:|---|",
    ]
    lines += [
        f"| {r.path} | {r.confirmed}/{r.sent} | {r.p50:.2f} s | {r.p95:.2f} s | {r.worst:.2f} s "
        f"| {r.verdict} |"
        for r in results
    ]
    return "\n".join(lines)
