"""A reply's updates in as few statements as they can take, without the ORM.

Its request's items are read in one query; what the reply does to them is worked out in pure
code (domain.moved, the rules every update follows); then each table is written once: the
items that moved, their history rows, the requests the reply answers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlmodel import Session

from iep_followup.domain import (
    Cadence,
    ItemProgress,
    ItemStatus,
    MissReason,
    PeriodOutcome,
    Translations,
    UpdateInput,
    UpdateSource,
    moved,
)
from iep_followup.errors import ItemClosedError, ValidationError
from iep_followup.store.models import ActionItem, Meeting, RequestItem, Student, Update, table_of
from iep_followup.store.updates import mark_answered
from iep_followup.translations import MeetingText, Phrasebook

_PROGRESS = tuple(f.name for f in dataclasses.fields(ItemProgress))


_ITEM, _HISTORY = table_of(ActionItem), table_of(Update)
_ASKED, _STUDENT, _MEETING = table_of(RequestItem), table_of(Student), table_of(Meeting)


@dataclass(frozen=True)
class AskedItem:
    """One line of an update request, with what applying an update to its item needs."""

    ref: str  # "A1", as the request's email showed it
    item_id: int
    title: str
    student_name: str
    cadence: Cadence
    meeting_date: date  # no due date before it
    language: str  # the meeting's, which the title is written in
    translations: Translations  # the title in other languages
    progress: ItemProgress
    student_id: int = 0  # whose case manager follows up a blocker


@dataclass(frozen=True)
class ReplyUpdate:
    """One item's update read from a reply."""

    item_id: int
    change: UpdateInput
    understood: bool = False


@dataclass(frozen=True)
class RecordedUpdate:
    """What one history row says, including what the rules derived (100% -> done)."""

    item_id: int
    title: str
    student_name: str
    status: ItemStatus | None
    percent: int | None
    due_on: date | None
    note: str | None
    understood: bool
    period: PeriodOutcome | None = None  # a routine's answer for this period
    minutes: int | None = None
    cadence: Cadence = Cadence.WEEKLY
    missed: MissReason | None = None  # a service's missed session
    missed_minutes: int | None = None
    makeup: bool = False


@dataclass(frozen=True)
class RefusedUpdate:
    item_id: int
    reason: str
    closed: bool = False  # the item is done or dropped: a reply cannot change it


@dataclass(frozen=True)
class WorkedOut:
    """A reply's updates before anything is written: each one's outcome and the items' new states."""

    outcomes: list[RecordedUpdate | RefusedUpdate | None]  # None: no such item asked about
    states: dict[int, ItemProgress]  # the items that moved, as they end up


def asked_items(session: Session, request_id: int) -> list[AskedItem]:
    """A request's lines, in the order its email showed them, with their items. One query."""
    return [
        AskedItem(
            ref=row[0],
            item_id=row[1],
            title=row[2],
            student_name=row[3],
            cadence=row[4],
            meeting_date=row[5],
            language=row[6],
            translations=Translations(row[7] or {}),
            progress=ItemProgress(**dict(zip(_PROGRESS, row[9:], strict=True))),
            student_id=row[8],
        )
        for row in session.connection().execute(_ASKED_ITEMS, {"request_id": request_id})
    ]


# Built once: a statement is worth building per reply only when its shape changes.
_ASKED_ITEMS = (
    select(
        _ASKED.c.ref,
        _ITEM.c.id,
        _ITEM.c.title,
        _STUDENT.c.name,
        _ITEM.c.cadence,
        _MEETING.c.held_on,
        _MEETING.c.language,
        _ITEM.c.translations,
        _ITEM.c.student_id,
        *(_ITEM.c[name] for name in _PROGRESS),
    )
    .join(_ITEM, _ITEM.c.id == _ASKED.c.item_id)
    .join(_STUDENT, _STUDENT.c.id == _ITEM.c.student_id)
    .join(_MEETING, _MEETING.c.id == _ITEM.c.meeting_id)
    .where(_ASKED.c.request_id == bindparam("request_id"))
    .order_by(_ASKED.c.id)
)


