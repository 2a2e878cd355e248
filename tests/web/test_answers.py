"""One-tap answer links: delivered requests carry them; opening one changes nothing; the form
records an update exactly once, like a reply; altered, foreign, expired and moved links are refused."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import textstat
from sqlalchemy import select
from sqlmodel import SQLModel, col

from iep_followup.domain import ItemKind, ItemStatus, UpdateSource
from iep_followup.services.answers import ANSWERS_PER_OWNER, REFUSALS_PER_CLIENT
from iep_followup.store.models import RequestItem, UpdateRequest
from iep_followup.tokens import answer_token_parts, make_answer_token, make_reply_key
from iep_followup.tracker import Tracker
from iep_followup.views import ItemView
from tests.conftest import Clock
from tests.web.conftest import DeskClient, csrf_of
from tests.web.world import CASE_MANAGER_A, World

BASE = "http://testserver"
URL = re.compile(r"https?://[^\s\"'<>]+")
ANSWER_LINK = re.compile(r"http://testserver/answer/[a-z0-9-]+(?:\?choice=\w+)?")
NONCE = re.compile(r'name="nonce" value="([^"]+)"')
ROSA = "rosa.herrera@example.com"
TOM = "tom.okafor@lincoln.example.org"


def _parts(message: EmailMessage) -> tuple[str, str]:
    text, markup = message.get_body(("plain",)), message.get_body(("html",))
    assert isinstance(text, EmailMessage) and isinstance(markup, EmailMessage)
    return str(text.get_content()), str(markup.get_content())


def _links(message: EmailMessage) -> list[str]:
    text, markup = _parts(message)
    return sorted({html.unescape(u) for u in URL.findall(text) + URL.findall(markup)})


def _dump(tracker: Tracker) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: what "nothing changed" means."""
    with tracker.database.transaction() as session:
        return {
            table.name: sorted(
                (tuple(map(repr, row)) for row in session.execute(select(table)).all()),
            )
            for table in SQLModel.metadata.sorted_tables
        }


def _form(client: DeskClient, link: str) -> dict[str, str]:
    page = client.get(link.removeprefix(BASE))
    assert page.status_code == 200, page.text
    nonce = NONCE.search(page.text)
    assert nonce
    return {"csrf": csrf_of(page.text), "nonce": nonce.group(1)}


def _link(world: World, to: str, choice: str = "in_progress") -> str:
    text, _ = _parts(world.requests[to])
    first: str = next(u for u in ANSWER_LINK.findall(text) if "?" not in u)
    return f"{first}?choice={choice}"


def _plan_items(tracker: Tracker, owner: str) -> list[ItemView]:
    """The owner's action items, leaving out their accommodations' check-ins."""
    return [i for i in tracker.items(owner=owner) if i.kind is not ItemKind.ACCOMMODATION]


def _item_of(tracker: Tracker, link: str) -> int:
    parts = answer_token_parts(link.removeprefix(BASE + "/answer/").split("?")[0])
    assert parts
    with tracker.database.transaction() as session:
        row = session.execute(
            select(col(RequestItem.item_id)).where(
                col(RequestItem.request_id) == parts[0], col(RequestItem.ref) == parts[1]
            )
        ).scalar_one()
        return int(row)


def test_every_request_has_answer_buttons_in_both_parts(world: World) -> None:
    text, markup = _parts(world.requests[TOM])
    assert "A1 with one tap: http://testserver/answer/t" in text
    for label in ("Done", "In progress", "Stuck", "Change the date"):
        assert f">{label}</a>" in markup
    _, spanish = _parts(world.requests[ROSA])
    assert ">Listo</a>" in spanish and ">Cambiar la fecha</a>" in spanish
    # Karen's reading is a routine: it is answered for the week.
    _, routine = _parts(world.requests["karen.liu@lincoln.example.org"])
    assert ">Yes, it happened</a>" in routine and ">Partly</a>" in routine
    assert ">Done</a>" not in routine


