"""One-tap answers for a routine with service minutes: the page asks how many, records them as a
reply's "A1 45 min" would (the period and the minutes), once; refused minutes record nothing."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage

import pytest

from iep_followup.domain import (
    Cadence,
    ConcernInfo,
    ItemInfo,
    ItemKind,
    ItemStatus,
    MeetingRecord,
    PeriodOutcome,
    Role,
    StudentInfo,
    UpdateSource,
)
from iep_followup.tracker import Tracker
from iep_followup.views import MinutesWeek
from tests.conftest import Clock, make_member, make_record
from tests.smtp_server import SmtpServer
from tests.web.conftest import DeskClient, csrf_of
from tests.web.test_answers import NONCE, TOM, _dump, _item_of, _link
from tests.web.world import CASE_MANAGER_B, MEETING, TWO_WEEKS_ON, World, deliver

KIM = "kim.speech@school.example.org"
STUDENT = "S-77"
BASE = "http://testserver"


def speech_meeting(owner: str = KIM, language: str = "en") -> MeetingRecord:
    """Ana's meeting: one routine, speech sessions, 60 minutes a week."""
    return make_record(
        student=StudentInfo(STUDENT, "Ana Ruiz", "Lincoln Elementary", "2"),
        members=(
            make_member("Bea Case", Role.CASE_MANAGER, email=CASE_MANAGER_B),
            make_member(
                "Kim Speech", Role.SPEECH_LANGUAGE_PATHOLOGIST, email=owner, language=language
            ),
        ),
        strengths=(),
        concerns=(
            ConcernInfo(
                "speech",
                "Says few words in class.",
                None,
                (
                    ItemInfo(
                        "speech-sessions",
                        "Speech sessions with Ana",
                        owner,
                        date(2027, 6, 4),
                        Cadence.WEEKLY,
                        60,
                        kind=ItemKind.ROUTINE,
                    ),
                ),
            ),
        ),
    )


@dataclass
class Routine:
    tracker: Tracker
    path: str  # the answer page of Ana's routine, as Kim's request links it
    item_id: int


def ask_about_the_routine(
    tracker: Tracker, clock: Clock, smtp: SmtpServer, language: str = "en", base: str = BASE
) -> Routine:
    """Records Ana's meeting and delivers Kim's update request; the routine and its link
    (the desk at `base`)."""
    clock.now = MEETING
    tracker.record_meeting(speech_meeting(language=language))
    deliver(tracker, smtp)
    smtp.received.clear()  # the meeting's summary
    clock.now = TWO_WEEKS_ON
    tracker.request_updates()
    deliver(tracker, smtp)
    [message] = [r.message for r in smtp.received if r.rcpt_tos == [KIM]]
    smtp.received.clear()
    text = message.get_body(("plain",))
    assert isinstance(text, EmailMessage)
    link = re.compile(re.escape(base) + r"(/answer/[a-z0-9-]+)\?choice=yes")
    found = link.search(str(text.get_content())) or link.search(_html(message))
    assert found, "the request has no Yes button"
    [item] = tracker.items(owner=KIM)
    return Routine(tracker, found.group(1), item.id)


def _html(message: EmailMessage) -> str:
    markup = message.get_body(("html",))
    assert isinstance(markup, EmailMessage)
    return str(markup.get_content()).replace("&amp;", "&")


@pytest.fixture
def routine(desk_tracker: Tracker, clock: Clock, smtp_server: SmtpServer) -> Routine:
    return ask_about_the_routine(desk_tracker, clock, smtp_server)


def _form(client: DeskClient, path: str) -> dict[str, str]:
    page = client.get(path)
    assert page.status_code == 200, page.text
    nonce = NONCE.search(page.text)
    assert nonce
    return {"csrf": csrf_of(page.text), "nonce": nonce.group(1)}


def _minutes_this_week(tracker: Tracker) -> MinutesWeek:
    week = tracker.service_minutes(STUDENT, since=date(2026, 11, 30), until=date(2026, 12, 6))
    [item] = week.items
    [this_week] = item.weeks
    return this_week


def test_the_page_asks_for_minutes_and_opening_it_changes_nothing(
    routine: Routine, make_client: Callable[..., DeskClient]
) -> None:
    before = _dump(routine.tracker)
    page = make_client().get(routine.path + "?choice=yes")
    assert page.status_code == 200
    assert 'value="yes" checked' in page.text
    assert '<label for="minutes">Minutes this time (the plan says 60 a week).' in page.text
    assert 'name="minutes" type="number"' in page.text and 'max="3000"' in page.text
    assert _dump(routine.tracker) == before


def test_yes_with_minutes_records_the_period_and_the_minutes_once(
    routine: Routine, make_client: Callable[..., DeskClient]
) -> None:
    tracker, client = routine.tracker, make_client()
    sent = {**_form(client, routine.path), "choice": "yes", "minutes": "45"}
    done = client.post(routine.path, data=sent)
    assert done.status_code == 200 and "We saved your answer" in done.text
    assert "Yes, it happened" in done.text and "45 minutes" in done.text

    [entry] = tracker.history(routine.item_id)
    assert (entry.source, entry.period, entry.minutes) == (
        UpdateSource.WEB_LINK.value,
        PeriodOutcome.HAPPENED,
        45,
    )
    assert entry.author_name == "Kim Speech"
    [item] = tracker.items(owner=KIM)
    assert item.status is ItemStatus.OPEN  # a routine is never done: it stays active
    assert _minutes_this_week(tracker) == MinutesWeek(date(2026, 11, 30), 45, 60)

    before = _dump(tracker)
    again = client.post(routine.path, data=sent)
    assert again.status_code == 200 and "We already have this answer" in again.text
    assert "45 minutes" in again.text  # what was recorded then
    after = _dump(tracker)
    after.pop("web_audit"), before.pop("web_audit")  # the replay is audited, nothing else
    assert after == before


