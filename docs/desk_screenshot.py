"""Takes docs/desk-caseload.png and docs/desk-student.png (desktop), and docs/desk-caseload-phone.png
and docs/desk-student-phone.png (the first screen of a 360 x 740 phone): the desk as the demo's
case manager sees it.

Run from the repository root: `.venv/bin/python docs/desk_screenshot.py` (needs Chromium at
/usr/bin/chromium and Playwright, as the browser tests do). It runs the demo in a temporary
folder, adds the second example meeting (so the caseload has two rows), serves the real desk
on loopback with the demo's last day as its clock, and signs in through a printed link, in a
real browser. Made-up data only.
"""

from __future__ import annotations

import asyncio
import socket
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from playwright.sync_api import Page, sync_playwright

from iep_followup import Tracker, load_meeting_file, load_settings
from iep_followup.demo import run_demo
from iep_followup.resources import example_meeting_path
from iep_followup.web import create_app

HERE = Path(__file__).parent
CASE_MANAGER = "dana.whitfield@lincoln.example.org"
TODAY = datetime(2026, 12, 14, 15, 0, tzinfo=UTC)  # the demo's last day, 09:00 in Chicago
WIDTH = 1280
PHONE = {"width": 360, "height": 740}
TALLEST = 1500  # a long page is cut here, as a screen would


def demo_tracker(folder: Path) -> Tracker:
    asyncio.run(run_demo(folder, echo=lambda _line: None))
    settings = load_settings(folder / ".env")
    tracker = Tracker(settings, clock=lambda: TODAY)
    tracker.record_meeting(load_meeting_file(example_meeting_path("unbalanced-meeting")))
    return tracker


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def shoot(page: Page, name: str, start: str | None = None) -> None:
    """The page from its top (or from the heading `start`), at most TALLEST pixels of it."""
    top = 0.0
    if start is not None:
        box = page.get_by_role("heading", name=start).bounding_box()
        assert box is not None, start
        top = max(0.0, box["y"] + page.evaluate("window.scrollY") - 24)  # box: in the viewport
    bottom = int(page.evaluate("document.querySelector('main').getBoundingClientRect().bottom"))
    bottom += int(page.evaluate("window.scrollY")) + 24
    out = HERE / name
    clip = {"x": 0, "y": top, "width": WIDTH, "height": min(TALLEST, bottom - top)}
    page.screenshot(path=str(out), full_page=True, clip=clip)  # type: ignore[arg-type]
    print(f"wrote {out}")


def main() -> None:
    with tempfile.TemporaryDirectory() as temp:
        tracker = demo_tracker(Path(temp) / "demo")
        port = free_port()
        config = uvicorn.Config(
            create_app(tracker), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        link = tracker.sign_in_link(CASE_MANAGER).replace(
            tracker.desk_base_url(), f"http://127.0.0.1:{port}"
        )
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"]
                )
                page = browser.new_page(viewport={"width": WIDTH, "height": 500})
                page.goto(link)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_load_state("load")
                shoot(page, "desk-caseload.png")
                page.get_by_role("link", name="Lucía Herrera").first.click()
                page.wait_for_load_state("load")
                for history in page.locator("summary", has_text="History").all():
                    history.click()  # open: the words of the replies are the point
                shoot(page, "desk-student.png", start="Needs your attention")
                phone = browser.new_page(viewport=PHONE)
                phone.goto(
                    tracker.sign_in_link(CASE_MANAGER).replace(
                        tracker.desk_base_url(), f"http://127.0.0.1:{port}"
                    )
                )
                phone.get_by_role("button", name="Sign in").click()
                phone.wait_for_load_state("load")
                phone.screenshot(path=str(HERE / "desk-caseload-phone.png"))
                phone.get_by_role("link", name="Lucía Herrera").first.click()
                phone.wait_for_load_state("load")
                phone.screenshot(path=str(HERE / "desk-student-phone.png"))
                print(
                    f"wrote {HERE / 'desk-caseload-phone.png'}, {HERE / 'desk-student-phone.png'}"
                )
                browser.close()
        finally:
            server.should_exit = True
            thread.join(10)
            tracker.close()


if __name__ == "__main__":
    main()
