"""Signing in and out, CSRF, cookies, headers, rate limits and the audit log, through the ASGI client."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from sqlmodel import col, select
from starlette.testclient import TestClient

from iep_followup.desk import LINKS_PER_ADDRESS, LINKS_PER_CLIENT
from iep_followup.errors import NotFoundError
from iep_followup.inbound.outcome import InboundOutcome
from iep_followup.store.web import AuditEntry, SignInLink
from iep_followup.tracker import Tracker
from iep_followup.web.i18n import HERE
from tests.conftest import Clock
from tests.smtp_server import SmtpServer
from tests.web.conftest import DeskClient, csrf_of
from tests.web.world import (
    ADMIN,
    CASE_MANAGER_A,
    CASE_MANAGER_B,
    STUDENT_A,
    STUDENT_B,
    World,
    deliver,
    sign_in_links,
)

SECURITY_HEADERS = {
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
}


def _ask(client: TestClient, email: str) -> tuple[int, str]:
    form = client.get("/signin")
    response = client.post("/signin", data={"csrf": csrf_of(form.text), "email": email})
    return response.status_code, response.headers.get("location", "")


def test_a_link_is_emailed_only_to_those_who_may_sign_in_and_the_page_answers_the_same(
    world: World, make_client: Callable[..., DeskClient], smtp_server: SmtpServer
) -> None:
    client = make_client()
    answers = {
        email: _ask(client, email)
        for email in (CASE_MANAGER_A, ADMIN, "tom.okafor@lincoln.example.org", "x@nowhere.example")
    }
    assert set(answers.values()) == {(303, "/signin/sent")}
    deliver(world.tracker, smtp_server)
    sent = [r.rcpt_tos[0] for r in smtp_server.received if r.message["X-IEP-Followup"] == "sign_in"]
    assert sorted(sent) == sorted([CASE_MANAGER_A, ADMIN])
    # The email holds the link; the database only its hash.
    [link] = sign_in_links(smtp_server, CASE_MANAGER_A)
    token = link.rsplit("/", 1)[1]
    with world.tracker.database.transaction() as session:
        stored = session.exec(select(SignInLink)).all()
    assert all(token not in row.token_hash for row in stored)
    html = next(r for r in smtp_server.received if r.rcpt_tos == [CASE_MANAGER_A]).message
    assert html.get_body(("html",)) is not None


def test_opening_the_link_changes_nothing_and_only_the_button_signs_in(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    client = make_client()
    link = world.tracker.sign_in_link(CASE_MANAGER_A).removeprefix("http://testserver")
    for _ in range(3):  # a mail scanner, a preview, the person
        page = client.get(link)
        assert page.status_code == 200 and "Press the button" in page.text
    assert client.get("/").status_code == 303
    done = client.post(link, data={"csrf": csrf_of(page.text)})
    assert (done.status_code, done.headers["location"]) == (303, "/")
    assert "Lucía Herrera" in client.get("/").text


def test_a_used_or_expired_link_is_refused_with_a_clear_page(
    world: World, make_client: Callable[..., DeskClient], clock: Clock
) -> None:
    first = make_client()
    link = world.tracker.sign_in_link(CASE_MANAGER_A).removeprefix("http://testserver")
    csrf = csrf_of(first.get(link).text)
    assert first.post(link, data={"csrf": csrf}).status_code == 303
    second = make_client()
    again = second.get(link)
    assert again.status_code == 400 and "already used" in again.text
    refused = second.post(link, data={"csrf": csrf_of(again.text)})
    assert refused.status_code == 400 and second.get("/").status_code == 303

    old = world.tracker.sign_in_link(CASE_MANAGER_A).removeprefix("http://testserver")
    clock.now += timedelta(minutes=15)
    late = second.get(old)
    assert late.status_code == 400 and "too old" in late.text
    assert second.post(old, data={"csrf": csrf_of(late.text)}).status_code == 400


def test_a_post_without_the_right_csrf_token_is_refused(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    client = make_client(CASE_MANAGER_A)
    for data in ({}, {"csrf": "wrong"}, {"csrf": csrf_of(make_client().get("/signin").text)}):
        response = client.post(f"/held/{world.held_id}/release", data=data)
        assert response.status_code == 403
    assert world.tracker.inbox(held_only=True)  # still held
    anonymous = make_client()
    assert anonymous.post("/signin", data={"email": CASE_MANAGER_A}).status_code == 403


def test_the_session_cookie_is_httponly_lax_and_secure_behind_https(
    make_tracker: Callable[..., Tracker], world: World
) -> None:
    from iep_followup.web import create_app

    for base, secure in (("http://testserver", False), ("https://testserver", True)):
        tracker = make_tracker(admins=ADMIN, web_url=base)
        with TestClient(create_app(tracker), base_url=base, follow_redirects=False) as client:
            link = tracker.sign_in_link(CASE_MANAGER_A).removeprefix(base)
            page = client.get(link)
            cookie = client.post(link, data={"csrf": csrf_of(page.text)}).headers["set-cookie"]
        assert "iep_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert ("Secure" in cookie) is secure


def test_every_response_carries_the_security_headers(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    client = make_client(CASE_MANAGER_A)
    for path in ("/", "/signin", f"/students/{STUDENT_A}", "/no/such/page", "/static/desk.css"):
        headers = client.get(path).headers
        for name, value in SECURITY_HEADERS.items():
            assert headers[name] == value, path
        csp = headers["content-security-policy"]
        assert (
            "frame-ancestors 'none'" in csp
            and "script-src" not in csp
            and "default-src 'none'" in csp
        )


def test_another_caseloads_student_is_not_found_exactly_like_a_missing_one(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    client = make_client(CASE_MANAGER_A)
    other = client.get(f"/students/{STUDENT_B}")
    missing = client.get("/students/S-NOPE")
    assert other.status_code == missing.status_code == 404
    # Only the page's own address (kept for the language switch) differs.
    assert other.text.replace(STUDENT_B, "?") == missing.text.replace("S-NOPE", "?")
    admin = make_client(ADMIN)
    assert admin.get(f"/students/{STUDENT_B}").status_code == 200
    caseload_b = make_client(CASE_MANAGER_B).get("/").text
    assert "Sam Ortiz" in caseload_b and "Lucía Herrera" not in caseload_b


def test_a_session_ends_after_8_idle_hours_and_on_sign_out_everywhere(
    world: World, make_client: Callable[..., DeskClient], clock: Clock
) -> None:
    laptop, phone = make_client(CASE_MANAGER_A), make_client(CASE_MANAGER_A)
    clock.now += timedelta(hours=7, minutes=59)
    assert laptop.get("/").status_code == 200  # used: the idle time starts again
    clock.now += timedelta(hours=7, minutes=59)
    assert laptop.get("/").status_code == 200
    assert phone.get("/").status_code == 303  # idle 16 hours
    phone = make_client(CASE_MANAGER_A)
    out = laptop.post("/signout", data={"csrf": laptop.csrf, "everywhere": "1"})
    assert out.status_code == 303
    assert laptop.get("/").status_code == phone.get("/").status_code == 303


def test_sign_in_requests_are_limited_per_address_and_per_client(
    world: World, make_client: Callable[..., DeskClient], smtp_server: SmtpServer
) -> None:
    client = make_client()
    for _ in range(LINKS_PER_ADDRESS + 2):
        assert _ask(client, CASE_MANAGER_A) == (303, "/signin/sent")
    deliver(world.tracker, smtp_server)
    assert len(sign_in_links(smtp_server, CASE_MANAGER_A)) == LINKS_PER_ADDRESS
    for n in range(LINKS_PER_CLIENT - LINKS_PER_ADDRESS - 2):
        assert _ask(client, f"someone{n}@example.com")[0] == 303
    status, _ = _ask(client, ADMIN)
    assert status == 429


def test_releasing_and_dismissing_are_recorded_with_who_did_it(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    client = make_client(CASE_MANAGER_A)
    page = client.get(f"/held/{world.held_id}")
    assert "listo" in page.text and "tom.okafor@lincoln.example.org" in page.text
    done = client.post(f"/held/{world.held_id}/release", data={"csrf": client.csrf})
    assert (done.status_code, done.headers["location"]) == (303, "/held?done=released")
    [message] = [m for m in world.tracker.inbox() if m.id == world.held_id]
    assert message.outcome is InboundOutcome.APPLIED
    with world.tracker.database.transaction() as session:
        actions = [
            (a.action, a.actor)
            for a in session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))
        ]
    assert ("signed_in", CASE_MANAGER_A) in actions and ("released", CASE_MANAGER_A) in actions
    student = client.get(f"/students/{STUDENT_A}").text
    assert "Tom Okafor" in student  # the update, with its author, in the item's history


def test_the_language_choice_is_remembered(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    client = make_client(CASE_MANAGER_A)
    assert "Caseload" in client.get("/").text
    chosen = client.post(
        "/language", data={"csrf": client.csrf, "language": "es", "next": "//evil.example/"}
    )
    assert chosen.headers["location"] == "/"
    page = client.get("/").text
    assert '<html lang="es">' in page and "Estudiantes a cargo" in page and "Próximo paso" in page


def test_every_desk_message_has_a_spanish_translation() -> None:
    wanted = {
        m if isinstance(m, str) else m[0]
        for _f, _l, m, _c, _x in extract_from_dir(
            HERE / "templates",
            [("**.html", "jinja2")],
            options_map={"**.html": {"trim_blocks": "true", "lstrip_blocks": "true"}},
        )
    }
    with (HERE / "locale" / "es" / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalog = read_po(source)
    translated = {
        m.id if isinstance(m.id, str) else m.id[0]
        for m in catalog
        if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    assert len(wanted) > 50
    assert wanted - translated == set()


def test_a_printed_link_is_refused_to_someone_who_may_not_sign_in(world: World) -> None:
    with pytest.raises(NotFoundError, match="neither a case manager"):
        world.tracker.sign_in_link("tom.okafor@lincoln.example.org")
