"""The student page's forms: reassign, reschedule, close, drop, a failing address, away-until.

Each is a POST with the CSRF token, goes through the Tracker's rules, is recorded in the item
history or the address history and in the audit table; another caseload gets 404 and nothing moves.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from iep_followup.domain import ItemStatus
from iep_followup.store import people
from iep_followup.tracker import Tracker
from iep_followup.views import ItemView, StudentStatus
from tests.web.conftest import DeskClient
from tests.web.world import ADMIN, CASE_MANAGER_A, CASE_MANAGER_B, STUDENT_A, World

PAGE = f"/students/{STUDENT_A}"


def _status(tracker: Tracker) -> StudentStatus:
    return tracker.student_status(STUDENT_A)


def _item(tracker: Tracker) -> ItemView:
    return next(i for i in _status(tracker).items if not i.status.is_closed)


def _other_member(tracker: Tracker, item: ItemView) -> tuple[int, str]:
    member = next(m for m in _status(tracker).members if m.email != item.owner_email)
    return member.person_id, member.name


def _audit(tracker: Tracker) -> list[tuple[str | None, str, str | None, str]]:
    return [(a.actor, a.action, a.subject, a.detail) for a in tracker.desk_audit()]


def _post(client: DeskClient, url: str, **form: str) -> tuple[int, str]:
    response = client.post(url, data={"csrf": client.csrf, **form})
    return response.status_code, response.headers.get("location", response.text)


def test_reassign_records_the_new_owner_the_reason_and_who(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    tracker = world.tracker
    item = _item(tracker)
    person_id, name = _other_member(tracker, item)
    client = make_client(CASE_MANAGER_A)
    status, location = _post(
        client, f"{PAGE}/items/{item.id}/reassign", owner=str(person_id), reason="Tom has time"
    )
    assert (status, location) == (303, f"{PAGE}?done=reassign#item-{item.id}")
    assert next(i for i in tracker.items(student=STUDENT_A) if i.id == item.id).owner_name == name
    last = tracker.history(item.id)[-1]
    assert last.note == f"Reassigned from {item.owner_name} to {name}. Tom has time"
    assert (last.source, last.author_name) == ("web", "Dana Whitfield")
    [entry] = _audit(tracker)[:1]
    assert entry[:3] == (CASE_MANAGER_A, "item_reassign", STUDENT_A)
    assert entry[3].endswith(": Tom has time")
    page = client.get(f"{PAGE}?done=reassign")
    assert "Saved: the item has a new owner." in page.text and "Tom has time" in page.text


def test_reschedule_close_and_drop_go_through_the_item_rules(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    tracker = world.tracker
    client = make_client(ADMIN)  # an administrator: on no team, still recorded as the actor
    first, second = [i for i in _status(tracker).items if not i.status.is_closed][:2]
    new_date = date(2027, 1, 15)
    assert (
        _post(
            client,
            f"{PAGE}/items/{first.id}/reschedule",
            due_on="2027-01-15",
            reason="Winter break",
        )[0]
        == 303
    )
    rescheduled = tracker.history(first.id)[-1]
    assert (rescheduled.due_on, rescheduled.note, rescheduled.source) == (
        new_date,
        "Winter break",
        "web",
    )
    assert (
        _post(client, f"{PAGE}/items/{first.id}/close", outcome="done", reason="Finished")[0] == 303
    )
    assert (
        _post(
            client, f"{PAGE}/items/{second.id}/close", outcome="dropped", reason="No longer needed"
        )[0]
        == 303
    )
    statuses = {i.id: i.status for i in tracker.items(student=STUDENT_A)}
    assert (statuses[first.id], statuses[second.id]) == (ItemStatus.DONE, ItemStatus.DROPPED)
    actions = [(actor, action) for actor, action, _s, _d in _audit(tracker)[:3]]
    assert actions == [(ADMIN, "item_drop"), (ADMIN, "item_close"), (ADMIN, "item_reschedule")]
    # A closed item offers no more changes.
    page = client.get(PAGE).text
    assert f"/items/{first.id}/close" not in page and f"/items/{second.id}/reassign" not in page
    # The history says how each change came, in words, not as a code.
    assert "at the desk" in page and "· web<" not in page and "· web\n" not in page


@pytest.mark.parametrize(
    ("change", "form", "error"),
    [
        ("reschedule", {"due_on": "2027-01-15", "reason": "  "}, "write the reason"),
        ("reschedule", {"due_on": "15/01/2027", "reason": "x"}, "the new due date cannot be used"),
        ("reschedule", {"due_on": "2020-01-01", "reason": "x"}, "the new due date cannot be used"),
        ("reassign", {"owner": "999999", "reason": "x"}, "pick someone on this student"),
        ("close", {"outcome": "done", "reason": ""}, "write the reason"),
    ],
)
def test_a_change_that_breaks_a_rule_is_refused_with_the_page_and_changes_nothing(
    change: str,
    form: dict[str, str],
    error: str,
    world: World,
    make_client: Callable[..., DeskClient],
) -> None:
    tracker = world.tracker
    item = _item(tracker)
    client = make_client(CASE_MANAGER_A)
    before = (_status(tracker), tracker.history(item.id), _audit(tracker))
    response = client.post(f"{PAGE}/items/{item.id}/{change}", data={"csrf": client.csrf, **form})
    assert response.status_code == 400
    assert f"Not saved: {error}" in response.text
    assert (_status(tracker), tracker.history(item.id), _audit(tracker)) == before


def test_a_failing_address_is_cleared_and_away_until_set_from_the_team(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    tracker = world.tracker
    member = next(m for m in _status(tracker).members if m.email != CASE_MANAGER_A)
    with tracker.database.transaction() as session:
        people.mark_failing(
            session, member.person_id, reason="550 no such user", source="bounce", now=tracker.now()
        )
    client = make_client(CASE_MANAGER_A)
    page = client.get(PAGE).text
    assert "550 no such user" in page and "It works again" in page
    team = f"{PAGE}/team/{member.person_id}"
    assert _post(client, f"{team}/clear-failing") == (303, f"{PAGE}?done=clear_failing#team")
    assert all(failing.email != member.email for failing in tracker.failing_addresses())
    assert (
        tracker.address_history(member.email)[-1].reason == f"cleared by hand by {CASE_MANAGER_A}"
    )
    assert _post(client, f"{team}/away", away_until="2026-12-18")[0] == 303
    assert (
        f'id="away-{member.person_id}" name="away_until" value="2026-12-18"'
        in client.get(PAGE).text
    )
    assert _post(client, f"{team}/away", away_until="2026-01-05")[0] == 400  # the past
    assert _post(client, f"{team}/away", away_until="")[0] == 303  # back
    assert 'value="2026-12-18"' not in client.get(PAGE).text
    assert [(a, s, d) for _actor, a, s, d in _audit(tracker)[:3]] == [
        ("member_away", STUDENT_A, f"{member.email}: back"),
        ("member_away", STUDENT_A, f"{member.email}: away until 2026-12-18"),
        ("member_clear_failing", STUDENT_A, f"{member.email}: address works again"),
    ]


def test_another_caseload_gets_404_for_every_change_and_nothing_moves(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    tracker = world.tracker
    item = _item(tracker)
    person_id, _name = _other_member(tracker, item)
    client = make_client(CASE_MANAGER_B)
    before = (_status(tracker), tracker.history(item.id), _audit(tracker))
    posts = {
        f"{PAGE}/items/{item.id}/reassign": {"owner": str(person_id), "reason": "x"},
        f"{PAGE}/items/{item.id}/reschedule": {"due_on": "2027-01-15", "reason": "x"},
        f"{PAGE}/items/{item.id}/close": {"outcome": "dropped", "reason": "x"},
        f"{PAGE}/team/{person_id}/clear-failing": {},
        f"{PAGE}/team/{person_id}/away": {"away_until": "2026-12-18"},
    }
    for url, form in posts.items():
        response = client.post(url, data={"csrf": client.csrf, **form})
        assert response.status_code == 404, url
        # Exactly as a student that does not exist.
        nobody = url.replace(STUDENT_A, "S-NOBODY")
        missing = client.post(nobody, data={"csrf": client.csrf, **form})
        assert response.text.replace(url, nobody) == missing.text
    # Not even through one of her own students' pages: the item is another child's.
    own = f"/students/S-9/items/{item.id}/close"
    assert client.post(own, data={"csrf": client.csrf, "reason": "x"}).status_code == 404
    assert (_status(tracker), tracker.history(item.id), _audit(tracker)) == before


def test_every_change_needs_the_csrf_token(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    item = _item(world.tracker)
    client = make_client(CASE_MANAGER_A)
    url = f"{PAGE}/items/{item.id}/close"
    for token in ("", "not-the-token"):
        response = client.post(url, data={"csrf": token, "reason": "x"})
        assert response.status_code == 403
    assert _item(world.tracker) == item
