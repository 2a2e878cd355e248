"""The caseload: one row per student, what needs attention first, and each row's next step."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from iep_followup.web.render import render
from iep_followup.web.security import Access, Visitor, page, tracker_of


async def caseload(request: Request, who: Visitor) -> Response:
    assert who.reader is not None
    rows = await asyncio.to_thread(tracker_of(request).caseload, who.reader)
    return render(request, who, "caseload.html", rows=rows)


ROUTES: list[Route] = [page("/", caseload, access=Access.READER)]
