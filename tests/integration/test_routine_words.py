"""A routine answered in ordinary words, through the real loop: the reply is ingested by the
Tracker and the case manager's digest shows the same "N of the last M weeks" and the same
minutes as when the same answers are given by one-tap button. And a reply that answers
nothing is confirmed as such, with the buttons."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from iep_followup.config import Settings
from iep_followup.domain import PeriodOutcome
from iep_followup.store.db import Database
from iep_followup.tracker import Tracker
from iep_followup.views import MinutesWeek
from tests.conftest import Clock
from tests.integration.test_routines import (
    ASKED,
    KAREN,
    MEETING,
    REPLIED,
    ROSA,
    _asked,
    _deliver,
    _html,
    _lucia,
    _text,
    _to,
)
from tests.mailclient import reply
from tests.smtp_server import SmtpServer

DESK = "https://desk.example.org"
WEEK = timedelta(days=7)
DIGEST_DAY = datetime(2026, 12, 14, 13, 0, tzinfo=ASKED.tzinfo)  # Monday: two weeks are over

# Each week's answers: Karen's reading (45 minutes a week), Rosa's homework check. In words,
# as people write them, and the one-tap choice (and minutes) that means the same.
ANSWERS = [
    {
        KAREN: ("We did two sessions of 25 minutes.", "yes", 50),
        ROSA: ("Sí, casi todos los días", "partly", None),
    },
    {
        KAREN: ("Only once, 20 min on Tuesday. Lucía was out sick.", "partly", 20),
        ROSA: ("Sí hicimos la revisión todos los días", "yes", None),
    },
]


def _token_in(text: str) -> str:
    return str(re.findall(r"/answer/([^\s?\"]+)", text)[0])


def _token(message: EmailMessage) -> str:
    [token] = re.findall(r"/answer/([^\s?\"]+)", _text(message))
    return str(token)


def _run(tracker: Tracker, clock: Clock, server: SmtpServer, tmp: Path, *, by: str) -> list[str]:
    """Two weeks of answers, `by` words or by button; the digest's routine and minutes lines."""
    clock.now = MEETING
    tracker.record_meeting(_lucia())
    _deliver(tracker, server)
    for week, answers in enumerate(ANSWERS):
        # Each owner is asked again a week after their answer.
        when = ASKED if week == 0 else REPLIED + week * WEEK - timedelta(hours=6)
        asked = _asked(tracker, clock, server, when)
        clock.now = REPLIED + week * WEEK
        for owner, (words, choice, minutes) in answers.items():
            request = _to(asked, owner)
            if by == "words":
                assert tracker.ingest(reply(request, words)).applied == 1
            else:
                nonce = f"{by}-{week}-{owner.split('@')[0].replace('.', '-')}".ljust(24, "x")
                token = _token(request)
                done = tracker.record_answer(
                    token, choice, minutes=minutes, nonce=nonce, client="t"
                )
                assert done.state == "recorded", done.state
        _deliver(tracker, server)
    clock.now = DIGEST_DAY
    run = tracker.digests(preview_dir=tmp)
    digest = next(p for p in run.previews if "dana" in p.name and p.suffix == ".txt")
    return [
        line.strip()
        for line in digest.read_text("utf-8").splitlines()
        if re.search(r"happened in \d+ of|\d+ of \d+ minutes", line)
    ]


