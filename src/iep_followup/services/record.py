"""The implementation record: the plan carried out over a span of weeks, read from the store
and counted by the same rules as the digest (accommodations) and `service_minutes` (services)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from iep_followup.planning import SendPolicy, local_now
from iep_followup.services.accommodations import accommodation_uses
from iep_followup.services.routines import service_minutes
from iep_followup.store import queries
from iep_followup.store.db import Session
from iep_followup.views import ImplementationRecord, ServiceDelivered

DEFAULT_SPAN = timedelta(weeks=6)  # when the student has no meeting yet


def implementation_record(
    session: Session,
    student_external_id: str,
    *,
    since: date | None,
    until: date | None,
    now: datetime,
    timezone: str,
    policy: SendPolicy,
) -> ImplementationRecord:
    """From `since` (by default the day of the student's latest meeting) to `until` (today)."""
    today = local_now(now, timezone).date()
    status = queries.student_status(session, student_external_id)
    until = until or today
    since = since or status.meeting_on or until - DEFAULT_SPAN
    uses = accommodation_uses(
        session, status.items, since=since, until=until, today=today, timezone=timezone
    )
    minutes = service_minutes(
        session,
        student_external_id,
        since=since,
        until=until,
        now=now,
        timezone=timezone,
        policy=policy,
    )
    return ImplementationRecord(
        student=status.external_id,
        student_name=status.name,
        since=since,
        until=until,
        accommodations=uses,
        services=tuple(
            ServiceDelivered(
                item=m.key,
                title=m.title,
                owner=m.owner_email,
                promised_minutes=sum(w.promised for w in m.weeks),
                delivered_minutes=sum(w.delivered for w in m.weeks),
                missed_minutes=m.missed,
                owed_minutes=m.owed,
            )
            for m in minutes.items
        ),
    )
