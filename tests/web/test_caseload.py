"""The caseload page: filter by what needs attention or by text, sort, and a bounded number of queries."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event

from iep_followup.tracker import Tracker
from tests.web.conftest import DeskClient
from tests.web.world import ADMIN, CASE_MANAGER_B, STUDENT_A, STUDENT_B, World, beas_student

STUDENT_LINK = re.compile(r'<a href="/students/([^"]+)">')


def _students(client: DeskClient, query: str = "") -> list[str]:
    response = client.get(f"/{query}")
    assert response.status_code == 200
    return STUDENT_LINK.findall(response.text)


def test_filter_by_attention_and_text_and_sort(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    client = make_client(ADMIN)
    audit = world.tracker.desk_audit()
    assert sorted(_students(client)) == sorted([STUDENT_A, STUDENT_B])
    assert _students(client, "?q=sam") == [STUDENT_B]
    assert _students(client, "?q=S-2026") == [STUDENT_A]
    assert _students(client, "?q=LINCOLN&sort=name") == [STUDENT_A, STUDENT_B]  # Lucía, Sam
    assert _students(client, "?need=held") == [STUDENT_A]  # Tom Okafor's reply is held
    assert _students(client, "?need=blocked") == []
    empty = client.get("/?need=failing&q=nobody")
    assert "No student matches." in empty.text and 'value="nobody"' in empty.text
    assert sorted(_students(client, "?need=bogus&sort=bogus")) == sorted([STUDENT_A, STUDENT_B])
    assert world.tracker.desk_audit() == audit  # a GET only reads


def _add_students(tracker: Tracker, count: int, start: int) -> None:
    for n in range(start, start + count):
        tracker.record_meeting(beas_student(f"S-B{n}", f"Student {n}"))


@contextmanager
def _counting(tracker: Tracker) -> Iterator[list[str]]:
    statements: list[str] = []

    def on_execute(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        statements.append(statement)

    event.listen(tracker.database.engine, "before_cursor_execute", on_execute)
    try:
        yield statements
    finally:
        event.remove(tracker.database.engine, "before_cursor_execute", on_execute)


def test_the_caseload_runs_the_same_queries_whatever_its_size(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    tracker = world.tracker
    client = make_client(CASE_MANAGER_B)
    counts: list[int] = []
    for more in (0, 1, 6):
        _add_students(tracker, more, start=len(counts) * 10)
        client.get("/")  # the session's last-seen write is not part of what is counted
        with _counting(tracker) as statements:
            shown = _students(client, "?sort=name")
        counts.append(len(statements))
    assert len(shown) == 1 + 1 + 6
    assert counts[0] == counts[1] == counts[2], counts
    assert counts[0] > 5  # the listener saw the page's queries
