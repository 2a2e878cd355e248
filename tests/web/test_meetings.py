"""Recording a meeting from the desk: paste or upload, one error with its line, a preview, then save."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from iep_followup.meetingfile import parse_meeting
from iep_followup.tracker import Tracker
from tests.conftest import EXAMPLE
from tests.web.conftest import DeskClient
from tests.web.world import ADMIN, CASE_MANAGER_A, CASE_MANAGER_B, STUDENT_A, World

NEW_ID = "S-2027-0001"


def _new_student(case_manager: str = CASE_MANAGER_A) -> str:
    """The example meeting, for a new student (Marco), with `case_manager` as case manager and
    a helper on the team who holds no item (so the balance check has a warning to show)."""
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace("S-2026-0417", NEW_ID).replace("name: Lucía Herrera", "name: Marco Díaz")
    text = text.replace(
        "\nteam:\n",
        "\nteam:\n  - name: Pat Helper\n    email: pat.helper@lincoln.example.org\n"
        "    role: other\n",
        1,
    )
    return text.replace(CASE_MANAGER_A, case_manager)


def _state(tracker: Tracker) -> tuple[list[int], int, list[tuple[str, str | None]]]:
    return (
        [i.id for i in tracker.items()],
        len(tracker.outbox()),
        [(a.action, a.subject) for a in tracker.desk_audit() if a.action != "signed_in"],
    )


def test_paste_preview_then_save_records_the_meeting_and_queues_the_summaries(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    tracker = world.tracker
    client = make_client(CASE_MANAGER_A)
    assert "Record a meeting" in client.get("/meetings/new").text
    before = _state(tracker)
    text = _new_student()
    preview = client.post("/meetings/preview", data={"csrf": client.csrf, "meeting": text})
    assert preview.status_code == 200
    for shown in ("Marco Díaz", NEW_ID, "Tom Okafor", "Save and send the summaries", "is new here"):
        assert shown in preview.text
    assert "Pat Helper has no item to do." in preview.text  # the balance check's warning
    # Before saving: every reader's texts are translated, and each member's summary is shown
    # in their language (Rosa's in Spanish).
    assert "Every member can read every text in their language." in preview.text
    assert "Rosa Herrera (Spanish): El plan para Marco Díaz" in html.unescape(preview.text)
    assert _state(tracker) == before  # a preview saves nothing
    saved = client.post("/meetings", data={"csrf": client.csrf, "meeting": text})
    assert (saved.status_code, saved.headers["location"]) == (
        303,
        f"/students/{NEW_ID}?done=recorded",
    )
    assert "Saved: the meeting is recorded" in client.get(saved.headers["location"]).text
    assert "Marco Díaz" in client.get("/").text
    team = parse_meeting(text).members
    assert len(tracker.outbox()) - before[1] == len(team)  # one summary per member, queued
    audit = tracker.desk_audit()[0]
    assert (audit.actor, audit.action, audit.subject) == (
        CASE_MANAGER_A,
        "meeting_recorded",
        NEW_ID,
    )
    assert audit.detail.startswith("new:")


def test_an_uploaded_file_is_read_the_same_way(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    client = make_client(CASE_MANAGER_A)
    response = client.post(
        "/meetings/preview",
        data={"csrf": client.csrf, "meeting": ""},
        files={"file": ("marco.yaml", _new_student().encode(), "application/x-yaml")},
    )
    assert response.status_code == 200 and "Marco Díaz" in response.text
    # The preview carries the file's text, so saving needs no second upload.
    assert "S-2027-0001" in response.text.split('name="meeting"')[1]
    bad = client.post(
        "/meetings/preview",
        data={"csrf": client.csrf},
        files={"file": ("marco.yaml", b"\xff\xfe\x00bad", "application/x-yaml")},
    )
    assert bad.status_code == 400 and "not a text file" in bad.text


def test_a_broken_file_is_one_error_with_its_line_and_nothing_is_saved(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    tracker = world.tracker
    client = make_client(CASE_MANAGER_A)
    before = _state(tracker)
    text = _new_student().replace("role: other", "role: wizard")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "wizard" in row)
    for url in ("/meetings/preview", "/meetings"):
        response = client.post(url, data={"csrf": client.csrf, "meeting": text})
        assert response.status_code == 400
        assert f"Line {line}" in response.text
        assert re.search(r"<code>team\[\d+\]\.role</code>", response.text)
        assert "Nothing was saved" in response.text and "unknown role" in response.text
        assert "role: wizard" in response.text  # the text comes back to be fixed
    assert _state(tracker) == before


def test_only_the_meetings_case_manager_or_an_admin_may_record_it(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    tracker = world.tracker
    bea = make_client(CASE_MANAGER_B)
    before = _state(tracker)
    # A meeting naming someone else as case manager; and one naming Bea, for Dana's student.
    others = _new_student()
    takeover = EXAMPLE.read_text(encoding="utf-8").replace(CASE_MANAGER_A, CASE_MANAGER_B)
    for text in (others, takeover):
        for url in ("/meetings/preview", "/meetings"):
            response = bea.post(url, data={"csrf": bea.csrf, "meeting": text})
            assert response.status_code == 403, url
            assert "names you as the case manager" in response.text
    assert _state(tracker) == before
    assert tracker.student_status(STUDENT_A).members[0].email == CASE_MANAGER_A
    admin = make_client(ADMIN)
    done = admin.post("/meetings", data={"csrf": admin.csrf, "meeting": others})
    assert done.status_code == 303
    assert tracker.desk_audit()[0].actor == ADMIN
