"""One-tap answers in a real browser (Debian's Chromium): a button of a delivered request, a note,
one confirm; axe-core and 360 px on every page; a replayed POST records nothing new; a routine's
answer with its minutes."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from typing import Any

import pytest

from iep_followup.config import Settings
from iep_followup.domain import ItemKind, ItemStatus, PeriodOutcome, UpdateSource
from tests.conftest import Clock
from tests.smtp_server import SmtpServer
from tests.web.test_answer_routines import Routine, ask_about_the_routine
from tests.web.test_browser import _check_accessibility as check_accessibility
from tests.web.test_browser import browser, served_desk
from tests.web.world import World, build_world

__all__ = ["browser"]  # the fixture, shared with the desk's browser tests

TOM = "tom.okafor@lincoln.example.org"
ROSA = "rosa.herrera@example.com"


@pytest.fixture
def answer_desk(
    make_settings: Callable[..., Settings], clock: Clock, smtp_server: SmtpServer
) -> Iterator[World]:
    """The test district, its requests delivered with links to the desk on loopback."""
    with served_desk(make_settings, clock, smtp_server) as (tracker, _url):
        yield build_world(tracker, clock, smtp_server)


def _button(message: EmailMessage, label: str) -> str:
    """The first button with this label in the HTML part, as a person would tap it."""
    markup = message.get_body(("html",))
    assert isinstance(markup, EmailMessage)
    found = re.search(rf'<a href="([^"]+)"[^>]*>{re.escape(label)}</a>', str(markup.get_content()))
    assert found, f"no {label} button"
    return html.unescape(found.group(1))


def test_an_owner_answers_an_item_from_the_email_in_two_taps(
    answer_desk: World, browser: Any
) -> None:
    tracker = answer_desk.tracker
    # Tom's own task; his accommodations' check-ins have no "In progress" button.
    [item] = [i for i in tracker.items(owner=TOM) if i.kind is not ItemKind.ACCOMMODATION]
    page = browser.new_context(locale="en-US").new_page()
    page.goto(_button(answer_desk.requests[TOM], "In progress"))
    page.get_by_role("heading", name="How is it going?").wait_for()
    check_accessibility(page, "answer")
    assert page.get_by_role("radio", name="In progress").is_checked()
    assert page.get_by_text("Lucía", exact=True).is_visible()
    assert tracker.history(item.id) == []  # opening the page recorded nothing

    page.get_by_label("A note for the team").fill("Two short sessions so far.")
    form = {name: page.locator(f'input[name="{name}"]').input_value() for name in ("csrf", "nonce")}
    action = page.locator("form").get_attribute("action")
    page.get_by_role("button", name="Send my answer").click()
    page.get_by_text("We saved your answer. The team will see it.").wait_for()
    check_accessibility(page, "answer recorded")
    assert "Two short sessions so far." in page.inner_text("main")

    [update] = tracker.history(item.id)
    assert (update.source, update.status, update.note) == (
        UpdateSource.WEB_LINK.value,
        ItemStatus.IN_PROGRESS,
        "Two short sessions so far.",
    )
    assert update.author_name == "Tom Okafor"

    # The same form again (a double tap, a resent request): nothing new is recorded.
    again = page.request.post(
        page.url.split("/answer/")[0] + str(action),
        form={**form, "choice": "in_progress", "note": "Two short sessions so far."},
    )
    assert again.ok and "We already have this answer" in again.text()
    assert len(tracker.history(item.id)) == 1


def test_a_family_answers_in_spanish(answer_desk: World, browser: Any) -> None:
    page = browser.new_context(locale="en-US").new_page()
    page.goto(_button(answer_desk.requests[ROSA], "Cambiar la fecha"))
    page.get_by_role("heading", name="¿Cómo va?").wait_for()
    check_accessibility(page, "answer in Spanish")
    assert page.get_by_role("radio", name="Cambiar la fecha").is_checked()
    page.get_by_role("button", name="Enviar mi respuesta").click()
    page.get_by_text("Por favor, elija la nueva fecha.").wait_for()
    check_accessibility(page, "answer with a problem")

    page.goto(page.url.split("/answer/")[0] + "/answer/t1-a1-aaaaaaaaaaaaaaaaaaaa")
    page.get_by_role("heading", name="This link does not work").wait_for()
    check_accessibility(page, "a link that does not work")


@pytest.fixture
def routine_desk(
    make_settings: Callable[..., Settings], clock: Clock, smtp_server: SmtpServer
) -> Iterator[tuple[Routine, str]]:
    """Ana's routine with service minutes, Kim asked about it, the desk on loopback."""
    with served_desk(make_settings, clock, smtp_server) as (tracker, url):
        yield ask_about_the_routine(tracker, clock, smtp_server, base=url), url


def test_an_owner_answers_a_routine_with_its_minutes(
    routine_desk: tuple[Routine, str], browser: Any
) -> None:
    routine, base = routine_desk
    page = browser.new_context(locale="en-US").new_page()
    page.goto(f"{base}{routine.path}?choice=yes")
    page.get_by_role("heading", name="How is it going?").wait_for()
    check_accessibility(page, "routine answer")
    assert page.get_by_role("radio", name="Yes, it happened").is_checked()
    page.get_by_label("Minutes this time").fill("45")
    page.get_by_role("button", name="Send my answer").click()
    page.get_by_text("We saved your answer. The team will see it.").wait_for()
    check_accessibility(page, "routine answer recorded")
    assert "45 minutes" in page.inner_text("main")

    [update] = routine.tracker.history(routine.item_id)
    assert (update.source, update.period, update.minutes) == (
        UpdateSource.WEB_LINK.value,
        PeriodOutcome.HAPPENED,
        45,
    )