@pytest.mark.parametrize(
    ("choice", "period", "minutes"),
    [("partly", PeriodOutcome.PARTLY, "20"), ("no", PeriodOutcome.MISSED, "")],
)
def test_partly_or_no_is_recorded_with_the_note(
    choice: str,
    period: PeriodOutcome,
    minutes: str,
    routine: Routine,
    make_client: Callable[..., DeskClient],
) -> None:
    client, note = make_client(), "Ana was out sick on Tuesday."
    sent = {**_form(client, routine.path), "choice": choice, "note": note, "minutes": minutes}
    done = client.post(routine.path, data=sent)
    assert done.status_code == 200 and note in done.text
    [entry] = routine.tracker.history(routine.item_id)
    assert (entry.period, entry.note, entry.minutes) == (period, note, int(minutes or 0) or None)
    assert ("minute" in done.text) is bool(minutes)
    [item] = routine.tracker.items(owner=KIM)
    assert item.status is ItemStatus.OPEN


@pytest.mark.parametrize("minutes", ["-5", "3001", "45.5", "forty", "٤٥", "99999999"])
def test_minutes_the_rules_refuse_record_nothing_and_say_why(
    minutes: str, routine: Routine, make_client: Callable[..., DeskClient]
) -> None:
    client = make_client()
    form = _form(client, routine.path)
    before = _dump(routine.tracker)
    refused = client.post(
        routine.path, data={**form, "choice": "yes", "minutes": minutes, "note": "kept"}
    )
    assert refused.status_code == 400
    assert "Please write the minutes as a whole number from 0 to 3000" in refused.text
    assert 'aria-invalid="true"' in refused.text and ">kept</textarea>" in refused.text
    after = _dump(routine.tracker)
    after.pop("web_audit"), before.pop("web_audit")
    assert after == before
    assert routine.tracker.history(routine.item_id) == []


def test_minutes_sent_for_a_task_are_refused(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    """The page asks no minutes of a task; a client that sends some anyway records nothing."""
    link = _link(world, TOM, "done")
    client, path = make_client(), link.removeprefix("http://testserver").split("?")[0]
    assert 'name="minutes"' not in client.get(path).text
    sent = {**_form(client, path), "choice": "done", "minutes": "30"}
    assert client.post(path, data=sent).status_code == 400
    history = world.tracker.history(_item_of(world.tracker, link))
    assert all(u.source != UpdateSource.WEB_LINK.value for u in history)


def test_the_routine_page_is_in_spanish_for_a_spanish_speaker(
    desk_tracker: Tracker,
    clock: Clock,
    smtp_server: SmtpServer,
    make_client: Callable[..., DeskClient],
) -> None:
    routine = ask_about_the_routine(desk_tracker, clock, smtp_server, language="es")
    client = make_client()
    page = client.get(routine.path)
    assert "Minutos esta vez (el plan dice 60 por semana)." in page.text
    sent = {**_form(client, routine.path), "choice": "yes", "minutes": "1"}
    done = client.post(routine.path, data=sent)
    assert "Sí, se hizo" in done.text and "1 minuto" in done.text


def test_the_history_says_what_the_saved_page_said(
    routine: Routine, make_client: Callable[..., DeskClient]
) -> None:
    """The answer's words on the saved page and the case manager's history of the item agree."""
    client = make_client()
    sent = {**_form(client, routine.path), "choice": "yes", "minutes": "45"}
    client.post(routine.path, data=sent)
    desk = make_client(CASE_MANAGER_B)
    for page in (f"/students/{STUDENT}", f"/students/{STUDENT}/record"):
        text = desk.get(page).text
        assert "it happened, 45 minutes" in text and "by an answer button" in text, page
    # The student page names it a routine until its end, with its minutes, never "not started".
    student = html.unescape(desk.get(f"/students/{STUDENT}").text)
    assert (
        "Routine" in student
        and "minutes a week" in student
        and "not started" not in student.lower()
    )


def test_a_missed_session_and_its_reason_are_recorded_from_the_page(
    routine: Routine, make_client: Callable[..., DeskClient]
) -> None:
    client = make_client()
    page = client.get(routine.path + "?choice=no")
    assert '<select id="missed" name="missed">' in page.text
    assert '<option value="provider_absent">the provider was absent</option>' in page.text
    sent = {**_form(client, routine.path), "choice": "no", "missed": "provider_absent"}
    done = client.post(routine.path, data=sent)
    assert done.status_code == 200 and "We saved your answer" in done.text
    record = routine.tracker.implementation_record(
        STUDENT, since=date(2026, 11, 30), until=date(2026, 12, 6)
    ).as_json()
    [service] = record["services"]
    assert service["owed_minutes"] == 60  # a week's 60 minutes, missed on the school's side
    assert service["missed_minutes"]["provider_absent"] == 60


@pytest.mark.parametrize(("choice", "missed"), [("yes", "student_absent"), ("no", "sick")])
def test_a_reason_that_does_not_fit_records_nothing(
    choice: str, missed: str, routine: Routine, make_client: Callable[..., DeskClient]
) -> None:
    client = make_client()
    sent = {**_form(client, routine.path), "choice": choice, "missed": missed}
    refused = client.post(routine.path, data=sent)
    assert refused.status_code == 400
    assert routine.tracker.history(routine.item_id) == []
