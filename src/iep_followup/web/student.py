"""A student: strengths first, the team, every item with its history and the balance check."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from iep_followup.web.render import render
from iep_followup.web.security import Access, Visitor, page, tracker_of


async def student(request: Request, who: Visitor) -> Response:
    assert who.reader is not None
    found = await asyncio.to_thread(
        tracker_of(request).desk_student, who.reader, request.path_params["external_id"]
    )
    return render(request, who, "student.html", page=found, student=found.status)


ROUTES: list[Route] = [page("/students/{external_id}", student, access=Access.READER)]
