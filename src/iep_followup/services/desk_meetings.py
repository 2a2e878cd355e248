"""Recording a meeting from the desk: who may, and what the preview shows before saving."""

from __future__ import annotations

from iep_followup.balance import check_balance
from iep_followup.desk import MeetingPreview, Reader, may_use_student
from iep_followup.domain import ItemStatus, MeetingRecord, Role
from iep_followup.errors import NotYourMeetingError
from iep_followup.mail.render import Renderer
from iep_followup.services import authority
from iep_followup.services.authority import not_found
from iep_followup.services.meetings import authority_of
from iep_followup.services.summaries import preview_summaries
from iep_followup.store import recorded, records, web
from iep_followup.store.db import Session
from iep_followup.translations import translation_gaps
from iep_followup.views import MemberView


def may_record(session: Session, reader: Reader, record: MeetingRecord) -> bool:
    """True when the reader may record this meeting; raises NotYourMeetingError otherwise.

    An administrator may record any meeting. A case manager may record a meeting whose file
    names her as the case manager, for a new student or one already on her caseload (never
    one on another caseload: the answer is the same words either way). Returns whether the
    student is already recorded (an amendment).
    """
    student = web.visible_student(session, None, record.student.external_id)
    exists = student is not None
    if reader.is_admin:
        return exists
    names_her = any(m.role is Role.CASE_MANAGER and m.email == reader.email for m in record.members)
    theirs = student is not None and may_use_student(
        reader, authority.managed(session, reader), student.id or 0
    )
    if not names_her or (exists and not theirs):
        raise NotYourMeetingError(
            "you can record only a meeting whose file names you as the case manager"
        )
    return exists


def preview(
    session: Session,
    reader: Reader,
    record: MeetingRecord,
    *,
    max_share: float,
    renderer: Renderer,
    default_timezone: str,
) -> MeetingPreview:
    amends = may_record(session, reader, record)
    members = [MemberView(0, m.name, m.email, m.role, m.language) for m in record.members]
    items = [(i.owner, ItemStatus.OPEN) for c in record.concerns for i in c.items]
    balance = check_balance(
        record.student.external_id, record.student.name, members, items, max_share
    )
    return MeetingPreview(
        record,
        balance,
        amends,
        gaps=tuple(translation_gaps(record)),
        emails=tuple(preview_summaries(record, renderer, default_timezone)),
        kept=tuple(
            records.kept_people(session, record, authority_of(record, as_admin=reader.is_admin))
        ),
    )


def latest_meeting(session: Session, reader: Reader, external_id: str) -> MeetingRecord:
    """The student's latest meeting, to amend it; NotFoundError when not the reader's student
    (the same as for a missing one) or when the student has no meeting."""
    authority.student_id(session, reader, external_id)
    found = recorded.latest_meeting(session, external_id)
    if found is None:
        raise not_found(external_id)
    return found
