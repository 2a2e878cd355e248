"""The digest's pure parts: periods, silence, and what needs attention."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest

from iep_followup.digest import (
    AttentionKind,
    Digest,
    DigestInputs,
    HeldReply,
    NoPart,
    OwnerRequests,
    Period,
    StudentInput,
    compile_digest,
    covered_period,
    period_bounds,
    silent_streak,
)
from iep_followup.domain import Cadence, ItemStatus, Role
from iep_followup.planning import RequestState, SendPolicy
from iep_followup.views import ItemView, MemberView

NOW = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)  # Monday 07:00 in Chicago: the week is over


# today, period: the period containing today [start, end), and the one a digest written today covers
PERIODS = """
2026-11-27 week      2026-11-23 2026-11-30  2026-11-16 2026-11-23
2026-11-23 week      2026-11-23 2026-11-30  2026-11-16 2026-11-23
2026-11-29 week      2026-11-23 2026-11-30  2026-11-16 2026-11-23
2026-11-27 month     2026-11-01 2026-12-01  2026-10-01 2026-11-01
2026-12-31 month     2026-12-01 2027-01-01  2026-11-01 2026-12-01
2026-12-14 two-weeks 2026-12-14 2026-12-28  2026-11-30 2026-12-14
2026-12-07 two-weeks 2026-11-30 2026-12-14  2026-11-16 2026-11-30
"""


@pytest.mark.parametrize("row", PERIODS.strip().splitlines())
def test_period_bounds_and_the_period_a_digest_covers(row: str) -> None:
    today, period, *days = row.split()
    start, end, covered_start, covered_end = (date.fromisoformat(d) for d in days)
    assert period_bounds(date.fromisoformat(today), Period(period)) == (start, end)
    assert covered_period(date.fromisoformat(today), Period(period)) == (covered_start, covered_end)
    assert covered_end <= date.fromisoformat(today)  # never a day that has not come yet


def test_two_week_periods_tile_without_gaps() -> None:
    starts = {
        period_bounds(date(2026, 1, 1) + timedelta(days=n), Period.TWO_WEEKS) for n in range(120)
    }
    ordered = sorted(starts)
    assert all(end == next_start for (_, end), (next_start, _) in itertools.pairwise(ordered))
    assert all((end - start).days == 14 and start.weekday() == 0 for start, end in ordered)


def _request(
    request_id: int, days_ago: int, answered: bool, reminded_days_ago: int | None = None
) -> RequestState:
    created = NOW - timedelta(days=days_ago)
    return RequestState(
        request_id,
        created.date(),
        created,
        created + timedelta(hours=2) if answered else None,
        NOW - timedelta(days=reminded_days_ago) if reminded_days_ago is not None else None,
    )


@pytest.mark.parametrize(
    ("requests", "streak"),
    [
        ((), 0),
        ((_request(2, 1, False),), 0),  # the newest is still open: not silent yet
        ((_request(2, 1, False), _request(1, 8, False)), 0),  # one missed before an open one
        ((_request(3, 1, False), _request(2, 8, False), _request(1, 15, False)), 2),
        ((_request(2, 10, False, reminded_days_ago=7),), 1),  # reminded, then a week of nothing
        ((_request(2, 10, False, reminded_days_ago=7), _request(1, 17, False)), 2),
        ((_request(2, 10, True), _request(1, 17, False)), 0),
    ],
)
def test_silent_streak(requests: tuple[RequestState, ...], streak: int) -> None:
    owner = OwnerRequests(1, "Karen", "America/Chicago", requests)
    assert silent_streak(owner, NOW, SendPolicy()) == streak


def _item(
    item_id: int, owner: str, role: Role, status: ItemStatus = ItemStatus.OPEN, **kw: object
) -> ItemView:
    values: dict[str, object] = {
        "id": item_id,
        "key": f"k{item_id}",
        "student_external_id": "S-1",
        "student_name": "Lucía",
        "concern": "c",
        "title": f"Item {item_id}",
        "owner_name": owner,
        "owner_email": f"{owner.lower()}@s.org",
        "owner_role": role,
        "due_on": date(2027, 1, 1),
        "cadence": Cadence.WEEKLY,
        "status": status,
        "percent": 0,
        "service_minutes_per_week": None,
    }
    values.update(kw)
    return ItemView(**values)  # type: ignore[arg-type]


def test_attention_comes_first_in_a_fixed_order_and_names_the_classroom_teacher() -> None:
    team = (
        MemberView(1, "Dana", "dana@s.org", Role.CASE_MANAGER, "en"),
        MemberView(2, "Tom", "tom@s.org", Role.CLASSROOM_TEACHER, "en"),
        MemberView(3, "Rosa", "rosa@s.org", Role.PARENT, "es"),
    )
    items = (
        _item(1, "Tom", Role.CLASSROOM_TEACHER),
        _item(2, "Tom", Role.CLASSROOM_TEACHER),
        _item(3, "Tom", Role.CLASSROOM_TEACHER, ItemStatus.BLOCKED, last_update_note="no workbook"),
        _item(4, "Rosa", Role.PARENT, due_on=date(2026, 11, 20)),
        _item(5, "Rosa", Role.PARENT, ItemStatus.DONE, closed_at=NOW - timedelta(days=1)),
    )
    inputs = DigestInputs(
        case_manager=team[0],
        timezone="America/Chicago",
        students=(StudentInput(10, "S-1", "Lucía", ("kind",), team, items),),
        updates=(),
        requests=(
            OwnerRequests(
                3,
                "Rosa",
                "America/Chicago",
                (_request(2, 10, False, reminded_days_ago=7),),
                "rosa@s.org",
            ),
        ),
        held=(HeldReply(7, "aunt@home.example.com", "sent from another address", frozenset({10})),),
        failing=(("Rosa", "rosa@s.org", "550 no such user"),),
        previous_classroom_share=0.5,
    )
    digest = compile_digest(inputs, now=NOW, period=Period.WEEK, policy=SendPolicy(), max_share=0.4)
    assert [a.kind for a in digest.attention] == [
        AttentionKind.BLOCKED,
        AttentionKind.OVERDUE,
        AttentionKind.SILENT,
        AttentionKind.BOUNCING,
        AttentionKind.HELD,
        AttentionKind.OVERLOADED,
    ]
    blocked = digest.attention[0]
    assert (blocked.title, blocked.note, blocked.who) == ("Item 3", "no workbook", "Tom")
    overloaded = digest.attention[-1]
    assert (overloaded.who, overloaded.role, overloaded.count, overloaded.total) == (
        "Tom",
        Role.CLASSROOM_TEACHER,
        3,
        4,
    )
    assert digest.classroom_share == 0.75 and digest.previous_classroom_share == 0.5
    assert digest.momentum.closed == 1
    assert digest.students[0].strength == "kind"
    assert not digest.quiet
    # Who has no part is one line of the team section, never the reader herself.
    assert digest.no_part == ()
    assert all(a.student == "Lucía" for a in digest.attention)


def _digest(
    team: tuple[MemberView, ...], items: tuple[ItemView, ...], *requests: OwnerRequests
) -> Digest:
    """A one-student caseload whose case manager is the first member."""
    inputs = DigestInputs(
        case_manager=team[0],
        timezone="America/Chicago",
        students=(StudentInput(10, "S-1", "Lucía", (), team, items),),
        updates=(),
        requests=requests,
        held=(),
        failing=(),
        previous_classroom_share=None,
    )
    return compile_digest(inputs, now=NOW, period=Period.WEEK, policy=SendPolicy(), max_share=0.9)


def test_who_has_no_part_is_one_team_line_and_never_the_reader() -> None:
    team = (
        MemberView(1, "Dana", "dana@s.org", Role.CASE_MANAGER, "en"),
        MemberView(2, "Tom", "tom@s.org", Role.CLASSROOM_TEACHER, "en"),
        MemberView(4, "Jamie", "jamie@s.org", Role.NOTE_TAKER, "en"),
    )
    digest = _digest(team, (_item(1, "Tom", Role.CLASSROOM_TEACHER),))
    assert digest.attention == ()
    assert digest.no_part == (NoPart("Lucía", "Jamie", Role.NOTE_TAKER),)


def test_a_silent_owner_is_named_with_the_student_and_the_items_asked_about() -> None:
    team = (
        MemberView(1, "Dana", "dana@s.org", Role.CASE_MANAGER, "en"),
        MemberView(3, "Rosa", "rosa@s.org", Role.PARENT, "es"),
    )
    items = (_item(4, "Rosa", Role.PARENT), _item(5, "Rosa", Role.PARENT, ItemStatus.DONE))
    asked = (_request(2, 10, False, reminded_days_ago=7),)
    digest = _digest(team, items, OwnerRequests(3, "Rosa", "America/Chicago", asked, "rosa@s.org"))
    [silent] = digest.attention
    assert (silent.kind, silent.student, silent.who, silent.titles) == (
        AttentionKind.SILENT,
        "Lucía",
        "Rosa",
        ("Item 4",),
    )
