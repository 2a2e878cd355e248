"""Recording a meeting through the desk's form: rows added with no script, a check that names the
field, the Spanish summary previewed, save, and an amendment that duplicates nothing."""

from __future__ import annotations

import re
from collections.abc import Callable

from markupsafe import escape

from iep_followup.meetingfile import parse_meeting
from iep_followup.meetingform import from_record
from iep_followup.tracker import Tracker
from tests.conftest import EXAMPLE
from tests.unit.test_meetingform import SMALL
from tests.web.conftest import DeskClient
from tests.web.world import ADMIN, CASE_MANAGER_A, CASE_MANAGER_B, STUDENT_A, World

NEW = {**SMALL, "member-0-email": CASE_MANAGER_A}
NEW_ID = SMALL["student-id"]


def _state(tracker: Tracker) -> tuple[list[int], int, list[tuple[str, str | None]]]:
    return (
        [i.id for i in tracker.items()],
        len(tracker.outbox()),
        [(a.action, a.subject) for a in tracker.desk_audit() if a.action != "signed_in"],
    )


def _post(client: DeskClient, fields: dict[str, str], action: str) -> str:
    response = client.post("/meetings/form", data={"csrf": client.csrf, **fields, "action": action})
    return f"{response.status_code}\n{response.headers.get('location', '')}\n{response.text}"


