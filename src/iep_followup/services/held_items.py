"""A held reply applied to an item the case manager picks, rather than to the items its key names.

The sender's words are read as a reply about that one item and recorded with the sender as
author, by the reply path's store function and domain transition. Only an item the reader may
see, and only one whose student's team the sender is on: an update must name the person who
wrote it. The decision is in the reply's log row and the desk's audit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from iep_followup.desk import Reader
from iep_followup.domain import UpdateSource
from iep_followup.errors import ValidationError
from iep_followup.inbound.grammar import ItemCommands
from iep_followup.inbound.outcome import InboundOutcome
from iep_followup.inbound.trim import trim_reply
from iep_followup.privacy import Access
from iep_followup.services import access, authority, desk
from iep_followup.services.ingest import update_of
from iep_followup.store import inbox, updates, web
from iep_followup.store.db import Session
from iep_followup.store.inbox import KnownPerson, Reading


class ReadOne(Protocol):
    """How a reply's words about one item are read (Ingestor.read_about_one_item)."""

    def __call__(self, kept: str, writer: KnownPerson, *, routine: bool) -> ItemCommands | None: ...


def apply_to_item(
    session: Session,
    reader: Reader,
    inbound_id: int,
    item_id: int,
    *,
    read: ReadOne,
    client: str,
    now: datetime,
    max_bytes: int,
) -> None:
    """Apply a held reply the reader may see to one of the reader's items, as its sender wrote it.

    NotFoundError when the reply is not one the reader may see (or no longer held);
    ValidationError, recording nothing, for an item not on the reader's caseload, a sender not
    on the item's team, or words that say nothing.
    """
    held = desk.held_reply(session, reader, inbound_id, max_bytes=max_bytes)
    item = web.visible_item(session, None, item_id)
    # Decided by the picked item's own student, whoever the reply is about.
    if (
        item is None
        or item.id is None
        or not authority.may_change(session, reader, item.student_id)
    ):
        raise ValidationError("pick one of the items listed on the page", field="item")
    sender_id = web.held_sender(session, inbound_id)
    sender = inbox.person(session, sender_id) if sender_id is not None else None
    if sender is None or web.team_member(session, item.student_id, sender.id) is None:
        raise ValidationError(
            "its sender is not on that student's team, so the update could not name who wrote "
            "it; pick an item of a student whose team they are on, or record it by hand",
            field="sender",
        )
    commands = read(held.kept_text, sender, routine=item.kind.has_periods)
    if commands is None:
        raise ValidationError("the reply has no words to apply; set it aside", field="empty")
    # Logged while it is still held: the log names the students it is held for.
    access.changed(
        session, reader, Access.CHANGED, inbound_id, detail="applied", client=client, now=now
    )
    # The reply path's rules: a refused change raises before anything changes.
    updates.apply_update(
        session,
        item,
        sender.id,
        update_of(commands),
        UpdateSource.EMAIL,
        now,
        inbound_id=inbound_id,
        understood=commands.understood,
    )
    reason = (
        f"applied to item {item.id} after review by {reader.email}, as written by "
        f"{sender.email} (was held: {held.reason})"
    )
    inbox.settle(
        session,
        inbound_id,
        outcome=InboundOutcome.APPLIED,
        reason=reason,
        reading=_reading(held.original),
        person_id=sender.id,
        released_at=now,
    )
    web.audit(
        session,
        now,
        "applied_to_item",
        actor=reader.email,
        client=client,
        subject=str(inbound_id),
        detail=f"item {item.id}, as written by {sender.email}",
    )


def _reading(original: str) -> Reading:
    """The words kept and cut away, as reading the reply when it came would have stored them."""
    trimmed = trim_reply(original)
    return Reading(trimmed.kept[:20_000], trimmed.removed[:100_000])
