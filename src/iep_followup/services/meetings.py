"""Recording what a meeting decided, with every member's summary email in the same transaction."""

from __future__ import annotations

import logging
from datetime import datetime

from iep_followup.domain import MeetingRecord, Role
from iep_followup.planning import SendPolicy
from iep_followup.services.outgoing import Mailer
from iep_followup.services.summaries import queue_summaries
from iep_followup.store import records
from iep_followup.store.db import Database
from iep_followup.translations import translation_gaps
from iep_followup.views import RecordedMeeting

log = logging.getLogger(__name__)


def authority_of(record: MeetingRecord, *, as_admin: bool) -> frozenset[str] | None:
    """Who records the meeting: its case managers, or an administrator (None)."""
    if as_admin:
        return None
    return frozenset(m.email for m in record.members if m.role is Role.CASE_MANAGER)


def record_meeting(
    database: Database,
    mailer: Mailer,
    record: MeetingRecord,
    *,
    now: datetime,
    policy: SendPolicy,
    default_timezone: str,
    hold_summaries: bool = False,
    authority: frozenset[str] | None = None,
) -> RecordedMeeting:
    """Record (or bring up to date) one meeting, all or nothing; queue the summaries it calls for.

    With `hold_summaries` (kept through re-imports) nothing is queued until the summaries are
    released, so versions in the readers' languages can be added first. `authority`: the case
    managers recording it (None: an administrator); see records.upsert_member.
    """
    gaps = tuple(translation_gaps(record))
    for gap in gaps:
        log.info("%s: %s", record.student.external_id, gap.message)
    with database.transaction() as session:
        meeting, created, changes, kept = records.record_meeting(
            session, record, now, hold_summaries=hold_summaries, authority=authority
        )
        assert meeting.id is not None
        held = meeting.summaries_held
        queued = 0
        if not held:
            queued = queue_summaries(session, mailer, meeting.id, now, policy, default_timezone)
        return RecordedMeeting(
            meeting.id,
            record.student.external_id,
            created,
            tuple(changes),
            queued,
            summaries_held=held,
            translation_gaps=gaps,
            kept=tuple(kept),
        )