def phrasebook(items: Sequence[AskedItem]) -> Phrasebook:
    """The items' titles with their versions in other languages, for the confirmation."""
    return Phrasebook({i.title: MeetingText(i.title, i.language, i.translations) for i in items})


def work_out(items: Sequence[AskedItem], wanted: Sequence[ReplyUpdate], now: datetime) -> WorkedOut:
    """What a reply's updates do, in order, by the rules of domain.moved. Pure: writes nothing.

    A refused update changes nothing and the ones after it still apply; two updates of one
    item apply one after the other.
    """
    found = {i.item_id: i for i in items}
    states: dict[int, ItemProgress] = {}
    outcomes: list[RecordedUpdate | RefusedUpdate | None] = []
    for want in wanted:
        item = found.get(want.item_id)
        if item is None:
            outcomes.append(None)
            continue
        before = states.get(item.item_id, item.progress)
        try:
            after, said = moved(
                before,
                want.change,
                now=now,
                meeting_date=item.meeting_date,
                source=UpdateSource.EMAIL,
            )
        except ValidationError as exc:
            closed = isinstance(exc, ItemClosedError)
            outcomes.append(RefusedUpdate(want.item_id, str(exc), closed))
            continue
        states[item.item_id] = after
        outcomes.append(
            RecordedUpdate(
                item.item_id,
                item.title,
                item.student_name,
                said.status,
                said.percent,
                said.due_on,
                said.note,
                want.understood,
                said.period,
                said.minutes,
                item.cadence,
                said.missed,
                said.missed_minutes,
                said.makeup,
            )
        )
    unmoved = {i.item_id for i in items if states.get(i.item_id) == i.progress}
    return WorkedOut(outcomes, {k: v for k, v in states.items() if k not in unmoved})


def write(
    session: Session,
    worked: WorkedOut,
    *,
    request_id: int | None,
    author_id: int | None,
    owner_id: int,
    inbound_id: int,
    now: datetime,
) -> None:
    """Write what `work_out` found: one statement per table (items, history, requests).

    `request_id`: the request the reply answers, marked answered even when nothing changed;
    any other open request of the owner's that asked about a changed item is answered too.
    """
    connection = session.connection()
    if worked.states:
        connection.execute(_MOVE, [_moved_row(k, v) for k, v in worked.states.items()])
    recorded = [o for o in worked.outcomes if isinstance(o, RecordedUpdate)]
    if recorded:
        rows = [_history_row(r, author_id, inbound_id, now) for r in recorded]
        connection.execute(insert(_HISTORY), rows)
    mark_answered(session, [r.item_id for r in recorded], owner_id, now, request_id=request_id)


# Every moved item's state by name, as apply_update sets it on an ORM item.
_MOVE = (
    update(_ITEM)
    .where(_ITEM.c.id == bindparam("moved_id"))
    .values({name: bindparam(f"new_{name}", type_=_ITEM.c[name].type) for name in _PROGRESS})
)


def _moved_row(item_id: int, state: ItemProgress) -> Mapping[str, Any]:
    return {"moved_id": item_id} | {
        f"new_{name}": value for name, value in vars(state).items()
    }  # vars, not asdict: a flat value needs no deep copy


def _history_row(
    recorded: RecordedUpdate, author_id: int | None, inbound_id: int, now: datetime
) -> dict[str, Any]:
    return {
        "item_id": recorded.item_id,
        "author_id": author_id,
        "created_at": now,
        "status": recorded.status,
        "percent": recorded.percent,
        "due_on": recorded.due_on,
        "note": recorded.note,
        "source": UpdateSource.EMAIL,
        "inbound_id": inbound_id,
        "understood": recorded.understood,
        "period": recorded.period,
        "minutes": recorded.minutes,
        "missed_reason": recorded.missed,
        "missed_minutes": recorded.missed_minutes,
        "makeup": recorded.makeup,
    }
