"""Accommodations over time: each implementer's weeks used, not used (and why), or not needed.

Pure: answers and dates come in, frozen values go out. A week is Monday to Sunday
(`routines.week_of`); a week's last answer is its answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from iep_followup.domain import PeriodOutcome
from iep_followup.routines import WEEK, week_of, weeks
from iep_followup.views import UseWeeks

# "Not used two weeks running" is a line for the case manager.
NOT_USED_ALERT_WEEKS = 2


@dataclass(frozen=True)
class UseReport:
    """One answer about an accommodation: its local day, the answer, and why not."""

    on: date
    period: PeriodOutcome
    note: str | None = None


def weeks_of_use(
    reports: Iterable[UseReport], *, starts_on: date, since: date, until: date, today: date
) -> UseWeeks:
    """The weeks from `since` to `until` (not before the accommodation started): a week that is
    not over by `today` counts only once it is answered."""
    by_week: dict[date, UseReport] = {}
    for report in sorted(reports, key=lambda r: r.on):
        by_week[week_of(report.on)] = report
    counts = dict.fromkeys(PeriodOutcome, 0)
    no_answer = running = 0
    reasons: list[str] = []
    for monday in weeks(max(since, starts_on), until):
        answer = by_week.get(monday)
        if answer is None:
            no_answer += monday + WEEK <= today
            continue
        counts[answer.period] += 1
        if answer.period is PeriodOutcome.MISSED:
            running += 1
            if answer.note:
                reasons.append(answer.note)
        else:
            running = 0
    return UseWeeks(
        used=counts[PeriodOutcome.HAPPENED],
        not_used=counts[PeriodOutcome.MISSED],
        not_applicable=counts[PeriodOutcome.NOT_APPLICABLE],
        no_answer=no_answer,
        reasons=tuple(reasons),
        not_used_running=running,
    )


def needs_attention(use: UseWeeks) -> bool:
    """Not used in the last weeks running that were answered."""
    return use.not_used_running >= NOT_USED_ALERT_WEEKS
