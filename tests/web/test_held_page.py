"""The held reply's page: why it was held and the words we kept come first, the sender is named,
and the picker starts with the sender's own items (the one a browser chooses when nothing else is)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from tests.web.conftest import DeskClient
from tests.web.world import CASE_MANAGER_A, STUDENT_A, World

OPTION = re.compile(r'<option value="\d+">([^<]*)</option>')


def test_the_held_page_names_the_sender_and_offers_their_own_items_first(
    world: World, make_client: Callable[..., DeskClient]
) -> None:
    page = make_client(CASE_MANAGER_A).get(f"/held/{world.held_id}").text
    main = page.split('<main id="main">')[1]
    assert main.index("Why it was held") < main.index("What we read") < main.index("From")
    assert "<dd>Tom Okafor <span" in main
    options = [html.unescape(o) for o in OPTION.findall(main)]
    tom = [i for i in world.tracker.items(student=STUDENT_A) if i.owner_name == "Tom Okafor"]
    assert tom and options[: len(tom)] == [
        f"Lucía Herrera: {i.title} (Tom Okafor, {o.split(', ')[-1]}"
        for i, o in zip(tom, options, strict=False)
    ]
    assert all("Tom Okafor" not in o for o in options[len(tom) :])
