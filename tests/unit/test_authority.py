"""The desk's one authorization rule, as a table: who may read or change a held reply."""

from __future__ import annotations

import pytest

from iep_followup.desk import HeldTarget, Reader, Use, may_use_held, may_use_student

DANA = Reader("dana@school.example.org", "Dana", "en", is_admin=False)
ADMIN = Reader("admin@district.example.org", "Admin", "en", is_admin=True)
HERS = frozenset({1, 2})  # Lucía and Ana; Mateo (3) is Keisha's


@pytest.mark.parametrize(
    ("request_students", "sender_students", "read", "change"),
    [
        ({1}, {1}, True, True),  # about her student
        ({1, 2}, set(), True, True),  # a request about two of hers, from a stranger
        ({3}, {1, 3}, False, False),  # about Mateo, from a teacher on Lucía's team too
        ({1, 3}, {1, 3}, True, False),  # about Lucía and Mateo: hers to read, not to release
        (set(), {1}, False, False),  # a request with no items left
        (None, {1, 3}, True, True),  # no key: her sender's; applying checks the item picked
        (None, {3}, False, False),  # no key, a sender on Keisha's teams only
        (None, set(), False, False),  # no key, a stranger: the command line's
    ],
)
def test_a_held_reply_is_decided_by_its_requests_students(
    request_students: set[int] | None, sender_students: set[int], read: bool, change: bool
) -> None:
    held = HeldTarget(
        7,
        None if request_students is None else frozenset(request_students),
        frozenset(sender_students),
    )
    assert may_use_held(DANA, HERS, held, Use.READ) is read
    assert may_use_held(DANA, HERS, held, Use.CHANGE) is change
    assert may_use_held(ADMIN, frozenset(), held, Use.CHANGE)


def test_a_student_is_hers_when_she_manages_the_team() -> None:
    assert may_use_student(DANA, HERS, 1)
    assert not may_use_student(DANA, HERS, 3)
    assert may_use_student(ADMIN, frozenset(), 3)
