"""Accommodations used or not: each implementer's weeks, read from the store, counted by
accommodations.py (the one count the digest and the record share)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from iep_followup.accommodations import UseReport, weeks_of_use
from iep_followup.domain import ItemKind
from iep_followup.planning import local_now
from iep_followup.store import accommodations as store
from iep_followup.store import routines as routine_store
from iep_followup.store.db import Session
from iep_followup.views import AccommodationUse, ItemView


def accommodation_uses(
    session: Session,
    views: Sequence[ItemView],
    *,
    since: date,
    until: date,
    today: date,
    timezone: str,
) -> tuple[AccommodationUse, ...]:
    """Each accommodation check-in among `views` (open or not), with its weeks from `since` to
    `until`. Two queries, however many items."""
    checks = [v for v in views if v.kind is ItemKind.ACCOMMODATION]
    ids = [v.id for v in checks]
    entries = store.use_entries(session, ids, datetime.combine(since, time(), ZoneInfo(timezone)))
    starts = {
        item_id: local_now(at, timezone).date()
        for item_id, at in routine_store.started_at(session, ids).items()
    }
    return tuple(
        AccommodationUse(
            item_id=v.id,
            key=v.accommodation or v.key,
            text=v.title,
            implementer_name=v.owner_name,
            implementer_email=v.owner_email,
            weeks=weeks_of_use(
                (
                    UseReport(local_now(e.created_at, timezone).date(), e.period, e.note)
                    for e in entries[v.id]
                ),
                starts_on=starts[v.id],
                since=since,
                until=until,
                today=today,
            ),
            student_external_id=v.student_external_id,
            student_name=v.student_name,
        )
        for v in checks
    )
