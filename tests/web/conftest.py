"""Fixtures for the desk: a tracker on the test database with an SMTP sink, the app, signed-in clients."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from iep_followup.tracker import Tracker
from iep_followup.web import create_app
from tests.conftest import Clock
from tests.smtp_server import SmtpServer
from tests.web.world import ADMIN, World, build_world

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class DeskClient(TestClient):
    """A test client that remembers the CSRF token of its session (empty before sign-in)."""

    csrf = ""


@pytest.fixture
def desk_tracker(make_tracker: Callable[..., Tracker], smtp_server: SmtpServer) -> Tracker:
    return make_tracker(smtp_url=smtp_server.url, admins=ADMIN, web_url="http://testserver")


@pytest.fixture
def world(desk_tracker: Tracker, clock: Clock, smtp_server: SmtpServer) -> World:
    return build_world(desk_tracker, clock, smtp_server)


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(client: TestClient, tracker: Tracker, email: str) -> str:
    """Signs `client` in through a printed link, as a person would; returns the CSRF token."""
    link = tracker.sign_in_link(email).removeprefix("http://testserver")
    page = client.get(link)
    assert page.status_code == 200
    done = client.post(link, data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert done.status_code == 303, done.text
    return csrf_of(client.get("/").text)


@pytest.fixture
def make_client(desk_tracker: Tracker) -> Iterator[Callable[..., DeskClient]]:
    clients: list[DeskClient] = []

    def make(email: str | None = None, **options: Any) -> DeskClient:
        client = DeskClient(create_app(desk_tracker), follow_redirects=False, **options)
        client.__enter__()
        clients.append(client)
        if email is not None:
            client.csrf = sign_in(client, desk_tracker, email)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)
