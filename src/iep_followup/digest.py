"""What a case manager's digest says: pure, from plain data loaded elsewhere, with `now` passed in."""

from __future__ import annotations

import enum
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from iep_followup import accommodations
from iep_followup.balance import WarningKind, check_balance
from iep_followup.domain import ItemKind, ItemStatus, PeriodOutcome, Role
from iep_followup.planning import RequestState, SendPolicy, is_silent
from iep_followup.routines import WEEK, together, week_of
from iep_followup.views import (
    AccommodationUse,
    ItemMinutes,
    ItemView,
    MemberView,
    MinutesWeek,
    RoutineRecord,
)

_ANCHOR = date(2024, 1, 1)  # a Monday: two-week periods count from it


class Period(enum.StrEnum):
    WEEK = "week"
    TWO_WEEKS = "two-weeks"
    MONTH = "month"


def period_bounds(today: date, period: Period) -> tuple[date, date]:
    """[start, end) of the period containing `today`."""
    if period is Period.MONTH:
        start = today.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
        return start, end
    monday = today - timedelta(days=today.weekday())
    if period is Period.WEEK:
        return monday, monday + timedelta(days=7)
    weeks = (monday - _ANCHOR).days // 7
    start = monday - timedelta(days=7 * (weeks % 2))
    return start, start + timedelta(days=14)


def previous_period(start: date, period: Period) -> tuple[date, date]:
    return period_bounds(start - timedelta(days=1), period)


def covered_weeks(start: date, end: date) -> list[date]:
    """The Mondays of the weeks (Monday to Sunday) whose Sunday falls in [start, end): the weeks
    whose service minutes a digest of that period reports. Each week is reported once, in the
    digest written after it is over, even when a month ends in the middle of it."""
    monday = week_of(start)
    mondays = []
    while monday + WEEK <= end:
        mondays.append(monday)
        monday += WEEK
    return mondays


def covered_period(today: date, period: Period) -> tuple[date, date]:
    """[start, end) of the last period that is over by `today`: what a digest written today covers.

    A digest reports time that has passed, each day in exactly one digest: one written on
    the first day of a period covers the whole period before it.
    """
    return previous_period(period_bounds(today, period)[0], period)


class AttentionKind(enum.StrEnum):
    BLOCKED = "blocked"
    OVERDUE = "overdue"
    MINUTES = "minutes"  # fewer service minutes given than the plan promises
    NOT_USED = "not_used"  # an accommodation not used two weeks running
    MAKEUP = "makeup"  # make-up minutes owed above the alert
    SILENT = "silent"
    BOUNCING = "bouncing"
    HELD = "held"
    OVERLOADED = "overloaded"


@dataclass(frozen=True)
class Attention:
    """One thing that needs the case manager. The template words it in their language."""

    kind: AttentionKind
    student: str | None = None
    who: str | None = None  # a person's name
    role: Role | None = None
    title: str | None = None  # the item
    note: str | None = None  # the reason given for a blocked item; a held reply's words
    titles: tuple[str, ...] = ()  # the items a silent owner was asked about
    due_on: date | None = None
    count: int = 0  # check-ins missed in a row, or items held
    total: int = 0
    share: float = 0.0
    email: str | None = None
    reason: str | None = None
    inbound_id: int | None = None
    since: date | None = None  # the first and last day a minutes shortfall is about
    until: date | None = None
    student_ids: tuple[str, ...] = ()  # the students' external ids: their pages on the desk


@dataclass(frozen=True)
class UpdateLine:
    at: datetime
    item_id: int
    author: str | None
    status: ItemStatus | None
    percent: int | None
    due_on: date | None
    note: str | None
    from_email: bool
    understood: bool = False  # read from the owner's sentence, not given as a command
    period: PeriodOutcome | None = None  # a routine's answer for the period
    minutes: int | None = None  # service minutes given


@dataclass(frozen=True)
class HeldReply:
    inbound_id: int
    from_address: str | None
    reason: str
    student_ids: frozenset[int]
    sender: str | None = None  # the sender's name
    words: str = ""  # what they wrote, when this case manager may read it (else "")


