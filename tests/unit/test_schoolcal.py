from __future__ import annotations

from datetime import date

import pytest

from iep_followup.errors import ConfigError
from iep_followup.schoolcal import SchoolCalendar, parse_calendar


def test_plain_list_of_dates_and_ranges() -> None:
    calendar = parse_calendar(
        "# district calendar\n2026-11-26 Thanksgiving\n2026-12-21..2027-01-01 Winter break\n"
    )
    assert not calendar.is_school_day(date(2026, 11, 26))
    assert calendar.is_school_day(date(2026, 11, 25))
    assert not calendar.is_school_day(date(2026, 12, 28))
    assert not calendar.is_school_day(date(2026, 11, 28))  # a Saturday
    assert calendar.is_school_day(date(2027, 1, 4))


def test_bad_line_names_source_and_line() -> None:
    with pytest.raises(ConfigError, match=r"holidays.txt:2: 'next friday'"):
        parse_calendar("2026-11-26\nnext friday\n", "holidays.txt")
    with pytest.raises(ConfigError, match="ends before it starts"):
        parse_calendar("2026-12-05..2026-12-01\n")


def test_ics_all_day_events_are_closures_with_exclusive_end() -> None:
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        "BEGIN:VEVENT\r\nUID:1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:20261221\r\n"
        "DTEND;VALUE=DATE:20270102\r\nSUMMARY:Winter break\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:2\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:20261126\r\nSUMMARY:Thanksgiving\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )
    calendar = parse_calendar(ics)
    assert not calendar.is_school_day(date(2027, 1, 1))
    assert calendar.is_school_day(date(2027, 1, 4))
    assert not calendar.is_school_day(date(2026, 11, 26))


def test_school_days_between_skips_weekends_and_holidays() -> None:
    calendar = SchoolCalendar(frozenset({date(2026, 11, 26), date(2026, 11, 27)}))
    # Monday the 23rd -> Monday the 30th: Tue, Wed, (Thu, Fri closed), Mon.
    assert calendar.school_days_between(date(2026, 11, 23), date(2026, 11, 30)) == 3
