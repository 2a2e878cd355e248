"""The balance check: does everyone carry something, and does anyone carry too much? Pure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from iep_followup.domain import ItemStatus, Role
from iep_followup.views import MemberView
from iep_followup.vocabulary import role_label

DEFAULT_MAX_SHARE = 0.4


class WarningKind(StrEnum):
    NO_RESPONSIBILITY = "no_responsibility"
    OVERLOADED = "overloaded"


@dataclass(frozen=True)
class MemberLoad:
    name: str
    email: str
    role: Role
    open_items: int
    items: int  # not dropped: what they agreed to carry, done or not
    share: float  # of the student's open items


@dataclass(frozen=True)
class BalanceWarning:
    kind: WarningKind
    email: str
    name: str
    role: Role
    message: str
    open_items: int = 0
    total_open: int = 0
    share: float = 0.0


@dataclass(frozen=True)
class BalanceReport:
    student_external_id: str
    student_name: str
    open_items: int
    loads: tuple[MemberLoad, ...]
    warnings: tuple[BalanceWarning, ...]


def check_balance(
    student_external_id: str,
    student_name: str,
    members: Sequence[MemberView],
    items: Iterable[tuple[str, ItemStatus]],
    max_share: float = DEFAULT_MAX_SHARE,
) -> BalanceReport:
    """Loads and warnings for one student's team.

    `items` are (owner email, status) pairs. A member holding a single item is never
    called overloaded: with two or three items, one each is already a third or more.
    """
    open_by: Counter[str] = Counter()
    kept_by: Counter[str] = Counter()
    for owner, status in items:
        if status is not ItemStatus.DROPPED:
            kept_by[owner] += 1
        if not status.is_closed:
            open_by[owner] += 1
    total_open = sum(open_by.values())
    loads: list[MemberLoad] = []
    warnings: list[BalanceWarning] = []
    for member in members:
        count = open_by[member.email]
        share = count / total_open if total_open else 0.0
        loads.append(
            MemberLoad(member.name, member.email, member.role, count, kept_by[member.email], share)
        )
        who = f"{member.name} ({role_label(member.role)})"
        if kept_by[member.email] == 0:
            warnings.append(
                BalanceWarning(
                    WarningKind.NO_RESPONSIBILITY,
                    member.email,
                    member.name,
                    member.role,
                    f"{who} has no action item; give them one part of the plan",
                )
            )
        elif count > 1 and share > max_share:
            lead = (
                f"the classroom teacher, {member.name},"
                if member.role is Role.CLASSROOM_TEACHER
                else who
            )
            warnings.append(
                BalanceWarning(
                    WarningKind.OVERLOADED,
                    member.email,
                    member.name,
                    member.role,
                    f"{lead} holds {count} of {total_open} open items ({share:.0%}, more than "
                    f"{max_share:.0%}); share some with the rest of the team",
                    count,
                    total_open,
                    share,
                )
            )
    return BalanceReport(
        student_external_id, student_name, total_open, tuple(loads), tuple(warnings)
    )
