"""An answer link to an item that is done or dropped changes nothing (issue 26): the page says,
in its owner's language, that the item is closed and the case manager can open it again."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import textstat

from iep_followup.domain import ItemStatus, UpdateInput, UpdateSource
from iep_followup.tracker import Tracker
from tests.web.conftest import DeskClient, csrf_of
from tests.web.test_answers import BASE, ROSA, TOM, _dump, _form, _item_of, _link
from tests.web.world import CASE_MANAGER_A, CASE_MANAGER_B, STUDENT_A, World

CLOSED = "This part of the plan is closed"


def _history(tracker: Tracker, item_id: int) -> list[object]:
    return list(tracker.history(item_id))


def _words(page: str) -> str:
    text = re.sub(r"<[^>]+>", "\n", page.split("<main", 1)[1])
    lines = [html.unescape(line).strip() for line in text.splitlines()]
    return " ".join(
        line if line.endswith((".", "?", "!", ":")) else line + "." for line in lines if line
    )


def test_a_link_to_a_dropped_item_shows_that_it_is_closed_and_records_nothing(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    tracker, link = world.tracker, _link(world, TOM, "in_progress")
    item_id = _item_of(tracker, link)
    client = make_client()
    form = _form(client, link)  # the page was opened while the item was open
    tracker.close_item(item_id, dropped=True, note="Not needed now.", by=CASE_MANAGER_A)
    before = _dump(tracker)

    page = client.get(link.removeprefix(BASE))
    assert page.status_code == 409
    assert CLOSED in page.text and "your case manager can open it again" in page.text
    assert "reply to the email" not in page.text  # a reply cannot change it either
    assert "Lucía" not in page.text  # like every refused page: nothing about the child
    path = link.removeprefix(BASE).split("?")[0]
    posted = client.post(path, data={**form, "choice": "in_progress", "note": "Back at it."})
    assert posted.status_code == 409
    assert CLOSED in posted.text and "Nothing was saved." in posted.text

    after = _dump(tracker)
    after.pop("web_audit"), before.pop("web_audit")
    assert after == before
    item = next(i for i in tracker.items(owner=TOM) if i.id == item_id)
    assert item.status is ItemStatus.DROPPED


def test_the_answer_that_closed_an_item_sent_again_shows_what_it_recorded(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    tracker, link = world.tracker, _link(world, TOM, "done")
    item_id = _item_of(tracker, link)
    client = make_client()
    sent = {**_form(client, link), "choice": "done"}
    path = link.removeprefix(BASE).split("?")[0]
    assert client.post(path, data=sent).status_code == 200
    history = _history(tracker, item_id)
    again = client.post(path, data=sent)
    assert again.status_code == 200 and "We already have this answer" in again.text
    # A new answer to the item it closed is refused; the case manager reopens it.
    refused = client.post(path, data={**_form_after_close(client, path), "choice": "stuck"})
    assert refused.status_code == 409 and CLOSED in refused.text
    assert _history(tracker, item_id) == history
    tracker.record_update(
        item_id, UpdateInput(status=ItemStatus.IN_PROGRESS), source=UpdateSource.WEB
    )
    reopened = client.get(link.removeprefix(BASE))
    assert reopened.status_code == 200


def _form_after_close(client: DeskClient, path: str) -> dict[str, str]:
    """A form for a closed item's link: the page has none, so its parts as the visitor has them."""
    return {"csrf": csrf_of(client.get("/signin").text), "nonce": "n" * 24}


def test_the_closed_page_is_in_the_owners_language_and_reads_plainly(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    tracker = world.tracker
    for to in (TOM, ROSA):
        item_id = _item_of(tracker, _link(world, to))
        tracker.record_update(item_id, UpdateInput(status=ItemStatus.DONE), source=UpdateSource.WEB)
    english = make_client().get(_link(world, TOM).removeprefix(BASE)).text
    grade = textstat.flesch_kincaid_grade(_words(english))
    assert grade <= 6.0, f"grade {grade}: {_words(english)}"
    # In Rosa's language, whatever her browser says.
    spanish = make_client(headers={"accept-language": "en-US"}).get(
        _link(world, ROSA).removeprefix(BASE)
    )
    assert spanish.status_code == 409
    assert "Esta parte del plan está cerrada" in spanish.text
    assert "su coordinador(a) del caso puede abrirla de nuevo" in spanish.text
    textstat.set_lang("es")
    try:
        score = textstat.fernandez_huerta(_words(spanish.text))
    finally:
        textstat.set_lang("en_US")
    assert score >= 70, f"Fernández-Huerta {score:.0f}: {_words(spanish.text)}"


def test_the_case_manager_opens_a_closed_item_again_on_the_desk_and_its_link_works_again(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    tracker, link = world.tracker, _link(world, TOM, "in_progress")
    item_id = _item_of(tracker, link)
    tracker.close_item(item_id, dropped=True, note="Not needed now.", by=CASE_MANAGER_A)
    desk = make_client(CASE_MANAGER_A)
    page = f"/students/{STUDENT_A}"
    assert f"/items/{item_id}/reopen" in desk.get(page).text
    # Another caseload's case manager cannot: as for a student that does not exist.
    other = make_client(CASE_MANAGER_B)
    url = f"{page}/items/{item_id}/reopen"
    assert other.post(url, data={"csrf": other.csrf, "reason": "x"}).status_code == 404
    refused = desk.post(url, data={"csrf": desk.csrf, "reason": " "})
    assert refused.status_code == 400 and "write the reason" in refused.text

    done = desk.post(url, data={"csrf": desk.csrf, "reason": "Tom has the grips now"})
    assert (done.status_code, done.headers["location"]) == (
        303,
        f"{page}?done=reopen#item-{item_id}",
    )
    assert "Saved: the item is open again." in desk.get(f"{page}?done=reopen").text
    last = tracker.history(item_id)[-1]
    assert (last.source, last.status, last.note) == ("web", "in_progress", "Tom has the grips now")
    assert tracker.desk_audit()[0].action == "item_reopen"
    # The owner's link works again.
    client = make_client()
    form = _form(client, link)
    path = link.removeprefix(BASE).split("?")[0]
    answered = client.post(path, data={**form, "choice": "done"})
    assert answered.status_code == 200
    item = next(i for i in tracker.items(owner=TOM) if i.id == item_id)
    assert item.status is ItemStatus.DONE