@dataclass(frozen=True)
class OwnerRequests:
    """One owner's requests (newest first) that asked about this case manager's students."""

    person_id: int
    name: str
    timezone: str
    requests: tuple[RequestState, ...]
    email: str = ""  # to find the items they own


@dataclass(frozen=True)
class StudentInput:
    student_id: int
    external_id: str
    name: str
    strengths: tuple[str, ...]
    members: tuple[MemberView, ...]
    items: tuple[ItemView, ...]


@dataclass(frozen=True)
class DigestInputs:
    case_manager: MemberView
    timezone: str
    students: tuple[StudentInput, ...]
    updates: tuple[UpdateLine, ...]  # this period, for these students' items
    requests: tuple[OwnerRequests, ...]
    held: tuple[HeldReply, ...]
    failing: tuple[tuple[str, str, str], ...]  # (name, email, reason) of team members
    previous_classroom_share: float | None  # from the previous digest, if there was one
    general_notes: tuple[tuple[int, str, str], ...] = ()  # (student id, author, text) from replies
    routines: Mapping[int, RoutineRecord] = field(default_factory=dict)  # by item id
    minutes: tuple[ItemMinutes, ...] = ()  # each service item's weeks in `covered_weeks`
    # Each accommodation per implementer: their last weeks with it, up to the period's end.
    accommodations: tuple[AccommodationUse, ...] = ()
    # Make-up minutes owed above this are a line for the case manager (None: a week's promise).
    makeup_alert_minutes: int | None = None


@dataclass(frozen=True)
class StudentSection:
    name: str
    external_id: str
    strength: str | None
    items: tuple[ItemView, ...]
    updates: tuple[UpdateLine, ...]
    notes: tuple[tuple[str, str], ...]  # (author, text)
    routines: Mapping[int, RoutineRecord] = field(default_factory=dict)  # how each is going
    minutes: tuple[ItemMinutes, ...] = ()  # per service item, the weeks this digest covers
    minutes_total: tuple[MinutesWeek, ...] = ()  # the student's services together, per week
    accommodations: tuple[AccommodationUse, ...] = ()  # per accommodation, per implementer


@dataclass(frozen=True)
class NoPart:
    """A team member with no part in a student's plan: one line in the digest's team section."""

    student: str
    name: str
    role: Role


@dataclass(frozen=True)
class Load:
    label: str
    role: Role | None
    open_items: int
    share: float


@dataclass(frozen=True)
class Momentum:
    closed: int
    closed_previous: int
    requests: int
    replies: int
    requests_previous: int
    replies_previous: int

    @property
    def response_rate(self) -> float | None:
        return self.replies / self.requests if self.requests else None

    @property
    def response_rate_previous(self) -> float | None:
        return self.replies_previous / self.requests_previous if self.requests_previous else None


@dataclass(frozen=True)
class Digest:
    case_manager: MemberView
    period_start: date
    period_end: date  # exclusive
    attention: tuple[Attention, ...]
    students: tuple[StudentSection, ...]
    load_by_person: tuple[Load, ...]
    load_by_role: tuple[Load, ...]
    classroom_share: float
    previous_classroom_share: float | None
    momentum: Momentum
    as_of: date  # the day it was written: attention and overdue dates are as of then
    no_part: tuple[NoPart, ...] = ()

    @property
    def quiet(self) -> bool:
        """Nothing needs attention and nothing moved."""
        return (
            not self.attention
            and not any(s.updates or s.notes for s in self.students)
            and not self.momentum.closed
        )


