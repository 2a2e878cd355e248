"""What district IT asks of a running service, as plain values: readiness and the metrics' numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

HEARTBEAT_JOB = "heartbeat"


@dataclass(frozen=True)
class Readiness:
    """Ready, or the one-line reason why not (no stored value, no secret in it)."""

    ready: bool
    reason: str


@dataclass(frozen=True)
class JobRunView:
    """A daemon job's last success, across every daemon on the database."""

    name: str
    last_success_at: datetime
    duration_seconds: float


@dataclass(frozen=True)
class OpsMetrics:
    """The numbers behind /metrics, read in one transaction at scrape time. Counts only:
    labels are statuses, outcomes and job names, never a name or an address."""

    outbox: dict[str, int]  # by status: queued, sending, sent, failed
    outbox_deferred: int  # queued again after a temporary failure
    oldest_queued_age_seconds: float  # 0 when nothing waits
    inbound: dict[str, int]  # by outcome: applied, ignored, held, rejected
    held_waiting: int
    digests_queued: int
    sign_ins: int
    jobs: tuple[JobRunView, ...]


def heartbeat_readiness(
    last: datetime | None, now: datetime, every_seconds: int | None
) -> Readiness:
    """The daemon is ready when its last heartbeat is younger than twice the heartbeat's interval."""
    if every_seconds is None:
        return Readiness(True, "ok")
    if last is None:
        return Readiness(False, "the daemon has recorded no heartbeat yet")
    age = (now - last).total_seconds()
    if age >= 2 * every_seconds:
        return Readiness(
            False,
            f"the daemon's last heartbeat was {age:.0f}s ago (expected every {every_seconds}s)",
        )
    return Readiness(True, "ok")
