"""Who is asked for an update, and when. Pure: the current time and all state come in as arguments."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from iep_followup.domain import Cadence, ItemKind, require_aware
from iep_followup.schoolcal import SchoolCalendar


@dataclass(frozen=True)
class SendPolicy:
    """When people may be emailed, and how patiently we wait for an answer."""

    quiet_start: time = time(19)  # nothing is sent from 19:00 ...
    quiet_end: time = time(7)  # ... to 07:00, in the recipient's own time zone
    send_on_weekends: bool = False
    reminder_after_school_days: int = 3
    silent_after_school_days: int = 3  # after the reminder: then counted silent
    calendar: SchoolCalendar = field(default_factory=SchoolCalendar)


@dataclass(frozen=True)
class ItemState:
    item_id: int
    cadence: Cadence
    due_on: date
    last_contact_at: datetime  # when we last asked or heard about it (or it was created)
    kind: ItemKind = ItemKind.TASK  # a routine is asked about until its end date (due_on)
    # The owner is away from this item's student's team until then (set from that student).
    away_until: date | None = None

    def is_away(self, today: date) -> bool:
        return self.away_until is not None and today <= self.away_until


@dataclass(frozen=True)
class RequestState:
    request_id: int
    cycle_on: date
    created_at: datetime
    answered_at: datetime | None
    reminded_at: datetime | None


@dataclass(frozen=True)
class OwnerState:
    person_id: int
    timezone: str
    mail_failing: bool
    items: tuple[ItemState, ...]
    last_request: RequestState | None = None


@dataclass(frozen=True)
class Ask:
    """Send a new update request for this cycle (the owner's local date) covering these items."""

    person_id: int
    cycle_on: date
    item_ids: tuple[int, ...]
    reason: str


@dataclass(frozen=True)
class Remind:
    person_id: int
    request_id: int
    reason: str


@dataclass(frozen=True)
class Wait:
    """Nothing to send now, and why (shown by --dry-run)."""

    person_id: int
    reason: str


Decision = Ask | Remind | Wait


def local_now(now: datetime, timezone: str) -> datetime:
    return require_aware(now).astimezone(ZoneInfo(timezone))


def why_not_now(
    now: datetime, timezone: str, policy: SendPolicy, away_until: date | None = None
) -> str | None:
    """None when the person may be emailed at `now`; otherwise the reason to wait."""
    local = local_now(now, timezone)
    today = local.date()
    if away_until is not None and today <= away_until:
        return f"away until {away_until.isoformat()}"
    if not policy.send_on_weekends and today.weekday() >= 5:
        return "weekend"
    if today in policy.calendar.closed:
        return "school holiday"
    if _in_quiet_hours(local.time(), policy):
        return f"quiet hours ({local:%H:%M} in {timezone})"
    return None


def next_send_time(
    now: datetime, timezone: str, policy: SendPolicy, away_until: date | None = None
) -> datetime:
    """The first moment at or after `now` when this person may be emailed (UTC)."""
    zone = ZoneInfo(timezone)
    moment = require_aware(now)
    for _ in range(400):  # a year and a bit of days is plenty; calendars are finite
        if why_not_now(moment, timezone, policy, away_until) is None:
            return moment
        local = moment.astimezone(zone)
        start_today = datetime.combine(local.date(), policy.quiet_end, zone)
        moment = (
            start_today if local < start_today else start_today + timedelta(days=1)
        ).astimezone(moment.tzinfo)
    return moment


def next_check_in(item: ItemState, timezone: str) -> date | None:
    interval = item.cadence.interval
    if interval is None:
        return None
    return local_now(item.last_contact_at, timezone).date() + interval


def plan_requests(
    now: datetime, owners: Iterable[OwnerState], policy: SendPolicy
) -> list[Decision]:
    """One decision per owner with open items: ask, remind, or wait (with the reason)."""
    return [_decide(now, owner, policy) for owner in owners]


def _decide(now: datetime, owner: OwnerState, policy: SendPolicy) -> Decision:
    held_back = _why_hold_back(now, owner, policy)
    if held_back:
        return Wait(owner.person_id, held_back)
    today = local_now(now, owner.timezone).date()
    # Away from one student's team is away from that student's items only.
    present = [i for i in owner.items if not i.is_away(today)]
    due = _due_items(present, owner.timezone, today)
    if due:
        return Ask(owner.person_id, today, tuple(due), f"{len(due)} item(s) due for a check-in")
    reminder = _reminder(owner, policy, today)
    if reminder is not None:
        return reminder
    upcoming = [d for d in (next_check_in(i, owner.timezone) for i in present) if d is not None]
    if not upcoming:
        return Wait(owner.person_id, "no item has a check-in cadence")
    return Wait(owner.person_id, f"nothing due; next check-in {min(upcoming).isoformat()}")


def _why_hold_back(now: datetime, owner: OwnerState, policy: SendPolicy) -> str | None:
    """Why nothing at all may go to this owner now, if anything."""
    if owner.mail_failing:
        return "email address is failing; fix it first"
    today = local_now(now, owner.timezone).date()
    if owner.items and all(i.is_away(today) for i in owner.items):
        until = max(i.away_until for i in owner.items if i.away_until is not None)
        return f"away until {until.isoformat()}"
    blocked = why_not_now(now, owner.timezone, policy)
    if blocked:
        return blocked
    last = owner.last_request
    if last is not None and last.cycle_on == local_now(now, owner.timezone).date():
        return "already asked today"
    return None


def _reminder(owner: OwnerState, policy: SendPolicy, today: date) -> Remind | None:
    """A reminder of the last request, once it has waited long enough unanswered."""
    last = owner.last_request
    if last is None or last.answered_at is not None or last.reminded_at is not None:
        return None
    waited = policy.calendar.school_days_between(
        local_now(last.created_at, owner.timezone).date(), today
    )
    if waited < policy.reminder_after_school_days:
        return None
    return Remind(owner.person_id, last.request_id, f"no answer after {waited} school days")


def _due_items(items: Sequence[ItemState], timezone: str, today: date) -> list[int]:
    """Items due today, plus any due within half their interval, so one email covers them all.

    Without the pull-forward, a therapist whose items were created on different days would
    get a trickle of small emails; with it their items fall into step after one cycle.
    """
    # A late task is still asked about; a routine past its end date is over.
    items = [i for i in items if i.kind is ItemKind.TASK or i.due_on >= today]
    schedule = [(item, next_check_in(item, timezone)) for item in items]
    if not any(when is not None and when <= today for _, when in schedule):
        return []
    due = []
    for item, when in schedule:
        interval = item.cadence.interval
        if when is not None and interval is not None and when <= today + interval / 2:
            due.append(item.item_id)
    return due


def is_silent(request: RequestState, now: datetime, timezone: str, policy: SendPolicy) -> bool:
    """Unanswered after the reminder and a grace period: shown to the case manager, not nagged."""
    if request.answered_at is not None or request.reminded_at is None:
        return False
    since = local_now(request.reminded_at, timezone).date()
    waited = policy.calendar.school_days_between(since, local_now(now, timezone).date())
    return waited >= policy.silent_after_school_days


def _in_quiet_hours(moment: time, policy: SendPolicy) -> bool:
    start, end = policy.quiet_start, policy.quiet_end
    if start == end:
        return False
    if start > end:  # spans midnight, e.g. 19:00-07:00
        return moment >= start or moment < end
    return start <= moment < end
