"""What each email template receives. Pure: plain data in, plain dicts out."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

from iep_followup.answers import ACCOMMODATION, ROUTINE, TASK, answers_for
from iep_followup.digest import Attention, AttentionKind, Digest, Load
from iep_followup.domain import Cadence, ItemKind, Relationship, Role
from iep_followup.mail.labels import ANSWER_LABELS, terms_in
from iep_followup.translations import Phrasebook
from iep_followup.views import (
    AccommodationUse,
    Contact,
    ItemDetail,
    MinutesWeek,
    Recipient,
    RoutineRecord,
)

NO_VERSIONS = Phrasebook()


class MeetingWords:
    """Shows a meeting's free texts in the reader's language, noting any that have no version.

    Each text becomes {"text", "written_in"}; `written_in` is set (the language the text is
    shown in) only when the reader's language has no version, and the templates mark it.
    """

    def __init__(self, book: Phrasebook, language: str) -> None:
        self.book = book
        self.language = language
        self.missing: str | None = None  # the language of the first text shown untranslated

    def __call__(self, text: str) -> dict[str, str | None]:
        shown = self.book.shown(text, self.language)
        self.missing = self.missing or shown.written_in
        return {"text": shown.text, "written_in": shown.written_in}


def contact_list(contacts: Sequence[Contact], recipient_email: str) -> list[dict[str, str]]:
    """Who to ask: the case managers of the recipient's students (not the recipient)."""
    seen = {c.email: c for c in contacts if c.email != recipient_email}
    return [{"name": c.name, "email": c.email} for c in seen.values()]


def request_context(
    recipient: Recipient,
    refs: Sequence[tuple[str, int]],
    details: Mapping[int, ItemDetail],
    strengths: Mapping[int, Sequence[str]],
    contacts: Mapping[int, Contact],
    *,
    today: date,
    rotation: int,
    reminder: bool,
    texts: Phrasebook = NO_VERSIONS,
) -> dict[str, Any]:
    """Items grouped by student, each student opening with one of their strengths."""
    said = MeetingWords(texts, recipient.language)
    by_student: dict[int, list[dict[str, Any]]] = {}
    names: dict[int, str] = {}
    for ref, item_id in refs:
        item = details[item_id]
        names[item.student_id] = item.student_name
        by_student.setdefault(item.student_id, []).append(
            {
                "ref": ref,
                "title": said(item.title),
                "due_on": item.due_on,
                "overdue": item.due_on < today and not item.status.is_closed,
                "status": item.status,
                "percent": item.percent,
                "routine": item.kind.has_periods,
                "accommodation": item.kind is ItemKind.ACCOMMODATION,
                "cadence": item.cadence.value,
                "minutes_per_week": item.minutes_per_week,
                "last": None
                if item.last is None
                else {
                    "at": item.last.at,
                    "status": item.last.status,
                    "percent": item.last.percent,
                    "note": item.last.note,
                    "period": item.last.period.value if item.last.period else None,
                    "minutes": item.last.minutes,
                    "cadence": item.cadence.value,
                },
            }
        )
    students = []
    for student_id, items in by_student.items():
        told = strengths.get(student_id, [])
        students.append(
            {
                "name": names[student_id],
                "strength": said(told[rotation % len(told)]) if told else None,
                "actions": items,
            }
        )
    who = contact_list([contacts[s] for s in by_student if s in contacts], recipient.email)
    words = [details[i].title for _, i in refs] + [details[i].concern for _, i in refs]
    return {
        "recipient": {"name": recipient.name},
        "students": students,
        "refs": [ref for ref, _ in refs],
        # "How to answer" shows examples for the kinds of item this reader has: a routine is
        # answered yes / partly / no, a task done / 50% / blocked.
        "task_refs": [ref for ref, i in refs if not details[i].kind.has_periods],
        "routine_refs": [ref for ref, i in refs if details[i].kind is ItemKind.ROUTINE],
        # An accommodation is answered yes / no / didn't come up.
        "accommodation_refs": [ref for ref, i in refs if details[i].kind is ItemKind.ACCOMMODATION],
        "reminder": reminder,
        "contacts": who,
        "glossary": terms_in(*words, "case manager" if who else "") if recipient.is_family else [],
        "untranslated": said.missing,
    }


def with_answer_links(
    context: Mapping[str, Any], base_url: str, token_for: Callable[[str], str]
) -> dict[str, Any]:
    """A request's context with each item's one-tap answer links (`token_for(ref)` signs one).

    Each item gets `answer_url` (the page) and `answers` (one button per choice, with its
    label's message id); a context without them renders exactly as before.
    """
    students = [
        {
            **student,
            "actions": [
                _with_answers(item, f"{base_url}/answer/{token_for(item['ref'])}")
                for item in student["actions"]
            ],
        }
        for student in context["students"]
    ]
    return {**context, "students": students, "answer_links": True}


