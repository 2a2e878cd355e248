"""Privacy on the desk: a student's access log (their case manager and administrators), and an
administrator's forgetting of a student, confirmed by typing the student's id."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from iep_followup.errors import NotFoundError, ValidationError
from iep_followup.web.render import render
from iep_followup.web.security import Access, Visitor, client_of, page, tracker_of


async def access_log(request: Request, who: Visitor) -> Response:
    assert who.reader is not None
    external_id = request.path_params["external_id"]
    tracker = tracker_of(request)
    entries = await asyncio.to_thread(
        tracker.access_log, external_id, reader=who.reader, client=client_of(request)
    )
    done = request.query_params.get("done") == "forgotten"
    return render(
        request, who, "access_log.html", external_id=external_id, entries=entries, done=done
    )


async def forget_form(request: Request, who: Visitor) -> Response:
    return await _forget(request, who, apply=False, typed="")


async def forget(request: Request, who: Visitor) -> Response:
    form = await request.form()
    return await _forget(request, who, apply=True, typed=str(form.get("confirm", "")))


async def _forget(request: Request, who: Visitor, *, apply: bool, typed: str) -> Response:
    assert who.reader is not None
    if not who.reader.is_admin:
        raise NotFoundError("administrators only")  # the same page as for a missing student
    external_id = request.path_params["external_id"]
    tracker = tracker_of(request)
    error = None
    try:
        report = await asyncio.to_thread(
            tracker.desk_forget_student,
            who.reader,
            external_id,
            typed,
            apply=apply,
            client=client_of(request),
        )
    except ValidationError:
        error = "confirm"
        report = await asyncio.to_thread(
            tracker.desk_forget_student,
            who.reader,
            external_id,
            "",
            apply=False,
            client=client_of(request),
        )
    if report.done:
        where = f"/students/{quote(external_id, safe='')}/access?done=forgotten"
        return RedirectResponse(where, status_code=303)
    return render(
        request,
        who,
        "forget.html",
        400 if error else 200,
        external_id=external_id,
        report=report,
        error=error,
    )


STUDENT = "/students/{external_id}"

ROUTES: list[Route] = [
    page(STUDENT + "/access", access_log, access=Access.READER),
    page(STUDENT + "/forget", forget_form, access=Access.READER),
    page(STUDENT + "/forget", forget, access=Access.READER, methods=("POST",)),
]
