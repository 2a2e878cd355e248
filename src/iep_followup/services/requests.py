"""Asking for updates: plan who is due, then write each request and its rendered email in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from iep_followup.errors import DatabaseError, IepFollowupError, loggable
from iep_followup.mail.contexts import request_context
from iep_followup.mail.kinds import MailKind
from iep_followup.planning import Ask, Decision, Remind, SendPolicy, Wait, local_now, plan_requests
from iep_followup.services.outgoing import Mailer
from iep_followup.store import asking, outbox, texts
from iep_followup.store.db import Database, Session
from iep_followup.store.models import UpdateRequest
from iep_followup.tokens import make_reply_key
from iep_followup.views import ItemDetail, Recipient

log = logging.getLogger(__name__)

BATCH = 200  # owners per transaction: bounded memory, a few statements per batch


@dataclass(frozen=True)
class PlannedLine:
    person_id: int
    name: str
    email: str
    action: str  # "ask", "remind" or "wait"
    reason: str
    items: int = 0


@dataclass
class RequestRun:
    asked: int = 0
    reminded: int = 0
    waiting: int = 0
    failed: int = 0
    lines: list[PlannedLine] = field(default_factory=list)

    def add(self, other: RequestRun) -> None:
        self.asked += other.asked
        self.reminded += other.reminded
        self.waiting += other.waiting
        self.failed += other.failed
        self.lines.extend(other.lines)


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
    # Reminders reuse their request's items; fetch every item this batch shows in one go.
    reminders = {
        d.request_id: asking.request_with_refs(session, d.request_id)
        for d in batch
        if isinstance(d, Remind)
    }
    item_ids = {i for d in batch if isinstance(d, Ask) for i in d.item_ids}
    item_ids |= {i for found in reminders.values() if found for _, i in found[1]}
    details = asking.item_details(session, sorted(item_ids))
    student_ids = sorted({d.student_id for d in details.values()})
    strengths = asking.strengths_by_student(session, student_ids)
    contacts = asking.case_managers(session, student_ids)
    book = texts.phrasebook(session, student_ids)

    # New requests for the whole batch in two statements; an owner another run already asked
    # this cycle is left out.
    asks = [d for d in batch if isinstance(d, Ask)]
    created = asking.create_requests(
        session,
        [(d.person_id, d.cycle_on, _ordered(d.item_ids, details)) for d in asks],
        now,
        now + key_ttl,
    )
    messages: list[outbox.NewMessage] = []
    unsent: list[int] = []
    for decision in batch:
        if isinstance(decision, Wait):
            run.waiting += 1
            continue
        person = people[decision.person_id]
        reminded: UpdateRequest | None = None
        if isinstance(decision, Ask):
            new = created.get(decision.person_id)
            if new is None:  # another run got there first
                continue
            request_id, cycle_on, expires_at, refs = new.id, new.cycle_on, new.expires_at, new.refs
            kind = MailKind.REQUEST
        else:
            found = reminders.get(decision.request_id)
            if found is None:
                continue
            reminded, refs = found
            assert reminded.id is not None
            request_id, cycle_on, expires_at = reminded.id, reminded.cycle_on, reminded.expires_at
            kind = MailKind.REMINDER
        try:
            context = request_context(
                person,
                refs,
                details,
                strengths,
                contacts,
                today=local_now(now, person.timezone).date(),
                rotation=request_id,
                reminder=reminded is not None,
                texts=book,
            )
            messages.append(
                mailer.message(
                    kind,
                    f"{kind.value}:{person.person_id}:{cycle_on.isoformat()}",
                    to=person,
                    context=context,
                    now=now,
                    key=make_reply_key(secret, request_id, person.person_id, expires_at),
                    request_id=request_id,
                )
            )
        except (IepFollowupError, ValueError, KeyError) as exc:
            # Only this owner is skipped: their new request is taken back below.
            run.failed += 1
            log.warning("request for person %s not queued: %s", person.person_id, exc)
            if reminded is None:
                unsent.append(request_id)
            continue
        if reminded is not None:
            reminded.reminded_at = now
            run.reminded += 1
        else:
            run.asked += 1
    asking.discard_requests(session, unsent)
    outbox.queue_many(session, messages)


def _ordered(item_ids: Sequence[int], details: dict[int, ItemDetail]) -> list[int]:
    """A1, A2, ... grouped by student, soonest due first: the order the email shows them."""
    return sorted(
        item_ids,
        key=lambda i: (details[i].student_name, details[i].student_id, details[i].due_on, i),
    )
