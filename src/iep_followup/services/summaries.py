"""After a meeting: every team member gets one email with the plan and their part in it."""

from __future__ import annotations

import logging
from datetime import datetime

from iep_followup.desk import SummaryPreview
from iep_followup.domain import ItemKind, MeetingRecord, Role, accommodation_checks
from iep_followup.errors import IepFollowupError
from iep_followup.mail.contexts import summary_context
from iep_followup.mail.ics import DueDate, due_dates_calendar
from iep_followup.mail.kinds import MailKind
from iep_followup.mail.message import Attachment
from iep_followup.mail.render import Renderer
from iep_followup.planning import SendPolicy, next_send_time
from iep_followup.services.outgoing import Mailer
from iep_followup.store import asking, queries, records, texts
from iep_followup.store.db import Session
from iep_followup.store.records import get_meeting
from iep_followup.translations import Phrasebook, TranslationGap, gaps_for, read_texts
from iep_followup.views import Contact, ItemView, Recipient

log = logging.getLogger(__name__)


def release_summaries(
    session: Session,
    mailer: Mailer,
    student_id: int,
    now: datetime,
    policy: SendPolicy,
    default_timezone: str,
) -> int:
    """Queue the summaries held at import (the texts' versions now added). Returns how many."""
    return sum(
        queue_summaries(session, mailer, meeting_id, now, policy, default_timezone)
        for meeting_id in records.release_held_summaries(session, student_id)
    )


def student_translation_gaps(session: Session, student_id: int) -> list[TranslationGap]:
    """What the student's team members would get in another language than their own."""
    members = queries.members_by_student(session, [student_id]).get(student_id, [])
    found = texts.meeting_texts(session, student_ids=[student_id])
    return gaps_for(found, [(m.name, m.language) for m in members])


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
    book = texts.phrasebook(session, [meeting.student_id])
    relationships = {m.email: m.relationship for m in members if m.relationship is not None}
    people = asking.recipients(session, [m.person_id for m in members], default_timezone)
    team = [
        (m.name, m.email, m.role, [i.title for i in _plan(items) if i.owner_email == m.email])
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
            my_items=[
                (i.title, i.due_on, i.cadence, i.concern, i.kind, i.service_minutes_per_week)
                for i in mine
            ],
            contact=contact if member.role is not Role.CASE_MANAGER else None,
            texts=book,
            relationships=relationships,
        )
        attachments: tuple[Attachment, ...] = ()
        if mine:
            calendar = due_dates_calendar(
                [_due_date(i, book, recipient.language, mailer.domain) for i in _plan(mine)],
                stamp=now,
                name=student_name,
            )
            attachments = (
                Attachment("due-dates.ics", "text", "calendar", calendar, charset="utf-8"),
            )
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


def preview_summaries(
    record: MeetingRecord, renderer: Renderer, default_timezone: str
) -> list[SummaryPreview]:
    """Each member's summary as queue_summaries will write it, from the meeting not yet saved."""
    book = Phrasebook({t.original: t for t in read_texts(record)}, record.language)
    items = [(c.text, i) for c in record.concerns for i in c.items]
    concerns = {c.key: c.text for c in record.concerns}
    checks = [(concerns.get(k or "", ""), i) for k, i in accommodation_checks(record)]
    manager = next((m for m in record.members if m.role is Role.CASE_MANAGER), None)
    contact = Contact(manager.name, manager.email) if manager else None
    team = [
        (m.name, m.email, m.role, [i.title for _, i in items if i.owner == m.email])
        for m in record.members
    ]
    relationships = {m.email: m.relationship for m in record.members if m.relationship}
    previews = []
    for m in record.members:
        zone = m.timezone or default_timezone
        context = summary_context(
            Recipient(0, m.name, m.email, m.language, zone, m.role.is_family),
            m.role,
            student_name=record.student.name,
            held_on=record.held_on,
            strengths=[s.text for s in record.strengths],
            team=team,
            my_items=[
                (i.title, i.due_on, i.cadence, c, i.kind, i.service_minutes_per_week)
                for c, i in (*items, *checks)
                if i.owner == m.email
            ],
            contact=contact if m.role is not Role.CASE_MANAGER else None,
            texts=book,
            relationships=relationships,
        )
        rendered = renderer.render(MailKind.SUMMARY, m.language, context)
        previews.append(
            SummaryPreview(m.name, m.email, m.language, rendered.subject, rendered.text)
        )
    return previews


def _plan(items: list[ItemView]) -> list[ItemView]:
    """The plan's action items: each implementer's accommodations are in their own summary's
    part (the list of what they do), not the team's list or a calendar date."""
    return [i for i in items if i.kind is not ItemKind.ACCOMMODATION]


def _due_date(item: ItemView, book: Phrasebook, language: str, domain: str) -> DueDate:
    """The calendar event in the reader's language (as written, and labelled so, when it has none)."""
    title = book.shown(item.title, language)
    concern = book.shown(item.concern, language)
    return DueDate(
        f"iep-item-{item.id}@{domain}",
        title.text,
        item.due_on,
        concern.text,
        language=title.written_in or language,
    )
