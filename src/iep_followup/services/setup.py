"""Settings turned into the objects services need (reading the school calendar file is I/O: it lives here)."""

from __future__ import annotations

from iep_followup.config import Settings, parse_quiet_hours
from iep_followup.errors import ConfigError
from iep_followup.planning import SendPolicy
from iep_followup.schoolcal import SchoolCalendar, parse_calendar


def send_policy(settings: Settings) -> SendPolicy:
    start, end = parse_quiet_hours(settings.quiet_hours)
    return SendPolicy(
        quiet_start=start,
        quiet_end=end,
        send_on_weekends=settings.send_on_weekends,
        reminder_after_school_days=settings.reminder_after_school_days,
        silent_after_school_days=settings.silent_after_school_days,
        calendar=load_school_calendar(settings),
    )


def load_school_calendar(settings: Settings) -> SchoolCalendar:
    path = settings.school_calendar
    if path is None:
        return SchoolCalendar()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"IEP_FOLLOWUP_SCHOOL_CALENDAR: cannot read {path} ({exc.strerror})"
        ) from None
    return parse_calendar(text, str(path))
