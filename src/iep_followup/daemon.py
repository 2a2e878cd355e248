"""The background daemon: runs the schedule's jobs, receives replies, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import shlex
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import IO, Protocol

from iep_followup import scheduler as wiring
from iep_followup.errors import AlreadyRunningError, ConfigError, IepFollowupError
from iep_followup.net.imap import ImapPoller, parse_imap_url
from iep_followup.net.receiver import SmtpReceiver, start_receiver
from iep_followup.resources import jobs_dir
from iep_followup.schedule import JobSpec, parse_schedule
from iep_followup.store import inbox, outbox
from iep_followup.tracker import Tracker

log = logging.getLogger("iep_followup.daemon")

STOP_TIMEOUT_SECONDS = 30.0
CATCH_UP_JOBS = (
    "deliver",
    "request_updates",
    "poll_inbox",
)  # run at start: the database knows what was missed


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
    ) -> None:
        self.tracker = tracker
        self.settings = tracker.settings
        self.jobs = tuple(jobs)
        self.stop_timeout = stop_timeout
        self._receiver_port = receiver_port
        self._stop = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._running = 0
        self.receiver: SmtpReceiver | None = None
        self.poller: ImapPoller | None = None
        self.desk = desk
        self._desk_started = False
        self._jobs: dict[str, Callable[[], Awaitable[str]]] = {
            "deliver": self._deliver,
            "request_updates": self._request_updates,
            "poll_inbox": self._poll_inbox,
            "digests": self._digests,
            "heartbeat": self._heartbeat,
        }

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def request_stop(self) -> None:
        if not self._stop.is_set():
            log.info("stopping: finishing the job in flight")
        self._stop.set()

    async def run_job(self, name: str) -> None:
        """Run one job and log one line about it. Never raises: a failing tick must not stop the daemon."""
        if self.stopping:
            return
        self._running += 1
        self._idle.clear()
        started = time.monotonic()
        try:
            outcome = await self._jobs[name]()
            log.info("job %s: %s (%.2fs)", name, outcome, time.monotonic() - started)
        except IepFollowupError as exc:
            log.warning("job %s failed: %s (%.2fs)", name, exc, time.monotonic() - started)
        except Exception as exc:
            # Unknown failures are logged by type only: their text could hold a message body.
            log.error(
                "job %s crashed: %s (%.2fs)", name, type(exc).__name__, time.monotonic() - started
            )
            log.debug("job %s traceback", name, exc_info=True)
        finally:
            self._running -= 1
            if self._running == 0:
                self._idle.set()

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
            self._describe_start()
            wiring.start(scheduler)
            wiring.run_soon(scheduler, CATCH_UP_JOBS)
            await self._stop.wait()
            wiring.pause(scheduler)
            try:
                await asyncio.wait_for(self._idle.wait(), self.stop_timeout)
            except TimeoutError:
                log.warning(
                    "a job was still running after %.0fs; stopping anyway", self.stop_timeout
                )
        finally:
            wiring.shutdown(scheduler)
            await self._close()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
        log.info("stopped")
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
        if self.settings.imap_url is not None:
            self.poller = new_poller(self.tracker)

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
        log.info(
            "iep-followup daemon started (pid %s): database %s; %s; replies via %s; jobs: %s%s",
            os.getpid(),
            database,
            outgoing,
            ", ".join(incoming) or "the ingest command only",
            ", ".join(job.name for job in self.jobs),
            desk,
        )

    async def _close(self) -> None:
        if self.desk is not None and self._desk_started:
            await self.desk.stop()  # before the database closes: requests in flight finish
            self._desk_started = False
        if self.receiver is not None:
            await asyncio.to_thread(self.receiver.stop)
        if self.poller is not None:
            await self.poller.close()
        self.tracker.close()

    # --- the jobs -----------------------------------------------------------------------

    async def _deliver(self) -> str:
        report = await self.tracker.deliver(should_stop=lambda: self.stopping)
        text = f"sent {report.sent}, retry later {report.retried}, failed {report.failed}"
        return text + (f"; paused: {report.error}" if report.error else "")

    async def _request_updates(self) -> str:
        run = await asyncio.to_thread(self.tracker.request_updates)
        return f"asked {run.asked}, reminded {run.reminded}, not due {run.waiting}, failed {run.failed}"

    async def poll_once(self) -> str:
        """One IMAP pass outside the schedule (the poll-inbox command)."""
        if self.poller is None and self.settings.imap_url is not None:
            self._start_inbound_imap()
        try:
            return await self._poll_inbox()
        finally:
            if self.poller is not None:
                await self.poller.close()

    async def _poll_inbox(self) -> str:
        if self.poller is None:
            return "no IMAP mailbox configured"
        with self.tracker.database.exclusive("iep-followup:poll-inbox") as mine:
            if not mine:
                return "another daemon is polling"
            result = await self.poller.poll_once(
                lambda raw: self.tracker.handle_inbound(raw, "imap"),
                lambda header, size: self.tracker.handle_inbound(header, "imap", size=size),
            )
        return f"fetched {result.fetched}, recorded {result.handled}, failed {result.failed}"

    async def _digests(self) -> str:
        run = await asyncio.to_thread(self.tracker.digests)
        return f"queued {run.queued}, already queued {run.already}, quiet skipped {run.quiet_skipped}, failed {run.failed}"

    async def _heartbeat(self) -> str:
        def counts() -> str:
            with self.tracker.database.transaction() as session:
                queued = outbox.counts(session)
                held = len(inbox.messages(session, held_only=True))
            parts = [f"{status.value} {count}" for status, count in sorted(queued.items())]
            return f"alive; outbox: {', '.join(parts) or 'empty'}; held for review: {held}"

        return await asyncio.to_thread(counts)


def new_poller(tracker: Tracker) -> ImapPoller:
    settings = tracker.settings
    assert settings.imap_url is not None
    config = parse_imap_url(settings.imap_url.get_secret_value())
    return ImapPoller(
        config,
        inbox.DbImapState(tracker.database),
        token_provider=_token_provider(tracker),
        max_bytes=settings.max_reply_bytes,
    )


def imap_login(tracker: Tracker) -> Callable[[], Awaitable[str]]:
    """For `check`: log in and open the mailbox, touching no message."""

    async def login() -> str:
        poller = new_poller(tracker)
        try:
            return await poller.check()
        finally:
            await poller.close()

    return login


def _token_provider(tracker: Tracker) -> Callable[[], Awaitable[str]] | None:
    token, command = tracker.settings.imap_oauth_token, tracker.settings.imap_oauth_token_command
    if command:

        async def from_command() -> str:
            process = await asyncio.create_subprocess_exec(
                *shlex.split(command),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
            )
            out, _ = await asyncio.wait_for(process.communicate(), 30)
            if process.returncode != 0 or not out.strip():
                raise ConfigError("IEP_FOLLOWUP_IMAP_OAUTH_TOKEN_COMMAND did not print a token")
            return out.decode().strip()

        return from_command
    if token is not None:
        secret = token.get_secret_value()

        async def from_setting() -> str:
            return secret

        return from_setting
    return None
