"""A closed item (done or dropped) takes no change from a reply or an answer link (issue 26):
the rule, once in the domain, and the confirmation's words about it in English and Spanish."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import textstat

from iep_followup.domain import (
    ItemKind,
    ItemProgress,
    ItemStatus,
    PeriodOutcome,
    UpdateInput,
    UpdateSource,
    accepts_update,
    transition,
)
from iep_followup.errors import ItemClosedError, ValidationError
from iep_followup.mail.contexts import confirmation_texts
from iep_followup.mail.kinds import MailKind
from iep_followup.mail.render import Renderer
from iep_followup.translations import Phrasebook

MEETING = date(2026, 11, 16)
DUE = date(2027, 1, 29)
EARLIER = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
DONE = ItemProgress(ItemStatus.DONE, 100, DUE, closed_at=EARLIER)
DROPPED = ItemProgress(ItemStatus.DROPPED, 0, DUE, closed_at=EARLIER)
DROPPED_ROUTINE = ItemProgress(ItemStatus.DROPPED, 0, DUE, EARLIER, ItemKind.ROUTINE)
OWNERS = (UpdateSource.EMAIL, UpdateSource.WEB_LINK)
CASE_MANAGER = (UpdateSource.WEB, UpdateSource.CLI, UpdateSource.API, UpdateSource.IMPORT)


@pytest.mark.parametrize("status", list(ItemStatus))
@pytest.mark.parametrize("source", list(UpdateSource))
def test_only_replies_and_answer_links_are_refused_and_only_by_closed_items(
    status: ItemStatus, source: UpdateSource
) -> None:
    refused = status in (ItemStatus.DONE, ItemStatus.DROPPED) and source in OWNERS
    assert accepts_update(status, source) is not refused


@pytest.mark.parametrize("source", OWNERS)
@pytest.mark.parametrize(
    ("state", "change"),
    [
        (DROPPED, UpdateInput(percent=50)),  # was: dropped at 0% -> dropped at 50%
        (DROPPED, UpdateInput(status=ItemStatus.IN_PROGRESS)),
        (DROPPED, UpdateInput(status=ItemStatus.DONE)),
        (DONE, UpdateInput(status=ItemStatus.BLOCKED, note="waiting")),
        (DONE, UpdateInput(percent=60)),
        (DONE, UpdateInput(due_on=date(2027, 2, 1))),
        (DROPPED_ROUTINE, UpdateInput(period=PeriodOutcome.HAPPENED)),
        (DROPPED_ROUTINE, UpdateInput(minutes=30)),
    ],
)
def test_a_closed_item_refuses_any_change_from_its_owner(
    source: UpdateSource, state: ItemProgress, change: UpdateInput
) -> None:
    with pytest.raises(ItemClosedError) as refused:
        transition(state, change, now=NOW, meeting_date=MEETING, source=source)
    assert isinstance(refused.value, ValidationError)  # every front end shows it as a field error
    assert refused.value.field == "status"
    assert "the case manager can open it again" in str(refused.value)


@pytest.mark.parametrize("source", OWNERS)
def test_a_note_alone_is_kept_and_leaves_a_closed_item_as_it_was(source: UpdateSource) -> None:
    after = transition(
        DROPPED, UpdateInput(note="thanks"), now=NOW, meeting_date=MEETING, source=source
    )
    assert after == DROPPED


@pytest.mark.parametrize("source", CASE_MANAGER)
def test_the_case_manager_can_still_reopen_a_closed_item(source: UpdateSource) -> None:
    after = transition(
        DROPPED,
        UpdateInput(status=ItemStatus.IN_PROGRESS, percent=50),
        now=NOW,
        meeting_date=MEETING,
        source=source,
    )
    assert (after.status, after.percent, after.closed_at) == (ItemStatus.IN_PROGRESS, 50, None)


@pytest.mark.parametrize("source", OWNERS)
def test_an_open_item_still_takes_its_owners_updates(source: UpdateSource) -> None:
    started = ItemProgress(ItemStatus.IN_PROGRESS, 40, DUE)
    after = transition(
        started, UpdateInput(status=ItemStatus.DONE), now=NOW, meeting_date=MEETING, source=source
    )
    assert (after.status, after.closed_at) == (ItemStatus.DONE, NOW)


# --- what the confirmation says --------------------------------------------------------


def _confirmation(closed: list[str]) -> dict[str, object]:
    return {
        "recipient": {"name": "Rosa Herrera"},
        "students": [],
        **confirmation_texts([], Phrasebook(), "en"),
        "notes": [],
        "not_understood": [],
        "unknown_refs": [],
        "problems": [],
        "example": "A1 60%",
        "questions": [],
        "closed": closed,
    }


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


def _readable(text: str) -> str:
    lines = [line.strip(" -=—") for line in text.splitlines()]
    return " ".join(
        line if line.endswith((".", "?", "!", ":")) else line + "." for line in lines if line
    )


def test_the_confirmation_says_kindly_that_a_closed_item_was_not_changed(
    renderer: Renderer,
) -> None:
    english = renderer.render(MailKind.CONFIRMATION, "en", _confirmation(["A1", "A3"]))
    spanish = renderer.render(MailKind.CONFIRMATION, "es", _confirmation(["A1"]))
    for part in (english.text, english.html):
        assert "A1 is closed (done or stopped), so we did not change it." in part
        assert "A3 is closed (done or stopped), so we did not change it." in part
        assert part.count("your case manager can open it again") == 1
    for part in (spanish.text, spanish.html):
        assert "A1 está cerrado (terminado o detenido), así que no lo cambiamos." in part
        assert "su coordinador(a) del caso puede abrirla de nuevo." in part
    grade = textstat.flesch_kincaid_grade(_readable(english.text))
    assert grade <= 6.0, f"grade {grade}:\n{english.text}"
    textstat.set_lang("es")
    try:
        score = textstat.fernandez_huerta(_readable(spanish.text))
    finally:
        textstat.set_lang("en_US")
    assert score >= 70, f"Fernández-Huerta {score:.0f}:\n{spanish.text}"


def test_a_confirmation_without_closed_items_says_nothing_about_them(renderer: Renderer) -> None:
    out = renderer.render(MailKind.CONFIRMATION, "en", _confirmation([]))
    assert "closed" not in out.text and "closed" not in out.html