def _with_answers(item: Mapping[str, Any], url: str) -> dict[str, Any]:
    kind = ACCOMMODATION if item.get("accommodation") else ROUTINE if item.get("routine") else TASK
    choices = answers_for(kind)
    return {
        **item,
        "answer_url": url,
        "answers": [
            {"label": ANSWER_LABELS[a.choice], "url": f"{url}?choice={a.choice}"} for a in choices
        ],
    }


def summary_context(
    recipient: Recipient,
    recipient_role: Role,
    *,
    student_name: str,
    held_on: date,
    strengths: Sequence[str],
    team: Sequence[tuple[str, str, Role, list[str]]],
    my_items: Sequence[tuple[str, date, Cadence, str, ItemKind, int | None]],
    contact: Contact | None,
    texts: Phrasebook = NO_VERSIONS,
    relationships: Mapping[str, Relationship] | None = None,
) -> dict[str, Any]:
    """`team` is (name, email, role, their item titles); `my_items` (title, due, cadence, concern,
    kind: a routine's date is the day it ends, not a deadline; service minutes a week, if any).

    `relationships` (by email) name family members as recorded ("mother"). A family member's
    email lists only the members who have a part: who has none yet is the staff's business.
    """
    said = MeetingWords(texts, recipient.language)
    words = [title for _, _, _, titles in team for title in titles] + [
        role.value for _, _, role, _ in team
    ]
    related = relationships or {}
    return {
        "recipient": {"name": recipient.name, "role": recipient_role},
        "student": {"name": student_name},
        "meeting": {"held_on": held_on},
        "strengths": [said(s) for s in strengths],
        "my_items": [
            {
                "title": said(t),
                "due_on": d,
                "cadence": c.value,
                "concern": said(k),
                "routine": kind.has_periods,
                "minutes_per_week": minutes,
            }
            for t, d, c, k, kind, minutes in my_items
        ],
        "team": [
            {
                "name": n,
                "role": r,
                "relationship": related.get(email),
                "parts": [said(t) for t in titles],
            }
            for n, email, r, titles in team
            if titles or not recipient_role.is_family
        ],
        "contacts": contact_list([contact] if contact else [], recipient.email),
        "glossary": terms_in(*words) if recipient_role.is_family else [],
        "untranslated": said.missing,
    }


