"""The item transition: one table per rule, each row a state, a change and what follows."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from iep_followup.domain import (
    ItemProgress,
    ItemStatus,
    UpdateInput,
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
