"""Inbound mail that costs or claims too much (issue 26): a To: of 80,000 addresses, a reply
whose From is its owner but whose Sender or Reply-To is not, a database that refuses writes.

Real trackers on SQLite and PostgreSQL, the daemon's real SMTP receiver, the real CLI.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import smtplib
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from iep_followup.daemon import Daemon
from iep_followup.domain import ItemStatus
from iep_followup.inbound.message import MAX_ADDRESSES
from iep_followup.inbound.outcome import InboundOutcome
from iep_followup.net.smtp import SmtpTransport, parse_smtp_url
from iep_followup.tracker import Tracker
from tests.conftest import Clock, example_with_tasks
from tests.mailclient import reply
from tests.smtp_server import SmtpServer

MEETING = datetime(2026, 11, 16, 21, 0, tzinfo=UTC)
TWO_WEEKS_ON = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)  # Monday 08:30 in Chicago
REPLY_TIME = TWO_WEEKS_ON + timedelta(hours=3)
CROWD = 80_000  # addresses in one To: field, about 1.8 MB
CLI = Path(sys.executable).with_name("iep-followup")


async def _requests_sent(
    tracker: Tracker, clock: Clock, smtp_server: SmtpServer
) -> dict[str, EmailMessage]:
    """The example meeting, two weeks on: every owner has their request, by first name."""
    clock.now = MEETING
    tracker.record_meeting(
        example_with_tasks(
            "reading-one-on-one", "pencil-grip", "homework-check", accommodations=False
        )
    )
    clock.now = TWO_WEEKS_ON
    tracker.request_updates()
    await tracker.deliver(SmtpTransport(parse_smtp_url(smtp_server.url)))
    requests = {
        r.rcpt_tos[0].split(".")[0]: r.message
        for r in smtp_server.received
        if r.message["X-IEP-Followup"] == "request"
    }
    smtp_server.received.clear()
    clock.now = REPLY_TIME
    return requests


@pytest.fixture
def asked(
    make_tracker: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer
) -> tuple[Tracker, dict[str, EmailMessage]]:
    tracker = make_tracker(smtp_url=smtp_server.url)
    return tracker, asyncio.run(_requests_sent(tracker, clock, smtp_server))


def _item(tracker: Tracker, owner_prefix: str) -> tuple[ItemStatus, int]:
    item = next(i for i in tracker.items() if i.owner_email.startswith(owner_prefix))
    return item.status, item.percent


def _reply_to(request: EmailMessage) -> str:
    return str(request["Reply-To"].addresses[0].addr_spec)


def _with_headers(raw: bytes, **headers: str) -> bytes:
    """The message with these fields set (Reply_To is Reply-To); nothing else changes."""
    message = email.message_from_bytes(raw, policy=email.policy.SMTP)
    for name, value in headers.items():
        field = name.replace("_", "-")
        del message[field]
        message[field] = value
    return message.as_bytes()


def _crowded(raw: bytes, first: str) -> bytes:
    """The message with a To: of `first` and then CROWD strangers."""
    # Folded, one address a line, as a mail client writes it (SMTP refuses longer lines).
    crowd = ",\r\n ".join(f"parent{i}@lists.example.net" for i in range(CROWD))
    head, _, body = raw.partition(b"\r\n\r\n")
    kept = b"\r\n".join(line for line in head.split(b"\r\n") if not line.lower().startswith(b"to:"))
    return kept + f"\r\nTo: {first}, {crowd}\r\n\r\n".encode() + body


# --- a To: of 80,000 addresses ------------------------------------------------------------


def test_a_reply_with_80000_addresses_in_to_is_judged_on_the_first_ones_and_applied(
    asked: tuple[Tracker, dict[str, EmailMessage]],
) -> None:
    tracker, requests = asked
    raw = _crowded(reply(requests["karen"], "75%"), _reply_to(requests["karen"]))
    assert len(raw) > 1_500_000
    result = tracker.ingest(raw, via="smtp")
    assert (result.outcome, result.applied) == (InboundOutcome.APPLIED, 1)
    assert result.reason.endswith(
        f"; only the first {MAX_ADDRESSES} addresses of each kind were read"
    )
    assert _item(tracker, "karen") == (ItemStatus.IN_PROGRESS, 75)
    # The same message again is a duplicate, whatever its size.
    assert tracker.ingest(raw, via="smtp").duplicate


def test_a_key_past_the_first_addresses_is_not_read_and_the_reply_is_held(
    asked: tuple[Tracker, dict[str, EmailMessage]],
) -> None:
    tracker, requests = asked
    original = reply(requests["karen"], "75%")
    # No key where we read, nor in the thread headers: no request to apply it to.
    raw = _with_headers(_crowded(original, "friend@example.net"), In_Reply_To="<x@y>")
    raw = _with_headers(raw, References="<x@y>")
    result = tracker.ingest(raw, via="smtp")
    assert result.outcome is InboundOutcome.HELD
    assert result.reason.startswith("no reply key")
    assert _item(tracker, "karen") == (ItemStatus.OPEN, 0)


async def test_six_crowded_messages_do_not_keep_a_real_reply_from_the_receiver(
    make_tracker: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer
) -> None:
    tracker = make_tracker(
        smtp_url=smtp_server.url,
        smtp_receiver="127.0.0.1:2525",  # the port is replaced by a free one below
        reply_address="iep-replies@district.example.org",
    )
    requests = await _requests_sent(tracker, clock, smtp_server)
    daemon = Daemon(tracker, (), receiver_port=0)
    running = asyncio.create_task(daemon.run())
    to = _reply_to(requests["megan"])
    # Six at once, as many as the daemon's worker threads on two cores, each under its own
    # Message-ID: the one that broke the receiver when each took a minute and a half.
    crowded = [
        _crowded(reply(requests["megan"], "50%", message_id=f"<crowd{n}@mail.example.com>"), to)
        for n in range(6)
    ]
    real = reply(requests["karen"], "75%")

    def send(raw: bytes, sender: str, rcpt: str) -> int:
        assert daemon.receiver is not None
        with smtplib.SMTP(daemon.receiver.host, daemon.receiver.port, timeout=120) as client:
            client.sendmail(sender, [rcpt], raw)  # raises unless every step is accepted
            return 250

    try:
        while daemon.receiver is None and not running.done():
            await asyncio.sleep(0.05)
        with ThreadPoolExecutor(max_workers=7) as pool:
            attackers = [
                pool.submit(send, raw, "megan.torres@lincoln.example.org", to) for raw in crowded
            ]
            answered = pool.submit(
                send, real, "karen.liu@lincoln.example.org", _reply_to(requests["karen"])
            )
            codes = await asyncio.to_thread(lambda: [f.result() for f in (*attackers, answered)])
    finally:
        daemon.request_stop()
        assert await asyncio.wait_for(running, 60) == 0
    assert codes == [250] * 7
    assert _item(tracker, "karen") == (ItemStatus.IN_PROGRESS, 75)
    assert len(tracker.inbox()) == 7


# --- From the owner, but Sender, Reply-To or a second From says someone else -------------


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({"Sender": "eve@elsewhere.example"}, "its Sender is eve@elsewhere.example"),
        ({"Reply_To": "Eve <eve@elsewhere.example>"}, "its Reply-To is eve@elsewhere.example"),
        (
            {"From": "Karen Liu <karen.liu@lincoln.example.org>, Eve <eve@elsewhere.example>"},
            "its From names 2 mailboxes",
        ),
    ],
)
def test_a_reply_from_the_owner_written_for_someone_else_is_held_with_a_reason(
    asked: tuple[Tracker, dict[str, EmailMessage]], headers: dict[str, str], why: str
) -> None:
    tracker, requests = asked
    result = tracker.ingest(_with_headers(reply(requests["karen"], "done"), **headers))
    assert (result.outcome, result.applied) == (InboundOutcome.HELD, 0)
    assert result.reason.startswith(why)
    assert "held so a person can check who wrote it" in result.reason
    assert _item(tracker, "karen") == (ItemStatus.OPEN, 0)
    [held] = tracker.inbox(held_only=True)
    assert held.from_address == "karen.liu@lincoln.example.org"


def test_a_sender_and_reply_to_of_the_owners_own_address_change_nothing(
    asked: tuple[Tracker, dict[str, EmailMessage]],
) -> None:
    tracker, requests = asked
    own = "Karen Liu <Karen.Liu@lincoln.example.org>"
    result = tracker.ingest(
        _with_headers(reply(requests["karen"], "75%"), Sender=own, Reply_To=own)
    )
    assert (result.outcome, result.applied) == (InboundOutcome.APPLIED, 1)
    assert _item(tracker, "karen") == (ItemStatus.IN_PROGRESS, 75)


# --- a database that refuses writes ------------------------------------------------------


def test_the_pipe_exits_75_with_one_line_when_the_database_refuses_writes(
    database_url: str, tmp_path: Path
) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "IEP_FOLLOWUP_SECRET_KEY": "a-long-enough-secret-for-the-test",
        "IEP_FOLLOWUP_TIMEZONE": "America/Chicago",
        "IEP_FOLLOWUP_DATABASE_URL": database_url,
    }

    def run(*args: str, url: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(CLI), *args],
            cwd=tmp_path,
            env=env | {"IEP_FOLLOWUP_DATABASE_URL": url},
            input="From: someone@example.org\nTo: iep-replies@localhost\n"
            "Message-ID: <pipe@example.org>\nSubject: hello\n\nA1 done, Secret Words\n",
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert run("init", url=database_url).returncode == 0
    if database_url.startswith("sqlite:///"):
        path = database_url.removeprefix("sqlite:///")
        read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
    else:  # every transaction read-only, as on a standby or a database set so
        read_only = f"{database_url}?options=-c%20default_transaction_read_only%3Don"
    done = run("ingest", url=read_only)
    assert done.returncode == 75, done.stderr
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("error: database ")
    assert "read" in line and "only" in line
    for leaked in ("[SQL", "VALUES", "Secret Words", "Traceback"):
        assert leaked not in line
