"""Helpers for the fault-injection tests: daemon processes, CPU time, a TCP proxy, a flaky SMTP handler."""

from __future__ import annotations

import contextlib
import email
import email.policy
import html
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlmodel import Session, col, select

from iep_followup.domain import (
    Cadence,
    ConcernInfo,
    ItemInfo,
    MeetingKind,
    MeetingRecord,
    MemberInfo,
    Role,
    StrengthInfo,
    StudentInfo,
)
from iep_followup.mail.kinds import MailKind, OutboxStatus
from iep_followup.store import outbox
from iep_followup.store.db import Database
from iep_followup.store.models import OutboxMessage
from tests.smtp_server import RecordingHandler, SmtpServer

CLI = Path(sys.executable).with_name("iep-followup")
SECRET = "a-fault-test-secret-that-is-long-enough"


def wait_for(condition: Callable[[], bool], seconds: float, what: str, step: float = 0.05) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds}s waiting for {what}")
        time.sleep(step)


def daemon_env(folder: Path, database_url: str, schedule: str, **settings: str) -> dict[str, str]:
    """The environment of an `iep-followup run` process: only our settings, none inherited."""
    (folder / "schedule.toml").write_text(schedule, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("IEP_FOLLOWUP_")}
    values = {
        "database_url": database_url,
        "secret_key": SECRET,
        "timezone": "America/Chicago",
        "jobs_file": str(folder / "schedule.toml"),
        "mail_dir": str(folder / "mail"),
        "quiet_hours": "00:00-00:00",  # always inside sending hours, whatever time the test runs
        "send_on_weekends": "true",
        **settings,
    }
    env.update({f"IEP_FOLLOWUP_{k.upper()}": v for k, v in values.items()})
    return env


@dataclass
class DaemonProcess:
    """One `iep-followup run` process, its log in a file (a pipe nobody reads could fill up)."""

    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is released, as in a power cut."""
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> int:
        """SIGTERM and wait: the exit code of a clean stop."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


