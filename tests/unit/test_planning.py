"""Who is asked when: a table of moments and the decision each must produce."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest

from iep_followup.domain import Cadence, ItemKind
from iep_followup.planning import (
    Ask,
    ItemState,
    OwnerState,
    Remind,
    RequestState,
    SendPolicy,
    Wait,
    is_silent,
    next_send_time,
    plan_requests,
    why_not_now,
)
from iep_followup.schoolcal import SchoolCalendar

CHICAGO = "America/Chicago"
CREATED = datetime(2026, 11, 16, 20, 0, tzinfo=UTC)  # Monday 14:00 in Chicago
MONDAY_8AM = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # Monday 08:00 in Chicago


def item(
    item_id: int = 1, cadence: Cadence = Cadence.WEEKLY, contact: datetime = CREATED
) -> ItemState:
    return ItemState(item_id, cadence, date(2027, 1, 29), contact)


def owner(
    *items: ItemState,
    tz: str = CHICAGO,
    last: RequestState | None = None,
    away_until: date | None = None,
    failing: bool = False,
) -> OwnerState:
    # Away from every team: each item carries the date.
    states = tuple(dataclasses.replace(i, away_until=away_until) for i in items or (item(),))
    return OwnerState(1, tz, failing, states, last)


def decide(
    state: OwnerState, now: datetime, policy: SendPolicy | None = None
) -> Ask | Remind | Wait:
    [decision] = plan_requests(now, [state], policy or SendPolicy())
    return decision


def test_weekly_item_is_due_a_week_after_it_was_created() -> None:
    assert isinstance(decide(owner(), MONDAY_8AM - timedelta(days=1)), Wait)
    decision = decide(owner(), MONDAY_8AM)
    assert decision == Ask(1, date(2026, 11, 23), (1,), "1 item(s) due for a check-in")


@pytest.mark.parametrize(
    ("cadence", "days", "due"),
    [
        (Cadence.WEEKLY, 7, True),
        (Cadence.EVERY_TWO_WEEKS, 7, False),
        (Cadence.EVERY_TWO_WEEKS, 14, True),
        (Cadence.MONTHLY, 14, False),
        (Cadence.MONTHLY, 28, True),
        (Cadence.NONE, 70, False),
    ],
)
def test_cadences(cadence: Cadence, days: int, due: bool) -> None:
    now = datetime(2026, 11, 16, 14, 0, tzinfo=UTC) + timedelta(days=days)  # Mondays, 08:00 Chicago
    assert isinstance(decide(owner(item(cadence=cadence)), now), Ask) is due


def test_a_recent_update_or_request_resets_the_clock() -> None:
    recent = item(contact=MONDAY_8AM - timedelta(days=2))
    assert isinstance(decide(owner(recent), MONDAY_8AM), Wait)


def test_items_coming_due_soon_join_the_same_email() -> None:
    due_now = item(1)
    due_in_two_days = item(2, contact=CREATED + timedelta(days=2))
    due_in_five_days = item(3, contact=CREATED + timedelta(days=5))
    biweekly_soon = item(4, Cadence.EVERY_TWO_WEEKS, contact=CREATED - timedelta(days=5))
    decision = decide(owner(due_now, due_in_two_days, due_in_five_days, biweekly_soon), MONDAY_8AM)
    assert isinstance(decision, Ask)
    assert decision.item_ids == (1, 2, 4)


@pytest.mark.parametrize(
    ("now", "tz", "reason"),
    [
        (
            datetime(2026, 11, 24, 5, 0, tzinfo=UTC),
            CHICAGO,
            "quiet hours (23:00 in America/Chicago)",
        ),
        (
            datetime(2026, 11, 23, 12, 30, tzinfo=UTC),
            CHICAGO,
            "quiet hours (06:30 in America/Chicago)",
        ),
        (datetime(2026, 11, 24, 2, 0, tzinfo=UTC), "America/Los_Angeles", None),  # 18:00 there
        (datetime(2026, 11, 28, 15, 0, tzinfo=UTC), CHICAGO, "weekend"),
    ],
)
def test_quiet_hours_and_weekends_in_the_recipients_own_zone(
    now: datetime, tz: str, reason: str | None
) -> None:
    assert why_not_now(now, tz, SendPolicy()) == reason


def test_the_same_moment_is_fine_in_one_zone_and_quiet_in_another() -> None:
    now = datetime(2026, 11, 23, 13, 30, tzinfo=UTC)  # 08:30 New York, 05:30 Los Angeles
    assert isinstance(decide(owner(tz="America/New_York"), now), Ask)
    assert decide(owner(tz="America/Los_Angeles"), now) == Wait(
        1, "quiet hours (05:30 in America/Los_Angeles)"
    )


def test_holidays_and_away_until_postpone() -> None:
    policy = SendPolicy(calendar=SchoolCalendar(frozenset({date(2026, 11, 23)})))
    assert decide(owner(), MONDAY_8AM, policy) == Wait(1, "school holiday")
    assert decide(owner(away_until=date(2026, 11, 24)), MONDAY_8AM) == Wait(
        1, "away until 2026-11-24"
    )
    assert isinstance(decide(owner(away_until=date(2026, 11, 22)), MONDAY_8AM), Ask)


def test_away_from_one_students_team_postpones_that_students_items_only() -> None:
    lucia = item(1)
    mateo = dataclasses.replace(item(2), away_until=date(2099, 1, 1))
    found = plan_requests(MONDAY_8AM, [OwnerState(1, CHICAGO, False, (lucia, mateo))], SendPolicy())
    assert found == [Ask(1, date(2026, 11, 23), (1,), "1 item(s) due for a check-in")]
    only_mateo = OwnerState(1, CHICAGO, False, (mateo,))
    assert decide(only_mateo, MONDAY_8AM) == Wait(1, "away until 2099-01-01")
    back = dataclasses.replace(mateo, away_until=date(2026, 11, 22))
    assert isinstance(decide(OwnerState(1, CHICAGO, False, (back,)), MONDAY_8AM), Ask)


def test_failing_address_is_not_asked() -> None:
    assert decide(owner(failing=True), MONDAY_8AM).reason.startswith("email address is failing")


def test_one_request_per_cycle() -> None:
    asked = RequestState(9, date(2026, 11, 23), MONDAY_8AM, None, None)
    assert decide(owner(last=asked), MONDAY_8AM + timedelta(hours=2)) == Wait(
        1, "already asked today"
    )


def test_one_gentle_reminder_after_three_school_days_then_silence() -> None:
    asked_at = MONDAY_8AM
    contact = item(contact=asked_at)
    unanswered = RequestState(9, date(2026, 11, 23), asked_at, None, None)
    wednesday = asked_at + timedelta(days=2)
    thursday = asked_at + timedelta(days=3)
    assert isinstance(decide(owner(contact, last=unanswered), wednesday), Wait)
    assert decide(owner(contact, last=unanswered), thursday) == Remind(
        1, 9, "no answer after 3 school days"
    )
    reminded = RequestState(9, date(2026, 11, 23), asked_at, None, thursday)
    assert isinstance(decide(owner(contact, last=reminded), thursday + timedelta(days=1)), Wait)
    answered = RequestState(9, date(2026, 11, 23), asked_at, wednesday, None)
    assert isinstance(decide(owner(contact, last=answered), thursday), Wait)
    # Silent three school days after the reminder (Fri, Mon, Tue), never before.
    policy = SendPolicy()
    assert not is_silent(reminded, thursday + timedelta(days=4), CHICAGO, policy)
    assert is_silent(reminded, thursday + timedelta(days=5), CHICAGO, policy)
    assert not is_silent(answered, thursday + timedelta(days=30), CHICAGO, policy)


def test_reminder_waits_over_a_holiday() -> None:
    policy = SendPolicy(
        calendar=SchoolCalendar(frozenset({date(2026, 11, 25), date(2026, 11, 26)}))
    )
    unanswered = RequestState(9, date(2026, 11, 23), MONDAY_8AM, None, None)
    thursday_after = MONDAY_8AM + timedelta(days=7 + 3)
    contact = item(contact=MONDAY_8AM + timedelta(days=7))
    assert isinstance(
        decide(owner(contact, last=unanswered), MONDAY_8AM + timedelta(days=4), policy), Wait
    )
    assert isinstance(decide(owner(contact, last=unanswered), thursday_after, policy), Remind)


def test_next_send_time_skips_night_weekend_and_holiday() -> None:
    policy = SendPolicy(calendar=SchoolCalendar(frozenset({date(2026, 11, 30)})))
    friday_night = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # Friday 20:00 Chicago
    assert next_send_time(friday_night, CHICAGO, policy) == datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
    assert next_send_time(MONDAY_8AM, CHICAGO, policy) == MONDAY_8AM


@pytest.mark.parametrize(
    ("kind", "due_on", "asked"),
    [
        (ItemKind.ROUTINE, date(2027, 1, 29), True),  # a routine is asked on its cadence ...
        (ItemKind.ROUTINE, date(2026, 11, 23), True),  # ... up to its last day
        (ItemKind.ROUTINE, date(2026, 11, 20), False),  # and never after it ends
        (ItemKind.TASK, date(2026, 11, 20), True),  # a late task is still asked about
    ],
)
def test_routines_are_asked_on_their_cadence_until_their_end_date(
    kind: ItemKind, due_on: date, asked: bool
) -> None:
    state = ItemState(1, Cadence.WEEKLY, due_on, CREATED, kind)
    assert isinstance(decide(owner(state), MONDAY_8AM), Ask) is asked


def test_a_routine_answered_this_week_is_asked_again_next_week() -> None:
    answered = ItemState(1, Cadence.WEEKLY, date(2027, 1, 29), MONDAY_8AM, ItemKind.ROUTINE)
    assert isinstance(decide(owner(answered), MONDAY_8AM + timedelta(days=6)), Wait)
    assert isinstance(decide(owner(answered), MONDAY_8AM + timedelta(days=7)), Ask)
