from __future__ import annotations

import pytest

from iep_followup.errors import ConfigError
from iep_followup.resources import jobs_dir
from iep_followup.schedule import JOBS, JobSpec, parse_schedule


def test_the_shipped_schedule_has_every_job_and_avoids_the_dst_window() -> None:
    specs = parse_schedule((jobs_dir() / "schedule.toml").read_text(encoding="utf-8"))
    assert {s.name for s in specs} == set(JOBS)
    for spec in specs:
        if spec.cron:
            hours = spec.cron.split()[1]
            assert not any(h in {"1", "2"} for h in hours.replace("-", ",").split(",")), spec


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[jobs.deliver]\nevery_seconds = 0\n", "every_seconds must be"),
        ("[jobs.deliver]\nevery_seconds = 30\ncron = '* * * * *'\n", "exactly one of"),
        ("[jobs.sweep]\nevery_seconds = 30\n", "unknown job 'sweep'"),
        ("[jobs.digests]\ncron = '0 14 fri'\n", "five fields"),
        ("[jobs.deliver]\nevery = 30\n", "unknown keys: every"),
        ("jobs = 3\n", "no [jobs.<name>] sections"),
        ("[jobs\n", "not valid TOML"),
    ],
)
def test_schedule_errors_name_the_job_and_the_fix(text: str, problem: str) -> None:
    with pytest.raises(
        ConfigError,
        match="my.toml: .*" + problem.replace("[", r"\[").replace("]", r"\]").replace(".", r"\."),
    ):
        parse_schedule(text, "my.toml")


def test_a_subset_is_fine() -> None:
    assert parse_schedule("[jobs.deliver]\nevery_seconds = 5\n") == (
        JobSpec("deliver", every_seconds=5),
    )
