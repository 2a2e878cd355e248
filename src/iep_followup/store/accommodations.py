"""What the accommodations' record needs from the store: each check-in's answers and reasons."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from iep_followup.domain import PeriodOutcome
from iep_followup.store.models import Update


@dataclass(frozen=True)
class UseEntry:
    """One history entry that answers for an accommodation's week."""

    item_id: int
    created_at: datetime
    period: PeriodOutcome
    note: str | None


def use_entries(
    session: Session, item_ids: Sequence[int], since: datetime
) -> dict[int, list[UseEntry]]:
    """The check-ins' answers from `since` on, oldest first; one query."""
    found: dict[int, list[UseEntry]] = {item_id: [] for item_id in item_ids}
    if not item_ids:
        return found
    rows = session.execute(
        sa_select(col(Update.item_id), col(Update.created_at), col(Update.period), col(Update.note))
        .where(
            col(Update.item_id).in_(item_ids),
            col(Update.created_at) >= since,
            col(Update.period).is_not(None),
        )
        .order_by(col(Update.id))
    ).all()
    for item_id, created_at, period, note in rows:
        found[item_id].append(UseEntry(item_id, created_at, period, note))
    return found
