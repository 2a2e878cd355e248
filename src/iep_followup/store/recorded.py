"""A student's latest meeting read back as the MeetingRecord that would record it again.

The desk's form opens it to amend the meeting: saving it goes through the same upsert as a
re-import. Items already closed (done or dropped) are left out: a re-import leaves them alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from iep_followup.domain import (
    AccommodationInfo,
    ConcernInfo,
    ItemInfo,
    ItemKind,
    MeetingRecord,
    MemberInfo,
    StrengthInfo,
    StudentInfo,
)
from iep_followup.store.models import (
    ActionItem,
    Concern,
    Meeting,
    Membership,
    Person,
    Strength,
    Student,
)


def latest_meeting(session: Session, external_id: str) -> MeetingRecord | None:
    """The student's latest meeting as a meeting file would say it; None when there is none."""
    student = session.exec(select(Student).where(Student.external_id == external_id)).first()
    if student is None:
        return None
    meeting = session.exec(
        select(Meeting)
        .where(Meeting.student_id == student.id)
        .order_by(col(Meeting.held_on).desc(), col(Meeting.id).desc())
    ).first()
    if meeting is None:
        return None
    team = session.exec(
        select(Membership, Person)
        .join(Person, col(Person.id) == Membership.person_id)
        .where(Membership.student_id == student.id)
        .order_by(col(Membership.id))
    ).all()
    email = {person.id: person.email for _, person in team}
    strengths = session.exec(
        select(Strength).where(Strength.meeting_id == meeting.id).order_by(col(Strength.position))
    ).all()
    concerns = session.exec(
        select(Concern).where(Concern.meeting_id == meeting.id).order_by(col(Concern.position))
    ).all()
    items = session.exec(
        select(ActionItem).where(ActionItem.meeting_id == meeting.id).order_by(col(ActionItem.id))
    ).all()
    return MeetingRecord(
        student=StudentInfo(student.external_id, student.name, student.school, student.grade),
        held_on=meeting.held_on,
        kind=meeting.kind,
        members=tuple(
            MemberInfo(
                name=person.name,
                email=person.email,
                role=membership.role,
                language=person.language,
                timezone=person.timezone,
                away_until=membership.away_until,
                relationship=membership.relationship,
            )
            for membership, person in team
        ),
        strengths=tuple(
            StrengthInfo(s.text, email.get(s.said_by_id), s.translations) for s in strengths
        ),
        concerns=tuple(
            ConcernInfo(
                key=c.key,
                text=c.text,
                raised_by=email.get(c.raised_by_id),
                items=tuple(
                    ItemInfo(
                        key=i.key,
                        title=i.title,
                        owner=email.get(i.owner_id, ""),
                        due_on=i.due_on,
                        cadence=i.cadence,
                        service_minutes_per_week=i.service_minutes_per_week,
                        translations=i.translations,
                        kind=i.kind,
                        accommodation=i.accommodation,
                        sessions_per_week=i.sessions_per_week,
                    )
                    for i in items
                    if i.concern_id == c.id
                    and not i.status.is_closed
                    and i.kind is not ItemKind.ACCOMMODATION
                ),
                translations=c.translations,
            )
            for c in concerns
        ),
        notes=meeting.notes,
        language=meeting.language,
        notes_translations=meeting.notes_translations,
        accommodations=_accommodations(items, email, {c.id: c.key for c in concerns}),
    )


def _accommodations(
    items: Sequence[ActionItem], email: dict[int | None, str], concerns: dict[int | None, str]
) -> tuple[AccommodationInfo, ...]:
    """The accommodations as the meeting file gives them: one per id, its open check-ins'
    owners as its implementers (in the order they were added)."""
    grouped: dict[str, list[ActionItem]] = {}
    for item in items:
        if item.kind is ItemKind.ACCOMMODATION and item.accommodation and not item.status.is_closed:
            grouped.setdefault(item.accommodation, []).append(item)
    return tuple(
        AccommodationInfo(
            key=key,
            text=checks[0].title,
            implementers=tuple(email.get(i.owner_id, "") for i in checks),
            concern=concerns.get(checks[0].concern_id),
            translations=checks[0].translations,
        )
        for key, checks in grouped.items()
    )
