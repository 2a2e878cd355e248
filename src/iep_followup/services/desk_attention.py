"""What a student's page shows of the digest: its attention lines, minutes and routines, built by
the digest's own functions over the period the case manager's digest covers."""

from __future__ import annotations

from datetime import datetime, timedelta

from iep_followup.desk import Reader, StudentAttention, student_attention
from iep_followup.digest import Period, covered_period, previous_period
from iep_followup.domain import Role
from iep_followup.planning import SendPolicy, local_now
from iep_followup.services import authority
from iep_followup.services.digests import digest_inputs
from iep_followup.store import queries
from iep_followup.store.db import Session


def attention_for(
    session: Session,
    reader: Reader,
    external_id: str,
    *,
    now: datetime,
    policy: SendPolicy,
    timezone: str,
    period: Period,
    max_share: float,
) -> StudentAttention:
    """NotFoundError, as for a missing student, when not in the reader's caseload."""
    authority.student_id(session, reader, external_id)  # NotFoundError when not hers
    start, end = covered_period(local_now(now, timezone).date(), period)
    status = queries.student_status(session, external_id)
    manager = next((m for m in status.members if m.role is Role.CASE_MANAGER), None)
    if manager is None:
        return StudentAttention((), (), {}, start, end - timedelta(days=1))
    since, _ = previous_period(start, period)
    inputs = digest_inputs(session, manager, timezone, start, end, since, now=now, policy=policy)
    return student_attention(
        inputs,
        external_id,
        now=now,
        policy=policy,
        max_share=max_share,
        since=start,
        until=end - timedelta(days=1),
    )
