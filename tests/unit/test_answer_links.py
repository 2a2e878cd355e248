"""Answer links in requests and reminders: buttons in the HTML, one short link per item in the
text, and — without IEP_FOLLOWUP_WEB_URL — the very same emails as before links existed."""

from __future__ import annotations

import email
import re
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
import textstat

from iep_followup.answers import ANSWER_SETS, answers_for, find_answer, period_choice, update_for
from iep_followup.config import Settings
from iep_followup.domain import ItemStatus, PeriodOutcome
from iep_followup.errors import ValidationError
from iep_followup.mail.contexts import with_answer_links
from iep_followup.mail.kinds import MailKind
from iep_followup.mail.render import Renderer
from iep_followup.services.outgoing import Mailer
from iep_followup.tokens import make_reply_key, verify_answer_token
from iep_followup.vocabulary import ANSWER_LABELS
from tests.unit.test_render import KAREN, ROSA, ROSA_EN, _readable_text, _request

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"
THREE = [("A1", 1), ("A2", 2), ("A3", 3)]
NOW = datetime(2026, 11, 23, 14, tzinfo=UTC)
EXPIRES = datetime(2027, 1, 22, tzinfo=UTC)


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


def _token(ref: str) -> str:
    return f"t9-{ref.lower()}-{'a' * 20}"


@pytest.mark.parametrize(
    ("fixture", "kind", "recipient", "refs"),
    [
        ("request_en", MailKind.REQUEST, KAREN, THREE),
        ("reminder_es", MailKind.REMINDER, ROSA, THREE[:1]),
    ],
)
def test_without_a_web_address_requests_render_exactly_as_before(
    renderer: Renderer, fixture: str, kind: MailKind, recipient: object, refs: list[tuple[str, int]]
) -> None:
    # The fixtures were rendered by the templates before answer links existed.
    context = _request(recipient, refs, reminder=kind is MailKind.REMINDER)  # type: ignore[arg-type]
    rendered = renderer.render(kind, "en" if recipient is KAREN else "es", context)
    assert rendered.text == (FIXTURES / f"{fixture}.txt").read_text(encoding="utf-8")
    assert rendered.html == (FIXTURES / f"{fixture}.html").read_text(encoding="utf-8")


def test_each_item_gets_its_buttons_and_one_short_link(renderer: Renderer) -> None:
    context = with_answer_links(_request(KAREN, THREE), "https://desk.example.org", _token)
    rendered = renderer.render(MailKind.REQUEST, "en", context)
    for ref in ("A1", "A2", "A3"):
        url = f"https://desk.example.org/answer/{_token(ref)}"
        assert f"Answer {ref} with one tap: {url}\n" in rendered.text
        for answer in ANSWER_SETS["task"]:
            assert f'<a href="{url}?choice={answer.choice}"' in rendered.html
            assert f">{ANSWER_LABELS[answer.choice]}</a>" in rendered.html
        assert "?choice=yes" not in rendered.html  # a routine's answers, not a task's
    assert rendered.text.count("/answer/") == 3  # one short link per item in the text part
    assert "Or tap a button above." in rendered.html


def test_spanish_buttons(renderer: Renderer) -> None:
    context = with_answer_links(_request(ROSA, THREE[:1]), "https://desk.example.org", _token)
    rendered = renderer.render(MailKind.REMINDER, "es", context)
    for label in ("Listo", "En progreso", "Bloqueado", "Cambiar la fecha"):
        assert f">{label}</a>" in rendered.html
    assert "Responder A1 con un toque: https://desk.example.org/answer/" in rendered.text


def _parts(body: bytes) -> tuple[str, str]:
    message = email.message_from_bytes(body, policy=default)
    assert isinstance(message, EmailMessage)
    text, markup = message.get_body(("plain",)), message.get_body(("html",))
    assert isinstance(text, EmailMessage) and isinstance(markup, EmailMessage)
    return str(text.get_content()), str(markup.get_content())


def test_the_mailer_signs_links_only_when_the_desk_has_an_address(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    secret = settings.secret_key.get_secret_value() if settings.secret_key else ""
    key = make_reply_key(secret, 9, KAREN.person_id, EXPIRES)
    context = _request(KAREN, THREE)
    plain = Mailer(settings).message(
        MailKind.REQUEST, "r", to=KAREN, context=context, now=NOW, key=key
    )
    assert "/answer/" not in _parts(plain.body)[0] + _parts(plain.body)[1]
    expected = (FIXTURES / "request_en.txt").read_text(encoding="utf-8")
    assert _parts(plain.body)[0].replace("\r\n", "\n") == expected

    linked = Mailer(make_settings(web_url="https://desk.example.org/")).message(
        MailKind.REQUEST, "r", to=KAREN, context=context, now=NOW, key=key
    )
    text, _ = _parts(linked.body)
    tokens = [line.rsplit("/", 1)[1] for line in text.splitlines() if "/answer/" in line]
    assert len(tokens) == 3
    assert all(verify_answer_token(secret, t, 9, KAREN.person_id, EXPIRES) for t in tokens)
    # Other kinds of email never get links.
    summary = Mailer(make_settings(web_url="https://desk.example.org")).message(
        MailKind.NOTICE,
        "n",
        to=KAREN,
        context={"recipient": {"name": "Karen"}, "reason": "no_key"},
        now=NOW,
        key=key,
    )
    assert "/answer/" not in _parts(summary.body)[0]


def test_the_answer_sets_are_data() -> None:
    assert [a.choice for a in answers_for()] == ["done", "in_progress", "stuck", "new_date"]
    assert answers_for("a kind with no set of its own") == ANSWER_SETS["task"]
    assert all(a.choice in ANSWER_LABELS for s in ANSWER_SETS.values() for a in s)
    done = find_answer("task", "done")
    assert done is not None and update_for(done).status is ItemStatus.DONE
    stuck = find_answer("task", "stuck")
    assert stuck is not None
    assert update_for(stuck, note=" no workbook ").note == "no workbook"
    new_date = find_answer("task", "new_date")
    assert new_date is not None
    with pytest.raises(ValidationError, match="new date"):
        update_for(new_date)
    assert find_answer("task", "maybe") is None and find_answer("task", None) is None


def test_a_request_with_buttons_still_reads_at_or_below_sixth_grade(renderer: Renderer) -> None:
    context = with_answer_links(_request(ROSA_EN, THREE[:2]), "https://desk.example.org", _token)
    text = renderer.render(MailKind.REQUEST, "en", context).text
    words = _readable_text(re.sub(r"https://\S+", "", text))
    assert textstat.flesch_kincaid_grade(words) <= 6.0, words


def test_a_routine_is_answered_yes_partly_or_no_for_this_period() -> None:
    context = {"students": [{"actions": [{"ref": "A1", "routine": True}, {"ref": "A2"}]}]}
    linked = with_answer_links(context, "https://desk.example.org", _token)
    routine, task = linked["students"][0]["actions"]
    assert [a["label"] for a in routine["answers"]] == ["Yes, it happened", "Partly", "No"]
    assert [a["label"] for a in task["answers"]] == [
        ANSWER_LABELS[a.choice] for a in ANSWER_SETS["task"]
    ]
    partly = find_answer("routine", "partly")
    assert partly is not None and find_answer("routine", "done") is None
    change = update_for(partly, note=" Out sick on Tuesday ")
    assert (change.period, change.status, change.note) == (
        PeriodOutcome.PARTLY,
        None,
        "Out sick on Tuesday",
    )
    assert period_choice(PeriodOutcome.MISSED) == "no" and period_choice(None) is None
