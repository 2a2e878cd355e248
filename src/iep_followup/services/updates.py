"""Keeping items current by hand (the API, the CLI, the web): an update, a new owner, a new date, closing."""

from __future__ import annotations

from datetime import date, datetime

from iep_followup.domain import ItemStatus, UpdateInput, UpdateSource
from iep_followup.store import queries, updates
from iep_followup.store.db import Database
from iep_followup.views import ItemView


def record_update(
    database: Database,
    item_id: int,
    change: UpdateInput,
    *,
    by: str | None,
    source: UpdateSource,
    now: datetime,
) -> ItemView:
    """Append an update to an item's history and move the item along; the item as it is now."""
    with database.transaction() as session:
        updates.update_item(session, item_id, change, by=by, source=source, now=now)
        return queries.item_view(session, item_id)


def reassign_item(
    database: Database,
    item_id: int,
    owner_email: str,
    *,
    by: str | None,
    source: UpdateSource,
    now: datetime,
) -> ItemView:
    """Give an item to another member of the student's team; the history says who had it."""
    with database.transaction() as session:
        updates.reassign_item(session, item_id, owner_email, by=by, source=source, now=now)
        return queries.item_view(session, item_id)


def reschedule_item(
    database: Database,
    item_id: int,
    due_on: date,
    *,
    by: str | None,
    note: str | None,
    now: datetime,
) -> ItemView:
    return record_update(
        database,
        item_id,
        UpdateInput(due_on=due_on, note=note),
        by=by,
        source=UpdateSource.API,
        now=now,
    )


def close_item(
    database: Database,
    item_id: int,
    *,
    dropped: bool,
    by: str | None,
    note: str | None,
    now: datetime,
) -> ItemView:
    status = ItemStatus.DROPPED if dropped else ItemStatus.DONE
    return record_update(
        database,
        item_id,
        UpdateInput(status=status, note=note),
        by=by,
        source=UpdateSource.API,
        now=now,
    )
