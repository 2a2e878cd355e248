"""The daemon's schedule file (jobs/schedule.toml): parsed and checked here, run by the scheduler. Pure."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

from iep_followup.errors import ConfigError

JOBS = ("deliver", "request_updates", "poll_inbox", "digests", "heartbeat", "retention")


@dataclass(frozen=True)
class JobSpec:
    name: str
    every_seconds: int | None = None
    cron: str | None = None


def parse_schedule(text: str, source: str = "schedule") -> tuple[JobSpec, ...]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML ({exc})") from None
    jobs = data.get("jobs")
    if not isinstance(jobs, dict) or not jobs:
        raise ConfigError(f"{source}: no [jobs.<name>] sections")
    specs = []
    for name, table in jobs.items():
        if name not in JOBS:
            raise ConfigError(f"{source}: unknown job {name!r}; the jobs are: {', '.join(JOBS)}")
        if not isinstance(table, dict):
            raise ConfigError(f"{source}: [jobs.{name}] must be a table")
        unknown = set(table) - {"every_seconds", "cron"}
        if unknown:
            raise ConfigError(
                f"{source}: [jobs.{name}] has unknown keys: {', '.join(sorted(unknown))}"
            )
        every, cron = table.get("every_seconds"), table.get("cron")
        if (every is None) == (cron is None):
            raise ConfigError(f"{source}: [jobs.{name}] needs exactly one of every_seconds or cron")
        if every is not None and (
            isinstance(every, bool) or not isinstance(every, int) or not 1 <= every <= 86_400
        ):
            raise ConfigError(
                f"{source}: [jobs.{name}] every_seconds must be a whole number from 1 to 86400"
            )
        if cron is not None and (not isinstance(cron, str) or len(cron.split()) != 5):
            raise ConfigError(
                f"{source}: [jobs.{name}] cron must have five fields: minute hour day month day_of_week"
            )
        specs.append(JobSpec(name, every, cron))
    return tuple(specs)