def confirmation_texts(
    changes: Sequence[Mapping[str, Any]],
    texts: Phrasebook,
    language: str,
    unanswered: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The confirmation's item titles in the reader's language: its `changes`, the items it
    got no answer for (`unanswered`) and `untranslated`."""
    said = MeetingWords(texts, language)
    shown = [{**change, "title": said(change["title"])} for change in changes]
    missing = [{**item, "title": said(item["title"])} for item in unanswered]
    return {"changes": shown, "unanswered": missing, "untranslated": said.missing}


def with_unanswered_links(
    context: Mapping[str, Any], base_url: str, token_for: Callable[[str], str]
) -> dict[str, Any]:
    """A confirmation's context with one-tap answers for the items its reply did not answer."""
    items = context.get("unanswered") or []
    if not items:
        return dict(context)
    shown = [_with_answers(item, f"{base_url}/answer/{token_for(item['ref'])}") for item in items]
    return {**context, "unanswered": shown, "answer_links": True}


def _accommodations(uses: Sequence[AccommodationUse], said: MeetingWords) -> list[dict[str, Any]]:
    """Per accommodation, each implementer's weeks with it."""
    grouped: dict[str, list[AccommodationUse]] = {}
    for use in uses:
        grouped.setdefault(use.key, []).append(use)
    return [
        {
            "title": said(found[0].text),
            "uses": [
                {
                    "who": u.implementer_name,
                    "used": u.weeks.used,
                    "not_used": u.weeks.not_used,
                    "not_applicable": u.weeks.not_applicable,
                    "no_answer": u.weeks.no_answer,
                    "weeks": u.weeks.used
                    + u.weeks.not_used
                    + u.weeks.not_applicable
                    + u.weeks.no_answer,
                    "reasons": list(u.weeks.reasons),
                }
                for u in found
            ],
        }
        for found in grouped.values()
    ]


def digest_context(
    digest: Digest, texts: Phrasebook = NO_VERSIONS, *, web_url: str | None = None
) -> dict[str, Any]:
    """The digest as the templates show it: attention first, then students, team, load, momentum.

    A held reply's next step is a link to its page on the desk when `web_url` is given, else
    the command that prints it.
    """
    said = MeetingWords(texts, digest.case_manager.language)
    widest = max((load.open_items for load in digest.load_by_person), default=0) or 1
    change = None
    if digest.previous_classroom_share is not None:
        change = round((digest.classroom_share - digest.previous_classroom_share) * 100)
    m = digest.momentum
    return {
        "recipient": {"name": digest.case_manager.name},
        "period": {"start": digest.period_start, "last": digest.period_end - timedelta(days=1)},
        "quiet": digest.quiet,
        "attention": [_attention(a, said, web_url) for a in digest.attention],
        "no_part": _no_part(digest),
        "students": [
            {
                "name": s.name,
                "strength": said(s.strength) if s.strength else None,
                "rows": [
                    {
                        "title": said(i.title),
                        "owner": i.owner_name,
                        "role": i.owner_role,
                        "due_on": i.due_on,
                        "status": i.status,
                        "percent": i.percent,
                        "last_at": i.last_update_at,
                        "overdue": i.is_overdue(digest.as_of),
                        "routine": i.kind is ItemKind.ROUTINE,
                        "record": _record(s.routines.get(i.id)),
                        "minutes": [
                            _minutes(w) for m in s.minutes if m.item_id == i.id for w in m.weeks
                        ],
                    }
                    for i in s.items
                    # Accommodations have their own lines below: their weeks, not a status.
                    if i.kind is not ItemKind.ACCOMMODATION
                ],
                "minutes": [_minutes(w) for w in s.minutes_total],
                "accommodations": _accommodations(s.accommodations, said),
                "updates": [
                    {
                        "at": u.at,
                        "author": u.author,
                        "title": said(next((i.title for i in s.items if i.id == u.item_id), "")),
                        "status": u.status,
                        "percent": u.percent,
                        "due_on": u.due_on,
                        "note": u.note,
                        "understood": u.understood,
                        "period": u.period.value if u.period else None,
                        "minutes": u.minutes,
                        "cadence": next(
                            (i.cadence.value for i in s.items if i.id == u.item_id), "weekly"
                        ),
                    }
                    for u in s.updates
                ],
                "notes": [{"author": author, "text": text} for author, text in s.notes],
            }
            for s in digest.students
        ],
        "load_people": [_bar(load, widest) for load in digest.load_by_person],
        "load_roles": [
            _bar(load, max((r.open_items for r in digest.load_by_role), default=1) or 1)
            for load in digest.load_by_role
        ],
        "classroom_share": digest.classroom_share,
        "classroom_change": change,
        "momentum": {
            "closed": m.closed,
            "closed_previous": m.closed_previous,
            "requests": m.requests,
            "replies": m.replies,
            "rate": m.response_rate,
            "rate_previous": m.response_rate_previous,
        },
        "untranslated": said.missing,
    }


def _attention(a: Attention, said: MeetingWords, web_url: str | None) -> dict[str, Any]:
    shown = {
        **dataclasses.asdict(a),
        "title": said(a.title) if a.title else None,
        "titles": [said(t) for t in a.titles],
        "link": None,
        "command": None,
    }
    base = web_url.rstrip("/") if web_url else None
    if a.kind is AttentionKind.HELD:
        if base:
            shown["link"] = f"{base}/held/{a.inbound_id}"
        else:
            shown["command"] = f"iep-followup inbox show {a.inbound_id}"
    elif base and a.student_ids:
        # The student's page on the desk, where each of these is acted on (an address too).
        shown["link"] = f"{base}/students/{quote(a.student_ids[0], safe='')}"
    elif a.kind is AttentionKind.BOUNCING:
        shown["command"] = f"iep-followup person clear-failing {a.email}"
    return shown


def _record(record: RoutineRecord | None) -> dict[str, Any] | None:
    """How a routine is going, as "5 of the last 6 weeks": its periods named by its cadence."""
    if record is None:
        return None
    return {"kept": record.kept, "periods": record.periods, "cadence": record.cadence.value}


def _minutes(week: MinutesWeek) -> dict[str, Any]:
    return {
        "week_of": week.week_of,
        "delivered": week.delivered,
        "promised": week.promised,
        "report": week.report.value,
    }


def _no_part(digest: Digest) -> list[dict[str, Any]]:
    """Per student, the members who have no part yet: one short line each."""
    by_student: dict[str, list[dict[str, Any]]] = {}
    for gap in digest.no_part:
        by_student.setdefault(gap.student, []).append({"name": gap.name, "role": gap.role})
    return [{"student": student, "members": members} for student, members in by_student.items()]


def _bar(load: Load, widest: int) -> dict[str, Any]:
    return {
        "label": load.label,
        "role": load.role,
        "open": load.open_items,
        "share": load.share,
        # Table-cell bars: a width in percent renders in every mail client, no images needed.
        "width": round(100 * load.open_items / widest),
        "blocks": "█" * load.open_items,
    }
