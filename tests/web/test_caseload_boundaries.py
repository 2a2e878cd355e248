"""A case manager's power ends at her caseload (issue 26, finding 1).

Every POST route of the desk is walked by case manager A with each kind of target that
belongs to another caseload: a student, an item, a team member, a held reply. Each is refused
(403 or 404) and nothing changes. The routes are read from the app: a new POST route fails
`test_every_post_has_its_foreign_targets` until its cases are added here.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Callable
from datetime import date

from starlette.routing import Route

from iep_followup.domain import Role, StudentInfo
from iep_followup.meetingform import from_record, to_data
from iep_followup.tracker import Tracker
from iep_followup.web import create_app
from tests.conftest import make_member, make_record
from tests.mailclient import reply
from tests.web.conftest import DeskClient
from tests.web.test_held_items import _records
from tests.web.world import (
    ADMIN,
    CASE_MANAGER_A,
    CASE_MANAGER_B,
    STUDENT_A,
    STUDENT_B,
    World,
    beas_student,
)

TOM = "Tom Okafor <tom.okafor@lincoln.example.org>"  # on Lucía's team (case manager A's)
SAMS_PARENT = "rosa@home.example.com"  # owns one of Sam's items (case manager B's)
SAMS_OWN = "karen.sped@school.example.org"  # on Sam's team only

# POST routes with no student, item, member or held reply to aim at another caseload.
NO_TARGET = {
    "/signin": "asks for a sign-in link: public",
    "/signin/{token}": "uses a sign-in link: public",
    "/signout": "ends the reader's own session",
    "/language": "sets the reader's own language",
    "/answer/{token}": "an owner's answer link: the signed token is the access",
}

Case = tuple[str, str, dict[str, str]]  # (the kind of foreign target, url, form)
# Not found or forbidden when the URL names the foreign target; when her own page's form picks
# it (an owner, an item to apply a reply to), that page's field error, the same answer as for
# an id that does not exist: 400 on a student's page, 409 on a held reply's.
PICKED = "picked in the form"


def tom_answers_sams_request(world: World) -> int:
    """Tom (Lucía's teacher) answers the request about Sam: a forwarded key, a wrong reply."""
    held = world.tracker.ingest(reply(world.requests[SAMS_PARENT], "listo", sender=TOM))
    assert held.inbound_id is not None and held.outcome.value == "held"
    return held.inbound_id


def _meeting_for_sam_naming_a() -> dict[str, str]:
    """Sam's meeting as the form's fields, naming case manager A instead of B."""
    record = beas_student(STUDENT_B, "Sam Ortiz")
    members = tuple(
        make_member("Dana Whitfield", Role.CASE_MANAGER, email=CASE_MANAGER_A)
        if m.role is Role.CASE_MANAGER
        else m
        for m in record.members
    )
    return from_record(dataclasses.replace(record, members=members))


def _cases(world: World, foreign_held: int) -> dict[str, list[Case]]:
    tracker = world.tracker
    lucia, sam = tracker.student_status(STUDENT_A), tracker.student_status(STUDENT_B)
    sams_item = sam.items[0].id
    sams_member = next(m.person_id for m in sam.members if m.email == SAMS_OWN)
    lucias_item = lucia.items[0].id
    lucias_member = next(m.person_id for m in lucia.members if m.role is Role.CASE_MANAGER)
    item_forms = {
        "reassign": {"owner": str(sams_member), "reason": "x"},
        "reschedule": {"due_on": "2027-01-15", "reason": "x"},
        "close": {"outcome": "dropped", "reason": "x"},
        "reopen": {"reason": "x"},
        "record": {"note": "x"},
    }
    member_forms = {"clear-failing": {}, "away": {"away_until": "2026-12-18"}}
    cases: dict[str, list[Case]] = {}
    for action, form in item_forms.items():
        cases[f"/students/{{external_id}}/items/{{item_id:int}}/{action}"] = [
            (
                "another caseload's student",
                f"/students/{STUDENT_B}/items/{sams_item}/{action}",
                form,
            ),
            ("another caseload's item", f"/students/{STUDENT_A}/items/{sams_item}/{action}", form),
            # Her own item, reassigned to someone on another caseload's team only.
            (
                f"another caseload's person, {PICKED}",
                f"/students/{STUDENT_A}/items/{lucias_item}/{action}",
                {**form, "owner": str(sams_member)},
            )
            if action == "reassign"
            else (
                "another caseload's item",
                f"/students/{STUDENT_A}/items/{sams_item}/{action}",
                form,
            ),
        ]
    for action, form in member_forms.items():
        cases[f"/students/{{external_id}}/team/{{person_id:int}}/{action}"] = [
            (
                "another caseload's student",
                f"/students/{STUDENT_B}/team/{sams_member}/{action}",
                form,
            ),
            (
                "another caseload's member",
                f"/students/{STUDENT_A}/team/{sams_member}/{action}",
                form,
            ),
            # Her own case manager's id under Sam's page.
            (
                "another caseload's student",
                f"/students/{STUDENT_B}/team/{lucias_member}/{action}",
                form,
            ),
        ]
    for action, form in {"release": {}, "dismiss": {"reason": "x"}}.items():
        cases[f"/held/{{inbound_id:int}}/{action}"] = [
            ("another caseload's held reply", f"/held/{foreign_held}/{action}", form),
        ]
    cases["/held/{inbound_id:int}/apply"] = [
        (
            "another caseload's held reply",
            f"/held/{foreign_held}/apply",
            {"item": str(lucias_item)},
        ),
        (
            f"another caseload's item, {PICKED}",
            f"/held/{world.held_id}/apply",
            {"item": str(sams_item)},
        ),
    ]
    # Forgetting is an administrator's; a case manager's attempt on Sam changes nothing either.
    cases["/students/{external_id}/forget"] = [
        ("another caseload's student", f"/students/{STUDENT_B}/forget", {"confirm": STUDENT_B})
    ]
    fields = _meeting_for_sam_naming_a()
    text = to_data(fields).yaml_text()
    cases["/meetings/preview"] = [
        ("another caseload's student", "/meetings/preview", {"meeting": text})
    ]
    cases["/meetings"] = [("another caseload's student", "/meetings", {"meeting": text})]
    cases["/meetings/form"] = [
        ("another caseload's student", "/meetings/form", {**fields, "action": action})
        for action in ("check", "save")
    ]
    return cases


def _post_paths() -> list[str]:
    app = create_app(Tracker.__new__(Tracker))
    return sorted(
        r.path for r in app.routes if isinstance(r, Route) and "POST" in (r.methods or set())
    )


def test_every_post_has_its_foreign_targets(world: World) -> None:
    cases = _cases(world, tom_answers_sams_request(world))
    for path in _post_paths():
        assert (path in cases) != (path in NO_TARGET), (
            f"POST {path}: add its foreign targets to _cases, or say in NO_TARGET why it has none"
        )
    assert set(cases) | set(NO_TARGET) == set(_post_paths())


def test_every_post_refuses_another_caseloads_target_and_changes_nothing(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    foreign_held = tom_answers_sams_request(world)
    client = make_client(CASE_MANAGER_A)
    before = _records(world.tracker)
    walked = 0
    for _path, cases in sorted(_cases(world, foreign_held).items()):
        for kind, url, form in cases:
            response = client.post(url, data={"csrf": client.csrf, **form})
            where = f"{kind}: POST {url} answered {response.status_code}"
            assert response.status_code in ((400, 409) if PICKED in kind else (403, 404)), where
            assert _records(world.tracker) == before, f"{kind}: POST {url} changed something"
            walked += 1
    assert walked >= 20
    # The targets are real: their own case manager may use them.
    owner = make_client(CASE_MANAGER_B)
    released = owner.post(f"/held/{foreign_held}/release", data={"csrf": owner.csrf})
    assert released.status_code == 303, released.text


def test_a_reply_about_another_caseloads_child_is_hers_to_neither_read_nor_apply(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    """Tom is on Lucía's team; his answer to Sam's request is Sam's case manager's to judge."""
    foreign_held = tom_answers_sams_request(world)
    mine = make_client(CASE_MANAGER_A)
    assert mine.get(f"/held/{foreign_held}").status_code == 404
    assert f"/held/{foreign_held}" not in mine.get("/held").text
    assert f"/held/{world.held_id}" in mine.get("/held").text  # Tom's reply about Lucía: hers
    sams = make_client(CASE_MANAGER_B)
    page = sams.get(f"/held/{foreign_held}")
    assert page.status_code == 200
    assert "Sam Ortiz" in html.unescape(page.text)
    assert f"/held/{foreign_held}" in sams.get("/held").text
    assert f"/held/{world.held_id}" not in sams.get("/held").text
    assert make_client(ADMIN).get(f"/held/{foreign_held}").status_code == 200
    # The library says the same.
    reader = world.tracker.desk_reader(CASE_MANAGER_A)
    assert reader is not None
    assert foreign_held not in {h.id for h in world.tracker.held_replies(reader)}


def _new_student_listing_sams_people() -> str:
    """Case manager A's meeting for a new student, listing Sam's parent under another name,
    language and away date, and Sam's teacher; as the paste form takes it."""
    record = make_record(
        student=StudentInfo("S-NEW", "Nora Quinn", "Lincoln Elementary", "2"),
        members=(
            make_member("Dana Whitfield", Role.CASE_MANAGER, email=CASE_MANAGER_A),
            make_member("Tom Teacher", Role.CLASSROOM_TEACHER),
            make_member("Karen Sped", Role.SPECIAL_EDUCATION_TEACHER),
            make_member("Megan Ot", Role.OCCUPATIONAL_THERAPIST),
            make_member(
                "Someone Else", Role.PARENT, email=SAMS_PARENT, away_until=date(2099, 1, 1)
            ),
        ),
    )
    return to_data(from_record(record)).yaml_text()


def test_a_meeting_on_her_caseload_keeps_sams_people_and_says_so(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    """People are shared, authority is not: Sam's parent stays who she is on Sam's team, and
    his teacher's held replies about Sam stay Sam's case manager's."""
    tracker = world.tracker
    teacher = "Tom Teacher <tom.teacher@school.example.org>"
    about_sam = tracker.ingest(reply(world.requests[SAMS_PARENT], "listo", sender=teacher))
    assert about_sam.inbound_id is not None and about_sam.outcome.value == "held"
    sams_parent = [m for m in tracker.student_status(STUDENT_B).members if m.email == SAMS_PARENT]
    client = make_client(CASE_MANAGER_A)
    text = _new_student_listing_sams_people()
    preview = client.post("/meetings/preview", data={"csrf": client.csrf, "meeting": text})
    assert preview.status_code == 200
    shown = html.unescape(preview.text)
    assert "People on another caseload's team" in shown and SAMS_PARENT in shown
    saved = client.post("/meetings", data={"csrf": client.csrf, "meeting": text})
    assert saved.status_code == 303
    assert saved.headers["location"] == "/students/S-NEW?done=recorded_kept"
    page = html.unescape(client.get(saved.headers["location"]).text)
    assert "kept their name, language and time zone" in page
    assert [m for m in tracker.student_status(STUDENT_B).members if m.email == SAMS_PARENT] == (
        sams_parent
    )
    # The teacher is on her team now; his reply about Sam is still not hers to read.
    assert f"/held/{about_sam.inbound_id}" not in client.get("/held").text
    assert client.get(f"/held/{about_sam.inbound_id}").status_code == 404
    owner = make_client(CASE_MANAGER_B)
    assert f"/held/{about_sam.inbound_id}" in owner.get("/held").text
