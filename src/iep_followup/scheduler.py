"""APScheduler wiring, and nothing else: the schedule's jobs become triggers on the running loop."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from iep_followup.errors import ConfigError
from iep_followup.schedule import JobSpec

MISFIRE_GRACE_SECONDS = 600


def build_scheduler(
    jobs: Sequence[JobSpec], timezone: str, run_job: Callable[[str], Awaitable[None]]
) -> AsyncIOScheduler:
    """An in-memory scheduler: the database remembers what was done, so nothing needs persisting here."""
    zone = ZoneInfo(timezone)
    scheduler = AsyncIOScheduler(
        timezone=zone,
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": MISFIRE_GRACE_SECONDS,
        },
    )
    for spec in jobs:
        if spec.every_seconds is not None:
            trigger: IntervalTrigger | CronTrigger = IntervalTrigger(
                seconds=spec.every_seconds, timezone=zone
            )
        else:
            try:
                trigger = CronTrigger.from_crontab(spec.cron or "", timezone=zone)
            except ValueError as exc:
                raise ConfigError(f"job {spec.name}: bad cron {spec.cron!r} ({exc})") from None
        scheduler.add_job(run_job, trigger, args=[spec.name], id=spec.name, name=spec.name)
    return scheduler


def start(scheduler: AsyncIOScheduler) -> None:
    scheduler.start()


def run_soon(scheduler: AsyncIOScheduler, names: Sequence[str]) -> None:
    """Run these jobs now as well as on their schedule (catching up after the daemon was down)."""
    now = datetime.now(scheduler.timezone)
    for name in names:
        if scheduler.get_job(name) is not None:
            scheduler.modify_job(name, next_run_time=now)


def pause(scheduler: AsyncIOScheduler) -> None:
    """No new runs start; a run in flight carries on (we wait for it ourselves)."""
    if scheduler.running:
        scheduler.pause()


def shutdown(scheduler: AsyncIOScheduler) -> None:
    if scheduler.running:
        scheduler.shutdown(wait=False)
