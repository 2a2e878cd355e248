"""Delivering the outbox: claim due messages, send them over one connection, record each outcome."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from iep_followup.errors import DeliveryError, TransportUnavailableError
from iep_followup.net.smtp import Transport
from iep_followup.store import outbox, people
from iep_followup.store.db import Database
from iep_followup.views import DeliveryReport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    base_delay: timedelta = timedelta(minutes=1)
    max_delay: timedelta = timedelta(hours=1)
    # How often a server may defer one message (4xx) before it is failed: from a 1-minute
    # first delay, about seven hours. An unreachable server never fails a message.
    max_attempts: int = 12
    lease: timedelta = timedelta(minutes=5)
    batch_size: int = 100


def backoff(attempt: int, policy: RetryPolicy, rng: random.Random) -> timedelta:
    """Exponential backoff with jitter ('equal jitter': between half and all of the delay)."""
    delay = min(policy.max_delay, policy.base_delay * (1 << min(attempt, 30)))
    return delay / 2 + delay / 2 * rng.random()


async def deliver(
    database: Database,
    transport: Transport,
    *,
    envelope_sender: Callable[[int, str], str],
    clock: Callable[[], datetime],
    policy: RetryPolicy | None = None,
    rng: random.Random | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> DeliveryReport:
    """Send everything that is due now. A message is marked sent only after the server took it.

    `envelope_sender(outbox id, recipient)` is each message's MAIL FROM: its own signed bounce
    address, so a delivery report proves which message it is about.
    """
    policy = policy or RetryPolicy()
    rng = rng or random.Random()  # noqa: S311  (jitter, not security)
    report = DeliveryReport()
    async with transport:
        # Each "sent" is its own statement, committed without waiting for the disk flush: a
        # killed daemon still resends at most the message in flight (see Writer).
        with database.writer(wait_for_flush=False) as writer:
            while not should_stop():
                with database.transaction() as session:
                    claimed = outbox.claim(session, clock(), policy.lease, policy.batch_size)
                if not claimed:
                    break
                for position, message in enumerate(claimed):
                    if should_stop():
                        _release(database, claimed[position:], clock())
                        return report
                    try:
                        await transport.send(
                            envelope_sender(message.id, message.to_address),
                            message.to_address,
                            message.body,
                            message.message_id,
                        )
                    except TransportUnavailableError as exc:
                        # Nothing will get through now: put this batch back with backoff and stop.
                        report.error = str(exc)
                        _put_back(database, claimed[position:], str(exc), clock(), policy, rng)
                        report.retried += len(claimed) - position
                        log.warning("delivery paused: %s", exc)
                        return report
                    except DeliveryError as exc:
                        if exc.permanent:
                            with database.transaction() as session:
                                outbox.mark_failed(
                                    session,
                                    message.id,
                                    clock(),
                                    str(exc),
                                    address_failing=exc.address_failing,
                                )
                            report.failed += 1
                            log.warning("message %s refused for good: %s", message.id, exc)
                        else:
                            _retry_or_fail(
                                database, message, str(exc), clock(), policy, rng, report
                            )
                        continue
                    except Exception as exc:
                        # Something about this one message (its address, its bytes): it is
                        # tried again like a deferral, failed after max_attempts, and the
                        # rest of the batch goes on. The type only: texts may quote the message.
                        error = f"could not be sent ({type(exc).__name__})"
                        log.warning("message %s %s", message.id, error)
                        _retry_or_fail(database, message, error, clock(), policy, rng, report)
                        continue
                    # Committed before the next message goes: a crash resends at most this one.
                    with writer.transaction() as connection:
                        outbox.mark_sent(connection, message.id, clock())
                    report.sent += 1
    if report.sent:
        # An address that takes mail again is no longer failing (one statement per pass).
        with database.transaction() as session:
            people.clear_failing_after_delivery(session, clock())
    return report


def _retry_or_fail(
    database: Database,
    message: outbox.Claimed,
    error: str,
    now: datetime,
    policy: RetryPolicy,
    rng: random.Random,
    report: DeliveryReport,
) -> None:
    """Try again later, or fail the message once the server has deferred it `max_attempts` times."""
    with database.transaction() as session:
        if message.attempts + 1 >= policy.max_attempts:
            reason = f"gave up after {message.attempts + 1} attempts: {error}"
            outbox.mark_failed(session, message.id, now, reason, address_failing=False)
            report.failed += 1
        else:
            outbox.mark_retry(
                session, message.id, now + backoff(message.attempts, policy, rng), error
            )
            report.retried += 1


def _put_back(
    database: Database,
    messages: list[outbox.Claimed],
    error: str,
    now: datetime,
    policy: RetryPolicy,
    rng: random.Random,
) -> None:
    """Put a batch back, each message with its own backoff, in one transaction.

    An unreachable or misconfigured server says nothing about the messages, so it never
    uses them up: after an outage of any length everything still goes out (with the delay
    capped at `max_delay`, so the first tick after it ends is at most that late).
    """
    retries = [(m.id, now + backoff(m.attempts, policy, rng)) for m in messages]
    with database.transaction() as session:
        outbox.mark_retries(session, retries, error)


def _release(database: Database, messages: list[outbox.Claimed], now: datetime) -> None:
    """Hand unsent messages back at once on shutdown instead of waiting for their lease."""
    with database.transaction() as session:
        outbox.release(session, [m.id for m in messages], now)
