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

from iep_followup.answers import Answer, answers_for, find_answer, recorded_choice, update_for
from iep_followup.domain import (
    ItemKind,
    ItemStatus,
    MissReason,
    UpdateSource,
    accepts_update,
    parse_enum,
)
from iep_followup.errors import ValidationError
from iep_followup.inbound.outcome import InboundOutcome
from iep_followup.store import answers, inbox, web
from iep_followup.store.answers import AnswerTarget, RecordedAnswer
from iep_followup.store.db import Session
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
    "moved" (the item is someone else's now), "closed" (done or dropped: it takes no answer).
    """

    state: str
    language: str = "en"
    child: str = ""  # the student's first name
    ref: str = ""
    title: str = ""
    due_on: date | None = None
    choices: tuple[Answer, ...] = ()
    minutes_per_week: int | None = None  # a routine with service minutes: the page asks how many


@dataclass(frozen=True)
class AnswerOutcome:
    """What a POST did. state: "recorded", "already" (this form was sent before), "too_many",
    or a page state ("invalid", "expired", "moved", "closed"); `recorded` is the history entry,
    if any."""

    state: str
    page: AnswerPage
    status: ItemStatus | None = None
    due_on: date | None = None
    note: str | None = None
    choice: str | None = None  # the button that recorded it ("stuck" for blocked)
    minutes: int | None = None


def answer_page(session: Session, secret: str, token: str, now: datetime) -> AnswerPage:
    """The page for a link, read only."""
    found, state = _find(session, secret, token, now)
    if found is None or state != "ok":
        return AnswerPage(state, found.owner_language if found else "en")
    return _page(found)


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
    minutes: int | None = None,
    missed: str | None = None,
) -> AnswerOutcome:
    """Record one answer given on the page, once per form (its nonce).

    Raises ValidationError, before anything is recorded, for a choice the item does not
    offer, a missing or refused date, minutes for an item that counts none or out of
    bounds, or a note the domain refuses.
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
    owner = found.owner_email
    if web.count_audit(session, "answer", since, subject=owner) >= ANSWERS_PER_OWNER:
        return AnswerOutcome("too_many", AnswerPage("too_many"))
    web.audit(session, now, "answer", actor=owner, client=client, subject=owner)
    page = _page(found)
    key = f"web:{nonce}"
    if (answered := _answered_before(session, key, found, state, page)) is not None:
        return answered
    answer = find_answer(found.kind.value, choice)
    if answer is None:
        raise ValidationError("choose one of the answers", field="choice")
    if minutes is not None and found.minutes_per_week is None:
        raise ValidationError("this item counts no minutes", field="minutes")
    if missed and found.minutes_per_week is None:
        raise ValidationError("this item has no sessions to miss", field="missed")
    why = parse_enum(MissReason, missed, "missed") if missed else None
    change = update_for(answer, note=note, new_date=new_date, minutes=minutes, missed=why)
    reason = f"answer link for {found.ref} of request {found.request_id}"
    inbound_id = inbox.record(
        session,
        inbox.NewInbound(
            message_key=key,
            received_at=now,
            via=VIA,
            from_address=owner,
            subject=f"answer link ({found.ref})",  # what the inbox log and the record show
            outcome=InboundOutcome.APPLIED,
            reason=reason,
            request_id=found.request_id,
            person_id=found.person_id,
            raw=b"",
        ),
    )
    if inbound_id is None:  # the same form, sent twice at once: the other one recorded it
        raced = inbox.find(session, key)
        assert raced is not None
        return _already(answers.recorded(session, raced.id, found.item_id), page)
    if change.note:  # shown with the update on the desk, as a reply's kept words are
        reading = inbox.Reading(kept_text=change.note, trimmed_away="")
        inbox.settle(
            session, inbound_id, outcome=InboundOutcome.APPLIED, reason=reason, reading=reading
        )
    # The reply path's store function and domain transition: same rules, same history.
    # A refused change raises before it changes anything; the caller's rollback drops the row.
    done = answers.record(
        session, found.item_id, change, owner_id=found.person_id, inbound_id=inbound_id, now=now
    )
    return _outcome("recorded", done, page)


def _answered_before(
    session: Session, key: str, found: AnswerTarget, state: str, page: AnswerPage
) -> AnswerOutcome | None:
    """What this form recorded when it was sent before; or, for a closed item, that it takes
    no new answer (checked second: the form that closed it still shows what it recorded)."""
    earlier = inbox.find(session, key)
    if earlier is not None:
        return _already(answers.recorded(session, earlier.id, found.item_id), page)
    if state == "closed":
        return AnswerOutcome(state, AnswerPage(state, found.owner_language))
    return None


def _find(
    session: Session, secret: str, token: str, now: datetime
) -> tuple[AnswerTarget | None, str]:
    """The item a token names, or why the link does not work; a closed item is found with
    the state "closed" (a form sent twice still shows what it recorded the first time)."""
    parts = answer_token_parts(token)
    found = answers.target(session, parts[0], parts[1]) if parts else None
    if found is None or not verify_answer_token(
        secret, token, found.request_id, found.person_id, found.expires_at
    ):
        return None, "invalid"
    if now > found.expires_at:
        return None, "expired"
    if found.item_owner_id != found.person_id:
        return None, "moved"  # reassigned since the request: no longer theirs to answer
    if not accepts_update(found.status, UpdateSource.WEB_LINK):
        return found, "closed"  # done or dropped since: only the case manager reopens it
    return found, "ok"


def _page(found: AnswerTarget) -> AnswerPage:
    name = found.student_name.split()
    return AnswerPage(
        "ok",
        found.owner_language,
        child=name[0] if name else "",
        ref=found.ref,
        title=found.title,
        due_on=found.due_on,
        choices=answers_for(found.kind.value),
        minutes_per_week=found.minutes_per_week if found.kind is ItemKind.ROUTINE else None,
    )


def _already(earlier: RecordedAnswer | None, page: AnswerPage) -> AnswerOutcome:
    """A form sent before: what it recorded then, when it was this item's; nothing new."""
    if earlier is None:
        return AnswerOutcome("already", page)
    return _outcome("already", earlier, page)


def _outcome(state: str, done: RecordedAnswer, page: AnswerPage) -> AnswerOutcome:
    return AnswerOutcome(
        state,
        page,
        done.status,
        done.due_on,
        done.note,
        recorded_choice(done.status, done.period),
        done.minutes,
    )
