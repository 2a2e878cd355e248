"""The background daemon: runs the schedule's jobs, receives replies, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import IO, NamedTuple, Protocol

from iep_followup import scheduler as wiring
from iep_followup.errors import (
    AlreadyRunningError,
    ConfigError,
    DatabaseError,
    IepFollowupError,
    MailboxError,
)
from iep_followup.net.imap import IDLE_SECONDS, IdleEnd, ImapPoller
from iep_followup.net.receiver import SmtpReceiver, start_receiver
from iep_followup.operations import HEARTBEAT_JOB
from iep_followup.resources import jobs_dir
from iep_followup.schedule import JobSpec, parse_schedule
from iep_followup.tracker import Tracker
from iep_followup.wakeup import Coalescer, backoff_seconds

log = logging.getLogger("iep_followup.daemon")

STOP_TIMEOUT_SECONDS = 30.0
CATCH_UP_JOBS = (
    "deliver",
    "request_updates",
    "poll_inbox",
    "heartbeat",  # at once, so that /readyz does not wait a whole interval after a restart
)  # run at start: the database knows what was missed


def heartbeat_every(jobs: Sequence[JobSpec]) -> int | None:
    """The heartbeat's interval in seconds, which /readyz holds the daemon to (None: not checked)."""
    return next((job.every_seconds for job in jobs if job.name == HEARTBEAT_JOB), None)


def load_jobs(path: Path | None) -> tuple[JobSpec, ...]:
    """The user's schedule file if one is set, otherwise the one shipped in jobs/."""
    path = path or jobs_dir() / "schedule.toml"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"IEP_FOLLOWUP_JOBS_FILE: cannot read {path} ({exc.strerror})") from None
    return parse_schedule(text, str(path))


class SingleDaemonLock:
    """On SQLite, one daemon per database file: a lock the kernel drops when the process dies."""

    def __init__(self, database_file: Path) -> None:
        self.path = database_file.with_name(database_file.name + ".daemon.lock")
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            handle = self.path.open("a+", encoding="utf-8")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                handle.close()
                raise AlreadyRunningError(
                    f"another iep-followup daemon ({holder}) is already running on this SQLite database; "
                    "stop it first (several daemons need PostgreSQL)"
                ) from None
            if _is_same_file(handle, self.path):
                break
            # The daemon that held it removed the file as we opened it: lock the new one.
            handle.close()
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        """Remove the file, then unlock: whoever opened it meanwhile sees it gone and retries."""
        if self._file is not None:
            self.path.unlink(missing_ok=True)
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def _is_same_file(handle: IO[str], path: Path) -> bool:
    try:
        on_disk = path.stat()
    except FileNotFoundError:
        return False
    held = os.fstat(handle.fileno())
    return (held.st_dev, held.st_ino) == (on_disk.st_dev, on_disk.st_ino)


class Outcome(NamedTuple):
    """What one run of a job did: the log line's words, and its counts (JSON logs' `counts`)."""

    text: str
    counts: dict[str, int]


