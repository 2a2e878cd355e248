"""`iep-followup demo`: the whole loop on this machine, with no set-up and an accelerated clock.

Real parts throughout: the SQLite store, the daemon and its scheduler, our SMTP delivery
to an SMTP server on loopback (which keeps every message as an .eml file), and replies
sent over SMTP to the daemon's own receiver and through the normal ingestion path.
"""

from __future__ import annotations

import asyncio
import email
import re
import secrets
import shlex
import shutil
import socket
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP, default
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import aiosmtplib
from aiosmtpd.controller import Controller

from iep_followup.balance import BalanceReport
from iep_followup.config import ENV_PREFIX, load_settings
from iep_followup.daemon import Daemon
from iep_followup.demo_desk import RunningClock, desk_address, serve_desk
from iep_followup.errors import IepFollowupError
from iep_followup.meetingfile import load_meeting_file
from iep_followup.resources import example_meeting_path
from iep_followup.schedule import JobSpec
from iep_followup.tracker import Tracker

Echo = Callable[[str], None]

MARKER_FILE = ".iep-followup-demo"
DISTRICT = "America/Chicago"
REPLIES_TO = "iep-replies@lincoln.example.org"
# What the demo suggests running on its data afterwards; each must work as printed.
TRY_COMMANDS = ("status", "balance", "inbox --held", "outbox", "check")


class DemoClock:
    """The daemon's clock: real seconds pass, and the demo jumps ahead by days between steps."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


class _Sink:
    """An SMTP server on loopback that keeps every message it accepts, in order, as .eml files."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.messages: list[EmailMessage] = []
        self.taken = 0  # how many of them the story has already looked at
        self.port = _free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, ready_timeout=10)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd hook)
        raw: bytes = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        kind = message.get("X-IEP-Followup", "mail")
        to = envelope.rcpt_tos[0].split("@")[0].replace("+", "_")
        (self.folder / f"{len(self.messages):02d}-{kind}-{to}.eml").write_bytes(raw)
        return "250 OK"

    def start(self) -> int:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._controller.start()
        return self.port

    def stop(self) -> None:
        self._controller.stop()


async def run_demo(folder: Path, *, echo: Echo, serve: bool = False) -> int:
    """The story; with `serve`, then the demo's desk until Ctrl-C."""
    desk = desk_address(load_settings(None).web_listen) if serve else None
    _prepare(folder)
    saved = _saved_settings(folder)
    if desk is not None:  # saved, so that `iep-followup web` on the demo's .env serves it too
        saved["web_listen"] = desk[0]
    _write_env_file(folder / ".env", saved)
    clock = DemoClock(datetime(2026, 11, 16, 21, 0, tzinfo=UTC))  # Monday 15:00 in Chicago
    code = await _run_story(folder, saved, clock, echo)
    if desk is None or code != 0:
        return code
    # The demo's own settings only: no SMTP server, mailbox or public URL from the environment.
    settings = load_settings(
        None, **saved, web_url=None, smtp_url=None, imap_url=None, smtp_receiver=None
    )
    record = load_meeting_file(example_meeting_path())
    served = serve_desk(settings, RunningClock(clock.now), record, desk[1], _command(folder), echo)
    return await served


async def _run_story(folder: Path, saved: dict[str, str], clock: DemoClock, echo: Echo) -> int:
    sink = _Sink(folder / "mail")
    port = await asyncio.to_thread(sink.start)
    # The loopback SMTP server and receiver live only as long as the demo: not saved.
    settings = load_settings(
        None,
        **saved,
        smtp_url=f"smtp://127.0.0.1:{port}?timeout=10",
        smtp_receiver="127.0.0.1:0",
    )
    tracker = Tracker(settings, clock=clock)
    tracker.init_database()
    daemon = Daemon(tracker, (JobSpec("deliver", every_seconds=1),), receiver_port=0)
    running = asyncio.create_task(daemon.run())
    try:
        await _wait_for(lambda: daemon.receiver is not None, "the daemon to start")
        return await _story(folder, tracker, daemon, clock, sink, echo)
    finally:
        daemon.request_stop()
        await asyncio.wait_for(running, 30)
        await asyncio.to_thread(sink.stop)


