"""Sign-in at its edges: "email me a link" does the same work before it answers for any address,
and the pre-sign-in CSRF cookie is signed (and `__Host-` on https).

No timings: the statements the database runs before the answer's first byte are compared
(a case manager's address took 7.9 ms against 4.8 ms for an unknown one, over HTTP).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from iep_followup.desk import FORM_TOKEN_HOURS, LINKS_PER_ADDRESS
from iep_followup.tracker import Tracker
from iep_followup.web import create_app
from tests.conftest import Clock
from tests.web.conftest import DeskClient, csrf_of
from tests.web.world import ADMIN, CASE_MANAGER_A, World

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


def _signed_out(tracker: Tracker, base_url: str = "http://testserver") -> DeskClient:
    return DeskClient(create_app(tracker), base_url=base_url, follow_redirects=False)


def test_a_planted_csrf_cookie_is_refused_and_replaced(world: World) -> None:
    # A sibling subdomain (or a script on plain http) sets iep_csrf to a value it knows, then
    # posts a form carrying that value: it was accepted as a double submit.
    planted = "A" * 32
    with _signed_out(world.tracker) as client:
        client.cookies.set("iep_csrf", planted)
        forged = client.post("/signin", data={"csrf": planted, "email": CASE_MANAGER_A})
        assert forged.status_code == 403
        # Its own page gets a signed value in a new cookie, and that one works.
        page = client.get("/signin")
        token = csrf_of(page.text)
        assert token != planted and page.cookies.get("iep_csrf") == token
        assert client.post("/signin", data={"csrf": token, "email": UNKNOWN}).status_code == 303


def test_a_csrf_value_from_another_secret_or_past_its_hours_is_refused(
    world: World, make_tracker: Callable[..., Tracker], clock: Clock
) -> None:
    other = make_tracker(secret_key="another-secret-of-another-district-0123")
    assert not world.tracker.desk_form_token_is_ours(other.desk_form_token())
    token = world.tracker.desk_form_token()
    assert world.tracker.desk_form_token_is_ours(token)
    # One character of the signature changed (never to itself: a token ending in "a" made
    # the old "+ 'a'" a copy of the token, one time in 32).
    altered = token[:-1] + ("b" if token.endswith("a") else "a")
    assert not world.tracker.desk_form_token_is_ours(altered)
    assert not world.tracker.desk_form_token_is_ours(token.replace(".", "-", 1))
    clock.now += timedelta(hours=FORM_TOKEN_HOURS, minutes=1)
    assert not world.tracker.desk_form_token_is_ours(token)
    with _signed_out(world.tracker) as client:
        client.cookies.set("iep_csrf", token)
        assert client.post("/signin", data={"csrf": token, "email": UNKNOWN}).status_code == 403


def test_on_https_the_csrf_cookie_is_host_only_and_secure(
    make_tracker: Callable[..., Tracker], world: World
) -> None:
    tracker = make_tracker(web_url="https://desk.example.org", admins=ADMIN)
    with _signed_out(tracker, "https://testserver") as client:
        page = client.get("/signin")
        cookie = page.headers["set-cookie"]
        assert cookie.startswith("__Host-iep_csrf=")
        parts = {p.strip().split("=")[0].lower() for p in cookie.split(";")}
        assert {"secure", "path", "httponly"} <= parts and "domain" not in parts
        assert "path=/" in cookie.lower().replace(" ", "")
        token = csrf_of(page.text)
        assert client.post("/signin", data={"csrf": token, "email": UNKNOWN}).status_code == 303
    # A cookie without the prefix (what a sibling subdomain can set) is not read on https,
    # even when it holds a value this desk signed.
    with _signed_out(tracker, "https://testserver") as client:
        client.cookies.set("iep_csrf", token)
        assert client.post("/signin", data={"csrf": token, "email": UNKNOWN}).status_code == 403
