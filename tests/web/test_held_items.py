"""A held reply applied to an item the case manager picks: listed only from her caseload and only
where the sender is on the team; recorded with the sender as author, in the history and the
audit; another caseload's item, or a team the sender is not on, is refused and records nothing."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from iep_followup.desk import Reader
from iep_followup.domain import ItemKind, ItemStatus, PeriodOutcome, UpdateSource
from iep_followup.inbound.outcome import InboundOutcome
from iep_followup.tracker import Tracker
from tests.web.conftest import DeskClient
from tests.web.test_answers import _dump
from tests.web.world import ADMIN, CASE_MANAGER_A, CASE_MANAGER_B, STUDENT_A, STUDENT_B, World

TOM = "tom.okafor@lincoln.example.org"
OPTION = re.compile(r'<option value="(\d+)">')


def _records(tracker: Tracker) -> dict[str, list[tuple[object, ...]]]:
    """Every row but signing in's, the desk's audit and the access log: what "nothing was
    recorded" means."""
    rows = _dump(tracker)
    for table in ("web_audit", "web_session", "web_sign_in_link", "access_log"):
        rows.pop(table)
    return rows


def _item_ids(tracker: Tracker, student: str) -> list[int]:
    return [item.id for item in tracker.student_status(student).items]


def _picked(client: DeskClient, world: World, item_id: int) -> tuple[int, str]:
    response = client.post(
        f"/held/{world.held_id}/apply", data={"csrf": client.csrf, "item": str(item_id)}
    )
    return response.status_code, response.text


def test_the_page_lists_only_her_students_items_whose_team_the_sender_is_on(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    before = _records(world.tracker)
    for reader in (CASE_MANAGER_A, ADMIN):  # the admin sees Sam too, but Tom is not on his team
        page = make_client(reader).get(f"/held/{world.held_id}")
        assert page.status_code == 200
        listed = sorted(int(i) for i in OPTION.findall(page.text))
        assert listed == sorted(_item_ids(world.tracker, STUDENT_A)), reader
        assert f"as written by {TOM}" in page.text
    other = make_client(CASE_MANAGER_B)
    assert other.get(f"/held/{world.held_id}").status_code == 404
    assert _records(world.tracker) == before


def test_the_reply_is_applied_to_the_picked_item_as_written_by_its_sender(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    tracker, client = world.tracker, make_client(CASE_MANAGER_A)
    # Not the item Tom's reply answered (Rosa's): one the case manager picks.
    status = tracker.student_status(STUDENT_A)
    item = next(i for i in status.items if i.owner_email != "rosa.herrera@example.com")
    history_before = len(tracker.history(item.id))

    done = client.post(f"/held/{world.held_id}/apply", data={"csrf": client.csrf, "item": item.id})
    assert (done.status_code, done.headers["location"]) == (303, "/held?done=applied")
    assert "applied to the item you picked" in client.get("/held?done=applied").text

    history = tracker.history(item.id)
    assert len(history) == history_before + 1
    entry = history[-1]
    assert (entry.author_name, entry.source) == ("Tom Okafor", UpdateSource.EMAIL.value)
    if item.kind is ItemKind.ROUTINE:  # "listo": this period's yes, or done
        assert entry.period is PeriodOutcome.HAPPENED
    else:
        assert entry.status is ItemStatus.DONE
    [message] = [m for m in tracker.inbox() if m.id == world.held_id]
    assert message.outcome is InboundOutcome.APPLIED and message.released_at is not None
    assert f"applied to item {item.id} after review by {CASE_MANAGER_A}" in message.reason
    assert f"as written by {TOM}" in message.reason
    [audit] = [a for a in tracker.desk_audit() if a.action == "applied_to_item"]
    assert (audit.actor, audit.subject) == (CASE_MANAGER_A, str(world.held_id))
    assert f"item {item.id}" in audit.detail
    assert tracker.inbox(held_only=True) == []
    # Applied once: the reply is no longer held, so a second POST finds nothing.
    assert _picked(client, world, item.id)[0] == 404
    assert len(tracker.history(item.id)) == history_before + 1


def test_an_item_of_another_caseload_is_refused_and_nothing_is_recorded(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    client = make_client(CASE_MANAGER_A)
    before = _records(world.tracker)
    for item_id in (*_item_ids(world.tracker, STUDENT_B), 999_999):
        status, text = _picked(client, world, item_id)
        assert status == 409 and "Pick one of the items listed here." in text
    assert _picked(client, world, 0)[0] == 409
    bad = client.post(f"/held/{world.held_id}/apply", data={"csrf": client.csrf, "item": "x"})
    assert bad.status_code == 409
    assert _records(world.tracker) == before
    assert world.tracker.inbox(held_only=True)


def test_a_team_the_sender_is_not_on_is_refused_even_for_an_admin(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    client = make_client(ADMIN)
    before = _records(world.tracker)
    [sams, *_] = _item_ids(world.tracker, STUDENT_B)
    status, text = _picked(client, world, sams)
    assert status == 409
    assert "The sender is not on that student's team" in html.unescape(text)
    assert _records(world.tracker) == before


def test_another_caseloads_held_reply_is_not_found_and_the_form_needs_csrf(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    before = _records(world.tracker)
    other = make_client(CASE_MANAGER_B)
    [sams, *_] = _item_ids(world.tracker, STUDENT_B)
    assert _picked(other, world, sams)[0] == 404
    assert _picked(other, world, _item_ids(world.tracker, STUDENT_A)[0])[0] == 404
    mine = make_client(CASE_MANAGER_A)
    item_id = _item_ids(world.tracker, STUDENT_A)[0]
    for data in ({}, {"csrf": "wrong"}):
        response = mine.post(f"/held/{world.held_id}/apply", data={**data, "item": item_id})
        assert response.status_code == 403
    assert _records(world.tracker) == before


def test_the_library_applies_a_held_reply_to_an_item(world: World) -> None:
    tracker = world.tracker
    item_id = _item_ids(tracker, STUDENT_A)[-1]
    reader = Reader(CASE_MANAGER_A, "Dana Whitfield", "en", is_admin=False)
    tracker.apply_held_to_item(reader, world.held_id, item_id, client="library")
    assert tracker.history(item_id)[-1].author_name == "Tom Okafor"