def test_a_routine_answered_in_words_counts_as_the_same_answer_by_button(
    make_tracker: Callable[..., Tracker],
    make_settings: Callable[..., Settings],
    clock: Clock,
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> None:
    words = make_tracker(smtp_url=smtp_server.url, web_url=DESK)
    in_words = _run(words, clock, smtp_server, tmp_path / "words", by="words")

    # The same answers by button, on a database of their own.
    button_url = f"sqlite:///{tmp_path / 'button.db'}"
    database = Database(button_url)
    database.migrate()
    database.dispose()
    settings = make_settings(database_url=button_url, smtp_url=smtp_server.url, web_url=DESK)
    buttons = Tracker(settings, clock=clock)
    try:
        by_button = _run(buttons, clock, smtp_server, tmp_path / "button", by="button")
        _assert_same(in_words, by_button, words, buttons)
    finally:
        buttons.close()


def _assert_same(in_words: list[str], by_button: list[str], *trackers: Tracker) -> None:

    assert in_words == by_button
    # Rosa: partly, then yes; Karen: yes with 50 minutes, then partly with 20.
    [rosa] = [line for line in in_words if line.startswith("Rosa Herrera")]
    assert "happened in 1 of the last 4 weeks" in rosa
    [karen] = [line for line in in_words if line.startswith("Karen Liu")]
    assert "happened in 1 of the last 4 weeks | 20 of 45 minutes, week of Dec 7" in karen
    for tracker in trackers:
        minutes = tracker.service_minutes(
            "S-2026-0417", since=date(2026, 11, 30), until=date(2026, 12, 13)
        )
        reading = next(i for i in minutes.items if i.key == "reading-one-on-one")
        assert reading.weeks == (
            MinutesWeek(date(2026, 11, 30), 50, 45),
            MinutesWeek(date(2026, 12, 7), 20, 45),
        )
    [karen_item] = trackers[0].items(owner=KAREN)
    history = trackers[0].history(karen_item.id)
    assert [(e.period, e.minutes) for e in history] == [
        (PeriodOutcome.HAPPENED, 50),
        (PeriodOutcome.PARTLY, 20),
    ]
    assert all(e.understood for e in history)  # read from words: the digest marks it


def test_a_reply_that_answers_nothing_says_so_and_offers_the_buttons(
    make_tracker: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer
) -> None:
    clock.now = MEETING
    tracker = make_tracker(smtp_url=smtp_server.url, web_url=DESK)
    tracker.record_meeting(_lucia())
    _deliver(tracker, smtp_server)
    rosa = _to(_asked(tracker, clock, smtp_server, ASKED), ROSA)
    clock.now = REPLIED
    tracker.ingest(reply(rosa, "¿La revisión es también los fines de semana?", style="gmail_es"))
    confirmation = _to(_deliver(tracker, smtp_server), ROSA)
    text, html = _text(confirmation), _html(confirmation)
    for part in (text, html):
        assert "pero no anotamos cómo va A1" in part
        assert "A1 sí, 20 min" in part
        assert "60%" not in part
    assert "Responder A1 con un toque: https://desk.example.org/answer/" in text
    assert "?choice=yes" in html and "?choice=partly" in html and "?choice=no" in html
    # The button in the confirmation records the answer.
    token = _token_in(text)
    tracker.record_answer(token, "yes", nonce="from-confirmation".ljust(24, "x"), client="t")
    [item] = tracker.items(owner=ROSA)
    assert tracker.history(item.id)[-1].period is PeriodOutcome.HAPPENED


def test_a_blocker_in_words_is_confirmed_with_who_follows_it_up(
    make_tracker: Callable[..., Tracker], clock: Clock, smtp_server: SmtpServer
) -> None:
    clock.now = MEETING
    tracker = make_tracker(smtp_url=smtp_server.url)
    tracker.record_meeting(_lucia())
    _deliver(tracker, smtp_server)
    rosa = _to(_asked(tracker, clock, smtp_server, ASKED), ROSA)
    clock.now = REPLIED
    words = "No podemos seguir hasta que llegue el cuaderno de lectura"
    assert tracker.ingest(reply(rosa, words, style="gmail_es")).applied == 1
    confirmation = _to(_deliver(tracker, smtp_server), ROSA)
    for part in (_text(confirmation), _html(confirmation)):
        assert "Entendimos:" in part
        assert "Dana, coordinador(a) del caso, se va a ocupar de esto." in part
    [item] = tracker.items(owner=ROSA)
    assert item.status.value == "blocked"
