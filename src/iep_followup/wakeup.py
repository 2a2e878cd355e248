"""Waking the daemon's work early, without piling it up: one pass at a time, another if asked during it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


class Coalescer:
    """Runs `work` when asked: never two passes at once, and one more pass (not one per request)
    when asked while a pass runs, so a burst of 200 requests costs at most two passes.

    `request()` must be called on the loop's thread (from another: `loop.call_soon_threadsafe`).
    """

    def __init__(self, work: Callable[[], Awaitable[object]]) -> None:
        self._work = work
        self._again = False
        self._task: asyncio.Task[None] | None = None
        self.passes = 0

    def request(self) -> None:
        self._again = True
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while self._again:
            self._again = False
            self.passes += 1
            await self._work()

    async def wait(self) -> None:
        """Until no pass is running or asked for."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)


def backoff_seconds(failures: int, *, base: float = 5.0, cap: float = 300.0) -> float:
    """How long to wait after `failures` failures in a row before trying a connection again."""
    return min(cap, base * (1 << max(0, min(failures - 1, 16))))
