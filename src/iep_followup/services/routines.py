"""Service minutes and how routines are going: read from the store, counted by routines.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from iep_followup.domain import ItemKind
from iep_followup.planning import RequestState, SendPolicy, is_silent, local_now
from iep_followup.routines import (
    Asked,
    Report,
    minutes_by_week,
    missed_and_owed,
    periods_kept,
    together,
    week_of,
    weeks,
)
from iep_followup.store import queries
from iep_followup.store import routines as store
from iep_followup.store.db import Session
from iep_followup.views import ItemMinutes, ItemView, RoutineRecord, ServiceMinutes

DEFAULT_WEEKS = 6


def service_minutes(
    session: Session,
    student_external_id: str,
    *,
    since: date | None,
    until: date | None,
    now: datetime,
    timezone: str,
    policy: SendPolicy,
) -> ServiceMinutes:
    """Minutes delivered against minutes promised, per week, for each item with service minutes
    and for the student: the last six weeks up to today unless told otherwise."""
    student = queries.get_student(session, student_external_id)
    until = until or local_now(now, timezone).date()
    since = since or week_of(until) - timedelta(weeks=DEFAULT_WEEKS - 1)
    views = [
        v
        for v in queries.item_views(session, student_id=student.id)
        if v.service_minutes_per_week is not None
    ]
    reports, starts = _reports(session, views, since, timezone)
    asked = _asked(session, views, since, now, timezone, policy)
    items = _item_minutes(views, reports, starts, asked, weeks(since, until), timezone)
    return ServiceMinutes(
        student.external_id,
        student.name,
        since,
        until,
        items,
        together(i.weeks for i in items),
    )


def routine_records(
    session: Session,
    views: Sequence[ItemView],
    *,
    today: date,
    timezone: str,
    over_only: bool = False,
) -> dict[int, RoutineRecord]:
    """How each open routine among `views` is going: kept in how many of its last periods
    (with `over_only`, only periods over before today's week began)."""
    routines = _open_routines(views)
    reports, starts = _reports(session, routines, _routine_since(today), timezone)
    return _records(routines, reports, starts, today, over_only)


def digest_figures(
    session: Session,
    views: Sequence[ItemView],
    *,
    mondays: Sequence[date],
    end: date,
    timezone: str,
    now: datetime,
    policy: SendPolicy,
) -> tuple[dict[int, RoutineRecord], tuple[ItemMinutes, ...]]:
    """For a digest of the period ending `end` (exclusive): how each open routine had gone in
    the periods over by then, and each service item's minutes in the weeks of `mondays` (what
    is known of each by `now`). Three queries, however many items."""
    routines = _open_routines(views)
    services = [v for v in views if v.service_minutes_per_week is not None]
    both = list({v.id: v for v in (*routines, *services)}.values())
    reports, starts = _reports(session, both, _routine_since(end), timezone)
    since = min(mondays, default=end)
    asked = _asked(session, services, since, now, timezone, policy)
    return (
        _records(routines, reports, starts, end, True),
        _item_minutes(services, reports, starts, asked, mondays, timezone),
    )


def _open_routines(views: Sequence[ItemView]) -> list[ItemView]:
    return [v for v in views if v.kind is ItemKind.ROUTINE and not v.status.is_closed]


def _routine_since(today: date) -> date:
    return week_of(today) - timedelta(weeks=4 * DEFAULT_WEEKS)  # six monthly periods at most


def _records(
    routines: Sequence[ItemView],
    reports: dict[int, list[Report]],
    starts: dict[int, date],
    today: date,
    over_only: bool,
) -> dict[int, RoutineRecord]:
    records = {}
    for v in routines:
        kept, periods = periods_kept(
            reports[v.id],
            v.cadence,
            today=today,
            starts_on=starts[v.id],
            count=DEFAULT_WEEKS,
            over_only=over_only,
        )
        records[v.id] = RoutineRecord(v.id, kept, periods, v.cadence)
    return records


def _item_minutes(
    views: Sequence[ItemView],
    reports: dict[int, list[Report]],
    starts: dict[int, date],
    asked: dict[int, list[Asked]],
    mondays: Sequence[date],
    timezone: str,
) -> tuple[ItemMinutes, ...]:
    """Each service item's minutes in these weeks: the one count the library and digest share."""
    found = []
    for v in views:
        missed, owed = missed_and_owed(reports[v.id], mondays)
        found.append(
            ItemMinutes(
                v.id,
                v.key,
                v.title,
                v.owner_name,
                v.owner_email,
                v.service_minutes_per_week or 0,
                minutes_by_week(
                    reports[v.id],
                    v.service_minutes_per_week or 0,
                    mondays,
                    starts_on=starts[v.id],
                    ends_on=_ends_on(v, timezone),
                    asked=asked.get(v.id, []),
                ),
                missed=tuple(missed.items()),
                owed=owed,
            )
        )
    return tuple(found)


def _reports(
    session: Session, views: Sequence[ItemView], since: date, timezone: str
) -> tuple[dict[int, list[Report]], dict[int, date]]:
    zone = ZoneInfo(timezone)
    ids = [v.id for v in views]
    entries = store.period_entries(session, ids, datetime.combine(since, time(), zone))
    reports = {
        item_id: [
            Report(
                local_now(e.created_at, timezone).date(),
                e.period,
                e.minutes,
                e.missed,
                e.missed_minutes,
                e.makeup,
            )
            for e in found
        ]
        for item_id, found in entries.items()
    }
    starts = {
        item_id: local_now(at, timezone).date()
        for item_id, at in store.started_at(session, ids).items()
    }
    return reports, starts


def _asked(
    session: Session,
    views: Sequence[ItemView],
    since: date,
    now: datetime,
    timezone: str,
    policy: SendPolicy,
) -> dict[int, list[Asked]]:
    """The check-ins about each item sent from `since` on, and how each went by `now`."""
    zone = ZoneInfo(timezone)
    found = store.requests_about(
        session, [v.id for v in views], datetime.combine(since, time(), zone)
    )

    def asked(request: RequestState) -> Asked:
        return Asked(
            local_now(request.created_at, timezone).date(),
            request.answered_at is not None,
            is_silent(request, now, timezone, policy),
        )

    return {item_id: [asked(r) for r in requests] for item_id, requests in found.items()}


def _ends_on(view: ItemView, timezone: str) -> date:
    """A service runs until its end date, or until it was closed."""
    if view.closed_at is not None:
        return min(view.due_on, local_now(view.closed_at, timezone).date())
    return view.due_on
