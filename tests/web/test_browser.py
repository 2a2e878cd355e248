"""The desk in a real browser (Debian's Chromium through Playwright): the flows a case manager follows.

Sign in by the emailed link, read the caseload, open a student and change an item's due date,
read the child's record, preview a meeting file, release a held reply; axe-core
checks every page, at desktop width and at 360 px. The server is uvicorn on loopback.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from iep_followup.config import Settings
from iep_followup.tracker import Tracker
from iep_followup.web import create_app
from tests.conftest import EXAMPLE, Clock, require_service
from tests.smtp_server import SmtpServer
from tests.web.world import (
    ADMIN,
    CASE_MANAGER_A,
    STUDENT_A,
    build_world,
    deliver,
    sign_in_links,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
WIDTHS = ({"width": 1280, "height": 900}, {"width": 360, "height": 740})
PHONE = WIDTHS[1]

# Each word of each text node, as the layout drew it: a word whose boxes sit on more than one
# line was split by the layout ("Caseloa / d"). Boxes of zero width (collapsed space) do not count.
SPLIT_WORDS = """() => {
  const split = [];
  const range = document.createRange();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const words = /\\S+/g;
    for (let m = words.exec(node.data); m; m = words.exec(node.data)) {
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const lines = new Set(
        [...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.bottom))
      );
      if (lines.size > 1) split.push(m[0]);
    }
  }
  return split;
}"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(tracker: Tracker, port: int) -> Iterator[None]:
    """The desk on `tracker`, served by uvicorn on loopback (no access log) while in the block."""
    config = uvicorn.Config(
        create_app(tracker), host="127.0.0.1", port=port, access_log=False, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(10)


@contextmanager
def served_desk(
    make_settings: Callable[..., Settings], clock: Clock, smtp_server: SmtpServer
) -> Iterator[tuple[Tracker, str]]:
    """A tracker on a SQLite file, its desk served by uvicorn on loopback, and the desk's address
    (the emails' links point there)."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    tracker = Tracker(
        make_settings(smtp_url=smtp_server.url, admins=ADMIN, web_url=url), clock=clock
    )
    tracker.init_database()
    try:
        with serving(tracker, port):
            yield tracker, url
    finally:
        tracker.close()


@pytest.fixture
def desk_url(
    make_settings: Callable[..., Settings], clock: Clock, smtp_server: SmtpServer
) -> Iterator[tuple[str, Tracker]]:
    """The desk served by uvicorn on loopback, on a SQLite file, with the test district in it."""
    with served_desk(make_settings, clock, smtp_server) as (tracker, url):
        build_world(tracker, clock, smtp_server)
        yield url, tracker
    tracker.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    require_service(
        CHROMIUM.exists(), f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _check_accessibility(page: Any, name: str) -> None:
    """axe-core on the page as it is: no serious or critical violation, at each width."""
    for size in WIDTHS:
        page.set_viewport_size(size)
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            # Evaluated through the DevTools protocol: the page's CSP (no script) stays as it is.
            page.evaluate(AXE.read_text(encoding="utf-8"))
        result = page.evaluate("async () => await axe.run(document)")
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
            for v in result["violations"]
            if v["impact"] in {"serious", "critical"}
        ]
        assert bad == [], f"{name} at {size['width']} px"
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name} scrolls sideways at {size['width']} px"
        assert page.evaluate(SPLIT_WORDS) == [], f"{name} splits words at {size['width']} px"
    page.set_viewport_size(WIDTHS[0])


def test_a_case_manager_signs_in_by_email_reads_her_caseload_and_releases_a_held_reply(
    desk_url: tuple[str, Tracker], browser: Any, smtp_server: SmtpServer
) -> None:
    url, tracker = desk_url
    page = browser.new_context(locale="en-US").new_page()
    page.goto(url + "/")
    assert page.url == url + "/signin"
    _check_accessibility(page, "sign-in")

    page.get_by_label("Your email address").fill(CASE_MANAGER_A)
    page.get_by_role("button", name="Email me a link").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    # Playwright's sync API keeps an event loop on this thread: deliver from another one.
    sender = threading.Thread(target=deliver, args=(tracker, smtp_server))
    sender.start()
    sender.join(30)
    [link] = sign_in_links(smtp_server, CASE_MANAGER_A)

    page.goto(link)
    _check_accessibility(page, "confirm")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Caseload").wait_for()
    _check_accessibility(page, "caseload")
    row = page.get_by_role("row").filter(has_text="Lucía Herrera")
    assert "Read the held replies" in row.inner_text() or "Ask" in row.inner_text()

    row.get_by_role("link", name="Lucía Herrera").click()
    page.get_by_role("heading", name="Strengths").wait_for()
    _check_accessibility(page, "student")
    assert page.get_by_role("heading", name="The team").is_visible()

    # One change from the student page: a new due date, with its reason.
    change = page.locator("details.change").first
    change.locator("summary").click()
    _check_accessibility(page, "student, changing an item")
    form = change.locator("form[action$='/reschedule']")
    form.get_by_label("New due date").fill("2027-02-01")
    form.get_by_label("Why").fill("Winter break moved")
    form.get_by_role("button", name="Change the date").click()
    page.get_by_text("Saved: the item has a new due date.").wait_for()
    assert any(
        u.note == "Winter break moved" for i in tracker.items() for u in tracker.history(i.id)
    )

    page.get_by_role("link", name="The child's record, to print or download").click()
    page.get_by_role("heading", name="Record of Lucía Herrera").wait_for()
    _check_accessibility(page, "record")
    assert "Winter break moved" in page.content()

    page.get_by_role("navigation").get_by_role("link", name="Record a meeting").click()
    page.get_by_role("heading", name="Record a meeting").wait_for()
    _check_accessibility(page, "record a meeting")
    page.get_by_label("The meeting file").fill(EXAMPLE.read_text(encoding="utf-8"))
    page.get_by_role("button", name="Preview").click()
    page.get_by_role("heading", name="Check the meeting").wait_for()
    _check_accessibility(page, "meeting preview")

    page.get_by_role("navigation").get_by_role("link", name="Held replies").click()
    page.get_by_role("link", name="tom.okafor@lincoln.example.org", exact=False).click()
    page.get_by_role("heading", name="What we read").wait_for()
    _check_accessibility(page, "held reply")
    assert "listo" in page.locator("pre.reply").inner_text()
    # Or to an item she picks: her student's items, in a labelled list (checked by axe above).
    picks = page.get_by_label("Or apply it to an item you pick").locator("option").all_inner_texts()
    assert picks and all(p.startswith("Lucía Herrera: ") for p in picks)
    page.get_by_role("button", name="Apply it as written").click()
    page.get_by_text("The reply was applied as written.").wait_for()
    assert tracker.inbox(held_only=True) == []

    page.get_by_label("Language").select_option("es")
    page.get_by_role("button", name="Change").click()
    page.get_by_role("heading", name="Respuestas en espera").wait_for()
    page.get_by_role("button", name="Salir", exact=True).click()
    page.get_by_role("heading", name="Entrar").wait_for()
    page.goto(url + "/")
    assert page.url == url + "/signin"


def test_a_case_manager_records_a_meeting_through_the_form_with_a_spanish_reading_parent(
    desk_url: tuple[str, Tracker], browser: Any
) -> None:
    _url, tracker = desk_url
    page = browser.new_context(locale="en-US").new_page()
    page.goto(tracker.sign_in_link(CASE_MANAGER_A))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Caseload").wait_for()
    page.get_by_role("navigation").get_by_role("link", name="Record a meeting").click()
    page.get_by_role("link", name="Or fill in the meeting field by field").click()
    page.get_by_role("heading", name="Record a meeting").wait_for()
    _check_accessibility(page, "the meeting form")

    student = page.get_by_role("group", name="Student")
    student.get_by_label("Student id").fill("S-2027-0100")
    student.get_by_label("Name").fill("Ana Ruiz")
    page.get_by_label("Date of the meeting").fill("2026-11-16")
    dana = page.get_by_role("group", name="Team member 1")
    dana.get_by_label("Name").fill("Dana Whitfield")
    dana.get_by_label("Email").fill(CASE_MANAGER_A)
    dana.get_by_label("Role").select_option("case_manager")
    rosa = page.get_by_role("group", name="Team member 2")
    rosa.get_by_label("Name").fill("Rosa Ruiz")
    rosa.get_by_label("Email").fill("rosa.ruiz@example.com")
    rosa.get_by_label("Role").select_option("parent")
    rosa.get_by_label("Relationship to the child (family)").select_option("mother")
    rosa.get_by_label("Reads").select_option("es")
    page.get_by_role("group", name="Strength 1").get_by_label("What the child does well").fill(
        "Ana reads to her little brother every night."
    )
    concern = page.get_by_role("group", name="Concern 1", exact=True)
    concern.get_by_label("The concern", exact=True).fill("Ana does not turn in her homework.")
    item = page.get_by_role("group", name="Action item 1 of concern 1")
    item.get_by_label("What will be done").fill("Sign Ana's planner each night")
    item.get_by_label("Owner (their email)").fill("rosa.ruiz@example.com")
    item.get_by_label("Due").fill("2027-01-29")
    page.get_by_role("button", name="Check", exact=True).click()

    # Checked: Rosa reads Spanish, and no text has its Spanish version yet.
    page.get_by_role("heading", name="Checked: nothing is wrong").wait_for()
    assert "Read in Spanish by Rosa Ruiz" in page.content()
    versions = {
        "Strength 1": "Ana le lee a su hermanito todas las noches.",
        "Concern 1": "Ana no entrega la tarea.",
        "Action item 1 of concern 1": "Firmar la agenda de Ana cada noche",
    }
    for group, words in versions.items():
        box = page.get_by_role("group", name=group, exact=True).get_by_label("The same, in Spanish")
        box.first.fill(words)
    page.get_by_role("button", name="Check", exact=True).click()
    page.get_by_role("heading", name="Checked: nothing is wrong").wait_for()
    assert "Every member can read every text in their language." in page.content()
    page.get_by_text("Rosa Ruiz (Spanish)").click()
    spanish = page.locator('pre[lang="es"]').inner_text()
    assert "Ana le lee a su hermanito todas las noches." in spanish
    assert "Firmar la agenda de Ana cada noche" in spanish
    _check_accessibility(page, "the meeting form, checked")

    queued = len(tracker.outbox())
    page.get_by_role("button", name="Save and send the summaries").click()
    page.get_by_text("Saved: the meeting is recorded").wait_for()
    assert len(tracker.outbox()) - queued == 2
    [item_view] = tracker.items(student="S-2027-0100")
    assert item_view.title == "Sign Ana's planner each night"


def test_every_desk_page_fits_a_phone_with_the_first_student_on_the_first_screen(
    desk_url: tuple[str, Tracker], browser: Any
) -> None:
    url, tracker = desk_url
    page = browser.new_context(locale="en-US", viewport=PHONE).new_page()
    page.goto(url + "/signin")
    _check_accessibility(page, "sign-in")
    page.get_by_label("Your email address").fill(CASE_MANAGER_A)
    page.get_by_role("button", name="Email me a link").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    _check_accessibility(page, "check your email")

    page.goto(tracker.sign_in_link(CASE_MANAGER_A))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Caseload").wait_for()
    page.set_viewport_size(PHONE)
    # The header is one line: the desk's name and "Menu", side by side.
    brand = page.locator(".brand").bounding_box()
    menu = page.locator(".menu > summary").bounding_box()
    assert brand and menu and abs(brand["y"] - menu["y"]) < brand["height"]
    assert not page.get_by_role("navigation").is_visible()
    first = page.get_by_role("link", name="Lucía Herrera").bounding_box()
    assert first is not None and first["y"] + first["height"] <= PHONE["height"]
    page.locator(".menu > summary").click()
    page.get_by_role("navigation").get_by_role("link", name="Held replies").click()
    page.get_by_role("heading", name="Held replies", level=1).wait_for()
    _check_accessibility(page, "held replies")

    for path, heading, name in (
        ("/", "Caseload", "caseload"),
        (f"/students/{STUDENT_A}", "Lucía Herrera", "student"),
        (f"/students/{STUDENT_A}/record", "Record of Lucía Herrera", "record"),
        (f"/students/{STUDENT_A}/meeting", "Edit the meeting", "edit the meeting"),
        (f"/students/{STUDENT_A}/access", "Who has seen this record", "access log"),
        ("/meetings/new", "Record a meeting", "record a meeting"),
        ("/students/S-nobody", "Not found", "not found"),
    ):
        page.set_viewport_size(PHONE)
        page.goto(url + path)
        if heading is not None:
            page.get_by_role("heading", name=heading, level=1).wait_for()
        _check_accessibility(page, name)

    page.set_viewport_size(PHONE)
    page.goto(f"{url}/students/{STUDENT_A}")
    # The team table is a card per person, not one letter per line.
    team = page.get_by_role("region", name="The team")
    assert team.locator("tr").first.bounding_box() is not None
    row_heights = [box["height"] for box in _boxes(team.locator("tbody tr"))]
    assert row_heights and max(row_heights) < PHONE["height"]
    for change in page.locator("details.change").all():
        change.locator("summary").click()
    _check_accessibility(page, "student, every change open")

    page.goto(url + "/held")
    page.get_by_role("link", name="tom.okafor@lincoln.example.org", exact=False).click()
    page.get_by_role("heading", name="What we read").wait_for()
    page.get_by_text("The whole email, as it came").click()
    _check_accessibility(page, "held reply, the whole email open")

    # An administrator's page: forgetting a student, with what it would remove, on a phone.
    admin = browser.new_context(locale="en-US", viewport=PHONE).new_page()
    admin.goto(tracker.sign_in_link(ADMIN))
    admin.get_by_role("button", name="Sign in").click()
    admin.get_by_role("heading", name="Caseload").wait_for()
    admin.goto(f"{url}/students/{STUDENT_A}/forget")
    admin.get_by_role("heading", name="Forget a student", level=1).wait_for()
    _check_accessibility(admin, "forget a student")

    # In Spanish, whose words are longer, the header is still one line.
    page.set_viewport_size(PHONE)
    page.goto(url + "/")
    page.locator(".menu > summary").click()
    page.get_by_label("Language").select_option("es")
    page.get_by_role("button", name="Change").click()
    page.get_by_role("heading", name="Estudiantes a cargo", level=1).wait_for()
    assert page.locator(".menu").get_attribute("open") is None
    header = page.locator("header.top").bounding_box()
    brand = page.locator(".brand").bounding_box()
    assert header and brand and brand["height"] < 40 and header["height"] < 60
    first = page.get_by_role("link", name="Lucía Herrera").bounding_box()
    assert first is not None and first["y"] + first["height"] <= PHONE["height"]
    _check_accessibility(page, "caseload in Spanish")


def _boxes(locator: Any) -> list[dict[str, float]]:
    return [box for box in (one.bounding_box() for one in locator.all()) if box is not None]