class Daemons:
    """Starts daemon processes; the fixture kills any still running at the end of the test."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[DaemonProcess] = []

    def start(self, env: dict[str, str]) -> DaemonProcess:
        log_path = self.folder / f"daemon{len(self.started)}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [str(CLI), "run"], cwd=self.folder, env=env, stdout=log, stderr=log
            )
        daemon = DaemonProcess(process, log_path)
        self.started.append(daemon)
        return daemon

    def cleanup(self) -> None:
        for daemon in self.started:
            if daemon.alive():
                daemon.kill()


def run_cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far, from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    # The command name (field 2) may hold spaces; utime and stime are fields 14 and 15.
    fields = stat.rpartition(")")[2].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def queue_bulk(database_url: str, count: int, prefix: str = "bulk") -> list[str]:
    """Queue `count` small messages straight into the outbox; returns their Message-IDs."""
    database = Database(database_url)
    now = datetime.now(UTC)
    ids = [f"<{prefix}.{n}@faults.example.org>" for n in range(count)]
    with database.transaction() as session:
        for n, message_id in enumerate(ids):
            outbox.queue(
                session,
                kind=MailKind.NOTICE,
                idempotency_key=f"{prefix}:{n}",
                to_address=f"person{n}@example.com",
                message_id=message_id,
                subject=prefix,
                body=f"Message-ID: {message_id}\r\nSubject: {prefix}\r\n\r\nmessage {n}\r\n".encode(),
                now=now,
            )
    database.dispose()
    return ids


@dataclass(frozen=True)
class OutboxRow:
    id: int
    status: OutboxStatus
    attempts: int
    next_attempt_at: datetime
    lease_until: datetime | None


class OutboxReader:
    """Reads the outbox the way a person's query would: no write lock, never in the daemon's way."""

    def __init__(self, database_url: str) -> None:
        self.engine = create_engine(Database(database_url).engine.url)

    def rows(self) -> dict[int, OutboxRow]:
        with Session(self.engine) as session:
            found = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
            return {
                m.id or 0: OutboxRow(
                    m.id or 0, m.status, m.attempts, m.next_attempt_at, m.lease_until
                )
                for m in found
            }

    def counts(self) -> dict[OutboxStatus, int]:
        with Session(self.engine) as session:
            return outbox.counts(session)

    def close(self) -> None:
        self.engine.dispose()


@dataclass
class RandomDeferHandler(RecordingHandler):
    """Answers 451 to a random share of DATA commands (seeded, so a failure can be replayed)."""

    defer_share: float = 0.0
    seed: int = 0
    deferred: int = 0
    accepted: int = 0
    _rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self._rng.seed(self.seed)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self._lock:
            if self._rng.random() < self.defer_share:
                self.deferred += 1
                return "451 4.3.0 Please try again later"
            self.accepted += 1
        return await super().handle_DATA(server, session, envelope)


def smtp_server_with(handler: RecordingHandler) -> SmtpServer:
    server = SmtpServer()
    server.handler = handler
    server.start()
    return server


class TcpProxy:
    """A loopback TCP proxy that can be cut (listener closed, every connection dropped) and restored.

    Used to make PostgreSQL unreachable for a daemon without touching the server itself.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.connections = 0

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        """Refuse new connections and drop the open ones, as a network failure would."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = [t for t in self._threads if t.is_alive()]
        wait_for(lambda: not self._sockets, 5, "the proxy's connections to close", step=0.01)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    upstream.close()
                    return
                self._sockets.update((client, upstream))
                self.connections += 1
            pair = threading.Thread(target=self._relay, args=(client, upstream), daemon=True)
            pair.start()

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        back = threading.Thread(target=self._pump, args=(upstream, client), daemon=True)
        back.start()
        self._pump(client, upstream)
        back.join()
        with self._lock:
            self._sockets.difference_update((client, upstream))
        client.close()
        upstream.close()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            # Either side hanging up ends both directions.
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@contextlib.contextmanager
def proxied(target_host: str, target_port: int) -> Iterator[TcpProxy]:
    proxy = TcpProxy(target_host, target_port)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()


# --- a generated district ---------------------------------------------------------------

_SYLLABLES = ("ba", "ko", "li", "mu", "ne", "ro", "si", "ta", "vu", "ze", "pa", "di", "fo", "gu")


@dataclass(frozen=True)
class District:
    """Meetings to record, and for each student (by external id) the team and the names to look for."""

    records: tuple[MeetingRecord, ...]
    teams: dict[str, frozenset[str]]
    names: dict[str, tuple[str, str]]  # full name, first name
    case_managers: tuple[str, ...]
    parents: dict[str, str]  # student id -> the parent's email


def _made_up_names(count: int, rng: random.Random) -> list[str]:
    """Distinct invented words, so finding one in an email means that student was named."""
    names: set[str] = set()
    while len(names) < count:
        names.add("".join(rng.choice(_SYLLABLES) for _ in range(3)).capitalize())
    return sorted(names, key=lambda _: rng.random())


def make_district(
    students: int, *, case_managers: int, seed: int = 7, held_on: date = date(2026, 11, 16)
) -> District:
    """A district whose staff are shared the way schools share them; parents are one per student.

    Each case manager has about students/case_managers students; classroom teachers have
    ten each; three special-education teachers, four speech therapists and three
    occupational therapists serve everyone between them. Every member owns one weekly item
    whose title, like the concern and the strength, names the child.
    """
    rng = random.Random(seed)
    made_up = _made_up_names(2 * students, rng)  # no first name is anyone's last name
    firsts, lasts = made_up[:students], made_up[students:]

    def staff(role: Role, prefix: str, index: int) -> MemberInfo:
        return MemberInfo(
            f"{prefix.title()} Staff{index}", f"{prefix}{index}@district.example.org", role
        )

    records, teams, names, parents = [], {}, {}, {}
    for n in range(students):
        first, last = firsts[n], lasts[n]
        external_id = f"SID-{seed}-{n:04d}"
        parent = MemberInfo(
            f"Pat {last}",
            f"parent.{last.lower()}@home.example.com",
            Role.PARENT,
            language="es" if n % 3 == 0 else "en",
        )
        members = [
            staff(Role.CASE_MANAGER, "casemgr", n % case_managers),
            staff(Role.CLASSROOM_TEACHER, "teacher", n // 10),
            staff(Role.SPECIAL_EDUCATION_TEACHER, "sped", n % 3),
            staff(Role.SPEECH_LANGUAGE_PATHOLOGIST, "speech", n % 4),
            parent,
        ]
        if n % 2 == 0:
            members.append(staff(Role.OCCUPATIONAL_THERAPIST, "ot", n % 3))
        items = tuple(
            ItemInfo(
                f"item-{k}",
                f"Work with {first} on goal {k + 1}",
                member.email,
                held_on + timedelta(days=120 + k),
                Cadence.WEEKLY,
            )
            for k, member in enumerate(members)
        )
        records.append(
            MeetingRecord(
                student=StudentInfo(external_id, f"{first} {last}", "Hill School", str(1 + n % 5)),
                held_on=held_on,
                kind=MeetingKind.ANNUAL_REVIEW,
                members=tuple(members),
                strengths=(StrengthInfo(f"{first} is kind and keeps trying.", parent.email),),
                concerns=(ConcernInfo("reading", f"{first} finds reading hard.", None, items),),
            )
        )
        teams[external_id] = frozenset(m.email for m in members)
        names[external_id] = (f"{first} {last}", first)
        parents[external_id] = parent.email
    managers = tuple(f"casemgr{i}@district.example.org" for i in range(case_managers))
    return District(tuple(records), teams, names, managers, parents)


def readable_parts(raw: bytes) -> dict[str, str]:
    """What a person can read in an email: its subject and every text part (HTML unescaped).

    Read with the fast compat32 parser: the privacy test reads a couple of thousand emails.
    """
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    parts = {"subject": str(make_header(decode_header(message["Subject"] or "")))}
    for n, part in enumerate(message.walk()):
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        kind = part.get_content_type()
        if not kind.startswith("text/"):
            continue
        text = payload.decode(part.get_content_charset() or "utf-8", "replace")
        parts[f"{n}:{kind}"] = html.unescape(text) if kind == "text/html" else text
    return parts


_KIND = re.compile(rb"^X-IEP-Followup: *(\w+)", re.MULTILINE | re.IGNORECASE)


def kind_of(raw: bytes) -> str:
    """The X-IEP-Followup header (what kind of email we sent), without parsing the whole email."""
    match = _KIND.search(raw.split(b"\r\n\r\n", 1)[0])
    return match.group(1).decode() if match else ""


_MESSAGE_ID = re.compile(rb"^Message-ID: *(<[^>]+>)", re.MULTILINE | re.IGNORECASE)


def message_id_of(raw: bytes) -> str:
    """The Message-ID of an email as it arrived, without parsing the whole email."""
    match = _MESSAGE_ID.search(raw.split(b"\r\n\r\n", 1)[0])
    assert match is not None, raw[:300]
    return match.group(1).decode()
