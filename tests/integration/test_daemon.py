"""The daemon as an administrator runs it: real processes, signals, locks; and in-process with a clock."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx2
import pytest

from iep_followup.daemon import Daemon, SingleDaemonLock
from iep_followup.errors import AlreadyRunningError
from iep_followup.mail.kinds import MailKind, OutboxStatus
from iep_followup.meetingfile import load_meeting_file
from iep_followup.schedule import JobSpec
from iep_followup.store import outbox
from iep_followup.tracker import Tracker
from tests.conftest import EXAMPLE, Clock
from tests.smtp_server import SmtpServer

CLI = Path(sys.executable).with_name("iep-followup")
SECRET = "a-daemon-test-secret-that-is-long-enough"
FAST_SCHEDULE = "[jobs.deliver]\nevery_seconds = 1\n[jobs.heartbeat]\nevery_seconds = 1\n"


def _env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IEP_FOLLOWUP_")}
    env.update({f"IEP_FOLLOWUP_{k.upper()}": v for k, v in settings.items()})
    return env


def _prepare(folder: Path, database_url: str | None = None) -> dict[str, str]:
    (folder / "schedule.toml").write_text(FAST_SCHEDULE, encoding="utf-8")
    env = _env(
        database_url=database_url or f"sqlite:///{folder / 'iep.db'}",
        secret_key=SECRET,
        timezone="America/Chicago",
        jobs_file=str(folder / "schedule.toml"),
        mail_dir=str(folder / "mail"),
        quiet_hours="00:00-00:00",  # always inside sending hours, whatever time the test runs
        send_on_weekends="true",
    )
    for command in (["init"], ["import", str(EXAMPLE)]):
        done = subprocess.run(
            [str(CLI), *command],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    return env


def _start(folder: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(CLI), "run"],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds}s waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def stop_after() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)  # reaps it and closes its pipes


def test_run_does_the_due_work_and_stops_cleanly_on_sigterm(
    tmp_path: Path, stop_after: list[subprocess.Popen[str]]
) -> None:
    env = _prepare(tmp_path)
    daemon = _start(tmp_path, env)
    stop_after.append(daemon)
    _wait(
        lambda: len(list((tmp_path / "mail").glob("*.eml"))) == 8, 30, "the eight meeting summaries"
    )
    time.sleep(1.5)  # let a heartbeat happen
    daemon.send_signal(signal.SIGTERM)
    _out, err = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, err
    assert "no IEP_FOLLOWUP_SMTP_URL: emails are written as .eml files to" in err
    assert "job deliver: sent 8" in err
    assert "job heartbeat: alive; outbox: sent 8" in err
    assert "iep_followup.daemon: stopped" in err
    assert "the desk at" not in err  # IEP_FOLLOWUP_WEB_LISTEN not set: no desk
    assert "apscheduler" not in err  # the libraries' chatter stays out of the log
    assert SECRET not in err
    assert "Lucía" not in err  # no email content in the log
    assert not (tmp_path / "iep.db.daemon.lock").exists()  # a clean exit leaves no lock file


def test_a_second_daemon_on_the_same_sqlite_file_refuses_to_start(
    tmp_path: Path, stop_after: list[subprocess.Popen[str]]
) -> None:
    env = _prepare(tmp_path)
    first = _start(tmp_path, env)
    stop_after.append(first)
    _wait(
        lambda: (
            (tmp_path / "iep.db.daemon.lock").exists()
            and (tmp_path / "iep.db.daemon.lock").read_text() != ""
        ),
        30,
        "the lock",
    )
    started = time.monotonic()
    second = subprocess.run(
        [str(CLI), "run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert second.returncode == 1
    assert "already running on this SQLite database" in second.stderr
    assert time.monotonic() - started < 10
    assert first.poll() is None
    first.send_signal(signal.SIGTERM)
    first.communicate(timeout=30)
    assert first.returncode == 0
    assert not (tmp_path / "iep.db.daemon.lock").exists()


def test_the_lock_file_is_removed_on_release_and_can_be_taken_again(tmp_path: Path) -> None:
    database = tmp_path / "iep.db"
    first = SingleDaemonLock(database)
    first.acquire()
    assert first.path.read_text(encoding="utf-8") == f"pid {os.getpid()}"
    with pytest.raises(AlreadyRunningError, match=f"pid {os.getpid()}"):
        SingleDaemonLock(database).acquire()
    first.release()
    assert not first.path.exists()
    second = SingleDaemonLock(database)
    second.acquire()
    second.release()
    assert list(tmp_path.iterdir()) == []


def test_the_daemon_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    env = _prepare(tmp_path)
    env.pop("IEP_FOLLOWUP_SECRET_KEY")
    done = subprocess.run(
        [str(CLI), "run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("error: IEP_FOLLOWUP_SECRET_KEY is not set")


@pytest.mark.postgres
def test_two_daemons_on_postgresql_deliver_a_large_outbox_once(
    tmp_path: Path,
    postgres_url: str,
    smtp_server: SmtpServer,
    stop_after: list[subprocess.Popen[str]],
) -> None:
    from tests.conftest import _truncate_postgres

    _truncate_postgres(postgres_url)
    env = _prepare(tmp_path, postgres_url)
    env["IEP_FOLLOWUP_SMTP_URL"] = smtp_server.url
    total = _queue_many(postgres_url, 400)
    daemons = [_start(tmp_path, env) for _ in range(2)]
    stop_after.extend(daemons)
    _wait(
        lambda: len(smtp_server.received) >= total + 8, 120, f"{total + 8} messages at the server"
    )
    time.sleep(2)  # anything sent twice would arrive now
    for daemon in daemons:
        daemon.send_signal(signal.SIGTERM)
    logs = [d.communicate(timeout=30)[1] for d in daemons]
    assert [d.returncode for d in daemons] == [0, 0], logs
    ids = [r.message["Message-ID"] for r in smtp_server.received]
    assert len(ids) == len(set(ids)) == total + 8
    # Each message was claimed by exactly one daemon: their own counts add up to the total.
    sent = [int(n) for log in logs for n in re.findall(r"job deliver: sent (\d+)", log)]
    assert sum(sent) == total + 8


def _queue_many(url: str, count: int) -> int:
    from iep_followup.store.db import Database

    database = Database(url)
    now = datetime.now(UTC)
    with database.transaction() as session:
        for n in range(count):
            outbox.queue(
                session,
                kind=MailKind.NOTICE,
                idempotency_key=f"bulk:{n}",
                to_address=f"person{n}@example.com",
                message_id=f"<bulk.{n}@test.example.org>",
                subject="bulk",
                body=f"Message-ID: <bulk.{n}@test.example.org>\r\nSubject: bulk\r\n\r\nhello\r\n".encode(),
                now=now,
            )
    database.dispose()
    return count


async def test_after_downtime_the_first_tick_catches_up(
    make_tracker: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer
) -> None:
    clock.now = datetime(2026, 11, 16, 21, 0, tzinfo=UTC)
    tracker = make_tracker(smtp_url=smtp_server.url)
    tracker.record_meeting(load_meeting_file(EXAMPLE))
    # The daemon was down for three weeks; its cron ticks never happened. Started on a Monday
    # morning, with request_updates scheduled only for the far future, it still asks everyone due.
    clock.now = datetime(2026, 12, 7, 14, 30, tzinfo=UTC)
    jobs = (JobSpec("deliver", every_seconds=1), JobSpec("request_updates", cron="0 9 1 1 *"))
    daemon = Daemon(tracker, jobs)
    running = asyncio.create_task(daemon.run())
    await _until(
        lambda: (
            len(
                [
                    m
                    for m in tracker.outbox()
                    if m.kind is MailKind.REQUEST and m.status is OutboxStatus.SENT
                ]
            )
            == 4
        )
    )
    daemon.request_stop()
    assert await asyncio.wait_for(running, 30) == 0


async def test_stop_lets_the_message_in_flight_finish_and_hands_the_rest_back(
    make_tracker: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer
) -> None:
    clock.now = datetime(2026, 11, 16, 21, 0, tzinfo=UTC)
    tracker = make_tracker(smtp_url=smtp_server.url)
    tracker.record_meeting(load_meeting_file(EXAMPLE))
    smtp_server.handler.delay = 0.5  # a slow server: the stop arrives mid-batch
    daemon = Daemon(tracker, (JobSpec("deliver", every_seconds=60),))
    running = asyncio.create_task(daemon.run())
    await _until(lambda: len(smtp_server.received) >= 1)
    daemon.request_stop()
    assert await asyncio.wait_for(running, 10) == 0
    with tracker.database.transaction() as session:
        counts = outbox.counts(session)
    assert OutboxStatus.SENDING not in counts  # nothing left claimed
    assert counts[OutboxStatus.SENT] == len(smtp_server.received) < 8
    assert counts[OutboxStatus.QUEUED] == 8 - len(smtp_server.received)


async def _until(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def test_the_demo_shows_the_whole_loop_in_under_a_minute(tmp_path: Path) -> None:
    started = time.monotonic()
    done = subprocess.run(
        [str(CLI), "demo", "--dir", str(tmp_path / "demo")],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert time.monotonic() - started < 60
    out = done.stdout
    for step in (
        "1. Monday, Nov 16",
        "2. Monday, Nov 30",
        "3. Owners reply",
        "4. Karen has not answered",
        "5. Monday, Dec 14",
    ):
        assert step in out
    assert "is held for review" in out
    assert "Balance check: everyone, Rosa included, has a part" in out
    # The digest covers time that has passed: its period ended the day before it is written.
    written = re.search(r"^5\. \w+, (\w+ \d+):", out, flags=re.MULTILINE)
    period_end = re.search(r'"Digest: .* \(\w+ \d+ – (\w+ \d+)\)"', out)
    assert written and period_end, out
    assert (written[1], period_end[1]) == ("Dec 14", "Dec 13"), out
    html = next((tmp_path / "demo" / "digest").glob("*.html")).read_text(encoding="utf-8")
    assert "Needs your attention" in html and "Karen Liu has not answered" in html
    assert "no tenemos el cuaderno de lectura" in html
    # The routines: how each is going, and Megan's "partly, 20 min" against 30 a week.
    assert "happened in 1 of the last 2 two-week periods" in html  # Tom's folder
    # Only weeks someone was asked about count: Megan's of Nov 30 (20 of 30); the week of
    # Dec 7 has not been asked about yet, and Priya (monthly) was never asked at all.
    assert "Megan Torres reported 20 of the 30 minutes promised" in html
    assert "Priya Nair reported" not in html
    assert "no report yet (not asked yet)" in html
    emails = list((tmp_path / "demo" / "mail").glob("*.eml"))
    assert len(emails) >= 17
    assert any("-reminder-" in e.name for e in emails) and any("-digest-" in e.name for e in emails)
    assert not (tmp_path / "demo" / "iep-followup.db.daemon.lock").exists()
    again = subprocess.run(
        [str(CLI), "demo", "--dir", str(tmp_path / "demo")],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert again.returncode == 0  # running it twice starts over


def _shell(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A line typed into a shell in `cwd`, with no IEP_FOLLOWUP_ settings in the environment."""
    return subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_command_the_demo_prints_works_as_printed(tmp_path: Path) -> None:
    # As `make run` does: a relative --dir, from the folder the user is in.
    done = _shell(f"{CLI} demo --dir demo", tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    commands = [line.strip() for line in done.stdout.split("Look around:\n", 1)[1].splitlines()]
    assert len(commands) >= 5 and commands[-1].endswith(" check")
    outputs = []
    for command in commands:
        ran = _shell(command, tmp_path)
        assert ran.returncode == 0, f"{command}\n{ran.stdout}\n{ran.stderr}"
        outputs.append(ran.stdout)
    assert "Lucía" in outputs[0]  # status shows the demo's data, not an empty database
    # demo/ is a working configuration on its own too: its .env holds the settings.
    inside = _shell(f"{CLI} check", tmp_path / "demo")
    assert inside.returncode == 0, inside.stdout + inside.stderr


def _read_until(process: subprocess.Popen[str], marker: str, seconds: float = 120) -> str:
    """The process's output up to and including the line with `marker` (killed if it never comes)."""
    watchdog = threading.Timer(seconds, process.kill)
    watchdog.start()
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if marker in line:
                break
    finally:
        watchdog.cancel()
    out = "".join(lines)
    assert marker in out, (
        f"no {marker!r} in:\n{out}\n{process.stderr.read() if process.stderr else ''}"
    )
    return out


def _refused(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def test_make_run_serves_the_demos_desk_until_ctrl_c(tmp_path: Path) -> None:
    # As `make run` does, with the wanted port taken: the next free one is used, and said.
    with socket.create_server(("127.0.0.1", 0)) as busy:
        taken = busy.getsockname()[1]
        demo = subprocess.Popen(
            ["bash", "-c", f"exec {CLI} demo --dir demo --serve"],
            cwd=tmp_path,
            env=_env(web_listen=f"127.0.0.1:{taken}"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            out = _read_until(demo, "Press Ctrl-C to stop it.")
            assert f"(port {taken} was taken)" in out
            found = re.search(r"^  (http://127\.0\.0\.1:(\d+)/signin/\S+)$", out, re.MULTILINE)
            assert found, out
            link, port = found[1], int(found[2])
            assert (
                port != taken and f"The case manager's desk is at http://127.0.0.1:{port}/" in out
            )
            with httpx2.Client(follow_redirects=True, timeout=10) as browser:
                # Opening the link (as a mail scanner would, twice) signs no one in.
                for _ in range(2):
                    page = browser.get(link)
                    assert page.status_code == 200
                    assert "Press the button to sign in" in page.text
                csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
                assert csrf, page.text
                caseload = browser.post(link, data={"csrf": csrf[1]})
                assert caseload.status_code == 200
                assert "Lucía" in caseload.text  # the demo's data, signed in as its case manager
        finally:
            demo.send_signal(signal.SIGINT)
            rest, err = demo.communicate(timeout=60)
    assert demo.returncode == 0, err
    assert "Traceback" not in err and "signin/" not in err  # no access log
    assert _refused(port)
    # What it prints on the way out works as printed, from the same folder.
    again, link_command = [
        line.strip()
        for line in rest.split("To serve it again", 1)[1].splitlines()[1:]
        if "  " in line
    ]
    printed = _shell(link_command, tmp_path)
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.startswith(f"http://127.0.0.1:{port}/signin/")
    desk = subprocess.Popen(
        ["bash", "-c", f"exec {again}"],
        cwd=tmp_path,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _read_until(desk, f"The desk is at http://127.0.0.1:{port}/")
        _wait(lambda: not _refused(port), 30, "the desk to listen")
        with httpx2.Client(timeout=10) as browser:
            assert "Press the button to sign in" in browser.get(printed.stdout.strip()).text
    finally:
        desk.send_signal(signal.SIGINT)
        _out, err = desk.communicate(timeout=60)
    assert desk.returncode == 0, err