def test_opening_every_link_of_every_request_changes_nothing(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    """What a mail scanner does: GET every link, following redirects."""
    before = _dump(world.tracker)
    client = make_client()
    opened = 0
    for message in world.requests.values():
        answer_links = [u for u in _links(message) if "/answer/" in u]
        # Per item: a task's four answers or a routine's three, and the text part's link.
        assert len(answer_links) >= 4, "a request without answer links"
        for url in _links(message):
            if not url.startswith(BASE):
                continue  # nothing else of ours is linked
            response = client.get(url.removeprefix(BASE), follow_redirects=True)
            assert response.status_code == 200, url
            opened += 1
    assert opened >= 4 * len(world.requests)
    assert _dump(world.tracker) == before


def test_an_answer_is_recorded_once_like_a_reply_and_sends_no_email(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    tracker, link = world.tracker, _link(world, TOM, "stuck")
    item_id = _item_of(tracker, link)
    client = make_client()
    page = client.get(link.removeprefix(BASE))
    assert "Lucía" in page.text and "Herrera" not in page.text
    assert 'value="stuck" checked' in page.text
    assert page.headers["cache-control"] == "no-store"
    form = _form(client, link)
    outbox_before = len(tracker.outbox())
    history_before = len(tracker.history(item_id))

    sent = {**form, "choice": "stuck", "note": "Waiting for the new pencil grips."}
    done = client.post(link.removeprefix(BASE).split("?")[0], data=sent)
    assert done.status_code == 200 and "We saved your answer" in done.text
    assert "Waiting for the new pencil grips." in done.text and "blocked" in done.text

    last = tracker.history(item_id)[-1]
    assert (last.source, last.status, last.note) == (
        UpdateSource.WEB_LINK.value,
        ItemStatus.BLOCKED.value,
        "Waiting for the new pencil grips.",
    )
    assert [i.status for i in _plan_items(tracker, TOM)] == [ItemStatus.BLOCKED]
    assert _request_of(tracker, link).answered_at is not None  # counted like a reply
    assert len(tracker.outbox()) == outbox_before  # no confirmation email

    again = client.post(link.removeprefix(BASE).split("?")[0], data=sent)
    assert again.status_code == 200 and "We already have this answer" in again.text
    assert len(tracker.history(item_id)) == history_before + 1


def _request_of(tracker: Tracker, link: str) -> UpdateRequest:
    parts = answer_token_parts(link.removeprefix(BASE + "/answer/").split("?")[0])
    assert parts
    with tracker.database.transaction() as session:
        request = session.get(UpdateRequest, parts[0])
        assert request is not None
        session.expunge(request)
        return request


def test_the_page_is_in_the_owners_language(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    client = make_client(headers={"accept-language": "en-US"})
    page = client.get(_link(world, ROSA, "done").removeprefix(BASE))
    assert '<html lang="es">' in page.text and "Enviar mi respuesta" in page.text


def test_a_new_date_is_asked_for_and_checked_before_anything_is_recorded(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    link = _link(world, TOM, "new_date")
    item_id = _item_of(world.tracker, link)
    client = make_client()
    form = _form(client, link)
    path = link.removeprefix(BASE).split("?")[0]
    missing = client.post(path, data={**form, "choice": "new_date"})
    assert missing.status_code == 400 and "Please choose the new date." in missing.text
    early = client.post(path, data={**form, "choice": "new_date", "new_date": "2020-01-01"})
    assert early.status_code == 400 and "before the meeting" in early.text
    assert all(u.source != UpdateSource.WEB_LINK.value for u in world.tracker.history(item_id))
    moved = client.post(path, data={**form, "choice": "new_date", "new_date": "2027-03-01"})
    assert moved.status_code == 200 and "Mar 1, 2027" in html.unescape(moved.text)
    assert [i.due_on.isoformat() for i in _plan_items(world.tracker, TOM)] == ["2027-03-01"]


def _refused_everywhere(world: World, client: DeskClient, path: str, why: str) -> None:
    before = _dump(world.tracker)
    page = client.get(path)
    assert page.status_code == 400 and why in page.text
    assert "Lucía" not in page.text and "Sam" not in page.text
    csrf = csrf_of(client.get("/signin").text)  # the visitor's own CSRF token: only the link is bad
    posted = client.post(path, data={"csrf": csrf, "nonce": "n" * 24, "choice": "done"})
    assert posted.status_code == 400 and "Nothing was saved." in posted.text
    after = _dump(world.tracker)
    after.pop("web_audit"), before.pop("web_audit")  # the attempt is audited, nothing else
    assert after == before


def test_an_altered_link_is_refused(world: World, make_client: Callable[..., DeskClient]) -> None:
    path = _link(world, TOM).removeprefix(BASE).split("?")[0]
    altered = path[:-1] + ("a" if path[-1] != "a" else "b")
    _refused_everywhere(world, make_client(), altered, "reply to the email")


def test_a_link_signed_for_another_owner_is_refused(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    link = _link(world, TOM)
    request, secret = _request_of(world.tracker, link), world.tracker.settings.secret_key
    assert request.id is not None and secret is not None
    ref = link.split("-")[-2]
    # Signed with the real secret, for this request and item, but for another person.
    key = make_reply_key(
        secret.get_secret_value(), request.id, request.person_id + 1, request.expires_at
    )
    token = make_answer_token(secret.get_secret_value(), key, ref)
    _refused_everywhere(world, make_client(), f"/answer/{token}", "This link is not right")


def test_an_expired_link_is_refused(
    world: World, clock: Clock, make_client: Callable[..., DeskClient]
) -> None:
    path = _link(world, TOM).removeprefix(BASE).split("?")[0]
    clock.now += timedelta(days=world.tracker.settings.reply_key_days + 1)
    _refused_everywhere(world, make_client(), path, "This link is too old.")


def test_a_link_to_an_item_reassigned_since_is_refused(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    link = _link(world, TOM)
    world.tracker.reassign_item(_item_of(world.tracker, link), CASE_MANAGER_A)
    _refused_everywhere(
        world, make_client(), link.removeprefix(BASE).split("?")[0], "now belongs to someone else"
    )


@pytest.mark.parametrize("forged", ["no-such-link-token", "t1-a1-aaaaaaaaaaaaaaaaaaaa"])
def test_links_that_do_not_work_are_rate_limited_per_client(
    forged: str, world: World, make_client: Callable[..., DeskClient]
) -> None:
    client = make_client()
    form = _form(client, _link(world, TOM))
    for _ in range(REFUSALS_PER_CLIENT):
        assert client.post(f"/answer/{forged}", data={**form, "choice": "done"}).status_code == 400
    limited = client.post(f"/answer/{forged}", data={**form, "choice": "done"})
    assert limited.status_code == 429 and "Please wait" in limited.text
    # A working link still works from there: a school's network shares one address.
    link = _link(world, ROSA)
    path = link.removeprefix(BASE).split("?")[0]
    sent = client.post(path, data={**_form(client, link), "choice": "done"})
    assert sent.status_code == 200 and "Guardamos su respuesta" in sent.text


def test_answers_are_rate_limited_per_owner(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    client, link = make_client(), _link(world, TOM)
    form, path = {**_form(client, link), "choice": "done"}, link.removeprefix(BASE).split("?")[0]
    for _ in range(ANSWERS_PER_OWNER):
        assert client.post(path, data=form).status_code == 200
    limited = client.post(path, data=form)
    assert limited.status_code == 429 and "Please wait" in limited.text


def _sentences(page: str) -> str:
    """What the page says, each line a sentence (the item's reference is not a word)."""
    text = re.sub(r"<[^>]+>", "\n", page.split("<main", 1)[1])
    lines = [html.unescape(line).strip() for line in text.splitlines()]
    lines = [re.sub(r"^A\d+\s*", "", line) for line in lines if line]
    return " ".join(line if line.endswith((".", "?", "!", ":")) else line + "." for line in lines)


def _pages(world: World, client: DeskClient, to: str) -> list[str]:
    link = _link(world, to, "done")
    path = link.removeprefix(BASE).split("?")[0]
    form = client.get(link.removeprefix(BASE)).text
    done = client.post(path, data={**_form(client, link), "choice": "done", "note": "ok"}).text
    refused = client.get(path[:-1] + ("a" if path[-1] != "a" else "b")).text
    return [form, done, refused]


def test_the_pages_read_at_the_emails_level(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    for page in _pages(world, make_client(), TOM):
        grade = textstat.flesch_kincaid_grade(_sentences(page))
        assert grade <= 6.0, f"grade {grade}: {_sentences(page)}"
    textstat.set_lang("es")
    try:
        spanish = make_client(headers={"accept-language": "es"})
        for page in _pages(world, spanish, ROSA):
            assert '<html lang="es">' in page
            score = textstat.fernandez_huerta(_sentences(page))
            assert score >= 70, f"Fernández-Huerta {score:.0f}: {_sentences(page)}"
    finally:
        textstat.set_lang("en_US")


def test_the_digest_counts_an_answer_like_a_reply(
    world: World, make_client: Callable[..., DeskClient], tmp_path: Path
) -> None:
    client, link = make_client(), _link(world, TOM, "stuck")
    path = link.removeprefix(BASE).split("?")[0]
    note = "Waiting for the new pencil grips."
    client.post(path, data={**_form(client, link), "choice": "stuck", "note": note})
    world.tracker.digests(preview_dir=tmp_path)
    texts = [p.read_text(encoding="utf-8") for p in tmp_path.glob("digest-*.txt")]
    [dana] = [t for t in texts if "Lucía Herrera" in t]
    assert note in dana  # quoted with the period's updates, as a reply's words are


def test_the_same_form_sent_twice_at_once_is_recorded_once(world: World) -> None:
    tracker = world.tracker
    if tracker.database.dialect != "postgresql":
        pytest.skip("concurrent writers: PostgreSQL (one SQLite file has one writer at a time)")
    link = _link(world, TOM)
    token, item_id = link.removeprefix(BASE + "/answer/").split("?")[0], _item_of(tracker, link)
    start = threading.Barrier(2)
    states: list[str] = []

    def send() -> None:
        start.wait()
        states.append(
            tracker.record_answer(token, "done", nonce="same-form-" + "x" * 16, client="c").state
        )

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(states) == ["already", "recorded"]
    assert [u.source for u in tracker.history(item_id)] == [UpdateSource.WEB_LINK.value]
