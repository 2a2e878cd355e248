from __future__ import annotations

from iep_followup.balance import WarningKind, check_balance
from iep_followup.domain import ItemStatus, Role
from iep_followup.views import MemberView

TEAM = [
    MemberView(1, "Dana", "dana@s.org", Role.CASE_MANAGER, "en"),
    MemberView(2, "Tom", "tom@s.org", Role.CLASSROOM_TEACHER, "en"),
    MemberView(3, "Rosa", "rosa@h.com", Role.PARENT, "es"),
]


def test_member_with_nothing_is_warned_about_parents_included() -> None:
    report = check_balance("S-1", "Lucía", TEAM, [("tom@s.org", ItemStatus.OPEN)])
    missing = {w.email for w in report.warnings if w.kind is WarningKind.NO_RESPONSIBILITY}
    assert missing == {"dana@s.org", "rosa@h.com"}


def test_classroom_teacher_carrying_too_much_is_named() -> None:
    items = [("tom@s.org", ItemStatus.OPEN)] * 3 + [
        ("dana@s.org", ItemStatus.OPEN),
        ("rosa@h.com", ItemStatus.IN_PROGRESS),
    ]
    report = check_balance("S-1", "Lucía", TEAM, items, max_share=0.4)
    [warning] = [w for w in report.warnings if w.kind is WarningKind.OVERLOADED]
    assert warning.email == "tom@s.org"
    assert warning.message.startswith("the classroom teacher, Tom, holds 3 of 5 open items (60%")


def test_share_threshold_is_configurable_and_exclusive() -> None:
    items = (
        [("tom@s.org", ItemStatus.OPEN)] * 2
        + [("dana@s.org", ItemStatus.OPEN)] * 2
        + [("rosa@h.com", ItemStatus.OPEN)]
    )
    assert not [
        w
        for w in check_balance("S", "L", TEAM, items, 0.4).warnings
        if w.kind is WarningKind.OVERLOADED
    ]
    overloaded = [
        w.email
        for w in check_balance("S", "L", TEAM, items, 0.3).warnings
        if w.kind is WarningKind.OVERLOADED
    ]
    assert overloaded == ["dana@s.org", "tom@s.org"] or sorted(overloaded) == [
        "dana@s.org",
        "tom@s.org",
    ]


def test_a_single_item_is_never_overload() -> None:
    report = check_balance(
        "S",
        "L",
        TEAM,
        [
            ("tom@s.org", ItemStatus.OPEN),
            ("dana@s.org", ItemStatus.OPEN),
            ("rosa@h.com", ItemStatus.DONE),
        ],
    )
    assert [w.kind for w in report.warnings] == []


def test_done_items_count_as_a_responsibility_but_not_as_load() -> None:
    report = check_balance(
        "S",
        "L",
        TEAM,
        [
            ("tom@s.org", ItemStatus.OPEN),
            ("dana@s.org", ItemStatus.OPEN),
            ("rosa@h.com", ItemStatus.DONE),
            ("rosa@h.com", ItemStatus.DROPPED),
        ],
    )
    rosa = next(load for load in report.loads if load.email == "rosa@h.com")
    assert (rosa.open_items, rosa.items, rosa.share) == (0, 1, 0.0)
    assert report.open_items == 2
    assert report.warnings == ()


def test_dropped_only_means_no_responsibility() -> None:
    report = check_balance("S", "L", TEAM[:1], [("dana@s.org", ItemStatus.DROPPED)])
    assert [w.kind for w in report.warnings] == [WarningKind.NO_RESPONSIBILITY]
