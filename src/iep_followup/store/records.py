"""Recording what a meeting decided: an idempotent upsert of the whole meeting, or step by step."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from iep_followup.addresses import address_key
from iep_followup.domain import (
    ConcernInfo,
    ItemInfo,
    ItemStatus,
    MeetingKind,
    MeetingRecord,
    MemberInfo,
    Role,
    StrengthInfo,
    StudentInfo,
    UpdateInput,
    UpdateSource,
    accommodation_checks,
    check_due_on,
)
from iep_followup.errors import NotFoundError, ValidationError
from iep_followup.store.models import (
    ActionItem,
    Concern,
    Meeting,
    Membership,
    Person,
    Strength,
    Student,
)
from iep_followup.store.updates import apply_update, reassign


def record_meeting(
    session: Session,
    record: MeetingRecord,
    now: datetime,
    *,
    hold_summaries: bool = False,
    authority: frozenset[str] | None = None,
) -> tuple[Meeting, bool, list[str], list[str]]:
    """Create or bring up to date everything the meeting decided.

    Returns (meeting, created, changes, kept): `kept` says, per person, what the file would
    have changed but was kept (see `upsert_member`). With `hold_summaries`, the meeting's
    summaries wait for release_summaries (a held meeting stays held through later imports
    until then).
    """
    changes: list[str] = []
    kept: list[str] = []
    student = upsert_student(session, record.student, now, changes)
    assert student.id is not None
    people = {
        m.email: upsert_member(session, student.id, m, now, changes, authority=authority, kept=kept)
        for m in record.members
    }

    meeting = session.exec(
        select(Meeting).where(
            Meeting.student_id == student.id,
            Meeting.held_on == record.held_on,
            Meeting.kind == record.kind,
        )
    ).first()
    created = meeting is None
    if meeting is None:
        meeting = Meeting(
            student_id=student.id,
            held_on=record.held_on,
            kind=record.kind,
            notes=record.notes,
            created_at=now,
            updated_at=now,
            language=record.language,
            notes_translations=dict(record.notes_translations),
        )
        session.add(meeting)
        session.flush()
        changes.append(
            f"added the {record.kind.value.replace('_', ' ')} meeting of {record.held_on.isoformat()}"
        )
    else:
        if (meeting.notes, meeting.notes_translations) != (
            record.notes,
            dict(record.notes_translations),
        ):
            meeting.notes = record.notes
            meeting.notes_translations = dict(record.notes_translations)
            changes.append("changed the meeting notes")
        if meeting.language != record.language:
            meeting.language = record.language
            changes.append(f"changed the meeting's language to {record.language}")
    if hold_summaries and not meeting.summaries_held:
        meeting.summaries_held = True
        changes.append("held the summaries until they are released")
    assert meeting.id is not None

    _sync_strengths(session, meeting.id, record.strengths, people, changes)
    seen_items: set[str] = set()
    for position, concern_info in enumerate(record.concerns):
        concern = upsert_concern(session, meeting.id, position, concern_info, people, changes)
        assert concern.id is not None
        for item_info in concern_info.items:
            seen_items.add(item_info.key)
            upsert_item(session, meeting, concern.id, item_info, people, now, changes)
    concern_ids = dict(
        session.exec(select(Concern.key, Concern.id).where(Concern.meeting_id == meeting.id)).all()
    )
    for concern_key, item_info in accommodation_checks(record):
        seen_items.add(item_info.key)
        concern_id = concern_ids.get(concern_key) if concern_key else None
        upsert_item(session, meeting, concern_id, item_info, people, now, changes)
    _drop_missing_items(session, meeting.id, seen_items, now, changes)
    _remove_departed_members(session, student.id, set(people), changes)
    if changes and not created:
        meeting.updated_at = now
    return meeting, created, changes, kept


def upsert_student(
    session: Session, info: StudentInfo, now: datetime, changes: list[str]
) -> Student:
    student = session.exec(select(Student).where(Student.external_id == info.external_id)).first()
    if student is None:
        student = Student(
            external_id=info.external_id,
            name=info.name,
            school=info.school,
            grade=info.grade,
            created_at=now,
        )
        session.add(student)
        session.flush()
        changes.append(f"added student {info.external_id}")
        return student
    for name in ("name", "school", "grade"):
        if getattr(student, name) != getattr(info, name):
            setattr(student, name, getattr(info, name))
            changes.append(f"changed the student's {name}")
    return student


# A person's own details, shared by every team they are on (a membership holds the rest).
PERSON_FIELDS = ("name", "language", "timezone")


def upsert_member(
    session: Session,
    student_id: int,
    info: MemberInfo,
    now: datetime,
    changes: list[str],
    *,
    authority: frozenset[str] | None = None,
    kept: list[str] | None = None,
) -> Person:
    """Put the person on the student's team, adding them when new.

    People are shared, authority is not: `authority` is the case managers recording the
    meeting (None: an administrator). A person who also sits on the team of a student none
    of them manages keeps their name, language and time zone; what was kept is added to
    `kept`. Role, relationship and away-until belong to this team's membership only.
    """
    person = _person(session, info, now)
    assert person.id is not None
    differs = [n for n in PERSON_FIELDS if getattr(person, n) != getattr(info, n)]
    if (
        differs
        and authority is not None
        and on_another_caseload(session, person.id, student_id, authority)
    ):
        if kept is not None:
            kept.append(
                f"kept {info.email}'s {', '.join(n.replace('_', ' ') for n in differs)} as they"
                " are: they are on another caseload's team too (an administrator may change them)"
            )
    else:
        for name in differs:
            setattr(person, name, getattr(info, name))
            changes.append(f"changed {info.email}'s {name.replace('_', ' ')}")
    membership = session.exec(
        select(Membership).where(
            Membership.student_id == student_id, Membership.person_id == person.id
        )
    ).first()
    if membership is None:
        session.add(
            Membership(
                student_id=student_id,
                person_id=person.id,
                role=info.role,
                relationship=info.relationship,
                away_until=info.away_until,
            )
        )
        changes.append(
            f"added {info.name} <{info.email}> to the team as {info.role.value.replace('_', ' ')}"
        )
        return person
    if membership.role is not info.role:
        membership.role = info.role
        changes.append(f"changed {info.email}'s role to {info.role.value}")
    if membership.relationship != info.relationship:
        membership.relationship = info.relationship
        changes.append(f"changed {info.email}'s relationship to the student")
    if membership.away_until != info.away_until:
        membership.away_until = info.away_until
        changes.append(f"changed {info.email}'s away until")
    return person


def _person(session: Session, info: MemberInfo, now: datetime) -> Person:
    """The person with this address, added when new. An upsert: two imports adding the same
    new person at once both find them (on PostgreSQL the second insert waits for the first
    to commit, then does nothing)."""
    person = session.exec(select(Person).where(Person.email == info.email)).first()
    if person is not None:
        return person
    values = {
        "name": info.name,
        "email": info.email,
        "language": info.language,
        "timezone": info.timezone,
        "created_at": now,
        "soft_bounces": 0,
    }
    dialect = session.get_bind().dialect.name
    upsert = (postgres_insert if dialect == "postgresql" else sqlite_insert)(Person)
    session.execute(upsert.values(**values).on_conflict_do_nothing(index_elements=["email"]))
    found = session.exec(select(Person).where(Person.email == info.email)).first()
    assert found is not None
    return found


def kept_people(
    session: Session, record: MeetingRecord, authority: frozenset[str] | None
) -> list[str]:
    """The addresses of the members whose name, language or time zone recording the meeting
    would keep as they are (see upsert_member). Reads only: for a preview."""
    if authority is None:
        return []
    student = session.exec(
        select(Student).where(Student.external_id == record.student.external_id)
    ).first()
    kept = []
    for info in record.members:
        person = session.exec(select(Person).where(Person.email == info.email)).first()
        if person is None or person.id is None:
            continue
        differs = any(getattr(person, n) != getattr(info, n) for n in PERSON_FIELDS)
        if differs and on_another_caseload(
            session, person.id, student.id if student else None, authority
        ):
            kept.append(info.email)
    return kept


def on_another_caseload(
    session: Session, person_id: int, student_id: int | None, authority: frozenset[str]
) -> bool:
    """Whether the person sits on the team of a student (other than this one) whose case
    manager is none of `authority`."""
    theirs = (
        select(Membership.student_id)
        .join(Person, col(Person.id) == Membership.person_id)
        .where(col(Person.email).in_(sorted(authority)), Membership.role == Role.CASE_MANAGER)
    )
    elsewhere = select(Membership.id).where(
        Membership.person_id == person_id,
        col(Membership.student_id).not_in(theirs),
    )
    if student_id is not None:
        elsewhere = elsewhere.where(Membership.student_id != student_id)
    return session.exec(elsewhere.limit(1)).first() is not None


def _sync_strengths(
    session: Session,
    meeting_id: int,
    strengths: tuple[StrengthInfo, ...],
    people: dict[str, Person],
    changes: list[str],
) -> None:
    existing = list(
        session.exec(
            select(Strength)
            .where(Strength.meeting_id == meeting_id)
            .order_by(col(Strength.position))
        )
    )
    wanted = [
        (s.text, people[s.said_by].id if s.said_by else None, dict(s.translations))
        for s in strengths
    ]
    if [(s.text, s.said_by_id, s.translations) for s in existing] == wanted:
        return
    for old in existing:
        session.delete(old)
    session.flush()
    for position, (text, said_by_id, translations) in enumerate(wanted):
        session.add(
            Strength(
                meeting_id=meeting_id,
                position=position,
                text=text,
                said_by_id=said_by_id,
                translations=translations,
            )
        )
    changes.append(f"recorded {len(wanted)} strengths")


def upsert_concern(
    session: Session,
    meeting_id: int,
    position: int,
    info: ConcernInfo,
    people: dict[str, Person],
    changes: list[str],
) -> Concern:
    raised_by_id = people[info.raised_by].id if info.raised_by else None
    concern = session.exec(
        select(Concern).where(Concern.meeting_id == meeting_id, Concern.key == info.key)
    ).first()
    if concern is None:
        concern = Concern(
            meeting_id=meeting_id,
            key=info.key,
            position=position,
            text=info.text,
            raised_by_id=raised_by_id,
            translations=dict(info.translations),
        )
        session.add(concern)
        session.flush()
        changes.append(f"added concern {info.key}")
        return concern
    wanted = (info.text, raised_by_id, position, dict(info.translations))
    if (concern.text, concern.raised_by_id, concern.position, concern.translations) != wanted:
        concern.text, concern.raised_by_id, concern.position, concern.translations = wanted
        changes.append(f"changed concern {info.key}")
    return concern


def upsert_item(
    session: Session,
    meeting: Meeting,
    concern_id: int | None,
    info: ItemInfo,
    people: dict[str, Person],
    now: datetime,
    changes: list[str],
) -> ActionItem:
    owner = people[info.owner]
    assert meeting.id is not None and owner.id is not None
    item = session.exec(
        select(ActionItem).where(ActionItem.meeting_id == meeting.id, ActionItem.key == info.key)
    ).first()
    if item is None:
        item = ActionItem(
            meeting_id=meeting.id,
            concern_id=concern_id,
            student_id=meeting.student_id,
            owner_id=owner.id,
            key=info.key,
            title=info.title,
            due_on=info.due_on,
            cadence=info.cadence,
            status=ItemStatus.OPEN,
            percent=0,
            service_minutes_per_week=info.service_minutes_per_week,
            created_at=now,
            translations=dict(info.translations),
            kind=info.kind,
            accommodation=info.accommodation,
            sessions_per_week=info.sessions_per_week,
        )
        session.add(item)
        session.flush()
        changes.append(f"added {_label(info)}")
        return item
    if item.owner_id != owner.id:
        reassign(session, item, owner, None, UpdateSource.IMPORT, now)
        changes.append(f"reassigned {_label(info)} to {owner.email}")
    if item.due_on != info.due_on:
        apply_update(session, item, None, UpdateInput(due_on=info.due_on), UpdateSource.IMPORT, now)
        changes.append(f"moved {_label(info)} to {info.due_on.isoformat()}")
    names = (
        "title",
        "kind",
        "cadence",
        "service_minutes_per_week",
        "concern_id",
        "accommodation",
        "sessions_per_week",
    )
    for name in names:
        new = concern_id if name == "concern_id" else getattr(info, name)
        if getattr(item, name) != new:
            setattr(item, name, new)
            changes.append(f"changed {_label(info)}'s {name.replace('_', ' ').replace(' id', '')}")
    if item.translations != dict(info.translations):
        item.translations = dict(info.translations)
        changes.append(f"changed {_label(info)}'s translations")
    return item


def _label(info: ItemInfo) -> str:
    """How an import's changes name an item: an accommodation's check-in by its implementer."""
    if info.accommodation is not None:
        return f"accommodation {info.accommodation} for {info.owner}"
    return f"item {info.key}"


def _drop_missing_items(
    session: Session, meeting_id: int, keep: set[str], now: datetime, changes: list[str]
) -> None:
    for item in session.exec(select(ActionItem).where(ActionItem.meeting_id == meeting_id)):
        if item.key not in keep and not item.status.is_closed:
            apply_update(
                session,
                item,
                None,
                UpdateInput(status=ItemStatus.DROPPED, note="Removed from the meeting file."),
                UpdateSource.IMPORT,
                now,
            )
            changes.append(f"dropped item {item.key}")


def _remove_departed_members(
    session: Session, student_id: int, emails: set[str], changes: list[str]
) -> None:
    rows = session.exec(
        select(Membership, Person)
        .join(Person, col(Person.id) == Membership.person_id)
        .where(Membership.student_id == student_id)
    ).all()
    for membership, person in rows:
        if person.email in emails:
            continue
        still_open = session.exec(
            select(ActionItem.key).where(
                ActionItem.student_id == student_id,
                ActionItem.owner_id == person.id,
                col(ActionItem.status).not_in([ItemStatus.DONE, ItemStatus.DROPPED]),
            )
        ).all()
        if still_open:
            raise ValidationError(
                f"{person.email} left the team but still owns open items ({', '.join(still_open)}); reassign them first",
                field="team",
            )
        session.delete(membership)
        changes.append(f"removed {person.email} from the team")


# --- step by step (the library's incremental API) ---------------------------------------


def start_meeting(
    session: Session,
    student: StudentInfo,
    held_on: date,
    kind: MeetingKind,
    notes: str,
    now: datetime,
    language: str = "en",
) -> Meeting:
    row = upsert_student(session, student, now, [])
    assert row.id is not None
    meeting = session.exec(
        select(Meeting).where(
            Meeting.student_id == row.id, Meeting.held_on == held_on, Meeting.kind == kind
        )
    ).first()
    if meeting is None:
        meeting = Meeting(
            student_id=row.id,
            held_on=held_on,
            kind=kind,
            notes=notes,
            created_at=now,
            updated_at=now,
            language=language,
        )
        session.add(meeting)
        session.flush()
    return meeting


def add_strength(session: Session, meeting_id: int, strength: StrengthInfo) -> None:
    meeting = get_meeting(session, meeting_id)
    said_by = (
        team_member(session, meeting.student_id, strength.said_by) if strength.said_by else None
    )
    position = len(session.exec(select(Strength.id).where(Strength.meeting_id == meeting_id)).all())
    session.add(
        Strength(
            meeting_id=meeting_id,
            position=position,
            text=strength.text,
            said_by_id=said_by.id if said_by else None,
            translations=dict(strength.translations),
        )
    )


def add_concern(
    session: Session, meeting_id: int, concern: ConcernInfo, now: datetime
) -> list[int]:
    """Add a concern with its action items; owners must already be on the team. Returns item ids."""
    meeting = get_meeting(session, meeting_id)
    emails = {e for e in [concern.raised_by, *(i.owner for i in concern.items)] if e}
    people = {e: team_member(session, meeting.student_id, e) for e in emails}
    position = len(session.exec(select(Concern.id).where(Concern.meeting_id == meeting_id)).all())
    row = upsert_concern(session, meeting_id, position, concern, people, [])
    assert row.id is not None
    return [_new_item(session, meeting, row.id, info, people, now) for info in concern.items]


def add_item(
    session: Session, meeting_id: int, concern_key: str, item: ItemInfo, now: datetime
) -> int:
    meeting = get_meeting(session, meeting_id)
    concern = session.exec(
        select(Concern).where(
            Concern.meeting_id == meeting_id, Concern.key == concern_key.strip().lower()
        )
    ).first()
    if concern is None or concern.id is None:
        raise NotFoundError(
            f"meeting {meeting_id} has no concern {concern_key!r}; add the concern first"
        )
    owner = team_member(session, meeting.student_id, item.owner)
    return _new_item(session, meeting, concern.id, item, {owner.email: owner}, now)


def _new_item(
    session: Session,
    meeting: Meeting,
    concern_id: int,
    item: ItemInfo,
    people: dict[str, Person],
    now: datetime,
) -> int:
    check_due_on(item.due_on, meeting.held_on)
    row = upsert_item(session, meeting, concern_id, item, people, now, [])
    assert row.id is not None
    return row.id


def release_held_summaries(session: Session, student_id: int) -> list[int]:
    """Release the student's meetings held with --hold-summaries; returns their ids."""
    held = list(
        session.exec(
            select(Meeting).where(Meeting.student_id == student_id, col(Meeting.summaries_held))
        )
    )
    for meeting in held:
        meeting.summaries_held = False
    return [m.id for m in held if m.id is not None]


def get_meeting(session: Session, meeting_id: int) -> Meeting:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFoundError(f"no meeting {meeting_id}")
    return meeting


def team_member(session: Session, student_id: int, email: str) -> Person:
    person = session.exec(select(Person).where(Person.email == address_key(email))).first()
    if person is None:
        raise NotFoundError(
            f"nobody with email {email!r} is on any team; add them to the team first"
        )
    on_team = session.exec(
        select(Membership).where(
            Membership.student_id == student_id, Membership.person_id == person.id
        )
    ).first()
    if on_team is None:
        raise ValidationError(
            f"{person.email} is not on this student's team; add them first", field="owner"
        )
    return person
