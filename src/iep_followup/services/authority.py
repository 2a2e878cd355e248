"""The desk's one authorization rule (desk.may_use_student, desk.may_use_held), applied.

Every desk use case asks here before it reads or changes anything: a student's record, one
of their items or team members, a held reply. A case manager's power ends at her caseload.
"""

from __future__ import annotations

from iep_followup.desk import HeldTarget, Reader, Use, may_use_held, may_use_student
from iep_followup.errors import NotFoundError, ValidationError
from iep_followup.store import web
from iep_followup.store.db import Session


def scope_of(reader: Reader) -> str | None:
    """The case manager whose students the reader sees; None for an administrator (all)."""
    return None if reader.is_admin else reader.email


def not_found(external_id: str) -> NotFoundError:
    # The same words for a student on another caseload as for one that does not exist.
    return NotFoundError(f"no student with id {external_id!r}")


def managed(session: Session, reader: Reader) -> frozenset[int]:
    """The students whose team the reader manages (none are needed for an administrator)."""
    return frozenset() if reader.is_admin else web.caseload_ids(session, reader.email)


def student_id(session: Session, reader: Reader, external_id: str) -> int:
    """The student's id when the reader may read and change their record; else NotFoundError."""
    student = web.visible_student(session, None, external_id)
    if (
        student is None
        or student.id is None
        or not may_use_student(reader, managed(session, reader), student.id)
    ):
        raise not_found(external_id)
    return student.id


def may_change(session: Session, reader: Reader, student_id: int) -> bool:
    """Whether the reader may change what is this student's: one of their items, their team.
    Asked of the target itself (the item picked), never of the page it was picked from."""
    return may_use_student(reader, managed(session, reader), student_id)


def held(session: Session, reader: Reader, inbound_id: int, use: Use) -> HeldTarget:
    """A held reply the reader may use so: NotFoundError when she may not read it (as for one
    that does not exist), ValidationError when she may read it but not change it."""
    mine = managed(session, reader)
    found = web.held_targets(session, inbound_id)
    if not found or not may_use_held(reader, mine, found[0], Use.READ):
        raise NotFoundError(f"no held reply {inbound_id}")
    if not may_use_held(reader, mine, found[0], use):
        raise ValidationError(
            "it answers a request about students on another caseload too; their case manager "
            "or an administrator can release it"
        )
    return found[0]


def readable_held(
    session: Session, reader: Reader, inbound_id: int | None = None
) -> list[HeldTarget]:
    """The held replies the reader may read (of this one only, when given)."""
    mine = managed(session, reader)
    found = web.held_targets(session, inbound_id)
    return [t for t in found if may_use_held(reader, mine, t, Use.READ)]
