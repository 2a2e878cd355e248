"""Sign-in at its edges: "email me a link" does the same work before it answers for any address,
and the pre-sign-in CSRF cookie is signed (and `__Host-` on https).

No timings: the statements the database runs before the answer's first byte are compared
(a case manager's address took 7.9 ms against 4.8 ms for an unknown one, over HTTP).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from iep_followup.desk import LINKS_PER_ADDRESS
from iep_followup.tracker import Tracker
from iep_followup.web import create_app
from tests.web.conftest import DeskClient, csrf_of
from tests.web.world import CASE_MANAGER_A, World

UNKNOWN = "nobody.here@school.example.org"


class _AnswerWatch:
    """Marks when the response starts, so the statements before it can be told apart."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.answered = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def watched(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.answered = True
            await send(message)

        await self.app(scope, receive, watched)


@contextmanager
def _statements(tracker: Tracker, watch: _AnswerWatch) -> Iterator[tuple[list[str], list[str]]]:
    before: list[str] = []
    after: list[str] = []

    def record(*args: Any) -> None:
        (after if watch.answered else before).append(args[2])  # the statement's text

    engine = tracker.database.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield before, after
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _ask(tracker: Tracker, email: str) -> tuple[int, list[str], list[str]]:
    watch = _AnswerWatch(create_app(tracker))
    with DeskClient(watch, follow_redirects=False) as client:
        token = csrf_of(client.get("/signin").text)
        watch.answered = False
        with _statements(tracker, watch) as (before, after):
            answer = client.post("/signin", data={"csrf": token, "email": email})
    return answer.status_code, before, after


def test_asking_for_a_link_does_the_same_work_before_answering_for_any_address(
    world: World,
) -> None:
    tracker = world.tracker
    queued = len(tracker.outbox())
    known = _ask(tracker, CASE_MANAGER_A)
    unknown = _ask(tracker, UNKNOWN)
    assert known[0] == unknown[0] == 303
    # Before the answer: the same statements, in the same order (the limit, the audit row).
    assert known[1] == unknown[1] and known[1]
    # After it, the case manager's link was written and queued; nothing for the stranger.
    assert any("INSERT INTO outbox" in s for s in known[2])
    assert not any("INSERT INTO outbox" in s for s in unknown[2])
    assert [m.to_address for m in tracker.outbox()[queued:]] == [CASE_MANAGER_A]


def test_the_per_address_limit_still_holds_after_the_answer(world: World) -> None:
    tracker = world.tracker
    queued = len(tracker.outbox())
    sent = [tracker.request_sign_in(CASE_MANAGER_A, client=f"10.0.0.{n}") for n in range(7)]
    assert sent == [True] * LINKS_PER_ADDRESS + [False] * (7 - LINKS_PER_ADDRESS)
    assert len(tracker.outbox()) - queued == LINKS_PER_ADDRESS
