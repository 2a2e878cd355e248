"""Routines and service minutes over time: weeks, periods kept, minutes delivered vs promised.

Pure: reports and dates come in, frozen values go out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from iep_followup.domain import Cadence, MissReason, PeriodOutcome
from iep_followup.views import MinutesWeek, WeekReport

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Report:
    """One update of a routine or a service, as it counts: its local day, answer and minutes."""

    on: date
    period: PeriodOutcome | None = None
    minutes: int | None = None
    missed: MissReason | None = None  # a missed session's reason, and the minutes it lost
    missed_minutes: int | None = None
    makeup: bool = False  # `minutes` were make-up for missed ones


@dataclass(frozen=True)
class Asked:
    """A check-in that asked the owner about an item: its local day, and how it went by now."""

    on: date
    answered: bool
    silent: bool  # unanswered past the reminder and its grace period


def week_report(monday: date, reported: bool, asked: Iterable[Asked]) -> WeekReport:
    """What is known of the week starting `monday`: minutes told in it, or else what the
    check-ins sent since it began say (one answered: told; one gone silent: nothing given)."""
    if reported:
        return WeekReport.REPORTED
    since = [a for a in asked if a.on >= monday]
    if not since:
        return WeekReport.NOT_ASKED
    if any(a.answered for a in since):
        return WeekReport.REPORTED
    if any(a.silent for a in since):
        return WeekReport.SILENT
    return WeekReport.NO_ANSWER_YET


def week_of(day: date) -> date:
    """The Monday that starts the week `day` falls in."""
    return day - timedelta(days=day.weekday())


def weeks(since: date, until: date) -> list[date]:
    """The Mondays of the weeks from the one holding `since` to the one holding `until`."""
    first, last = week_of(since), week_of(until)
    return [first + WEEK * n for n in range((last - first) // WEEK + 1)] if first <= last else []


def minutes_by_week(
    reports: Iterable[Report],
    promised_per_week: int,
    mondays: Sequence[date],
    *,
    starts_on: date,
    ends_on: date,
    asked: Sequence[Asked],
) -> tuple[MinutesWeek, ...]:
    """Minutes delivered and promised in each of these weeks the service ran (starts_on to ends_on),
    each with what is known of it (`week_report`)."""
    delivered: dict[date, int] = {}
    for report in reports:
        if report.minutes is not None:
            monday = week_of(report.on)
            delivered[monday] = delivered.get(monday, 0) + report.minutes
    return tuple(
        MinutesWeek(
            monday,
            delivered.get(monday, 0),
            promised_per_week,
            week_report(monday, monday in delivered, asked),
        )
        for monday in mondays
        if week_of(starts_on) <= monday <= ends_on
    )


def together(per_item: Iterable[Sequence[MinutesWeek]]) -> tuple[MinutesWeek, ...]:
    """Several items' weeks added up, week by week. A week is known only when every item's is;
    else it takes the first of its items' reasons there is no report yet."""
    sums: dict[date, tuple[int, int, WeekReport]] = {}
    for item_weeks in per_item:
        for week in item_weeks:
            delivered, promised, report = sums.get(week.week_of, (0, 0, WeekReport.REPORTED))
            if report.counts and (week.report is WeekReport.SILENT or not week.report.counts):
                report = week.report
            sums[week.week_of] = (delivered + week.delivered, promised + week.promised, report)
    return tuple(MinutesWeek(monday, d, p, r) for monday, (d, p, r) in sorted(sums.items()))


def periods_kept(
    reports: Iterable[Report],
    cadence: Cadence,
    *,
    today: date,
    starts_on: date,
    count: int = 6,
    over_only: bool = False,
) -> tuple[int, int]:
    """Of the last `count` periods (fewer if the routine is younger), how many it happened in:
    an answer "yes", or minutes given with no answer ("partly" is not kept). The current
    period counts once it has happened; until then it is not over, so it is left out.
    With `over_only` (a digest, which reports time that has passed) it is always left out.
    """
    length = cadence.interval or WEEK
    current = week_of(today)
    happened = [
        r.on
        for r in reports
        if (r.period is PeriodOutcome.HAPPENED or (r.period is None and r.minutes))
        and not (over_only and r.on >= current)
    ]

    def kept(start: date) -> bool:
        return any(start <= day < start + length for day in happened)

    end = current + length if kept(current) else current
    starts = [end - length * n for n in range(count, 0, -1)]
    starts = [start for start in starts if start >= week_of(starts_on)]
    return sum(kept(start) for start in starts), len(starts)


def missed_and_owed(
    reports: Iterable[Report], mondays: Sequence[date]
) -> tuple[dict[MissReason, int], int]:
    """The minutes missed in these weeks, by reason; and the make-up minutes still owed at the
    end of the last of them: missed for a reason on the school's side, less the make-up given,
    in every week reported up to then (never below zero)."""
    weeks = set(mondays)
    last = max(mondays, default=None)
    missed = dict.fromkeys(MissReason, 0)
    owed = 0
    for report in reports:
        monday = week_of(report.on)
        if last is None or monday > last:
            continue
        if report.missed is not None and report.missed_minutes:
            if monday in weeks:
                missed[report.missed] += report.missed_minutes
            owed += report.missed_minutes if report.missed.is_owed else 0
        if report.makeup and report.minutes:
            owed -= report.minutes
    return missed, max(0, owed)
