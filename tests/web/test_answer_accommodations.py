"""One-tap answers for an accommodation: its request offers yes / no / didn't come up, the page
records the chosen one for this week (with the reason for a "no"), and a choice or minutes an
accommodation does not take record nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from email.message import EmailMessage

import pytest

from iep_followup.domain import (
    AccommodationInfo,
    ItemKind,
    ItemStatus,
    MeetingRecord,
    PeriodOutcome,
    Role,
    StudentInfo,
    UpdateSource,
)
from iep_followup.tracker import Tracker
from tests.conftest import Clock, make_member, make_record
from tests.smtp_server import SmtpServer
from tests.web.conftest import DeskClient, csrf_of
from tests.web.test_answers import NONCE
from tests.web.world import CASE_MANAGER_B, MEETING, TWO_WEEKS_ON, deliver

KIM = "kim.teacher@school.example.org"
BASE = "http://testserver"
LINK = re.compile(re.escape(BASE) + r"(/answer/[a-z0-9-]+)\?choice=not_applicable")


def breaks_meeting() -> MeetingRecord:
    """Ana's meeting: one accommodation, which her classroom teacher applies."""
    return make_record(
        student=StudentInfo("S-88", "Ana Ruiz", "Lincoln Elementary", "2"),
        members=(
            make_member("Bea Case", Role.CASE_MANAGER, email=CASE_MANAGER_B),
            make_member("Kim Teacher", Role.CLASSROOM_TEACHER, email=KIM),
        ),
        strengths=(),
        concerns=(),
        accommodations=(AccommodationInfo("breaks", "Short movement breaks", (KIM,)),),
    )


@pytest.fixture
def path(desk_tracker: Tracker, clock: Clock, smtp_server: SmtpServer) -> str:
    """The answer page of Kim's check-in on the accommodation, as her request links it."""
    clock.now = MEETING
    desk_tracker.record_meeting(breaks_meeting())
    deliver(desk_tracker, smtp_server)
    smtp_server.received.clear()
    clock.now = TWO_WEEKS_ON
    desk_tracker.request_updates()
    deliver(desk_tracker, smtp_server)
    [message] = [r.message for r in smtp_server.received if r.rcpt_tos == [KIM]]
    text = message.get_body(("plain",))
    assert isinstance(text, EmailMessage)
    content = str(text.get_content())
    assert "Was it used this week? Answer yes, no (and why), or didn't come up." in content
    markup = message.get_body(("html",))
    assert isinstance(markup, EmailMessage)
    found = LINK.search(str(markup.get_content()).replace("&amp;", "&"))
    assert found, "the request has no didn't-come-up button"
    return found.group(1)


def _check_in(tracker: Tracker) -> int:
    [item] = tracker.items(owner=KIM)
    assert item.kind is ItemKind.ACCOMMODATION
    return item.id


def _form(client: DeskClient, path: str) -> dict[str, str]:
    page = client.get(path)
    assert page.status_code == 200, page.text
    nonce = NONCE.search(page.text)
    assert nonce
    return {"csrf": csrf_of(page.text), "nonce": nonce.group(1)}


@pytest.mark.parametrize(
    ("choice", "period", "note"),
    [
        ("not_applicable", PeriodOutcome.NOT_APPLICABLE, ""),
        ("no", PeriodOutcome.MISSED, "A substitute had the class."),
        ("yes", PeriodOutcome.HAPPENED, ""),
    ],
)
def test_each_answer_is_recorded_for_the_week(
    choice: str,
    period: PeriodOutcome,
    note: str,
    path: str,
    desk_tracker: Tracker,
    make_client: Callable[..., DeskClient],
) -> None:
    client = make_client()
    page = client.get(path + "?choice=" + choice)
    assert "It didn&#39;t come up" in page.text or "It didn't come up" in page.text
    assert 'name="minutes"' not in page.text  # an accommodation counts no minutes
    done = client.post(path, data={**_form(client, path), "choice": choice, "note": note})
    assert done.status_code == 200 and "We saved your answer" in done.text
    [entry] = desk_tracker.history(_check_in(desk_tracker))
    assert (entry.source, entry.period, entry.note) == (
        UpdateSource.WEB_LINK.value,
        period,
        note or None,
    )
    [item] = desk_tracker.items(owner=KIM)
    assert item.status is ItemStatus.OPEN  # asked again next week


@pytest.mark.parametrize(
    ("choice", "minutes"), [("partly", ""), ("maybe", ""), ("done", ""), ("yes", "20")]
)
def test_an_answer_an_accommodation_does_not_take_records_nothing(
    choice: str,
    minutes: str,
    path: str,
    desk_tracker: Tracker,
    make_client: Callable[..., DeskClient],
) -> None:
    client = make_client()
    sent = {**_form(client, path), "choice": choice, "minutes": minutes}
    refused = client.post(path, data=sent)
    assert refused.status_code == 400 and "We saved your answer" not in refused.text
    assert desk_tracker.history(_check_in(desk_tracker)) == []
