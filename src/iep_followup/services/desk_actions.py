"""The student page's changes: an item reassigned, rescheduled, closed or dropped, a team member's
address cleared or away-until set. Each checks the reader may see the student, goes through the
same rules as every other front end (the domain's `transition`, via store.updates), and is audited."""

from __future__ import annotations

from datetime import date, datetime

from iep_followup.desk import (
    ItemAction,
    ItemChange,
    MemberAction,
    MemberChange,
    OwnerReport,
    Reader,
    Use,
    owner_update,
)
from iep_followup.domain import ItemStatus, UpdateInput, UpdateSource, check_note
from iep_followup.errors import NotFoundError, ValidationError
from iep_followup.privacy import Access
from iep_followup.services import access, authority
from iep_followup.store import people, updates, web
from iep_followup.store.db import Session

MAX_REASON = 500


def _reason(text: str) -> str:
    reason = check_note(" ".join(text.split()), "reason", max_length=MAX_REASON)
    if not reason:
        raise ValidationError("write why, in a few words", field="reason")
    return reason


def _author_id(session: Session, reader: Reader) -> int | None:
    """The reader as a person on some team (an administrator may be on none)."""
    known = web.person_name_language(session, reader.email)
    return known[0] if known else None


def _audit(
    session: Session,
    reader: Reader,
    action: str,
    external_id: str,
    detail: str,
    client: str,
    now: datetime,
) -> None:
    web.audit(
        session, now, action, actor=reader.email, client=client, subject=external_id, detail=detail
    )
    access.change(session, reader, action, external_id, client=client, now=now)


def change_item(
    session: Session,
    reader: Reader,
    external_id: str,
    item_id: int,
    action: ItemAction,
    *,
    client: str,
    now: datetime,
) -> None:
    """Apply one change to one of the student's items, with its reason, and audit it."""
    student_id = authority.student_id(session, reader, external_id)
    item = web.student_item(session, student_id, item_id)
    if item is None:
        raise NotFoundError(f"no action item {item_id} for this student")
    reason = _reason(action.reason)
    author_id = _author_id(session, reader)
    if action.change is ItemChange.REASSIGN:
        owner = web.team_member(session, student_id, action.owner_id or 0)
        if owner is None:
            raise ValidationError("pick someone on this student's team", field="owner")
        row = updates.reassign(session, item, owner, author_id, UpdateSource.WEB, now)
        row.note = f"{row.note} {reason}"
        detail = f"to {owner.email}"
    else:
        update = _update(action, reason)
        updates.apply_update(session, item, author_id, update, UpdateSource.WEB, now)
        detail = f"due {update.due_on}" if update.due_on else ""
    said = f"item {item_id} {detail}".rstrip()
    _audit(
        session,
        reader,
        f"item_{action.change.value}",
        external_id,
        f"{said}: {reason}",
        client,
        now,
    )


def _update(action: ItemAction, reason: str) -> UpdateInput:
    if action.change is ItemChange.REOPEN:
        # Under way again: its owner's replies and answer links change it from now on.
        return UpdateInput(status=ItemStatus.IN_PROGRESS, note=reason)
    if action.change is ItemChange.RESCHEDULE:
        if action.due_on is None:
            raise ValidationError("give the new due date", field="due_on")
        return UpdateInput(due_on=action.due_on, note=reason)
    status = ItemStatus.DROPPED if action.change is ItemChange.DROP else ItemStatus.DONE
    return UpdateInput(status=status, note=reason)


def change_member(
    session: Session,
    reader: Reader,
    external_id: str,
    person_id: int,
    action: MemberAction,
    *,
    client: str,
    today: date,
    now: datetime,
) -> None:
    """Clear a team member's failing address, or set when they are away until; audited."""
    student_id = authority.student_id(session, reader, external_id)
    person = web.team_member(session, student_id, person_id)
    if person is None:
        raise NotFoundError(f"nobody {person_id} on this student's team")
    if action.change is MemberChange.CLEAR_FAILING:
        cleared = people.clear_failing(
            session, [person_id], reason=f"cleared by hand by {reader.email}", source="web", now=now
        )
        detail = "address works again" if cleared else "address was not failing"
    else:
        if action.away_until is not None and action.away_until < today:
            raise ValidationError("that day has passed", field="away_until")
        web.set_away_until(session, student_id, person_id, action.away_until)
        detail = f"away until {action.away_until}" if action.away_until else "back"
    _audit(
        session,
        reader,
        f"member_{action.change.value}",
        external_id,
        f"{person.email}: {detail}",
        client,
        now,
    )


def dismiss_held(
    session: Session,
    reader: Reader,
    inbound_id: int,
    *,
    reason: str,
    client: str,
    now: datetime,
) -> None:
    """Set aside a held reply the reader may see, without applying it; who and why are audited."""
    why = " ".join(reason.split())[:500]
    authority.held(session, reader, inbound_id, Use.CHANGE)  # 404 when not theirs
    # Logged while it is still held: the log names the students it is held for.
    access.changed(
        session, reader, Access.CHANGED, inbound_id, detail="dismissed", client=client, now=now
    )
    said = f": {why}" if why else ""
    web.dismiss_held(session, inbound_id, f"dismissed by {reader.email}{said}", now)
    web.audit(
        session,
        now,
        "dismissed",
        actor=reader.email,
        client=client,
        subject=str(inbound_id),
        detail=why,
    )


def record_for_owner(
    session: Session,
    reader: Reader,
    external_id: str,
    item_id: int,
    report: OwnerReport,
    *,
    client: str,
    now: datetime,
) -> None:
    """Record what an item's owner told the case manager, as the owner's update (author: the
    owner; channel: the desk), through the same rules as a reply; who entered it is audited."""
    student_id = authority.student_id(session, reader, external_id)
    item = web.student_item(session, student_id, item_id)
    if item is None:
        raise NotFoundError(f"no action item {item_id} for this student")
    update = owner_update(report)
    updates.apply_update(session, item, item.owner_id, update, UpdateSource.WEB, now)
    said = ", ".join(
        f"{name} {value}"
        for name, value in (
            ("period", update.period),
            ("minutes", update.minutes),
            ("percent", update.percent),
            ("status", update.status),
            ("due", update.due_on),
        )
        if value is not None
    )
    _audit(
        session,
        reader,
        "item_recorded_for_owner",
        external_id,
        f"item {item_id} for its owner (entered by {reader.email}): {said or 'a note'}",
        client,
        now,
    )