async def _story(
    folder: Path, tracker: Tracker, daemon: Daemon, clock: DemoClock, sink: _Sink, echo: Echo
) -> int:
    record = load_meeting_file(example_meeting_path())
    echo(f"1. Monday, Nov 16: {record.student.name}'s team meets and the plan is recorded.")
    result = await asyncio.to_thread(tracker.record_meeting, record)
    [report] = await asyncio.to_thread(tracker.balance, record.student.external_id)
    await _delivered(sink, result.summaries_queued)
    echo(
        f"   Each of the {len(record.members)} team members got a summary, strengths first (Rosa's in Spanish)."
    )
    echo(_balance_line(report))

    clock.now = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)
    echo("2. Monday, Nov 30, 08:30: two weeks on, the daemon asks each owner how it is going.")
    await daemon.run_job("request_updates")
    requests = {m["To"].addresses[0].addr_spec: m for m in await _delivered(sink, 4)}
    for address, message in sorted(requests.items()):
        echo(f'   -> {address}: "{message["Subject"]}"')

    echo("3. Owners reply from their own mail clients; the replies reach the daemon by SMTP.")
    clock.now += timedelta(hours=2)
    tom, megan, rosa = (
        requests[a]
        for a in (
            "tom.okafor@lincoln.example.org",
            "megan.torres@lincoln.example.org",
            "rosa.herrera@example.com",
        )
    )
    # Their items are routines (kept every week or two until a date): the answers say
    # whether it happened this period, and a service's minutes.
    # Tom also answers for the two accommodations he applies in class: one a substitute did
    # not use, one that did not come up (no test that week).
    await _reply(
        daemon,
        tom,
        f"{_ref(tom, 'Send the homework folder')} yes - the folder went home on Friday with all"
        f" the sheets.\n{_ref(tom, 'Give Lucía extra time')} no: a substitute had the class on"
        f" Tuesday\n{_ref(tom, 'Read test questions aloud')} didn't come up",
    )
    await _reply(
        daemon,
        megan,
        "A1 partly, 20 min\nShe holds the pencil with the grip now, but tires quickly.",
    )
    await _reply(
        daemon, rosa, "bloqueado: no tenemos el cuaderno de lectura\n\nEnviado desde mi iPhone"
    )
    await _reply(daemon, rosa, "sí", sender="Luis Herrera <luis.herrera@example.com>")
    confirmations = await _delivered(sink, 3)
    echo(
        '   Tom: "yes"; Megan: "partly, 20 min"; Rosa, in Spanish: "bloqueado: no tenemos el cuaderno de lectura".'
    )
    echo(
        '   Tom, for his accommodations: extra time "no: a substitute had the class";'
        ' reading questions aloud "didn\'t come up".'
    )
    echo(
        f"   Each got a confirmation of what was recorded ({len(confirmations)} sent, Rosa's in Spanish)."
    )
    held = await asyncio.to_thread(tracker.inbox, held_only=True)
    echo(
        f"   A reply from {held[0].from_address}, not the address we wrote to, is held for review: never applied."
    )

    echo("4. Karen has not answered. Three school days later she gets one gentle reminder...")
    clock.now = datetime(2026, 12, 3, 14, 30, tzinfo=UTC)
    await daemon.run_job("request_updates")
    [reminder] = await _delivered(sink, 1)
    echo(f'   -> {reminder["To"].addresses[0].addr_spec}: "{reminder["Subject"]}"')
    clock.now = datetime(2026, 12, 4, 14, 30, tzinfo=UTC)
    await daemon.run_job("request_updates")
    await daemon.run_job("deliver")
    sent = len(sink.messages)
    echo("   ...and then no more nagging: on Friday the daemon sends her nothing more, and after")
    echo("   three more school days she is counted as silent, for her case manager to see.")

    echo("5. Monday, Dec 14: the two weeks are over, and the case manager's digest covers them:")
    echo("   how each routine is going, and the minutes given against the minutes promised.")
    clock.now = datetime(2026, 12, 14, 13, 0, tzinfo=UTC)  # 07:00 in Chicago, as the daemon does
    await daemon.run_job("digests")
    [digest] = await _delivered(sink, 1)
    if len(sink.messages) != sent + 1 or digest["X-IEP-Followup"] != "digest":
        raise IepFollowupError("the demo expected exactly one digest and nothing else")
    previews = await asyncio.to_thread(tracker.digests, preview_dir=folder / "digest")
    html = next(p for p in previews.previews if p.suffix == ".html")
    echo(f'   -> {digest["To"].addresses[0].addr_spec}: "{digest["Subject"]}"')
    _tell_where(folder, len(sink.messages), html, echo)
    return 0


def _saved_settings(folder: Path) -> dict[str, str]:
    """The demo's settings that outlive it, with absolute paths so they work from any folder."""
    home = folder.absolute()
    return {
        "database_url": f"sqlite:///{home / 'iep-followup.db'}",
        "mail_dir": str(home / "mail"),
        "from_address": "IEP Follow-up <iep-followup@lincoln.example.org>",
        "reply_address": REPLIES_TO,
        "secret_key": secrets.token_urlsafe(32),
        "timezone": DISTRICT,
        "digest_period": "two-weeks",
    }


