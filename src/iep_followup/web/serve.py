"""Serving the desk inside another program's event loop (the daemon's), which owns the signals."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Generator

import uvicorn
from starlette.types import ASGIApp

from iep_followup.config import parse_listen
from iep_followup.net.listen import listen
from iep_followup.tracker import Tracker
from iep_followup.web.app import create_app
from iep_followup.web.ops import create_ops_app

STOP_SECONDS = 10


class _Server(uvicorn.Server):
    """uvicorn's server without its own signal handlers: the daemon stops it on SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None]:
        yield


class AppServer:
    """An ASGI app on a listening address, started and stopped by its host (the daemon)."""

    def __init__(self, app: ASGIApp, listen_on: str, *, setting: str, url: str) -> None:
        self.host, self.port = parse_listen(listen_on)
        self.setting = setting
        self.url = url
        # No access log (a sign-in link's token is in its path) and no logging set-up of
        # uvicorn's own: its warnings go through the daemon's handler.
        config = uvicorn.Config(
            app,
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
        sock = listen(self.host, self.port, setting=self.setting)
        self.port = sock.getsockname()[1]
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name=self.setting)
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


class DeskServer(AppServer):
    """The desk on IEP_FOLLOWUP_WEB_LISTEN; /readyz checks the host daemon's heartbeat."""

    def __init__(self, tracker: Tracker, *, heartbeat_every: int | None = None) -> None:
        super().__init__(
            create_app(tracker, heartbeat_every=heartbeat_every),
            tracker.settings.web_listen,
            setting="IEP_FOLLOWUP_WEB_LISTEN",
            url=tracker.desk_base_url(),
        )


class OpsServer(AppServer):
    """/healthz, /readyz and /metrics on IEP_FOLLOWUP_OPS_LISTEN, for a daemon without the desk."""

    def __init__(self, tracker: Tracker, *, heartbeat_every: int | None = None) -> None:
        listen_on = tracker.settings.ops_listen
        assert listen_on is not None
        super().__init__(
            create_ops_app(tracker, heartbeat_every=heartbeat_every),
            listen_on,
            setting="IEP_FOLLOWUP_OPS_LISTEN",
            url="",
        )

    async def start(self) -> None:
        await super().start()
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"http://{host}:{self.port}"