class Served(Protocol):
    """A server the daemon runs in its event loop and stops before closing the database (the desk)."""

    url: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Daemon:
    """Every job is one pass of a CLI command; the scheduler only says when."""

    def __init__(
        self,
        tracker: Tracker,
        jobs: Sequence[JobSpec],
        *,
        stop_timeout: float = STOP_TIMEOUT_SECONDS,
        receiver_port: int | None = None,
        desk: Served | None = None,
        idle_seconds: float = IDLE_SECONDS,
        ops: Served | None = None,
    ) -> None:
        self.tracker = tracker
        self.settings = tracker.settings
        self.jobs = tuple(jobs)
        self.stop_timeout = stop_timeout
        self._receiver_port = receiver_port
        self.idle_seconds = idle_seconds
        self._stop = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._running = 0
        self.receiver: SmtpReceiver | None = None
        self.poller: ImapPoller | None = None
        self.desk = desk
        self._desk_started = False
        self.ops = ops  # /healthz, /readyz and /metrics when the desk is not served
        self._ops_started = False
        self._jobs: dict[str, Callable[[], Awaitable[Outcome]]] = {
            "deliver": self._deliver,
            "request_updates": self._request_updates,
            "poll_inbox": self._poll_inbox,
            "digests": self._digests,
            "heartbeat": self._heartbeat,
            "retention": self._retention,
        }
        # New outbox mail wakes delivery at once; passes never overlap (see _deliver).
        self.deliveries = Coalescer(lambda: self.run_job("deliver"))
        self._deliver_lock = asyncio.Lock()
        self._wakers: list[asyncio.Task[None]] = []
        self._inbox_busy = False  # the last poll found another daemon polling
        self._unlisten: Callable[[], None] = lambda: None

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def request_stop(self) -> None:
        if not self._stop.is_set():
            log.info("stopping: finishing the job in flight", extra={"event": "daemon_stopping"})
        self._stop.set()

    async def run_job(self, name: str) -> None:
        """Run one job and log one line about it. Never raises: a failing tick must not stop the daemon."""
        await self._run_job(name)

    async def _run_job(self, name: str) -> bool:
        """run_job, saying whether the job succeeded."""
        if self.stopping:
            return False
        self._running += 1
        self._idle.clear()
        started = time.monotonic()
        try:
            outcome = await self._jobs[name]()
            duration = time.monotonic() - started
            log.info(
                "job %s: %s (%.2fs)",
                name,
                outcome.text,
                duration,
                extra=_job_fields("job_done", name, duration, outcome.counts),
            )
            await self._record_success(name, duration)
            return True
        except IepFollowupError as exc:
            duration = time.monotonic() - started
            log.warning(
                "job %s failed: %s (%.2fs)",
                name,
                exc,
                duration,
                extra=_job_fields("job_failed", name, duration),
            )
        except Exception as exc:
            # Unknown failures are logged by type only: their text could hold a message body.
            duration = time.monotonic() - started
            log.error(
                "job %s crashed: %s (%.2fs)",
                name,
                type(exc).__name__,
                duration,
                extra=_job_fields("job_crashed", name, duration),
            )
            log.debug("job %s traceback", name, exc_info=True)
        finally:
            self._running -= 1
            if self._running == 0:
                self._idle.set()
        return False

    async def _record_success(self, name: str, duration: float) -> None:
        """Health and metrics read each job's last success from the database."""
        try:
            await asyncio.to_thread(self.tracker.record_job_run, name, duration)
        except IepFollowupError as exc:
            log.warning("job %s: its success could not be recorded: %s", name, exc)

    async def run(self) -> int:
        """Run until SIGTERM or SIGINT; returns the process exit code."""
        lock = None
        database_file = self.tracker.database.sqlite_path()
        if database_file is not None:
            lock = SingleDaemonLock(database_file)
            lock.acquire()
        try:
            self.tracker.database.require_current()
            return await self._serve()
        finally:
            if lock is not None:
                lock.release()

    async def _serve(self) -> int:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.request_stop)
        scheduler = wiring.build_scheduler(self.jobs, self.settings.timezone, self.run_job)
        try:
            self._start_inbound(loop)
            if self.desk is not None:
                await self.desk.start()
                self._desk_started = True
            if self.ops is not None:
                await self.ops.start()
                self._ops_started = True
            self._describe_start()
            wiring.start(scheduler)
            wiring.run_soon(scheduler, CATCH_UP_JOBS)
            self._start_wakers(loop)
            await self._stop.wait()
            wiring.pause(scheduler)
            await self._stop_wakers()
            try:
                await asyncio.wait_for(self._finish_in_flight(), self.stop_timeout)
            except TimeoutError:
                log.warning(
                    "a job was still running after %.0fs; stopping anyway", self.stop_timeout
                )
        finally:
            wiring.shutdown(scheduler)
            await self._close()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
        log.info("stopped", extra={"event": "daemon_stopped"})
        return 0

    def _start_inbound(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.settings.smtp_receiver:
            host, _, port = self.settings.smtp_receiver.rpartition(":")
            if not host or not port.isdigit():
                raise ConfigError("IEP_FOLLOWUP_SMTP_RECEIVER must look like 127.0.0.1:2525")
            self.receiver = start_receiver(
                host,
                self._receiver_port if self._receiver_port is not None else int(port),
                self.tracker.mailer.reply_base,
                lambda raw: self.tracker.handle_inbound(raw, "smtp"),
                size_limit=self.settings.max_reply_bytes,
                loop=loop,
            )
        self._start_inbound_imap()

    def _start_inbound_imap(self) -> None:
        self.poller = self.tracker.imap_poller()

    def _start_wakers(self, loop: asyncio.AbstractEventLoop) -> None:
        """What runs jobs between their ticks: new outbox mail, and IMAP IDLE."""
        names = {job.name for job in self.jobs}
        if "deliver" in names:

            def queued() -> None:
                # Called in whichever thread committed the mail (ingest runs in a worker thread).
                loop.call_soon_threadsafe(self.deliveries.request)

            self._unlisten = self.tracker.database.on_outbox_queued(queued)
            if self.tracker.database.dialect == "postgresql":
                self._wakers.append(loop.create_task(self._listen_for_outbox()))
        if "poll_inbox" in names and self.poller is not None and self.settings.imap_idle:
            self._wakers.append(loop.create_task(self._watch_inbox()))

    async def _stop_wakers(self) -> None:
        self._unlisten()
        wakers, self._wakers = self._wakers, []
        for task in wakers:
            task.cancel()
        await asyncio.gather(*wakers, return_exceptions=True)

    async def _finish_in_flight(self) -> None:
        await self.deliveries.wait()
        await self._idle.wait()

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake up when the daemon is asked to stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    async def _listen_for_outbox(self) -> None:
        """PostgreSQL: mail queued by another daemon, or by a command, wakes delivery here too."""
        failures = 0

        def listening() -> None:
            nonlocal failures
            if failures:
                log.info("listening for new mail again")
                self.deliveries.request()  # whatever was queued while we could not hear it
            failures = 0

        while not self.stopping:
            try:
                await self.tracker.listen_for_outbox(
                    self.deliveries.request, on_listening=listening
                )
            except DatabaseError as exc:
                failures += 1
                delay = backoff_seconds(failures)
                log.warning(
                    "%s; delivery goes on at its schedule, listening again in %.0fs", exc, delay
                )
                await self._pause(delay)

    async def _watch_inbox(self) -> None:
        """IMAP IDLE: read the mailbox as soon as the server announces mail.

        The schedule's polls go on as a safety net. When the server does not offer IDLE, or
        the connection fails, polling on the schedule is all there is until IDLE works again.
        """
        assert self.poller is not None
        failures = 0
        poll = True
        while not self.stopping:
            if poll and not await self._run_job("poll_inbox"):
                failures += 1
                await self._pause(backoff_seconds(failures))
                continue
            try:
                end = await self.poller.wait_for_mail(self.idle_seconds)
            except MailboxError as exc:
                failures += 1
                delay = backoff_seconds(failures)
                log.warning("IMAP IDLE stopped: %s Trying again in %.0fs", exc, delay)
                await self._pause(delay)
                poll = True
                continue
            if end is IdleEnd.NOT_OFFERED:
                log.info(
                    "IMAP server %s does not offer IDLE; polling on the schedule",
                    self.poller.config.host,
                )
                return
            if end is IdleEnd.UNREAD and self._inbox_busy:
                await self._pause(1.0)  # another daemon is reading it; let it finish
            failures = 0
            # A scheduled poll that ended IDLE reads the mailbox itself; anything it leaves
            # is found by the check before the next IDLE.
            poll = end is not IdleEnd.INTERRUPTED

    def _describe_start(self) -> None:
        settings = self.settings
        database = self.tracker.database.engine.url.render_as_string(hide_password=True)
        if settings.smtp_url is None:
            outgoing = f"no IEP_FOLLOWUP_SMTP_URL: emails are written as .eml files to {settings.mail_dir}/"
        else:
            config = settings.smtp_url.get_secret_value().split("@")[-1]
            outgoing = f"emails go out through {config.split('?')[0]}"
        incoming = []
        if self.receiver is not None:
            incoming.append(f"SMTP on {self.receiver.host}:{self.receiver.port}")
        if self.poller is not None:
            incoming.append(f"IMAP {self.poller.config.host}")
        desk = f"; the desk at {self.desk.url}/" if self.desk is not None else ""
        if self.ops is not None:
            desk += f"; health and metrics at {self.ops.url}/"
        log.info(
            "iep-followup daemon started (pid %s): database %s; %s; replies via %s; jobs: %s%s",
            os.getpid(),
            database,
            outgoing,
            ", ".join(incoming) or "the ingest command only",
            ", ".join(job.name for job in self.jobs),
            desk,
            extra={"event": "daemon_started"},
        )

    async def _close(self) -> None:
        if self.ops is not None and self._ops_started:
            await self.ops.stop()
            self._ops_started = False
        if self.desk is not None and self._desk_started:
            await self.desk.stop()  # before the database closes: requests in flight finish
            self._desk_started = False
        if self.receiver is not None:
            await asyncio.to_thread(self.receiver.stop)
        if self.poller is not None:
            await self.poller.close()
        self.tracker.close()

    # --- the jobs -----------------------------------------------------------------------

    async def _deliver(self) -> Outcome:
        async with self._deliver_lock:  # a tick and a wake-up never send at the same time
            report = await self.tracker.deliver(should_stop=lambda: self.stopping)
        text = f"sent {report.sent}, retry later {report.retried}, failed {report.failed}"
        return Outcome(
            text + (f"; paused: {report.error}" if report.error else ""),
            {"sent": report.sent, "retried": report.retried, "failed": report.failed},
        )

    async def _request_updates(self) -> Outcome:
        run = await asyncio.to_thread(self.tracker.request_updates)
        return Outcome(
            f"asked {run.asked}, reminded {run.reminded}, not due {run.waiting}, failed {run.failed}",
            {
                "asked": run.asked,
                "reminded": run.reminded,
                "waiting": run.waiting,
                "failed": run.failed,
            },
        )

    async def _poll_inbox(self) -> Outcome:
        if self.poller is None:
            return Outcome("no IMAP mailbox configured", {})
        result = await self.tracker.poll_inbox(self.poller)
        self._inbox_busy = result.skipped is not None  # another daemon holds the mailbox
        counts = {"fetched": result.fetched, "recorded": result.recorded, "failed": result.failed}
        return Outcome(result.summary(), counts)

    async def _digests(self) -> Outcome:
        run = await asyncio.to_thread(self.tracker.digests)
        return Outcome(
            f"queued {run.queued}, already queued {run.already}, quiet skipped {run.quiet_skipped}, failed {run.failed}",
            {
                "queued": run.queued,
                "already": run.already,
                "quiet_skipped": run.quiet_skipped,
                "failed": run.failed,
            },
        )

    async def _heartbeat(self) -> Outcome:
        backlog = await asyncio.to_thread(self.tracker.backlog)
        parts = [f"{status.value} {count}" for status, count in sorted(backlog.outbox.items())]
        counts = {f"outbox_{status.value}": count for status, count in backlog.outbox.items()}
        return Outcome(
            f"alive; outbox: {', '.join(parts) or 'empty'}; held for review: {backlog.held}",
            {**counts, "held": backlog.held},
        )

    async def _retention(self) -> Outcome:
        gone = await asyncio.to_thread(self.tracker.forget_old_mail)
        return Outcome(
            f"raw text removed from {gone.received} received and {gone.sent} sent emails "
            f"older than {self.settings.retain_mail_days} days",
            {"received": gone.received, "sent": gone.sent},
        )


def _job_fields(
    event: str, job: str, duration: float, counts: dict[str, int] | None = None
) -> dict[str, object]:
    """The JSON log's fields of a job's line (the text line says the same in words)."""
    fields: dict[str, object] = {"event": event, "job": job, "duration": round(duration, 3)}
    if counts is not None:
        fields["counts"] = counts
    return fields
