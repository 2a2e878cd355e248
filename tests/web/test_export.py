"""A child's record as CSV and as a print-ready page: only for her case manager or an admin."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import markupsafe

from iep_followup.desk import RECORD_COLUMNS
from iep_followup.domain import UpdateInput
from tests.web.conftest import DeskClient
from tests.web.world import ADMIN, CASE_MANAGER_A, CASE_MANAGER_B, STUDENT_A, World

RECORD = f"/students/{STUDENT_A}/record"


def test_the_csv_holds_every_item_and_its_history(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    tracker = world.tracker
    item = tracker.student_status(STUDENT_A).items[0]
    tracker.record_update(item.id, UpdateInput(percent=40, note="=HYPERLINK(1)"))
    client = make_client(CASE_MANAGER_A)
    response = client.get(f"{RECORD}.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert (
        response.headers["content-disposition"] == f'attachment; filename="record-{STUDENT_A}.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert tuple(rows[0]) == RECORD_COLUMNS
    records = [dict(zip(RECORD_COLUMNS, row, strict=True)) for row in rows[1:]]
    items = [r for r in records if r["entry"] == "item"]
    assert [r["item"] for r in items] == [i.title for i in tracker.student_status(STUDENT_A).items]
    assert {r["student"] for r in records} == {"Lucía Herrera"}
    updates = [r for r in records if r["entry"] == "update" and r["item_id"] == str(item.id)]
    assert len(updates) == len(tracker.history(item.id))
    last = updates[-1]
    assert (last["percent"], last["note"], last["source"]) == ("40", "'=HYPERLINK(1)", "api")
    assert last["at"].endswith("-06:00")  # local time (America/Chicago), with its offset
    # Every email about Lucía: the summaries and requests sent to her team, the replies to them.
    team = {m.email for m in tracker.student_status(STUDENT_A).members}
    sent = [r for r in records if r["entry"] == "sent"]
    assert {r["source"] for r in sent} == {"summary", "request"}
    assert {r["by"] for r in sent} == team  # and none of Sam's
    [received] = [r for r in records if r["entry"] == "received"]
    assert (received["by"], received["status"]) == ("tom.okafor@lincoln.example.org", "held")


def test_the_print_page_shows_the_whole_history(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    client = make_client(ADMIN)
    page = client.get(RECORD)
    assert page.status_code == 200
    assert "Record of Lucía Herrera" in page.text
    for item in world.tracker.student_status(STUDENT_A).items:
        assert str(markupsafe.escape(item.title)) in page.text
    assert f'href="{RECORD}.csv"' in page.text
    assert "rosa.herrera@example.com" in page.text.split('id="emails"')[1]
    assert 'href="/students/S-2026-0417/record"' in client.get(f"/students/{STUDENT_A}").text


def test_another_case_manager_gets_not_found_for_the_record(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    client = make_client(CASE_MANAGER_B)
    for url in (RECORD, f"{RECORD}.csv"):
        response = client.get(url)
        missing = client.get(url.replace(STUDENT_A, "S-NOBODY"))
        assert response.status_code == missing.status_code == 404
        assert response.text.replace(STUDENT_A, "S-NOBODY") == missing.text
        assert "Lucía" not in response.text
    assert make_client().get(f"{RECORD}.csv").headers["location"] == "/signin"
