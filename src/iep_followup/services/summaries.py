"""After a meeting: every team member gets one email with the plan and their part in it."""

from __future__ import annotations

import logging
from datetime import datetime

from iep_followup.domain import Role
from iep_followup.errors import IepFollowupError
from iep_followup.mail.contexts import summary_context
from iep_followup.mail.ics import DueDate, due_dates_calendar
from iep_followup.mail.kinds import MailKind
from iep_followup.mail.message import Attachment
from iep_followup.planning import SendPolicy, next_send_time
from iep_followup.services.outgoing import Mailer
from iep_followup.store import asking, queries
from iep_followup.store.db import Session
from iep_followup.store.records import get_meeting

log = logging.getLogger(__name__)


def queue_summaries(
    session: Session,
    mailer: Mailer,
    meeting_id: int,
    now: datetime,
    policy: SendPolicy,
    default_timezone: str,
) -> int:
    """Queue the summary for every member who has not had one for this meeting. Returns how many."""
    meeting = get_meeting(session, meeting_id)
    members = queries.members_by_student(session, [meeting.student_id]).get(meeting.student_id, [])
    items = [
        i
        for i in queries.item_views(session, student_id=meeting.student_id)
        if not i.status.is_closed
    ]
    strengths = asking.strengths_by_student(session, [meeting.student_id]).get(
        meeting.student_id, []
    )
    contact = asking.case_managers(session, [meeting.student_id]).get(meeting.student_id)
    people = asking.recipients(session, [m.person_id for m in members], default_timezone)
    team = [
        (m.name, m.email, m.role, [i.title for i in items if i.owner_email == m.email])
        for m in members
    ]
    student_name = (
        items[0].student_name if items else queries.student_name(session, meeting.student_id)
    )
    queued = 0
    for member in members:
        key = f"summary:{meeting_id}:{member.person_id}"
        recipient = people[member.person_id]
        mine = [i for i in items if i.owner_email == member.email]
        context = summary_context(
            recipient,
            member.role,
            student_name=student_name,
            held_on=meeting.held_on,
            strengths=strengths,
            team=team,
            my_items=[(i.title, i.due_on, i.cadence, i.concern) for i in mine],
            contact=contact if member.role is not Role.CASE_MANAGER else None,
        )
        attachments: tuple[Attachment, ...] = ()
        if mine:
            calendar = due_dates_calendar(
                [
                    DueDate(f"iep-item-{i.id}@{mailer.domain}", i.title, i.due_on, i.concern)
                    for i in mine
                ],
                stamp=now,
                name=student_name,
            )
            attachments = (Attachment("due-dates.ics", "text", "calendar", calendar),)
        try:
            queued += mailer.queue(
                session,
                MailKind.SUMMARY,
                key,
                to=recipient,
                context=context,
                now=now,
                reply_to=mailer.reply_address_for_contact(contact),
                attachments=attachments,
                not_before=next_send_time(now, recipient.timezone, policy),
            )
        except (IepFollowupError, ValueError) as exc:
            # One bad address must not keep the rest of the team from their summary.
            log.warning("summary for person %s not queued: %s", member.person_id, exc)
    return queued
