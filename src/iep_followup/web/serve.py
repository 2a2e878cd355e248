"""Serving the desk inside another program's event loop (the daemon's), which owns the signals."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Generator

import uvicorn

from iep_followup.config import parse_listen
from iep_followup.net.listen import listen
from iep_followup.tracker import Tracker
from iep_followup.web.app import create_app

STOP_SECONDS = 10


class _Server(uvicorn.Server):
    """uvicorn's server without its own signal handlers: the daemon stops it on SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None]:
        yield


class DeskServer:
    """The desk on IEP_FOLLOWUP_WEB_LISTEN, started and stopped by its host (the daemon)."""

    def __init__(self, tracker: Tracker) -> None:
        self.host, self.port = parse_listen(tracker.settings.web_listen)
        self.url = tracker.desk_base_url()
        # No access log (a sign-in link's token is in its path) and no logging set-up of
        # uvicorn's own: its warnings go through the daemon's handler.
        config = uvicorn.Config(
            create_app(tracker),
            lifespan="off",
            access_log=False,
            log_config=None,
            log_level="warning",
            server_header=False,
            timeout_graceful_shutdown=STOP_SECONDS,
        )
        self._server = _Server(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Listen (ConfigError when the address is taken) and serve in the running loop."""
        sock = listen(self.host, self.port, setting="IEP_FOLLOWUP_WEB_LISTEN")
        self.port = sock.getsockname()[1]
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="desk")
        while not self._server.started and not self._task.done():
            await asyncio.sleep(0.01)
        if self._task.done():
            self._task.result()  # raises what stopped it

    async def stop(self) -> None:
        """Finish the requests in flight (up to STOP_SECONDS) and close the socket."""
        if self._task is None:
            return
        self._server.should_exit = True
        await self._task
        self._task = None