def compile_digest(
    inputs: DigestInputs, *, now: datetime, period: Period, policy: SendPolicy, max_share: float
) -> Digest:
    today = now.astimezone(_zone(inputs.timezone)).date()
    start, end = covered_period(today, period)
    prev_start, _ = previous_period(start, period)
    attention = needs_attention(inputs, now=now, policy=policy, max_share=max_share)
    open_items = [
        i for s in inputs.students for i in _plan_items(s.items) if not i.status.is_closed
    ]
    load_roles = _load_by_role(open_items)
    return Digest(
        inputs.case_manager,
        start,
        end,
        attention,
        _sections(inputs, start, end),
        _load_by_person(open_items, inputs.students),
        load_roles,
        next((load.share for load in load_roles if load.role is Role.CLASSROOM_TEACHER), 0.0),
        inputs.previous_classroom_share,
        _momentum(inputs, start, end, prev_start),
        today,
        _no_part(inputs),
    )


def needs_attention(
    inputs: DigestInputs, *, now: datetime, policy: SendPolicy, max_share: float
) -> tuple[Attention, ...]:
    """What needs the case manager, most urgent kind first: the digest's lines, and the desk's
    (so the two cannot disagree)."""
    today = now.astimezone(_zone(inputs.timezone)).date()
    attention = [
        *_item_attention(inputs.students, today),
        *_minutes_attention(inputs),
        *_accommodation_attention(inputs),
        *_makeup_attention(inputs),
        *_balance_attention(inputs.students, max_share),
        *_silent_attention(inputs.requests, inputs.students, now, policy),
        *_mail_attention(inputs),
    ]
    attention.sort(key=lambda a: list(AttentionKind).index(a.kind))
    return tuple(attention)


def _item_attention(students: Sequence[StudentInput], today: date) -> Iterator[Attention]:
    """Blocked and overdue items."""
    for student in students:
        for item in student.items:
            if item.status is ItemStatus.BLOCKED:
                yield Attention(
                    AttentionKind.BLOCKED,
                    student.name,
                    item.owner_name,
                    item.owner_role,
                    item.title,
                    note=item.last_update_note,
                    student_ids=(student.external_id,),
                )
            elif item.is_overdue(today):
                yield Attention(
                    AttentionKind.OVERDUE,
                    student.name,
                    item.owner_name,
                    item.owner_role,
                    item.title,
                    due_on=item.due_on,
                    student_ids=(student.external_id,),
                )


def _minutes_attention(inputs: DigestInputs) -> Iterator[Attention]:
    """One line per service item given fewer minutes than promised in the weeks this digest
    covers (added up, so a month's digest says it once, not once a week). Only weeks its owner
    told us about, or was asked about and stayed silent on, count: the others have no report
    yet, which the student's section says, and are nobody's shortfall."""
    for student in inputs.students:
        for item in _student_minutes(inputs, student):
            known = [w for w in item.weeks if w.report.counts]
            delivered = sum(w.delivered for w in known)
            promised = sum(w.promised for w in known)
            if is_short_of_minutes(item):
                yield Attention(
                    AttentionKind.MINUTES,
                    student.name,
                    item.owner_name,
                    title=item.title,
                    count=delivered,
                    total=promised,
                    since=known[0].week_of,
                    until=known[-1].week_of + timedelta(days=6),
                    student_ids=(student.external_id,),
                )


def is_short_of_minutes(item: ItemMinutes) -> bool:
    """Fewer minutes given than promised, over the weeks that count (told, or gone silent)."""
    known = [w for w in item.weeks if w.report.counts]
    return bool(known) and sum(w.delivered for w in known) < sum(w.promised for w in known)


def _accommodation_attention(inputs: DigestInputs) -> Iterator[Attention]:
    """One line per implementer who did not use an accommodation two weeks running."""
    for use in inputs.accommodations:
        if accommodations.needs_attention(use.weeks):
            yield Attention(
                AttentionKind.NOT_USED,
                use.student_name,
                use.implementer_name,
                title=use.text,
                note=use.weeks.reasons[-1] if use.weeks.reasons else None,
                count=use.weeks.not_used_running,
                student_ids=(use.student_external_id,),
            )


