"""Every bad value a desk form or path can carry is a 4xx naming the field, never a 500.

Numbers past what SQLite's INTEGER and PostgreSQL's BIGINT hold reached the driver (an
OverflowError on SQLite, NumericValueOutOfRange on PostgreSQL); a meeting language the desk has
no words for broke the form's page. Both backends (the `database_url` fixture).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from iep_followup.domain import MAX_ROW_ID
from tests.unit.test_meetingform import SMALL
from tests.web.conftest import DeskClient
from tests.web.world import CASE_MANAGER_A, STUDENT_A, World

HUGE = "99999999999999999999999"
PAST = str(MAX_ROW_ID + 1)
PAGE = f"/students/{STUDENT_A}"


def _open_item_and_member(world: World) -> tuple[int, int]:
    status = world.tracker.student_status(STUDENT_A)
    item = next(i for i in status.items if not i.status.is_closed)
    return item.id, status.members[0].person_id


@pytest.mark.parametrize("number", [HUGE, PAST])
def test_a_number_past_the_database_range_in_a_form_field_is_that_fields_error(
    world: World, make_client: Callable[..., DeskClient], number: str
) -> None:
    client = make_client(CASE_MANAGER_A, raise_server_exceptions=False)
    item_id, _person_id = _open_item_and_member(world)
    before = [(h.note, h.source) for h in world.tracker.history(item_id)]

    applied = client.post(
        f"/held/{world.held_id}/apply", data={"csrf": client.csrf, "item": number}
    )
    assert applied.status_code == 409, applied.text[:300]
    assert "Pick one of the items listed here. Nothing was recorded." in applied.text

    reassigned = client.post(
        f"{PAGE}/items/{item_id}/reassign",
        data={"csrf": client.csrf, "owner": number, "reason": "x"},
    )
    assert reassigned.status_code == 400, reassigned.text[:300]
    assert "pick someone on this student" in reassigned.text

    assert [(h.note, h.source) for h in world.tracker.history(item_id)] == before
    assert client.get(f"/held/{world.held_id}").status_code == 200


@pytest.mark.parametrize("number", [HUGE, PAST])
def test_a_number_past_the_database_range_in_a_path_is_not_found(
    world: World, make_client: Callable[..., DeskClient], number: str
) -> None:
    client = make_client(CASE_MANAGER_A, raise_server_exceptions=False)
    item_id, person_id = _open_item_and_member(world)
    posts = {
        f"{PAGE}/items/{number}/close": {"reason": "x"},
        f"{PAGE}/items/{number}/reassign": {"owner": str(person_id), "reason": "x"},
        f"{PAGE}/items/{number}/reschedule": {"due_on": "2027-02-01", "reason": "x"},
        f"{PAGE}/team/{number}/away": {"away_until": "2027-01-01"},
        f"{PAGE}/team/{number}/clear-failing": {},
        f"/held/{number}/apply": {"item": str(item_id)},
        f"/held/{number}/release": {},
        f"/held/{number}/dismiss": {"reason": "x"},
    }
    for url, form in posts.items():
        response = client.post(url, data={"csrf": client.csrf, **form})
        assert response.status_code == 404, (url, response.status_code)
    assert client.get(f"/held/{number}").status_code == 404


def test_a_meeting_language_the_desk_does_not_know_is_the_fields_error(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    client = make_client(CASE_MANAGER_A, raise_server_exceptions=False)
    fields = {**SMALL, "member-0-email": CASE_MANAGER_A, "meeting-language": "fr"}
    for action in ("check", "save"):
        page = client.post("/meetings/form", data={"csrf": client.csrf, **fields, "action": action})
        assert page.status_code == 400, page.text[:300]
        assert '<a href="#meeting-language">' in page.text
        assert "language &#39;fr&#39; is not supported yet" in page.text
    assert all(i.student_external_id != SMALL["student-id"] for i in world.tracker.items())


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("student-id", "S/77", "cannot hold"),
        ("student-id", "..", "cannot hold"),
        ("student-name", "Ana\u202eRuiz", "bidi formatting character"),
        ("member-0-name", "Dana\nWhitfield", "line break"),
        ("member-2-name", "Rosa \u2066Ruiz", "bidi formatting character"),
    ],
)
def test_the_meeting_form_names_the_field_of_a_bad_id_or_name(
    world: World, make_client: Callable[..., DeskClient], field: str, value: str, says: str
) -> None:
    client = make_client(CASE_MANAGER_A, raise_server_exceptions=False)
    fields = {**SMALL, "member-0-email": CASE_MANAGER_A, field: value}
    for action in ("check", "save"):
        page = client.post("/meetings/form", data={"csrf": client.csrf, **fields, "action": action})
        assert page.status_code == 400, page.text[:300]
        assert f'<a href="#{field}">' in page.text and says in page.text
    assert all(i.student_external_id != fields["student-id"] for i in world.tracker.items())


@pytest.mark.parametrize("count", ["²", "١٢", "9" * 5000, HUGE, "-1"])
def test_the_meeting_forms_row_counts_and_actions_take_any_text(
    world: World, make_client: Callable[..., DeskClient], count: str
) -> None:
    # int() of "²" or of 5,000 digits raised: a 500 for a tampered hidden field.
    client = make_client(CASE_MANAGER_A, raise_server_exceptions=False)
    fields = {**SMALL, "member-0-email": CASE_MANAGER_A, "members": count, "concerns": count}
    for action in ("add-member", f"add-item-{count}", "check"):
        page = client.post("/meetings/form", data={"csrf": client.csrf, **fields, "action": action})
        assert page.status_code in (200, 400), (action[:20], page.status_code)
        assert 'id="member-0-name"' in page.text
