"""Every route of the desk, walked as an anonymous visitor, two case managers and an administrator.

A new route fails `test_every_route_is_in_the_table` until it is added to ROUTES with the
access it needs, and then the walk checks it for every role.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from iep_followup.meetingfile import parse_meeting
from iep_followup.meetingform import from_record
from iep_followup.tracker import Tracker
from iep_followup.web import create_app
from iep_followup.web.security import Access, route_access
from tests.conftest import EXAMPLE
from tests.web.conftest import DeskClient
from tests.web.world import (
    ADMIN,
    CASE_MANAGER_A,
    CASE_MANAGER_B,
    STUDENT_A,
    World,
)

# (method, path) -> what guards it: "public", "reader" (any signed-in reader), or "caseload"
# (a reader whose caseload holds the student, or the students of the held reply's request;
# else 404), or
# "meeting" (a reader the meeting file names as case manager, or an admin; else 403), or
# "admin" (an administrator only; else 404).
ROUTES = {
    ("GET", "/"): "reader",
    ("GET", "/students/{external_id}"): "caseload",
    ("GET", "/students/{external_id}/record"): "caseload",
    ("GET", "/students/{external_id}/record.csv"): "caseload",
    ("GET", "/students/{external_id}/access"): "caseload",
    ("GET", "/students/{external_id}/forget"): "admin",
    # Walked with the wrong id typed: the administrator is asked again (test_forget_desk.py).
    ("POST", "/students/{external_id}/forget"): "admin",
    ("POST", "/students/{external_id}/items/{item_id:int}/reassign"): "caseload",
    ("POST", "/students/{external_id}/items/{item_id:int}/reschedule"): "caseload",
    ("POST", "/students/{external_id}/items/{item_id:int}/close"): "caseload",
    ("POST", "/students/{external_id}/items/{item_id:int}/reopen"): "caseload",
    ("POST", "/students/{external_id}/items/{item_id:int}/record"): "caseload",
    ("POST", "/students/{external_id}/team/{person_id:int}/clear-failing"): "caseload",
    ("POST", "/students/{external_id}/team/{person_id:int}/away"): "caseload",
    ("GET", "/held"): "reader",
    ("GET", "/meetings/new"): "reader",
    ("POST", "/meetings/preview"): "meeting",
    ("POST", "/meetings"): "meeting",
    ("GET", "/meetings/form"): "reader",
    ("POST", "/meetings/form"): "meeting",
    ("GET", "/students/{external_id}/meeting"): "caseload",
    ("GET", "/held/{inbound_id:int}"): "caseload",
    ("POST", "/held/{inbound_id:int}/release"): "caseload",
    ("POST", "/held/{inbound_id:int}/apply"): "caseload",
    ("POST", "/held/{inbound_id:int}/dismiss"): "caseload",
    ("GET", "/signin"): "public",
    ("POST", "/signin"): "public",
    ("GET", "/signin/sent"): "public",
    ("GET", "/signin/{token}"): "public",
    ("POST", "/signin/{token}"): "public",
    ("POST", "/signout"): "reader",
    ("POST", "/language"): "public",
    # Anyone holding a request's answer link: the signed token is the access (test_answers.py).
    ("GET", "/answer/{token}"): "public",
    ("POST", "/answer/{token}"): "public",
    # District IT's probes (test_health.py); /metrics also checks who asks (test_metrics.py).
    ("GET", "/healthz"): "public",
    ("GET", "/readyz"): "public",
    ("GET", "/metrics"): "metrics",
}
FORMS = {
    "/meetings/preview": {"meeting": EXAMPLE.read_text(encoding="utf-8")},
    "/meetings": {"meeting": EXAMPLE.read_text(encoding="utf-8")},
    # The example meeting through the form, saved ("check" is walked in test_meeting_form.py).
    "/meetings/form": {
        **from_record(parse_meeting(EXAMPLE.read_text(encoding="utf-8"))),
        "action": "save",
    },
    "/signin": {"email": "nobody@example.com"},
    "/language": {"language": "es", "next": "/"},
    "/held/{inbound_id:int}/dismiss": {"reason": "checked with Rosa"},
    "/held/{inbound_id:int}/apply": {"item": "{item_id:int}"},
    "/students/{external_id}/items/{item_id:int}/reassign": {"owner": "{person_id}", "reason": "r"},
    "/students/{external_id}/items/{item_id:int}/reschedule": {
        "due_on": "2027-01-15",
        "reason": "r",
    },
    "/students/{external_id}/items/{item_id:int}/close": {"outcome": "done", "reason": "r"},
    "/students/{external_id}/items/{item_id:int}/reopen": {"reason": "r"},
    "/students/{external_id}/items/{item_id:int}/record": {"note": "told me"},
    "/students/{external_id}/team/{person_id:int}/away": {"away_until": ""},
    "/students/{external_id}/forget": {"confirm": "not-the-id"},
}
ROLES = {
    "anonymous": None,
    "case manager A": CASE_MANAGER_A,
    "case manager B": CASE_MANAGER_B,
    "admin": ADMIN,
}


def _routes() -> list[tuple[str, str, Route]]:
    app = create_app(Tracker.__new__(Tracker))
    found = []
    for route in app.routes:
        if isinstance(route, Mount):
            assert route.path == "/static", f"an unknown mount {route.path}"
            continue
        assert isinstance(route, Route), (
            f"{route!r} is not a page: declare it with web.security.page"
        )
        for method in sorted((route.methods or set()) - {"HEAD"}):
            found.append((method, route.path, route))
    return found


def test_every_route_is_in_the_table() -> None:
    walked = set()
    for method, path, route in _routes():
        assert (method, path) in ROUTES, f"{method} {path} is not in the route table of this test"
        access = route_access(route)
        assert access is not None, f"{method} {path} was not declared through web.security.page"
        expected = Access.PUBLIC if ROUTES[method, path] in {"public", "metrics"} else Access.READER
        assert access is expected, f"{method} {path} is {access}, the table says {expected}"
        walked.add((method, path))
    assert walked == set(ROUTES)


def _url(path: str, world: World, token: str) -> str:
    status = world.tracker.student_status(STUDENT_A)
    item = status.items[0]
    other = next(m for m in status.members if m.email != item.owner_email)
    return (
        path.replace("{external_id}", STUDENT_A)
        .replace("{inbound_id:int}", str(world.held_id))
        .replace("{item_id:int}", str(item.id))
        .replace("{person_id:int}", str(other.person_id))
        .replace("{person_id}", str(other.person_id))
        .replace("{token}", token)
    )


@pytest.mark.parametrize("role", list(ROLES))
def test_every_route_checks_who_is_asking(
    role: str, world: World, make_client: Callable[..., DeskClient]
) -> None:
    email = ROLES[role]
    client = make_client(email)
    csrf = client.csrf or None
    # Releasing or applying before dismissing would leave nothing to dismiss: walk dismiss
    # first (test_held_items.py applies one); and close an item only after the other changes.
    order = sorted(
        _routes(),
        key=lambda r: (r[1].endswith(("/release", "/apply")), r[1].endswith("/close")),
    )
    for method, path, _route in order:
        if (method, path) == ("POST", "/signout"):
            continue  # walked last: it ends the session
        # A link that does not work: a real one would sign the anonymous visitor in.
        url = _url(path, world, "no-such-link-token")
        if method == "GET":
            response = client.get(url)
        else:
            if csrf is None:
                csrf = client.cookies.get("iep_csrf") or _anonymous_csrf(client)
            form = {k: _url(v, world, "") for k, v in FORMS.get(path, {}).items()}
            response = client.post(url, data={"csrf": csrf, **form})
        _check(role, method, path, ROUTES[method, path], response.status_code, response.headers)
    response = client.post("/signout", data={"csrf": csrf or ""})
    _check(role, "POST", "/signout", "reader", response.status_code, response.headers)


def _anonymous_csrf(client: TestClient) -> str:
    client.get("/signin")
    return str(client.cookies.get("iep_csrf"))


def _check(role: str, method: str, path: str, guard: str, status: int, headers: object) -> None:
    where = f"{role}: {method} {path} answered {status}"
    location = getattr(headers, "get", lambda _k: None)("location")
    if guard == "public":
        assert status < 500 and status not in {403, 404}, where
        return
    if guard == "metrics":  # the test client is not on loopback and has no token
        assert status == 404, where
        return
    if role == "anonymous":
        assert (status, location) == (303, "/signin"), where
        return
    if guard == "caseload" and role == "case manager B":
        assert status == 404, where
        return
    if guard == "admin":
        assert status == (400 if method == "POST" else 200) if role == "admin" else 404, where
        return
    if guard == "meeting":  # the example meeting is case manager A's
        ok = 200 if path.endswith("/preview") else 303
        assert status == (403 if role == "case manager B" else ok), where
        return
    # Dismissing first leaves the reply no longer held: releasing or applying it then is
    # "not found".
    if path.endswith(("/release", "/apply")):
        assert status == 404, where
        return
    assert status == (200 if method == "GET" else 303), where
