"""Forgetting a student, from the desk: only the permanent record stays (name, id, school,
grade, meeting dates); no trace of the family, the replies or the notes is left anywhere in
the database; the access log and the forgetting stay on record; another student is untouched."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from datetime import date

from sqlalchemy import text

from iep_followup.desk import ItemAction, ItemChange, Reader
from iep_followup.domain import ConcernInfo, ItemInfo, Role, StudentInfo, UpdateInput
from iep_followup.privacy import Access
from iep_followup.tracker import Tracker
from tests.conftest import make_member, make_record
from tests.mailclient import reply
from tests.web.conftest import DeskClient
from tests.web.world import ADMIN, CASE_MANAGER_A, STUDENT_A, STUDENT_B, World

ROSA = "rosa.herrera@example.com"
# What must not survive: the family's name and address, their words and everyone's notes.
TRACES = (
    "Rosa Herrera",
    ROSA,
    "kitchen-table-7781",  # Rosa's own reply
    "note-marker-9931",  # an update's note
    "reason-marker-5521",  # a desk change's reason (the item's history and the desk's audit)
    "Lucía is polite to adults",  # a strength
    "homework each night and sign her planner",  # an item's title
    "Lucía does not turn in her homework",  # a concern
)
HEX = re.compile(r"X'([0-9A-Fa-f]*)'")


def dump(tracker: Tracker) -> str:
    """Every value in the database as text. SQLite: its iterdump (blobs decoded from hex);
    PostgreSQL: every text, character, JSON and bytea column of every table."""
    path = tracker.database.sqlite_path()
    if path is not None:
        with sqlite3.connect(path) as connection:
            lines = list(connection.iterdump())
        blobs = [bytes.fromhex(h).decode("utf-8", "replace") for h in HEX.findall("\n".join(lines))]
        return "\n".join(lines + blobs)
    found: list[str] = []
    with tracker.database.engine.connect() as connection:
        columns = connection.execute(
            text(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'public' AND data_type IN "
                "('text', 'character varying', 'json', 'jsonb', 'bytea')"
            )
        ).all()
        for table, column, kind in columns:
            for (value,) in connection.execute(text(f'SELECT "{column}" FROM "{table}"')):
                if value is None:
                    continue
                found.append(
                    bytes(value).decode("utf-8", "replace") if kind == "bytea" else str(value)
                )
    return "\n".join(found)


def _sams_record(tracker: Tracker) -> object:
    status = tracker.student_status(STUDENT_B)
    return status, [tracker.history(item.id) for item in status.items]


def _leave_traces(world: World, client: DeskClient) -> None:
    tracker = world.tracker
    done = tracker.ingest(reply(world.requests[ROSA], "A1 done\nkitchen-table-7781 we did it"))
    assert done.inbound_id is not None
    item = tracker.student_status(STUDENT_A).items[0]
    tracker.record_update(item.id, UpdateInput(note="note-marker-9931"))
    moved = client.post(
        f"/students/{STUDENT_A}/items/{item.id}/reschedule",
        data={"csrf": client.csrf, "due_on": "2027-02-01", "reason": "reason-marker-5521"},
    )
    assert moved.status_code == 303
    tracker.request_sign_in(ROSA, client="203.0.113.9")  # refused, but audited with her address
    assert client.get(f"/students/{STUDENT_A}").status_code == 200
    assert client.get(f"/held/{world.held_id}").status_code == 200


def test_forgetting_leaves_only_the_permanent_record_and_the_log(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    tracker = world.tracker
    _leave_traces(world, make_client(CASE_MANAGER_A))
    before = dump(tracker)
    for trace in TRACES:
        assert trace in before, trace  # the test could fail: each was in the database
    sam = _sams_record(tracker)
    meetings = _meeting_dates(tracker)

    admin = make_client(ADMIN)
    form = admin.get(f"/students/{STUDENT_A}/forget")
    assert form.status_code == 200
    assert "family members (name and address): 1" in form.text
    assert ROSA in dump(tracker)  # looking at what would go removes nothing
    wrong = admin.post(
        f"/students/{STUDENT_A}/forget", data={"csrf": admin.csrf, "confirm": STUDENT_B}
    )
    assert wrong.status_code == 400
    assert ROSA in dump(tracker)
    done = admin.post(
        f"/students/{STUDENT_A}/forget", data={"csrf": admin.csrf, "confirm": STUDENT_A}
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/students/{STUDENT_A}/access?done=forgotten"

    after = dump(tracker)
    assert [trace for trace in TRACES if trace in after] == []
    # The permanent record: name, id, school, grade, and the meetings' dates.
    status = tracker.student_status(STUDENT_A)
    assert (status.name, status.school, status.grade) == (
        "Lucía Herrera",
        "Lincoln Elementary",
        "3",
    )
    assert status.items == () and status.strengths == ()
    assert _meeting_dates(tracker) == meetings
    # On record: who looked, and who forgot, when and from where.
    log = tracker.access_log(STUDENT_A)
    forgotten = [e for e in log if e.action is Access.FORGOTTEN]
    assert [(e.actor, e.client) for e in forgotten] == [(ADMIN, "testclient")]
    assert "family 1" in forgotten[0].detail
    assert (CASE_MANAGER_A, Access.VIEWED_STUDENT) in {(e.actor, e.action) for e in log}
    assert (CASE_MANAGER_A, Access.VIEWED_HELD) in {(e.actor, e.action) for e in log}
    page = admin.get(done.headers["location"])
    assert page.status_code == 200 and "forgot the student" in page.text
    # Sam's record, his family and his team's words: all as they were.
    assert _sams_record(tracker) == sam
    assert "rosa@home.example.com" in after
    path = tracker.database.sqlite_path()
    if path is not None:  # nor does the file itself, once its write-ahead log is checkpointed
        tracker.close()
        with sqlite3.connect(path) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        raw = path.read_bytes()
        assert [t for t in TRACES if t.encode() in raw] == []


def test_a_case_manager_cannot_forget_and_the_command_line_counts_first(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    tracker = world.tracker
    client = make_client(CASE_MANAGER_A)
    assert client.get(f"/students/{STUDENT_A}/forget").status_code == 404
    refused = client.post(
        f"/students/{STUDENT_A}/forget", data={"csrf": client.csrf, "confirm": STUDENT_A}
    )
    assert refused.status_code == 404
    dry = tracker.forget_student(STUDENT_A)
    assert not dry.done and dry.counts["family"] == 1 and dry.counts["items"] > 0
    assert ROSA in dump(tracker)
    done = tracker.forget_student(STUDENT_A, apply=True)
    assert done.counts == dry.counts
    assert ROSA not in dump(tracker)
    again = tracker.forget_student(STUDENT_A)
    assert again.counts["items"] == again.counts["family"] == 0
    [entry] = [e for e in tracker.access_log(STUDENT_A) if e.action is Access.FORGOTTEN]
    assert (entry.actor, entry.client) == ("cli", "cli")


def test_a_parent_and_staff_on_a_siblings_team_stay_for_that_team(world: World) -> None:
    tracker = world.tracker
    tom = "tom.okafor@lincoln.example.org"
    tracker.record_meeting(
        make_record(
            student=StudentInfo("S-SIB", "Mateo Herrera", "Lincoln Elementary", "1"),
            members=(
                make_member("Dana Whitfield", Role.CASE_MANAGER, email=CASE_MANAGER_A),
                make_member("Tom Okafor", Role.CLASSROOM_TEACHER, email=tom),
                make_member("Rosa Herrera", Role.PARENT, email=ROSA, language="es"),
            ),
            strengths=(),
            concerns=(
                ConcernInfo(
                    "reading",
                    "Mateo reads slowly.",
                    None,
                    (ItemInfo("read", "Read together", ROSA, date(2027, 1, 29)),),
                ),
            ),
        )
    )
    sibling = tracker.student_status("S-SIB")
    tracker.forget_student(STUDENT_A, apply=True)
    assert tracker.student_status("S-SIB") == sibling
    kept = {m.email for m in tracker.student_status(STUDENT_A).members}
    assert kept == {CASE_MANAGER_A, tom}  # staff on another team keep their place
    reader = Reader(CASE_MANAGER_A, "Dana", "en", is_admin=False)
    assert tracker.desk_student(reader, STUDENT_A, client="test").status.items == ()
    item = sibling.items[0]
    tracker.desk_change_item(
        reader,
        "S-SIB",
        item.id,
        ItemAction(ItemChange.RESCHEDULE, "still works", None, date(2027, 2, 2)),
        client="test",
    )
    assert tracker.student_status("S-SIB").items[0].due_on == date(2027, 2, 2)


def _meeting_dates(tracker: Tracker) -> list[object]:
    with tracker.database.engine.connect() as connection:
        return list(
            connection.execute(
                text(
                    "SELECT held_on, kind FROM meeting JOIN student ON student.id = "
                    "meeting.student_id WHERE student.external_id = :s ORDER BY held_on"
                ),
                {"s": STUDENT_A},
            ).all()
        )
