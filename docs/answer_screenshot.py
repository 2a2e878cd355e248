"""Takes docs/answer-buttons.png: a check-in email with its answer buttons beside the page one opens.

Run from the repository root: `.venv/bin/python docs/answer_screenshot.py` (needs Chromium at
/usr/bin/chromium and Playwright, as the browser tests do). Everything is rendered by the real
templates from made-up data; no server, no database.
"""

from __future__ import annotations

import html
from datetime import date
from pathlib import Path

from playwright.sync_api import sync_playwright

from iep_followup.answers import answers_for
from iep_followup.domain import ItemStatus
from iep_followup.mail.contexts import request_context, with_answer_links
from iep_followup.mail.kinds import MailKind
from iep_followup.mail.render import Renderer
from iep_followup.services.answers import AnswerPage
from iep_followup.views import Contact, ItemDetail, Recipient
from iep_followup.vocabulary import ANSWER_LABELS
from iep_followup.web.i18n import HERE, environment

OUT = Path(__file__).parent / "answer-buttons.png"
BASE = "https://desk.example.org"
TOM = Recipient(4, "Tom Okafor", "tom.okafor@lincoln.example.org", "en", "America/Chicago", False)
ITEMS = {
    1: ItemDetail(
        1,
        10,
        "Lucía Herrera",
        "Give Lucía a pencil grip and check it each morning",
        "Handwriting",
        date(2027, 1, 29),
        ItemStatus.OPEN,
        0,
        None,
    ),
    2: ItemDetail(
        2,
        10,
        "Lucía Herrera",
        "Seat Lucía near the board during reading",
        "Reading",
        date(2026, 12, 18),
        ItemStatus.IN_PROGRESS,
        40,
        None,
    ),
}


def email_html() -> str:
    context = request_context(
        TOM,
        [("A1", 1), ("A2", 2)],
        ITEMS,
        {10: ["Lucía is kind to her classmates."]},
        {10: Contact("Dana Whitfield", "dana.whitfield@lincoln.example.org")},
        today=date(2026, 11, 30),
        rotation=0,
        reminder=False,
    )
    linked = with_answer_links(context, BASE, lambda ref: f"t12-{ref.lower()}-{'x' * 20}")
    return Renderer().render(MailKind.REQUEST, "en", linked).html


def page_html() -> str:
    page = AnswerPage(
        "ok",
        "en",
        child="Lucía",
        ref="A1",
        title=ITEMS[1].title,
        due_on=ITEMS[1].due_on,
        choices=answers_for(),
    )
    rendered = (
        environment("en", "America/Chicago")
        .get_template("answer.html")
        .render(
            csrf="csrf",
            labels=ANSWER_LABELS,
            path="/answer/t12-a1",
            page=page,
            choice="in_progress",
            token="t12-a1",  # noqa: S106  (a picture, not a credential)
            nonce="nonce",
            note="",
            new_date="",
            error=None,
        )
    )
    styles = "".join(
        (HERE / "static" / name).read_text(encoding="utf-8") for name in ("desk.css", "answer.css")
    )
    for name in ("desk.css", "answer.css"):
        rendered = rendered.replace(f'<link rel="stylesheet" href="/static/{name}">', "")
    return rendered.replace("</head>", f"<style>{styles}</style></head>")


def main() -> None:
    frame = '<iframe srcdoc="{}" style="width:{}px;height:{}px;border:1px solid #9aa5b1;background:#fff"></iframe>'
    both = (
        '<body style="margin:0;padding:16px;background:#e4e7eb;display:flex;gap:24px;'
        'align-items:flex-start">'
        + frame.format(html.escape(email_html()), 620, 980)
        + frame.format(html.escape(page_html()), 360, 900)
        + "</body>"
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"]
        )
        page = browser.new_page(viewport={"width": 1060, "height": 1020})
        page.set_content(both, wait_until="load")
        page.screenshot(path=str(OUT))
        browser.close()
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