def _makeup_attention(inputs: DigestInputs) -> Iterator[Attention]:
    """One line per service owing more make-up minutes than the alert allows."""
    for student in inputs.students:
        for item in _student_minutes(inputs, student):
            alert = inputs.makeup_alert_minutes or item.promised_per_week
            if item.owed > alert:
                yield Attention(
                    AttentionKind.MAKEUP,
                    student.name,
                    item.owner_name,
                    title=item.title,
                    count=item.owed,
                    student_ids=(student.external_id,),
                )


def _plan_items(items: Sequence[ItemView]) -> list[ItemView]:
    """The plan's action items: the balance leaves out the accommodations' check-ins, since
    every teacher who has the child applies them."""
    return [i for i in items if i.kind is not ItemKind.ACCOMMODATION]


def _student_minutes(inputs: DigestInputs, student: StudentInput) -> tuple[ItemMinutes, ...]:
    ids = {i.id for i in student.items}
    return tuple(m for m in inputs.minutes if m.item_id in ids)


def _balance_attention(students: Sequence[StudentInput], max_share: float) -> Iterator[Attention]:
    """Members carrying too much of the plan (who has none is in the team section)."""
    for student in students:
        balance = check_balance(
            student.external_id,
            student.name,
            student.members,
            [(i.owner_email, i.status) for i in _plan_items(student.items)],
            max_share,
        )
        for warning in balance.warnings:
            if warning.kind is not WarningKind.OVERLOADED:
                continue
            yield Attention(
                AttentionKind.OVERLOADED,
                student.name,
                warning.name,
                warning.role,
                count=warning.open_items,
                total=warning.total_open,
                share=warning.share,
                student_ids=(student.external_id,),
            )


def _silent_attention(
    requests: Sequence[OwnerRequests],
    students: Sequence[StudentInput],
    now: datetime,
    policy: SendPolicy,
) -> Iterator[Attention]:
    """One line per silent owner and student, naming the open items they are asked about."""
    for owner in requests:
        streak = silent_streak(owner, now, policy)
        if not streak:
            continue
        found = False
        for student in students:
            titles = tuple(
                i.title
                for i in student.items
                if i.owner_email == owner.email and not i.status.is_closed
            )
            if titles:
                found = True
                yield Attention(
                    AttentionKind.SILENT,
                    student.name,
                    owner.name,
                    count=streak,
                    titles=titles,
                    since=_silent_since(owner, streak),
                    student_ids=(student.external_id,),
                )
        if not found:
            yield Attention(AttentionKind.SILENT, who=owner.name, count=streak)


def _silent_since(owner: OwnerRequests, streak: int) -> date | None:
    """The day of the oldest check-in in the run of unanswered ones: silent since then."""
    run = []
    for request in owner.requests:  # newest first
        if request.answered_at is not None:
            break
        run.append(request)
    if not run or streak < 1:
        return None
    return run[-1].created_at.astimezone(_zone(owner.timezone)).date()


def _no_part(inputs: DigestInputs) -> tuple[NoPart, ...]:
    """Who has no part in each plan; never the reader, who leads the plans."""
    gaps = []
    for student in inputs.students:
        owners = {i.owner_email for i in student.items if i.status is not ItemStatus.DROPPED}
        gaps += [
            NoPart(student.name, m.name, m.role)
            for m in student.members
            if m.email not in owners and m.person_id != inputs.case_manager.person_id
        ]
    return tuple(gaps)


def _mail_attention(inputs: DigestInputs) -> Iterator[Attention]:
    """Addresses that bounce, and replies held for a person to read."""
    for name, email, reason in inputs.failing:
        teams = [s for s in inputs.students if any(m.email == email for m in s.members)]
        yield Attention(
            AttentionKind.BOUNCING,
            ", ".join(s.name for s in teams) or None,
            name,
            email=email,
            reason=reason,
            student_ids=tuple(s.external_id for s in teams),
        )
    names = {s.student_id: s.name for s in inputs.students}
    for held in inputs.held:
        students = ", ".join(sorted(names[s] for s in held.student_ids if s in names)) or None
        yield Attention(
            AttentionKind.HELD,
            students,
            held.sender,
            note=held.words or None,
            email=held.from_address,
            reason=held.reason,
            inbound_id=held.inbound_id,
        )


