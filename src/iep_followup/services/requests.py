"""Asking for updates: plan who is due, then write each request and its rendered email in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from iep_followup.errors import DatabaseError, IepFollowupError, loggable
from iep_followup.mail.contexts import request_context
from iep_followup.mail.kinds import MailKind
from iep_followup.planning import Ask, Decision, Remind, SendPolicy, Wait, local_now, plan_requests
from iep_followup.services.outgoing import Mailer
from iep_followup.store import asking, outbox, texts
from iep_followup.store.asking import SentRequest
from iep_followup.store.db import Database, Session
from iep_followup.tokens import make_reply_key
from iep_followup.translations import Phrasebook
from iep_followup.views import Contact, ItemDetail, PlannedLine, Recipient, RequestRun

log = logging.getLogger(__name__)

BATCH = 200  # owners per transaction: bounded memory, a few statements per batch


def run_requests(
    database: Database,
    mailer: Mailer,
    *,
    secret: str,
    now: datetime,
    policy: SendPolicy,
    default_timezone: str,
    key_ttl: timedelta,
    dry_run: bool = False,
) -> RequestRun:
    """Plan at `now` and queue every request and reminder that is due. Safe to run again.

    Owners go a batch at a time, one transaction each. A batch that fails for any reason
    but an unreachable database is run again one owner at a time, so one owner's bad data
    costs only that owner's request.
    """
    with database.transaction() as session:
        owner_ids = asking.owner_ids(session)
    run = RequestRun()

    def one_batch(ids: Sequence[int]) -> RequestRun:
        part = RequestRun()
        with database.transaction() as session:
            _plan_batch(
                session, mailer, ids, part, secret, now, policy, default_timezone, key_ttl, dry_run
            )
        return part

    # Planned and queued a batch of owners at a time: memory stays flat however large the district.
    for start in range(0, len(owner_ids), BATCH):
        batch_ids = owner_ids[start : start + BATCH]
        try:
            run.add(one_batch(batch_ids))
            continue
        except DatabaseError:
            raise
        except Exception as exc:
            log.warning(
                "a batch of requests failed (%s); trying its owners one by one", loggable(exc)
            )
        for person_id in batch_ids:
            try:
                run.add(one_batch([person_id]))
            except DatabaseError:
                raise
            except Exception as exc:
                run.failed += 1
                log.warning("request for person %s not queued: %s", person_id, loggable(exc))
    return run


def _plan_batch(
    session: Session,
    mailer: Mailer,
    owner_ids: Sequence[int],
    run: RequestRun,
    secret: str,
    now: datetime,
    policy: SendPolicy,
    default_timezone: str,
    key_ttl: timedelta,
    dry_run: bool,
) -> None:
    owners = asking.owner_states(session, default_timezone, owner_ids)
    batch = plan_requests(now, owners, policy)
    people = asking.recipients(session, [d.person_id for d in batch], default_timezone)
    for decision in batch:
        person = people[decision.person_id]
        action = (
            "wait"
            if isinstance(decision, Wait)
            else "ask"
            if isinstance(decision, Ask)
            else "remind"
        )
        count = len(decision.item_ids) if isinstance(decision, Ask) else 0
        run.lines.append(
            PlannedLine(person.person_id, person.name, person.email, action, decision.reason, count)
        )
    if dry_run:
        run.waiting += sum(isinstance(d, Wait) for d in batch)
        return
    _queue_batch(session, mailer, batch, people, run, secret=secret, now=now, key_ttl=key_ttl)


@dataclass(frozen=True)
class _Shown:
    """What a batch's emails show: the items, each student's strengths and case manager."""

    details: dict[int, ItemDetail]
    strengths: dict[int, list[str]]
    contacts: dict[int, Contact]
    book: Phrasebook  # the meeting texts in each reader's language


@dataclass(frozen=True)
class _Outgoing:
    """One request or reminder to write."""

    person: Recipient
    kind: MailKind
    request_id: int
    cycle_on: date
    expires_at: datetime
    refs: Sequence[tuple[str, int]]


def _queue_batch(
    session: Session,
    mailer: Mailer,
    batch: Sequence[Decision],
    people: dict[int, Recipient],
    run: RequestRun,
    *,
    secret: str,
    now: datetime,
    key_ttl: timedelta,
) -> None:
    found = asking.requests_with_refs(
        session, [d.request_id for d in batch if isinstance(d, Remind)]
    )
    reminders = {d.request_id: found.get(d.request_id) for d in batch if isinstance(d, Remind)}
    shown = _shown(session, batch, reminders)
    # New requests for the whole batch in two statements; an owner another run already asked
    # this cycle is left out.
    created = asking.create_requests(
        session,
        [
            (d.person_id, d.cycle_on, _ordered(d.item_ids, shown.details))
            for d in batch
            if isinstance(d, Ask)
        ],
        now,
        now + key_ttl,
    )
    messages: list[outbox.NewMessage] = []
    unsent: list[int] = []
    reminded: list[int] = []
    for decision in batch:
        if isinstance(decision, Wait):
            run.waiting += 1
            continue
        outgoing = _outgoing(decision, people[decision.person_id], created, reminders)
        if outgoing is None:  # another run got there first
            continue
        try:
            messages.append(_message(mailer, outgoing, shown, secret=secret, now=now))
        except (IepFollowupError, ValueError, KeyError) as exc:
            # Only this owner is skipped: their new request is taken back below.
            run.failed += 1
            log.warning("request for person %s not queued: %s", outgoing.person.person_id, exc)
            if outgoing.kind is MailKind.REQUEST:
                unsent.append(outgoing.request_id)
            continue
        if outgoing.kind is MailKind.REMINDER:
            reminded.append(outgoing.request_id)
            run.reminded += 1
        else:
            run.asked += 1
    asking.discard_requests(session, unsent)
    asking.mark_reminded(session, reminded, now)
    outbox.queue_many(session, messages)


def _shown(
    session: Session,
    batch: Sequence[Decision],
    reminders: dict[int, tuple[SentRequest, list[tuple[str, int]]] | None],
) -> _Shown:
    """Every item this batch shows, in one go (reminders reuse their request's items)."""
    item_ids = {i for d in batch if isinstance(d, Ask) for i in d.item_ids}
    item_ids |= {i for found in reminders.values() if found for _, i in found[1]}
    details = asking.item_details(session, sorted(item_ids))
    student_ids = sorted({d.student_id for d in details.values()})
    return _Shown(
        details,
        asking.strengths_by_student(session, student_ids),
        asking.case_managers(session, student_ids),
        texts.phrasebook(session, student_ids, sorted(details)),
    )


def _outgoing(
    decision: Ask | Remind,
    person: Recipient,
    created: dict[int, asking.NewRequest],
    reminders: dict[int, tuple[SentRequest, list[tuple[str, int]]] | None],
) -> _Outgoing | None:
    if isinstance(decision, Ask):
        new = created.get(decision.person_id)
        if new is None:
            return None
        return _Outgoing(person, MailKind.REQUEST, new.id, new.cycle_on, new.expires_at, new.refs)
    found = reminders.get(decision.request_id)
    if found is None:
        return None
    request, refs = found
    return _Outgoing(
        person, MailKind.REMINDER, request.id, request.cycle_on, request.expires_at, refs
    )


def _message(
    mailer: Mailer, outgoing: _Outgoing, shown: _Shown, *, secret: str, now: datetime
) -> outbox.NewMessage:
    person = outgoing.person
    context = request_context(
        person,
        outgoing.refs,
        shown.details,
        shown.strengths,
        shown.contacts,
        today=local_now(now, person.timezone).date(),
        rotation=outgoing.request_id,
        reminder=outgoing.kind is MailKind.REMINDER,
        texts=shown.book,
    )
    return mailer.message(
        outgoing.kind,
        f"{outgoing.kind.value}:{person.person_id}:{outgoing.cycle_on.isoformat()}",
        to=person,
        context=context,
        now=now,
        key=make_reply_key(secret, outgoing.request_id, person.person_id, outgoing.expires_at),
        request_id=outgoing.request_id,
    )


def _ordered(item_ids: Sequence[int], details: dict[int, ItemDetail]) -> list[int]:
    """A1, A2, ... grouped by student, soonest due first: the order the email shows them."""
    return sorted(
        item_ids,
        key=lambda i: (details[i].student_name, details[i].student_id, details[i].due_on, i),
    )
