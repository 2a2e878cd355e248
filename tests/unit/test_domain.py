from __future__ import annotations

from datetime import date

import pytest

from iep_followup.domain import (
    Cadence,
    ItemInfo,
    ItemStatus,
    MemberInfo,
    Role,
    UpdateInput,
    resolve_progress,
)
from iep_followup.errors import ValidationError
from tests.conftest import make_member, make_record


def test_email_is_checked_and_lowercased() -> None:
    member = MemberInfo("Ana", "  Ana.Lopez@Example.COM ", Role.PARENT)
    assert member.email == "ana.lopez@example.com"
    with pytest.raises(ValidationError, match="not a valid email") as info:
        MemberInfo("Ana", "ana@", Role.PARENT)
    assert info.value.field == "email"


def test_unknown_role_lists_the_known_ones() -> None:
    with pytest.raises(ValidationError, match=r"unknown role 'wizard'.*case_manager"):
        MemberInfo("Ana", "a@example.com", "wizard")  # type: ignore[arg-type]


def test_roles_and_cadences_forgive_case_spaces_and_hyphens() -> None:
    assert MemberInfo("A", "a@example.com", "Case Manager").role is Role.CASE_MANAGER  # type: ignore[arg-type]
    item = ItemInfo("x", "t", "a@example.com", date(2027, 1, 1), "every-two-weeks")  # type: ignore[arg-type]
    assert item.cadence is Cadence.EVERY_TWO_WEEKS


def test_unsupported_language_is_refused() -> None:
    with pytest.raises(ValidationError, match="language 'fr'"):
        MemberInfo("A", "a@example.com", Role.PARENT, language="fr")
    assert MemberInfo("A", "a@example.com", Role.PARENT, language="es-MX").language == "es"


@pytest.mark.parametrize("percent", [-1, 101, 50.5, True])
def test_percent_must_be_0_to_100(percent: object) -> None:
    with pytest.raises(ValidationError, match="percent"):
        UpdateInput(percent=percent)  # type: ignore[arg-type]


def test_an_update_must_say_something() -> None:
    with pytest.raises(ValidationError, match="needs a status"):
        UpdateInput(note="   ")


def test_due_date_before_the_meeting_is_refused_with_its_location() -> None:
    base = make_record()
    concern = base.concerns[0]
    early = ItemInfo("early", "t", "rosa@home.example.com", date(2026, 1, 1))
    with pytest.raises(ValidationError, match="before the meeting") as info:
        make_record(concerns=(concern.__class__(concern.key, concern.text, None, (early,)),))
    assert info.value.location == ("concerns", 0, "items", 0, "due")


def test_owner_must_be_on_the_team() -> None:
    concern = make_record().concerns[0]
    stranger = ItemInfo("x", "t", "stranger@example.com", date(2027, 1, 1))
    with pytest.raises(ValidationError, match="not on the student's team"):
        make_record(concerns=(concern.__class__(concern.key, concern.text, None, (stranger,)),))


def test_team_needs_a_case_manager() -> None:
    with pytest.raises(ValidationError, match="needs a case_manager"):
        make_record(
            members=(make_member("Rosa", Role.PARENT, email="rosa@home.example.com"),),
            concerns=(),
            strengths=(),
        )


def test_email_listed_twice_is_refused() -> None:
    members = make_record().members
    with pytest.raises(ValidationError, match="listed twice"):
        make_record(members=(*members, members[0]))


@pytest.mark.parametrize(
    ("current", "percent", "update", "expected"),
    [
        (ItemStatus.OPEN, 0, UpdateInput(status=ItemStatus.DONE), (ItemStatus.DONE, 100)),
        (ItemStatus.OPEN, 0, UpdateInput(percent=100), (ItemStatus.DONE, 100)),
        (ItemStatus.OPEN, 0, UpdateInput(percent=50), (ItemStatus.IN_PROGRESS, 50)),
        (ItemStatus.BLOCKED, 20, UpdateInput(percent=40), (ItemStatus.IN_PROGRESS, 40)),
        (
            ItemStatus.IN_PROGRESS,
            40,
            UpdateInput(status=ItemStatus.BLOCKED, note="no book"),
            (ItemStatus.BLOCKED, 40),
        ),
        (ItemStatus.IN_PROGRESS, 40, UpdateInput(note="going well"), (ItemStatus.IN_PROGRESS, 40)),
        (ItemStatus.DONE, 100, UpdateInput(percent=80), (ItemStatus.IN_PROGRESS, 80)),
        (
            ItemStatus.OPEN,
            0,
            UpdateInput(status=ItemStatus.IN_PROGRESS, percent=100),
            (ItemStatus.DONE, 100),
        ),
    ],
)
def test_progress_rules(
    current: ItemStatus, percent: int, update: UpdateInput, expected: tuple[ItemStatus, int]
) -> None:
    assert resolve_progress(current, percent, update) == expected


def test_family_is_defined_once_parents_guardians_and_the_student() -> None:
    from iep_followup.domain import FAMILY_ROLES

    assert {r for r in Role if r.is_family} == FAMILY_ROLES
    assert {Role.PARENT, Role.GUARDIAN, Role.STUDENT} == FAMILY_ROLES
    assert not Role.ADVOCATE.is_family  # an advocate knows the process