def _sections(inputs: DigestInputs, start: date, end: date) -> tuple[StudentSection, ...]:
    """Each student's items, this period's updates and notes, and a strength to open with."""
    by_item = {item.id: s.student_id for s in inputs.students for item in s.items}
    period_updates = [
        u for u in inputs.updates if start <= u.at.astimezone(_zone(inputs.timezone)).date() < end
    ]
    sections = []
    for student in inputs.students:
        strengths = student.strengths
        minutes = _student_minutes(inputs, student)
        sections.append(
            StudentSection(
                name=student.name,
                external_id=student.external_id,
                strength=strengths[(start.toordinal() // 7) % len(strengths)]
                if strengths
                else None,
                items=student.items,
                updates=tuple(
                    u for u in period_updates if by_item.get(u.item_id) == student.student_id
                ),
                notes=tuple(
                    (author, text)
                    for sid, author, text in inputs.general_notes
                    if sid == student.student_id
                ),
                routines={
                    i.id: inputs.routines[i.id] for i in student.items if i.id in inputs.routines
                },
                minutes=minutes,
                minutes_total=together(m.weeks for m in minutes),
                accommodations=tuple(
                    a for a in inputs.accommodations if a.student_external_id == student.external_id
                ),
            )
        )
    return tuple(sections)


def _load_by_person(
    open_items: Sequence[ItemView], students: Sequence[StudentInput]
) -> tuple[Load, ...]:
    """Open items per person, members with none included, most first."""
    total = len(open_items)
    per_person: Counter[tuple[str, Role]] = Counter(
        (i.owner_name, i.owner_role) for i in open_items
    )
    for student in students:
        for member in student.members:
            per_person.setdefault((member.name, member.role), 0)
    return tuple(
        Load(name, role, count, count / total if total else 0.0)
        for (name, role), count in sorted(per_person.items(), key=lambda kv: (-kv[1], kv[0][0]))
    )


def _load_by_role(open_items: Sequence[ItemView]) -> tuple[Load, ...]:
    total = len(open_items)
    per_role: Counter[Role] = Counter(i.owner_role for i in open_items)
    return tuple(
        Load(role.value, role, count, count / total if total else 0.0)
        for role, count in sorted(per_role.items(), key=lambda kv: (-kv[1], kv[0].value))
    )


def silent_streak(owner: OwnerRequests, now: datetime, policy: SendPolicy) -> int:
    """How many check-ins in a row went unanswered; 0 when there is nothing to worry about.

    The newest request counts once it is settled (reminded, then unanswered through the
    grace period). While it is still open, one missed check-in before it is not yet a pattern.
    """
    requests = list(owner.requests)
    pending = (
        bool(requests)
        and requests[0].answered_at is None
        and not is_silent(requests[0], now, owner.timezone, policy)
    )
    streak = 0
    for request in requests[1:] if pending else requests:
        if request.answered_at is not None:
            break
        streak += 1
    return 0 if pending and streak < 2 else streak


def _momentum(inputs: DigestInputs, start: date, end: date, prev_start: date) -> Momentum:
    counts: defaultdict[str, int] = defaultdict(int)
    zone = _zone(inputs.timezone)
    for student in inputs.students:
        for item in student.items:
            if item.closed_at is None:
                continue
            day = item.closed_at.astimezone(zone).date()
            if start <= day < end:
                counts["closed_now"] += 1
            elif prev_start <= day < start:
                counts["closed_prev"] += 1
    for owner in inputs.requests:
        for request in owner.requests:
            day = request.created_at.astimezone(zone).date()
            which = "now" if start <= day < end else "prev" if prev_start <= day < start else None
            if which is None:
                continue
            counts[f"requests_{which}"] += 1
            if request.answered_at is not None:
                counts[f"replies_{which}"] += 1
    return Momentum(
        counts["closed_now"],
        counts["closed_prev"],
        counts["requests_now"],
        counts["replies_now"],
        counts["requests_prev"],
        counts["replies_prev"],
    )


def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)
