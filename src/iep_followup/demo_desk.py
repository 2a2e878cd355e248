"""`iep-followup demo --serve`: after the story, the demo's desk on this machine until Ctrl-C.

The daemon serves it, as `iep-followup run` does, delivering what the desk sends (a sign-in
link asked for on its page, a new meeting's summaries) to the demo's mail folder.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from iep_followup.config import Settings, parse_listen
from iep_followup.daemon import Daemon
from iep_followup.desk import SIGN_IN_MINUTES
from iep_followup.domain import MeetingRecord, Role
from iep_followup.errors import ConfigError
from iep_followup.schedule import JobSpec
from iep_followup.tracker import Tracker
from iep_followup.web.serve import DeskServer

Echo = Callable[[str], None]

HOST = "127.0.0.1"  # the demo's desk is for this machine only, whatever WEB_LISTEN says
PORTS_TRIED = 20


class RunningClock:
    """The demo's last moment, then real time passing: the desk carries on from the story."""

    def __init__(self, start: datetime) -> None:
        self._start = start
        self._started = time.monotonic()

    def __call__(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._started)


def desk_address(web_listen: str) -> tuple[str, int]:
    """127.0.0.1 and the first free port from WEB_LISTEN's (8000 by default) on."""
    _host, wanted = parse_listen(web_listen)
    for port in range(wanted, min(wanted + PORTS_TRIED, 65536)):
        if _is_free(port):
            return f"{HOST}:{port}", wanted
    raise ConfigError(
        f"IEP_FOLLOWUP_WEB_LISTEN: ports {wanted} to {wanted + PORTS_TRIED - 1} on {HOST} "
        "are all taken; set it to a free port, like 127.0.0.1:8765"
    )


async def serve_desk(
    settings: Settings,
    clock: RunningClock,
    record: MeetingRecord,
    wanted_port: int,
    command: str,
    echo: Echo,
) -> int:
    """Serve until SIGINT or SIGTERM; the daemon's exit code (0 once stopped cleanly).

    `command` is iep-followup on the demo's .env, as typed: how to serve the desk again.
    """
    tracker = Tracker(settings, clock=clock)
    manager = next(m for m in record.members if m.role is Role.CASE_MANAGER)

    def announce(url: str, port: int) -> None:
        moved = "" if port == wanted_port else f" (port {wanted_port} was taken)"
        echo("")
        echo(f"The case manager's desk is at {url}/{moved}, with the demo's data.")
        echo(
            f"Sign in as {manager.name}, the demo's case manager, with this link"
            f" (it works once, within {SIGN_IN_MINUTES} minutes):"
        )
        echo(f"  {tracker.sign_in_link(manager.email)}")
        echo("Press Ctrl-C to stop it.")

    desk = _AnnouncedDesk(DeskServer(tracker), announce)
    daemon = Daemon(tracker, (JobSpec("deliver", every_seconds=60),), desk=desk)
    code = await daemon.run()
    if code == 0:
        echo("")
        echo("The desk has stopped. To serve it again on the demo's data, with today's date:")
        echo(f"  {command} web")
        echo("and to sign in there, a new link:")
        echo(f"  {command} web link {manager.email}")
    return code


class _AnnouncedDesk:
    """The desk, which prints where it is and a sign-in link once it listens: never before."""

    def __init__(self, desk: DeskServer, announce: Callable[[str, int], None]) -> None:
        self._desk = desk
        self._announce = announce
        self.url = desk.url

    async def start(self) -> None:
        await self._desk.start()
        self._announce(self.url, self._desk.port)

    async def stop(self) -> None:
        await self._desk.stop()


def _is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
        return True
