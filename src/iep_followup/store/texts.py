"""Reads of meetings' free texts with their versions in other languages, as frozen values."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from iep_followup.domain import Translations
from iep_followup.store.models import ActionItem, Concern, Meeting, RequestItem, Strength
from iep_followup.translations import MeetingText, Phrasebook


def meeting_texts(
    session: Session,
    *,
    student_ids: Sequence[int] | None = None,
    meeting_ids: Sequence[int] | None = None,
    item_ids: Sequence[int] | None = None,
) -> list[MeetingText]:
    """Strengths, concerns and item titles of these students' (or these) meetings. Three queries.

    With `item_ids`, only those items' titles and concerns (and every strength): what a batch
    of requests shows, a fraction of its students' texts.
    """
    found: list[MeetingText] = []
    concern_ids = sa_select(col(ActionItem.concern_id)).where(
        col(ActionItem.id).in_(item_ids or [])
    )
    for table, text in (
        (Strength, col(Strength.text)),
        (Concern, col(Concern.text)),
        (ActionItem, col(ActionItem.title)),
    ):
        query = (
            sa_select(text, col(table.translations), col(Meeting.language))
            .join(Meeting, col(Meeting.id) == col(table.meeting_id))
            .order_by(col(Meeting.id), col(table.id))
        )
        if student_ids is not None:
            query = query.where(col(Meeting.student_id).in_(student_ids))
        if meeting_ids is not None:
            query = query.where(col(Meeting.id).in_(meeting_ids))
        if item_ids is not None and table is ActionItem:
            query = query.where(col(ActionItem.id).in_(item_ids))
        if item_ids is not None and table is Concern:
            query = query.where(col(Concern.id).in_(concern_ids))
        found += [
            MeetingText(original, language, Translations(versions or {}))
            for original, versions, language in session.execute(query).all()
        ]
    return found


def phrasebook(
    session: Session, student_ids: Sequence[int], item_ids: Sequence[int] | None = None
) -> Phrasebook:
    """Every text these students' meetings recorded (of their items, only these items' titles
    and concerns, if given), for emails to show in a reader's language."""
    found = meeting_texts(session, student_ids=student_ids, item_ids=item_ids)
    return Phrasebook({t.original: t for t in found})


def request_phrasebook(session: Session, request_id: int) -> Phrasebook:
    """The texts of the meetings of the students an update request asked about."""
    students = (
        sa_select(col(ActionItem.student_id))
        .join(RequestItem, col(RequestItem.item_id) == col(ActionItem.id))
        .where(col(RequestItem.request_id) == request_id)
        .distinct()
    )
    student_ids = [student_id for (student_id,) in session.execute(students).all()]
    return phrasebook(session, student_ids)
