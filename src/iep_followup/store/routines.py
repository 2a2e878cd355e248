"""What routines and services need from the store: each item's period answers and minutes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from iep_followup.domain import MissReason, PeriodOutcome
from iep_followup.planning import RequestState
from iep_followup.store.models import ActionItem, RequestItem, Update, UpdateRequest


@dataclass(frozen=True)
class PeriodEntry:
    """One history entry that answers for a period or gives minutes."""

    item_id: int
    created_at: datetime
    period: PeriodOutcome | None
    minutes: int | None
    missed: MissReason | None = None
    missed_minutes: int | None = None
    makeup: bool = False


def started_at(session: Session, item_ids: Sequence[int]) -> dict[int, datetime]:
    """When each item was recorded: its first period starts then."""
    if not item_ids:
        return {}
    rows = session.execute(
        sa_select(col(ActionItem.id), col(ActionItem.created_at)).where(
            col(ActionItem.id).in_(item_ids)
        )
    ).all()
    return {int(item_id): created_at for item_id, created_at in rows}


def period_entries(
    session: Session, item_ids: Sequence[int], since: datetime
) -> dict[int, list[PeriodEntry]]:
    """The items' period answers and minutes from `since` on, oldest first; one query."""
    found: dict[int, list[PeriodEntry]] = {item_id: [] for item_id in item_ids}
    if not item_ids:
        return found
    rows = session.execute(
        sa_select(
            col(Update.item_id),
            col(Update.created_at),
            col(Update.period),
            col(Update.minutes),
            col(Update.missed_reason),
            col(Update.missed_minutes),
            col(Update.makeup),
        )
        .where(
            col(Update.item_id).in_(item_ids),
            col(Update.created_at) >= since,
            or_(
                col(Update.period).is_not(None),
                col(Update.minutes).is_not(None),
                col(Update.missed_reason).is_not(None),
            ),
        )
        .order_by(col(Update.id))
    ).all()
    for item_id, created_at, period, minutes, missed, lost, makeup in rows:
        found[item_id].append(
            PeriodEntry(item_id, created_at, period, minutes, missed, lost, bool(makeup))
        )
    return found


def requests_about(
    session: Session, item_ids: Sequence[int], since: datetime
) -> dict[int, list[RequestState]]:
    """The check-ins sent from `since` on that asked about each item, oldest first; one query."""
    found: dict[int, list[RequestState]] = {item_id: [] for item_id in item_ids}
    if not item_ids:
        return found
    rows = session.execute(
        sa_select(
            col(RequestItem.item_id),
            col(UpdateRequest.id),
            col(UpdateRequest.cycle_on),
            col(UpdateRequest.created_at),
            col(UpdateRequest.answered_at),
            col(UpdateRequest.reminded_at),
        )
        .join(UpdateRequest, col(UpdateRequest.id) == col(RequestItem.request_id))
        .where(col(RequestItem.item_id).in_(item_ids), col(UpdateRequest.created_at) >= since)
        .order_by(col(UpdateRequest.id))
    ).all()
    for item_id, request_id, cycle_on, created_at, answered_at, reminded_at in rows:
        found[item_id].append(
            RequestState(int(request_id), cycle_on, created_at, answered_at, reminded_at)
        )
    return found
