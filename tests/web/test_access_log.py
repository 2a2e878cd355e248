"""The access log: every view of a child's page, printed record, CSV and held reply on the desk,
every change and sign-in, with who, when and from where; shown to the child's case manager and
administrators only."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text

from iep_followup.privacy import Access
from iep_followup.tracker import Tracker
from tests.conftest import Clock
from tests.web.conftest import DeskClient
from tests.web.world import ADMIN, CASE_MANAGER_A, CASE_MANAGER_B, STUDENT_A, STUDENT_B, World

PAGE = f"/students/{STUDENT_A}"


def _seen(tracker: Tracker, student: str) -> list[tuple[str, str, Access, str]]:
    """The log oldest first, without the reads of the log itself."""
    return [
        (e.actor, e.client, e.action, e.detail)
        for e in reversed(tracker.access_log(student))
        if e.action is not Access.VIEWED_ACCESS_LOG
    ]


def test_each_view_and_export_is_recorded_with_who_when_and_from_where(
    world: World, make_client: Callable[..., DeskClient], clock: Clock
) -> None:
    tracker = world.tracker
    client = make_client(CASE_MANAGER_A)
    for path in (PAGE, f"{PAGE}/record", f"{PAGE}/record.csv", f"/held/{world.held_id}"):
        assert client.get(path).status_code == 200, path
    assert client.get("/").status_code == 200  # the caseload lists names: not a record
    reader = (CASE_MANAGER_A, "testclient")
    assert _seen(tracker, STUDENT_A) == [
        (*reader, Access.VIEWED_STUDENT, ""),
        (*reader, Access.VIEWED_RECORD, ""),
        (*reader, Access.EXPORTED_CSV, ""),
        (*reader, Access.VIEWED_HELD, f"held reply {world.held_id}"),
    ]
    assert {e.at for e in tracker.access_log(STUDENT_A)} == {clock.now}
    assert _seen(tracker, STUDENT_B) == []  # Tom, who wrote the reply, is not on Sam's team


def test_a_refused_view_records_nothing(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    other = make_client(CASE_MANAGER_B)
    assert other.get(PAGE).status_code == 404
    assert other.get(f"{PAGE}/record.csv").status_code == 404
    assert other.get(f"/held/{world.held_id}").status_code == 404
    assert _seen(world.tracker, STUDENT_A) == []


def test_changes_and_sign_ins_are_recorded(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    tracker = world.tracker
    client = make_client(CASE_MANAGER_A)
    item = tracker.student_status(STUDENT_A).items[0]
    moved = client.post(
        f"{PAGE}/items/{item.id}/reschedule",
        data={"csrf": client.csrf, "due_on": "2027-02-01", "reason": "the family asked"},
    )
    assert moved.status_code == 303
    dismissed = client.post(
        f"/held/{world.held_id}/dismiss", data={"csrf": client.csrf, "reason": "checked"}
    )
    assert dismissed.status_code == 303
    assert _seen(tracker, STUDENT_A) == [
        (CASE_MANAGER_A, "testclient", Access.CHANGED, "item_reschedule"),
        (CASE_MANAGER_A, "testclient", Access.CHANGED, f"held reply {world.held_id}: dismissed"),
    ]
    with tracker.database.engine.connect() as connection:
        signed_in = connection.execute(
            text("SELECT actor, client, student FROM access_log WHERE action = 'signed_in'")
        ).all()
    assert [tuple(row) for row in signed_in] == [(CASE_MANAGER_A, "testclient", None)]


def test_the_log_page_is_for_her_case_manager_and_administrators(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    mine = make_client(CASE_MANAGER_A)
    student = mine.get(PAGE)
    assert f'href="{PAGE}/access"' in student.text
    assert f'href="{PAGE}/forget"' not in student.text  # administrators only
    page = mine.get(f"{PAGE}/access")
    assert page.status_code == 200
    assert "opened the student's page" in page.text and CASE_MANAGER_A in page.text
    assert make_client(CASE_MANAGER_B).get(f"{PAGE}/access").status_code == 404
    admin = make_client(ADMIN)
    assert f'href="{PAGE}/forget"' in admin.get(PAGE).text
    assert admin.get(f"{PAGE}/access").status_code == 200
    readers = {
        e.actor for e in world.tracker.access_log(STUDENT_A) if e.action is Access.VIEWED_ACCESS_LOG
    }
    assert readers == {CASE_MANAGER_A, ADMIN}  # reading the log is on record too


def test_a_held_reply_read_on_the_command_line_is_recorded_as_cli(world: World) -> None:
    world.tracker.held_text(world.held_id)
    assert _seen(world.tracker, STUDENT_A) == [
        ("cli", "cli", Access.VIEWED_HELD, f"held reply {world.held_id}")
    ]
