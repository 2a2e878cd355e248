"""The caseload: one row per student, what needs attention first, and each row's next step.

Filtered and sorted by query parameters (`need`, `q`, `sort`): a GET only reads.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from iep_followup.desk import CaseloadSort, CaseloadView, Need
from iep_followup.web.render import render
from iep_followup.web.security import Access, Visitor, page, tracker_of


def view_of(request: Request) -> CaseloadView:
    """The page's query parameters as a view; anything unknown is the default."""
    params = request.query_params
    need = params.get("need", "")
    sort = params.get("sort", "")
    return CaseloadView(
        Need(need) if need in Need.__members__.values() else Need.ALL,
        params.get("q", "")[:100],
        CaseloadSort(sort) if sort in CaseloadSort.__members__.values() else CaseloadSort.ATTENTION,
    )


async def caseload(request: Request, who: Visitor) -> Response:
    assert who.reader is not None
    view = view_of(request)
    rows = await asyncio.to_thread(tracker_of(request).caseload, who.reader, view)
    filtered = view != CaseloadView()
    return render(request, who, "caseload.html", rows=rows, view=view, filtered=filtered)


ROUTES: list[Route] = [page("/", caseload, access=Access.READER)]
