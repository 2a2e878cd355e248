"""The item transition: one table per rule, each row a state, a change and what follows."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from iep_followup.domain import (
    ItemKind,
    ItemProgress,
    ItemStatus,
    PeriodOutcome,
    UpdateInput,
    recorded_change,
    settle_progress,
    transition,
)
from iep_followup.errors import ValidationError

MEETING = date(2026, 9, 10)
DUE = date(2026, 10, 1)
NOW = datetime(2026, 9, 20, 15, 0, tzinfo=UTC)
EARLIER = datetime(2026, 9, 15, 9, 0, tzinfo=UTC)

OPEN = ItemProgress(ItemStatus.OPEN, 0, DUE)
STARTED = ItemProgress(ItemStatus.IN_PROGRESS, 40, DUE)
BLOCKED = ItemProgress(ItemStatus.BLOCKED, 20, DUE)
DONE = ItemProgress(ItemStatus.DONE, 100, DUE, closed_at=EARLIER)
DROPPED = ItemProgress(ItemStatus.DROPPED, 30, DUE, closed_at=EARLIER)


def _move(state: ItemProgress, change: UpdateInput) -> ItemProgress:
    return transition(state, change, now=NOW, meeting_date=MEETING)


@pytest.mark.parametrize(
    ("state", "change", "expected"),
    [
        # done means 100%, and closes the item now
        (OPEN, UpdateInput(status=ItemStatus.DONE), ItemProgress(ItemStatus.DONE, 100, DUE, NOW)),
        (
            STARTED,
            UpdateInput(status=ItemStatus.DONE),
            ItemProgress(ItemStatus.DONE, 100, DUE, NOW),
        ),
        # 100% means done, unless the owner says it is blocked
        (OPEN, UpdateInput(percent=100), ItemProgress(ItemStatus.DONE, 100, DUE, NOW)),
        (
            OPEN,
            UpdateInput(status=ItemStatus.IN_PROGRESS, percent=100),
            ItemProgress(ItemStatus.DONE, 100, DUE, NOW),
        ),
        (
            STARTED,
            UpdateInput(status=ItemStatus.BLOCKED, percent=100),
            ItemProgress(ItemStatus.BLOCKED, 100, DUE),
        ),
        # progress moves the status along
        (OPEN, UpdateInput(percent=50), ItemProgress(ItemStatus.IN_PROGRESS, 50, DUE)),
        (BLOCKED, UpdateInput(percent=40), ItemProgress(ItemStatus.IN_PROGRESS, 40, DUE)),
        (BLOCKED, UpdateInput(percent=0), ItemProgress(ItemStatus.OPEN, 0, DUE)),
        (STARTED, UpdateInput(percent=60), ItemProgress(ItemStatus.IN_PROGRESS, 60, DUE)),
        # a status alone keeps the percent
        (
            STARTED,
            UpdateInput(status=ItemStatus.BLOCKED, note="no book"),
            ItemProgress(ItemStatus.BLOCKED, 40, DUE),
        ),
        (STARTED, UpdateInput(note="going well"), STARTED),
        # reopening a closed item clears closed_at
        (DONE, UpdateInput(percent=80), ItemProgress(ItemStatus.IN_PROGRESS, 80, DUE)),
        (DONE, UpdateInput(status=ItemStatus.OPEN), ItemProgress(ItemStatus.OPEN, 100, DUE)),
        # closed to closed keeps the moment it first closed; progress leaves a dropped item dropped
        (DROPPED, UpdateInput(percent=10), ItemProgress(ItemStatus.DROPPED, 10, DUE, EARLIER)),
        (
            DONE,
            UpdateInput(status=ItemStatus.DROPPED),
            ItemProgress(ItemStatus.DROPPED, 100, DUE, EARLIER),
        ),
        (
            DROPPED,
            UpdateInput(status=ItemStatus.DONE),
            ItemProgress(ItemStatus.DONE, 100, DUE, EARLIER),
        ),
        (DONE, UpdateInput(note="thanks"), DONE),
        # dropping closes without touching the percent
        (
            STARTED,
            UpdateInput(status=ItemStatus.DROPPED),
            ItemProgress(ItemStatus.DROPPED, 40, DUE, NOW),
        ),
    ],
)
def test_status_percent_and_closed_at(
    state: ItemProgress, change: UpdateInput, expected: ItemProgress
) -> None:
    assert _move(state, change) == expected


@pytest.mark.parametrize(
    ("due_on", "allowed"),
    [
        (date(2026, 9, 9), False),  # the day before the meeting
        (date(2025, 12, 1), False),
        (MEETING, True),  # the meeting day itself
        (date(2026, 9, 11), True),
        (date(2026, 9, 1), False),  # earlier than the item's current due date and the meeting
    ],
)
def test_the_due_date_is_never_before_the_meeting(due_on: date, allowed: bool) -> None:
    change = UpdateInput(due_on=due_on, percent=50)
    if allowed:
        assert _move(STARTED, change) == ItemProgress(ItemStatus.IN_PROGRESS, 50, due_on)
        return
    with pytest.raises(ValidationError, match="before the meeting") as info:
        _move(STARTED, change)
    assert info.value.field == "due"


def test_a_change_without_a_date_keeps_the_due_date() -> None:
    assert _move(STARTED, UpdateInput(percent=70)).due_on == DUE


@pytest.mark.parametrize(
    ("status", "percent", "expected"),
    [
        (ItemStatus.DONE, None, (ItemStatus.DONE, 100)),
        (ItemStatus.DONE, 100, (ItemStatus.DONE, 100)),
        (None, 100, (ItemStatus.DONE, 100)),
        (ItemStatus.IN_PROGRESS, 100, (ItemStatus.DONE, 100)),
        (ItemStatus.OPEN, 100, (ItemStatus.DONE, 100)),
        (ItemStatus.BLOCKED, 100, (ItemStatus.BLOCKED, 100)),
        (ItemStatus.DROPPED, 100, (ItemStatus.DROPPED, 100)),
        (None, 50, (None, 50)),
        (ItemStatus.BLOCKED, None, (ItemStatus.BLOCKED, None)),
        (None, None, (None, None)),
    ],
)
def test_a_partial_report_settles_done_and_100_percent(
    status: ItemStatus | None, percent: int | None, expected: tuple[ItemStatus | None, int | None]
) -> None:
    assert settle_progress(status, percent) == expected


# --- routines: a duty kept each period until its end date --------------------------------

ROUTINE = ItemKind.ROUTINE
R_OPEN = ItemProgress(ItemStatus.OPEN, 0, DUE, kind=ROUTINE)
R_GOING = ItemProgress(ItemStatus.IN_PROGRESS, 0, DUE, kind=ROUTINE)
R_BLOCKED = ItemProgress(ItemStatus.BLOCKED, 0, DUE, kind=ROUTINE)
R_DROPPED = ItemProgress(ItemStatus.DROPPED, 0, DUE, EARLIER, kind=ROUTINE)
HAPPENED, PARTLY, MISSED = PeriodOutcome.HAPPENED, PeriodOutcome.PARTLY, PeriodOutcome.MISSED


@pytest.mark.parametrize(
    ("state", "change", "expected"),
    [
        # "done" records this period; the routine stays active until its end date
        (R_OPEN, UpdateInput(status=ItemStatus.DONE), R_OPEN),
        (R_GOING, UpdateInput(status=ItemStatus.DONE), R_GOING),
        (R_OPEN, UpdateInput(period=HAPPENED), R_OPEN),
        (R_OPEN, UpdateInput(percent=100), R_OPEN),
        # no and partly are periods too, and never close it
        (R_OPEN, UpdateInput(period=MISSED, note="he was sick"), R_OPEN),
        (R_GOING, UpdateInput(period=PARTLY), R_GOING),
        (R_GOING, UpdateInput(minutes=30), R_GOING),
        # a period that happened unblocks it; a missed one leaves it blocked
        (R_BLOCKED, UpdateInput(period=HAPPENED), R_GOING),
        (R_BLOCKED, UpdateInput(period=MISSED), R_BLOCKED),
        (R_GOING, UpdateInput(status=ItemStatus.BLOCKED, note="no book"), R_BLOCKED),
        # dropping still closes it, and a dropped routine stays dropped
        (
            R_GOING,
            UpdateInput(status=ItemStatus.DROPPED),
            ItemProgress(ItemStatus.DROPPED, 0, DUE, NOW, kind=ROUTINE),
        ),
        (R_DROPPED, UpdateInput(period=HAPPENED), R_DROPPED),
    ],
)
def test_a_routine_records_periods_and_is_never_closed_by_done(
    state: ItemProgress, change: UpdateInput, expected: ItemProgress
) -> None:
    assert _move(state, change) == expected


@pytest.mark.parametrize(
    ("change", "period", "status"),
    [
        (UpdateInput(status=ItemStatus.DONE), HAPPENED, None),
        (UpdateInput(percent=100), HAPPENED, None),
        (UpdateInput(percent=0), MISSED, None),
        (UpdateInput(percent=40), PARTLY, None),
        (UpdateInput(period=PARTLY, minutes=20), PARTLY, None),
        (UpdateInput(status=ItemStatus.BLOCKED, note="x"), None, ItemStatus.BLOCKED),
        (UpdateInput(status=ItemStatus.DONE, percent=100, period=HAPPENED), HAPPENED, None),
    ],
)
def test_what_a_routine_records_for_a_report(
    change: UpdateInput, period: PeriodOutcome | None, status: ItemStatus | None
) -> None:
    recorded = recorded_change(ROUTINE, change)
    assert (recorded.period, recorded.status, recorded.percent) == (period, status, None)
    assert recorded.minutes == change.minutes


@pytest.mark.parametrize(
    ("kind", "change"),
    [
        (ItemKind.TASK, UpdateInput(period=HAPPENED)),
        (ROUTINE, UpdateInput(status=ItemStatus.DONE, period=MISSED)),
        (ROUTINE, UpdateInput(percent=50, period=HAPPENED)),
    ],
)
def test_a_period_answer_that_does_not_fit_is_refused(kind: ItemKind, change: UpdateInput) -> None:
    with pytest.raises(ValidationError) as info:
        recorded_change(kind, change)
    assert info.value.field == "period"


def test_minutes_count_on_a_task_too() -> None:
    assert _move(STARTED, UpdateInput(minutes=45)) == STARTED
    with pytest.raises(ValidationError, match="minutes"):
        UpdateInput(minutes=-5)
