"""How a routine is going and how many service minutes were given: weeks, periods, sums."""

from __future__ import annotations

from datetime import date

import pytest

from iep_followup.domain import Cadence, PeriodOutcome
from iep_followup.routines import (
    Asked,
    Report,
    minutes_by_week,
    periods_kept,
    together,
    week_of,
    weeks,
)
from iep_followup.views import MinutesWeek, WeekReport

YES, PARTLY, NO = PeriodOutcome.HAPPENED, PeriodOutcome.PARTLY, PeriodOutcome.MISSED
TODAY = date(2026, 12, 10)  # a Thursday
STARTED = date(2026, 10, 1)


def test_a_week_runs_monday_to_sunday() -> None:
    assert week_of(date(2026, 12, 6)) == date(2026, 11, 30)  # Sunday
    assert week_of(date(2026, 12, 7)) == date(2026, 12, 7)  # Monday
    assert weeks(date(2026, 12, 2), date(2026, 12, 14)) == [
        date(2026, 11, 30),
        date(2026, 12, 7),
        date(2026, 12, 14),
    ]
    assert weeks(date(2026, 12, 14), date(2026, 12, 2)) == []


@pytest.mark.parametrize(
    ("reports", "expected"),
    [
        ([], (0, 6)),  # the six weeks before this one, which is not over nor answered yet
        ([Report(date(2026, 12, 9), YES)], (1, 6)),  # this week counts once it happened
        (
            [Report(date(2026, 11, d), YES) for d in (2, 9, 16, 23)]
            + [Report(date(2026, 11, 30), NO), Report(date(2026, 12, 8), YES)],
            (5, 6),
        ),
        ([Report(date(2026, 12, 1), PARTLY)], (0, 6)),  # partly is not kept
        ([Report(date(2026, 12, 1), None, 30)], (1, 6)),  # minutes alone say it happened
        ([Report(date(2026, 12, 1), NO, 10)], (0, 6)),
        ([Report(date(2026, 10, 1), YES)], (0, 6)),  # too long ago
    ],
)
def test_how_a_weekly_routine_is_going(reports: list[Report], expected: tuple[int, int]) -> None:
    assert periods_kept(reports, Cadence.WEEKLY, today=TODAY, starts_on=STARTED) == expected


def test_a_young_routine_counts_only_its_own_weeks() -> None:
    reports = [Report(date(2026, 12, 2), YES)]
    kept = periods_kept(reports, Cadence.WEEKLY, today=TODAY, starts_on=date(2026, 11, 26))
    assert kept == (1, 2)  # the weeks of Nov 23 and Nov 30; this week not answered yet


def test_a_digest_counts_only_the_periods_that_are_over() -> None:
    # Written on Monday Dec 14 for the weeks before: a "yes" sent that morning is for the
    # week that has just begun, which the next digest reports.
    reports = [Report(date(2026, 12, 8), YES), Report(date(2026, 12, 14), YES)]
    monday = date(2026, 12, 14)
    assert periods_kept(reports, Cadence.WEEKLY, today=monday, starts_on=STARTED) == (2, 6)
    over = periods_kept(reports, Cadence.WEEKLY, today=monday, starts_on=STARTED, over_only=True)
    assert over == (1, 6)  # the six weeks Nov 2 to Dec 13, kept in the last


def test_a_monthly_routine_counts_four_week_periods() -> None:
    reports = [Report(date(2026, 11, 20), YES)]
    assert periods_kept(reports, Cadence.MONTHLY, today=TODAY, starts_on=date(2026, 9, 1)) == (1, 3)


def test_minutes_add_up_by_week_while_the_service_runs() -> None:
    reports = [
        Report(date(2026, 11, 30), None, 20),
        Report(date(2026, 12, 3), PARTLY, 15),
        Report(date(2026, 12, 9), YES, 45),
        Report(date(2026, 12, 10), None, None),
    ]
    mondays = weeks(date(2026, 11, 23), TODAY)
    # Asked on the 30th, and answered: the week before counts as told, with nothing given.
    asked = [Asked(date(2026, 11, 30), answered=True, silent=False)]
    got = minutes_by_week(
        reports, 45, mondays, starts_on=date(2026, 11, 26), ends_on=date(2026, 12, 31), asked=asked
    )
    assert got == (
        MinutesWeek(date(2026, 11, 23), 0, 45),
        MinutesWeek(date(2026, 11, 30), 35, 45),
        MinutesWeek(date(2026, 12, 7), 45, 45),
    )
    assert [w.shortfall for w in got] == [45, 10, 0]
    ended = minutes_by_week(
        reports, 45, mondays, starts_on=date(2026, 11, 26), ends_on=date(2026, 12, 4), asked=asked
    )
    assert [w.week_of for w in ended] == [date(2026, 11, 23), date(2026, 11, 30)]


@pytest.mark.parametrize(
    ("asked", "report"),
    [
        ([], WeekReport.NOT_ASKED),
        ([Asked(date(2026, 11, 20), answered=True, silent=False)], WeekReport.NOT_ASKED),
        ([Asked(date(2026, 11, 30), answered=False, silent=False)], WeekReport.NO_ANSWER_YET),
        ([Asked(date(2026, 11, 30), answered=False, silent=True)], WeekReport.SILENT),
        ([Asked(date(2026, 11, 24), answered=True, silent=False)], WeekReport.REPORTED),
    ],
)
def test_a_week_without_minutes_counts_only_once_its_owner_was_asked_and_answered_or_went_silent(
    asked: list[Asked], report: WeekReport
) -> None:
    [week] = minutes_by_week(
        [],
        40,
        [date(2026, 11, 23)],
        starts_on=date(2026, 11, 1),
        ends_on=date(2026, 12, 31),
        asked=asked,
    )
    assert week.report is report
    assert week.shortfall == (40 if report.counts else 0)


def test_a_reported_zero_is_a_shortfall_whoever_asked() -> None:
    [week] = minutes_by_week(
        [Report(date(2026, 11, 25), None, 0)],
        40,
        [date(2026, 11, 23)],
        starts_on=date(2026, 11, 1),
        ends_on=date(2026, 12, 31),
        asked=[],
    )
    assert (week.report, week.shortfall) == (WeekReport.REPORTED, 40)


def test_a_students_week_has_no_report_yet_while_one_of_its_services_has_none() -> None:
    monday = date(2026, 11, 30)
    reading = (MinutesWeek(monday, 20, 45),)
    speech = (MinutesWeek(monday, 0, 20, WeekReport.NO_ANSWER_YET),)
    assert together([reading, speech]) == (MinutesWeek(monday, 20, 65, WeekReport.NO_ANSWER_YET),)


def test_a_students_minutes_are_the_items_added_up() -> None:
    monday = date(2026, 11, 30)
    reading = (MinutesWeek(monday, 20, 45),)
    speech = (MinutesWeek(monday, 20, 20), MinutesWeek(date(2026, 12, 7), 0, 20))
    assert together([reading, speech]) == (
        MinutesWeek(monday, 40, 65),
        MinutesWeek(date(2026, 12, 7), 0, 20),
    )
