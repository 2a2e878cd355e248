"""The desk's ASGI app: its routes, error pages, static files and security headers. Kept small."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from iep_followup.errors import NotFoundError
from iep_followup.tracker import Tracker
from iep_followup.web import (
    access,
    answers,
    caseload,
    export,
    held,
    language,
    meeting_form,
    meetings,
    ops,
    signin,
    student,
)
from iep_followup.web.i18n import HERE
from iep_followup.web.limits import BodyLimit
from iep_followup.web.render import render
from iep_followup.web.security import SecurityHeaders, visitor


async def not_found(request: Request, exc: Exception) -> Response:
    # The same page, whatever the reason: a student on another caseload is simply not found.
    return render(request, await visitor(request), "error.html", 404, error="not_found")


async def http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 404:
        return await not_found(request, exc)
    return Response(status_code=status)


def create_app(tracker: Tracker, *, heartbeat_every: int | None = None) -> Starlette:
    """The desk on top of `tracker` (which the caller keeps and closes).

    `heartbeat_every`: the desk runs in a daemon heartbeating this often (seconds), and
    /readyz also checks that its last heartbeat is fresh.
    """
    routes: list[BaseRoute] = [
        *caseload.ROUTES,
        *student.ROUTES,
        *export.ROUTES,
        *access.ROUTES,
        *held.ROUTES,
        *meetings.ROUTES,
        *meeting_form.ROUTES,
        *signin.ROUTES,
        *language.ROUTES,
        *answers.ROUTES,
        *ops.ROUTES,
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        # Outermost first: every answer is logged and gets the headers, the 413 included.
        middleware=[
            Middleware(ops.RequestLog),
            Middleware(SecurityHeaders),
            Middleware(BodyLimit, max_bytes=lambda: tracker.settings.web_max_body),
        ],
        exception_handlers={NotFoundError: not_found, HTTPException: http_error},
    )
    app.state.tracker = tracker
    app.state.heartbeat_every = heartbeat_every
    return app
