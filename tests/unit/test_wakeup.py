"""Waking work early without piling it up (pure asyncio, no I/O)."""

from __future__ import annotations

import asyncio

import pytest

from iep_followup.wakeup import Coalescer, backoff_seconds


async def test_a_burst_of_wake_ups_runs_one_pass_at_a_time_and_one_more_after() -> None:
    running = 0
    overlaps: list[int] = []
    calls = 0
    release = asyncio.Event()

    async def work() -> None:
        nonlocal running, calls
        running += 1
        calls += 1
        overlaps.append(running)
        await release.wait()
        running -= 1

    coalescer = Coalescer(work)
    for _ in range(200):
        coalescer.request()
    await asyncio.sleep(0)
    for _ in range(200):  # woken 200 times during the first pass
        coalescer.request()
    release.set()
    await coalescer.wait()
    assert calls == 2 and overlaps == [1, 1]


@pytest.mark.parametrize(
    ("failures", "seconds"), [(1, 5.0), (2, 10.0), (3, 20.0), (6, 160.0), (7, 300.0), (99, 300.0)]
)
def test_backoff_doubles_up_to_five_minutes(failures: int, seconds: float) -> None:
    assert backoff_seconds(failures) == seconds