def test_the_blank_form_labels_every_field_and_add_another_keeps_what_was_typed(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    client = make_client(CASE_MANAGER_A)
    page = client.get("/meetings/form")
    assert page.status_code == 200 and "Record a meeting" in page.text
    ids = re.findall(r'<(?:input|select|textarea) id="([^"]+)"', page.text)
    assert "member-2-email" in ids and "concern-0-item-1-due" in ids
    for field in ids:
        assert f'<label for="{field}">' in page.text, field
    assert "member-3-name" not in ids

    typed = {"members": "3", "member-0-name": "Dana Whitfield", "student-name": "Ana Ruiz"}
    before = _state(world.tracker)
    more = _post(client, typed, "add-member")
    assert more.startswith("200")
    assert 'id="member-3-name"' in more and 'id="member-4-name"' not in more
    assert 'value="Dana Whitfield"' in more and 'value="Ana Ruiz"' in more
    assert 'formaction="/meetings/form#member-4"' in more  # the next one lands on its row
    item = _post(client, {**typed, "concerns": "1", "concern-0-items": "2"}, "add-item-0")
    assert 'id="concern-0-item-2-title"' in item
    assert _state(world.tracker) == before


def test_a_problem_is_shown_by_its_field_and_nothing_is_saved(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    client = make_client(CASE_MANAGER_A)
    before = _state(world.tracker)
    for action in ("check", "save"):
        page = _post(client, {**NEW, "concern-0-item-0-due": "2027-13-01"}, action)
        assert page.startswith("400"), page[:300]
        assert "There is a problem. Nothing was saved." in page
        # The summary links to the field; the field says it is wrong and why.
        assert '<a href="#concern-0-item-0-due">' in page and "is not a date" in page
        field = re.search(r'<input id="concern-0-item-0-due"[^>]*>', page)
        assert field is not None
        assert 'aria-invalid="true"' in field.group(0)
        assert 'aria-describedby="concern-0-item-0-due-error"' in field.group(0)
        assert 'id="concern-0-item-0-due-error"' in page
        assert 'value="2027-13-01"' in page and "Revisar la agenda cada noche" in page
    assert _state(world.tracker) == before


def test_check_shows_the_balance_the_missing_translations_and_each_summary_in_its_language(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    client = make_client(CASE_MANAGER_A)
    before = _state(world.tracker)
    fields = {**NEW, "concern-0-item-0-title-es": ""}
    page = _post(client, fields, "check")
    assert page.startswith("200"), page[:2000]
    assert "Checked: nothing is wrong" in page and "Ana Ruiz is new here." in page
    assert "Dana Whitfield has no item to do." in page  # the balance check
    assert (
        "Read in Spanish by Rosa Ruiz" in page and "<li>Check the planner each night</li>" in page
    )
    emails = re.findall(r'<pre lang="(\w+)">(.*?)</pre>', page, re.S)
    assert [language for language, _ in emails] == ["en", "es"]
    assert "Ana lee todos los días." in emails[1][1]  # the strength, in Rosa's language
    assert "Save and send the summaries" in page
    assert _state(world.tracker) == before


def test_save_records_the_meeting_queues_the_summaries_and_is_audited(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    tracker = world.tracker
    client = make_client(CASE_MANAGER_A)
    queued = len(tracker.outbox())
    saved = _post(client, NEW, "save")
    assert saved.startswith(f"303\n/students/{NEW_ID}?done=recorded"), saved[:300]
    assert len(tracker.outbox()) - queued == 2  # one summary per member
    [item] = tracker.items(student=NEW_ID)
    assert item.title == "Check the planner each night"
    audit = tracker.desk_audit()[0]
    assert (audit.actor, audit.action, audit.subject) == (
        CASE_MANAGER_A,
        "meeting_recorded",
        NEW_ID,
    )


def test_an_amendment_duplicates_nothing_and_keeps_the_history_of_a_removed_item(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    tracker = world.tracker
    client = make_client(CASE_MANAGER_A)
    student = client.get(f"/students/{STUDENT_A}")
    assert f'href="/students/{STUDENT_A}/meeting">Edit this meeting' in student.text
    page = client.get(f"/students/{STUDENT_A}/meeting")
    assert page.status_code == 200 and "Edit the meeting" in page.text
    record = parse_meeting(EXAMPLE.read_text(encoding="utf-8"))
    fields = from_record(record)
    for name, value in fields.items():
        if name == "accommodations":  # carried through in a hidden field, as escaped JSON
            assert f'name="accommodations" value="{escape(value)}"' in page.text
            continue
        shown = value.replace("'", "&#39;")
        assert (
            f'value="{shown}"' in page.text
            or f">{shown}</textarea>" in page.text
            or (f'value="{value}" selected' in page.text)
        ), name
    items = {i.id: i for i in tracker.items(student=STUDENT_A)}
    removed = next(i for i in items.values() if i.key == "homework-folder")
    history_before = len(tracker.history(removed.id))
    changed = {**fields, "amends": "yes"}
    # Remove the second item of the first concern: its row left blank.
    for name in [k for k in changed if k.startswith("concern-0-item-1-")]:
        changed[name] = ""
    changed["concern-0-item-0-title"] = "Check Lucía's homework and sign her planner"
    check = _post(client, changed, "check")
    assert "is already recorded" in check
    saved = _post(client, changed, "save")
    assert saved.startswith(f"303\n/students/{STUDENT_A}?done=recorded"), saved[:500]
    after = {i.id: i for i in tracker.items(student=STUDENT_A)}
    assert set(after) == set(items)  # nothing added, nothing deleted
    assert after[removed.id].status.value == "dropped"
    assert len(tracker.history(removed.id)) == history_before + 1
    homework = next(i for i in after.values() if i.key == "homework-check")
    assert homework.title == "Check Lucía's homework and sign her planner"
    assert tracker.desk_audit()[0].detail.startswith("amended:")
    # Saved again unchanged: still nothing new.
    again = _post(client, changed, "save")
    assert again.startswith("303") and {i.id for i in tracker.items(student=STUDENT_A)} == set(
        items
    )


def test_another_caseload_is_refused_and_an_admin_may(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    tracker = world.tracker
    bea = make_client(CASE_MANAGER_B)
    assert bea.get(f"/students/{STUDENT_A}/meeting").status_code == 404
    before = _state(tracker)
    lucia = from_record(parse_meeting(EXAMPLE.read_text(encoding="utf-8")))
    # Lucía's meeting naming Bea as a case manager too: still not hers to record.
    takeover = {
        **lucia,
        "members": "9",
        "member-8-name": "Bea Case",
        "member-8-email": CASE_MANAGER_B,
        "member-8-role": "case_manager",
    }
    for fields in (lucia, takeover, NEW):
        for action in ("check", "save"):
            page = _post(bea, fields, action)
            assert page.startswith("403"), (
                action,
                re.findall(r"(?s)id=\"problem\">(.*?)</div>", page),
            )
            assert "names you as the case manager" in page
    assert _state(tracker) == before
    admin = make_client(ADMIN)
    assert admin.get(f"/students/{STUDENT_A}/meeting").status_code == 200
    assert _post(admin, NEW, "save").startswith("303")


def test_every_post_needs_the_forms_csrf_token(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    client = make_client(CASE_MANAGER_A)
    before = _state(world.tracker)
    for token in ("", "not-the-token"):
        response = client.post("/meetings/form", data={"csrf": token, **NEW, "action": "save"})
        assert response.status_code == 403
    assert _state(world.tracker) == before


def test_the_form_speaks_spanish_to_a_spanish_reader(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    client = make_client(CASE_MANAGER_A)
    client.cookies.set("iep_lang", "es")
    page = client.get("/meetings/form").text
    for words in ("Registrar una reunión", "Añadir otro miembro", "Revisar", "Elija un papel"):
        assert words in page, words
    checked = _post(client, NEW, "check")
    assert "Revisado: todo está en orden" in checked and "(español)" in checked
