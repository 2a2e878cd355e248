"""The student page says what the digest says: each "needs your attention" line of the example's
digest is found, in the same words, in plain sight on the student's page (no <details> opened)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from iep_followup.digest import Period
from tests.conftest import Clock
from tests.mailclient import reply
from tests.smtp_server import SmtpServer
from tests.web.conftest import DeskClient
from tests.web.world import CASE_MANAGER_A, REPLY_TIME, STUDENT_A, World, deliver

REMINDED = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)  # Thursday: the reminders go out
DIGEST_DAY = datetime(2026, 12, 8, 15, 0, tzinfo=UTC)  # Tuesday: silent 3 school days on


def _attention_lines(text: str) -> list[str]:
    section = text.split("== Needs your attention ==")[1].split("\n==", maxsplit=1)[0]
    return [line[2:].strip() for line in section.splitlines() if line.startswith("- ")]


def _in_plain_sight(page: str) -> str:
    """The page's words outside any <details> (which a reader must open), tags removed."""
    visible = re.sub(r"<details.*?</details>", " ", page, flags=re.DOTALL)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", visible)).split())


def test_each_line_of_the_digest_is_on_the_student_page_in_the_same_words(
    world: World,
    clock: Clock,
    smtp_server: SmtpServer,
    make_client: Callable[..., DeskClient],
    tmp_path: Path,
) -> None:
    tracker = world.tracker
    clock.now = REPLY_TIME
    rosa = world.requests["rosa.herrera@example.com"]
    assert tracker.ingest(reply(rosa, "bloqueado: no tenemos el cuaderno")).outcome.value == (
        "applied"
    )
    clock.now = REMINDED
    tracker.request_updates()
    deliver(tracker, smtp_server)
    clock.now = DIGEST_DAY
    run = tracker.digests(period=Period.WEEK, preview_dir=tmp_path)
    [text] = [p for p in run.previews if "dana" in p.name and p.suffix == ".txt"]
    lines = _attention_lines(text.read_text(encoding="utf-8"))
    kinds = " ".join(lines)
    # The example's digest: a blocked item with its reason, minutes given against promised,
    # owners not answering, and the held reply.
    assert "is blocked" in kinds and "no tenemos el cuaderno" in kinds
    assert "minutes promised" in kinds and "has not answered" in kinds
    assert "we did not apply it on our own" in kinds

    client = make_client(CASE_MANAGER_A)
    page = client.get(f"/students/{STUDENT_A}")
    assert page.status_code == 200
    shown = _in_plain_sight(page.text)
    for line in lines:
        assert " ".join(line.split()) in shown, line
    # The caseload counts them by kind.
    row = _in_plain_sight(client.get("/").text)
    for count in ("1 blocked", "not answering", "short of minutes", "1 reply to read"):
        assert count in row, count
    # Silent since when, and each service's weeks, no report yet distinct from a reported 0.
    assert "Silent since Nov 30." in shown
    assert "0 of 45 minutes, week of Nov 30" in shown