def _write_env_file(path: Path, saved: dict[str, str]) -> None:
    lines = [
        "# Written by `iep-followup demo`: its settings, so the other commands work on its data.",
        "# Without an SMTP server set, new emails are written as .eml files to the mail folder.",
        *(f'{ENV_PREFIX}{name.upper()}="{value}"' for name, value in saved.items()),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _tell_where(folder: Path, sent: int, digest: Path, echo: Echo) -> None:
    """Where to look, and commands that work exactly as printed from the current folder."""
    echo("")
    echo(
        f"Every email sent is in {_shown(folder / 'mail')}/ ({sent} .eml files, open them in any mail app)."
    )
    echo(f"The digest: {_shown(digest)} (open it in a browser).")
    echo(f"The demo's settings are saved in {_shown(folder / '.env')}. Look around:")
    command = _command(folder)
    for args in TRY_COMMANDS:
        echo(f"  {command} {args}")


def _command(folder: Path) -> str:
    """This iep-followup on the demo's settings, as typed from the current folder."""
    return f"{_shown(_cli_path())} --env-file {_shown(folder / '.env')}"


def _cli_path() -> Path:
    """This same iep-followup: the script that is running, or the one beside this Python."""
    script = Path(sys.argv[0])
    if script.name == "iep-followup" and script.is_file():
        return script
    return Path(sys.executable).with_name("iep-followup")


def _shown(path: Path) -> str:
    """Relative to the current folder when inside it, else absolute; quoted for a shell."""
    path = path.absolute()
    here = Path.cwd()
    return shlex.quote(str(path.relative_to(here) if path.is_relative_to(here) else path))


def _balance_line(report: BalanceReport) -> str:
    if not report.warnings:
        return "   Balance check: everyone, Rosa included, has a part, and no one carries too much."
    return (
        f"   Balance check: {len(report.warnings)} warning(s), e.g. {report.warnings[0].message}."
    )


def _ref(request: EmailMessage, title: str) -> str:
    """The reference ("A2") a request gives the item whose title starts so."""
    body = request.get_body(("plain",))
    text = str(body.get_content()) if body else ""
    found = re.search(rf"(A\d+)\. {re.escape(title)}", text)
    return found.group(1) if found else "A1"


async def _reply(
    daemon: Daemon, original: EmailMessage, text: str, *, sender: str | None = None
) -> None:
    """A reply as a mail client sends it: the request quoted below, to the Reply-To address."""
    quoted_part = original.get_body(("plain",))
    quoted = "\n".join(
        "> " + line for line in str(quoted_part.get_content() if quoted_part else "").splitlines()
    )
    to = original["To"].addresses[0]
    message = EmailMessage(policy=SMTP)
    message["From"] = sender or f"{to.display_name} <{to.addr_spec}>"
    message["To"] = original["Reply-To"].addresses[0].addr_spec
    message["Subject"] = "Re: " + str(original["Subject"])
    message["Message-ID"] = make_msgid(domain="mail.example.com")
    message["In-Reply-To"] = original["Message-ID"]
    message.set_content(
        f"{text}\n\nOn Mon, Nov 30, 2026 at 8:30 AM IEP Follow-up wrote:\n{quoted}\n"
    )
    assert daemon.receiver is not None
    await aiosmtplib.send(
        message, hostname=daemon.receiver.host, port=daemon.receiver.port, timeout=30
    )


async def _delivered(sink: _Sink, count: int) -> list[EmailMessage]:
    """Wait until the daemon's delivery job has sent `count` more messages; return them."""
    # Counted from what the story has seen, not from now: new mail wakes delivery at once,
    # so it may have gone out before we start waiting.
    start = sink.taken
    await _wait_for(
        lambda: len(sink.messages) >= start + count, f"{count} email(s) to be delivered"
    )
    sink.taken = start + count
    return sink.messages[start : start + count]


async def _wait_for(ready: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not ready():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"the demo waited {timeout:.0f}s for {what}")
        await asyncio.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _prepare(folder: Path) -> None:
    """Start from an empty folder; refuse to empty one the demo did not create."""
    if folder.exists() and any(folder.iterdir()):
        if not (folder / MARKER_FILE).exists():
            raise FileExistsError(
                f"{folder} is not empty and was not made by the demo; choose another --dir"
            )
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER_FILE).write_text(
        "made by iep-followup demo; safe to delete\n", encoding="utf-8"
    )
