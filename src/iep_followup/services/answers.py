"""One-tap answers: the page an answer link opens, and its one POST, recorded like an email reply.

The link's token (tokens.py) is checked the way a reply key is: signed for the request, its
owner and the expiry, and the item must still be that owner's. Showing the page changes
nothing (mail scanners open every link). Recording goes through the same store functions
and domain transition as a reply, in one transaction with an inbox row keyed by the form's
one-time nonce, so a second POST of the same form records nothing. No confirmation email:
the page itself says what was recorded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import col, select

from iep_followup.answers import TASK, Answer, answers_for, find_answer, update_for
from iep_followup.domain import ItemStatus, UpdateSource
from iep_followup.errors import ValidationError
from iep_followup.inbound.outcome import InboundOutcome
from iep_followup.store import inbox, texts, updates, web
from iep_followup.store.db import Session
from iep_followup.store.models import (
    ActionItem,
    InboundMessage,
    Person,
    RequestItem,
    Student,
    Update,
    UpdateRequest,
)
from iep_followup.tokens import answer_token_parts, verify_answer_token

# Answers sent in one window: by one owner (a therapist may answer fifty items in a sitting),
# and links that do not work, from one client.
ANSWERS_PER_OWNER = 100
REFUSALS_PER_CLIENT = 30
ANSWER_WINDOW = timedelta(minutes=15)
VIA = "web link"  # the inbox's `via` for answers given on the page
_NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")


@dataclass(frozen=True)
class AnswerPage:
    """What an answer link's page shows. Only `state` and `language` unless the link works.

    state: "ok", or why the link does not work: "invalid" (altered, unknown), "expired",
    "moved" (the item is someone else's now).
    """

    state: str
    language: str = "en"
    child: str = ""  # the student's first name
    ref: str = ""
    title: str = ""
    due_on: date | None = None
    choices: tuple[Answer, ...] = ()


@dataclass(frozen=True)
class AnswerOutcome:
    """What a POST did. state: "recorded", "already" (this form was sent before), "too_many",
    or a page state ("invalid", "expired", "moved"); `recorded` is the history entry, if any."""

    state: str
    page: AnswerPage
    status: ItemStatus | None = None
    due_on: date | None = None
    note: str | None = None


@dataclass
class _Found:
    request: UpdateRequest
    item: ActionItem
    owner: Person
    ref: str


def answer_page(session: Session, secret: str, token: str, now: datetime) -> AnswerPage:
    """The page for a link, read only."""
    found, state = _find(session, secret, token, now)
    if found is None:
        return AnswerPage(state)
    return _page(session, found)


def record_answer(
    session: Session,
    secret: str,
    token: str,
    *,
    choice: str,
    note: str,
    new_date: date | None,
    nonce: str,
    client: str,
    now: datetime,
) -> AnswerOutcome:
    """Record one answer given on the page, once per form (its nonce).

    Raises ValidationError, before anything is recorded, for a choice the item does not
    offer, a missing or refused date, or a note the domain refuses.
    """
    since = now - ANSWER_WINDOW
    found, state = _find(session, secret, token, now)
    if found is None or not _NONCE.fullmatch(nonce):
        state = "invalid" if found is not None else state
        # Only failures are counted per client, so a guesser never locks out the people
        # who share its address (a school's network, a proxy).
        if web.count_audit(session, "answer_refused", since, client=client) >= REFUSALS_PER_CLIENT:
            return AnswerOutcome("too_many", AnswerPage("too_many"))
        web.audit(session, now, "answer_refused", actor=None, client=client, detail=state)
        return AnswerOutcome(state, AnswerPage(state))
    owner = found.owner.email
    if web.count_audit(session, "answer", since, subject=owner) >= ANSWERS_PER_OWNER:
        return AnswerOutcome("too_many", AnswerPage("too_many"))
    web.audit(session, now, "answer", actor=owner, client=client, subject=owner)
    page = _page(session, found)
    key = f"web:{nonce}"
    earlier = inbox.find(session, key)
    if earlier is not None:
        return _already(session, earlier, page, found)
    answer = find_answer(TASK, choice)
    if answer is None:
        raise ValidationError("choose one of the answers", field="choice")
    change = update_for(answer, note=note, new_date=new_date)
    assert found.request.id is not None and found.owner.id is not None
    row = inbox.record(
        session,
        InboundMessage(
            message_key=key,
            received_at=now,
            via=VIA,
            from_address=found.owner.email,
            subject="",
            outcome=InboundOutcome.APPLIED,
            reason=f"answer link for {found.ref} of request {found.request.id}",
            request_id=found.request.id,
            person_id=found.owner.id,
            raw=b"",
            kept_text=change.note or "",
        ),
    )
    if row is None:  # the same form, sent twice at once: the other one recorded it
        raced = inbox.find(session, key)
        assert raced is not None
        return _already(session, raced, page, found)
    # The reply path's own store function and domain transition: same rules, same history.
    # A refused change raises before it changes anything; the caller's rollback drops the row.
    update = updates.apply_update(
        session,
        found.item,
        found.owner.id,
        change,
        UpdateSource.WEB_LINK,
        now,
        inbound_id=row.id,
    )
    return AnswerOutcome("recorded", page, update.status, update.due_on, update.note)


def _find(session: Session, secret: str, token: str, now: datetime) -> tuple[_Found | None, str]:
    """The request, item and owner a token names, or why it does not work."""
    parts = answer_token_parts(token)
    request = session.get(UpdateRequest, parts[0]) if parts else None
    if parts is None or request is None or request.id is None:
        return None, "invalid"
    if not verify_answer_token(secret, token, request.id, request.person_id, request.expires_at):
        return None, "invalid"
    if now > request.expires_at:
        return None, "expired"
    item = session.exec(
        select(ActionItem)
        .join(RequestItem, col(RequestItem.item_id) == ActionItem.id)
        .where(RequestItem.request_id == request.id, RequestItem.ref == parts[1])
    ).first()
    owner = session.get(Person, request.person_id)
    if item is None or owner is None:
        return None, "invalid"
    if item.owner_id != owner.id:
        return None, "moved"  # reassigned since the request: no longer theirs to answer
    return _Found(request, item, owner, parts[1]), "ok"


def _page(session: Session, found: _Found) -> AnswerPage:
    assert found.request.id is not None
    student = session.get(Student, found.item.student_id)
    name = student.name.split() if student else []
    title = texts.request_phrasebook(session, found.request.id).shown(
        found.item.title, found.owner.language
    )
    return AnswerPage(
        "ok",
        found.owner.language,
        child=name[0] if name else "",
        ref=found.ref,
        title=title.text,
        due_on=found.item.due_on,
        choices=answers_for(TASK),
    )


def _already(
    session: Session, earlier: InboundMessage, page: AnswerPage, found: _Found
) -> AnswerOutcome:
    """A form sent before: what it recorded then, when it was this item's; nothing new."""
    update = session.exec(
        select(Update).where(Update.inbound_id == earlier.id, Update.item_id == found.item.id)
    ).first()
    if update is None:
        return AnswerOutcome("already", page)
    return AnswerOutcome("already", page, update.status, update.due_on, update.note)
